// Inference on the CPU: next-token distributions, sampling (temperature, top-k), greedy and beam
// decoding, and an incremental API: feed tokens one at a time into a state object that can be
// copied and kept (the completion provider caches states along a document). trace() also returns
// one layer's activations after each token, for the activation views and `gatescope activations`,
// and traceAll() every layer's, with the logits after each token, in one pass, for the inspector.
// The model runs on the WebAssembly SIMD engine (kernels/wasm/model.ts, one thread) where the runtime
// has WebAssembly SIMD, else on the CPU reference (kernels/cpu/model.ts); both compute the same values
// to float32 rounding. The wasm engine uses the plain SIMD kernels unless told otherwise: they give the
// same bits on every host (relaxed SIMD's fused multiply-add exists in VS Code's Electron but not in
// Node 20 without a flag, and is no faster), so the CLI and the extension show identical activations.

import { CellType, ModelConfig, gateCount } from './config';
import { CpuModel, ForwardOptions, LayerActivations, RecurrentState, copyState, zeroState } from './cpu/model';
import { softmaxRow } from './cpu/loss';
import { check } from './errors';
import { ParamMap } from './params';
import { Rng } from './rng';
import { Vec } from './tensor';
import { WasmModel } from './wasm/model';
import { KernelVariant, wasmSupport } from './wasm/module';
import { serialRunner } from './wasm/pool';

export interface SampleOptions {
  /** Softmax temperature; 0 means greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  rng?: Rng;
}

/** An opaque, copyable recurrent state for one sequence. */
export interface InferenceState {
  readonly inner: RecurrentState;
  /** Logits after the last token fed (null before the first). */
  logits: Float32Array | null;
  /** Number of tokens fed. */
  position: number;
}

/** Gate names in PyTorch's order (the order of the gate blocks in the weights and in traces). */
export const GATE_NAMES: Record<CellType, readonly string[]> = { lstm: ['i', 'f', 'g', 'o'], gru: ['r', 'z', 'n'], rnn: [] };

/** One layer's activations over T tokens, row t after token t. */
export interface LayerTrace {
  /** h, [T*H]. */
  hidden: Float32Array;
  /** The LSTM's c, [T*H]; null for GRU and RNN. */
  cell: Float32Array | null;
  /** Activated gates, [T*G*H]: row t holds gate 0's H values, then gate 1's, ...; null for the RNN. */
  gates: { names: string[]; values: Float32Array } | null;
  /** The RNN's pre-activation (W_ih x + b_ih + W_hh h + b_hh, before tanh), [T*H]; null for LSTM and GRU. */
  pre: Float32Array | null;
}

/** Longest chunk fed through one forward call when priming from a long context. */
const PRIME_CHUNK = 256;

/**
 * What a session needs of a model, which CpuModel and WasmModel both are: a forward over a window
 * (time-major ids, B streams, a carried state) returning logits, and the activations of the last one.
 * Both return buffers owned by the model, valid until its next forward.
 */
export interface RecurrentModel {
  readonly config: ModelConfig;
  forward(x: Int32Array, T: number, B: number, state: RecurrentState, opts: ForwardOptions): Vec;
  lastLayerActivations(layer: number): LayerActivations;
}

/** Which engine runs a session: 'auto' is WebAssembly SIMD where the runtime has it, else the CPU reference. */
export type InferenceEngine = 'auto' | 'cpu' | 'wasm';

export interface InferenceSessionOptions {
  engine?: InferenceEngine;
  /** The wasm engine's kernel build (default 'simd', the same bits on every host; see the file header). */
  variant?: KernelVariant;
}

export class InferenceSession {
  /** The model behind the session (the corpus match runs it with many rows at once; do not change its weights). */
  readonly model: RecurrentModel;
  /** The engine the session runs on. */
  readonly engine: 'cpu' | 'wasm';
  private readonly scratch: Int32Array = new Int32Array(PRIME_CHUNK);

  constructor(readonly config: ModelConfig, params: ParamMap, opts: InferenceSessionOptions = {}) {
    const asked = opts.engine ?? 'auto';
    check(asked === 'auto' || asked === 'cpu' || asked === 'wasm', `engine must be 'auto', 'cpu' or 'wasm', got '${asked}'`);
    const support = wasmSupport();
    check(asked !== 'wasm' || support.simd, () => `the wasm inference engine needs WebAssembly SIMD, which is not available here (${support.reason}); use the cpu engine`);
    this.engine = asked === 'cpu' || !support.simd ? 'cpu' : 'wasm';
    this.model = this.engine === 'wasm'
      ? new WasmModel(config, params, serialRunner(opts.variant ?? 'simd', 0), { training: false })
      : new CpuModel(config, params, 'f32');
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  newState(): InferenceState {
    return { inner: zeroState(this.config, 1), logits: null, position: 0 };
  }

  copyState(s: InferenceState): InferenceState {
    return { inner: copyState(s.inner), logits: s.logits ? s.logits.slice() : null, position: s.position };
  }

  /** Feeds one token; returns the logits for the next one (also kept on the state). */
  feed(s: InferenceState, token: number): Float32Array {
    this.scratch[0] = token;
    return this.run(s, this.scratch.subarray(0, 1));
  }

  /** Feeds many tokens (in chunks, one forward each); returns the logits after the last. */
  feedMany(s: InferenceState, tokens: ArrayLike<number>): Float32Array | null {
    for (let i = 0; i < tokens.length; i += PRIME_CHUNK) {
      const n = Math.min(PRIME_CHUNK, tokens.length - i);
      for (let k = 0; k < n; k++) this.scratch[k] = tokens[i + k];
      this.run(s, this.scratch.subarray(0, n));
    }
    return s.logits;
  }

  /**
   * Feeds tokens like feedMany (the state advances the same way) and returns the activations of
   * layer `layer` (0-based) after each of them.
   */
  trace(s: InferenceState, ids: ArrayLike<number>, layer: number): LayerTrace {
    const L = this.config.numLayers;
    check(Number.isInteger(layer) && layer >= 0 && layer < L, `layer must be a whole number from 0 to ${L - 1}, got ${layer}`);
    const out = this.emptyTrace(ids.length);
    for (let i = 0; i < ids.length; i += PRIME_CHUNK) {
      const { n } = this.runChunk(s, ids, i, true);
      this.copyLayer(out, layer, i, n);
    }
    return out;
  }

  /**
   * Feeds tokens like feedMany (the state advances the same way) and returns, in the same single
   * pass, every layer's activations after each token (each layer exactly as trace() gives it). The
   * logits after each token (row t: the distribution of token t+1 before softmax) go to `onLogits`
   * a chunk at a time, rows [t0, t0+n) as n*V values valid during the call, so that a large
   * vocabulary over thousands of tokens is never held at once.
   */
  traceAll(s: InferenceState, ids: ArrayLike<number>, onLogits?: (rows: Float32Array, t0: number, n: number) => void): LayerTrace[] {
    const { numLayers: L, vocabSize: V } = this.config;
    const T = ids.length;
    const layers = Array.from({ length: L }, () => this.emptyTrace(T));
    for (let i = 0; i < T; i += PRIME_CHUNK) {
      const { n, logits } = this.runChunk(s, ids, i, false);
      for (let l = 0; l < L; l++) this.copyLayer(layers[l], l, i, n);
      onLogits?.(logits!.subarray(0, n * V), i, n);
    }
    return layers;
  }

  private emptyTrace(T: number): LayerTrace {
    const { hiddenSize: H, cell } = this.config;
    return {
      hidden: new Float32Array(T * H),
      cell: cell === 'lstm' ? new Float32Array(T * H) : null,
      gates: cell === 'rnn' ? null : { names: [...GATE_NAMES[cell]], values: new Float32Array(T * gateCount(cell) * H) },
      pre: cell === 'rnn' ? new Float32Array(T * H) : null,
    };
  }

  /**
   * Runs ids[i, i+n) (n: at most one chunk) as one forward. Unless lastOnly, also returns the logits
   * of all n rows (the model's buffer, valid until its next forward).
   */
  private runChunk(s: InferenceState, ids: ArrayLike<number>, i: number, lastOnly: boolean): { n: number; logits: Float32Array | null } {
    const n = Math.min(PRIME_CHUNK, ids.length - i);
    for (let k = 0; k < n; k++) this.scratch[k] = ids[i + k];
    const chunk = this.scratch.subarray(0, n);
    if (lastOnly) {
      this.run(s, chunk);
      return { n, logits: null };
    }
    const V = this.config.vocabSize;
    this.checkIds(chunk);
    const logits = this.model.forward(chunk, n, 1, s.inner, { train: false }) as Float32Array;
    if (!s.logits) s.logits = new Float32Array(V);
    s.logits.set(logits.subarray((n - 1) * V, n * V));
    s.position += n;
    return { n, logits };
  }

  /** Copies layer `layer`'s activations of the last forward (n tokens) into `out` at token i. */
  private copyLayer(out: LayerTrace, layer: number, i: number, n: number): void {
    const H = this.config.hiddenSize;
    const a = this.model.lastLayerActivations(layer);
    out.hidden.set(a.hidden.subarray(0, n * H), i * H);
    if (out.cell) out.cell.set(a.cell!.subarray(0, n * H), i * H);
    if (out.gates) {
      const GH = out.gates.names.length * H;
      out.gates.values.set(a.gates!.subarray(0, n * GH), i * GH);
    }
    if (out.pre) out.pre.set(a.pre!.subarray(0, n * H), i * H);
  }

  private checkIds(ids: Int32Array): void {
    const V = this.config.vocabSize;
    for (const id of ids) check(Number.isInteger(id) && id >= 0 && id < V, `token id ${id} is outside the vocabulary (size ${V})`);
  }

  private run(s: InferenceState, ids: Int32Array): Float32Array {
    const V = this.config.vocabSize;
    this.checkIds(ids);
    const out = this.model.forward(ids, ids.length, 1, s.inner, { train: false, lastOnly: true });
    if (!s.logits) s.logits = new Float32Array(V);
    for (let j = 0; j < V; j++) s.logits[j] = out[j];
    s.position += ids.length;
    return s.logits;
  }

  /** Next-token probabilities from logits, with temperature (default 1). */
  distribution(logits: ArrayLike<number>, temperature = 1): Float32Array {
    const p = new Float32Array(logits.length);
    softmaxRow(logits.length, logits, 0, p, temperature > 0 ? temperature : 1);
    return p;
  }

  /** The k most likely next tokens, most likely first. */
  topK(logits: ArrayLike<number>, k: number): { id: number; prob: number }[] {
    const p = this.distribution(logits);
    return topIndices(p, k).map((id) => ({ id, prob: p[id] }));
  }

  /** The k most likely tokens after the state's last token (temperature 1), most likely first. */
  predict(s: InferenceState, k: number): { id: number; probability: number }[] {
    check(s.logits !== null, 'feed at least one token before predicting');
    check(Number.isInteger(k) && k >= 1, `k must be a whole number of at least 1, got ${k}`);
    return this.topK(s.logits, k).map(({ id, prob }) => ({ id, probability: prob }));
  }

  /** Draws a token from logits with temperature and top-k (temperature 0: argmax). */
  sample(logits: ArrayLike<number>, opts: SampleOptions = {}): number {
    const temperature = opts.temperature ?? 1;
    check(temperature >= 0 && Number.isFinite(temperature), `temperature must be 0 or more, got ${temperature}`);
    if (temperature === 0) return argmax(logits);
    const V = logits.length;
    const k = opts.topK && opts.topK > 0 ? Math.min(opts.topK, V) : V;
    const ids = k < V ? topIndices(logits, k) : null;
    const probs = new Float64Array(k);
    let max = -Infinity;
    for (let i = 0; i < k; i++) max = Math.max(max, logits[ids ? ids[i] : i]);
    let sum = 0;
    for (let i = 0; i < k; i++) sum += probs[i] = Math.exp((logits[ids ? ids[i] : i] - max) / temperature);
    let u = (opts.rng ?? defaultRng).next() * sum;
    for (let i = 0; i < k; i++) {
      u -= probs[i];
      if (u < 0) return ids ? ids[i] : i;
    }
    return ids ? ids[k - 1] : k - 1;
  }

  /** Samples n tokens after the state's current position (the state advances). */
  generate(s: InferenceState, n: number, opts: SampleOptions = {}): number[] {
    check(s.logits !== null, 'feed at least one token before generating');
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = this.sample(s.logits!, opts);
      out.push(id);
      this.feed(s, id);
    }
    return out;
  }

  /** Greedy decoding: the most likely token at each step. */
  greedy(s: InferenceState, n: number): number[] {
    return this.generate(s, n, { temperature: 0 });
  }

  /**
   * Beam search: the n-token continuation with the highest total log-probability found with
   * `beamWidth` beams. The given state is not changed.
   */
  beam(s: InferenceState, n: number, beamWidth: number): { tokens: number[]; logProb: number } {
    check(s.logits !== null, 'feed at least one token before decoding');
    check(Number.isInteger(beamWidth) && beamWidth >= 1 && beamWidth <= 64, `beam width must be 1 to 64, got ${beamWidth}`);
    let beams: { state: InferenceState; tokens: number[]; logProb: number }[] = [{ state: this.copyState(s), tokens: [], logProb: 0 }];
    for (let i = 0; i < n; i++) {
      const candidates: { parent: number; id: number; logProb: number }[] = [];
      beams.forEach((b, parent) => {
        const lp = logSoftmax(b.state.logits!);
        for (const id of topIndices(lp, beamWidth)) candidates.push({ parent, id, logProb: b.logProb + lp[id] });
      });
      candidates.sort((a, b) => b.logProb - a.logProb || a.id - b.id);
      const next: typeof beams = [];
      for (const c of candidates.slice(0, beamWidth)) {
        const state = this.copyState(beams[c.parent].state);
        this.feed(state, c.id);
        next.push({ state, tokens: [...beams[c.parent].tokens, c.id], logProb: c.logProb });
      }
      beams = next;
    }
    return { tokens: beams[0].tokens, logProb: beams[0].logProb };
  }
}

const defaultRng = new Rng(0x5eed);

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topIndices(a: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: a.length }, (_, i) => i);
  idx.sort((i, j) => a[j] - a[i] || i - j);
  return idx.slice(0, Math.max(0, Math.min(k, a.length)));
}
