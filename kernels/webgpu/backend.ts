// The WebGPU backend: the same model as kernels/cpu/model.ts, as WGSL kernels. A whole training
// window (forward, backward through time, weight-gradient GEMMs, global norm, clipping and Adam) is
// recorded once per window shape and replayed each step as one compute pass in one command encoder
// and one queue.submit; the loss comes back through a ring of staging buffers, read while the next
// step is already queued. Parameters, gradients and Adam moments each live in one flat buffer in
// paramSpecs order (the embedding first, at offset 0), so clipping and Adam are single dispatches.

import { StepResult, TrainingBackend } from '../backend';
import type { OptimizerState } from '../checkpoint';
import { ModelConfig, OptimConfig, gateCount } from '../config';
import { DECODER_DROPOUT_SITE } from '../cpu/model';
import { ParamMap, paramSpecs, layerParamNames } from '../params';
import { sizeOf } from '../tensor';
import { GpuContext, GpuError, Recorder } from './context';
import { gruCellBackward, gruCellForward, lstmCellBackward, lstmCellForward, rnnCellBackward, rnnCellForward } from './cells';
import { dropoutMask } from './dropout';
import { addInPlace, addInto, copyInto, fill, mulInPlace, mulInto } from './elementwise';
import { embeddingBackward, embeddingGather } from './embedding';
import { addBiasRows, gemmNN, gemmNT, gemmTN, sumRows } from './gemm';
import { softmaxCrossEntropy, sumInto } from './loss';
import { clipAdam, packStepParams, sumSquares, sumSquaresPartialLength } from './optim';

export interface WebGpuBackendOptions {
  dropoutSeed?: number;
  optimizerState?: OptimizerState;
  startStep?: number;
}

interface LayerBuffers {
  inp: GPUBuffer; xp: GPUBuffer; hp: GPUBuffer; gates: GPUBuffer; hs: GPUBuffer; cs: GPUBuffer | null; mask: GPUBuffer | null;
  inSize: number; wih: number; whh: number; bih: number; bhh: number;
}

/** Activation buffers and the recorded step for one window shape (T, B). */
class Plan {
  readonly x: GPUBuffer;
  readonly y: GPUBuffer;
  /** [summed loss, squared gradient norm], copied to a staging buffer after each submit. */
  readonly lossBuf: GPUBuffer;
  readonly buffers: GPUBuffer[] = [];
  readonly rec: Recorder;
  constructor(readonly ctx: GpuContext, readonly T: number, readonly B: number, readonly train: boolean) {
    this.rec = new Recorder(ctx, train ? `training step ${T}x${B}` : `evaluation ${T}x${B}`);
    this.x = this.buf('tokens x', T * B);
    this.y = this.buf('tokens y', T * B);
    this.lossBuf = this.buf('loss and norm', 4);
  }
  buf(label: string, floats: number): GPUBuffer {
    const b = this.ctx.createBuffer(label, Math.max(1, floats) * 4);
    this.buffers.push(b);
    return b;
  }
  destroy(): void {
    this.rec.destroy();
    for (const b of this.buffers) b.destroy();
  }
}

const STEP_BYTES = 32; // packStepParams (16 bytes) + the training step for dropout at word 4

export class WebGpuBackend implements TrainingBackend {
  readonly kind = 'webgpu' as const;
  private readonly offsets = new Map<string, { offset: number; size: number }>();
  private readonly nParams: number;
  private readonly P: GPUBuffer;
  private readonly G: GPUBuffer;
  private readonly M: GPUBuffer;
  private readonly V: GPUBuffer;
  private readonly partial: GPUBuffer;
  private readonly stepBuf: GPUBuffer;
  private readonly stepData = new ArrayBuffer(STEP_BYTES);
  private readonly plans = new Map<string, Plan>();
  /** Staging buffers for loss readback that are not being mapped (grown on demand, reused). */
  private readonly freeStaging: GPUBuffer[] = [];
  private readonly allStaging: GPUBuffer[] = [];
  /** Carried recurrent states by kind and batch size (plans bind them, so they live as long as the backend). */
  private readonly states = new Map<string, { B: number; h: GPUBuffer[]; c: GPUBuffer[] }>();
  private _step: number;
  private adamT: number;
  private readonly dropoutSeed: number;
  private failure: Error | null = null;

  private constructor(readonly ctx: GpuContext, readonly config: ModelConfig, readonly optim: OptimConfig, opts: WebGpuBackendOptions) {
    let n = 0;
    for (const s of paramSpecs(config)) {
      const size = sizeOf(s.shape);
      this.offsets.set(s.name, { offset: n, size });
      n += size;
    }
    this.nParams = n;
    this.P = ctx.createBuffer('params', n * 4);
    this.G = ctx.createBuffer('grads', n * 4);
    this.M = ctx.createBuffer('adam m', n * 4);
    this.V = ctx.createBuffer('adam v', n * 4);
    this.partial = ctx.createBuffer('norm partial sums', sumSquaresPartialLength(n) * 4);
    this.stepBuf = ctx.createBuffer('step params', STEP_BYTES);
    this.dropoutSeed = opts.dropoutSeed ?? 0;
    this._step = opts.optimizerState?.step ?? opts.startStep ?? 0;
    this.adamT = opts.optimizerState?.step ?? 0;
    ctx.onLost((reason) => {
      this.failure ??= new GpuError(`the GPU device was lost after training step ${this._step} (${reason})`);
    });
  }

  static async create(ctx: GpuContext, config: ModelConfig, params: ParamMap, optim: OptimConfig, opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const b = new WebGpuBackend(ctx, config, optim, opts);
    b.uploadFlat(b.P, params, 'parameters');
    if (opts.optimizerState) {
      b.uploadFlat(b.M, opts.optimizerState.m, 'Adam m');
      b.uploadFlat(b.V, opts.optimizerState.v, 'Adam v');
    }
    return b;
  }

  get step(): number {
    return this._step;
  }

  private uploadFlat(buf: GPUBuffer, map: ParamMap, what: string): void {
    const flat = new Float32Array(this.nParams);
    for (const [name, { offset, size }] of this.offsets) {
      const src = map.get(name);
      if (!src || src.length !== size) throw new Error(`${what}: ${name} is missing or has the wrong size`);
      flat.set(src, offset);
    }
    this.ctx.upload(buf, flat);
  }

  private async readFlat(buf: GPUBuffer): Promise<ParamMap> {
    const flat = await this.ctx.readF32(buf, this.nParams);
    const out: ParamMap = new Map();
    for (const [name, { offset, size }] of this.offsets) out.set(name, flat.slice(offset, offset + size));
    return out;
  }

  private off(name: string): number {
    return this.offsets.get(name)!.offset;
  }

  private state(kind: 'train' | 'eval', B: number): { B: number; h: GPUBuffer[]; c: GPUBuffer[] } {
    const key = `${kind}${B}`;
    let s = this.states.get(key);
    if (s) return s;
    const H = this.config.hiddenSize;
    s = { B, h: [], c: [] };
    for (let l = 0; l < this.config.numLayers; l++) {
      s.h.push(this.ctx.createBuffer(`${kind} h${l}`, B * H * 4));
      s.c.push(this.ctx.createBuffer(`${kind} c${l}`, B * H * 4));
    }
    this.states.set(key, s);
    return s;
  }

  private zeroState(s: { h: GPUBuffer[]; c: GPUBuffer[]; B: number }): void {
    const zeros = new Float32Array(s.B * this.config.hiddenSize);
    for (const b of [...s.h, ...s.c]) this.ctx.upload(b, zeros);
  }

  /** Records forward (and, for training, backward and the optimizer) for one window shape. */
  private async plan(T: number, B: number, train: boolean): Promise<Plan> {
    const key = `${train ? 't' : 'e'}${T}x${B}`;
    const existing = this.plans.get(key);
    if (existing) return existing;
    const c = this.config;
    const { hiddenSize: H, embedSize: E, vocabSize: Vn, numLayers: L } = c;
    const GH = gateCount(c.cell) * H;
    const R = T * B;
    const p = new Plan(this.ctx, T, B, train);
    const rec = p.rec;
    const state = this.state(train ? 'train' : 'eval', B);
    const dropout = train && c.dropout > 0;
    const layers: LayerBuffers[] = [];
    for (let l = 0; l < L; l++) {
      const I = l === 0 ? E : H;
      const n = layerParamNames(l);
      layers.push({
        inp: p.buf(`inp${l}`, R * I), xp: p.buf(`xp${l}`, R * GH), hp: p.buf(`hp${l}`, R * GH),
        gates: p.buf(`gates${l}`, c.cell === 'rnn' ? 1 : R * GH), hs: p.buf(`hs${l}`, (T + 1) * B * H),
        cs: c.cell === 'lstm' ? p.buf(`cs${l}`, (T + 1) * B * H) : null,
        mask: dropout && l < L - 1 ? p.buf(`mask${l}`, R * H) : null,
        inSize: I, wih: this.off(n.wih), whh: this.off(n.whh), bih: this.off(n.bih), bhh: this.off(n.bhh),
      });
    }
    const top = p.buf('decoder input', R * H);
    const decMask = dropout ? p.buf('decoder mask', R * H) : null;
    const logits = p.buf('logits', R * Vn);
    const rowLoss = p.buf('row loss', R);
    const lossBuf = p.lossBuf;
    const decW = this.off('decoder.weight'), decB = this.off('decoder.bias');

    // Forward.
    embeddingGather(rec, R, E, p.x, 0, this.P, layers[0].inp, 0);
    for (let l = 0; l < L; l++) {
      const lb = layers[l];
      gemmNT(rec, R, GH, lb.inSize, lb.inp, 0, this.P, lb.wih, lb.xp, 0, false);
      addBiasRows(rec, R, GH, lb.xp, 0, this.P, lb.bih);
      copyInto(rec, B * H, state.h[l], 0, lb.hs, 0);
      if (lb.cs) copyInto(rec, B * H, state.c[l], 0, lb.cs, 0);
      for (let t = 0; t < T; t++) {
        const g = t * B * GH, hPrev = t * B * H, hNew = (t + 1) * B * H;
        gemmNT(rec, B, GH, H, lb.hs, hPrev, this.P, lb.whh, lb.hp, g, false);
        addBiasRows(rec, B, GH, lb.hp, g, this.P, lb.bhh);
        if (c.cell === 'lstm') lstmCellForward(rec, B, H, lb.xp, g, lb.hp, g, lb.cs!, hPrev, hNew, lb.gates, g, lb.hs, hNew);
        else if (c.cell === 'gru') gruCellForward(rec, B, H, lb.xp, g, lb.hp, g, lb.hs, hPrev, hNew, lb.gates, g);
        else rnnCellForward(rec, B, H, lb.xp, g, lb.hp, g, lb.hs, hNew);
      }
      copyInto(rec, B * H, lb.hs, T * B * H, state.h[l], 0);
      if (lb.cs) copyInto(rec, B * H, lb.cs, T * B * H, state.c[l], 0);
      const out = l < L - 1 ? layers[l + 1].inp : top;
      const mask = l < L - 1 ? lb.mask : decMask;
      if (mask) {
        dropoutMask(rec, R * H, mask, 0, c.dropout, this.dropoutSeed, l < L - 1 ? l : DECODER_DROPOUT_SITE, this.stepBuf, 4);
        mulInto(rec, R * H, lb.hs, B * H, mask, 0, out, 0);
      } else {
        copyInto(rec, R * H, lb.hs, B * H, out, 0);
      }
    }
    gemmNT(rec, R, Vn, H, top, 0, this.P, decW, logits, 0, false);
    addBiasRows(rec, R, Vn, logits, 0, this.P, decB);
    softmaxCrossEntropy(rec, R, Vn, logits, p.y, 0, rowLoss, train ? 1 / R : null);
    sumInto(rec, R, rowLoss, 0, lossBuf, 0, false);

    if (train) {
      const dH = p.buf('dH', R * H);
      const dInp = p.buf('dInp', R * Math.max(E, H));
      const dXp = p.buf('dXp', R * GH);
      const dHp = c.cell === 'gru' ? p.buf('dHp', R * GH) : dXp;
      const dh = p.buf('dh', B * H), dhNext = p.buf('dhNext', B * H), dc = p.buf('dc', B * H), dhDirect = p.buf('dhDirect', B * H);
      gemmTN(rec, Vn, H, R, logits, 0, top, 0, this.G, decW, false);
      sumRows(rec, R, Vn, logits, 0, this.G, decB, false);
      gemmNN(rec, R, H, Vn, logits, 0, this.P, decW, dH, 0, false);
      if (decMask) mulInPlace(rec, R * H, dH, 0, decMask, 0);
      for (let l = L - 1; l >= 0; l--) {
        const lb = layers[l];
        fill(rec, B * H, dhNext, 0, 0);
        fill(rec, B * H, dc, 0, 0);
        for (let t = T - 1; t >= 0; t--) {
          const g = t * B * GH, hPrev = t * B * H, hNew = (t + 1) * B * H;
          addInto(rec, B * H, dH, hPrev, dhNext, 0, dh, 0);
          if (c.cell === 'lstm') lstmCellBackward(rec, B, H, dh, 0, dc, lb.gates, g, lb.cs!, hNew, hPrev, dXp, g);
          else if (c.cell === 'gru') gruCellBackward(rec, B, H, dh, 0, lb.gates, g, lb.hp, g, lb.hs, hPrev, dXp, g, dHp, g, dhDirect);
          else rnnCellBackward(rec, B, H, dh, 0, lb.hs, hNew, dXp, g);
          if (t > 0) {
            gemmNN(rec, B, H, GH, dHp, g, this.P, lb.whh, dhNext, 0, false);
            if (c.cell === 'gru') addInPlace(rec, B * H, dhNext, 0, dhDirect, 0);
          }
        }
        gemmTN(rec, GH, H, R, dHp, 0, lb.hs, 0, this.G, lb.whh, false);
        sumRows(rec, R, GH, dHp, 0, this.G, lb.bhh, false);
        gemmTN(rec, GH, lb.inSize, R, dXp, 0, lb.inp, 0, this.G, lb.wih, false);
        sumRows(rec, R, GH, dXp, 0, this.G, lb.bih, false);
        gemmNN(rec, R, lb.inSize, GH, dXp, 0, this.P, lb.wih, dInp, 0, false);
        if (l > 0) {
          const m = layers[l - 1].mask;
          if (m) mulInto(rec, R * H, dInp, 0, m, 0, dH, 0);
          else copyInto(rec, R * H, dInp, 0, dH, 0);
        }
      }
      embeddingBackward(rec, R, E, Vn, p.x, 0, dInp, 0, this.G);
      sumSquares(rec, this.nParams, this.G, this.partial, lossBuf, 1);
      clipAdam(rec, this.nParams, this.P, this.G, this.M, this.V, lossBuf, 1, this.stepBuf, this.optim);
    }
    try {
      await rec.finalize();
    } catch (e) {
      p.destroy();
      throw e;
    }
    this.plans.set(key, p);
    return p;
  }

  private submit(p: Plan, x: Int32Array, y: Int32Array): GPUBuffer {
    const dev = this.ctx.device;
    this.ctx.upload(p.x, x);
    this.ctx.upload(p.y, y);
    const enc = dev.createCommandEncoder({ label: p.rec.label });
    const pass = enc.beginComputePass({ label: p.rec.label });
    p.rec.encode(pass);
    pass.end();
    let staging = this.freeStaging.pop();
    if (!staging) {
      staging = dev.createBuffer({ label: 'loss readback', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      this.allStaging.push(staging);
    }
    enc.copyBufferToBuffer(p.lossBuf, 0, staging, 0, 16);
    dev.queue.submit([enc.finish()]);
    return staging;
  }

  private async readLoss(staging: GPUBuffer, what: string): Promise<Float32Array> {
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      throw this.failure ?? new GpuError(`${what}: reading the loss failed (${(e as Error).message})`);
    }
    const v = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    this.freeStaging.push(staging);
    return v;
  }

  private assertUsable(what: string): void {
    if (this.failure) throw this.failure;
    this.ctx.assertHealthy(what);
  }

  /** Serialises submissions: each queued call starts after the previous one has been submitted. */
  private chain: Promise<unknown> = Promise.resolve();

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const r = this.chain.then(work);
    this.chain = r.catch(() => undefined);
    return r;
  }

  /**
   * Queues one training step and returns a promise of its loss. The step counter advances at once
   * and the step is submitted to the GPU without waiting for earlier losses, so the caller can queue
   * the next step before awaiting this one (the trainer reads each loss a step late).
   */
  trainStep(x: Int32Array, y: Int32Array, T: number, B: number, opts: { resetState: boolean; learningRate?: number }): Promise<StepResult> {
    const stepNo = ++this._step;
    const adamT = ++this.adamT;
    const what = `training step ${stepNo}`;
    const xs = x.slice(), ys = y.slice();
    const lr = opts.learningRate ?? this.optim.learningRate;
    const submitted = this.enqueue(async () => {
      this.assertUsable(what);
      const p = await this.plan(T, B, true);
      if (opts.resetState) this.zeroState(this.state('train', B));
      new Uint8Array(this.stepData).set(new Uint8Array(packStepParams(adamT, lr, this.optim.beta1, this.optim.beta2)));
      new Uint32Array(this.stepData)[4] = stepNo;
      this.ctx.upload(this.stepBuf, new Uint8Array(this.stepData));
      return this.submit(p, xs, ys);
    });
    return submitted.then(async (staging) => {
      const v = await this.readLoss(staging, what);
      this.assertUsable(what);
      const loss = v[0] / (T * B);
      if (!Number.isFinite(loss)) throw new GpuError(`${what}: the loss is ${loss}`);
      return { loss, gradNorm: Math.sqrt(v[1]) };
    });
  }

  async evalWindow(x: Int32Array, y: Int32Array, T: number, B: number, resetState: boolean): Promise<number> {
    const what = 'evaluation';
    const xs = x.slice(), ys = y.slice();
    const staging = await this.enqueue(async () => {
      this.assertUsable(what);
      const p = await this.plan(T, B, false);
      if (resetState) this.zeroState(this.state('eval', B));
      return this.submit(p, xs, ys);
    });
    const v = await this.readLoss(staging, what);
    this.assertUsable(what);
    return v[0];
  }

  async getParams(): Promise<ParamMap> {
    return this.enqueue(async () => {
      this.assertUsable('reading parameters');
      return this.readFlat(this.P);
    });
  }

  async getOptimizerState(): Promise<OptimizerState> {
    const step = this._step;
    return this.enqueue(async () => {
      this.assertUsable('reading the optimizer state');
      return { step, m: await this.readFlat(this.M), v: await this.readFlat(this.V) };
    });
  }

  dispose(): void {
    for (const p of this.plans.values()) p.destroy();
    this.plans.clear();
    for (const s of this.states.values()) for (const b of [...s.h, ...s.c]) b.destroy();
    this.states.clear();
    for (const b of [this.P, this.G, this.M, this.V, this.partial, this.stepBuf, ...this.allStaging]) b.destroy();
  }
}
