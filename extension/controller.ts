// Training orchestration: collects the corpus, picks where to train (the panel's WebGPU device or the
// CPU worker), starts and stops runs, saves every checkpoint atomically, shows progress (notification
// with cancel, status bar, panel), and, when the panel that trains is closed or loses its device,
// continues on the CPU from the last checkpoint (or pauses, per `gatescope.training.onPanelClosed`).

import * as path from 'path';
import * as vscode from 'vscode';
import { parameterCount } from '../kernels/config';
import { splitTrainVal } from '../kernels/trainingData';
import { GateScopeError } from '../kernels/errors';
import { BackendKind, TrainingJob, TrainingReport } from '../kernels/session';
import { formatCount } from '../kernels/format';
import { DisplayReport, FormValues, FromWebview, PanelState, toDisplayReport } from '../webview/protocol';
import { StartTrainingOptions, TrainingOutcome } from './api';
import { collectWorkspaceCorpus } from './corpus';
import { GateScopePanel } from './panel';
import { CpuRunner, Runner, RunnerEvents, WebviewRunner } from './runners';
import { Settings, readSettings, toFormValues, writeFormValues } from './settings';
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

interface ActiveRun {
  id: number;
  runner: Runner;
  job: TrainingJob;
  settings: Settings;
  startedAtMs: number;
  started: Deferred<void>;
  finished: Deferred<TrainingOutcome>;
  /** Checkpoint writes, in order. */
  saving: Promise<void>;
  lastCheckpointStep: number;
  stopping: boolean;
  /** Set while a lost runner is being replaced (a closed panel and its error report both say so). */
  recovering: boolean;
  lastFraction: number;
  progress?: vscode.Progress<{ message?: string; increment?: number }>;
}

const BACKEND_LABEL: Record<BackendKind, string> = { cpu: 'CPU', webgpu: 'WebGPU' };

export class TrainingController implements vscode.Disposable {
  readonly panel: GateScopePanel;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly reports = new vscode.EventEmitter<DisplayReport>();
  readonly onDidReport = this.reports.event;
  private run: ActiveRun | null = null;
  /** Cancels the corpus collection in progress (Stop Training cancels it too). */
  private collecting: vscode.CancellationTokenSource | null = null;
  private nextRunId = 1;
  private lastOutcome: TrainingOutcome | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  private state: PanelState = { status: 'idle', message: '', backend: null, adapter: '', step: 0, parameters: 0, model: null, corpus: null, history: [] };

  constructor(private readonly extensionPath: string, readonly store: ModelStore, private readonly log: vscode.LogOutputChannel) {
    this.panel = new GateScopePanel(vscode.Uri.file(extensionPath), log, {
      getInit: () => ({ settings: toFormSettings(), state: this.state }),
      onMessage: (m) => this.onPanelMessage(m),
      onDidDispose: () => this.onPanelDisposed(),
    });
    this.statusItem = vscode.window.createStatusBarItem('gatescope.status', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'GateScope Training';
    this.statusItem.command = 'gatescope.showPanel';
    this.disposables.push(
      this.statusItem, this.reports, this.panel,
      vscode.window.registerWebviewViewProvider(GateScopePanel.viewType, this.panel, { webviewOptions: { retainContextWhenHidden: true } }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('gatescope')) void this.panel.post({ type: 'settings', settings: toFormSettings() });
      }),
    );
  }

  /** Loads what the stored model says (step, history) for the status bar and panel. */
  async init(): Promise<void> {
    try {
      const m = await this.store.load();
      if (m) this.adoptCheckpointState(m.checkpoint);
    } catch (e) {
      this.log.warn(`the stored model cannot be read: ${(e as Error).message}`);
    }
    this.updateStatusBar();
    await this.updateContext();
  }

  /** Training, or reading the workspace to train. */
  get isTraining(): boolean {
    return this.run !== null || this.collecting !== null;
  }

  get trainingOn(): BackendKind | null {
    return this.run?.runner.kind ?? null;
  }

  // -------------------------------------------------------------------------------------------
  // Starting and stopping

  async start(opts: StartTrainingOptions = {}): Promise<void> {
    if (this.run || this.collecting) throw new GateScopeError('GateScope is already training; stop it first (GateScope: Stop Training).');
    const { settings, problems } = readSettings();
    for (const p of problems) this.log.warn(p);
    if (problems.length) void vscode.window.showWarningMessage(`GateScope: ${problems.length} setting(s) out of bounds were replaced by their defaults (see the GateScope output).`);
    if (opts.timeBudgetSeconds !== undefined) settings.timeBudgetSeconds = opts.timeBudgetSeconds;

    let resume: TrainingJob['resume'];
    let history: TrainingJob['history'];
    if (opts.resume) {
      const stored = await this.store.load();
      if (!stored) throw new GateScopeError('There is no model to resume yet: run GateScope: Train on Workspace first.');
      resume = { model: stored.bytes, optimizer: await this.store.loadOptimizerBytes() };
      history = stored.checkpoint.history;
    }

    this.setState({ status: 'collecting', message: 'Reading the workspace…' });
    let corpus;
    const collecting = (this.collecting = new vscode.CancellationTokenSource());
    void this.updateContext();
    try {
      corpus = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'GateScope: reading the workspace', cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => collecting.cancel());
          let last = 0;
          return collectWorkspaceCorpus(settings.corpus, {
            token: collecting.token, log: this.log,
            report: (message, fraction) => {
              progress.report({ message, increment: Math.max(0, (fraction - last) * 100) });
              last = Math.max(last, fraction);
            },
          });
        },
      );
    } catch (e) {
      this.setState({ status: 'idle', message: e instanceof vscode.CancellationError ? 'Reading the workspace was cancelled.' : (e as Error).message });
      throw e;
    } finally {
      collecting.dispose();
      this.collecting = null;
      void this.updateContext();
    }
    this.setState({ corpus: { files: corpus.files.length, skipped: corpus.skipped.length, bytes: corpus.bytes, folders: corpus.folders } });
    if (!corpus.text.length) {
      const why = corpus.skipped.length ? `every file was skipped (${corpus.skipped.length}; see the GateScope output for why)` : 'no text files were found';
      this.setState({ status: 'idle', message: `Nothing to train on: ${why}.` });
      throw new GateScopeError(`GateScope has nothing to train on: ${why}. Check gatescope.corpus.include and gatescope.corpus.exclude.`);
    }
    const text = splitTrainVal(corpus.text, settings.validationFraction);
    const backend = await this.chooseBackend(opts.backend ?? settings.backend);
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
    if (!resume) this.setState({ history: [], step: 0 });
    // Reports arrive asynchronously (worker and webview messages), so the run is in place before the first.
    const run: ActiveRun = {
      id: job.runId, runner: this.launch(job, backend), job, settings, startedAtMs: Date.now(),
      started: deferred(), finished: deferred(), saving: Promise.resolve(), lastCheckpointStep: -1, stopping: false, recovering: false, lastFraction: 0,
    };
    this.run = run;
    this.setState({ status: 'training', message: `Training on ${BACKEND_LABEL[backend]}…`, backend });
    await this.updateContext();
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'GateScope training', cancellable: true },
      (progress, token) => {
        run.progress = progress;
        token.onCancellationRequested(() => void this.stop());
        return run.finished.promise.then(() => undefined, () => undefined);
      },
    );
    await run.started.promise;
  }

  private async chooseBackend(wanted: 'auto' | 'webgpu' | 'cpu'): Promise<BackendKind> {
    if (wanted === 'cpu') return 'cpu';
    const gpu = await this.panel.open(20000);
    if (gpu?.available) return 'webgpu';
    const why = gpu ? gpu.why : 'the GateScope panel did not start';
    if (wanted === 'webgpu') throw new GateScopeError(`WebGPU is not available in the GateScope panel: ${why}. Set gatescope.training.backend to "auto" or "cpu" to train on the CPU.`);
    this.log.info(`training on the CPU: ${why}`);
    return 'cpu';
  }

  private launch(job: TrainingJob, backend: BackendKind): Runner {
    const id = job.runId;
    const events: RunnerEvents = {
      report: (r) => this.onReport(id, r),
      lost: (reason) => void this.onRunnerLost(id, reason),
    };
    this.log.info(`run ${id}: training on ${BACKEND_LABEL[backend]}${job.resume ? ' from the stored checkpoint' : ' a new model'} (budget ${job.budget.maxSeconds ?? '∞'} s${job.budget.maxSteps ? `, ${job.budget.maxSteps} steps` : ''})`);
    if (backend === 'cpu') return new CpuRunner(path.join(this.extensionPath, 'dist', 'trainWorker.js'), job, events);
    return new WebviewRunner((m) => this.panel.post(m), id, job, events);
  }

  /** Stops the current run; resolves once its final checkpoint is written. */
  async stop(): Promise<TrainingOutcome | null> {
    this.collecting?.cancel();
    const run = this.run;
    if (!run) return this.lastOutcome;
    if (!run.stopping) {
      run.stopping = true;
      this.setState({ status: 'stopping', message: 'Stopping after this step…' });
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
    this.setState({ status: 'idle', message: 'The model was reset.', step: 0, history: [], model: null, parameters: 0, backend: null, adapter: '' });
    this.updateStatusBar();
    await this.updateContext();
  }

  /** After an import: the stored model changed under us. */
  async reload(): Promise<void> {
    const m = await this.store.load();
    if (m) this.adoptCheckpointState(m.checkpoint);
    this.updateStatusBar();
    await this.updateContext();
  }

  // -------------------------------------------------------------------------------------------
  // Reports

  private onReport(runId: number, r: TrainingReport): void {
    const run = this.run;
    if (!run || run.id !== runId) return;
    const display = toDisplayReport(r);
    this.reports.fire(display);
    void this.panel.post({ type: 'report', report: display });
    switch (r.kind) {
      case 'started':
        this.setState({ step: r.step, backend: r.backend, adapter: r.adapter, parameters: r.parameters, model: r.config, message: `Training on ${BACKEND_LABEL[r.backend]} (${r.adapter})` });
        if (r.note) this.log.info(`run ${runId}: ${r.note}`);
        this.log.info(`run ${runId}: ${r.config.cell.toUpperCase()} ${r.config.numLayers}×${r.config.hiddenSize}, ${r.parameters} parameters, ${r.trainTokens} training and ${r.valTokens} validation tokens, from step ${r.step} on ${r.backend} (${r.adapter})`);
        run.started.resolve();
        break;
      case 'progress': {
        this.state.step = r.step;
        this.updateStatusBar(r.bitsPerChar, r.tokensPerSecond);
        const inc = Math.max(0, r.fraction - run.lastFraction) * 100;
        run.lastFraction = Math.max(run.lastFraction, r.fraction);
        run.progress?.report({ increment: inc, message: `step ${r.step} · ${r.bitsPerChar.toFixed(3)} bits/char · ${formatCount(r.tokensPerSecond)} tok/s · ${BACKEND_LABEL[run.runner.kind]}` });
        break;
      }
      case 'eval':
        this.state.history.push({ step: r.step, valBpc: r.bitsPerChar, time: r.time });
        this.log.info(`run ${runId}: step ${r.step}, validation ${r.bitsPerChar.toFixed(4)} bits/char`);
        break;
      case 'checkpoint':
        run.saving = run.saving.then(async () => {
          try {
            const ck = await this.store.save(r.model, r.optimizer);
            run.lastCheckpointStep = ck.step;
            this.log.info(`run ${runId}: checkpoint at step ${ck.step} saved to ${this.store.modelPath}`);
            await this.updateContext();
          } catch (e) {
            this.log.error(`run ${runId}: the checkpoint at step ${r.step} was not saved: ${(e as Error).message}`);
            void vscode.window.showErrorMessage(`GateScope could not save the checkpoint at step ${r.step}: ${(e as Error).message}`);
          }
        });
        break;
      case 'done':
        void run.saving.then(() => this.finish(run, {
          step: r.step, stoppedBy: r.stoppedBy,
          message: `Trained ${r.stepsThisRun} steps (step ${r.step} in all)${r.valBitsPerChar !== null ? `; validation ${r.valBitsPerChar.toFixed(3)} bits/char` : ''}.`,
        }));
        break;
      case 'error':
        if (r.deviceLost) void this.onRunnerLost(runId, r.message);
        else void run.saving.then(() => this.fail(run, r.message));
        break;
    }
  }

  private async fail(run: ActiveRun, message: string): Promise<void> {
    this.log.error(`run ${run.id}: ${message}`);
    run.started.reject(new GateScopeError(message));
    this.finish(run, { step: Math.max(run.lastCheckpointStep, 0), stoppedBy: 'error', message });
    void vscode.window.showErrorMessage(`GateScope training stopped: ${message}`);
  }

  /** The runner went away mid-run: continue on the CPU from the last checkpoint, or pause. */
  private async onRunnerLost(runId: number, reason: string): Promise<void> {
    const run = this.run;
    if (!run || run.id !== runId || run.recovering) return;
    run.recovering = true;
    await run.saving;
    if (run.runner.kind !== 'webgpu' || run.stopping) {
      await this.fail(run, reason);
      return;
    }
    run.runner.dispose();
    const stored = await this.store.load().catch(() => null);
    const fromStep = run.lastCheckpointStep >= 0 && stored ? stored.checkpoint.step : 0;
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
      resume: run.lastCheckpointStep >= 0 && stored ? { model: stored.bytes, optimizer: await this.store.loadOptimizerBytes() } : run.job.resume,
    };
    run.id = job.runId;
    run.job = job;
    run.runner = this.launch(job, 'cpu');
    run.recovering = false;
    if (run.stopping) run.runner.stop(); // Stop was asked for while the CPU runner was being set up
    this.setState({ backend: 'cpu', message: `Continuing on the CPU from step ${fromStep} (${reason})` });
    void vscode.window.showWarningMessage(`GateScope: ${reason}. Training continues on the CPU from the last checkpoint (step ${fromStep}).`);
  }

  private onPanelDisposed(): void {
    if (this.run?.runner.kind === 'webgpu') void this.onRunnerLost(this.run.id, 'the GateScope panel was closed during WebGPU training');
  }

  private finish(run: ActiveRun, outcome: TrainingOutcome): void {
    if (this.run !== run) return;
    this.run = null;
    run.runner.dispose();
    this.lastOutcome = outcome;
    this.log.info(`run ${run.id}: ${outcome.message}`);
    this.setState({
      status: outcome.stoppedBy === 'error' ? 'error' : outcome.stoppedBy === 'paused' ? 'paused' : 'idle',
      message: outcome.message, step: Math.max(this.state.step, outcome.step),
    });
    this.updateStatusBar();
    void this.updateContext();
    run.started.resolve();
    run.finished.resolve(outcome);
  }

  // -------------------------------------------------------------------------------------------
  // Panel

  private onPanelMessage(m: FromWebview): void {
    switch (m.type) {
      case 'ready': // logged by the panel
        break;
      case 'command': {
        const command = { train: 'gatescope.train', stop: 'gatescope.stop', resume: 'gatescope.resume', reset: 'gatescope.reset', export: 'gatescope.export', import: 'gatescope.import' }[m.command];
        void vscode.commands.executeCommand(command);
        break;
      }
      case 'updateSettings':
        writeFormValues(m.values).catch((e) => void vscode.window.showErrorMessage(`GateScope could not save the setting: ${(e as Error).message}`));
        break;
      case 'report':
        if (this.run?.runner.kind === 'webgpu') this.onReport(m.report.runId, m.report);
        break;
      case 'log':
        this.log[m.level](`panel: ${m.message}`);
        break;
    }
  }

  // -------------------------------------------------------------------------------------------
  // State shown in the status bar and the panel

  private adoptCheckpointState(ck: { step: number; config: PanelState['model']; history?: PanelState['history'] }): void {
    this.setState({ step: ck.step, model: ck.config, parameters: ck.config ? parameterCount(ck.config) : 0, history: [...(ck.history ?? [])] });
  }

  private setState(patch: Partial<PanelState>): void {
    this.state = { ...this.state, ...patch };
    void this.panel.post({ type: 'state', state: this.state });
    if (patch.status) this.updateStatusBar();
  }

  private updateStatusBar(bpc?: number, tokensPerSecond?: number): void {
    const s = this.state;
    const item = this.statusItem;
    if (this.run) {
      const backend = BACKEND_LABEL[this.run.runner.kind];
      const parts = [`step ${s.step}`];
      if (bpc !== undefined && Number.isFinite(bpc)) parts.push(`${bpc.toFixed(2)} bpc`);
      if (tokensPerSecond !== undefined) parts.push(`${formatCount(tokensPerSecond)} tok/s`);
      parts.push(backend);
      item.text = `$(sync~spin) GateScope ${parts.join(' · ')}`;
      item.tooltip = `GateScope is training on ${backend}${s.adapter ? ` (${s.adapter})` : ''}. Click to show the panel; run "GateScope: Stop Training" to stop.`;
    } else {
      const lastVal = [...s.history].reverse().find((h) => h.valBpc !== undefined)?.valBpc;
      item.text = s.model ? `$(pulse) GateScope step ${s.step}${lastVal !== undefined ? ` · ${lastVal.toFixed(2)} bpc` : ''}` : '$(pulse) GateScope';
      item.tooltip = s.model ? `GateScope model: ${s.model.cell.toUpperCase()} ${s.model.numLayers}×${s.model.hiddenSize}, step ${s.step}. ${s.message}` : 'GateScope: no model yet. Click to open the panel, or run "GateScope: Train on Workspace".';
    }
    item.show();
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
    for (const d of this.disposables) d.dispose();
  }
}

function toFormSettings(): FormValues {
  return toFormValues(readSettings().settings);
}
