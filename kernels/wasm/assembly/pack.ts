// Panel packing for the register-blocked GEMM (gemm.ts). All pointers are byte addresses in the one
// linear memory; matrices are row-major f32 with explicit row strides (in floats).
//
// Packed B ("panels"): a K×N operand as ceil(N/8) panels, each [K][8] floats with zero-padded
// columns past N, so the micro-kernel reads the 8 columns of one k as two v128 loads. Weights are
// packed once (after each optimizer step, at load) and used by every GEMM of a step.
// Packed A: a block of MC rows × KC of op(A) as micro-panels [ceil(mc/4)][kc][4] (zero-padded rows),
// so the micro-kernel splats one float per row per k. Packed per call, into the caller's scratch.

export const MR: i32 = 4; // rows of A per micro-tile
export const NR: i32 = 8; // columns of B per micro-tile (two v128)

/** B given as [N, K] (row stride ldb; a PyTorch weight W[out, in]) → panels; columns [n0, n1). */
export function packB_NT(b: usize, ldb: i32, N: i32, K: i32, out: usize, n0: i32, n1: i32): void {
  const p1 = (min(n1, N) + NR - 1) / NR;
  const rowBytes = <usize>ldb << 2;
  for (let p = n0 / NR; p < p1; p++) {
    const j0 = p * NR;
    const pd = out + (<usize>p * <usize>K * NR << 2);
    if (j0 + NR <= N) {
      // Eight rows of B at once: 4×4 transposes of (4 rows × 4 k) into the panel's [k][8] order.
      const r0 = b + <usize>j0 * rowBytes;
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const kb = <usize>k << 2;
        for (let half = 0; half < 2; half++) {
          const s = r0 + <usize>(half * 4) * rowBytes + kb;
          const x0 = v128.load(s), x1 = v128.load(s + rowBytes);
          const x2 = v128.load(s + 2 * rowBytes), x3 = v128.load(s + 3 * rowBytes);
          const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5), t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
          const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7), t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
          const d = pd + (<usize>(k * NR + half * 4) << 2);
          v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
          v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 32);
          v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 64);
          v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 96);
        }
      }
      for (; k < K; k++) {
        for (let c = 0; c < NR; c++) {
          store<f32>(pd + (<usize>(k * NR + c) << 2), load<f32>(r0 + <usize>c * rowBytes + (<usize>k << 2)));
        }
      }
    } else {
      for (let c = 0; c < NR; c++) {
        const j = j0 + c;
        const src = b + <usize>j * rowBytes;
        for (let k = 0; k < K; k++) {
          store<f32>(pd + (<usize>(k * NR + c) << 2), j < N ? load<f32>(src + (<usize>k << 2)) : 0);
        }
      }
    }
  }
}

/** B given as [K, N] (row stride ldb) → panels; columns [n0, n1). A full panel row is two v128 copies. */
export function packB_NN(b: usize, ldb: i32, K: i32, N: i32, out: usize, n0: i32, n1: i32): void {
  const p1 = (min(n1, N) + NR - 1) / NR;
  const rowBytes = <usize>ldb << 2;
  for (let p = n0 / NR; p < p1; p++) {
    const j0 = p * NR;
    const pd = out + (<usize>p * <usize>K * NR << 2);
    if (j0 + NR <= N) {
      let src = b + (<usize>j0 << 2);
      for (let k = 0; k < K; k++) {
        const d = pd + (<usize>(k * NR) << 2);
        v128.store(d, v128.load(src)); v128.store(d, v128.load(src, 16), 16);
        src += rowBytes;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const src = b + <usize>k * rowBytes;
        for (let c = 0; c < NR; c++) {
          const j = j0 + c;
          store<f32>(pd + (<usize>(k * NR + c) << 2), j < N ? load<f32>(src + (<usize>j << 2)) : 0);
        }
      }
    }
  }
}

/** Rows [i0, i0+mc) × k in [k0, k0+kc) of op(A) into micro-panels [ceil(mc/4)][kc][4] at dst.
 *  Element (m, k) of op(A) is at a + 4·(m·sm + k·sk): (lda, 1) for A [M,K], (1, lda) for A stored [K,M]. */
// @ts-ignore: decorator
@inline export function packA(a: usize, sm: i32, sk: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const panels = (mc + MR - 1) / MR;
  const end = i0 + mc;
  if (sk == 1) {
    // A [M, K]: rows are contiguous in k; 4 rows × 4 k transposed at a time.
    const rowBytes = <usize>sm << 2;
    for (let p = 0; p < panels; p++) {
      const ib = i0 + p * MR;
      const pd = dst + (<usize>(p * kc * MR) << 2);
      const src = a + <usize>ib * rowBytes + (<usize>k0 << 2);
      if (ib + MR <= end) {
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const s = src + (<usize>k << 2);
          const x0 = v128.load(s), x1 = v128.load(s + rowBytes);
          const x2 = v128.load(s + 2 * rowBytes), x3 = v128.load(s + 3 * rowBytes);
          const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5), t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
          const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7), t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
          const d = pd + (<usize>(k * MR) << 2);
          v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
          v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 16);
          v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 32);
          v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 48);
        }
        for (; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(pd + (<usize>(k * MR + r) << 2), load<f32>(src + <usize>r * rowBytes + (<usize>k << 2)));
          }
        }
      } else {
        for (let r = 0; r < MR; r++) {
          const live = ib + r < end;
          const s = src + <usize>r * rowBytes;
          for (let k = 0; k < kc; k++) store<f32>(pd + (<usize>(k * MR + r) << 2), live ? load<f32>(s + (<usize>k << 2)) : 0);
        }
      }
    }
  } else {
    // A stored [K, M]: the 4 rows of a micro-panel are 4 consecutive floats of one stored row.
    const kBytes = <usize>sk << 2;
    for (let p = 0; p < panels; p++) {
      const ib = i0 + p * MR;
      const pd = dst + (<usize>(p * kc * MR) << 2);
      let src = a + (<usize>ib << 2) + <usize>k0 * kBytes;
      if (ib + MR <= end) {
        for (let k = 0; k < kc; k++) {
          v128.store(pd + (<usize>(k * MR) << 2), v128.load(src));
          src += kBytes;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) store<f32>(pd + (<usize>(k * MR + r) << 2), ib + r < end ? load<f32>(src + (<usize>r << 2)) : 0);
          src += kBytes;
        }
      }
    }
  }
}
