// Tokenizers: the common interface, checkpoint (de)serialisation and the two trainers. A tokenizer maps
// text to token ids for the language models and back, and must round-trip ANY JS string exactly (lone
// surrogates included). Two kinds: 'char' (one token per Unicode code point, with an escape for unknown
// characters; see char.ts) and 'bpe' (byte-level BPE over WTF-8 bytes; see bpe.ts).
// Plain TypeScript: no vscode or Node-only imports, so it also runs in a browser.

import { CharTokenizerJSON, charTokenizerFromJSON, trainCharTokenizer } from './char';
import { BpeTokenizerJSON, bpeTokenizerFromJSON, trainBpeTokenizer } from './bpe';
import { invalidTokenizer } from './invalid';

/** Incremental decoder: push token ids one at a time, get the text they complete. */
export interface TokenDecoder {
  /** Returns the newly completed text (may be '' while a character is still incomplete). */
  push(id: number): string;
  /** Returns whatever is pending (incomplete bytes or escapes as U+FFFD) and resets the decoder. */
  flush(): string;
}

export interface Tokenizer {
  readonly kind: 'char' | 'bpe';
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  /** Never throws: malformed sequences and out-of-range ids decode to U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /**
   * How many characters (Unicode code points) token `id` adds to decoded text, for bits-per-character.
   * Summing it over encode(s) gives exactly the number of code points of s ([...s].length).
   */
  charCount(id: number): number;
  /**
   * A short human-readable label for the token: its raw text, or "<0xE2>" for bytes that are not a
   * whole character, "<unk>"/"<unk:3>" for the char tokenizer's escape tokens.
   */
  tokenLabel(id: number): string;
  /**
   * The WTF-8 bytes token `id` stands for (do not modify them), or null for a token that is not text by
   * itself (the char tokenizer's <unk> escape and its nibbles). Decoding ids gives the text of their
   * bytes concatenated; a completion decoder uses this to continue typed text byte for byte.
   */
  bytesOf(id: number): Uint8Array | null;
  /** A fresh incremental decoder; the concatenated output equals decode() of the same ids. */
  createDecoder(): TokenDecoder;
  /** Plain JSON-serialisable description; tokenizerFromJSON() rebuilds the same tokenizer (same ids). */
  toJSON(): TokenizerJSON;
}

export type TokenizerJSON = CharTokenizerJSON | BpeTokenizerJSON;
export type { CharTokenizerJSON, BpeTokenizerJSON };

export { trainCharTokenizer, trainBpeTokenizer };
export { preTokenize } from './bpe';

/**
 * Rebuilds a tokenizer from toJSON() output, e.g. read from a checkpoint. Validates everything and
 * throws GateScopeError("tokenizer in checkpoint is invalid: ...") on bad input.
 */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const what = json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json;
    throw invalidTokenizer(`expected an object, got ${what}`);
  }
  const obj = json as Record<string, unknown>;
  const kind = obj.kind;
  if (kind === 'char') return charTokenizerFromJSON(obj);
  if (kind === 'bpe') return bpeTokenizerFromJSON(obj);
  const shown = typeof kind === 'string' ? JSON.stringify(kind.slice(0, 40)) : typeof kind;
  throw invalidTokenizer(`unknown kind ${shown} (expected "char" or "bpe")`);
}
