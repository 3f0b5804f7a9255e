// The panel as the training code sees it: the one PanelState the panel shows (sent whole on every
// change, and on (re)open through 'init'), reports forwarded for its curves, and what the user does
// there: its buttons run the gatescope.* commands, its form is written to the settings (the
// workspace's when a folder is open) and acknowledged with where it went, its log lines go to the
// GateScope log, and the reports of a run on its WebGPU device go back to the training code. For
// "auto" on a hardware GPU, probe() times a few steps of a model on the panel's device.

import * as vscode from 'vscode';
import type { ProbeTiming } from '../kernels/backendChoice';
import type { ModelConfig, OptimConfig } from '../kernels/config';
import type { TrainingReport } from '../kernels/session';
import { DisplayReport, FormValues, FromWebview, PanelCommand, PanelState, ToWebview } from '../webview/protocol';
import { GateScopePanel } from './panel';
import { readSettings, toFormValues, writeFormValues } from './settings';

export interface PanelEvents {
  /** A training report from a run on the panel's WebGPU device. */
  report(r: TrainingReport): void;
  /** The panel was closed (any training in it has stopped). */
  disposed(): void;
  /** The state changed (the status bar follows it). */
  stateChanged(state: PanelState): void;
}

const COMMAND_OF: Record<PanelCommand, string> = {
  train: 'gatescope.train', stop: 'gatescope.stop', resume: 'gatescope.resume', reset: 'gatescope.reset', export: 'gatescope.export', import: 'gatescope.import',
};

const IDLE: PanelState = { status: 'idle', message: '', backend: null, adapter: '', step: 0, parameters: 0, model: null, corpus: null, history: [] };

function formSettings(): FormValues {
  return toFormValues(readSettings().settings);
}

export class PanelBridge implements vscode.Disposable {
  readonly panel: GateScopePanel;
  private current: PanelState = IDLE;
  private readonly disposables: vscode.Disposable[] = [];
  /** The panel's settings writes, chained so they land in the order they were sent. */
  private settingsWrites: Promise<void> = Promise.resolve();
  private nextProbeId = 1;
  /** Probes waiting for the panel's answer, by id. */
  private readonly probes = new Map<number, (t: ProbeTiming) => void>();

  constructor(extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel, private readonly events: PanelEvents) {
    this.panel = new GateScopePanel(extensionUri, log, {
      getInit: () => ({ settings: formSettings(), state: this.current }),
      onMessage: (m) => this.receive(m),
      onDidDispose: () => events.disposed(),
    });
    this.disposables.push(
      this.panel,
      vscode.window.registerWebviewViewProvider(GateScopePanel.viewType, this.panel, { webviewOptions: { retainContextWhenHidden: true } }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('gatescope')) void this.panel.post({ type: 'settings', settings: formSettings() });
      }),
    );
  }

  get state(): PanelState {
    return this.current;
  }

  /** Changes what the panel shows (and the status bar, through stateChanged). */
  update(patch: Partial<PanelState>): void {
    this.current = { ...this.current, ...patch };
    void this.panel.post({ type: 'state', state: this.current });
    this.events.stateChanged(this.current);
  }

  report(r: DisplayReport): void {
    void this.panel.post({ type: 'report', report: r });
  }

  post(m: ToWebview): Promise<boolean> {
    return this.panel.post(m);
  }

  /** Times a few training steps of `config` on the panel's WebGPU device; a failure (or no answer in `timeoutMs`) says why. */
  async probe(config: ModelConfig, batch: { seqLen: number; batchSize: number }, optim: OptimConfig, seed: number, timeoutMs: number): Promise<ProbeTiming> {
    const probeId = this.nextProbeId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<ProbeTiming>((resolve) => {
      this.probes.set(probeId, resolve);
      timer = setTimeout(() => resolve({ ok: false, error: `the panel did not answer within ${Math.round(timeoutMs / 1000)} s` }), timeoutMs);
    });
    try {
      if (!(await this.panel.post({ type: 'probe', probeId, config, batch, optim, seed }))) return { ok: false, error: 'the GateScope panel could not be reached' };
      return await answer;
    } finally {
      clearTimeout(timer);
      this.probes.delete(probeId);
    }
  }

  private receive(m: FromWebview): void {
    switch (m.type) {
      case 'ready': // logged by the panel
        break;
      case 'command':
        void vscode.commands.executeCommand(COMMAND_OF[m.command]);
        break;
      case 'updateSettings':
        // One write after another, in the order the panel sent them: a quick second choice must not be
        // overtaken by the first.
        this.settingsWrites = this.settingsWrites.then(() => writeFormValues(m.values)).then(
          (scope) => {
            this.log.info(`panel: ${Object.keys(m.values).join(', ')} saved to the ${scope} settings`);
            void this.panel.post({ type: 'settingsSaved', scope });
          },
          (e) => void vscode.window.showErrorMessage(`GateScope could not save the setting: ${(e as Error).message}`),
        );
        break;
      case 'report':
        this.events.report(m.report);
        break;
      case 'log':
        this.log[m.level](`panel: ${m.message}`);
        break;
      case 'probeResult':
        this.probes.get(m.probeId)?.(m.secondsPerStep !== null ? { ok: true, secondsPerStep: m.secondsPerStep } : { ok: false, error: m.error || 'no reason given' });
        break;
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
