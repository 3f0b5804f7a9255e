// The WebAssembly engine's memory plan: a bump allocator over the one linear memory of a kernel
// runner. A model lays out everything it needs once (parameters, gradients, Adam moments, packed
// weights, per-thread GEMM scratch) and, per window shape, its activations; nothing is allocated per
// step. Addresses are byte offsets (what the kernels take); typed views over the memory are rebuilt
// whenever the memory grows (growing detaches the old buffer).

import { KERNEL_RESERVED_BYTES } from './module';

/** Every block starts on a 64-byte boundary (a cache line; v128 loads want 16). */
const ALIGN = 64;

export function alignUp(bytes: number, to = ALIGN): number {
  return Math.ceil(bytes / to) * to;
}

/** Bytes per element of the arena's element kinds. */
const BYTES = { f32: 4, i32: 4, f64: 8 } as const;

/** WebAssembly's 32-bit address space: 65536 pages of 64 KiB. */
export const MAX_MEMORY_BYTES = 65536 * 65536;

/**
 * A bump allocator from `base`; `resetTo` gives a region that is laid out again and again (per window
 * shape). It only computes addresses (so a plan can be sized before any memory exists); the owner
 * grows the memory to `end` before using them.
 */
export class Arena {
  private top: number;

  constructor(readonly base = KERNEL_RESERVED_BYTES) {
    this.top = alignUp(base);
  }

  /** Reserves n elements of the kind (aligned); returns the byte offset. */
  alloc(kind: keyof typeof BYTES, n: number): number {
    const at = this.top;
    this.top = alignUp(at + Math.max(0, n) * BYTES[kind]);
    return at;
  }

  /** The first byte not reserved. */
  get end(): number {
    return this.top;
  }

  /** Lays out again from `at` (a former `end`): what was reserved above it may be reused. */
  resetTo(at: number): void {
    this.top = at;
  }
}

/** Typed views over a runner's memory, rebuilt after the memory grows. */
export class MemoryViews {
  private buffer: ArrayBufferLike | null = null;
  private _f32 = new Float32Array(0);
  private _i32 = new Int32Array(0);
  private _f64 = new Float64Array(0);

  constructor(private readonly memory: WebAssembly.Memory) {}

  private refresh(): void {
    const b = this.memory.buffer;
    if (b === this.buffer) return;
    this.buffer = b;
    this._f32 = new Float32Array(b);
    this._i32 = new Int32Array(b);
    this._f64 = new Float64Array(b);
  }

  get f32(): Float32Array {
    this.refresh();
    return this._f32;
  }

  get i32(): Int32Array {
    this.refresh();
    return this._i32;
  }

  get f64(): Float64Array {
    this.refresh();
    return this._f64;
  }

  /** A Float32Array view of n floats at byte offset `at` (valid until the memory grows). */
  floats(at: number, n: number): Float32Array {
    return this.f32.subarray(at >> 2, (at >> 2) + n);
  }
}
