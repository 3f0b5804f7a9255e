// Which text the inspector inspects: the one planning function that both the extension's inspector and
// `gatescope inspect` call, so that both inspect exactly the same tokens. A selection is widened to
// whole lines plus a margin of lines around it (so that "on in the range and off around it" has an
// "around"); with no selection (or an empty one), the visible range widened to whole lines. A window of
// more than maxTokens tokens is cut to maxTokens around the selection (or the cursor), with a notice
// saying so. The model is primed (state only, not shown) with up to primeTokens tokens of the text
// just before the window. The window and its priming are tokenized on their own (text.slice(start,
// end) and text.slice(primeStart, start)), which is what kernels/inspect/trace.ts feeds.

import { GateScopeError } from '../errors';
import { Tokenizer } from '../tokenizer';

export interface Range {
  start: number;
  end: number;
}

export interface InspectionRequest {
  /** The selection (UTF-16 offsets into the text), or null; an empty selection counts as none. */
  selection: Range | null;
  /** The visible range (UTF-16 offsets), inspected when there is no selection. */
  visible: Range;
  /** The cursor (UTF-16 offset): the part kept when the visible range is too long. */
  cursor: number;
  /** Most tokens in the window (default 4,000). */
  maxTokens?: number;
  /** Whole lines added before and after a selection (default 3). */
  marginLines?: number;
  /** Most tokens of priming before the window (default 256). */
  primeTokens?: number;
}

export interface InspectionPlan {
  /** The window, UTF-16 offsets into the text [start, end). */
  start: number;
  end: number;
  /** Where the priming text starts (primeStart <= start; equal when there is none). */
  primeStart: number;
  /** The selection as token indices of the window [start, end), or null when nothing was selected. */
  selection: Range | null;
  /** '' or a sentence saying why the window was cut. */
  notice: string;
}

export const DEFAULT_MAX_TOKENS = 4000;
export const DEFAULT_MARGIN_LINES = 3;
export const DEFAULT_PRIME_TOKENS = 256;

/**
 * The UTF-16 offset in `text` (the text `ids` encode) where each token starts, [T+1], the last being
 * text.length. A token that ends inside a character (byte-level BPE) adds no text of its own, so it
 * starts where the next token does: the decoded text before token t is text.slice(0, offsets[t]).
 */
export function tokenOffsets(tokenizer: Tokenizer, ids: ArrayLike<number>, text: string): Int32Array {
  const out = new Int32Array(ids.length + 1);
  const dec = tokenizer.createDecoder();
  let pos = 0;
  for (let t = 0; t < ids.length; t++) {
    out[t] = pos;
    pos += dec.push(ids[t]).length;
  }
  pos += dec.flush().length;
  if (pos !== text.length) throw new Error(`the tokens decode to ${pos} UTF-16 units, the text has ${text.length}`);
  out[ids.length] = pos;
  return out;
}

/** Plans the inspection of `text`: see the file header. Pure; offsets outside the text are clamped. */
export function planInspection(text: string, tokenizer: Tokenizer, req: InspectionRequest): InspectionPlan {
  const maxTokens = wholeAtLeast(req.maxTokens ?? DEFAULT_MAX_TOKENS, 1, 'maxTokens');
  const marginLines = wholeAtLeast(req.marginLines ?? DEFAULT_MARGIN_LINES, 0, 'marginLines');
  const primeTokens = wholeAtLeast(req.primeTokens ?? DEFAULT_PRIME_TOKENS, 0, 'primeTokens');
  const n = text.length;
  const sel = req.selection ? ordered(req.selection, n) : null;
  const selection = sel && sel.end > sel.start ? sel : null;
  const cursor = clamp(req.cursor, n);

  // Whole lines: the selection's with the margin, or the visible range's.
  let start: number;
  let end: number;
  if (selection) {
    start = lineStart(text, selection.start);
    // A selection ending at the start of a line (a whole-line selection) ends on the line before.
    end = lineEnd(text, selection.end > start && isLineStart(text, selection.end) ? selection.end - 1 : selection.end);
    for (let i = 0; i < marginLines && start > 0; i++) start = lineStart(text, start - 1);
    for (let i = 0; i < marginLines && end < n; i++) end = lineEnd(text, end);
  } else {
    const vis = ordered(req.visible, n);
    start = lineStart(text, vis.start);
    end = vis.end > vis.start && isLineStart(text, vis.end) ? vis.end : lineEnd(text, vis.end);
  }

  // At most maxTokens tokens, kept around the selection (its start when it alone is too long) or the cursor.
  let notice = '';
  let ids = tokenizer.encode(text.slice(start, end));
  if (ids.length > maxTokens) {
    const total = ids.length;
    for (let guard = 0; ids.length > maxTokens && guard < 20; guard++) {
      const offsets = tokenOffsets(tokenizer, ids, text.slice(start, end));
      const first = (rel: number) => tokenAt(offsets, rel - start);
      let a: number;
      if (selection) {
        const s0 = first(selection.start), s1 = first(selection.end);
        a = s1 - s0 >= maxTokens ? s0 : s0 - Math.floor((maxTokens - (s1 - s0)) / 2);
      } else {
        a = first(Math.min(Math.max(cursor, start), end)) - Math.floor(maxTokens / 2);
      }
      // Shrink by the overshoot of the previous try (re-tokenizing a cut window can differ by a few tokens).
      const keep = maxTokens - (guard === 0 ? 0 : Math.min(maxTokens - 1, guard * 8));
      a = Math.max(0, Math.min(a, ids.length - keep));
      const b = Math.min(ids.length, a + keep);
      const newStart = start + offsets[a];
      const newEnd = start + offsets[b];
      start = newStart;
      end = newEnd;
      ids = tokenizer.encode(text.slice(start, end));
    }
    notice = `The text to inspect is ${total.toLocaleString('en-US')} tokens, over the limit of ${maxTokens.toLocaleString('en-US')}; ` +
      `inspecting the ${ids.length.toLocaleString('en-US')} tokens around the ${selection ? 'selection' : 'cursor'} ` +
      `(characters ${start} to ${end}). Select a shorter range to see another part.`;
  }

  // Priming: up to primeTokens tokens just before the window. A token is at most 64 code points, so
  // 128 UTF-16 units per token is enough text to find them in.
  let primeStart = start;
  if (primeTokens > 0 && start > 0) {
    let from = Math.max(0, start - primeTokens * 128);
    if (from > 0 && isLowSurrogate(text.charCodeAt(from))) from--;
    const before = text.slice(from, start);
    let pids = tokenizer.encode(before);
    const offsets = tokenOffsets(tokenizer, pids, before);
    primeStart = from;
    if (pids.length > primeTokens) {
      let k = pids.length - primeTokens;
      while (k < pids.length && offsets[k] === offsets[k - 1]) k++; // not inside a character
      primeStart = from + offsets[k];
      // Re-tokenized on its own, the priming can come out a few tokens longer: move its start on.
      pids = tokenizer.encode(text.slice(primeStart, start));
      for (let guard = 0; pids.length > primeTokens && guard < 20; guard++) {
        const o = tokenOffsets(tokenizer, pids, text.slice(primeStart, start));
        let j = pids.length - primeTokens;
        while (j < pids.length && o[j] === o[j - 1]) j++;
        primeStart += o[j];
        pids = tokenizer.encode(text.slice(primeStart, start));
      }
    }
  }

  let selTokens: Range | null = null;
  if (selection) {
    const windowText = text.slice(start, end);
    const offsets = tokenOffsets(tokenizer, ids, windowText);
    const a = Math.max(selection.start, start) - start, b = Math.min(selection.end, end) - start;
    if (b > a) selTokens = { start: tokenAt(offsets, a), end: firstAtOrAfter(offsets, b) };
  }
  return { start, end, primeStart, selection: selTokens, notice };
}

/** The token containing UTF-16 offset `rel` (the first of the tokens sharing its start), or T at the end. */
function tokenAt(offsets: Int32Array, rel: number): number {
  const T = offsets.length - 1;
  let t = 0;
  while (t < T && offsets[t + 1] <= rel) t++;
  while (t > 0 && offsets[t - 1] === offsets[t] && t < T) t--;
  return t;
}

/** The first token starting at or after `rel` (T if none). */
function firstAtOrAfter(offsets: Int32Array, rel: number): number {
  const T = offsets.length - 1;
  let t = 0;
  while (t < T && offsets[t] < rel) t++;
  return t;
}

function lineStart(text: string, i: number): number {
  return text.lastIndexOf('\n', i - 1) + 1;
}

/** The end of the line holding offset i, after its newline. */
function lineEnd(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl + 1;
}

function isLineStart(text: string, i: number): boolean {
  return i === 0 || text.charCodeAt(i - 1) === 10;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function clamp(x: number, n: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.max(0, Math.min(n, Math.floor(x)));
}

function ordered(r: Range, n: number): Range {
  const a = clamp(r.start, n), b = clamp(r.end, n);
  return a <= b ? { start: a, end: b } : { start: b, end: a };
}

function wholeAtLeast(x: number, lo: number, name: string): number {
  if (!(Number.isInteger(x) && x >= lo)) throw new GateScopeError(`${name} must be a whole number of at least ${lo}, got ${x}`);
  return x;
}
