// The character Kneser-Ney n-gram (kernels/complete/ngram.ts) against a brute-force float64 reference
// written here independently: n-grams counted as Maps of strings, continuation counts from the distinct
// n-grams one longer (the start of the text counting as one left neighbour), discounts from the counts
// of counts, and P(w | h) by the recursive interpolation formula. Every probability of every
// distribution on several small texts (astral characters, CRLF, a lone surrogate, unknown characters in
// the contexts), orders 1 to 7, both discount kinds, must agree within 1e-12; distributions sum to 1;
// bitsPerChar agrees. Plus the vocabulary, errors, and a build on real source code (timings printed).

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { KneserNeyDiscount, KneserNeyModel } from '../kernels/complete/ngram';
import { GateScopeError } from '../kernels/errors';
import { Rng } from '../kernels/rng';

/** The brute-force model: everything recomputed from Maps keyed by comma-joined code points. */
class ReferenceKN {
  readonly vocab: number[];
  readonly V: number;
  /** count[n](gram key) for n = 1..order: raw counts at the highest order, continuation counts below. */
  private readonly count: Map<string, number>[] = [];
  /** Per order: context key → [total, N1, N2, N3+]. */
  private readonly ctx: Map<string, [number, number, number, number]>[] = [];
  readonly discounts: [number, number, number][] = [];

  constructor(text: string, readonly order: number, kind: KneserNeyDiscount) {
    const cps = Array.from(text, (c) => c.codePointAt(0) as number);
    this.vocab = [...new Set(cps)].sort((a, b) => a - b);
    this.V = this.vocab.length + 1;
    const raw: Map<string, number>[] = [];
    for (let n = 1; n <= order; n++) {
      const m = new Map<string, number>();
      for (let i = 0; i + n <= cps.length; i++) {
        const k = cps.slice(i, i + n).join(',');
        m.set(k, (m.get(k) ?? 0) + 1);
      }
      raw[n] = m;
    }
    for (let n = 1; n <= order; n++) {
      if (n === order) {
        this.count[n] = raw[n];
      } else {
        const cont = new Map<string, number>();
        for (const k of raw[n + 1].keys()) {
          const g = k.split(',').slice(1).join(',');
          cont.set(g, (cont.get(g) ?? 0) + 1);
        }
        if (cps.length >= n) {
          const first = cps.slice(0, n).join(',');
          cont.set(first, (cont.get(first) ?? 0) + 1);
        }
        this.count[n] = cont;
      }
      const coc = [0, 0, 0, 0, 0];
      for (const c of this.count[n].values()) if (c <= 4) coc[c]++;
      const [, n1, n2, n3, n4] = coc;
      const y = n1 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
      let d: [number, number, number];
      if (kind === 'fixed') d = [y, y, y];
      else {
        const d2 = n2 > 0 ? Math.min(2, Math.max(0.05, 2 - (3 * y * n3) / n2)) : y;
        const d3 = n3 > 0 ? Math.min(3, Math.max(0.05, 3 - (4 * y * n4) / n3)) : y;
        d = [y, d2, d3];
      }
      this.discounts[n] = d;
      const cm = new Map<string, [number, number, number, number]>();
      for (const [k, c] of this.count[n]) {
        const h = k.split(',').slice(0, -1).join(',');
        const s = cm.get(h) ?? [0, 0, 0, 0];
        s[0] += c;
        s[Math.min(c, 3)]++;
        cm.set(h, s);
      }
      this.ctx[n] = cm;
    }
  }

  private d(n: number, c: number): number {
    return this.discounts[n][Math.min(c, 3) - 1];
  }

  /** P_n(w | h), h the last n − 1 code points. */
  p(n: number, h: number[], w: number): number {
    if (n === 0) return 1 / this.V;
    const s = this.ctx[n].get(h.join(','));
    const lower = this.p(n - 1, h.slice(1), w);
    if (!s) return lower;
    const c = this.count[n].get([...h, w].join(',')) ?? 0;
    const gamma = (this.d(n, 1) * s[1] + this.d(n, 2) * s[2] + this.d(n, 3) * s[3]) / s[0];
    return (c > 0 ? Math.max(c - this.d(n, c), 0) / s[0] : 0) + gamma * lower;
  }

  /** P(w | context) for w a code point, or null for the unknown id. */
  prob(context: number[], w: number | null): number {
    const h = context.slice(Math.max(0, context.length - (this.order - 1)));
    return this.p(h.length + 1, h, w ?? -1);
  }

  bitsPerChar(text: string): number {
    const cps = Array.from(text, (c) => c.codePointAt(0) as number);
    let bits = 0;
    for (let i = 0; i < cps.length; i++) bits -= Math.log2(this.prob(cps.slice(0, i), this.vocab.includes(cps[i]) ? cps[i] : null));
    return bits / cps.length;
  }
}

const CODE = [
  'export function sum(values: number[]): number {\r\n',
  '  let total = 0;\r\n',
  '  for (const v of values) total += v;\n',
  '  return total; // 😀 done\n',
  '}\n',
  'const s = "héllo → wörld";\n',
].join('').repeat(4);

function randomText(seed: number, length: number, alphabet: string[]): string {
  const rng = new Rng(seed);
  let s = '';
  // A little structure so higher orders have counts of 2, 3 and more.
  while (s.length < length) s += rng.next() < 0.3 && s.length > 8 ? s.slice(s.length - 8, s.length - 8 + 1 + rng.int(7)) : alphabet[rng.int(alphabet.length)];
  return s;
}

const TEXTS: [string, string][] = [
  ['code with CRLF and astral characters', CODE],
  ['random over 4 characters', randomText(1, 600, ['a', 'b', 'c', '\n'])],
  ['random over 20 characters with emoji and a lone surrogate', randomText(2, 900, [...'abcdefghij0123 ()\n', '🎉', '\ud800'])],
  ['tiny', 'abab'],
];

const cpsOf = (s: string) => Array.from(s, (c) => c.codePointAt(0) as number);

describe('KneserNeyModel against a brute-force reference', () => {
  it('every probability of every distribution, discounts, sums and bitsPerChar agree (orders 1-7, modified and fixed)', function () {
    this.timeout(120000);
    let maxErr = 0, maxSumErr = 0, maxBpcErr = 0, checked = 0;
    const rng = new Rng(7);
    for (const [name, text] of TEXTS) {
      // Held-out text: another stretch, with characters the model never saw.
      const heldOut = text.slice(text.length >> 1) + 'Zq\u{1F680}x' + text.slice(0, 40);
      for (const order of [1, 2, 3, 5, 7]) {
        for (const kind of ['modified', 'fixed'] as KneserNeyDiscount[]) {
          const at = `${name}, order ${order}, ${kind}`;
          const m = KneserNeyModel.build(text, order, { discount: kind });
          const ref = new ReferenceKN(text, order, kind);
          assert.strictEqual(m.vocabSize, ref.V, at);
          for (let id = 0; id < m.vocabSize - 1; id++) assert.strictEqual(m.codePointOf(id), ref.vocab[id], at);
          for (let n = 1; n <= order; n++) {
            for (let k = 0; k < 3; k++) assert.ok(Math.abs(m.discounts[n - 1][k] - ref.discounts[n][k]) <= 1e-15, `${at}: discount D${k + 1} of order ${n}: ${m.discounts[n - 1][k]} vs ${ref.discounts[n][k]}`);
          }
          const contexts: number[][] = [];
          const hc = cpsOf(heldOut);
          for (let i = 0; i <= hc.length; i += 3) contexts.push(hc.slice(0, i));
          for (let r = 0; r < 10; r++) contexts.push(cpsOf(randomText(100 + r, 1 + rng.int(12), [...text.slice(0, 30)])));
          const out = new Float64Array(m.vocabSize);
          const out32 = new Float32Array(m.vocabSize);
          for (const c of contexts) {
            m.distribution(c, out);
            let sum = 0;
            for (let id = 0; id < m.vocabSize; id++) {
              const want = ref.prob(c, id < m.vocabSize - 1 ? ref.vocab[id] : null);
              const err = Math.abs(out[id] - want);
              maxErr = Math.max(maxErr, err);
              assert.ok(err <= 1e-12, `${at}: P(${id} | ${JSON.stringify(String.fromCodePoint(...c.slice(-8)))}) = ${out[id]}, reference ${want}`);
              assert.ok(Math.abs(m.probability(c, id) - out[id]) <= 1e-15, `${at}: probability() differs from distribution() at id ${id}`);
              assert.ok(out[id] > 0, `${at}: P(${id}) is not positive`);
              sum += out[id];
              checked++;
            }
            maxSumErr = Math.max(maxSumErr, Math.abs(sum - 1));
            assert.ok(Math.abs(sum - 1) <= 1e-12, `${at}: distribution sums to ${sum}`);
            m.distribution(c, out32);
            for (let id = 0; id < m.vocabSize; id++) assert.ok(Math.abs(out32[id] - out[id]) <= 1e-7 * Math.max(1, out[id]), `${at}: Float32 output differs at ${id}`);
          }
          const bpc = m.bitsPerChar(heldOut);
          const want = ref.bitsPerChar(heldOut);
          maxBpcErr = Math.max(maxBpcErr, Math.abs(bpc - want));
          assert.ok(Math.abs(bpc - want) <= 1e-12, `${at}: bitsPerChar ${bpc}, reference ${want}`);
        }
      }
    }
    console.log(`      ${checked} probabilities: max error ${maxErr.toExponential(2)}, max |sum − 1| ${maxSumErr.toExponential(2)}, max bits/char error ${maxBpcErr.toExponential(2)}`);
  });

  it('a context longer than order − 1 uses only its last order − 1 code points; an unknown code point ends the context', () => {
    const m = KneserNeyModel.build(CODE, 4);
    const a = new Float64Array(m.vocabSize), b = new Float64Array(m.vocabSize), c = new Float64Array(m.vocabSize);
    m.distribution(cpsOf('xyz  let t'), a);
    m.distribution(cpsOf('et t'.slice(1)), b);
    assert.deepStrictEqual(a, b);
    m.distribution(cpsOf('Q t'), a); // 'Q' unknown: as if the context were ' t'
    m.distribution(cpsOf(' t'), c);
    assert.deepStrictEqual(a, c);
  });
});

describe('KneserNeyModel vocabulary and errors', () => {
  it('ids are the known code points in ascending order, then the unknown id', () => {
    const m = KneserNeyModel.build('ba\u{1F600}a\r\n');
    assert.strictEqual(m.vocabSize, 6);
    assert.deepStrictEqual([0, 1, 2, 3, 4].map((i) => m.codePointOf(i)), [10, 13, 97, 98, 0x1f600]);
    assert.strictEqual(m.idOf(0x1f600), 4);
    assert.strictEqual(m.idOf(97), 2);
    assert.strictEqual(m.idOf(122), 5);
    assert.strictEqual(m.idOf(0x1f601), 5);
    assert.throws(() => m.codePointOf(5), /not a known code point/);
  });

  it('rejects a bad order, a bad discount kind and a short output array with a message', () => {
    assert.throws(() => KneserNeyModel.build('abc', 0), (e: Error) => e instanceof GateScopeError && /order must be a whole number from 1 to 32, got 0/.test(e.message));
    assert.throws(() => KneserNeyModel.build('abc', 2.5), /order/);
    assert.throws(() => KneserNeyModel.build('abc', 3, { discount: 'x' as KneserNeyDiscount }), /"modified" or "fixed"/);
    const m = KneserNeyModel.build('abc', 3);
    assert.throws(() => m.distribution([97], new Float64Array(2)), /needs 4 values, got an array of 2/);
  });

  it('an empty training text gives the uniform distribution over the unknown id alone', () => {
    const m = KneserNeyModel.build('', 7);
    assert.strictEqual(m.vocabSize, 1);
    const out = new Float64Array(1);
    m.distribution([97, 98], out);
    assert.strictEqual(out[0], 1);
    assert.strictEqual(m.bitsPerChar('abc'), 0);
  });
});

describe('KneserNeyModel on real source code', () => {
  it("builds on the repository's TypeScript and beats the order below it on held-out text (timings printed, not asserted)", function () {
    this.timeout(120000);
    const root = path.join(__dirname, '..', '..', 'kernels');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (e.name.endsWith('.ts')) files.push(path.join(d, e.name));
      }
    };
    walk(root);
    let text = '';
    for (const f of files) {
      if (text.length > 400_000) break;
      text += fs.readFileSync(f, 'utf8');
    }
    assert.ok(text.length > 100_000, `only ${text.length} characters of TypeScript under ${root}`);
    const cut = Math.floor(text.length * 0.95);
    const bpc: number[] = [];
    for (const order of [3, 5]) {
      const t0 = performance.now();
      const m = KneserNeyModel.build(text.slice(0, cut), order);
      const built = performance.now() - t0;
      bpc.push(m.bitsPerChar(text.slice(cut)));
      const out = new Float64Array(m.vocabSize);
      const ctx = cpsOf(text.slice(cut, cut + 2000));
      const t1 = performance.now();
      for (let i = 10; i < ctx.length; i++) m.distribution(ctx.slice(i - 10, i), out);
      const us = ((performance.now() - t1) * 1000) / (ctx.length - 10);
      console.log(`      order ${order}: built on ${cut} characters in ${built.toFixed(0)} ms, vocabulary ${m.vocabSize}, held-out ${bpc[bpc.length - 1].toFixed(3)} bits/char, distribution ${us.toFixed(1)} µs`);
    }
    // The held-out end is whatever file sorts last, so only a margin between the orders is asserted.
    assert.ok(bpc[1] < 0.9 * bpc[0], `order 5 (${bpc[1]}) should beat order 3 (${bpc[0]}) clearly on held-out code`);
    assert.ok(bpc[1] < 5, `order 5 gives ${bpc[1]} bits/char on held-out code`);
  });
});
