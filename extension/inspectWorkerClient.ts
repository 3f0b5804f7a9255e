// The extension host's side of the inspector worker: starts dist/inspectWorker.js on first use (with
// worker_threads, like the CPU training worker), sends it the model, matches each reply to its request
// by id, routes match progress, and restarts the worker after a crash (pending requests fail with the
// reason; the model is sent again to the new one). No vscode imports, so tests drive it in plain Node
// against the compiled worker.

import { Worker } from 'worker_threads';
import { FromInspectWorker, ToInspectWorker } from './inspectWorkerProtocol';

type Request = Exclude<ToInspectWorker, { type: 'model' } | { type: 'cancel' }>;
/** A request as the caller writes it: the client adds the id and the model key. */
export type RequestBody<T extends Request['type']> = { type: T } & Omit<Extract<Request, { type: T }>, 'id' | 'modelKey' | 'type'>;
type Answer = Exclude<FromInspectWorker, { type: 'error' } | { type: 'matchProgress' }>;
/** The reply type each request gets. */
export type AnswerTo<T extends Request['type']> = Extract<Answer, { type: { inspect: 'inspected'; unitValues: 'unitValues'; match: 'matched'; saturation: 'saturation'; sample: 'sampled' }[T] }>;

/** A request failed in the worker; `stale` when it was made for another model than the worker holds. */
export class InspectWorkerError extends Error {
  constructor(message: string, readonly stale: boolean) {
    super(message);
    this.name = 'InspectWorkerError';
  }
}

interface Pending {
  resolve(a: Answer): void;
  reject(e: Error): void;
  progress?: (doneTokens: number, totalTokens: number) => void;
}

export interface InspectWorkerClientOptions {
  /** Problems that belong to no request (the worker could not load a model, it crashed). */
  onProblem(message: string): void;
}

export class InspectWorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private model: { key: string; bytes: Uint8Array } | null = null;
  private modelSent = false;
  private disposed = false;

  constructor(private readonly workerPath: string, private readonly opts: InspectWorkerClientOptions) {}

  /** The model every later request is made for (sent to the worker once, before the next request). */
  setModel(key: string, bytes: Uint8Array): void {
    if (this.model?.key === key) return;
    this.model = { key, bytes };
    this.modelSent = false;
  }

  get modelKey(): string | null {
    return this.model?.key ?? null;
  }

  /** Whether the worker thread is running now. */
  get started(): boolean {
    return this.worker !== null;
  }

  /**
   * Sends a request for the current model and resolves with its answer; rejects with an
   * InspectWorkerError (stale: the model changed under it), or when the worker dies.
   */
  request<T extends Request['type']>(body: RequestBody<T>, progress?: Pending['progress']): { id: number; answer: Promise<AnswerTo<T>> } {
    const id = this.nextId++;
    const answer = new Promise<AnswerTo<T>>((resolve, reject) => {
      if (this.disposed) return reject(new Error('the inspector has been closed'));
      if (!this.model) return reject(new InspectWorkerError('No model yet: run GateScope: Train on Workspace first.', false));
      const worker = this.ensureWorker();
      if (!this.modelSent) {
        worker.postMessage({ type: 'model', key: this.model.key, bytes: this.model.bytes } satisfies ToInspectWorker);
        this.modelSent = true;
      }
      this.pending.set(id, { resolve: resolve as (a: Answer) => void, reject, progress });
      worker.postMessage({ ...body, id, modelKey: this.model.key } as unknown as ToInspectWorker);
    });
    return { id, answer };
  }

  /** Asks the worker to stop a running match (it answers with cancelled: true). */
  cancel(id: number): void {
    this.worker?.postMessage({ type: 'cancel', id } satisfies ToInspectWorker);
  }

  dispose(): void {
    this.disposed = true;
    this.stopWorker(new Error('the inspector has been closed'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath, { resourceLimits: { maxOldGenerationSizeMb: 4096 } });
    this.worker = worker;
    this.modelSent = false;
    worker.on('message', (m: FromInspectWorker) => this.receive(m));
    worker.on('error', (e) => this.lost(worker, `the inspector worker failed: ${e.message}`));
    worker.on('exit', (code) => this.lost(worker, `the inspector worker exited with code ${code}`));
    return worker;
  }

  private receive(m: FromInspectWorker): void {
    if (m.type === 'error' && m.id === 0) {
      this.opts.onProblem(m.message);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'matchProgress') {
      p.progress?.(m.doneTokens, m.totalTokens);
      return;
    }
    this.pending.delete(m.id);
    if (m.type === 'error') p.reject(new InspectWorkerError(m.message, m.stale));
    else p.resolve(m);
  }

  private lost(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.opts.onProblem(reason);
    this.stopWorker(new Error(reason));
  }

  private stopWorker(reason: Error): void {
    const worker = this.worker;
    this.worker = null;
    this.modelSent = false;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(reason);
    if (worker) void worker.terminate();
  }
}
