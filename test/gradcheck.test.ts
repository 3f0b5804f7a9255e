// Gradient checks: every parameter tensor's analytic gradient (CPU backward, float64) against float64
// central differences, for RNN, LSTM and GRU with 2 layers, through 8 timesteps and a carried state.
// Each model's worst relative error is reported, and its bound is about 5x the worst observed (the
// finite differences' own noise: about 1e-10 absolute, so entries with tiny gradients dominate), so a
// gradient off by a few parts in 1e5 fails, not only one that is plainly wrong.

import * as assert from 'assert';
import { CellType, ModelConfig } from '../kernels/config';
import { CpuModel, copyState, zeroState } from '../kernels/cpu/model';
import { initParams, paramSpecs } from '../kernels/params';
import { Rng } from '../kernels/rng';

function randomTokens(rng: Rng, n: number, V: number): Int32Array {
  const x = new Int32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.int(V);
  return x;
}

/**
 * Bound on |analytic - numeric| / max(|analytic|, |numeric|, 1e-6) per model: about 5x the worst
 * observed (rnn 3.8e-7, lstm 3.9e-5 on an entry whose gradient is 2e-6, gru 9.3e-7).
 */
const BOUND: Record<CellType, number> = { rnn: 2e-6, lstm: 2e-4, gru: 5e-6 };

for (const cell of ['rnn', 'lstm', 'gru'] as CellType[]) {
  describe(`gradient check: ${cell}, 2 layers, T=8, carried state`, () => {
    const bound = BOUND[cell];
    const worst = { rel: 0, at: '(nothing checked)', checked: 0 };
    const config: ModelConfig = { cell, vocabSize: 23, embedSize: 5, hiddenSize: 20, numLayers: 2, dropout: 0 };
    const T = 8, B = 3;
    const rng = new Rng(1234);
    // Scale the weights up a little so the gates are away from their linear regime.
    const params = initParams(config, 99, 'f64');
    for (const [k, v] of params) if (k.startsWith('rnn.')) for (let i = 0; i < v.length; i++) v[i] *= 2;
    const model = new CpuModel(config, params, 'f64');
    // Window 1 builds a non-zero carried state; window 2 is checked.
    const state = zeroState(config, B, 'f64');
    model.forward(randomTokens(rng, T * B, 23), T, B, state, { train: false });
    const carried = copyState(state);
    for (const h of carried.h) assert.ok(h.some((v) => Math.abs(v) > 1e-3), 'carried state must be non-zero');
    const x = randomTokens(rng, T * B, 23);
    const y = randomTokens(rng, T * B, 23);
    model.forward(x, T, B, copyState(carried), { train: true });
    model.lossAndBackward(y);
    const loss = (): number => model.evalLoss(x, y, T, B, copyState(carried)) / (T * B);

    for (const spec of paramSpecs(config)) {
      it(`${spec.name} ${JSON.stringify(spec.shape)}`, () => {
        const p = model.params.get(spec.name)!;
        const g = model.grads.get(spec.name)!;
        // Entries to check: at least 20 (all of a small tensor), chosen among those with a gradient
        // for the embedding (rows of tokens that never occur have exactly zero gradient).
        let candidates = Array.from({ length: p.length }, (_, i) => i);
        if (spec.name === 'embedding.weight') {
          const seen = new Set(Array.from(x));
          candidates = candidates.filter((i) => seen.has(Math.floor(i / config.embedSize)));
        }
        const pick = new Rng(7);
        const chosen = candidates.length <= 24 ? candidates : Array.from({ length: 24 }, () => candidates[pick.int(candidates.length)]);
        const eps = 1e-5;
        let tensorWorst = { rel: 0, at: '', detail: '' };
        for (const i of chosen) {
          const orig = p[i];
          p[i] = orig + eps;
          const lp = loss();
          p[i] = orig - eps;
          const lm = loss();
          p[i] = orig;
          const numeric = (lp - lm) / (2 * eps);
          const analytic = g[i];
          const rel = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-6);
          assert.ok(Number.isFinite(rel), `${spec.name}[${i}] gave a non-finite gradient`);
          if (rel >= tensorWorst.rel) tensorWorst = { rel, at: `${spec.name}[${i}]`, detail: `analytic ${analytic} vs numeric ${numeric}` };
        }
        worst.checked += chosen.length;
        if (tensorWorst.rel >= worst.rel) Object.assign(worst, { rel: tensorWorst.rel, at: tensorWorst.at });
        assert.ok(tensorWorst.rel < bound, `${tensorWorst.at}: ${tensorWorst.detail} (rel ${tensorWorst.rel.toExponential(2)}, bound ${bound.toExponential()})`);
        assert.ok(chosen.length >= 20);
        assert.ok(g.some((v) => v !== 0), 'gradient is all zero');
      });
    }

    it(`worst relative error over every tensor is below ${bound.toExponential()}`, () => {
      console.log(`      ${cell}: worst relative error ${worst.rel.toExponential(2)} at ${worst.at} over ${worst.checked} entries (bound ${bound.toExponential()})`);
      assert.ok(worst.checked >= 20 * paramSpecs(config).length, `only ${worst.checked} entries were checked`);
      assert.ok(worst.rel < bound, `worst relative error ${worst.rel} at ${worst.at}`);
    });
  });
}
