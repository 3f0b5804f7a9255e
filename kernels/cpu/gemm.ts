// Dense matrix products on row-major typed arrays, the CPU twin of the WGSL GEMM kernels.
// Every function takes explicit offsets so callers can address a timestep's rows without allocating
// views, and an `accumulate` flag (false: C = A·B, true: C += A·B).

import { Vec } from '../tensor';

/** C[M,N] (+)= A[M,K] · B[N,K]ᵀ  — e.g. x · Wᵀ with W stored [out, in] as PyTorch does. */
export function gemmNT(
  M: number, N: number, K: number,
  A: Vec, aOff: number, B: Vec, bOff: number, C: Vec, cOff: number, accumulate: boolean,
): void {
  const N4 = N - (N % 4);
  const M2 = M - (M % 2);
  let i = 0;
  // Two rows × four columns at a time: each loaded value of A and B is used 4 or 2 times.
  for (; i < M2; i += 2) {
    const a0 = aOff + i * K, a1 = a0 + K;
    const c0 = cOff + i * N, c1 = c0 + N;
    let j = 0;
    for (; j < N4; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k], x1 = A[a1 + k];
        const w0 = B[b0 + k], w1 = B[b1 + k], w2 = B[b2 + k], w3 = B[b3 + k];
        s00 += x0 * w0; s01 += x0 * w1; s02 += x0 * w2; s03 += x0 * w3;
        s10 += x1 * w0; s11 += x1 * w1; s12 += x1 * w2; s13 += x1 * w3;
      }
      if (accumulate) {
        C[c0 + j] += s00; C[c0 + j + 1] += s01; C[c0 + j + 2] += s02; C[c0 + j + 3] += s03;
        C[c1 + j] += s10; C[c1 + j + 1] += s11; C[c1 + j + 2] += s12; C[c1 + j + 3] += s13;
      } else {
        C[c0 + j] = s00; C[c0 + j + 1] = s01; C[c0 + j + 2] = s02; C[c0 + j + 3] = s03;
        C[c1 + j] = s10; C[c1 + j + 1] = s11; C[c1 + j + 2] = s12; C[c1 + j + 3] = s13;
      }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s0 = 0, s1 = 0;
      for (let k = 0; k < K; k++) {
        s0 += A[a0 + k] * B[b0 + k];
        s1 += A[a1 + k] * B[b0 + k];
      }
      C[c0 + j] = accumulate ? C[c0 + j] + s0 : s0;
      C[c1 + j] = accumulate ? C[c1 + j] + s1 : s1;
    }
  }
  for (; i < M; i++) {
    // The odd row (and batch-1 inference): one row × four columns.
    const a = aOff + i * K;
    const c = cOff + i * N;
    let j = 0;
    for (; j < N4; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a + k];
        s0 += x * B[b0 + k]; s1 += x * B[b1 + k]; s2 += x * B[b2 + k]; s3 += x * B[b3 + k];
      }
      if (accumulate) {
        C[c + j] += s0; C[c + j + 1] += s1; C[c + j + 2] += s2; C[c + j + 3] += s3;
      } else {
        C[c + j] = s0; C[c + j + 1] = s1; C[c + j + 2] = s2; C[c + j + 3] = s3;
      }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a + k] * B[b0 + k];
      C[c + j] = accumulate ? C[c + j] + s : s;
    }
  }
}

/** Scratch buffers for transposes, grown as needed and reused (no allocation per call). */
const scratch = { f32: [new Float32Array(0), new Float32Array(0)], f64: [new Float64Array(0), new Float64Array(0)] };

function scratchFor(like: Vec, slot: 0 | 1, n: number): Vec {
  const pool: Vec[] = like instanceof Float64Array ? scratch.f64 : scratch.f32;
  if (pool[slot].length < n) pool[slot] = like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
  return pool[slot];
}

/** out[C, R] = in[R, C]ᵀ */
function transpose(R: number, Cn: number, src: Vec, off: number, out: Vec): void {
  for (let r = 0; r < R; r++) {
    const s = off + r * Cn;
    for (let c = 0; c < Cn; c++) out[c * R + r] = src[s + c];
  }
}

/** C[M,N] (+)= A[M,K] · B[K,N] — e.g. dGates · W to get the gradient of the input. */
export function gemmNN(
  M: number, N: number, K: number,
  A: Vec, aOff: number, B: Vec, bOff: number, C: Vec, cOff: number, accumulate: boolean,
): void {
  // As dot products: transpose B to [N, K] and use the register-blocked NT kernel.
  const Bt = scratchFor(B, 0, N * K);
  transpose(K, N, B, bOff, Bt);
  gemmNT(M, N, K, A, aOff, Bt, 0, C, cOff, accumulate);
}

/** C[M,N] (+)= A[K,M]ᵀ · B[K,N] — weight gradients summed over all rows (timesteps × batch) at once. */
export function gemmTN(
  M: number, N: number, K: number,
  A: Vec, aOff: number, B: Vec, bOff: number, C: Vec, cOff: number, accumulate: boolean,
): void {
  const At = scratchFor(A, 0, M * K);
  const Bt = scratchFor(B, 1, N * K);
  transpose(K, M, A, aOff, At);
  transpose(K, N, B, bOff, Bt);
  gemmNT(M, N, K, At, 0, Bt, 0, C, cOff, accumulate);
}

/** out[N] (+)= sum over the M rows of A[M,N] — bias gradients. */
export function sumRows(M: number, N: number, A: Vec, aOff: number, out: Vec, outOff: number, accumulate: boolean): void {
  if (!accumulate) out.fill(0, outOff, outOff + N);
  for (let i = 0; i < M; i++) {
    const a = aOff + i * N;
    for (let j = 0; j < N; j++) out[outOff + j] += A[a + j];
  }
}

/** Adds bias[N] to each of the M rows of C[M,N]. */
export function addBiasRows(M: number, N: number, C: Vec, cOff: number, bias: Vec): void {
  for (let i = 0; i < M; i++) {
    const c = cOff + i * N;
    for (let j = 0; j < N; j++) C[c + j] += bias[j];
  }
}
