// Character tokenizer: one token per Unicode code point (emoji and other astral characters are ONE
// token; a lone UTF-16 surrogate is one token too). The vocabulary is the training corpus's most frequent
// code points, in code point order. A code point outside the vocabulary is written as <unk> followed by
// exactly 6 "nibble" tokens giving it in hex (most significant first), so every string round-trips.
//   id 0        <unk>
//   ids 1..16   nibbles 0..f
//   ids 17..    the vocabulary's characters, sorted by code point

import { check } from '../errors';
import type { TokenDecoder, Tokenizer } from './index';
import { describeValue as describe, invalidTokenizer as invalid } from './invalid';
import { encodeWtf8 } from './utf8';

export interface CharTokenizerJSON {
  kind: 'char';
  version: 1;
  /** The vocabulary's characters in id order (id = 17 + index); each string is one code point. */
  chars: string[];
}

export const CHAR_UNK = 0;
export const CHAR_NIBBLE0 = 1;
export const CHAR_FIRST = 17;
const NIBBLES = 6;
const REPLACEMENT = '\uFFFD';
/** Largest total vocabulary (specials included) a checkpoint may describe. */
const MAX_VOCAB_TOTAL = 65536;

function isNibble(id: number): boolean {
  return id >= CHAR_NIBBLE0 && id < CHAR_NIBBLE0 + 16 && Number.isInteger(id);
}

class CharTokenizer implements Tokenizer {
  readonly kind = 'char' as const;
  readonly vocabSize: number;
  private readonly chars: string[];
  private readonly ascii = new Int32Array(128).fill(-1);
  private readonly idOf = new Map<number, number>();
  private readonly bytes: (Uint8Array | undefined)[] = [];

  /** `codePoints` in id order (id = CHAR_FIRST + index); must be distinct (callers validate). */
  constructor(codePoints: readonly number[]) {
    this.chars = codePoints.map((cp) => String.fromCodePoint(cp));
    this.vocabSize = CHAR_FIRST + codePoints.length;
    codePoints.forEach((cp, i) => {
      if (cp < 128) this.ascii[cp] = CHAR_FIRST + i;
      else this.idOf.set(cp, CHAR_FIRST + i);
    });
  }

  encode(text: string): Int32Array {
    const out: number[] = [];
    const n = text.length;
    for (let i = 0; i < n; ) {
      const cp = text.codePointAt(i)!; // a lone surrogate comes back as itself
      i += cp > 0xffff ? 2 : 1;
      const id = cp < 128 ? this.ascii[cp] : this.idOf.get(cp) ?? -1;
      if (id >= 0) {
        out.push(id);
      } else {
        out.push(CHAR_UNK);
        for (let k = NIBBLES - 1; k >= 0; k--) out.push(CHAR_NIBBLE0 + ((cp >> (4 * k)) & 0xf));
      }
    }
    return Int32Array.from(out);
  }

  decode(ids: ArrayLike<number>): string {
    const dec = this.createDecoder();
    const parts: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const s = dec.push(ids[i]);
      if (s) parts.push(s);
    }
    parts.push(dec.flush());
    return parts.join('');
  }

  charCount(id: number): number {
    this.checkId(id);
    return isNibble(id) ? 0 : 1;
  }

  bytesOf(id: number): Uint8Array | null {
    this.checkId(id);
    if (id < CHAR_FIRST) return null;
    let b = this.bytes[id - CHAR_FIRST];
    if (!b) b = this.bytes[id - CHAR_FIRST] = encodeWtf8(this.chars[id - CHAR_FIRST]);
    return b;
  }

  tokenLabel(id: number): string {
    this.checkId(id);
    if (id === CHAR_UNK) return '<unk>';
    if (isNibble(id)) return `<unk:${(id - CHAR_NIBBLE0).toString(16)}>`;
    return this.chars[id - CHAR_FIRST];
  }

  createDecoder(): TokenDecoder {
    // State machine shared by decode(): -1 = not in an escape, else the number of nibbles collected.
    let collected = -1;
    let value = 0;
    const chars = this.chars;
    const vocabSize = this.vocabSize;
    return {
      push(id: number): string {
        let prefix = '';
        if (collected >= 0) {
          if (isNibble(id)) {
            value = value * 16 + (id - CHAR_NIBBLE0);
            if (++collected < NIBBLES) return '';
            collected = -1;
            return value <= 0x10ffff ? String.fromCodePoint(value) : REPLACEMENT;
          }
          prefix = REPLACEMENT; // <unk> cut short by a non-nibble token
          collected = -1;
        }
        if (id === CHAR_UNK) {
          collected = 0;
          value = 0;
          return prefix;
        }
        if (isNibble(id)) return prefix; // stray nibble: nothing
        if (Number.isInteger(id) && id >= CHAR_FIRST && id < vocabSize) return prefix + chars[id - CHAR_FIRST];
        return prefix + REPLACEMENT; // out-of-range id
      },
      flush(): string {
        if (collected < 0) return '';
        collected = -1;
        return REPLACEMENT;
      },
    };
  }

  toJSON(): CharTokenizerJSON {
    return { kind: 'char', version: 1, chars: this.chars.slice() };
  }

  private checkId(id: number): void {
    check(Number.isInteger(id) && id >= 0 && id < this.vocabSize, () =>
      `token id ${id} is out of range for a character tokenizer with ${this.vocabSize} tokens`,
    );
  }
}

/**
 * Learns a character vocabulary from `text`: its distinct code points, or, if there are more than
 * `maxVocab` (default 256; the 17 special tokens come on top), the `maxVocab` most frequent ones (ties
 * go to the smaller code point). Ids follow code point order, so the same corpus always gives the same ids.
 */
export function trainCharTokenizer(text: string, opts: { maxVocab?: number } = {}): Tokenizer {
  check(typeof text === 'string', 'training text for the character tokenizer must be a string');
  const maxVocab = opts.maxVocab ?? 256;
  check(Number.isInteger(maxVocab) && maxVocab >= 1 && maxVocab <= MAX_VOCAB_TOTAL - CHAR_FIRST, () =>
    `character vocabulary size must be an integer from 1 to ${MAX_VOCAB_TOTAL - CHAR_FIRST}, got ${maxVocab}`,
  );
  const ascii = new Float64Array(128);
  const other = new Map<number, number>();
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    if (cp < 128) ascii[cp]++;
    else other.set(cp, (other.get(cp) ?? 0) + 1);
  }
  const counts: [number, number][] = [];
  for (let cp = 0; cp < 128; cp++) if (ascii[cp] > 0) counts.push([cp, ascii[cp]]);
  for (const e of other) counts.push(e);
  counts.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const kept = counts.slice(0, maxVocab).map((e) => e[0]);
  kept.sort((a, b) => a - b);
  return new CharTokenizer(kept);
}

function hex(cp: number): string {
  return 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
}

/** Rebuilds a character tokenizer from its JSON (kind already checked); validates everything. */
export function charTokenizerFromJSON(obj: Record<string, unknown>): Tokenizer {
  if (obj.version !== 1) {
    throw invalid(`unsupported character tokenizer version ${describe(obj.version)} (expected 1)`);
  }
  const chars = obj.chars;
  if (!Array.isArray(chars)) throw invalid('"chars" must be an array of one-character strings');
  const max = MAX_VOCAB_TOTAL - CHAR_FIRST;
  if (chars.length > max) throw invalid(`"chars" has ${chars.length} entries, more than the limit of ${max}`);
  const seen = new Map<number, number>();
  const codePoints: number[] = [];
  for (let i = 0; i < chars.length; i++) {
    const s: unknown = chars[i];
    if (typeof s !== 'string') throw invalid(`chars[${i}] must be a string, got ${s === null ? 'null' : typeof s}`);
    const cp = s.codePointAt(0);
    const units = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (cp === undefined || s.length !== units) {
      throw invalid(`chars[${i}] must be exactly one character, got a string of length ${s.length}`);
    }
    const prev = seen.get(cp);
    if (prev !== undefined) throw invalid(`chars[${i}] repeats character ${hex(cp)} from chars[${prev}]`);
    seen.set(cp, i);
    codePoints.push(cp);
  }
  return new CharTokenizer(codePoints);
}
