// PROTOTYPE (issue 10): the WebAssembly SGEMM (plain SIMD, relaxed SIMD where the runtime has it, and
// scalar) against the reference gemmNT on seeded inputs: odd shapes (not multiples of the 4×8 tile or
// the vector width), K past the K block, offsets into larger buffers, guards around the output.
import * as assert from 'assert';
import * as v8 from 'v8';
import { gemmNN, gemmNT, gemmTN } from '../kernels/cpu/gemm';
import { WasmGemm, WasmVariant, hasRelaxedSimd, hasSimd } from '../kernels/wasm/gemm';

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

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 3], [3, 5, 2], [4, 8, 16], [5, 9, 17], [7, 13, 31], [1, 1024, 256], [33, 515, 129],
  [97, 37, 300], [101, 64, 513], [2, 3, 257], [13, 8, 1],
];

describe('WebAssembly SGEMM prototype (issue 10)', () => {
  it('the runtime has WebAssembly SIMD', () => assert.ok(hasSimd()));

  // Node 20 has relaxed SIMD only behind a V8 flag; setting it before the module compiles turns it on.
  if (!hasRelaxedSimd()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const variants: WasmVariant[] = ['simd', 'scalar', ...(hasRelaxedSimd() ? ['relaxed' as const] : [])];

  for (const variant of variants) for (const tile of [4, 6, 'auto', 'NN', 'TN'] as const) {
    if (variant === 'scalar' && tile !== 4) continue;
    const ref = tile === 'NN' ? gemmNN : tile === 'TN' ? gemmTN : gemmNT;
    it(`${variant} ${tile}: ${ref.name} matches the reference on odd shapes, offsets and accumulate`, () => {
      const g = new WasmGemm(variant);
      if (typeof tile === 'number' || tile === 'auto') g.tile = tile;
      const mine = tile === 'NN' ? g.gemmNN.bind(g) : tile === 'TN' ? g.gemmTN.bind(g) : g.gemmNT.bind(g);
      let worstAbs = 0;
      const r = rng(10);
      let worst = 0;
      for (const [M, N, K] of SHAPES) {
        for (const accumulate of [false, true]) {
          const aOff = 3, bOff = 5, cOff = 7;
          const A = Float32Array.from({ length: aOff + M * K + 2 }, () => r() * 2 - 1);
          const B = Float32Array.from({ length: bOff + N * K + 2 }, () => r() * 2 - 1);
          const C0 = Float32Array.from({ length: cOff + M * N + 9 }, () => r() * 2 - 1);
          const want = C0.slice(), got = C0.slice();
          ref(M, N, K, A, aOff, B, bOff, want, cOff, accumulate);
          mine(M, N, K, A, aOff, B, bOff, got, cOff, accumulate);
          let err = 0;
          for (let i = 0; i < got.length; i++) {
            const d = Math.abs(got[i] - want[i]);
            if (!(d <= err)) err = Number.isNaN(d) ? Infinity : d;
            if (i < cOff || i >= cOff + M * N) assert.strictEqual(got[i], C0[i], `guard ${i} touched (${M}x${N}x${K})`);
          }
          const tol = 2e-6 * K + 1e-6;
          assert.ok(err <= tol, `${variant} ${M}x${N}x${K} acc=${accumulate}: max error ${err} > ${tol}`);
          worst = Math.max(worst, err / tol);
          worstAbs = Math.max(worstAbs, err);
        }
      }
      console.log(`      ${variant} ${tile}: max abs error ${worstAbs.toExponential(2)}; worst shape at ${worst.toFixed(3)} of its tolerance (2e-6·K)`);
    });
  }
});
