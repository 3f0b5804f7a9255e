// Dense matrix products and row/bias ops on f32 storage buffers, the WGSL twins of kernels/cpu/gemm.ts.
// Row-major matrices addressed by explicit element offsets; `accumulate` is a uniform parameter
// (false: C = A·B, true: C += A·B), so each layout is one pipeline.
//
// GEMM layout: a workgroup of 8×8 threads computes a 32×32 block of C; each thread keeps a 4×4 tile
// in registers, rows ty + 8r and columns tx + 8c of the block (strided, so neighbouring threads read
// neighbouring addresses of row-major operands). No workgroup memory: on SwiftShader it is slower and
// barrier kernels compile slowly; a real GPU gets a tuned kernel later. Edge threads clamp their load
// indices to the last row/column (valid memory, no branch in the K loop) and guard their stores.
// The K loop accumulates in f32, in order. Workgroups: x over column blocks, y (and z past 65535)
// over row blocks.

import { KernelDef, Recorder } from './context';
import { checkRange, dispatchGrid } from './elementwise';

type Layout = 'NT' | 'NN' | 'TN';

const WG = 8; // threads per axis
const T = 4; // tile per thread, per axis
const BLOCK = WG * T; // rows/columns of C per workgroup
const MAX_GROUPS = 65535;

function gemmKernel(layout: Layout): KernelDef {
  // Element index of A[row r, k=0] and its step per k; the same for B[k=0, column c].
  const aBase = layout === 'TN' ? (r: string) => `p.aOff + ${r}` : (r: string) => `p.aOff + ${r} * p.K`;
  const aStep = layout === 'TN' ? 'p.M' : '1u';
  const bBase = layout === 'NT' ? (c: string) => `p.bOff + ${c} * p.K` : (c: string) => `p.bOff + ${c}`;
  const bStep = layout === 'NT' ? '1u' : 'p.N';
  const idx = [0, 1, 2, 3];
  const stores: string[] = [];
  for (const r of idx) {
    const guard: string[] = [];
    for (const c of idx) {
      guard.push(`    if (col0 + ${c * WG}u < p.N) { store(rowC + col0 + ${c * WG}u, s${r}[${c}]); }`);
    }
    stores.push(`  if (row0 + ${r * WG}u < p.M) {
    let rowC = p.cOff + (row0 + ${r * WG}u) * p.N;
${guard.join('\n')}
  }`);
  }
  return {
    name: `gemm${layout}`,
    key: `gemm${layout}:wg${WG}:t${T}`,
    bindings: ['read', 'read', 'rw'],
    code: `
struct P { M: u32, N: u32, K: u32, aOff: u32, bOff: u32, cOff: u32, acc: u32 }
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

fn store(i: u32, v: f32) {
  if (p.acc != 0u) { C[i] = C[i] + v; } else { C[i] = v; }
}

@compute @workgroup_size(${WG}, ${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row0 = (wid.z * nwg.y + wid.y) * ${BLOCK}u + lid.y;
  let col0 = wid.x * ${BLOCK}u + lid.x;
  if (row0 >= p.M || col0 >= p.N) { return; }
  let mLast = p.M - 1u;
  let nLast = p.N - 1u;
  let r = vec4u(row0, min(row0 + ${WG}u, mLast), min(row0 + ${2 * WG}u, mLast), min(row0 + ${3 * WG}u, mLast));
  let c = vec4u(col0, min(col0 + ${WG}u, nLast), min(col0 + ${2 * WG}u, nLast), min(col0 + ${3 * WG}u, nLast));
  var ia = vec4u(${idx.map((i) => aBase(`r[${i}]`)).join(', ')});
  var ib = vec4u(${idx.map((i) => bBase(`c[${i}]`)).join(', ')});
  let da = vec4u(${aStep});
  let db = vec4u(${bStep});
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  var s2 = vec4f(0.0);
  var s3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let a = vec4f(A[ia.x], A[ia.y], A[ia.z], A[ia.w]);
    let b = vec4f(B[ib.x], B[ib.y], B[ib.z], B[ib.w]);
    s0 += a.x * b;
    s1 += a.y * b;
    s2 += a.z * b;
    s3 += a.w * b;
    ia += da;
    ib += db;
  }
${stores.join('\n')}
}`,
  };
}

const GEMM = { NT: gemmKernel('NT'), NN: gemmKernel('NN'), TN: gemmKernel('TN') };

function checkDims(op: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${k} = ${v} is not a non-negative integer`);
  }
}

function gemm(
  layout: Layout, rec: Recorder, M: number, N: number, K: number,
  A: GPUBuffer, aOff: number, B: GPUBuffer, bOff: number, C: GPUBuffer, cOff: number, accumulate: boolean,
): void {
  const def = GEMM[layout];
  checkDims(def.name, { M, N, K });
  if (C === A || C === B) throw new Error(`${def.name}: C must be distinct from A and B`);
  checkRange(def.name, 'A', A, aOff, M * K);
  checkRange(def.name, 'B', B, bOff, N * K);
  checkRange(def.name, 'C', C, cOff, M * N);
  if (M === 0 || N === 0) return;
  const gx = Math.ceil(N / BLOCK);
  if (gx > MAX_GROUPS) throw new Error(`${def.name}: N = ${N} is too large`);
  const rowBlocks = Math.ceil(M / BLOCK);
  const gz = Math.ceil(rowBlocks / MAX_GROUPS);
  const gy = Math.ceil(rowBlocks / gz);
  rec.dispatch(def, [A, B, C], [M, N, K, aOff, bOff, cOff, accumulate ? 1 : 0], [gx, gy, gz]);
}

/** C[M,N] (+)= A[M,K] · B[N,K]ᵀ — e.g. x · Wᵀ with W stored [out, in]. */
export function gemmNT(
  rec: Recorder, M: number, N: number, K: number,
  A: GPUBuffer, aOff: number, B: GPUBuffer, bOff: number, C: GPUBuffer, cOff: number, accumulate: boolean,
): void {
  gemm('NT', rec, M, N, K, A, aOff, B, bOff, C, cOff, accumulate);
}

/** C[M,N] (+)= A[M,K] · B[K,N] — e.g. dGates · W for the gradient of the input. */
export function gemmNN(
  rec: Recorder, M: number, N: number, K: number,
  A: GPUBuffer, aOff: number, B: GPUBuffer, bOff: number, C: GPUBuffer, cOff: number, accumulate: boolean,
): void {
  gemm('NN', rec, M, N, K, A, aOff, B, bOff, C, cOff, accumulate);
}

/** C[M,N] (+)= A[K,M]ᵀ · B[K,N] — weight gradients summed over all rows (timesteps × batch). */
export function gemmTN(
  rec: Recorder, M: number, N: number, K: number,
  A: GPUBuffer, aOff: number, B: GPUBuffer, bOff: number, C: GPUBuffer, cOff: number, accumulate: boolean,
): void {
  gemm('TN', rec, M, N, K, A, aOff, B, bOff, C, cOff, accumulate);
}

/** Threads per workgroup of the row ops. */
const ROW_WG = 64;

/** One thread per column, summing the rows in order (the CPU twin's order: results match bit for bit). */
const SUM_ROWS: KernelDef = {
  name: 'sumRows',
  key: `sumRows:wg${ROW_WG}`,
  bindings: ['read', 'rw'],
  code: `
struct P { M: u32, N: u32, aOff: u32, outOff: u32, acc: u32 }
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = (wid.y * nwg.x + wid.x) * ${ROW_WG}u + lid.x;
  if (j >= p.N) { return; }
  var s = 0.0;
  if (p.acc != 0u) { s = o[p.outOff + j]; }
  var ia = p.aOff + j;
  for (var i = 0u; i < p.M; i++) {
    s += A[ia];
    ia += p.N;
  }
  o[p.outOff + j] = s;
}`,
};

/** One thread per element of C. */
const ADD_BIAS_ROWS: KernelDef = {
  name: 'addBiasRows',
  key: `addBiasRows:wg${ROW_WG}`,
  bindings: ['rw', 'read'],
  code: `
struct P { total: u32, N: u32, cOff: u32, biasOff: u32 }
@group(0) @binding(0) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = (wid.y * nwg.x + wid.x) * ${ROW_WG}u + lid.x;
  if (e >= p.total) { return; }
  let j = e % p.N;
  C[p.cOff + e] = C[p.cOff + e] + bias[p.biasOff + j];
}`,
};

/** out[N] (+)= Σ over the M rows of A[M,N] — bias gradients. */
export function sumRows(rec: Recorder, M: number, N: number, A: GPUBuffer, aOff: number, out: GPUBuffer, outOff: number, accumulate: boolean): void {
  checkDims('sumRows', { M, N });
  if (A === out) throw new Error('sumRows: out must be distinct from A');
  checkRange('sumRows', 'A', A, aOff, M * N);
  checkRange('sumRows', 'out', out, outOff, N);
  if (N === 0) return;
  rec.dispatch(SUM_ROWS, [A, out], [M, N, aOff, outOff, accumulate ? 1 : 0], dispatchGrid(Math.ceil(N / ROW_WG)));
}

/** Adds bias[biasOff .. biasOff+N) to each of the M rows of C[M,N]. */
export function addBiasRows(rec: Recorder, M: number, N: number, C: GPUBuffer, cOff: number, bias: GPUBuffer, biasOff: number): void {
  checkDims('addBiasRows', { M, N });
  if (C === bias) throw new Error('addBiasRows: bias must be distinct from C');
  checkRange('addBiasRows', 'C', C, cOff, M * N);
  checkRange('addBiasRows', 'bias', bias, biasOff, N);
  const total = M * N;
  if (total === 0) return;
  if (total > 0xffffffff) throw new Error(`addBiasRows: ${M}×${N} is too large`);
  rec.dispatch(ADD_BIAS_ROWS, [C, bias], [total, N, cOff, biasOff], dispatchGrid(Math.ceil(total / ROW_WG)));
}
