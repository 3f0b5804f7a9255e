// SKELETON (helper B replaces this file): where the model's context starts, and where it may stop reading.
import type { Tokenizer } from '../tokenizer';
import type { ContextOptions } from './types';

/**
 * The offset (UTF-16) the model starts reading from, from a zero state, to complete at `offset` in `text`:
 * the last anchor line start at or before the start of the line `opts.minLines` lines above the line of
 * `offset` (0 when there is none). A pure function of the text before `offset`.
 */
export function contextStart(text: string, offset: number, opts: ContextOptions): number {
  throw new Error(`not implemented: contextStart(${text.length}, ${offset}, ${JSON.stringify(opts)})`);
}

/** Every anchor line start in [from, to] (for warming the chains the cursor will need as it moves down). */
export function anchorsBetween(text: string, from: number, to: number, opts: ContextOptions): number[] {
  throw new Error(`not implemented: anchorsBetween(${text.length}, ${from}, ${to}, ${JSON.stringify(opts)})`);
}

/**
 * The offset up to which the model reads `text` (which ends at the cursor) when completing at its end:
 * the cursor itself for the char tokenizer; for BPE the start of the pre-tokenizer chunk the cursor is
 * in, so that no token straddles it (the typed bytes after it are decoded as a forced prefix).
 */
export function readBoundary(tokenizer: Tokenizer, text: string, contextStartOffset: number): number {
  throw new Error(`not implemented: readBoundary(${tokenizer.kind}, ${text.length}, ${contextStartOffset})`);
}
