/**
 * Benchmark configurations and shared types for the GateScope benchmarks
 * (our engine vs. TensorFlow.js vs. PyTorch).
 *
 * Model (identical in every system): token embedding (V, E) -> stacked LSTM or GRU
 * (hidden H, L layers, PyTorch equations / gate order; GRU in PyTorch/cuDNN form
 * n = tanh(W_in x + b_in + r * (W_hn h + b_hn))) -> linear decoder to V logits ->
 * softmax cross-entropy averaged over all B*T tokens. A training step is forward over
 * T timesteps for B sequences + BPTT + global-norm clipping (5) + Adam (lr 2e-3).
 */

export type BenchCell = 'lstm' | 'gru';

export interface BenchConfig {
  cell: BenchCell;
  hidden: number;
  layers: number;
  /** Timesteps per training window (T). */
  seq: number;
  /** Sequences per training batch (B). */
  batch: number;
  vocab: number;
  embed: number;
}

/** Vocabulary size used by every benchmark configuration. */
export const BENCH_VOCAB = 96;
/** Embedding width used by every benchmark configuration. */
export const BENCH_EMBED = 64;
/** Training hyper-parameters shared by every system. */
export const BENCH_LR = 2e-3;
export const BENCH_CLIP = 5;
/** Context length for the `msContext256` inference figure. */
export const BENCH_CONTEXT = 256;
/** Seed for the random token ids. */
export const BENCH_SEED = 1234;

const SHAPES: ReadonlyArray<{ hidden: number; layers: number; seq: number; batch: number }> = [
  { hidden: 128, layers: 1, seq: 64, batch: 32 },
  { hidden: 256, layers: 2, seq: 100, batch: 32 },
  { hidden: 512, layers: 1, seq: 64, batch: 64 },
];

export const BENCH_CONFIGS: BenchConfig[] = (['lstm', 'gru'] as BenchCell[]).flatMap((cell) =>
  SHAPES.map((s) => ({ cell, ...s, vocab: BENCH_VOCAB, embed: BENCH_EMBED })),
);

export interface TrainRow {
  system: string;
  cell: BenchCell;
  hidden: number;
  layers: number;
  seq: number;
  batch: number;
  tokensPerSecond: number;
  /** Every round's figure when the row is a median of interleaved rounds. */
  samples?: number[];
  /**
   * gatescope-wasm-1t ÷ this system: the median over the rounds of each round's ratio (the two measured
   * seconds apart), or the ratio of the medians where this system ran in fewer rounds.
   */
  ratioOfBase?: number;
}

export interface InferRow {
  system: string;
  cell: BenchCell;
  hidden: number;
  layers: number;
  /** Feed ONE token from a cached recurrent state and get the softmax over V (batch 1). */
  msPerToken: number;
  /** Run a 256-token context from a zero state and get the softmax after it (batch 1). */
  msContext256: number;
}

/** Short human-readable label, e.g. `lstm h256 L2 T100 B32`. */
export function configLabel(cfg: BenchConfig): string {
  return `${cfg.cell} h${cfg.hidden} L${cfg.layers} T${cfg.seq} B${cfg.batch}`;
}

export interface TimeOptions {
  /** Keep repeating until at least this many seconds were measured. */
  minSeconds: number;
  /** ...and at least this many repetitions were measured (default 1). */
  minReps?: number;
  /** Un-timed warm-up repetitions first (default 1). */
  warmup?: number;
  /** Stop after this many measured repetitions even if minSeconds is not reached. */
  maxReps?: number;
}

export interface TimeResult {
  reps: number;
  seconds: number;
  /** seconds / reps */
  secondsPerRep: number;
}

/** Monotonic wall-clock seconds. */
export function nowSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/**
 * Times a synchronous function: `warmup` un-timed calls, then repeat until at least
 * `minSeconds` elapsed and at least `minReps` calls were made.
 */
export function timeIt(fn: () => void, opts: TimeOptions): TimeResult {
  const warmup = opts.warmup ?? 1;
  const minReps = Math.max(1, opts.minReps ?? 1);
  const maxReps = opts.maxReps ?? Infinity;
  for (let i = 0; i < warmup; i++) fn();
  let reps = 0;
  const t0 = nowSeconds();
  let elapsed = 0;
  while ((reps < minReps || elapsed < opts.minSeconds) && reps < maxReps) {
    fn();
    reps++;
    elapsed = nowSeconds() - t0;
  }
  return { reps, seconds: elapsed, secondsPerRep: elapsed / reps };
}

/** Same as {@link timeIt} for an async function (each call is awaited before the next). */
export async function timeItAsync(fn: () => Promise<void>, opts: TimeOptions): Promise<TimeResult> {
  const warmup = opts.warmup ?? 1;
  const minReps = Math.max(1, opts.minReps ?? 1);
  const maxReps = opts.maxReps ?? Infinity;
  for (let i = 0; i < warmup; i++) await fn();
  let reps = 0;
  const t0 = nowSeconds();
  let elapsed = 0;
  while ((reps < minReps || elapsed < opts.minSeconds) && reps < maxReps) {
    await fn();
    reps++;
    elapsed = nowSeconds() - t0;
  }
  return { reps, seconds: elapsed, secondsPerRep: elapsed / reps };
}

/**
 * Deterministic random token ids in [0, vocab) (mulberry32), so every system trains on
 * the same data for a given seed.
 */
export function randomTokens(count: number, vocab: number, seed = BENCH_SEED): Int32Array {
  let a = seed >>> 0;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = Math.min(vocab - 1, Math.floor(r * vocab));
  }
  return out;
}
