// Single-precision GEMM for WebAssembly SIMD: C[m0:m1, n0:n1] (+)= op(A)[m0:m1, :] · B, with B
// pre-packed into 8-column panels (pack.ts) and op(A) either A [M,K] or A stored [K,M].
//
// Design (GotoBLAS/BLIS, scaled to 128-bit vectors):
//  - Micro-kernel: a 4×8 tile of C lives in 8 v128 accumulators for a whole K block. Per k it loads
//    the 8 floats of one B panel row (2 v128) and splats the 4 floats of packed A, 8 multiply-adds.
//    That is 11 live v128 registers: x64 has 16 xmm and V8 keeps some for itself, so a 6×8 tile (15
//    live) spills and runs at half speed (measured), and 4×8 reaches ~95% of the in-wasm register peak.
//  - K is blocked by KC = 256 (a 4 KiB A micro-panel and an 8 KiB B panel slice stay in L1), rows by
//    MC = 96 (the packed A block, 96 KiB, stays in L2 while every panel of B passes over it).
//  - A is packed per call into the caller's scratch (GEMM_SCRATCH_BYTES, per thread); B is packed
//    once by the caller, since packing a 1024×256 weight costs as much as a batch-16 product.
//  - Fewer than 4 rows (batch-1 inference): a GEMV that streams three panels at a time with no A
//    packing (see gemvRow for why three). Unrolling k, here or in the micro-kernel, makes V8 hoist the
//    loads of the next steps and spill: measured 1.5-2× slower, so the loops stay one k per iteration.
// Performance notes (AMD EPYC Zen 5, Node 20, one thread): the micro-kernel runs shapes of a training
// step at 40-50 GFLOP/s against the 55 GFLOP/s register-only peak (kernels/wasm/peak.mjs); the GEMV
// 1×1024×256 in 0.016 ms (31 GFLOP/s); a smaller K block (128) was not faster.
// relaxed builds (ASC_FEATURE_RELAXED_SIMD, a compile-time constant) use f32x4.relaxed_madd.
import { MR, NR, packA } from './pack';

// The scratch one gemm call needs is a 128-byte edge tile (padded to 256) + the packed A block,
// 256 + MC·KC·4 bytes: GEMM_SCRATCH_BYTES in kernels/wasm/module.ts, to change with these.
const KC: i32 = 256;
const MC: i32 = 96;

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Writes (or adds) an 8-float row held in two v128 to C, only its first nr columns. */
// @ts-ignore: decorator
@inline function storeRow(p: usize, v0: v128, v1: v128, nr: i32, acc: bool, tmp: usize): void {
  if (nr == NR) {
    if (acc) { v0 = f32x4.add(v0, v128.load(p)); v1 = f32x4.add(v1, v128.load(p, 16)); }
    v128.store(p, v0); v128.store(p, v1, 16);
  } else {
    v128.store(tmp, v0); v128.store(tmp, v1, 16);
    for (let j = 0; j < nr; j++) {
      const v = load<f32>(tmp + (<usize>j << 2));
      const q = p + (<usize>j << 2);
      store<f32>(q, acc ? load<f32>(q) + v : v);
    }
  }
}

/** The 4×8 micro-kernel over kc steps of packed A (4 floats per k) and a B panel (8 per k); writes
 *  the valid mr×nr corner of the tile at c (row stride ldcBytes). */
// @ts-ignore: decorator
@inline function kernel4x8(kc: i32, ap: usize, bp: usize, c: usize, ldcBytes: usize, mr: i32, nr: i32, acc: bool, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    ap += 16; bp += 32;
  }
  storeRow(c, c00, c01, nr, acc, tmp);
  if (mr > 1) storeRow(c + ldcBytes, c10, c11, nr, acc, tmp);
  if (mr > 2) storeRow(c + 2 * ldcBytes, c20, c21, nr, acc, tmp);
  if (mr > 3) storeRow(c + 3 * ldcBytes, c30, c31, nr, acc, tmp);
}

/** One row of op(A) (element k at ar + k·skBytes) times panels [p0, p1): the small-M path.
 *  Three panels (24 columns, 6 accumulators) per pass over K: with the 6 B vectors and the splat of x
 *  that is 13 live v128, which V8 keeps in registers (4 panels need 17 and spill an accumulator,
 *  which chains every k through a store and a load: measured 2.5× slower). */
// @ts-ignore: decorator
@inline function gemvRow(K: i32, ar: usize, skBytes: usize, bp: usize, cr: usize, p0: i32, p1: i32, n1: i32, acc: bool, tmp: usize): void {
  const panelBytes = <usize>K * NR << 2;
  let p = p0;
  for (; p + 3 <= p1; p += 3) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let s4 = f32x4.splat(0), s5 = f32x4.splat(0);
    let q = bp + <usize>p * panelBytes;
    let x = ar;
    for (let k = 0; k < K; k++) {
      const xv = v128.load32_splat(x);
      s0 = madd(xv, v128.load(q), s0); s1 = madd(xv, v128.load(q, 16), s1);
      s2 = madd(xv, v128.load(q + panelBytes), s2); s3 = madd(xv, v128.load(q + panelBytes, 16), s3);
      s4 = madd(xv, v128.load(q + 2 * panelBytes), s4); s5 = madd(xv, v128.load(q + 2 * panelBytes, 16), s5);
      q += 32; x += skBytes;
    }
    const j0 = p * NR;
    const c0 = cr + (<usize>j0 << 2);
    storeRow(c0, s0, s1, min(NR, n1 - j0), acc, tmp);
    if (j0 + NR < n1) storeRow(c0 + 32, s2, s3, min(NR, n1 - j0 - NR), acc, tmp);
    if (j0 + 2 * NR < n1) storeRow(c0 + 64, s4, s5, min(NR, n1 - j0 - 2 * NR), acc, tmp);
  }
  for (; p < p1; p++) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
    let q = bp + <usize>p * panelBytes;
    let x = ar;
    for (let k = 0; k < K; k++) {
      const xv = v128.load32_splat(x);
      s0 = madd(xv, v128.load(q), s0); s1 = madd(xv, v128.load(q, 16), s1);
      q += 32; x += skBytes;
    }
    const j0 = p * NR;
    storeRow(cr + (<usize>j0 << 2), s0, s1, min(NR, n1 - j0), acc, tmp);
  }
}

/** C[m0:m1, n0:n1] (+)= op(A)[m0:m1, :] · B (see the file header). aTrans 0: A [M,K] at row stride
 *  lda; 1: A stored [K,M] at row stride lda. n0 a multiple of 8. scratch: GEMM_SCRATCH bytes. */
export function gemm(M: i32, N: i32, K: i32, a: usize, lda: i32, aTrans: i32, packedB: usize, c: usize, ldc: i32,
  accumulate: i32, scratch: usize, m0: i32, m1: i32, n0: i32, n1: i32): void {
  m1 = min(m1, M); n1 = min(n1, N);
  if (m1 <= m0 || n1 <= n0) return;
  const ldcBytes = <usize>ldc << 2;
  const sm = aTrans ? 1 : lda, sk = aTrans ? lda : 1;
  const tmp = scratch;
  const p0 = n0 / NR, p1 = (n1 + NR - 1) / NR;
  if (K <= 0) {
    if (!accumulate) for (let i = m0; i < m1; i++) memory.fill(c + <usize>i * ldcBytes + (<usize>n0 << 2), 0, <usize>(n1 - n0) << 2);
    return;
  }
  if (m1 - m0 < MR) {
    for (let i = m0; i < m1; i++) {
      gemvRow(K, a + (<usize>i * <usize>sm << 2), <usize>sk << 2, packedB, c + <usize>i * ldcBytes, p0, p1, n1, accumulate != 0, tmp);
    }
    return;
  }
  const ap = scratch + 256;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const acc = accumulate != 0 || k0 > 0;
    for (let i0 = m0; i0 < m1; i0 += MC) {
      const mc = min(MC, m1 - i0);
      packA(a, sm, sk, i0, mc, k0, kc, ap);
      for (let p = p0; p < p1; p++) {
        const j0 = p * NR;
        const nr = min(NR, n1 - j0);
        const bpk = packedB + ((<usize>p * <usize>K + <usize>k0) * NR << 2);
        for (let ii = 0; ii < mc; ii += MR) {
          kernel4x8(kc, ap + (<usize>(ii * kc) << 2), bpk, c + <usize>(i0 + ii) * ldcBytes + (<usize>j0 << 2), ldcBytes,
            min(MR, mc - ii), nr, acc, tmp);
        }
      }
    }
  }
}

/** Rows [m0, m1) of C[·, N] (row stride ldc) += bias[N]. */
export function addBiasRows(N: i32, c: usize, ldc: i32, bias: usize, m0: i32, m1: i32): void {
  const n4 = N & ~3;
  for (let i = m0; i < m1; i++) {
    const r = c + (<usize>i * <usize>ldc << 2);
    let j = 0;
    for (; j < n4; j += 4) {
      const q = r + (<usize>j << 2);
      v128.store(q, f32x4.add(v128.load(q), v128.load(bias + (<usize>j << 2))));
    }
    for (; j < N; j++) {
      const q = r + (<usize>j << 2);
      store<f32>(q, load<f32>(q) + load<f32>(bias + (<usize>j << 2)));
    }
  }
}

/** out[n] (+)= Σ_m a[m, n] over the M rows of a (row stride lda), for n in [n0, n1). Rows are read
 *  in order, four at a time into the output (which stays in L1), so each row streams contiguously:
 *  summing a column block down all rows instead strides by lda and was the slower loop. */
export function sumRows(N: i32, a: usize, lda: i32, M: i32, out: usize, accumulate: i32, n0: i32, n1: i32): void {
  n1 = min(n1, N);
  if (n1 <= n0) return;
  const rowBytes = <usize>lda << 2;
  const o0 = out + (<usize>n0 << 2);
  const bytes = <usize>(n1 - n0) << 2;
  const v4 = (bytes >> 4) << 4;
  if (!accumulate) memory.fill(o0, 0, bytes);
  let i = 0;
  let r = a + (<usize>n0 << 2);
  for (; i + 4 <= M; i += 4) {
    const r1 = r + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
    let j: usize = 0;
    for (; j < v4; j += 16) {
      const s = f32x4.add(f32x4.add(v128.load(r + j), v128.load(r1 + j)), f32x4.add(v128.load(r2 + j), v128.load(r3 + j)));
      v128.store(o0 + j, f32x4.add(v128.load(o0 + j), s));
    }
    for (; j < bytes; j += 4) {
      store<f32>(o0 + j, load<f32>(o0 + j) + ((load<f32>(r + j) + load<f32>(r1 + j)) + (load<f32>(r2 + j) + load<f32>(r3 + j))));
    }
    r += 4 * rowBytes;
  }
  for (; i < M; i++) {
    let j: usize = 0;
    for (; j < v4; j += 16) v128.store(o0 + j, f32x4.add(v128.load(o0 + j), v128.load(r + j)));
    for (; j < bytes; j += 4) store<f32>(o0 + j, load<f32>(o0 + j) + load<f32>(r + j));
    r += rowBytes;
  }
}
