// Unit search (kernels/inspect/unitSearch.ts): hand cases for each rule (on across the range, off around
// it, the margin clipped at the text's ends, the empty range, the range with nothing around it) and a
// brute-force reference, written from the rule as stated (per unit: the lists of values inside and
// around, checked with every/filter), over seeded data with planted units and ties.

import * as assert from 'assert';
import { GateScopeError } from '../kernels/errors';
import { Rng } from '../kernels/rng';
import { searchUnits } from '../kernels/inspect/unitSearch';

/** [T*H] from rows of per-unit values. */
function grid(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

/** The rule, written plainly: onFraction given in tenths so the shares compare exactly. */
function bruteForce(values: Float32Array, T: number, H: number, start: number, end: number, threshold: number, margin: number, onTenths = 10) {
  if (start === end) return [];
  const inside = [...Array(T).keys()].filter((t) => t >= start && t < end);
  const around = [...Array(T).keys()].filter((t) => (t >= start - margin && t < start) || (t >= end && t < end + margin));
  const out: { unit: number; score: number; meanIn: number; meanOut: number; tie: number }[] = [];
  for (let u = 0; u < H; u++) {
    const vin = inside.map((t) => values[t * H + u]);
    const vout = around.map((t) => values[t * H + u]);
    const onIn = vin.filter((v) => v >= threshold).length;
    const onOut = vout.filter((v) => v >= threshold).length;
    if (onIn * 10 < onTenths * vin.length || onOut * 10 > (10 - onTenths) * vout.length) continue;
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const meanIn = mean(vin);
    const meanOut = vout.length ? mean(vout) : NaN;
    out.push({ unit: u, score: onIn / vin.length - (vout.length ? onOut / vout.length : 0), meanIn, meanOut, tie: vout.length ? meanIn - meanOut : meanIn });
  }
  out.sort((a, b) => b.score - a.score || b.tie - a.tie || a.unit - b.unit);
  return out.map(({ unit, score, meanIn, meanOut }) => ({ unit, score, meanIn, meanOut }));
}

function assertSame(got: ReturnType<typeof searchUnits>, want: ReturnType<typeof bruteForce>, what: string) {
  assert.deepStrictEqual(got.map((u) => u.unit), want.map((u) => u.unit), `${what}: units`);
  got.forEach((g, k) => {
    const w = want[k];
    assert.ok(Math.abs(g.score - w.score) < 1e-12, `${what}: score of unit ${g.unit}`);
    assert.ok(Math.abs(g.meanIn - w.meanIn) < 1e-9, `${what}: meanIn of unit ${g.unit}`);
    assert.ok(Number.isNaN(w.meanOut) ? Number.isNaN(g.meanOut) : Math.abs(g.meanOut - w.meanOut) < 1e-9, `${what}: meanOut of unit ${g.unit}`);
  });
}

describe('searchUnits', () => {
  // 10 tokens × 4 units; range [4, 6), margin 2 → around = tokens 2, 3, 6, 7.
  //                 t: 0    1    2    3    4    5    6    7    8    9
  const u0 = /* on in the range only   */[0.9, 0.9, 0.1, 0.1, 0.8, 0.7, 0.1, 0.2, 0.9, 0.9];
  const u1 = /* also on just before    */[0.1, 0.1, 0.1, 0.6, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1];
  const u2 = /* on at one range token  */[0.1, 0.1, 0.1, 0.1, 0.9, 0.2, 0.1, 0.1, 0.1, 0.1];
  const u3 = /* on in range, higher    */[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
  const T = 10, H = 4;
  const values = grid([...Array(T).keys()].map((t) => [u0[t], u1[t], u2[t], u3[t]]));

  it('lists the units on across the range and off around it, ranked by score then mean margin', () => {
    const r = searchUnits(values, T, H, 4, 6, 0.5, { margin: 2 });
    // u0 and u3 both score 1; u3's margin (1 - 0) beats u0's (0.75 - 0.125). u1 is on just before; u2 not across.
    assert.deepStrictEqual(r.map((u) => u.unit), [3, 0]);
    assert.strictEqual(r[1].score, 1);
    assert.ok(Math.abs(r[1].meanIn - 0.75) < 1e-6 && Math.abs(r[1].meanOut - 0.125) < 1e-6);
  });

  it('looks only `margin` tokens around: u0 being on far away does not count', () => {
    assert.deepStrictEqual(searchUnits(values, T, H, 4, 6, 0.5, { margin: 4 }).map((u) => u.unit), [3]);
  });

  it('clips the margin at the text\'s ends', () => {
    // Range [0, 2) with margin 3: around is 2, 3, 4 only. u0 is on at 0, 1 and off at 2, 3 but on at 4.
    assert.deepStrictEqual(searchUnits(values, T, H, 0, 2, 0.5, { margin: 2 }).map((u) => u.unit), [0]);
    assert.deepStrictEqual(searchUnits(values, T, H, 0, 2, 0.5, { margin: 3 }).map((u) => u.unit), []);
    // Range [8, 10): around is 5, 6, 7 with margin 3 (u0 on at 5 → out) and 6, 7 with margin 2.
    assert.deepStrictEqual(searchUnits(values, T, H, 8, 10, 0.5, { margin: 2 }).map((u) => u.unit), [0]);
    assert.deepStrictEqual(searchUnits(values, T, H, 8, 10, 0.5, { margin: 3 }).map((u) => u.unit), []);
  });

  it('onFraction relaxes both sides: u1 (on at 1 of 4 around) and u2 (on at 1 of 2 inside)', () => {
    assert.deepStrictEqual(searchUnits(values, T, H, 4, 6, 0.5, { margin: 2, onFraction: 0.75 }).map((u) => u.unit), [3, 0, 1]);
    const r = searchUnits(values, T, H, 3, 6, 0.5, { margin: 2, onFraction: 0.6 });
    assert.deepStrictEqual(r.map((u) => u.unit), [1, 3, 0]); // u1 on at all 3; u3 and u0 at 2 of 3
  });

  it('an empty range lists no unit', () => {
    assert.deepStrictEqual(searchUnits(values, T, H, 5, 5, 0.5), []);
    assert.deepStrictEqual(searchUnits(new Float32Array(0), 0, 3, 0, 0, 0.5), []);
  });

  it('a range with nothing around it (the whole text, or margin 0) lists the units on across it, meanOut NaN', () => {
    const allOn = grid([[0.6, 0.1], [0.7, 0.9], [0.8, 0.9]]);
    const r = searchUnits(allOn, 3, 2, 0, 3, 0.5);
    assert.deepStrictEqual(r.map((u) => u.unit), [0]);
    assert.strictEqual(r[0].score, 1);
    assert.ok(Number.isNaN(r[0].meanOut));
    assert.deepStrictEqual(searchUnits(values, T, H, 4, 6, 0.5, { margin: 0 }).map((u) => u.unit), [3, 1, 0]);
  });

  it('max keeps the best ones', () => {
    assert.deepStrictEqual(searchUnits(values, T, H, 4, 6, 0.5, { margin: 2, max: 1 }).map((u) => u.unit), [3]);
  });

  it('refuses bad input with a message', () => {
    assert.throws(() => searchUnits(values, T, H, 6, 4, 0.5), GateScopeError);
    assert.throws(() => searchUnits(values, T, H, 0, 11, 0.5), GateScopeError);
    assert.throws(() => searchUnits(values, T, H, 0, 2, NaN), GateScopeError);
    assert.throws(() => searchUnits(values, T, 3, 0, 2, 0.5), /expected 30 values/);
    assert.throws(() => searchUnits(values, T, H, 0, 2, 0.5, { margin: -1 }), GateScopeError);
    assert.throws(() => searchUnits(values, T, H, 0, 2, 0.5, { onFraction: 0.4 }), GateScopeError);
  });

  it('equals the brute-force rule on seeded data with planted units and ties', () => {
    const rng = new Rng(2026);
    let listed = 0;
    for (let trial = 0; trial < 200; trial++) {
      const T = 1 + Math.floor(rng.next() * 40);
      const H = 1 + Math.floor(rng.next() * 24);
      const start = Math.floor(rng.next() * (T + 1));
      const end = start + Math.floor(rng.next() * (T - start + 1));
      const margin = Math.floor(rng.next() * 5);
      // Values on a coarse grid, so ties in score and margin happen and the unit order decides.
      const values = Float32Array.from({ length: T * H }, () => Math.round(rng.next() * 8) / 8);
      // Plant units that are on in the range and off around it, some with one token flipped.
      for (let u = 0; u < H; u += 3) {
        for (let t = 0; t < T; t++) values[t * H + u] = t >= start && t < end ? 0.75 + Math.round(rng.next() * 2) / 8 : Math.round(rng.next() * 3) / 8;
        if (rng.next() < 0.3) values[Math.floor(rng.next() * T) * H + u] = rng.next() < 0.5 ? 1 : 0;
      }
      const threshold = [0.5, 0.625, 0.75][trial % 3];
      for (const onTenths of [10, 8, 6]) {
        const want = bruteForce(values, T, H, start, end, threshold, margin, onTenths);
        const got = searchUnits(values, T, H, start, end, threshold, { margin, onFraction: onTenths / 10 });
        assertSame(got, want, `trial ${trial} (T=${T}, H=${H}, [${start}, ${end}), margin ${margin}, onFraction ${onTenths / 10})`);
        listed += want.length;
      }
    }
    assert.ok(listed > 500, `the seeded cases list units (${listed})`);
  });
});
