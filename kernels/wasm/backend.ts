// The WebAssembly SIMD training backend: WasmModel plus clipping and Adam, behind the TrainingBackend
// interface, step for step what the CPU reference backend (kernels/cpu/backend.ts) does. Clipping and
// Adam run in WebAssembly, each as one kernel call over the contiguous gradients, parameters and
// moments; the weights are re-packed once after each step. Parameters and optimizer state go in and
// out in the reference's form (PyTorch names, Float32Array each), so checkpoints move between the
// cpu, wasm and webgpu backends.
//
// The kernels run on a KernelRunner: one thread by default; the caller passes a threaded one (Node:
// kernels/node/wasmPool.ts nodeThreadRunner, sized with wasmBackendBytes). The backend owns the runner:
// dispose() disposes it.

import { StepResult, TrainingBackend } from '../backend';
import type { OptimizerState } from '../checkpoint';
import { ModelConfig, OptimConfig } from '../config';
import { CpuBackendOptions } from '../cpu/backend';
import { RecurrentState, carriedState } from '../cpu/model';
import { ParamMap, allocParams } from '../params';
import { WasmModel, wasmModelBytes } from './model';
import { defaultVariant, wasmSupport } from './module';
import { KernelRunner, serialRunner } from './pool';

export interface WasmBackendOptions extends CpuBackendOptions {
  /** The runner the kernels run on (the backend owns it from here); default: one thread. */
  runner?: KernelRunner;
}

/** Bytes of WebAssembly memory the backend needs for windows up to seqLen × batchSize with `threads` threads. */
export function wasmBackendBytes(config: ModelConfig, seqLen: number, batchSize: number, threads: number): number {
  return wasmModelBytes(config, seqLen, batchSize, threads, true);
}

export class WasmBackend implements TrainingBackend {
  readonly kind = 'wasm' as const;
  readonly threads: number;
  readonly model: WasmModel;
  private readonly runner: KernelRunner;
  private _step: number;
  /** Adam's own step count (bias correction); differs from _step only after a resume without saved moments. */
  private adamT: number;
  private trainState: RecurrentState | null = null;
  private evalState: RecurrentState | null = null;
  private readonly dropoutSeed: number;

  constructor(readonly config: ModelConfig, params: ParamMap, readonly optim: OptimConfig, opts: WasmBackendOptions = {}) {
    if (opts.dtype === 'f64') throw new Error('the WebAssembly engine computes in float32; use the cpu backend for float64');
    this.runner = opts.runner ?? serialRunner(defaultVariant(), 0);
    this.threads = this.runner.threads;
    this.model = new WasmModel(config, params, this.runner, { training: true });
    this.dropoutSeed = opts.dropoutSeed ?? 0;
    if (opts.optimizerState) {
      this.model.setMoments(opts.optimizerState.m, opts.optimizerState.v);
      this._step = opts.optimizerState.step;
      this.adamT = opts.optimizerState.step;
    } else {
      const zero = allocParams(config, 'f32');
      this.model.setMoments(zero, zero);
      this.adamT = 0;
      this._step = opts.startStep ?? 0;
    }
  }

  get step(): number {
    return this._step;
  }


  async trainStep(x: Int32Array, y: Int32Array, T: number, B: number, opts: { resetState: boolean; learningRate?: number }): Promise<StepResult> {
    return this.trainStepSync(x, y, T, B, opts);
  }

  trainStepSync(x: Int32Array, y: Int32Array, T: number, B: number, opts: { resetState: boolean; learningRate?: number }): StepResult {
    this.trainState = carriedState(this.config, this.trainState, B, opts.resetState);
    const step = this._step + 1;
    this.model.forward(x, T, B, this.trainState, { train: true, dropoutSeed: this.dropoutSeed, step });
    const loss = this.model.lossAndBackward(y);
    const gradNorm = this.model.clipGradients(this.optim.clipNorm);
    this.adamT++;
    this.model.adamStep(this.adamT, { ...this.optim, learningRate: opts.learningRate ?? this.optim.learningRate });
    this._step = step;
    return { loss, gradNorm };
  }

  async evalWindow(x: Int32Array, y: Int32Array, T: number, B: number, reset: boolean): Promise<number> {
    this.evalState = carriedState(this.config, this.evalState, B, reset);
    return this.model.evalLoss(x, y, T, B, this.evalState);
  }

  async getParams(): Promise<ParamMap> {
    return this.model.getParams();
  }

  async getOptimizerState(): Promise<OptimizerState> {
    const { m, v } = this.model.getMoments();
    return { step: this._step, m, v };
  }

  dispose(): void {
    this.trainState = null;
    this.evalState = null;
    this.runner.dispose();
  }
}

/** The wasm backend, or a clear error where WebAssembly SIMD is not available (use the cpu backend there). */
export function createWasmBackend(config: ModelConfig, params: ParamMap, optim: OptimConfig, opts: WasmBackendOptions = {}): WasmBackend {
  const support = wasmSupport();
  if (!support.simd) throw new Error(`WebAssembly SIMD is not available here (${support.reason}): use the cpu backend`);
  return new WasmBackend(config, params, optim, opts);
}
