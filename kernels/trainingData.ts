// From text to training batches, the one data pipeline every job uses (CLI, benchmark, extension,
// training session): the train/validation split, the tokenizer, the token streams with their
// characters-per-token table, and the batching of a token stream into contiguous windows.
//
// Batching is truncated BPTT as char-rnn does it: the token stream is cut into B contiguous
// streams, one per batch row; consecutive windows of T tokens follow each other along every stream,
// so the recurrent state carried from one window to the next is the state of the text just before.
//
//   N tokens, B streams, L = floor((N-1)/B); stream b starts at token b*L;
//   window w: x[t][b] = tok[b*L + w*T + t], y[t][b] = tok[b*L + w*T + t + 1]  (time-major [T*B]).

import { check } from './errors';
import { Tokenizer, trainBpeTokenizer, trainCharTokenizer } from './tokenizer';

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

/** Trains the tokenizer on the training text only. */
export function buildTokenizer(trainText: string, opts: TokenizerOptions): Tokenizer {
  if (opts.kind === 'bpe') return trainBpeTokenizer(trainText, opts.vocabSize ?? 2048);
  return trainCharTokenizer(trainText, opts.vocabSize ? { maxVocab: opts.vocabSize } : undefined);
}

/** Characters each token id contributes to the text (for bits per character). */
export type CharsPerToken = ArrayLike<number>;

export function charsPerTokenTable(vocabSize: number, charCount: (id: number) => number): Float64Array {
  const t = new Float64Array(vocabSize);
  for (let i = 0; i < vocabSize; i++) t[i] = charCount(i);
  return t;
}

/** Characters the tokens `y` stand for. */
export function countChars(y: Int32Array, table: CharsPerToken): number {
  let n = 0;
  for (let i = 0; i < y.length; i++) n += table[y[i]];
  return n;
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

/** Checks that a token stream is long enough to train with this batch and sequence length. */
export function checkTrainable(tokens: number, batchSize: number, seqLen: number): void {
  const needed = batchSize * seqLen + 1;
  check(tokens >= needed, () =>
    `the training text is too short: ${tokens} tokens, but batch ${batchSize} × sequence length ${seqLen} needs at least ${needed}; add more files or lower the batch size or sequence length`);
}

/** Cuts a token stream into B contiguous streams and serves consecutive windows of T along them. */
export class StreamBatcher {
  readonly streamLength: number;
  /** Full windows of T per pass over the data. */
  readonly windowsPerEpoch: number;
  /** Length of the partial window after the full ones (0 if none). */
  readonly tailLength: number;

  constructor(readonly tokens: Int32Array, readonly batchSize: number, readonly seqLen: number) {
    this.streamLength = Math.floor((tokens.length - 1) / batchSize);
    this.windowsPerEpoch = Math.floor(this.streamLength / seqLen);
    this.tailLength = this.streamLength - this.windowsPerEpoch * seqLen;
  }

  /** Fills x and y (length T*B) with window w; T defaults to the sequence length. */
  fill(w: number, x: Int32Array, y: Int32Array, T = this.seqLen): void {
    const B = this.batchSize;
    const L = this.streamLength;
    const start = w * this.seqLen;
    if (start + T > L) throw new Error(`window ${w} of length ${T} runs past the stream (${L})`);
    for (let b = 0; b < B; b++) {
      const base = b * L + start;
      for (let t = 0; t < T; t++) {
        x[t * B + b] = this.tokens[base + t];
        y[t * B + b] = this.tokens[base + t + 1];
      }
    }
  }
}
