// The editor's unit colouring, its pure part (extension/decorationBuckets.ts): which tokens of an
// inspected window are coloured for a visible range, grouping them by colour (one decoration type
// each), and that a token's colour is exactly the panel's colour for its value: the palette unpacked
// from the scale's packed table (kernels/inspect/colorScale.ts rgbaTable) at the value's table index.

import * as assert from 'assert';
import { rgbaTable, scaleFor, unitCss } from '../kernels/inspect/colorScale';
import { colourTokens, groupByBucket, paletteOf } from '../extension/decorationBuckets';

describe('decoration buckets', () => {
  describe('colourTokens', () => {
    // A window at document offset 100 with five tokens: "ab", "", "c", "de", "f" (window offsets).
    const offsets = [0, 2, 2, 3, 5, 6];
    const values = Float32Array.from([-2, 1, 0, 2, NaN]);
    const buckets = Int16Array.from([0, 7, 128, 256, -1]);

    it('colours the tokens that overlap the visible range, at document offsets, skipping empty tokens and tokens without a colour', () => {
      assert.deepStrictEqual(colourTokens(offsets, 100, values, buckets, 0, 1000), [
        { start: 100, end: 102, value: -2, bucket: 0 },
        { start: 102, end: 103, value: 0, bucket: 128 },
        { start: 103, end: 105, value: 2, bucket: 256 },
      ]);
    });

    it('only the visible range: a token partly inside counts, one that ends where it starts does not', () => {
      // Visible [102, 104): "c" [102,103) inside, "de" [103,105) partly; "ab" [100,102) ends at its start.
      assert.deepStrictEqual(colourTokens(offsets, 100, values, buckets, 102, 104).map((t) => [t.start, t.end]), [[102, 103], [103, 105]]);
      // Visible [105, 200): "de" ends at 105; "f" has no colour.
      assert.deepStrictEqual(colourTokens(offsets, 100, values, buckets, 105, 200), []);
      // Visible before the window, and ending where the window starts.
      assert.deepStrictEqual(colourTokens(offsets, 100, values, buckets, 0, 100), []);
    });

    it('groups by bucket in bucket order, every token once', () => {
      const tokens = colourTokens([0, 1, 2, 3, 4], 0, Float32Array.from([2, -2, 2, 0]), Int16Array.from([256, 0, 256, 128]), 0, 10);
      const groups = groupByBucket(tokens);
      assert.deepStrictEqual([...groups.keys()], [0, 128, 256]);
      assert.deepStrictEqual(groups.get(256)!.map((t) => t.start), [0, 2]);
      assert.strictEqual([...groups.values()].reduce((n, g) => n + g.length, 0), tokens.length);
    });
  });

  describe('paletteOf', () => {
    it('unpacks 0xAABBGGRR entries', () => {
      const css = (rgb: [number, number, number]) => rgb.join(',');
      assert.deepStrictEqual(paletteOf(Uint32Array.from([0xff030201, 0xff0000ff, 0xffff0000]), css), ['1,2,3', '255,0,0', '0,0,255']);
    });

    it('a value\'s bucket picks exactly the scale\'s colour for it, on the diverging (clipped) and the sequential scale', () => {
      const values = Float32Array.from({ length: 2001 }, (_, k) => Math.sin(k * 0.37) * 3 * (k / 2000));
      for (const q of ['c', 'h', 'f'] as const) {
        const v = q === 'f' ? values.map((x) => 1 / (1 + Math.exp(-x))) : values;
        const scale = scaleFor(q, v);
        const { table, index } = rgbaTable(scale);
        const palette = paletteOf(table, (rgb) => unitCss(rgb, 0.45));
        for (const x of [...v.slice(0, 500), 0, -1e9, 1e9]) assert.strictEqual(palette[index(x)], unitCss(scale.rgb(x), 0.45), `${q} at ${x}`);
      }
    });
  });
});
