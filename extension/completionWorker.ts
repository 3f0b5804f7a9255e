// The completion worker: a worker_threads thread of the extension host (built by webpack into
// dist/completionWorker.js) that owns the CompletionEngine (kernels/complete/engine.ts: anchored context,
// state cache, decoder), so the extension host's event loop never runs the model for a completion.
//
// Requests are taken newest first: a 'complete' that arrives while an older one waits replaces it (the
// older one is answered 'cancelled' unrun), and it runs on the next turn, after any newer message already
// queued. While a request computes, the event loop is busy, so a newer request or the host's
// cancellation cannot arrive as a message; instead every step of the engine calls isCancelled(), which
// reads the shared cancellation words (CancelWords in completionWorkerProtocol.ts) the host writes at
// once, and a superseded request stops with CancelledError and is answered 'cancelled'. Between
// requests the worker warms the document's chains (engine.warm) in slices of WARM_SLICE_MS that stop as
// soon as a new request is made. After edits (the host sends 'readAhead' ~150 ms after the last one) it
// reads ahead: engine.readAhead reads into the cache the contexts of the READ_AHEAD_LINES line starts
// after the edit (an edit changes the context of every cursor in the lines below it), in slices a
// request interrupts; the read-ahead goes on after the request (and its warming) until done.

import { parentPort, workerData } from 'worker_threads';
import { applyNoSimdEnv } from '../cli/engines';
import { checkpointTokenizer, decodeCheckpoint } from '../kernels/checkpoint';
import { CompletionEngine, CompletionModel, CompleteRequest, CompleteResult } from '../kernels/complete/engine';
import { KneserNeyModel } from '../kernels/complete/ngram';
import { CancelledError, DEFAULT_CACHE, StateCacheOptions } from '../kernels/complete/types';
import { InferenceSession } from '../kernels/infer';
import { CancelWords, CompletionWorkerData, FromCompletionWorker, ToCompletionWorker, WorkerCacheOptions } from './completionWorkerProtocol';

/** What the worker needs of the engine (tests may give a stand-in: CompletionWorkerData.engineModule). */
export interface WorkerEngine {
  complete(req: CompleteRequest): CompleteResult;
  warm(doc: string, text: string, isCancelled?: () => boolean): void;
  readAhead?(doc: string, text: string, offset: number, lines: number, isCancelled?: () => boolean): void;
  edit(doc: string, offset: number): void;
  close(doc: string): void;
  readonly cache: { readonly bytes: number };
}

/** A module that replaces CompletionEngine (for tests of the worker's protocol and cancellation only). */
export interface EngineModule {
  createEngine(model: CompletionModel, cache: StateCacheOptions): WorkerEngine;
}

/** Longest synchronous warming slice: a request that arrives meanwhile waits at most this long. */
const WARM_SLICE_MS = 15;
/** Most warming slices after one request (a cache that keeps nothing of a cut read would warm forever). */
const WARM_SLICES = 40;
/** Line starts after an edit whose contexts a read-ahead reads. */
export const READ_AHEAD_LINES = 40;
/** Most slices of one read-ahead (requests between them not counted). */
const READ_AHEAD_SLICES = 400;

applyNoSimdEnv(); // GATESCOPE_NO_WASM_SIMD=1: the reference engine in this thread too
const port = parentPort;
if (!port) throw new Error('completionWorker.js runs only as a worker thread');
const data = workerData as CompletionWorkerData & { engineModule?: string };
const cancel = new CancelWords(data.cancel);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const engineModule: EngineModule = data.engineModule ? (require(data.engineModule) as EngineModule) : { createEngine: (m, c) => new CompletionEngine(m, c) };

let model: { key: string; session: InferenceSession; tokenizer: CompletionModel['tokenizer'] } | null = null;
let ngram: { key: string; model: KneserNeyModel | null; weight: number } = { key: '', model: null, weight: 0 };
let cacheOptions: StateCacheOptions = DEFAULT_CACHE;
let engine: WorkerEngine | null = null;
/** The newest completion not yet run (a newer one replaces it). */
let pending: Extract<ToCompletionWorker, { type: 'complete' }> | null = null;
/** The document to warm next, and the request after which it was asked. */
let warming: { doc: string; text: string; id: number; slices: number } | null = null;
/** The read-ahead under way (after edits): the document's whole text and the first offset edited. */
let reading: { doc: string; text: string; offset: number; slices: number; t0: number } | null = null;
let warmScheduled = false;

const send = (m: FromCompletionWorker) => port.postMessage(m);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Builds the engine for the current model, n-gram and cache bound (every kept state is dropped). */
function rebuild(): void {
  engine = null;
  warming = null;
  reading = null;
  if (!model) return;
  const m: CompletionModel = { session: model.session, tokenizer: model.tokenizer, ngram: ngram.weight > 0 ? ngram.model : null, ngramWeight: ngram.weight };
  engine = engineModule.createEngine(m, cacheOptions);
}

function setCache(c: WorkerCacheOptions): void {
  if (c.maxBytes === cacheOptions.maxBytes) return;
  cacheOptions = { ...cacheOptions, maxBytes: c.maxBytes };
  rebuild();
}

function runPending(): void {
  const req = pending;
  pending = null;
  if (!req) return;
  try {
    runRequest(req);
  } finally {
    // Idle work (warming, then any read-ahead an earlier request interrupted) goes on after it.
    scheduleWarm();
  }
}

function runRequest(req: Extract<ToCompletionWorker, { type: 'complete' }>): void {
  if (cancel.isCancelled(req.id)) return send({ type: 'cancelled', id: req.id });
  if (!engine || !model || model.key !== req.modelKey) {
    return send({ type: 'error', id: req.id, message: model ? `the worker holds model ${model.key}, not ${req.modelKey}` : 'no model is loaded for completions', stale: true });
  }
  const t0 = performance.now();
  let r: CompleteResult;
  try {
    r = engine.complete({ doc: req.doc, text: req.text, after: req.after, options: req.options, isCancelled: () => cancel.isCancelled(req.id) });
  } catch (e) {
    if (e instanceof CancelledError) return send({ type: 'cancelled', id: req.id });
    return send({ type: 'error', id: req.id, message: message(e), stale: false });
  }
  send({ type: 'completed', id: req.id, suggestion: r.suggestion, reason: r.reason, tokensRead: r.tokensRead, contextStart: r.contextStart, ms: performance.now() - t0, cacheBytes: engine.cache.bytes });
  warming = { doc: req.doc, text: req.text, id: req.id, slices: 0 };
}

function scheduleWarm(): void {
  if (warmScheduled) return;
  warmScheduled = true;
  setImmediate(warmSlice);
}

/** One slice of idle work: warming after a request first, then the read-ahead after edits. */
function warmSlice(): void {
  warmScheduled = false;
  if (!engine || pending) return;
  if (warming && cancel.newest !== warming.id) warming = null;
  if (warming) warmOnce(warming);
  else if (reading) readAheadOnce(reading);
}

/** One slice of the read-ahead: stops at once when a request is made (it goes on after it), else after WARM_SLICE_MS. */
function readAheadOnce(r: NonNullable<typeof reading>): void {
  if (!engine?.readAhead) {
    reading = null;
    return;
  }
  const newest = cancel.newest;
  const end = performance.now() + WARM_SLICE_MS;
  try {
    engine.readAhead(r.doc, r.text, r.offset, READ_AHEAD_LINES, () => cancel.newest !== newest || performance.now() > end);
    reading = null;
    send({ type: 'readAheadEnded', doc: r.doc, done: true, ms: performance.now() - r.t0 });
  } catch (e) {
    if (!(e instanceof CancelledError)) {
      reading = null;
      send({ type: 'problem', message: `reading ahead after an edit failed: ${message(e)}` });
      return;
    }
    // A request interrupted it: runPending schedules the rest after the request.
    if (cancel.newest !== newest) return;
    if (++r.slices < READ_AHEAD_SLICES) scheduleWarm();
    else {
      reading = null;
      send({ type: 'readAheadEnded', doc: r.doc, done: false, ms: performance.now() - r.t0 });
    }
  }
}

/** One slice of warming: stops at once when a newer request is made, else after WARM_SLICE_MS. */
function warmOnce(w: NonNullable<typeof warming>): void {
  if (!engine) return;
  const end = performance.now() + WARM_SLICE_MS;
  try {
    engine.warm(w.doc, w.text, () => cancel.newest !== w.id || performance.now() > end);
    warming = null;
  } catch (e) {
    if (!(e instanceof CancelledError)) {
      warming = null;
      send({ type: 'problem', message: `warming the completion cache failed: ${message(e)}` });
      return;
    }
    if (++w.slices < WARM_SLICES && cancel.newest === w.id) scheduleWarm();
    else warming = null;
  }
  // Warming done: the read-ahead (if any) goes on.
  if (!warming && reading) scheduleWarm();
}

port.on('message', (m: ToCompletionWorker) => {
  switch (m.type) {
    case 'complete':
      // Run it on the next turn, after any newer request already waiting in the port's queue.
      if (pending) send({ type: 'cancelled', id: pending.id });
      else setImmediate(runPending);
      pending = m;
      return;
    case 'edit':
      if (warming?.doc === m.doc) warming = null;
      // The read-ahead's text is out of date; the host sends a new one after the edits.
      if (reading?.doc === m.doc) {
        send({ type: 'readAheadEnded', doc: m.doc, done: false, ms: performance.now() - reading.t0 });
        reading = null;
      }
      engine?.edit(m.doc, m.offset);
      return;
    case 'readAhead':
      if (reading && reading.doc !== m.doc) send({ type: 'readAheadEnded', doc: reading.doc, done: false, ms: performance.now() - reading.t0 });
      reading = { doc: m.doc, text: m.text, offset: m.offset, slices: 0, t0: performance.now() };
      scheduleWarm();
      return;
    case 'close':
      if (warming?.doc === m.doc) warming = null;
      if (reading?.doc === m.doc) reading = null;
      engine?.close(m.doc);
      return;
    case 'cache':
      try {
        setCache(m.cache);
      } catch (e) {
        send({ type: 'problem', message: `the completion engine could not be rebuilt: ${message(e)}` });
      }
      return;
    case 'noModel':
      model = null;
      rebuild();
      return;
    case 'model': {
      const t0 = performance.now();
      try {
        model = null;
        engine = null;
        const ck = decodeCheckpoint(m.bytes, 'the stored model');
        const tokenizer = checkpointTokenizer(ck, 'the stored model', 'GateScope needs the tokenizer it was trained with');
        model = { key: m.key, session: new InferenceSession(ck.config, ck.params), tokenizer };
        cacheOptions = { ...cacheOptions, maxBytes: m.cache.maxBytes };
        rebuild();
        send({ type: 'loaded', key: m.key, what: 'model', ms: performance.now() - t0 });
      } catch (e) {
        model = null;
        engine = null;
        send({ type: 'problem', message: `completions could not load the model: ${message(e)}` });
      }
      return;
    }
    case 'ngram': {
      const t0 = performance.now();
      try {
        if (m.weight <= 0 || m.text === null) ngram = { key: m.key, model: null, weight: 0 };
        else if (ngram.key !== m.key || !ngram.model) ngram = { key: m.key, model: KneserNeyModel.build(m.text, m.order), weight: m.weight };
        else ngram = { ...ngram, weight: m.weight };
        rebuild();
        send({ type: 'loaded', key: m.key, what: 'ngram', ms: performance.now() - t0 });
      } catch (e) {
        ngram = { key: '', model: null, weight: 0 };
        send({ type: 'problem', message: `completions could not build the n-gram model: ${message(e)}` });
        try {
          rebuild();
        } catch {
          // The model's own problem was reported when it loaded.
        }
      }
      return;
    }
  }
});
