// SKELETON (helper B replaces this file): recurrent states kept along each document's context chains.
import type { InferenceSession, InferenceState } from '../infer';
import type { Tokenizer } from '../tokenizer';
import type { StateCacheOptions } from './types';

export interface ReadState {
  /** The state after reading text[contextStart, offset) from zero (the caller may feed it further: it is a copy). */
  state: InferenceState;
  contextStart: number;
  offset: number;
  /** Tokens the model read to answer (0 when a kept state was exactly at offset). */
  tokensRead: number;
}

export interface KeptState {
  contextStart: number;
  offset: number;
  state: InferenceState;
}

export class StateCache {
  constructor(readonly session: InferenceSession, readonly tokenizer: Tokenizer, readonly opts: StateCacheOptions) {}

  /** The state after reading text[contextStart(text, offset), offset); `offset` is a readBoundary(). Throws CancelledError. */
  stateAt(doc: string, text: string, offset: number, isCancelled?: () => boolean): ReadState {
    throw new Error(`not implemented: stateAt(${doc}, ${text.length}, ${offset}, ${!!isCancelled})`);
  }

  /** Extends the chains of the anchors after contextStart(text, offset) up to offset (idle work). Throws CancelledError. */
  warm(doc: string, text: string, offset: number, isCancelled?: () => boolean): void {
    throw new Error(`not implemented: warm(${doc}, ${text.length}, ${offset}, ${!!isCancelled})`);
  }

  /** The text of `doc` changed from `offset` on: drop what was read from there (a hint; kept states are also checked against the text). */
  invalidate(doc: string, offset: number): void {
    throw new Error(`not implemented: invalidate(${doc}, ${offset})`);
  }

  dropDocument(doc: string): void {
    throw new Error(`not implemented: dropDocument(${doc})`);
  }

  clear(): void {
    throw new Error('not implemented: clear');
  }

  /** Bytes held by every kept state. */
  get bytes(): number {
    return 0;
  }

  /** Every state kept for `doc` (for tests). */
  keptStates(doc: string): KeptState[] {
    throw new Error(`not implemented: keptStates(${doc})`);
  }
}
