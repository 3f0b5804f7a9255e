// Fused softmax cross-entropy (loss per row and, optionally, ∂L/∂logits in place) and a sum
// reduction on WebGPU: the GPU twins of kernels/cpu/loss.ts softmaxCrossEntropy and of the loss sum.

import { KernelDef, Recorder, declaredKernel, gridFor } from './context';

/** Workgroup size of sumInto (a single workgroup). */
const WG = 256;

/** Tree reduction of red[0..WG) into red[0] with operator `op` (every thread must call it). */
function treeReduce(op: (a: string, b: string) => string): string {
  return `
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = ${op('red[lid]', 'red[lid + s]')}; }
    workgroupBarrier();
  }`;
}

/**
 * Cross-entropy kernel: a workgroup of WG threads handles WG/TPR rows, TPR threads per row. Each
 * thread keeps an online (max, Σexp) pair over its strided share of the row; one tree reduction per
 * row combines the pairs; then the row's gradient is written. Rows past N idle through the barriers.
 */
function xentKernel(wg: number, tpr: number): KernelDef {
  const rpw = wg / tpr;
  return declaredKernel(
    'softmaxCrossEntropy', `softmaxCrossEntropy:wg${wg}:tpr${tpr}`,
    [['logits', 'rw'], ['targets', 'read', 'array<i32>'], ['rowLoss', 'rw']],
    'N: u32, V: u32, tOff: u32, grad: u32, scale: f32, bad: f32', /* wgsl */ `
var<workgroup> rm: array<f32, ${wg}>;
var<workgroup> rs: array<f32, ${wg}>;
@compute @workgroup_size(${wg}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                                   @builtin(local_invocation_index) lid: u32) {
  let first = (wid.y * nwg.x + wid.x) * ${rpw}u;   // uniform across the workgroup
  if (first >= p.N) { return; }
  let t = lid % ${tpr}u;
  let base = lid - t;
  let row = first + lid / ${tpr}u;
  let valid = row < p.N;
  let V = p.V;
  let o = row * V;
  var y = -1;
  if (valid) { y = targets[p.tOff + row]; }
  let yok = valid && y >= 0 && u32(y) < V;
  // The target logit, read before any thread can overwrite the row with its gradient.
  var xy = p.bad;
  if (t == 0u && yok) { xy = logits[o + u32(y)]; }

  var mx = -0x1.fffffep+127f;   // lowest finite f32
  var s = 0.0;
  if (valid) {
    for (var j = t; j < V; j += ${tpr}u) {
      let x = logits[o + j];
      if (x > mx) { s = s * exp(mx - x) + 1.0; mx = x; } else { s += exp(x - mx); }
    }
  }
  rm[lid] = mx;
  rs[lid] = s;
  workgroupBarrier();
  for (var k = ${tpr / 2}u; k > 0u; k >>= 1u) {
    if (t < k) {
      let m2 = rm[lid + k];
      let m = max(mx, m2);
      s = s * exp(mx - m) + rs[lid + k] * exp(m2 - m);
      mx = m;
      rm[lid] = mx;
      rs[lid] = s;
    }
    workgroupBarrier();
  }
  if (!valid) { return; }
  let m = rm[base];
  let total = rs[base];
  if (t == 0u) { rowLoss[row] = m + log(total) - xy; }
  if (p.grad != 0u) {
    let inv = p.scale / total;
    for (var j = t; j < V; j += ${tpr}u) {
      var g = exp(logits[o + j] - m) * inv;
      if (yok && j == u32(y)) { g -= p.scale; }
      logits[o + j] = g;
    }
  }
}`);
}

/** 32 threads (a warp on most GPUs: coalesced 128-byte loads) per row, 2 rows per workgroup. Small
 * workgroups also keep SwiftShader fast: it pays per invocation at every barrier. */
const XENT_WG = 64;
const XENT_TPR = 32;
const XENT_RPW = XENT_WG / XENT_TPR;
const xent = xentKernel(XENT_WG, XENT_TPR);

const sum = declaredKernel('sumInto', `sumInto:wg${WG}`, [['src', 'read'], ['out', 'rw']], 'n: u32, srcOff: u32, outOff: u32, accumulate: u32', /* wgsl */ `
var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.n; i += ${WG}u) { s += src[p.srcOff + i]; }
  red[lid] = s;
  ${treeReduce((a, b) => `${a} + ${b}`)}
  if (lid == 0u) {
    var t = red[0];
    if (p.accumulate != 0u) { t += out[p.outOff]; }
    out[p.outOff] = t;
  }
}`);

/** Both kernels, e.g. to compile them ahead of time. */
export const LOSS_KERNELS: readonly KernelDef[] = [xent, sum];

/**
 * For each row r < N of logits [N, V] (offset 0; 32 threads per row, 2 rows per workgroup, N beyond
 * 131070 rows folds into a 2-D dispatch): rowLoss[r] = logsumexp(logits[r]) - logits[r, y_r] in
 * nats, with y_r = targets[targetsOff + r] (i32). When gradScale !== null, logits[r] is overwritten
 * with (softmax(logits[r]) - onehot(y_r)) · gradScale. A target outside [0, V) gives a NaN loss (and
 * no one-hot term). `rowLoss` (offset 0) must be a different buffer from `logits`.
 */
export function softmaxCrossEntropy(
  rec: Recorder, N: number, V: number, logits: GPUBuffer, targets: GPUBuffer, targetsOff: number, rowLoss: GPUBuffer, gradScale: number | null,
): void {
  if (N === 0) return;
  rec.dispatch(xent, [logits, targets, rowLoss], [N, V, targetsOff, gradScale === null ? 0 : 1, { f: gradScale ?? 0 }, { f: NaN }], gridFor(N, XENT_RPW));
}

/** out[outOff] = Σ src[srcOff .. srcOff+n) (or += when accumulate), in one workgroup. `src` and `out` must differ. */
export function sumInto(rec: Recorder, n: number, src: GPUBuffer, srcOff: number, out: GPUBuffer, outOff: number, accumulate: boolean): void {
  rec.dispatch(sum, [src, out], [n, srcOff, outOff, accumulate ? 1 : 0], [1]);
}
