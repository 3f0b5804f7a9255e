// GateScope's own figures for the benchmark: training throughput and inference latency of the CPU
// reference backend on the benchmark configurations (one thread: JavaScript runs on one).

import { BENCH_CLIP, BENCH_CONTEXT, BENCH_LR, BenchConfig, randomTokens, timeIt } from './configs';
import { DEFAULT_OPTIM, ModelConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { InferenceSession } from '../kernels/infer';
import { initParams } from '../kernels/params';

export function modelConfigFor(cfg: BenchConfig): ModelConfig {
  return { cell: cfg.cell, vocabSize: cfg.vocab, embedSize: cfg.embed, hiddenSize: cfg.hidden, numLayers: cfg.layers, dropout: 0 };
}

/** Tokens per second of full training steps (forward, BPTT, clipping, Adam) after one warm-up step. */
export function benchOursTrain(cfg: BenchConfig, minSeconds: number): number {
  const config = modelConfigFor(cfg);
  const backend = new CpuBackend(config, initParams(config, 1), { ...DEFAULT_OPTIM, learningRate: BENCH_LR, clipNorm: BENCH_CLIP });
  const n = cfg.seq * cfg.batch;
  const data = randomTokens(n * 8 + 1, cfg.vocab);
  let w = 0;
  const r = timeIt(() => {
    const off = (w++ % 8) * n;
    backend.trainStepSync(data.subarray(off, off + n), data.subarray(off + 1, off + n + 1), cfg.seq, cfg.batch, { resetState: false });
  }, { minSeconds, minReps: 2, warmup: 1 });
  return (n * r.reps) / r.seconds;
}

/** Batch-1 latency: one token from a cached state, and a 256-token context from zeros, each to a softmax. */
export function benchOursInfer(cfg: BenchConfig, minSeconds: number): { msPerToken: number; msContext256: number } {
  const config = modelConfigFor(cfg);
  const session = new InferenceSession(config, initParams(config, 1));
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
