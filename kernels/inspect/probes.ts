// Probes: properties of the text computed from the text itself, and for each the units (of every layer
// and quantity) whose activation tracks it best, by |Pearson r| over the inspected tokens. This is
// what turns "unit 87" into "the bracket-depth unit".
//
// The properties come from one left-to-right scan of the WHOLE document up to the end of the window,
// so a window that starts inside a string or a comment is labelled right. The scan is a small lexer,
// not a parser for any one language:
//   - strings: '…', "…" and `…`, with backslash escapes; '…' and "…" end at the end of a line (an
//     unterminated string does not run on), `…` may span lines (template literals; ${…} inside is
//     treated as part of the string). Python's triple quotes read as an empty string then a string.
//   - comments: /* … */ and // … in C-like text; # … in hash-commented text (Python, shell, Ruby,
//     YAML, TOML). Which one: opts.comments, or else a vote over the document's lines: it is
//     hash-commented when more lines start (after indentation) with "# ", "#!" or a lone "#" than
//     with "//" or "/*". So C's #include and Rust's #[attr] vote for neither, and Python's // (floor
//     division) is an operator there.
//   - bracket depth: ( [ { open and ) ] } close, outside strings and comments (never below 0).
// A token's value is the state after its last character (what the model has read at that point) for
// string, comment and bracket depth (a comment or string holds its opening "/*", "//", "#" or quote
// and not its closing "*/" or quote); the indentation (leading whitespace in columns: a UTF-16 unit
// each, a tab to the next multiple of 4) of the line the token starts on; the column where the token
// starts; and 1 when an identifier ([A-Za-z_$] or a letter, not after [A-Za-z0-9_$]) starts inside
// the token, outside strings and comments.

import { InspectResult, ProbeResult, QuantityName } from './types';
import { InspectionPlan } from './window';

export const PROBE_NAMES = ['string', 'comment', 'bracketDepth', 'indent', 'column', 'identifierStart'] as const;
export type ProbeName = (typeof PROBE_NAMES)[number];

export const PROBE_LABELS: Record<ProbeName, string> = {
  string: 'inside a string literal',
  comment: 'inside a comment',
  bracketDepth: 'bracket depth',
  indent: 'indentation level (columns)',
  column: 'position in the line (column)',
  identifierStart: 'start of an identifier',
};

/** How many units each probe lists. */
export const PROBE_BEST = 10;
const TAB = 4;

export type CommentStyle = 'c' | 'hash';

export interface ProbeOptions {
  /** Which comments the text has; default: decided by the vote described in the file header. */
  comments?: CommentStyle;
}

/** The properties at each token of the window: values[name] is [T]. */
export function textProperties(text: string, plan: Pick<InspectionPlan, 'start'>, offsets: Int32Array, opts: ProbeOptions = {}): Record<ProbeName, Float32Array> {
  const T = offsets.length - 1;
  const style = opts.comments ?? commentStyle(text);
  const out = Object.fromEntries(PROBE_NAMES.map((n) => [n, new Float32Array(T)])) as Record<ProbeName, Float32Array>;
  // Lexer state, advanced one UTF-16 unit at a time. A comment opens at its first character (so
  // "/" of "//" is in it) and closes after its last ("*/", the newline of a line comment is not in
  // it); a string opens at its opening quote and closes at the closing one (which is not in it).
  let mode = 'code' as 'code' | 'line' | 'block' | 'string';
  let quote = 0;
  let escaped = false; // in a string, after a backslash
  let opening = false; // in a block comment, at the "*" of "/*"
  let star = false; // in a block comment, after a "*" that can close it
  let depth = 0;
  let column = 0;
  let identStarts = 0; // identifier starts seen so far (the count before and after a token tells)
  let lineStart = 0, lineAt = -1, lineIndent = 0;
  const step = (i: number) => {
    const ch = text.charCodeAt(i);
    if (mode === 'code') {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : -1;
      if (style === 'c' && ch === SLASH && next === SLASH) mode = 'line';
      else if (style === 'c' && ch === SLASH && next === STAR) { mode = 'block'; opening = true; star = false; }
      else if (style === 'hash' && ch === HASH) mode = 'line';
      else if (ch === 39 || ch === 34 || ch === 96) { mode = 'string'; quote = ch; escaped = false; }
      else if (ch === 40 || ch === 91 || ch === 123) depth++;
      else if (ch === 41 || ch === 93 || ch === 125) depth = Math.max(0, depth - 1);
      else if (isIdentStart(ch) && !isIdentPart(i > 0 ? text.charCodeAt(i - 1) : -1)) identStarts++;
    } else if (mode === 'line') {
      if (ch === NL) mode = 'code';
    } else if (mode === 'block') {
      if (opening) opening = false;
      else if (star && ch === SLASH) mode = 'code';
      else star = ch === STAR;
    } else if (escaped) {
      escaped = false;
    } else if (ch === BACKSLASH) {
      escaped = true;
    } else if (ch === quote || (ch === NL && quote !== 96)) {
      mode = 'code';
    }
    if (ch === NL) lineStart = i + 1;
    column = ch === NL ? 0 : ch === TABC ? (Math.floor(column / TAB) + 1) * TAB : column + 1;
  };

  let i = 0;
  const advanceTo = (target: number) => {
    for (; i < target; i++) step(i);
  };
  for (let t = 0; t < T; t++) {
    const a = plan.start + offsets[t];
    const b = plan.start + offsets[t + 1];
    advanceTo(a);
    out.column[t] = column;
    if (lineStart !== lineAt) {
      lineAt = lineStart;
      lineIndent = indentOf(text, lineStart);
    }
    out.indent[t] = lineIndent;
    const before = identStarts;
    advanceTo(b);
    out.string[t] = mode === 'string' ? 1 : 0;
    out.comment[t] = mode === 'line' || mode === 'block' ? 1 : 0;
    out.bracketDepth[t] = depth;
    out.identifierStart[t] = identStarts > before ? 1 : 0;
  }
  return out;
}

/** The probes of an inspected window: each property, and the units that track it best. */
export function probeWindow(text: string, plan: Pick<InspectionPlan, 'start'>, result: InspectResult, opts: ProbeOptions = {}): ProbeResult[] {
  const T = result.tokens.length;
  const props = textProperties(text, plan, result.offsets, opts);
  const H = result.hiddenSize;
  const names = PROBE_NAMES;
  // Centre the properties once; a constant property correlates with nothing (r = 0).
  const centred = names.map((n) => centre(props[n]));
  const candidates: { layer: number; quantity: QuantityName; unit: number; r: number }[][] = names.map(() => []);
  result.layers.forEach((layer, l) => {
    layer.names.forEach((quantity, q) => {
      const r = pearsonColumns(layer.values[q], T, H, centred);
      names.forEach((_, p) => {
        for (let j = 0; j < H; j++) candidates[p].push({ layer: l, quantity, unit: j, r: r[p][j] });
      });
    });
  });
  return names.map((name, p) => ({
    name,
    label: PROBE_LABELS[name],
    values: props[name],
    best: bestByAbs(candidates[p], PROBE_BEST),
  }));
}

/**
 * Pearson r of each of H columns of x [T*H] with each centred property; 0 when either is constant.
 * (Means are float64 sums of float32 values, exact for any T the inspector sees, so a constant
 * column centres to exact zeros.)
 */
export function pearsonColumns(x: Float32Array, T: number, H: number, props: { c: Float64Array; ss: number }[]): Float64Array[] {
  const mean = new Float64Array(H);
  for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) mean[j] += x[t * H + j];
  for (let j = 0; j < H; j++) mean[j] /= T;
  const ss = new Float64Array(H);
  const cov = props.map(() => new Float64Array(H));
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < H; j++) {
      const d = x[t * H + j] - mean[j];
      ss[j] += d * d;
      for (let p = 0; p < props.length; p++) cov[p][j] += d * props[p].c[t];
    }
  }
  return props.map((prop, p) => {
    const r = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      if (ss[j] === 0 || prop.ss === 0) continue;
      r[j] = Math.max(-1, Math.min(1, cov[p][j] / Math.sqrt(ss[j] * prop.ss)));
    }
    return r;
  });
}

/** A property minus its mean, and its sum of squares (0 when it is constant). */
function centre(v: Float32Array): { c: Float64Array; ss: number } {
  const T = v.length;
  let mean = 0;
  for (let t = 0; t < T; t++) mean += v[t];
  mean /= T || 1;
  const c = new Float64Array(T);
  let ss = 0;
  for (let t = 0; t < T; t++) {
    c[t] = v[t] - mean;
    ss += c[t] * c[t];
  }
  return { c, ss };
}

const QUANTITY_ORDER: Record<string, number> = { h: 0, c: 1, i: 2, f: 3, g: 4, o: 5, r: 6, z: 7, n: 8, pre: 9 };

/** The n entries with the largest |r|, best first; ties by layer, quantity, unit. */
function bestByAbs<E extends { layer: number; quantity: QuantityName; unit: number; r: number }>(all: E[], n: number): E[] {
  return all
    .slice()
    .sort((a, b) => Math.abs(b.r) - Math.abs(a.r) || a.layer - b.layer || QUANTITY_ORDER[a.quantity] - QUANTITY_ORDER[b.quantity] || a.unit - b.unit)
    .slice(0, n);
}

/** Hash-commented or C-like, by the vote described in the file header. */
export function commentStyle(text: string): CommentStyle {
  let hash = 0, c = 0;
  for (const m of text.matchAll(/^[ \t]*(#(?:[ \t!]|$)|\/\/|\/\*)/gm)) {
    if (m[1].startsWith('#')) hash++;
    else c++;
  }
  return hash > c ? 'hash' : 'c';
}

/** Leading whitespace of the line starting at offset k, in columns. */
function indentOf(text: string, k: number): number {
  let col = 0;
  for (; k < text.length; k++) {
    const ch = text.charCodeAt(k);
    if (ch === 32) col++;
    else if (ch === TABC) col = (Math.floor(col / TAB) + 1) * TAB;
    else break;
  }
  return col;
}

const NL = 10, TABC = 9, SLASH = 47, STAR = 42, HASH = 35, BACKSLASH = 92;

function isIdentStart(ch: number): boolean {
  return (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 95 || ch === 36 || (ch >= 0xc0 && ch < 0xd800 && isLetter(ch));
}

function isIdentPart(ch: number): boolean {
  return isIdentStart(ch) || (ch >= 48 && ch <= 57);
}

function isLetter(ch: number): boolean {
  return /\p{L}/u.test(String.fromCharCode(ch));
}
