// The inspection of one planned window (kernels/inspect/window.ts): the model is primed with the text
// before the window (state only), then fed the window's tokens in ONE pass (InferenceSession.traceAll)
// that yields every layer's h, c, activated gates or RNN pre-activation (each layer exactly the numbers
// `gatescope activations` prints) and the logits after every token, from which come the surprisal of
// each token, the probability of the actual next one and the top-k next tokens.

import { CellType } from '../config';
import { InferenceSession, LayerTrace } from '../infer';
import { Tokenizer } from '../tokenizer';
import { InspectLayer, InspectResult, QuantityName } from './types';
import { InspectionPlan, tokenOffsets } from './window';

export const DEFAULT_TOP_K = 5;

export function inspectWindow(session: InferenceSession, tokenizer: Tokenizer, text: string, plan: InspectionPlan, opts: { topK?: number } = {}): InspectResult {
  const { cell, hiddenSize: H, numLayers, vocabSize: V } = session.config;
  const windowText = text.slice(plan.start, plan.end);
  const ids = tokenizer.encode(windowText);
  const T = ids.length;
  const state = session.newState();
  if (plan.primeStart < plan.start) session.feedMany(state, tokenizer.encode(text.slice(plan.primeStart, plan.start)));
  const before = state.logits ? state.logits.slice() : null;
  const k = Math.max(0, Math.min(opts.topK ?? DEFAULT_TOP_K, V));
  const surprisal = new Float32Array(T);
  const nextProb = new Float32Array(T);
  const topTokens: string[] = new Array(T * k);
  const topProbs = new Float32Array(T * k);
  if (T > 0) surprisal[0] = before ? (logSumExp(before, 0, V) - before[ids[0]]) / Math.LN2 : NaN;
  const layers = session.traceAll(state, ids, (logits, t0, n) => {
    for (let i = 0; i < n; i++) {
      const t = t0 + i, off = i * V;
      const z = logSumExp(logits, off, V);
      if (t + 1 < T) {
        const lp = logits[off + ids[t + 1]] - z;
        surprisal[t + 1] = -lp / Math.LN2;
        nextProb[t] = Math.exp(lp);
      } else {
        nextProb[t] = NaN;
      }
      const best = topOf(logits, off, V, k);
      for (let r = 0; r < k; r++) {
        topTokens[t * k + r] = tokenizer.tokenLabel(best[r]);
        topProbs[t * k + r] = Math.exp(logits[off + best[r]] - z);
      }
    }
  });
  return {
    cell,
    hiddenSize: H,
    numLayers,
    tokens: Array.from(ids, (id) => tokenizer.tokenLabel(id)),
    offsets: tokenOffsets(tokenizer, ids, windowText),
    layers: layers.map((l) => inspectLayer(cell, l, T, H)),
    surprisal,
    nextProb,
    topK: k,
    topTokens,
    topProbs,
  };
}

/** A layer's trace as the inspector's quantities: h, then c (LSTM), then each gate or 'pre', [T*H] each. */
export function inspectLayer(cell: CellType, tr: LayerTrace, T: number, H: number): InspectLayer {
  const names: QuantityName[] = ['h'];
  const values: Float32Array[] = [tr.hidden];
  if (tr.cell) {
    names.push('c');
    values.push(tr.cell);
  }
  if (tr.gates) {
    const G = tr.gates.names.length;
    tr.gates.names.forEach((name, g) => {
      const v = new Float32Array(T * H);
      for (let t = 0; t < T; t++) v.set(tr.gates!.values.subarray((t * G + g) * H, (t * G + g + 1) * H), t * H);
      names.push(name as QuantityName);
      values.push(v);
    });
  }
  if (cell === 'rnn') {
    names.push('pre');
    values.push(tr.pre!);
  }
  return { names, values };
}

/** log Σ exp(row[off..off+V)) in float64. */
function logSumExp(row: ArrayLike<number>, off: number, V: number): number {
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (row[off + j] > max) max = row[off + j];
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(row[off + j] - max);
  return max + Math.log(sum);
}

/** Indices of the k largest of row[off..off+V), largest first (ties: lower index first), in one scan. */
function topOf(row: ArrayLike<number>, off: number, V: number, k: number): number[] {
  const best: number[] = [];
  for (let j = 0; j < V; j++) {
    const v = row[off + j];
    if (best.length === k && !(v > row[off + best[k - 1]])) continue;
    let i = best.length < k ? best.length : k - 1;
    best[i] = j;
    while (i > 0 && v > row[off + best[i - 1]]) {
      best[i] = best[i - 1];
      best[i - 1] = j;
      i--;
    }
  }
  return best;
}
