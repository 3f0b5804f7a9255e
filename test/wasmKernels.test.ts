// Every WebAssembly kernel (kernels/wasm/assembly, through kernels/wasm/module.ts) against its
// reference twin in kernels/cpu and kernels/rng.ts, on seeded inputs: many shapes, including sizes
// that are not multiples of the vector width (4), the 4×8 GEMM tile or the K block (256); operands at
// odd float offsets inside larger buffers, with guard values around every buffer checked untouched;
// the range parameters (pieces split at several points together equal the whole, and write nothing
// outside their range). Max errors are printed; any NaN fails. Both the plain SIMD and the relaxed SIMD
// build (Node 20 has relaxed SIMD behind a V8 flag, set here before compiling), and the shared-memory
// builds on a shared memory.
import * as assert from 'assert';
import * as v8 from 'v8';
import { addBiasRows, gemmNN, gemmNT, gemmTN, sumRows } from '../kernels/cpu/gemm';
import {
  gruCellBackward, gruCellForward, lstmCellBackward, lstmCellForward, rnnCellBackward, rnnCellForward,
} from '../kernels/cpu/cells';
import { softmaxCrossEntropy } from '../kernels/cpu/loss';
import { adamUpdate, AdamHyper } from '../kernels/cpu/optim';
import { dropoutMask as refDropoutMask } from '../kernels/cpu/model';
import { dropoutStream, dropoutUniform, hash32 } from '../kernels/rng';
import {
  GEMM_SCRATCH_BYTES, KERNEL_RESERVED_BYTES, KernelVariant, WasmKernels, defaultVariant, instantiateKernels, kernelModule,
  packedFloats, setWasmSupportOverride, wasmSupport,
} from '../kernels/wasm/module';

// Node 20: relaxed SIMD only behind a V8 flag; it must be set before the module is compiled (process-wide).
if (!wasmSupport().relaxed) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GUARD = 8;            // floats of guard before and after every buffer
const SENTINEL = -7777.25;  // guard value (and "never written" marker in outputs)

/** A memory with the kernels instantiated on it and a bump allocator; every buffer has guards. */
class Mem {
  readonly memory: WebAssembly.Memory;
  readonly k: WasmKernels;
  private top = KERNEL_RESERVED_BYTES;
  private guards: number[] = [];
  constructor(variant: KernelVariant, shared = false, pages = 512) {
    this.memory = shared
      ? new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true })
      : new WebAssembly.Memory({ initial: pages });
    this.k = instantiateKernels(kernelModule(variant, shared), this.memory);
  }
  get f32(): Float32Array { return new Float32Array(this.memory.buffer); }
  get i32(): Int32Array { return new Int32Array(this.memory.buffer); }
  get f64(): Float64Array { return new Float64Array(this.memory.buffer); }
  /** n floats at an odd float offset (misaligned for v128) between guards; returns the byte address. */
  alloc(n: number, misalign = 1): number {
    const start = this.top + GUARD * 4 + misalign * 4;
    const end = start + n * 4;
    if (end + GUARD * 4 + 64 > this.memory.buffer.byteLength) throw new Error('test memory too small');
    const f = this.f32;
    f.fill(SENTINEL, (start >> 2) - GUARD, start >> 2);
    f.fill(SENTINEL, end >> 2, (end >> 2) + GUARD);
    this.guards.push((start >> 2) - GUARD, end >> 2);
    this.top = (end + GUARD * 4 + 15) & ~15;
    return start;
  }
  /** An f64 slot of n doubles (8-byte aligned), with f32 guards around. */
  allocF64(n: number): number {
    const start = ((this.top + GUARD * 4 + 7) & ~7);
    const end = start + n * 8;
    const f = this.f32;
    f.fill(SENTINEL, (start >> 2) - GUARD, start >> 2);
    f.fill(SENTINEL, end >> 2, (end >> 2) + GUARD);
    this.guards.push((start >> 2) - GUARD, end >> 2);
    this.top = (end + GUARD * 4 + 15) & ~15;
    return start;
  }
  put(a: ArrayLike<number>, misalign = 1): number {
    const p = this.alloc(a.length, misalign);
    this.f32.set(a, p >> 2);
    return p;
  }
  putI32(a: ArrayLike<number>): number {
    const p = this.alloc(a.length, 0);
    this.i32.set(a, p >> 2);
    return p;
  }
  get(p: number, n: number): Float32Array { return this.f32.slice(p >> 2, (p >> 2) + n); }
  /** Asserts every guard still holds the sentinel. */
  checkGuards(what: string): void {
    const f = this.f32;
    for (const g of this.guards) {
      for (let i = 0; i < GUARD; i++) assert.strictEqual(f[g + i], SENTINEL, `${what}: guard float ${g + i} overwritten`);
    }
  }
  scratch(): number { return this.alloc(GEMM_SCRATCH_BYTES / 4, 0); }
  /** Frees everything (the next case allocates from the start again). */
  reset(): void {
    this.top = KERNEL_RESERVED_BYTES;
    this.guards = [];
  }
}

function randArray(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** Max |a - b| (Infinity for any NaN) and where. */
function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; at: number } {
  assert.strictEqual(got.length, want.length);
  let err = 0, at = -1;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (Number.isNaN(d)) return { err: Infinity, at: i };
    if (d > err) { err = d; at = i; }
  }
  return { err, at };
}

/** Random split points of [0, n) into about `pieces` ranges aligned to `align` (the end is n). */
function splits(r: () => number, n: number, pieces: number, align: number): number[] {
  const pts = new Set<number>([0, n]);
  for (let i = 0; i < pieces - 1; i++) {
    const p = Math.floor((r() * n) / align) * align;
    if (p > 0 && p < n) pts.add(p);
  }
  return [...pts].sort((a, b) => a - b);
}

const VARIANTS: KernelVariant[] = ['simd', 'relaxed'];

describe('WebAssembly kernels (kernels/wasm/module.ts)', () => {
  it('detects SIMD, relaxed SIMD (with the V8 flag) and threads; the override and defaultVariant follow', () => {
    const s = wasmSupport();
    assert.deepStrictEqual([s.simd, s.relaxed, s.threads], [true, true, true]);
    assert.strictEqual(defaultVariant(), 'relaxed');
    setWasmSupportOverride({ simd: false, reason: 'simulated' });
    try {
      assert.deepStrictEqual(wasmSupport(), { simd: false, relaxed: false, threads: false, reason: 'simulated' });
      assert.throws(() => kernelModule('simd', false), /WebAssembly SIMD is not available here \(simulated\)/);
      assert.strictEqual(defaultVariant(), 'simd');
    } finally {
      setWasmSupportOverride(null);
    }
    assert.ok(wasmSupport().simd);
    // The environment switch (for the fallback's end-to-end runs) turns it off the same way.
    process.env.GATESCOPE_NO_WASM_SIMD = '1';
    try {
      assert.deepStrictEqual(wasmSupport(), { simd: false, relaxed: false, threads: false, reason: 'turned off by GATESCOPE_NO_WASM_SIMD' });
    } finally {
      delete process.env.GATESCOPE_NO_WASM_SIMD;
    }
    assert.ok(wasmSupport().simd);
    assert.strictEqual(packedFloats(9, 5), 16 * 5);
    assert.ok(GEMM_SCRATCH_BYTES >= 256 + 96 * 256 * 4);
  });

  it('a module and a memory of the wrong kind fail with a clear message', () => {
    assert.throws(() => instantiateKernels(kernelModule('simd', true), new WebAssembly.Memory({ initial: 2 })), /shared: true/);
    assert.throws(
      () => instantiateKernels(kernelModule('simd', false), new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true })),
      /does not accept this shared memory/);
  });

  for (const variant of VARIANTS) {
    describe(`${variant} build`, () => {
      gemmTests(variant);
      biasTests(variant);
      cellTests(variant);
      activationTests(variant);
      pointwiseTests(variant);
      sharedTests(variant);
    });
  }
});

type Layout = 'NT' | 'NN' | 'TN';
const GEMM_SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 3], [2, 9, 17], [3, 5, 2], [4, 8, 16], [5, 9, 17], [7, 13, 31], [1, 1024, 256], [1, 96, 257],
  [33, 515, 129], [97, 37, 300], [101, 64, 513], [2, 3, 257], [13, 8, 1], [9, 33, 5], [129, 17, 7], [4, 9, 0], [2, 3, 0],
  [96, 32, 256], [97, 16, 1025], [1, 17, 5], [1, 20, 9], [3, 100, 33], [2, 60, 64],
];

/** Runs one layout through packB + gemm with strided operands inside larger buffers; returns the error. */
function gemmCase(mem: Mem, r: () => number, layout: Layout, M: number, N: number, K: number, accumulate: boolean,
  ranges: { m: number[]; n: number[] } | null, instances?: WasmKernels[]): { err: number; scale: number } {
  const k = mem.k;
  // Stored shapes: A [M, K] (NT, NN) or [K, M] (TN); B [N, K] (NT) or [K, N] (NN, TN). Row strides pad by 3.
  const aRows = layout === 'TN' ? K : M, aCols = layout === 'TN' ? M : K;
  const bRows = layout === 'NT' ? N : K, bCols = layout === 'NT' ? K : N;
  const lda = aCols + 3, ldb = bCols + 5, ldc = N + 7;
  const A = randArray(r, aRows * lda), Bm = randArray(r, bRows * ldb), C0 = randArray(r, M * ldc);
  const compact = (src: Float32Array, rows: number, cols: number, ld: number) => {
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) out.set(src.subarray(i * ld, i * ld + cols), i * cols);
    return out;
  };
  const Ac = compact(A, aRows, aCols, lda), Bc = compact(Bm, bRows, bCols, ldb);
  const want = compact(C0, M, N, ldc);
  const ref = layout === 'NT' ? gemmNT : layout === 'NN' ? gemmNN : gemmTN;
  ref(M, N, K, Ac, 0, Bc, 0, want, 0, accumulate);
  const a = mem.put(A), b = mem.put(Bm), c = mem.put(C0);
  const packed = mem.alloc(packedFloats(N, K), 0);
  const scratch = mem.scratch();
  if (layout === 'NT') k.packB_NT(b, ldb, N, K, packed, 0, N);
  else k.packB_NN(b, ldb, K, N, packed, 0, N);
  if (ranges) {
    let piece = 0;
    for (let i = 0; i + 1 < ranges.m.length; i++) for (let j = 0; j + 1 < ranges.n.length; j++) {
      const kk = instances ? instances[piece++ % instances.length] : k;
      kk.gemm(M, N, K, a, lda, layout === 'TN' ? 1 : 0, packed, c, ldc, accumulate ? 1 : 0, scratch,
        ranges.m[i], ranges.m[i + 1], ranges.n[j], ranges.n[j + 1]);
    }
  } else {
    k.gemm(M, N, K, a, lda, layout === 'TN' ? 1 : 0, packed, c, ldc, accumulate ? 1 : 0, scratch, 0, M, 0, N);
  }
  mem.checkGuards(`${layout} ${M}x${N}x${K}`);
  const got = mem.get(c, M * ldc);
  // The row padding of C (columns N..ldc) must be untouched.
  for (let i = 0; i < M; i++) for (let j = N; j < ldc; j++) {
    assert.strictEqual(got[i * ldc + j], C0[i * ldc + j], `${layout} ${M}x${N}x${K}: C padding (${i}, ${j}) written`);
  }
  const { err } = maxErr(compact(got, M, N, ldc), want);
  return { err, scale: Math.sqrt(Math.max(K, 1)) };
}

// Observed: max error / √K ≈ 7e-7 with operands in [-1, 1] (the reference sums in f64).
const gemmTol = (K: number) => 1e-6 * Math.sqrt(Math.max(K, 1));

function gemmTests(variant: KernelVariant): void {
  for (const layout of ['NT', 'NN', 'TN'] as Layout[]) {
    it(`gemm ${layout} (packB_${layout === 'NT' ? 'NT' : 'NN'} + gemm, aTrans ${layout === 'TN' ? 1 : 0}) matches the reference`, () => {
      const mem = new Mem(variant, false, 1024);
      const r = rng(10);
      let worst = 0, worstScaled = 0;
      for (const [M, N, K] of GEMM_SHAPES) {
        for (const accumulate of [false, true]) {
          mem.reset();
          const { err, scale } = gemmCase(mem, r, layout, M, N, K, accumulate, null);
          const tol = gemmTol(K);
          assert.ok(err <= tol, `${variant} ${layout} ${M}x${N}x${K} acc=${accumulate}: max error ${err} > ${tol}`);
          worst = Math.max(worst, err);
          worstScaled = Math.max(worstScaled, err / scale);
        }
      }
      console.log(`      ${variant} ${layout}: max abs error ${worst.toExponential(2)}, max error/√K ${worstScaled.toExponential(2)}`);
    });

    it(`gemm ${layout}: row and column ranges (pieces, packed in column pieces too) together equal the whole`, () => {
      const mem = new Mem(variant, false, 1024);
      const r = rng(12);
      let worst = 0;
      for (const [M, N, K] of [[1, 33, 17], [3, 64, 9], [5, 9, 17], [9, 40, 300], [33, 515, 129], [101, 64, 513], [200, 24, 7]]) {
        for (const accumulate of [false, true]) {
          mem.reset();
          // Row pieces of any size (some under 4 rows: the GEMV path inside a larger M), columns at multiples of 8.
          const ranges = { m: splits(r, M, 4, 1), n: splits(r, N, 3, 8) };
          const { err } = gemmCase(mem, r, layout, M, N, K, accumulate, ranges);
          assert.ok(err <= gemmTol(K), `${layout} ${M}x${N}x${K} pieces m ${ranges.m} n ${ranges.n}: max error ${err}`);
          worst = Math.max(worst, err);
        }
      }
      console.log(`      ${variant} ${layout} in pieces: max abs error ${worst.toExponential(2)}`);
    });
  }

  it('packB_NT and packB_NN write the documented panel layout, zero-padded, in column pieces', () => {
    const mem = new Mem(variant);
    const r = rng(13);
    for (const [N, K] of [[1, 1], [7, 3], [8, 5], [9, 4], [17, 33], [64, 9], [100, 257]]) {
      mem.reset();
      const ldb = K + 2, ldbN = N + 3;
      const Bnt = randArray(r, N * ldb), Bnn = randArray(r, K * ldbN);
      const pnt = mem.put(Bnt), pnn = mem.put(Bnn);
      const size = packedFloats(N, K);
      const ont = mem.put(new Float32Array(size).fill(SENTINEL), 0), onn = mem.put(new Float32Array(size).fill(SENTINEL), 0);
      for (const [n0, n1] of pairs(splits(r, N, 3, 8))) {
        mem.k.packB_NT(pnt, ldb, N, K, ont, n0, n1);
        mem.k.packB_NN(pnn, ldbN, K, N, onn, n0, n1);
      }
      mem.checkGuards(`pack ${N}x${K}`);
      const gnt = mem.get(ont, size), gnn = mem.get(onn, size);
      for (let p = 0; p < size / (8 * K); p++) for (let k = 0; k < K; k++) for (let c = 0; c < 8; c++) {
        const j = p * 8 + c, at = (p * K + k) * 8 + c;
        assert.strictEqual(gnt[at], j < N ? Bnt[j * ldb + k] : 0, `packB_NT ${N}x${K} panel ${p} k ${k} col ${c}`);
        assert.strictEqual(gnn[at], j < N ? Bnn[k * ldbN + j] : 0, `packB_NN ${N}x${K} panel ${p} k ${k} col ${c}`);
      }
    }
  });
}

function biasTests(variant: KernelVariant): void {
  it('addBiasRows and sumRows match the reference, in row and column pieces', () => {
    const mem = new Mem(variant);
    const r = rng(11);
    let worst = 0;
    for (const [M, N] of [[1, 1], [3, 5], [7, 9], [33, 17], [64, 257], [5, 513]]) {
      mem.reset();
      const ld = N + 3;
      const C0 = randArray(r, M * ld), bias = randArray(r, N);
      const c = mem.put(C0), b = mem.put(bias);
      for (const [m0, m1] of pairs(splits(r, M, 3, 1))) mem.k.addBiasRows(N, c, ld, b, m0, m1);
      const want = C0.slice();
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) want[i * ld + j] = Math.fround(C0[i * ld + j] + bias[j]);
      assert.deepStrictEqual(mem.get(c, M * ld), want, `addBiasRows ${M}x${N}`);
      // sumRows over a strided A, accumulate off and on, split by columns at multiples of 4.
      for (const accumulate of [0, 1]) {
        const out0 = randArray(r, N);
        const o = mem.put(out0);
        for (const [n0, n1] of pairs(splits(r, N, 4, 4))) mem.k.sumRows(N, c, ld, M, o, accumulate, n0, n1);
        // The reference in float64 (both float32 sums round differently); error relative to Σ|terms|.
        const compactA = new Float64Array(M * N);
        for (let i = 0; i < M; i++) compactA.set(want.subarray(i * ld, i * ld + N), i * N);
        const ref = Float64Array.from(out0);
        sumRows(M, N, compactA, 0, ref, 0, accumulate === 1);
        const absSum = new Float64Array(N);
        for (let j = 0; j < N; j++) absSum[j] = (accumulate ? Math.abs(out0[j]) : 0);
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) absSum[j] += Math.abs(compactA[i * N + j]);
        const got = mem.get(o, N);
        for (let j = 0; j < N; j++) {
          const e = Math.abs(got[j] - ref[j]) / absSum[j];
          assert.ok(e <= 3e-7, `sumRows ${M}x${N} acc=${accumulate} column ${j}: error ${e} of Σ|terms|`);
          worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
        }
      }
      mem.checkGuards(`bias ${M}x${N}`);
    }
    // The reference's own addBiasRows agrees with the loop above (so the loop is the reference).
    const C = new Float32Array([1, 2, 3, 4]);
    addBiasRows(2, 2, C, 0, new Float32Array([10, 20]));
    assert.deepStrictEqual([...C], [11, 22, 13, 24]);
    console.log(`      ${variant} sumRows: max error ${worst.toExponential(2)} of Σ|terms|`);
  });
}

function pairs(pts: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < pts.length; i++) out.push([pts[i], pts[i + 1]]);
  return out;
}

const CELL_SHAPES: [number, number][] = [[1, 1], [1, 3], [2, 5], [3, 7], [1, 8], [4, 9], [2, 17], [5, 33], [1, 129], [3, 256], [2, 257]];

function cellTests(variant: KernelVariant): void {
  // Pre-activations wide enough to reach the saturated ends of σ and tanh (|x| up to 12).
  const pre = (r: () => number, n: number) => Float32Array.from({ length: n }, () => {
    const u = r();
    return u < 0.1 ? (r() - 0.5) * 24 : (r() - 0.5) * 6;
  });

  it('lstmFwd and lstmBwd match lstmCellForward/Backward, split over hidden units', () => {
    const mem = new Mem(variant);
    const r = rng(20);
    let worstF = 0, worstB = 0;
    for (const [B, H] of CELL_SHAPES) {
      mem.reset();
      const G = 4 * H;
      const xp = pre(r, B * G), hp = pre(r, B * G), cPrev = randArray(r, B * H, -2, 2);
      const want = { gates: new Float32Array(B * G), c: new Float32Array(B * H), h: new Float32Array(B * H) };
      lstmCellForward(B, H, xp, 0, hp, 0, cPrev, 0, want.gates, 0, want.c, 0, want.h, 0);
      const pxp = mem.put(xp), php = mem.put(hp), pc0 = mem.put(cPrev);
      const pg = mem.put(new Float32Array(B * G).fill(SENTINEL)), pc = mem.put(new Float32Array(B * H).fill(SENTINEL));
      const ph = mem.put(new Float32Array(B * H).fill(SENTINEL));
      for (const [j0, j1] of pairs(splits(r, H, 3, 1))) mem.k.lstmFwd(B, H, pxp, php, pc0, pg, pc, ph, j0, j1);
      mem.checkGuards(`lstmFwd ${B}x${H}`);
      const e = Math.max(maxErr(mem.get(pg, B * G), want.gates).err, maxErr(mem.get(pc, B * H), want.c).err,
        maxErr(mem.get(ph, B * H), want.h).err);
      assert.ok(e <= 1e-6, `lstmFwd ${B}x${H}: max error ${e}`);
      worstF = Math.max(worstF, e);
      // Backward from the reference's forward values.
      const dh = randArray(r, B * H), dc0 = randArray(r, B * H);
      const wdc = dc0.slice(), wdPre = new Float32Array(B * G);
      lstmCellBackward(B, H, dh, 0, wdc, want.gates, 0, want.c, 0, cPrev, 0, wdPre, 0);
      const pdh = mem.put(dh), pdc = mem.put(dc0), pgr = mem.put(want.gates), pcr = mem.put(want.c);
      const pd = mem.put(new Float32Array(B * G).fill(SENTINEL));
      for (const [j0, j1] of pairs(splits(r, H, 3, 1))) mem.k.lstmBwd(B, H, pdh, pdc, pgr, pcr, pc0, pd, j0, j1);
      mem.checkGuards(`lstmBwd ${B}x${H}`);
      const eb = Math.max(maxErr(mem.get(pd, B * G), wdPre).err, maxErr(mem.get(pdc, B * H), wdc).err);
      assert.ok(eb <= 2e-6, `lstmBwd ${B}x${H}: max error ${eb}`);
      worstB = Math.max(worstB, eb);
    }
    console.log(`      ${variant} lstm: forward max abs error ${worstF.toExponential(2)}, backward ${worstB.toExponential(2)}`);
  });

  it('gruFwd and gruBwd match gruCellForward/Backward, split over hidden units', () => {
    const mem = new Mem(variant);
    const r = rng(21);
    let worstF = 0, worstB = 0;
    for (const [B, H] of CELL_SHAPES) {
      mem.reset();
      const G = 3 * H;
      const xp = pre(r, B * G), hp = pre(r, B * G), hPrev = randArray(r, B * H);
      const wg = new Float32Array(B * G), wh = new Float32Array(B * H);
      gruCellForward(B, H, xp, 0, hp, 0, hPrev, 0, wg, 0, wh, 0);
      const pxp = mem.put(xp), php = mem.put(hp), ph0 = mem.put(hPrev);
      const pg = mem.put(new Float32Array(B * G).fill(SENTINEL)), ph = mem.put(new Float32Array(B * H).fill(SENTINEL));
      for (const [j0, j1] of pairs(splits(r, H, 3, 1))) mem.k.gruFwd(B, H, pxp, php, ph0, pg, ph, j0, j1);
      mem.checkGuards(`gruFwd ${B}x${H}`);
      const e = Math.max(maxErr(mem.get(pg, B * G), wg).err, maxErr(mem.get(ph, B * H), wh).err);
      assert.ok(e <= 1e-6, `gruFwd ${B}x${H}: max error ${e}`);
      worstF = Math.max(worstF, e);
      const dh = randArray(r, B * H);
      const wdx = new Float32Array(B * G), wdq = new Float32Array(B * G), wdd = new Float32Array(B * H);
      gruCellBackward(B, H, dh, 0, wg, 0, hp, 0, hPrev, 0, wdx, 0, wdq, 0, wdd);
      const pdh = mem.put(dh), pgr = mem.put(wg);
      const pdx = mem.put(new Float32Array(B * G).fill(SENTINEL)), pdq = mem.put(new Float32Array(B * G).fill(SENTINEL));
      const pdd = mem.put(new Float32Array(B * H).fill(SENTINEL));
      for (const [j0, j1] of pairs(splits(r, H, 3, 1))) mem.k.gruBwd(B, H, pdh, pgr, php, ph0, pdx, pdq, pdd, j0, j1);
      mem.checkGuards(`gruBwd ${B}x${H}`);
      const eb = Math.max(maxErr(mem.get(pdx, B * G), wdx).err, maxErr(mem.get(pdq, B * G), wdq).err, maxErr(mem.get(pdd, B * H), wdd).err);
      assert.ok(eb <= 2e-6, `gruBwd ${B}x${H}: max error ${eb}`);
      worstB = Math.max(worstB, eb);
    }
    console.log(`      ${variant} gru: forward max abs error ${worstF.toExponential(2)}, backward ${worstB.toExponential(2)}`);
  });

  it('rnnFwd and rnnBwd match rnnCellForward/Backward, split over elements', () => {
    const mem = new Mem(variant);
    const r = rng(22);
    let worst = 0;
    for (const [B, H] of CELL_SHAPES) {
      mem.reset();
      const n = B * H;
      const xp = pre(r, n), hp = pre(r, n), dh = randArray(r, n);
      const wh = new Float32Array(n), wd = new Float32Array(n);
      rnnCellForward(B, H, xp, 0, hp, 0, wh, 0);
      rnnCellBackward(B, H, dh, 0, wh, 0, wd, 0);
      const pxp = mem.put(xp), php = mem.put(hp), pdh = mem.put(dh);
      const ph = mem.put(new Float32Array(n).fill(SENTINEL)), pd = mem.put(new Float32Array(n).fill(SENTINEL));
      for (const [i0, i1] of pairs(splits(r, n, 3, 1))) mem.k.rnnFwd(pxp, php, ph, i0, i1);
      const pwh = mem.put(wh);
      for (const [i0, i1] of pairs(splits(r, n, 3, 1))) mem.k.rnnBwd(pdh, pwh, pd, i0, i1);
      mem.checkGuards(`rnn ${B}x${H}`);
      const e = Math.max(maxErr(mem.get(ph, n), wh).err, maxErr(mem.get(pd, n), wd).err);
      assert.ok(e <= 1e-6, `rnn ${B}x${H}: max error ${e}`);
      worst = Math.max(worst, e);
    }
    console.log(`      ${variant} rnn: max abs error ${worst.toExponential(2)}`);
  });
}

/** Distance in units in the last place between two float32 values (via their ordered bit patterns); two
 *  values both below the smallest normal float32 (1.2e-38: σ(x) for x < -87) count as equal. */
function ulps(a: number, b: number): number {
  if (Math.abs(a) < 2 ** -126 && Math.abs(b) < 2 ** -126) return 0;
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  const ord = (i: number) => (i < 0 ? -(i & 0x7fffffff) : i);
  return Math.abs(ord(bits[0]) - ord(bits[1]));
}

function activationTests(variant: KernelVariant): void {
  it('vector tanh and sigmoid are within a few ulp of Math.tanh and 1/(1+Math.exp(-x)) (dense sweep, tiny and huge inputs)', () => {
    const mem = new Mem(variant, false, 64);
    const xs: number[] = [0, -0, 1e-30, -1e-30, 1e-7, -3e-6, 1e-3, 0.624, 0.625, 0.626, -0.625, 9, 9.1, 15, 44, 88, 89, 100, 1e30, -1e30];
    for (let i = 0; i <= 40000; i++) xs.push(-20 + i * 0.001);
    const x = Float32Array.from(xs);
    const n = x.length;
    // tanh through the RNN cell (hp = 0), sigmoid through the LSTM's input gate (B = 1, H = n, hp = 0).
    const px = mem.put(x), pz = mem.put(new Float32Array(4 * n)), ph = mem.put(new Float32Array(n));
    mem.k.rnnFwd(px, pz, ph, 0, n);
    const xp4 = mem.put(new Float32Array(4 * n).fill(0).map((_, i) => (i < n ? x[i] : 0)));
    const pg = mem.put(new Float32Array(4 * n)), pc = mem.put(new Float32Array(n)), ph2 = mem.put(new Float32Array(n));
    mem.k.lstmFwd(1, n, xp4, pz, pz, pg, pc, ph2, 0, n);
    mem.checkGuards('activations');
    const th = mem.get(ph, n), sg = mem.get(pg, n);
    let worstT = 0, worstS = 0, atT = 0, atS = 0;
    for (let i = 0; i < n; i++) {
      const t = ulps(th[i], Math.tanh(x[i])), s = ulps(sg[i], 1 / (1 + Math.exp(-x[i])));
      if (!(t <= worstT)) { worstT = Number.isNaN(t) ? Infinity : t; atT = x[i]; }
      if (!(s <= worstS)) { worstS = Number.isNaN(s) ? Infinity : s; atS = x[i]; }
    }
    console.log(`      ${variant} activations: tanh max ${worstT} ulp (at ${atT}), sigmoid max ${worstS} ulp (at ${atS})`);
    assert.ok(worstT <= 5, `tanh: ${worstT} ulp at x = ${atT}`);
    assert.ok(worstS <= 3, `sigmoid: ${worstS} ulp at x = ${atS}`);
  });
}

function sharedTests(variant: KernelVariant): void {
  it('the shared-memory build on a shared memory: two instances (as two threads) each computing half equal the plain build', () => {
    const r = rng(40);
    const [M, N, K] = [37, 100, 129];
    const plain = new Mem(variant, false, 64);
    const want = gemmCase(plain, rng(41), 'NT', M, N, K, false, null);
    const shared = new Mem(variant, true, 64);
    assert.ok(shared.memory.buffer instanceof SharedArrayBuffer);
    // A second instance of the shared module on the same memory, as a worker would have.
    const other = instantiateKernels(kernelModule(variant, true), shared.memory);
    const half = Math.floor(M / 2);
    const got = gemmCase(shared, rng(41), 'NT', M, N, K, false, { m: [0, half, M], n: [0, N] }, [shared.k, other]);
    assert.strictEqual(got.err, want.err, 'same result as the plain build');
    assert.ok(got.err <= gemmTol(K), `shared gemm: max error ${got.err}`);
    // The cells too: units split between the two instances.
    const B = 3, H = 21, G = 4 * H;
    const xp = randArray(r, B * G, -3, 3), hp = randArray(r, B * G, -3, 3), c0 = randArray(r, B * H);
    const wg = new Float32Array(B * G), wc = new Float32Array(B * H), wh = new Float32Array(B * H);
    lstmCellForward(B, H, xp, 0, hp, 0, c0, 0, wg, 0, wc, 0, wh, 0);
    shared.reset();
    const pxp = shared.put(xp), php = shared.put(hp), pc0 = shared.put(c0);
    const pg = shared.alloc(B * G), pc = shared.alloc(B * H), ph = shared.alloc(B * H);
    shared.k.lstmFwd(B, H, pxp, php, pc0, pg, pc, ph, 0, 8);
    other.lstmFwd(B, H, pxp, php, pc0, pg, pc, ph, 8, H);
    shared.checkGuards('shared lstmFwd');
    assert.ok(maxErr(shared.get(ph, B * H), wh).err <= 1e-6 && maxErr(shared.get(pg, B * G), wg).err <= 1e-6);
  });
}

function pointwiseTests(variant: KernelVariant): void {
  const SIZES = [1, 3, 4, 5, 7, 9, 17, 33, 129, 257, 513];

  it('add, mul, addInPlace, fill, copy and scale are exact, split at several points', () => {
    const mem = new Mem(variant);
    const r = rng(30);
    for (const n of SIZES) {
      mem.reset();
      const a = randArray(r, n), b = randArray(r, n);
      const pa = mem.put(a), pb = mem.put(b);
      const outs = [0, 1, 2, 3, 4, 5].map(() => mem.put(new Float32Array(n).fill(SENTINEL)));
      const pio = mem.put(a);
      const ps = mem.put(b);
      for (const [i0, i1] of pairs(splits(r, n, 4, 1))) {
        mem.k.add(pa, pb, outs[0], i0, i1);
        mem.k.mul(pa, pb, outs[1], i0, i1);
        mem.k.addInPlace(pio, pb, i0, i1);
        mem.k.fill(outs[2], 0.375, i0, i1);
        mem.k.copy(pa, outs[3], i0, i1);
        mem.k.scale(ps, 0.7, i0, i1);
      }
      mem.checkGuards(`elementwise n=${n}`);
      const f = Math.fround;
      assert.deepStrictEqual(mem.get(outs[0], n), a.map((x, i) => f(x + b[i])), `add n=${n}`);
      assert.deepStrictEqual(mem.get(outs[1], n), a.map((x, i) => f(x * b[i])), `mul n=${n}`);
      assert.deepStrictEqual(mem.get(pio, n), a.map((x, i) => f(x + b[i])), `addInPlace n=${n}`);
      assert.deepStrictEqual(mem.get(outs[2], n), new Float32Array(n).fill(0.375), `fill n=${n}`);
      assert.deepStrictEqual(mem.get(outs[3], n), a, `copy n=${n}`);
      assert.deepStrictEqual(mem.get(ps, n), b.map((x) => f(x * f(0.7))), `scale n=${n}`);
    }
  });

  it('embedGather and embedGrad match the reference model\'s gather and scatter-add (repeated ids)', () => {
    const mem = new Mem(variant);
    const r = rng(31);
    for (const [R, E, V] of [[1, 1, 1], [5, 3, 4], [17, 9, 7], [64, 64, 96], [33, 33, 5]]) {
      mem.reset();
      const ids = Int32Array.from({ length: R }, () => Math.floor(r() * V));
      const emb = randArray(r, V * E), dInp = randArray(r, R * E);
      const pids = mem.putI32(ids), pemb = mem.put(emb), pout = mem.put(new Float32Array(R * E).fill(SENTINEL));
      for (const [r0, r1] of pairs(splits(r, R, 3, 1))) mem.k.embedGather(E, pids, pemb, pout, r0, r1);
      const want = new Float32Array(R * E);
      for (let i = 0; i < R; i++) want.set(emb.subarray(ids[i] * E, ids[i] * E + E), i * E);
      assert.deepStrictEqual(mem.get(pout, R * E), want, `embedGather ${R}x${E}`);
      // Gradient, as CpuModel.lossAndBackward: gemb = 0, then gemb[x[r]] += dInp[r].
      const wg = new Float32Array(V * E);
      for (let i = 0; i < R; i++) for (let k = 0; k < E; k++) wg[ids[i] * E + k] += dInp[i * E + k];
      const pd = mem.put(dInp), pg = mem.put(new Float32Array(V * E).fill(SENTINEL));
      mem.k.fill(pg, 0, 0, V * E);
      for (const [k0, k1] of pairs(splits(r, E, 3, 1))) mem.k.embedGrad(R, E, pids, pd, pg, k0, k1);
      mem.checkGuards(`embed ${R}x${E}`);
      assert.deepStrictEqual(mem.get(pg, V * E), wg, `embedGrad ${R}x${E}`);
    }
  });

  it('softmaxXent matches softmaxCrossEntropy (row losses and gradient), split over rows', () => {
    const mem = new Mem(variant);
    const r = rng(32);
    let worstL = 0, worstG = 0;
    for (const [R, V] of [[1, 1], [1, 2], [3, 5], [7, 9], [17, 96], [5, 33], [33, 97], [2, 257], [64, 96]]) {
      for (const withGrad of [0, 1]) {
        mem.reset();
        // Mostly moderate logits, some rows spread over ±500 (a wrong max would overflow exp there).
        const spread = r() < 0.3 ? 1000 : 8;
        const logits = Float32Array.from({ length: R * V }, () => (r() - 0.5) * (r() < 0.1 ? 60 : spread));
        const targets = Int32Array.from({ length: R }, () => Math.floor(r() * V));
        const gradScale = 1 / R;
        const pl = mem.put(logits), pt = mem.putI32(targets), prl = mem.allocF64(R);
        for (const [r0, r1] of pairs(splits(r, R, 3, 1))) mem.k.softmaxXent(V, pl, pt, gradScale, withGrad, prl, r0, r1);
        mem.checkGuards(`softmaxXent ${R}x${V}`);
        const rowLoss = mem.f64.slice(prl >> 3, (prl >> 3) + R);
        for (let i = 0; i < R; i++) {
          const want = softmaxCrossEntropy(1, V, logits.slice(i * V, i * V + V), targets.subarray(i, i + 1));
          const e = Math.abs(rowLoss[i] - want) / Math.max(1, Math.abs(want));
          assert.ok(e <= 1e-6, `softmaxXent ${R}x${V} row ${i}: loss ${rowLoss[i]}, reference ${want}`);
          worstL = Math.max(worstL, e);
        }
        const wantG = logits.slice();
        softmaxCrossEntropy(R, V, wantG, targets, gradScale);
        const got = mem.get(pl, R * V);
        const { err } = withGrad ? maxErr(got, wantG) : maxErr(got, logits);
        assert.ok(withGrad ? err <= 6e-7 * gradScale : err === 0, `softmaxXent ${R}x${V} grad=${withGrad}: max error ${err}`);
        if (withGrad) worstG = Math.max(worstG, err / gradScale);
      }
    }
    console.log(`      ${variant} softmaxXent: row loss max rel error ${worstL.toExponential(2)}, gradient ${worstG.toExponential(2)} (× gradScale)`);
  });

  it('dropoutMask equals the reference\'s masks bit for bit', () => {
    const mem = new Mem(variant);
    const r = rng(33);
    // The last p is chosen so element 7's uniform equals p exactly: kept (>=), the boundary case.
    for (const p0 of [0, 0.1, 0.25, 0.5, 0.9, -1]) for (const n of [1, 5, 33, 1000, 4099]) {
      mem.reset();
      const seed = Math.floor(r() * 2 ** 32), stream = dropoutStream(Math.floor(r() * 1000), Math.floor(r() * 9));
      const p = p0 >= 0 ? p0 : dropoutUniform(seed, stream, 7);
      const want = new Float32Array(n);
      refDropoutMask(want, p, seed, stream);
      const key = hash32(hash32(seed) ^ stream);
      const threshold = Math.ceil(p * 2 ** 32) | 0;
      const pm = mem.put(new Float32Array(n).fill(SENTINEL));
      for (const [i0, i1] of pairs(splits(r, n, 4, 1))) mem.k.dropoutMask(key, threshold, 1 / (1 - p), pm, i0, i1);
      mem.checkGuards(`dropout ${n}`);
      const got = mem.get(pm, n);
      assert.deepStrictEqual(got, want, `dropout p=${p} n=${n}`);
      if (p0 < 0 && n > 7) assert.ok(got[7] > 0, 'an element whose uniform equals p exactly is kept');
      if (p > 0 && n >= 1000) assert.ok(got.some((x) => x === 0) && got.some((x) => x > 0), 'mask drops some and keeps some');
    }
  });

  it('sumSquares (f64 partials) and adam match globalNorm and adamUpdate', () => {
    const mem = new Mem(variant);
    const r = rng(34);
    let worstA = 0;
    for (const n of SIZES) {
      for (const weightDecay of [0, 0.01]) {
        mem.reset();
        const g = randArray(r, n, -3, 3);
        const pg = mem.put(g);
        const pieces = pairs(splits(r, n, 4, 1));
        const ps = mem.allocF64(pieces.length);
        pieces.forEach(([i0, i1], i) => mem.k.sumSquares(pg, ps + 8 * i, i0, i1));
        let total = 0;
        for (let i = 0; i < pieces.length; i++) total += mem.f64[(ps >> 3) + i];
        let want = 0;
        for (const x of g) want += x * x;
        assert.ok(Math.abs(total - want) <= 1e-14 * want, `sumSquares n=${n}: ${total} vs ${want}`);
        // Adam, several steps from the same state.
        const h: AdamHyper = { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
        const p0 = randArray(r, n), m0 = randArray(r, n, -0.1, 0.1), v0 = randArray(r, n, 0, 0.01);
        const want2 = { p: p0.slice(), m: m0.slice(), v: v0.slice() };
        const pp = mem.put(p0), pm = mem.put(m0), pv = mem.put(v0);
        for (let step = 1; step <= 3; step++) {
          adamUpdate(want2.p, g, want2.m, want2.v, step, h);
          const stepSize = h.learningRate / (1 - h.beta1 ** step), bc2Sqrt = Math.sqrt(1 - h.beta2 ** step);
          const decay = 1 - h.learningRate * h.weightDecay;
          for (const [i0, i1] of pairs(splits(r, n, 3, 1))) {
            mem.k.adam(pp, pg, pm, pv, stepSize, bc2Sqrt, h.beta1, h.beta2, h.eps, decay, i0, i1);
          }
        }
        mem.checkGuards(`adam n=${n}`);
        const e = Math.max(maxErr(mem.get(pp, n), want2.p).err, maxErr(mem.get(pm, n), want2.m).err, maxErr(mem.get(pv, n), want2.v).err);
        assert.ok(e <= 1e-6, `adam n=${n} wd=${weightDecay}: max error ${e}`);
        worstA = Math.max(worstA, e);
      }
    }
    console.log(`      ${variant} adam: max abs error ${worstA.toExponential(2)} after 3 steps`);
  });
}
