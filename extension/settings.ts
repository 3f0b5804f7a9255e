// The `gatescope.*` settings, read once per use and checked: a value outside its bounds (a hand-edited
// settings.json can hold anything) is replaced by the default and reported, never passed on. Also the
// bridge between settings and the panel's hyperparameter form (FormValues).

import * as vscode from 'vscode';
import { BACKEND_SETTINGS, BackendSetting } from '../kernels/backendChoice';
import { BOUNDS, Bounded, CellType, DEFAULT_OPTIM, OptimConfig, isIntegerSetting } from '../kernels/config';
import { DEFAULT_DECODE, DecodeOptions, StopAt } from '../kernels/complete/types';
import { TokenizerKind } from '../kernels/trainingData';
import { ModelSizes } from '../kernels/session';
import { FORM_BOUNDS, FormValues } from '../webview/protocol';
import { CorpusSettings } from './corpus';

export interface Settings {
  model: ModelSizes;
  tokenizer: { kind: TokenizerKind; vocabSize: number };
  batch: { seqLen: number; batchSize: number };
  optim: OptimConfig;
  timeBudgetSeconds: number;
  backend: BackendSetting;
  /** Threads of the WebAssembly engine as set: 0 = automatic (kernels/config.ts resolveThreads). */
  threads: number;
  onPanelClosed: 'continueOnCpu' | 'pause';
  checkpointIntervalSeconds: number;
  evalIntervalSeconds: number;
  validationFraction: number;
  seed: number;
  corpus: CorpusSettings;
  completions: boolean;
}

interface NumberSpec { key: string; def: number; min: number; max: number; integer: boolean }

/** Bounds as package.json declares them (the form bounds where the two overlap). */
function spec(key: string, def: number, min: number, max: number, integer: boolean): NumberSpec {
  return { key, def, min, max, integer };
}
const fb = (k: keyof typeof FORM_BOUNDS, key: string, def: number) => spec(key, def, FORM_BOUNDS[k].min, FORM_BOUNDS[k].max, FORM_BOUNDS[k].integer);
/** A setting bounded in kernels/config.ts (the one source of bounds). */
const cb = (k: Bounded, key: string, def: number) => spec(key, def, BOUNDS[k][0], BOUNDS[k][1], isIntegerSetting(k));
const S = {
  hiddenSize: fb('hiddenSize', 'model.hiddenSize', 128),
  layers: fb('layers', 'model.layers', 1),
  embeddingSize: fb('embeddingSize', 'model.embeddingSize', 64),
  dropout: fb('dropout', 'model.dropout', 0),
  vocabularySize: fb('vocabularySize', 'tokenizer.vocabularySize', 2048),
  sequenceLength: fb('sequenceLength', 'training.sequenceLength', 64),
  batchSize: fb('batchSize', 'training.batchSize', 16),
  learningRate: fb('learningRate', 'training.learningRate', DEFAULT_OPTIM.learningRate),
  gradientClip: fb('gradientClip', 'training.gradientClip', DEFAULT_OPTIM.clipNorm),
  timeBudgetSeconds: fb('timeBudgetSeconds', 'training.timeBudgetSeconds', 300),
  checkpointIntervalSeconds: cb('checkpointEverySeconds', 'training.checkpointIntervalSeconds', 30),
  evalIntervalSeconds: cb('evalEverySeconds', 'training.evalIntervalSeconds', 20),
  validationFraction: cb('validationFraction', 'training.validationFraction', 0.05),
  seed: cb('seed', 'training.seed', 1),
  maxFileSizeKB: cb('maxFileSizeKB', 'corpus.maxFileSizeKB', 1000),
  maxCorpusSizeMB: cb('maxCorpusSizeMB', 'corpus.maxCorpusSizeMB', 50),
  threads: cb('threads', 'training.threads', 0),
  completionDebounceMs: cb('completionDebounceMs', 'completions.debounceMs', 50),
  completionMaxChars: cb('completionMaxChars', 'completions.maxChars', DEFAULT_DECODE.maxChars),
  completionBeamWidth: cb('completionBeamWidth', 'completions.beamWidth', DEFAULT_DECODE.beamWidth),
  completionMinConfidence: cb('completionMinConfidence', 'completions.minConfidence', DEFAULT_DECODE.minConfidence),
  completionCacheMegabytes: cb('completionCacheMegabytes', 'completions.cacheMegabytes', 64),
  completionNgramWeight: cb('completionNgramWeight', 'completions.ngramWeight', 0.7),
};

function choice<T extends string>(cfg: vscode.WorkspaceConfiguration, key: string, values: readonly T[], def: T, problems: string[]): T {
  const v = cfg.get<unknown>(key, def);
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  problems.push(`gatescope.${key} must be one of ${values.join(', ')} (got ${JSON.stringify(v)}); using ${def}`);
  return def;
}

function number(cfg: vscode.WorkspaceConfiguration, s: NumberSpec, problems: string[]): number {
  const v = cfg.get<unknown>(s.key, s.def);
  if (typeof v === 'number' && Number.isFinite(v) && v >= s.min && v <= s.max && (!s.integer || Number.isInteger(v))) return v;
  problems.push(`gatescope.${s.key} must be ${s.integer ? 'a whole number' : 'a number'} from ${s.min} to ${s.max} (got ${JSON.stringify(v)}); using ${s.def}`);
  return s.def;
}

function globs(cfg: vscode.WorkspaceConfiguration, key: string, problems: string[]): string[] {
  const v = cfg.get<unknown>(key, []);
  if (Array.isArray(v) && v.every((g) => typeof g === 'string' && g.length > 0 && g.length < 1000) && v.length <= 1000) return v as string[];
  problems.push(`gatescope.${key} must be a list of glob strings; ignoring it`);
  return [];
}

/** Reads every setting; `problems` lists the values that were out of bounds and replaced. */
export function readSettings(): { settings: Settings; problems: string[] } {
  const cfg = vscode.workspace.getConfiguration('gatescope');
  const p: string[] = [];
  const include = cfg.get<unknown>('corpus.include', '**/*');
  const settings: Settings = {
    model: {
      cell: choice<CellType>(cfg, 'model.architecture', ['lstm', 'gru', 'rnn'], 'lstm', p),
      hiddenSize: number(cfg, S.hiddenSize, p),
      numLayers: number(cfg, S.layers, p),
      embedSize: number(cfg, S.embeddingSize, p),
      dropout: number(cfg, S.dropout, p),
    },
    tokenizer: { kind: choice<TokenizerKind>(cfg, 'tokenizer.kind', ['char', 'bpe'], 'char', p), vocabSize: number(cfg, S.vocabularySize, p) },
    batch: { seqLen: number(cfg, S.sequenceLength, p), batchSize: number(cfg, S.batchSize, p) },
    optim: { ...DEFAULT_OPTIM, learningRate: number(cfg, S.learningRate, p), clipNorm: number(cfg, S.gradientClip, p) },
    timeBudgetSeconds: number(cfg, S.timeBudgetSeconds, p),
    backend: choice<BackendSetting>(cfg, 'training.backend', BACKEND_SETTINGS, 'auto', p),
    threads: number(cfg, S.threads, p),
    onPanelClosed: choice(cfg, 'training.onPanelClosed', ['continueOnCpu', 'pause'] as const, 'continueOnCpu', p),
    checkpointIntervalSeconds: number(cfg, S.checkpointIntervalSeconds, p),
    evalIntervalSeconds: number(cfg, S.evalIntervalSeconds, p),
    validationFraction: number(cfg, S.validationFraction, p),
    seed: number(cfg, S.seed, p),
    corpus: {
      include: typeof include === 'string' && include.length > 0 && include.length < 1000 ? include : (p.push('gatescope.corpus.include must be a glob string; using **/*'), '**/*'),
      exclude: globs(cfg, 'corpus.exclude', p),
      maxFileBytes: number(cfg, S.maxFileSizeKB, p) * 1024,
      maxCorpusBytes: number(cfg, S.maxCorpusSizeMB, p) * 1024 * 1024,
    },
    completions: cfg.get<unknown>('completions.enabled', false) === true,
  };
  return { settings, problems: p };
}

/** The inline completion settings (gatescope.completions.*), checked like the others. */
export interface CompletionSettings {
  enabled: boolean;
  /** Wait this long after a keystroke before asking the model (a newer keystroke cancels the wait). */
  debounceMs: number;
  /** The decoder's options (the rest of DEFAULT_DECODE: repetition cut, trimming to the expected saving). */
  decode: DecodeOptions;
  /** Memory bound of the completion worker's state cache, bytes. */
  cacheBytes: number;
  /** Where completions apply: language ids and globs; empty: the files the corpus includes (and untitled files). */
  files: string[];
  /** Share of the character n-gram (built from the workspace's training corpus) in the model's distribution; 0: none. */
  ngramWeight: number;
}

export function readCompletionSettings(): { settings: CompletionSettings; problems: string[] } {
  const cfg = vscode.workspace.getConfiguration('gatescope');
  const p: string[] = [];
  const settings: CompletionSettings = {
    enabled: cfg.get<unknown>('completions.enabled', false) === true,
    debounceMs: number(cfg, S.completionDebounceMs, p),
    decode: {
      ...DEFAULT_DECODE,
      stopAt: choice<StopAt>(cfg, 'completions.stopAt', ['line', 'identifier', 'length'], DEFAULT_DECODE.stopAt, p),
      maxChars: number(cfg, S.completionMaxChars, p),
      beamWidth: number(cfg, S.completionBeamWidth, p),
      minConfidence: number(cfg, S.completionMinConfidence, p),
    },
    cacheBytes: number(cfg, S.completionCacheMegabytes, p) * 1024 * 1024,
    files: globs(cfg, 'completions.files', p),
    ngramWeight: number(cfg, S.completionNgramWeight, p),
  };
  return { settings, problems: p };
}

export function toFormValues(s: Settings): FormValues {
  return {
    architecture: s.model.cell,
    hiddenSize: s.model.hiddenSize,
    layers: s.model.numLayers,
    embeddingSize: s.model.embedSize,
    dropout: s.model.dropout,
    sequenceLength: s.batch.seqLen,
    batchSize: s.batch.batchSize,
    learningRate: s.optim.learningRate,
    gradientClip: s.optim.clipNorm,
    tokenizer: s.tokenizer.kind,
    vocabularySize: s.tokenizer.vocabSize,
    timeBudgetSeconds: s.timeBudgetSeconds,
    backend: s.backend,
  };
}

/** The setting each form field edits. */
export const FORM_SETTING: Record<keyof FormValues, string> = {
  architecture: 'model.architecture',
  hiddenSize: 'model.hiddenSize',
  layers: 'model.layers',
  embeddingSize: 'model.embeddingSize',
  dropout: 'model.dropout',
  sequenceLength: 'training.sequenceLength',
  batchSize: 'training.batchSize',
  learningRate: 'training.learningRate',
  gradientClip: 'training.gradientClip',
  tokenizer: 'tokenizer.kind',
  vocabularySize: 'tokenizer.vocabularySize',
  timeBudgetSeconds: 'training.timeBudgetSeconds',
  backend: 'training.backend',
};

/** Where the panel's form writes: the workspace's settings when a folder is open (the model is per workspace), the user's otherwise. */
export type SettingsScope = 'workspace' | 'user';

export function formSettingsScope(): SettingsScope {
  return vscode.workspace.workspaceFolders?.length ? 'workspace' : 'user';
}

/** Writes form values (already checked by the protocol) to the settings; returns where they went. */
export async function writeFormValues(values: Partial<FormValues>): Promise<SettingsScope> {
  const scope = formSettingsScope();
  const target = scope === 'workspace' ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  const cfg = vscode.workspace.getConfiguration('gatescope');
  for (const [field, value] of Object.entries(values) as [keyof FormValues, unknown][]) await cfg.update(FORM_SETTING[field], value, target);
  return scope;
}
