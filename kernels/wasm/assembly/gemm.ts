// WebAssembly SIMD SGEMM, C[M,N] (+)= A[M,K] · B[N,K]ᵀ (gemmNT's layout), packed panels,
// 4×8 micro-tile in 8 v128 accumulators, K and M blocked. Built twice: plain SIMD, and with
// relaxed SIMD's f32x4.relaxed_madd (ASC_FEATURE_RELAXED_SIMD is a compile-time constant).
import { MR, NR, packA_N, packA_T, packB_NN, packB_NT } from './pack';
export { packB_NT, packB_NN };

const KC: i32 = 256; // K block: an A micro-panel (4 KiB) and a B panel (8 KiB) sit in L1
const MC: i32 = 96;  // rows of A packed per block (96 KiB at KC=256, in L2)

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** The micro-kernel: a 4×8 tile of C from kc steps of packed A (4 per k) and packed B (8 per k).
 *  mr, nr: the valid part of the tile (edges); tmp: 128 bytes of scratch for partial tiles. */
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
  if (mr == MR && nr == NR) {
    const r1 = c + ldcBytes, r2 = r1 + ldcBytes, r3 = r2 + ldcBytes;
    if (acc) {
      c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(r1)); c11 = f32x4.add(c11, v128.load(r1, 16));
      c20 = f32x4.add(c20, v128.load(r2)); c21 = f32x4.add(c21, v128.load(r2, 16));
      c30 = f32x4.add(c30, v128.load(r3)); c31 = f32x4.add(c31, v128.load(r3, 16));
    }
    v128.store(c, c00); v128.store(c, c01, 16);
    v128.store(r1, c10); v128.store(r1, c11, 16);
    v128.store(r2, c20); v128.store(r2, c21, 16);
    v128.store(r3, c30); v128.store(r3, c31, 16);
  } else {
    v128.store(tmp, c00); v128.store(tmp, c01, 16);
    v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
    v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
    v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
    for (let r = 0; r < mr; r++) {
      const cr = c + <usize>r * ldcBytes;
      const tr = tmp + (<usize>(r * NR) << 2);
      for (let j = 0; j < nr; j++) {
        const v = load<f32>(tr + (<usize>j << 2));
        const p = cr + (<usize>j << 2);
        store<f32>(p, acc ? load<f32>(p) + v : v);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function driver(M: i32, N: i32, K: i32, a: usize, transA: bool, bp: usize, c: usize, accumulate: bool, scratch: usize): void {
  const ldcBytes = <usize>N << 2;
  const tmp = scratch;
  const ap = scratch + 256;
  const panels = (N + NR - 1) / NR;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const acc = accumulate || k0 > 0;
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = min(MC, M - i0);
      if (transA) packA_T(M, K, a, i0, mc, k0, kc, ap);
      else packA_N(M, K, a, i0, mc, k0, kc, ap);
      for (let p = 0; p < panels; p++) {
        const j0 = p * NR;
        const nr = min(NR, N - j0);
        const bpk = bp + (<usize>(p * K * NR + k0 * NR) << 2);
        for (let ii = 0; ii < mc; ii += MR) {
          const mr = min(MR, mc - ii);
          const apk = ap + (<usize>(ii * kc) << 2);
          kernel4x8(kc, apk, bpk, c + (<usize>((i0 + ii) * N + j0) << 2), ldcBytes, mr, nr, acc, tmp);
        }
      }
    }
  }
}

/** C[M,N] (+)= A[M,K]·Bp, B already packed into panels (by packB_NT from [N,K] or packB_NN from [K,N]).
 *  scratch: at least 256 + MC*KC*4 bytes for the edge tile and the packed A block. */
export function gemmNT_packed(M: i32, N: i32, K: i32, a: usize, bp: usize, c: usize, accumulate: bool, scratch: usize): void {
  driver(M, N, K, a, false, bp, c, accumulate, scratch);
}
/** C[M,N] (+)= A[K,M]ᵀ·Bp (A stored [K,M], as gemmTN's). */
export function gemmTN_packed(M: i32, N: i32, K: i32, a: usize, bp: usize, c: usize, accumulate: bool, scratch: usize): void {
  driver(M, N, K, a, true, bp, c, accumulate, scratch);
}

/** C[M,N] (+)= A[M,K]·B[K,N] (gemmNN): packs B (no transpose) then multiplies. */
export function gemmNN(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, accumulate: bool, bpScratch: usize, scratch: usize): void {
  packB_NN(N, K, b, bpScratch);
  driver(M, N, K, a, false, bpScratch, c, accumulate, scratch);
}
/** C[M,N] (+)= A[K,M]ᵀ·B[K,N] (gemmTN, weight gradients). */
export function gemmTN(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, accumulate: bool, bpScratch: usize, scratch: usize): void {
  packB_NN(N, K, b, bpScratch);
  driver(M, N, K, a, true, bpScratch, c, accumulate, scratch);
}

/** C[M,N] (+)= A[M,K]·B[N,K]ᵀ: packs B into bpScratch (N rounded up to 8, × K floats) then multiplies. */
export function gemmNT(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, accumulate: bool, bpScratch: usize, scratch: usize): void {
  packB_NT(N, K, b, bpScratch);
  gemmNT_packed(M, N, K, a, bpScratch, c, accumulate, scratch);
}

/** Experiment: a 6×8 micro-tile (12 v128 accumulators + 2 for B + 1 splat: 15 of x64's 16 xmm). */
// @ts-ignore: decorator
@inline function kernel6x8(kc: i32, ap: usize, bp: usize, c: usize, ldcBytes: usize, mr: i32, nr: i32, acc: bool, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
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
    a = v128.load32_splat(ap, 16);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    a = v128.load32_splat(ap, 20);
    c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    ap += 24; bp += 32;
  }
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  v128.store(tmp, c40, 128); v128.store(tmp, c41, 144);
  v128.store(tmp, c50, 160); v128.store(tmp, c51, 176);
  if (nr == NR) {
    for (let r = 0; r < mr; r++) {
      const cr = c + <usize>r * ldcBytes;
      const tr = tmp + (<usize>(r * NR) << 2);
      let v0 = v128.load(tr), v1 = v128.load(tr, 16);
      if (acc) { v0 = f32x4.add(v0, v128.load(cr)); v1 = f32x4.add(v1, v128.load(cr, 16)); }
      v128.store(cr, v0); v128.store(cr, v1, 16);
    }
  } else {
    for (let r = 0; r < mr; r++) {
      const cr = c + <usize>r * ldcBytes;
      const tr = tmp + (<usize>(r * NR) << 2);
      for (let j = 0; j < nr; j++) {
        const v = load<f32>(tr + (<usize>j << 2));
        const p = cr + (<usize>j << 2);
        store<f32>(p, acc ? load<f32>(p) + v : v);
      }
    }
  }
}

export function gemmNT_packed6(M: i32, N: i32, K: i32, a: usize, bp: usize, c: usize, accumulate: bool, scratch: usize): void {
  const ldcBytes = <usize>N << 2;
  const tmp = scratch;
  const ap = scratch + 256;
  const panels = (N + NR - 1) / NR;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const acc = accumulate || k0 > 0;
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = min(MC, M - i0);
      packA_N(M, K, a, i0, mc, k0, kc, ap, 6);
      for (let p = 0; p < panels; p++) {
        const j0 = p * NR;
        const nr = min(NR, N - j0);
        const bpk = bp + (<usize>(p * K * NR + k0 * NR) << 2);
        for (let ii = 0; ii < mc; ii += 6) {
          const mr = min(6, mc - ii);
          kernel6x8(kc, ap + (<usize>(ii * kc) << 2), bpk, c + (<usize>((i0 + ii) * N + j0) << 2), ldcBytes, mr, nr, acc, tmp);
        }
      }
    }
  }
}

/** Small M (batch-1 inference, M < 4): one row against 4 panels (32 columns) at a time, 8 accumulators,
 *  reading A unpacked (row-major) — a GEMV, bound by streaming packed B. */
export function gemvNT_packed(M: i32, N: i32, K: i32, a: usize, bp: usize, c: usize, accumulate: bool, scratch: usize): void {
  const tmp = scratch;
  const panels = (N + NR - 1) / NR;
  const panelBytes = <usize>(K * NR) << 2;
  for (let i = 0; i < M; i++) {
    const ar = a + (<usize>(i * K) << 2);
    const cr = c + (<usize>(i * N) << 2);
    let p = 0;
    for (; p + 4 <= panels; p += 4) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
      let q0 = bp + <usize>p * panelBytes;
      const q1 = q0 + panelBytes, q2 = q1 + panelBytes, q3 = q2 + panelBytes;
      let off: usize = 0;
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(ar + (<usize>k << 2));
        s0 = madd(x, v128.load(q0 + off), s0); s1 = madd(x, v128.load(q0 + off, 16), s1);
        s2 = madd(x, v128.load(q1 + off), s2); s3 = madd(x, v128.load(q1 + off, 16), s3);
        s4 = madd(x, v128.load(q2 + off), s4); s5 = madd(x, v128.load(q2 + off, 16), s5);
        s6 = madd(x, v128.load(q3 + off), s6); s7 = madd(x, v128.load(q3 + off, 16), s7);
        off += 32;
      }
      v128.store(tmp, s0); v128.store(tmp, s1, 16); v128.store(tmp, s2, 32); v128.store(tmp, s3, 48);
      v128.store(tmp, s4, 64); v128.store(tmp, s5, 80); v128.store(tmp, s6, 96); v128.store(tmp, s7, 112);
      const j0 = p * NR;
      const nr = min(32, N - j0);
      for (let j = 0; j < nr; j++) {
        const v = load<f32>(tmp + (<usize>j << 2));
        const q = cr + (<usize>(j0 + j) << 2);
        store<f32>(q, accumulate ? load<f32>(q) + v : v);
      }
    }
    for (; p < panels; p++) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
      const q0 = bp + <usize>p * panelBytes;
      let off: usize = 0;
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(ar + (<usize>k << 2));
        s0 = madd(x, v128.load(q0 + off), s0); s1 = madd(x, v128.load(q0 + off, 16), s1);
        off += 32;
      }
      v128.store(tmp, s0); v128.store(tmp, s1, 16);
      const j0 = p * NR;
      const nr = min(NR, N - j0);
      for (let j = 0; j < nr; j++) {
        const v = load<f32>(tmp + (<usize>j << 2));
        const q = cr + (<usize>(j0 + j) << 2);
        store<f32>(q, accumulate ? load<f32>(q) + v : v);
      }
    }
  }
}

/** Experiment: gemmNT_packed with an outer N block (NC columns of packed B, NC*KC*4 bytes, kept in L2
 *  while every MC block of A passes over it), the GotoBLAS loop order jc, kc, ic, jr, ir. */
export function gemmNT_packedNC(M: i32, N: i32, K: i32, a: usize, bp: usize, c: usize, accumulate: bool, scratch: usize, NC: i32): void {
  const ldcBytes = <usize>N << 2;
  const tmp = scratch;
  const ap = scratch + 256;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    const p0 = jc / NR, p1 = (jc + nc + NR - 1) / NR;
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      const acc = accumulate || k0 > 0;
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        packA_N(M, K, a, i0, mc, k0, kc, ap);
        for (let p = p0; p < p1; p++) {
          const j0 = p * NR;
          const nr = min(NR, N - j0);
          const bpk = bp + (<usize>(p * K * NR + k0 * NR) << 2);
          for (let ii = 0; ii < mc; ii += MR) {
            const mr = min(MR, mc - ii);
            kernel4x8(kc, ap + (<usize>(ii * kc) << 2), bpk, c + (<usize>((i0 + ii) * N + j0) << 2), ldcBytes, mr, nr, acc, tmp);
          }
        }
      }
    }
  }
}
