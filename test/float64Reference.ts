// A float64 re-implementation of the model's forward pass (embedding, PyTorch's LSTM/GRU/RNN cell
// equations, decoder), written from the raw parameters and nothing else of GateScope's inference
// code, for tests that check InferenceSession and what is built on it (test/inferTrace.test.ts,
// test/modelStore.test.ts). Slow and simple on purpose.

import { ModelConfig } from '../kernels/config';
import { ParamMap, layerParamNames } from '../kernels/params';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** W x + b in float64, W [rows, cols] row-major. */
function affine(W: ArrayLike<number>, b: ArrayLike<number>, x: ArrayLike<number>, rows: number): number[] {
  const cols = x.length;
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = b[r];
    for (let k = 0; k < cols; k++) s += W[r * cols + k] * x[k];
    y.push(s);
  }
  return y;
}

export interface RefLayer {
  h: number[][];
  c: number[][] | null;
  /** Per token, the activated gates concatenated in PyTorch order. */
  gates: number[][] | null;
}

/** Every layer's activations after each token, from zero state, in float64 (PyTorch's equations). */
export function referenceLayers(config: ModelConfig, p: ParamMap, ids: ArrayLike<number>): RefLayer[] {
  const { cell, embedSize: E, hiddenSize: H, numLayers: L } = config;
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const emb = p.get('embedding.weight')!;
  let inputs = Array.from(ids, (id) => Array.from(emb.subarray(id * E, (id + 1) * E)));
  const layers: RefLayer[] = [];
  for (let l = 0; l < L; l++) {
    const n = layerParamNames(l);
    const [wih, whh, bih, bhh] = [p.get(n.wih)!, p.get(n.whh)!, p.get(n.bih)!, p.get(n.bhh)!];
    let h = new Array<number>(H).fill(0);
    let c = new Array<number>(H).fill(0);
    const out: RefLayer = { h: [], c: cell === 'lstm' ? [] : null, gates: cell === 'rnn' ? null : [] };
    for (const x of inputs) {
      const xp = affine(wih, bih, x, G * H);
      const hp = affine(whh, bhh, h, G * H);
      const next: number[] = [];
      if (cell === 'lstm') {
        const gates: number[] = [];
        const nc: number[] = [];
        for (let j = 0; j < H; j++) gates[j] = sigmoid(xp[j] + hp[j]);
        for (let j = H; j < 2 * H; j++) gates[j] = sigmoid(xp[j] + hp[j]);
        for (let j = 2 * H; j < 3 * H; j++) gates[j] = Math.tanh(xp[j] + hp[j]);
        for (let j = 3 * H; j < 4 * H; j++) gates[j] = sigmoid(xp[j] + hp[j]);
        for (let j = 0; j < H; j++) {
          nc[j] = gates[H + j] * c[j] + gates[j] * gates[2 * H + j];
          next[j] = gates[3 * H + j] * Math.tanh(nc[j]);
        }
        c = nc;
        out.c!.push(nc);
        out.gates!.push(gates);
      } else if (cell === 'gru') {
        const gates: number[] = [];
        for (let j = 0; j < H; j++) gates[j] = sigmoid(xp[j] + hp[j]);
        for (let j = H; j < 2 * H; j++) gates[j] = sigmoid(xp[j] + hp[j]);
        for (let j = 0; j < H; j++) gates[2 * H + j] = Math.tanh(xp[2 * H + j] + gates[j] * hp[2 * H + j]);
        for (let j = 0; j < H; j++) next[j] = (1 - gates[H + j]) * gates[2 * H + j] + gates[H + j] * h[j];
        out.gates!.push(gates);
      } else {
        for (let j = 0; j < H; j++) next[j] = Math.tanh(xp[j] + hp[j]);
      }
      h = next;
      out.h.push(next);
    }
    layers.push(out);
    inputs = out.h;
  }
  return layers;
}

/** Next-token probabilities after the last of `ids` (at least one), from zero state, in float64. */
export function referenceNextProbabilities(config: ModelConfig, p: ParamMap, ids: ArrayLike<number>): number[] {
  const layers = referenceLayers(config, p, ids);
  const top = layers[layers.length - 1].h;
  const logits = affine(p.get('decoder.weight')!, p.get('decoder.bias')!, top[top.length - 1], config.vocabSize);
  const max = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** The most likely token after `ids`, and how far ahead of the runner-up it is (a tiny margin makes float32 disagree legitimately). */
export function referenceArgmax(config: ModelConfig, p: ParamMap, ids: ArrayLike<number>): { id: number; margin: number } {
  const probs = referenceNextProbabilities(config, p, ids);
  const order = probs.map((_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
  return { id: order[0], margin: probs[order[0]] - probs[order[1]] };
}
