// The inspector's colour scales (kernels/inspect/colorScale.ts): the diverging scale is symmetric
// around 0 and clips, c and 'pre' are clipped at the stated percentile of |value| (checked against a
// sort-based float64 reference), the sequential scale clamps, the legend says the range and the clip,
// the packed RGBA table agrees with the per-value functions, and text on any scale colour reads at 4.5:1.

import * as assert from 'assert';
import { interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';
import {
  CLIP_PERCENTILE, NAN_RGB, divergingRgb, formatLegendNumber, isDiverging, percentile, percentileAbs, readableTextOn, rgbaTable, scaleFor,
  sequentialRgb, sequentialScaleFor, unitCss,
} from '../kernels/inspect/colorScale';
import { QUANTITY_NAMES } from '../kernels/inspect/types';
import { contrastRatio } from '../webview/chart';

/** Nearest-rank percentile by sorting a float64 copy (the reference). */
function refPercentile(xs: number[], p: number): number {
  const a = xs.filter(Number.isFinite).sort((x, y) => x - y);
  return a.length ? a[Math.max(0, Math.ceil((p / 100) * a.length) - 1)] : 0;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const parse = (c: string) => {
  const m = /^rgb\((\d+), (\d+), (\d+)\)$/.exec(c);
  if (m) return [+m[1], +m[2], +m[3]];
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
};

const lum = (rgb: number[]) => {
  const lin = (v: number) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
};

describe('inspector colour scales', () => {
  it('diverging: 0 is the scale middle (RdBu at 0.5), the ends are RdBu reversed (blue negative, red positive), beyond the clip is the end', () => {
    assert.deepStrictEqual(divergingRgb(0, 2), parse(interpolateRdBu(0.5)));
    assert.deepStrictEqual(divergingRgb(2, 2), parse(interpolateRdBu(0)));
    assert.deepStrictEqual(divergingRgb(-2, 2), parse(interpolateRdBu(1)));
    assert.deepStrictEqual(divergingRgb(7, 2), divergingRgb(2, 2));
    assert.deepStrictEqual(divergingRgb(-1e9, 2), divergingRgb(-2, 2));
    const red = divergingRgb(1, 1), blue = divergingRgb(-1, 1);
    assert.ok(red[0] > red[2] && blue[2] > blue[0], `positive should be red, negative blue: ${red} ${blue}`);
    assert.deepStrictEqual(divergingRgb(NaN, 1), NAN_RGB);
  });

  it('diverging is symmetric: v and -v sit at mirrored table positions, so their lightness matches (RdBu is symmetric in lightness)', () => {
    for (let k = 0; k <= 100; k++) {
      const v = k / 100;
      const a = divergingRgb(v, 1), b = divergingRgb(-v, 1);
      // Mirrored positions: the same as RdBu at t and 1 - t.
      const t = Math.round(v * 128) / 256;
      assert.deepStrictEqual(a, parse(interpolateRdBu(0.5 - t)), `+${v}`);
      assert.deepStrictEqual(b, parse(interpolateRdBu(0.5 + t)), `-${v}`);
      assert.ok(Math.abs(lum(a) - lum(b)) < 0.06, `lightness of ±${v}: ${lum(a)} vs ${lum(b)}`);
    }
  });

  it('diverging is monotone in v: lightness rises from -clip to 0 and falls to +clip (within 0.005: the spline through the ColorBrewer colours peaks a hair off the middle); negative is blue-leaning, positive red-leaning', () => {
    let prev = -1;
    for (let k = -100; k <= 100; k++) {
      const c = divergingRgb(k / 100, 1);
      const L = lum(c);
      if (k <= 0) assert.ok(L >= prev - 0.005, `lightness drops at ${k / 100}`);
      else assert.ok(L <= prev + 0.005, `lightness rises at ${k / 100}`);
      if (k < -2) assert.ok(c[2] > c[0], `${k / 100} should lean blue: ${c}`);
      if (k > 2) assert.ok(c[0] > c[2], `${k / 100} should lean red: ${c}`);
      prev = L;
    }
  });

  it('sequential is viridis over [0, 1], clamped', () => {
    assert.deepStrictEqual(sequentialRgb(0), parse(interpolateViridis(0)));
    assert.deepStrictEqual(sequentialRgb(1), parse(interpolateViridis(1)));
    assert.deepStrictEqual(sequentialRgb(0.5), parse(interpolateViridis(Math.round(0.5 * 255) / 255)));
    assert.deepStrictEqual(sequentialRgb(-3), sequentialRgb(0));
    assert.deepStrictEqual(sequentialRgb(3), sequentialRgb(1));
    assert.deepStrictEqual(sequentialRgb(NaN), NAN_RGB);
  });

  it('percentileAbs matches a sort-based float64 reference (nearest rank), with NaN and infinities left out', () => {
    const r = rng(7);
    for (const n of [1, 2, 3, 10, 99, 100, 101, 1000, 12345]) {
      const xs = Array.from({ length: n }, () => (r() - 0.5) * 10 * (r() < 0.05 ? 20 : 1));
      if (n > 5) xs[3] = NaN;
      if (n > 6) xs[5] = Infinity;
      const f = Float32Array.from(xs);
      const abs = Array.from(f, Math.abs);
      for (const p of [0, 1, 50, 90, 99, 100]) {
        assert.strictEqual(percentileAbs(f, p), Math.fround(refPercentile(abs, p)), `n=${n} p=${p}`);
        assert.strictEqual(percentile(f, p), Math.fround(refPercentile(Array.from(f), p)), `signed n=${n} p=${p}`);
      }
    }
    // Many ties (quickselect partitions on equal values).
    const ties = Float32Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? 3 : i % 2 ? 0 : -1));
    assert.strictEqual(percentileAbs(ties, 99), refPercentile(Array.from(ties, Math.abs), 99));
    assert.strictEqual(percentileAbs(new Float32Array(0), 99), 0);
  });

  it('scaleFor: h and the tanh candidates g, n span -1..1; c and pre are clipped at the 99th percentile of |value|; the sigmoid gates are 0..1', () => {
    const r = rng(3);
    const values = Float32Array.from({ length: 4000 }, () => (r() - 0.5) * 6);
    values[10] = 500; // an outlier that must not set the range
    const ref = refPercentile(Array.from(values, Math.abs), 99);
    for (const q of QUANTITY_NAMES) {
      const s = scaleFor(q, values);
      if (q === 'c' || q === 'pre') {
        assert.strictEqual(s.kind, 'diverging');
        assert.strictEqual(s.clip, Math.fround(ref));
        assert.strictEqual(s.percentile, CLIP_PERCENTILE);
        assert.match(s.legend, /clipped at the 99th percentile of \|(c|pre)\|/);
        assert.ok(s.legend.includes(formatLegendNumber(s.clip)), s.legend);
        assert.deepStrictEqual(s.rgb(1e6), divergingRgb(s.clip, s.clip));
      } else if (q === 'h' || q === 'g' || q === 'n') {
        assert.strictEqual(s.kind, 'diverging');
        assert.strictEqual(s.clip, 1);
        assert.strictEqual(s.percentile, null);
        assert.match(s.legend, /−1 to \+1/);
        assert.doesNotMatch(s.legend, /clipped/);
      } else {
        assert.strictEqual(s.kind, 'sequential');
        assert.strictEqual(s.clip, 1);
        assert.match(s.legend, /0 to 1/);
        assert.deepStrictEqual(s.rgb(0.25), sequentialRgb(0.25));
      }
      assert.strictEqual(isDiverging(q), s.kind === 'diverging');
    }
    // All zero: still a usable (positive) clip.
    assert.strictEqual(scaleFor('c', new Float32Array(10)).clip, 1);
  });

  it('sequentialScaleFor clips a non-negative measure at its 99th percentile and says so', () => {
    const s = sequentialScaleFor('surprisal', Float32Array.from([NaN, 1, 2, 3, 4, 100]), 'bits');
    assert.strictEqual(s.clip, 100);
    const xs = Float32Array.from({ length: 1000 }, (_, i) => i / 100);
    const t = sequentialScaleFor('surprisal', xs, 'bits');
    assert.strictEqual(t.clip, Math.fround(refPercentile(Array.from(xs), 99)));
    assert.match(t.legend, /surprisal: 0 to 9\.89 bits \(clipped at the 99th percentile\)/);
    assert.deepStrictEqual(t.rgb(t.clip), sequentialRgb(1));
  });

  it('the packed RGBA table gives the same colours as rgb(v), NaN grey', () => {
    const values = Float32Array.from({ length: 500 }, (_, i) => Math.sin(i) * 3);
    for (const q of ['c', 'h', 'f'] as const) {
      const s = scaleFor(q, values);
      const lut = rgbaTable(s);
      for (const v of [...values.slice(0, 100), -10, 10, 0, 0.5]) {
        const k = lut.index(v);
        const packed = lut.table[k];
        assert.deepStrictEqual([packed & 255, (packed >>> 8) & 255, (packed >>> 16) & 255], s.rgb(v), `${q} ${v}`);
        assert.strictEqual(packed >>> 24, 255);
      }
      assert.strictEqual(lut.index(NaN), -1);
      assert.strictEqual(lut.nan, ((255 << 24) | (128 << 16) | (128 << 8) | 128) >>> 0);
    }
  });

  it('readableTextOn picks black or white with at least 4.5:1 on every colour of both scales', () => {
    const colours = [
      ...Array.from({ length: 257 }, (_, k) => divergingRgb(-1 + k / 128, 1)),
      ...Array.from({ length: 256 }, (_, k) => sequentialRgb(k / 255)),
    ];
    for (const c of colours) {
      const text = readableTextOn(c);
      const t = text === '#000000' ? { r: 0, g: 0, b: 0, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
      const ratio = contrastRatio(t, { r: c[0], g: c[1], b: c[2], a: 1 });
      assert.ok(ratio >= 4.5, `${text} on ${c}: ${ratio.toFixed(2)}`);
    }
  });

  it('unitCss writes rgb() and rgba()', () => {
    assert.strictEqual(unitCss([1, 2, 3]), 'rgb(1, 2, 3)');
    assert.strictEqual(unitCss([1, 2, 300], 0.5), 'rgba(1, 2, 255, 0.5)');
    assert.strictEqual(formatLegendNumber(-2.4137), '−2.41');
  });
});
