// PROTOTYPE (issue 10): a TypeScript wrapper around the WebAssembly SIMD SGEMM built from
// kernels/wasm/assembly/gemm.ts by AssemblyScript (npm run build:wasm -> build/wasm/gemm.<variant>.wasm and,
// base64, kernels/wasm/generated/binaries.ts, which this imports: no fs, so kernels/ stays Node-free).
// One WebAssembly.Memory holds scratch, packed panels and the operands. The wrapper's gemmNT copies
// typed arrays in and out (the real engine would keep its buffers in the memory and not copy).

import * as binaries from './generated/binaries';

export type WasmVariant = 'simd' | 'relaxed' | 'scalar';

// A tiny module whose only function uses f32x4.relaxed_madd: valid only where relaxed SIMD is on.
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b,
  3, 2, 1, 0, 10, 13, 1, 11, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 0x02, 0x0b]);
// The same with f32x4.mul (plain SIMD) in place of relaxed_madd on the first two arguments.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b,
  3, 2, 1, 0, 10, 11, 1, 9, 0, 0x20, 0, 0x20, 1, 0xfd, 0xe6, 0x01, 0x0b]);

export function hasSimd(): boolean { return WebAssembly.validate(SIMD_PROBE); }
export function hasRelaxedSimd(): boolean { return WebAssembly.validate(RELAXED_PROBE); }

const MC = 96, KC = 256, NR = 8;
const RESERVED = 65536; // AssemblyScript's static data lives below this

function wasmBytes(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  const text = atob(binaries[variant]);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

interface Exports {
  gemmNT(M: number, N: number, K: number, a: number, b: number, c: number, acc: number, bp: number, scratch: number): void;
  gemmNT_packed(M: number, N: number, K: number, a: number, bp: number, c: number, acc: number, scratch: number): void;
  gemmNT_packed6?(M: number, N: number, K: number, a: number, bp: number, c: number, acc: number, scratch: number): void;
  gemvNT_packed?(M: number, N: number, K: number, a: number, bp: number, c: number, acc: number, scratch: number): void;
  packB_NT(N: number, K: number, b: number, dst: number): void;
  packB_NN?(N: number, K: number, b: number, dst: number): void;
  gemmTN_packed?(M: number, N: number, K: number, a: number, bp: number, c: number, acc: number, scratch: number): void;
}

export class WasmGemm {
  /** Which micro-kernel the wrapper's gemmNT uses: 4×8, 6×8, or 'auto' (GEMV below 4 rows, else 4×8). */
  tile: 4 | 6 | 'auto' = 'auto';
  readonly memory: WebAssembly.Memory;
  readonly fn: Exports;
  private f32: Float32Array;

  constructor(readonly variant: WasmVariant) {
    const bytes = wasmBytes(variant);
    this.memory = new WebAssembly.Memory({ initial: 16 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: this.memory } });
    this.fn = inst.exports as unknown as Exports;
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Byte offsets of a layout for one M×N×K product: scratch, packed B, A, B, C (16-byte aligned). */
  layout(M: number, N: number, K: number): { scratch: number; bp: number; a: number; b: number; c: number; end: number } {
    const al = (x: number) => (x + 15) & ~15;
    const scratch = RESERVED;
    const bp = al(scratch + 256 + MC * Math.min(K, KC) * 4);
    const a = al(bp + Math.ceil(N / NR) * NR * K * 4);
    const b = al(a + M * K * 4);
    const c = al(b + N * K * 4);
    const end = al(c + M * N * 4);
    const need = Math.ceil(end / 65536) - this.memory.buffer.byteLength / 65536;
    if (need > 0) { this.memory.grow(need); this.f32 = new Float32Array(this.memory.buffer); }
    return { scratch, bp, a, b, c, end };
  }

  view(): Float32Array { return this.f32; }

  /** gemmNN's (B stored [K,N]) and gemmTN's (A stored [K,M], B [K,N]) signatures, likewise copying. */
  gemmNN(M: number, N: number, K: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number,
    C: Float32Array, cOff: number, accumulate: boolean): void { this.other(false, M, N, K, A, aOff, B, bOff, C, cOff, accumulate); }
  gemmTN(M: number, N: number, K: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number,
    C: Float32Array, cOff: number, accumulate: boolean): void { this.other(true, M, N, K, A, aOff, B, bOff, C, cOff, accumulate); }

  private other(transA: boolean, M: number, N: number, K: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number,
    C: Float32Array, cOff: number, accumulate: boolean): void {
    const f = this.fn;
    if (!f.packB_NN || !f.gemmTN_packed) throw new Error(`gemm.${this.variant}.wasm has no NN/TN kernels`);
    const L = this.layout(M, N, K);
    const m = this.f32;
    m.set(A.subarray(aOff, aOff + M * K), L.a >> 2);
    m.set(B.subarray(bOff, bOff + N * K), L.b >> 2);
    if (accumulate) m.set(C.subarray(cOff, cOff + M * N), L.c >> 2);
    f.packB_NN(N, K, L.b, L.bp);
    if (transA) f.gemmTN_packed(M, N, K, L.a, L.bp, L.c, accumulate ? 1 : 0, L.scratch);
    else f.gemmNT_packed(M, N, K, L.a, L.bp, L.c, accumulate ? 1 : 0, L.scratch);
    C.set(m.subarray(L.c >> 2, (L.c >> 2) + M * N), cOff);
  }

  /** C (+)= A·Bpᵀ on addresses in the memory, B already packed by packB_NT. */
  multiplyPacked(M: number, N: number, K: number, a: number, bp: number, c: number, accumulate: boolean, scratch: number): void {
    const f = this.fn, acc = accumulate ? 1 : 0;
    if (this.tile === 6 && f.gemmNT_packed6) f.gemmNT_packed6(M, N, K, a, bp, c, acc, scratch);
    else if (this.tile === 'auto' && M < 4 && f.gemvNT_packed) f.gemvNT_packed(M, N, K, a, bp, c, acc, scratch);
    else f.gemmNT_packed(M, N, K, a, bp, c, acc, scratch);
  }

  /** gemmNT's signature on Float32Arrays: copies in, multiplies in WebAssembly, copies C out. */
  gemmNT(M: number, N: number, K: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number,
    C: Float32Array, cOff: number, accumulate: boolean): void {
    const L = this.layout(M, N, K);
    const m = this.f32;
    m.set(A.subarray(aOff, aOff + M * K), L.a >> 2);
    m.set(B.subarray(bOff, bOff + N * K), L.b >> 2);
    if (accumulate) m.set(C.subarray(cOff, cOff + M * N), L.c >> 2);
    this.fn.packB_NT(N, K, L.b, L.bp);
    this.multiplyPacked(M, N, K, L.a, L.bp, L.c, accumulate, L.scratch);
    C.set(m.subarray(L.c >> 2, (L.c >> 2) + M * N), cOff);
  }
}
