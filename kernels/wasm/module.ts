// The WebAssembly kernel module: feature detection, the compiled variants and their typed exports.
// The kernels are AssemblyScript (kernels/wasm/assembly/index.ts), compiled at build time by
// kernels/wasm/build.mjs into base64 strings (generated/binaries.ts), so this file needs no fs and runs
// the same in Node, worker threads, the extension host and a webview. Every kernel reads and writes the
// one memory the caller imports (pointers are byte offsets, results go to memory, no return values);
// see the header of assembly/index.ts for the rules and the contract (issue 10) for each kernel.

import * as binaries from './generated/binaries';

/** The first bytes of memory belong to AssemblyScript (static data, stack); the caller's arena starts here. */
export const KERNEL_RESERVED_BYTES = 65536;
/** Scratch one gemm call needs (an edge tile and the packed A block: 256 + MC·KC·4 with assembly/gemm.ts's
 *  MC = 96, KC = 256), private to the calling thread. */
export const GEMM_SCRATCH_BYTES = 256 + 96 * 256 * 4;
/** Floats of a K×N operand packed into 8-column panels (packB_NT / packB_NN). */
export function packedFloats(N: number, K: number): number {
  return Math.ceil(N / 8) * 8 * K;
}

export interface WasmSupport {
  simd: boolean;
  relaxed: boolean;
  threads: boolean;
  /** why not, in words, when !simd */
  reason: string;
}

// Tiny modules, each with one function that uses one instruction: valid only where the runtime has it.
// (func (param v128 v128) (result v128) f32x4.mul)
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 0x60, 2, 0x7b, 0x7b, 1, 0x7b,
  3, 2, 1, 0, 10, 11, 1, 9, 0, 0x20, 0, 0x20, 1, 0xfd, 0xe6, 0x01, 0x0b]);
// (func (param v128 v128 v128) (result v128) f32x4.relaxed_madd)
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b,
  3, 2, 1, 0, 10, 13, 1, 11, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 0x02, 0x0b]);
// (memory 1 1 shared) (func (param i32) (result i32) i32.atomic.load)
const THREADS_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f,
  3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 10, 1, 8, 0, 0x20, 0, 0xfe, 0x10, 2, 0, 0x0b]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Shared memory needs WebAssembly threads and, in a browser, cross-origin isolation (SharedArrayBuffer). */
function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || !validates(THREADS_PROBE)) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

function envForcesNoSimd(): boolean {
  // Read through globalThis: kernels/ may not import Node built-ins, and a webview has no process.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.GATESCOPE_NO_WASM_SIMD;
  return v !== undefined && v !== '' && v !== '0';
}

let detected: WasmSupport | null = null;
let override: Partial<WasmSupport> | null = null;

/**
 * What this runtime supports, detected once by validating tiny probe modules. Relaxed SIMD is
 * re-probed while it reads false (Node 20 turns it on with a V8 flag that can be set at run time).
 * GATESCOPE_NO_WASM_SIMD (set, not 0) or setWasmSupportOverride({ simd: false }) force the fallback.
 */
export function wasmSupport(): WasmSupport {
  if (!detected) {
    const hasWasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
    const simd = hasWasm && validates(SIMD_PROBE);
    detected = {
      simd,
      relaxed: simd && validates(RELAXED_PROBE),
      threads: simd && sharedMemoryWorks(),
      reason: !hasWasm ? 'this runtime has no WebAssembly' : simd ? '' : 'this runtime\'s WebAssembly has no 128-bit SIMD',
    };
  } else if (detected.simd && !detected.relaxed) {
    detected.relaxed = validates(RELAXED_PROBE);
  }
  let s: WasmSupport = { ...detected };
  if (envForcesNoSimd()) s = { ...s, simd: false, relaxed: false, threads: false, reason: 'turned off by GATESCOPE_NO_WASM_SIMD' };
  if (override) {
    s = { ...s, ...override };
    if (!s.simd) {
      s.relaxed = false;
      s.threads = false;
      if (!s.reason) s.reason = 'turned off for a test';
    }
  }
  return s;
}

/** Replaces detected fields (tests: { simd: false, reason: '...' } simulates a runtime without SIMD); null restores detection. */
export function setWasmSupportOverride(o: Partial<WasmSupport> | null): void {
  override = o ? { ...o } : null;
}

export type KernelVariant = 'simd' | 'relaxed';

const modules = new Map<string, WebAssembly.Module>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Compiled once per (variant, shared), synchronously (new WebAssembly.Module). Throws a clear error if !simd. */
export function kernelModule(variant: KernelVariant, shared: boolean): WebAssembly.Module {
  const s = wasmSupport();
  if (!s.simd) throw new Error(`WebAssembly SIMD is not available here (${s.reason}): use the reference CPU engine`);
  if (variant === 'relaxed' && !s.relaxed) {
    throw new Error('WebAssembly relaxed SIMD is not available here: use the \'simd\' kernel variant (defaultVariant() picks what works)');
  }
  if (shared && !s.threads) {
    throw new Error('WebAssembly threads (shared memory) are not available here: run the kernels on one thread with a plain memory');
  }
  const key = `${variant}${shared ? 'Shared' : ''}` as const;
  let m = modules.get(key);
  if (!m) {
    m = new WebAssembly.Module(decode(binaries[key]));
    modules.set(key, m);
  }
  return m;
}

/** The variant to use by default: relaxed when supported, else simd. */
export function defaultVariant(): KernelVariant {
  return wasmSupport().relaxed ? 'relaxed' : 'simd';
}

/**
 * The kernels' exports. Pointers are byte offsets into the imported memory (16-byte alignment is best,
 * 4 required); counts and flags (0/1) are integers; `ld*` are row strides in floats. A kernel that can be
 * split takes its range [lo, hi) last and writes only outputs inside it.
 */
export interface WasmKernels {
  /** Packs B given as [N, K] (row stride ldb; a PyTorch weight [out, in]) into 8-column panels at out
   *  (packedFloats(N, K) floats); columns [n0, n1), n0 and n1 multiples of 8 or n1 = N. */
  packB_NT(b: number, ldb: number, N: number, K: number, out: number, n0: number, n1: number): void;
  /** Packs B given as [K, N] (row stride ldb) into the same panels; columns [n0, n1). */
  packB_NN(b: number, ldb: number, K: number, N: number, out: number, n0: number, n1: number): void;
  /** C[m0:m1, n0:n1] (+)= op(A)[m0:m1, :] · B (packed). aTrans 0: A [M, K]; 1: A stored [K, M] (row stride lda).
   *  n0 a multiple of 8. scratch: GEMM_SCRATCH_BYTES private to the calling thread. */
  gemm(M: number, N: number, K: number, a: number, lda: number, aTrans: number, packedB: number, c: number, ldc: number,
    accumulate: number, scratch: number, m0: number, m1: number, n0: number, n1: number): void;
  /** Rows [m0, m1) of C[·, N] (row stride ldc) += bias[N]. */
  addBiasRows(N: number, c: number, ldc: number, bias: number, m0: number, m1: number): void;
  /** out[n] (+)= Σ_m a[m, n] over M rows (row stride lda), for n in [n0, n1). */
  sumRows(N: number, a: number, lda: number, M: number, out: number, accumulate: number, n0: number, n1: number): void;

  /** LSTM cell forward for hidden units [j0, j1) of all B rows (kernels/cpu/cells.ts lstmCellForward). */
  lstmFwd(B: number, H: number, xp: number, hp: number, cPrev: number, gates: number, c: number, h: number, j0: number, j1: number): void;
  /** LSTM cell backward; dc is ∂L/∂c' in, ∂L/∂c out (lstmCellBackward). */
  lstmBwd(B: number, H: number, dh: number, dc: number, gates: number, c: number, cPrev: number, dPre: number, j0: number, j1: number): void;
  /** GRU cell forward (gruCellForward). */
  gruFwd(B: number, H: number, xp: number, hp: number, hPrev: number, gates: number, h: number, j0: number, j1: number): void;
  /** GRU cell backward (gruCellBackward). */
  gruBwd(B: number, H: number, dh: number, gates: number, hp: number, hPrev: number, dXp: number, dHp: number, dhDirect: number,
    j0: number, j1: number): void;
  /** RNN cell forward over floats [i0, i1) of [B, H]: h = tanh(xp + hp). */
  rnnFwd(xp: number, hp: number, h: number, i0: number, i1: number): void;
  /** RNN cell backward over floats [i0, i1): dPre = dh ⊙ (1 - h²). */
  rnnBwd(dh: number, h: number, dPre: number, i0: number, i1: number): void;

  /** out = a + b over floats [i0, i1). */
  add(a: number, b: number, out: number, i0: number, i1: number): void;
  /** out = a ⊙ b. */
  mul(a: number, b: number, out: number, i0: number, i1: number): void;
  /** out += a. */
  addInPlace(out: number, a: number, i0: number, i1: number): void;
  /** out = value. */
  fill(out: number, value: number, i0: number, i1: number): void;
  /** dst = src. */
  copy(src: number, dst: number, i0: number, i1: number): void;
  /** g *= coef. */
  scale(g: number, coef: number, i0: number, i1: number): void;

  /** out[r, :] = emb[ids[r], :] for rows [r0, r1) (E floats per row; ids an i32 array, validated by the caller). */
  embedGather(E: number, ids: number, emb: number, out: number, r0: number, r1: number): void;
  /** gemb[ids[r], k] += dInp[r, k] for all R rows, k in [k0, k1); the caller zeroes gemb first (fill). */
  embedGrad(R: number, E: number, ids: number, dInp: number, gemb: number, k0: number, k1: number): void;
  /** Rows [r0, r1): rowLoss[r] (f64) = logsumexp − logit[target]; withGrad 1: the row ← (softmax − onehot) · gradScale. */
  softmaxXent(V: number, logits: number, targets: number, gradScale: number, withGrad: number, rowLoss: number, r0: number, r1: number): void;
  /** mask[i] = hash32(key ^ i) >= threshold (unsigned) ? scale : 0, key = hash32(hash32(seed) ^ stream),
   *  threshold = ceil(p · 2^32) as i32 bits: the reference's dropoutUniform masks bit for bit. */
  dropoutMask(key: number, threshold: number, scale: number, mask: number, i0: number, i1: number): void;
  /** f64 at out = Σ g[i]² over [i0, i1) (the caller adds the partials of a split). */
  sumSquares(g: number, out: number, i0: number, i1: number): void;
  /** One Adam(W) step over [i0, i1) as kernels/cpu/optim.ts adamUpdate: stepSize = lr / (1 − b1^t),
   *  bc2Sqrt = √(1 − b2^t), decay = 1 − lr·wd (skipped when 1). */
  adam(p: number, g: number, m: number, v: number, stepSize: number, bc2Sqrt: number, b1: number, b2: number, eps: number,
    decay: number, i0: number, i1: number): void;
}

/** Instantiates a kernel module on `memory` (shared for a *Shared module, plain otherwise). Synchronous. */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): WasmKernels {
  try {
    return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as WasmKernels;
  } catch (e) {
    if (!(e instanceof WebAssembly.LinkError)) throw e;
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    throw new Error(`the kernel module does not accept this ${shared ? 'shared' : 'plain'} memory (${e.message}): ` +
      'kernelModule(variant, true) goes with a memory created with shared: true and a maximum, kernelModule(variant, false) with a plain one');
  }
}
