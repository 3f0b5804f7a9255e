/**
 * The TensorFlow.js version of the benchmark models, shared by the CPU/WASM baselines (tfjs.ts) and
 * the WebGPU baseline (tfjsWebgpu.ts): parameters, PyTorch-style initialisation, loading PyTorch
 * weights, the LSTM and GRU steps (PyTorch equations; LSTM gate columns stored [i, f, o, g], GRU in
 * the PyTorch/cuDNN form) and the stacked RNN over a hoisted input projection.
 */
import * as tf from '@tensorflow/tfjs';
import { BenchConfig, BENCH_SEED } from './configs';

export interface LayerParams {
  /** [in, G*H], gate columns [i,f,o,g] (LSTM) or [r,z,n] (GRU) */
  wih: tf.Variable;
  /** [H, G*H] */
  whh: tf.Variable;
  /** [G*H] */
  bih: tf.Variable;
  /** [G*H] */
  bhh: tf.Variable;
}

export interface Model {
  cfg: BenchConfig;
  emb: tf.Variable; // [V, E]
  layers: LayerParams[];
  wdec: tf.Variable; // [H, V]
  bdec: tf.Variable; // [V]
  vars: tf.Variable[];
}

let modelCounter = 0;

export function gatesOf(cfg: BenchConfig): number {
  return cfg.cell === 'lstm' ? 4 : 3;
}

/** PyTorch-style initialisation: U(-1/sqrt(H), 1/sqrt(H)) for the RNN and decoder, N(0,1) embedding. */
export function createModel(cfg: BenchConfig, seed = BENCH_SEED): Model {
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

export function disposeModel(m: Model): void {
  for (const v of m.vars) v.dispose();
}

/** One LSTM step: z = xproj_t + h W_hh (biases already in xproj), gates [i,f,o | g]. */
export function lstmStep(xp: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D, whh: tf.Tensor2D, H: number): [tf.Tensor2D, tf.Tensor2D] {
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
export function gruStep(xp: tf.Tensor2D, h: tf.Tensor2D, whh: tf.Tensor2D, bhh: tf.Tensor1D, H: number): tf.Tensor2D {
  const B = xp.shape[0];
  const hp = tf.add(tf.matMul(h, whh), bhh) as tf.Tensor2D;
  const rz = tf.sigmoid(tf.add(tf.slice(xp, [0, 0], [B, 2 * H]), tf.slice(hp, [0, 0], [B, 2 * H])));
  const [r, zg] = tf.split(rz, 2, 1);
  const n = tf.tanh(tf.add(tf.slice(xp, [0, 2 * H], [B, H]), tf.mul(r, tf.slice(hp, [0, 2 * H], [B, H]))));
  return tf.add(n, tf.mul(zg, tf.sub(h, n))) as tf.Tensor2D;
}

/** Input-side bias: LSTM folds b_ih + b_hh into the hoisted projection; GRU keeps b_hh apart. */
export function inputBias(m: Model, p: LayerParams): tf.Tensor1D {
  return (m.cfg.cell === 'lstm' ? tf.add(p.bih, p.bhh) : p.bih) as tf.Tensor1D;
}

/**
 * Runs the stacked RNN over a time-major sequence x2d [T*B, E] from zero state.
 * Returns all top-layer outputs [T*B, H] (if `allOutputs`) or just the last top h [B, H].
 */
export function runRnn(m: Model, x2d: tf.Tensor2D, T: number, B: number, allOutputs: boolean): tf.Tensor2D {
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

/**
 * Float32 one-hot labels built in JS. (tfjs-backend-wasm 4.22's OneHot ignores dtype 'float32'
 * and writes int32 bit patterns: tf.oneHot(ids, V, 1, 0, 'float32') gives 1.4e-45 instead of 1.)
 */
export function oneHotF32(ids: ArrayLike<number>, depth: number): tf.Tensor2D {
  const a = new Float32Array(ids.length * depth);
  for (let i = 0; i < ids.length; i++) a[i * depth + ids[i]] = 1;
  return tf.tensor2d(a, [ids.length, depth]);
}

/**
 * Loads PyTorch-layout weights (`embedding.weight`, `rnn.weight_ih_l0` [G*H, in], `rnn.weight_hh_l0`,
 * `rnn.bias_ih_l0`, `rnn.bias_hh_l0`, ..., `decoder.weight` [V, H], `decoder.bias`) into `m`
 * .
 */
export function loadTorchWeights(m: Model, weights: Record<string, Float32Array>): void {
  const cfg = m.cfg;
  const H = cfg.hidden;
  const G = gatesOf(cfg);
  // PyTorch LSTM rows [i, f, g, o] -> our columns [i, f, o, g]; GRU [r, z, n] unchanged.
  const order = cfg.cell === 'lstm' ? [0, 1, 3, 2] : [0, 1, 2];
  const get = (name: string): Float32Array => {
    const w = weights[name];
    if (!w) throw new Error(`missing weight ${name}`);
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
}
