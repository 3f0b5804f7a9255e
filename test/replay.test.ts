// The completion evaluation's replay (kernels/complete/replay.ts) with fake systems: exact counts of
// shown, accepted, keystrokes and saved characters on hand-worked files (surrogate pairs included),
// the same figures as an independent code-point reference on random files and random systems, the
// word baseline's bookkeeping of typed words, and the latency run's edits and requests. Nothing here
// needs the engine's parts (anchors, cache, decoder, n-gram): those are tested in their own files and,
// end to end, in cliEvalCompletions.test.ts.

import * as assert from 'assert';
import * as fc from 'fast-check';
import { Rng } from '../kernels/rng';
import type { CompleteRequest, CompleteResult } from '../kernels/complete/engine';
import {
  LatencyTarget, ReplaySystem, SystemReport, WordSource, codePointCount, engineSystem, lastCodePoints, latencyFile, latencyRun, percentiles,
  randomEdit, replay, wordSystem,
} from '../kernels/complete/replay';
import { DEFAULT_DECODE } from '../kernels/complete/types';

/** A system that answers from a function of (file index, text before the cursor), recording every call. */
function fake(name: string, answer: (fileIndex: number, text: string) => string | null) {
  const calls: string[] = [];
  const events: string[] = [];
  const system: ReplaySystem = {
    name,
    startFile: (i) => events.push(`start ${i}`),
    endFile: (i) => events.push(`end ${i}`),
    suggest: (i, text) => {
      calls.push(text);
      return answer(i, text);
    },
  };
  return { system, calls, events };
}

/** The counts of a report (latency left out: it is timing). */
function counts(r: SystemReport) {
  const { name, shown, accepted, keystrokes, saved, chars, requests, savedPercent, acceptRate, shownPer100Chars } = r;
  return { name, shown, accepted, keystrokes, saved, chars, requests, savedPercent, acceptRate, shownPer100Chars };
}

describe('replay: exact counts', () => {
  const file = 'abcdefghij';

  it('an oracle of 3 characters, an always-wrong and a silent system', () => {
    const oracle = fake('oracle', (_i, t) => file.slice(t.length, t.length + 3));
    const wrong = fake('wrong', () => 'X');
    const silent = fake('silent', () => null);
    const [o, w, s] = replay([file], [oracle.system, wrong.system, silent.system]);
    // Oracle: accepts at 0 ("abc"), 3 ("def"), 6 ("ghi"), 9 ("j"): 4 keys, 2 + 2 + 2 + 0 saved.
    assert.deepStrictEqual(counts(o), { name: 'oracle', shown: 4, accepted: 4, keystrokes: 4, saved: 6, chars: 10, requests: 4, savedPercent: 60, acceptRate: 1, shownPer100Chars: 40 });
    assert.deepStrictEqual(oracle.calls, ['', 'abc', 'abcdef', 'abcdefghi']);
    assert.deepStrictEqual(counts(w), { name: 'wrong', shown: 10, accepted: 0, keystrokes: 10, saved: 0, chars: 10, requests: 10, savedPercent: 0, acceptRate: 0, shownPer100Chars: 100 });
    assert.deepStrictEqual(wrong.calls, Array.from({ length: 10 }, (_, i) => file.slice(0, i)));
    assert.deepStrictEqual(counts(s), { name: 'silent', shown: 0, accepted: 0, keystrokes: 10, saved: 0, chars: 10, requests: 10, savedPercent: 0, acceptRate: 0, shownPer100Chars: 0 });
    for (const r of [o, w, s]) assert.ok(r.latencyMs.p50 >= 0 && r.latencyMs.p50 <= r.latencyMs.p95 && r.latencyMs.p95 <= r.latencyMs.p99);
  });

  it('a system right at some positions and wrong at others; a suggestion longer than the rest of the file', () => {
    // At even lengths: the next 2 characters (right); at odd lengths: 'zz' (wrong); from 8 on: 'ij!' (too long).
    const mixed = fake('mixed', (_i, t) => (t.length >= 8 ? 'ij!' : t.length % 2 === 0 ? file.slice(t.length, t.length + 2) : 'zz'));
    const [r] = replay([file], [mixed.system]);
    // 0: accept "ab" → 2: accept "cd" → 4: accept "ef" → 6: accept "gh" → 8: 'ij!' wrong, type i → 9: wrong, type j.
    assert.deepStrictEqual(mixed.calls, ['', 'ab', 'abcd', 'abcdef', 'abcdefgh', 'abcdefghi']);
    assert.deepStrictEqual(counts(r), { name: 'mixed', shown: 6, accepted: 4, keystrokes: 6, saved: 4, chars: 10, requests: 6, savedPercent: 40, acceptRate: 4 / 6, shownPer100Chars: 60 });
  });

  it('files add up; startFile and endFile bracket each file; the file index is passed', () => {
    const seen: number[] = [];
    const sys = fake('first-char', (i, t) => {
      seen.push(i);
      return t.length === 0 ? ['ab', 'x'][i] : null;
    });
    const reports: SystemReport[][] = [];
    const [r] = replay(['abc', 'xyz'], [sys.system], { onFile: (_i, soFar) => reports.push(soFar) });
    assert.deepStrictEqual(sys.events, ['start 0', 'end 0', 'start 1', 'end 1']);
    assert.deepStrictEqual(seen, [0, 0, 1, 1, 1]);
    // File 0: accept "ab" (1 key, 1 saved), type c. File 1: accept "x" (1 key, 0 saved), type y, z.
    assert.deepStrictEqual(counts(r), { name: 'first-char', shown: 2, accepted: 2, keystrokes: 5, saved: 1, chars: 6, requests: 5, savedPercent: 100 / 6, acceptRate: 1, shownPer100Chars: 200 / 6 });
    assert.strictEqual(reports.length, 2);
    assert.strictEqual(reports[0][0].keystrokes, 2);
    assert.strictEqual(reports[1][0].keystrokes, 5);
  });

  it('a surrogate pair is one character: one key, never split, counted once in a saved suggestion', () => {
    const file2 = 'a😀b😀';
    const silent = fake('silent', () => null);
    const oracle = fake('oracle', (_i, t) => (t === 'a' ? '😀b' : null));
    const [s, o] = replay([file2], [silent.system, oracle.system]);
    assert.deepStrictEqual(silent.calls, ['', 'a', 'a😀', 'a😀b']);
    assert.deepStrictEqual(counts(s), { name: 'silent', shown: 0, accepted: 0, keystrokes: 4, saved: 0, chars: 4, requests: 4, savedPercent: 0, acceptRate: 0, shownPer100Chars: 0 });
    assert.deepStrictEqual(oracle.calls, ['', 'a', 'a😀b']);
    assert.deepStrictEqual(counts(o), { name: 'oracle', shown: 1, accepted: 1, keystrokes: 3, saved: 1, chars: 4, requests: 3, savedPercent: 25, acceptRate: 1, shownPer100Chars: 25 });
  });

  it('rejects an empty suggestion and one that would end inside a surrogate pair', () => {
    assert.throws(() => replay(['abc'], [fake('empty', () => '').system]), /suggested "".*null or non-empty/);
    assert.throws(() => replay(['a😀'], [fake('half', (_i, t) => (t === 'a' ? '\ud83d' : null)).system]), /inside a surrogate pair/);
  });
});

/** The replay written again over code points (arrays of characters), for the property test. */
function referenceReplay(files: string[], answer: (fileIndex: number, text: string) => string | null) {
  let shown = 0, accepted = 0, keystrokes = 0, saved = 0, chars = 0;
  files.forEach((file, fi) => {
    const cps = Array.from(file);
    chars += cps.length;
    let i = 0;
    while (i < cps.length) {
      const s = answer(fi, cps.slice(0, i).join(''));
      keystrokes++;
      if (s !== null) {
        shown++;
        const n = Array.from(s).length;
        if (cps.slice(i, i + n).join('') === s) {
          accepted++;
          saved += n - 1;
          i += n;
          continue;
        }
      }
      i++;
    }
  });
  return { shown, accepted, keystrokes, saved, chars };
}

describe('replay: against a code-point reference', () => {
  it('random files (astral, CRLF) and random systems give the reference counts, and keystrokes + saved = chars', () => {
    const alphabet = ['a', 'b', ' ', '\n', '\r\n', '😀', 'é', '(', ')'];
    const fileArb = fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((xs) => xs.join(''));
    fc.assert(
      fc.property(fc.array(fileArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 1e9 }), (files, seed) => {
        // Deterministic in (file, text): right (the next 1-4 code points), wrong, or nothing.
        const answer = (fi: number, text: string): string | null => {
          const h = (seed ^ Math.imul(text.length + 7 * fi, 2654435761)) >>> 0;
          const kind = h % 3;
          if (kind === 0) return null;
          const rest = Array.from(files[fi].slice(text.length));
          if (kind === 1 && rest.length) return rest.slice(0, 1 + ((h >>> 4) % 4)).join('');
          return 'q' + ((h >>> 8) % 3 ? '' : 'é');
        };
        const [r] = replay(files, [fake('random', answer).system]);
        const want = referenceReplay(files, answer);
        assert.deepStrictEqual({ shown: r.shown, accepted: r.accepted, keystrokes: r.keystrokes, saved: r.saved, chars: r.chars }, want);
        assert.strictEqual(r.keystrokes + r.saved, r.chars);
        assert.strictEqual(r.requests, r.keystrokes);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});

describe('replay: helpers', () => {
  it('percentiles are nearest-rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    assert.deepStrictEqual(percentiles(xs), { p50: 50, p95: 95, p99: 99 });
    assert.deepStrictEqual(percentiles([3, 1, 2]), { p50: 2, p95: 3, p99: 3 });
    assert.deepStrictEqual(percentiles([7]), { p50: 7, p95: 7, p99: 7 });
    assert.deepStrictEqual(percentiles([]), { p50: 0, p95: 0, p99: 0 });
    assert.deepStrictEqual(percentiles([10, 2, 33]), { p50: 10, p95: 33, p99: 33 }); // numeric order, not string order
  });

  it('codePointCount and lastCodePoints', () => {
    assert.strictEqual(codePointCount('a😀\r\né\ud800'), 6);
    assert.deepStrictEqual(lastCodePoints('xa😀b', 3), [0x61, 0x1f600, 0x62]);
    assert.deepStrictEqual(lastCodePoints('😀', 6), [0x1f600]);
    assert.deepStrictEqual(lastCodePoints('ab', 0), []);
    assert.deepStrictEqual(lastCodePoints('a\udc00', 2), [0x61, 0xdc00]);
  });

  it('latencyFile: exactly N lines, each ending in a newline, the texts repeated when short', () => {
    const f = latencyFile(['a\nb', 'c\n'], 7);
    assert.strictEqual(f, 'a\nb\nc\na\nb\nc\na\n');
    assert.strictEqual(latencyFile(['x\ny\nz\n'], 2), 'x\ny\n');
    assert.throws(() => latencyFile(['', ''], 3), /no line/);
  });
});

describe('replay: the word baseline', () => {
  function recorder(dictionary: Record<string, string>): WordSource & { log: string[] } {
    const log: string[] = [];
    return {
      log,
      addFileWord: (w) => log.push(`add ${w}`),
      resetFile: () => log.push('reset'),
      suggest: (p) => {
        log.push(`ask ${p}`);
        return dictionary[p] ?? null;
      },
    };
  }

  it('asks with the identifier prefix being typed and adds each word once it ends, also when a suggestion jumped over it', () => {
    const words = recorder({ fo: 'o', b: 'ar q;' });
    const sys = wordSystem(words);
    const [r] = replay(['fo+ foo.bar q; x', 'y'], [sys]);
    assert.deepStrictEqual(words.log, [
      'reset',
      'ask f', 'ask fo', // nothing asked at '' (no prefix); "fo" → "o", wrong ('+' follows)
      'add fo', // '+' ends "fo"
      'ask f', 'ask fo', 'ask foo', // "fo" → "o", accepted: the next request is at "foo"
      'add foo', 'ask b', // '.' ends "foo"; "b" → "ar q;", accepted: it jumps over the end of "bar" and all of "q"
      'add bar', 'add q', // both words the jump ended; then ' ' and 'x' are typed, and the file ends
      'reset', // file 1: only '' asked
    ]);
    // File 0 (16 chars): 12 keys, "o" accepted (0 saved), "ar q;" accepted (4 saved); file 1: 1 key.
    assert.deepStrictEqual({ shown: r.shown, accepted: r.accepted, keystrokes: r.keystrokes, saved: r.saved, chars: r.chars }, { shown: 3, accepted: 2, keystrokes: 13, saved: 4, chars: 17 });
  });

  it('refuses a text that shrank within a file', () => {
    const sys = wordSystem(recorder({}));
    sys.startFile!(0);
    sys.suggest(0, 'abc def');
    assert.throws(() => sys.suggest(0, 'abc'), /shrank/);
  });
});

describe('replay: the engine system', () => {
  it('asks the engine as the editor does (nothing after the cursor, the cache as asked) and closes each file', () => {
    const asked: CompleteRequest[] = [];
    const closed: string[] = [];
    const engine = {
      complete: (req: CompleteRequest): CompleteResult => {
        asked.push(req);
        return { suggestion: req.text === 'a' ? { text: 'b', confidence: 1, tokens: 1 } : null, reason: 'shown', tokensRead: 0, contextStart: 0 };
      },
      close: (doc: string) => closed.push(doc),
    };
    const opts = { ...DEFAULT_DECODE, stopAt: 'identifier' as const };
    const [r] = replay(['abc', 'x'], [engineSystem('model', engine, opts, false)]);
    assert.deepStrictEqual(asked.map((q) => [q.doc, q.text, q.after, q.useCache, q.options]), [
      ['replay:0', '', '', false, opts], ['replay:0', 'a', '', false, opts], ['replay:0', 'ab', '', false, opts], ['replay:1', '', '', false, opts],
    ]);
    assert.deepStrictEqual(closed, ['replay:0', 'replay:1']);
    assert.strictEqual(r.accepted, 1);
    assert.strictEqual(r.keystrokes, 4);
  });
});

describe('replay: the latency run', () => {
  /** A target that records what it is asked and keeps the text it was told about. */
  function recordingTarget() {
    const log: { op: string; doc: string; arg: string | number; useCache?: boolean }[] = [];
    const target: LatencyTarget = {
      complete: (req) => {
        log.push({ op: 'complete', doc: req.doc, arg: req.text, useCache: req.useCache });
        return { suggestion: req.text.length % 2 ? { text: 'x', confidence: 1, tokens: 1 } : null, reason: 'shown', tokensRead: req.text.length % 7, contextStart: 0 };
      },
      edit: (doc, offset) => log.push({ op: 'edit', doc, arg: offset }),
      close: (doc) => log.push({ op: 'close', doc, arg: '' }),
      prime: (doc, text) => log.push({ op: 'prime', doc, arg: text }),
    };
    return { target, log };
  }

  it('random edits never split a surrogate pair, insert or delete 1-3 characters, and put the cursor after the edit', () => {
    const rng = new Rng(5);
    let text = 'ab😀\r\ncd😀😀e\n';
    let inserts = 0, deletes = 0;
    for (let i = 0; i < 2000; i++) {
      const e = randomEdit(text, rng);
      const d = e.text.length - text.length;
      assert.strictEqual(e.text.slice(0, e.offset), text.slice(0, e.offset));
      if (d > 0) {
        inserts++;
        assert.ok(d >= 1 && d <= 3, `inserted ${d}`);
        assert.strictEqual(e.cursor, e.offset + d);
        assert.strictEqual(e.text.slice(e.cursor), text.slice(e.offset));
      } else {
        deletes++;
        assert.ok(-d >= 1 && -d <= 4, `deleted ${-d}`); // 3 characters, 4 code units when the last is a pair
        assert.strictEqual(e.cursor, e.offset);
        assert.strictEqual(codePointCount(text) - codePointCount(e.text) <= 3, true);
      }
      assert.doesNotMatch(e.text, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, 'a lone surrogate');
      text = e.text.length > 60 || e.text.length < 4 ? 'ab😀\r\ncd😀😀e\n' : e.text;
    }
    assert.ok(inserts > 500 && deletes > 500, `${inserts} inserts, ${deletes} deletes`);
  });

  it('primes every line start with the cache, then edits and asks at the cursor; the same seed gives the same edits without the cache', () => {
    const file = latencyFile(['one\ntwo 😀\nthree\n'], 9);
    const a = recordingTarget();
    const withCache = latencyRun(a.target, file, { requests: 25, seed: 3, useCache: true, options: DEFAULT_DECODE });
    const primes = a.log.filter((l) => l.op === 'prime');
    const lineEnds = [...file.matchAll(/\n/g)].map((m) => m.index! + 1);
    assert.deepStrictEqual(primes.map((p) => p.arg), lineEnds.map((e) => file.slice(0, e)));
    const rest = a.log.slice(primes.length);
    assert.strictEqual(rest.length, 25 * 2 + 1);
    // Replay the same edits here: each request follows its edit and asks with the edited text up to the cursor.
    const rng = new Rng(3);
    let text = file;
    let shown = 0;
    const reads: number[] = [];
    for (let r = 0; r < 25; r++) {
      const e = randomEdit(text, rng);
      text = e.text;
      assert.deepStrictEqual(rest[2 * r], { op: 'edit', doc: 'latency:cache', arg: e.offset });
      assert.deepStrictEqual(rest[2 * r + 1], { op: 'complete', doc: 'latency:cache', arg: text.slice(0, e.cursor), useCache: true });
      if (e.cursor % 2) shown++;
      reads.push(e.cursor % 7);
    }
    assert.deepStrictEqual(rest[50], { op: 'close', doc: 'latency:cache', arg: '' });
    assert.strictEqual(withCache.shown, shown);
    assert.deepStrictEqual(withCache.tokensRead, percentiles(reads));
    assert.strictEqual(withCache.lines, 9);
    assert.strictEqual(withCache.requests, 25);
    assert.ok(withCache.warmSeconds >= 0);

    const b = recordingTarget();
    const without = latencyRun(b.target, file, { requests: 25, seed: 3, useCache: false, options: DEFAULT_DECODE });
    assert.strictEqual(b.log.filter((l) => l.op === 'prime').length, 0);
    assert.deepStrictEqual(b.log.map((l) => [l.op, l.arg]), rest.map((l) => [l.op, l.arg]));
    assert.ok(b.log.filter((l) => l.op === 'complete').every((l) => l.useCache === false));
    assert.strictEqual(without.warmSeconds, 0);
    assert.strictEqual(without.shown, shown);
  });

  it('rereadLines: after each request, primes the next N line starts after the edit (with the cache only)', () => {
    const file = latencyFile(['l1\nline two\n3\n'], 12);
    const a = recordingTarget();
    const r = latencyRun(a.target, file, { requests: 30, seed: 9, useCache: true, options: DEFAULT_DECODE, rereadLines: 4 });
    assert.strictEqual(r.rereadLines, 4);
    const rest = a.log.slice(file.split('\n').length - 1);
    const rng = new Rng(9);
    let text = file;
    let i = 0;
    for (let q = 0; q < 30; q++) {
      const e = randomEdit(text, rng);
      text = e.text;
      assert.deepStrictEqual([rest[i].op, rest[i + 1].op], ['edit', 'complete']);
      i += 2;
      const want: string[] = [];
      for (let at = e.offset, k = 0; k < 4; k++) {
        const nl = text.indexOf('\n', at);
        if (nl < 0) break;
        want.push(text.slice(0, nl + 1));
        at = nl + 1;
      }
      const got = [];
      while (i < rest.length && rest[i].op === 'prime') got.push(rest[i++].arg);
      assert.deepStrictEqual(got, want, `request ${q}`);
    }
    const b = recordingTarget();
    latencyRun(b.target, file, { requests: 30, seed: 9, useCache: false, options: DEFAULT_DECODE, rereadLines: 4 });
    assert.strictEqual(b.log.filter((l) => l.op === 'prime').length, 0);
  });
});
