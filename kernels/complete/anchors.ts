// Where the completion model's context starts, and where it stops reading. To complete at a cursor the
// model reads a BOUNDED context from a zero state: from an anchor line start at least `minLines` lines
// above the cursor's line. Anchors are line starts chosen by winnowing line hashes (Schleimer et al.
// 2003): in every window of `windowLines` consecutive lines, the line with the smallest hash of its text
// is an anchor (the rightmost one on ties), and offset 0 is one too. So there is an anchor at least every
// `windowLines` lines, and an edit moves only the anchors within `windowLines` lines of it: the state
// cache's chains (stateCache.ts), one per anchor, survive edits elsewhere and are found again by their
// text. Only lines ended by '\n' take part in windows (a '\r' before it belongs to the line's text), so
// the anchors of a text are a subset of the anchors of any text that extends it, and contextStart is a
// function of the text before the cursor alone. Everything here reads only the few dozen lines around
// the offsets asked about, never the whole document. Plain TypeScript (runs in the completion worker).

import type { Tokenizer } from '../tokenizer';
import { preTokenize } from '../tokenizer/bpe';
import type { ContextOptions } from './types';

/** A 32-bit hash of text[start, end) (FNV-1a over UTF-16 code units, then an avalanche). */
export function lineHash(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkOptions(opts: ContextOptions): void {
  const ok = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!ok(opts.minLines, 0) || !ok(opts.windowLines, 1)) {
    throw new Error(`context options need whole numbers minLines >= 0 and windowLines >= 1, got ${JSON.stringify(opts)}`);
  }
}

/**
 * Marks the winnowed positions of `hashes`: index j is marked when it holds the minimum (the rightmost
 * on ties) of some full window [k, k + w) inside the array.
 */
function winnow(hashes: ArrayLike<number>, w: number): Uint8Array {
  const n = hashes.length;
  const marked = new Uint8Array(n);
  for (let k = 0; k + w <= n; k++) {
    let best = k;
    for (let j = k + 1; j < k + w; j++) if (hashes[j] <= hashes[best]) best = j;
    marked[best] = 1;
  }
  return marked;
}

/** The start of the line before the one starting at `lineStart` (> 0). */
function previousLineStart(text: string, lineStart: number): number {
  return lineStart < 2 ? 0 : text.lastIndexOf('\n', lineStart - 2) + 1;
}

/**
 * The complete lines (ended by '\n' before `limit`) from the one starting at `lineStartAt` back `before`
 * lines and forward `after` lines: their starts and hashes.
 */
function linesAround(text: string, lineStartAt: number, before: number, after: number, limit: number): { starts: number[]; hashes: number[] } {
  const starts: number[] = [];
  let s = lineStartAt;
  for (let k = 0; k < before && s > 0; k++) {
    s = previousLineStart(text, s);
    starts.push(s);
  }
  starts.reverse();
  s = lineStartAt;
  for (let k = 0; k <= after; k++) {
    const eol = text.indexOf('\n', s);
    if (eol < 0 || eol >= limit) break;
    starts.push(s);
    s = eol + 1;
  }
  const hashes = starts.map((st) => lineHash(text, st, text.indexOf('\n', st)));
  return { starts, hashes };
}

/**
 * The offset (UTF-16) the model starts reading from, from a zero state, to complete at `offset` in `text`:
 * the last anchor line start at or before the start of the line `opts.minLines` lines above the line of
 * `offset` (0 when there is none). A pure function of the text before `offset`: the anchors are those of
 * text.slice(0, offset), whose complete lines are the lines above the cursor's.
 */
export function contextStart(text: string, offset: number, opts: ContextOptions): number {
  checkOptions(opts);
  if (!(Number.isInteger(offset) && offset >= 0 && offset <= text.length)) {
    throw new Error(`contextStart: offset ${offset} is outside the text (0..${text.length})`);
  }
  const W = opts.windowLines;
  // Walk up from the cursor's line to the line minLines above it (the target), at most one line above
  // the cursor's (the cursor's own line is not complete, so it is never an anchor but offset 0).
  let target = offset > 0 ? text.lastIndexOf('\n', offset - 1) + 1 : 0;
  const up = Math.max(1, opts.minLines);
  for (let k = 0; k < up; k++) {
    if (target === 0) return 0;
    target = previousLineStart(text, target);
  }
  // The candidates are the W lines ending at the target. The last anchor at or before it is the minimum
  // of that window or the minimum of a window that starts inside it (a window starting further up that
  // makes a candidate an anchor holds the window's minimum too), so those lines and the W-1 after the
  // target suffice; never the cursor's line (limit: complete lines before `offset`).
  const { starts, hashes } = linesAround(text, target, W - 1, W - 1, offset);
  const marked = winnow(hashes, W);
  const t = starts.indexOf(target);
  for (let j = t; j >= 0 && j > t - W; j--) if (marked[j]) return starts[j];
  return 0;
}

/**
 * Every anchor line start in [from, to] (ascending; 0 included when from <= 0), for warming the chains
 * the cursor will need as it moves down. The anchors are those of the whole `text`.
 */
export function anchorsBetween(text: string, from: number, to: number, opts: ContextOptions): number[] {
  checkOptions(opts);
  from = Math.max(0, from);
  to = Math.min(text.length, to);
  const out: number[] = [];
  if (from > to) return out;
  if (from === 0) out.push(0);
  const W = opts.windowLines;
  const first = from > 0 ? text.lastIndexOf('\n', from - 1) + 1 : 0;
  // Lines from W-1 before the line of `from` to W-1 after the line of `to`.
  let lines = W;
  for (let s = first; s < to; ) {
    const eol = text.indexOf('\n', s);
    if (eol < 0) break;
    s = eol + 1;
    lines++;
  }
  const { starts, hashes } = linesAround(text, first, W - 1, lines, text.length);
  const marked = winnow(hashes, W);
  for (let j = 0; j < starts.length; j++) {
    if (marked[j] && starts[j] >= from && starts[j] <= to && starts[j] > 0) out.push(starts[j]);
  }
  return out;
}

/**
 * The line starts in [from, to] that are anchors of `text` or may still become anchors when lines are
 * added after its end: among the last windowLines-1 complete lines, those whose hash is smaller than
 * every later complete line's (any other line already lost every window it could still be in), and
 * with minLines <= 1 the start of the last line. When the cursor moves down a line, its new context
 * start is one of these; warming reads their chains.
 */
export function anchorCandidates(text: string, from: number, to: number, opts: ContextOptions): number[] {
  const out = anchorsBetween(text, from, to, opts);
  const W = opts.windowLines;
  const lastEol = text.lastIndexOf('\n');
  if (lastEol < 0) return out;
  const { starts, hashes } = linesAround(text, lastEol === 0 ? 0 : text.lastIndexOf('\n', lastEol - 1) + 1, W - 2, 0, text.length);
  let min = Infinity;
  const more: number[] = [];
  for (let j = starts.length - 1; j >= 0 && W >= 2; j--) {
    if (hashes[j] < min) {
      min = hashes[j];
      if (starts[j] >= from && starts[j] <= to && !out.includes(starts[j])) more.push(starts[j]);
    }
  }
  // With minLines <= 1 the next line's context may start at the cursor's own line.
  const cursorLine = lastEol + 1;
  if (opts.minLines <= 1 && cursorLine >= from && cursorLine <= to && !out.includes(cursorLine) && !more.includes(cursorLine)) more.push(cursorLine);
  return more.length ? out.concat(more).sort((a, b) => a - b) : out;
}

/**
 * The offset up to which the model reads `text` (which ends at the cursor) when completing at its end:
 * the cursor itself for the char tokenizer; for BPE the start of the last pre-tokenizer chunk of
 * text[contextStartOffset, cursor), so that no token straddles the cursor (the typed bytes after it are
 * decoded as a forced prefix).
 */
export function readBoundary(tokenizer: Tokenizer, text: string, contextStartOffset: number): number {
  if (!(Number.isInteger(contextStartOffset) && contextStartOffset >= 0 && contextStartOffset <= text.length)) {
    throw new Error(`readBoundary: context start ${contextStartOffset} is outside the text (0..${text.length})`);
  }
  if (tokenizer.kind === 'char') return text.length;
  let last = 0;
  preTokenize(text.slice(contextStartOffset), (start) => {
    last = start;
  });
  return contextStartOffset + last;
}
