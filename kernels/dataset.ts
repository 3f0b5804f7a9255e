// From text to training data: the train/validation split, the tokenizer and the token streams.
// Shared by the CLI, the benchmark and the extension, so all of them split and tokenize alike.

import { check } from './errors';
import { Tokenizer, trainBpeTokenizer, trainCharTokenizer } from './tokenizer';
import { charsPerTokenTable } from './train';

export type TokenizerKind = 'char' | 'bpe';

export interface TokenizerOptions {
  kind: TokenizerKind;
  /** BPE vocabulary size (256..8192) or the char tokenizer's cap on distinct characters. */
  vocabSize?: number;
}

/**
 * Splits text into training and held-out validation text: the last `fraction` of the characters is
 * validation (cut at a code point boundary). Validation text never trains.
 */
export function splitTrainVal(text: string, fraction: number): { train: string; val: string } {
  check(fraction >= 0 && fraction < 1, `validation fraction must be at least 0 and below 1, got ${fraction}`);
  let cut = Math.floor(text.length * (1 - fraction));
  // Do not split a surrogate pair.
  if (cut > 0 && cut < text.length) {
    const c = text.charCodeAt(cut);
    if (c >= 0xdc00 && c <= 0xdfff && (text.charCodeAt(cut - 1) & 0xfc00) === 0xd800) cut--;
  }
  return { train: text.slice(0, cut), val: text.slice(cut) };
}

export function buildTokenizer(trainText: string, opts: TokenizerOptions): Tokenizer {
  if (opts.kind === 'bpe') return trainBpeTokenizer(trainText, opts.vocabSize ?? 2048);
  return trainCharTokenizer(trainText, opts.vocabSize ? { maxVocab: opts.vocabSize } : undefined);
}

export interface TokenData {
  train: Int32Array;
  val: Int32Array;
  /** Characters per token id, for bits per character. */
  chars: Float64Array;
}

export function tokenize(tokenizer: Tokenizer, split: { train: string; val: string }): TokenData {
  return {
    train: tokenizer.encode(split.train),
    val: tokenizer.encode(split.val),
    chars: charsPerTokenTable(tokenizer.vocabSize, (id) => tokenizer.charCount(id)),
  };
}
