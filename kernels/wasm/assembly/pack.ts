// Packing for the register-blocked GEMM (AssemblyScript, compiled to WebAssembly at build time).
// All pointers are byte addresses in the one linear memory; all matrices are row-major f32.

export const MR: i32 = 4; // rows of A per micro-tile
export const NR: i32 = 8; // columns of B per micro-tile (two v128)

/** Packs B[N,K] (row-major, rows = output columns, as gemmNT's B) into panels [ceil(N/NR)][K][NR],
 *  zero-padded past N, so a micro-kernel reads NR consecutive floats per k. */
export function packB_NT(N: i32, K: i32, b: usize, dst: usize): void {
  const panels = (N + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    const j0 = p * NR;
    const pd = dst + (<usize>(p * K * NR) << 2);
    for (let c = 0; c < NR; c++) {
      const j = j0 + c;
      if (j < N) {
        const src = b + (<usize>(j * K) << 2);
        for (let k = 0; k < K; k++) store<f32>(pd + (<usize>(k * NR + c) << 2), load<f32>(src + (<usize>k << 2)));
      } else {
        for (let k = 0; k < K; k++) store<f32>(pd + (<usize>(k * NR + c) << 2), 0);
      }
    }
  }
}

/** Packs rows [i0, i0+mc) × columns [k0, k0+kc) of A[M,K] into micro-panels [ceil(mc/MR)][kc][MR],
 *  zero-padded past M. */
export function packA_N(M: i32, K: i32, a: usize, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize, mrTile: i32 = MR): void {
  const panels = (mc + mrTile - 1) / mrTile;
  for (let p = 0; p < panels; p++) {
    const pd = dst + (<usize>(p * kc * mrTile) << 2);
    for (let r = 0; r < mrTile; r++) {
      const i = i0 + p * mrTile + r;
      if (i < M && i < i0 + mc) {
        const src = a + (<usize>(i * K + k0) << 2);
        for (let k = 0; k < kc; k++) store<f32>(pd + (<usize>(k * mrTile + r) << 2), load<f32>(src + (<usize>k << 2)));
      } else {
        for (let k = 0; k < kc; k++) store<f32>(pd + (<usize>(k * mrTile + r) << 2), 0);
      }
    }
  }
}

/** Packs B[K,N] (row-major, as gemmNN's and gemmTN's B) into the same panels [ceil(N/NR)][K][NR]:
 *  a full panel row is two v128 loads, so this layout needs no transpose at all. */
export function packB_NN(N: i32, K: i32, b: usize, dst: usize): void {
  const panels = (N + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    const j0 = p * NR;
    const pd = dst + (<usize>(p * K * NR) << 2);
    if (j0 + NR <= N) {
      for (let k = 0; k < K; k++) {
        const src = b + (<usize>(k * N + j0) << 2);
        const d = pd + (<usize>(k * NR) << 2);
        v128.store(d, v128.load(src)); v128.store(d, v128.load(src, 16), 16);
      }
    } else {
      for (let k = 0; k < K; k++) {
        for (let c = 0; c < NR; c++) {
          const j = j0 + c;
          store<f32>(pd + (<usize>(k * NR + c) << 2), j < N ? load<f32>(b + (<usize>(k * N + j) << 2)) : 0);
        }
      }
    }
  }
}

/** Packs rows [i0, i0+mc) × [k0, k0+kc) of Aᵀ, A stored [K,M] (gemmTN's A), into micro-panels
 *  [ceil(mc/MR)][kc][MR]: each k reads MR consecutive floats of a row of A. */
export function packA_T(M: i32, K: i32, a: usize, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const panels = (mc + MR - 1) / MR;
  const end = i0 + mc;
  for (let p = 0; p < panels; p++) {
    const ib = i0 + p * MR;
    const pd = dst + (<usize>(p * kc * MR) << 2);
    for (let k = 0; k < kc; k++) {
      const src = a + (<usize>((k0 + k) * M) << 2);
      for (let r = 0; r < MR; r++) {
        const i = ib + r;
        store<f32>(pd + (<usize>(k * MR + r) << 2), i < end ? load<f32>(src + (<usize>i << 2)) : 0);
      }
    }
  }
}
