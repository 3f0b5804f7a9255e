// GateScope's status-bar item: with the panel, the one surface that shows a run from start to end
// (no progress notification stays up during training). Idle: the stored model's step and latest
// validation bits/char. Reading the workspace, training (step, training bits/char, tokens/s, backend
// and, on the WebAssembly engine, its thread count)
// and stopping each have their own text, and "Stopping…" shows the moment Stop is asked. A click
// shows the panel.

import * as vscode from 'vscode';
import { formatCount } from '../kernels/format';
import type { BackendKind } from '../kernels/session';
import type { PanelState } from '../webview/protocol';

export const BACKEND_LABEL: Record<BackendKind, string> = { cpu: 'CPU', wasm: 'CPU (WebAssembly)', webgpu: 'WebGPU' };

/** The current run's latest progress figures (absent until its first report). */
export interface LiveFigures {
  step?: number;
  bitsPerChar?: number;
  tokensPerSecond?: number;
}

export class TrainingStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('gatescope.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'GateScope Training';
    this.item.command = 'gatescope.showPanel';
  }

  /** Shows the panel's state; `running` is where the current run trains (null when none runs), on `threads` threads for 'wasm'. */
  show(s: PanelState, running: BackendKind | null, live: LiveFigures = {}, threads = 1): void {
    const item = this.item;
    const step = live.step ?? s.step;
    if (s.status === 'stopping') {
      item.text = `$(loading~spin) GateScope Stopping… step ${step}`;
      item.tooltip = 'GateScope is stopping after the current step and saving its last checkpoint.';
    } else if (s.status === 'collecting') {
      item.text = '$(loading~spin) GateScope reading the workspace…';
      item.tooltip = 'GateScope is reading the workspace\'s text files to train on. Run "GateScope: Stop Training" to cancel.';
    } else if (running) {
      const backend = BACKEND_LABEL[running];
      const parts = [`step ${step}`];
      if (live.bitsPerChar !== undefined && Number.isFinite(live.bitsPerChar)) parts.push(`${live.bitsPerChar.toFixed(2)} bpc`);
      if (live.tokensPerSecond !== undefined) parts.push(`${formatCount(live.tokensPerSecond)} tok/s`);
      parts.push(running === 'wasm' ? `${backend}, ${threads} thread${threads === 1 ? '' : 's'}` : backend);
      item.text = `$(sync~spin) GateScope ${parts.join(' · ')}`;
      item.tooltip = `GateScope is training on ${backend}${s.adapter ? ` (${s.adapter})` : ''}. Click to show the panel; run "GateScope: Stop Training" to stop.`;
    } else {
      const lastVal = [...s.history].reverse().find((h) => h.valBpc !== undefined)?.valBpc;
      item.text = s.model ? `$(pulse) GateScope step ${s.step}${lastVal !== undefined ? ` · ${lastVal.toFixed(2)} bpc` : ''}` : '$(pulse) GateScope';
      item.tooltip = s.model
        ? `GateScope model: ${s.model.cell.toUpperCase()} ${s.model.numLayers}×${s.model.hiddenSize}, step ${s.step}. ${s.message}`
        : 'GateScope: no model yet. Click to open the panel, or run "GateScope: Train on Workspace".';
    }
    item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
