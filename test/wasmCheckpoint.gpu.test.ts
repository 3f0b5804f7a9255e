// Checkpoints move between the webgpu and wasm backends and continue the same run (the GPU tier's half
// of test/wasmCheckpoint.test.ts): k steps on one, the parameters and Adam state written as checkpoint
// files and read back, k more steps on the other, against 2k steps on the first alone. The resumed step
// starts an epoch, so both runs reset the recurrent state there. Tolerances are the WebGPU backend's
// whole-step ones for the moments (test/webgpuBackend.gpu.test.ts: its float32 reductions run in another
// order; observed here up to 4e-7 relative) and the for losses and parameters.

import * as assert from 'assert';
import { StepResult, TrainingBackend } from '../kernels/backend';
import { OptimizerState, decodeCheckpoint, decodeOptimizerState, encodeCheckpoint, encodeOptimizerState } from '../kernels/checkpoint';
import { CellType, DEFAULT_OPTIM, ModelConfig, OptimConfig } from '../kernels/config';
import { ParamMap, initParams } from '../kernels/params';
import { maxAbsDiff } from '../kernels/tensor';
import { StreamBatcher } from '../kernels/trainingData';
import { createWasmBackend } from '../kernels/wasm/backend';
import { WebGpuBackend } from '../kernels/webgpu/backend';
import { GpuContext } from '../kernels/webgpu/context';
import { requireGpu } from './gpuContext';
import { structuredTokens as tokens, trainSteps } from './trainingRun';

/** Inside the range of these models' gradient norms: some steps are clipped. */
const optim: OptimConfig = { ...DEFAULT_OPTIM, learningRate: 5e-3, clipNorm: 0.3 };
const K = 6;
const T = 5, B = 3;


/** Global steps [from, to) of the run over `data`; K steps are one epoch, so a resume at K starts one. */
function steps(backend: TrainingBackend, data: Int32Array, from: number, to: number): Promise<StepResult[]> {
  assert.strictEqual(new StreamBatcher(data, B, T).windowsPerEpoch, K, 'the resumed step starts an epoch');
  return trainSteps(backend, data, T, B, from, to);
}

/** Largest |a - b| over the largest |a|, tensor by tensor; the worst. */
function worstRel(a: ParamMap, b: ParamMap): { name: string; rel: number } {
  let w = { name: '', rel: 0 };
  for (const [k, v] of a) {
    let scale = 0;
    for (let i = 0; i < v.length; i++) scale = Math.max(scale, Math.abs(v[i]));
    const rel = maxAbsDiff(v, b.get(k)!) / Math.max(scale, Number.MIN_VALUE);
    if (!(rel < w.rel)) w = { name: k, rel };
  }
  return w;
}

type Kind = 'webgpu' | 'wasm';

describe('checkpoints move between the webgpu and wasm backends', function () {
  this.timeout(600000);
  let ctx: GpuContext;
  before(async function () {
    ctx = await requireGpu(this);
  });

  async function make(kind: Kind, config: ModelConfig, params: ParamMap, optimizerState?: OptimizerState): Promise<TrainingBackend> {
    const opts = { dropoutSeed: 4, optimizerState };
    return kind === 'webgpu' ? WebGpuBackend.create(ctx, config, params, optim, opts) : createWasmBackend(config, params, optim, opts);
  }

  for (const [cell, from, to] of [['lstm', 'webgpu', 'wasm'], ['gru', 'wasm', 'webgpu'], ['rnn', 'webgpu', 'wasm']] as [CellType, Kind, Kind][]) {
    it(`${cell}: ${K} steps on ${from}, resumed on ${to} for ${K} more, equal ${2 * K} steps on ${from}`, async () => {
      const config: ModelConfig = { cell, vocabSize: 19, embedSize: 6, hiddenSize: 10, numLayers: 2, dropout: 0.2 };
      const params = initParams(config, 17);
      const data = tokens(T * B * K + 1, config.vocabSize, 2);
      const made: TrainingBackend[] = [];
      try {
        const whole = await make(from, config, params);
        made.push(whole);
        const wholeRun = await steps(whole, data, 0, 2 * K);
        const first = await make(from, config, params);
        made.push(first);
        await steps(first, data, 0, K);
        const ck = decodeCheckpoint(encodeCheckpoint({ config, params: await first.getParams(), step: first.step }));
        const state = decodeOptimizerState(encodeOptimizerState(await first.getOptimizerState()), config);
        const resumed = await make(to, config, ck.params, state);
        made.push(resumed);
        assert.strictEqual(resumed.step, K);
        const resumedRun = await steps(resumed, data, K, 2 * K);
        assert.strictEqual(resumed.step, 2 * K);

        const loss = Math.max(...resumedRun.map((r, i) => Math.abs(r.loss - wholeRun[K + i].loss) / wholeRun[K + i].loss));
        const p = worstRel(await whole.getParams(), await resumed.getParams());
        const m = worstRel((await whole.getOptimizerState()).m, (await resumed.getOptimizerState()).m);
        // The control: a resume without the Adam moments (startStep only) lands elsewhere.
        const fresh = to === 'wasm'
          ? createWasmBackend(config, ck.params, optim, { dropoutSeed: 4, startStep: K })
          : await WebGpuBackend.create(ctx, config, ck.params, optim, { dropoutSeed: 4, startStep: K });
        made.push(fresh);
        await steps(fresh, data, K, 2 * K);
        const pFresh = worstRel(await whole.getParams(), await fresh.getParams());
        console.log(`      ${cell} ${from} → ${to}: relative differences: loss ${loss.toExponential(2)}, parameters ${p.rel.toExponential(2)} in ${p.name}, ` +
          `Adam m ${m.rel.toExponential(2)} in ${m.name}; without the moments: parameters ${pFresh.rel.toExponential(2)}`);
        assert.ok(loss < 1e-5, `losses after the resume differ by ${loss} relative`);
        assert.ok(p.rel < 1e-4, `${p.name} differs by ${p.rel} relative`);
        assert.ok(m.rel < 5e-6, `Adam m differs by ${m.rel} relative in ${m.name}`);
        assert.ok(pFresh.rel > 1e-3, 'a resume without the Adam moments is told apart');
      } finally {
        for (const b of made) b.dispose();
      }
    });
  }
});
