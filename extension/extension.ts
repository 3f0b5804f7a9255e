// GateScope's entry point: registers the commands, the panel, the inspector (extension/
// inspectorController.ts), the status bar item and the inline completion provider, and returns the API other extensions use (extension/api.ts). It activates when
// start-up has finished (so completions work after a restart without opening the panel), when a
// GateScope view (Training or Inspector) opens, or when one of its commands runs; activation reads no model, only whether one
// exists (for the "has a model" context key that shows Resume, Export and Reset).

import * as vscode from 'vscode';
import { GateScopeError } from '../kernels/errors';
import { API_VERSION, GateScopeApi } from './api';
import { CompletionService } from './completions';
import { ModelInference } from './inference';
import { InspectorController } from './inspectorController';
import { InspectorHosts } from './inspectorView';
import { registerModelCommands } from './modelCommands';
import { ModelStore } from './store';
import { TrainingRuns } from './trainingRuns';
import { registerUserCommand } from './userCommand';
import { applyNoSimdEnv } from '../cli/engines';

let runs: TrainingRuns | null = null;

export async function activate(context: vscode.ExtensionContext): Promise<GateScopeApi> {
  const log = vscode.window.createOutputChannel('GateScope', { log: true });
  context.subscriptions.push(log);
  applyNoSimdEnv(); // GATESCOPE_NO_WASM_SIMD=1 tries the reference fallback on a machine with WebAssembly SIMD
  const storageDir = (context.storageUri ?? context.globalStorageUri).fsPath;
  const store = new ModelStore(storageDir);
  const ctl = new TrainingRuns(context.extensionPath, store, log);
  runs = ctl;
  context.subscriptions.push(ctl);
  const inference = new ModelInference(store);
  // Inline completions: the provider, the completion worker that runs the model, and their status-bar item.
  const completions = new CompletionService({ extensionPath: context.extensionPath, store, log, onDidReport: ctl.onDidReport });
  context.subscriptions.push(completions);
  log.info(`GateScope ${context.extension.packageJSON.version} activated; the model lives in ${storageDir}`);

  const command = <A extends unknown[], R>(id: string, fn: (...args: A) => Promise<R>) => registerUserCommand(context, log, id, fn);

  command('gatescope.train', async (opts?: { force?: boolean }) => {
    if (ctl.isTraining) throw new GateScopeError('GateScope is already training; stop it first (GateScope: Stop Training).');
    if (store.exists() && !opts?.force) {
      const stored = await store.load().catch(() => null);
      const choice = await vscode.window.showWarningMessage(
        `Train a new model on this workspace? The stored model${stored ? ` (step ${stored.checkpoint.step})` : ''} is replaced at the new model's first checkpoint.`,
        { modal: true }, 'Train New Model', 'Resume Instead',
      );
      if (choice === 'Resume Instead') return ctl.start({ resume: true });
      if (choice !== 'Train New Model') return;
    }
    await ctl.start({ resume: false });
  });
  command('gatescope.resume', () => ctl.start({ resume: true }));
  command('gatescope.stop', async () => {
    if (!ctl.isTraining) {
      void vscode.window.showInformationMessage('GateScope is not training.');
      return null;
    }
    return ctl.stop();
  });
  const { describeModel } = registerModelCommands(context, log, ctl, store, inference);
  command('gatescope.showPanel', async () => {
    await vscode.commands.executeCommand('gatescope.panel.focus');
  });
  const inspector = new InspectorController({ extensionUri: context.extensionUri, store, log, onDidReport: ctl.onDidReport });
  context.subscriptions.push(inspector, vscode.window.registerWebviewViewProvider(InspectorHosts.viewType, inspector.hosts));
  command('gatescope.openInspector', async () => inspector.openToTheSide());
  command('gatescope.clearUnitColoring', async () => inspector.clearColouring());
  command('gatescope.toggleCompletions', async () => {
    const cfg = vscode.workspace.getConfiguration('gatescope');
    const on = !cfg.get<boolean>('completions.enabled', false);
    // Written where the value in force comes from (a workspace value would override a user one).
    const set = cfg.inspect<boolean>('completions.enabled');
    const target = set?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await cfg.update('completions.enabled', on, target);
    void vscode.window.showInformationMessage(`GateScope inline completions are ${on ? 'on' : 'off'}.`);
    return on;
  });

  await ctl.init();

  // For the in-VS-Code tests only: destroys the panel's GPU device mid-training; reads what the panel and
  // the inspector show; posts malformed messages to the inspector's pages, and a message as if a page sent it.
  if (context.extensionMode === vscode.ExtensionMode.Test) {
    context.subscriptions.push(
      vscode.commands.registerCommand('gatescope.test.loseGpuDevice', () => ctl.bridge.post({ type: 'loseDevice' })),
      vscode.commands.registerCommand('gatescope.test.panelState', () => ({ state: ctl.bridge.state, gpu: ctl.bridge.panel.gpu })),
      vscode.commands.registerCommand('gatescope.test.inspectorDecorations', () => inspector.testDecorations()),
      vscode.commands.registerCommand('gatescope.test.inspectorState', () => inspector.testState()),
      vscode.commands.registerCommand('gatescope.test.inspectorPostMalformed', (n: number) => inspector.testPostMalformed(n)),
      vscode.commands.registerCommand('gatescope.test.inspectorReceive', (raw: unknown) => inspector.testReceive(raw)),
      vscode.commands.registerCommand('gatescope.test.completionState', () => completions.testState()),
    );
  }

  return {
    apiVersion: API_VERSION,
    startTraining: (options) => ctl.start(options ?? {}),
    stopTraining: async () => { await ctl.stop(); },
    whenStopped: () => ctl.whenStopped(),
    describeModel,
    onDidReport: ctl.onDidReport,
    predictNext: (text, k = 10) => inference.predictNext(text, k),
    activations: (text, layer) => inference.activations(text, layer),
  };
}

export async function deactivate(): Promise<void> {
  // Let a running job write its final checkpoint, but do not hold VS Code up for long.
  const ctl = runs;
  runs = null;
  if (ctl?.isTraining) await Promise.race([ctl.stop(), new Promise((r) => setTimeout(r, 4000))]);
}
