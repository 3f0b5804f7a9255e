// The same packed GEMM with a scalar 4×4 micro-kernel (no SIMD), to measure what SIMD adds.
import { MR, NR, packA_N, packB_NT } from './pack';
export { packB_NT };
const KC: i32 = 256;
const MC: i32 = 96;

// @ts-ignore: decorator
@inline function kernel4x4(kc: i32, ap: usize, bp: usize, c: usize, ldcBytes: usize, mr: i32, nr: i32, acc: bool): void {
  let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s03: f32 = 0;
  let s10: f32 = 0, s11: f32 = 0, s12: f32 = 0, s13: f32 = 0;
  let s20: f32 = 0, s21: f32 = 0, s22: f32 = 0, s23: f32 = 0;
  let s30: f32 = 0, s31: f32 = 0, s32: f32 = 0, s33: f32 = 0;
  for (let k = 0; k < kc; k++) {
    const b0 = load<f32>(bp), b1 = load<f32>(bp, 4), b2 = load<f32>(bp, 8), b3 = load<f32>(bp, 12);
    let a = load<f32>(ap);
    s00 += a * b0; s01 += a * b1; s02 += a * b2; s03 += a * b3;
    a = load<f32>(ap, 4);
    s10 += a * b0; s11 += a * b1; s12 += a * b2; s13 += a * b3;
    a = load<f32>(ap, 8);
    s20 += a * b0; s21 += a * b1; s22 += a * b2; s23 += a * b3;
    a = load<f32>(ap, 12);
    s30 += a * b0; s31 += a * b1; s32 += a * b2; s33 += a * b3;
    ap += 16; bp += NR << 2;
  }
  const t = memory.data(64);
  store<f32>(t, s00); store<f32>(t, s01, 4); store<f32>(t, s02, 8); store<f32>(t, s03, 12);
  store<f32>(t, s10, 16); store<f32>(t, s11, 20); store<f32>(t, s12, 24); store<f32>(t, s13, 28);
  store<f32>(t, s20, 32); store<f32>(t, s21, 36); store<f32>(t, s22, 40); store<f32>(t, s23, 44);
  store<f32>(t, s30, 48); store<f32>(t, s31, 52); store<f32>(t, s32, 56); store<f32>(t, s33, 60);
  for (let r = 0; r < mr; r++) {
    const cr = c + <usize>r * ldcBytes;
    for (let j = 0; j < nr; j++) {
      const v = load<f32>(t + (<usize>(r * 4 + j) << 2));
      const p = cr + (<usize>j << 2);
      store<f32>(p, acc ? load<f32>(p) + v : v);
    }
  }
}

export function gemmNT_packed(M: i32, N: i32, K: i32, a: usize, bp: usize, c: usize, accumulate: bool, scratch: usize): void {
  const ldcBytes = <usize>N << 2;
  const ap = scratch + 128;
  const panels = (N + NR - 1) / NR;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const acc = accumulate || k0 > 0;
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = min(MC, M - i0);
      packA_N(M, K, a, i0, mc, k0, kc, ap);
      for (let p = 0; p < panels; p++) {
        for (let h = 0; h < 2; h++) {
          const j0 = p * NR + h * 4;
          if (j0 >= N) break;
          const nr = min(4, N - j0);
          const bpk = bp + (<usize>(p * K * NR + k0 * NR + h * 4) << 2);
          for (let ii = 0; ii < mc; ii += MR) {
            const mr = min(MR, mc - ii);
            kernel4x4(kc, ap + (<usize>(ii * kc) << 2), bpk, c + (<usize>((i0 + ii) * N + j0) << 2), ldcBytes, mr, nr, acc);
          }
        }
      }
    }
  }
}

export function gemmNT(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, accumulate: bool, bpScratch: usize, scratch: usize): void {
  packB_NT(N, K, b, bpScratch);
  gemmNT_packed(M, N, K, a, bpScratch, c, accumulate, scratch);
}
