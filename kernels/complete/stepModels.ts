// The step models the completion decoder (decode.ts) runs on: the recurrent session (LSTM/GRU/RNN), the
// character n-gram alone (the evaluation's n-gram baseline), and their mixture p = w·p_ngram + (1−w)·p_lstm
// over the session's vocabulary (char tokenizer only). Each also implements InPlaceStepModel, so greedy
// decoding copies the start state once and then feeds it in place; next() always leaves its argument as
// it was (beam search keeps several states). probs() writes into one buffer per model, reused every call.
// Plain TypeScript: no vscode or Node-only imports.

import { check } from '../errors';
import type { InferenceSession, InferenceState } from '../infer';
import type { Tokenizer } from '../tokenizer';
import { CHAR_UNK } from '../tokenizer/char';
import { decodeWtf8, encodeWtf8 } from '../tokenizer/utf8';
import type { InPlaceStepModel } from './decode';
import type { KneserNeyModel } from './ngram';
import type { StepModel } from './types';

/** softmax(logits) into out (float64 sum); a state that has read nothing yet (no logits) gets the uniform distribution. */
function softmaxInto(logits: Float32Array | null, out: Float32Array): Float32Array {
  const V = out.length;
  if (!logits) {
    out.fill(1 / V);
    return out;
  }
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (logits[j] > max) max = logits[j];
  let sum = 0;
  for (let j = 0; j < V; j++) {
    const e = Math.exp(logits[j] - max);
    out[j] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let j = 0; j < V; j++) out[j] *= inv;
  return out;
}

/** The last `n` code points of `text` (a lone surrogate counts as one, as codePointAt reads it). */
function lastCodePoints(text: string, n: number): number[] {
  const out: number[] = [];
  let i = text.length;
  while (i > 0 && out.length < n) {
    const lo = text.charCodeAt(i - 1);
    if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
      const hi = text.charCodeAt(i - 2);
      if (hi >= 0xd800 && hi <= 0xdbff) {
        out.push(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
        i -= 2;
        continue;
      }
    }
    out.push(lo);
    i--;
  }
  return out.reverse();
}

/** The n-gram's context after appending `cp`, kept to the last `keep` code points. */
function appended(context: readonly number[], cp: number, keep: number): number[] {
  const from = Math.max(0, context.length + 1 - keep);
  const out = context.slice(from);
  out.push(cp);
  return keep === 0 ? [] : out;
}

/** Appends `cp` to a context array in place, trimming it now and then so it stays short. */
function pushInPlace(context: number[], cp: number, keep: number): void {
  context.push(cp);
  if (context.length > keep + 64) context.splice(0, context.length - keep);
}

/** The code point a char-tokenizer token stands for (bytes of one code point), or -1 for none. */
function codePointOfBytes(b: Uint8Array | null): number {
  if (!b || b.length === 0) return -1;
  const s = decodeWtf8(b);
  const cp = s.codePointAt(0)!;
  return s.length === (cp > 0xffff ? 2 : 1) ? cp : -1;
}

/** The LSTM/GRU/RNN session: probs = softmax of the state's logits; next = a copy fed one token. */
export function sessionStepModel(session: InferenceSession, tokenizer: Tokenizer): StepModel<InferenceState> {
  const V = session.vocabSize;
  check(tokenizer.vocabSize === V, `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary has ${V}; use the tokenizer saved with the model`);
  const buf = new Float32Array(V);
  const model: InPlaceStepModel<InferenceState> = {
    vocabSize: V,
    probs: (s) => softmaxInto(s.logits, buf),
    next: (s, id) => {
      const t = session.copyState(s);
      session.feed(t, id);
      return t;
    },
    copy: (s) => session.copyState(s),
    advance: (s, id) => {
      session.feed(s, id);
    },
    bytesOf: (id) => tokenizer.bytesOf(id),
  };
  return model;
}

/** The n-gram's state: the code points read so far (only the last order − 1 matter). */
export interface NgramState {
  readonly context: readonly number[];
}

/** The n-gram alone (its own vocabulary: the code points it knows). */
export function ngramStepModel(ngram: KneserNeyModel): StepModel<NgramState> {
  const V = ngram.vocabSize;
  const keep = Math.max(0, ngram.order - 1);
  const unknown = V - 1;
  const bytes: (Uint8Array | null)[] = [];
  const cps = new Int32Array(V);
  for (let id = 0; id < V; id++) {
    const cp = id === unknown ? -1 : ngram.codePointOf(id);
    cps[id] = cp;
    bytes.push(cp < 0 ? null : encodeWtf8(String.fromCodePoint(cp)));
  }
  const buf = new Float32Array(V);
  const model: InPlaceStepModel<NgramState> = {
    vocabSize: V,
    probs: (s) => {
      ngram.distribution(s.context, buf);
      return buf;
    },
    next: (s, id) => ({ context: appended(s.context, cps[id], keep) }),
    copy: (s) => ({ context: s.context.slice(Math.max(0, s.context.length - keep)) }),
    advance: (s, id) => pushInPlace(s.context as number[], cps[id], keep),
    bytesOf: (id) => bytes[id],
  };
  return model;
}

export interface MixtureState {
  readonly lstm: InferenceState;
  readonly context: readonly number[];
}

/**
 * weight × the n-gram + (1 − weight) × the session, over the session's vocabulary (a char tokenizer's:
 * each token one code point; <unk> and nibbles get the session's share only).
 *
 * So that the distribution sums to 1, the n-gram's probability of every code point the session has no
 * token for (its own unknown id included) goes to the session's <unk> (the escape such a character would
 * be written with); a session token whose code point the n-gram does not know gets only the session's
 * share. The decoder never emits <unk> or nibbles (bytesOf is null for them). The n-gram's context skips
 * the escape tokens (an escaped character reaches it as -1, which it reads as unknown).
 */
export function mixtureStepModel(session: InferenceSession, tokenizer: Tokenizer, ngram: KneserNeyModel, weight: number): StepModel<MixtureState> {
  check(tokenizer.kind === 'char', `the n-gram mixes only with a char tokenizer's model, not '${tokenizer.kind}'`);
  check(weight >= 0 && weight <= 1, `the n-gram's weight must be from 0 to 1, got ${weight}`);
  const V = session.vocabSize;
  check(tokenizer.vocabSize === V, `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary has ${V}; use the tokenizer saved with the model`);
  const keep = Math.max(0, ngram.order - 1);
  const unknown = ngram.vocabSize - 1;
  // Per session token: its code point (-1: an escape token) and the n-gram's id for it (-1: none).
  const cps = new Int32Array(V);
  const ngId = new Int32Array(V);
  for (let t = 0; t < V; t++) {
    const cp = codePointOfBytes(tokenizer.bytesOf(t));
    cps[t] = cp;
    const id = cp < 0 ? unknown : ngram.idOf(cp);
    ngId[t] = id === unknown ? -1 : id;
  }
  const sBuf = new Float32Array(V);
  const nBuf = new Float64Array(ngram.vocabSize);
  const out = new Float32Array(V);
  const w = weight;
  const feedCp = (t: number): number => (t === CHAR_UNK ? -1 : cps[t]);
  const model: InPlaceStepModel<MixtureState> = {
    vocabSize: V,
    probs: (s) => {
      softmaxInto(s.lstm.logits, sBuf);
      ngram.distribution(s.context, nBuf);
      let covered = 0;
      for (let t = 0; t < V; t++) {
        const q = ngId[t] >= 0 ? nBuf[ngId[t]] : 0;
        covered += q;
        out[t] = (1 - w) * sBuf[t] + w * q;
      }
      out[CHAR_UNK] += w * Math.max(0, 1 - covered);
      return out;
    },
    next: (s, id) => {
      const lstm = session.copyState(s.lstm);
      session.feed(lstm, id);
      const cp = feedCp(id);
      return { lstm, context: cps[id] < 0 && id !== CHAR_UNK ? s.context.slice() : appended(s.context, cp, keep) };
    },
    copy: (s) => ({ lstm: session.copyState(s.lstm), context: s.context.slice(Math.max(0, s.context.length - keep)) }),
    advance: (s, id) => {
      session.feed(s.lstm, id);
      if (cps[id] >= 0 || id === CHAR_UNK) pushInPlace(s.context as number[], feedCp(id), keep);
    },
    bytesOf: (id) => tokenizer.bytesOf(id),
  };
  return model;
}

/** The mixture's first state from the session's state and the code points of the text it read. */
export function mixtureState(lstm: InferenceState, textRead: string, order: number): MixtureState {
  return { lstm, context: lastCodePoints(textRead, Math.max(0, order - 1)) };
}
