// InferenceSession.trace and predict: per-token activations of one layer, checked against a float64
// re-implementation of PyTorch's cell equations written from the raw parameters (test/float64Reference.ts),
// and the state after a trace against the state after feedMany on the same tokens.

import * as assert from 'assert';
import { CellType, ModelConfig } from '../kernels/config';
import { GateScopeError } from '../kernels/errors';
import { GATE_NAMES, InferenceSession } from '../kernels/infer';
import { initParams } from '../kernels/params';
import { Rng } from '../kernels/rng';
import { maxAbsDiff } from '../kernels/tensor';
import { referenceLayers, referenceNextProbabilities } from './float64Reference';

const TOL = 1e-5;

function randomIds(n: number, V: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Math.floor(rng.next() * V));
}

const CELLS: CellType[] = ['lstm', 'gru', 'rnn'];

describe('InferenceSession.trace', () => {
  for (const cell of CELLS) {
    describe(cell, () => {
      // Dropout is set to show that inference ignores it.
      const config: ModelConfig = { cell, vocabSize: 13, embedSize: 5, hiddenSize: 7, numLayers: 2, dropout: 0.3 };
      const params = initParams(config, 42);
      const H = config.hiddenSize;
      const G = GATE_NAMES[cell].length;
      // Longer than one feeding chunk (256 tokens), so chunks are concatenated.
      const ids = randomIds(300, config.vocabSize, 7);
      const ref = referenceLayers(config, params, ids);

      for (let layer = 0; layer < config.numLayers; layer++) {
        it(`layer ${layer} matches the float64 cell equations`, () => {
          const session = new InferenceSession(config, params);
          const tr = session.trace(session.newState(), ids, layer);
          const want = ref[layer];
          assert.strictEqual(tr.hidden.length, ids.length * H);
          assert.ok(maxAbsDiff(tr.hidden, want.h.flat()) < TOL, `hidden differs by ${maxAbsDiff(tr.hidden, want.h.flat())}`);
          if (cell === 'lstm') {
            assert.ok(tr.cell, 'LSTM trace has no cell');
            assert.ok(maxAbsDiff(tr.cell, want.c!.flat()) < TOL, `cell differs by ${maxAbsDiff(tr.cell, want.c!.flat())}`);
          } else {
            assert.strictEqual(tr.cell, null);
          }
          if (cell === 'rnn') {
            assert.strictEqual(tr.gates, null);
          } else {
            assert.ok(tr.gates, `${cell} trace has no gates`);
            assert.deepStrictEqual(tr.gates.names, [...GATE_NAMES[cell]]);
            assert.strictEqual(tr.gates.values.length, ids.length * G * H);
            assert.ok(maxAbsDiff(tr.gates.values, want.gates!.flat()) < TOL, `gates differ by ${maxAbsDiff(tr.gates.values, want.gates!.flat())}`);
          }
        });
      }

      it('continues from a state already fed, and leaves it as feedMany does', () => {
        const session = new InferenceSession(config, params);
        const split = 40;
        const traced = session.newState();
        session.feedMany(traced, ids.slice(0, split));
        const tr = session.trace(traced, ids.slice(split), 1);
        const wantH = ref[1].h.slice(split).flat();
        assert.ok(maxAbsDiff(tr.hidden, wantH) < TOL, `hidden differs by ${maxAbsDiff(tr.hidden, wantH)}`);

        const fed = session.newState();
        session.feedMany(fed, ids.slice(0, split));
        session.feedMany(fed, ids.slice(split));
        assert.strictEqual(traced.position, ids.length);
        assert.strictEqual(traced.position, fed.position);
        assert.deepStrictEqual(traced.logits, fed.logits);
        assert.deepStrictEqual(traced.inner, fed.inner);
        assert.ok(maxAbsDiff(traced.inner.h[1], ref[1].h[ids.length - 1]) < TOL);
      });

      it('refuses a layer that does not exist', () => {
        const session = new InferenceSession(config, params);
        for (const layer of [-1, 2, 0.5, NaN]) {
          assert.throws(() => session.trace(session.newState(), ids, layer), GateScopeError, `layer ${layer}`);
        }
      });
    });
  }

  it('an empty text gives empty rows and leaves the state alone', () => {
    const config: ModelConfig = { cell: 'lstm', vocabSize: 5, embedSize: 3, hiddenSize: 4, numLayers: 1, dropout: 0 };
    const session = new InferenceSession(config, initParams(config, 1));
    const s = session.newState();
    const tr = session.trace(s, [], 0);
    assert.strictEqual(tr.hidden.length, 0);
    assert.strictEqual(tr.cell!.length, 0);
    assert.strictEqual(tr.gates!.values.length, 0);
    assert.strictEqual(s.position, 0);
    assert.strictEqual(s.logits, null);
  });
});

describe('InferenceSession.predict', () => {
  const config: ModelConfig = { cell: 'gru', vocabSize: 17, embedSize: 4, hiddenSize: 6, numLayers: 2, dropout: 0 };
  const params = initParams(config, 3);
  const session = new InferenceSession(config, params);

  it('gives the k most likely next tokens with their softmax probabilities (as the float64 reference computes them), most likely first', () => {
    const s = session.newState();
    session.feedMany(s, [1, 5, 2, 9]);
    const p = referenceNextProbabilities(config, params, [1, 5, 2, 9]);
    const top = session.predict(s, 5);
    assert.strictEqual(top.length, 5);
    const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
    assert.deepStrictEqual(top.map((t) => t.id), order.slice(0, 5));
    for (const t of top) assert.ok(Math.abs(t.probability - p[t.id]) < 1e-6, `token ${t.id}: ${t.probability} vs ${p[t.id]}`);
    const all = session.predict(s, 100);
    assert.strictEqual(all.length, config.vocabSize);
    assert.ok(Math.abs(all.reduce((a, t) => a + t.probability, 0) - 1) < 1e-5);
  });

  it('does not change the state', () => {
    const s = session.newState();
    session.feed(s, 3);
    const before = session.copyState(s);
    session.predict(s, 3);
    assert.deepStrictEqual(s, before);
  });

  it('refuses a state that has seen no token, and a k below 1', () => {
    assert.throws(() => session.predict(session.newState(), 3), GateScopeError);
    const s = session.newState();
    session.feed(s, 0);
    assert.throws(() => session.predict(s, 0), GateScopeError);
  });
});
