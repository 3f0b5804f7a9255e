// Probes (kernels/inspect/probes.ts): the text properties on hand-written snippets (strings with
// escapes, line and block comments, hash comments decided by the documented vote, bracket depth,
// indentation with tabs, columns, identifier starts, a window that starts inside a string or comment),
// Pearson r against a float64 reference (constant units and properties give 0, never NaN), and the
// ranking of units by |r| across layers and quantities.

import * as assert from 'assert';
import { pearsonColumns, probeWindow, textProperties } from '../kernels/inspect/probes';
import { InspectResult } from '../kernels/inspect/types';
import { Rng } from '../kernels/rng';

/** One token per UTF-16 unit of text[start, end) (ASCII snippets: the char tokenizer's offsets). */
function perChar(text: string, start = 0, end = text.length) {
  const offsets = Int32Array.from({ length: end - start + 1 }, (_, i) => i);
  return textProperties(text, { start }, offsets);
}

/** A property as a string of digits, one per character, for readable expectations. */
const digits = (v: Float32Array) => Array.from(v, (x) => String(x)).join('');

describe('probe properties', () => {
  it('strings with escapes and the three quotes, after each character', () => {
    const text = `a="x\\"(" + 'y' + \`z\nw\` + "open\nb`;
    const p = perChar(text);
    assert.strictEqual(text.length, digits(p.string).length);
    // a = " x \ " ( "   + ' y '   + ` z NL w `   + " o p e n NL b
    assert.strictEqual(digits(p.string), '00' + '111110' + '000' + '110' + '000' + '11110' + '000' + '111110' + '0');
    assert.strictEqual(digits(p.bracketDepth), '0'.repeat(text.length), 'brackets in strings do not count');
  });

  it('C-like comments, and brackets outside them', () => {
    const text = 'f(a, [b]) // x (\n{ /* ( */ g() }';
    const p = perChar(text);
    // The comments open at their first character and close after "*/" (the newline is code).
    assert.strictEqual(digits(p.comment), '0'.repeat(10) + '111111' + '000' + '111111' + '0'.repeat(7));
    assert.strictEqual(digits(p.bracketDepth), '0111122100' + '0000000' + '11' + '1111111' + '112110');
    assert.strictEqual(digits(perChar('/* x/y */z').comment), '1111111100', 'a slash alone does not close');
    assert.strictEqual(digits(perChar('/*/ x */').comment), '11111110', 'nor the star that opened it');
  });

  it('a window that starts inside a block comment or a string is labelled from the whole text', () => {
    const text = 'x = 1 /* long\ncomment ( */ y = "s\\"(\n';
    const start = text.indexOf('comment');
    const p = perChar(text, start);
    assert.strictEqual(digits(p.comment), '111111111110' + '0'.repeat(text.length - start - 12));
    const s2 = text.indexOf('(', text.indexOf('"'));
    const q = perChar(text, s2);
    assert.deepStrictEqual(Array.from(q.string), [1, 0], 'still inside the string after the escaped quote');
    assert.deepStrictEqual(Array.from(q.bracketDepth), [0, 0]);
  });

  it('hash comments when the vote says so; "//" is then an operator, and C\'s #include is no comment', () => {
    const py = '# note (\nx = a // 2  # half\ny = "#" + f(x)\n';
    const p = perChar(py);
    const line2 = py.indexOf('x ='), hash2 = py.indexOf('# half');
    assert.ok(p.comment.subarray(0, 8).every((v) => v === 1));
    assert.ok(p.comment.subarray(line2, hash2).every((v) => v === 0), '// is floor division here');
    assert.ok(p.comment.subarray(hash2, py.indexOf('\ny')).every((v) => v === 1));
    assert.ok(p.comment.subarray(py.indexOf('y =')).every((v) => v === 0), 'a # in a string is no comment');
    assert.strictEqual(p.bracketDepth[py.indexOf('(x)')], 1);
    assert.strictEqual(p.bracketDepth[7], 0, 'the bracket in the comment does not count');

    const c = '#include <x.h>\n#define N (1)\n// two\nint main() { return N; }\n';
    const q = perChar(c);
    assert.ok(q.comment.subarray(0, c.indexOf('// two')).every((v) => v === 0));
    assert.strictEqual(q.bracketDepth[c.indexOf('(1') ], 1);
    assert.strictEqual(q.comment[c.indexOf('two')], 1);
    // Forced either way by the option.
    const forced = textProperties(c, { start: 0 }, Int32Array.from({ length: c.length + 1 }, (_, i) => i), { comments: 'hash' });
    assert.strictEqual(forced.comment[3], 1);
  });

  it('indentation (tabs to the next multiple of 4), column and identifier starts', () => {
    const text = '\tif x1:\n  \t$y = _z9 + 9x\n';
    const p = perChar(text);
    const line2 = text.indexOf('  \t');
    assert.ok(p.indent.subarray(0, line2).every((v) => v === 4), digits(p.indent));
    assert.ok(p.indent.subarray(line2).every((v) => v === 4));
    assert.deepStrictEqual(Array.from(p.column.subarray(0, 8)), [0, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepStrictEqual(Array.from(p.column.subarray(line2, line2 + 5)), [0, 1, 2, 4, 5]);
    const starts = Array.from(p.identifierStart).map((v, i) => (v ? text[i] : '')).join('');
    assert.strictEqual(starts, 'ix$_', 'if, x1, $y, _z9 (not the x of 9x)');
  });

  it('multi-character tokens take the state after their last character, the column of their first', () => {
    const text = 'f("ab") + g';
    const offsets = Int32Array.from([0, 1, 3, 5, 6, 7, 9, 11]); // f ( " a b " ) ␠+ ␠g
    const p = textProperties(text, { start: 0 }, offsets);
    assert.deepStrictEqual(Array.from(p.string), [0, 1, 1, 0, 0, 0, 0]);
    assert.deepStrictEqual(Array.from(p.bracketDepth), [0, 1, 1, 1, 0, 0, 0]);
    assert.deepStrictEqual(Array.from(p.column), [0, 1, 3, 5, 6, 7, 9]);
    assert.deepStrictEqual(Array.from(p.identifierStart), [1, 0, 0, 0, 0, 0, 1]);
  });
});

/** Float64 Pearson r, textbook two-pass. */
function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('probe correlations', () => {
  const rng = new Rng(5);
  const T = 300, H = 6;

  it('Pearson r of each unit matches float64, and constant units or properties give 0', () => {
    const x = new Float32Array(T * H);
    for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) x[t * H + j] = j === 4 ? 0.3 : (rng.next() - 0.5) * (j + 1) + (j === 2 ? 100 : 0);
    const prop = Array.from({ length: T }, (_, t) => (t % 7) * 0.1 + x[t * H + 1] * 2);
    const constant = new Array(T).fill(2);
    const centred = (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / T;
      const c = Float64Array.from(v, (a) => a - m);
      return { c, ss: c.reduce((s, a) => s + a * a, 0) };
    };
    const [r, rc] = pearsonColumns(x, T, H, [centred(prop), centred(constant)]);
    let worst = 0;
    for (let j = 0; j < H; j++) {
      if (j === 4) continue;
      const col = Array.from({ length: T }, (_, t) => x[t * H + j]);
      worst = Math.max(worst, Math.abs(r[j] - pearson(col, prop)));
    }
    // Measured: 0 (both sum in float64 over the same float32 inputs); a little room for summation order.
    assert.ok(worst < 1e-14, `r differs from float64 by ${worst}`);
    assert.ok(r[1] > 0.9);
    assert.strictEqual(r[4], 0, 'a constant unit');
    assert.ok(Array.from(rc).every((v) => v === 0), 'a constant property');
  });

  it('ranks every unit of every layer and quantity by |r|, best 10 first', () => {
    const text = 'f(a(b(c(d))), [e, {g: h}]) + "s(" + k\n'.repeat(4);
    const Tn = text.length;
    const offsets = Int32Array.from({ length: Tn + 1 }, (_, i) => i);
    const depth = textProperties(text, { start: 0 }, offsets).bracketDepth;
    const mk = (fill: (t: number, j: number) => number) => {
      const v = new Float32Array(Tn * H);
      for (let t = 0; t < Tn; t++) for (let j = 0; j < H; j++) v[t * H + j] = fill(t, j);
      return v;
    };
    const noise = () => mk(() => rng.next());
    const result: InspectResult = {
      cell: 'gru', hiddenSize: H, numLayers: 2, tokens: Array.from(text), offsets,
      layers: [
        { names: ['h', 'r', 'z', 'n'], values: [noise(), noise(), noise(), noise()] },
        // Layer 1: z unit 3 is minus the depth, n unit 5 the depth plus noise, h constant.
        { names: ['h', 'r', 'z', 'n'], values: [mk(() => 0.5), noise(), mk((t, j) => (j === 3 ? -depth[t] : rng.next())), mk((t, j) => (j === 5 ? depth[t] + rng.next() * 0.5 : rng.next()))] },
      ],
      surprisal: new Float32Array(Tn), nextProb: new Float32Array(Tn), topK: 0, topTokens: [], topProbs: new Float32Array(0),
    };
    const probes = probeWindow(text, { start: 0 }, result);
    assert.deepStrictEqual(probes.map((p) => p.name), ['string', 'comment', 'bracketDepth', 'indent', 'column', 'identifierStart']);
    const d = probes[2];
    assert.strictEqual(d.label, 'bracket depth');
    assert.deepStrictEqual(d.values, depth);
    assert.strictEqual(d.best.length, 10);
    assert.deepStrictEqual([d.best[0].layer, d.best[0].quantity, d.best[0].unit], [1, 'z', 3]);
    assert.ok(Math.abs(d.best[0].r + 1) < 1e-6, `r = ${d.best[0].r}`);
    assert.deepStrictEqual([d.best[1].layer, d.best[1].quantity, d.best[1].unit], [1, 'n', 5]);
    for (let i = 1; i < 10; i++) assert.ok(Math.abs(d.best[i - 1].r) >= Math.abs(d.best[i].r));
    for (const p of probes) for (const b of p.best) assert.ok(Number.isFinite(b.r));
    // No comments in the text: a constant property, every r is 0.
    assert.ok(probes[1].best.every((b) => b.r === 0));
    assert.ok(!d.best.some((b) => b.layer === 1 && b.quantity === 'h'), 'constant units rank last');
  });
});
