// The types every part of the completion path shares: the decoder's options and answer, the step
// model it decodes from (the LSTM session, the n-gram, or their mixture), and the state cache's
// options. Plain TypeScript: no vscode or Node-only imports (it runs in the completion worker, the
// CLI's eval-completions and the tests alike).

/** Where a suggestion ends at the latest ('length': only at maxChars). */
export type StopAt = 'line' | 'identifier' | 'length';

export interface DecodeOptions {
  /**
   * 'line': before the end of the line (a suggestion never holds `\n` or `\r\n`); 'identifier': at the end
   * of the identifier the suggestion continues or begins (leading non-identifier characters kept);
   * 'length': only at maxChars. Every rule also stops at maxChars.
   */
  stopAt: StopAt;
  /** Longest suggestion, in UTF-16 code units. */
  maxChars: number;
  /** 1: greedy; more: beam search of this width by log-probability. */
  beamWidth: number;
  /** Nothing is suggested when the suggestion's mean per-token probability is below this (0..1). */
  minConfidence: number;
  /**
   * Stop on repetition: the suggestion is cut where it would repeat a run of this many characters that
   * the cursor's line before the cursor plus the suggestion already holds (0: off).
   */
  repeatChars: number;
  /**
   * Cut the suggestion to the length that maximises the expected keystrokes it saves (the probability
   * that its first j characters are right, times j − 1), so an unlikely tail is never shown.
   */
  trimToExpectedSaving: boolean;
}

export const DEFAULT_DECODE: DecodeOptions = {
  stopAt: 'line',
  maxChars: 80,
  beamWidth: 1,
  minConfidence: 0.35,
  repeatChars: 8,
  trimToExpectedSaving: true,
};

/** What the decoder suggests: text to insert at the cursor. */
export interface Suggestion {
  /** The text after the cursor (never empty; valid UTF-16: no lone surrogate, no U+FFFD from a cut byte sequence). */
  text: string;
  /** Mean per-token probability of the tokens that make the suggestion (0..1). */
  confidence: number;
  /** Tokens decoded for it (including tokens that only re-typed bytes before the cursor). */
  tokens: number;
}

/**
 * A next-token model the decoder steps through. States are values: next() returns a new state and
 * leaves its argument usable (beam search keeps several).
 */
export interface StepModel<S> {
  readonly vocabSize: number;
  /** Probabilities of the next token after `s` (vocabSize values summing to 1); valid until the next call to probs(). */
  probs(s: S): Float32Array;
  /** The state after `s` followed by token `id`. */
  next(s: S, id: number): S;
  /** The WTF-8 bytes of token `id`, or null for a token the decoder must never emit. */
  bytesOf(id: number): Uint8Array | null;
}

/** Thrown by a computation that saw its isCancelled() turn true; nothing it had computed is kept half-done. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError when `isCancelled` says so (the check every step of the completion path makes). */
export function throwIfCancelled(isCancelled: (() => boolean) | undefined): void {
  if (isCancelled && isCancelled()) throw new CancelledError();
}

/**
 * How much text the model reads before the cursor (see anchors.ts): from an anchor line at least
 * `minLines` lines above the cursor's line; anchors are chosen by winnowing line hashes over windows of
 * `windowLines` lines, so there is one at least every `windowLines` lines and an edit moves only the
 * anchors within `windowLines` lines of it.
 */
export interface ContextOptions {
  minLines: number;
  windowLines: number;
}

export const DEFAULT_CONTEXT: ContextOptions = { minLines: 16, windowLines: 16 };

export interface StateCacheOptions {
  /** A state is kept every this many tokens along each context chain (plus the newest one). */
  everyTokens: number;
  /** Memory bound for every kept state of every document together; least recently used chains go first. */
  maxBytes: number;
  context: ContextOptions;
}

/**
 * The n-gram's share when completions mix a character 7-gram of the training corpus into a char-tokenizer
 * model (the setting gatescope.completions.ngramWeight and eval-completions' --ngram-weight). Measured on
 * the held-out 5% of the fixed corpus with the CLI's 3-minute default model: keystrokes saved 24.5% by the
 * LSTM alone, 29.6% by the n-gram alone, 29.2% / 30.0% / 29.8% mixed at 0.5 / 0.7 / 0.85.
 */
export const DEFAULT_NGRAM_WEIGHT = 0.7;

export const DEFAULT_CACHE: StateCacheOptions = { everyTokens: 32, maxBytes: 64 * 1024 * 1024, context: DEFAULT_CONTEXT };
