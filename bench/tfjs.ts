/**
 * TensorFlow.js baselines for the GateScope benchmark: training throughput and batch-1
 * inference latency of the benchmark models on the `wasm` and `cpu` backends, in one process
 * (switching with tf.setBackend).
 *
 * Formulation (chosen for speed, the way a performance-aware user would write it):
 * low-level ops + tf.variableGrads + tf.train.adam, not tf.layers.
 *  - tf.layers.lstm/gru run a per-step cell that multiplies the input by W_ih at every
 *    timestep; here the input projection of all T timesteps is hoisted into ONE matMul per
 *    layer, and only h·W_hh stays inside the time loop.
 *  - GRU: tfjs-layers 4.22 rejects `resetAfter: true` (GRUCell throws "does not support
 *    reset_after"), so the GRU cell is written by hand in the PyTorch/cuDNN form
 *    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
 *  - LSTM: PyTorch equations; the gate columns are stored in the order [i, f, o, g] (a
 *    permutation of PyTorch's [i, f, g, o]: the same model) so that ONE sigmoid covers
 *    i, f, o and one tanh covers g. Weights are stored pre-transposed ([in, gates]).
 *  - Loss: tf.losses.softmaxCrossEntropy (mean over the B*T tokens); global-norm gradient
 *    clipping to 5 computed on the backend (no readback); Adam(lr 2e-3, 0.9, 0.999, 1e-8).
 *  - The embedding gradient needs the `UnsortedSegmentSum` kernel, which tfjs-backend-wasm
 *    4.22 does not have; a plain JS implementation is registered for 'wasm' below.
 */
import * as path from 'path';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as tf from '@tensorflow/tfjs';
import {
  BenchConfig,
  BENCH_CLIP,
  BENCH_CONTEXT,
  BENCH_LR,
  BENCH_SEED,
  configLabel,
  randomTokens,
  timeIt,
} from './configs';

export type TfjsBackend = 'wasm' | 'cpu';

export interface TfjsTrainOptions {
  /** Measure for at least this long (after one warm-up step). */
  minSeconds: number;
  /** Measure at least this many steps (default 2), unless one step takes over `slowStepSeconds`. */
  minSteps?: number;
  /** If the warm-up step took longer than this (default 20 s), time exactly one step. */
  slowStepSeconds?: number;
}

export interface TfjsInferOptions {
  /** Each of the two latency figures is measured for at least this long. */
  minSeconds: number;
}

export interface TfjsInfo {
  tfjsVersion: string;
  wasmVersion: string;
  /** True when the SIMD build of the WASM backend is used (Node 20 supports wasm SIMD). */
  wasmSimd: boolean;
  /** tfjs-backend-wasm never uses threads in Node (its flag is hard-wired to false there). */
  wasmMultithread: boolean;
  wasmThreads: number;
}

// ---------------------------------------------------------------------------------------------
// Backend set-up
// ---------------------------------------------------------------------------------------------

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');
let wasmModule: WasmModule | undefined;
let wasmReady: Promise<void> | undefined;

/** Locates node_modules/@tensorflow/tfjs-backend-wasm/dist/ (also under webpack, where
 *  require.resolve is rewritten): via createRequire from the cwd and from this file. */
function findWasmDir(): string | undefined {
  const bases = [path.join(process.cwd(), 'package.json'), __filename];
  for (const base of bases) {
    try {
      const req = createRequire(base);
      const file = req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
      return path.dirname(file) + path.sep;
    } catch {
      // try the next base
    }
  }
  const direct = path.join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  if (fs.existsSync(path.join(direct, 'tfjs-backend-wasm-simd.wasm'))) return direct + path.sep;
  return undefined;
}

function registerWasmUnsortedSegmentSum(): void {
  const existing = tf.getKernel('UnsortedSegmentSum', 'wasm');
  if (existing) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      // Same structure as tfjs-backend-wasm's own JS-side kernels (e.g. Unique):
      // read the inputs with backend.readSync, compute in JS, return backend.makeOutput(...).
      const b = backend as unknown as {
        readSync(dataId: object): ArrayLike<number>;
        makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: ArrayLike<number>): tf.TensorInfo;
      };
      const x = inputs.x as tf.TensorInfo;
      const seg = inputs.segmentIds as tf.TensorInfo;
      const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
      const xv = b.readSync(x.dataId);
      const sv = b.readSync(seg.dataId);
      const nIds = seg.shape.reduce((a, d) => a * d, 1);
      const xSize = x.shape.reduce((a, d) => a * d, 1);
      const inner = nIds === 0 ? 0 : xSize / nIds;
      const outShape = [numSegments, ...x.shape.slice(seg.shape.length)];
      const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      for (let i = 0; i < nIds; i++) {
        const s = sv[i];
        if (s < 0 || s >= numSegments) continue; // TF semantics: out-of-range ids are dropped
        const o = s * inner;
        const xi = i * inner;
        for (let j = 0; j < inner; j++) out[o + j] += xv[xi + j];
      }
      return b.makeOutput(outShape, x.dtype, undefined, out);
    },
  });
}

async function ensureWasm(): Promise<void> {
  if (!wasmReady) {
    wasmReady = (async () => {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      wasmModule = require('@tensorflow/tfjs-backend-wasm') as WasmModule;
      const dir = findWasmDir();
      if (dir) wasmModule.setWasmPaths(dir);
      registerWasmUnsortedSegmentSum();
    })();
  }
  return wasmReady;
}

/** Selects (and if needed initialises) a backend. Enables prod mode (no debug checks, no
 *  "install tfjs-node" banner). */
export async function useTfjsBackend(backend: TfjsBackend): Promise<void> {
  tf.enableProdMode();
  if (backend === 'wasm') await ensureWasm();
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`TensorFlow.js: backend '${backend}' could not be initialised`);
  await tf.ready();
}

/** Versions and WASM capabilities (initialises the wasm backend, leaves the current backend). */
export async function tfjsInfo(): Promise<TfjsInfo> {
  const previous = tf.getBackend();
  await useTfjsBackend('wasm');
  const info: TfjsInfo = {
    tfjsVersion: tf.version.tfjs,
    wasmVersion: wasmModule!.version_wasm,
    wasmSimd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    wasmMultithread: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    wasmThreads: wasmModule!.getThreadsCount(),
  };
  if (previous && previous !== 'wasm') await tf.setBackend(previous);
  return info;
}

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

interface LayerParams {
  /** [in, G*H], gate columns [i,f,o,g] (LSTM) or [r,z,n] (GRU) */
  wih: tf.Variable;
  /** [H, G*H] */
  whh: tf.Variable;
  /** [G*H] */
  bih: tf.Variable;
  /** [G*H] */
  bhh: tf.Variable;
}

interface Model {
  cfg: BenchConfig;
  emb: tf.Variable; // [V, E]
  layers: LayerParams[];
  wdec: tf.Variable; // [H, V]
  bdec: tf.Variable; // [V]
  vars: tf.Variable[];
}

let modelCounter = 0;

function gatesOf(cfg: BenchConfig): number {
  return cfg.cell === 'lstm' ? 4 : 3;
}

/** PyTorch-style initialisation: U(-1/sqrt(H), 1/sqrt(H)) for the RNN and decoder, N(0,1) embedding. */
function createModel(cfg: BenchConfig, seed = BENCH_SEED): Model {
  const id = `gsbench${++modelCounter}`;
  const G = gatesOf(cfg);
  const H = cfg.hidden;
  const k = 1 / Math.sqrt(H);
  let s = seed;
  // tf.variable keeps its own reference to the data: tidy disposes the initial-value tensors.
  const uni = (shape: number[], name: string) =>
    tf.tidy(() => tf.variable(tf.randomUniform(shape, -k, k, 'float32', s++), true, `${id}_${name}`));
  const emb = tf.tidy(() => tf.variable(tf.randomNormal([cfg.vocab, cfg.embed], 0, 1, 'float32', s++), true, `${id}_emb`));
  const layers: LayerParams[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const inSize = l === 0 ? cfg.embed : H;
    layers.push({
      wih: uni([inSize, G * H], `wih${l}`),
      whh: uni([H, G * H], `whh${l}`),
      bih: uni([G * H], `bih${l}`),
      bhh: uni([G * H], `bhh${l}`),
    });
  }
  const wdec = uni([H, cfg.vocab], 'wdec');
  const bdec = uni([cfg.vocab], 'bdec');
  const vars = [emb, ...layers.flatMap((p) => [p.wih, p.whh, p.bih, p.bhh]), wdec, bdec];
  return { cfg, emb, layers, wdec, bdec, vars };
}

function disposeModel(m: Model): void {
  for (const v of m.vars) v.dispose();
}

/** One LSTM step: z = xproj_t + h W_hh (biases already in xproj), gates [i,f,o | g]. */
function lstmStep(xp: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D, whh: tf.Tensor2D, H: number): [tf.Tensor2D, tf.Tensor2D] {
  const B = xp.shape[0];
  const z = tf.add(xp, tf.matMul(h, whh)) as tf.Tensor2D;
  const sig = tf.sigmoid(tf.slice(z, [0, 0], [B, 3 * H]));
  const g = tf.tanh(tf.slice(z, [0, 3 * H], [B, H]));
  const [i, f, o] = tf.split(sig, 3, 1);
  const c2 = tf.add(tf.mul(f, c), tf.mul(i, g)) as tf.Tensor2D;
  const h2 = tf.mul(o, tf.tanh(c2)) as tf.Tensor2D;
  return [h2, c2];
}

/** One GRU step (PyTorch form). xp = x W_ih + b_ih; the hidden projection carries b_hh. */
function gruStep(xp: tf.Tensor2D, h: tf.Tensor2D, whh: tf.Tensor2D, bhh: tf.Tensor1D, H: number): tf.Tensor2D {
  const B = xp.shape[0];
  const hp = tf.add(tf.matMul(h, whh), bhh) as tf.Tensor2D;
  const rz = tf.sigmoid(tf.add(tf.slice(xp, [0, 0], [B, 2 * H]), tf.slice(hp, [0, 0], [B, 2 * H])));
  const [r, zg] = tf.split(rz, 2, 1);
  const n = tf.tanh(tf.add(tf.slice(xp, [0, 2 * H], [B, H]), tf.mul(r, tf.slice(hp, [0, 2 * H], [B, H]))));
  return tf.add(n, tf.mul(zg, tf.sub(h, n))) as tf.Tensor2D;
}

/** Input-side bias: LSTM folds b_ih + b_hh into the hoisted projection; GRU keeps b_hh apart. */
function inputBias(m: Model, p: LayerParams): tf.Tensor1D {
  return (m.cfg.cell === 'lstm' ? tf.add(p.bih, p.bhh) : p.bih) as tf.Tensor1D;
}

/**
 * Runs the stacked RNN over a time-major sequence x2d [T*B, E] from zero state.
 * Returns all top-layer outputs [T*B, H] (if `allOutputs`) or just the last top h [B, H].
 */
function runRnn(m: Model, x2d: tf.Tensor2D, T: number, B: number, allOutputs: boolean): tf.Tensor2D {
  const H = m.cfg.hidden;
  const G = gatesOf(m.cfg);
  let x = x2d;
  let last: tf.Tensor2D | undefined;
  for (let l = 0; l < m.layers.length; l++) {
    const p = m.layers[l];
    const top = l === m.layers.length - 1;
    const xp = tf.fused.matMul({ a: x, b: p.wih, bias: inputBias(m, p) }).reshape([T, B, G * H]);
    const xs = tf.unstack(xp) as tf.Tensor2D[];
    let h = tf.zeros([B, H]) as tf.Tensor2D;
    let c = tf.zeros([B, H]) as tf.Tensor2D;
    const outs: tf.Tensor2D[] = [];
    for (let t = 0; t < T; t++) {
      if (m.cfg.cell === 'lstm') [h, c] = lstmStep(xs[t], h, c, p.whh as tf.Tensor2D, H);
      else h = gruStep(xs[t], h, p.whh as tf.Tensor2D, p.bhh as tf.Tensor1D, H);
      if (!top || allOutputs) outs.push(h);
    }
    if (top && !allOutputs) last = h;
    else x = tf.stack(outs).reshape([T * B, H]) as tf.Tensor2D;
  }
  return last ?? x;
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

/**
 * Float32 one-hot labels built in JS. (tfjs-backend-wasm 4.22's OneHot ignores dtype 'float32'
 * and writes int32 bit patterns: tf.oneHot(ids, V, 1, 0, 'float32') gives 1.4e-45 instead of 1.)
 */
function oneHotF32(ids: ArrayLike<number>, depth: number): tf.Tensor2D {
  const a = new Float32Array(ids.length * depth);
  for (let i = 0; i < ids.length; i++) a[i * depth + ids[i]] = 1;
  return tf.tensor2d(a, [ids.length, depth]);
}

interface Trainer {
  step(): number; // returns the loss (reads it back, which also forces completion)
  dispose(): void;
}

/** Trainer on one fixed batch (time-major ids x[t*B + b] -> y[t*B + b]); default: seeded random tokens. */
function createTrainer(cfg: BenchConfig, m: Model = createModel(cfg), data?: { x: Int32Array; y: Int32Array }): Trainer {
  const { seq: T, batch: B, vocab: V } = cfg;
  const toks = randomTokens((T + 1) * B, V, BENCH_SEED + 1);
  // Time-major: x[t][b] = toks[t*B + b], y[t][b] = toks[(t+1)*B + b].
  const xIds = tf.tensor1d(data ? data.x : toks.subarray(0, T * B), 'int32');
  const yOneHot = oneHotF32(data ? data.y : toks.subarray(B, (T + 1) * B), V);
  const opt = tf.train.adam(BENCH_LR, 0.9, 0.999, 1e-8);
  const lossFn = (): tf.Scalar => {
    const x = tf.gather(m.emb, xIds) as tf.Tensor2D; // [T*B, E]
    const hs = runRnn(m, x, T, B, true); // [T*B, H]
    const logits = tf.fused.matMul({ a: hs, b: m.wdec, bias: m.bdec });
    return tf.losses.softmaxCrossEntropy(yOneHot, logits) as tf.Scalar; // mean over T*B
  };
  return {
    step(): number {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFn, m.vars);
        // Global-norm clipping (PyTorch clip_grad_norm_: coef = max / (norm + 1e-6), capped at 1).
        const names = Object.keys(grads);
        const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
        const scale = tf.minimum(1, tf.div(BENCH_CLIP, tf.add(norm, 1e-6)));
        opt.applyGradients(names.map((n) => ({ name: n, tensor: tf.mul(grads[n], scale) })));
        return value;
      });
      const v = loss.dataSync()[0];
      loss.dispose();
      return v;
    },
    dispose(): void {
      opt.dispose();
      xIds.dispose();
      yOneHot.dispose();
      disposeModel(m);
    },
  };
}

function nowSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/**
 * Training throughput (tokens/second = B*T*steps/seconds) after one warm-up step.
 * Times at least `minSteps` (2) steps and at least `minSeconds`; if the warm-up step took
 * longer than `slowStepSeconds` (20 s), times exactly one step.
 */
export async function benchTfjsTrain(backend: TfjsBackend, cfg: BenchConfig, opts: TfjsTrainOptions): Promise<number> {
  await useTfjsBackend(backend);
  const trainer = createTrainer(cfg);
  try {
    const w0 = nowSeconds();
    const firstLoss = trainer.step();
    const warmSeconds = nowSeconds() - w0;
    if (!Number.isFinite(firstLoss)) throw new Error(`TensorFlow.js ${backend} ${configLabel(cfg)}: loss is ${firstLoss}`);
    const slow = warmSeconds > (opts.slowStepSeconds ?? 20);
    const r = timeIt(() => void trainer.step(), {
      minSeconds: slow ? 0 : opts.minSeconds,
      minReps: slow ? 1 : Math.max(1, opts.minSteps ?? 2),
      warmup: 0,
    });
    return (cfg.batch * cfg.seq * r.reps) / r.seconds;
  } finally {
    trainer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Inference (batch 1, no gradients)
// ---------------------------------------------------------------------------------------------

/**
 * Batch-1 inference latency: `msPerToken` = one token from a cached state -> softmax over V
 * (read back to JS); `msContext256` = 256 tokens from zero state -> softmax after the last one.
 */
export async function benchTfjsInfer(
  backend: TfjsBackend,
  cfg: BenchConfig,
  opts: TfjsInferOptions,
): Promise<{ msPerToken: number; msContext256: number }> {
  await useTfjsBackend(backend);
  const m = createModel(cfg);
  const H = cfg.hidden;
  // Per-step inference uses one matMul over [x, h] with the stacked [W_ih; W_hh] (LSTM, where
  // the biases can be summed); GRU needs h·W_hh separately (r multiplies its n-part).
  const stacked = m.layers.map((p) =>
    m.cfg.cell === 'lstm' ? { w: tf.concat([p.wih, p.whh], 0) as tf.Tensor2D, b: tf.add(p.bih, p.bhh) as tf.Tensor1D } : undefined,
  );
  const ctx = randomTokens(BENCH_CONTEXT, cfg.vocab, BENCH_SEED + 2);
  const ctxIds = tf.tensor1d(ctx, 'int32');
  let hs: tf.Tensor2D[] = m.layers.map(() => tf.zeros([1, H]) as tf.Tensor2D);
  let cs: tf.Tensor2D[] = m.layers.map(() => tf.zeros([1, H]) as tf.Tensor2D);
  let tokenIndex = 0;

  const feedOne = (): Float32Array => {
    const tok = ctx[tokenIndex++ % ctx.length];
    const out = tf.tidy(() => {
      let x = tf.gather(m.emb, tf.tensor1d([tok], 'int32')) as tf.Tensor2D; // [1, E]
      const newH: tf.Tensor2D[] = [];
      const newC: tf.Tensor2D[] = [];
      for (let l = 0; l < m.layers.length; l++) {
        const p = m.layers[l];
        if (cfg.cell === 'lstm') {
          const s = stacked[l]!;
          const z = tf.fused.matMul({ a: tf.concat([x, hs[l]], 1), b: s.w, bias: s.b });
          const sig = tf.sigmoid(tf.slice(z, [0, 0], [1, 3 * H]));
          const g = tf.tanh(tf.slice(z, [0, 3 * H], [1, H]));
          const [i, f, o] = tf.split(sig, 3, 1);
          const c2 = tf.add(tf.mul(f, cs[l]), tf.mul(i, g)) as tf.Tensor2D;
          const h2 = tf.mul(o, tf.tanh(c2)) as tf.Tensor2D;
          newH.push(h2);
          newC.push(c2);
          x = h2;
        } else {
          const xp = tf.fused.matMul({ a: x, b: p.wih, bias: p.bih }) as tf.Tensor2D;
          const h2 = gruStep(xp, hs[l], p.whh as tf.Tensor2D, p.bhh as tf.Tensor1D, H);
          newH.push(h2);
          newC.push(cs[l].clone());
          x = h2;
        }
      }
      const probs = tf.softmax(tf.fused.matMul({ a: x, b: m.wdec, bias: m.bdec }));
      return { probs, newH, newC };
    });
    const values = out.probs.dataSync() as Float32Array;
    out.probs.dispose();
    for (const t of hs) t.dispose();
    for (const t of cs) t.dispose();
    hs = out.newH;
    cs = out.newC;
    return values;
  };

  const runContext = (): Float32Array => {
    const probs = tf.tidy(() => {
      const x = tf.gather(m.emb, ctxIds) as tf.Tensor2D; // [256, E]
      const h = runRnn(m, x, BENCH_CONTEXT, 1, false); // last top-layer h [1, H]
      return tf.softmax(tf.fused.matMul({ a: h, b: m.wdec, bias: m.bdec }));
    });
    const values = probs.dataSync() as Float32Array;
    probs.dispose();
    return values;
  };

  try {
    // Build a cached state first (a few tokens), then time single-token steps.
    for (let i = 0; i < 8; i++) feedOne();
    const perTok = timeIt(() => void feedOne(), { minSeconds: opts.minSeconds, minReps: 20, warmup: 2 });
    const ctxT = timeIt(() => void runContext(), { minSeconds: opts.minSeconds, minReps: 2, warmup: 1 });
    return { msPerToken: perTok.secondsPerRep * 1000, msContext256: ctxT.secondsPerRep * 1000 };
  } finally {
    for (const t of [...hs, ...cs, ctxIds]) t.dispose();
    for (const s of stacked) if (s) (s.w.dispose(), s.b.dispose());
    disposeModel(m);
  }
}

/**
 * Parity helper: loads PyTorch-layout weights (`embedding.weight`, `rnn.weight_ih_l0` [G*H, in],
 * `rnn.weight_hh_l0`, `rnn.bias_ih_l0`, `rnn.bias_hh_l0`, ..., `decoder.weight` [V, H],
 * `decoder.bias`) into this module's TF.js formulation and runs `steps` benchmark training steps
 * (clip 5, Adam 2e-3) on the fixed batch x -> y (time-major, x[t*B + b]), from zero state.
 * Returns the loss before each step. Used to check the equations (LSTM gate permutation,
 * PyTorch-form GRU, embedding gradient kernel, clipping, Adam) against PyTorch.
 */
export async function tfjsTrainLossesForWeights(
  backend: TfjsBackend,
  cfg: BenchConfig,
  weights: Record<string, Float32Array>,
  x: Int32Array,
  y: Int32Array,
  steps = 1,
): Promise<number[]> {
  await useTfjsBackend(backend);
  const m = createModel(cfg);
  const H = cfg.hidden;
  const G = gatesOf(cfg);
  // PyTorch LSTM rows [i, f, g, o] -> our columns [i, f, o, g]; GRU [r, z, n] unchanged.
  const order = cfg.cell === 'lstm' ? [0, 1, 3, 2] : [0, 1, 2];
  const get = (name: string): Float32Array => {
    const w = weights[name];
    if (!w) throw new Error(`tfjsTrainLossesForWeights: missing ${name}`);
    return w;
  };
  const gateRowsT = (w: Float32Array, inSize: number): tf.Tensor2D =>
    tf.tidy(() => {
      const t = tf.tensor2d(w, [G * H, inSize]);
      const blocks = order.map((g) => tf.slice(t, [g * H, 0], [H, inSize]));
      return tf.transpose(tf.concat(blocks, 0)) as tf.Tensor2D;
    });
  const gateVec = (b: Float32Array): tf.Tensor1D =>
    tf.tidy(() => {
      const t = tf.tensor1d(b);
      return tf.concat(order.map((g) => tf.slice(t, [g * H], [H]))) as tf.Tensor1D;
    });
  const assign = (v: tf.Variable, t: tf.Tensor) => {
    v.assign(t);
    t.dispose();
  };
  assign(m.emb, tf.tensor2d(get('embedding.weight'), [cfg.vocab, cfg.embed]));
  m.layers.forEach((p, l) => {
    const inSize = l === 0 ? cfg.embed : H;
    assign(p.wih, gateRowsT(get(`rnn.weight_ih_l${l}`), inSize));
    assign(p.whh, gateRowsT(get(`rnn.weight_hh_l${l}`), H));
    assign(p.bih, gateVec(get(`rnn.bias_ih_l${l}`)));
    assign(p.bhh, gateVec(get(`rnn.bias_hh_l${l}`)));
  });
  assign(m.wdec, tf.tidy(() => tf.transpose(tf.tensor2d(get('decoder.weight'), [cfg.vocab, H]))));
  assign(m.bdec, tf.tensor1d(get('decoder.bias')));
  const trainer = createTrainer(cfg, m, { x, y });
  try {
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push(trainer.step());
    return losses;
  } finally {
    trainer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Self-test: `node out/bench/tfjs.js [minSeconds]`
// ---------------------------------------------------------------------------------------------

async function selfTest(): Promise<void> {
  const { BENCH_CONFIGS } = await import('./configs');
  const minSeconds = Number(process.argv[2] ?? 3);
  const all = process.argv.includes('--all');
  const info = await tfjsInfo();
  console.log(JSON.stringify(info));
  const cfgs = all ? BENCH_CONFIGS : BENCH_CONFIGS.slice(0, 1);
  for (const backend of ['wasm', 'cpu'] as TfjsBackend[]) {
    for (const cfg of cfgs) {
      const t0 = nowSeconds();
      const tps = await benchTfjsTrain(backend, cfg, { minSeconds });
      const inf = await benchTfjsInfer(backend, cfg, { minSeconds: Math.min(1, minSeconds) });
      console.log(
        `tfjs-${backend} ${configLabel(cfg)}: ${tps.toFixed(0)} tok/s, ${inf.msPerToken.toFixed(3)} ms/token, ` +
          `${inf.msContext256.toFixed(1)} ms/ctx256 (${(nowSeconds() - t0).toFixed(1)} s, tensors ${tf.memory().numTensors})`,
      );
    }
  }
}

if (require.main === module) {
  selfTest().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
