// The commands that act on the stored model rather than on a run: Export Model… (to a file outside
// the workspace by default, named for the model, with a Reveal button when done), Import Model… (the
// file is checked before it replaces anything), Reset Model (after a confirmation) and describeModel
// (for other extensions and scripts, not in the palette).

import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { parameterCount } from '../kernels/config';
import { GateScopeError } from '../kernels/errors';
import { atomicWriteFile, readFileLimited } from '../kernels/node/atomicWrite';
import { MAX_CHECKPOINT_BYTES } from '../kernels/node/checkpointFiles';
import { ModelDescription } from './api';
import { ModelInference } from './inference';
import { defaultExportPath, exportFileName, revealLabel } from './exportTarget';
import { ModelStore, checkModelBytes } from './store';
import { TrainingRuns } from './trainingRuns';
import { registerUserCommand } from './userCommand';

/** Where the last export went (global state: a user's export folder is the same across workspaces). */
const LAST_EXPORT_FOLDER = 'gatescope.lastExportFolder';

export function registerModelCommands(
  context: vscode.ExtensionContext, log: vscode.LogOutputChannel, runs: TrainingRuns, store: ModelStore, inference: ModelInference,
): { describeModel(): Promise<ModelDescription | null> } {
  const command = <A extends unknown[], R>(id: string, fn: (...args: A) => Promise<R>) => registerUserCommand(context, log, id, fn);

  command('gatescope.reset', async (opts?: { force?: boolean }) => {
    if (!opts?.force) {
      const choice = await vscode.window.showWarningMessage('Delete the GateScope model of this workspace? Export it first to keep a copy.', { modal: true }, 'Delete Model');
      if (choice !== 'Delete Model') return false;
    }
    await runs.reset();
    inference.invalidate();
    return true;
  });

  command('gatescope.export', async (target?: vscode.Uri) => {
    const stored = await store.load();
    if (!stored) throw new GateScopeError('There is no model to export yet: run GateScope: Train on Workspace first.');
    const uri = target ?? await vscode.window.showSaveDialog({
      title: 'Export GateScope Model', saveLabel: 'Export',
      filters: { 'safetensors (PyTorch state dict)': ['safetensors'] },
      defaultUri: vscode.Uri.file(defaultExportPath(
        context.globalState.get<unknown>(LAST_EXPORT_FOLDER), os.homedir(),
        exportFileName(stored.checkpoint.config, stored.checkpoint.step, vscode.workspace.name),
      )),
    });
    if (!uri) return undefined;
    if (uri.scheme === 'file') {
      await atomicWriteFile(uri.fsPath, stored.bytes);
      await context.globalState.update(LAST_EXPORT_FOLDER, path.dirname(uri.fsPath));
    } else {
      await vscode.workspace.fs.writeFile(uri, stored.bytes);
    }
    log.info(`exported the model at step ${stored.checkpoint.step} to ${uri.toString(true)}`);
    const reveal = revealLabel(process.platform);
    void vscode.window.showInformationMessage(`GateScope model (step ${stored.checkpoint.step}) exported to ${uri.scheme === 'file' ? uri.fsPath : uri.toString(true)}.`, reveal).then((choice) => {
      if (choice === reveal) void vscode.commands.executeCommand('revealFileInOS', uri);
    });
    return uri;
  });

  command('gatescope.import', async (source?: vscode.Uri) => {
    if (runs.isTraining) throw new GateScopeError('Stop training before importing a model (GateScope: Stop Training).');
    const uri = source ?? (await vscode.window.showOpenDialog({ title: 'Import GateScope Model', openLabel: 'Import', canSelectMany: false, filters: { safetensors: ['safetensors'] } }))?.[0];
    if (!uri) return { ok: false, error: 'cancelled' };
    try {
      let bytes: Uint8Array;
      if (uri.scheme === 'file') bytes = await readFileLimited(uri.fsPath, MAX_CHECKPOINT_BYTES);
      else {
        const stat = await vscode.workspace.fs.stat(uri);
        if (stat.size > MAX_CHECKPOINT_BYTES) throw new GateScopeError(`the file is larger than ${MAX_CHECKPOINT_BYTES} bytes`);
        bytes = await vscode.workspace.fs.readFile(uri);
      }
      const ck = checkModelBytes(bytes, vscode.workspace.asRelativePath(uri));
      await store.save(bytes);
      await runs.reload();
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

  const describeModel = async (): Promise<ModelDescription | null> => {
    const stored = await store.load();
    if (!stored) return null;
    const ck = stored.checkpoint;
    const tok = ck.tokenizer as { kind?: string } | undefined;
    return {
      config: ck.config, step: ck.step, parameters: parameterCount(ck.config),
      tokenizer: { kind: String(tok?.kind ?? 'unknown'), vocabSize: ck.config.vocabSize },
      checkpointPath: store.modelPath, history: ck.history ?? [], trainingOn: runs.trainingOn,
    };
  };
  // Not in the command palette: for other extensions and scripts, `executeCommand('gatescope.describeModel')`.
  context.subscriptions.push(vscode.commands.registerCommand('gatescope.describeModel', describeModel));
  return { describeModel };
}
