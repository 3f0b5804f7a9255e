// The one definition of every message between the extension host and the GateScope webview, in
// both directions, with the checks each side runs on what it receives. Messages cross a trust
// boundary (a webview is a web page; a compromised or buggy one can post anything), so nothing is
// used until `parseToWebview` / `parseFromWebview` has rebuilt it from known fields: unknown kinds,
// wrong types, missing fields, out-of-range numbers and oversized arrays throw a ProtocolError,
// which the receiver logs and drops. Imported by extension/ and webview/; no vscode or DOM imports.

import { BACKEND_SETTINGS, BackendSetting } from '../kernels/backendChoice';
import { BOUNDS, Bounded, CELL_TYPES, ModelConfig, OptimConfig, isIntegerSetting } from '../kernels/config';
import { HistoryPoint } from '../kernels/checkpoint';
import { BackendKind, ModelSizes, TrainingJob, TrainingReport } from '../kernels/session';
import { InspectLayer, InspectResult, MatchResult, ProbeResult, QUANTITY_NAMES, QuantityName, SaturationLayer, UnitRef } from '../kernels/inspect/types';

export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Shapes shared by both directions

/** The hyperparameter form: the same values as the `gatescope.*` settings. */
export interface FormValues {
  architecture: 'lstm' | 'gru' | 'rnn';
  hiddenSize: number;
  layers: number;
  embeddingSize: number;
  dropout: number;
  sequenceLength: number;
  batchSize: number;
  learningRate: number;
  gradientClip: number;
  tokenizer: 'char' | 'bpe';
  vocabularySize: number;
  timeBudgetSeconds: number;
  backend: BackendSetting;
}

/** A setting's bounds as kernels/config.ts declares them (the one source; package.json is checked against it). */
const configBounds = (k: Bounded) => ({ min: BOUNDS[k][0], max: BOUNDS[k][1], integer: isIntegerSetting(k) });

/** Bounds of every numeric form field: kernels/config.ts's, under the form's names. */
export const FORM_BOUNDS: Record<Exclude<keyof FormValues, 'architecture' | 'tokenizer' | 'backend'>, { min: number; max: number; integer: boolean }> = {
  hiddenSize: configBounds('hiddenSize'),
  layers: configBounds('numLayers'),
  embeddingSize: configBounds('embedSize'),
  dropout: configBounds('dropout'),
  sequenceLength: configBounds('seqLen'),
  batchSize: configBounds('batchSize'),
  learningRate: configBounds('learningRate'),
  gradientClip: configBounds('clipNorm'),
  vocabularySize: configBounds('bpeVocabSize'),
  timeBudgetSeconds: configBounds('timeBudgetSeconds'),
};

export type TrainingStatus = 'idle' | 'collecting' | 'training' | 'stopping' | 'paused' | 'error';

export interface CorpusSummary {
  files: number;
  skipped: number;
  bytes: number;
  folders: number;
}

export interface GpuInfo {
  available: boolean;
  /** Adapter description when available. */
  adapter: string;
  /** Why there is no adapter, and what to try. */
  why: string;
  /** Why the adapter is a software renderer ("SwiftShader, a software renderer"), '' for a hardware GPU (kernels/backendChoice.ts). */
  software?: string;
}

/** What the panel shows when it (re)opens. */
export interface PanelState {
  status: TrainingStatus;
  message: string;
  backend: BackendKind | null;
  /** Why the run trains where it does ("WebGPU adapter is SwiftShader, a software renderer: training on the CPU, …"). */
  backendReason?: string;
  adapter: string;
  step: number;
  parameters: number;
  model: ModelConfig | null;
  corpus: CorpusSummary | null;
  history: HistoryPoint[];
}

/** A training report without the checkpoint bytes (what the dashboard needs). */
export type DisplayReport = Exclude<TrainingReport, { kind: 'checkpoint' }> | { kind: 'checkpoint'; runId: number; step: number };

// ---------------------------------------------------------------------------------------------
// Messages

export type ToWebview =
  | { type: 'init'; version: number; settings: FormValues; state: PanelState }
  | { type: 'state'; state: PanelState }
  | { type: 'settings'; settings: FormValues }
  | { type: 'report'; report: DisplayReport }
  | { type: 'train'; job: TrainingJob }
  | { type: 'stop'; runId: number }
  /** The form's last change was written to these settings. */
  | { type: 'settingsSaved'; scope: 'workspace' | 'user' }
  | { type: 'loseDevice' }
  /**
   * "auto" on a hardware GPU: time a few training steps of this model on the panel's WebGPU device
   * (kernels/backendChoice.ts probeBackend, on parameters initialised from `seed`); answered by 'probeResult'.
   */
  | { type: 'probe'; probeId: number; config: ModelConfig; batch: { seqLen: number; batchSize: number }; optim: OptimConfig; seed: number }
  // The inspector (webview/inspector): see InspectorToWebview.
  | InspectorToWebview;

/** Where an inspected text comes from: a document, its version and the inspected range in it. */
export interface InspectSource {
  uri: string;
  /** The file as the user knows it (workspace-relative path or the untitled name). */
  label: string;
  languageId: string;
  version: number;
  /** UTF-16 offsets in the document of the inspected text [start, end). */
  start: number;
  end: number;
  /** The editor selection inside the inspected text as token indices [start, end), or null. */
  selection: { start: number; end: number } | null;
}

/** The model an inspection was computed with. */
export interface InspectModel {
  config: ModelConfig;
  step: number;
  tokenizer: 'char' | 'bpe';
}

export type InspectorStatus = 'noModel' | 'idle' | 'computing' | 'ready' | 'error';

export type InspectorToWebview =
  /** What the inspector is doing, and a sentence for the user ("No model yet: train one first…"). */
  | { type: 'inspector.status'; status: InspectorStatus; message: string }
  /** An inspection: every layer's activations, predictions and probes for the inspected text. */
  | { type: 'inspector.result'; requestId: number; source: InspectSource; model: InspectModel; result: InspectResult; probes: ProbeResult[]; notice: string }
  | { type: 'inspector.matchProgress'; searchId: number; doneTokens: number; totalTokens: number }
  | { type: 'inspector.matchResults'; searchId: number; results: MatchResult[]; tokensSearched: number; seconds: number; cached: boolean; cancelled: boolean }
  /** Gate saturation over a sample of the training corpus (the inspected text's is computed in the webview). */
  | { type: 'inspector.saturation'; requestId: number; tokens: number; layers: SaturationLayer[] }
  /** Sampled text, each token with the probability the model gave it. */
  | { type: 'inspector.sample'; requestId: number; tokens: string[]; probs: Float32Array }
  /** The editor is coloured by this unit now (null: not coloured). */
  | { type: 'inspector.decorated'; unit: UnitRef | null };

export type InspectorFromWebview =
  | { type: 'inspector.ready'; version: number }
  /** Colour the active editor by this unit, or clear the colouring (null). */
  | { type: 'inspector.colorEditor'; unit: UnitRef | null }
  /** Search the training corpus for places where these units are on and the others of the same quantity are not. */
  | { type: 'inspector.match'; searchId: number; layer: number; quantity: QuantityName; units: number[]; threshold: number; length: number }
  | { type: 'inspector.cancelMatch'; searchId: number }
  /** Open a match result (by its index in the latest results of that search). */
  | { type: 'inspector.openMatch'; searchId: number; index: number }
  | { type: 'inspector.sample'; requestId: number; prompt: string; temperature: number; length: number }
  | { type: 'inspector.corpusSaturation'; requestId: number }
  /** Inspect the active editor again now. */
  | { type: 'inspector.refresh' };

export type PanelCommand = 'train' | 'stop' | 'resume' | 'reset' | 'export' | 'import';

export type FromWebview =
  | { type: 'ready'; version: number; gpu: GpuInfo }
  | { type: 'command'; command: PanelCommand }
  | { type: 'updateSettings'; values: Partial<FormValues> }
  | { type: 'report'; report: TrainingReport }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** The answer to 'probe': seconds per step on WebGPU, or null and why the probe failed. */
  | { type: 'probeResult'; probeId: number; secondsPerStep: number | null; error: string }
  | InspectorFromWebview;

// ---------------------------------------------------------------------------------------------
// Checking

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

type Parser<T> = (v: unknown, at: string) => T;

const MAX_STRING = 512 * 1024 * 1024;
const MAX_SHORT_STRING = 64 * 1024;
const MAX_BYTES = 1024 ** 3;
const MAX_HISTORY = 100_000;

function fail(at: string, what: string): never {
  throw new ProtocolError(`${at}: ${what}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? Object.prototype.toString.call(v).slice(8, -1) : typeof v;
}

const str = (max = MAX_SHORT_STRING): Parser<string> => (v, at) => {
  if (typeof v !== 'string') fail(at, `expected a string, got ${describe(v)}`);
  if (v.length > max) fail(at, `string longer than ${max}`);
  return v;
};

const num = (min = -Number.MAX_VALUE, max = Number.MAX_VALUE, integer = false): Parser<number> => (v, at) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(at, `expected a finite number, got ${describe(v)}`);
  if (integer && !Number.isInteger(v)) fail(at, `expected a whole number, got ${v}`);
  if (v < min || v > max) fail(at, `${v} is outside ${min}..${max}`);
  return v;
};

/** A number that may be NaN or infinite (losses before the first step, ETAs). */
const anyNum: Parser<number> = (v, at) => {
  if (typeof v !== 'number') fail(at, `expected a number, got ${describe(v)}`);
  return v;
};

const bool: Parser<boolean> = (v, at) => {
  if (typeof v !== 'boolean') fail(at, `expected true or false, got ${describe(v)}`);
  return v;
};

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (v, at) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(at, `expected one of ${values.join(', ')}, got ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : describe(v)}`);
    return v as T;
  };
}

const nullable = <T>(p: Parser<T>): Parser<T | null> => (v, at) => (v === null ? null : p(v, at));
const optional = <T>(p: Parser<T>): Parser<T | undefined> => (v, at) => (v === undefined ? undefined : p(v, at));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer);
}

type Shape<T> = { [K in keyof T]-?: Parser<T[K]> };

/** Rebuilds an object from the listed fields only (extra fields are dropped, never copied). */
function obj<T>(shape: Shape<T>): Parser<T> {
  return (v, at) => {
    if (!isRecord(v)) fail(at, `expected an object, got ${describe(v)}`);
    const out = {} as T;
    for (const key of Object.keys(shape) as (keyof T)[]) {
      const raw = Object.hasOwn(v, key as string) ? v[key as string] : undefined;
      const value = shape[key](raw, `${at}.${String(key)}`);
      if (value !== undefined) out[key] = value;
    }
    return out;
  };
}

function arr<T>(item: Parser<T>, max: number): Parser<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) fail(at, `expected an array, got ${describe(v)}`);
    if (v.length > max) fail(at, `array longer than ${max}`);
    return v.map((x, i) => item(x, `${at}[${i}]`));
  };
}

/** Bytes as a Uint8Array (what postMessage delivers for a Uint8Array), copied out of any larger buffer. */
const bytes: Parser<Uint8Array> = (v, at) => {
  if (!(v instanceof Uint8Array) && Object.prototype.toString.call(v) !== '[object Uint8Array]') fail(at, `expected bytes, got ${describe(v)}`);
  const b = v as Uint8Array;
  if (b.byteLength > MAX_BYTES) fail(at, 'more than 1 GiB');
  return b;
};

/** Picks the parser by a discriminating field; unknown values are rejected. */
function tagged<T>(field: string, cases: Record<string, Parser<T>>): Parser<T> {
  return (v, at) => {
    if (!isRecord(v)) fail(at, `expected an object, got ${describe(v)}`);
    const tag = v[field];
    if (typeof tag !== 'string' || !Object.hasOwn(cases, tag)) fail(`${at}.${field}`, `unknown ${field} ${typeof tag === 'string' ? JSON.stringify(tag.slice(0, 40)) : describe(tag)}`);
    return cases[tag](v, at);
  };
}

const bounded = (k: keyof typeof FORM_BOUNDS): Parser<number> => num(FORM_BOUNDS[k].min, FORM_BOUNDS[k].max, FORM_BOUNDS[k].integer);
/** A number within a setting's bounds in kernels/config.ts. */
const setting = (k: Bounded): Parser<number> => num(BOUNDS[k][0], BOUNDS[k][1], isIntegerSetting(k));

const formShape: Shape<FormValues> = {
  architecture: oneOf(CELL_TYPES),
  hiddenSize: bounded('hiddenSize'),
  layers: bounded('layers'),
  embeddingSize: bounded('embeddingSize'),
  dropout: bounded('dropout'),
  sequenceLength: bounded('sequenceLength'),
  batchSize: bounded('batchSize'),
  learningRate: bounded('learningRate'),
  gradientClip: bounded('gradientClip'),
  tokenizer: oneOf(['char', 'bpe'] as const),
  vocabularySize: bounded('vocabularySize'),
  timeBudgetSeconds: bounded('timeBudgetSeconds'),
  backend: oneOf(BACKEND_SETTINGS),
};
const formValues = obj<FormValues>(formShape);
const partialFormValues: Parser<Partial<FormValues>> = obj<Partial<FormValues>>(
  Object.fromEntries(Object.entries(formShape).map(([k, p]) => [k, optional(p as Parser<unknown>)])) as Shape<Partial<FormValues>>,
);

const backendKind = oneOf(['cpu', 'wasm', 'webgpu'] as const);
const count = num(0, Number.MAX_SAFE_INTEGER, true);
const runId = num(0, Number.MAX_SAFE_INTEGER, true);

const modelConfig = obj<ModelConfig>({
  cell: oneOf(CELL_TYPES), vocabSize: setting('vocabSize'), embedSize: setting('embedSize'), hiddenSize: setting('hiddenSize'),
  numLayers: setting('numLayers'), dropout: setting('dropout'),
});

const historyPoint = obj<HistoryPoint>({ step: count, trainLoss: optional(anyNum), valBpc: optional(anyNum), time: optional(anyNum) });

const corpusSummary = obj<CorpusSummary>({ files: count, skipped: count, bytes: count, folders: count });

const panelState = obj<PanelState>({
  status: oneOf(['idle', 'collecting', 'training', 'stopping', 'paused', 'error'] as const),
  message: str(),
  backend: nullable(backendKind),
  backendReason: optional(str()),
  adapter: str(),
  step: count,
  parameters: count,
  model: nullable(modelConfig),
  corpus: nullable(corpusSummary),
  history: arr(historyPoint, MAX_HISTORY),
});

const reportCases = {
  started: obj<Extract<TrainingReport, { kind: 'started' }>>({
    kind: oneOf(['started'] as const), runId, step: count, backend: backendKind, adapter: str(), config: modelConfig,
    parameters: count, trainTokens: count, valTokens: count, resumed: bool, note: optional(str()),
  }),
  progress: obj<Extract<TrainingReport, { kind: 'progress' }>>({
    kind: oneOf(['progress'] as const), runId, step: count, loss: anyNum, bitsPerChar: anyNum, tokensPerSecond: anyNum,
    elapsedSeconds: anyNum, fraction: anyNum, etaSeconds: anyNum, epoch: count, time: anyNum,
  }),
  eval: obj<Extract<TrainingReport, { kind: 'eval' }>>({
    kind: oneOf(['eval'] as const), runId, step: count, bitsPerChar: anyNum, bitsPerToken: anyNum, time: anyNum,
  }),
  done: obj<Extract<TrainingReport, { kind: 'done' }>>({
    kind: oneOf(['done'] as const), runId, step: count, stepsThisRun: count, seconds: anyNum,
    stoppedBy: oneOf(['steps', 'time', 'abort'] as const), valBitsPerChar: nullable(anyNum),
  }),
  error: obj<Extract<TrainingReport, { kind: 'error' }>>({
    kind: oneOf(['error'] as const), runId, step: count, message: str(), deviceLost: bool,
  }),
};

const trainingReport: Parser<TrainingReport> = tagged<TrainingReport>('kind', {
  ...reportCases,
  checkpoint: obj<Extract<TrainingReport, { kind: 'checkpoint' }>>({ kind: oneOf(['checkpoint'] as const), runId, step: count, model: bytes, optimizer: bytes }),
});

const displayReport: Parser<DisplayReport> = tagged<DisplayReport>('kind', {
  ...reportCases,
  checkpoint: obj<{ kind: 'checkpoint'; runId: number; step: number }>({ kind: oneOf(['checkpoint'] as const), runId, step: count }),
});

const optimConfig = obj<OptimConfig>({
  learningRate: setting('learningRate'), beta1: setting('beta1'), beta2: setting('beta2'), eps: setting('eps'), weightDecay: setting('weightDecay'), clipNorm: setting('clipNorm'),
});

const modelSizes = obj<ModelSizes>({
  cell: oneOf(CELL_TYPES), hiddenSize: setting('hiddenSize'), numLayers: setting('numLayers'), embedSize: setting('embedSize'), dropout: setting('dropout'),
});

const trainingJob = obj<TrainingJob>({
  runId,
  text: obj({ train: str(MAX_STRING), val: str(MAX_STRING) }),
  model: modelSizes,
  tokenizer: obj({ kind: oneOf(['char', 'bpe'] as const), vocabSize: setting('vocabSize') }),
  optim: optimConfig,
  batch: obj({ seqLen: setting('seqLen'), batchSize: setting('batchSize') }),
  budget: obj({ maxSeconds: optional(num(0, 1e9)), maxSteps: optional(num(1, 1e12, true)) }),
  checkpointEverySeconds: num(0.01, 1e9),
  evalEverySeconds: num(0.01, 1e9),
  seed: setting('seed'),
  resume: optional(obj({ model: bytes, optimizer: optional(bytes) })),
  history: optional(arr(historyPoint, MAX_HISTORY)),
});

// Inspector ------------------------------------------------------------------------------------

/** Most tokens one inspection holds (the inspector inspects at most 4,000; headroom for BPE splits). */
export const MAX_INSPECT_TOKENS = 20_000;
const MAX_TYPED = 64 * 1024 * 1024;

/** A Float32Array (as postMessage delivers it) of at most `max` values; NaN allowed (surprisal of the first token). */
const f32 = (max = MAX_TYPED): Parser<Float32Array> => (v, at) => {
  if (!(v instanceof Float32Array) && Object.prototype.toString.call(v) !== '[object Float32Array]') fail(at, `expected a Float32Array, got ${describe(v)}`);
  const a = v as Float32Array;
  if (a.length > max) fail(at, `more than ${max} values`);
  return a;
};

const i32 = (max = MAX_TYPED): Parser<Int32Array> => (v, at) => {
  if (!(v instanceof Int32Array) && Object.prototype.toString.call(v) !== '[object Int32Array]') fail(at, `expected an Int32Array, got ${describe(v)}`);
  const a = v as Int32Array;
  if (a.length > max) fail(at, `more than ${max} values`);
  return a;
};

const quantityName = oneOf<QuantityName>(QUANTITY_NAMES);
const layerIndex = num(0, BOUNDS.numLayers[1] - 1, true);
const unitIndex = num(0, BOUNDS.hiddenSize[1] - 1, true);
const requestId = num(0, Number.MAX_SAFE_INTEGER, true);
const unitRef = obj<UnitRef>({ layer: layerIndex, quantity: quantityName, unit: unitIndex });

const inspectLayer = obj<InspectLayer>({ names: arr(quantityName, QUANTITY_NAMES.length), values: arr(f32(), QUANTITY_NAMES.length) });

const inspectResult: Parser<InspectResult> = (v, at) => {
  const r = obj<InspectResult>({
    cell: oneOf(CELL_TYPES), hiddenSize: setting('hiddenSize'), numLayers: setting('numLayers'),
    tokens: arr(str(), MAX_INSPECT_TOKENS), offsets: i32(MAX_INSPECT_TOKENS + 1), layers: arr(inspectLayer, BOUNDS.numLayers[1]),
    surprisal: f32(MAX_INSPECT_TOKENS), nextProb: f32(MAX_INSPECT_TOKENS), topK: num(0, 100, true),
    topTokens: arr(str(), MAX_INSPECT_TOKENS * 100), topProbs: f32(MAX_INSPECT_TOKENS * 100),
  })(v, at);
  // The arrays must agree with each other, so the webview can index them without checks.
  const T = r.tokens.length, H = r.hiddenSize;
  if (r.offsets.length !== T + 1) fail(`${at}.offsets`, `expected ${T + 1} offsets for ${T} tokens, got ${r.offsets.length}`);
  if (r.layers.length !== r.numLayers) fail(`${at}.layers`, `expected ${r.numLayers} layers, got ${r.layers.length}`);
  r.layers.forEach((l, k) => {
    if (l.names.length !== l.values.length) fail(`${at}.layers[${k}]`, `${l.names.length} names for ${l.values.length} arrays`);
    l.values.forEach((a, j) => { if (a.length !== T * H) fail(`${at}.layers[${k}].values[${j}]`, `expected ${T * H} values, got ${a.length}`); });
  });
  for (const [name, a] of [['surprisal', r.surprisal], ['nextProb', r.nextProb]] as const) if (a.length !== T) fail(`${at}.${name}`, `expected ${T} values, got ${a.length}`);
  if (r.topTokens.length !== T * r.topK || r.topProbs.length !== T * r.topK) fail(`${at}.topTokens`, `expected ${T * r.topK} top tokens and probabilities`);
  return r;
};

const probeResult = obj<ProbeResult>({
  name: str(64), label: str(256), values: f32(MAX_INSPECT_TOKENS),
  best: arr(obj({ layer: layerIndex, quantity: quantityName, unit: unitIndex, r: num(-1.000001, 1.000001) }), 10),
});

const inspectSource = obj<InspectSource>({
  uri: str(8192), label: str(8192), languageId: str(256), version: count, start: count, end: count,
  selection: nullable(obj({ start: count, end: count })),
});

const inspectModel = obj<InspectModel>({ config: modelConfig, step: count, tokenizer: oneOf(['char', 'bpe'] as const) });

const MAX_MATCHES = 50;
const matchResult = obj<MatchResult>({
  path: str(8192), uri: str(8192), offset: count, length: count, line: count, character: count, score: anyNum,
  tokens: arr(str(), 4096), matchStart: count, matchLength: count, values: f32(4096 * 512),
});

const saturationLayer = obj<SaturationLayer>({
  layer: layerIndex,
  gates: arr(obj({ name: quantityName, left: f32(BOUNDS.hiddenSize[1]), right: f32(BOUNDS.hiddenSize[1]) }), 4),
});

const inspectorToWebview = {
  'inspector.status': obj({ type: oneOf(['inspector.status'] as const), status: oneOf(['noModel', 'idle', 'computing', 'ready', 'error'] as const), message: str() }),
  'inspector.result': obj({
    type: oneOf(['inspector.result'] as const), requestId, source: inspectSource, model: inspectModel, result: inspectResult,
    probes: arr(probeResult, 16), notice: str(),
  }),
  'inspector.matchProgress': obj({ type: oneOf(['inspector.matchProgress'] as const), searchId: requestId, doneTokens: count, totalTokens: count }),
  'inspector.matchResults': obj({
    type: oneOf(['inspector.matchResults'] as const), searchId: requestId, results: arr(matchResult, MAX_MATCHES), tokensSearched: count,
    seconds: num(0, 1e9), cached: bool, cancelled: bool,
  }),
  'inspector.saturation': obj({ type: oneOf(['inspector.saturation'] as const), requestId, tokens: count, layers: arr(saturationLayer, BOUNDS.numLayers[1]) }),
  'inspector.sample': obj({ type: oneOf(['inspector.sample'] as const), requestId, tokens: arr(str(), 100_000), probs: f32(100_000) }),
  'inspector.decorated': obj({ type: oneOf(['inspector.decorated'] as const), unit: nullable(unitRef) }),
};

const inspectorFromWebview = {
  'inspector.ready': obj({ type: oneOf(['inspector.ready'] as const), version: num(0, 1e6, true) }),
  'inspector.colorEditor': obj({ type: oneOf(['inspector.colorEditor'] as const), unit: nullable(unitRef) }),
  'inspector.match': obj({
    type: oneOf(['inspector.match'] as const), searchId: requestId, layer: layerIndex, quantity: quantityName,
    units: arr(unitIndex, BOUNDS.hiddenSize[1]), threshold: num(-1e6, 1e6), length: num(1, 4096, true),
  }),
  'inspector.cancelMatch': obj({ type: oneOf(['inspector.cancelMatch'] as const), searchId: requestId }),
  'inspector.openMatch': obj({ type: oneOf(['inspector.openMatch'] as const), searchId: requestId, index: num(0, MAX_MATCHES - 1, true) }),
  'inspector.sample': obj({
    type: oneOf(['inspector.sample'] as const), requestId, prompt: str(100_000), temperature: num(0, 10), length: num(1, 10_000, true),
  }),
  'inspector.corpusSaturation': obj({ type: oneOf(['inspector.corpusSaturation'] as const), requestId }),
  'inspector.refresh': obj({ type: oneOf(['inspector.refresh'] as const) }),
};

const gpuInfo = obj<GpuInfo>({ available: bool, adapter: str(), why: str(), software: optional(str()) });

const toWebview: Parser<ToWebview> = tagged<ToWebview>('type', {
  init: obj({ type: oneOf(['init'] as const), version: num(0, 1e6, true), settings: formValues, state: panelState }),
  state: obj({ type: oneOf(['state'] as const), state: panelState }),
  settings: obj({ type: oneOf(['settings'] as const), settings: formValues }),
  report: obj({ type: oneOf(['report'] as const), report: displayReport }),
  train: obj({ type: oneOf(['train'] as const), job: trainingJob }),
  stop: obj({ type: oneOf(['stop'] as const), runId }),
  settingsSaved: obj({ type: oneOf(['settingsSaved'] as const), scope: oneOf(['workspace', 'user'] as const) }),
  loseDevice: obj({ type: oneOf(['loseDevice'] as const) }),
  probe: obj({
    type: oneOf(['probe'] as const), probeId: requestId, config: modelConfig, batch: obj({ seqLen: setting('seqLen'), batchSize: setting('batchSize') }),
    optim: optimConfig, seed: setting('seed'),
  }),
  ...inspectorToWebview,
} as Record<string, Parser<ToWebview>>);

const fromWebview: Parser<FromWebview> = tagged<FromWebview>('type', {
  ready: obj({ type: oneOf(['ready'] as const), version: num(0, 1e6, true), gpu: gpuInfo }),
  command: obj({ type: oneOf(['command'] as const), command: oneOf(['train', 'stop', 'resume', 'reset', 'export', 'import'] as const) }),
  updateSettings: obj({ type: oneOf(['updateSettings'] as const), values: partialFormValues }),
  report: obj({ type: oneOf(['report'] as const), report: trainingReport }),
  log: obj({ type: oneOf(['log'] as const), level: oneOf(['info', 'warn', 'error'] as const), message: str() }),
  probeResult: obj({ type: oneOf(['probeResult'] as const), probeId: requestId, secondsPerStep: nullable(num(0, 1e6)), error: str() }),
  ...inspectorFromWebview,
} as Record<string, Parser<FromWebview>>);

/** Checks a message the webview received; throws ProtocolError when it is not a ToWebview. */
export function parseToWebview(v: unknown): ToWebview {
  return toWebview(v, 'message');
}

/** Checks a message the extension received; throws ProtocolError when it is not a FromWebview. */
export function parseFromWebview(v: unknown): FromWebview {
  return fromWebview(v, 'message');
}

/** A report as the dashboard shows it (checkpoint bytes stay with the extension). */
export function toDisplayReport(r: TrainingReport): DisplayReport {
  return r.kind === 'checkpoint' ? { kind: 'checkpoint', runId: r.runId, step: r.step } : r;
}
