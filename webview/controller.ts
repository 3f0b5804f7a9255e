// The webview's message handling, without the DOM: every message from the extension is checked by
// parseToWebview (malformed ones are reported back as a 'log' warning and dropped), the dashboard is
// told about state, settings and reports, and 'train' jobs run here on WebGPU through the same
// runTrainingJob the CPU worker uses; 'probe' times a few steps of a model here for "auto"
// (kernels/backendChoice.ts probeBackend). Everything it touches comes in through `deps`, so plain-Node
// tests can drive it with a fake GPU and a fake backend:
//
//   const posted: FromWebview[] = [];
//   const c = new WebviewController({
//     post: (m) => posted.push(m),
//     createGpu: async () => ({ ctx: { adapterName: 'fake', isLost: false, device: { destroy() {} } } }),
//     createBackend: async (ctx, config, params, optim, opts) => new FakeBackend(config, params, optim, opts),
//   });
//   await c.start();          // posts { type: 'ready', version, gpu }
//   c.handle({ type: 'nonsense' });   // posts { type: 'log', level: 'warn', message } and drops it
//
// It never throws out of `handle` or `start`.

import type { TrainingBackend } from '../kernels/backend';
import { probeBackend, softwareAdapterReason } from '../kernels/backendChoice';
import { GateScopeError } from '../kernels/errors';
import { initParams } from '../kernels/params';
import { BackendFactory, TrainingJob, TrainingReport, runTrainingJob } from '../kernels/session';
import { DisplayReport, FormValues, FromWebview, GpuInfo, PROTOCOL_VERSION, PanelState, ProtocolError, ToWebview, parseToWebview } from './protocol';

/** What the controller needs of a GPU context; kernels/webgpu/context.ts's GpuContext has all of it. */
export interface GpuHandle {
  readonly adapterName: string;
  /** True once the device is lost (set asynchronously by the device's `lost` promise). */
  readonly isLost: boolean;
  /** Why the device was lost, or null. */
  readonly lostReason?: string | null;
  readonly device: { destroy(): void };
  onLost?(listener: (reason: string) => void): void;
}

/** The visible panel, as the controller drives it (webview/dashboard.ts implements it). */
export interface ControllerUi {
  init(settings: FormValues, state: PanelState): void;
  setState(state: PanelState): void;
  setSettings(settings: FormValues): void;
  report(report: DisplayReport): void;
  setGpu(gpu: GpuInfo): void;
  /** The form's last change was written to these settings. */
  settingsSaved(scope: 'workspace' | 'user'): void;
}

export interface ControllerDeps<C extends GpuHandle> {
  /** Sends a message to the extension (acquireVsCodeApi().postMessage in the webview). */
  post(msg: FromWebview): void;
  /** Creates the GPU context; { ctx: null, why } when there is no adapter. May reject. */
  createGpu(): Promise<{ ctx: C | null; why?: string; isFallbackAdapter?: boolean }>;
  /** Creates the training backend on a context (WebGpuBackend.create in the webview). */
  createBackend(ctx: C, ...args: Parameters<BackendFactory>): Promise<TrainingBackend>;
  /** The dashboard; absent in tests that only look at posted messages. */
  ui?: ControllerUi;
  /** Replaces runTrainingJob (tests); defaults to the real one. */
  runJob?: typeof runTrainingJob;
}

interface ActiveRun {
  runId: number;
  abort: AbortController;
  done: Promise<void>;
  finished: boolean;
}

/** Longest message text a 'log' carries (the protocol allows 64 KiB; a hostile input should not echo that much). */
const MAX_LOG = 2000;

/** How long a training error waits for the device's loss to be reported before it is sent as it is. */
const LOSS_GRACE_MS = 250;

export class WebviewController<C extends GpuHandle = GpuHandle> {
  private ctx: C | null = null;
  /** The context was destroyed or lost: the next run needs a new one. */
  private dropped = false;
  private info: GpuInfo = { available: false, adapter: '', why: 'WebGPU has not been started yet', software: '' };
  private creating: Promise<void> | null = null;
  private started: Promise<void> | null = null;
  private run: ActiveRun | null = null;

  constructor(private readonly deps: ControllerDeps<C>) {}

  /** GPU info as last posted in 'ready' (or updated since by a device loss). */
  get gpu(): GpuInfo {
    return { ...this.info };
  }

  /** The run id training in this webview, or null. */
  get runningId(): number | null {
    return this.run && !this.run.finished ? this.run.runId : null;
  }

  /** Resolves when no run is in progress (tests await it). */
  async whenIdle(): Promise<void> {
    while (this.run) await this.run.done;
  }

  /** Creates the GPU context and posts 'ready' once; later calls return the same promise. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.ensureGpu();
      this.send({ type: 'ready', version: PROTOCOL_VERSION, gpu: this.gpu });
    })().catch((e) => this.log('error', `starting the panel failed: ${describe(e)}`));
    return this.started;
  }

  /** Handles one raw message from the extension (window 'message' event.data). Never throws. */
  handle(raw: unknown): void {
    let msg: ToWebview;
    try {
      msg = parseToWebview(raw);
    } catch (e) {
      this.log('warn', `dropped a malformed message: ${e instanceof ProtocolError ? e.message : describe(e)}`);
      return;
    }
    try {
      this.dispatch(msg);
    } catch (e) {
      this.log('error', `handling a '${msg.type}' message failed: ${describe(e)}`);
    }
  }

  private dispatch(msg: ToWebview): void {
    switch (msg.type) {
      case 'init':
        if (msg.version !== PROTOCOL_VERSION) this.log('warn', `the extension speaks protocol ${msg.version}, this panel ${PROTOCOL_VERSION}`);
        this.deps.ui?.init(msg.settings, msg.state);
        return;
      case 'state':
        this.deps.ui?.setState(msg.state);
        return;
      case 'settings':
        this.deps.ui?.setSettings(msg.settings);
        return;
      case 'report':
        this.deps.ui?.report(msg.report);
        return;
      case 'train':
        this.train(msg.job);
        return;
      case 'settingsSaved':
        this.deps.ui?.settingsSaved(msg.scope);
        return;
      case 'stop':
        if (this.run && !this.run.finished && this.run.runId === msg.runId) this.run.abort.abort();
        else this.log('info', `stop for run ${msg.runId} ignored: ${this.runningId === null ? 'nothing is training here' : `run ${this.runningId} is training here`}`);
        return;
      case 'loseDevice':
        this.loseDevice();
        return;
      case 'probe':
        void this.probe(msg);
        return;
    }
  }

  /** Times a few steps of the model on this panel's device and answers with 'probeResult' (never while a run trains here). */
  private async probe(msg: Extract<ToWebview, { type: 'probe' }>): Promise<void> {
    const answer = (secondsPerStep: number | null, error: string) => this.send({ type: 'probeResult', probeId: msg.probeId, secondsPerStep, error });
    if (this.runningId !== null) return answer(null, `run ${this.runningId} is training in this panel`);
    await this.ensureGpu();
    const ctx = this.ctx;
    if (!ctx) return answer(null, `WebGPU is not available in this panel: ${this.info.why}`);
    const { config, batch, optim, seed } = msg;
    const t = await probeBackend(() => this.deps.createBackend(ctx, config, initParams(config, seed), optim, { dropoutSeed: seed }), config.vocabSize, batch.seqLen, batch.batchSize);
    answer(t.ok ? t.secondsPerStep : null, t.ok ? '' : t.error);
  }

  private train(job: TrainingJob): void {
    if (this.run && !this.run.finished) {
      this.report({ kind: 'error', runId: job.runId, step: 0, message: `run ${this.run.runId} is still training in this panel; stop it before starting another`, deviceLost: false });
      return;
    }
    const abort = new AbortController();
    const run: ActiveRun = { runId: job.runId, abort, done: Promise.resolve(), finished: false };
    this.run = run;
    run.done = this.execute(job, run)
      .catch((e) => {
        // runTrainingJob never throws; this is a bug in the code around it: still end the run with a report.
        if (!run.finished) this.report({ kind: 'error', runId: job.runId, step: 0, message: `internal error: ${describe(e)}`, deviceLost: false });
      })
      .finally(() => {
        run.finished = true;
        if (this.run === run) this.run = null;
      });
  }

  private async execute(job: TrainingJob, run: ActiveRun): Promise<void> {
    await this.ensureGpu();
    const ctx = this.ctx;
    const why = this.info.why;
    const wasLost = this.dropped;
    const factory: BackendFactory = async (config, params, optim, opts) => {
      if (!ctx) {
        // 'device was lost' in the message marks the error report deviceLost, so the extension resumes elsewhere.
        throw new GateScopeError(wasLost ? `the GPU device was lost and a new one could not be created: ${why}` : `WebGPU is not available in this panel: ${why}`);
      }
      return this.deps.createBackend(ctx, config, params, optim, opts);
    };
    let failure: Extract<TrainingReport, { kind: 'error' }> | null = null;
    const emit = (r: TrainingReport) => {
      if (r.kind === 'done' || r.kind === 'error') run.finished = true;
      // An error on a live context is held until we know whether the device went away: in Chromium a
      // pending mapAsync fails ("Buffer was unmapped before mapping was resolved") before the device's
      // `lost` promise resolves, so the message alone does not say the device was lost.
      if (r.kind === 'error' && !r.deviceLost && ctx) failure = r;
      else this.send({ type: 'report', report: r });
    };
    await (this.deps.runJob ?? runTrainingJob)(job, { backend: 'webgpu', adapter: ctx?.adapterName ?? '' }, factory, emit, run.abort.signal);
    if (failure && ctx) {
      const f: Extract<TrainingReport, { kind: 'error' }> = failure;
      const lost = await this.lossOf(ctx, LOSS_GRACE_MS);
      this.report(lost === null ? f : { ...f, deviceLost: true, message: `the GPU device was lost (${lost}): ${f.message.replace(/^internal error: /, '')}` });
    }
  }

  /** Why `ctx`'s device is gone, waiting up to `graceMs` for its loss to be reported; null if it is alive. */
  private async lossOf(ctx: C, graceMs: number): Promise<string | null> {
    const deadline = Date.now() + graceMs;
    for (;;) {
      if (this.ctx === ctx && this.dropped && !ctx.isLost) return 'destroyed on request';
      if (ctx.isLost) return ctx.lostReason || 'reason unknown';
      if (Date.now() >= deadline) return null;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Makes sure there is a live context (creating a new one after a loss); updates the GPU info. */
  private ensureGpu(): Promise<void> {
    if (this.ctx && !this.ctx.isLost && !this.dropped) return Promise.resolve();
    this.creating ??= (async () => {
      let info: GpuInfo;
      try {
        const { ctx, why, isFallbackAdapter } = await this.deps.createGpu();
        if (ctx) {
          this.ctx = ctx;
          this.dropped = false;
          const adapter = String(ctx.adapterName ?? '');
          // The adapter name joins its vendor, architecture, device and description (kernels/webgpu/context.ts).
          info = { available: true, adapter, why: '', software: softwareAdapterReason({ description: adapter, isFallbackAdapter }) };
          this.watch(ctx);
        } else {
          info = { available: false, adapter: '', why: why || 'no WebGPU adapter', software: '' };
        }
      } catch (e) {
        info = { available: false, adapter: '', why: `WebGPU failed to start: ${describe(e)}`, software: '' };
      }
      this.setInfo(info);
    })().finally(() => {
      this.creating = null;
    });
    return this.creating;
  }

  private watch(ctx: C): void {
    try {
      ctx.onLost?.((reason) => {
        if (this.ctx !== ctx) return;
        this.dropped = true;
        this.setInfo({ available: false, adapter: ctx.adapterName, why: `the GPU device was lost (${reason}); a new one is requested for the next run`, software: this.info.software });
      });
    } catch {
      // A context without a working onLost still reports isLost.
    }
  }

  private loseDevice(): void {
    const ctx = this.ctx;
    if (!ctx || this.dropped) {
      this.log('info', 'loseDevice: no GPU device to destroy');
      return;
    }
    this.dropped = true;
    try {
      ctx.device.destroy();
    } catch (e) {
      this.log('warn', `destroying the GPU device failed: ${describe(e)}`);
    }
    this.setInfo({ available: false, adapter: ctx.adapterName, why: 'the GPU device was destroyed on request; a new one is requested for the next run', software: this.info.software });
    this.log('info', `loseDevice: destroyed the GPU device${this.runningId !== null ? ` during run ${this.runningId}` : ''}`);
  }

  private setInfo(info: GpuInfo): void {
    this.info = info;
    try {
      this.deps.ui?.setGpu({ ...info });
    } catch (e) {
      this.log('error', `showing the GPU state failed: ${describe(e)}`);
    }
  }

  private report(r: TrainingReport): void {
    this.send({ type: 'report', report: r });
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.send({ type: 'log', level, message: message.length > MAX_LOG ? `${message.slice(0, MAX_LOG)}…` : message });
  }

  /** Posts, never throwing (a failed post of a log is dropped; of anything else it is logged). */
  private send(msg: FromWebview): void {
    try {
      this.deps.post(msg);
    } catch (e) {
      if (msg.type !== 'log') this.log('error', `posting a '${msg.type}' message failed: ${describe(e)}`);
    }
  }
}

/** An error's message, safely (a thrown value may be anything, even an object whose toString throws). */
function describe(e: unknown): string {
  try {
    if (e instanceof Error) return e.message;
    return String(e);
  } catch {
    return 'an unprintable error';
  }
}
