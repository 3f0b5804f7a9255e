// The inline completions' status-bar item: whether completions are on, off, waiting for a model, or
// loading one into the completion worker; a click toggles `gatescope.completions.enabled` (the command
// gatescope.toggleCompletions). Separate from the training item (statusBar.ts), which a click opens the
// panel with.

import * as vscode from 'vscode';

export type CompletionState = 'on' | 'off' | 'noModel' | 'loading' | 'failed';

const TEXT: Record<CompletionState, string> = {
  on: '$(sparkle) GateScope completions',
  off: '$(circle-slash) GateScope completions off',
  noModel: '$(watch) GateScope completions: waiting for a model',
  loading: '$(loading~spin) GateScope completions: loading',
  failed: '$(warning) GateScope completions: the model failed',
};

const TOOLTIP: Record<CompletionState, string> = {
  on: 'GateScope inline completions are on. Click to turn them off.',
  off: 'GateScope inline completions are off. Click to turn them on.',
  noModel: 'GateScope inline completions are on, but there is no model yet: run "GateScope: Train on Workspace". Click to turn them off.',
  loading: 'GateScope inline completions are on; the model is loading in the completion worker, or the character n-gram mixed into it is being built from the workspace\'s training corpus (gatescope.completions.ngramWeight). Click to turn them off.',
  failed: 'GateScope inline completions are on, but the model could not be used (see the GateScope output). Click to turn them off.',
};

export class CompletionStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private current: CompletionState | null = null;

  constructor() {
    this.item = vscode.window.createStatusBarItem('gatescope.completionStatus', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'GateScope Completions';
    this.item.command = 'gatescope.toggleCompletions';
  }

  get state(): CompletionState | null {
    return this.current;
  }

  get text(): string {
    return this.item.text;
  }

  show(state: CompletionState): void {
    if (state === this.current) return;
    this.current = state;
    this.item.text = TEXT[state];
    this.item.tooltip = TOOLTIP[state];
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
