// The WebGPU backend as a whole against the CPU reference: 20 training steps of 2-layer RNN, LSTM and
// GRU models from the same weights on the same data, the same dropout masks from the same seed, and
// a device lost in the middle of training (the trainer resumes on the CPU from the last checkpoint).

import * as assert from 'assert';
import { TrainingBackend } from '../kernels/backend';
import { CellType, DEFAULT_OPTIM, ModelConfig, OptimConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { StreamBatcher } from '../kernels/trainingData';
import { createNodeGpuContext } from '../kernels/node/webgpu';
import { ParamMap, initParams } from '../kernels/params';
import { Rng } from '../kernels/rng';
import { maxAbsDiff } from '../kernels/tensor';
import { trainLoop } from '../kernels/train';
import { WebGpuBackend } from '../kernels/webgpu/backend';
import { GpuContext } from '../kernels/webgpu/context';
import { requireGpu } from './gpuContext';

const optim: OptimConfig = { ...DEFAULT_OPTIM, learningRate: 5e-3, clipNorm: 1 };

function tokens(n: number, V: number, seed: number): Int32Array {
  const r = new Rng(seed);
  const t = new Int32Array(n);
  // A little structure so the model has something to learn: runs of rising ids.
  for (let i = 0; i < n; i++) t[i] = r.next() < 0.7 && i > 0 ? (t[i - 1] + 1) % V : r.int(V);
  return t;
}

async function runSteps(backend: TrainingBackend, data: Int32Array, T: number, B: number, steps: number): Promise<number[]> {
  const batcher = new StreamBatcher(data, B, T);
  const x = new Int32Array(T * B), y = new Int32Array(T * B);
  const losses: Promise<number>[] = [];
  for (let s = 0; s < steps; s++) {
    const w = s % batcher.windowsPerEpoch;
    batcher.fill(w, x, y);
    losses.push(backend.trainStep(x, y, T, B, { resetState: w === 0 }).then((r) => r.loss));
  }
  return Promise.all(losses);
}

function worstParamDiff(a: ParamMap, b: ParamMap): { name: string; diff: number } {
  let worst = { name: '', diff: 0 };
  for (const [k, v] of a) {
    const d = maxAbsDiff(v, b.get(k)!);
    if (d >= worst.diff) worst = { name: k, diff: d };
  }
  return worst;
}

describe('WebGPU backend against the CPU reference', function () {
  this.timeout(600000);
  let ctx: GpuContext;
  before(async function () {
    ctx = await requireGpu(this);
  });

  for (const cell of ['rnn', 'lstm', 'gru'] as CellType[]) {
    it(`${cell}, 2 layers: 20 steps give the same losses and parameters`, async () => {
      const config: ModelConfig = { cell, vocabSize: 29, embedSize: 7, hiddenSize: 18, numLayers: 2, dropout: 0 };
      const T = 6, B = 5;
      const data = tokens(T * B * 8 + 1, config.vocabSize, 3);
      const params = initParams(config, 11);
      const cpu = new CpuBackend(config, params, optim);
      const gpu = await WebGpuBackend.create(ctx, config, params, optim);
      try {
        const lc = await runSteps(cpu, data, T, B, 20);
        const lg = await runSteps(gpu, data, T, B, 20);
        const rel = Math.max(...lc.map((l, i) => Math.abs(l - lg[i]) / Math.abs(l)));
        const worst = worstParamDiff(await cpu.getParams(), await gpu.getParams());
        console.log(`      ${cell}: loss ${lc[0].toFixed(4)} → ${lc[19].toFixed(4)}; max relative loss difference ${rel.toExponential(2)}; worst parameter difference ${worst.diff.toExponential(2)} (${worst.name})`);
        assert.ok(lc[19] < lc[0], 'the loss went down');
        assert.ok(rel < 1e-3, `loss trajectories differ by ${rel}`);
        assert.ok(worst.diff < 1e-3, `parameters differ by ${worst.diff} in ${worst.name}`);
        assert.strictEqual(gpu.step, 20);
        const oc = await cpu.getOptimizerState(), og = await gpu.getOptimizerState();
        assert.ok(worstParamDiff(oc.m, og.m).diff < 1e-3 && worstParamDiff(oc.v, og.v).diff < 1e-3, 'Adam moments agree');
      } finally {
        gpu.dispose();
      }
    });
  }

  it('dropout: the same seed gives the same masks on both backends', async () => {
    const config: ModelConfig = { cell: 'lstm', vocabSize: 19, embedSize: 6, hiddenSize: 12, numLayers: 2, dropout: 0.4 };
    const T = 5, B = 3;
    const data = tokens(T * B * 6 + 1, config.vocabSize, 5);
    const params = initParams(config, 2);
    const cpu = new CpuBackend(config, params, optim, { dropoutSeed: 77 });
    const gpu = await WebGpuBackend.create(ctx, config, params, optim, { dropoutSeed: 77 });
    const other = new CpuBackend(config, params, optim, { dropoutSeed: 78 });
    try {
      const lc = await runSteps(cpu, data, T, B, 6);
      const lg = await runSteps(gpu, data, T, B, 6);
      const lo = await runSteps(other, data, T, B, 6);
      const rel = Math.max(...lc.map((l, i) => Math.abs(l - lg[i]) / l));
      console.log(`      dropout 0.4: max relative loss difference ${rel.toExponential(2)} (another seed differs by ${Math.abs(lc[0] - lo[0]).toExponential(2)})`);
      assert.ok(rel < 1e-3, `losses with dropout differ by ${rel}: masks differ`);
      assert.ok(Math.abs(lc[0] - lo[0]) > 1e-3, 'a different seed gives different masks');
    } finally {
      gpu.dispose();
    }
  });

  it('evaluation gives the same summed loss', async () => {
    const config: ModelConfig = { cell: 'gru', vocabSize: 23, embedSize: 5, hiddenSize: 9, numLayers: 1, dropout: 0.2 };
    const params = initParams(config, 4);
    const cpu = new CpuBackend(config, params, optim);
    const gpu = await WebGpuBackend.create(ctx, config, params, optim);
    try {
      const data = tokens(200, 23, 9);
      const x = data.subarray(0, 7 * 4), y = data.subarray(1, 7 * 4 + 1);
      const a = await cpu.evalWindow(x, y, 7, 4, true), b = await gpu.evalWindow(x, y, 7, 4, true);
      const a2 = await cpu.evalWindow(y, x, 7, 4, false), b2 = await gpu.evalWindow(y, x, 7, 4, false);
      assert.ok(Math.abs(a - b) / a < 1e-4 && Math.abs(a2 - b2) / a2 < 1e-4, `${a} vs ${b}, ${a2} vs ${b2}`);
    } finally {
      gpu.dispose();
    }
  });

  it('a device lost mid-training is a clear error naming the step; training resumes on the CPU from the last checkpoint', async () => {
    const own = await createNodeGpuContext();
    assert.ok(own.ctx, own.why);
    const config: ModelConfig = { cell: 'lstm', vocabSize: 17, embedSize: 6, hiddenSize: 10, numLayers: 1, dropout: 0 };
    const T = 6, B = 4;
    const data = tokens(T * B * 20 + 1, config.vocabSize, 8);
    const gpu = await WebGpuBackend.create(own.ctx!, config, initParams(config, 5), optim);
    type Saved = { step: number; params: ParamMap; opt: Awaited<ReturnType<TrainingBackend['getOptimizerState']>> };
    const checkpoints: Saved[] = [];
    let error: Error | null = null;
    try {
      await trainLoop(gpu, { train: data, chars: new Float64Array(config.vocabSize).fill(1) }, {
        seqLen: T, batchSize: B, maxSteps: 40, checkpointEverySeconds: 0,
        onCheckpoint: async (step) => {
          checkpoints.push({ step, params: await gpu.getParams(), opt: await gpu.getOptimizerState() });
          if (step === 7) own.ctx!.device.destroy();
        },
      });
    } catch (e) {
      error = e as Error;
    }
    assert.ok(error, 'training on a destroyed device must fail');
    console.log(`      error: ${error!.message}`);
    assert.match(error!.message, /step \d+/);
    assert.match(error!.message, /lost|destroyed/i);
    const s = checkpoints[checkpoints.length - 1];
    assert.ok(s && s.step === 7, `last checkpoint at step ${s?.step}`);
    const cpu = new CpuBackend(config, s.params, optim, { optimizerState: s.opt });
    assert.strictEqual(cpu.step, 7);
    const summary = await trainLoop(cpu, { train: data, chars: new Float64Array(config.vocabSize).fill(1) }, { seqLen: T, batchSize: B, maxSteps: 12 });
    assert.strictEqual(summary.steps, 12);
    assert.strictEqual(summary.stepsThisRun, 5);
    gpu.dispose();
  });
});
