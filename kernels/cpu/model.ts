// The CPU reference model: embedding → stacked RNN/LSTM/GRU → linear decoder, with forward,
// backward through time and the caches between them. Written to be read: each stage calls the
// CPU twin of one GPU kernel (gemm.ts, cells.ts, loss.ts). Buffers are time-major: row t*B + b holds
// batch row b at timestep t, so one timestep's rows are contiguous.
//
// A window runs as (per layer) one GEMM for the input projection of all T steps, then T small
// recurrent GEMMs with a fused pointwise cell. Backward mirrors it: T steps of cell backward and
// dh·W_hh, then the weight gradients as GEMMs over all T·B rows at once.

import { ModelConfig, gateCount } from '../config';
import { dropoutStream, dropoutUniform } from '../rng';
import { ParamMap, allocParams, layerParamNames } from '../params';
import { DType, Vec, alloc } from '../tensor';
import { addBiasRows, gemmNN, gemmNT, gemmTN, sumRows } from './gemm';
import { gruCellBackward, gruCellForward, lstmCellBackward, lstmCellForward, rnnCellBackward, rnnCellForward } from './cells';
import { softmaxCrossEntropy } from './loss';

/** The recurrent state carried between windows: per layer h [B, H] (and c [B, H] for the LSTM). */
export interface RecurrentState {
  batch: number;
  h: Vec[];
  c: Vec[] | null;
}

export function zeroState(config: ModelConfig, batch: number, dtype: DType = 'f32'): RecurrentState {
  const H = config.hiddenSize;
  const layer = () => Array.from({ length: config.numLayers }, () => alloc(dtype, batch * H));
  return { batch, h: layer(), c: config.cell === 'lstm' ? layer() : null };
}

export function copyState(s: RecurrentState): RecurrentState {
  const cp = (v: Vec) => v.slice() as Vec;
  return { batch: s.batch, h: s.h.map(cp), c: s.c ? s.c.map(cp) : null };
}

export function resetState(s: RecurrentState): void {
  for (const h of s.h) h.fill(0);
  if (s.c) for (const c of s.c) c.fill(0);
}

/**
 * The state a backend carries into its next window: a fresh zero state when there is none or the batch
 * size changed, else `current`, zeroed first when `reset` (the start of an epoch).
 */
export function carriedState(config: ModelConfig, current: RecurrentState | null, B: number, reset: boolean, dtype: DType = 'f32'): RecurrentState {
  if (!current || current.batch !== B) return zeroState(config, B, dtype);
  if (reset) resetState(current);
  return current;
}

interface LayerParams {
  wih: Vec; whh: Vec; bih: Vec; bhh: Vec;
  gwih: Vec; gwhh: Vec; gbih: Vec; gbhh: Vec;
  inSize: number;
}

/** Activations of one layer over a window, kept for the backward pass. */
interface LayerCache {
  inp: Vec;          // [T*B, I] layer input (embedding, or the layer below after dropout)
  xp: Vec;           // [T*B, G*H] W_ih·x + b_ih
  hp: Vec;           // [T*B, G*H] W_hh·h + b_hh
  gates: Vec;        // [T*B, G*H] activated gates (LSTM, GRU)
  hs: Vec;           // [(T+1)*B, H] h_0 .. h_T (h_0 is the carried state)
  cs: Vec | null;    // [(T+1)*B, H] c_0 .. c_T (LSTM)
  mask: Vec | null;  // [T*B, H] dropout mask applied to this layer's output (scaled keep mask)
}

/** Buffers for one window shape (T, B); allocated once and reused for every step of that shape. */
class Workspace {
  readonly layers: LayerCache[] = [];
  readonly top: Vec;        // [T*B, H] decoder input (after dropout)
  readonly decMask: Vec | null;
  readonly logits: Vec;     // [T*B, V], becomes ∂L/∂logits in place
  readonly dH: Vec;         // [T*B, H] gradient reaching the current layer's outputs
  readonly dInp: Vec;       // [T*B, max(E, H)]
  readonly dXp: Vec;        // [T*B, G*H]
  readonly dHp: Vec;        // [T*B, G*H] (GRU only; RNN and LSTM share dXp)
  readonly dh: Vec;         // [B, H]
  readonly dhNext: Vec;     // [B, H]
  readonly dc: Vec;         // [B, H]
  readonly dhDirect: Vec;   // [B, H]
  constructor(readonly c: ModelConfig, readonly T: number, readonly B: number, dtype: DType) {
    const { hiddenSize: H, embedSize: E, vocabSize: V, numLayers: L } = c;
    const G = gateCount(c.cell) * H;
    const R = T * B;
    const withDropout = c.dropout > 0;
    for (let l = 0; l < L; l++) {
      const I = l === 0 ? E : H;
      this.layers.push({
        inp: alloc(dtype, R * I),
        xp: alloc(dtype, R * G),
        hp: alloc(dtype, R * G),
        gates: c.cell === 'rnn' ? alloc(dtype, 0) : alloc(dtype, R * G),
        hs: alloc(dtype, (T + 1) * B * H),
        cs: c.cell === 'lstm' ? alloc(dtype, (T + 1) * B * H) : null,
        mask: withDropout && l < L - 1 ? alloc(dtype, R * H) : null,
      });
    }
    this.top = alloc(dtype, R * H);
    this.decMask = withDropout ? alloc(dtype, R * H) : null;
    this.logits = alloc(dtype, R * V);
    this.dH = alloc(dtype, R * H);
    this.dInp = alloc(dtype, R * Math.max(E, H));
    this.dXp = alloc(dtype, R * G);
    this.dHp = c.cell === 'gru' ? alloc(dtype, R * G) : this.dXp;
    this.dh = alloc(dtype, B * H);
    this.dhNext = alloc(dtype, B * H);
    this.dc = alloc(dtype, B * H);
    this.dhDirect = alloc(dtype, B * H);
  }
}

/** See CpuModel.lastLayerActivations. */
export interface LayerActivations {
  T: number;
  B: number;
  hidden: Vec;
  cell: Vec | null;
  gates: Vec | null;
  /** The RNN's pre-activation W_ih·x + b_ih + W_hh·h + b_hh [T*B, H] (a new array); null for LSTM and GRU. */
  pre: Vec | null;
}

export interface ForwardOptions {
  /** Dropout on (training) or off (evaluation, inference). */
  train: boolean;
  /** Seed and step that key the counter-based dropout masks. */
  dropoutSeed?: number;
  step?: number;
  /** Decode only the last timestep's B rows (inference): logits rows 0..B-1 then hold step T-1. */
  lastOnly?: boolean;
}

/** Dropout site keys: layer outputs use their layer index; the decoder input uses this one. */
export const DECODER_DROPOUT_SITE = 8;

/** Fills a scaled keep mask: 1/(1-p) where kept, 0 where dropped. */
export function dropoutMask(mask: Vec, p: number, seed: number, stream: number): void {
  const scale = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = dropoutUniform(seed, stream, i) >= p ? scale : 0;
}

export class CpuModel {
  readonly params: ParamMap;
  readonly grads: ParamMap;
  private readonly layers: LayerParams[] = [];
  private readonly emb: Vec;
  private readonly gemb: Vec;
  private readonly dec: Vec;
  private readonly gdec: Vec;
  private readonly decb: Vec;
  private readonly gdecb: Vec;
  private readonly workspaces = new Map<string, Workspace>();
  private last: { ws: Workspace; x: Int32Array } | null = null;
  private lastWindow: Workspace | null = null;

  constructor(readonly config: ModelConfig, params: ParamMap, readonly dtype: DType = 'f32') {
    this.params = allocParams(config, dtype);
    for (const [k, v] of this.params) {
      const src = params.get(k);
      if (!src || src.length !== v.length) throw new Error(`parameter ${k} is missing or has the wrong size`);
      v.set(src);
    }
    this.grads = allocParams(config, dtype);
    const P = (k: string) => this.params.get(k)!;
    const D = (k: string) => this.grads.get(k)!;
    for (let l = 0; l < config.numLayers; l++) {
      const n = layerParamNames(l);
      this.layers.push({
        wih: P(n.wih), whh: P(n.whh), bih: P(n.bih), bhh: P(n.bhh),
        gwih: D(n.wih), gwhh: D(n.whh), gbih: D(n.bih), gbhh: D(n.bhh),
        inSize: l === 0 ? config.embedSize : config.hiddenSize,
      });
    }
    this.emb = P('embedding.weight');
    this.gemb = D('embedding.weight');
    this.dec = P('decoder.weight');
    this.gdec = D('decoder.weight');
    this.decb = P('decoder.bias');
    this.gdecb = D('decoder.bias');
  }

  private workspace(T: number, B: number): Workspace {
    const key = `${T}x${B}`;
    let ws = this.workspaces.get(key);
    if (!ws) {
      // Keep a handful of shapes (training, evaluation's last window, inference) and drop the rest.
      if (this.workspaces.size >= 4) this.workspaces.clear();
      ws = new Workspace(this.config, T, B, this.dtype);
      this.workspaces.set(key, ws);
    }
    return ws;
  }

  /**
   * Forward over a window. x: token ids [T*B] time-major. The state is read as h_0 (c_0) and
   * overwritten with h_T (c_T). Returns the logits buffer [T*B, V] (owned by the model; valid until
   * the next call).
   */
  forward(x: Int32Array, T: number, B: number, state: RecurrentState, opts: ForwardOptions): Vec {
    const c = this.config;
    const { hiddenSize: H, embedSize: E, vocabSize: V, numLayers: L } = c;
    const G = gateCount(c.cell) * H;
    const R = T * B;
    if (x.length !== R) throw new Error(`expected ${R} tokens, got ${x.length}`);
    if (state.batch !== B) throw new Error(`state has batch ${state.batch}, window has ${B}`);
    const ws = this.workspace(T, B);
    this.lastWindow = ws;
    const dropout = opts.train && c.dropout > 0;
    const seed = opts.dropoutSeed ?? 0;
    const step = opts.step ?? 0;

    // Embedding gather.
    const inp0 = ws.layers[0].inp;
    for (let r = 0; r < R; r++) {
      const id = x[r];
      if (!(id >= 0 && id < V)) throw new Error(`token id ${id} is outside the vocabulary (size ${V})`);
      const src = id * E, dst = r * E;
      for (let k = 0; k < E; k++) inp0[dst + k] = this.emb[src + k];
    }

    for (let l = 0; l < L; l++) {
      const p = this.layers[l];
      const lc = ws.layers[l];
      const I = p.inSize;
      // Input projection for the whole window: one GEMM.
      gemmNT(R, G, I, lc.inp, 0, p.wih, 0, lc.xp, 0, false);
      addBiasRows(R, G, lc.xp, 0, p.bih);
      lc.hs.set(state.h[l], 0);
      if (lc.cs) lc.cs.set(state.c![l], 0);
      for (let t = 0; t < T; t++) {
        const rowOff = t * B;
        const hPrevOff = rowOff * H;
        const hOff = (rowOff + B) * H;
        // Recurrent projection for this step: h_{t-1}·W_hhᵀ + b_hh.
        gemmNT(B, G, H, lc.hs, hPrevOff, p.whh, 0, lc.hp, rowOff * G, false);
        addBiasRows(B, G, lc.hp, rowOff * G, p.bhh);
        if (c.cell === 'lstm') {
          lstmCellForward(B, H, lc.xp, rowOff * G, lc.hp, rowOff * G, lc.cs!, hPrevOff, lc.gates, rowOff * G, lc.cs!, hOff, lc.hs, hOff);
        } else if (c.cell === 'gru') {
          gruCellForward(B, H, lc.xp, rowOff * G, lc.hp, rowOff * G, lc.hs, hPrevOff, lc.gates, rowOff * G, lc.hs, hOff);
        } else {
          rnnCellForward(B, H, lc.xp, rowOff * G, lc.hp, rowOff * G, lc.hs, hOff);
        }
      }
      state.h[l].set(lc.hs.subarray(T * B * H, (T + 1) * B * H));
      if (lc.cs) state.c![l].set(lc.cs.subarray(T * B * H, (T + 1) * B * H));
      // Output of this layer (after dropout) is the input of the next, or of the decoder.
      const out = l < L - 1 ? ws.layers[l + 1].inp : ws.top;
      const mask = l < L - 1 ? lc.mask : ws.decMask;
      const site = l < L - 1 ? l : DECODER_DROPOUT_SITE;
      const hsOut = lc.hs.subarray(B * H);
      if (dropout && mask) {
        dropoutMask(mask, c.dropout, seed, dropoutStream(step, site));
        for (let k = 0; k < R * H; k++) out[k] = hsOut[k] * mask[k];
      } else {
        if (mask) mask.fill(1);
        out.set(hsOut);
      }
    }

    // Decoder.
    if (opts.lastOnly) {
      gemmNT(B, V, H, ws.top, (T - 1) * B * H, this.dec, 0, ws.logits, 0, false);
      addBiasRows(B, V, ws.logits, 0, this.decb);
      this.last = null;
    } else {
      gemmNT(R, V, H, ws.top, 0, this.dec, 0, ws.logits, 0, false);
      addBiasRows(R, V, ws.logits, 0, this.decb);
      this.last = { ws, x };
    }
    return ws.logits;
  }

  /**
   * One layer's activations in the last forward, as views into the model's buffers (valid until the
   * next call; do not write to them): h and c after each step [T*B, H], and the activated gates
   * [T*B, G*H] (null for the RNN), and for the RNN its pre-activation (the argument of tanh, summed
   * here from the two projections the forward kept).
   */
  lastLayerActivations(layer: number): LayerActivations {
    const ws = this.lastWindow;
    if (!ws) throw new Error('no forward pass yet');
    if (!(Number.isInteger(layer) && layer >= 0 && layer < this.config.numLayers)) throw new Error(`layer ${layer} does not exist`);
    const lc = ws.layers[layer];
    const carried = ws.B * this.config.hiddenSize; // h_0 (c_0), the state before the window
    let pre: Vec | null = null;
    if (this.config.cell === 'rnn') {
      pre = alloc(this.dtype, lc.xp.length);
      for (let k = 0; k < pre.length; k++) pre[k] = lc.xp[k] + lc.hp[k];
    }
    return {
      T: ws.T,
      B: ws.B,
      hidden: lc.hs.subarray(carried),
      cell: lc.cs ? lc.cs.subarray(carried) : null,
      gates: this.config.cell === 'rnn' ? null : lc.gates,
      pre,
    };
  }

  /**
   * Mean cross-entropy of the last forward's logits against y, and the gradients of all parameters
   * (overwritten, not accumulated). Truncated BPTT: no gradient flows into the carried state.
   */
  lossAndBackward(y: Int32Array): number {
    if (!this.last) throw new Error('backward called before forward');
    const { ws, x } = this.last;
    const c = this.config;
    const { hiddenSize: H, embedSize: E, vocabSize: V, numLayers: L } = c;
    const G = gateCount(c.cell) * H;
    const { T, B } = ws;
    const R = T * B;
    const lossSum = softmaxCrossEntropy(R, V, ws.logits, y, 1 / R); // logits now hold ∂L/∂logits

    // Decoder backward.
    gemmTN(V, H, R, ws.logits, 0, ws.top, 0, this.gdec, 0, false);
    sumRows(R, V, ws.logits, 0, this.gdecb, 0, false);
    gemmNN(R, H, V, ws.logits, 0, this.dec, 0, ws.dH, 0, false);
    if (ws.decMask) for (let k = 0; k < R * H; k++) ws.dH[k] *= ws.decMask[k];

    for (let l = L - 1; l >= 0; l--) {
      const p = this.layers[l];
      const lc = ws.layers[l];
      const I = p.inSize;
      ws.dhNext.fill(0);
      ws.dc.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        const rowOff = t * B;
        const hPrevOff = rowOff * H;
        const hOff = (rowOff + B) * H;
        // dh = gradient from above at step t + gradient from step t+1 through the recurrence.
        for (let k = 0; k < B * H; k++) ws.dh[k] = ws.dH[hPrevOff + k] + ws.dhNext[k];
        if (c.cell === 'lstm') {
          lstmCellBackward(B, H, ws.dh, 0, ws.dc, lc.gates, rowOff * G, lc.cs!, hOff, lc.cs!, hPrevOff, ws.dXp, rowOff * G);
        } else if (c.cell === 'gru') {
          gruCellBackward(B, H, ws.dh, 0, lc.gates, rowOff * G, lc.hp, rowOff * G, lc.hs, hPrevOff, ws.dXp, rowOff * G, ws.dHp, rowOff * G, ws.dhDirect);
        } else {
          rnnCellBackward(B, H, ws.dh, 0, lc.hs, hOff, ws.dXp, rowOff * G);
        }
        if (t > 0) {
          gemmNN(B, H, G, ws.dHp, rowOff * G, p.whh, 0, ws.dhNext, 0, false);
          if (c.cell === 'gru') for (let k = 0; k < B * H; k++) ws.dhNext[k] += ws.dhDirect[k];
        }
      }
      // Weight gradients over all timesteps at once.
      gemmTN(G, H, R, ws.dHp, 0, lc.hs, 0, p.gwhh, 0, false);
      sumRows(R, G, ws.dHp, 0, p.gbhh, 0, false);
      gemmTN(G, I, R, ws.dXp, 0, lc.inp, 0, p.gwih, 0, false);
      sumRows(R, G, ws.dXp, 0, p.gbih, 0, false);
      // Gradient of this layer's input.
      gemmNN(R, I, G, ws.dXp, 0, p.wih, 0, ws.dInp, 0, false);
      if (l > 0) {
        const mask = ws.layers[l - 1].mask;
        for (let k = 0; k < R * H; k++) ws.dH[k] = mask ? ws.dInp[k] * mask[k] : ws.dInp[k];
      }
    }

    // Embedding gradient: scatter-add rows.
    this.gemb.fill(0);
    for (let r = 0; r < R; r++) {
      const dst = x[r] * E, src = r * E;
      for (let k = 0; k < E; k++) this.gemb[dst + k] += ws.dInp[src + k];
    }
    return lossSum / R;
  }

  /** Summed cross-entropy (nats) of a window without gradients; dropout off. */
  evalLoss(x: Int32Array, y: Int32Array, T: number, B: number, state: RecurrentState): number {
    const logits = this.forward(x, T, B, state, { train: false });
    this.last = null;
    return softmaxCrossEntropy(T * B, this.config.vocabSize, logits, y);
  }
}
