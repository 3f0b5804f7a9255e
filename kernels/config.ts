// Model and training settings, their defaults and their bounds. Every entry point (CLI, extension,
// checkpoint loader) validates through here, so an absurd value gets the same clear message everywhere.

import { check } from './errors';

export type CellType = 'rnn' | 'lstm' | 'gru';
export const CELL_TYPES: readonly CellType[] = ['rnn', 'lstm', 'gru'];

/** Number of gate blocks stacked in weight_ih/weight_hh: LSTM i,f,g,o; GRU r,z,n; RNN one. */
export function gateCount(cell: CellType): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

export interface ModelConfig {
  cell: CellType;
  vocabSize: number;
  embedSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Dropout probability between stacked layers and before the decoder (training only). */
  dropout: number;
}

export interface OptimConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (AdamW); 0 gives plain Adam. */
  weightDecay: number;
  /** Clip gradients to this global L2 norm; 0 turns clipping off. */
  clipNorm: number;
}

export interface BatchConfig {
  seqLen: number;
  batchSize: number;
}

export const DEFAULT_OPTIM: OptimConfig = {
  learningRate: 5e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  clipNorm: 5,
};

/** What `gatescope train` (and `npm start`) uses when no option is given. */
export const DEFAULT_TRAINING = {
  cell: 'lstm' as CellType,
  hiddenSize: 128,
  numLayers: 1,
  embedSize: 64,
  dropout: 0,
  seqLen: 64,
  // Small batches and a brisk learning rate learn most in a short CPU budget: measured on this
  // repository, 60 s gave 4.06 bpc with batch 32 at lr 0.002 and 3.29 with batch 16 at lr 0.005.
  batchSize: 16,
  tokenizer: 'char' as const,
  bpeVocab: 2048,
  valFraction: 0.05,
  evalEverySeconds: 20,
  checkpointEverySeconds: 30,
  seed: 1,
  seconds: 60,
};

/**
 * Inclusive bounds for every numeric setting: the one source for the CLI's options, the panel's form
 * and the checks on its messages (webview/protocol.ts), and package.json's settings (a test checks
 * their minimum and maximum against these).
 */
export const BOUNDS = {
  vocabSize: [2, 65536],
  embedSize: [1, 2048],
  hiddenSize: [1, 2048],
  numLayers: [1, 4],
  dropout: [0, 0.9],
  seqLen: [1, 2048],
  batchSize: [1, 1024],
  learningRate: [1e-7, 1],
  beta1: [0, 0.999999],
  beta2: [0, 0.999999999],
  eps: [1e-12, 1],
  weightDecay: [0, 1],
  clipNorm: [0, 1e6],
  bpeVocabSize: [256, 8192],
  timeBudgetSeconds: [1, 7 * 24 * 3600],
  checkpointEverySeconds: [1, 3600],
  evalEverySeconds: [1, 3600],
  validationFraction: [0.01, 0.5],
  seed: [0, 2 ** 32 - 1],
  maxFileSizeKB: [1, 102400],
  maxCorpusSizeMB: [1, 512],
  /** Threads of the WebAssembly engine; 0 = automatic (cores − 1, at least 1: resolveThreads). */
  threads: [0, 64],
  /** Inline completions (package.json gatescope.completions.*; the decoder's options in kernels/complete/types.ts). */
  completionDebounceMs: [0, 2000],
  completionMaxChars: [1, 1000],
  completionBeamWidth: [1, 16],
  completionMinConfidence: [0, 1],
  completionCacheMegabytes: [1, 4096],
  completionNgramWeight: [0, 1],
} as const;

export type Bounded = keyof typeof BOUNDS;

const LABELS: Record<Bounded, string> = {
  vocabSize: 'vocabulary size',
  embedSize: 'embedding size',
  hiddenSize: 'hidden size',
  numLayers: 'number of layers',
  dropout: 'dropout',
  seqLen: 'sequence length',
  batchSize: 'batch size',
  learningRate: 'learning rate',
  beta1: 'Adam beta1',
  beta2: 'Adam beta2',
  eps: 'Adam epsilon',
  weightDecay: 'weight decay',
  clipNorm: 'gradient clip norm',
  bpeVocabSize: 'BPE vocabulary size',
  timeBudgetSeconds: 'time budget (seconds)',
  checkpointEverySeconds: 'checkpoint interval (seconds)',
  evalEverySeconds: 'evaluation interval (seconds)',
  validationFraction: 'validation fraction',
  seed: 'random seed',
  maxFileSizeKB: 'largest file read (KB)',
  maxCorpusSizeMB: 'corpus size limit (MB)',
  threads: 'number of threads',
  completionDebounceMs: 'completion debounce (ms)',
  completionMaxChars: 'longest completion (characters)',
  completionBeamWidth: 'completion beam width',
  completionMinConfidence: 'completion confidence threshold',
  completionCacheMegabytes: 'completion state cache (MB)',
  completionNgramWeight: 'completion n-gram weight',
};

const INTEGER: ReadonlySet<Bounded> = new Set<Bounded>(['vocabSize', 'embedSize', 'hiddenSize', 'numLayers', 'seqLen', 'batchSize', 'bpeVocabSize', 'seed', 'maxFileSizeKB', 'maxCorpusSizeMB', 'threads',
  'completionDebounceMs', 'completionMaxChars', 'completionBeamWidth', 'completionCacheMegabytes']);

/**
 * The WebAssembly engine's thread count for a setting (0 = automatic) and the machine's core count:
 * automatic leaves one core to the editor or the shell, cores − 1, at least 1, at most the bound.
 */
export function resolveThreads(setting: number, cores: number): number {
  if (setting > 0) return setting;
  return Math.max(1, Math.min(BOUNDS.threads[1], Math.floor(cores) - 1));
}

/** Whether a setting takes whole numbers only. */
export function isIntegerSetting(key: Bounded): boolean {
  return INTEGER.has(key);
}

export function checkSetting(key: Bounded, value: unknown): number {
  const [lo, hi] = BOUNDS[key];
  const label = LABELS[key];
  check(typeof value === 'number' && Number.isFinite(value), `${label} must be a number, got ${JSON.stringify(value)}`);
  if (INTEGER.has(key)) check(Number.isInteger(value), `${label} must be a whole number, got ${value}`);
  check(value >= lo && value <= hi, `${label} must be between ${lo} and ${hi}, got ${value}`);
  return value;
}

/** Largest model + activation footprint we allow before refusing (bytes): keeps a typo from allocating gigabytes. */
export const MAX_MEMORY_BYTES = 3 * 1024 ** 3;

export function validateModelConfig(c: ModelConfig): ModelConfig {
  check(typeof c === 'object' && c !== null, 'model configuration is missing');
  check(CELL_TYPES.includes(c.cell), `architecture must be one of ${CELL_TYPES.join(', ')}, got ${JSON.stringify(c.cell)}`);
  checkSetting('vocabSize', c.vocabSize);
  checkSetting('embedSize', c.embedSize);
  checkSetting('hiddenSize', c.hiddenSize);
  checkSetting('numLayers', c.numLayers);
  checkSetting('dropout', c.dropout);
  const params = parameterCount(c);
  check(params * 4 * 4 <= MAX_MEMORY_BYTES, () =>
    `a model with ${(params / 1e6).toFixed(1)}M parameters needs ${((params * 16) / 1024 ** 3).toFixed(1)} GiB for weights, gradients and Adam state; make it smaller`);
  return c;
}

export function validateOptimConfig(o: OptimConfig): OptimConfig {
  checkSetting('learningRate', o.learningRate);
  checkSetting('beta1', o.beta1);
  checkSetting('beta2', o.beta2);
  checkSetting('eps', o.eps);
  checkSetting('weightDecay', o.weightDecay);
  checkSetting('clipNorm', o.clipNorm);
  return o;
}

export function validateBatchConfig(model: ModelConfig, b: BatchConfig): BatchConfig {
  checkSetting('seqLen', b.seqLen);
  checkSetting('batchSize', b.batchSize);
  const bytes = activationBytes(model, b);
  check(bytes <= MAX_MEMORY_BYTES, () =>
    `sequence length ${b.seqLen} × batch ${b.batchSize} needs about ${(bytes / 1024 ** 3).toFixed(1)} GiB of activations for this model; lower one of them`);
  return b;
}

export function parameterCount(c: ModelConfig): number {
  const G = gateCount(c.cell);
  const H = c.hiddenSize;
  let n = c.vocabSize * c.embedSize + c.vocabSize * H + c.vocabSize;
  for (let l = 0; l < c.numLayers; l++) {
    const I = l === 0 ? c.embedSize : H;
    n += G * H * (I + H) + 2 * G * H;
  }
  return n;
}

/** Rough bytes of the activations kept for backward through one window (float32). */
export function activationBytes(c: ModelConfig, b: BatchConfig): number {
  const G = gateCount(c.cell);
  const rows = b.seqLen * b.batchSize;
  const perLayer = rows * (2 * G * c.hiddenSize + 4 * c.hiddenSize + Math.max(c.embedSize, c.hiddenSize));
  return 4 * (c.numLayers * perLayer + 2 * rows * c.vocabSize);
}
