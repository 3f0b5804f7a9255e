// Global gradient norm and a fused clip + Adam/AdamW step on WebGPU: the GPU twins of
// kernels/cpu/optim.ts (globalNorm, clipGradNorm, adamUpdate), as torch.nn.utils.clip_grad_norm_
// and torch.optim.Adam(W) compute them.
//
// Per-step values (the step count, learning rate and bias corrections) live in a small storage
// buffer the caller rewrites each step (queue.writeBuffer(step, 0, packStepParams(...))), so one
// recorded dispatch serves every step.

import type { OptimConfig } from '../config';
import { KernelDef, Recorder, declaredKernel, gridFor, perItemKernel } from './context';
import { sumInto } from './loss';

/** Workgroup size of the Adam kernel. */
const WG = 256;
/** Workgroup size of the first sum-of-squares pass: small workgroups keep the barrier count (which
 * dominates on SwiftShader) low; 256 of them still give 16K threads for the first pass. */
const SQ_WG = 64;

/** The most workgroups (and partial sums) the first pass of sumSquares uses. */
export const SUM_SQUARES_MAX_PARTIALS = 256;

/** Floats the `partial` scratch buffer of sumSquares(n) must hold: min(256, ceil(n / 64)), at least 1. */
export function sumSquaresPartialLength(n: number): number {
  return Math.max(1, Math.min(SUM_SQUARES_MAX_PARTIALS, Math.ceil(n / SQ_WG)));
}

/** Bytes of the `step` buffer clipAdam reads: [t: u32, lr: f32, bias_correction1: f32, sqrt(bias_correction2): f32]. */
export const STEP_PARAMS_BYTES = 16;

/**
 * The 16 bytes of clipAdam's `step` buffer for Adam step t (counting from 1): t (u32), lr (f32),
 * 1 - beta1^t (f32) and sqrt(1 - beta2^t) (f32), little-endian, computed exactly as adamUpdate does.
 */
export function packStepParams(t: number, lr: number, beta1: number, beta2: number): ArrayBuffer {
  const buf = new ArrayBuffer(STEP_PARAMS_BYTES);
  const dv = new DataView(buf);
  dv.setUint32(0, t >>> 0, true);
  dv.setFloat32(4, lr, true);
  dv.setFloat32(8, 1 - Math.pow(beta1, t), true);
  dv.setFloat32(12, Math.sqrt(1 - Math.pow(beta2, t)), true);
  return buf;
}

const squares = declaredKernel('sumSquaresPartial', `sumSquaresPartial:wg${SQ_WG}`, [['src', 'read'], ['partial', 'rw']], 'n: u32', /* wgsl */ `
var<workgroup> red: array<f32, ${SQ_WG}>;
@compute @workgroup_size(${SQ_WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                                   @builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = wid.x * ${SQ_WG}u + lid; i < p.n; i += nwg.x * ${SQ_WG}u) { let x = src[i]; s += x * x; }
  red[lid] = s;
  workgroupBarrier();
  for (var k = ${SQ_WG / 2}u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partial[wid.x] = red[0]; }
}`);

const adam = perItemKernel({
  name: 'clipAdam', workgroupSize: WG,
  buffers: [['params', 'rw'], ['grads', 'read'], ['m', 'rw'], ['v', 'rw'], ['normSq', 'read'], ['st', 'read', 'Step']],
  params: 'n: u32, normOff: u32, b1: f32, b2: f32, omb1: f32, omb2: f32, eps: f32, wd: f32, clip: f32',
  prelude: 'struct Step { t: u32, lr: f32, bc1: f32, bc2Sqrt: f32 }',
  count: 'p.n',
  body: /* wgsl */ `
  var coef = 1.0;
  if (p.clip > 0.0) {
    let c = p.clip / (sqrt(normSq[p.normOff]) + 1e-6);
    if (c < 1.0) { coef = c; }
  }
  let g = grads[i] * coef;
  let mi = p.b1 * m[i] + p.omb1 * g;
  let vi = p.b2 * v[i] + p.omb2 * g * g;
  m[i] = mi;
  v[i] = vi;
  var x = params[i];
  if (p.wd > 0.0) { x *= 1.0 - st.lr * p.wd; }
  x -= (st.lr / st.bc1) * mi / (sqrt(vi) / st.bc2Sqrt + p.eps);
  params[i] = x;`,
});

/** Both kernels, e.g. to compile them ahead of time (sumSquares also uses loss.ts's sumInto). */
export const OPTIM_KERNELS: readonly KernelDef[] = [squares, adam];

/**
 * out[outOff] = Σ src[i]² for i < n (offset 0), in two dispatches: per-workgroup partial sums into
 * `partial` (at least sumSquaresPartialLength(n) floats, ≤ SUM_SQUARES_MAX_PARTIALS), then their sum.
 * `partial` must differ from `src` and `out`.
 */
export function sumSquares(rec: Recorder, n: number, src: GPUBuffer, partial: GPUBuffer, out: GPUBuffer, outOff: number): void {
  const parts = sumSquaresPartialLength(n);
  rec.dispatch(squares, [src, partial], [n], [parts]);
  sumInto(rec, parts, partial, 0, out, outOff, false);
}

/** What the fused clip + Adam kernel reads of the optimizer settings (the learning rate is per step,
 * in the `step` buffer); clipNorm 0 (or less) disables clipping. */
export type ClipAdamHyper = Pick<OptimConfig, 'beta1' | 'beta2' | 'eps' | 'weightDecay' | 'clipNorm'>;

/**
 * One Adam/AdamW step on n parameters (offset 0) with gradients clipped by the global norm:
 * norm = sqrt(normSq[normSqOff]); coef = clipNorm > 0 ? min(1, clipNorm / (norm + 1e-6)) : 1;
 * g = grads[i]·coef (grads are not modified); m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
 * if weightDecay > 0: p *= 1 - lr·wd; p -= (lr / bc1)·m / (sqrt(v) / sqrt(bc2) + eps).
 * `step` holds packStepParams(t, lr, β1, β2) for the current step (STEP_PARAMS_BYTES bytes).
 */
export function clipAdam(
  rec: Recorder, n: number, params: GPUBuffer, grads: GPUBuffer, m: GPUBuffer, v: GPUBuffer,
  normSq: GPUBuffer, normSqOff: number, step: GPUBuffer, hyper: ClipAdamHyper,
): void {
  if (n === 0) return;
  rec.dispatch(
    adam, [params, grads, m, v, normSq, step],
    // 1 - β is computed in f64 (as adamUpdate does), not from β rounded to f32.
    [n, normSqOff, { f: hyper.beta1 }, { f: hyper.beta2 }, { f: 1 - hyper.beta1 }, { f: 1 - hyper.beta2 }, { f: hyper.eps }, { f: hyper.weightDecay }, { f: hyper.clipNorm }],
    gridFor(n, WG),
  );
}
