// The interface every compute backend offers the trainer, the checkpoint code and inference.
// The CPU reference backend implements it here; the WebGPU backend implements the same interface,
// so the training loop does not know which one runs.

import { ModelConfig, OptimConfig } from './config';
import type { OptimizerState } from './checkpoint';
import { ParamMap } from './params';

export interface StepResult {
  /** Mean cross-entropy of the window, nats per token. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export interface TrainingBackend {
  readonly kind: 'cpu' | 'wasm' | 'webgpu';
  readonly config: ModelConfig;
  readonly optim: OptimConfig;
  /** Optimizer steps taken so far (Adam's t). */
  readonly step: number;
  /**
   * One training window: forward, backward through time, clipping, Adam. x and y are token ids,
   * time-major [T*B]. The recurrent state is carried from the previous call unless `resetState`.
   */
  trainStep(x: Int32Array, y: Int32Array, T: number, B: number, opts: { resetState: boolean; learningRate?: number }): Promise<StepResult>;
  /** Summed cross-entropy (nats) of a window, dropout off, with its own carried evaluation state. */
  evalWindow(x: Int32Array, y: Int32Array, T: number, B: number, resetState: boolean): Promise<number>;
  getParams(): Promise<ParamMap>;
  getOptimizerState(): Promise<OptimizerState>;
  dispose(): void;
}
