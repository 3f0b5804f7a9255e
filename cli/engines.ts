// The CPU engines on Node, shared by `gatescope train` and the extension's CPU training worker
// (extension/trainWorker.ts, itself a worker_threads thread): the WebAssembly SIMD engine on N threads
// (kernels/wasm/backend.ts over kernels/node/wasmPool.ts's worker_threads runner) and the TypeScript
// reference (kernels/cpu), each as the backend factory and RunnerInfo that kernels/session.ts's job
// takes. kernels/ cannot import Node built-ins, so the thread runner is made here and handed in.
// GATESCOPE_NO_WASM_SIMD=1 forces the SIMD check to fail, to try the fallback on a machine that has it;
// GATESCOPE_PROBE_ANY_ADAPTER=1 makes "auto" take a software WebGPU adapter for a hardware one, to try
// its timed probe on a machine without a GPU (the tests).


import * as os from 'os';
import { WasmFacts } from '../kernels/backendChoice';
import { BOUNDS, ModelConfig, gateCount, parameterCount, resolveThreads } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { nodeThreadRunner } from '../kernels/node/wasmPool';
import { BackendFactory, RunnerInfo } from '../kernels/session';
import { createWasmBackend } from '../kernels/wasm/backend';
import { GEMM_SCRATCH_BYTES, KERNEL_RESERVED_BYTES, defaultVariant, setWasmSupportOverride, wasmSupport } from '../kernels/wasm/module';
import type { KernelRunner } from '../kernels/wasm/pool';

export const NO_SIMD_ENV = 'GATESCOPE_NO_WASM_SIMD';
export const PROBE_ANY_ADAPTER_ENV = 'GATESCOPE_PROBE_ANY_ADAPTER';

/** softwareAdapterReason's verdict as "auto" uses it: '' (hardware) for every adapter under GATESCOPE_PROBE_ANY_ADAPTER=1. */
export function softwareForAuto(reason: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[PROBE_ANY_ADAPTER_ENV] === '1' ? '' : reason;
}

/**
 * GATESCOPE_NO_WASM_SIMD=1 makes this thread's SIMD check fail (training and inference then use the
 * reference engine). Each thread has its own: call it at the start of every entry point, before anything
 * compiles a kernel.
 */
export function applyNoSimdEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env[NO_SIMD_ENV] === '1') setWasmSupportOverride({ simd: false, reason: `${NO_SIMD_ENV}=1 turned it off` });
}

/** Whether WebAssembly SIMD runs here (GATESCOPE_NO_WASM_SIMD=1 says no). */
export function wasmFacts(env: NodeJS.ProcessEnv = process.env): WasmFacts {
  applyNoSimdEnv(env);
  const s = wasmSupport();
  return { simd: s.simd, reason: s.reason };
}

/** The machine's cores as Node counts them (what the process may use where Node knows it). */
export function coreCount(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** The thread count for a setting (0 = automatic: cores − 1, at least 1). */
export function threadsFor(setting: number): number {
  return resolveThreads(setting, coreCount());
}

/** The CPU's model name, for the reports ("AMD EPYC 7B13"). */
export function cpuName(): string {
  return os.cpus()[0]?.model?.trim().replace(/\s+/g, ' ') || os.arch();
}

const PAGE = 65536;
/** WebAssembly 32-bit memories end at 4 GiB (65536 pages). */
const MAX_WASM_BYTES = 65536 * PAGE;

/**
 * Generous bytes for a model's arena at a window shape: a shared memory is created with its maximum,
 * so this is reserved (address space, not committed memory) up front. Parameters, gradients, Adam's
 * moments and the packed weights (×6 of the parameters), the activations of a training and an
 * evaluation window, per-thread GEMM scratch, all doubled.
 */
export function wasmMemoryBytes(config: ModelConfig, batch: { seqLen: number; batchSize: number }, threads: number): number {
  const rows = batch.seqLen * batch.batchSize;
  const gh = gateCount(config.cell) * config.hiddenSize;
  const perRow = config.numLayers * (3 * gh + 8 * config.hiddenSize) + 2 * config.embedSize + 3 * config.vocabSize;
  const floats = 6 * parameterCount(config) + 2 * rows * perRow;
  const bytes = 2 * (KERNEL_RESERVED_BYTES + 4 * floats + threads * GEMM_SCRATCH_BYTES) + 16 * 1024 * 1024;
  return Math.min(MAX_WASM_BYTES, Math.ceil(bytes / PAGE) * PAGE);
}

/** A backend factory with what it runs on; dispose() ends its threads once the job is over. */
export interface CpuEngine {
  info: RunnerInfo;
  createBackend: BackendFactory;
  dispose(): void;
}

/** The WebAssembly SIMD engine on `threads` threads (the calling thread is one of them). */
export function wasmEngine(threads: number, batch: { seqLen: number; batchSize: number }): CpuEngine {
  if (!Number.isInteger(threads) || threads < 1 || threads > BOUNDS.threads[1]) throw new RangeError(`threads must be a whole number from 1 to ${BOUNDS.threads[1]}, got ${threads}`);
  const runners: KernelRunner[] = [];
  return {
    info: { backend: 'wasm', adapter: `WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'} (${cpuName()})` },
    createBackend: async (config, params, optim, opts) => {
      const runner = await nodeThreadRunner(threads, defaultVariant(), wasmMemoryBytes(config, batch, threads));
      runners.push(runner);
      return createWasmBackend(config, params, optim, { ...opts, runner });
    },
    dispose: () => {
      for (const r of runners.splice(0)) r.dispose();
    },
  };
}

/** The TypeScript reference engine (one thread). */
export function referenceEngine(): CpuEngine {
  return {
    info: { backend: 'cpu', adapter: `reference engine, 1 thread (${cpuName()})` },
    createBackend: async (config, params, optim, opts) => new CpuBackend(config, params, optim, opts),
    dispose: () => undefined,
  };
}
