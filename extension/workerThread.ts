// What the extension host's worker clients (completions, the inspector) share: one worker_threads
// thread, started on first use and again after a crash, and the table of requests waiting for their
// replies, all failed at once when the thread is lost or closed. No vscode imports.

import { Worker } from 'worker_threads';

export interface WorkerThreadOptions<From> {
  /** The thread's name in problems: "the completion worker". */
  name: string;
  workerData?: unknown;
  receive(m: From): void;
  /** A thread started (the first, or one after a crash): send it what the lost one held. */
  started?(worker: Worker): void;
  /** The thread failed or exited without being asked to (`reason` says how); a later post starts a new one. */
  lost(reason: string): void;
}

export class WorkerThread<To, From> {
  private worker: Worker | null = null;

  constructor(private readonly path: string, private readonly opts: WorkerThreadOptions<From>) {}

  /** Whether a thread is running now. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** The running thread, started first when none runs. */
  ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.path, { workerData: this.opts.workerData, resourceLimits: { maxOldGenerationSizeMb: 4096 } });
    this.worker = worker;
    worker.on('message', (m: From) => this.opts.receive(m));
    worker.on('error', (e) => this.onLost(worker, `${this.opts.name} failed: ${e.message}`));
    worker.on('exit', (code) => this.onLost(worker, `${this.opts.name} exited with code ${code}`));
    this.opts.started?.(worker);
    return worker;
  }

  /** Posts `m`, starting a thread first when none runs. Nothing is transferred: the caller keeps its copy. */
  post(m: To): void {
    this.ensure().postMessage(m);
  }

  /** Posts `m` only to a running thread (what a new thread would not need). */
  postIfRunning(m: To): void {
    this.worker?.postMessage(m);
  }

  /** Terminates the running thread, if any (not reported as lost). */
  stop(): void {
    const worker = this.worker;
    this.worker = null;
    if (worker) void worker.terminate();
  }

  private onLost(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.stop();
    this.opts.lost(reason);
  }
}

/** Requests waiting for their replies, by id. */
export class PendingReplies<P extends { reject(e: Error): void }> {
  private readonly waiting = new Map<number, P>();

  add(id: number, p: P): void {
    this.waiting.set(id, p);
  }

  get(id: number): P | undefined {
    return this.waiting.get(id);
  }

  /** The request `id`, no longer waiting. */
  take(id: number): P | undefined {
    const p = this.waiting.get(id);
    this.waiting.delete(id);
    return p;
  }

  /** Fails every waiting request with `reason`. */
  rejectAll(reason: Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const p of all) p.reject(reason);
  }
}
