// Match across the corpus, LSTMVis's "match": the places in the whole training corpus where the selected
// units of one layer's quantity show the on/off pattern the user selected. Two steps:
//
// 1. CorpusActivations.compute runs the model over the corpus and keeps that layer's quantity for every
//    token. The corpus text is encoded whole and cut into B contiguous streams (default 16), as training
//    cuts it; the streams run side by side through CpuModel.forward with batch B, T tokens per window
//    (default 64), the recurrent state carried along each stream from window to window. So the model
//    runs B tokens per recurrent matrix product instead of one, and the input projections of T·B tokens
//    as one matrix product. Each stream but the first starts `warmup` tokens (default 64) before its
//    share, which it feeds only to build up its state, so a stream's first tokens are read with that much
//    context behind them rather than from a zero state. Layout, for N tokens: L = ceil(N / B) tokens per stream, stream b keeps tokens
//    [b·L, min(N, (b+1)·L)) and feeds from max(0, b·L - warmup); a stream that runs out before the
//    others is padded with token 0, whose outputs are dropped. The values are the same as feeding each
//    stream one token at a time with InferenceSession (test/match.test.ts checks it: bitwise equal on the
//    CPU engine, whose matrix products sum each row in the same order whatever the batch).
//    Memory: the values take 4·N·H bytes as float32 while that is at most `maxFloatBytes` (default
//    256 MiB), otherwise N·H bytes quantised to 8 bits (see QUANTISED below); plus 8·N bytes for the
//    token ids and offsets, 4 bytes per line for the line starts. A 2,000,000-token corpus with 256
//    units: 512 MB quantised (2 GB as float32). `bytes` says what an instance holds.
//    It is async: it yields to the event loop (a macrotask) at least every 25 ms, so a worker can answer
//    a cancel or another request, checks its AbortSignal between windows, and reports progress.
//
// 2. matchUnits ranks every place of `length` tokens inside one file (a span never crosses from one file
//    into the next, nor into the blank line between files) by how well the on-units there agree with the
//    selected set S, as LSTMVis ranks its matches: a unit is on at a token when its value is >= threshold,
//    and per token
//        s(t) = |on(t) ∩ S| - |on(t) \ S|     (each selected unit that is on +1, each other unit that is on -1)
//    and a span's score is the sum of s(t) over its tokens divided by length·|S|: 1 when exactly the
//    selected units are on at every token, 0 or less when none are or other units outnumber them. The
//    top 50 (option) non-overlapping spans are returned best first: spans are taken in the order
//    (score high to low, then position), each unless it overlaps one already taken. Each result carries
//    its file, UTF-16 offset, line and character (VS Code's: '\n', '\r\n' and a lone '\r' end a line),
//    the matched tokens with `context` tokens either side (within the file), and the selected units'
//    values over those tokens for a miniature heatmap. Cost: one pass over the N·H values, then one
//    pass over the N span scores per result.

import { CellType, gateCount } from '../config';
import { LayerActivations, zeroState } from '../cpu/model';
import { check } from '../errors';
import { GATE_NAMES, InferenceSession } from '../infer';
import { Vec } from '../tensor';
import { Tokenizer } from '../tokenizer';
import { MatchResult, QuantityName } from './types';

/** The corpus as the collector gave it: the joined text and each file's span [start, end) in it (UTF-16). */
export interface CorpusSource {
  text: string;
  files: { path: string; uri: string; start: number; end: number }[];
}

export interface CorpusActivationsOptions {
  /** Parallel streams (batch rows) the corpus is cut into (default 16). */
  streams?: number;
  /** Tokens per forward window along each stream (default 64). */
  window?: number;
  /** Tokens each stream after the first feeds before its share, to build up its state (default 64; 0: start cold). */
  warmup?: number;
  /** How the values are kept: 'auto' (default) float32 up to `maxFloatBytes`, 8 bits beyond; 'f32' or 'u8' force one. */
  storage?: 'auto' | 'f32' | 'u8';
  /** Largest float32 value array 'auto' keeps (default 256 MiB). */
  maxFloatBytes?: number;
  /** The event loop gets a turn (a macrotask) whenever this many milliseconds have passed since the last (default 25). */
  yieldMs?: number;
  signal?: AbortSignal;
  onProgress?: (doneTokens: number, totalTokens: number) => void;
}

export interface MatchOptions {
  /** Most results (default 50). */
  top?: number;
  /** Tokens of context either side of each match (default 8). */
  context?: number;
}

export const DEFAULT_STREAMS = 16;
export const DEFAULT_WINDOW = 64;
export const DEFAULT_WARMUP = 64;
export const DEFAULT_MAX_FLOAT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MATCH_TOP = 50;
export const DEFAULT_MATCH_CONTEXT = 8;
export const DEFAULT_YIELD_MS = 25;

/**
 * QUANTISED: 8-bit codes 0..255 spread evenly over each quantity's range: [0, 1] for the sigmoid gates
 * (i f o r z; step 1/255), [-1, 1] for the tanh-bounded h, g and n (step 2/255); the unbounded c and
 * pre are stored as sign(v)·ln(1 + |v|) over [-ln 65, ln 65] (|v| up to 64; step 0.033 in that
 * domain, so about 0.016·(1 + |v|) in v; beyond ±64 clipped). A value reads back as its code's centre.
 */
function codec(quantity: QuantityName): { encode: (v: number) => number; table: Float32Array } {
  const table = new Float32Array(256);
  if (quantity === 'c' || quantity === 'pre') {
    const lim = Math.log(65);
    for (let q = 0; q < 256; q++) {
      const y = -lim + (2 * lim * q) / 255;
      table[q] = Math.sign(y) * Math.expm1(Math.abs(y));
    }
    return {
      table,
      encode: (v) => {
        const y = Math.sign(v) * Math.log1p(Math.abs(v));
        return Math.max(0, Math.min(255, Math.round(((y + lim) * 255) / (2 * lim))));
      },
    };
  }
  const lo = quantity === 'h' || quantity === 'g' || quantity === 'n' ? -1 : 0;
  for (let q = 0; q < 256; q++) table[q] = lo + ((1 - lo) * q) / 255;
  return { table, encode: (v) => Math.max(0, Math.min(255, Math.round(((v - lo) * 255) / (1 - lo)))) };
}

/** The quantities a cell has, as QuantityName. */
function quantitiesOf(cell: CellType): QuantityName[] {
  return ['h', ...(cell === 'lstm' ? ['c' as const] : []), ...(GATE_NAMES[cell] as QuantityName[]), ...(cell === 'rnn' ? ['pre' as const] : [])];
}

/**
 * Where a quantity's values lie in a batch forward's activations (CpuModel.lastLayerActivations: rows
 * t·B + b): the source array, the stride of a row and the offset of the quantity in a row.
 */
function quantityView(a: LayerActivations, cell: CellType, quantity: QuantityName, H: number): { src: Vec; stride: number; at: number } {
  if (quantity === 'h') return { src: a.hidden, stride: H, at: 0 };
  if (quantity === 'c') return { src: a.cell!, stride: H, at: 0 };
  if (quantity === 'pre') return { src: a.pre!, stride: H, at: 0 };
  const g = GATE_NAMES[cell].indexOf(quantity);
  return { src: a.gates!, stride: gateCount(cell) * H, at: g * H };
}

function checkFiles(corpus: CorpusSource): void {
  let prev = 0;
  corpus.files.forEach((f, i) => {
    check(Number.isInteger(f.start) && Number.isInteger(f.end) && prev <= f.start && f.start <= f.end && f.end <= corpus.text.length,
      () => `corpus file ${i} (${f.path}) has the span [${f.start}, ${f.end}), which is not in order inside the ${corpus.text.length}-character text`);
    prev = f.end;
  });
}

/**
 * The line breaks of `text` as VS Code counts them ('\n', '\r\n', a lone '\r'): where each line after
 * the first starts, and where the '\n' of each '\r\n' is; both ascending.
 */
function lineBreaks(text: string): { starts: Int32Array; crlf: Int32Array } {
  const starts: number[] = [];
  const crlf: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      starts.push(i + 1);
      if (text.charCodeAt(i - 1) === 13) crlf.push(i);
    } else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return { starts: Int32Array.from(starts), crlf: Int32Array.from(crlf) };
}

/** How many of the ascending `a` are <= x. */
function countAtMost(a: Int32Array, x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many of the ascending `a` are < x. */
function countBelow(a: Int32Array, x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const nextMacrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** One layer's quantity at every token of the corpus: see the file header. */
export class CorpusActivations {
  /** Bytes this instance holds (values, token ids and offsets, line starts). */
  readonly bytes: number;

  private constructor(
    readonly layer: number,
    readonly quantity: QuantityName,
    /** Units per token (the model's hidden size). */
    readonly hiddenSize: number,
    /** Token ids, [N]. */
    readonly ids: Int32Array,
    /** UTF-16 offset in the corpus text where each token starts, [N+1] (the last is the text's length). */
    readonly offsets: Int32Array,
    /** How the values are kept. */
    readonly storage: 'f32' | 'u8',
    private readonly f32: Float32Array | null,
    private readonly u8: Uint8Array | null,
    private readonly table: Float32Array,
    private readonly files: CorpusSource['files'],
    /** Per file, its tokens [fileTokens[2f], fileTokens[2f+1]): those that start inside its span. */
    private readonly fileTokens: Int32Array,
    private readonly lines: { starts: Int32Array; crlf: Int32Array },
    private readonly tokenizer: Tokenizer,
  ) {
    this.bytes = (f32 ? f32.byteLength : u8!.byteLength) + ids.byteLength + offsets.byteLength + fileTokens.byteLength + lines.starts.byteLength + lines.crlf.byteLength;
  }

  /** Tokens in the corpus. */
  get tokens(): number {
    return this.ids.length;
  }

  /** The value of unit u after token t (as stored: see QUANTISED for 'u8'). */
  value(t: number, u: number): number {
    const k = t * this.hiddenSize + u;
    return this.f32 ? this.f32[k] : this.table[this.u8![k]];
  }

  /** All values, [N*H] token-major, as float32 (a copy when quantised). */
  values(): Float32Array {
    if (this.f32) return this.f32;
    const out = new Float32Array(this.u8!.length);
    for (let k = 0; k < out.length; k++) out[k] = this.table[this.u8![k]];
    return out;
  }

  /** Index of the file whose span token t starts in, or -1 (the line breaks between files). */
  fileOf(t: number): number {
    for (let f = 0; f < this.files.length; f++) if (t >= this.fileTokens[2 * f] && t < this.fileTokens[2 * f + 1]) return f;
    return -1;
  }

  /**
   * Runs the session's model over the corpus and keeps layer `layer`'s `quantity` for every token:
   * see the file header. Throws a GateScopeError for a layer or quantity the model does not have, and
   * the signal's reason when it is aborted.
   */
  static async compute(session: InferenceSession, tokenizer: Tokenizer, corpus: CorpusSource, layer: number, quantity: QuantityName, opts: CorpusActivationsOptions = {}): Promise<CorpusActivations> {
    const config = session.config;
    const { hiddenSize: H, numLayers, cell } = config;
    const B0 = opts.streams ?? DEFAULT_STREAMS;
    const W = opts.window ?? DEFAULT_WINDOW;
    const warmup = opts.warmup ?? DEFAULT_WARMUP;
    const yieldMs = opts.yieldMs ?? DEFAULT_YIELD_MS;
    check(Number.isInteger(layer) && layer >= 0 && layer < numLayers, `layer must be a whole number from 0 to ${numLayers - 1}, got ${layer}`);
    check(quantitiesOf(cell).includes(quantity), `a ${cell.toUpperCase()} layer has no '${quantity}'; it has ${quantitiesOf(cell).join(', ')}`);
    check(Number.isInteger(B0) && B0 >= 1 && B0 <= 1024, `streams must be a whole number from 1 to 1024, got ${B0}`);
    check(Number.isInteger(W) && W >= 1 && W <= 4096, `window must be a whole number from 1 to 4096, got ${W}`);
    check(Number.isInteger(warmup) && warmup >= 0, `warmup must be a whole number of tokens, 0 or more, got ${warmup}`);
    checkFiles(corpus);
    const signal = opts.signal;
    signal?.throwIfAborted();
    let lastYield = performance.now();
    // Between windows: stop if aborted; give the event loop a turn if it has waited yieldMs.
    const breathe = async () => {
      signal?.throwIfAborted();
      if (performance.now() - lastYield < yieldMs) return;
      await nextMacrotask();
      lastYield = performance.now();
      signal?.throwIfAborted();
    };

    // Tokens and where each starts in the text (the decoded text before token t has offsets[t] units).
    const ids = tokenizer.encode(corpus.text);
    const N = ids.length;
    const offsets = new Int32Array(N + 1);
    const decoder = tokenizer.createDecoder();
    let pos = 0;
    for (let t = 0; t < N; t++) {
      offsets[t] = pos;
      pos += decoder.push(ids[t]).length;
      if ((t & 0xffff) === 0xffff) await breathe();
    }
    pos += decoder.flush().length;
    check(pos === corpus.text.length, `the corpus's tokens decode to ${pos} UTF-16 units, but its text has ${corpus.text.length}; the tokenizer does not round-trip this text`);
    offsets[N] = pos;
    const fileTokens = new Int32Array(2 * corpus.files.length);
    corpus.files.forEach((f, i) => {
      fileTokens[2 * i] = countBelow(offsets.subarray(0, N), f.start);
      fileTokens[2 * i + 1] = countBelow(offsets.subarray(0, N), f.end);
    });

    const useF32 = opts.storage === 'f32' || (opts.storage !== 'u8' && N * H * 4 <= (opts.maxFloatBytes ?? DEFAULT_MAX_FLOAT_BYTES));
    const f32 = useF32 ? new Float32Array(N * H) : null;
    const u8 = useF32 ? null : new Uint8Array(N * H);
    const { encode, table } = codec(quantity);

    // The streams: see the header.
    const L = Math.max(1, Math.ceil(N / B0));
    const B = N ? Math.ceil(N / L) : 0;
    const keepFrom = Int32Array.from({ length: B }, (_, b) => b * L);
    const keepTo = Int32Array.from({ length: B }, (_, b) => Math.min(N, (b + 1) * L));
    const feedFrom = Int32Array.from({ length: B }, (_, b) => Math.max(0, b * L - warmup));
    let steps = 0;
    for (let b = 0; b < B; b++) steps = Math.max(steps, keepTo[b] - feedFrom[b]);
    const model = B ? session.model : null;
    const state = zeroState(config, Math.max(B, 1));
    const x = new Int32Array(W * B);
    opts.onProgress?.(0, N);
    for (let k0 = 0; k0 < steps; k0 += W) {
      const T = Math.min(W, steps - k0);
      const xw = T === W ? x : x.subarray(0, T * B);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const p = feedFrom[b] + k0 + t;
          xw[t * B + b] = p < keepTo[b] ? ids[p] : 0;
        }
      }
      model!.forward(xw, T, B, state, { train: false, lastOnly: true });
      const { src, stride, at } = quantityView(model!.lastLayerActivations(layer), cell, quantity, H);
      let done = 0;
      for (let b = 0; b < B; b++) {
        const first = Math.max(keepFrom[b], feedFrom[b] + k0);
        const end = Math.min(keepTo[b], feedFrom[b] + k0 + T);
        done += Math.max(0, end - keepFrom[b]);
        for (let p = first; p < end; p++) {
          const from = ((p - feedFrom[b] - k0) * B + b) * stride + at;
          if (f32) {
            for (let u = 0; u < H; u++) f32[p * H + u] = src[from + u];
          } else {
            for (let u = 0; u < H; u++) u8![p * H + u] = encode(src[from + u]);
          }
        }
      }
      opts.onProgress?.(done, N);
      await breathe();
    }
    return new CorpusActivations(layer, quantity, H, ids, offsets, f32 ? 'f32' : 'u8', f32, u8, table, corpus.files.map((f) => ({ ...f })), fileTokens, lineBreaks(corpus.text), tokenizer);
  }

  /** See the file header, step 2: the best non-overlapping places for the selected units' pattern. */
  match(units: readonly number[], threshold: number, length: number, opts: MatchOptions = {}): MatchResult[] {
    const H = this.hiddenSize;
    const top = opts.top ?? DEFAULT_MATCH_TOP;
    const context = opts.context ?? DEFAULT_MATCH_CONTEXT;
    check(units.length >= 1, 'select at least one unit to match');
    check(units.every((u) => Number.isInteger(u) && u >= 0 && u < H), () => `units must be whole numbers from 0 to ${H - 1}, got ${units.join(', ')}`);
    check(new Set(units).size === units.length, () => `each unit may be selected once, got ${units.join(', ')}`);
    check(Number.isFinite(threshold), `the threshold must be a finite number, got ${threshold}`);
    check(Number.isInteger(length) && length >= 1, `the match length must be a whole number of tokens, 1 or more, got ${length}`);
    check(Number.isInteger(top) && top >= 0, `top must be a whole number, 0 or more, got ${top}`);
    check(Number.isInteger(context) && context >= 0, `context must be a whole number of tokens, 0 or more, got ${context}`);
    const N = this.tokens;
    const selected = new Uint8Array(H);
    for (const u of units) selected[u] = 1;

    // s(t) as prefix sums (whole numbers, exact in float64).
    const prefix = new Float64Array(N + 1);
    const onCode = new Uint8Array(256);
    for (let q = 0; q < 256; q++) onCode[q] = this.table[q] >= threshold ? 1 : 0;
    for (let t = 0; t < N; t++) {
      let s = 0;
      const row = t * H;
      if (this.f32) {
        for (let u = 0; u < H; u++) if (this.f32[row + u] >= threshold) s += selected[u] ? 1 : -1;
      } else {
        for (let u = 0; u < H; u++) if (onCode[this.u8![row + u]]) s += selected[u] ? 1 : -1;
      }
      prefix[t + 1] = prefix[t] + s;
    }

    // Span scores at every start whose span lies inside one file; -Infinity elsewhere.
    const score = new Float64Array(N).fill(-Infinity);
    const norm = length * units.length;
    for (let f = 0; f < this.files.length; f++) {
      for (let p = this.fileTokens[2 * f]; p + length <= this.fileTokens[2 * f + 1]; p++) score[p] = (prefix[p + length] - prefix[p]) / norm;
    }

    // Greedy: the best start not overlapping one taken (ties: the earlier), blocked around each taken.
    const out: MatchResult[] = [];
    while (out.length < top) {
      let best = -1;
      for (let p = 0; p < N; p++) if (score[p] > (best < 0 ? -Infinity : score[best])) best = p;
      if (best < 0) break;
      out.push(this.result(best, length, score[best], units, context));
      for (let p = Math.max(0, best - length + 1); p < Math.min(N, best + length); p++) score[p] = -Infinity;
    }
    return out;
  }

  private result(p: number, length: number, score: number, units: readonly number[], context: number): MatchResult {
    const f = this.fileOf(p);
    const file = this.files[f];
    const c0 = Math.max(this.fileTokens[2 * f], p - context);
    const c1 = Math.min(this.fileTokens[2 * f + 1], p + length + context);
    const U = units.length;
    const values = new Float32Array((c1 - c0) * U);
    for (let t = c0; t < c1; t++) for (let k = 0; k < U; k++) values[(t - c0) * U + k] = this.value(t, units[k]);
    const at = this.offsets[p];
    // Lines: the line starts inside the file up to this offset; the character counts from the last one.
    const { starts, crlf } = this.lines;
    const linesBefore = countAtMost(starts, at) - countAtMost(starts, file.start);
    const lineStart = linesBefore ? starts[countAtMost(starts, at) - 1] : file.start;
    // Between the '\r' and '\n' of a line break (a token of its own with the char tokenizer): at the
    // line's end, where VS Code's positionAt puts it.
    const insideCrLf = countAtMost(crlf, at) > countBelow(crlf, at);
    return {
      path: file.path,
      uri: file.uri,
      offset: at - file.start,
      length: Math.min(this.offsets[p + length], file.end) - at,
      line: linesBefore,
      character: at - lineStart - (insideCrLf ? 1 : 0),
      score,
      tokens: Array.from(this.ids.subarray(c0, c1), (id) => this.tokenizer.tokenLabel(id)),
      matchStart: p - c0,
      matchLength: length,
      values,
    };
  }
}

/**
 * The best `top` (default 50) non-overlapping places of `length` tokens for the selected units' on/off
 * pattern, best first: see the file header for the score. `values` of each result is
 * [tokens.length × units.length], token-major, units in the order given.
 */
export function matchUnits(acts: CorpusActivations, units: number[], threshold: number, length: number, opts: MatchOptions = {}): MatchResult[] {
  return acts.match(units, threshold, length, opts);
}
