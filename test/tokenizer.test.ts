// Tokenizer tests: exact round trips of arbitrary strings (lone surrogates, astral characters, CRLF)
// through the character and byte-level BPE tokenizers, code point counting, incremental decoding,
// the WTF-8 codec, pre-tokenisation, BPE compression and speed on real source code, checkpoint JSON
// round trips and rejection of hostile JSON, and determinism.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as fc from 'fast-check';
import { readCorpus as readFolder } from '../cli/corpus';
import { GateScopeError } from '../kernels/errors';
import {
  Tokenizer,
  preTokenize,
  tokenizerFromJSON,
  trainBpeTokenizer,
  trainCharTokenizer,
} from '../kernels/tokenizer/index';
import { Wtf8Decoder, decodeWtf8, encodeWtf8 } from '../kernels/tokenizer/utf8';
import { skipOrFailUnderCI } from './ci';

/** A fixed small training sample of code: most random characters are unknown to tokenizers trained on it. */
const SAMPLE = [
  '// Sums the values of an array.\r\n',
  'export function sum(values: number[]): number {\n',
  '  let total = 0;\n',
  '  for (const v of values) total += v;\n',
  '  return total;\n',
  '}\n\n',
  'const greeting = "héllo → wörld";\n',
  'if (total > 10 && values.length !== 0) {\n',
  '    console.log(`total: ${total}`);\n',
  '}\n',
  'def mean(xs):\n    return sum(xs) / len(xs)  # average\n',
].join('').repeat(3);

// Trained on first use (not at load time, so a failure here is reported as a failing test).
let charCache: Tokenizer | undefined;
let bpeCache: Tokenizer | undefined;
const sampleChar = (): Tokenizer => (charCache ??= trainCharTokenizer(SAMPLE));
const sampleBpe = (): Tokenizer => (bpeCache ??= trainBpeTokenizer(SAMPLE, 400));

function sumCharCount(tok: Tokenizer, ids: Int32Array): number {
  let n = 0;
  for (const id of ids) n += tok.charCount(id);
  return n;
}

function decodeIncrementally(tok: Tokenizer, ids: ArrayLike<number>): string {
  const dec = tok.createDecoder();
  let s = '';
  for (let i = 0; i < ids.length; i++) s += dec.push(ids[i]);
  return s + dec.flush();
}

/** Everything a tokenizer promises about one string. */
function checkRoundTrip(tok: Tokenizer, s: string): void {
  const ids = tok.encode(s);
  assert.ok(ids instanceof Int32Array);
  for (const id of ids) assert.ok(id >= 0 && id < tok.vocabSize, `id ${id} out of range`);
  assert.strictEqual(tok.decode(ids), s);
  assert.strictEqual(sumCharCount(tok, ids), [...s].length);
  assert.strictEqual(decodeIncrementally(tok, ids), s);
}

const SPECIAL_PIECES = ['\uD800', '\uDFFF', '\uDBFF', '\uDC00', '\r\n', '\n', '😀', '👩‍💻', '🇫🇷', 'é', 'e\u0301', '  ', '\t', 'const x = 1;\r\n', '\u0000', '\uFFFD', '\u{10FFFF}'];

/** Random strings of any code points, mixed with lone surrogates, CRLF, emoji and code. */
const mixedString = fc
  .array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...SPECIAL_PIECES), fc.string({ unit: 'grapheme' })), { maxLength: 12 })
  .map((parts) => parts.join(''));

function hexEscape(cp: number): number[] {
  return [0, ...cp.toString(16).padStart(6, '0').split('').map((h) => 1 + parseInt(h, 16))];
}

describe('WTF-8 codec', () => {
  it('encodes like TextEncoder on well-formed strings and round-trips any string', () => {
    const te = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        assert.deepStrictEqual(encodeWtf8(s), te.encode(s));
        assert.strictEqual(decodeWtf8(encodeWtf8(s)), s);
      }),
      { numRuns: 1000 },
    );
    fc.assert(fc.property(mixedString, (s) => assert.strictEqual(decodeWtf8(encodeWtf8(s)), s)), { numRuns: 1000 });
  });

  it('writes lone surrogates in their 3-byte form and reads them back', () => {
    assert.deepStrictEqual([...encodeWtf8('\uD800')], [0xed, 0xa0, 0x80]);
    assert.deepStrictEqual([...encodeWtf8('\uDFFF')], [0xed, 0xbf, 0xbf]);
    assert.deepStrictEqual([...encodeWtf8('😀')], [0xf0, 0x9f, 0x98, 0x80]);
    assert.deepStrictEqual([...encodeWtf8('\uDC00\uD800')], [0xed, 0xb0, 0x80, 0xed, 0xa0, 0x80]);
    assert.strictEqual(decodeWtf8([0xed, 0xa0, 0x80]), '\uD800');
    assert.strictEqual(decodeWtf8([0x61, 0xed, 0xbf, 0xbf, 0x62]), 'a\uDFFFb');
  });

  it('decodes invalid bytes like TextDecoder (one U+FFFD per maximal invalid subpart)', () => {
    const td = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    // Bias towards interesting bytes: lead bytes, continuation bytes and the boundaries of their ranges.
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 24 }), fc.integer({ min: 0, max: 24 }), (bytes, cut) => {
        // TextDecoder rejects surrogates (ED A0..BF); WTF-8 accepts them, so leave those inputs out.
        for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0xed && bytes[i + 1] >= 0xa0 && bytes[i + 1] <= 0xbf) return;
        const expected = td.decode(Uint8Array.from(bytes));
        assert.strictEqual(decodeWtf8(bytes), expected);
        // Streaming: the same output whatever the split.
        const dec = new Wtf8Decoder();
        const out: number[] = [];
        dec.write(bytes.slice(0, cut), out);
        dec.write(bytes.slice(cut), out);
        dec.end(out);
        assert.strictEqual(String.fromCharCode(...out), expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('character tokenizer', () => {
  it('round-trips 1,000 random Unicode strings exactly, counting code points', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => checkRoundTrip(sampleChar(), s)), { numRuns: 1000 });
  });

  it('round-trips 1,000 strings with lone surrogates, CRLF and emoji', () => {
    fc.assert(fc.property(mixedString, (s) => checkRoundTrip(sampleChar(), s)), { numRuns: 1000 });
  });

  it('has the special tokens first and the vocabulary in code point order', () => {
    const tok = trainCharTokenizer('ba😀a\n');
    assert.strictEqual(tok.vocabSize, 17 + 4);
    assert.deepStrictEqual(tok.toJSON(), { kind: 'char', version: 1, chars: ['\n', 'a', 'b', '😀'] });
    assert.deepStrictEqual([...tok.encode('ab😀\n')], [18, 19, 20, 17]);
    assert.strictEqual(tok.tokenLabel(0), '<unk>');
    assert.strictEqual(tok.tokenLabel(1), '<unk:0>');
    assert.strictEqual(tok.tokenLabel(16), '<unk:f>');
    assert.strictEqual(tok.tokenLabel(17), '\n');
    assert.strictEqual(tok.tokenLabel(20), '😀');
    assert.strictEqual(tok.charCount(0), 1);
    assert.strictEqual(tok.charCount(5), 0);
    assert.strictEqual(tok.charCount(20), 1);
    assert.throws(() => tok.charCount(21), GateScopeError);
    assert.throws(() => tok.tokenLabel(-1), GateScopeError);
  });

  it('treats an emoji as one token and a lone surrogate as one code point', () => {
    const tok = trainCharTokenizer('x😀\uD800');
    assert.deepStrictEqual([...tok.encode('😀\uD800x')], [19, 18, 17]);
    assert.strictEqual(tok.decode(tok.encode('\uD800😀')), '\uD800😀');
  });

  it('escapes unknown characters as <unk> + 6 hex nibbles', () => {
    const tok = trainCharTokenizer('abc');
    assert.deepStrictEqual([...tok.encode('aΩ')], [17, ...hexEscape(0x3a9)]);
    assert.deepStrictEqual([...tok.encode('\u{10FFFF}')], hexEscape(0x10ffff));
    assert.deepStrictEqual([...tok.encode('\uDC00')], hexEscape(0xdc00));
    assert.deepStrictEqual(hexEscape(0x3a9), [0, 1, 1, 1, 4, 11, 10]);
  });

  it('decodes malformed escapes to U+FFFD for the <unk> and nothing for stray nibbles, never throwing', () => {
    const tok = trainCharTokenizer('abc'); // a=17 b=18 c=19
    assert.strictEqual(tok.decode([0, 1, 2, 17]), '\uFFFDa'); // <unk> cut short
    assert.strictEqual(tok.decode([0]), '\uFFFD');
    assert.strictEqual(tok.decode([0, 0, ...hexEscape(0x41).slice(1)]), '\uFFFDA');
    assert.strictEqual(tok.decode([5, 17, 16]), 'a'); // stray nibbles
    assert.strictEqual(tok.decode([0, 16, 16, 16, 16, 16, 16, 18]), '\uFFFDb'); // 0xFFFFFF is not a code point
    assert.strictEqual(tok.decode([17, 99, -1, 1.5, NaN, 18]), 'a\uFFFD\uFFFD\uFFFD\uFFFDb'); // bad ids
    const dec = tok.createDecoder();
    assert.strictEqual(dec.push(0), '');
    assert.strictEqual(dec.push(1), '');
    assert.strictEqual(dec.flush(), '\uFFFD');
    assert.strictEqual(dec.push(17), 'a'); // usable after flush
    // Any id sequence: incremental decoding gives the same text as decode().
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1, max: 21 }), { maxLength: 30 }), (ids) => {
        assert.strictEqual(decodeIncrementally(tok, ids), tok.decode(ids));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the maxVocab most frequent characters, ties going to the smaller code point', () => {
    const tok = trainCharTokenizer('zzzzyyyxxwwv', { maxVocab: 3 }); // x and w tie: w wins
    assert.deepStrictEqual(tok.toJSON(), { kind: 'char', version: 1, chars: ['w', 'y', 'z'] });
    const tie = trainCharTokenizer('dcba', { maxVocab: 2 });
    assert.deepStrictEqual(tie.toJSON(), { kind: 'char', version: 1, chars: ['a', 'b'] });
    assert.strictEqual(tok.decode(tok.encode('vwxyz!')), 'vwxyz!');
    assert.throws(() => trainCharTokenizer('a', { maxVocab: 0 }), GateScopeError);
    assert.throws(() => trainCharTokenizer('a', { maxVocab: 2.5 }), GateScopeError);
  });
});

describe('pre-tokenisation', () => {
  function chunks(text: string): string[] {
    const out: string[] = [];
    preTokenize(text, (s, e) => out.push(text.slice(s, e)));
    return out;
  }

  it('splits code into words, punctuation, whitespace and newline runs', () => {
    assert.deepStrictEqual(chunks('if (x) {\n    return  y_1;\r\n\n}'), ['if', ' (', 'x', ')', ' {', '\n', '   ', ' return', ' ', ' y_1', ';', '\r\n\n', '}']);
    assert.deepStrictEqual(chunks('a => b);\tc'), ['a', ' =>', ' b', ');', '\t', 'c']);
    assert.deepStrictEqual(chunks('  \n  '), ['  ', '\n', '  ']);
    assert.deepStrictEqual(chunks('héllo wörld😀😀'), ['héllo', ' wörld', '😀😀']);
    assert.deepStrictEqual(chunks(''), []);
  });

  it('cuts very long runs', () => {
    const long = 'a'.repeat(150);
    assert.deepStrictEqual(chunks(long), ['a'.repeat(64), 'a'.repeat(64), 'a'.repeat(22)]);
    assert.deepStrictEqual(chunks('😀'.repeat(65)), ['😀'.repeat(64), '😀']);
  });

  it('covers every character, in order, never splitting a surrogate pair', () => {
    fc.assert(
      fc.property(mixedString, (s) => {
        let pos = 0;
        preTokenize(s, (start, end) => {
          assert.strictEqual(start, pos);
          assert.ok(end > start);
          const c = s.charCodeAt(end - 1);
          const d = s.charCodeAt(end);
          assert.ok(!(c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff), 'split a surrogate pair');
          pos = end;
        });
        assert.strictEqual(pos, s.length);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('byte-level BPE tokenizer', () => {
  it('learned merges from the sample', () => {
    const bpe = sampleBpe();
    assert.ok(bpe.vocabSize > 300, `only ${bpe.vocabSize} tokens`);
    assert.ok(bpe.encode(SAMPLE).length < new TextEncoder().encode(SAMPLE).length / 2);
  });

  it('round-trips 1,000 random Unicode strings exactly, counting code points', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => checkRoundTrip(sampleBpe(), s)), { numRuns: 1000 });
  });

  it('round-trips 1,000 strings with lone surrogates, CRLF and emoji', () => {
    fc.assert(fc.property(mixedString, (s) => checkRoundTrip(sampleBpe(), s)), { numRuns: 1000 });
  });

  it('counts a lone surrogate as one character', () => {
    const bpe = sampleBpe();
    for (const s of ['\uD800', 'a\uDFFFb', '\uDC00\uD800', '😀\uD83D']) {
      assert.strictEqual(sumCharCount(bpe, bpe.encode(s)), [...s].length);
    }
  });

  it('labels byte tokens and merged tokens', () => {
    const bpe = sampleBpe();
    assert.strictEqual(bpe.tokenLabel(0x61), 'a');
    assert.strictEqual(bpe.tokenLabel(0x0a), '\n');
    assert.strictEqual(bpe.tokenLabel(0xe2), '<0xE2>');
    assert.strictEqual(bpe.tokenLabel(0x80), '<0x80>');
    const ret = [...bpe.encode(' return')];
    assert.strictEqual(ret.length, 1);
    assert.strictEqual(bpe.tokenLabel(ret[0]), ' return');
    assert.strictEqual(bpe.charCount(ret[0]), 7);
    assert.strictEqual(bpe.charCount(0xe2), 1);
    assert.strictEqual(bpe.charCount(0x80), 0);
    assert.throws(() => bpe.tokenLabel(bpe.vocabSize), GateScopeError);
    assert.throws(() => bpe.charCount(-1), GateScopeError);
  });

  it('holds incomplete UTF-8 bytes in the incremental decoder', () => {
    const bpe = sampleBpe();
    const dec = bpe.createDecoder();
    assert.strictEqual(dec.push(0x61), 'a');
    assert.strictEqual(dec.push(0xf0), '');
    assert.strictEqual(dec.push(0x9f), '');
    assert.strictEqual(dec.push(0x98), '');
    assert.strictEqual(dec.push(0x80), '😀');
    assert.strictEqual(dec.push(0xe2), '');
    assert.strictEqual(dec.flush(), '\uFFFD');
    assert.strictEqual(dec.push(0x62), 'b');
    assert.strictEqual(dec.push(0xc3), '');
    assert.strictEqual(dec.push(0x62), '\uFFFDb');
    assert.strictEqual(bpe.decode([0xe2, 0x61, 0xff, bpe.vocabSize, 0xc3, 0xa9]), '\uFFFDa\uFFFD\uFFFDé');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1, max: bpe.vocabSize }), { maxLength: 30 }), (ids) => {
        assert.strictEqual(decodeIncrementally(bpe, ids), bpe.decode(ids));
      }),
      { numRuns: 500 },
    );
  });

  it('never learns a token that crosses a chunk boundary', () => {
    const bpe = sampleBpe();
    for (let id = 256; id < bpe.vocabSize; id++) {
      const label = bpe.tokenLabel(id);
      if (label.includes('<0x')) continue;
      let n = 0;
      preTokenize(label, () => n++);
      assert.strictEqual(n, 1, `token ${JSON.stringify(label)} spans several chunks`);
    }
  });

  it('learns the same merges as a naive trainer that recounts every pair at every step', () => {
    // Reference: recount all pairs from scratch, take the highest count, then the smallest (left, right).
    function naiveMerges(text: string, vocabSize: number): [number, number][] {
      const freq = new Map<string, number>();
      preTokenize(text, (s, e) => freq.set(text.slice(s, e), (freq.get(text.slice(s, e)) ?? 0) + 1));
      const words = [...freq].map(([w, f]) => ({ ids: [...encodeWtf8(w)], f }));
      const merges: [number, number][] = [];
      while (256 + merges.length < vocabSize) {
        const counts = new Map<string, number>();
        for (const { ids, f } of words) for (let i = 0; i + 1 < ids.length; i++) counts.set(`${ids[i]},${ids[i + 1]}`, (counts.get(`${ids[i]},${ids[i + 1]}`) ?? 0) + f);
        let best: [number, number] | undefined;
        let bestCount = 1;
        for (const [k, c] of counts) {
          const [a, b] = k.split(',').map(Number);
          if (c > bestCount || (c === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
            best = [a, b];
            bestCount = c;
          }
        }
        if (!best) break;
        const z = 256 + merges.length;
        merges.push(best);
        for (const w of words) {
          const out: number[] = [];
          for (let i = 0; i < w.ids.length; ) {
            if (i + 1 < w.ids.length && w.ids[i] === best[0] && w.ids[i + 1] === best[1]) {
              out.push(z);
              i += 2;
            } else out.push(w.ids[i++]);
          }
          w.ids = out;
        }
      }
      return merges;
    }
    const codeish = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '_', ' ', ' ', '\n', '(', ')', ';', 'é', '😀'), maxLength: 300 });
    fc.assert(
      fc.property(codeish, fc.integer({ min: 256, max: 320 }), (text, v) => {
        const merges = (trainBpeTokenizer(text, v).toJSON() as { merges: [number, number][] }).merges;
        assert.deepStrictEqual(merges, naiveMerges(text, v));
      }),
      { numRuns: 300 },
    );
    assert.deepStrictEqual(naiveMerges(SAMPLE, 400), (sampleBpe().toJSON() as { merges: [number, number][] }).merges);
  });

  it('breaks ties by the smallest (left, right) pair', () => {
    // Chunks "ab", " cd", " ab", " cd": (a,b), (space,c) and (c,d) all occur twice; (space,c) is smallest.
    // Then a higher count beats a smaller pair: (z,y) occurs 3 times, (space,z) and (a,b) twice.
    assert.deepStrictEqual(trainBpeTokenizer('ab cd ab cd', 257).toJSON(), { kind: 'bpe', version: 1, merges: [[32, 99]] });
    assert.deepStrictEqual(trainBpeTokenizer('zy zy zy ab ab', 257).toJSON(), { kind: 'bpe', version: 1, merges: [[122, 121]] });
  });

  it('stops early when no pair occurs twice, and respects maxTrainChars', () => {
    assert.strictEqual(trainBpeTokenizer('ab', 1000).vocabSize, 256);
    assert.strictEqual(trainBpeTokenizer('', 1000).vocabSize, 256);
    assert.strictEqual(trainBpeTokenizer('ab ab', 1000).vocabSize, 257);
    const limited = trainBpeTokenizer(SAMPLE, 1000, { maxTrainChars: 200 });
    assert.deepStrictEqual(limited.toJSON(), trainBpeTokenizer(SAMPLE.slice(0, 200), 1000).toJSON());
    assert.ok(limited.vocabSize < sampleBpe().vocabSize);
    assert.strictEqual(trainBpeTokenizer(SAMPLE, 260).vocabSize, 260);
  });

  it('rejects vocabulary sizes outside 256..8192', () => {
    for (const v of [255, 8193, 300.5, NaN]) {
      assert.throws(() => trainBpeTokenizer('abc', v), (e: unknown) => e instanceof GateScopeError && /vocabulary size/.test(e.message));
    }
    assert.throws(() => trainBpeTokenizer('abc', 300, { maxTrainChars: 0 }), GateScopeError);
  });
});

/** The repository's own source, read exactly as `npm start` (gatescope train .) reads it. */
function readRepositorySource(): string {
  return readFolder(path.resolve(__dirname, '..', '..')).text;
}

describe('BPE on real source code', () => {
  it("vocabulary 2048 on the repository's source needs at least 2.5x fewer tokens than the character tokenizer", () => {
    const text = readRepositorySource();
    assert.ok(text.length > 100_000, `corpus too small: ${text.length} characters`);
    let t0 = performance.now();
    const tok = trainBpeTokenizer(text, 2048);
    const trainMs = performance.now() - t0;
    t0 = performance.now();
    const ids = tok.encode(text);
    const encodeMs = performance.now() - t0;
    const charTok = trainCharTokenizer(text);
    const charIds = charTok.encode(text);
    const ratio = charIds.length / ids.length;
    console.log(
      `      corpus ${(text.length / 1e3).toFixed(0)}k chars: BPE ${tok.vocabSize} tokens trained in ${trainMs.toFixed(0)} ms, ` +
        `encoded in ${encodeMs.toFixed(0)} ms to ${ids.length} tokens; char tokenizer ${charIds.length} tokens; ratio ${ratio.toFixed(2)}`,
    );
    assert.strictEqual(tok.vocabSize, 2048);
    assert.ok(ratio >= 2.5, `compression ratio ${ratio.toFixed(2)} < 2.5`);
    assert.strictEqual(tok.decode(ids), text);
    assert.strictEqual(sumCharCount(tok, ids), [...text].length);
    assert.strictEqual(decodeIncrementally(tok, ids.subarray(0, 5000)), tok.decode(ids.subarray(0, 5000)));
  });

  it('trains vocabulary 2048 on 1 MB of JavaScript in reasonable time', function () {
    const file = path.join(process.cwd(), 'node_modules', 'typescript', 'lib', 'typescript.js');
    if (!fs.existsSync(file)) skipOrFailUnderCI(this, `${file} is missing (it comes with the typescript dev dependency): run npm ci`);
    const text = fs.readFileSync(file, 'utf8').slice(0, 1_000_000);
    let t0 = performance.now();
    const tok = trainBpeTokenizer(text, 2048);
    const trainMs = performance.now() - t0;
    const fresh = tokenizerFromJSON(tok.toJSON()); // empty cache
    t0 = performance.now();
    const ids = fresh.encode(text);
    const encodeMs = performance.now() - t0;
    console.log(`      1 MB of typescript.js: trained in ${trainMs.toFixed(0)} ms, encoded (cold cache) in ${encodeMs.toFixed(0)} ms, ${(text.length / ids.length).toFixed(2)} chars/token`);
    // Generous bounds (a few times the expected times), so that only an algorithmic blow-up fails.
    assert.ok(trainMs < 30_000, `training took ${trainMs.toFixed(0)} ms`);
    assert.ok(encodeMs < 5_000, `encoding took ${encodeMs.toFixed(0)} ms`);
    assert.strictEqual(fresh.decode(ids), text);
  });
});

describe('tokenizer JSON', () => {
  const texts = [SAMPLE, 'Ω😀\uD800 unknown \r\n', 'function f() { return 42; }'];

  it('rebuilds the same tokenizers (same ids) through JSON text', () => {
    for (const tok of [sampleChar(), sampleBpe(), trainCharTokenizer('x😀\uD800\uDFFF')]) {
      const json = JSON.stringify(tok.toJSON());
      const back = tokenizerFromJSON(JSON.parse(json));
      assert.strictEqual(back.kind, tok.kind);
      assert.strictEqual(back.vocabSize, tok.vocabSize);
      assert.strictEqual(JSON.stringify(back.toJSON()), json);
      for (const t of texts) assert.deepStrictEqual(back.encode(t), tok.encode(t));
      for (let id = 0; id < tok.vocabSize; id++) {
        assert.strictEqual(back.tokenLabel(id), tok.tokenLabel(id));
        assert.strictEqual(back.charCount(id), tok.charCount(id));
      }
    }
    const j = sampleBpe().toJSON();
    assert.strictEqual(j.kind, 'bpe');
    if (j.kind === 'bpe') assert.strictEqual(j.merges.length, sampleBpe().vocabSize - 256);
  });

  it('training twice on the same text gives identical JSON', () => {
    assert.deepStrictEqual(trainBpeTokenizer(SAMPLE, 400).toJSON(), sampleBpe().toJSON());
    assert.deepStrictEqual(trainCharTokenizer(SAMPLE).toJSON(), sampleChar().toJSON());
    assert.deepStrictEqual(trainCharTokenizer(SAMPLE, { maxVocab: 5 }).toJSON(), trainCharTokenizer(SAMPLE, { maxVocab: 5 }).toJSON());
  });

  function rejects(json: unknown, pattern: RegExp): void {
    assert.throws(
      () => tokenizerFromJSON(json),
      (e: unknown) => {
        assert.ok(e instanceof GateScopeError, `expected a GateScopeError, got ${String(e)}`);
        assert.match(e.message, /^tokenizer in checkpoint is invalid: /);
        assert.match(e.message, pattern);
        assert.ok(!e.message.includes('\n') && e.message.length < 200, `message not one short line: ${e.message}`);
        return true;
      },
    );
  }

  it('rejects hostile or broken JSON with a clear message', () => {
    rejects(null, /expected an object, got null/);
    rejects(42, /expected an object, got number/);
    rejects([], /expected an object, got an array/);
    rejects({}, /unknown kind undefined/);
    rejects({ kind: 'wordpiece', version: 1 }, /unknown kind "wordpiece"/);
    rejects({ kind: 'x'.repeat(10_000) }, /unknown kind/);
    rejects({ kind: 'bpe', merges: [] }, /version undefined/);
    rejects({ kind: 'bpe', version: 2, merges: [] }, /version 2/);
    rejects({ kind: 'bpe', version: 1 }, /"merges" must be an array/);
    rejects({ kind: 'bpe', version: 1, merges: 'abc' }, /"merges" must be an array/);
    rejects({ kind: 'bpe', version: 1, merges: { length: 1e9 } }, /"merges" must be an array/);
    rejects({ kind: 'bpe', version: 1, merges: new Array(1e9) }, /1000000000 entries, more than the limit/);
    rejects({ kind: 'bpe', version: 1, merges: [[1]] }, /merges\[0\] must be a pair/);
    rejects({ kind: 'bpe', version: 1, merges: [[1, 2, 3]] }, /merges\[0\] must be a pair/);
    rejects({ kind: 'bpe', version: 1, merges: [null] }, /merges\[0\] must be a pair/);
    rejects({ kind: 'bpe', version: 1, merges: [[1, 2], [1.5, 2]] }, /merges\[1\]\[0\] must be an integer token id, got 1.5/);
    rejects({ kind: 'bpe', version: 1, merges: [[1, '2']] }, /merges\[0\]\[1\] must be an integer/);
    rejects({ kind: 'bpe', version: 1, merges: [[-1, 2]] }, /merges\[0\] refers to token -1/);
    rejects({ kind: 'bpe', version: 1, merges: [[1, 1e9]] }, /merges\[0\] refers to token 1000000000/);
    rejects({ kind: 'bpe', version: 1, merges: [[256, 1]] }, /merges\[0\] refers to token 256, but only tokens 0\.\.255 exist before it/);
    rejects({ kind: 'bpe', version: 1, merges: [[97, 98], [1, 258]] }, /merges\[1\] refers to token 258/);
    rejects({ kind: 'bpe', version: 1, merges: [[97, 98], [99, 100], [97, 98]] }, /merges\[2\] repeats the pair \[97, 98\] of merges\[0\]/);
    // Doubling merges would make a 2^k-byte token: capped long before any big allocation.
    const doubling: [number, number][] = [[97, 97]];
    for (let k = 0; k < 40; k++) doubling.push([256 + k, 256 + k]);
    rejects({ kind: 'bpe', version: 1, merges: doubling }, /makes a token of 512 bytes, more than the limit of 256/);

    rejects({ kind: 'char', version: 1 }, /"chars" must be an array/);
    rejects({ kind: 'char', version: '1', chars: [] }, /version "1"/);
    rejects({ kind: 'char', version: 1, chars: { length: 1e9 } }, /"chars" must be an array/);
    rejects({ kind: 'char', version: 1, chars: new Array(1e9) }, /1000000000 entries, more than the limit/);
    rejects({ kind: 'char', version: 1, chars: ['a', 'b', 'a'] }, /chars\[2\] repeats character U\+0061 from chars\[0\]/);
    rejects({ kind: 'char', version: 1, chars: ['😀', '😀'] }, /chars\[1\] repeats character U\+1F600/);
    rejects({ kind: 'char', version: 1, chars: ['ab'] }, /chars\[0\] must be exactly one character/);
    rejects({ kind: 'char', version: 1, chars: [''] }, /chars\[0\] must be exactly one character/);
    rejects({ kind: 'char', version: 1, chars: ['\uD800\uD800'] }, /chars\[0\] must be exactly one character/);
    rejects({ kind: 'char', version: 1, chars: [65] }, /chars\[0\] must be a string, got number/);
    rejects({ kind: 'char', version: 1, chars: [null] }, /chars\[0\] must be a string, got null/);
  });

  it('accepts what it should', () => {
    const ok = tokenizerFromJSON({ kind: 'char', version: 1, chars: ['\uD800', '😀', 'a'] });
    assert.strictEqual(ok.vocabSize, 20);
    assert.deepStrictEqual([...ok.encode('a😀\uD800')], [19, 18, 17]);
    const b = tokenizerFromJSON({ kind: 'bpe', version: 1, merges: [[97, 98], [256, 256]] });
    assert.deepStrictEqual([...b.encode('ababab')], [257, 256]);
    assert.strictEqual(b.tokenLabel(257), 'abab');
  });
});
