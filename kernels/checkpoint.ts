// The model checkpoint: a .safetensors file whose tensors are the PyTorch state dict of
//   embedding = nn.Embedding(V, E); rnn = nn.LSTM/GRU/RNN(E, H, L); decoder = nn.Linear(H, V)
// (names and shapes from params.ts) and whose "__metadata__" strings carry the rest: format version,
// model config, tokenizer, training step, optimizer settings, loss history and free-form extras.
// The Adam moments live in a second file (encodeOptimizerState), so an exported model stays a clean
// state dict. A file without GateScope metadata (saved from PyTorch) loads with its config inferred
// from the tensor shapes. No Node imports: this runs in the extension host and in the webview.

import { CellType, ModelConfig, validateModelConfig } from './config';
import { GateScopeError, check } from './errors';
import { ParamMap, paramSpecs } from './params';
import { decodeSafetensors, encodeSafetensors, listNames, SafetensorsInput, SafetensorsTensor } from './safetensors';
import { sizeOf } from './tensor';
import { Tokenizer, tokenizerFromJSON } from './tokenizer';

export const CHECKPOINT_FORMAT = 'gatescope/1';
/** Most loss-history points a checkpoint keeps; longer histories are thinned evenly when saved. */
export const MAX_HISTORY_POINTS = 100_000;

export interface HistoryPoint {
  step: number;
  trainLoss?: number;
  valBpc?: number;
  time?: number;
}

export interface ModelCheckpoint {
  config: ModelConfig;
  /** Float32Array (or Float64Array when saving) per PyTorch name; decoded params are Float32Array. */
  params: ParamMap;
  /** Tokenizer JSON, opaque to the decoder: checkpointTokenizer() validates it. */
  tokenizer?: unknown;
  /** Training steps done. */
  step: number;
  /** Optimizer and batch settings, opaque JSON. */
  optim?: Record<string, unknown>;
  history?: HistoryPoint[];
  /** Anything else, stored as metadata strings under their own keys. */
  extra?: Record<string, string>;
}

/** Adam moments, same names and element counts as the params. */
export interface OptimizerState {
  step: number;
  m: ParamMap;
  v: ParamMap;
}

/** Metadata keys the checkpoint itself uses; `extra` may not reuse them. */
export const RESERVED_METADATA_KEYS: readonly string[] = ['format', 'config', 'tokenizer', 'step', 'optim', 'history'];

const CONFIG_KEYS: readonly (keyof ModelConfig)[] = ['cell', 'vocabSize', 'embedSize', 'hiddenSize', 'numLayers', 'dropout'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(md: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(md, key) ? md[key] : undefined;
}

function describe(c: ModelConfig): string {
  return `a ${c.numLayers}-layer ${c.cell} with hidden size ${c.hiddenSize}, embedding size ${c.embedSize}, vocabulary ${c.vocabSize}`;
}

function isStepValue(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

// ---------------------------------------------------------------- model checkpoint: writing

function thinHistory(h: HistoryPoint[]): HistoryPoint[] {
  if (h.length <= MAX_HISTORY_POINTS) return h;
  const out: HistoryPoint[] = [];
  for (let i = 0; i < MAX_HISTORY_POINTS; i++) out.push(h[Math.round((i * (h.length - 1)) / (MAX_HISTORY_POINTS - 1))]);
  return out;
}

/** A history point as stored: non-finite losses (JSON has no NaN) are left out. */
function cleanPoint(p: HistoryPoint): HistoryPoint {
  check(isStepValue(p.step), () => `cannot save checkpoint: history step ${JSON.stringify(p.step)} is not a non-negative whole number`);
  const q: HistoryPoint = { step: p.step };
  if (typeof p.trainLoss === 'number' && Number.isFinite(p.trainLoss)) q.trainLoss = p.trainLoss;
  if (typeof p.valBpc === 'number' && Number.isFinite(p.valBpc)) q.valBpc = p.valBpc;
  if (typeof p.time === 'number' && Number.isFinite(p.time)) q.time = p.time;
  return q;
}

function toJson(value: unknown, label: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch (e) {
    throw new GateScopeError(`cannot save checkpoint: the ${label} is not JSON (${(e as Error).message})`);
  }
  check(typeof s === 'string', `cannot save checkpoint: the ${label} is not JSON`);
  return s;
}

/** The tensors of `params` in paramSpecs order, checked against the config. */
function paramTensors(config: ModelConfig, params: ParamMap, label: string, namePrefix = ''): SafetensorsInput[] {
  const specs = paramSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  const unexpected = [...params.keys()].filter((k) => !expected.has(k));
  check(unexpected.length === 0, () => `cannot save ${label}: unexpected parameters ${listNames(unexpected)} for ${describe(config)}`);
  return specs.map((s) => {
    const data = params.get(s.name);
    check(data !== undefined, `cannot save ${label}: parameter "${s.name}" is missing`);
    check(data.length === sizeOf(s.shape), () =>
      `cannot save ${label}: parameter "${s.name}" has ${data.length} values, expected shape [${s.shape.join(', ')}]`);
    return { name: namePrefix + s.name, shape: s.shape, data };
  });
}

export function encodeCheckpoint(ck: ModelCheckpoint): Uint8Array {
  const config = validateModelConfig(ck.config);
  check(isStepValue(ck.step), () => `cannot save checkpoint: step ${JSON.stringify(ck.step)} is not a non-negative whole number`);
  const cfg: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) cfg[k] = config[k];
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(cfg),
    step: String(ck.step),
  };
  if (ck.tokenizer !== undefined) metadata.tokenizer = toJson(ck.tokenizer, 'tokenizer');
  if (ck.optim !== undefined) {
    check(isPlainObject(ck.optim), 'cannot save checkpoint: optimizer settings must be an object');
    metadata.optim = toJson(ck.optim, 'optimizer settings');
  }
  if (ck.history !== undefined) {
    check(Array.isArray(ck.history), 'cannot save checkpoint: history must be an array');
    metadata.history = JSON.stringify(thinHistory(ck.history).map(cleanPoint));
  }
  for (const [k, v] of Object.entries(ck.extra ?? {})) {
    check(!RESERVED_METADATA_KEYS.includes(k), `cannot save checkpoint: extra key "${k}" is reserved; rename it`);
    check(typeof v === 'string', `cannot save checkpoint: extra value "${k}" must be a string`);
    metadata[k] = v;
  }
  return encodeSafetensors(paramTensors(config, ck.params, 'checkpoint'), metadata);
}

// ---------------------------------------------------------------- model checkpoint: reading

/**
 * The config a PyTorch state dict describes: V, E from embedding.weight; H from rnn.weight_hh_l0;
 * the cell from its gate count (weight_hh_l0 is [G*H, H]: LSTM 4, GRU 3, RNN 1); L from the number of
 * rnn.weight_ih_l{k}. Dropout is not in the weights and is set to 0. Only these tensors are looked at:
 * decodeCheckpoint then checks every tensor against the inferred config.
 */
export function inferConfigFromTensors(tensors: Map<string, { shape: number[] }>): ModelConfig {
  const found = () => `(found ${listNames([...tensors.keys()])})`;
  const reverse = [...tensors.keys()].filter((k) => k.endsWith('_reverse'));
  check(reverse.length === 0, () => `bidirectional layers are not supported (found ${listNames(reverse)}); export a unidirectional model`);
  const emb = tensors.get('embedding.weight');
  check(emb !== undefined, () =>
    `no "embedding.weight" tensor ${found()}; GateScope loads a module with submodules embedding, rnn, decoder`);
  check(emb.shape.length === 2, () => `"embedding.weight" must be 2-D [vocab, embed], found [${emb.shape.join(', ')}]`);
  check(tensors.has('decoder.weight'), () => `no "decoder.weight" tensor ${found()}; GateScope needs a decoder = nn.Linear(hidden, vocab)`);
  check(tensors.has('rnn.weight_ih_l0'), () => `no "rnn.weight_ih_l0" tensor ${found()}; GateScope needs rnn = nn.LSTM, nn.GRU or nn.RNN`);
  const whh = tensors.get('rnn.weight_hh_l0');
  check(whh !== undefined, () => `no "rnn.weight_hh_l0" tensor ${found()}; GateScope needs rnn = nn.LSTM, nn.GRU or nn.RNN`);
  check(whh.shape.length === 2 && whh.shape[1] > 0, () => `"rnn.weight_hh_l0" must be 2-D [gates*hidden, hidden], found [${whh.shape.join(', ')}]`);
  const [V, E] = emb.shape;
  const H = whh.shape[1];
  const G = whh.shape[0] / H;
  const cell: CellType | undefined = G === 4 ? 'lstm' : G === 3 ? 'gru' : G === 1 ? 'rnn' : undefined;
  check(cell !== undefined, () =>
    `"rnn.weight_hh_l0" has shape [${whh.shape.join(', ')}], which is not an LSTM (4 gates), GRU (3) or RNN (1) with hidden size ${H}`);
  let L = 0;
  while (tensors.has(`rnn.weight_ih_l${L}`)) L++;
  const stray = [...tensors.keys()].filter((k) => {
    const m = /^rnn\.weight_ih_l(\d+)$/.exec(k);
    return m !== null && Number(m[1]) >= L;
  });
  check(stray.length === 0, () => `layer numbers must run from 0 without gaps, found ${listNames(stray)} after ${L} layer(s)`);
  return validateModelConfig({ cell, vocabSize: V, embedSize: E, hiddenSize: H, numLayers: L, dropout: 0 });
}

/** Checks that `tensors` holds exactly the params of `config` with their shapes; returns them in spec order. */
function checkParams(tensors: Map<string, SafetensorsTensor>, config: ModelConfig, fail: (m: string) => never): ParamMap {
  const specs = paramSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  const missing = specs.map((s) => s.name).filter((n) => !tensors.has(n));
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  const hint = () => {
    try {
      return `; the tensors look like ${describe(inferConfigFromTensors(tensors))}`;
    } catch {
      return '';
    }
  };
  if (missing.length > 0 || unexpected.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing tensors ${listNames(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected tensors ${listNames(unexpected)}`);
    fail(`${parts.join(' and ')} for ${describe(config)}${hint()}`);
  }
  const params: ParamMap = new Map();
  for (const s of specs) {
    const t = tensors.get(s.name)!;
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      fail(`tensor "${s.name}" has shape [${t.shape.join(', ')}] but ${describe(config)} needs [${s.shape.join(', ')}]${hint()}`);
    }
    params.set(s.name, t.data);
  }
  return params;
}

function parseJson(text: string, label: string, fail: (m: string) => never): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(`metadata "${label}" is not valid JSON (${(e as Error).message})`);
  }
}

function parseStep(text: string | undefined, fail: (m: string) => never): number {
  if (text === undefined) return fail('metadata has no "step"');
  const n = Number(text);
  if (!/^(0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(n)) fail(`metadata "step" must be a non-negative whole number, found ${JSON.stringify(text.slice(0, 40))}`);
  return n;
}

function parseConfig(text: string, fail: (m: string) => never): ModelConfig {
  const raw = parseJson(text, 'config', fail);
  if (!isPlainObject(raw)) fail('metadata "config" must be a JSON object');
  const obj = raw as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) fail(`metadata "config" has unknown fields ${listNames(unknown)}; the file was written by a newer GateScope`);
  const c = { ...obj, dropout: obj.dropout ?? 0 } as unknown as ModelConfig;
  try {
    return validateModelConfig(c);
  } catch (e) {
    if (e instanceof GateScopeError) fail(`metadata "config": ${e.message}`);
    throw e;
  }
}

function parseHistory(text: string, fail: (m: string) => never): HistoryPoint[] {
  const raw = parseJson(text, 'history', fail);
  if (!Array.isArray(raw)) fail('metadata "history" must be a JSON array');
  const arr = raw as unknown[];
  if (arr.length > MAX_HISTORY_POINTS) fail(`metadata "history" has ${arr.length} points, more than the ${MAX_HISTORY_POINTS} allowed`);
  return arr.map((p, i) => {
    if (!isPlainObject(p)) fail(`history point ${i} must be an object`);
    const o = p as Record<string, unknown>;
    if (!isStepValue(o.step)) fail(`history point ${i} has step ${JSON.stringify(o.step)}, not a non-negative whole number`);
    const q: HistoryPoint = { step: o.step as number };
    for (const k of ['trainLoss', 'valBpc', 'time'] as const) {
      const v = o[k];
      if (v === undefined || v === null) continue; // JSON writes NaN as null: treat as absent
      if (typeof v !== 'number') fail(`history point ${i} has ${k} ${JSON.stringify(v).slice(0, 40)}, not a number`);
      q[k] = v as number;
    }
    return q;
  });
}

export function decodeCheckpoint(bytes: Uint8Array, what = 'checkpoint'): ModelCheckpoint {
  const fail: (m: string) => never = (m) => {
    throw new GateScopeError(`${what}: ${m}`);
  };
  const { metadata: md, tensors } = decodeSafetensors(bytes, { what });
  const format = own(md, 'format');

  // A file not written by GateScope (a PyTorch state dict, perhaps with {"format": "pt"}): infer the
  // config from the shapes, keep its non-reserved metadata as extras.
  if (format === undefined || !format.startsWith('gatescope/')) {
    let config: ModelConfig;
    try {
      config = inferConfigFromTensors(tensors);
    } catch (e) {
      if (e instanceof GateScopeError) fail(`no GateScope metadata, and the tensors are not a model GateScope can load: ${e.message}`);
      throw e;
    }
    const params = checkParams(tensors, config, fail);
    const extraEntries = Object.entries(md).filter(([k]) => !RESERVED_METADATA_KEYS.includes(k));
    const ck: ModelCheckpoint = { config, params, step: 0 };
    if (extraEntries.length > 0) ck.extra = Object.fromEntries(extraEntries);
    return ck;
  }

  if (format !== CHECKPOINT_FORMAT) fail(`format ${JSON.stringify(format.slice(0, 40))} is not ${CHECKPOINT_FORMAT}; it was written by a newer GateScope: update GateScope to open it`);
  const configText = own(md, 'config');
  if (configText === undefined) fail('metadata has no "config"');
  const config = parseConfig(configText, fail);
  const params = checkParams(tensors, config, fail);
  const ck: ModelCheckpoint = { config, params, step: parseStep(own(md, 'step'), fail) };

  const tok = own(md, 'tokenizer');
  if (tok !== undefined) ck.tokenizer = parseJson(tok, 'tokenizer', fail);
  const optim = own(md, 'optim');
  if (optim !== undefined) {
    const o = parseJson(optim, 'optim', fail);
    if (!isPlainObject(o)) fail('metadata "optim" must be a JSON object');
    ck.optim = o as Record<string, unknown>;
  }
  const hist = own(md, 'history');
  if (hist !== undefined) ck.history = parseHistory(hist, fail);
  const extraEntries = Object.entries(md).filter(([k]) => !RESERVED_METADATA_KEYS.includes(k));
  if (extraEntries.length > 0) ck.extra = Object.fromEntries(extraEntries);
  return ck;
}

// ---------------------------------------------------------------- optimizer state (second file)

const M_PREFIX = 'exp_avg.';
const V_PREFIX = 'exp_avg_sq.';

export function encodeOptimizerState(s: OptimizerState): Uint8Array {
  check(isStepValue(s.step), () => `cannot save optimizer state: step ${JSON.stringify(s.step)} is not a non-negative whole number`);
  const mNames = [...s.m.keys()];
  const vNames = new Set(s.v.keys());
  check(mNames.length === vNames.size && mNames.every((n) => vNames.has(n)),
    'cannot save optimizer state: the first and second Adam moments name different parameters');
  const tensors: SafetensorsInput[] = [];
  // Shapes are not known here (no config): moments are stored flat; the reader checks element counts.
  for (const n of mNames) {
    const m = s.m.get(n)!;
    const v = s.v.get(n)!;
    check(m.length === v.length, `cannot save optimizer state: moments of "${n}" have different lengths`);
    tensors.push({ name: M_PREFIX + n, shape: [m.length], data: m });
  }
  for (const n of mNames) {
    const v = s.v.get(n)!;
    tensors.push({ name: V_PREFIX + n, shape: [v.length], data: v });
  }
  return encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, step: String(s.step) });
}

export function decodeOptimizerState(bytes: Uint8Array, config: ModelConfig, what = 'optimizer state'): OptimizerState {
  const fail: (m: string) => never = (m) => {
    throw new GateScopeError(`${what}: ${m}`);
  };
  const { metadata: md, tensors } = decodeSafetensors(bytes, { what });
  const format = own(md, 'format');
  if (format !== CHECKPOINT_FORMAT) fail(`format ${JSON.stringify(format ?? null)} is not ${CHECKPOINT_FORMAT}; this is not GateScope optimizer state`);
  const step = parseStep(own(md, 'step'), fail);
  const specs = paramSpecs(config);
  const expected = new Set<string>();
  for (const s of specs) {
    expected.add(M_PREFIX + s.name);
    expected.add(V_PREFIX + s.name);
  }
  const missing = [...expected].filter((n) => !tensors.has(n));
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  if (missing.length > 0 || unexpected.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing tensors ${listNames(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected tensors ${listNames(unexpected)}`);
    fail(`${parts.join(' and ')} for ${describe(config)}; it belongs to another model: delete it to restart the optimizer`);
  }
  const m: ParamMap = new Map();
  const v: ParamMap = new Map();
  for (const s of specs) {
    const n = sizeOf(s.shape);
    for (const [prefix, out] of [[M_PREFIX, m], [V_PREFIX, v]] as const) {
      const t = tensors.get(prefix + s.name)!;
      const flat = t.shape.length === 1 && t.shape[0] === n;
      const same = t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
      if (!flat && !same) fail(`tensor "${prefix}${s.name}" has shape [${t.shape.join(', ')}] but the parameter has shape [${s.shape.join(', ')}]; delete it to restart the optimizer`);
      out.set(s.name, t.data);
    }
    const sq = v.get(s.name)!;
    for (let i = 0; i < sq.length; i++) {
      if (sq[i] < 0) fail(`tensor "${V_PREFIX}${s.name}" has a negative value at index ${i}; the file is corrupt: delete it to restart the optimizer`);
    }
  }
  return { step, m, v };
}

// ---------------------------------------------------------------- what a checkpoint pairs with

/** The tokenizer saved in a checkpoint, checked against the model's vocabulary. */
export function checkpointTokenizer(ck: ModelCheckpoint, what: string, consequence = 'it cannot turn text into tokens'): Tokenizer {
  check(ck.tokenizer !== undefined, `${what} has no tokenizer (a bare PyTorch state dict?); ${consequence}`);
  const tokenizer = tokenizerFromJSON(ck.tokenizer);
  check(tokenizer.vocabSize === ck.config.vocabSize, `${what}: its tokenizer has ${tokenizer.vocabSize} tokens but the model expects ${ck.config.vocabSize}`);
  return tokenizer;
}

/**
 * The optimizer state saved beside a model, if `bytes` hold a valid one for the model's step;
 * otherwise null and a reason (training then restarts Adam's moments, which costs a little speed).
 */
export function optimizerStateFor(bytes: Uint8Array | undefined, ck: ModelCheckpoint, what = 'optimizer state'): { state: OptimizerState | null; note?: string } {
  if (!bytes) return { state: null, note: 'no optimizer state beside the checkpoint; Adam starts afresh' };
  try {
    const state = decodeOptimizerState(bytes, ck.config, what);
    if (state.step !== ck.step) return { state: null, note: `optimizer state is for step ${state.step}, the model for step ${ck.step}; Adam starts afresh` };
    return { state };
  } catch (e) {
    return { state: null, note: `${(e as Error).message}; Adam starts afresh` };
  }
}
