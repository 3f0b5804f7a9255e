// SKELETON (helper C replaces this file): greedy and beam decoding of a suggestion, with its stop rules.
import type { DecodeOptions, StepModel, Suggestion } from './types';

/**
 * Decodes a suggestion from `state`. `typed` are the WTF-8 bytes typed after the state's position and
 * before the cursor (a BPE chunk the cursor is in; empty for the char tokenizer): the decoded tokens must
 * reproduce them first, and the suggestion is what comes after them. `linePrefix` is the cursor's line
 * before the cursor (for the identifier and repetition rules). Returns null when nothing should be shown.
 * Throws CancelledError when isCancelled() turns true.
 */
export function decodeSuggestion<S>(model: StepModel<S>, state: S, typed: Uint8Array, linePrefix: string, opts: DecodeOptions, isCancelled?: () => boolean): Suggestion | null {
  throw new Error(`not implemented: decodeSuggestion(${model.vocabSize}, ${!!state}, ${typed.length}, ${linePrefix.length}, ${JSON.stringify(opts)}, ${!!isCancelled})`);
}
