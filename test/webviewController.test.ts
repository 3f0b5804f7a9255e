// Tests of the webview's message handling (webview/controller.ts) in plain Node, with a fake GPU
// context and a fake training backend: the 'ready' handshake, messages handed to the dashboard,
// training runs through the real runTrainingJob (reports, checkpoints, stop, one run at a time,
// device loss and a new context), and malformed messages logged and dropped without throwing.
// Also the dashboard's DOM-free helpers (curves, form checks, button states).

import * as fs from 'fs';
import * as path from 'path';
import * as assert from 'assert';
import type { StepResult, TrainingBackend } from '../kernels/backend';
import { OptimizerState, decodeCheckpoint, decodeOptimizerState } from '../kernels/checkpoint';
import { DEFAULT_OPTIM, ModelConfig, OptimConfig } from '../kernels/config';
import { ParamMap, allocParams, cloneParams } from '../kernels/params';
import { TrainingJob, TrainingReport } from '../kernels/session';
import { COMMANDS, enabledCommands, primaryCommand } from '../webview/commands';
import { ControllerUi, GpuHandle, WebviewController } from '../webview/controller';
import { Curves, MAX_CURVE_POINTS, niceTicks, thinEvenly, tickFormatter } from '../webview/curves';
import { checkNumber, formatValue } from '../webview/form';
import { DisplayReport, FORM_BOUNDS, FormValues, FromWebview, GpuInfo, PROTOCOL_VERSION, PanelState } from '../webview/protocol';

// ---------------------------------------------------------------------------------------------
// Fakes

class FakeGpu implements GpuHandle {
  lost = false;
  lostReason: string | null = null;
  destroyed = false;
  private readonly listeners: ((reason: string) => void)[] = [];
  readonly device = { destroy: () => this.lose('destroyed') };
  constructor(readonly adapterName: string) {}
  get isLost(): boolean {
    return this.lost;
  }
  onLost(l: (reason: string) => void): void {
    this.listeners.push(l);
  }
  lose(reason: string): void {
    if (this.lost) return;
    this.destroyed = true;
    // A real device reports the loss asynchronously (its `lost` promise).
    queueMicrotask(() => {
      this.lost = true;
      this.lostReason = reason;
      for (const l of this.listeners) l(reason);
    });
  }
}

/** Learns nothing, but behaves like a backend: steps count, losses fall, state round-trips. */
class FakeBackend implements TrainingBackend {
  readonly kind = 'webgpu' as const;
  private _step: number;
  disposed = false;
  constructor(readonly ctx: FakeGpu, readonly config: ModelConfig, private readonly params: ParamMap, readonly optim: OptimConfig, opts: { optimizerState?: OptimizerState; startStep?: number }, private readonly stepMs: number) {
    this._step = opts.optimizerState?.step ?? opts.startStep ?? 0;
  }
  get step(): number {
    return this._step;
  }
  async trainStep(): Promise<StepResult> {
    // Like the WebGPU backend: the step counts when it is queued, its loss arrives later.
    // What Chromium says first when the device is destroyed under a pending readback (not 'device lost').
    if (this.ctx.isLost || this.ctx.destroyed) throw new Error(`training step ${this._step}: reading the loss failed (Buffer was unmapped before mapping was resolved.)`);
    const step = ++this._step;
    await new Promise((r) => setTimeout(r, this.stepMs));
    return { loss: 3 / (1 + step / 10), gradNorm: 1 };
  }
  async evalWindow(x: Int32Array): Promise<number> {
    return x.length * 2;
  }
  async getParams(): Promise<ParamMap> {
    return cloneParams(this.params);
  }
  async getOptimizerState(): Promise<OptimizerState> {
    return { step: this._step, m: allocParams(this.config, 'f32'), v: allocParams(this.config, 'f32') };
  }
  dispose(): void {
    this.disposed = true;
  }
}

class FakeUi implements ControllerUi {
  calls: { method: keyof ControllerUi; args: unknown[] }[] = [];
  init(settings: FormValues, state: PanelState): void {
    this.calls.push({ method: 'init', args: [settings, state] });
  }
  setState(state: PanelState): void {
    this.calls.push({ method: 'setState', args: [state] });
  }
  setSettings(settings: FormValues): void {
    this.calls.push({ method: 'setSettings', args: [settings] });
  }
  report(report: DisplayReport): void {
    this.calls.push({ method: 'report', args: [report] });
  }
  setGpu(gpu: GpuInfo): void {
    this.calls.push({ method: 'setGpu', args: [gpu] });
  }
  settingsSaved(scope: 'workspace' | 'user'): void {
    this.calls.push({ method: 'settingsSaved', args: [scope] });
  }
}

interface Rig {
  c: WebviewController<FakeGpu>;
  posted: FromWebview[];
  ui: FakeUi;
  gpus: FakeGpu[];
  backends: FakeBackend[];
  reports(runId?: number): TrainingReport[];
  logs(level?: string): string[];
}

function rig(opts: { gpu?: 'ok' | 'none' | 'throws'; stepMs?: number; postThrows?: boolean; adapterName?: string; isFallbackAdapter?: boolean } = {}): Rig {
  const posted: FromWebview[] = [];
  const ui = new FakeUi();
  const gpus: FakeGpu[] = [];
  const backends: FakeBackend[] = [];
  const c = new WebviewController<FakeGpu>({
    post: (m) => {
      posted.push(m);
      if (opts.postThrows) throw new Error('post failed');
    },
    createGpu: async () => {
      if (opts.gpu === 'throws') throw new Error('requestDevice exploded');
      if (opts.gpu === 'none') return { ctx: null, why: 'no adapter (test)' };
      const g = new FakeGpu(opts.adapterName ?? `Fake GPU ${gpus.length + 1}`);
      gpus.push(g);
      return { ctx: g, isFallbackAdapter: opts.isFallbackAdapter };
    },
    createBackend: async (ctx, config, params, optim, o) => {
      const b = new FakeBackend(ctx, config, params, optim, o, opts.stepMs ?? 2);
      backends.push(b);
      return b;
    },
    ui,
  });
  return {
    c, posted, ui, gpus, backends,
    reports: (runId) => posted.flatMap((m) => (m.type === 'report' && (runId === undefined || m.report.runId === runId) ? [m.report] : [])),
    logs: (level) => posted.flatMap((m) => (m.type === 'log' && (level === undefined || m.level === level) ? [m.message] : [])),
  };
}

const settings: FormValues = {
  architecture: 'lstm', hiddenSize: 64, layers: 1, embeddingSize: 32, dropout: 0, sequenceLength: 32, batchSize: 8,
  learningRate: 0.005, gradientClip: 5, tokenizer: 'char', vocabularySize: 1024, timeBudgetSeconds: 60, backend: 'auto',
};

const state: PanelState = {
  status: 'idle', message: '', backend: null, adapter: '', step: 0, parameters: 0, model: null, corpus: null, history: [],
};

function job(runId: number, budget: TrainingJob['budget'] = { maxSeconds: 0.6 }, over: Partial<TrainingJob> = {}): TrainingJob {
  return {
    runId,
    text: { train: 'the quick brown fox jumps over the lazy dog. '.repeat(60), val: 'a lazy dog sleeps. '.repeat(20) },
    model: { cell: 'lstm', hiddenSize: 8, numLayers: 1, embedSize: 4, dropout: 0 },
    tokenizer: { kind: 'char', vocabSize: 256 },
    optim: { ...DEFAULT_OPTIM },
    batch: { seqLen: 8, batchSize: 4 },
    budget,
    checkpointEverySeconds: 0.2,
    evalEverySeconds: 0.2,
    seed: 7,
    ...over,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// ---------------------------------------------------------------------------------------------

describe('webview controller', () => {
  describe('ready handshake', () => {
    it('creates the GPU context and posts ready with the adapter', async () => {
      const r = rig();
      await r.c.start();
      await r.c.start(); // once only
      const ready = r.posted.filter((m) => m.type === 'ready');
      assert.deepStrictEqual(ready, [{ type: 'ready', version: PROTOCOL_VERSION, gpu: { available: true, adapter: 'Fake GPU 1', why: '', software: '' } }]);
      assert.deepStrictEqual(r.ui.calls.filter((x) => x.method === 'setGpu').map((x) => x.args[0]), [{ available: true, adapter: 'Fake GPU 1', why: '', software: '' }]);
    });

    it('says when the adapter is a software renderer (by its name, or because it is a fallback adapter)', async () => {
      const swiftshader = rig({ adapterName: 'google swiftshader' });
      await swiftshader.c.start();
      const ready = swiftshader.posted.find((m) => m.type === 'ready');
      assert.ok(ready?.type === 'ready' && ready.gpu.available && ready.gpu.software === 'SwiftShader, a software renderer', JSON.stringify(ready));
      const fallback = rig({ adapterName: 'some vendor', isFallbackAdapter: true });
      await fallback.c.start();
      assert.match(fallback.c.gpu.software ?? '', /fallback adapter/);
    });

    it('shows that a form change was saved, and where', () => {
      const r = rig();
      r.c.handle({ type: 'settingsSaved', scope: 'workspace' });
      assert.deepStrictEqual(r.ui.calls.filter((x) => x.method === 'settingsSaved').map((x) => x.args[0]), ['workspace']);
    });

    it('says why when there is no adapter', async () => {
      const r = rig({ gpu: 'none' });
      await r.c.start();
      assert.deepStrictEqual(r.posted, [{ type: 'ready', version: PROTOCOL_VERSION, gpu: { available: false, adapter: '', why: 'no adapter (test)', software: '' } }]);
    });

    it('reports a GPU that fails to start as unavailable, with the error', async () => {
      const r = rig({ gpu: 'throws' });
      await r.c.start();
      const ready = r.posted[0];
      assert.ok(ready.type === 'ready' && !ready.gpu.available && /WebGPU failed to start: requestDevice exploded/.test(ready.gpu.why), JSON.stringify(ready));
    });
  });

  describe('messages for the dashboard', () => {
    it('hands init, state, settings and report to the UI, rebuilt from known fields only', async () => {
      const r = rig();
      await r.c.start();
      r.c.handle({ type: 'init', version: PROTOCOL_VERSION, settings: { ...settings, extra: 'dropped' }, state });
      r.c.handle({ type: 'state', state: { ...state, status: 'training', step: 12 } });
      r.c.handle({ type: 'settings', settings: { ...settings, hiddenSize: 128 } });
      r.c.handle({ type: 'report', report: { kind: 'eval', runId: 3, step: 10, bitsPerChar: 2.5, bitsPerToken: 2.5, time: 1 } });
      r.c.handle({ type: 'report', report: { kind: 'checkpoint', runId: 3, step: 10 } });
      const calls = r.ui.calls.filter((x) => x.method !== 'setGpu');
      assert.deepStrictEqual(calls.map((x) => x.method), ['init', 'setState', 'setSettings', 'report', 'report']);
      assert.deepStrictEqual(calls[0].args, [settings, state]);
      assert.strictEqual((calls[1].args[0] as PanelState).step, 12);
      assert.strictEqual((calls[2].args[0] as FormValues).hiddenSize, 128);
      assert.deepStrictEqual(r.logs(), []);
    });

    it('warns about an init from another protocol version but still applies it', async () => {
      const r = rig();
      r.c.handle({ type: 'init', version: PROTOCOL_VERSION + 1, settings, state });
      assert.strictEqual(r.ui.calls.filter((x) => x.method === 'init').length, 1);
      assert.match(r.logs('warn')[0], /protocol/);
    });
  });

  describe('malformed messages', () => {
    const cyclic: Record<string, unknown> = { type: 'state' };
    cyclic.state = cyclic;
    const throwing = Object.defineProperty({}, 'type', { get() { throw new Error('getter trap'); }, enumerable: true });
    const proxy = new Proxy({}, { get() { throw new Error('proxy trap'); }, has() { throw new Error('proxy trap'); }, getOwnPropertyDescriptor() { throw new Error('proxy trap'); }, ownKeys() { throw new Error('proxy trap'); } });
    const badToString = { type: { toString() { throw new Error('no'); } } };
    const cases: [string, unknown][] = [
      ['undefined', undefined], ['null', null], ['a number', 42], ['a string', 'init'], ['an array', [{ type: 'init' }]],
      ['unknown type', { type: 'explode' }], ['no type', { settings }], ['type of wrong kind', { type: 7 }],
      ['proto pollution', JSON.parse('{"type":"__proto__"}')], ['toString type', { type: 'toString' }],
      ['init without state', { type: 'init', version: 1, settings }],
      ['init with a bad setting', { type: 'init', version: 1, settings: { ...settings, hiddenSize: 0 }, state }],
      ['init with NaN', { type: 'init', version: 1, settings: { ...settings, dropout: NaN }, state }],
      ['state with a bad status', { type: 'state', state: { ...state, status: 'dancing' } }],
      ['state with a huge history', { type: 'state', state: { ...state, history: { length: 1e9 } } }],
      ['report of unknown kind', { type: 'report', report: { kind: 'party', runId: 1 } }],
      ['report with negative runId', { type: 'report', report: { kind: 'eval', runId: -1, step: 1, bitsPerChar: 1, bitsPerToken: 1, time: 1 } }],
      ['train without text', { type: 'train', job: { ...job(1), text: undefined } }],
      ['train with resume bytes as an array', { type: 'train', job: { ...job(1), resume: { model: [1, 2, 3] } } }],
      ['stop with a string runId', { type: 'stop', runId: '1' }],
      ['stop with a fractional runId', { type: 'stop', runId: 1.5 }],
      ['a cyclic object', cyclic], ['a throwing getter', throwing], ['a proxy that throws', proxy], ['a type whose toString throws', badToString],
      ['a Uint8Array', new Uint8Array(8)], ['a function', () => 1], ['a symbol', Symbol('x')], ['a bigint', 10n],
    ];
    for (const [name, msg] of cases) {
      it(`drops ${name} with one warning`, () => {
        const r = rig();
        assert.doesNotThrow(() => r.c.handle(msg));
        assert.strictEqual(r.posted.length, 1, JSON.stringify(r.posted));
        const m = r.posted[0];
        assert.ok(m.type === 'log' && m.level === 'warn' && m.message.startsWith('dropped a malformed message: '), JSON.stringify(m));
        assert.deepStrictEqual(r.ui.calls, []);
        assert.strictEqual(r.c.runningId, null);
      });
    }

    it('survives 1,000 random malformed messages', () => {
      const r = rig();
      let seed = 12345;
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      const junk = (depth: number): unknown => {
        const k = Math.floor(rand() * 9);
        if (depth > 3 || k < 4) return pick([undefined, null, true, 0.5, -1, 1e308, NaN, '', 'x'.repeat(50), 'init', 'train', [], {}]);
        if (k < 6) return Array.from({ length: Math.floor(rand() * 4) }, () => junk(depth + 1));
        const o: Record<string, unknown> = {};
        for (let i = 0; i < 1 + Math.floor(rand() * 4); i++) o[pick(['type', 'kind', 'state', 'settings', 'report', 'job', 'runId', 'version', 'x'])] = junk(depth + 1);
        return o;
      };
      for (let i = 0; i < 1000; i++) {
        const m = junk(0) as Record<string, unknown> | null;
        // Give most of them a real type so the deeper checks run.
        if (m && typeof m === 'object' && !Array.isArray(m) && rand() < 0.8) m.type = pick(['init', 'state', 'settings', 'report', 'train', 'stop']);
        assert.doesNotThrow(() => r.c.handle(m));
      }
      assert.strictEqual(r.posted.length, 1000);
      assert.ok(r.posted.every((m) => m.type === 'log' && m.level === 'warn'));
      assert.deepStrictEqual(r.ui.calls, []);
    });

    it('never throws when posting itself fails', () => {
      const r = rig({ postThrows: true });
      assert.doesNotThrow(() => r.c.handle({ type: 'nope' }));
    });
  });

  describe('training', () => {
    it('runs a job on the GPU backend and posts its reports, checkpoints with bytes', async () => {
      const r = rig();
      await r.c.start();
      r.c.handle({ type: 'train', job: job(5) });
      assert.strictEqual(r.c.runningId, 5);
      await r.c.whenIdle();
      assert.strictEqual(r.c.runningId, null);
      const reports = r.reports(5);
      const kinds = reports.map((x) => x.kind);
      assert.strictEqual(kinds[0], 'started');
      assert.strictEqual(kinds[kinds.length - 1], 'done');
      assert.ok(kinds.includes('progress'), kinds.join());
      assert.ok(kinds.includes('eval'), kinds.join());
      const started = reports[0] as Extract<TrainingReport, { kind: 'started' }>;
      assert.strictEqual(started.backend, 'webgpu');
      assert.strictEqual(started.adapter, 'Fake GPU 1');
      const done = reports[reports.length - 1] as Extract<TrainingReport, { kind: 'done' }>;
      assert.strictEqual(done.stoppedBy, 'time');
      const cks = reports.filter((x): x is Extract<TrainingReport, { kind: 'checkpoint' }> => x.kind === 'checkpoint');
      assert.ok(cks.length >= 1);
      const last = cks[cks.length - 1];
      assert.ok(last.model instanceof Uint8Array && last.optimizer instanceof Uint8Array);
      const ck = decodeCheckpoint(last.model);
      assert.strictEqual(ck.step, done.step);
      assert.strictEqual(decodeOptimizerState(last.optimizer, ck.config).step, done.step);
      assert.ok(r.backends[0].disposed);
      assert.deepStrictEqual(r.logs('error'), []);
    });

    it('resumes from a checkpoint it produced', async () => {
      const r = rig();
      r.c.handle({ type: 'train', job: job(1, { maxSteps: 6 }) });
      await r.c.whenIdle();
      const ck = r.reports(1).filter((x): x is Extract<TrainingReport, { kind: 'checkpoint' }> => x.kind === 'checkpoint').pop()!;
      assert.strictEqual(ck.step, 6);
      r.c.handle({ type: 'train', job: job(2, { maxSteps: 9 }, { resume: { model: ck.model, optimizer: ck.optimizer } }) });
      await r.c.whenIdle();
      const reports = r.reports(2);
      const started = reports[0] as Extract<TrainingReport, { kind: 'started' }>;
      assert.ok(started.kind === 'started' && started.resumed && started.step === 6, JSON.stringify(started));
      const done = reports[reports.length - 1];
      assert.ok(done.kind === 'done' && done.step === 9 && done.stepsThisRun === 3, JSON.stringify(done));
    });

    it('stops the current run on stop, ignores a stop for another run', async () => {
      const r = rig({ stepMs: 5 });
      r.c.handle({ type: 'train', job: job(8, { maxSeconds: 30 }) });
      await until('the run to start', () => r.reports(8).some((x) => x.kind === 'started'));
      r.c.handle({ type: 'stop', runId: 99 });
      assert.strictEqual(r.c.runningId, 8);
      assert.match(r.logs('info')[0], /stop for run 99 ignored/);
      r.c.handle({ type: 'stop', runId: 8 });
      await r.c.whenIdle();
      const last = r.reports(8).pop()!;
      assert.ok(last.kind === 'done' && last.stoppedBy === 'abort', JSON.stringify(last));
    });

    it('refuses a second run while one trains, with an error report for the new run', async () => {
      const r = rig({ stepMs: 5 });
      r.c.handle({ type: 'train', job: job(10, { maxSeconds: 30 }) });
      r.c.handle({ type: 'train', job: job(11) });
      const refused = r.reports(11);
      assert.strictEqual(refused.length, 1);
      assert.ok(refused[0].kind === 'error' && !refused[0].deviceLost && /run 10 is still training/.test(refused[0].message), JSON.stringify(refused[0]));
      assert.strictEqual(r.c.runningId, 10);
      r.c.handle({ type: 'stop', runId: 10 });
      await r.c.whenIdle();
      assert.strictEqual(r.reports(10).pop()!.kind, 'done');
      // Once it is over, a new run is accepted.
      r.c.handle({ type: 'train', job: job(12, { maxSteps: 2 }) });
      await r.c.whenIdle();
      assert.strictEqual(r.reports(12).pop()!.kind, 'done');
    });

    it('reports a lost device, then creates a new context for the next run', async () => {
      const r = rig({ stepMs: 5 });
      await r.c.start();
      r.c.handle({ type: 'train', job: job(20, { maxSeconds: 30 }) });
      await until('a checkpoint', () => r.reports(20).some((x) => x.kind === 'checkpoint'));
      r.c.handle({ type: 'loseDevice' });
      await r.c.whenIdle();
      const last = r.reports(20).pop()!;
      assert.ok(last.kind === 'error' && last.deviceLost && /^the GPU device was lost \(destroyed[^)]*\): training step \d+: reading the loss failed/.test(last.message), JSON.stringify(last));
      assert.ok(r.gpus[0].destroyed);
      assert.strictEqual(r.c.gpu.available, false);
      r.c.handle({ type: 'train', job: job(21, { maxSteps: 3 }) });
      await r.c.whenIdle();
      assert.strictEqual(r.gpus.length, 2);
      const started = r.reports(21)[0];
      assert.ok(started.kind === 'started' && started.adapter === 'Fake GPU 2', JSON.stringify(started));
      assert.strictEqual(r.reports(21).pop()!.kind, 'done');
      assert.deepStrictEqual(r.c.gpu, { available: true, adapter: 'Fake GPU 2', why: '', software: '' });
    });

    it('marks an error deviceLost when the device goes away by itself (its loss reported late)', async () => {
      const r = rig({ stepMs: 5 });
      r.c.handle({ type: 'train', job: job(25, { maxSeconds: 30 }) });
      await until('the run to start', () => r.reports(25).some((x) => x.kind === 'started'));
      r.gpus[0].lose('unknown: driver reset');
      await r.c.whenIdle();
      const last = r.reports(25).pop()!;
      assert.ok(last.kind === 'error' && last.deviceLost && /the GPU device was lost \(unknown: driver reset\)/.test(last.message), JSON.stringify(last));
      assert.ok(!r.c.gpu.available && /driver reset/.test(r.c.gpu.why), JSON.stringify(r.c.gpu));
    });

    it('treats loseDevice as harmless when idle or without a device', async () => {
      const none = rig();
      assert.doesNotThrow(() => none.c.handle({ type: 'loseDevice' }));
      assert.match(none.logs('info')[0], /no GPU device/);
      const r = rig();
      await r.c.start();
      r.c.handle({ type: 'loseDevice' });
      r.c.handle({ type: 'loseDevice' });
      assert.ok(r.gpus[0].destroyed);
      r.c.handle({ type: 'train', job: job(30, { maxSteps: 2 }) });
      await r.c.whenIdle();
      assert.strictEqual(r.gpus.length, 2);
      assert.strictEqual(r.reports(30).pop()!.kind, 'done');
    });

    it('answers a job with an error report when there is no WebGPU', async () => {
      const r = rig({ gpu: 'none' });
      await r.c.start();
      r.c.handle({ type: 'train', job: job(40) });
      await r.c.whenIdle();
      const reports = r.reports(40);
      assert.strictEqual(reports.length, 1);
      assert.ok(reports[0].kind === 'error' && !reports[0].deviceLost && /WebGPU is not available in this panel: no adapter \(test\)/.test(reports[0].message), JSON.stringify(reports[0]));
    });

    it('reports a bad job as an error without throwing', async () => {
      const r = rig();
      r.c.handle({ type: 'train', job: job(50, { maxSteps: 2 }, { text: { train: 'ab', val: 'a' } }) });
      await r.c.whenIdle();
      const reports = r.reports(50);
      assert.strictEqual(reports.length, 1);
      assert.ok(reports[0].kind === 'error' && /too short/.test(reports[0].message), JSON.stringify(reports[0]));
    });
  });
});

describe('webview dashboard helpers', () => {
  it('thins evenly, keeping the first and last points', () => {
    const pts = Array.from({ length: 10001 }, (_, i) => i);
    const t = thinEvenly(pts, 5000);
    assert.strictEqual(t.length, 5000);
    assert.strictEqual(t[0], 0);
    assert.strictEqual(t[t.length - 1], 10000);
    const gaps = new Set(t.slice(1).map((v, i) => v - t[i]));
    assert.ok([...gaps].every((g) => g === 2 || g === 3), [...gaps].join());
  });

  it('continues the training curve\'s running average across a Resume instead of restarting it', () => {
    const c = new Curves();
    const progress = (runId: number, step: number, bitsPerChar: number) => c.report({ kind: 'progress', runId, step, loss: 1, bitsPerChar, tokensPerSecond: 1, elapsedSeconds: step, fraction: 0, etaSeconds: 0, epoch: 0, time: 1000 + step });
    for (let s = 1; s <= 100; s++) progress(1, s, 3);
    c.report({ kind: 'started', runId: 2, step: 100, backend: 'cpu', adapter: '', config: { cell: 'lstm', vocabSize: 10, embedSize: 4, hiddenSize: 8, numLayers: 1, dropout: 0 }, parameters: 1, trainTokens: 1, valTokens: 1, resumed: true });
    // The resumed trainer's mean covers only its own few steps (2.0 here: the model got better since
    // the window's older steps): shown alone, the curve would drop from 3 to 2 at once.
    for (let s = 101; s <= 200; s++) progress(2, s, 2);
    const at = (step: number) => c.train.find((p) => p.step === step)!.bpc;
    assert.ok(Math.abs(at(101) - (1 * 2 + 49 * 3) / 50) < 1e-12, String(at(101)));
    for (let s = 101; s <= 200; s++) assert.ok(at(s - 1) - at(s) <= 1 / 50 + 1e-12, `a drop of ${at(s - 1) - at(s)} at step ${s}`);
    assert.strictEqual(at(150), 2, 'after a whole window the trainer\'s own mean stands');
    // A new model starts a new curve, unblended.
    c.report({ kind: 'started', runId: 3, step: 0, backend: 'cpu', adapter: '', config: { cell: 'lstm', vocabSize: 10, embedSize: 4, hiddenSize: 8, numLayers: 1, dropout: 0 }, parameters: 1, trainTokens: 1, valTokens: 1, resumed: false });
    progress(3, 1, 5);
    assert.strictEqual(at(1), 5);
  });

  it('keeps curves capped, in step order, and resets them for a new model', () => {
    const c = new Curves();
    for (let s = 1; s <= 12000; s++) c.report({ kind: 'progress', runId: 1, step: s, loss: 1, bitsPerChar: 5 - s / 10000, tokensPerSecond: 1, elapsedSeconds: s, fraction: 0, etaSeconds: 0, epoch: 0, time: 1000 + s });
    assert.ok(c.train.length <= MAX_CURVE_POINTS && c.train.length > MAX_CURVE_POINTS / 2, String(c.train.length));
    assert.strictEqual(c.train[c.train.length - 1].step, 12000);
    assert.ok(c.train.every((p, i) => i === 0 || p.step > c.train[i - 1].step));
    // A resumed run from step 100 drops what came after it; a stale run is ignored.
    c.report({ kind: 'started', runId: 2, step: 100, backend: 'cpu', adapter: '', config: { cell: 'lstm', vocabSize: 10, embedSize: 4, hiddenSize: 8, numLayers: 1, dropout: 0 }, parameters: 1, trainTokens: 1, valTokens: 1, resumed: true });
    assert.ok(c.train.every((p) => p.step <= 100));
    assert.strictEqual(c.report({ kind: 'eval', runId: 1, step: 5, bitsPerChar: 3, bitsPerToken: 3, time: 1 }), false);
    c.report({ kind: 'eval', runId: 2, step: 150, bitsPerChar: 3, bitsPerToken: 3, time: 1 });
    for (let s = 101; s <= 300; s++) c.report({ kind: 'progress', runId: 2, step: s, loss: 1, bitsPerChar: 4, tokensPerSecond: 1, elapsedSeconds: s, fraction: 0, etaSeconds: 0, epoch: 0, time: 2000 + s });
    // The state's step lags the progress reports (it moves at checkpoints): the curve stays.
    c.applyState({ ...state, step: 200, history: [{ step: 50, valBpc: 4, time: 5 }, { step: 100, valBpc: 3.5 }] });
    assert.deepStrictEqual(c.val.map((p) => p.step), [50, 100, 150]);
    assert.strictEqual(c.train[c.train.length - 1].step, 300);
    const saved = JSON.parse(JSON.stringify(c.toJSON()));
    const d = new Curves();
    d.restore(saved);
    assert.deepStrictEqual(d.train, c.train);
    assert.deepStrictEqual(d.val, c.val);
    d.restore({ train: [{ step: -1, bpc: 1 }, { step: 1, bpc: 'x' }, null, { step: 2, bpc: 1.5 }], val: 'nope' });
    assert.deepStrictEqual(d.train, [{ step: 2, bpc: 1.5 }]);
    assert.deepStrictEqual(d.val, []);
    // A reset (no model, no steps, no history) clears the curves.
    const e = new Curves();
    e.restore(saved);
    e.applyState(state);
    assert.deepStrictEqual([e.train.length, e.val.length], [0, 0]);
    c.report({ kind: 'started', runId: 3, step: 0, backend: 'cpu', adapter: '', config: { cell: 'lstm', vocabSize: 10, embedSize: 4, hiddenSize: 8, numLayers: 1, dropout: 0 }, parameters: 1, trainTokens: 1, valTokens: 1, resumed: false });
    assert.deepStrictEqual(c.toJSON().train, []);
  });

  it('picks round ticks', () => {
    const t = niceTicks(1.37, 6.52, 5);
    assert.deepStrictEqual(t.ticks, [1, 2, 3, 4, 5, 6, 7]);
    const f = tickFormatter([0, 5000, 10000, 15000], 5000);
    assert.deepStrictEqual([0, 5000, 10000, 15000].map(f), ['0', '5k', '10k', '15k']);
    assert.deepStrictEqual(niceTicks(2, 2.3, 4).ticks.map(tickFormatter(niceTicks(2, 2.3, 4).ticks, 0.1)), ['2.0', '2.1', '2.2', '2.3']);
  });

  it('checks form values against FORM_BOUNDS', () => {
    assert.deepStrictEqual(checkNumber('hiddenSize', ' 256 '), { ok: true, value: 256 });
    assert.deepStrictEqual(checkNumber('learningRate', '2e-3'), { ok: true, value: 0.002 });
    for (const bad of ['', 'abc', '12.5', '0', '4096', '0x10', 'Infinity', '1e400']) {
      const r = checkNumber('hiddenSize', bad);
      assert.ok(!r.ok && /Hidden size/.test(r.message) && /1 to 2048/.test(r.message), `${bad}: ${JSON.stringify(r)}`);
    }
    assert.ok(!checkNumber('dropout', '0.95').ok);
    assert.ok(checkNumber('dropout', '0.9').ok);
    for (const [key, b] of Object.entries(FORM_BOUNDS)) {
      assert.ok(checkNumber(key as keyof typeof FORM_BOUNDS, formatValue(b.min)).ok, key);
      assert.ok(checkNumber(key as keyof typeof FORM_BOUNDS, formatValue(b.max)).ok, key);
    }
  });

  it('makes Resume the primary button when a model exists (Train otherwise), and names Export and Import as the palette does', () => {
    assert.strictEqual(primaryCommand(null), 'train');
    assert.strictEqual(primaryCommand({ ...state, model: null, step: 0 }), 'train');
    assert.strictEqual(primaryCommand({ ...state, model: { cell: 'lstm', vocabSize: 10, embedSize: 4, hiddenSize: 8, numLayers: 1, dropout: 0 } }), 'resume');
    const label = (c: string) => COMMANDS.find((x) => x.command === c)!.label;
    // package.json's titles are "Export Model…" and "Import Model…" (one ellipsis character).
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { contributes: { commands: { command: string; title: string }[] } };
    const title = (c: string) => manifest.contributes.commands.find((x) => x.command === `gatescope.${c}`)!.title;
    for (const c of ['export', 'import']) assert.strictEqual(label(c), title(c));
  });

  it('enables the buttons that make sense', () => {
    const on = (s: Partial<PanelState> | null) => [...enabledCommands(s ? { ...state, ...s } : null)].sort();
    assert.deepStrictEqual(on(null), []);
    assert.deepStrictEqual(on({}), ['import', 'train']);
    assert.deepStrictEqual(on({ step: 10 }), ['export', 'import', 'reset', 'resume', 'train']);
    assert.deepStrictEqual(on({ status: 'training', step: 10 }), ['export', 'stop']);
    assert.deepStrictEqual(on({ status: 'collecting' }), ['stop']);
    assert.deepStrictEqual(on({ status: 'stopping', step: 10 }), []);
  });
});
