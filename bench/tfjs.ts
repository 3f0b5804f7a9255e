/**
 * TensorFlow.js baselines for the GateScope benchmark: training throughput and batch-1
 * inference latency of the benchmark models on the `wasm` and `cpu` backends, in one process
 * (switching with tf.setBackend).
 *
 * Formulation: low-level ops + tf.variableGrads + tf.train.adam rather than tf.layers, picked
 * per backend by profiling (the fastest honest code a performance-aware user would write):
 *  - wasm ('perstep'): every layer advanced per timestep ([x, h]·[W_ih; W_hh] for LSTM),
 *    embedding gathered and decoder + cross-entropy applied per timestep, matMuls with a
 *    custom gradient made of plain matMuls + explicit transposes. Reasons, measured on
 *    tfjs-backend-wasm 4.22: its BatchMatMul with transposeA/transposeB (used by the built-in
 *    matMul gradient) is 10-25x slower than a plain one; its Slice/Unpack copy the WHOLE input
 *    out of the wasm heap on each call, so slicing a hoisted [T*B, 4H] projection per timestep
 *    is quadratic. This is 3-14x faster than the hoisted form on wasm.
 *  - cpu ('hoisted'): input projection of all T timesteps in ONE matMul per layer, one decoder
 *    matMul over [T*B, H], built-in gradients, embedding as a one-hot matMul (the cpu
 *    backend's UnsortedSegmentSum, the gather gradient, is very slow). Faster than 'perstep'
 *    on cpu.
 *  - tf.layers.lstm/gru would re-multiply the input by W_ih inside every step and use the
 *    slow paths above. GRU: tfjs-layers 4.22 rejects `resetAfter: true` (GRUCell throws "does
 *    not support reset_after"), so the GRU cell is written by hand in the PyTorch/cuDNN form
 *    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
 *  - LSTM: PyTorch equations; the gate columns are stored in the order [i, f, o, g] (a
 *    permutation of PyTorch's [i, f, g, o]: the same model) so that ONE sigmoid covers
 *    i, f, o and one tanh covers g. Weights are stored pre-transposed ([in, gates]).
 *  - Loss: tf.losses.softmaxCrossEntropy (mean over the B*T tokens); global-norm gradient
 *    clipping to 5 computed on the backend (no readback); Adam(lr 2e-3, 0.9, 0.999, 1e-8).
 *    Both formulations reproduce PyTorch's losses over several Adam steps with clipping
 *    active (see tfjsTrainLossesForWeights).
 *  - The embedding gradient needs the `UnsortedSegmentSum` kernel, which tfjs-backend-wasm
 *    4.22 does not have; a plain JS implementation is registered for 'wasm' below.
 *  - tfjs-backend-wasm's OneHot ignores dtype 'float32'; one-hot labels are built in JS.
 *  - In Node the wasm backend uses its SIMD build and no threads (tfjsInfo() reports this).
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
  nowSeconds,
  timeIt,
} from './configs';
import { Model, createModel, disposeModel, gruStep, loadTorchWeights, oneHotF32, runRnn } from './tfjsModel';

export type TfjsBackend = 'wasm' | 'cpu';

export interface TfjsTrainOptions {
  /** Measure for at least this long (after one warm-up step). */
  minSeconds: number;
  /** Measure at least this many steps (default 2), unless a step is slow (below). */
  minSteps?: number;
  /** If the warm-up step took longer than this (default 10 s), time exactly one more step. */
  slowStepSeconds?: number;
  /**
   * If the warm-up step alone took longer than this (default 20 s), take no further step and
   * report that first step's throughput (`coldOnly` in the detailed result), so that all 6
   * configs x 2 backends fit in ~4 minutes (tfjs-cpu needs 25-50 s per step for the h256 and
   * h512 configs). Measured here: cold and warm steps of such configs differ by 0-10% (the cold
   * one slower); set Infinity to always time a warm step.
   */
  maxStepSeconds?: number;
  /** Override the per-backend default formulation (see defaultFormulation). */
  formulation?: TfjsFormulation;
}

export interface TfjsInferOptions {
  /** Each of the two latency figures is measured for at least this long. */
  minSeconds: number;
  /** Override the per-backend default formulation of the 256-token context (see defaultFormulation). */
  formulation?: TfjsFormulation;
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
  const previous = tf.engine().backendName as string | null; // (tf.getBackend() would initialise one)
  await useTfjsBackend('wasm');
  const info: TfjsInfo = {
    tfjsVersion: tf.version.tfjs,
    wasmVersion: wasmModule!.version_wasm,
    wasmSimd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    wasmMultithread: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    wasmThreads: wasmModule!.getThreadsCount(),
  };
  if (previous && previous !== 'wasm') await useTfjsBackend(previous as TfjsBackend);
  return info;
}

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

/**
 * a·w with a custom gradient that uses only UN-transposed matMuls: tfjs-backend-wasm 4.22's
 * BatchMatMul with transposeA/transposeB (what the built-in matMul gradient uses) is 10-25x
 * slower than a plain one, while its Transpose kernel is fast. `wT` = transpose(w), computed once
 * per training step by the caller. dA = dy·wT, dW = transpose(a)·dy.
 */
function matMulT(a: tf.Tensor2D, w: tf.Tensor2D, wT: tf.Tensor2D): tf.Tensor2D {
  // wT must go through save(): the forward pass runs inside a tidy that would dispose a tensor
  // merely captured by the closure before the backward pass runs.
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, y, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([x, wT]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.matMul(dy as tf.Tensor2D, saved[1] as tf.Tensor2D),
        tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy as tf.Tensor2D),
      ],
    };
  });
  return f(a, w) as tf.Tensor2D;
}

/** Per-training-step derived weights (inside the gradient tape, so gradients reach the variables). */
interface StepWeights {
  /** LSTM: [W_ih; W_hh] ([in+H, 4H]) and its transpose; GRU: W_ih, W_hh and transposes. */
  w1: tf.Tensor2D;
  w1T: tf.Tensor2D;
  w2?: tf.Tensor2D;
  w2T?: tf.Tensor2D;
  /** LSTM: b_ih + b_hh; GRU: b_ih (b_hh in b2). */
  b1: tf.Tensor1D;
  b2?: tf.Tensor1D;
}

function stepWeights(m: Model): StepWeights[] {
  return m.layers.map((p) => {
    if (m.cfg.cell === 'lstm') {
      const w1 = tf.concat([p.wih, p.whh], 0) as tf.Tensor2D;
      return { w1, w1T: tf.transpose(w1), b1: tf.add(p.bih, p.bhh) as tf.Tensor1D };
    }
    return {
      w1: p.wih as tf.Tensor2D,
      w1T: tf.transpose(p.wih) as tf.Tensor2D,
      w2: p.whh as tf.Tensor2D,
      w2T: tf.transpose(p.whh) as tf.Tensor2D,
      b1: p.bih as tf.Tensor1D,
      b2: p.bhh as tf.Tensor1D,
    };
  });
}

/** One timestep of one layer, training form (custom-gradient matMuls, no large slices). */
function cellStepT(cell: BenchConfig['cell'], w: StepWeights, x: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D, H: number): [tf.Tensor2D, tf.Tensor2D] {
  const B = x.shape[0];
  if (cell === 'lstm') {
    const z = tf.add(matMulT(tf.concat([x, h], 1) as tf.Tensor2D, w.w1, w.w1T), w.b1) as tf.Tensor2D;
    const sig = tf.sigmoid(tf.slice(z, [0, 0], [B, 3 * H]));
    const g = tf.tanh(tf.slice(z, [0, 3 * H], [B, H]));
    const [i, f, o] = tf.split(sig, 3, 1);
    const c2 = tf.add(tf.mul(f, c), tf.mul(i, g)) as tf.Tensor2D;
    return [tf.mul(o, tf.tanh(c2)) as tf.Tensor2D, c2];
  }
  const xp = tf.add(matMulT(x, w.w1, w.w1T), w.b1) as tf.Tensor2D;
  const hp = tf.add(matMulT(h, w.w2!, w.w2T!), w.b2!) as tf.Tensor2D;
  const rz = tf.sigmoid(tf.add(tf.slice(xp, [0, 0], [B, 2 * H]), tf.slice(hp, [0, 0], [B, 2 * H])));
  const [r, zg] = tf.split(rz, 2, 1);
  const n = tf.tanh(tf.add(tf.slice(xp, [0, 2 * H], [B, H]), tf.mul(r, tf.slice(hp, [0, 2 * H], [B, H]))));
  return [tf.add(n, tf.mul(zg, tf.sub(h, n))) as tf.Tensor2D, c];
}

/**
 * Training loss, per-timestep formulation (used on wasm): embedding gathered per timestep,
 * every layer advanced per timestep, decoder + softmax cross-entropy per timestep, so that no
 * op ever slices a [T*B, ...] tensor: tfjs-backend-wasm's Slice/Unpack copy their WHOLE input
 * out of the heap on every call (readSync), which makes per-timestep slicing of a hoisted
 * [T*B, 4H] projection quadratic in T. Returns the mean CE over T*B.
 */
function lossPerStep(m: Model, ids: tf.Tensor1D[], labels: tf.Tensor2D[]): tf.Scalar {
  const { hidden: H, batch: B } = m.cfg;
  const T = ids.length;
  const sw = stepWeights(m);
  const wdecT = tf.transpose(m.wdec) as tf.Tensor2D;
  let hs = m.layers.map(() => tf.zeros([B, H]) as tf.Tensor2D);
  let cs = m.layers.map(() => tf.zeros([B, H]) as tf.Tensor2D);
  const losses: tf.Scalar[] = [];
  for (let t = 0; t < T; t++) {
    let x = tf.gather(m.emb, ids[t]) as tf.Tensor2D;
    const nh: tf.Tensor2D[] = [];
    const nc: tf.Tensor2D[] = [];
    for (let l = 0; l < m.layers.length; l++) {
      const [h2, c2] = cellStepT(m.cfg.cell, sw[l], x, hs[l], cs[l], H);
      nh.push(h2);
      nc.push(c2);
      x = h2;
    }
    hs = nh;
    cs = nc;
    const logits = tf.add(matMulT(x, m.wdec as tf.Tensor2D, wdecT), m.bdec) as tf.Tensor2D;
    losses.push(tf.losses.softmaxCrossEntropy(labels[t], logits) as tf.Scalar); // mean over B
  }
  return tf.div(tf.addN(losses), T) as tf.Scalar;
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

interface Trainer {
  step(): number; // returns the loss (reads it back, which also forces completion)
  dispose(): void;
}

/**
 * 'hoisted': one-hot-matMul embedding, input projection of all timesteps in one matMul per
 *            layer, one decoder matMul, built-in gradients (fastest on the cpu backend, where
 *            unstack is cheap and transposed matMuls are not slower).
 * 'perstep': everything per timestep with custom-gradient matMuls (fastest on wasm, see
 *            lossPerStep and matMulT).
 */
export type TfjsFormulation = 'hoisted' | 'perstep';

/** The formulation used for each backend (the faster one measured on this machine). */
export function defaultFormulation(backend: TfjsBackend): TfjsFormulation {
  return backend === 'wasm' ? 'perstep' : 'hoisted';
}

/** Trainer on one fixed batch (time-major ids x[t*B + b] -> y[t*B + b]); default: seeded random tokens. */
function createTrainer(
  cfg: BenchConfig,
  formulation: TfjsFormulation,
  m: Model = createModel(cfg),
  data?: { x: Int32Array; y: Int32Array },
): Trainer {
  const { seq: T, batch: B, vocab: V } = cfg;
  const toks = randomTokens((T + 1) * B, V, BENCH_SEED + 1);
  // Time-major: x[t][b] = toks[t*B + b], y[t][b] = toks[(t+1)*B + b].
  const xAll = data ? data.x : toks.subarray(0, T * B);
  const yAll = data ? data.y : toks.subarray(B, (T + 1) * B);
  const inputs: tf.Tensor[] = [];
  let lossFn: () => tf.Scalar;
  if (formulation === 'hoisted') {
    // Embedding as one-hot [T*B, V] x [V, E]: tfjs-backend-cpu's UnsortedSegmentSum (the
    // gather gradient) is ~20x slower than this matMul's gradient (1.6 s of a 4.8 s step at h128).
    const xOneHot = oneHotF32(xAll, V);
    const yOneHot = oneHotF32(yAll, V);
    inputs.push(xOneHot, yOneHot);
    lossFn = () => {
      const x = tf.matMul(xOneHot, m.emb) as tf.Tensor2D; // [T*B, E]
      const hs = runRnn(m, x, T, B, true); // [T*B, H]
      const logits = tf.fused.matMul({ a: hs, b: m.wdec, bias: m.bdec });
      return tf.losses.softmaxCrossEntropy(yOneHot, logits) as tf.Scalar; // mean over T*B
    };
  } else {
    const ids: tf.Tensor1D[] = [];
    const labels: tf.Tensor2D[] = [];
    for (let t = 0; t < T; t++) {
      ids.push(tf.tensor1d(xAll.subarray(t * B, (t + 1) * B), 'int32'));
      labels.push(oneHotF32(yAll.subarray(t * B, (t + 1) * B), V));
    }
    inputs.push(...ids, ...labels);
    lossFn = () => lossPerStep(m, ids, labels);
  }
  const opt = tf.train.adam(BENCH_LR, 0.9, 0.999, 1e-8);
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
      for (const t of inputs) t.dispose();
      disposeModel(m);
    },
  };
}

export interface TfjsTrainResult {
  tokensPerSecond: number;
  /** Timed steps (0 when only the warm-up step was used, see `coldOnly`). */
  steps: number;
  /** Seconds of the timed steps. */
  seconds: number;
  /** Seconds of the untimed warm-up step. */
  warmupSeconds: number;
  /** True when the figure comes from the warm-up step alone (opts.maxStepSeconds). */
  coldOnly: boolean;
  formulation: TfjsFormulation;
  /** Loss of the warm-up step (about ln V = 4.56 for random tokens). */
  firstLoss: number;
}

/**
 * Training throughput with details: one warm-up step, then at least `minSteps` (2) steps and
 * at least `minSeconds`; if the warm-up step took longer than `slowStepSeconds` (10 s), exactly
 * one timed step; if it took longer than `maxStepSeconds` (20 s), none (the warm-up step is
 * reported, `coldOnly`).
 */
export async function benchTfjsTrainDetailed(backend: TfjsBackend, cfg: BenchConfig, opts: TfjsTrainOptions): Promise<TfjsTrainResult> {
  await useTfjsBackend(backend);
  const formulation = opts.formulation ?? defaultFormulation(backend);
  const trainer = createTrainer(cfg, formulation);
  const tokens = cfg.batch * cfg.seq;
  try {
    const w0 = nowSeconds();
    const firstLoss = trainer.step();
    const warmupSeconds = nowSeconds() - w0;
    if (!Number.isFinite(firstLoss)) throw new Error(`TensorFlow.js ${backend} ${configLabel(cfg)}: loss is ${firstLoss}`);
    if (warmupSeconds > (opts.maxStepSeconds ?? 20)) {
      return { tokensPerSecond: tokens / warmupSeconds, steps: 0, seconds: 0, warmupSeconds, coldOnly: true, formulation, firstLoss };
    }
    const slow = warmupSeconds > (opts.slowStepSeconds ?? 10);
    const r = timeIt(() => void trainer.step(), {
      minSeconds: slow ? 0 : opts.minSeconds,
      minReps: slow ? 1 : Math.max(1, opts.minSteps ?? 2),
      warmup: 0,
    });
    return { tokensPerSecond: (tokens * r.reps) / r.seconds, steps: r.reps, seconds: r.seconds, warmupSeconds, coldOnly: false, formulation, firstLoss };
  } finally {
    trainer.dispose();
  }
}

/** Training throughput in tokens/second (B*T*steps/seconds) after one warm-up step; see benchTfjsTrainDetailed. */
export async function benchTfjsTrain(backend: TfjsBackend, cfg: BenchConfig, opts: TfjsTrainOptions): Promise<number> {
  return (await benchTfjsTrainDetailed(backend, cfg, opts)).tokensPerSecond;
}

// ---------------------------------------------------------------------------------------------
// Inference (batch 1, no gradients)
// ---------------------------------------------------------------------------------------------

/**
 * Batch-1 inference latency: `msPerToken` = one token from a cached state -> softmax over V
 * (read back to JS); `msContext256` = 256 tokens from zero state -> softmax after the last one.
 * Context formulation: 'perstep' (default on wasm) feeds the tokens one by one; 'hoisted'
 * (default on cpu) projects all 256 inputs with one matMul per layer and decodes only the last h.
 */
export async function benchTfjsInfer(
  backend: TfjsBackend,
  cfg: BenchConfig,
  opts: TfjsInferOptions,
): Promise<{ msPerToken: number; msContext256: number }> {
  await useTfjsBackend(backend);
  const formulation = opts.formulation ?? defaultFormulation(backend);
  const m = createModel(cfg);
  const H = cfg.hidden;
  // Per-step weights, built once (inference only): LSTM multiplies [x, h] by the stacked
  // [W_ih; W_hh] with the summed biases (one matMul); GRU needs x·W_ih + b_ih and h·W_hh + b_hh
  // apart (r multiplies the hidden part of n).
  const sw = m.layers.map((p) =>
    cfg.cell === 'lstm'
      ? { w1: tf.concat([p.wih, p.whh], 0) as tf.Tensor2D, b1: tf.add(p.bih, p.bhh) as tf.Tensor1D }
      : { w1: p.wih as tf.Tensor2D, b1: p.bih as tf.Tensor1D },
  );
  const ctx = randomTokens(BENCH_CONTEXT, cfg.vocab, BENCH_SEED + 2);
  const ctxIds = tf.tensor1d(ctx, 'int32');

  /** Advances all layers by one token (call inside tidy). Returns the new states; top h is newH[L-1]. */
  const step = (tok: number, hs: tf.Tensor2D[], cs: tf.Tensor2D[]): { newH: tf.Tensor2D[]; newC: tf.Tensor2D[] } => {
    let x = tf.gather(m.emb, tf.tensor1d([tok], 'int32')) as tf.Tensor2D; // [1, E]
    const newH: tf.Tensor2D[] = [];
    const newC: tf.Tensor2D[] = [];
    for (let l = 0; l < m.layers.length; l++) {
      const p = m.layers[l];
      if (cfg.cell === 'lstm') {
        const z = tf.fused.matMul({ a: tf.concat([x, hs[l]], 1), b: sw[l].w1, bias: sw[l].b1 });
        const sig = tf.sigmoid(tf.slice(z, [0, 0], [1, 3 * H]));
        const g = tf.tanh(tf.slice(z, [0, 3 * H], [1, H]));
        const [i, f, o] = tf.split(sig, 3, 1);
        const c2 = tf.add(tf.mul(f, cs[l]), tf.mul(i, g)) as tf.Tensor2D;
        x = tf.mul(o, tf.tanh(c2)) as tf.Tensor2D;
        newC.push(c2);
      } else {
        const xp = tf.fused.matMul({ a: x, b: sw[l].w1, bias: sw[l].b1 }) as tf.Tensor2D;
        x = gruStep(xp, hs[l], p.whh as tf.Tensor2D, p.bhh as tf.Tensor1D, H);
        newC.push(cs[l]);
      }
      newH.push(x);
    }
    return { newH, newC };
  };
  const zeros = () => m.layers.map(() => tf.zeros([1, H]) as tf.Tensor2D);
  const decode = (h: tf.Tensor2D) => tf.softmax(tf.fused.matMul({ a: h, b: m.wdec, bias: m.bdec }));

  let hs: tf.Tensor2D[] = zeros();
  let cs: tf.Tensor2D[] = zeros();
  let tokenIndex = 0;
  const feedOne = (): Float32Array => {
    const tok = ctx[tokenIndex++ % ctx.length];
    const out = tf.tidy(() => {
      const { newH, newC } = step(tok, hs, cs);
      return { probs: decode(newH[newH.length - 1]), newH, newC };
    });
    const values = out.probs.dataSync() as Float32Array;
    out.probs.dispose();
    // GRU passes its (unused) c through unchanged: dispose each distinct old tensor once.
    for (const t of new Set([...hs, ...cs])) if (!out.newC.includes(t)) t.dispose();
    hs = out.newH;
    cs = out.newC;
    return values;
  };

  const runContext = (): Float32Array => {
    const probs = tf.tidy(() => {
      if (formulation === 'hoisted') {
        const x = tf.gather(m.emb, ctxIds) as tf.Tensor2D; // [256, E]
        return decode(runRnn(m, x, BENCH_CONTEXT, 1, false)); // last top-layer h only
      }
      let h = zeros();
      let c = zeros();
      for (let t = 0; t < BENCH_CONTEXT; t++) ({ newH: h, newC: c } = step(ctx[t], h, c));
      return decode(h[h.length - 1]);
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
    for (const t of new Set([...hs, ...cs, ctxIds])) t.dispose();
    if (cfg.cell === 'lstm') for (const w of sw) (w.w1.dispose(), w.b1.dispose());
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
  formulation: TfjsFormulation = defaultFormulation(backend),
): Promise<number[]> {
  await useTfjsBackend(backend);
  const m = createModel(cfg);
  loadTorchWeights(m, weights);
  const trainer = createTrainer(cfg, formulation, m, { x, y });
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
  const maxArg = process.argv.find((a) => a.startsWith('--max-step='));
  const maxStepSeconds = maxArg ? Number(maxArg.slice('--max-step='.length)) : undefined; // e.g. Infinity
  const only = process.argv.find((a) => a.startsWith('--backend='))?.slice('--backend='.length);
  const info = await tfjsInfo();
  console.log(JSON.stringify(info));
  const cfgs = all ? BENCH_CONFIGS : BENCH_CONFIGS.slice(0, 1);
  for (const backend of (only ? [only] : ['wasm', 'cpu']) as TfjsBackend[]) {
    for (const cfg of cfgs) {
      const t0 = nowSeconds();
      const tr = await benchTfjsTrainDetailed(backend, cfg, { minSeconds, maxStepSeconds });
      const tps = tr.tokensPerSecond;
      const inf = await benchTfjsInfer(backend, cfg, { minSeconds: Math.min(1, minSeconds) });
      console.log(
        `tfjs-${backend} ${configLabel(cfg)}: ${tps.toFixed(0)} tok/s (${tr.formulation}, warm-up ${tr.warmupSeconds.toFixed(2)} s, ` +
          `${tr.coldOnly ? 'cold step only' : `${tr.steps} steps in ${tr.seconds.toFixed(2)} s`}), ${inf.msPerToken.toFixed(3)} ms/token, ` +
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
