// Recurrent states kept along each document's context chains, so that a keystroke costs the model steps
// since the nearest kept state instead of re-reading the whole context.
//
// The model reads a bounded context from a zero state: from an anchor line start (anchors.ts) up to the
// read boundary. A CHAIN is what was read from one anchor onward: the text it read (text[a, end)) and the
// states after it, one every `everyTokens` tokens plus the newest (the tip). Chains are found by their
// CONTENT, not by offsets: each document keeps a map from the hash of a chain's first line to the chains
// that start with that line, and a candidate is checked by comparing its text with the document's text
// from the anchor on (a few dozen lines at most, stopping at the first difference). So correctness never
// depends on edit events: a chain whose anchor moved with an edit above it is found again where it now
// is, and one whose text was edited keeps only the states before the first difference. invalidate()
// (from onDidChangeTextDocument) only frees memory early.
//
// A kept state at offset o of a chain from anchor a is the state after session.feedMany(newState,
// tokenizer.encode(text.slice(a, o))). To read on from it to t, encode(text.slice(a, t)) must split at o:
//  - char tokenizer: o must not fall between the two halves of a surrogate pair in the current text;
//  - BPE: o must be a pre-tokenizer chunk boundary whose position cannot change with the text after it:
//    that is settled by the next LOOKAHEAD code units, so a state is a split point only while the
//    current text matches the chain's for LOOKAHEAD units past it (or when a fresh chunk scan of the
//    current text, started at such a settled point, ends a chunk there: how a tip read at the cursor is
//    reused once the user types on).
// Memory is bounded over every document together (maxBytes); the least recently used chains go first.
// Plain TypeScript: no vscode or Node-only imports (it runs in the completion worker).

import type { InferenceSession, InferenceState } from '../infer';
import type { Tokenizer } from '../tokenizer';
import { preTokenize } from '../tokenizer/bpe';
import { CHAR_UNK } from '../tokenizer/char';
import { anchorCandidates, anchorsBetween, contextStart, lineHash, readBoundary } from './anchors';
import { StateCacheOptions, throwIfCancelled } from './types';

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

/**
 * BPE: code units after a chunk boundary that settle it (preTokenize looks at most at the code point
 * after the next one; 3 would do, 4 is the contract's margin).
 */
export const BPE_LOOKAHEAD = 4;
/** The key of chains whose first line is not complete yet (only a chain from offset 0 can be). */
const INCOMPLETE = -1;
/** Bookkeeping bytes counted per kept state and per chain on top of their arrays and text. */
const STATE_OVERHEAD = 96;
const CHAIN_OVERHEAD = 128;
/** How much sparser states are kept in a chain's first minLines lines (see readFrom). */
const SPARSE = 4;

interface Kept {
  /** Offset from the chain's anchor (> 0). */
  off: number;
  state: InferenceState;
  /** One of the states kept every everyTokens tokens (else the tip only). */
  spaced: boolean;
  /** BPE: off is a settled chunk boundary of the chain's text (off + LOOKAHEAD <= its length when kept). */
  stable: boolean;
  bytes: number;
}

/** A run of tokens a read feeds, ending at `off` (from the anchor), where a state may be kept. */
interface Piece {
  off: number;
  stable: boolean;
  ids: Int32Array;
}

interface DocChains {
  readonly name: string;
  readonly byKey: Map<number, Chain[]>;
  /** The text of the latest request (for keptStates). */
  lastText: string;
}

class Chain {
  /** The text read from the anchor on (and, for BPE, up to LOOKAHEAD units seen past the tip). */
  text = '';
  kept: Kept[] = [];
  bytes = CHAIN_OVERHEAD;
  /** Where the anchor was at the last use (a hint for invalidate(); offsets shift with edits). */
  at = 0;
  constructor(readonly doc: DocChains, public key: number) {}
}

/** The key of a chain starting at `start` in `text`: the hash of its first line when that line is complete. */
function chainKey(text: string, start: number): number {
  const eol = text.indexOf('\n', start);
  return eol < 0 ? INCOMPLETE : lineHash(text, start, eol);
}

/** Length of the common prefix of `a` and text[start, start + n) (n <= a.length). */
function commonPrefix(a: string, text: string, start: number, n: number): number {
  if (text.startsWith(n === a.length ? a : a.slice(0, n), start)) return n;
  let i = 0;
  while (i < n && a.charCodeAt(i) === text.charCodeAt(start + i)) i++;
  return i;
}

/** Whether offset i of `text` falls between the halves of a surrogate pair. */
function insidePair(text: string, i: number): boolean {
  if (i <= 0 || i >= text.length) return false;
  const hi = text.charCodeAt(i - 1);
  const lo = text.charCodeAt(i);
  return hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff;
}

function stateBytes(s: InferenceState): number {
  let b = STATE_OVERHEAD + (s.logits ? s.logits.byteLength : 0);
  for (const v of s.inner.h) b += v.byteLength;
  if (s.inner.c) for (const v of s.inner.c) b += v.byteLength;
  return b;
}

export class StateCache {
  private readonly docs = new Map<string, DocChains>();
  /** Every chain, least recently used first (a Map keeps insertion order). */
  private readonly lru = new Map<Chain, true>();
  private total = 0;
  /**
   * Chains a fork left behind (most are what an edit left of a chain whose anchor had moved): evicted
   * before any other, until they are used again.
   */
  private readonly suspects = new Set<Chain>();
  private readonly bpe: boolean;

  constructor(readonly session: InferenceSession, readonly tokenizer: Tokenizer, readonly opts: StateCacheOptions) {
    if (!(Number.isInteger(opts.everyTokens) && opts.everyTokens >= 1)) {
      throw new Error(`state cache: everyTokens must be a whole number >= 1, got ${opts.everyTokens}`);
    }
    if (!(opts.maxBytes >= 0)) throw new Error(`state cache: maxBytes must be >= 0, got ${opts.maxBytes}`);
    this.bpe = tokenizer.kind === 'bpe';
  }

  /**
   * The state after reading text[contextStart(text, text.length), offset): `text` ends at the cursor and
   * `offset` is readBoundary(tokenizer, text, that context start). Costs the tokens from the nearest
   * kept state that is valid for this text. Throws CancelledError (the cache stays consistent: what was
   * read before the cancellation is kept). `cs` is that context start, passed by a caller that has it.
   */
  stateAt(doc: string, text: string, offset: number, isCancelled?: () => boolean, cs = contextStart(text, text.length, this.opts.context)): ReadState {
    if (!(Number.isInteger(offset) && offset >= cs && offset <= text.length)) {
      throw new Error(`stateAt: offset ${offset} must be a read boundary between the context start ${cs} and the end of the text (${text.length})`);
    }
    const d = this.docEntry(doc);
    d.lastText = text;
    const { state, tokensRead } = this.readChain(d, text, cs, offset, isCancelled);
    return { state, contextStart: cs, offset, tokensRead };
  }

  /**
   * Extends the chain of contextStart(text, text.length) and the chains of the anchors after it up to
   * `offset`, nearest first, including the lines that may still become anchors when the cursor's line
   * is complete (anchorCandidates), so that when the cursor moves down the next context's chain is
   * already read. `text` ends at the cursor and `offset` is its read boundary, as for stateAt. Idle
   * work: throws CancelledError (what was read before stays kept). `cs` as for stateAt.
   */
  warm(doc: string, text: string, offset: number, isCancelled?: () => boolean, cs = contextStart(text, text.length, this.opts.context)): void {
    if (!(Number.isInteger(offset) && offset >= cs && offset <= text.length)) {
      throw new Error(`warm: offset ${offset} must be a read boundary between the context start ${cs} and the end of the text (${text.length})`);
    }
    const d = this.docEntry(doc);
    d.lastText = text;
    const anchors = [cs, ...anchorCandidates(text, cs + 1, offset, this.opts.context)];
    for (const a of anchors) {
      throwIfCancelled(isCancelled);
      const t = a === cs ? offset : readBoundary(this.tokenizer, text, a);
      if (t > a) this.readChain(d, text, a, t, isCancelled);
    }
  }

  /** The text of `doc` changed from `offset` on: drop what was read from there (a hint; kept states are also checked against the text). */
  invalidate(doc: string, offset: number): void {
    const d = this.docs.get(doc);
    if (!d) return;
    for (const list of [...d.byKey.values()]) {
      for (const c of [...list]) {
        const rel = offset - c.at;
        if (rel < 0 || rel >= c.text.length) continue;
        const eol = c.text.indexOf('\n');
        if (eol < 0 || rel <= eol) this.remove(c); // the first line (the chain's key) changed
        else this.truncate(c, rel);
      }
    }
  }

  dropDocument(doc: string): void {
    const d = this.docs.get(doc);
    if (!d) return;
    for (const list of [...d.byKey.values()]) for (const c of [...list]) this.remove(c);
    this.docs.delete(doc);
  }

  clear(): void {
    this.suspects.clear();
    this.docs.clear();
    this.lru.clear();
    this.total = 0;
  }

  /** Bytes held by every kept state (and the chains' texts). */
  get bytes(): number {
    return this.total;
  }

  /** How many chains are kept over all documents. */
  get chainCount(): number {
    return this.lru.size;
  }

  /**
   * Every state kept for `doc` that the cache would treat as valid for `text` (default: the text of the
   * latest request): for each anchor of `text`, the states of the chains starting with its line whose
   * text matches `text` up to the state. For tests (it reads the whole text).
   */
  keptStates(doc: string, text?: string): KeptState[] {
    const d = this.docs.get(doc);
    if (!d) return [];
    const t = text ?? d.lastText;
    const out: KeptState[] = [];
    for (const a of anchorsBetween(t, 0, t.length, this.opts.context)) {
      for (const c of this.candidates(d, t, a)) {
        const m = commonPrefix(c.text, t, a, Math.min(c.text.length, t.length - a));
        for (const k of c.kept) if (k.off <= m) out.push({ contextStart: a, offset: a + k.off, state: k.state });
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------------

  private docEntry(doc: string): DocChains {
    let d = this.docs.get(doc);
    if (!d) {
      d = { name: doc, byKey: new Map(), lastText: '' };
      this.docs.set(doc, d);
    }
    return d;
  }

  private candidates(d: DocChains, text: string, cs: number): Chain[] {
    const key = chainKey(text, cs);
    const list = d.byKey.get(key) ?? [];
    if (key === INCOMPLETE) return list;
    const partial = d.byKey.get(INCOMPLETE);
    return partial ? list.concat(partial) : list;
  }

  /** Whether kept state `k` may start a read on to farther than k.off, given the chain matches the text for m units. */
  private splits(k: Kept, m: number, text: string, cs: number): boolean {
    if (this.bpe) return k.stable && k.off + BPE_LOOKAHEAD <= m;
    return k.off <= m && !insidePair(text, cs + k.off);
  }

  /** The farthest offset (relative) at or before rel from which chain `c` could answer, given m matched units. */
  private usable(c: Chain, m: number, rel: number, text: string, cs: number): number {
    let best = 0;
    for (const k of c.kept) {
      if (k.off > rel || k.off > m) break;
      if (k.off === rel || this.splits(k, m, text, cs)) best = k.off;
    }
    return best;
  }

  /**
   * The chain that serves anchor cs of `text` up to rel. A candidate that agrees with the text wherever
   * both have text is used as it is (the one with the farthest usable state). One that differs is cut
   * at the difference when it was last used at this very anchor (the text was edited there); otherwise
   * it may be another place that starts with the same line (a `}` line, a repeated import): it stays,
   * and a new chain starts from its states before the difference.
   */
  private findChain(d: DocChains, text: string, cs: number, rel: number): Chain {
    const avail = text.length - cs;
    let whole: Chain | null = null;
    let wholeValue = -1;
    let partial: Chain | null = null;
    let partialValue = 0;
    let partialM = 0;
    for (const c of this.candidates(d, text, cs)) {
      const n = Math.min(c.text.length, avail);
      const m = commonPrefix(c.text, text, cs, n);
      const v = this.usable(c, m, rel, text, cs);
      if (m === n) {
        if (v > wholeValue) [whole, wholeValue] = [c, v];
      } else if (v > partialValue || (v === partialValue && partial && c.at === cs && partial.at !== cs)) {
        [partial, partialValue, partialM] = [c, v, m];
      }
    }
    if (whole && wholeValue >= partialValue) return whole;
    if (partial && partial.at === cs) return partial; // reconcile() cuts it at the edit
    const fresh = new Chain(d, chainKey(text, cs));
    if (partial) {
      // Kept states are never changed once kept, so the new chain shares them (counted in both).
      for (const k of partial.kept) {
        if (k.off > partialM) break;
        const copy = { ...k };
        if (this.bpe && k.off + BPE_LOOKAHEAD > partialM) {
          copy.stable = false; // settled by text that differs here
          copy.spaced = false;
        }
        fresh.kept.push(copy);
        fresh.bytes += k.bytes;
      }
      fresh.text = partial.text.slice(0, partialM);
      fresh.bytes += 2 * fresh.text.length;
    }
    if (partial) this.suspects.add(partial);
    this.register(fresh);
    this.lru.set(fresh, true);
    this.total += fresh.bytes;
    return fresh;
  }

  /** Makes chain c agree with text from cs: cut it at the first difference, take the longer text where they agree. */
  private reconcile(c: Chain, text: string, cs: number): void {
    const avail = text.length - cs;
    const n = Math.min(c.text.length, avail);
    const m = commonPrefix(c.text, text, cs, n);
    if (m < n) this.truncate(c, m);
    if (avail > c.text.length) this.setText(c, text.slice(cs));
  }

  /** Cuts chain c's text to rel units: states past it go, states it can no longer settle stop being split points. */
  private truncate(c: Chain, rel: number): void {
    const keep: Kept[] = [];
    for (const k of c.kept) {
      if (k.off > rel) {
        this.addBytes(c, -k.bytes);
        continue;
      }
      if (this.bpe && k.off + BPE_LOOKAHEAD > rel) {
        k.stable = false;
        k.spaced = false;
      }
      keep.push(k);
    }
    c.kept = keep;
    this.setText(c, c.text.slice(0, rel));
  }

  private setText(c: Chain, t: string): void {
    this.addBytes(c, 2 * (t.length - c.text.length));
    c.text = t;
    const key = chainKey(t, 0);
    if (key !== c.key) {
      this.unregister(c);
      c.key = key;
      this.register(c);
    }
  }

  private register(c: Chain): void {
    const list = c.doc.byKey.get(c.key);
    if (list) list.push(c);
    else c.doc.byKey.set(c.key, [c]);
  }

  private unregister(c: Chain): void {
    const list = c.doc.byKey.get(c.key);
    if (!list) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) c.doc.byKey.delete(c.key);
  }

  private remove(c: Chain): void {
    this.suspects.delete(c);
    if (!this.lru.delete(c)) return;
    this.unregister(c);
    this.total -= c.bytes;
  }

  private addBytes(c: Chain, delta: number): void {
    c.bytes += delta;
    if (this.lru.has(c)) this.total += delta;
  }

  private evict(): void {
    for (const c of this.suspects) {
      if (this.total <= this.opts.maxBytes) return;
      this.remove(c);
    }
    for (const c of this.lru.keys()) {
      if (this.total <= this.opts.maxBytes) break;
      this.remove(c);
    }
  }

  /**
   * The state after text[cs, cs + rel) read from zero, from the chain of anchor cs: from the farthest
   * usable kept state, keeping new states when the read extends the chain. Returns a copy.
   */
  private readChain(d: DocChains, text: string, cs: number, t: number, isCancelled?: () => boolean): { state: InferenceState; tokensRead: number } {
    const rel = t - cs;
    if (rel === 0) return { state: this.session.newState(), tokensRead: 0 };
    const c = this.findChain(d, text, cs, rel);
    this.lru.delete(c);
    this.lru.set(c, true);
    this.suspects.delete(c);
    c.at = cs;
    try {
      this.reconcile(c, text, cs);
      return this.readFrom(c, text, cs, rel, isCancelled);
    } finally {
      this.evict();
    }
  }

  private readFrom(c: Chain, text: string, cs: number, rel: number, isCancelled?: () => boolean): { state: InferenceState; tokensRead: number } {
    const m = Math.min(c.text.length, text.length - cs); // the chain agrees with text for m units
    // An exact hit, or the farthest kept state that splits the tokens (index -1: the zero state).
    let start = -1;
    for (let i = 0; i < c.kept.length; i++) {
      const k = c.kept[i];
      if (k.off > rel) break;
      if (k.off === rel && k.off <= m) return { state: this.session.copyState(k.state), tokensRead: 0 };
      if (this.splits(k, m, text, cs)) start = i;
    }
    let from = start >= 0 ? c.kept[start].off : 0;
    // A cursor this chain serves is at least minLines lines below its anchor (unless the anchor is 0), so
    // states before there only restart a read after an edit above the cursor: they are kept SPARSE times
    // sparser, and a state is kept at the first cut from there on.
    let dense = 0;
    if (cs > 0) {
      for (let k = 0; k < this.opts.context.minLines && dense >= 0; k++) dense = text.indexOf('\n', cs + dense) + 1 - cs;
      if (dense < 0) dense = Infinity;
    }
    const cuts = this.pieces(text, cs, from, rel, start >= 0 ? c.kept[start] : null, c, dense);
    // BPE: a kept state (the tip read at an earlier cursor) that the scan shows to be a chunk boundary
    // of the current text saves reading up to it.
    for (let i = c.kept.length - 1; i > start; i--) {
      const k = c.kept[i];
      if (k.off <= rel && k.off <= m && cuts.some((p) => p.off === k.off)) {
        start = i;
        from = k.off;
        break;
      }
    }
    const extending = c.kept.length === 0 || c.kept[c.kept.length - 1].off <= rel;
    if (extending) {
      // States past the start up to rel were not usable (unsettled tips): they go.
      while (c.kept.length > start + 1) this.addBytes(c, -c.kept.pop()!.bytes);
    }
    const state = start >= 0 ? this.session.copyState(c.kept[start].state) : this.session.newState();
    let lastSpaced = 0;
    let lastSpacedOff = 0;
    for (let i = start; i >= 0; i--) {
      if (c.kept[i].spaced) {
        lastSpaced = c.kept[i].state.position;
        lastSpacedOff = c.kept[i].off;
        break;
      }
    }
    let tokensRead = 0;
    let pending: number[] = [];
    for (const p of cuts) {
      if (p.off <= from) continue;
      for (let j = 0; j < p.ids.length; j++) pending.push(p.ids[j]);
      const since = state.position + pending.length - lastSpaced;
      const spaced = p.stable && (since >= (p.off < dense ? SPARSE : 1) * this.opts.everyTokens || (p.off >= dense && lastSpacedOff < dense));
      if (!spaced && p.off !== rel) continue;
      throwIfCancelled(isCancelled);
      this.session.feedMany(state, pending);
      tokensRead += pending.length;
      pending = [];
      if (!extending) continue;
      // The previous tip (not a spaced state) is superseded by any newer state.
      const last = c.kept[c.kept.length - 1];
      if (last && !last.spaced) this.addBytes(c, -c.kept.pop()!.bytes);
      const kept = this.session.copyState(state);
      const k: Kept = { off: p.off, state: kept, spaced, stable: p.stable, bytes: stateBytes(kept) };
      c.kept.push(k);
      this.addBytes(c, k.bytes);
      if (spaced) [lastSpaced, lastSpacedOff] = [state.position, p.off];
    }
    if (!extending && tokensRead > 0) {
      // A request inside the chain (the cursor moved up): keep its state too, so that asking again costs
      // nothing; at most one such state between two spaced ones.
      let i = start + 1;
      while (i < c.kept.length && c.kept[i].off < rel) i++;
      let j = i;
      while (j < c.kept.length - 1 && !c.kept[j].spaced) j++; // the chain's tip stays
      let lo = i;
      while (lo > start + 1 && !c.kept[lo - 1].spaced) lo--;
      for (const k of c.kept.slice(lo, j)) this.addBytes(c, -k.bytes);
      const copy = this.session.copyState(state);
      const k: Kept = { off: rel, state: copy, spaced: false, stable: cuts[cuts.length - 1].stable, bytes: stateBytes(copy) };
      c.kept.splice(lo, j - lo, k);
      this.addBytes(c, k.bytes);
    }
    return { state, tokensRead };
  }

  /**
   * The pieces of a read from `from` to `rel` (offsets from cs), in order, each ending where a state
   * may be kept, with its tokens; the last ends at rel. BPE: one piece per pre-tokenizer chunk of the
   * current text (stable when LOOKAHEAD units past its end are in the text); char: pieces of about
   * everyTokens tokens counted from the last spaced state (an unknown character's escape is 7 tokens)
   * and one ending at `dense`, never splitting a surrogate pair. The pieces' tokens joined are encode(text.slice(cs + from, cs + rel)).
   */
  private pieces(text: string, cs: number, from: number, rel: number, startKept: Kept | null, c: Chain, dense: number): Piece[] {
    const out: Piece[] = [];
    if (this.bpe) {
      const end = Math.min(text.length, cs + rel + BPE_LOOKAHEAD);
      const base = cs + from;
      preTokenize(text.slice(base, end), (s, e) => {
        const off = from + e;
        if (off <= rel) out.push({ off, stable: cs + off + BPE_LOOKAHEAD <= text.length, ids: this.tokenizer.encode(text.slice(base + s, base + e)) });
      });
      if (out.length === 0 || out[out.length - 1].off !== rel) {
        throw new Error(`state cache: offset ${cs + rel} is not a pre-tokenizer chunk boundary of the text from ${cs}; pass readBoundary()`);
      }
      return out;
    }
    let since = 0;
    if (startKept) {
      let lastSpaced = 0;
      for (const k of c.kept) if (k.spaced && k.off <= startKept.off) lastSpaced = k.state.position;
      since = startKept.state.position - lastSpaced;
    }
    const every = this.opts.everyTokens;
    const slice = text.slice(cs + from, cs + rel);
    const ids = this.tokenizer.encode(slice);
    let j = 0;
    let pieceStart = 0;
    for (let i = 0; i < slice.length; ) {
      const cp = slice.codePointAt(i)!;
      i += cp > 0xffff ? 2 : 1;
      const n = ids[j] === CHAR_UNK ? 7 : 1;
      j += n;
      since += n;
      if ((since >= every || from + i === dense) && i < slice.length) {
        out.push({ off: from + i, stable: true, ids: ids.subarray(pieceStart, j) });
        pieceStart = j;
        since = 0;
      }
    }
    out.push({ off: rel, stable: true, ids: ids.subarray(pieceStart) });
    return out;
  }
}
