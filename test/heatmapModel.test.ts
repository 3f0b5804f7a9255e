// The inspector heatmap's pure parts (webview/inspector/heatmapModel.ts): unit statistics and row
// orders against a float64 reference written per unit from columns, the view maths (clamping, visible
// range, zoom around a point, reveal, hit testing, pixel-to-cell maps) and the cell painter against a
// naive per-pixel painter.

import * as assert from 'assert';
import {
  Axis, cellAt, clampAxis, correlationsWith, fitCell, labelStride, paintCells, pixelCells, revealCell, rowOrder, tokenLabel, unitStats,
  visibleRange, zoomAxis,
} from '../webview/inspector/heatmapModel';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Token-major [T*H] float32 values where unit u has its own scale (distinct variances) and some units share a signal. */
function synthetic(T: number, H: number, seed = 1): Float32Array {
  const r = rng(seed);
  const v = new Float32Array(T * H);
  const signal = Array.from({ length: T }, () => r() - 0.5);
  for (let t = 0; t < T; t++) {
    for (let u = 0; u < H; u++) {
      const mix = (u % 5) / 5; // how much of the shared signal unit u carries
      v[t * H + u] = (0.2 + u * 0.037) * (mix * signal[t] + (1 - mix) * (r() - 0.5)) + u * 0.01;
    }
  }
  return v;
}

const column = (v: Float32Array, T: number, H: number, u: number) => Array.from({ length: T }, (_, t) => v[t * H + u]);

function refMeanVar(xs: number[]): { mean: number; variance: number } {
  // Welford, float64: a different algorithm from the implementation's two passes.
  let mean = 0, m2 = 0;
  xs.forEach((x, i) => {
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  });
  return { mean, variance: m2 / xs.length };
}

function refPearson(a: number[], b: number[]): number {
  const ma = refMeanVar(a).mean, mb = refMeanVar(b).mean;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

describe('inspector heatmap model', () => {
  const T = 300, H = 37;
  const v = synthetic(T, H);

  it('unitStats: per-unit mean and variance equal a float64 Welford reference (1e-12 relative)', () => {
    const s = unitStats(v, T, H);
    for (let u = 0; u < H; u++) {
      const ref = refMeanVar(column(v, T, H, u));
      assert.ok(Math.abs(s.mean[u] - ref.mean) <= 1e-12 * Math.max(1, Math.abs(ref.mean)), `mean ${u}`);
      assert.ok(Math.abs(s.variance[u] - ref.variance) <= 1e-12 * Math.max(1e-3, ref.variance), `variance ${u}: ${s.variance[u]} vs ${ref.variance}`);
    }
  });

  it('correlationsWith: Pearson r with a chosen unit equals the float64 reference (1e-12), 1 with itself, NaN for a constant unit', () => {
    const w = v.slice();
    for (let t = 0; t < T; t++) w[t * H + 4] = 0.25; // unit 4 constant
    for (const ref of [0, 5, 36]) {
      const r = correlationsWith(w, T, H, ref);
      const b = column(w, T, H, ref);
      for (let u = 0; u < H; u++) {
        const want = refPearson(column(w, T, H, u), b);
        if (Number.isNaN(want)) assert.ok(Number.isNaN(r[u]), `unit ${u} should be NaN`);
        else assert.ok(Math.abs(r[u] - want) < 1e-12, `r(${u}, ${ref}) = ${r[u]}, reference ${want}`);
      }
      assert.ok(Math.abs(r[ref] - 1) < 1e-12);
    }
  });

  it('rowOrder by variance: largest first, as a reference sort of the float64 variances (ties by index)', () => {
    const order = Array.from(rowOrder(v, T, H, 'variance'));
    const vars = Array.from({ length: H }, (_, u) => refMeanVar(column(v, T, H, u)).variance);
    const want = Array.from({ length: H }, (_, u) => u).sort((a, b) => vars[b] - vars[a] || a - b);
    assert.deepStrictEqual(order, want);
    assert.deepStrictEqual(Array.from(rowOrder(v, T, H, 'index')), Array.from({ length: H }, (_, u) => u));
  });

  it('rowOrder by correlation: the chosen unit first, then by |r| largest first, constant units last', () => {
    const w = v.slice();
    for (let t = 0; t < T; t++) w[t * H + 9] = 1; // constant
    for (let t = 0; t < T; t++) w[t * H + 11] = -w[t * H + 5]; // perfectly anti-correlated with 5
    const ref = 5;
    const order = Array.from(rowOrder(w, T, H, 'correlation', ref));
    const b = column(w, T, H, ref);
    const key = Array.from({ length: H }, (_, u) => (u === ref ? Infinity : Math.abs(refPearson(column(w, T, H, u), b))));
    const want = Array.from({ length: H }, (_, u) => u).sort((x, y) => (Number.isNaN(key[y]) ? -1 : key[y]) - (Number.isNaN(key[x]) ? -1 : key[x]) || x - y);
    assert.deepStrictEqual(order, want);
    assert.strictEqual(order[0], ref);
    assert.strictEqual(order[1], 11);
    assert.strictEqual(order[H - 1], 9);
    assert.strictEqual(new Set(order).size, H);
  });

  it('clampAxis keeps the scroll inside [0, count*cell - view] and the cell size in bounds', () => {
    assert.deepStrictEqual(clampAxis({ cell: 10, scroll: -5 }, 100, 200), { cell: 10, scroll: 0 });
    assert.deepStrictEqual(clampAxis({ cell: 10, scroll: 5000 }, 100, 200), { cell: 10, scroll: 800 });
    assert.deepStrictEqual(clampAxis({ cell: 10, scroll: 50 }, 10, 200), { cell: 10, scroll: 0 }); // all fits
    assert.strictEqual(clampAxis({ cell: 1e6, scroll: 0 }, 10, 200).cell, 48);
    assert.strictEqual(clampAxis({ cell: NaN, scroll: NaN }, 10, 200).scroll, 0);
  });

  it('visibleRange, cellAt and revealCell agree on which cells a view shows', () => {
    const a: Axis = { cell: 8, scroll: 20 };
    assert.deepStrictEqual(visibleRange(a, 1000, 100), { first: 2, last: 15 });
    assert.strictEqual(cellAt(a, 0, 1000), 2);
    assert.strictEqual(cellAt(a, 99, 1000), 14);
    assert.strictEqual(cellAt(a, 99, 10), -1);
    assert.strictEqual(cellAt({ cell: 8, scroll: 0 }, -1, 10), -1);
    const r = revealCell(a, 40, 1000, 100);
    assert.ok(40 * r.cell >= r.scroll && 41 * r.cell <= r.scroll + 100, JSON.stringify(r));
    assert.deepStrictEqual(revealCell(a, 5, 1000, 100), a); // already visible: no movement
    assert.strictEqual(revealCell(a, 0, 1000, 100).scroll, 0);
  });

  it('zoomAxis keeps the cell under the anchor in place', () => {
    const a: Axis = { cell: 10, scroll: 300 };
    for (const [factor, anchor] of [[2, 50], [0.5, 10], [1.5, 0], [3, 199]]) {
      const before = (a.scroll + anchor) / a.cell;
      const z = zoomAxis(a, factor, anchor, 4000, 200);
      assert.ok(Math.abs((z.scroll + anchor) / z.cell - before) < 1e-9, `factor ${factor} anchor ${anchor}`);
      assert.strictEqual(z.cell, a.cell * factor);
    }
    // Zooming out past "everything fits" clamps the scroll to 0.
    assert.strictEqual(zoomAxis({ cell: 1, scroll: 100 }, 0.05, 50, 100, 200).scroll, 0);
  });

  it('fitCell fits count cells in the view', () => {
    assert.strictEqual(fitCell(512, 256), 0.5);
    assert.strictEqual(fitCell(4, 256, 0.05, 12), 12);
    assert.strictEqual(fitCell(0, 256), 48);
  });

  it('pixelCells maps each device pixel to the cell at its centre, -1 past the end, at any device-pixel ratio', () => {
    assert.deepStrictEqual(Array.from(pixelCells({ cell: 2, scroll: 1 }, 6, 1, 3)), [0, 1, 1, 2, 2, -1]);
    assert.deepStrictEqual(Array.from(pixelCells({ cell: 1, scroll: 0 }, 6, 2, 10)), [0, 0, 1, 1, 2, 2]);
    // Narrower than a pixel: nearest (centre) sampling, monotone.
    const m = pixelCells({ cell: 0.25, scroll: 0 }, 100, 1, 4000);
    assert.strictEqual(m[0], 2);
    assert.strictEqual(m[99], 398);
  });

  it('paintCells equals a naive per-pixel painter (rows copied, colours reused), background outside the cells, NaN colour', () => {
    const TT = 23, HH = 7;
    const vals = Float32Array.from({ length: TT * HH }, (_, i) => (i % 11) - 5);
    vals[3 * HH + 2] = NaN;
    const order = Int32Array.from([6, 2, 0, 1, 5, 3, 4]);
    const table = Uint32Array.from({ length: 11 }, (_, k) => 0xff000000 + k * 1000);
    const index = (x: number) => (Number.isNaN(x) ? -1 : x + 5);
    const nan = 0xff00ff00, bg = 0xff123456;
    for (const [ax, ay, w, hgt, dpr] of [
      [{ cell: 3, scroll: 2 }, { cell: 4, scroll: 1 }, 50, 20, 1],
      [{ cell: 0.3, scroll: 0 }, { cell: 0.5, scroll: 0 }, 40, 9, 2],
      [{ cell: 10, scroll: 0 }, { cell: 10, scroll: 0 }, 300, 100, 1.5],
    ] as [Axis, Axis, number, number, number][]) {
      const colTok = pixelCells(ax, w, dpr, TT), rowOf = pixelCells(ay, hgt, dpr, HH);
      const got = new Uint32Array(w * hgt);
      paintCells(got, w, hgt, colTok, rowOf, order, vals, HH, table, index, nan, bg);
      for (let y = 0; y < hgt; y++) {
        for (let x = 0; x < w; x++) {
          const t = colTok[x], r = rowOf[y];
          let want = bg;
          if (t >= 0 && r >= 0) {
            const k = index(vals[t * HH + order[r]]);
            want = k < 0 ? nan : table[k];
          }
          assert.strictEqual(got[y * w + x], want, `pixel ${x},${y}`);
        }
      }
    }
  });

  it('tokenLabel shows whitespace (· ⏎ →), control characters, the empty token, and cuts long tokens', () => {
    assert.strictEqual(tokenLabel(' '), '·');
    assert.strictEqual(tokenLabel('\n'), '⏎');
    assert.strictEqual(tokenLabel('\t'), '→');
    assert.strictEqual(tokenLabel('a b\r\n'), 'a·b␍⏎');
    assert.strictEqual(tokenLabel('\u0000'), '␣');
    assert.strictEqual(tokenLabel(''), '∅');
    assert.strictEqual(tokenLabel('abcdefghijklmnop', 6), 'abcde…');
    assert.strictEqual(tokenLabel('😀😀😀', 2), '😀…');
  });

  it('labelStride: every cell when labels fit, else 1-2-5 steps that leave room', () => {
    assert.strictEqual(labelStride(14, 13), 1);
    assert.strictEqual(labelStride(5, 13), 5);
    assert.strictEqual(labelStride(0.3, 48), 200);
    for (const c of [0.01, 0.1, 0.7, 3, 9]) assert.ok(labelStride(c, 40) * c >= 40);
  });
});
