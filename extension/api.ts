// The API that GateScope's activate() returns, for other extensions:
//
//   const gs = vscode.extensions.getExtension<GateScopeApi>('gatescope.gatescope');
//   const api = await gs.activate();
//   api.onDidReport((r) => console.log(r.kind, r.step));
//   await api.startTraining({ backend: 'cpu', maxSteps: 50 });
//   await api.whenStopped();
//   const next = await api.predictNext('function ', 5);
//
// Only types live here (plus the version), and it imports nothing, so another extension can copy this
// file as is. GateScope's own code checks at compile time that these types equal its internal ones
// (test/apiTypes.test.ts).

/** What `onDidReport` returns: call dispose() to stop listening (a vscode.Disposable). */
export interface ApiDisposable {
  dispose(): unknown;
}

/** An event to subscribe to, as vscode.Event. */
export type ApiEvent<T> = (listener: (e: T) => unknown, thisArgs?: unknown, disposables?: ApiDisposable[]) => ApiDisposable;

/** Where a run computes: the reference CPU engine, the WebAssembly SIMD engine, or WebGPU. */
export type BackendKind = 'cpu' | 'wasm' | 'webgpu';

export interface ModelConfig {
  cell: 'rnn' | 'lstm' | 'gru';
  vocabSize: number;
  embedSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Dropout probability between stacked layers and before the decoder (training only). */
  dropout: number;
}

/** One point of the loss history: training loss (nats/token) and validation bits per character. */
export interface HistoryPoint {
  step: number;
  trainLoss?: number;
  valBpc?: number;
  time?: number;
}

export const API_VERSION = 1;

export interface StartTrainingOptions {
  /** Continue the stored model instead of starting a new one (default false). */
  resume?: boolean;
  /** Where to train (default: the `gatescope.training.backend` setting). */
  backend?: 'auto' | 'webgpu' | 'wasm' | 'cpu';
  /** Stop at this total step count (counting steps before a resume). */
  maxSteps?: number;
  /** Seconds this run may last (default: the `gatescope.training.timeBudgetSeconds` setting). */
  timeBudgetSeconds?: number;
}

/** One training report: started, progress, eval, checkpoint (without its bytes), done or error (see README). */
export type TrainingReportEvent =
  | { kind: 'started'; runId: number; step: number; backend: BackendKind; adapter: string; config: ModelConfig; parameters: number; trainTokens: number; valTokens: number; resumed: boolean; note?: string }
  | { kind: 'progress'; runId: number; step: number; loss: number; bitsPerChar: number; tokensPerSecond: number; elapsedSeconds: number; fraction: number; etaSeconds: number; epoch: number; time: number }
  | { kind: 'eval'; runId: number; step: number; bitsPerChar: number; bitsPerToken: number; time: number }
  | { kind: 'checkpoint'; runId: number; step: number }
  | { kind: 'done'; runId: number; step: number; stepsThisRun: number; seconds: number; stoppedBy: 'steps' | 'time' | 'abort'; valBitsPerChar: number | null }
  | { kind: 'error'; runId: number; step: number; message: string; deviceLost: boolean };

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
  trainingOn: BackendKind | null;
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
  readonly onDidReport: ApiEvent<TrainingReportEvent>;
  /** The k most likely next tokens after `text`, from the stored model. */
  predictNext(text: string, k?: number): Promise<TokenPrediction[]>;
  /** Per-token activations of one layer (0-based) for `text`, from the stored model. */
  activations(text: string, layer: number): Promise<LayerActivations>;
}
