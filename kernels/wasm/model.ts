// The WebAssembly SIMD model: the same embedding → stacked RNN/LSTM/GRU → decoder, forward and
// backward through time, as the CPU reference (kernels/cpu/model.ts, the oracle it is tested against),
// with every stage a kernel of kernels/wasm/assembly run through a KernelRunner (one thread or many
// over shared memory). Read the reference first: this file follows it stage by stage, and only the
// data movement differs.
//
// Memory: everything lives in the runner's one linear memory, laid out once per model (arena.ts):
// parameters, gradients and Adam's m and v as four regions with the same internal layout (one tensor
// after another in params.ts order), so clipping and Adam are one kernel call each over all of them;
// the weights packed into GEMM panels (re-packed once after each optimizer step, never per timestep:
// W_ih and W_hh both ways, [out, in] for the forward and [in, out] for the backward, and the decoder);
// per-thread GEMM scratch. Above that, a window's activations, laid out per (T, B) from one base (the
// shapes share the memory: only the last forward's window is ever read).
//
// Splits (so T's threads divide the work): the big T·B-row products by rows, the per-timestep
// recurrence (M = batch, small) by GEMM columns, the cells by hidden units, elementwise work, the loss
// and Adam by ranges; work too small to divide calls the kernels directly.

import { ModelConfig, gateCount } from '../config';
import { DECODER_DROPOUT_SITE, ForwardOptions, LayerActivations, RecurrentState } from '../cpu/model';
import { ParamMap, paramSpecs } from '../params';
import { dropoutStream, hash32 } from '../rng';
import { sizeOf } from '../tensor';
import { Arena, MAX_MEMORY_BYTES, MemoryViews, alignUp } from './arena';
import { GEMM_SCRATCH_BYTES, packedFloats } from './module';
import { KernelName, KernelRunner } from './pool';

/** Where one layer's parameters and packed weights are (byte offsets). */
interface LayerPlan {
  /** Input size: the embedding for layer 0, the hidden size above. */
  I: number;
  wih: number; whh: number; bih: number; bhh: number;
  gwih: number; gwhh: number; gbih: number; gbhh: number;
  /** Panels of W_ih, W_hh as the B of x·Wᵀ (forward). */
  wihNT: number; whhNT: number;
  /** Panels of W_ih, W_hh as the B of d·W (backward); 0 for an inference model. */
  wihNN: number; whhNN: number;
  /** RNN and LSTM: b_ih + b_hh, added once to the input projection (see forward); 0 for the GRU. */
  bsum: number;
}

/** The model's fixed memory: parameters, gradients, moments, packed weights, scratch. */
interface ModelPlan {
  /** Offset (floats) of each parameter tensor inside every one of the four regions. */
  offsets: Map<string, number>;
  /** Floats in a region (tensors with their alignment gaps, which stay zero). */
  regionFloats: number;
  params: number; grads: number; m: number; v: number;
  layers: LayerPlan[];
  emb: number; gemb: number;
  dec: number; gdec: number; decb: number; gdecb: number;
  decNT: number; decNN: number;
  /** threads × GEMM_SCRATCH_BYTES: thread t's GEMM scratch, also its partial sum of squares. */
  scratch: number;
  /** Where the windows' activations start. */
  windowBase: number;
}

/** One layer's activations over a window (byte offsets; 0 where the cell or the config has none). */
interface LayerWindow {
  /** Layer 0: the gathered embeddings [R, E]; above: the layer below's output after dropout [R, H] (with dropout only). */
  inp: number;
  xp: number;       // [R, G] W_ih·x + b_ih (RNN, LSTM: + b_hh too)
  hp: number;       // [R, G] W_hh·h (GRU: + b_hh)
  gates: number;    // [R, G] activated gates (LSTM, GRU)
  hs: number;       // [(T+1)·B, H] h_0 .. h_T
  cs: number;       // [(T+1)·B, H] c_0 .. c_T (LSTM)
  mask: number;     // [R, H] dropout mask of this layer's output (below the top layer)
}

/** Buffers for one window shape (T, B), as in the reference's Workspace. */
interface Window {
  T: number; B: number; R: number;
  ids: number;      // [R] i32
  targets: number;  // [R] i32
  layers: LayerWindow[];
  top: number;      // [R, H] decoder input after dropout (with dropout only)
  decMask: number;  // [R, H]
  logits: number;   // [R, V]; ∂L/∂logits in place after the loss
  rowLoss: number;  // [R] f64
  // Backward (training models only).
  dH: number;       // [R, H] gradient reaching the current layer's outputs
  dInp: number;     // [R, E] gradient of the embeddings
  dXp: number;      // [R, G]
  dHp: number;      // [R, G] (GRU; RNN and LSTM share dXp)
  dc: number;       // [B, H]
  dhDirect: number; // [B, H]
  /** Panels of an activation matrix [R, max(E, H)] as the B of a weight-gradient GEMM. */
  actPack: number;
  // What the last forward over this window used: each layer's input and the decoder's (after dropout
  // or straight from the layer below), and whether dropout was applied.
  inpAt: number[];
  topAt: number;
  dropped: boolean;
}

function layoutModel(a: Arena, c: ModelConfig, threads: number, training: boolean): ModelPlan {
  const { hiddenSize: H, vocabSize: V } = c;
  const GH = gateCount(c.cell) * H;
  const offsets = new Map<string, number>();
  let n = 0;
  for (const s of paramSpecs(c)) {
    offsets.set(s.name, n);
    n = alignUp(n + sizeOf(s.shape), 16);
  }
  const regionFloats = n;
  const params = a.alloc('f32', n);
  const grads = training ? a.alloc('f32', n) : 0;
  const m = training ? a.alloc('f32', n) : 0;
  const v = training ? a.alloc('f32', n) : 0;
  const at = (region: number, name: string) => (region ? region + 4 * offsets.get(name)! : 0);
  const layers: LayerPlan[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const I = l === 0 ? c.embedSize : H;
    const name = (w: string) => `rnn.${w}_l${l}`;
    layers.push({
      I,
      wih: at(params, name('weight_ih')), whh: at(params, name('weight_hh')), bih: at(params, name('bias_ih')), bhh: at(params, name('bias_hh')),
      gwih: at(grads, name('weight_ih')), gwhh: at(grads, name('weight_hh')), gbih: at(grads, name('bias_ih')), gbhh: at(grads, name('bias_hh')),
      wihNT: a.alloc('f32', packedFloats(GH, I)),
      whhNT: a.alloc('f32', packedFloats(GH, H)),
      wihNN: training ? a.alloc('f32', packedFloats(I, GH)) : 0,
      whhNN: training ? a.alloc('f32', packedFloats(H, GH)) : 0,
      bsum: c.cell === 'gru' ? 0 : a.alloc('f32', GH),
    });
  }
  const plan: ModelPlan = {
    offsets, regionFloats, params, grads, m, v, layers,
    emb: at(params, 'embedding.weight'), gemb: at(grads, 'embedding.weight'),
    dec: at(params, 'decoder.weight'), gdec: at(grads, 'decoder.weight'),
    decb: at(params, 'decoder.bias'), gdecb: at(grads, 'decoder.bias'),
    decNT: a.alloc('f32', packedFloats(V, H)),
    decNN: training ? a.alloc('f32', packedFloats(H, V)) : 0,
    scratch: a.alloc('f32', (threads * GEMM_SCRATCH_BYTES) / 4),
    windowBase: 0,
  };
  plan.windowBase = a.end;
  return plan;
}

function layoutWindow(a: Arena, c: ModelConfig, T: number, B: number, training: boolean): Window {
  const { hiddenSize: H, embedSize: E, vocabSize: V, numLayers: L } = c;
  const G = gateCount(c.cell) * H;
  const R = T * B;
  const dropout = c.dropout > 0;
  const f = (n: number) => a.alloc('f32', n);
  const layers: LayerWindow[] = [];
  for (let l = 0; l < L; l++) {
    layers.push({
      inp: l === 0 ? f(R * E) : dropout ? f(R * H) : 0,
      xp: f(R * G),
      hp: f(R * G),
      gates: c.cell === 'rnn' ? 0 : f(R * G),
      hs: f((T + 1) * B * H),
      cs: c.cell === 'lstm' ? f((T + 1) * B * H) : 0,
      mask: dropout && l < L - 1 ? f(R * H) : 0,
    });
  }
  const w: Window = {
    T, B, R,
    ids: a.alloc('i32', R),
    targets: a.alloc('i32', R),
    layers,
    top: dropout ? f(R * H) : 0,
    decMask: dropout ? f(R * H) : 0,
    logits: f(R * V),
    rowLoss: a.alloc('f64', R),
    dH: 0, dInp: 0, dXp: 0, dHp: 0, dc: 0, dhDirect: 0, actPack: 0,
    inpAt: layers.map((lw) => lw.inp),
    topAt: 0,
    dropped: false,
  };
  if (training) {
    w.dH = f(R * H);
    w.dInp = f(R * E);
    w.dXp = f(R * G);
    w.dHp = c.cell === 'gru' ? f(R * G) : w.dXp;
    w.dc = f(B * H);
    w.dhDirect = f(B * H);
    w.actPack = f(packedFloats(Math.max(E, H), R));
  }
  return w;
}

/**
 * Bytes of memory a model needs with windows up to T × B (evaluation's windows are never larger than
 * training's): for sizing a shared memory up front (nodeThreadRunner's maxBytes).
 */
export function wasmModelBytes(config: ModelConfig, T: number, B: number, threads: number, training = true): number {
  const a = new Arena();
  layoutModel(a, config, threads, training);
  layoutWindow(a, config, T, B, training);
  return a.end;
}

export interface WasmModelOptions {
  /** Allocate gradients, Adam's moments and the backward's buffers (a backend); false for inference. */
  training: boolean;
}

export class WasmModel {
  private readonly plan: ModelPlan;
  private readonly arena: Arena;
  private readonly mem: MemoryViews;
  private readonly windows = new Map<string, Window>();
  private readonly training: boolean;
  private last: Window | null = null;
  private lastWindow: Window | null = null;

  constructor(readonly config: ModelConfig, params: ParamMap, readonly runner: KernelRunner, opts: WasmModelOptions) {
    this.training = opts.training;
    this.arena = new Arena();
    this.plan = layoutModel(this.arena, config, runner.threads, this.training);
    this.grow();
    this.mem = new MemoryViews(runner.memory);
    this.setParams(params);
  }

  private grow(): void {
    const bytes = this.arena.end;
    if (bytes > MAX_MEMORY_BYTES) {
      throw new Error(`the WebAssembly engine needs ${(bytes / 2 ** 30).toFixed(1)} GiB for this model and window, more than WebAssembly's 4 GiB: use fewer rows per window (sequence length × batch size) or a smaller model`);
    }
    this.runner.ensureBytes(bytes);
  }

  private window(T: number, B: number): Window {
    const key = `${T}x${B}`;
    let w = this.windows.get(key);
    if (!w) {
      if (this.windows.size >= 8) this.windows.clear();
      this.arena.resetTo(this.plan.windowBase);
      w = layoutWindow(this.arena, this.config, T, B, this.training);
      this.grow();
      this.windows.set(key, w);
    }
    return w;
  }

  // Kernel calls. `run` divides the range args[lo], args[lo + 1] over the runner's threads.
  private run(name: KernelName, args: number[], lo: number, align: number, scratchArg?: number): void {
    this.runner.run(name, args, lo, align, scratchArg);
  }

  /**
   * C[M, N] (+)= op(A)·B with B in panels. Divided by rows (each thread packs its own rows of A and
   * reads all of B) for the T·B-row products and the weight gradients, by columns (each thread reads
   * its share of B) for the per-timestep recurrence (`byColumns`: M is the batch) or when there are
   * too few rows to go round.
   */
  private gemm(M: number, N: number, K: number, a: number, lda: number, aTrans: 0 | 1, packed: number, c: number, ldc: number, accumulate: 0 | 1, byColumns = false): void {
    const args = [M, N, K, a, lda, aTrans, packed, c, ldc, accumulate, this.plan.scratch, 0, M, 0, N];
    if (byColumns || M < 8 * this.runner.threads) this.run('gemm', args, 13, 8, 10);
    else this.run('gemm', args, 11, 4, 10);
  }

  /** Packs the weights into panels (after a parameter change: load, each optimizer step). */
  private repack(): void {
    const { hiddenSize: H, vocabSize: V } = this.config;
    const GH = gateCount(this.config.cell) * H;
    const p = this.plan;
    for (const lp of p.layers) {
      if (lp.bsum) this.runner.k.add(lp.bih, lp.bhh, lp.bsum, 0, GH);
      this.run('packB_NT', [lp.wih, lp.I, GH, lp.I, lp.wihNT, 0, GH], 5, 8);
      this.run('packB_NT', [lp.whh, H, GH, H, lp.whhNT, 0, GH], 5, 8);
      if (this.training) {
        this.run('packB_NN', [lp.wih, lp.I, GH, lp.I, lp.wihNN, 0, lp.I], 5, 8);
        this.run('packB_NN', [lp.whh, H, GH, H, lp.whhNN, 0, H], 5, 8);
      }
    }
    this.run('packB_NT', [p.dec, H, V, H, p.decNT, 0, V], 5, 8);
    if (this.training) this.run('packB_NN', [p.dec, H, V, H, p.decNN, 0, H], 5, 8);
  }

  /** Replaces the parameters (names and sizes as params.ts) and re-packs the weights. */
  setParams(params: ParamMap): void {
    this.writeRegion(this.plan.params, params, 'parameter');
    this.repack();
  }

  /** A copy of the parameters, PyTorch's names, Float32Array each. */
  getParams(): ParamMap {
    return this.readRegion(this.plan.params);
  }

  /** Adam's moments (a training model): copies. */
  getMoments(): { m: ParamMap; v: ParamMap } {
    this.requireTraining('Adam moments');
    return { m: this.readRegion(this.plan.m), v: this.readRegion(this.plan.v) };
  }

  setMoments(m: ParamMap, v: ParamMap): void {
    this.requireTraining('Adam moments');
    this.writeRegion(this.plan.m, m, 'Adam first moment');
    this.writeRegion(this.plan.v, v, 'Adam second moment');
  }

  /** The gradients of the last lossAndBackward (copies; for tests). */
  getGrads(): ParamMap {
    this.requireTraining('gradients');
    return this.readRegion(this.plan.grads);
  }

  private requireTraining(what: string): void {
    if (!this.training) throw new Error(`this WasmModel was made for inference and has no ${what}`);
  }

  private writeRegion(region: number, src: ParamMap, what: string): void {
    const f32 = this.mem.f32;
    for (const s of paramSpecs(this.config)) {
      const v = src.get(s.name);
      const n = sizeOf(s.shape);
      if (!v || v.length !== n) throw new Error(`${what} ${s.name} is missing or has the wrong size (expected ${n} values, got ${v ? v.length : 'none'})`);
      f32.set(v, (region >> 2) + this.plan.offsets.get(s.name)!);
    }
  }

  private readRegion(region: number): ParamMap {
    const f32 = this.mem.f32;
    const out: ParamMap = new Map();
    for (const s of paramSpecs(this.config)) {
      const o = (region >> 2) + this.plan.offsets.get(s.name)!;
      out.set(s.name, f32.slice(o, o + sizeOf(s.shape)));
    }
    return out;
  }

  /**
   * Forward over a window, as CpuModel.forward: x token ids [T*B] time-major; the state is read as h_0
   * (c_0) and overwritten with h_T (c_T). Returns the logits [T*B, V] (lastOnly: [B, V] of step T-1),
   * a view into the memory valid until the next call.
   */
  forward(x: Int32Array, T: number, B: number, state: RecurrentState, opts: ForwardOptions): Float32Array {
    const c = this.config;
    const { hiddenSize: H, embedSize: E, vocabSize: V, numLayers: L } = c;
    const G = gateCount(c.cell) * H;
    const R = T * B;
    if (x.length !== R) throw new Error(`expected ${R} tokens, got ${x.length}`);
    if (state.batch !== B) throw new Error(`state has batch ${state.batch}, window has ${B}`);
    const w = this.window(T, B);
    const p = this.plan;
    this.lastWindow = w;
    this.last = null;
    const dropout = opts.train && c.dropout > 0;
    const seed = opts.dropoutSeed ?? 0;
    const step = opts.step ?? 0;

    // Embedding gather.
    const i32 = this.mem.i32;
    for (let r = 0; r < R; r++) {
      const id = x[r];
      if (!(id >= 0 && id < V)) throw new Error(`token id ${id} is outside the vocabulary (size ${V})`);
      i32[(w.ids >> 2) + r] = id;
    }
    const k = this.runner.k;
    this.run('embedGather', [E, w.ids, p.emb, w.layers[0].inp, 0, R], 4, 1);

    const BH = B * H * 4, BG = B * G * 4; // bytes of one timestep's rows
    w.dropped = dropout;
    for (let l = 0; l < L; l++) {
      const lp = p.layers[l];
      const lw = w.layers[l];
      const I = lp.I;
      // Input projection for the whole window: one GEMM. The RNN and LSTM only ever use xp + hp, so
      // both biases go in here, once per window, and the per-step hp has none (the reference adds b_hh
      // to hp; the sum differs by float rounding only). The GRU's hp keeps b_hh (r scales W_hn·h + b_hn).
      this.gemm(R, G, I, w.inpAt[l], I, 0, lp.wihNT, lw.xp, G, 0);
      this.run('addBiasRows', [G, lw.xp, G, lp.bsum || lp.bih, 0, R], 4, 1);
      const f32 = this.mem.f32;
      f32.set(state.h[l], lw.hs >> 2);
      if (lw.cs) f32.set(state.c![l], lw.cs >> 2);
      for (let t = 0; t < T; t++) {
        const hPrev = lw.hs + t * BH, h = hPrev + BH;
        const xpT = lw.xp + t * BG, hpT = lw.hp + t * BG, gT = lw.gates + t * BG;
        // Recurrent projection for this step: h_{t-1}·W_hhᵀ (+ b_hh for the GRU).
        this.gemm(B, G, H, hPrev, H, 0, lp.whhNT, hpT, G, 0, true);
        if (!lp.bsum) k.addBiasRows(G, hpT, G, lp.bhh, 0, B);
        if (c.cell === 'lstm') {
          this.run('lstmFwd', [B, H, xpT, hpT, lw.cs + t * BH, gT, lw.cs + (t + 1) * BH, h, 0, H], 8, 4);
        } else if (c.cell === 'gru') {
          this.run('gruFwd', [B, H, xpT, hpT, hPrev, gT, h, 0, H], 7, 4);
        } else {
          this.run('rnnFwd', [xpT, hpT, h, 0, B * H], 3, 4);
        }
      }
      const f32b = this.mem.f32;
      state.h[l].set(f32b.subarray((lw.hs + T * BH) >> 2, (lw.hs + (T + 1) * BH) >> 2));
      if (lw.cs) state.c![l].set(f32b.subarray((lw.cs + T * BH) >> 2, (lw.cs + (T + 1) * BH) >> 2));
      // Output of this layer (after dropout) is the input of the next, or of the decoder.
      const hsOut = lw.hs + BH;
      let out = hsOut;
      if (dropout) {
        const mask = l < L - 1 ? lw.mask : w.decMask;
        out = l < L - 1 ? w.layers[l + 1].inp : w.top;
        const key = hash32(hash32(seed) ^ dropoutStream(step, l < L - 1 ? l : DECODER_DROPOUT_SITE)) | 0;
        const threshold = Math.ceil(c.dropout * 2 ** 32) | 0;
        this.run('dropoutMask', [key, threshold, 1 / (1 - c.dropout), mask, 0, R * H], 4, 4);
        this.run('mul', [hsOut, mask, out, 0, R * H], 3, 4);
      }
      if (l < L - 1) w.inpAt[l + 1] = out;
      else w.topAt = out;
    }

    // Decoder.
    if (opts.lastOnly) {
      this.gemm(B, V, H, w.topAt + (T - 1) * BH, H, 0, p.decNT, w.logits, V, 0, true);
      k.addBiasRows(V, w.logits, V, p.decb, 0, B);
      return this.mem.floats(w.logits, B * V);
    }
    this.gemm(R, V, H, w.topAt, H, 0, p.decNT, w.logits, V, 0);
    this.run('addBiasRows', [V, w.logits, V, p.decb, 0, R], 4, 1);
    this.last = w;
    return this.mem.floats(w.logits, R * V);
  }

  /** As CpuModel.lastLayerActivations: views into the memory, valid until the next call (do not write to them). */
  lastLayerActivations(layer: number): LayerActivations {
    const w = this.lastWindow;
    if (!w) throw new Error('no forward pass yet');
    if (!(Number.isInteger(layer) && layer >= 0 && layer < this.config.numLayers)) throw new Error(`layer ${layer} does not exist`);
    const H = this.config.hiddenSize;
    const G = gateCount(this.config.cell) * H;
    const lw = w.layers[layer];
    const carried = w.B * H * 4; // h_0 (c_0), the state before the window
    let pre: Float32Array | null = null;
    if (this.config.cell === 'rnn') {
      const xp = this.mem.floats(lw.xp, w.R * H), hp = this.mem.floats(lw.hp, w.R * H);
      pre = new Float32Array(w.R * H);
      for (let i = 0; i < pre.length; i++) pre[i] = xp[i] + hp[i];
    }
    return {
      T: w.T,
      B: w.B,
      hidden: this.mem.floats(lw.hs + carried, w.R * H),
      cell: lw.cs ? this.mem.floats(lw.cs + carried, w.R * H) : null,
      gates: this.config.cell === 'rnn' ? null : this.mem.floats(lw.gates, w.R * G),
      pre,
    };
  }

  private writeTargets(w: Window, y: Int32Array): void {
    const V = this.config.vocabSize;
    if (y.length !== w.R) throw new Error(`expected ${w.R} targets, got ${y.length}`);
    const i32 = this.mem.i32;
    for (let r = 0; r < w.R; r++) {
      const id = y[r];
      if (!(id >= 0 && id < V)) throw new Error(`target id ${id} is outside the vocabulary (size ${V})`);
      i32[(w.targets >> 2) + r] = id;
    }
  }

  /** Σ of the window's row losses (f64, in row order as the reference sums them). */
  private sumRowLoss(w: Window): number {
    const f64 = this.mem.f64;
    let total = 0;
    for (let r = 0; r < w.R; r++) total += f64[(w.rowLoss >> 3) + r];
    return total;
  }

  /**
   * As CpuModel.lossAndBackward: the mean cross-entropy of the last forward's logits against y, and the
   * gradients of all parameters (overwritten). Truncated BPTT: no gradient flows into the carried state.
   */
  lossAndBackward(y: Int32Array): number {
    this.requireTraining('gradients');
    const w = this.last;
    if (!w) throw new Error('backward called before forward');
    this.last = null;
    const c = this.config;
    const { hiddenSize: H, embedSize: E, vocabSize: V, numLayers: L } = c;
    const G = gateCount(c.cell) * H;
    const { T, B, R } = w;
    const p = this.plan;
    const BH = B * H * 4, BG = B * G * 4;
    this.writeTargets(w, y);
    this.run('softmaxXent', [V, w.logits, w.targets, 1 / R, 1, w.rowLoss, 0, R], 6, 1); // logits now hold ∂L/∂logits
    const lossSum = this.sumRowLoss(w);

    // Decoder backward.
    this.run('packB_NN', [w.topAt, H, R, H, w.actPack, 0, H], 5, 8);
    this.gemm(V, H, R, w.logits, V, 1, w.actPack, p.gdec, H, 0);
    this.run('sumRows', [V, w.logits, V, R, p.gdecb, 0, 0, V], 6, 4);
    this.gemm(R, H, V, w.logits, V, 0, p.decNN, w.dH, H, 0);
    if (w.dropped) this.run('mul', [w.dH, w.decMask, w.dH, 0, R * H], 3, 4);

    const k = this.runner.k;
    for (let l = L - 1; l >= 0; l--) {
      const lp = p.layers[l];
      const lw = w.layers[l];
      const I = lp.I;
      if (lw.cs) k.fill(w.dc, 0, 0, B * H);
      for (let t = T - 1; t >= 0; t--) {
        // dH row t holds the gradient from above at step t plus, added at step t+1, the gradient
        // through the recurrence (the reference keeps the latter in dhNext and adds them here).
        const dh = w.dH + t * BH;
        const gT = lw.gates + t * BG, dXpT = w.dXp + t * BG, dHpT = w.dHp + t * BG;
        if (c.cell === 'lstm') {
          this.run('lstmBwd', [B, H, dh, w.dc, gT, lw.cs + (t + 1) * BH, lw.cs + t * BH, dXpT, 0, H], 8, 4);
        } else if (c.cell === 'gru') {
          this.run('gruBwd', [B, H, dh, gT, lw.hp + t * BG, lw.hs + t * BH, dXpT, dHpT, w.dhDirect, 0, H], 9, 4);
        } else {
          this.run('rnnBwd', [dh, lw.hs + (t + 1) * BH, dXpT, 0, B * H], 3, 4);
        }
        if (t > 0) {
          this.gemm(B, H, G, dHpT, G, 0, lp.whhNN, dh - BH, H, 1, true);
          if (c.cell === 'gru') this.run('addInPlace', [dh - BH, w.dhDirect, 0, B * H], 2, 4);
        }
      }
      // Weight gradients over all timesteps at once.
      this.run('packB_NN', [lw.hs, H, R, H, w.actPack, 0, H], 5, 8);
      this.gemm(G, H, R, w.dHp, G, 1, w.actPack, lp.gwhh, H, 0);
      this.run('sumRows', [G, w.dHp, G, R, lp.gbhh, 0, 0, G], 6, 4);
      this.run('packB_NN', [w.inpAt[l], I, R, I, w.actPack, 0, I], 5, 8);
      this.gemm(G, I, R, w.dXp, G, 1, w.actPack, lp.gwih, I, 0);
      // The RNN's and LSTM's two bias gradients are the same sum (one gradient serves both projections).
      if (w.dHp === w.dXp) k.copy(lp.gbhh, lp.gbih, 0, G);
      else this.run('sumRows', [G, w.dXp, G, R, lp.gbih, 0, 0, G], 6, 4);
      // Gradient of this layer's input: the layer below's output gradient (through its dropout), or the embeddings'.
      this.gemm(R, I, G, w.dXp, G, 0, lp.wihNN, l > 0 ? w.dH : w.dInp, I, 0);
      if (l > 0 && w.dropped) this.run('mul', [w.dH, w.layers[l - 1].mask, w.dH, 0, R * H], 3, 4);
    }

    // Embedding gradient: zero, then scatter-add rows (divided by columns: no races).
    this.run('fill', [p.gemb, 0, 0, V * E], 2, 4);
    this.run('embedGrad', [R, E, w.ids, w.dInp, p.gemb, 0, E], 5, 1);
    return lossSum / R;
  }

  /** Summed cross-entropy (nats) of a window without gradients; dropout off. */
  evalLoss(x: Int32Array, y: Int32Array, T: number, B: number, state: RecurrentState): number {
    this.forward(x, T, B, state, { train: false });
    const w = this.last!;
    this.last = null;
    this.writeTargets(w, y);
    this.run('softmaxXent', [this.config.vocabSize, w.logits, w.targets, 0, 0, w.rowLoss, 0, w.R], 6, 1);
    return this.sumRowLoss(w);
  }

  /**
   * Global-norm clipping over all gradients (as clipGradNorm: PyTorch's 1e-6 in the denominator);
   * returns the norm before clipping. Each thread sums its range into its own scratch; the partials are
   * added here.
   */
  clipGradients(maxNorm: number): number {
    this.requireTraining('gradients');
    const p = this.plan;
    const threads = this.runner.threads;
    const f64 = this.mem.f64;
    for (let t = 0; t < threads; t++) f64[(p.scratch + t * GEMM_SCRATCH_BYTES) >> 3] = 0;
    this.run('sumSquares', [p.grads, p.scratch, 0, p.regionFloats], 2, 4, 1);
    let s = 0;
    for (let t = 0; t < threads; t++) s += f64[(p.scratch + t * GEMM_SCRATCH_BYTES) >> 3];
    const norm = Math.sqrt(s);
    if (maxNorm > 0) {
      const coef = maxNorm / (norm + 1e-6);
      if (coef < 1) this.run('scale', [p.grads, coef, 0, p.regionFloats], 2, 4);
    }
    return norm;
  }

  /** One Adam(W) step over every parameter (`step` counts from 1, as adamUpdate), then re-packs the weights. */
  adamStep(step: number, h: { learningRate: number; beta1: number; beta2: number; eps: number; weightDecay: number }): void {
    this.requireTraining('Adam moments');
    const p = this.plan;
    const bc1 = 1 - Math.pow(h.beta1, step);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(h.beta2, step));
    const stepSize = h.learningRate / bc1;
    const decay = 1 - h.learningRate * h.weightDecay;
    this.run('adam', [p.params, p.grads, p.m, p.v, stepSize, bc2Sqrt, h.beta1, h.beta2, h.eps, decay, 0, p.regionFloats], 10, 4);
    this.repack();
  }
}
