// GateScope's entry point: registers the commands, the panel and the status bar item, and returns
// the API other extensions use (extension/api.ts). Activation is narrow: opening the GateScope view
// or running one of its commands (VS Code derives those activation events from package.json).

import * as vscode from 'vscode';
import { parameterCount } from '../kernels/config';
import { GateScopeError } from '../kernels/errors';
import { atomicWriteFile, readFileLimited } from '../kernels/node/atomicWrite';
import { MAX_CHECKPOINT_BYTES } from '../kernels/node/checkpointFiles';
import { API_VERSION, GateScopeApi, ModelDescription } from './api';
import { TrainingController } from './controller';
import { GateScopeCompletions } from './completions';
import { ModelInference } from './inference';
import { ModelStore, checkModelBytes } from './store';

let controller: TrainingController | null = null;

/** Shows a GateScopeError (a message for the user) as an error notification; logs anything else too. */
function reportError(log: vscode.LogOutputChannel, e: unknown): void {
  if (e instanceof vscode.CancellationError) return;
  const message = e instanceof Error ? e.message : String(e);
  if (!(e instanceof GateScopeError)) log.error(e instanceof Error ? (e.stack ?? message) : message);
  void vscode.window.showErrorMessage(e instanceof GateScopeError ? message : `GateScope: ${message}`);
}

export async function activate(context: vscode.ExtensionContext): Promise<GateScopeApi> {
  const log = vscode.window.createOutputChannel('GateScope', { log: true });
  context.subscriptions.push(log);
  const storageDir = (context.storageUri ?? context.globalStorageUri).fsPath;
  const store = new ModelStore(storageDir);
  const ctl = new TrainingController(context.extensionPath, store, log);
  controller = ctl;
  context.subscriptions.push(ctl);
  const inference = new ModelInference(store);
  context.subscriptions.push(vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], new GateScopeCompletions(inference, log)));
  log.info(`GateScope ${context.extension.packageJSON.version} activated; the model lives in ${storageDir}`);

  /** A command that reports its errors to the user; its result goes back to executeCommand. */
  const command = <A extends unknown[], R>(id: string, fn: (...args: A) => Promise<R>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: A) => {
      try {
        return await fn(...args);
      } catch (e) {
        reportError(log, e);
        return undefined;
      }
    }));

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
  command('gatescope.reset', async (opts?: { force?: boolean }) => {
    if (!opts?.force) {
      const choice = await vscode.window.showWarningMessage('Delete the GateScope model of this workspace? Export it first to keep a copy.', { modal: true }, 'Delete Model');
      if (choice !== 'Delete Model') return false;
    }
    await ctl.reset();
    return true;
  });
  command('gatescope.export', async (target?: vscode.Uri) => {
    const stored = await store.load();
    if (!stored) throw new GateScopeError('There is no model to export yet: run GateScope: Train on Workspace first.');
    const uri = target ?? await vscode.window.showSaveDialog({
      title: 'Export GateScope Model', saveLabel: 'Export',
      filters: { 'safetensors (PyTorch state dict)': ['safetensors'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0] ? vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, `gatescope-${stored.checkpoint.config.cell}-step${stored.checkpoint.step}.safetensors`) : undefined,
    });
    if (!uri) return undefined;
    if (uri.scheme === 'file') await atomicWriteFile(uri.fsPath, stored.bytes);
    else await vscode.workspace.fs.writeFile(uri, stored.bytes);
    log.info(`exported the model at step ${stored.checkpoint.step} to ${uri.toString(true)}`);
    void vscode.window.showInformationMessage(`GateScope model (step ${stored.checkpoint.step}) exported to ${vscode.workspace.asRelativePath(uri)}.`);
    return uri;
  });
  command('gatescope.import', async (source?: vscode.Uri) => {
    if (ctl.isTraining) throw new GateScopeError('Stop training before importing a model (GateScope: Stop Training).');
    const uri = source ?? (await vscode.window.showOpenDialog({ title: 'Import GateScope Model', openLabel: 'Import', canSelectMany: false, filters: { safetensors: ['safetensors'] } }))?.[0];
    if (!uri) return { ok: false, error: 'cancelled' };
    let bytes: Uint8Array;
    try {
      if (uri.scheme === 'file') bytes = await readFileLimited(uri.fsPath, MAX_CHECKPOINT_BYTES);
      else {
        const stat = await vscode.workspace.fs.stat(uri);
        if (stat.size > MAX_CHECKPOINT_BYTES) throw new GateScopeError(`the file is larger than ${MAX_CHECKPOINT_BYTES} bytes`);
        bytes = await vscode.workspace.fs.readFile(uri);
      }
      const ck = checkModelBytes(bytes, vscode.workspace.asRelativePath(uri));
      await store.save(bytes);
      await ctl.reload();
      inference.invalidate();
      log.info(`imported ${uri.toString(true)}: ${ck.config.cell} ${ck.config.numLayers}×${ck.config.hiddenSize} at step ${ck.step}`);
      void vscode.window.showInformationMessage(`Imported the GateScope model from ${vscode.workspace.asRelativePath(uri)} (step ${ck.step}).`);
      return { ok: true, error: '' };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log.warn(`import of ${uri.toString(true)} failed: ${message}`);
      void vscode.window.showErrorMessage(`GateScope could not import the model: ${message}. The current model is kept.`);
      return { ok: false, error: message };
    }
  });
  command('gatescope.showPanel', async () => {
    await vscode.commands.executeCommand('gatescope.panel.focus');
  });
  command('gatescope.toggleCompletions', async () => {
    const cfg = vscode.workspace.getConfiguration('gatescope');
    const on = !cfg.get<boolean>('completions.enabled', false);
    await cfg.update('completions.enabled', on, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(`GateScope inline completions are ${on ? 'on' : 'off'}.`);
    return on;
  });

  await ctl.init();

  // Fault injection for the in-VS-Code tests only: destroys the panel's GPU device mid-training.
  if (context.extensionMode === vscode.ExtensionMode.Test) {
    context.subscriptions.push(vscode.commands.registerCommand('gatescope.test.loseGpuDevice', () => ctl.panel.post({ type: 'loseDevice' })));
  }

  // Not in the command palette: for other extensions and scripts, `executeCommand('gatescope.describeModel')`.
  context.subscriptions.push(vscode.commands.registerCommand('gatescope.describeModel', () => describeModel()));

  const describeModel = async (): Promise<ModelDescription | null> => {
    const stored = await store.load();
    if (!stored) return null;
    const ck = stored.checkpoint;
    const tok = ck.tokenizer as { kind?: string } | undefined;
    return {
      config: ck.config, step: ck.step, parameters: parameterCount(ck.config),
      tokenizer: { kind: String(tok?.kind ?? 'unknown'), vocabSize: ck.config.vocabSize },
      checkpointPath: store.modelPath, history: ck.history ?? [], trainingOn: ctl.trainingOn,
    };
  };

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
  const ctl = controller;
  controller = null;
  if (ctl?.isTraining) await Promise.race([ctl.stop(), new Promise((r) => setTimeout(r, 4000))]);
}
