// The CPU reference backend: CpuModel plus clipping and Adam, behind the TrainingBackend interface.

import { TrainingBackend, StepResult } from '../backend';
import type { OptimizerState } from '../checkpoint';
import { ModelConfig, OptimConfig } from '../config';
import { ParamMap, allocParams, cloneParams } from '../params';
import { DType, Vec } from '../tensor';
import { CpuModel, RecurrentState, carriedState } from './model';
import { adamUpdate, clipGradNorm } from './optim';

export interface CpuBackendOptions {
  dtype?: DType;
  /** Seed of the counter-based dropout masks. */
  dropoutSeed?: number;
  /** Resume Adam from saved moments. */
  optimizerState?: OptimizerState;
  /** Steps already taken (a resumed model without saved optimizer state). */
  startStep?: number;
}

export class CpuBackend implements TrainingBackend {
  readonly kind = 'cpu' as const;
  readonly model: CpuModel;
  private m: ParamMap;
  private v: ParamMap;
  private _step: number;
  /** Adam's own step count (bias correction); differs from _step only after a resume without saved moments. */
  private adamT: number;
  private trainState: RecurrentState | null = null;
  private evalState: RecurrentState | null = null;
  private readonly dropoutSeed: number;
  private readonly order: string[];

  constructor(readonly config: ModelConfig, params: ParamMap, readonly optim: OptimConfig, opts: CpuBackendOptions = {}) {
    const dtype = opts.dtype ?? 'f32';
    this.model = new CpuModel(config, params, dtype);
    this.order = [...this.model.params.keys()];
    this.dropoutSeed = opts.dropoutSeed ?? 0;
    if (opts.optimizerState) {
      this.m = cloneParams(opts.optimizerState.m, dtype);
      this.v = cloneParams(opts.optimizerState.v, dtype);
      this._step = opts.optimizerState.step;
      this.adamT = opts.optimizerState.step;
    } else {
      this.adamT = 0;
      this.m = allocParams(config, dtype);
      this.v = allocParams(config, dtype);
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
    this.trainState = carriedState(this.config, this.trainState, B, opts.resetState, this.model.dtype);
    const step = this._step + 1;
    this.model.forward(x, T, B, this.trainState, { train: true, dropoutSeed: this.dropoutSeed, step });
    const loss = this.model.lossAndBackward(y);
    const grads: Vec[] = this.order.map((k) => this.model.grads.get(k)!);
    const gradNorm = clipGradNorm(grads, this.optim.clipNorm);
    const hyper = { ...this.optim, learningRate: opts.learningRate ?? this.optim.learningRate };
    this.adamT++;
    for (const k of this.order) {
      adamUpdate(this.model.params.get(k)!, this.model.grads.get(k)!, this.m.get(k)!, this.v.get(k)!, this.adamT, hyper);
    }
    this._step = step;
    return { loss, gradNorm };
  }

  async evalWindow(x: Int32Array, y: Int32Array, T: number, B: number, reset: boolean): Promise<number> {
    this.evalState = carriedState(this.config, this.evalState, B, reset, this.model.dtype);
    return this.model.evalLoss(x, y, T, B, this.evalState);
  }

  async getParams(): Promise<ParamMap> {
    return cloneParams(this.model.params, 'f32');
  }

  async getOptimizerState(): Promise<OptimizerState> {
    return { step: this._step, m: cloneParams(this.m, 'f32'), v: cloneParams(this.v, 'f32') };
  }

  dispose(): void {
    this.trainState = null;
    this.evalState = null;
  }
}
