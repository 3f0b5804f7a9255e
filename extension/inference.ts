// Predictions and activations from the stored model, on the CPU in the extension host, for the
// exported API (the inspector and the completions run in worker threads of their own). The InferenceSession is rebuilt only when
// the stored checkpoint changes.

import { InferenceSession } from '../kernels/infer';
import { check } from '../kernels/errors';
import { Tokenizer, tokenizerFromJSON } from '../kernels/tokenizer';
import { LayerActivations, TokenPrediction } from './api';
import { ModelStore } from './store';

/** Longest text the API feeds (characters); longer texts use their last part. */
const MAX_TEXT = 1_000_000;

export class ModelInference {
  private loaded: { bytes: Uint8Array; session: InferenceSession; tokenizer: Tokenizer } | null = null;

  constructor(private readonly store: ModelStore) {}

  invalidate(): void {
    this.loaded = null;
  }

  private async model(): Promise<{ session: InferenceSession; tokenizer: Tokenizer }> {
    const stored = await this.store.load();
    check(stored !== null, 'there is no GateScope model yet: train one first');
    if (!this.loaded || this.loaded.bytes !== stored.bytes) {
      const ck = stored.checkpoint;
      this.loaded = { bytes: stored.bytes, session: new InferenceSession(ck.config, ck.params), tokenizer: tokenizerFromJSON(ck.tokenizer) };
    }
    return this.loaded;
  }

  async predictNext(text: string, k: number): Promise<TokenPrediction[]> {
    check(typeof text === 'string', 'text must be a string');
    check(Number.isInteger(k) && k >= 1 && k <= 1000, `k must be a whole number from 1 to 1000, got ${k}`);
    const { session, tokenizer } = await this.model();
    const state = session.newState();
    session.feedMany(state, tokenizer.encode(text.length ? text.slice(-MAX_TEXT) : '\n'));
    return session.predict(state, Math.min(k, session.vocabSize)).map((p) => ({ id: p.id, token: tokenizer.tokenLabel(p.id), probability: p.probability }));
  }

  async activations(text: string, layer: number): Promise<LayerActivations> {
    check(typeof text === 'string' && text.length > 0, 'text must be a non-empty string');
    const { session, tokenizer } = await this.model();
    check(Number.isInteger(layer) && layer >= 0 && layer < session.config.numLayers, `layer must be from 0 to ${session.config.numLayers - 1}, got ${layer}`);
    const ids = tokenizer.encode(text.slice(-MAX_TEXT));
    const t = session.trace(session.newState(), ids, layer);
    const H = session.config.hiddenSize;
    const rows = (a: Float32Array, width: number, offset = 0, stride = width) =>
      Array.from({ length: ids.length }, (_, i) => Array.from(a.subarray(i * stride + offset, i * stride + offset + width)));
    let gates: Record<string, number[][]> | null = null;
    if (t.gates) {
      const G = t.gates.names.length;
      gates = Object.fromEntries(t.gates.names.map((name, g) => [name, rows(t.gates!.values, H, g * H, G * H)]));
    }
    return {
      layer,
      tokens: Array.from(ids, (id) => tokenizer.tokenLabel(id)),
      hidden: rows(t.hidden, H),
      cell: t.cell ? rows(t.cell, H) : null,
      gates,
    };
  }
}
