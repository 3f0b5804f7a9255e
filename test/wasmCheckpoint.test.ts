// Checkpoints move between the cpu and wasm backends and continue the same run: k steps on one
// backend, the parameters and Adam state written as the checkpoint files (kernels/checkpoint.ts) and
// read back, k more steps on the other, against 2k steps on the first alone. The windows are laid out
// so the resumed step starts an epoch (the state is reset there in both runs, as the trainer does on a
// resume). The same comparison must reject a resume that drops the Adam moments (a fresh optimizer).

import * as assert from 'assert';
import { StepResult, TrainingBackend } from '../kernels/backend';
import { decodeCheckpoint, decodeOptimizerState, encodeCheckpoint, encodeOptimizerState } from '../kernels/checkpoint';
import { CellType, DEFAULT_OPTIM, ModelConfig, OptimConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { ParamMap, initParams } from '../kernels/params';
import { maxAbsDiff } from '../kernels/tensor';
import { StreamBatcher } from '../kernels/trainingData';
import { structuredTokens as tokens, trainSteps } from './trainingRun';
import { createWasmBackend } from '../kernels/wasm/backend';

/** Inside the range of these models' gradient norms: some steps are clipped. */
const optim: OptimConfig = { ...DEFAULT_OPTIM, learningRate: 5e-3, clipNorm: 0.3 };
const K = 8;
const T = 6, B = 3;


/** Global steps [from, to) of the run over `data`; K steps are one epoch, so a resume at K starts one. */
function steps(backend: TrainingBackend, data: Int32Array, from: number, to: number): Promise<StepResult[]> {
  assert.strictEqual(new StreamBatcher(data, B, T).windowsPerEpoch, K, 'the resumed step starts an epoch');
  return trainSteps(backend, data, T, B, from, to);
}

/** Through the files: what a resume reads back. */
async function saved(backend: TrainingBackend, config: ModelConfig): Promise<{ params: ParamMap; state: ReturnType<typeof decodeOptimizerState> }> {
  const ck = decodeCheckpoint(encodeCheckpoint({ config, params: await backend.getParams(), step: backend.step }));
  assert.strictEqual(ck.step, backend.step);
  const state = decodeOptimizerState(encodeOptimizerState(await backend.getOptimizerState()), config);
  return { params: ck.params, state };
}

function worst(a: ParamMap, b: ParamMap): { name: string; diff: number } {
  let w = { name: '', diff: 0 };
  for (const [k, v] of a) {
    const d = maxAbsDiff(v, b.get(k)!);
    if (!(d < w.diff)) w = { name: k, diff: d };
  }
  return w;
}

type Kind = 'cpu' | 'wasm';
function make(kind: Kind, config: ModelConfig, params: ParamMap, opts: { optimizerState?: ReturnType<typeof decodeOptimizerState>; startStep?: number } = {}): TrainingBackend {
  return kind === 'cpu' ? new CpuBackend(config, params, optim, { dropoutSeed: 9, ...opts }) : createWasmBackend(config, params, optim, { dropoutSeed: 9, ...opts });
}

describe('checkpoints move between the cpu and wasm backends', function () {
  this.timeout(60000);

  for (const [cell, from, to] of [['lstm', 'cpu', 'wasm'], ['gru', 'wasm', 'cpu'], ['rnn', 'cpu', 'wasm'], ['lstm', 'wasm', 'cpu']] as [CellType, Kind, Kind][]) {
    it(`${cell}: ${K} steps on ${from}, resumed on ${to} for ${K} more, equal ${2 * K} steps on ${from}; a resume without the Adam moments is caught`, async () => {
      const config: ModelConfig = { cell, vocabSize: 21, embedSize: 6, hiddenSize: 10, numLayers: 2, dropout: 0.2 };
      const params = initParams(config, 13);
      const data = tokens(T * B * K + 1, config.vocabSize, 4);

      const whole = make(from, config, params);
      const first = make(from, config, params);
      const second: TrainingBackend[] = [];
      try {
        const wholeRun = await steps(whole, data, 0, 2 * K);
        await steps(first, data, 0, K);
        const s = await saved(first, config);
        const resumed = make(to, config, s.params, { optimizerState: s.state });
        second.push(resumed);
        assert.strictEqual(resumed.step, K);
        const resumedRun = await steps(resumed, data, K, 2 * K);
        assert.strictEqual(resumed.step, 2 * K);
        assert.strictEqual((await resumed.getOptimizerState()).step, 2 * K);

        const loss = Math.max(...resumedRun.map((r, i) => Math.abs(r.loss - wholeRun[K + i].loss) / wholeRun[K + i].loss));
        const p = worst(await whole.getParams(), await resumed.getParams());
        const m = worst((await whole.getOptimizerState()).m, (await resumed.getOptimizerState()).m);

        // The control: the same resume with a fresh optimizer (what a lost optimizer file gives).
        const fresh = make(to, config, s.params, { startStep: K });
        second.push(fresh);
        await steps(fresh, data, K, 2 * K);
        const pFresh = worst(await whole.getParams(), await fresh.getParams());
        console.log(`      ${cell} ${from} → ${to}: max differences: loss ${loss.toExponential(2)} (relative), parameters ${p.diff.toExponential(2)} in ${p.name}, ` +
          `Adam m ${m.diff.toExponential(2)}; without the moments: parameters ${pFresh.diff.toExponential(2)}`);
        assert.ok(loss < 1e-5, `losses after the resume differ by ${loss} relative`);
        assert.ok(p.diff < 1e-4, `${p.name} differs by ${p.diff}`);
        assert.ok(m.diff < 1e-6, `Adam m differs by ${m.diff} in ${m.name}`);
        assert.ok(pFresh.diff > 1e-3, 'a resume without the Adam moments is told apart');
      } finally {
        for (const b of [whole, first, ...second]) b.dispose();
      }
    });
  }
});
