// The extension host's side of the inspector worker: starts dist/inspectWorker.js on first use (with
// worker_threads, like the CPU training worker), sends it the model, matches each reply to its request
// by id, routes match progress, and restarts the worker after a crash (pending requests fail with the
// reason; the model is sent again to the new one): the thread and the table of waiting requests are
// WorkerThread and PendingReplies, shared with the completion client. No vscode imports, so tests drive it in plain Node
// against the compiled worker.

import { FromInspectWorker, ToInspectWorker } from './inspectWorkerProtocol';
import { PendingReplies, WorkerThread } from './workerThread';

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
  private readonly thread: WorkerThread<ToInspectWorker, FromInspectWorker>;
  private nextId = 1;
  private readonly pending = new PendingReplies<Pending>();
  private model: { key: string; bytes: Uint8Array } | null = null;
  private modelSent = false;
  private disposed = false;

  constructor(workerPath: string, private readonly opts: InspectWorkerClientOptions) {
    this.thread = new WorkerThread(workerPath, {
      name: 'the inspector worker',
      receive: (m) => this.receive(m),
      started: () => { this.modelSent = false; },
      lost: (reason) => {
        this.opts.onProblem(reason);
        this.pending.rejectAll(new Error(reason));
      },
    });
  }

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
    return this.thread.running;
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
      this.thread.ensure();
      if (!this.modelSent) {
        this.thread.post({ type: 'model', key: this.model.key, bytes: this.model.bytes });
        this.modelSent = true;
      }
      this.pending.add(id, { resolve: resolve as (a: Answer) => void, reject, progress });
      this.thread.post({ ...body, id, modelKey: this.model.key } as unknown as ToInspectWorker);
    });
    return { id, answer };
  }

  /** Asks the worker to stop a running match (it answers with cancelled: true). */
  cancel(id: number): void {
    this.thread.postIfRunning({ type: 'cancel', id });
  }

  dispose(): void {
    this.disposed = true;
    this.thread.stop();
    this.pending.rejectAll(new Error('the inspector has been closed'));
  }

  private receive(m: FromInspectWorker): void {
    if (m.type === 'error' && m.id === 0) {
      this.opts.onProblem(m.message);
      return;
    }
    if (m.type === 'matchProgress') {
      this.pending.get(m.id)?.progress?.(m.doneTokens, m.totalTokens);
      return;
    }
    const p = this.pending.take(m.id);
    if (!p) return;
    if (m.type === 'error') p.reject(new InspectWorkerError(m.message, m.stale));
    else p.resolve(m);
  }
}
