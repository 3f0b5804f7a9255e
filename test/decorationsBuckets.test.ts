// The editor's unit colouring, its pure part (extension/decorationBuckets.ts): which bucket (and so
// which decoration type and colour) each value gets on the diverging and the sequential scale, that a
// bucket's colour is taken at its centre, and which tokens of an inspected window are coloured for a
// visible range. The colours themselves are the panel's (kernels/inspect/colorScale.ts), checked in
// test/inspectWorker.test.ts where the worker builds the palette.

import * as assert from 'assert';
import { BUCKETS, BucketScale, bucketCentre, bucketIndex, colourTokens, domainOf, groupByBucket } from '../extension/decorationBuckets';

const DIVERGING: BucketScale = { kind: 'diverging', clip: 2 };
const SEQUENTIAL: BucketScale = { kind: 'sequential', clip: 1 };

describe('decoration buckets', () => {
  it('an odd bucket count: the diverging scale has a middle bucket that holds 0', () => {
    assert.strictEqual(BUCKETS % 2, 1);
    assert.strictEqual(bucketIndex(0, DIVERGING), (BUCKETS - 1) / 2);
    assert.strictEqual(bucketCentre((BUCKETS - 1) / 2, DIVERGING), 0);
  });

  it('the ends of the domain and beyond go to the end buckets; NaN to none', () => {
    for (const [scale, lo, hi] of [[DIVERGING, -2, 2], [SEQUENTIAL, 0, 1]] as const) {
      assert.deepStrictEqual(domainOf(scale), [lo, hi]);
      assert.strictEqual(bucketIndex(lo, scale), 0);
      assert.strictEqual(bucketIndex(lo - 5, scale), 0);
      assert.strictEqual(bucketIndex(hi, scale), BUCKETS - 1);
      assert.strictEqual(bucketIndex(hi + 5, scale), BUCKETS - 1);
      assert.strictEqual(bucketIndex(Infinity, scale), BUCKETS - 1);
      assert.strictEqual(bucketIndex(-Infinity, scale), 0);
      assert.strictEqual(bucketIndex(NaN, scale), -1);
    }
  });

  it('every value inside the domain is within half a bucket of its bucket\'s centre, and buckets grow with the value', () => {
    for (const scale of [DIVERGING, SEQUENTIAL, { kind: 'diverging', clip: 0.37 } as BucketScale]) {
      const [lo, hi] = domainOf(scale);
      const half = (hi - lo) / BUCKETS / 2;
      let prev = 0;
      for (let k = 0; k <= 1000; k++) {
        const v = lo + ((hi - lo) * k) / 1000;
        const b = bucketIndex(v, scale);
        assert.ok(b >= prev, `bucket of ${v} (${b}) is below the bucket of a smaller value (${prev})`);
        prev = b;
        assert.ok(Math.abs(bucketCentre(b, scale) - v) <= half + 1e-12, `${v} is in bucket ${b} centred at ${bucketCentre(b, scale)}`);
      }
      assert.strictEqual(prev, BUCKETS - 1);
    }
  });

  it('a zero or non-finite clip falls back to a unit domain instead of dividing by zero', () => {
    assert.deepStrictEqual(domainOf({ kind: 'diverging', clip: 0 }), [-1, 1]);
    assert.deepStrictEqual(domainOf({ kind: 'diverging', clip: NaN }), [-1, 1]);
    assert.strictEqual(bucketIndex(0.99, { kind: 'diverging', clip: 0 }), BUCKETS - 1);
  });

  describe('colourTokens', () => {
    // A window at document offset 100 with five tokens: "ab", "", "c", "de", "f" (window offsets).
    const offsets = [0, 2, 2, 3, 5, 6];
    const values = Float32Array.from([-2, 1, 0, 2, NaN]);

    it('colours the tokens that overlap the visible range, at document offsets, skipping empty tokens and NaN', () => {
      const all = colourTokens(offsets, 100, values, DIVERGING, 0, 1000);
      assert.deepStrictEqual(all, [
        { start: 100, end: 102, value: -2, bucket: 0 },
        { start: 102, end: 103, value: 0, bucket: (BUCKETS - 1) / 2 },
        { start: 103, end: 105, value: 2, bucket: BUCKETS - 1 },
      ]);
    });

    it('only the visible range: a token partly inside counts, one that ends where it starts does not', () => {
      // Visible [102, 104): "c" [102,103) inside, "de" [103,105) partly; "ab" [100,102) ends at its start.
      const some = colourTokens(offsets, 100, values, DIVERGING, 102, 104);
      assert.deepStrictEqual(some.map((t) => [t.start, t.end]), [[102, 103], [103, 105]]);
      // Visible [105, 200): "de" ends at 105, so nothing but the NaN token "f" overlaps.
      assert.deepStrictEqual(colourTokens(offsets, 100, values, DIVERGING, 105, 200), []);
      // Visible before the window.
      assert.deepStrictEqual(colourTokens(offsets, 100, values, DIVERGING, 0, 100), []);
    });

    it('groups by bucket in bucket order, every token once', () => {
      const tokens = colourTokens([0, 1, 2, 3, 4], 0, Float32Array.from([2, -2, 2, 0]), DIVERGING, 0, 10);
      const groups = groupByBucket(tokens);
      assert.deepStrictEqual([...groups.keys()], [0, (BUCKETS - 1) / 2, BUCKETS - 1]);
      assert.deepStrictEqual(groups.get(BUCKETS - 1)!.map((t) => t.start), [0, 2]);
      assert.strictEqual([...groups.values()].reduce((n, g) => n + g.length, 0), tokens.length);
    });
  });
});
