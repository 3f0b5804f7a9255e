// SKELETON (helper C replaces this file): the step models the decoder runs on.
import type { InferenceSession, InferenceState } from '../infer';
import type { Tokenizer } from '../tokenizer';
import type { KneserNeyModel } from './ngram';
import type { StepModel } from './types';

/** The LSTM/GRU/RNN session: probs = softmax of the state's logits; next = a copy fed one token. */
export function sessionStepModel(session: InferenceSession, tokenizer: Tokenizer): StepModel<InferenceState> {
  throw new Error(`not implemented: sessionStepModel(${session.vocabSize}, ${tokenizer.kind})`);
}

/** The n-gram's state: the code points read so far (only the last order − 1 matter). */
export interface NgramState {
  readonly context: readonly number[];
}

/** The n-gram alone (its own vocabulary: the code points it knows). */
export function ngramStepModel(ngram: KneserNeyModel): StepModel<NgramState> {
  throw new Error(`not implemented: ngramStepModel(${ngram.order})`);
}

export interface MixtureState {
  readonly lstm: InferenceState;
  readonly context: readonly number[];
}

/**
 * weight × the n-gram + (1 − weight) × the session, over the session's vocabulary (a char tokenizer's:
 * each token one code point; <unk> and nibbles get the session's share only).
 */
export function mixtureStepModel(session: InferenceSession, tokenizer: Tokenizer, ngram: KneserNeyModel, weight: number): StepModel<MixtureState> {
  throw new Error(`not implemented: mixtureStepModel(${session.vocabSize}, ${tokenizer.kind}, ${ngram.order}, ${weight})`);
}

/** The mixture's first state from the session's state and the code points of the text it read. */
export function mixtureState(lstm: InferenceState, textRead: string, order: number): MixtureState {
  throw new Error(`not implemented: mixtureState(${!!lstm}, ${textRead.length}, ${order})`);
}
