// Gate saturation (kernels/inspect/saturation.ts): each sigmoid gate unit's share of tokens below 0.1
// and above 0.9, against a plain count, with the boundaries (exactly 0.1 and 0.9 count as neither) and
// the gates left out (g, n, the RNN's pre-activation, h and c).

import * as assert from 'assert';
import { GateScopeError } from '../kernels/errors';
import { Rng } from '../kernels/rng';
import { gateSaturation } from '../kernels/inspect/saturation';
import { InspectLayer, QuantityName } from '../kernels/inspect/types';

function layerOf(names: QuantityName[], T: number, H: number, rng: Rng): InspectLayer {
  return { names, values: names.map(() => Float32Array.from({ length: T * H }, () => Math.round(rng.next() * 20) / 20)) };
}

describe('gateSaturation', () => {
  it('counts each unit\'s tokens below 0.1 and above 0.9 (boundaries excluded), per layer and sigmoid gate', () => {
    const T = 4, H = 2;
    // unit 0: 0.05, 0.1, 0.95, 0.9 → left 1/4, right 1/4; unit 1: 0, 0, 0.5, 1 → left 2/4, right 1/4.
    const f = Float32Array.from([0.05, 0, 0.1, 0, 0.95, 0.5, 0.9, 1]);
    const r = gateSaturation([{ names: ['h', 'f'], values: [new Float32Array(T * H), f] }], T, H);
    assert.strictEqual(r.length, 1);
    assert.strictEqual(r[0].layer, 0);
    assert.deepStrictEqual(r[0].gates.map((g) => g.name), ['f']);
    assert.deepStrictEqual([...r[0].gates[0].left], [0.25, 0.5]);
    assert.deepStrictEqual([...r[0].gates[0].right], [0.25, 0.25]);
  });

  it('equals a plain count on seeded LSTM, GRU and RNN layers; only i f o and r z take part', () => {
    const rng = new Rng(9);
    const T = 37, H = 5;
    const layers = [
      layerOf(['h', 'c', 'i', 'f', 'g', 'o'], T, H, rng),
      layerOf(['h', 'r', 'z', 'n'], T, H, rng),
      layerOf(['h', 'pre'], T, H, rng),
    ];
    const r = gateSaturation(layers, T, H);
    assert.deepStrictEqual(r.map((l) => l.layer), [0, 1, 2]);
    assert.deepStrictEqual(r.map((l) => l.gates.map((g) => g.name)), [['i', 'f', 'o'], ['r', 'z'], []]);
    r.forEach((l, li) => l.gates.forEach((g) => {
      const v = layers[li].values[layers[li].names.indexOf(g.name)];
      for (let u = 0; u < H; u++) {
        const col = Array.from({ length: T }, (_, t) => v[t * H + u]);
        assert.strictEqual(g.left[u], Math.fround(col.filter((x) => x < 0.1).length / T), `layer ${li} ${g.name} unit ${u} left`);
        assert.strictEqual(g.right[u], Math.fround(col.filter((x) => x > 0.9).length / T), `layer ${li} ${g.name} unit ${u} right`);
      }
    }));
  });

  it('no tokens: every share is NaN; wrong lengths are refused', () => {
    const r = gateSaturation([{ names: ['i'], values: [new Float32Array(0)] }], 0, 3);
    assert.ok([...r[0].gates[0].left, ...r[0].gates[0].right].every(Number.isNaN));
    assert.throws(() => gateSaturation([{ names: ['i'], values: [new Float32Array(5)] }], 2, 3), GateScopeError);
    assert.throws(() => gateSaturation([{ names: ['i', 'f'], values: [new Float32Array(6)] }], 2, 3), GateScopeError);
  });
});
