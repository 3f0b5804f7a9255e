// The evaluation of inline completions (issue 11, `gatescope eval-completions`): every file is replayed
// as if typed left to right, and at every position each system is asked what it would show there. A
// suggestion that matches the text that follows exactly is accepted with one keystroke (Tab); otherwise
// one character is typed. The systems are the completion engine (the editor's own path:
// CompletionEngine.complete), the word baseline (VS Code's word-based completion) and the n-gram
// baseline (the same decoder on a Kneser-Ney model). Also the latency scenario of the issue's
// acceptance: requests at random edit positions in a long file, with and without the state cache.
// Plain TypeScript (no vscode or Node-only imports): the CLI runs it, and tests drive it with fakes.

import { Rng } from '../rng';
import type { CompleteRequest, CompleteResult, CompletionEngine } from './engine';
import { decodeSuggestion } from './decode';
import type { KneserNeyModel } from './ngram';
import { ngramStepModel } from './stepModels';
import { DecodeOptions } from './types';
import { isWordChar } from './wordCompletion';

/** A completion system as the replay sees it. */
export interface ReplaySystem {
  readonly name: string;
  /** File `fileIndex` starts (before its first suggest): forget what belonged to the previous file. */
  startFile?(fileIndex: number): void;
  /** File `fileIndex` was replayed to its end: free what was kept for it. */
  endFile?(fileIndex: number): void;
  /**
   * What the system would show with the cursor at the end of `text` (the file's text typed so far; within
   * a file each call's text extends the previous call's), or null for nothing. Never ''.
   */
  suggest(fileIndex: number, text: string, isCancelled?: () => boolean): string | null;
}

export interface LatencyMs {
  p50: number;
  p95: number;
  p99: number;
}

/** What the replay measured for one system. */
export interface SystemReport {
  name: string;
  /** 100 · saved / chars: the keystrokes the system saved, in percent of the characters typed without it. */
  savedPercent: number;
  /** accepted / shown (0 when nothing was shown). */
  acceptRate: number;
  /** 100 · shown / chars. */
  shownPer100Chars: number;
  /** Time of each suggest call (every position asked, shown or not). */
  latencyMs: LatencyMs;
  /** Positions where the system suggested something. */
  shown: number;
  /** Suggestions that matched the text that follows and were taken. */
  accepted: number;
  /** Keys pressed: one per typed character and one per accepted suggestion (keystrokes + saved = chars). */
  keystrokes: number;
  /** Characters inserted by accepted suggestions minus one Tab each. */
  saved: number;
  /** Characters of every file, counted in code points (a surrogate pair is one character: one key). */
  chars: number;
  /** suggest calls made. */
  requests: number;
}

export interface ReplayOptions {
  /** Called after each file with every system's figures so far (for progress lines). */
  onFile?(fileIndex: number, soFar: SystemReport[]): void;
  /** Handed to every suggest call. */
  isCancelled?: () => boolean;
}

/** Nearest-rank percentiles of `values` (ms); 0 for an empty list. */
export function percentiles(values: readonly number[]): LatencyMs {
  if (!values.length) return { p50: 0, p95: 0, p99: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** Code points in `s` (a lone surrogate counts as one). */
export function codePointCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    n++;
    if (isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
  }
  return n;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Whether offset `i` of `s` falls between the two halves of a surrogate pair. */
function splitsPair(s: string, i: number): boolean {
  return i > 0 && i < s.length && isLow(s.charCodeAt(i)) && isHigh(s.charCodeAt(i - 1));
}

interface Tally {
  shown: number;
  accepted: number;
  keystrokes: number;
  saved: number;
  chars: number;
  latencies: number[];
}

function report(name: string, t: Tally): SystemReport {
  return {
    name,
    savedPercent: t.chars ? (100 * t.saved) / t.chars : 0,
    acceptRate: t.shown ? t.accepted / t.shown : 0,
    shownPer100Chars: t.chars ? (100 * t.shown) / t.chars : 0,
    latencyMs: percentiles(t.latencies),
    shown: t.shown,
    accepted: t.accepted,
    keystrokes: t.keystrokes,
    saved: t.saved,
    chars: t.chars,
    requests: t.latencies.length,
  };
}

/**
 * Replays every file, typed left to right, through every system (file by file; within a file, system by
 * system). At each position p (< the file's length) the system is asked with the text before p; a
 * suggestion s is shown when non-null; it is accepted when the file continues with s at p: p += s.length,
 * one keystroke, s's characters − 1 saved; otherwise one character is typed (a surrogate pair is one
 * character, two code units), one keystroke. Each suggest call is timed with performance.now().
 */
export function replay(files: readonly string[], systems: readonly ReplaySystem[], opts: ReplayOptions = {}): SystemReport[] {
  const tallies: Tally[] = systems.map(() => ({ shown: 0, accepted: 0, keystrokes: 0, saved: 0, chars: 0, latencies: [] }));
  files.forEach((file, fileIndex) => {
    const chars = codePointCount(file);
    systems.forEach((system, k) => {
      const t = tallies[k];
      t.chars += chars;
      system.startFile?.(fileIndex);
      let pos = 0;
      while (pos < file.length) {
        const before = file.slice(0, pos);
        const t0 = performance.now();
        const s = system.suggest(fileIndex, before, opts.isCancelled);
        t.latencies.push(performance.now() - t0);
        t.keystrokes++;
        if (s !== null) {
          if (typeof s !== 'string' || s.length === 0) throw new Error(`replay: system ${system.name} suggested ${JSON.stringify(s)} at ${pos} of file ${fileIndex}; a suggestion is null or non-empty text`);
          t.shown++;
          if (file.startsWith(s, pos)) {
            if (splitsPair(file, pos + s.length)) throw new Error(`replay: system ${system.name}'s suggestion at ${pos} of file ${fileIndex} ends inside a surrogate pair`);
            t.accepted++;
            t.saved += codePointCount(s) - 1;
            pos += s.length;
            continue;
          }
        }
        pos += isHigh(file.charCodeAt(pos)) && pos + 1 < file.length && isLow(file.charCodeAt(pos + 1)) ? 2 : 1;
      }
      system.endFile?.(fileIndex);
    });
    opts.onFile?.(fileIndex, systems.map((s, k) => report(s.name, tallies[k])));
  });
  return systems.map((s, k) => report(s.name, tallies[k]));
}

// ---- The systems ----

/** The completion engine, as the editor asks it (the cursor at the end of the typed text, nothing after it). */
export function engineSystem(name: string, engine: Pick<CompletionEngine, 'complete' | 'close'>, options: DecodeOptions, useCache = true): ReplaySystem {
  const doc = (fileIndex: number) => `replay:${fileIndex}`;
  return {
    name,
    endFile: (fileIndex) => engine.close(doc(fileIndex)),
    suggest: (fileIndex, text, isCancelled) => engine.complete({ doc: doc(fileIndex), text, after: '', options, useCache, isCancelled }).suggestion?.text ?? null,
  };
}

/** What the word baseline needs of WordCompletion (wordCompletion.ts). */
export interface WordSource {
  addFileWord(word: string): void;
  resetFile(): void;
  suggest(prefix: string): string | null;
}

/**
 * VS Code's word-based completion as the baseline: once at least one identifier character of the current
 * word is typed, the rest of the most frequent word that strictly extends it (words of the file typed so
 * far plus the training corpus's counts: WordCompletion). Every word completed in the text (an identifier
 * run followed by another character) is added to the file's counts as the text grows.
 */
export function wordSystem(words: WordSource, name = 'word'): ReplaySystem {
  let scanned = 0; // text[0, scanned) has been read for words
  let wordStart = -1; // start of the identifier run that reaches `scanned`, or −1
  return {
    name,
    startFile: () => {
      words.resetFile();
      scanned = 0;
      wordStart = -1;
    },
    suggest: (_fileIndex, text) => {
      if (text.length < scanned) throw new Error(`word baseline: the text shrank from ${scanned} to ${text.length} characters within a file (call startFile first)`);
      for (let i = scanned; i < text.length; i++) {
        if (isWordChar(text.charCodeAt(i))) {
          if (wordStart < 0) wordStart = i;
        } else if (wordStart >= 0) {
          words.addFileWord(text.slice(wordStart, i));
          wordStart = -1;
        }
      }
      scanned = text.length;
      return wordStart >= 0 ? words.suggest(text.slice(wordStart)) : null;
    },
  };
}

/** The last `n` code points of `text`, oldest first (the n-gram's context). */
export function lastCodePoints(text: string, n: number): number[] {
  const out: number[] = [];
  let i = text.length;
  while (i > 0 && out.length < n) {
    const c = text.charCodeAt(i - 1);
    if (isLow(c) && i >= 2 && isHigh(text.charCodeAt(i - 2))) {
      out.push(text.codePointAt(i - 2)!);
      i -= 2;
    } else {
      out.push(c);
      i--;
    }
  }
  return out.reverse();
}

/**
 * The n-gram baseline: the engine's decoder with the same options, greedy, on the n-gram alone
 * (ngramStepModel), from the last order − 1 characters before the cursor.
 */
export function ngramSystem(ngram: KneserNeyModel, options: DecodeOptions, name = 'ngram'): ReplaySystem {
  const step = ngramStepModel(ngram);
  const greedy: DecodeOptions = { ...options, beamWidth: 1 };
  const none = new Uint8Array(0);
  return {
    name,
    suggest: (_fileIndex, text, isCancelled) => {
      const lineStart = text.lastIndexOf('\n', text.length - 1) + 1;
      const s = decodeSuggestion(step, { context: lastCodePoints(text, ngram.order - 1) }, none, text.slice(lineStart), greedy, isCancelled);
      return s?.text ?? null;
    },
  };
}

// ---- Latency with edits ----

/** What the latency run drives: the engine's request, edit and close, and reading a context into the cache. */
export interface LatencyTarget {
  complete(req: CompleteRequest): CompleteResult;
  edit(doc: string, offset: number): void;
  close(doc: string): void;
  /** Reads into the cache the context a request at the end of `text` needs (no decoding). */
  prime(doc: string, text: string): void;
}

/** The engine as a LatencyTarget: prime = the state cache's read to the request's read boundary. */
export function engineLatencyTarget(engine: CompletionEngine): LatencyTarget {
  return {
    complete: (req) => engine.complete(req),
    edit: (doc, offset) => engine.edit(doc, offset),
    close: (doc) => engine.close(doc),
    prime: (doc, text) => engine.prime(doc, text),
  };
}

export interface LatencyOptions {
  requests: number;
  seed: number;
  useCache: boolean;
  options: DecodeOptions;
  /**
   * With the cache: after each request, as untimed idle work, read into the cache the context of each of
   * the next this many line starts after the edit (the lines whose context the edit changed), so a later
   * request below an earlier edit finds its chain kept. 0 (default): no idle work between requests.
   */
  rereadLines?: number;
  /** Called with each request's figures (for tests and progress). */
  onRequest?(r: { text: string; cursor: number; ms: number; shown: boolean }): void;
}

export interface LatencyReport {
  lines: number;
  requests: number;
  useCache: boolean;
  /** Time the cache took to read the whole file before the first request (0 without the cache). */
  warmSeconds: number;
  latencyMs: LatencyMs;
  /**
   * Tokens the model read per request before decoding (CompleteResult.tokensRead; p50/p95/p99): with the
   * cache, the steps since the nearest kept state; a large figure is a request whose chain was not kept
   * (e.g. an earlier edit moved the anchor its context starts at).
   */
  tokensRead: LatencyMs;
  /** Requests that showed a suggestion. */
  shown: number;
  /** LatencyOptions.rereadLines, and the untimed idle work it took in all. */
  rereadLines: number;
  rereadSeconds: number;
}

/** Characters the latency run inserts (identifier characters, spaces and punctuation, as a typist would). */
const EDIT_ALPHABET = 'abcdefghijklmnopqrstuvwxyz_ ().;=';

/** One random edit of `text`: insert or delete 1 to 3 characters at a random position (never inside a surrogate pair). */
export function randomEdit(text: string, rng: Rng): { text: string; offset: number; cursor: number } {
  let at = rng.int(text.length + 1);
  if (splitsPair(text, at)) at--;
  const n = 1 + rng.int(3);
  if (rng.int(2) === 0 || at === text.length) {
    let ins = '';
    for (let i = 0; i < n; i++) ins += EDIT_ALPHABET[rng.int(EDIT_ALPHABET.length)];
    return { text: text.slice(0, at) + ins + text.slice(at), offset: at, cursor: at + n };
  }
  let end = Math.min(text.length, at + n);
  if (splitsPair(text, end)) end++;
  return { text: text.slice(0, at) + text.slice(end), offset: at, cursor: at };
}

/**
 * The latency scenario on one long file: with the cache, first the context of every line start
 * is read into it (as the editor's idle work would have; timed apart and reported as warmSeconds); then
 * `requests` times a random edit (randomEdit, seeded) is made and reported to the engine, and a request
 * is made at the edit's cursor (text = the edited text up to it), timed. The same seed gives the same
 * edits with and without the cache.
 */
export function latencyRun(target: LatencyTarget, fileText: string, opts: LatencyOptions): LatencyReport {
  const doc = `latency:${opts.useCache ? 'cache' : 'nocache'}`;
  let warmSeconds = 0;
  if (opts.useCache) {
    const t0 = performance.now();
    for (let i = fileText.indexOf('\n'); i >= 0; i = fileText.indexOf('\n', i + 1)) target.prime(doc, fileText.slice(0, i + 1));
    warmSeconds = (performance.now() - t0) / 1000;
  }
  const rng = new Rng(opts.seed);
  const latencies: number[] = [];
  const reads: number[] = [];
  let shown = 0;
  let text = fileText;
  const rereadLines = opts.rereadLines ?? 0;
  let rereadSeconds = 0;
  for (let r = 0; r < opts.requests; r++) {
    const e = randomEdit(text, rng);
    text = e.text;
    target.edit(doc, e.offset);
    const before = text.slice(0, e.cursor);
    const t0 = performance.now();
    const res = target.complete({ doc, text: before, after: '', options: opts.options, useCache: opts.useCache });
    const ms = performance.now() - t0;
    latencies.push(ms);
    reads.push(res.tokensRead);
    if (res.suggestion) shown++;
    opts.onRequest?.({ text: before, cursor: e.cursor, ms, shown: !!res.suggestion });
    if (opts.useCache && rereadLines > 0) {
      const t1 = performance.now();
      for (let k = 0, at = e.offset; k < rereadLines; k++) {
        const nl = text.indexOf('\n', at);
        if (nl < 0) break;
        target.prime(doc, text.slice(0, nl + 1));
        at = nl + 1;
      }
      rereadSeconds += (performance.now() - t1) / 1000;
    }
  }
  target.close(doc);
  return { lines: lineCount(fileText), requests: opts.requests, useCache: opts.useCache, warmSeconds, latencyMs: percentiles(latencies), tokensRead: percentiles(reads), shown, rereadLines, rereadSeconds };
}

function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n - 1 : n;
}

/**
 * A file of exactly `lines` lines (each ending in '\n') from the given texts in order, repeated when
 * they hold fewer lines. Throws when they hold no line at all.
 */
export function latencyFile(texts: readonly string[], lines: number): string {
  const parts: string[] = [];
  let have = 0;
  while (have < lines) {
    let added = 0;
    for (const t of texts) {
      for (let at = 0; at < t.length && have < lines; ) {
        let nl = t.indexOf('\n', at);
        if (nl < 0) nl = t.length;
        parts.push(t.slice(at, nl) + '\n');
        have++;
        added++;
        at = nl + 1;
      }
      if (have >= lines) break;
    }
    if (!added) throw new Error('latencyFile: the texts hold no line');
  }
  return parts.join('');
}
