// The kernel runner: one interface through which the WebAssembly model calls every kernel, whether it
// runs on one thread (serialRunner, here) or on N threads over one shared memory (kernels/node/wasmPool.ts
// for Node's worker_threads). Every kernel that can be split takes its range [lo, hi) as its last two
// arguments and writes only inside it, so a run on N threads is the same code on N disjoint pieces.
//
// The thread protocol lives here too, apart from the way threads are started, so that any host (Node's
// worker_threads, a browser's Web Workers) uses the same code: the caller writes a command (kernel index,
// arguments, each piece's range) into a small SharedArrayBuffer, marks each helper's piece claimable, bumps
// the helper's job number and notifies it if it sleeps; each helper spins briefly on its job number (about
// 1.5 µs from post to done for a tiny kernel), then sleeps in Atomics.wait. The caller runs piece 0, then
// claims and runs any piece its helper has not claimed yet (a sleeping or descheduled helper costs no wake-up
// latency), then spins (and, after a while, sleeps) until the helpers' done counter is full. While helpers
// mostly fail to help (more busy threads than cores), runs are not split for a while. A helper whose kernel
// throws reports the message through the block; one that dies is found by the host's liveness check when its
// piece is taken or on every wait slice, so the caller throws instead of hanging.
// Environment-neutral: no Node built-ins, no DOM (Atomics, SharedArrayBuffer and performance only).

import { GEMM_SCRATCH_BYTES, KernelVariant, WasmKernels, instantiateKernels, kernelModule } from './module';

export type KernelName = keyof WasmKernels & string;

export interface KernelRunner {
  readonly threads: number;
  /** Shared when threads > 1. Views on it must be re-made after ensureBytes (its buffer may change). */
  readonly memory: WebAssembly.Memory;
  /** This thread's instance: call it directly for work not worth splitting. */
  readonly k: WasmKernels;
  /**
   * Runs kernel `name` with `args` split over the threads: args[lo] and args[lo + 1] are the range [lo, hi) to
   * divide, into `threads` pieces aligned to `align` from the range's start (8 for GEMM columns, 4 for floats, 1 for
   * rows). If `scratchArg` is given, piece t gets args[scratchArg] + t * GEMM_SCRATCH_BYTES (piece t runs on thread t,
   * or on the calling thread when thread t is late: the scratch goes with the piece, so it may also hold per-piece
   * outputs such as sumSquares' partial sums). Returns when every piece is done (synchronous; the calling thread
   * runs piece 0). `args` is not modified.
   */
  run(name: KernelName, args: number[], lo: number, align: number, scratchArg?: number): void;
  /** Grows memory to at least `bytes` (before any run; shared memory is allocated with its maximum up front). */
  ensureBytes(bytes: number): void;
  dispose(): void;
}

export const WASM_PAGE_BYTES = 65536;

/** Pages that hold `bytes` (at least one). */
export function pagesFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
}

/**
 * Piece `t` of `parts` of the range [start, end): boundaries at start + a multiple of `align`, the last piece
 * ending at `end`; pieces differ by at most one `align` unit, and some are empty when there are fewer units
 * than parts. The pieces of t = 0 … parts − 1 are disjoint and cover the range.
 */
export function splitRange(start: number, end: number, align: number, parts: number, t: number): [number, number] {
  if (end <= start) return [start, start];
  const units = Math.ceil((end - start) / align);
  const at = (i: number) => (i >= parts ? end : Math.min(end, start + align * Math.floor((units * i) / parts)));
  return [at(t), at(t + 1)];
}

function checkRunArgs(name: string, args: number[], lo: number, align: number, scratchArg: number | undefined): void {
  if (!(lo >= 0 && lo + 1 < args.length)) throw new Error(`run(${name}): the range's argument index ${lo} is not in its ${args.length} arguments`);
  if (!(Number.isInteger(align) && align >= 1)) throw new Error(`run(${name}): align must be a positive integer, got ${align}`);
  if (scratchArg !== undefined && !(scratchArg >= 0 && scratchArg < args.length)) {
    throw new Error(`run(${name}): the scratch argument index ${scratchArg} is not in its ${args.length} arguments`);
  }
}

function kernelFunction(k: WasmKernels, name: string): (...a: number[]) => void {
  const f = (k as unknown as Record<string, unknown>)[name];
  if (typeof f !== 'function') throw new Error(`the WebAssembly module has no kernel named '${name}'`);
  return f as (...a: number[]) => void;
}

class SerialRunner implements KernelRunner {
  readonly threads = 1;
  readonly k: WasmKernels;
  private readonly fns = new Map<string, (...a: number[]) => void>();

  constructor(readonly memory: WebAssembly.Memory, module: WebAssembly.Module) {
    this.k = instantiateKernels(module, memory);
  }

  run(name: KernelName, args: number[], lo: number, align: number, scratchArg?: number): void {
    checkRunArgs(name, args, lo, align, scratchArg);
    let f = this.fns.get(name);
    if (!f) this.fns.set(name, (f = kernelFunction(this.k, name)));
    f(...args);
  }

  ensureBytes(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(pagesFor(bytes) - have / WASM_PAGE_BYTES);
  }

  dispose(): void {}
}

/** One thread on a plain (unshared) memory of at least `initialBytes`, grown by ensureBytes. */
export function serialRunner(variant: KernelVariant, initialBytes: number): KernelRunner {
  return new SerialRunner(new WebAssembly.Memory({ initial: pagesFor(initialBytes) }), kernelModule(variant, false));
}

// ---- The thread protocol -------------------------------------------------------------------------------

/** The most threads a pool runs (the command block is sized for them). */
export const MAX_THREADS = 64;
const MAX_ARGS = 24;
const ERROR_CHARS = 480;

// Int32 slots of the command block's header.
const H_DONE = 0; //           pieces the helpers finished in the current job
const H_CALLER_WAITING = 1; // 1 while the caller sleeps on H_DONE (helpers notify only then)
const H_KERNEL = 2; //         index into the kernel name list
const H_NARGS = 3;
const H_LO = 4; //             argument index of the range's start
const H_SCRATCH = 5; //        argument index of the scratch pointer, or -1
const H_STOP = 6; //           1: helpers leave their loop
// Each helper t has a 64-byte slot of Int32s at SLOT0 + t * SLOT_INTS (thread 0, the caller, uses none).
const SLOT0 = 16;
const SLOT_INTS = 16;
const S_JOB = 0; //      the latest job posted to this helper (it waits on this)
const S_SLEEPING = 1; // 1 while the helper sleeps on S_JOB
const S_CLAIM = 2; //    the job number while piece t of it is unclaimed; 0 once the helper or the caller took it
const S_STATE = 3; //    STATE_*
const S_ERRLEN = 4; //   characters of the error message
const STATE_OK = 0;
const STATE_FAILED = 1; // the kernel threw; the message is in the helper's error text
const STATE_EXITED = 2; // the helper left (its host saw it exit)
// Float64 areas (byte offsets): the arguments, then each piece's [lo, hi), then the helpers' error texts.
const ARGS_BYTE = (SLOT0 + MAX_THREADS * SLOT_INTS) * 4;
const RANGES_BYTE = ARGS_BYTE + MAX_ARGS * 8;
const ERRORS_BYTE = RANGES_BYTE + MAX_THREADS * 16;
/** Bytes of the command block shared by the caller and its helpers. */
export const COMMAND_BLOCK_BYTES = ERRORS_BYTE + MAX_THREADS * ERROR_CHARS * 2;

/**
 * How long a helper spins on its job number before sleeping (halved, down to HELPER_MIN_SPIN_MS, each time the
 * caller had taken its piece: a helper that is too late anyway should not burn CPU its caller could use), and the
 * caller on the done counter.
 */
const HELPER_SPIN_MS = 2;
const HELPER_MIN_SPIN_MS = 0.05;
const CALLER_SPIN_MS = 2;
/** The caller's sleeps on the done counter last at most this, so a helper that died mid-piece is noticed. */
const WAIT_SLICE_MS = 50;
/**
 * When in three quarters of the last SPLIT_WINDOW judged split runs the helpers did not help (see run: they were
 * descheduled, more busy threads than cores), runs are not split for UNSPLIT_MS, doubled after each such window
 * up to UNSPLIT_MAX_MS: on an oversubscribed machine, threads that wait for each other, spin and wake are slower
 * than one thread, and each window that tries again costs a little.
 */
const SPLIT_WINDOW = 16;
const UNSPLIT_MS = 200;
const UNSPLIT_MAX_MS = 3200;
/** Only runs whose own piece takes this long count (a smaller one is dominated by the dispatch itself). */
const JUDGED_MS = 0.02;

/** What a thread pool needs from the host that started its helpers. */
export interface HelperHost {
  /** Why helper `t` (1 … threads − 1) can no longer run jobs, or null while it is alive. Called while waiting. */
  deadReason(t: number): string | null;
  /** Stops every helper (after the command block asked them to leave). */
  terminate(): void;
}

/** Everything a helper thread is given when it starts (structured-cloneable: a host posts it as is). */
export interface HelperData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  block: SharedArrayBuffer;
  /** This helper's thread index, 1 … threads − 1. */
  thread: number;
  threads: number;
  /** Kernel names in command-index order. */
  kernels: string[];
}

/** Kernel names every thread agrees on (a command names a kernel by its index here): the module's function exports, sorted. */
export function kernelNames(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();
}

const now = () => performance.now();

function writeError(block: SharedArrayBuffer, t: number, text: string): void {
  const chars = new Uint16Array(block, ERRORS_BYTE + t * ERROR_CHARS * 2, ERROR_CHARS);
  const n = Math.min(text.length, ERROR_CHARS);
  for (let i = 0; i < n; i++) chars[i] = text.charCodeAt(i);
  new Int32Array(block)[SLOT0 + t * SLOT_INTS + S_ERRLEN] = n;
}

function readError(block: SharedArrayBuffer, t: number): string {
  const n = new Int32Array(block)[SLOT0 + t * SLOT_INTS + S_ERRLEN];
  return String.fromCharCode(...new Uint16Array(block, ERRORS_BYTE + t * ERROR_CHARS * 2, n));
}

/** Fills `out` with the posted command's arguments for piece `piece` (its range and its scratch). */
function pieceArgs(ctl: Int32Array, f64: Float64Array, piece: number, out: number[]): void {
  const nargs = ctl[H_NARGS];
  const lo = ctl[H_LO];
  const scratch = ctl[H_SCRATCH];
  out.length = nargs;
  for (let i = 0; i < nargs; i++) out[i] = f64[ARGS_BYTE / 8 + i];
  out[lo] = f64[RANGES_BYTE / 8 + 2 * piece];
  out[lo + 1] = f64[RANGES_BYTE / 8 + 2 * piece + 1];
  if (scratch >= 0) out[scratch] += piece * GEMM_SCRATCH_BYTES;
}

/**
 * The helper's side: instantiates the kernels on the shared memory, calls `ready`, and runs jobs until the
 * caller asks it to stop. Synchronous (it blocks its thread); a host calls it from its worker script.
 * Helper t runs piece t of a job if it claims it before the caller does (the caller takes the pieces of
 * helpers that are late, asleep or descheduled, rather than wait for them).
 */
export function serveKernels(data: HelperData, ready: () => void): void {
  const { block, thread: t } = data;
  const ctl = new Int32Array(block);
  const f64 = new Float64Array(block);
  const slot = SLOT0 + t * SLOT_INTS;
  const k = instantiateKernels(data.module, data.memory);
  const fns = data.kernels.map((n) => kernelFunction(k, n));
  const args: number[] = [];
  // Read before `ready`: the caller may post the first job as soon as it hears of it.
  let seen = Atomics.load(ctl, slot + S_JOB);
  let spinMs = HELPER_SPIN_MS;
  ready();
  for (;;) {
    // Spin briefly on the job number (the next dispatch of a training step comes within microseconds), then sleep.
    let job = Atomics.load(ctl, slot + S_JOB);
    if (job === seen) {
      const until = now() + spinMs;
      do {
        for (let i = 0; i < 256 && job === seen; i++) job = Atomics.load(ctl, slot + S_JOB);
      } while (job === seen && now() < until);
      while (job === seen) {
        Atomics.store(ctl, slot + S_SLEEPING, 1);
        Atomics.wait(ctl, slot + S_JOB, seen);
        Atomics.store(ctl, slot + S_SLEEPING, 0);
        job = Atomics.load(ctl, slot + S_JOB);
      }
    }
    seen = job;
    if (Atomics.load(ctl, H_STOP)) return;
    // The command block holds this job's command only while its piece is unclaimed (the caller waits for claimed pieces).
    if (Atomics.compareExchange(ctl, slot + S_CLAIM, job, 0) !== job) {
      spinMs = Math.max(HELPER_MIN_SPIN_MS, spinMs / 2);
      continue;
    }
    spinMs = HELPER_SPIN_MS;
    try {
      pieceArgs(ctl, f64, t, args);
      fns[ctl[H_KERNEL]](...args);
    } catch (e) {
      writeError(block, t, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      Atomics.store(ctl, slot + S_STATE, STATE_FAILED);
    }
    Atomics.add(ctl, H_DONE, 1);
    if (Atomics.load(ctl, H_CALLER_WAITING)) Atomics.notify(ctl, H_DONE);
  }
}

/** Marks helper `t` as gone in the command block (a host calls this when its thread ends). */
export function markHelperExited(block: SharedArrayBuffer, t: number): void {
  Atomics.store(new Int32Array(block), SLOT0 + t * SLOT_INTS + S_STATE, STATE_EXITED);
}

/** A new command block for a pool. */
export function newCommandBlock(): SharedArrayBuffer {
  return new SharedArrayBuffer(COMMAND_BLOCK_BYTES);
}

/**
 * The caller's side of a pool of `threads` threads: this thread (thread 0) and threads − 1 helpers that a host
 * has started with serveKernels on the same memory, module and command block.
 */
export class ThreadPoolRunner implements KernelRunner {
  readonly k: WasmKernels;
  private readonly ctl: Int32Array;
  private readonly f64: Float64Array;
  private readonly index = new Map<string, number>();
  private readonly fns: ((...a: number[]) => void)[];
  private readonly own: number[] = [];
  private job = 0;
  /**
   * Pieces posted to helpers, how many of them this thread ran because their helper was late, and runs not split
   * because helpers were mostly late (diagnostics, tests).
   */
  readonly stats = { posted: 0, stolen: 0, unsplit: 0 };
  /**
   * Whether this thread runs the pieces of late helpers and stops splitting while helpers are mostly late (tests
   * turn it off so that every helper runs its own piece).
   */
  adaptive = true;
  private window = 0;
  private late = 0;
  /** asleep[t]: helper t was asleep when the current job was posted (taking its piece then only saved its wake-up). */
  private readonly asleep: Uint8Array;
  private unsplitUntil = 0;
  private unsplitMs = UNSPLIT_MS;
  private broken: string | null = null;
  private disposed = false;

  constructor(
    readonly threads: number,
    readonly memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    private readonly block: SharedArrayBuffer,
    readonly kernels: string[],
    readonly host: HelperHost,
  ) {
    if (!(threads >= 2 && threads <= MAX_THREADS)) throw new Error(`a thread pool has 2 to ${MAX_THREADS} threads, got ${threads}`);
    this.k = instantiateKernels(module, memory);
    kernels.forEach((n, i) => this.index.set(n, i));
    this.fns = kernels.map((n) => kernelFunction(this.k, n));
    this.ctl = new Int32Array(block);
    this.f64 = new Float64Array(block);
    this.asleep = new Uint8Array(threads);
  }

  run(name: KernelName, args: number[], lo: number, align: number, scratchArg?: number): void {
    if (this.disposed) throw new Error(`run(${name}): the thread pool was disposed`);
    if (this.broken) throw new Error(`run(${name}): the thread pool is unusable since ${this.broken}; dispose it and create a new runner`);
    checkRunArgs(name, args, lo, align, scratchArg);
    const kernel = this.index.get(name);
    if (kernel === undefined) throw new Error(`the WebAssembly module has no kernel named '${name}'`);
    if (args.length > MAX_ARGS) throw new Error(`run(${name}): ${args.length} arguments, the command block holds ${MAX_ARGS}`);
    const n = this.threads;
    const ctl = this.ctl;
    const f64 = this.f64;
    const fn = this.fns[kernel];

    // Piece t of the range goes to helper t; thread 0 (here) runs piece 0.
    const start = args[lo];
    const end = args[lo + 1];
    let pieces = 0;
    for (let t = 0; t < n; t++) {
      const [a, b] = splitRange(start, end, align, n, t);
      f64[RANGES_BYTE / 8 + 2 * t] = a;
      f64[RANGES_BYTE / 8 + 2 * t + 1] = b;
      if (t > 0 && b > a) pieces++;
    }
    if (pieces === 0) {
      fn(...args); // piece 0 is the whole range
      return;
    }
    if (this.adaptive && this.unsplitUntil > 0) {
      if (now() < this.unsplitUntil) {
        this.stats.unsplit++;
        fn(...args); // the pieces' results are the whole call's, bit for bit
        return;
      }
      this.unsplitUntil = 0;
    }
    const own = this.own;

    for (let i = 0; i < args.length; i++) f64[ARGS_BYTE / 8 + i] = args[i];
    ctl[H_KERNEL] = kernel;
    ctl[H_NARGS] = args.length;
    ctl[H_LO] = lo;
    ctl[H_SCRATCH] = scratchArg ?? -1;
    Atomics.store(ctl, H_DONE, 0);
    const job = ++this.job;
    for (let t = 1; t < n; t++) {
      if (!(f64[RANGES_BYTE / 8 + 2 * t + 1] > f64[RANGES_BYTE / 8 + 2 * t])) continue;
      const slot = SLOT0 + t * SLOT_INTS;
      Atomics.store(ctl, slot + S_CLAIM, job);
      Atomics.store(ctl, slot + S_JOB, job);
      this.stats.posted++;
      this.asleep[t] = Atomics.load(ctl, slot + S_SLEEPING);
      if (this.asleep[t]) Atomics.notify(ctl, slot + S_JOB);
    }

    let error: unknown = null;
    let dead: string | null = null;
    const t0 = now();
    try {
      pieceArgs(ctl, f64, 0, own);
      if (own[lo + 1] > own[lo]) fn(...own);
    } catch (e) {
      error = e;
    }
    const ownMs = now() - t0;
    // About how long all pieces would take here: piece 0's time scaled from its share of the range to the whole.
    const serialMs = (ownMs * (end - start)) / (own[lo + 1] - own[lo]);
    // Pieces no helper has claimed yet are run here (with their own scratch, which their helper will not touch):
    // a sleeping or descheduled helper costs no wake-up latency. A helper found dead this way has its piece done, and the run still throws.
    let stolen = 0;
    let fromSleeper = false;
    let fromWaker = false;
    for (let t = 1; t < n && this.adaptive; t++) {
      const slot = SLOT0 + t * SLOT_INTS;
      if (Atomics.compareExchange(ctl, slot + S_CLAIM, job, 0) !== job) continue;
      stolen++;
      if (this.asleep[t]) fromSleeper = true;
      else fromWaker = true;
      this.stats.stolen++;
      dead ??= this.deadReason(t);
      try {
        pieceArgs(ctl, f64, t, own);
        fn(...own);
      } catch (e) {
        error ??= e;
      }
    }
    dead ??= this.waitForHelpers(pieces - stolen);
    // Helpers did not help when one that was awake (spinning) did not take its piece in all that time, or when one
    // took its piece and the run still took as long as one thread: both mean descheduled helpers, whose spinning
    // and waking also take CPU from this thread. A piece taken from a helper that was asleep (between training
    // steps, after an unsplit spell) only saved its wake-up, and says nothing.
    if (this.adaptive && ownMs >= JUDGED_MS && !fromSleeper) this.judge(fromWaker || now() - t0 >= serialMs);
    const failures: string[] = [];
    for (let t = 1; t < n; t++) {
      const slot = SLOT0 + t * SLOT_INTS;
      if (ctl[slot + S_STATE] === STATE_FAILED) {
        failures.push(`thread ${t}: ${readError(this.block, t)}`);
        Atomics.store(ctl, slot + S_STATE, STATE_OK);
      }
    }
    if (dead) {
      this.broken = dead;
      throw new Error(`WebAssembly kernel ${name}: ${dead}; dispose this runner and create a new one`);
    }
    if (error) throw error;
    if (failures.length) throw new Error(`WebAssembly kernel ${name} failed on a worker thread (${failures.join('; ')})`);
  }

  /** Counts a split run, late when its helpers did not help. */
  private judge(late: boolean): void {
    if (late) this.late++;
    if (++this.window < SPLIT_WINDOW) return;
    if (this.late * 4 >= SPLIT_WINDOW * 3) {
      this.unsplitUntil = now() + this.unsplitMs;
      this.unsplitMs = Math.min(2 * this.unsplitMs, UNSPLIT_MAX_MS);
    } else {
      this.unsplitMs = UNSPLIT_MS;
    }
    this.window = 0;
    this.late = 0;
  }

  /** Spins, then sleeps in slices, until the helpers finished `claimed` pieces; returns why not if one died. */
  private waitForHelpers(claimed: number): string | null {
    const ctl = this.ctl;
    let done = Atomics.load(ctl, H_DONE);
    if (done >= claimed) return null;
    const until = now() + CALLER_SPIN_MS;
    do {
      for (let i = 0; i < 256 && done < claimed; i++) done = Atomics.load(ctl, H_DONE);
    } while (done < claimed && now() < until);
    while (done < claimed) {
      Atomics.store(ctl, H_CALLER_WAITING, 1);
      Atomics.wait(ctl, H_DONE, done, WAIT_SLICE_MS);
      Atomics.store(ctl, H_CALLER_WAITING, 0);
      done = Atomics.load(ctl, H_DONE);
      if (done >= claimed) break;
      for (let t = 1; t < this.threads; t++) {
        const dead = this.deadReason(t);
        if (dead) return dead;
      }
    }
    return null;
  }

  /** Why helper t cannot run jobs any more, in words, or null. */
  private deadReason(t: number): string | null {
    const why = this.ctl[SLOT0 + t * SLOT_INTS + S_STATE] === STATE_EXITED ? 'it exited' : this.host.deadReason(t);
    return why ? `worker thread ${t} of ${this.threads} stopped (${why})` : null;
  }

  ensureBytes(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      throw new Error(`the thread pool's shared memory holds ${have} bytes and cannot grow; ${bytes} are needed: create the runner with maxBytes >= ${bytes}`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const ctl = this.ctl;
    Atomics.store(ctl, H_STOP, 1);
    const job = ++this.job;
    for (let t = 1; t < this.threads; t++) {
      Atomics.store(ctl, SLOT0 + t * SLOT_INTS + S_JOB, job);
      Atomics.notify(ctl, SLOT0 + t * SLOT_INTS + S_JOB);
    }
    this.host.terminate();
  }
}
