// Softmax cross-entropy over rows of logits: the CPU twin of the fused WGSL loss kernel.

import { Vec } from '../tensor';

/**
 * Returns the summed cross-entropy (nats) of N rows of logits [N, V] against targets, and, when
 * `gradScale` is given, overwrites the logits with ∂L/∂logits = (softmax - onehot) · gradScale.
 */
export function softmaxCrossEntropy(N: number, V: number, logits: Vec, targets: Int32Array, gradScale?: number): number {
  let total = 0;
  for (let r = 0; r < N; r++) {
    const o = r * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (logits[o + j] > max) max = logits[o + j];
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(logits[o + j] - max);
    const lse = max + Math.log(sum);
    const y = targets[r];
    total += lse - logits[o + y];
    if (gradScale !== undefined) {
      const inv = gradScale / sum;
      for (let j = 0; j < V; j++) logits[o + j] = Math.exp(logits[o + j] - max) * inv;
      logits[o + y] -= gradScale;
    }
  }
  return total;
}

/** In-place softmax of one row, with temperature; returns nothing, writes probabilities. */
export function softmaxRow(V: number, logits: ArrayLike<number>, off: number, out: Vec | number[], temperature = 1): void {
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (logits[off + j] > max) max = logits[off + j];
  let sum = 0;
  for (let j = 0; j < V; j++) {
    const e = Math.exp((logits[off + j] - max) / temperature);
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < V; j++) out[j] /= sum;
}
