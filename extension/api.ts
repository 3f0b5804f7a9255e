// The API that GateScope's activate() returns, for other extensions:
//
//   const gs = vscode.extensions.getExtension<GateScopeApi>('gatescope.gatescope');
//   const api = await gs.activate();
//   api.onDidReport((r) => console.log(r.kind, r.step));
//   await api.startTraining({ backend: 'cpu', maxSteps: 50 });
//   await api.whenStopped();
//   const next = await api.predictNext('function ', 5);
//
// Only types live here (plus the version), so another extension can copy this file as is.

import type { Event } from 'vscode';
import type { ModelConfig } from '../kernels/config';
import type { HistoryPoint } from '../kernels/checkpoint';
import type { DisplayReport } from '../webview/protocol';

export const API_VERSION = 1;

export interface StartTrainingOptions {
  /** Continue the stored model instead of starting a new one (default false). */
  resume?: boolean;
  /** Where to train (default: the `gatescope.training.backend` setting). */
  backend?: 'auto' | 'webgpu' | 'cpu';
  /** Stop at this total step count (counting steps before a resume). */
  maxSteps?: number;
  /** Seconds this run may last (default: the `gatescope.training.timeBudgetSeconds` setting). */
  timeBudgetSeconds?: number;
}

/** One training report: started, progress, eval, checkpoint, done or error (see README). */
export type TrainingReportEvent = DisplayReport;

export interface ModelDescription {
  config: ModelConfig;
  /** Optimizer steps the stored model has taken. */
  step: number;
  parameters: number;
  tokenizer: { kind: string; vocabSize: number };
  /** The model file in the extension's storage (a PyTorch-loadable .safetensors). */
  checkpointPath: string;
  history: HistoryPoint[];
  /** Where the current run trains, or null when idle. */
  trainingOn: 'cpu' | 'webgpu' | null;
}

export interface TokenPrediction {
  id: number;
  /** The token's text (bytes that are not whole UTF-8 characters are shown escaped). */
  token: string;
  probability: number;
}

export interface LayerActivations {
  layer: number;
  /** The text's tokens, in order. */
  tokens: string[];
  /** Hidden state after each token: tokens.length rows of hiddenSize values. */
  hidden: number[][];
  /** LSTM cell state after each token, or null for GRU and RNN. */
  cell: number[][] | null;
  /** Activated gates after each token, by PyTorch name (LSTM i, f, g, o; GRU r, z, n), or null for the RNN. */
  gates: Record<string, number[][]> | null;
}

export interface TrainingOutcome {
  step: number;
  stoppedBy: 'steps' | 'time' | 'abort' | 'error' | 'paused';
  message: string;
}

export interface GateScopeApi {
  readonly apiVersion: number;
  /** Collects the workspace's text and starts training; resolves once the first report arrived. */
  startTraining(options?: StartTrainingOptions): Promise<void>;
  /** Stops training; resolves after the final checkpoint is saved. */
  stopTraining(): Promise<void>;
  /** Resolves when the current run ends (immediately when idle). */
  whenStopped(): Promise<TrainingOutcome | null>;
  /** The stored model, or null when there is none yet. */
  describeModel(): Promise<ModelDescription | null>;
  /** Fires for every training report (checkpoint bytes are not included). */
  readonly onDidReport: Event<TrainingReportEvent>;
  /** The k most likely next tokens after `text`, from the stored model. */
  predictNext(text: string, k?: number): Promise<TokenPrediction[]>;
  /** Per-token activations of one layer (0-based) for `text`, from the stored model. */
  activations(text: string, layer: number): Promise<LayerActivations>;
}
