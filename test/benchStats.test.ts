// The benchmark's interleaved-round statistics (bench/stats.ts).

import * as assert from 'assert';
import { median, ratioOf } from '../bench/stats';

describe('bench: interleaved-round statistics', () => {
  it('median of odd and even lists; an empty list is an error', () => {
    assert.strictEqual(median([3, 1, 2]), 2);
    assert.strictEqual(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]), /empty/);
  });

  it('a ratio over rounds is the median of each round\'s ratio, not the ratio of the medians', () => {
    // LSTM h256 L2, two threads and one, three rounds of the run of 2026-12-02 (tokens/s): the rounds'
    // speed-ups are 1.80, 1.82 and 1.56; the medians' ratio, 12500 / 7998 = 1.56, pairs round 3's
    // two-thread figure with round 3's one-thread one only by chance.
    const twoThreads = [14685, 10373, 12500];
    const oneThread = [8140, 5693, 7998];
    const r = ratioOf(twoThreads, oneThread);
    assert.ok(Math.abs(r - 14685 / 8140) < 1e-12, `got ${r}`);
    assert.ok(Math.abs(median(twoThreads) / median(oneThread) - 1.5629) < 1e-3);
  });

  it('a system measured in fewer rounds than the base falls back to the ratio of the medians', () => {
    assert.strictEqual(ratioOf([10, 30, 20], [4]), 5);
  });
});
