// The messages between the extension host and the completion worker (extension/completionWorker.ts),
// and the shared cancellation words both ends read. Both ends are our own code in one process, so these
// are plain typed messages. A completion request carries an id that its reply echoes; cancellation does
// not wait for a message: the host writes the newest request id and the highest cancelled id into a
// SharedArrayBuffer (CancelWords) that the worker reads at every step of its computation, so a
// superseded request stops within one step even while the worker's event loop is busy computing it.

import type { DecodeOptions, Suggestion } from '../kernels/complete/types';

/** Slots of the Int32Array over the shared cancellation buffer. */
export const NEWEST = 0;
export const CANCELLED_UP_TO = 1;
export const CANCEL_WORDS = 2;

/**
 * The cancellation words over a SharedArrayBuffer: the host writes, the worker reads. A request `id` is
 * cancelled once a newer request was made (newest > id) or the host cancelled it (cancelledUpTo ≥ id:
 * its CancellationToken fired; ids only grow, so every older request is abandoned as well).
 */
export class CancelWords {
  readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(CANCEL_WORDS * 4)) {
    this.words = new Int32Array(buffer, 0, CANCEL_WORDS);
  }

  /** Host: a request with this id is being sent (every older one is superseded). */
  begin(id: number): void {
    Atomics.store(this.words, NEWEST, id);
  }

  /** Host: the request with this id (and every older one) is no longer wanted. */
  cancel(id: number): void {
    if (Atomics.load(this.words, CANCELLED_UP_TO) < id) Atomics.store(this.words, CANCELLED_UP_TO, id);
  }

  get newest(): number {
    return Atomics.load(this.words, NEWEST);
  }

  /** Worker: whether request `id` should stop now. */
  isCancelled(id: number): boolean {
    return Atomics.load(this.words, NEWEST) > id || Atomics.load(this.words, CANCELLED_UP_TO) >= id;
  }
}

/** What the worker is started with (worker_threads' workerData). */
export interface CompletionWorkerData {
  cancel: SharedArrayBuffer;
}

export interface WorkerCacheOptions {
  /** Memory bound of the state cache, bytes. */
  maxBytes: number;
}

export type ToCompletionWorker =
  /** Use this model from now on (bytes of a checkpoint the host's ModelStore has checked); every kept state is dropped. */
  | { type: 'model'; key: string; bytes: Uint8Array; cache: WorkerCacheOptions }
  /** No model (the stored one was reset): requests answer 'no model'. */
  | { type: 'noModel' }
  /**
   * Text for the character n-gram mixed into the model's distribution (the workspace's corpus), with the
   * n-gram's share (0: none; the n-gram is dropped). Only a char tokenizer's model mixes.
   */
  | { type: 'ngram'; key: string; text: string | null; weight: number; order: number }
  /** The state cache's memory bound changed. */
  | { type: 'cache'; cache: WorkerCacheOptions }
  /** Complete at the end of `text` (the document's text before the cursor); `after`: the rest of the cursor's line. */
  | { type: 'complete'; id: number; modelKey: string; doc: string; text: string; after: string; options: DecodeOptions }
  /** The document changed from `offset` on (UTF-16). */
  | { type: 'edit'; doc: string; offset: number }
  /**
   * Idle work after edits: read into the cache the contexts of the next READ_AHEAD_LINES line starts after
   * `offset` (the first offset edited since the last read-ahead) in the document's whole `text`.
   */
  | { type: 'readAhead'; doc: string; text: string; offset: number }
  /** The document was closed: drop its states. */
  | { type: 'close'; doc: string };

export type FromCompletionWorker =
  /** `ms`: the worker's time on the request (from taking it up to answering). */
  | { type: 'completed'; id: number; suggestion: Suggestion | null; reason: string; tokensRead: number; contextStart: number; ms: number; cacheBytes: number }
  /** The request was superseded or cancelled before it finished (nothing of it is shown). */
  | { type: 'cancelled'; id: number }
  /** The request failed; `stale` when the worker holds another model (or none) than the request was made for. */
  | { type: 'error'; id: number; message: string; stale: boolean }
  /** A problem that belongs to no request (the model or the n-gram could not be loaded). */
  | { type: 'problem'; message: string }
  /** The model (or n-gram) with this key is loaded and ready. */
  | { type: 'loaded'; key: string; what: 'model' | 'ngram'; ms: number }
  /** A read-ahead of `doc` ended: `done` when every line was read, false when a newer edit or the slice limit ended it. */
  | { type: 'readAheadEnded'; doc: string; done: boolean; ms: number };
