// Training runs from start to end: reads the workspace (under its notification), picks the backend
// (kernels/backendChoice.ts, with what the panel found out about its WebGPU adapter and whether
// WebAssembly SIMD runs here) and says why, launches the runner, follows its reports (panel, status bar, log, checkpoint saving), stops it, and
// when the panel that trains on WebGPU is closed or loses its device, continues on the CPU from the
// last checkpoint or pauses (gatescope.training.onPanelClosed).
// "auto" in the extension: a software or missing WebGPU adapter trains on the CPU worker (WebAssembly
// SIMD, or the reference with a one-line notice); a hardware GPU gets a timed probe: a few steps of the
// run's model on the panel's device and in a CPU worker, both figures logged and shown in the panel
// (backendReason), and the faster trains.

import * as path from 'path';
import * as vscode from 'vscode';
import { BackendSetting, chooseByProbe, chooseTrainingBackend } from '../kernels/backendChoice';
import { ModelConfig, parameterCount, validateModelConfig } from '../kernels/config';
import { GateScopeError } from '../kernels/errors';
import { BackendKind, TrainingJob, TrainingReport } from '../kernels/session';
import { buildTokenizer, splitTrainVal } from '../kernels/trainingData';
import { softwareForAuto, threadsFor, wasmFacts } from '../cli/engines';
import { DisplayReport, PanelState, toDisplayReport } from '../webview/protocol';
import { StartTrainingOptions, TrainingOutcome } from './api';
import { CheckpointSaver } from './checkpointSaver';
import { collectUnderNotification } from './corpusNotification';
import { PanelBridge } from './panelBridge';
import { CpuRunner, Runner, RunnerEvents, WebviewRunner, probeWasmInWorker } from './runners';
import { Settings, readSettings } from './settings';
import { BACKEND_LABEL, LiveFigures, TrainingStatusBar } from './statusBar';
import { ModelStore } from './store';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void, reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Where a run trains, and why (logged, and shown in the panel). */
interface Choice {
  backend: BackendKind;
  reason: string;
  note?: string;
}

/** How long one side of "auto"'s probe may take before it counts as failed. */
const PROBE_TIMEOUT_MS = 60_000;

interface ActiveRun {
  id: number;
  runner: Runner;
  job: TrainingJob;
  settings: Settings;
  startedAtMs: number;
  started: Deferred<void>;
  finished: Deferred<TrainingOutcome>;
  saver: CheckpointSaver;
  stopping: boolean;
  /** Set while a lost runner is being replaced (a closed panel and its error report both say so). */
  recovering: boolean;
}

export class TrainingRuns implements vscode.Disposable {
  readonly bridge: PanelBridge;
  private readonly statusBar = new TrainingStatusBar();
  private readonly reports = new vscode.EventEmitter<DisplayReport>();
  readonly onDidReport = this.reports.event;
  private run: ActiveRun | null = null;
  /** Cancels reading the workspace and choosing the backend, before the run exists (Stop Training cancels it too). */
  private preparing: vscode.CancellationTokenSource | null = null;
  private nextRunId = 1;
  private lastOutcome: TrainingOutcome | null = null;
  /** The current run's latest progress figures (ahead of the state's step, which moves at checkpoints). */
  private live: LiveFigures = {};

  constructor(private readonly extensionPath: string, readonly store: ModelStore, private readonly log: vscode.LogOutputChannel) {
    this.bridge = new PanelBridge(vscode.Uri.file(extensionPath), log, {
      report: (r) => {
        if (this.run?.runner.kind === 'webgpu') this.onReport(r.runId, r);
      },
      disposed: () => {
        if (this.run?.runner.kind === 'webgpu') void this.onRunnerLost(this.run.id, 'the GateScope panel was closed during WebGPU training');
      },
      stateChanged: () => this.showStatus(),
    });
  }

  /**
   * Shows the stored model in the status bar and sets the context keys. Cheap (activation waits for
   * it): the "has a model" key comes from the file's existence; the model itself is read afterwards.
   */
  async init(): Promise<void> {
    this.showStatus();
    await this.updateContext();
    void this.store.load().then(
      (m) => { if (m && !this.isTraining) this.adoptCheckpointState(m.checkpoint); },
      (e) => this.log.warn(`the stored model cannot be read: ${(e as Error).message}`),
    );
  }

  /** Training, or reading the workspace to train. */
  get isTraining(): boolean {
    return this.run !== null || this.preparing !== null;
  }

  get trainingOn(): BackendKind | null {
    return this.run?.runner.kind ?? null;
  }

  // -------------------------------------------------------------------------------------------
  // Starting and stopping

  async start(opts: StartTrainingOptions = {}): Promise<void> {
    if (this.isTraining) throw new GateScopeError('GateScope is already training; stop it first (GateScope: Stop Training).');
    const { settings, problems } = readSettings();
    for (const p of problems) this.log.warn(p);
    if (problems.length) void vscode.window.showWarningMessage(`GateScope: ${problems.length} setting(s) out of bounds were replaced by their defaults (see the GateScope output).`);
    if (opts.timeBudgetSeconds !== undefined) settings.timeBudgetSeconds = opts.timeBudgetSeconds;

    let resume: TrainingJob['resume'];
    let history: TrainingJob['history'];
    let resumedConfig: ModelConfig | undefined;
    if (opts.resume) {
      const stored = await this.store.load();
      if (!stored) throw new GateScopeError('There is no model to resume yet: run GateScope: Train on Workspace first.');
      resume = { model: stored.bytes, optimizer: await this.store.loadOptimizerBytes() };
      history = stored.checkpoint.history;
      resumedConfig = stored.checkpoint.config;
    }

    this.bridge.update({ status: 'collecting', message: 'Reading the workspace…' });
    const preparing = (this.preparing = new vscode.CancellationTokenSource());
    void this.updateContext();
    let corpus, choice: Choice;
    try {
      corpus = await collectUnderNotification(settings.corpus, this.log, preparing);
      this.bridge.update({ corpus: { files: corpus.files.length, skipped: corpus.skipped.length, bytes: corpus.bytes, folders: corpus.folders } });
      if (!corpus.text.length) {
        const why = corpus.skipped.length ? `every file was skipped (${corpus.skipped.length}; see the GateScope output for why)` : 'no text files were found';
        throw new GateScopeError(`GateScope has nothing to train on: ${why}. Check gatescope.corpus.include and gatescope.corpus.exclude.`);
      }
      const text = corpus.text;
      choice = await this.chooseBackend(opts.backend ?? settings.backend, settings, () => resumedConfig ?? newModelConfig(settings, text));
      if (preparing.token.isCancellationRequested) throw new vscode.CancellationError();
    } catch (e) {
      this.bridge.update({ status: 'idle', message: e instanceof vscode.CancellationError ? 'Reading the workspace was cancelled.' : (e as Error).message });
      throw e;
    } finally {
      preparing.dispose();
      this.preparing = null;
      void this.updateContext();
    }
    const text = splitTrainVal(corpus.text, settings.validationFraction);
    const job: TrainingJob = {
      runId: this.nextRunId++,
      text,
      model: settings.model,
      tokenizer: settings.tokenizer,
      optim: settings.optim,
      batch: settings.batch,
      budget: { maxSeconds: settings.timeBudgetSeconds, maxSteps: opts.maxSteps },
      checkpointEverySeconds: settings.checkpointIntervalSeconds,
      evalEverySeconds: settings.evalIntervalSeconds,
      seed: settings.seed,
      resume,
      history,
    };
    if (!resume) this.bridge.update({ history: [], step: 0 });
    // Reports arrive asynchronously (worker and webview messages), so the run is in place before the first.
    const run: ActiveRun = {
      id: job.runId, runner: this.launch(job, choice.backend, settings), job, settings, startedAtMs: Date.now(),
      started: deferred(), finished: deferred(), saver: new CheckpointSaver(this.store, this.log, () => void this.updateContext()),
      stopping: false, recovering: false,
    };
    this.run = run;
    this.live = {};
    const backendReason = choice.note ? `${choice.reason}. ${choice.note}` : `${choice.reason}.`;
    this.bridge.update({ status: 'training', message: `Training on ${BACKEND_LABEL[choice.backend]}…`, backend: choice.backend, backendReason });
    await this.updateContext();
    await run.started.promise;
  }

  /**
   * The backend for a run, with the reason logged; "auto" never picks a software WebGPU adapter, and on a
   * hardware one times `model()` on both engines first.
   */
  private async chooseBackend(wanted: BackendSetting, settings: Settings, model: () => ModelConfig): Promise<Choice> {
    const shown = wanted === 'cpu' || wanted === 'wasm' ? null : await this.bridge.panel.open(20000);
    const gpu = shown && { ...shown, software: softwareForAuto(shown.software ?? '') };
    const d = chooseTrainingBackend(wanted, gpu, wasmFacts());
    if (!d.ok) throw new GateScopeError(d.error.replace(/Choose the backend/, 'Set gatescope.training.backend to'));
    this.log.info(`backend (gatescope.training.backend "${wanted}"): ${d.reason}`);
    // The note (an explicit "webgpu" on a software adapter, the reference engine without WebAssembly
    // SIMD) goes to the log and the panel, not to a notification: notifications are for reading the
    // workspace and for errors.
    if (d.note) this.log.warn(d.note);
    if (!d.probe) return d;
    const config = model();
    const threads = threadsFor(settings.threads);
    this.bridge.update({ message: 'Timing a few steps on WebGPU and on the CPU to pick the faster…' });
    const wasm = await probeWasmInWorker(this.workerPath, { config, batch: settings.batch, optim: settings.optim, seed: settings.seed }, threads, PROBE_TIMEOUT_MS);
    const webgpu = await this.bridge.probe(config, settings.batch, settings.optim, settings.seed, PROBE_TIMEOUT_MS);
    const c = chooseByProbe({ adapter: gpu?.adapter ?? '', threads, webgpu, wasm });
    this.log.info(`backend: ${c.reason}`);
    return c;
  }

  private get workerPath(): string {
    return path.join(this.extensionPath, 'dist', 'trainWorker.js');
  }

  private launch(job: TrainingJob, backend: BackendKind, settings: Settings): Runner {
    const id = job.runId;
    const events: RunnerEvents = {
      report: (r) => this.onReport(id, r),
      lost: (reason) => void this.onRunnerLost(id, reason),
    };
    const threads = backend === 'wasm' ? threadsFor(settings.threads) : 1;
    this.log.info(`run ${id}: training on ${BACKEND_LABEL[backend]}${backend === 'wasm' ? ` with ${threads} thread${threads === 1 ? '' : 's'}` : ''}${job.resume ? ' from the stored checkpoint' : ' a new model'} (budget ${job.budget.maxSeconds ?? '∞'} s${job.budget.maxSteps ? `, ${job.budget.maxSteps} steps` : ''})`);
    if (backend !== 'webgpu') return new CpuRunner(this.workerPath, job, backend, threads, events);
    return new WebviewRunner((m) => this.bridge.post(m), id, job, events);
  }

  /** Stops the current run (every surface says "Stopping…" at once); resolves once its final checkpoint is written. */
  async stop(): Promise<TrainingOutcome | null> {
    if (this.preparing) {
      this.preparing.cancel();
      this.bridge.update({ status: 'stopping', message: 'Stopping…' });
    }
    const run = this.run;
    if (!run) return this.lastOutcome;
    if (!run.stopping) {
      run.stopping = true;
      this.bridge.update({ status: 'stopping', message: 'Stopping after this step…' });
      run.runner.stop();
    }
    return run.finished.promise;
  }

  whenStopped(): Promise<TrainingOutcome | null> {
    return this.run ? this.run.finished.promise : Promise.resolve(this.lastOutcome);
  }

  /** Stops training and deletes the stored model. */
  async reset(): Promise<void> {
    await this.stop();
    await this.store.clear();
    this.lastOutcome = null;
    this.bridge.update({ status: 'idle', message: 'The model was reset.', step: 0, history: [], model: null, parameters: 0, backend: null, backendReason: '', adapter: '' });
    await this.updateContext();
  }

  /** After an import: the stored model changed under us. */
  async reload(): Promise<void> {
    const m = await this.store.load();
    if (m) this.adoptCheckpointState(m.checkpoint);
    await this.updateContext();
  }

  // -------------------------------------------------------------------------------------------
  // Reports

  private onReport(runId: number, r: TrainingReport): void {
    const run = this.run;
    if (!run || run.id !== runId) return;
    const display = toDisplayReport(r);
    this.reports.fire(display);
    this.bridge.report(display);
    switch (r.kind) {
      case 'started':
        this.live = { step: r.step };
        this.bridge.update({
          step: r.step, backend: r.backend, adapter: r.adapter, parameters: r.parameters, model: r.config,
          ...(run.stopping ? {} : { message: `Training on ${BACKEND_LABEL[r.backend]} (${r.adapter})` }),
        });
        if (r.note) this.log.info(`run ${runId}: ${r.note}`);
        this.log.info(`run ${runId}: ${r.config.cell.toUpperCase()} ${r.config.numLayers}×${r.config.hiddenSize}, ${r.parameters} parameters, ${r.trainTokens} training and ${r.valTokens} validation tokens, from step ${r.step} on ${r.backend} (${r.adapter})`);
        run.started.resolve();
        break;
      case 'progress':
        this.live = { step: r.step, bitsPerChar: r.bitsPerChar, tokensPerSecond: r.tokensPerSecond };
        this.showStatus();
        break;
      case 'eval':
        this.bridge.update({ history: [...this.bridge.state.history, { step: r.step, valBpc: r.bitsPerChar, time: r.time }] });
        this.log.info(`run ${runId}: step ${r.step}, validation ${r.bitsPerChar.toFixed(4)} bits/char`);
        break;
      case 'checkpoint':
        run.saver.save(`run ${runId}`, r);
        break;
      case 'done':
        void run.saver.settled().then(() => this.finish(run, {
          step: r.step, stoppedBy: r.stoppedBy,
          message: `Trained ${r.stepsThisRun} steps (step ${r.step} in all)${r.valBitsPerChar !== null ? `; validation ${r.valBitsPerChar.toFixed(3)} bits/char` : ''}.`,
        }));
        break;
      case 'error':
        if (r.deviceLost) void this.onRunnerLost(runId, r.message);
        else void run.saver.settled().then(() => this.fail(run, r.message));
        break;
    }
  }

  private fail(run: ActiveRun, message: string): void {
    this.log.error(`run ${run.id}: ${message}`);
    run.started.reject(new GateScopeError(message));
    this.finish(run, { step: Math.max(run.saver.lastSavedStep, 0), stoppedBy: 'error', message });
    void vscode.window.showErrorMessage(`GateScope training stopped: ${message}`);
  }

  /** The runner went away mid-run: continue on the CPU from the last checkpoint, or pause. */
  private async onRunnerLost(runId: number, reason: string): Promise<void> {
    const run = this.run;
    if (!run || run.id !== runId || run.recovering) return;
    run.recovering = true;
    await run.saver.settled();
    if (run.runner.kind !== 'webgpu' || run.stopping) {
      this.fail(run, reason);
      return;
    }
    run.runner.dispose();
    const saved = run.saver.lastSavedStep >= 0 ? await this.store.load().catch(() => null) : null;
    const fromStep = saved ? saved.checkpoint.step : 0;
    this.log.warn(`run ${runId}: ${reason}; last checkpoint at step ${fromStep}`);
    if (run.settings.onPanelClosed === 'pause') {
      this.finish(run, { step: fromStep, stoppedBy: 'paused', message: `Paused at step ${fromStep}: ${reason}. Run GateScope: Resume Training to continue.` });
      void vscode.window.showWarningMessage(`GateScope training paused at step ${fromStep}: ${reason}. Run "GateScope: Resume Training" to continue.`);
      return;
    }
    const elapsed = (Date.now() - run.startedAtMs) / 1000;
    const job: TrainingJob = {
      ...run.job,
      runId: this.nextRunId++,
      budget: { ...run.job.budget, maxSeconds: run.job.budget.maxSeconds !== undefined ? Math.max(1, run.job.budget.maxSeconds - elapsed) : undefined },
      resume: saved ? { model: saved.bytes, optimizer: await this.store.loadOptimizerBytes() } : run.job.resume,
    };
    run.id = job.runId;
    run.job = job;
    const cpu = chooseTrainingBackend('wasm', null, wasmFacts());
    const backend = cpu.ok ? cpu.backend : 'cpu';
    if (cpu.ok && cpu.note) this.log.warn(cpu.note);
    run.runner = this.launch(job, backend, run.settings);
    run.recovering = false;
    if (run.stopping) run.runner.stop(); // Stop was asked for while the CPU runner was being set up
    this.bridge.update({ backend, backendReason: `${reason}: continuing on the CPU from the last checkpoint.`, message: `Continuing on the CPU from step ${fromStep} (${reason})` });
    void vscode.window.showWarningMessage(`GateScope: ${reason}. Training continues on the CPU from the last checkpoint (step ${fromStep}).`);
  }

  private finish(run: ActiveRun, outcome: TrainingOutcome): void {
    if (this.run !== run) return;
    this.run = null;
    this.live = {};
    run.runner.dispose();
    this.lastOutcome = outcome;
    this.log.info(`run ${run.id}: ${outcome.message}`);
    this.bridge.update({
      status: outcome.stoppedBy === 'error' ? 'error' : outcome.stoppedBy === 'paused' ? 'paused' : 'idle',
      message: outcome.message, step: Math.max(this.bridge.state.step, outcome.step),
    });
    void this.updateContext();
    run.started.resolve();
    run.finished.resolve(outcome);
  }

  // -------------------------------------------------------------------------------------------
  // State shown in the status bar and the panel

  private adoptCheckpointState(ck: { step: number; config: PanelState['model']; history?: PanelState['history'] }): void {
    this.bridge.update({ step: ck.step, model: ck.config, parameters: ck.config ? parameterCount(ck.config) : 0, history: [...(ck.history ?? [])] });
  }

  private showStatus(): void {
    this.statusBar.show(this.bridge.state, this.run?.runner.kind ?? null, this.live, this.run?.runner.threads);
  }

  private async updateContext(): Promise<void> {
    await vscode.commands.executeCommand('setContext', 'gatescope.training', this.isTraining);
    await vscode.commands.executeCommand('setContext', 'gatescope.hasModel', this.store.exists());
  }

  dispose(): void {
    if (this.run) {
      this.run.runner.stop();
      this.run.runner.dispose();
    }
    this.preparing?.cancel();
    this.bridge.dispose();
    this.statusBar.dispose();
    this.reports.dispose();
  }
}

/** The model a new run would build, for "auto"'s probe: the vocabulary of the character tokenizer, or BPE's size as set. */
function newModelConfig(settings: Settings, text: string): ModelConfig {
  const vocabSize = settings.tokenizer.kind === 'bpe' ? settings.tokenizer.vocabSize : buildTokenizer(text, { kind: 'char' }).vocabSize;
  return validateModelConfig({ ...settings.model, vocabSize });
}
