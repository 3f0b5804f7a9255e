// What the inspector worker computes, apart from the thread it runs on (extension/inspectWorker.ts
// wires it to its port; tests drive it directly): the model it holds, an inspection of the editor's
// text (kernels/inspect: planInspection, inspectWindow, probeWindow), one unit's values and colours
// for the editor's decorations, a match of units across the corpus (CorpusActivations, cached per
// model, corpus, layer and quantity within a byte budget; cancellable, with progress), gate saturation
// over a sample of the corpus, and sampling. Every reply's typed arrays own their buffers, so the
// worker transfers them without detaching anything it keeps.

import { checkpointTokenizer, decodeCheckpoint } from '../kernels/checkpoint';
import { ModelConfig } from '../kernels/config';
import { GateScopeError, check } from '../kernels/errors';
import { InferenceSession } from '../kernels/infer';
import { rgbaTable, scaleFor, unitCss } from '../kernels/inspect/colorScale';
import { CorpusActivations, matchUnits } from '../kernels/inspect/match';
import { probeWindow } from '../kernels/inspect/probes';
import { gateSaturation } from '../kernels/inspect/saturation';
import { inspectWindow } from '../kernels/inspect/trace';
import { InspectLayer, QuantityName } from '../kernels/inspect/types';
import { planInspection } from '../kernels/inspect/window';
import { Rng } from '../kernels/rng';
import { Tokenizer } from '../kernels/tokenizer';
import { paletteOf } from './decorationBuckets';
import { ActivationCache, DEFAULT_CACHE_BYTES } from './inspectCache';
import { EditorView, FromInspectWorker, ToInspectWorker } from './inspectWorkerProtocol';

/** Best matches a search returns (the panel lists them all). */
export const MATCH_TOP = 50;
/** Gate saturation over the corpus: this many evenly spaced samples of this many characters. */
export const SATURATION_SAMPLES = 8;
export const SATURATION_SAMPLE_CHARS = 2000;

type Req<K extends ToInspectWorker['type']> = Extract<ToInspectWorker, { type: K }>;
type Reply<K extends FromInspectWorker['type']> = Extract<FromInspectWorker, { type: K }>;

/** The request was made for another model than the worker holds (a checkpoint arrived in between). */
export class StaleModelError extends Error {
  constructor(wanted: string, held: string | null) {
    super(`the request was made for model ${wanted}, the inspector holds ${held ?? 'none'}`);
    this.name = 'StaleModelError';
  }
}

interface LoadedModel {
  key: string;
  config: ModelConfig;
  session: InferenceSession;
  tokenizer: Tokenizer;
}

export class InspectEngine {
  private model: LoadedModel | null = null;
  readonly cache: ActivationCache<CorpusActivations>;
  private readonly searches = new Map<number, AbortController>();

  constructor(cacheBytes = DEFAULT_CACHE_BYTES) {
    this.cache = new ActivationCache(cacheBytes);
  }

  get modelKey(): string | null {
    return this.model?.key ?? null;
  }

  /** Loads a checkpoint; the cached corpus activations of other models are dropped. */
  setModel(key: string, bytes: Uint8Array): void {
    if (this.model?.key === key) return;
    const ck = decodeCheckpoint(bytes, 'the stored model');
    const tokenizer = checkpointTokenizer(ck, 'the stored model', 'GateScope needs the tokenizer it was trained with');
    this.model = { key, config: ck.config, session: new InferenceSession(ck.config, ck.params), tokenizer };
    this.cache.keepModel(key);
  }

  private use(modelKey: string): LoadedModel {
    if (!this.model || this.model.key !== modelKey) throw new StaleModelError(modelKey, this.model?.key ?? null);
    return this.model;
  }

  private plan(m: LoadedModel, text: string, view: EditorView) {
    return planInspection(text, m.tokenizer, { selection: view.selection, visible: view.visible, cursor: view.cursor });
  }

  inspect(req: Req<'inspect'>): Reply<'inspected'> {
    const t0 = performance.now();
    const m = this.use(req.modelKey);
    const plan = this.plan(m, req.text, req.view);
    const result = inspectWindow(m.session, m.tokenizer, req.text, plan);
    const probes = probeWindow(req.text, plan, result);
    return { type: 'inspected', id: req.id, plan, result, probes, ms: performance.now() - t0 };
  }

  /**
   * One unit's value at each token of the visible range's window (planned with no selection, as
   * `gatescope inspect --visible` plans it) and its colour on the scale the panel uses for that quantity
   * over the same window: the index of each token's colour in the scale's table, and the table's colours.
   */
  unitValues(req: Req<'unitValues'>): Reply<'unitValues'> {
    const t0 = performance.now();
    const m = this.use(req.modelKey);
    const { layer, quantity, unit } = req.unit;
    const H = m.config.hiddenSize;
    check(layer < m.config.numLayers, `the model has ${m.config.numLayers} layer(s); there is no layer ${layer}`);
    check(unit < H, `the model has ${H} units per layer; there is no unit ${unit}`);
    const plan = this.plan(m, req.text, { selection: null, visible: req.view.visible, cursor: req.view.cursor });
    const result = inspectWindow(m.session, m.tokenizer, req.text, plan, { topK: 1 });
    const all = quantityValues(result.layers[layer], quantity, layer);
    const T = result.tokens.length;
    const values = new Float32Array(T);
    for (let t = 0; t < T; t++) values[t] = all[t * H + unit];
    const scale = scaleFor(quantity, all);
    const { table, index } = rgbaTable(scale);
    const buckets = Int16Array.from(values, (v) => index(v));
    const palette = paletteOf(table, (rgb) => unitCss(rgb, req.alpha));
    return {
      type: 'unitValues', id: req.id, windowStart: plan.start, offsets: Int32Array.from(result.offsets), values, buckets, palette,
      ms: performance.now() - t0,
    };
  }

  /** Matches units across the corpus; progress goes to `progress`; a cancelled search answers cancelled with no results. */
  async match(req: Req<'match'>, progress: (p: Reply<'matchProgress'>) => void): Promise<Reply<'matched'>> {
    const t0 = performance.now();
    const m = this.use(req.modelKey);
    check(req.layer < m.config.numLayers, `the model has ${m.config.numLayers} layer(s); there is no layer ${req.layer}`);
    const key = ActivationCache.key(m.key, req.corpusKey, req.layer, req.quantity);
    let acts = this.cache.get(key);
    const cached = acts !== undefined;
    const abort = new AbortController();
    this.searches.set(req.id, abort);
    try {
      if (!acts) {
        acts = await CorpusActivations.compute(m.session, m.tokenizer, req.corpus, req.layer, req.quantity, {
          signal: abort.signal,
          onProgress: (doneTokens, totalTokens) => progress({ type: 'matchProgress', id: req.id, doneTokens, totalTokens }),
        });
        if (this.model?.key === m.key) this.cache.set(key, acts);
      }
      // Each result's values are a fresh array (kernels/inspect/match.ts), so transferring them detaches nothing cached.
      const results = matchUnits(acts, req.units, req.threshold, req.length, { top: MATCH_TOP });
      return { type: 'matched', id: req.id, results, tokensSearched: acts.tokens, seconds: (performance.now() - t0) / 1000, cached, cancelled: false };
    } catch (e) {
      if (!abort.signal.aborted) throw e;
      return { type: 'matched', id: req.id, results: [], tokensSearched: 0, seconds: (performance.now() - t0) / 1000, cached, cancelled: true };
    } finally {
      this.searches.delete(req.id);
    }
  }

  cancel(id: number): void {
    this.searches.get(id)?.abort();
  }

  /** Gate saturation over SATURATION_SAMPLES evenly spaced pieces of the corpus (each primed as an inspection is). */
  saturation(req: Req<'saturation'>): Reply<'saturation'> {
    const m = this.use(req.modelKey);
    const text = req.text;
    if (m.config.cell === 'rnn') return { type: 'saturation', id: req.id, tokens: 0, layers: [] };
    check(text.length > 0, 'the workspace corpus is empty: there is nothing to sample');
    const pieces = Math.min(SATURATION_SAMPLES, Math.max(1, Math.floor(text.length / SATURATION_SAMPLE_CHARS)));
    const H = m.config.hiddenSize;
    const perLayer: { names: QuantityName[]; chunks: Float32Array[][] }[] = [];
    let T = 0;
    for (let k = 0; k < pieces; k++) {
      const start = Math.floor((k * text.length) / pieces);
      const end = Math.min(text.length, start + SATURATION_SAMPLE_CHARS);
      const plan = planInspection(text, m.tokenizer, { selection: null, visible: { start, end }, cursor: start, marginLines: 0 });
      const r = inspectWindow(m.session, m.tokenizer, text, plan, { topK: 1 });
      T += r.tokens.length;
      r.layers.forEach((l, i) => {
        perLayer[i] ??= { names: l.names, chunks: l.names.map(() => []) };
        l.values.forEach((v, j) => perLayer[i].chunks[j].push(v));
      });
    }
    const layers: InspectLayer[] = perLayer.map((l) => ({ names: l.names, values: l.chunks.map(concat) }));
    return { type: 'saturation', id: req.id, tokens: T, layers: gateSaturation(layers, T, H) };
  }

  /**
   * Samples `length` tokens after the prompt at the given temperature; each token comes with the
   * probability the model gave it (at temperature 1: its confidence, whatever the sampling temperature).
   */
  sample(req: Req<'sample'>): Reply<'sampled'> {
    const m = this.use(req.modelKey);
    const { session, tokenizer } = m;
    const state = session.newState();
    let logits = session.feedMany(state, tokenizer.encode(req.prompt.length ? req.prompt : '\n'));
    const rng = new Rng(req.seed);
    const tokens: string[] = [];
    const probs = new Float32Array(req.length);
    for (let i = 0; i < req.length && logits; i++) {
      const id = session.sample(logits, { temperature: req.temperature, rng });
      probs[i] = session.distribution(logits, 1)[id];
      tokens.push(tokenizer.tokenLabel(id));
      logits = session.feed(state, id);
    }
    return { type: 'sampled', id: req.id, tokens, probs };
  }
}

/** A layer's values of one quantity, or a clear error when the layer has no such quantity. */
function quantityValues(layer: InspectLayer, quantity: QuantityName, index: number): Float32Array {
  const k = layer.names.indexOf(quantity);
  if (k < 0) throw new GateScopeError(`layer ${index} has no '${quantity}' (it has ${layer.names.join(', ')})`);
  return layer.values[k];
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

