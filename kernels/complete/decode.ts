// Greedy and beam decoding of an inline suggestion from a step model (the LSTM session, the n-gram, or
// their mixture; stepModels.ts), with the rules that decide what is shown: where a suggestion stops (end
// of line, end of identifier, length), the cut on repetition, the cut to the length that saves the most
// keystrokes on average, and the confidence threshold. The decoder works on token BYTES (StepModel.bytesOf)
// so that one path serves the char tokenizer and byte-level BPE alike:
//   - BPE's read boundary is the start of the pre-tokenizer chunk the cursor is in (engine.ts), so the
//     bytes typed between it and the cursor (`typed`) are re-typed first: a token is allowed while its bytes
//     agree with the typed bytes still to come, and the suggestion is the bytes after them. The suggestion
//     therefore continues the typed text exactly (no duplicated prefix, nothing dropped).
//   - The suggestion's bytes must form strict UTF-8 (no invalid byte, no surrogate code point): a token
//     whose bytes would break that is never chosen, and an incomplete character at the end is held back,
//     so a suggestion is always valid UTF-16 and never ends in a cut sequence.
// Greedy decoding copies the start state once and feeds it in place when the model can (InPlaceStepModel);
// the token that ends a suggestion is never fed, nor any once the expected-saving trim could keep no more. Plain TypeScript: no vscode or Node-only imports.

import { check } from '../errors';
import { DecodeOptions, StepModel, Suggestion, throwIfCancelled } from './types';
import { isWordChar } from './wordCompletion';

/**
 * A step model that can also copy a state and advance it in place. Greedy decoding uses these (one copy,
 * then one feed per token, no allocation per step); beam search needs next()'s fresh states.
 */
export interface InPlaceStepModel<S> extends StepModel<S> {
  /** An independent copy of `s`. */
  copy(s: S): S;
  /** Feeds token `id` into `s` itself (the state after `s` followed by `id`, as next() returns it). */
  advance(s: S, id: number): void;
}

function canAdvance<S>(m: StepModel<S>): m is InPlaceStepModel<S> {
  const x = m as Partial<InPlaceStepModel<S>>;
  return typeof x.copy === 'function' && typeof x.advance === 'function';
}

/** Widest beam accepted. */
export const MAX_BEAM_WIDTH = 64;

/**
 * How much of the line before the cursor the repetition rule searches (code units). A minified file's
 * line can be megabytes long; searching all of it at every decoded character would cost milliseconds.
 */
export const REPEAT_WINDOW = 1024;

// ---------------------------------------------------------------------------------------------------
// Token bytes, looked up once per model.

interface TokenTable {
  /** bytesOf(id) for every id. */
  bytes: (Uint8Array | null)[];
  /** Ids by their first byte (tokens with bytes only): where the typed-prefix constraint looks. */
  byFirst: Int32Array[];
}

const tables = new WeakMap<object, TokenTable>();

function tokenTable(model: StepModel<unknown>): TokenTable {
  let t = tables.get(model);
  if (t && t.bytes.length === model.vocabSize) return t;
  const V = model.vocabSize;
  const bytes: (Uint8Array | null)[] = new Array(V);
  const lists: number[][] = Array.from({ length: 256 }, () => []);
  for (let id = 0; id < V; id++) {
    const b = model.bytesOf(id);
    bytes[id] = b && b.length > 0 ? b : null;
    if (b && b.length > 0) lists[b[0]].push(id);
  }
  t = { bytes, byFirst: lists.map((l) => Int32Array.from(l)) };
  tables.set(model, t);
  return t;
}

// ---------------------------------------------------------------------------------------------------
// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), as a small state
// machine kept per hypothesis: `need` continuation bytes still expected, each within [lo, hi].

/** Whether `bytes[from..]` keep a strict UTF-8 sequence valid, starting in state (need, lo, hi). */
function utf8Accepts(need: number, lo: number, hi: number, bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i];
    if (need === 0) {
      if (b < 0x80) continue;
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        if (b === 0xe0) lo = 0xa0;
        if (b === 0xed) hi = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        if (b === 0xf0) lo = 0x90;
        if (b === 0xf4) hi = 0x8f;
      } else {
        return false;
      }
    } else {
      if (b < lo || b > hi) return false;
      lo = 0x80;
      hi = 0xbf;
      need--;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Hypotheses.

/** A token that added bytes to the suggestion: its probability and the suggestion's length before and after it. */
interface TokenNode {
  readonly prob: number;
  readonly start: number;
  end: number;
  readonly prev: TokenNode | null;
}

const enum End {
  Live = 0,
  /** A stop character (end of line or of the identifier): a complete suggestion. */
  Stop = 1,
  /** Cut at maxChars, on repetition, or at the step limit. */
  Cut = 2,
}

interface Hyp<S> {
  state: S;
  /** Log-probability of every token decoded (re-typed ones and the one that ended it included). */
  logProb: number;
  /** Typed bytes re-typed so far. */
  typedPos: number;
  /** UTF-8 decoding state of the suggestion's bytes. */
  need: number;
  lo: number;
  hi: number;
  cp: number;
  /** The suggestion so far: complete characters only. */
  text: string;
  /** The identifier rule: an identifier character has been seen (or the cursor is inside one). */
  wordSeen: boolean;
  last: TokenNode | null;
  tokens: number;
  end: End;
}

function cloneHyp<S>(h: Hyp<S>): Hyp<S> {
  return { ...h };
}

/** What decoding needs besides the model: the rules, fixed for one request. */
class Rules {
  readonly line: boolean;
  readonly identifier: boolean;
  /** The line before the cursor (at most REPEAT_WINDOW code units of it), for the repetition rule. */
  readonly lineTail: string;

  constructor(readonly opts: DecodeOptions, linePrefix: string) {
    this.line = opts.stopAt !== 'length';
    this.identifier = opts.stopAt === 'identifier';
    let from = Math.max(0, linePrefix.length - REPEAT_WINDOW);
    const c = linePrefix.charCodeAt(from);
    if (from > 0 && c >= 0xdc00 && c <= 0xdfff) from++;
    this.lineTail = linePrefix.slice(from);
  }

  /** Whether the cursor is inside an identifier (the identifier rule then only continues it). */
  inWord(linePrefix: string): boolean {
    return linePrefix.length > 0 && isWordChar(linePrefix.charCodeAt(linePrefix.length - 1));
  }

  /**
   * Appends code point `cp` to h's suggestion, or ends h: before it (a stop character, or past maxChars),
   * or, when it completes a repeated run, at the start of that run.
   */
  addChar<S>(h: Hyp<S>, cp: number): void {
    if (this.line && (cp === 10 || cp === 13)) {
      h.end = End.Stop;
      return;
    }
    if (this.identifier) {
      if (cp < 0x10000 && isWordChar(cp)) h.wordSeen = true;
      else if (h.wordSeen) {
        h.end = End.Stop;
        return;
      }
    }
    const units = cp > 0xffff ? 2 : 1;
    if (h.text.length + units > this.opts.maxChars) {
      h.end = End.Cut;
      return;
    }
    h.text += units === 2 ? String.fromCharCode(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)) : String.fromCharCode(cp);
    const R = this.opts.repeatChars;
    if (R > 0 && h.text.length > 0) {
      const all = this.lineTail + h.text;
      if (all.length > R) {
        const run = all.slice(all.length - R);
        const first = all.indexOf(run);
        if (first < all.length - R) {
          // The run ending here was seen before: cut the suggestion where this run starts.
          let cut = Math.max(0, all.length - R - this.lineTail.length);
          const c = h.text.charCodeAt(cut);
          if (cut > 0 && c >= 0xdc00 && c <= 0xdfff) cut--;
          h.text = h.text.slice(0, cut);
          h.end = End.Cut;
        }
      }
    }
  }
}

/**
 * Extends h by token `id` (bytes `b`; `prob`: the probability the confidence and the trim use). The bytes
 * that re-type `typed` only advance typedPos; the rest decode into the suggestion until a rule ends it.
 */
function extend<S>(h: Hyp<S>, b: Uint8Array, logP: number, prob: number, typed: Uint8Array, rules: Rules): void {
  h.logProb += logP;
  h.tokens++;
  let i = 0;
  if (h.typedPos < typed.length) {
    i = Math.min(b.length, typed.length - h.typedPos);
    h.typedPos += i;
    if (i === b.length) return;
  }
  const node: TokenNode = { prob, start: h.text.length, end: h.text.length, prev: h.last };
  h.last = node;
  let { need, lo, hi, cp } = h;
  for (; i < b.length; i++) {
    const x = b[i];
    if (need === 0) {
      if (x < 0x80) {
        rules.addChar(h, x);
        if (h.end !== End.Live) break;
        continue;
      }
      if (x <= 0xdf) {
        need = 1;
        cp = x & 0x1f;
      } else if (x <= 0xef) {
        need = 2;
        cp = x & 0x0f;
        if (x === 0xe0) lo = 0xa0;
        if (x === 0xed) hi = 0x9f;
      } else {
        need = 3;
        cp = x & 0x07;
        if (x === 0xf0) lo = 0x90;
        if (x === 0xf4) hi = 0x8f;
      }
    } else {
      cp = (cp << 6) | (x & 0x3f);
      lo = 0x80;
      hi = 0xbf;
      if (--need === 0) {
        rules.addChar(h, cp);
        if (h.end !== End.Live) break;
      }
    }
  }
  h.need = need;
  h.lo = lo;
  h.hi = hi;
  h.cp = cp;
  node.end = h.text.length;
}

/** Whether token bytes `b` may follow h: they agree with the typed bytes still to come, and keep the suggestion strict UTF-8. */
function allowed<S>(h: Hyp<S>, b: Uint8Array | null, typed: Uint8Array): boolean {
  if (!b) return false;
  let from = 0;
  if (h.typedPos < typed.length) {
    const n = Math.min(b.length, typed.length - h.typedPos);
    for (let k = 0; k < n; k++) if (b[k] !== typed[h.typedPos + k]) return false;
    from = n;
  }
  return utf8Accepts(h.need, h.lo, h.hi, b, from);
}

/** Inserts (id, q) into the top list ids/ps of n ≤ k entries sorted by q (equal q: the earlier first); returns the new n. */
function insertTop(ids: Int32Array, ps: Float64Array, n: number, k: number, id: number, q: number): number {
  let j = n < k ? n++ : k - 1;
  while (j > 0 && ps[j - 1] < q) {
    ids[j] = ids[j - 1];
    ps[j] = ps[j - 1];
    j--;
  }
  ids[j] = id;
  ps[j] = q;
  return n;
}

/**
 * The k allowed tokens of highest probability after h (most likely first; ties: lower id first) into
 * ids/ps, and the probability mass their condition is relative to: 1 once the typed bytes are re-typed,
 * else the mass of every token that agrees with them (the decoder conditions on what was typed).
 * Returns how many were found.
 */
function topAllowed<S>(h: Hyp<S>, p: Float32Array, k: number, table: TokenTable, typed: Uint8Array, ids: Int32Array, ps: Float64Array, mass: Float64Array): number {
  let n = 0;
  if (h.typedPos < typed.length) {
    let m = 0;
    for (const id of table.byFirst[typed[h.typedPos]]) {
      if (!allowed(h, table.bytes[id], typed)) continue;
      const q = p[id];
      m += q;
      if (n < k || q > ps[k - 1]) n = insertTop(ids, ps, n, k, id, q);
    }
    mass[0] = m;
    return n;
  }
  mass[0] = 1;
  const V = p.length;
  const bytes = table.bytes;
  let floor = -1; // what a token must beat to enter the list (any probability while it is not full)
  for (let id = 0; id < V; id++) {
    const q = p[id];
    if (q <= floor || !allowed(h, bytes[id], typed)) continue;
    n = insertTop(ids, ps, n, k, id, q);
    if (n === k) floor = ps[k - 1];
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------
// The answer from a finished hypothesis: trim, confidence, threshold.

function suggestionOf<S>(h: Hyp<S>, opts: DecodeOptions): Suggestion | null {
  const F = h.text.length;
  if (F === 0) return null;
  const nodes: TokenNode[] = [];
  for (let t = h.last; t; t = t.prev) if (t.start < F) nodes.push(t);
  nodes.reverse();
  let keep = nodes.length;
  let length = F;
  if (opts.trimToExpectedSaving) {
    // Expected keystrokes saved by showing the first L characters: P(they are right) × (L − 1), with
    // P the product of the probabilities of the tokens that make them. Token ends are the only cuts
    // worth testing (P only falls within a token while L grows).
    let P = 1;
    let best = -Infinity;
    for (let j = 0; j < nodes.length; j++) {
      P *= nodes[j].prob;
      const L = Math.min(nodes[j].end, F);
      const saved = P * (L - 1);
      if (saved > best) {
        best = saved;
        keep = j + 1;
        length = L;
      }
    }
  }
  let sum = 0;
  for (let j = 0; j < keep; j++) sum += nodes[j].prob;
  const confidence = sum / keep;
  if (length === 0 || !(confidence >= opts.minConfidence)) return null;
  return { text: h.text.slice(0, length), confidence, tokens: h.tokens };
}

function checkOptions(opts: DecodeOptions): void {
  check(opts.stopAt === 'line' || opts.stopAt === 'identifier' || opts.stopAt === 'length', `stopAt must be 'line', 'identifier' or 'length', got '${opts.stopAt}'`);
  check(Number.isInteger(opts.maxChars) && opts.maxChars >= 1, `maxChars must be a whole number of at least 1, got ${opts.maxChars}`);
  check(Number.isInteger(opts.beamWidth) && opts.beamWidth >= 1 && opts.beamWidth <= MAX_BEAM_WIDTH, `beamWidth must be a whole number from 1 to ${MAX_BEAM_WIDTH}, got ${opts.beamWidth}`);
  check(opts.minConfidence >= 0 && opts.minConfidence <= 1, `minConfidence must be from 0 to 1, got ${opts.minConfidence}`);
  check(Number.isInteger(opts.repeatChars) && opts.repeatChars >= 0, `repeatChars must be a whole number (0: off), got ${opts.repeatChars}`);
}

/**
 * Most tokens one suggestion may take: the typed bytes, then at most two tokens per UTF-16 code unit
 * (a 4-byte character is two code units), plus the token that ends it.
 */
function stepLimit(typed: Uint8Array, maxChars: number): number {
  return typed.length + 2 * maxChars + 2;
}

/**
 * Decodes a suggestion from `state`. `typed` are the WTF-8 bytes typed after the state's position and
 * before the cursor (a BPE chunk the cursor is in; empty for the char tokenizer): the decoded tokens must
 * reproduce them first, and the suggestion is what comes after them. `linePrefix` is the cursor's line
 * before the cursor (for the identifier and repetition rules). Returns null when nothing should be shown.
 * Throws CancelledError when isCancelled() turns true.
 *
 * What is shown: the chosen hypothesis's text, cut to the length that maximises the expected keystrokes
 * saved (opts.trimToExpectedSaving), shown when the mean probability of the tokens that make it is at
 * least opts.minConfidence. A token's probability there is the model's, except while typed bytes are
 * re-typed: then it is conditioned on agreeing with them (divided by the mass of the tokens that agree).
 * Tokens that only re-type typed bytes, and the token whose first suggestion character is the stop, do not
 * count. `tokens` in the answer counts every token decoded for it. Greedy decoding stops early once no
 * longer suggestion could survive the trim (see greedy()).
 *
 * Beam search (opts.beamWidth > 1) keeps the beamWidth most probable live token paths; a path that ends
 * (a stop character, maxChars, a repeated run, the step limit) leaves the beam for the finished list, and
 * the answer is the finished path of highest total log-probability, WITHOUT length normalisation: a path
 * ended by a stop character includes that token's probability, so its score is the probability of the
 * whole suggestion as a complete line or identifier, comparable across lengths; dividing by the length
 * would favour long, unlikely tails that the expected-saving trim then cuts anyway, and it would lose the
 * exact stopping rule used here (a candidate scoring no more than the best finished path is dropped, since
 * extending a path can only lower its log-probability; the search ends when no live path is left). Each
 * live path proposes its beamWidth most probable allowed tokens; walking all proposals from the most
 * probable down, one that ends goes to the finished list and the others fill the beam (finished paths do
 * not take a place in it). With beamWidth 1 the result is the greedy one.
 */
export function decodeSuggestion<S>(model: StepModel<S>, state: S, typed: Uint8Array, linePrefix: string, opts: DecodeOptions, isCancelled?: () => boolean): Suggestion | null {
  checkOptions(opts);
  throwIfCancelled(isCancelled);
  const rules = new Rules(opts, linePrefix);
  const table = tokenTable(model as StepModel<unknown>);
  const start: Hyp<S> = {
    state, logProb: 0, typedPos: 0, need: 0, lo: 0x80, hi: 0xbf, cp: 0, text: '',
    wordSeen: rules.identifier && rules.inWord(linePrefix), last: null, tokens: 0, end: End.Live,
  };
  const limit = stepLimit(typed, opts.maxChars);
  const h = opts.beamWidth === 1 ? greedy(model, start, typed, rules, table, limit, isCancelled) : beam(model, start, typed, rules, table, limit, isCancelled);
  return h ? suggestionOf(h, opts) : null;
}

function greedy<S>(model: StepModel<S>, h: Hyp<S>, typed: Uint8Array, rules: Rules, table: TokenTable, limit: number, isCancelled?: () => boolean): Hyp<S> | null {
  const inPlace = canAdvance(model) ? model : null;
  const ids = new Int32Array(1);
  const ps = new Float64Array(1);
  const mass = new Float64Array(1);
  let copied = false;
  // The expected-saving trim's bookkeeping (as suggestionOf computes it): P of the suggestion so far and
  // the best P·(L − 1) at a token end. Once P·(maxChars − 1) cannot beat it, no longer suggestion would
  // survive the trim, so decoding stops there (a feed saved per token; the trimmed text is the same unless
  // a repeated run found later would have cut back before the trim's length).
  const trim = rules.opts.trimToExpectedSaving;
  const most = rules.opts.maxChars - 1;
  let P = 1;
  let bestSaved = -Infinity;
  for (let step = 0; step < limit; step++) {
    throwIfCancelled(isCancelled);
    const p = model.probs(h.state);
    if (topAllowed(h, p, 1, table, typed, ids, ps, mass) === 0) return null; // nothing may follow the typed bytes
    const id = ids[0];
    const last = h.last;
    extend(h, table.bytes[id]!, Math.log(ps[0]), mass[0] > 0 ? ps[0] / mass[0] : 0, typed, rules);
    if (h.end !== End.Live) return h;
    if (trim && h.last !== last) {
      P *= h.last!.prob;
      bestSaved = Math.max(bestSaved, P * (h.text.length - 1));
      if (P * most <= bestSaved) {
        h.end = End.Cut;
        return h;
      }
    }
    if (inPlace) {
      if (!copied) {
        h.state = inPlace.copy(h.state);
        copied = true;
      }
      inPlace.advance(h.state, id);
    } else {
      h.state = model.next(h.state, id);
    }
  }
  h.end = End.Cut;
  return h;
}

function beam<S>(model: StepModel<S>, start: Hyp<S>, typed: Uint8Array, rules: Rules, table: TokenTable, limit: number, isCancelled?: () => boolean): Hyp<S> | null {
  const W = rules.opts.beamWidth;
  const ids = new Int32Array(W);
  const ps = new Float64Array(W);
  const mass = new Float64Array(1);
  let live: Hyp<S>[] = [start];
  let best: Hyp<S> | null = null;
  interface Candidate { parent: number; id: number; logProb: number; p: number; cond: number }
  for (let step = 0; step < limit && live.length > 0; step++) {
    const cands: Candidate[] = [];
    for (let i = 0; i < live.length; i++) {
      throwIfCancelled(isCancelled);
      const h = live[i];
      const p = model.probs(h.state);
      const n = topAllowed(h, p, W, table, typed, ids, ps, mass);
      for (let j = 0; j < n; j++) cands.push({ parent: i, id: ids[j], logProb: h.logProb + Math.log(ps[j]), p: ps[j], cond: mass[0] > 0 ? ps[j] / mass[0] : 0 });
    }
    cands.sort((a, b) => b.logProb - a.logProb); // stable: ties keep parent order, then probability order
    const next: Hyp<S>[] = [];
    for (let c = 0; c < cands.length && next.length < W; c++) {
      const { parent, id, p, cond, logProb } = cands[c];
      // The exact early stop: extending a path only lowers its log-probability, so nothing from here down
      // can beat the best finished path; once a step keeps no live path, the search is over.
      if (best && logProb <= best.logProb) break;
      const h = cloneHyp(live[parent]);
      extend(h, table.bytes[id]!, Math.log(p), cond, typed, rules);
      if (h.end !== End.Live) {
        if (!best || h.logProb > best.logProb) best = h;
        continue;
      }
      throwIfCancelled(isCancelled);
      h.state = model.next(live[parent].state, id);
      next.push(h);
    }
    live = next;
  }
  for (const h of live) {
    // The step limit: the live paths end where they are.
    if (!best || h.logProb > best.logProb) best = { ...h, end: End.Cut };
  }
  return best;
}
