// Dense matrix products and row/bias ops on f32 storage buffers, the WGSL twins of kernels/cpu/gemm.ts.
// Row-major matrices addressed by explicit element offsets; `accumulate` is a uniform parameter
// (false: C = A·B, true: C += A·B).
//
// GEMM layout: a workgroup of 8×8 threads computes a block of C of (8·TM)×64; each thread keeps a
// TM×8 tile in registers as TM rows × 2 column quads (vec4f accumulators). The tile is made of
// quads of 4 consecutive rows/columns, and the quads are strided across the workgroup:
//   thread (tx, ty) owns columns 4·(tx + 8h) + q (h = 0, 1; q = 0..3) and rows 4·(ty + 8g) + q,
// so neighbouring threads own neighbouring 16-byte chunks (coalesced vec4 loads of row-major B and of
// the row-major A of TN, and coalesced stores), and each thread gets TM·8 multiply-adds per k for
// TM + 8 loaded floats. No workgroup memory: on SwiftShader (every load a per-lane gather, barriers
// slow to compile) register tiles win; a real GPU gets them from L1.
//
// Vectorised loads: an operand that is contiguous along k (A of NT/NN, B of NT) or along the tile's
// quads (B of NN/TN along n, A of TN along m) is read as vec4f when its offset and the contiguous
// dimension are multiples of 4 (and the buffer holds whole vec4s over the range): one 16-byte load in
// place of four scalar ones. That is a compile-time variant per operand (its own pipeline key); the
// scalar variant handles any offset. With k-vectorised operands the K loop steps 4 k at a time
// (K % 4 = 0 then); otherwise it is unrolled by 4 with a scalar tail. Either way each accumulator
// adds its products in k order, in f32, as the CPU twin does.
//
// Edges: load indices are clamped to the last row/column (to the last whole quad for vec4 loads along
// m or n: M or N is then a multiple of 4, so a clamped quad only feeds rows/columns that are not
// stored), keeping the K loop branch-free; stores are guarded. Workgroups: x over column blocks,
// y (and z past 65535) over row blocks.

import { KernelDef, MAX_GROUPS, Recorder, gridFor, perItemKernel } from './context';
import { checkRange } from './elementwise';

export type Layout = 'NT' | 'NN' | 'TN';

const WG = 8; // threads per axis
const TN_ = 8; // columns per thread (2 quads)
const BLOCK_N = WG * TN_; // columns of C per workgroup

/** One compiled GEMM: layout, rows per thread (4 or 8), and whether A and B are read as vec4f. */
export interface Variant {
  layout: Layout;
  tm: 4 | 8;
  aVec: boolean;
  bVec: boolean;
}

const COMP = ['x', 'y', 'z', 'w'];

function gemmKernel({ layout, tm, aVec, bVec }: Variant): KernelDef {
  const G = tm / 4; // row quads per thread
  const H = TN_ / 4; // column quads per thread
  const aVecK = aVec && layout !== 'TN'; // A[m*K + k]: vec4 over 4 k
  const aVecM = aVec && layout === 'TN'; // A[k*M + m]: vec4 over a row quad
  const bVecK = bVec && layout === 'NT'; // B[n*K + k]: vec4 over 4 k
  const bVecN = bVec && layout !== 'NT'; // B[k*N + n]: vec4 over a column quad
  const KC = 4; // k per main-loop iteration
  const kTail = !(aVecK || bVecK); // scalar tail loop when K need not be a multiple of 4
  // Row of quad g, lane q (relative to the thread's first row, row0 = block + 4·ty); same for columns.
  const row = (g: number, q: number) => `row0 + ${32 * g + q}u`;
  const col = (h: number, q: number) => `col0 + ${32 * h + q}u`;
  const quad = (f: (q: number) => string) => `vec4u(${[0, 1, 2, 3].map(f).join(', ')})`;
  const aStep = layout === 'TN' ? 'p.M' : '1u'; // element step of A per k
  const bStep = layout === 'NT' ? '1u' : 'p.N';

  // The two operands are read alike, each along its quads (A: the tile's row quads, over M; B: its
  // column quads, over N): `x` names the operand's variables ('a' or 'b'), `quads` how many it has,
  // `pos` the row/column of lane q of quad g, `dim` the quad dimension, `kContiguous` whether the
  // operand's elements are contiguous along k, `vecK`/`vecQ` its vec4 variant (along k or the quads).
  interface Operand {
    x: 'a' | 'b'; quads: number; pos: (g: number, q: number) => string; last: string; dim: string;
    kContiguous: boolean; vecK: boolean; vecQ: boolean; kStep: string;
  }
  const opA: Operand = { x: 'a', quads: G, pos: row, last: 'mLast', dim: 'p.M', kContiguous: layout !== 'TN', vecK: aVecK, vecQ: aVecM, kStep: aStep };
  const opB: Operand = { x: 'b', quads: H, pos: col, last: 'nLast', dim: 'p.N', kContiguous: layout === 'NT', vecK: bVecK, vecQ: bVecN, kStep: bStep };

  // Per-thread load cursors: `ia{g}` for row quad g, `ib{h}` for column quad h. A vec4u of element
  // (or vec4) indices, one per row/column, or a single vec4 index for a quad loaded whole.
  const init: string[] = [];
  for (const { x, quads, pos, last, dim, kContiguous, vecK, vecQ } of [opA, opB]) {
    for (let g = 0; g < quads; g++) {
      const lanes = quad((q) => `min(${pos(g, q)}, ${last})`);
      if (vecK) init.push(`var i${x}${g} = (${lanes} * p.K + p.${x}Off) / 4u;`);
      else if (vecQ) init.push(`var i${x}${g} = (p.${x}Off + min(${pos(g, 0)}, ${dim} - 4u)) / 4u;`);
      else if (kContiguous) init.push(`var i${x}${g} = ${lanes} * p.K + p.${x}Off;`);
      else init.push(`var i${x}${g} = ${lanes} + p.${x}Off;`);
    }
  }
  for (let i = 0; i < tm; i++) for (let h = 0; h < H; h++) init.push(`var s${i}_${h} = vec4f(0.0);`);

  /** Loads of k .. k+kc-1 for an operand not read along k: per quad, one vec4 when it is read along
   * its quads, else four scalars gathered through its cursor. Values are `{x}{g}_{kk}` (vec4f). */
  function quadLoads(out: string[], { x, quads, dim, vecQ, kStep }: Operand, kc: number): void {
    const X = x.toUpperCase();
    for (let kk = 0; kk < kc; kk++) {
      for (let g = 0; g < quads; g++) {
        if (vecQ) out.push(`let ${x}${g}_${kk} = ${X}[i${x}${g}${kk ? ` + ${kk}u * (${dim} / 4u)` : ''}];`);
        else {
          const ix = kk ? `i${x}${g} + vec4u(${kk}u * ${kStep})` : `i${x}${g}`;
          out.push(`let j${x}${g}_${kk} = ${ix};`);
          out.push(`let ${x}${g}_${kk} = vec4f(${COMP.map((c) => `${X}[j${x}${g}_${kk}.${c}]`).join(', ')});`);
        }
      }
    }
  }

  /** The body of one K-loop iteration covering `kc` values of k. */
  function step(kc: number): string {
    const out: string[] = [];
    let a: (i: number, kk: number) => string; // scalar A value for tile row i at k + kk
    let b: (h: number, kk: number) => string; // vec4f of B values for column quad h at k + kk
    if (aVecK) {
      for (let i = 0; i < tm; i++) out.push(`let ak${i} = A[ia${i >> 2}.${COMP[i & 3]}];`);
      a = (i, kk) => `ak${i}.${COMP[kk]}`;
    } else {
      quadLoads(out, opA, kc);
      a = (i, kk) => `a${i >> 2}_${kk}.${COMP[i & 3]}`;
    }
    if (bVecK) {
      for (let j = 0; j < TN_; j++) out.push(`let bk${j} = B[ib${j >> 2}.${COMP[j & 3]}];`);
      b = (h, kk) => `vec4f(${[0, 1, 2, 3].map((q) => `bk${4 * h + q}.${COMP[kk]}`).join(', ')})`;
    } else {
      quadLoads(out, opB, kc);
      b = (h, kk) => `b${h}_${kk}`;
    }
    for (let kk = 0; kk < kc; kk++) {
      for (let i = 0; i < tm; i++) for (let h = 0; h < H; h++) out.push(`s${i}_${h} += ${a(i, kk)} * ${b(h, kk)};`);
    }
    for (let g = 0; g < G; g++) out.push(`ia${g} += ${aVecK ? 'vec4u(1u)' : aVecM ? `${kc}u * (p.M / 4u)` : `vec4u(${kc}u * ${aStep})`};`);
    for (let h = 0; h < H; h++) out.push(`ib${h} += ${bVecK ? 'vec4u(1u)' : bVecN ? `${kc}u * (p.N / 4u)` : `vec4u(${kc}u * ${bStep})`};`);
    return out.map((l) => `    ${l}`).join('\n');
  }

  const stores: string[] = [];
  for (let i = 0; i < tm; i++) {
    const r = row(i >> 2, i & 3);
    const guarded: string[] = [];
    for (let j = 0; j < TN_; j++) {
      guarded.push(`    if (${col(j >> 2, j & 3)} < p.N) { store(rc + ${col(j >> 2, j & 3)}, s${i}_${j >> 2}.${COMP[j & 3]}); }`);
    }
    stores.push(`  if (${r} < p.M) {\n    let rc = p.cOff + (${r}) * p.N;\n${guarded.join('\n')}\n  }`);
  }
  const tail = kTail ? `\n  for (; k < p.K; k++) {\n${step(1)}\n  }` : '';
  const name = `gemm${layout}`;
  return {
    name,
    key: `${name}:wg${WG}:t${tm}x${TN_}:a${aVec ? 'v4' : 's'}:b${bVec ? 'v4' : 's'}`,
    bindings: ['read', 'read', 'rw'],
    code: `
struct P { M: u32, N: u32, K: u32, aOff: u32, bOff: u32, cOff: u32, acc: u32 }
@group(0) @binding(0) var<storage, read> A: array<${aVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(1) var<storage, read> B: array<${bVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

fn store(i: u32, v: f32) {
  if (p.acc != 0u) { C[i] = C[i] + v; } else { C[i] = v; }
}

@compute @workgroup_size(${WG}, ${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  // First row and column of this thread's tile; its rows are row0 + 32g + q, its columns col0 + 32h + q.
  let row0 = (wid.z * nwg.y + wid.y) * ${WG * tm}u + 4u * lid.y;
  let col0 = wid.x * ${BLOCK_N}u + 4u * lid.x;
  if (row0 >= p.M || col0 >= p.N) { return; }
  let mLast = p.M - 1u;
  let nLast = p.N - 1u;
${init.map((l) => `  ${l}`).join('\n')}
  var k = 0u;
  for (; k + ${KC}u <= p.K; k += ${KC}u) {
${step(KC)}
  }${tail}
${stores.join('\n')}
}`,
  };
}

const kernels = new Map<string, KernelDef>();

function variantKernel(v: Variant): KernelDef {
  const id = `${v.layout}${v.tm}${+v.aVec}${+v.bVec}`;
  let def = kernels.get(id);
  if (!def) kernels.set(id, (def = gemmKernel(v)));
  return def;
}

/** Whether elements [off, off + n) of `buf` can be read as whole, aligned vec4s. */
function vec4Readable(buf: GPUBuffer, off: number, n: number): boolean {
  return off % 4 === 0 && off + n <= Math.floor(buf.size / 16) * 4;
}

/** The compiled variant a GEMM call uses (exported for the tests, which cover each of them). */
export function gemmVariant(layout: Layout, M: number, N: number, K: number, A: GPUBuffer, aOff: number, B: GPUBuffer, bOff: number): Readonly<Variant> {
  // The dimension each operand is contiguous along must be a multiple of 4 for vec4 loads.
  const aDim = layout === 'TN' ? M : K;
  const bDim = layout === 'NT' ? K : N;
  return {
    layout,
    tm: M <= 32 ? 4 : 8, // small M (the recurrent GEMMs, M = batch): 32-row blocks, no idle rows
    aVec: aDim % 4 === 0 && vec4Readable(A, aOff, M * K),
    bVec: bDim % 4 === 0 && vec4Readable(B, bOff, N * K),
  };
}

function checkDims(op: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${k} = ${v} is not a non-negative integer`);
  }
}

function gemm(
  layout: Layout, rec: Recorder, M: number, N: number, K: number,
  A: GPUBuffer, aOff: number, B: GPUBuffer, bOff: number, C: GPUBuffer, cOff: number, accumulate: boolean,
): void {
  const name = `gemm${layout}`;
  checkDims(name, { M, N, K });
  if (C === A || C === B) throw new Error(`${name}: C must be distinct from A and B`);
  checkRange(name, 'A', A, aOff, M * K);
  checkRange(name, 'B', B, bOff, N * K);
  checkRange(name, 'C', C, cOff, M * N);
  if (M === 0 || N === 0) return;
  const v = gemmVariant(layout, M, N, K, A, aOff, B, bOff);
  const def = variantKernel(v);
  const gx = Math.ceil(N / BLOCK_N);
  if (gx > MAX_GROUPS) throw new Error(`${name}: N = ${N} is too large`);
  const rowBlocks = Math.ceil(M / (WG * v.tm));
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
const SUM_ROWS = perItemKernel({
  name: 'sumRows', workgroupSize: ROW_WG,
  buffers: [['A', 'read'], ['o', 'rw']],
  params: 'M: u32, N: u32, aOff: u32, outOff: u32, acc: u32',
  index: 'j', count: 'p.N',
  body: `
  var s = 0.0;
  if (p.acc != 0u) { s = o[p.outOff + j]; }
  var ia = p.aOff + j;
  for (var i = 0u; i < p.M; i++) {
    s += A[ia];
    ia += p.N;
  }
  o[p.outOff + j] = s;`,
});

/** One thread per element of C. */
const ADD_BIAS_ROWS = perItemKernel({
  name: 'addBiasRows', workgroupSize: ROW_WG,
  buffers: [['C', 'rw'], ['bias', 'read']],
  params: 'total: u32, N: u32, cOff: u32, biasOff: u32',
  index: 'e', count: 'p.total',
  body: `
  let j = e % p.N;
  C[p.cOff + e] = C[p.cOff + e] + bias[p.biasOff + j];`,
});

/** out[N] (+)= Σ over the M rows of A[M,N] — bias gradients. */
export function sumRows(rec: Recorder, M: number, N: number, A: GPUBuffer, aOff: number, out: GPUBuffer, outOff: number, accumulate: boolean): void {
  checkDims('sumRows', { M, N });
  if (A === out) throw new Error('sumRows: out must be distinct from A');
  checkRange('sumRows', 'A', A, aOff, M * N);
  checkRange('sumRows', 'out', out, outOff, N);
  if (N === 0) return;
  rec.dispatch(SUM_ROWS, [A, out], [M, N, aOff, outOff, accumulate ? 1 : 0], gridFor(N, ROW_WG));
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
  rec.dispatch(ADD_BIAS_ROWS, [C, bias], [total, N, cOff, biasOff], gridFor(total, ROW_WG));
}
