// Anchors of the completion context (kernels/complete/anchors.ts): contextStart and anchorsBetween
// against a brute-force winnowing reference written here over the whole text, the guarantees the state
// cache relies on (an anchor at least every windowLines lines; an edit moves anchors only within
// windowLines lines of it; contextStart depends only on the text before the cursor), and readBoundary
// (no BPE token straddles it: the tokens up to it are a prefix of the tokens up to the cursor).

import * as assert from 'assert';
import { anchorCandidates, anchorsBetween, contextStart, lineHash, readBoundary } from '../kernels/complete/anchors';
import { ContextOptions, DEFAULT_CONTEXT } from '../kernels/complete/types';
import { Rng } from '../kernels/rng';
import { trainBpeTokenizer, trainCharTokenizer } from '../kernels/tokenizer';
import { preTokenize } from '../kernels/tokenizer/bpe';

/** Lines of code-like text with CRLF, tabs, repeats (hash ties), non-ASCII and astral characters. */
const LINE_POOL = [
  'const x = 1;', '  return foo(bar);', '}', '', '// 😀 emoji here', "let s = 'héllo wörld';", '\t\tif (a && b) {',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 text', 'x = y;\r', '    ', '}\r', 'function f(a, b) {', '  a += b; // ∑', '', '}', 'import { z } from "./z";',
];

function randomLine(rng: Rng): string {
  const base = LINE_POOL[rng.int(LINE_POOL.length)];
  return rng.next() < 0.3 ? base + ' ' + rng.int(1000) : base;
}

function randomText(rng: Rng, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(randomLine(rng));
  return out.join('\n') + (rng.next() < 0.5 ? '\n' : '');
}

/** Reference: the anchors of the whole text by the definition (every window of W complete lines, rightmost minimum), plus 0. */
function referenceAnchors(text: string, W: number): number[] {
  const starts: number[] = [];
  const hashes: number[] = [];
  let s = 0;
  for (;;) {
    const eol = text.indexOf('\n', s);
    if (eol < 0) break;
    starts.push(s);
    hashes.push(lineHash(text, s, eol));
    s = eol + 1;
  }
  const set = new Set<number>([0]);
  for (let k = 0; k + W <= starts.length; k++) {
    let best = k;
    for (let j = k; j < k + W; j++) if (hashes[j] <= hashes[best]) best = j;
    set.add(starts[best]);
  }
  return [...set].sort((a, b) => a - b);
}

/** Line starts of text, in order. */
function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

function referenceContextStart(text: string, offset: number, opts: ContextOptions): number {
  const before = text.slice(0, offset);
  const starts = lineStarts(before);
  const L = starts.length - 1; // the cursor's line
  const target = L - opts.minLines;
  if (target < 0) return 0;
  const limit = starts[target];
  let best = 0;
  for (const a of referenceAnchors(before, opts.windowLines)) if (a <= limit) best = a;
  return best;
}

const OPTIONS: ContextOptions[] = [DEFAULT_CONTEXT, { minLines: 3, windowLines: 5 }, { minLines: 0, windowLines: 4 }, { minLines: 5, windowLines: 1 }, { minLines: 2, windowLines: 8 }];

describe('anchors', () => {
  it('lineHash depends on the line text only (and on every code unit of it)', () => {
    assert.strictEqual(lineHash('ab\ncd', 3, 5), lineHash('cd', 0, 2));
    assert.notStrictEqual(lineHash('cd\r', 0, 3), lineHash('cd', 0, 2));
    assert.notStrictEqual(lineHash('ab', 0, 2), lineHash('ba', 0, 2));
  });

  for (const opts of OPTIONS) {
    const tag = `minLines ${opts.minLines}, windowLines ${opts.windowLines}`;

    it(`contextStart equals the whole-text winnowing reference (${tag})`, () => {
      const rng = new Rng(11 + opts.windowLines * 7 + opts.minLines);
      let checked = 0;
      for (let trial = 0; trial < 40; trial++) {
        const text = randomText(rng, rng.int(90));
        for (let q = 0; q < 12; q++) {
          const offset = rng.next() < 0.1 ? text.length : rng.int(text.length + 1);
          assert.strictEqual(contextStart(text, offset, opts), referenceContextStart(text, offset, opts),
            `trial ${trial}, offset ${offset} of ${text.length}`);
          checked++;
        }
      }
      assert.ok(checked >= 400);
    });

    it(`anchorsBetween equals the reference over any range (${tag})`, () => {
      const rng = new Rng(23 + opts.windowLines);
      for (let trial = 0; trial < 40; trial++) {
        const text = randomText(rng, rng.int(120));
        const all = referenceAnchors(text, opts.windowLines);
        assert.deepStrictEqual(anchorsBetween(text, 0, text.length, opts), all, `trial ${trial}: whole text`);
        for (let q = 0; q < 8; q++) {
          const a = rng.int(text.length + 1);
          const b = a + rng.int(text.length - a + 1);
          assert.deepStrictEqual(anchorsBetween(text, a, b, opts), all.filter((x) => x >= a && x <= b), `trial ${trial}: [${a}, ${b}]`);
        }
      }
    });

    it(`an anchor at least every windowLines lines; contextStart within minLines + windowLines lines (${tag})`, () => {
      const rng = new Rng(31 + opts.windowLines);
      for (let trial = 0; trial < 30; trial++) {
        const text = randomText(rng, 20 + rng.int(100));
        const starts = lineStarts(text);
        const complete = starts.length - 1; // lines ended by '\n'
        const lineOf = new Map(starts.map((s, i) => [s, i]));
        const lines = anchorsBetween(text, 0, text.length, opts).map((a) => lineOf.get(a)!);
        for (let i = 1; i < lines.length; i++) assert.ok(lines[i] - lines[i - 1] <= opts.windowLines, `gap ${lines[i - 1]}..${lines[i]}`);
        if (complete >= opts.windowLines) assert.ok(complete - opts.windowLines - lines[lines.length - 1] <= 0, 'no anchor in the last window');
        for (let q = 0; q < 10; q++) {
          const offset = rng.int(text.length + 1);
          const cs = contextStart(text, offset, opts);
          const L = text.slice(0, offset).split('\n').length - 1;
          const csLine = lineOf.get(cs)!;
          assert.ok(cs === 0 || L - csLine >= opts.minLines, `cs line ${csLine} is fewer than minLines above line ${L}`);
          assert.ok(L - csLine <= Math.max(opts.minLines, 1) + opts.windowLines, `cs line ${csLine} is too far above line ${L}`);
        }
      }
    });
  }

  it('anchorCandidates holds the next line\'s context start (what warming reads ahead)', () => {
    const rng = new Rng(41);
    let changed = 0;
    for (const opts of OPTIONS) {
      for (let trial = 0; trial < 30; trial++) {
        const text = randomText(rng, 30 + rng.int(60)) + '\n';
        const ends: number[] = [];
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) ends.push(i);
        for (let L = 0; L + 1 < ends.length; L++) {
          const before = text.slice(0, ends[L]);
          const cs1 = contextStart(before, before.length, opts);
          const cs2 = contextStart(text, ends[L + 1], opts);
          const cands = anchorCandidates(before, cs1 + 1, before.length, opts);
          assert.deepStrictEqual(cands, [...new Set(cands)].sort((a, b) => a - b), 'not ascending and distinct');
          for (const a of anchorsBetween(before, cs1 + 1, before.length, opts)) assert.ok(cands.includes(a), `anchor ${a} missing`);
          if (cs2 !== cs1) {
            changed++;
            assert.ok(cands.includes(cs2), `${JSON.stringify(opts)} trial ${trial} line ${L}: next context start ${cs2} not among ${cands}`);
          }
        }
      }
    }
    assert.ok(changed > 300, `the context start changed only ${changed} times`);
  });

  it('contextStart is a function of the text before the cursor only', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 60; trial++) {
      const text = randomText(rng, rng.int(80));
      const offset = rng.int(text.length + 1);
      const other = text.slice(0, offset) + randomText(rng, rng.int(30));
      assert.strictEqual(contextStart(other, offset, DEFAULT_CONTEXT), contextStart(text, offset, DEFAULT_CONTEXT));
      assert.strictEqual(contextStart(text.slice(0, offset), offset, DEFAULT_CONTEXT), contextStart(text, offset, DEFAULT_CONTEXT));
    }
  });

  it('an edit moves anchors only within windowLines lines of it (elsewhere they shift with the text)', () => {
    const rng = new Rng(77);
    const opts = { minLines: 4, windowLines: 6 };
    let far = 0;
    for (let trial = 0; trial < 150; trial++) {
      const text = randomText(rng, 30 + rng.int(80));
      const p = rng.int(text.length + 1);
      const del = rng.next() < 0.5 ? rng.int(Math.min(12, text.length - p) + 1) : 0;
      const ins = ['x', '\n', '\r\n', '😀', '}\n\n', 'ab\ncd'][rng.int(6)];
      const edited = text.slice(0, p) + ins + text.slice(p + del);
      const delta = ins.length - del;
      const before = anchorsBetween(text, 0, text.length, opts);
      const after = anchorsBetween(edited, 0, edited.length, opts);
      // Lines wholly above the edit, W lines or more above its first line, keep their anchors; lines
      // below the edited region, W lines or more below its last line, keep theirs shifted by delta.
      const firstLine = text.slice(0, p).split('\n').length - 1;
      const startsOld = lineStarts(text);
      const lastLineNew = edited.slice(0, p + ins.length).split('\n').length - 1;
      const startsNew = lineStarts(edited);
      const upper = startsOld[Math.max(0, firstLine - opts.windowLines)];
      const lowerNew = startsNew[Math.min(startsNew.length - 1, lastLineNew + opts.windowLines)];
      const keepAbove = (xs: number[]) => xs.filter((a) => a <= upper);
      assert.deepStrictEqual(keepAbove(after), keepAbove(before), `trial ${trial}: anchors above the edit moved`);
      if (lastLineNew + opts.windowLines < startsNew.length - 1) {
        const belowNew = after.filter((a) => a >= lowerNew);
        const belowOld = before.filter((a) => a >= lowerNew - delta).map((a) => a + delta);
        assert.deepStrictEqual(belowNew, belowOld, `trial ${trial}: anchors below the edit moved`);
        far += belowNew.length;
      }
    }
    assert.ok(far > 100, `only ${far} anchors far below edits were compared`);
  });

  describe('readBoundary', () => {
    const corpus = LINE_POOL.join('\n').repeat(20);
    const bpe = trainBpeTokenizer(corpus, 300);
    const char = trainCharTokenizer(corpus, { maxVocab: 30 });

    it('is the cursor for the char tokenizer', () => {
      assert.strictEqual(readBoundary(char, 'abc\ndef', 2), 7);
    });

    it('is the start of the last pre-tokenizer chunk for BPE, and its tokens are a prefix of the tokens to the cursor', () => {
      const rng = new Rng(9);
      for (let trial = 0; trial < 300; trial++) {
        const text = randomText(rng, 1 + rng.int(12)).slice(0, 1 + rng.int(300));
        const cs = contextStart(text, text.length, { minLines: 2, windowLines: 3 });
        const b = readBoundary(bpe, text, cs);
        let last = 0;
        preTokenize(text.slice(cs), (s) => (last = s));
        assert.strictEqual(b, cs + last);
        const upTo = Array.from(bpe.encode(text.slice(cs, b)));
        const all = Array.from(bpe.encode(text.slice(cs)));
        assert.deepStrictEqual(all.slice(0, upTo.length), upTo, `trial ${trial}: tokens to the boundary are not a prefix`);
      }
    });
  });
});
