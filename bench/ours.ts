// GateScope's own figures for the benchmark: training throughput and inference latency of the CPU
// engines on the benchmark configurations: the plain TypeScript reference (one thread) and the
// WebAssembly SIMD engine (one thread, or several over shared memory), and of the WebGPU backend.

import { BENCH_CLIP, BENCH_CONTEXT, BENCH_LR, BenchConfig, randomTokens, timeIt, timeItAsync } from './configs';
import { DEFAULT_OPTIM, ModelConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { InferenceSession } from '../kernels/infer';
import { initParams } from '../kernels/params';
import { WebGpuBackend } from '../kernels/webgpu/backend';
import { TrainingBackend } from '../kernels/backend';
import { createWasmBackend, wasmBackendBytes } from '../kernels/wasm/backend';
import { defaultVariant } from '../kernels/wasm/module';
import { nodeThreadRunner } from '../kernels/node/wasmPool';
import { GpuContext } from '../kernels/webgpu/context';

export function modelConfigFor(cfg: BenchConfig): ModelConfig {
  return { cell: cfg.cell, vocabSize: cfg.vocab, embedSize: cfg.embed, hiddenSize: cfg.hidden, numLayers: cfg.layers, dropout: 0 };
}

/** Tokens per second of full training steps (forward, BPTT, clipping, Adam) after one warm-up step. */
export async function benchOursTrain(cfg: BenchConfig, minSeconds: number, engine: { kind: 'cpu' } | { kind: 'wasm'; threads: number } = { kind: 'cpu' }): Promise<number> {
  const config = modelConfigFor(cfg);
  const optim = { ...DEFAULT_OPTIM, learningRate: BENCH_LR, clipNorm: BENCH_CLIP };
  const params = initParams(config, 1);
  let backend: TrainingBackend;
  if (engine.kind === 'wasm') {
    const runner = await nodeThreadRunner(engine.threads, defaultVariant(), wasmBackendBytes(config, cfg.seq, cfg.batch, engine.threads));
    backend = createWasmBackend(config, params, optim, { runner });
  } else {
    backend = new CpuBackend(config, params, optim);
  }
  try {
    const n = cfg.seq * cfg.batch;
    const data = randomTokens(n * 8 + 1, cfg.vocab);
    let w = 0;
    // Both CPU engines compute synchronously; awaiting their promise adds nothing measurable.
    const r = await timeItAsync(async () => {
      const off = (w++ % 8) * n;
      await backend.trainStep(data.subarray(off, off + n), data.subarray(off + 1, off + n + 1), cfg.seq, cfg.batch, { resetState: false });
    }, { minSeconds, minReps: 2, warmup: 1 });
    return (n * r.reps) / r.seconds;
  } finally {
    backend.dispose();
  }
}

/** Batch-1 latency: one token from a cached state, and a 256-token context from zeros, each to a softmax. */
export function benchOursInfer(cfg: BenchConfig, minSeconds: number, engine: 'cpu' | 'wasm'): { msPerToken: number; msContext256: number } {
  const config = modelConfigFor(cfg);
  const session = new InferenceSession(config, initParams(config, 1), { engine });
  const context = randomTokens(BENCH_CONTEXT, cfg.vocab, 77);
  const state = session.newState();
  session.feedMany(state, context);
  let i = 0;
  const one = timeIt(() => {
    session.distribution(session.feed(state, context[i++ % context.length]));
  }, { minSeconds, minReps: 20, warmup: 5 });
  const full = timeIt(() => {
    const s = session.newState();
    session.distribution(session.feedMany(s, context)!);
  }, { minSeconds, minReps: 3, warmup: 1 });
  return { msPerToken: one.secondsPerRep * 1000, msContext256: full.secondsPerRep * 1000 };
}

/**
 * Tokens per second on the WebGPU backend: steps are queued back to back (each loss read a step
 * late, as the trainer does) after one warm-up step that compiles the pipelines.
 */
export async function benchOursTrainWebGpu(ctx: GpuContext, cfg: BenchConfig, minSeconds: number): Promise<{ tokensPerSecond: number; firstStepSeconds: number }> {
  const config = modelConfigFor(cfg);
  const backend = await WebGpuBackend.create(ctx, config, initParams(config, 1), { ...DEFAULT_OPTIM, learningRate: BENCH_LR, clipNorm: BENCH_CLIP });
  try {
    const n = cfg.seq * cfg.batch;
    const data = randomTokens(n * 8 + 1, cfg.vocab);
    let w = 0;
    const step = () => {
      const off = (w++ % 8) * n;
      return backend.trainStep(data.subarray(off, off + n), data.subarray(off + 1, off + n + 1), cfg.seq, cfg.batch, { resetState: false });
    };
    const t0 = performance.now();
    await step();
    const firstStepSeconds = (performance.now() - t0) / 1000;
    let steps = 0;
    const t1 = performance.now();
    let pending = step();
    for (;;) {
      const next = step();
      await pending;
      steps++;
      pending = next;
      if ((performance.now() - t1) / 1000 >= minSeconds && steps >= 2) break;
    }
    await pending;
    steps++;
    return { tokensPerSecond: (n * steps) / ((performance.now() - t1) / 1000), firstStepSeconds };
  } finally {
    backend.dispose();
  }
}
