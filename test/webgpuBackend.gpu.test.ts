// The WebGPU backend as a whole against the CPU reference: 20 training steps of 2-layer RNN, LSTM and
// GRU models from the same weights on the same data, the same dropout masks from the same seed, and
// a device lost in the middle of training (the trainer resumes on the CPU from the last checkpoint).
// The whole-step comparison covers every output of a step (loss, gradient norm before clipping, the
// parameters' change, both Adam moments), each relative to its own size with a tolerance a few times
// the disagreement observed, and it must reject a CPU run whose every gradient is doubled (Adam's
// update barely notices that, so only the norm and the moments can).

import * as assert from 'assert';
import { StepResult, TrainingBackend } from '../kernels/backend';
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

async function runSteps(backend: TrainingBackend, data: Int32Array, T: number, B: number, steps: number): Promise<StepResult[]> {
  const batcher = new StreamBatcher(data, B, T);
  const x = new Int32Array(T * B), y = new Int32Array(T * B);
  const results: Promise<StepResult>[] = [];
  for (let s = 0; s < steps; s++) {
    const w = s % batcher.windowsPerEpoch;
    batcher.fill(w, x, y);
    results.push(backend.trainStep(x, y, T, B, { resetState: w === 0 }));
  }
  return Promise.all(results);
}

/** Everything a run of training steps produces. */
interface StepsRun {
  losses: number[];
  gradNorms: number[];
  /** Parameters after the run minus the initial ones. */
  update: ParamMap;
  m: ParamMap;
  v: ParamMap;
}

async function trainRun(backend: TrainingBackend, initial: ParamMap, data: Int32Array, T: number, B: number, steps: number): Promise<StepsRun> {
  const results = await runSteps(backend, data, T, B, steps);
  const params = await backend.getParams();
  const update: ParamMap = new Map([...params].map(([k, p]) => [k, Float64Array.from(p, (x, i) => x - initial.get(k)![i])]));
  const { m, v } = await backend.getOptimizerState();
  return { losses: results.map((r) => r.loss), gradNorms: results.map((r) => r.gradNorm), update, m, v };
}

/** Largest |a - b| over the largest |a| (a is the reference). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  return maxAbsDiff(a, b) / Math.max(scale, Number.MIN_VALUE);
}

/** The worst relative disagreement between two parameter-shaped maps, tensor by tensor. */
function worstTensor(a: ParamMap, b: ParamMap): { name: string; rel: number } {
  assert.deepStrictEqual([...b.keys()], [...a.keys()]);
  let worst = { name: '', rel: 0 };
  for (const [k, v] of a) {
    const rel = relDiff(v, b.get(k)!);
    if (!(rel < worst.rel)) worst = { name: k, rel }; // NaN is the worst
  }
  return worst;
}

/**
 * Relative tolerances of the whole-step comparison, a few times the worst disagreement observed over
 * the four runs below on SwiftShader: loss 1.3e-7, gradient norm 1.0e-7, update 5.2e-5 (Adam divides
 * by the root of small second moments), m 8.4e-7, v 5.9e-7.
 */
const STEP_TOL = { loss: 1e-6, gradNorm: 1e-6, update: 3e-4, m: 5e-6, v: 5e-6 };

/** How `got` disagrees with the reference run, per output, against STEP_TOL; empty when it agrees. */
function disagreements(ref: StepsRun, got: StepsRun): { measured: Record<keyof typeof STEP_TOL, string>; failures: string[] } {
  const perStep = (a: number[], b: number[]) => relDiff(a, b);
  const update = worstTensor(ref.update, got.update), m = worstTensor(ref.m, got.m), v = worstTensor(ref.v, got.v);
  const rel = { loss: perStep(ref.losses, got.losses), gradNorm: perStep(ref.gradNorms, got.gradNorms), update: update.rel, m: m.rel, v: v.rel };
  const where: Record<keyof typeof STEP_TOL, string> = { loss: 'over the steps', gradNorm: 'over the steps', update: `in ${update.name}`, m: `in ${m.name}`, v: `in ${v.name}` };
  const keys = Object.keys(STEP_TOL) as (keyof typeof STEP_TOL)[];
  const measured = Object.fromEntries(keys.map((k) => [k, `${rel[k].toExponential(2)} ${where[k]}`])) as Record<keyof typeof STEP_TOL, string>;
  const failures = keys.filter((k) => !(rel[k] < STEP_TOL[k])).map((k) => `${k} differs by ${measured[k]} (relative; tolerance ${STEP_TOL[k]})`);
  return { measured, failures };
}

/** A CPU backend with a planted bug: every gradient doubled after backward, before clipping and Adam. */
function cpuWithDoubledGradients(config: ModelConfig, params: ParamMap): CpuBackend {
  const cpu = new CpuBackend(config, params, optim);
  const backward = cpu.model.lossAndBackward.bind(cpu.model);
  cpu.model.lossAndBackward = (y) => {
    const loss = backward(y);
    for (const g of cpu.model.grads.values()) for (let i = 0; i < g.length; i++) g[i] *= 2;
    return loss;
  };
  return cpu;
}

describe('WebGPU backend against the CPU reference', function () {
  this.timeout(600000);
  let ctx: GpuContext;
  before(async function () {
    ctx = await requireGpu(this);
  });

  for (const cell of ['rnn', 'lstm', 'gru'] as CellType[]) {
    it(`${cell}, 2 layers: 20 steps give the same losses, gradient norms, parameters and Adam moments; doubled gradients are caught`, async () => {
      const config: ModelConfig = { cell, vocabSize: 29, embedSize: 7, hiddenSize: 18, numLayers: 2, dropout: 0 };
      const T = 6, B = 5;
      const data = tokens(T * B * 8 + 1, config.vocabSize, 3);
      const params = initParams(config, 11);
      const gpu = await WebGpuBackend.create(ctx, config, params, optim);
      try {
        const cpuRun = await trainRun(new CpuBackend(config, params, optim), params, data, T, B, 20);
        const gpuRun = await trainRun(gpu, params, data, T, B, 20);
        const { measured, failures } = disagreements(cpuRun, gpuRun);
        console.log(`      ${cell}: loss ${cpuRun.losses[0].toFixed(4)} → ${cpuRun.losses[19].toFixed(4)}, gradient norm ${cpuRun.gradNorms[0].toFixed(3)} → ${cpuRun.gradNorms[19].toFixed(3)}; relative differences: ${Object.entries(measured).map(([k, d]) => `${k} ${d}`).join(', ')}`);
        assert.ok(cpuRun.losses[19] < cpuRun.losses[0], 'the loss went down');
        assert.deepStrictEqual(failures, []);
        assert.strictEqual(gpu.step, 20);

        // The planted-bug control: the same comparison must reject a run whose every gradient is doubled.
        const doubled = disagreements(cpuRun, await trainRun(cpuWithDoubledGradients(config, params), params, data, T, B, 20));
        console.log(`      ${cell}, doubled gradients (must be rejected): ${doubled.failures.join('; ')}`);
        assert.ok(doubled.failures.some((f) => f.startsWith('gradNorm')), 'doubled gradients were not caught by the gradient norm');
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
      const cpuRun = await trainRun(cpu, params, data, T, B, 6);
      const { measured, failures } = disagreements(cpuRun, await trainRun(gpu, params, data, T, B, 6));
      const lo = (await runSteps(other, data, T, B, 6)).map((r) => r.loss);
      const lc = cpuRun.losses;
      console.log(`      dropout 0.4: relative differences ${Object.entries(measured).map(([k, d]) => `${k} ${d}`).join(', ')} (another seed's first loss differs by ${Math.abs(lc[0] - lo[0]).toExponential(2)})`);
      assert.deepStrictEqual(failures, [], 'with dropout the backends disagree: masks differ');
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
