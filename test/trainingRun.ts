// Shared by the tests that compare whole training runs across engines (wasmModel, wasmThreads,
// wasmCheckpoint and its GPU twin): token data with a little structure, and a run of training steps
// over it in the trainer's window order (window w = step mod windows per epoch; state reset at w = 0).

import { StepResult, TrainingBackend } from '../kernels/backend';
import { Rng } from '../kernels/rng';
import { StreamBatcher } from '../kernels/trainingData';

/** n seeded token ids below V, mostly runs of rising ids, so a model has something to learn. */
export function structuredTokens(n: number, V: number, seed: number): Int32Array {
  const r = new Rng(seed);
  const t = new Int32Array(n);
  for (let i = 0; i < n; i++) t[i] = r.next() < 0.7 && i > 0 ? (t[i - 1] + 1) % V : r.int(V);
  return t;
}

/** Global training steps [from, to) over `data` in windows of T tokens × B streams. */
export async function trainSteps(backend: TrainingBackend, data: Int32Array, T: number, B: number, from: number, to: number): Promise<StepResult[]> {
  const batcher = new StreamBatcher(data, B, T);
  const x = new Int32Array(T * B), y = new Int32Array(T * B);
  const out: StepResult[] = [];
  for (let s = from; s < to; s++) {
    const w = s % batcher.windowsPerEpoch;
    batcher.fill(w, x, y);
    out.push(await backend.trainStep(x, y, T, B, { resetState: w === 0 }));
  }
  return out;
}
