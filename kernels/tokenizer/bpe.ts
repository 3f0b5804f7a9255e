// Byte-level BPE tokenizer (GPT-2 style). Text becomes WTF-8 bytes (see utf8.ts), so any JS string,
// lone surrogates included, round-trips exactly. Ids 0..255 are the bytes; id 256 + k is the k-th merge
// learned. Before counting pairs, text is split into chunks (words, punctuation runs, whitespace runs,
// newline runs; see preTokenize) so merges never cross those boundaries. Training counts unique chunks,
// then learns merges with incremental pair-count updates and a lazy max-heap; encoding applies merges
// by rank within each chunk and caches chunk -> ids, because code repeats a lot.

import { check } from '../errors';
import type { TokenDecoder, Tokenizer } from './index';
import { describeValue as describe, invalidTokenizer as invalid } from './invalid';
import { Wtf8Decoder, codeUnitsToString, encodeWtf8, encodeWtf8Into, isContinuationByte, labelInvalid, MAX_BYTES_PER_CODE_UNIT } from './utf8';

export interface BpeTokenizerJSON {
  kind: 'bpe';
  version: 1;
  /** Merge k joins tokens [left, right] into token 256 + k; the 256 byte tokens are implicit. */
  merges: [number, number][];
}

export const BPE_MIN_VOCAB = 256;
export const BPE_MAX_VOCAB = 8192;
/** Largest total vocabulary a checkpoint may describe. */
const MAX_VOCAB_TOTAL = 65536;
/** Chunks are cut after this many code points, which bounds encoding work and token length. */
export const MAX_CHUNK_CODE_POINTS = 64;
/** No token can be longer than one chunk's bytes (4 bytes per code point at most). */
const MAX_TOKEN_BYTES = 4 * MAX_CHUNK_CODE_POINTS;
/** Pair (left, right) is keyed as left * PAIR_KEY + right; ids are below 65536. */
const PAIR_KEY = 65536;
/** The chunk -> ids cache is emptied when it reaches this many entries. */
const CACHE_LIMIT = 100_000;
const DEFAULT_MAX_TRAIN_CHARS = 2_000_000;

// ---------------------------------------------------------------------------------------------------
// Pre-tokenisation

const WORD = 0; // letters, marks, digits, underscore
const SPACE = 1; // whitespace other than \n and \r
const NEWLINE = 2; // \n and \r
const OTHER = 3; // everything else: punctuation, symbols, lone surrogates, ...

const ASCII_CLASS = new Uint8Array(128).map((_, c) => {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_]/.test(ch)) return WORD;
  if (ch === '\n' || ch === '\r') return NEWLINE;
  if (/\s/.test(ch)) return SPACE;
  return OTHER;
});
const WORD_RE = /^[\p{L}\p{M}\p{N}_]$/u;
const SPACE_RE = /^\s$/u;
const classCache = new Map<number, number>();

function classify(cp: number): number {
  if (cp < 128) return ASCII_CLASS[cp];
  let c = classCache.get(cp);
  if (c !== undefined) return c;
  if (cp >= 0xd800 && cp <= 0xdfff) {
    c = OTHER; // a lone surrogate
  } else {
    const s = String.fromCodePoint(cp);
    c = WORD_RE.test(s) ? WORD : SPACE_RE.test(s) ? SPACE : OTHER;
  }
  if (classCache.size < 65536) classCache.set(cp, c);
  return c;
}

/**
 * Splits `text` into chunks, calling `onChunk(start, end)` (UTF-16 offsets) for each, in order; the
 * chunks cover the text exactly. A chunk is one of: a run of word characters (letters, digits, `_`) or
 * a run of other non-space characters (punctuation such as `=>` or `);`), either with an optional single
 * leading space; a run of newlines (`\n`, `\r`); or a run of other whitespace, which leaves its last
 * space to the word or punctuation after it (GPT-2 style: "   x" is "  " + " x"). Runs longer than
 * MAX_CHUNK_CODE_POINTS code points are cut into several chunks.
 */
export function preTokenize(text: string, onChunk: (start: number, end: number) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const start = i;
    let cp = text.codePointAt(i)!;
    let cls = classify(cp);
    let count = 0;
    if (cp === 0x20 && i + 1 < n) {
      const next = text.codePointAt(i + 1)!;
      const nextCls = classify(next);
      if (nextCls === WORD || nextCls === OTHER) {
        i++;
        count = 1;
        cp = next;
        cls = nextCls;
      }
    }
    let last = i;
    while (i < n && count < MAX_CHUNK_CODE_POINTS) {
      const c = text.codePointAt(i)!;
      if (classify(c) !== cls) break;
      last = i;
      i += c > 0xffff ? 2 : 1;
      count++;
    }
    if (cls === SPACE && count > 1 && i < n && text.charCodeAt(last) === 0x20) {
      const nextCls = classify(text.codePointAt(i)!);
      if (nextCls === WORD || nextCls === OTHER) i = last; // the last space goes with what follows
    }
    onChunk(start, i);
  }
}

// ---------------------------------------------------------------------------------------------------
// Tokenizer

class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const;
  readonly vocabSize: number;
  /** Flat [left0, right0, left1, right1, ...]. */
  private readonly merges: Int32Array;
  /** Pair key -> merge rank. */
  private readonly ranks = new Map<number, number>();
  private readonly tokenBytes: Uint8Array[] = [];
  private readonly charCounts: Uint16Array;
  private readonly cache = new Map<string, Int32Array>();
  private scratch = new Uint8Array(4 * MAX_CHUNK_CODE_POINTS);

  /** `merges` must be valid (callers validate): each refers only to earlier ids, no duplicates. */
  constructor(merges: Int32Array) {
    this.merges = merges;
    const m = merges.length >> 1;
    this.vocabSize = 256 + m;
    this.charCounts = new Uint16Array(this.vocabSize);
    for (let b = 0; b < 256; b++) {
      this.tokenBytes.push(Uint8Array.of(b));
      this.charCounts[b] = isContinuationByte(b) ? 0 : 1;
    }
    for (let k = 0; k < m; k++) {
      const a = merges[2 * k];
      const b = merges[2 * k + 1];
      const ba = this.tokenBytes[a];
      const bb = this.tokenBytes[b];
      const bytes = new Uint8Array(ba.length + bb.length);
      bytes.set(ba, 0);
      bytes.set(bb, ba.length);
      this.tokenBytes.push(bytes);
      this.charCounts[256 + k] = this.charCounts[a] + this.charCounts[b];
      this.ranks.set(a * PAIR_KEY + b, k);
    }
  }

  encode(text: string): Int32Array {
    let out = new Int32Array(Math.max(64, text.length >> 1));
    let n = 0;
    preTokenize(text, (start, end) => {
      const chunk = text.slice(start, end);
      let ids = this.cache.get(chunk);
      if (ids === undefined) {
        ids = this.encodeChunk(chunk);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(chunk, ids);
      }
      if (n + ids.length > out.length) {
        const bigger = new Int32Array(Math.max(out.length * 2, n + ids.length));
        bigger.set(out.subarray(0, n));
        out = bigger;
      }
      out.set(ids, n);
      n += ids.length;
    });
    return out.slice(0, n);
  }

  /** Standard BPE on one chunk: repeatedly merge every occurrence of the lowest-rank adjacent pair. */
  private encodeChunk(chunk: string): Int32Array {
    const need = chunk.length * MAX_BYTES_PER_CODE_UNIT;
    if (this.scratch.length < need) this.scratch = new Uint8Array(need);
    const len = encodeWtf8Into(chunk, this.scratch, 0);
    const ids: number[] = Array.from(this.scratch.subarray(0, len));
    const ranks = this.ranks;
    while (ids.length >= 2) {
      let best = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = ranks.get(ids[i] * PAIR_KEY + ids[i + 1]);
        if (r !== undefined && (best < 0 || r < best)) best = r;
      }
      if (best < 0) break;
      const a = this.merges[2 * best];
      const b = this.merges[2 * best + 1];
      const z = 256 + best;
      let w = 0;
      for (let i = 0; i < ids.length; ) {
        if (ids[i] === a && i + 1 < ids.length && ids[i + 1] === b) {
          ids[w++] = z;
          i += 2;
        } else {
          ids[w++] = ids[i++];
        }
      }
      ids.length = w;
    }
    return Int32Array.from(ids);
  }

  decode(ids: ArrayLike<number>): string {
    const dec = new Wtf8Decoder();
    const out: number[] = [];
    for (let i = 0; i < ids.length; i++) this.decodeInto(dec, ids[i], out);
    dec.end(out);
    return codeUnitsToString(out);
  }

  private decodeInto(dec: Wtf8Decoder, id: number, out: number[]): void {
    if (Number.isInteger(id) && id >= 0 && id < this.vocabSize) {
      dec.write(this.tokenBytes[id], out);
    } else {
      dec.end(out); // an out-of-range id ends any pending character...
      out.push(0xfffd); // ...and decodes to U+FFFD
    }
  }

  charCount(id: number): number {
    this.checkId(id);
    return this.charCounts[id];
  }

  bytesOf(id: number): Uint8Array | null {
    check(Number.isInteger(id) && id >= 0 && id < this.vocabSize, `token id ${id} is out of range 0..${this.vocabSize - 1}`);
    return this.tokenBytes[id];
  }

  tokenLabel(id: number): string {
    this.checkId(id);
    const dec = new Wtf8Decoder(labelInvalid);
    const out: number[] = [];
    dec.write(this.tokenBytes[id], out);
    dec.end(out);
    return codeUnitsToString(out);
  }

  createDecoder(): TokenDecoder {
    const dec = new Wtf8Decoder();
    return {
      push: (id: number): string => {
        const out: number[] = [];
        this.decodeInto(dec, id, out);
        return codeUnitsToString(out);
      },
      flush: (): string => {
        const out: number[] = [];
        dec.end(out);
        return codeUnitsToString(out);
      },
    };
  }

  toJSON(): BpeTokenizerJSON {
    const merges: [number, number][] = [];
    for (let k = 0; k < this.merges.length; k += 2) merges.push([this.merges[k], this.merges[k + 1]]);
    return { kind: 'bpe', version: 1, merges };
  }

  private checkId(id: number): void {
    check(Number.isInteger(id) && id >= 0 && id < this.vocabSize, () =>
      `token id ${id} is out of range for a BPE tokenizer with ${this.vocabSize} tokens`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Training

/** Max-heap of (count, pair key): highest count first, then smallest key (smallest (left, right)). */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];
  topCount = 0;
  topKey = 0;

  get size(): number {
    return this.counts.length;
  }

  private before(i: number, j: number): boolean {
    const ci = this.counts[i];
    const cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i];
    this.counts[i] = this.counts[j];
    this.counts[j] = c;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Removes the best entry into topCount/topKey. The heap must not be empty. */
  pop(): void {
    this.topCount = this.counts[0];
    this.topKey = this.keys[0];
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    const n = this.counts.length;
    if (n === 0) return;
    this.counts[0] = lastCount;
    this.keys[0] = lastKey;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(r, l) ? r : l;
      if (!this.before(c, i)) break;
      this.swap(i, c);
      i = c;
    }
  }
}

/**
 * Learns a byte-level BPE vocabulary of (at most) `vocabSize` tokens, 256..8192, from the first
 * `maxTrainChars` (default 2,000,000) UTF-16 code units of `text`. Training stops early when no pair
 * of adjacent tokens occurs at least twice, so the resulting `vocabSize` may come out SMALLER than
 * asked. Deterministic: ties go to the smallest (left id, right id).
 */
export function trainBpeTokenizer(text: string, vocabSize: number, opts: { maxTrainChars?: number } = {}): Tokenizer {
  check(typeof text === 'string', 'training text for the BPE tokenizer must be a string');
  check(Number.isInteger(vocabSize) && vocabSize >= BPE_MIN_VOCAB && vocabSize <= BPE_MAX_VOCAB, () =>
    `BPE vocabulary size must be an integer from ${BPE_MIN_VOCAB} to ${BPE_MAX_VOCAB}, got ${vocabSize}`,
  );
  const maxTrainChars = opts.maxTrainChars ?? DEFAULT_MAX_TRAIN_CHARS;
  check(Number.isInteger(maxTrainChars) && maxTrainChars >= 1, () =>
    `maxTrainChars must be a positive integer, got ${maxTrainChars}`,
  );
  if (text.length > maxTrainChars) {
    let end = maxTrainChars;
    const c = text.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--; // do not split a surrogate pair
    text = text.slice(0, end);
  }

  // Unique chunks and their frequencies.
  const chunkFreq = new Map<string, number>();
  preTokenize(text, (start, end) => {
    const chunk = text.slice(start, end);
    chunkFreq.set(chunk, (chunkFreq.get(chunk) ?? 0) + 1);
  });
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [chunk, f] of chunkFreq) {
    const bytes = encodeWtf8(chunk);
    if (bytes.length < 2) continue; // no pairs, nothing to learn from
    words.push(Array.from(bytes));
    freqs.push(f);
  }

  // Pair counts, and for each pair the chunks that (may) contain it.
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    const f = freqs[k];
    for (let i = 0; i + 1 < w.length; i++) {
      const key = w[i] * PAIR_KEY + w[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + f);
      let s = where.get(key);
      if (s === undefined) where.set(key, (s = new Set()));
      s.add(k);
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: number[] = [];
  const target = vocabSize - 256;
  const delta = new Map<number, number>();
  while (merges.length / 2 < target && heap.size > 0) {
    heap.pop();
    const c = heap.topCount;
    const key = heap.topKey;
    const cur = pairCount.get(key) ?? 0;
    if (cur !== c) {
      // Stale entry. A larger current count was pushed when it grew; a smaller one was not.
      if (cur > 0 && cur < c) heap.push(cur, key);
      continue;
    }
    if (c < 2) break;
    const a = Math.floor(key / PAIR_KEY);
    const b = key % PAIR_KEY;
    const z = 256 + merges.length / 2;
    merges.push(a, b);
    const chunks = where.get(key) ?? new Set<number>();
    where.delete(key);
    pairCount.delete(key); // every occurrence is merged below

    for (const k of chunks) {
      const w = words[k];
      let found = false;
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] === a && w[i + 1] === b) {
          found = true;
          break;
        }
      }
      if (!found) continue; // the set is not pruned when a chunk loses a pair
      const nw: number[] = [];
      for (let i = 0; i < w.length; ) {
        if (w[i] === a && i + 1 < w.length && w[i + 1] === b) {
          nw.push(z);
          i += 2;
        } else {
          nw.push(w[i++]);
        }
      }
      words[k] = nw;
      const f = freqs[k];
      delta.clear();
      for (let i = 0; i + 1 < w.length; i++) {
        const p = w[i] * PAIR_KEY + w[i + 1];
        delta.set(p, (delta.get(p) ?? 0) - f);
      }
      for (let i = 0; i + 1 < nw.length; i++) {
        const p = nw[i] * PAIR_KEY + nw[i + 1];
        delta.set(p, (delta.get(p) ?? 0) + f);
        if (nw[i] === z || nw[i + 1] === z) {
          let s = where.get(p);
          if (s === undefined) where.set(p, (s = new Set()));
          s.add(k);
        }
      }
      delta.forEach((d, p) => {
        if (d === 0 || p === key) return;
        const nc = (pairCount.get(p) ?? 0) + d;
        if (nc > 0) pairCount.set(p, nc);
        else pairCount.delete(p);
        if (d > 0) heap.push(nc, p);
      });
    }
  }
  return new BpeTokenizer(Int32Array.from(merges));
}

// ---------------------------------------------------------------------------------------------------
// Serialisation

/** Rebuilds a BPE tokenizer from its JSON (kind already checked); validates everything. */
export function bpeTokenizerFromJSON(obj: Record<string, unknown>): Tokenizer {
  if (obj.version !== 1) throw invalid(`unsupported BPE tokenizer version ${describe(obj.version)} (expected 1)`);
  const merges = obj.merges;
  if (!Array.isArray(merges)) throw invalid('"merges" must be an array of [left, right] token id pairs');
  const max = MAX_VOCAB_TOTAL - 256;
  if (merges.length > max) throw invalid(`"merges" has ${merges.length} entries, more than the limit of ${max}`);
  const flat = new Int32Array(2 * merges.length);
  const lengths: number[] = new Array<number>(256).fill(1);
  const seen = new Map<number, number>();
  for (let k = 0; k < merges.length; k++) {
    const m: unknown = merges[k];
    if (!Array.isArray(m) || m.length !== 2) throw invalid(`merges[${k}] must be a pair [left, right]`);
    const defined = 256 + k;
    for (let j = 0; j < 2; j++) {
      const id: unknown = m[j];
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw invalid(`merges[${k}][${j}] must be an integer token id, got ${describe(id)}`);
      }
      if (id < 0 || id >= defined) {
        throw invalid(`merges[${k}] refers to token ${id}, but only tokens 0..${defined - 1} exist before it`);
      }
    }
    const a = m[0] as number;
    const b = m[1] as number;
    const key = a * PAIR_KEY + b;
    const prev = seen.get(key);
    if (prev !== undefined) throw invalid(`merges[${k}] repeats the pair [${a}, ${b}] of merges[${prev}]`);
    seen.set(key, k);
    const len = lengths[a] + lengths[b];
    if (len > MAX_TOKEN_BYTES) throw invalid(`merges[${k}] makes a token of ${len} bytes, more than the limit of ${MAX_TOKEN_BYTES}`);
    lengths.push(len);
    flat[2 * k] = a;
    flat[2 * k + 1] = b;
  }
  return new BpeTokenizer(flat);
}
