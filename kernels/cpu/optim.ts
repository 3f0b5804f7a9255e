// Global-norm gradient clipping and Adam/AdamW, exactly as torch.nn.utils.clip_grad_norm_ and
// torch.optim.Adam(W) compute them: the CPU twins of the WGSL norm, clip and Adam kernels.

import type { OptimConfig } from '../config';
import { Vec } from '../tensor';

/** L2 norm over all gradient tensors together. */
export function globalNorm(grads: readonly Vec[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** Scales gradients so their global norm is at most maxNorm (PyTorch adds 1e-6 to the norm). Returns the norm before clipping. */
export function clipGradNorm(grads: readonly Vec[], maxNorm: number): number {
  const norm = globalNorm(grads);
  if (maxNorm > 0) {
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  }
  return norm;
}

/** What one Adam step reads of the optimizer settings (clipping is clipGradNorm's). */
export type AdamHyper = Pick<OptimConfig, 'learningRate' | 'beta1' | 'beta2' | 'eps' | 'weightDecay'>;

/** One Adam step on one tensor; `step` counts from 1. Weight decay is decoupled (AdamW) when > 0. */
export function adamUpdate(p: Vec, g: Vec, m: Vec, v: Vec, step: number, h: AdamHyper): void {
  const bc1 = 1 - Math.pow(h.beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(h.beta2, step));
  const stepSize = h.learningRate / bc1;
  const decay = 1 - h.learningRate * h.weightDecay;
  const b1 = h.beta1, b2 = h.beta2, eps = h.eps;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
    const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
    if (decay !== 1) p[i] *= decay;
    p[i] -= (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}
