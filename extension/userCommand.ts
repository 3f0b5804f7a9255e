// A command as the user runs it (palette, panel button, executeCommand): a GateScopeError is a message
// for the user and becomes an error notification; anything else is a bug and is logged with its stack
// too; a cancellation is silent. The command's result goes back to executeCommand (undefined on error).

import * as vscode from 'vscode';
import { GateScopeError } from '../kernels/errors';

export function reportError(log: vscode.LogOutputChannel, e: unknown): void {
  if (e instanceof vscode.CancellationError) return;
  const message = e instanceof Error ? e.message : String(e);
  if (!(e instanceof GateScopeError)) log.error(e instanceof Error ? (e.stack ?? message) : message);
  void vscode.window.showErrorMessage(e instanceof GateScopeError ? message : `GateScope: ${message}`);
}

export function registerUserCommand<A extends unknown[], R>(
  context: vscode.ExtensionContext, log: vscode.LogOutputChannel, id: string, fn: (...args: A) => Promise<R>,
): void {
  context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: A) => {
    try {
      return await fn(...args);
    } catch (e) {
      reportError(log, e);
      return undefined;
    }
  }));
}
