// The training loop and evaluation, shared by every backend: truncated BPTT over contiguous streams,
// a time or step budget, periodic evaluation on held-out text, progress callbacks and checkpoint
// hooks. The data they consume (tokens, characters per token, batches) comes from trainingData.ts.

import { TrainingBackend, StepResult } from './backend';
import { check } from './errors';
import { CharsPerToken, StreamBatcher, checkTrainable, countChars } from './trainingData';

export interface EvalResult {
  nats: number;
  tokens: number;
  chars: number;
  bitsPerToken: number;
  bitsPerChar: number;
}

export function evalResult(nats: number, tokens: number, chars: number): EvalResult {
  const bits = nats / Math.LN2;
  return { nats, tokens, chars, bitsPerToken: tokens ? bits / tokens : NaN, bitsPerChar: chars ? bits / chars : NaN };
}

/**
 * Cross-entropy over a whole token stream: B contiguous streams, windows of T with the last
 * partial window included, state carried, starting from zeros. Dropout is off.
 */
export async function evaluate(
  backend: TrainingBackend, tokens: Int32Array, chars: CharsPerToken, seqLen: number, batchSize: number,
  opts: { maxTokens?: number; signal?: AbortSignal } = {},
): Promise<EvalResult> {
  let B = batchSize;
  // A short text gets fewer streams rather than none.
  while (B > 1 && Math.floor((tokens.length - 1) / B) < 1) B = Math.max(1, Math.floor(B / 2));
  const data = new StreamBatcher(tokens, B, seqLen);
  const x = new Int32Array(seqLen * B);
  const y = new Int32Array(seqLen * B);
  let nats = 0, count = 0, nchars = 0;
  const windows = data.windowsPerEpoch + (data.tailLength > 0 ? 1 : 0);
  for (let w = 0; w < windows; w++) {
    if (opts.signal?.aborted) break;
    if (opts.maxTokens !== undefined && count >= opts.maxTokens) break;
    const T = w < data.windowsPerEpoch ? seqLen : data.tailLength;
    const xs = T === seqLen ? x : x.subarray(0, T * B);
    const ys = T === seqLen ? y : y.subarray(0, T * B);
    data.fill(w, xs, ys, T);
    nats += await backend.evalWindow(xs, ys, T, B, w === 0);
    count += T * B;
    nchars += countChars(ys, chars);
  }
  return evalResult(nats, count, nchars);
}

/** Steps the progress reports' loss and bits per character are averaged over (the panel continues it across a Resume). */
export const RUNNING_MEAN_STEPS = 50;

export interface TrainProgress {
  step: number;
  /** Mean loss (nats/token) of recent steps. */
  loss: number;
  /** Training bits per character of recent steps. */
  bitsPerChar: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  /** Fraction of the budget done, 0..1. */
  fraction: number;
  etaSeconds: number;
  gradNorm: number;
  epoch: number;
}

export interface TrainLoopOptions {
  seqLen: number;
  batchSize: number;
  /** Stop after this many optimizer steps in total (counting steps before a resume). */
  maxSteps?: number;
  /** Stop after this many seconds of this run. */
  maxSeconds?: number;
  /** Evaluate on the validation text every this many seconds (and at the end). */
  evalEverySeconds?: number;
  /** Cap on validation tokens per periodic evaluation (the final one covers everything). */
  evalMaxTokens?: number;
  /** Progress callback, about every `progressEverySeconds` (default 0.5). */
  onProgress?: (p: TrainProgress) => void;
  progressEverySeconds?: number;
  onEval?: (step: number, r: EvalResult) => void | Promise<void>;
  /** Checkpoint hook, every `checkpointEverySeconds` and at the end. */
  onCheckpoint?: (step: number) => void | Promise<void>;
  checkpointEverySeconds?: number;
  signal?: AbortSignal;
  /** Yield to the event loop every step (keeps a host responsive); default true. */
  yieldEveryStep?: boolean;
  now?: () => number;
}

export interface TrainSummary {
  steps: number;
  stepsThisRun: number;
  seconds: number;
  lastLoss: number;
  /** Mean loss (nats/token) of the last RUNNING_MEAN_STEPS steps. */
  recentLoss: number;
  /** The full validation pass at the end (none after a Stop: see trainLoop). */
  finalEval?: EvalResult;
  stoppedBy: 'steps' | 'time' | 'abort';
}

export async function trainLoop(
  backend: TrainingBackend,
  data: { train: Int32Array; val?: Int32Array; chars: CharsPerToken },
  opts: TrainLoopOptions,
): Promise<TrainSummary> {
  const { seqLen: T, batchSize: B } = opts;
  checkTrainable(data.train.length, B, T);
  check(opts.maxSteps !== undefined || opts.maxSeconds !== undefined || opts.signal !== undefined, 'give a step or time budget');
  const now = opts.now ?? (() => performance.now() / 1000);
  const batcher = new StreamBatcher(data.train, B, T);
  const x = new Int32Array(T * B);
  const y = new Int32Array(T * B);
  const t0 = now();
  const startStep = backend.step;
  let lastProgress = t0, lastEval = t0, lastCheckpoint = t0;
  const recent: { loss: number; chars: number; tokens: number; time: number }[] = [];
  let last: StepResult = { loss: NaN, gradNorm: NaN };
  let stoppedBy: TrainSummary['stoppedBy'] = 'steps';
  const progressEvery = opts.progressEverySeconds ?? 0.5;
  const evalEvery = opts.evalEverySeconds ?? Infinity;
  const checkpointEvery = opts.checkpointEverySeconds ?? Infinity;
  const fraction = (t: number) => {
    const fs = opts.maxSteps !== undefined ? (backend.step - startStep) / Math.max(1, opts.maxSteps - startStep) : 0;
    const ft = opts.maxSeconds !== undefined ? (t - t0) / opts.maxSeconds : 0;
    return Math.min(1, Math.max(fs, ft));
  };
  const recentLoss = () => (recent.length ? recent.reduce((s, r) => s + r.loss, 0) / recent.length : NaN);

  // One step stays in flight: step s+1 is queued before step s's loss is awaited, so a GPU backend
  // never idles while JavaScript waits for a readback (the CPU backend finishes inside trainStep).
  let inflight: { result: Promise<StepResult>; chars: number; tokens: number } | null = null;
  const settle = async () => {
    if (!inflight) return;
    const done = inflight;
    inflight = null;
    last = await done.result;
    recent.push({ loss: last.loss, chars: done.chars, tokens: done.tokens, time: now() });
    if (recent.length > RUNNING_MEAN_STEPS) recent.shift();
  };
  for (;;) {
    if (opts.signal?.aborted) { stoppedBy = 'abort'; break; }
    if (opts.maxSteps !== undefined && backend.step >= opts.maxSteps) { stoppedBy = 'steps'; break; }
    if (opts.maxSeconds !== undefined && now() - t0 >= opts.maxSeconds) { stoppedBy = 'time'; break; }
    const w = backend.step % batcher.windowsPerEpoch;
    batcher.fill(w, x, y);
    const next = { result: backend.trainStep(x, y, T, B, { resetState: w === 0 || backend.step === startStep }), chars: countChars(y, data.chars), tokens: T * B };
    next.result.catch(() => undefined); // rejection is handled when it is awaited
    await settle();
    inflight = next;
    const t = now();
    if (opts.onProgress && recent.length && t - lastProgress >= progressEvery) {
      lastProgress = t;
      const span = recent.length > 1 ? recent[recent.length - 1].time - recent[0].time : 0;
      const toks = recent.slice(1).reduce((s, r) => s + r.tokens, 0);
      const nats = recent.reduce((s, r) => s + r.loss * r.tokens, 0);
      const chars = recent.reduce((s, r) => s + r.chars, 0);
      const f = fraction(t);
      opts.onProgress({
        step: backend.step,
        loss: recentLoss(),
        bitsPerChar: chars ? nats / Math.LN2 / chars : NaN,
        tokensPerSecond: span > 0 ? toks / span : (T * B) / Math.max(1e-9, t - t0),
        elapsedSeconds: t - t0,
        fraction: f,
        etaSeconds: f > 0 ? ((t - t0) * (1 - f)) / f : NaN,
        gradNorm: last.gradNorm,
        epoch: Math.floor(backend.step / batcher.windowsPerEpoch),
      });
    }
    if (data.val && opts.onEval && t - lastEval >= evalEvery) {
      await settle();
      const r = await evaluate(backend, data.val, data.chars, T, B, { maxTokens: opts.evalMaxTokens, signal: opts.signal });
      await opts.onEval(backend.step, r);
      lastEval = now();
    }
    if (opts.onCheckpoint && t - lastCheckpoint >= checkpointEvery) {
      await settle();
      await opts.onCheckpoint(backend.step);
      lastCheckpoint = now();
    }
    if (opts.yieldEveryStep !== false) await yieldToEventLoop();
  }
  await settle();
  const summary: TrainSummary = {
    steps: backend.step,
    stepsThisRun: backend.step - startStep,
    seconds: now() - t0,
    lastLoss: last.loss,
    recentLoss: recentLoss(),
    stoppedBy,
  };
  // A Stop ends the run within one step: no full validation pass after it (seconds to minutes on a
  // large validation text); the last periodic measurement stands.
  if (data.val && data.val.length > 1 && stoppedBy !== 'abort') {
    summary.finalEval = await evaluate(backend, data.val, data.chars, T, B);
    if (opts.onEval) await opts.onEval(backend.step, summary.finalEval);
  }
  if (opts.onCheckpoint && summary.stepsThisRun > 0) await opts.onCheckpoint(backend.step);
  return summary;
}

/**
 * Lets other tasks run between steps. Node has setImmediate; in a browser (the webview) a
 * MessageChannel message, because timers there are clamped to 4 ms when chained and throttled to
 * once a second or less in a hidden page, which would stall training while the panel is hidden.
 */
let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise<void>((resolve) => setImmediate(resolve));
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
  }
  const port = channel.port2;
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    port.postMessage(0);
  });
}
