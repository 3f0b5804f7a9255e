// The extension host's side of the completion worker (extension/completionWorker.ts): starts
// dist/completionWorker.js (worker_threads), sends it the model, the document edits and the completion
// requests, matches each reply to its request by id, and cancels through the shared cancellation words
// (a new request supersedes every older one at once; cancel(id) abandons one whose CancellationToken
// fired) rather than by a message the busy worker could not read. After a crash the next request starts
// a new worker and sends the model again (WorkerThread and PendingReplies, shared with the inspector's
// client). No vscode imports, so tests drive it in plain Node against the
// compiled worker. Also the pure rule for what the provider inserts (completionEdit).

import type { DecodeOptions, Suggestion } from '../kernels/complete/types';
import { CancelWords, CompletionWorkerData, FromCompletionWorker, ToCompletionWorker, WorkerCacheOptions } from './completionWorkerProtocol';
import { PendingReplies, WorkerThread } from './workerThread';

/** Order of the character n-gram (the evaluation's). */
export const NGRAM_ORDER = 7;
/**
 * Most characters (UTF-16 code units, 8 Mi: about 8 MB of ASCII) of the training corpus the n-gram is
 * built from: the FIRST ones (the worker builds it in a few seconds and keeps it in a few hundred MB).
 */
export const NGRAM_MAX_CHARS = 8 * 1024 * 1024;

/** The training text the n-gram is built from: the first `max` code units (a surrogate pair is never cut). */
export function ngramText(train: string, max = NGRAM_MAX_CHARS): string {
  if (train.length <= max) return train;
  let end = max;
  const c = train.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return train.slice(0, end);
}

/** A request failed in the worker; `stale` when it was made for another model than the worker holds. */
export class CompletionWorkerError extends Error {
  constructor(message: string, readonly stale: boolean) {
    super(message);
    this.name = 'CompletionWorkerError';
  }
}

/** The answer to a completion request: what the engine said, or that it was cancelled before it finished. */
export type CompletionAnswer =
  | { kind: 'completed'; suggestion: Suggestion | null; reason: string; tokensRead: number; contextStart: number; workerMs: number; cacheBytes: number }
  | { kind: 'cancelled' };

export interface CompletionRequest {
  doc: string;
  text: string;
  after: string;
  options: DecodeOptions;
}

export interface CompletionClientOptions {
  /** Problems that belong to no request (the worker could not load a model, it crashed). */
  onProblem(message: string): void;
  /** A model or n-gram finished loading in the worker. */
  onLoaded?(key: string, what: 'model' | 'ngram', ms: number): void;
  /** A read-ahead ended in the worker (`done`: every line read; `ms`: the worker's time on it, requests between its slices included). */
  onReadAheadEnded?(doc: string, done: boolean, ms: number): void;
  /** Tests only: a module whose createEngine replaces the CompletionEngine in the worker. */
  engineModule?: string;
}

interface Pending {
  resolve(a: CompletionAnswer): void;
  reject(e: Error): void;
}

export class CompletionClient {
  private readonly thread: WorkerThread<ToCompletionWorker, FromCompletionWorker>;
  private readonly cancelWords = new CancelWords();
  private nextId = 1;
  private readonly pending = new PendingReplies<Pending>();
  private model: { key: string; bytes: Uint8Array } | null = null;
  private ngram: Extract<ToCompletionWorker, { type: 'ngram' }> | null = null;
  private cache: WorkerCacheOptions;
  private disposed = false;

  constructor(workerPath: string, private readonly opts: CompletionClientOptions, cache: WorkerCacheOptions) {
    this.cache = { ...cache };
    const workerData: CompletionWorkerData & { engineModule?: string } = { cancel: this.cancelWords.buffer, engineModule: opts.engineModule };
    this.thread = new WorkerThread(workerPath, {
      name: 'the completion worker',
      workerData,
      receive: (m) => this.receive(m),
      // A new worker (the first, or one after a crash) gets what the old one held.
      started: (worker) => {
        if (this.model) worker.postMessage({ type: 'model', key: this.model.key, bytes: this.model.bytes, cache: this.cache } satisfies ToCompletionWorker);
        if (this.ngram) worker.postMessage(this.ngram);
      },
      lost: (reason) => {
        this.opts.onProblem(reason);
        this.pending.rejectAll(new Error(reason));
      },
    });
  }

  /** The model every later request is made for; sent to the worker now (it loads while the user types). */
  setModel(key: string, bytes: Uint8Array): void {
    if (this.model?.key === key || this.disposed) return;
    this.model = { key, bytes };
    // A new worker is sent the model as it starts.
    if (this.thread.running) this.thread.post({ type: 'model', key, bytes, cache: this.cache });
    else this.thread.ensure();
  }

  /** There is no model any more (reset): requests fail until the next setModel. */
  clearModel(): void {
    if (!this.model) return;
    this.model = null;
    this.thread.postIfRunning({ type: 'noModel' });
  }

  get modelKey(): string | null {
    return this.model?.key ?? null;
  }

  /** The n-gram mixed into the model (text null or weight 0: none). False when the worker already has exactly it (no message). */
  setNgram(key: string, text: string | null, weight: number, order: number): boolean {
    if (this.disposed || (this.ngram && this.ngram.key === key && this.ngram.weight === weight && this.ngram.order === order)) return false;
    this.ngram = { type: 'ngram', key, text, weight, order };
    // A new worker is sent the n-gram as it starts.
    if (this.thread.running) this.thread.post(this.ngram);
    else this.thread.ensure();
    return true;
  }

  setCache(cache: WorkerCacheOptions): void {
    if (cache.maxBytes === this.cache.maxBytes) return;
    this.cache = { ...cache };
    this.thread.postIfRunning({ type: 'cache', cache: this.cache });
  }

  /** Whether the worker thread is running now. */
  get started(): boolean {
    return this.thread.running;
  }

  /**
   * Asks for a completion with the current model. Every older request is superseded at once (the worker
   * stops it at its next step and answers 'cancelled'). Rejects with a CompletionWorkerError, or when the
   * worker dies.
   */
  complete(req: CompletionRequest): { id: number; answer: Promise<CompletionAnswer> } {
    const id = this.nextId++;
    const answer = new Promise<CompletionAnswer>((resolve, reject) => {
      if (this.disposed) return reject(new Error('completions have been closed'));
      if (!this.model) return reject(new CompletionWorkerError('No model yet: run GateScope: Train on Workspace first.', false));
      this.cancelWords.begin(id);
      this.pending.add(id, { resolve, reject });
      this.thread.post({ type: 'complete', id, modelKey: this.model.key, doc: req.doc, text: req.text, after: req.after, options: req.options });
    });
    return { id, answer };
  }

  /** The request `id` is no longer wanted (its CancellationToken fired): the worker stops it at its next step. */
  cancel(id: number): void {
    this.cancelWords.cancel(id);
  }

  /** The document `doc` changed from `offset` on (a hint: the worker's cache also checks kept states against the text). */
  edit(doc: string, offset: number): void {
    this.thread.postIfRunning({ type: 'edit', doc, offset });
  }

  close(doc: string): void {
    this.thread.postIfRunning({ type: 'close', doc });
  }

  /**
   * Idle work after edits: the worker reads into its cache the contexts of the lines after `offset` (the
   * first offset edited) in the document's whole `text`, in slices that any request interrupts.
   */
  readAhead(doc: string, text: string, offset: number): void {
    if (this.model) this.thread.postIfRunning({ type: 'readAhead', doc, text, offset });
  }

  dispose(): void {
    this.disposed = true;
    this.thread.stop();
    this.pending.rejectAll(new Error('completions have been closed'));
  }

  private receive(m: FromCompletionWorker): void {
    if (m.type === 'problem') {
      this.opts.onProblem(m.message);
      return;
    }
    if (m.type === 'loaded') {
      this.opts.onLoaded?.(m.key, m.what, m.ms);
      return;
    }
    if (m.type === 'readAheadEnded') {
      this.opts.onReadAheadEnded?.(m.doc, m.done, m.ms);
      return;
    }
    const p = this.pending.take(m.id);
    if (!p) return;
    if (m.type === 'error') p.reject(new CompletionWorkerError(m.message, m.stale));
    else if (m.type === 'cancelled') p.resolve({ kind: 'cancelled' });
    else p.resolve({ kind: 'completed', suggestion: m.suggestion, reason: m.reason, tokensRead: m.tokensRead, contextStart: m.contextStart, workerMs: m.ms, cacheBytes: m.cacheBytes });
  }
}

/**
 * What the provider inserts for a suggestion when `after` (the rest of the cursor's line: closers, quotes
 * or whitespace only) follows the cursor: the item replaces the rest of the line, so VS Code shows the
 * ghost text before the closers and keeps them. The closers the suggestion itself types, in order, are
 * not repeated (`a, b) {` before an auto-closed `)` gives one `)`); the rest of them follow it, so the
 * line's rest is always a subsequence of what is inserted (VS Code then shows it as ghost text, not as a
 * replacement). With nothing after the cursor, the suggestion is inserted as it is.
 */
export function completionEdit(suggestion: string, after: string): { insertText: string; replaceRestOfLine: boolean } {
  if (after.length === 0) return { insertText: suggestion, replaceRestOfLine: false };
  // The longest start of `after` that the suggestion types in order; the rest of `after` follows it.
  let i = 0;
  for (const ch of suggestion) if (i < after.length && ch === after[i]) i++;
  return { insertText: suggestion + after.slice(i), replaceRestOfLine: true };
}
