// inspectWindow (kernels/inspect/trace.ts) and InferenceSession.traceAll: every layer's h, c, gates or
// RNN pre-activation, the surprisal, next-token probability and top-5 of a primed window, checked
// against a float64 re-implementation of the model written from the raw parameters
// (test/float64Reference.ts, plus the pre-activation and decoder computed here from the same
// parameters), and each layer against session.trace (the `gatescope activations` code path) exactly.

import * as assert from 'assert';
import { CellType, ModelConfig } from '../kernels/config';
import { InferenceSession } from '../kernels/infer';
import { inspectWindow } from '../kernels/inspect/trace';
import { planInspection } from '../kernels/inspect/window';
import { ParamMap, initParams, layerParamNames } from '../kernels/params';
import { maxAbsDiff } from '../kernels/tensor';
import { trainCharTokenizer } from '../kernels/tokenizer';
import { referenceLayers } from './float64Reference';

// Measured: activations differ from float64 by at most 5.7e-7 of max(1, their largest |value|) on the
// CPU reference engine (c and the RNN pre-activation reach 10 to 16 here) and 1.2e-6 on the WebAssembly
// engine, whose GEMM accumulates in float32 where the reference's accumulates in float64 (the RNN
// carries the difference over ~300 steps); surprisal by 8e-7 bits, probabilities by 1.2e-7.
const ACT_TOL: Record<'cpu' | 'wasm', number> = { cpu: 1e-6, wasm: 2e-6 };
const BITS_TOL = 2e-6;
const PROB_TOL = 3e-7;

const TEXT = [
  'function fib(n) {',
  '  if (n < 2) return n;',
  '  // the two before',
  '  return fib(n - 1) + fib(n - 2);',
  '}',
  'const names = ["ada", \'bob\', `cy`];',
  'for (const x of names) console.log(x.length);',
  '',
].join('\n').repeat(4);

/** Parameters scaled up from the initialisation so that gates saturate and predictions are peaked. */
function params(config: ModelConfig, seed: number): ParamMap {
  const p = initParams(config, seed);
  for (const v of p.values()) for (let i = 0; i < v.length; i++) v[i] *= 3;
  return p;
}

/** W x + b in float64. */
function affine(W: ArrayLike<number>, b: ArrayLike<number>, x: ArrayLike<number>, rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = b[r];
    for (let k = 0; k < x.length; k++) s += W[r * x.length + k] * x[k];
    out.push(s);
  }
  return out;
}

function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

const CELLS: CellType[] = ['lstm', 'gru', 'rnn'];

describe('inspectWindow', () => {
  const tokenizer = trainCharTokenizer(TEXT);
  for (const engine of ['cpu', 'wasm'] as const) for (const cell of CELLS) {
    describe(`${cell} on the ${engine} engine`, () => {
      const config: ModelConfig = { cell, vocabSize: tokenizer.vocabSize, embedSize: 6, hiddenSize: 8, numLayers: 2, dropout: 0 };
      const p = params(config, 11);
      const H = config.hiddenSize;
      // A selection in the middle: the window has a margin, priming before it, more than one feeding chunk.
      const selStart = TEXT.indexOf('return fib', 200);
      const plan = planInspection(TEXT, tokenizer, { selection: { start: selStart, end: selStart + 30 }, visible: { start: 0, end: 0 }, cursor: 0, primeTokens: 40, marginLines: 8 });
      const session = new InferenceSession(config, p, { engine });
      assert.strictEqual(session.engine, engine);
      const result = inspectWindow(session, tokenizer, TEXT, plan);
      const primeIds = tokenizer.encode(TEXT.slice(plan.primeStart, plan.start));
      const ids = tokenizer.encode(TEXT.slice(plan.start, plan.end));
      const all = [...primeIds, ...ids];
      const P = primeIds.length, T = ids.length;
      const ref = referenceLayers(config, p, all);

      it('primes with text before the window and shows the whole window', () => {
        assert.ok(P > 0 && P <= 40, `priming ${P} tokens`);
        assert.ok(T > 256, `window of ${T} tokens, more than one feeding chunk`);
        assert.strictEqual(result.tokens.length, T);
        assert.deepStrictEqual(result.tokens, Array.from(ids, (id) => tokenizer.tokenLabel(id)));
        assert.strictEqual(result.offsets.length, T + 1);
        for (let t = 0; t < T; t++) assert.strictEqual(TEXT.slice(plan.start + result.offsets[t], plan.start + result.offsets[t + 1]), result.tokens[t]);
        assert.strictEqual(result.offsets[T], plan.end - plan.start);
        assert.deepStrictEqual([result.cell, result.hiddenSize, result.numLayers], [cell, H, 2]);
      });

      it('every layer matches the float64 cell equations (h, c, gates, pre-activation)', () => {
        const want = { lstm: ['h', 'c', 'i', 'f', 'g', 'o'], gru: ['h', 'r', 'z', 'n'], rnn: ['h', 'pre'] }[cell];
        for (let l = 0; l < 2; l++) {
          const layer = result.layers[l];
          assert.deepStrictEqual(layer.names, want);
          const n = layerParamNames(l);
          layer.names.forEach((q, k) => {
            const expect: number[] = [];
            for (let t = P; t < P + T; t++) {
              if (q === 'h') expect.push(...ref[l].h[t]);
              else if (q === 'c') expect.push(...ref[l].c![t]);
              else if (q === 'pre') {
                const x = l === 0 ? Array.from(p.get('embedding.weight')!.subarray(all[t] * 6, all[t] * 6 + 6)) : ref[l - 1].h[t];
                const hPrev = t === 0 ? new Array(H).fill(0) : ref[l].h[t - 1];
                const a = affine(p.get(n.wih)!, p.get(n.bih)!, x, H), b = affine(p.get(n.whh)!, p.get(n.bhh)!, hPrev, H);
                expect.push(...a.map((v, j) => v + b[j]));
              } else {
                const g = (cell === 'lstm' ? 'ifgo' : 'rzn').indexOf(q);
                expect.push(...ref[l].gates![t].slice(g * H, (g + 1) * H));
              }
            }
            const d = maxAbsDiff(layer.values[k], expect);
            const scale = Math.max(1, ...expect.map(Math.abs));
            if (process.env.SHOWERR) console.log(engine, cell, l, q, d / scale);
            assert.ok(d < ACT_TOL[engine] * scale, `layer ${l} ${q} differs from float64 by ${d} (values up to ${scale})`);
          });
        }
      });

      it('surprisal, next-token probability and top-5 match the float64 decoder', () => {
        const top = ref[1].h;
        const lp = top.map((h) => logSoftmax(affine(p.get('decoder.weight')!, p.get('decoder.bias')!, h, config.vocabSize)));
        let worstBits = 0, worstProb = 0;
        for (let t = 0; t < T; t++) {
          const bits = -lp[P + t - 1][all[P + t]] / Math.LN2;
          worstBits = Math.max(worstBits, Math.abs(result.surprisal[t] - bits));
          if (t + 1 < T) worstProb = Math.max(worstProb, Math.abs(result.nextProb[t] - Math.exp(lp[P + t][all[P + t + 1]])));
          else assert.ok(Number.isNaN(result.nextProb[t]), 'the last token has no next one');
          const row = lp[P + t];
          const order = row.map((_, i) => i).sort((a, b) => row[b] - row[a] || a - b);
          assert.strictEqual(result.topK, 5);
          for (let r = 0; r < 5; r++) {
            const pr = result.topProbs[t * 5 + r];
            assert.ok(Math.abs(pr - Math.exp(row[order[r]])) < PROB_TOL, `token ${t} rank ${r}: ${pr} vs ${Math.exp(row[order[r]])}`);
            // Labels agree unless the float64 neighbours are within float32 noise of each other.
            const margin = Math.min(r > 0 ? Math.exp(row[order[r - 1]]) - Math.exp(row[order[r]]) : 1, Math.exp(row[order[r]]) - Math.exp(row[order[r + 1]]));
            if (margin > 1e-5) assert.strictEqual(result.topTokens[t * 5 + r], tokenizer.tokenLabel(order[r]), `token ${t} rank ${r}`);
          }
        }
        if (process.env.SHOWERR) console.log(engine, cell, 'bits', worstBits, 'prob', worstProb);
        assert.ok(worstBits < BITS_TOL, `surprisal differs by ${worstBits} bits`);
        assert.ok(worstProb < PROB_TOL, `next-token probability differs by ${worstProb}`);
      });

      it('each layer equals session.trace (the `gatescope activations` path) exactly', () => {
        for (let l = 0; l < 2; l++) {
          const s = new InferenceSession(config, p, { engine });
          const st = s.newState();
          s.feedMany(st, primeIds);
          const tr = s.trace(st, ids, l);
          const layer = result.layers[l];
          assert.deepStrictEqual(layer.values[0], tr.hidden);
          if (cell === 'lstm') assert.deepStrictEqual(layer.values[1], tr.cell);
          if (cell === 'rnn') assert.deepStrictEqual(layer.values[1], tr.pre);
          if (tr.gates) {
            const G = tr.gates.names.length, first = cell === 'lstm' ? 2 : 1;
            for (let g = 0; g < G; g++) {
              const v = new Float32Array(T * H);
              for (let t = 0; t < T; t++) v.set(tr.gates.values.subarray((t * G + g) * H, (t * G + g + 1) * H), t * H);
              assert.deepStrictEqual(layer.values[first + g], v, `gate ${tr.gates.names[g]}`);
            }
          }
        }
      });
    });
  }

  it('the first token has no surprisal when nothing comes before the window', () => {
    const config: ModelConfig = { cell: 'lstm', vocabSize: tokenizer.vocabSize, embedSize: 4, hiddenSize: 5, numLayers: 1, dropout: 0 };
    const session = new InferenceSession(config, params(config, 3));
    const plan = planInspection(TEXT, tokenizer, { selection: null, visible: { start: 0, end: 40 }, cursor: 0 });
    assert.strictEqual(plan.primeStart, 0);
    const r = inspectWindow(session, tokenizer, TEXT, plan, { topK: 3 });
    assert.ok(Number.isNaN(r.surprisal[0]));
    assert.ok(r.surprisal.subarray(1).every((v) => Number.isFinite(v) && v >= 0));
    assert.strictEqual(r.topK, 3);
    assert.strictEqual(r.topTokens.length, 3 * r.tokens.length);
  });

  it('an empty window gives empty arrays', () => {
    const config: ModelConfig = { cell: 'gru', vocabSize: tokenizer.vocabSize, embedSize: 4, hiddenSize: 5, numLayers: 2, dropout: 0 };
    const session = new InferenceSession(config, params(config, 3));
    const r = inspectWindow(session, tokenizer, '', planInspection('', tokenizer, { selection: null, visible: { start: 0, end: 0 }, cursor: 0 }));
    assert.deepStrictEqual([r.tokens.length, r.offsets.length, r.surprisal.length, r.layers.length, r.layers[0].values[0].length], [0, 1, 0, 2, 0]);
  });
});
