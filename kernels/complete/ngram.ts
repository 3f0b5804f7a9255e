// A character n-gram model with interpolated Kneser-Ney smoothing over code points: the counting
// model the completions are measured against (issue 11: a 7-gram reaches about 1.76 bits per
// character on the fixed corpus's held-out 5%), a step model of its own for the n-gram baseline, and
// optionally a component mixed into the LSTM's distribution. Plain TypeScript (no Node imports): it
// runs in the completion worker, the CLI and the tests alike.
//
// The model (Chen & Goodman's interpolated Kneser-Ney, "modified" discounts by default):
//   P_n(w | h) = max(c_n(hw) − D_n(c_n(hw)), 0) / c_n(h·) + γ_n(h) · P_{n−1}(w | h'),
//   γ_n(h) = (D_n1·N1(h·) + D_n2·N2(h·) + D_n3·N3+(h·)) / c_n(h·),
// where h' is h without its oldest character, c_n(h·) = Σ_w c_n(hw), Nk(h·) = the number of w with
// c_n(hw) = k (N3+: ≥ 3), and P_n(w | h) = P_{n−1}(w | h') when h was never seen followed by anything.
// The highest order uses raw counts; every lower order uses continuation counts: c_n(g) = the number
// of distinct characters seen just before g, the start of the text counting as one such character
// (so every n-gram that occurs has a count ≥ 1). Below order 1 is the uniform distribution over the
// vocabulary, the unknown id included, so every id has a probability above 0. A context shorter than
// order − 1 (the start of a text) starts at its own length + 1, on continuation counts.
// Discounts per order from the counts of counts n1..n4 of that order (Chen & Goodman):
//   Y = n1 / (n1 + 2·n2) (0.5 when n1 = 0);  modified: D1 = Y, D2 = 2 − 3Y·n3/n2, D3 = 3 − 4Y·n4/n3
//   (Dk = Y when nk = 0; D2 clamped into [0.05, 2], D3 into [0.05, 3]);  fixed: D1 = D2 = D3 = Y.
//
// Storage is typed arrays only. Every n-gram up to the order is a node of one trie of reversed strings
// (a node's child by symbol x is its string with x prepended, the older character; its parent is the
// n-gram's continuation-count target), so the build reads each position once, one hash lookup per
// order, and reading a context from its most recent character backwards visits the context of every
// order in turn. Each context node keeps its followers (symbol and precomputed discounted share) in
// one sorted CSR run and its back-off weight γ. distribution() is one hash lookup per order plus one
// pass over the followers of each order's context and one over the vocabulary.

import { check } from '../errors';

/** How the discounts are chosen (see the file header). */
export type KneserNeyDiscount = 'modified' | 'fixed';

export interface KneserNeyOptions {
  /** Default 'modified' (three discounts per order). */
  discount?: KneserNeyDiscount;
}

/** Most context nodes or n-grams one model may hold (the typed arrays' indices are 32-bit). */
const MAX_ENTRIES = 2 ** 30;

/**
 * Open-addressing hash table from a pair of non-negative 32-bit ints to a non-negative int value,
 * on typed arrays (linear probing, power-of-two capacity, grows at 60% load).
 */
class PairTable {
  private keyA: Int32Array;
  private keyB: Int32Array;
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacityHint: number) {
    let cap = 16;
    while (cap * 0.6 < capacityHint) cap *= 2;
    this.keyA = new Int32Array(cap).fill(-1);
    this.keyB = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }

  private static slot(a: number, b: number, mask: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & mask;
  }

  /** The value stored for (a, b), or −1. */
  get(a: number, b: number): number {
    const { keyA, keyB, mask } = this;
    let i = PairTable.slot(a, b, mask);
    for (;;) {
      const k = keyA[i];
      if (k === -1) return -1;
      if (k === a && keyB[i] === b) return this.vals[i];
      i = (i + 1) & mask;
    }
  }

  /** The value stored for (a, b); when absent, stores `fresh` and returns it. */
  getOrAdd(a: number, b: number, fresh: number): number {
    if (this.size + 1 > (this.mask + 1) * 0.6) this.grow();
    const { keyA, keyB, mask } = this;
    let i = PairTable.slot(a, b, mask);
    for (;;) {
      const k = keyA[i];
      if (k === -1) {
        keyA[i] = a;
        keyB[i] = b;
        this.vals[i] = fresh;
        this.size++;
        return fresh;
      }
      if (k === a && keyB[i] === b) return this.vals[i];
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const { keyA, keyB, vals } = this;
    const cap = (this.mask + 1) * 2;
    check(cap <= 2 ** 31, 'the n-gram model is too large: build it on less text or with a lower order');
    this.keyA = new Int32Array(cap).fill(-1);
    this.keyB = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    const m = this.mask;
    for (let j = 0; j < keyA.length; j++) {
      const a = keyA[j];
      if (a === -1) continue;
      let i = PairTable.slot(a, keyB[j], m);
      while (this.keyA[i] !== -1) i = (i + 1) & m;
      this.keyA[i] = a;
      this.keyB[i] = keyB[j];
      this.vals[i] = vals[j];
    }
  }

  /** Bytes held (for reports). */
  get bytes(): number {
    return this.keyA.byteLength * 3;
  }
}

/** A growable Int32Array. */
class IntList {
  data: Int32Array;
  length = 0;
  constructor(cap = 1024) {
    this.data = new Int32Array(cap);
  }
  push(v: number): number {
    if (this.length === this.data.length) {
      check(this.length < MAX_ENTRIES, 'the n-gram model is too large: build it on less text or with a lower order');
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length] = v;
    return this.length++;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** The code points of `text` (a lone surrogate is its own code unit's value, as codePointAt gives it). */
export function codePointsOf(text: string): Int32Array {
  const out = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out[n++] = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        i++;
        continue;
      }
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/** Discounts D1, D2, D3+ for one order from its counts of counts n[1..4] (see the file header). */
export function kneserNeyDiscounts(n1: number, n2: number, n3: number, n4: number, kind: KneserNeyDiscount): [number, number, number] {
  const y = n1 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
  if (kind === 'fixed') return [y, y, y];
  const clamp = (d: number, hi: number) => Math.min(hi, Math.max(0.05, d));
  const d2 = n2 > 0 ? clamp(2 - (3 * y * n3) / n2, 2) : y;
  const d3 = n3 > 0 ? clamp(3 - (4 * y * n4) / n3, 3) : y;
  return [y, d2, d3];
}

export class KneserNeyModel {
  /** Known code points in ascending order (id i ↔ codePoints[i]). */
  private readonly codePoints: Int32Array;
  /** id + 1 of each BMP code point (0: unknown); astral ones in `astral`. */
  private readonly bmpIds: Int32Array;
  private readonly astral: Map<number, number>;
  /** Child of a node by symbol (the older character): (node, id) → node. Node 0 is the empty string. */
  private readonly children: PairTable;
  /** Per node: back-off weight γ, and its followers' run [start[node], start[node + 1]) in folId / folShare. */
  private readonly gamma: Float64Array;
  private readonly start: Int32Array;
  private readonly folId: Int32Array;
  /** (count − D(count)) / c(h·) of each follower. */
  private readonly folShare: Float64Array;
  /** The discounts of each order (index order − 1), for reports and tests. */
  readonly discounts: readonly (readonly [number, number, number])[];
  private readonly path: Int32Array;
  private readonly weights: Float64Array;
  private readonly acc: Float64Array;

  private constructor(
    readonly order: number,
    readonly vocabSize: number,
    parts: {
      codePoints: Int32Array; children: PairTable; gamma: Float64Array; start: Int32Array; folId: Int32Array; folShare: Float64Array;
      discounts: [number, number, number][];
    },
  ) {
    this.codePoints = parts.codePoints;
    this.bmpIds = new Int32Array(0x10000);
    this.astral = new Map();
    parts.codePoints.forEach((cp, i) => {
      if (cp < 0x10000) this.bmpIds[cp] = i + 1;
      else this.astral.set(cp, i);
    });
    this.children = parts.children;
    this.gamma = parts.gamma;
    this.start = parts.start;
    this.folId = parts.folId;
    this.folShare = parts.folShare;
    this.discounts = parts.discounts;
    this.path = new Int32Array(order);
    this.weights = new Float64Array(order);
    this.acc = new Float64Array(vocabSize);
  }

  /**
   * Counts every n-gram of `text` (code points) up to `order` (default 7) and precomputes the
   * smoothed model. About a second per megabyte of source code at order 7 (about 40 MB of arrays).
   */
  static build(text: string, order = 7, options: KneserNeyOptions = {}): KneserNeyModel {
    check(Number.isInteger(order) && order >= 1 && order <= 32, `the n-gram order must be a whole number from 1 to 32, got ${order}`);
    const kind = options.discount ?? 'modified';
    check(kind === 'modified' || kind === 'fixed', `the Kneser-Ney discount must be "modified" or "fixed", got ${JSON.stringify(kind)}`);
    const cps = codePointsOf(text);
    const n = cps.length;

    // Vocabulary: the text's code points in ascending order, then the unknown id.
    const sorted = Int32Array.from(new Set(cps)).sort();
    const V = sorted.length + 1;
    const bmp = new Int32Array(0x10000);
    const astral = new Map<number, number>();
    sorted.forEach((cp, i) => {
      if (cp < 0x10000) bmp[cp] = i;
      else astral.set(cp, i);
    });
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const cp = cps[i];
      ids[i] = cp < 0x10000 ? bmp[cp] : (astral.get(cp) as number);
    }

    // One trie of reversed strings holds every n-gram up to `order`: node 0 is the empty string, and
    // a node's child by x is its string with x prepended (the older character). Walking text[i], then
    // text[i − 1], ... from the root visits the n-grams of every order that end at i, one lookup each;
    // the same nodes (depth < order) are the contexts distribution() walks.
    const children = new PairTable(Math.min(n * order, 1 << 20) + 16);
    const parent = new IntList(); // the string without its oldest character
    const depth = new IntList();
    const ctxOf = new IntList(); // the string without its newest character (its context)
    const newest = new IntList(); // id of its newest character
    const raw = new IntList(); // occurrences
    for (const list of [parent, ctxOf, newest]) list.push(-1);
    depth.push(0);
    raw.push(0);
    const fromStart = new IntList(); // n-grams of a lower order that occur at the start of the text
    let prev = new Int32Array(order + 1); // the walk at i − 1: prev[d] = the n-gram of order d ending there
    let path = new Int32Array(order + 1);
    for (let i = 0; i < n; i++) {
      let node = 0;
      path[0] = 0;
      const deepest = Math.min(i + 1, order);
      for (let d = 1; d <= deepest; d++) {
        const fresh = parent.length;
        const c = children.getOrAdd(node, ids[i - d + 1], fresh);
        if (c === fresh) {
          parent.push(node);
          depth.push(d);
          ctxOf.push(prev[d - 1]);
          newest.push(d === 1 ? ids[i] : newest.data[node]);
          raw.push(1);
        } else {
          raw.data[c]++;
        }
        path[d] = node = c;
      }
      if (deepest === i + 1 && deepest < order) fromStart.push(node);
      const t = prev;
      prev = path;
      path = t;
    }
    const nodes = parent.length;
    const nodeParent = parent.view(), nodeDepth = depth.view(), nodeCtx = ctxOf.view(), nodeId = newest.view(), nodeRaw = raw.view();

    // Counts: raw at the highest order; below it, continuation counts (the distinct characters seen
    // just before the n-gram: its children in the trie, plus one when it starts the text).
    const count = new Int32Array(nodes);
    for (let g = 1; g < nodes; g++) {
      if (nodeDepth[g] === order) count[g] = nodeRaw[g];
      if (nodeDepth[g] >= 2) count[nodeParent[g]]++;
    }
    for (const g of fromStart.view()) count[g]++;

    // Discounts per order from its counts of counts.
    const coc = Array.from({ length: order + 1 }, () => [0, 0, 0, 0, 0]);
    for (let g = 1; g < nodes; g++) {
      const c = count[g];
      if (c <= 4) coc[nodeDepth[g]][c]++;
    }
    const discounts = coc.slice(1).map((k) => kneserNeyDiscounts(k[1], k[2], k[3], k[4], kind));

    // Per context: total count and the discounted mass that goes to the lower order.
    const total = new Float64Array(nodes);
    const backoff = new Float64Array(nodes);
    for (let g = 1; g < nodes; g++) {
      const h = nodeCtx[g];
      const c = count[g];
      total[h] += c;
      const d = discounts[nodeDepth[g] - 1];
      backoff[h] += c === 1 ? d[0] : c === 2 ? d[1] : d[2];
    }
    const gamma = new Float64Array(nodes);
    for (let h = 0; h < nodes; h++) gamma[h] = total[h] > 0 ? backoff[h] / total[h] : 1;

    // Followers of each context, sorted by id: counting sort by id, then a stable one by context.
    const byId = new Int32Array(nodes - 1);
    {
      const at = new Int32Array(V + 1);
      for (let g = 1; g < nodes; g++) at[nodeId[g] + 1]++;
      for (let v = 0; v < V; v++) at[v + 1] += at[v];
      for (let g = 1; g < nodes; g++) byId[at[nodeId[g]]++] = g;
    }
    const start = new Int32Array(nodes + 1);
    for (let g = 1; g < nodes; g++) start[nodeCtx[g] + 1]++;
    for (let h = 0; h < nodes; h++) start[h + 1] += start[h];
    const fill = start.slice(0, nodes);
    const folId = new Int32Array(nodes - 1);
    const folShare = new Float64Array(nodes - 1);
    for (let j = 0; j < nodes - 1; j++) {
      const g = byId[j];
      const h = nodeCtx[g];
      const c = count[g];
      const d = discounts[nodeDepth[g] - 1];
      const at = fill[h]++;
      folId[at] = nodeId[g];
      folShare[at] = Math.max(c - (c === 1 ? d[0] : c === 2 ? d[1] : d[2]), 0) / total[h];
    }
    return new KneserNeyModel(order, V, { codePoints: sorted, children, gamma, start, folId, folShare, discounts });
  }

  /** The code point of id (ids 0..vocabSize−2 are the known code points; vocabSize−1 is "unknown"). */
  codePointOf(id: number): number {
    check(Number.isInteger(id) && id >= 0 && id < this.vocabSize - 1, `n-gram id ${id} is not a known code point (0..${this.vocabSize - 2})`);
    return this.codePoints[id];
  }

  /** The id of a code point, or the unknown id (vocabSize − 1). */
  idOf(cp: number): number {
    if (cp >= 0 && cp < 0x10000) return this.bmpIds[cp] - 1 >= 0 ? this.bmpIds[cp] - 1 : this.vocabSize - 1;
    return this.astral.get(cp) ?? this.vocabSize - 1;
  }

  /** The context nodes of `context`, shortest first, into this.path; returns how many (≥ 1: the empty context). */
  private walk(context: ArrayLike<number>): number {
    const path = this.path;
    let node = 0;
    let m = 1;
    path[0] = 0;
    const stop = Math.max(0, context.length - (this.order - 1));
    for (let j = context.length - 1; j >= stop; j--) {
      const id = this.idOf(context[j]);
      if (id === this.vocabSize - 1) break;
      const c = this.children.get(node, id);
      if (c < 0) break;
      path[m++] = node = c;
    }
    return m;
  }

  /** P(next | context) for every id into `out` (context: code points, most recent last; only the last order − 1 matter). */
  distribution(context: ArrayLike<number>, out: Float64Array | Float32Array): void {
    check(out.length >= this.vocabSize, `the n-gram distribution needs ${this.vocabSize} values, got an array of ${out.length}`);
    const m = this.walk(context);
    const { path, gamma, start, folId, folShare, acc } = this;
    const V = this.vocabSize;
    // Weight of each order: the product of the back-off weights of every higher order.
    const weights = this.weights;
    let weight = 1;
    for (let t = m - 1; t >= 0; t--) {
      weights[t] = weight;
      weight *= gamma[path[t]];
    }
    acc.fill(weight / V);
    for (let t = 0; t < m; t++) {
      const nd = path[t];
      const wt = weights[t];
      for (let f = start[nd], end = start[nd + 1]; f < end; f++) acc[folId[f]] += wt * folShare[f];
    }
    for (let v = 0; v < V; v++) out[v] = acc[v];
  }

  /** P(id | context) alone (a binary search per order instead of the whole distribution). */
  probability(context: ArrayLike<number>, id: number): number {
    check(Number.isInteger(id) && id >= 0 && id < this.vocabSize, `n-gram id ${id} is outside 0..${this.vocabSize - 1}`);
    return this.probabilityOf(this.walk(context), id);
  }

  private probabilityOf(m: number, id: number): number {
    const { path, gamma, start, folId, folShare } = this;
    let p = 1 / this.vocabSize;
    for (let t = 0; t < m; t++) {
      const nd = path[t];
      let share = 0;
      let lo = start[nd], hi = start[nd + 1] - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const v = folId[mid];
        if (v === id) {
          share = folShare[mid];
          break;
        }
        if (v < id) lo = mid + 1;
        else hi = mid - 1;
      }
      p = share + gamma[nd] * p;
    }
    return p;
  }

  /**
   * Bits per character of `text` (read from its start, each code point predicted from the ones before
   * it; an unknown code point costs −log2 of the unknown id's probability).
   */
  bitsPerChar(text: string): number {
    const cps = codePointsOf(text);
    if (cps.length === 0) return NaN;
    let bits = 0;
    const ctx = this.order - 1;
    for (let i = 0; i < cps.length; i++) {
      const m = this.walk(cps.subarray(Math.max(0, i - ctx), i));
      bits -= Math.log2(this.probabilityOf(m, this.idOf(cps[i])));
    }
    return bits / cps.length;
  }

  /** Memory held by the model's arrays, in bytes (for reports). */
  get bytes(): number {
    return this.children.bytes + this.gamma.byteLength + this.start.byteLength + this.folId.byteLength + this.folShare.byteLength + this.bmpIds.byteLength;
  }
}
