// The WebAssembly kernels on N threads in Node: the calling thread and N − 1 worker_threads (wasmWorker.js)
// run the same module over one shared WebAssembly.Memory, allocated at its maximum up front, through the
// command-block protocol of kernels/wasm/pool.ts (Atomics only: no message per kernel call). A worker that
// throws is reported by the call that ran it; one that dies is noticed while the caller waits (Node runs no
// 'exit' event while the caller blocks, so the check reads the worker's event-loop state, which is -1 once its
// thread has stopped), and the call throws instead of hanging. Workers are unref'd: a runner that is never
// disposed does not keep the process alive.

import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { KernelVariant, kernelModule } from '../wasm/module';
import {
  HelperData, HelperHost, KernelRunner, MAX_THREADS, ThreadPoolRunner, kernelNames, markHelperExited, newCommandBlock, pagesFor,
  serialRunner,
} from '../wasm/pool';

const WORKER_FILE = 'wasmWorker.js';

/** The worker script beside the running code: dist/wasmWorker.js from a bundle, out/kernels/node/wasmWorker.js from tsc. */
export function wasmWorkerScript(): string {
  const file = path.join(__dirname, WORKER_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(`the WebAssembly worker script is missing: ${file} (webpack builds it into dist/ beside the other bundles, tsc into out/kernels/node/)`);
  }
  return file;
}

export interface NodeThreadRunnerOptions {
  /** The worker script (default: wasmWorkerScript()). */
  workerScript?: string;
}

/** The pool's worker threads, for the liveness check and disposal. */
export class NodeWorkerHost implements HelperHost {
  private readonly exits = new Map<number, string>();

  /** workers[t - 1] is helper thread t. */
  constructor(readonly workers: Worker[], block: SharedArrayBuffer) {
    workers.forEach((w, i) => {
      w.on('exit', (code) => {
        this.exits.set(i + 1, `exit code ${code}`);
        markHelperExited(block, i + 1);
      });
      w.on('error', (e) => this.exits.set(i + 1, `${e.name}: ${e.message}`));
    });
  }

  deadReason(t: number): string | null {
    const known = this.exits.get(t);
    if (known) return known;
    // A stopped worker's event-loop idle time reads -1 (synchronously, unlike its 'exit' event).
    return this.workers[t - 1].performance.eventLoopUtilization().idle < 0 ? 'its thread has stopped' : null;
  }

  terminate(): void {
    for (const w of this.workers) void w.terminate().catch(() => undefined);
  }
}

/**
 * A runner on `threads` threads (1: serialRunner on a plain memory) over a shared memory of `maxBytes`, which
 * cannot grow later: size it for the whole model. Resolves once every worker has instantiated the kernels.
 */
export async function nodeThreadRunner(threads: number, variant: KernelVariant, maxBytes: number, opts: NodeThreadRunnerOptions = {}): Promise<KernelRunner> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new Error(`the WebAssembly engine runs on 1 to ${MAX_THREADS} threads, got ${threads}`);
  }
  if (threads === 1) return serialRunner(variant, maxBytes);
  const script = opts.workerScript ?? wasmWorkerScript();
  const module = kernelModule(variant, true);
  const pages = pagesFor(maxBytes);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch (e) {
    throw new Error(`could not allocate ${pages * 64} KiB of shared WebAssembly memory for ${threads} threads: ${(e as Error).message}`);
  }
  const block = newCommandBlock();
  const kernels = kernelNames(module);
  const workers: Worker[] = [];
  for (let t = 1; t < threads; t++) {
    const data: HelperData = { module, memory, block, thread: t, threads, kernels };
    workers.push(new Worker(script, { workerData: data, name: `gatescope-wasm-${t}` }));
  }
  const host = new NodeWorkerHost(workers, block);
  try {
    await Promise.all(workers.map((w, i) => new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', (e) => reject(new Error(`WebAssembly worker thread ${i + 1} failed to start: ${e.message}`)));
      w.once('exit', (code) => reject(new Error(`WebAssembly worker thread ${i + 1} exited (code ${code}) before it was ready`)));
    })));
  } catch (e) {
    host.terminate();
    throw e;
  }
  for (const w of workers) {
    w.unref();
    // The first reading caches the worker's loop start time, which a stopped worker no longer reports: without it,
    // a later reading after the worker died would say idle 0 (alive) instead of -1.
    w.performance.eventLoopUtilization();
  }
  return new ThreadPoolRunner(threads, memory, module, block, kernels, host);
}
