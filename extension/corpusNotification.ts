// Reading the workspace under a notification: the one notification a run shows (training itself is
// shown by the status bar and the panel). It has a Cancel button, and when Stop Training is asked
// instead it says "Stopping…" at once, until the collection has ended.

import * as vscode from 'vscode';
import { CollectedCorpus, CorpusSettings, collectWorkspaceCorpus } from './corpus';

export function collectUnderNotification(settings: CorpusSettings, log: vscode.LogOutputChannel, cancel: vscode.CancellationTokenSource): Promise<CollectedCorpus> {
  return Promise.resolve(vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'GateScope: reading the workspace', cancellable: true },
    (progress, token) => {
      token.onCancellationRequested(() => cancel.cancel());
      cancel.token.onCancellationRequested(() => progress.report({ message: 'Stopping…' }));
      let last = 0;
      return collectWorkspaceCorpus(settings, {
        token: cancel.token, log,
        report: (message, fraction) => {
          if (cancel.token.isCancellationRequested) return;
          progress.report({ message, increment: Math.max(0, (fraction - last) * 100) });
          last = Math.max(last, fraction);
        },
      });
    },
  ));
}
