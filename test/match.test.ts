// Match across the corpus (kernels/inspect/match.ts). CorpusActivations.compute runs the corpus as B
// parallel streams through batch forwards; the reference feeds the same streams one token at a time
// with InferenceSession.trace (single-stream inference) and must give the same values within float
// rounding (measured: see TOL). matchUnits is checked against a brute force that scores every span of
// every file from the reference values and takes the best non-overlapping ones; file, offset, line and
// character against the corpus text itself. Also: the 8-bit storage, progress, cancellation, yielding,
// bad requests, and assembleCorpus's file spans that the corpus source is built from.

import * as assert from 'assert';
import { CellType, ModelConfig } from '../kernels/config';
import { assembleCorpus, planCorpus } from '../kernels/corpusPlan';
import { GateScopeError } from '../kernels/errors';
import { InferenceSession, LayerTrace } from '../kernels/infer';
import { CorpusActivations, CorpusSource, matchUnits } from '../kernels/inspect/match';
import { QuantityName } from '../kernels/inspect/types';
import { initParams } from '../kernels/params';
import { Tokenizer, trainBpeTokenizer, trainCharTokenizer } from '../kernels/tokenizer';

/**
 * Batch forwards against one-token forwards. Observed: 0 (bitwise equal; each row of the CPU GEMM sums in
 * the same order whatever the batch), so this only leaves room for a GEMM that blocks rows together.
 */
const TOL = 1e-6;

const FILE_TEXTS = [
  'function add(a, b) {\n  return a + b;\n}\n\nconst s = "a (b) [c]";\n',
  'if (x) {\r\n  y = [1, 2, (3)];\r\n}\r\n// é ünïcode 😀 done\r\nlet q = \'it\\\'s\';',
  'x\n',
  'while (i < n) { i++; }\nreturn "(" + s + ")";\n',
];

/** The corpus as the collector builds it: assembleCorpus's text and spans. */
function corpusOf(texts: readonly string[], repeat = 1): CorpusSource {
  const all = Array.from({ length: repeat }, (_, r) => texts.map((t, i) => ({ path: `src/f${r}_${i}.js`, text: t }))).flat();
  const plan = planCorpus([{ prefix: '', files: all.map((f) => ({ path: f.path, size: f.text.length })), gitignores: [] }], { include: '**/*', exclude: [], maxFileBytes: Infinity, maxCorpusBytes: Infinity });
  const enc = new TextEncoder();
  const byPath = new Map(all.map((f) => [f.path, f.text]));
  const c = assembleCorpus(plan, plan.read.map((p) => ({ bytes: enc.encode(byPath.get(p.path)!) })));
  return { text: c.text, files: c.files.map((f, i) => ({ path: f.path, uri: `file:///w/${f.path}`, ...c.spans[i] })) };
}

function quantityOf(tr: LayerTrace, cell: CellType, q: QuantityName, H: number): Float32Array {
  if (q === 'h') return tr.hidden;
  if (q === 'c') return tr.cell!;
  if (q === 'pre') return tr.pre!;
  const names = tr.gates!.names;
  const G = names.length;
  const g = names.indexOf(q);
  const T = tr.hidden.length / H;
  const out = new Float32Array(T * H);
  for (let t = 0; t < T; t++) out.set(tr.gates!.values.subarray((t * G + g) * H, (t * G + g + 1) * H), t * H);
  return out;
}

/**
 * Single-stream reference over the documented stream layout: N tokens, L = ceil(N/B) per stream, stream b
 * keeps [bL, (b+1)L) and starts feeding `warmup` tokens earlier, each token fed alone with trace().
 */
function referenceValues(session: InferenceSession, ids: Int32Array, layer: number, q: QuantityName, B: number, warmup: number): Float32Array {
  const { hiddenSize: H, cell } = session.config;
  const N = ids.length;
  const L = Math.ceil(N / B);
  const out = new Float32Array(N * H).fill(NaN);
  for (let keep = 0; keep < N; keep += L) {
    const s = session.newState();
    for (let p = Math.max(0, keep - warmup); p < Math.min(N, keep + L); p++) {
      const v = quantityOf(session.trace(s, [ids[p]], layer), cell, q, H);
      if (p >= keep) out.set(v, p * H);
    }
  }
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Brute force: every span of `length` tokens inside one file, scored from `values`, best non-overlapping first. */
function bruteForceMatch(values: Float32Array, H: number, offsets: Int32Array, corpus: CorpusSource, units: number[], threshold: number, length: number, top: number) {
  const N = offsets.length - 1;
  const fileOf = (t: number) => corpus.files.findIndex((f) => offsets[t] >= f.start && offsets[t] < f.end);
  const spans: { p: number; score: number }[] = [];
  for (let p = 0; p + length <= N; p++) {
    const f = fileOf(p);
    if (f < 0 || fileOf(p + length - 1) !== f) continue;
    let sum = 0;
    for (let t = p; t < p + length; t++) {
      for (let u = 0; u < H; u++) if (values[t * H + u] >= threshold) sum += units.includes(u) ? 1 : -1;
    }
    spans.push({ p, score: sum / (length * units.length) });
  }
  spans.sort((a, b) => b.score - a.score || a.p - b.p);
  const taken: { p: number; score: number }[] = [];
  for (const s of spans) {
    if (taken.length === top) break;
    if (taken.every((t) => Math.abs(t.p - s.p) >= length)) taken.push(s);
  }
  return taken.map((s) => ({ ...s, file: fileOf(s.p) }));
}

/** Checks matchUnits' results against the brute force, and each place against the corpus text. */
function checkMatches(acts: CorpusActivations, values: Float32Array, corpus: CorpusSource, tokenizer: Tokenizer, units: number[], threshold: number, length: number, top: number, context: number) {
  const H = acts.hiddenSize;
  const got = matchUnits(acts, units, threshold, length, { top, context });
  const want = bruteForceMatch(values, H, acts.offsets, corpus, units, threshold, length, top);
  assert.deepStrictEqual(got.map((r) => [r.path, r.offset]), want.map((w) => [corpus.files[w.file].path, acts.offsets[w.p] - corpus.files[w.file].start]), 'places');
  got.forEach((r, k) => {
    const w = want[k];
    const file = corpus.files[w.file];
    assert.ok(Math.abs(r.score - w.score) < 1e-12, `score of match ${k}`);
    assert.strictEqual(r.uri, file.uri);
    // The matched text is the matched tokens' text, inside the file.
    const at = file.start + r.offset;
    assert.strictEqual(corpus.text.slice(at, at + r.length), tokenizer.decode(acts.ids.subarray(w.p, w.p + length)).slice(0, file.end - at), `text of match ${k}`);
    // Line and character as an editor counts them.
    // (an offset between '\r' and '\n' is at the end of its line, as VS Code's positionAt has it)
    const before = corpus.text.slice(file.start, corpus.text.slice(at - 1, at + 1) === '\r\n' ? at - 1 : at).split(/\r\n|\r|\n/);
    assert.deepStrictEqual([r.line, r.character], [before.length - 1, before[before.length - 1].length], `position of match ${k}`);
    // Context clipped to the file; values are the selected units' over the shown tokens.
    const fileTokens = [...acts.offsets.subarray(0, -1).keys()].filter((t) => acts.offsets[t] >= file.start && acts.offsets[t] < file.end);
    const c0 = Math.max(fileTokens[0], w.p - context);
    const c1 = Math.min(fileTokens[fileTokens.length - 1] + 1, w.p + length + context);
    assert.deepStrictEqual(r.tokens, Array.from(acts.ids.subarray(c0, c1), (id) => tokenizer.tokenLabel(id)), `tokens of match ${k}`);
    assert.deepStrictEqual([r.matchStart, r.matchLength], [w.p - c0, length]);
    assert.strictEqual(r.values.length, (c1 - c0) * units.length);
    for (let t = c0; t < c1; t++) units.forEach((u, j) => assert.strictEqual(r.values[(t - c0) * units.length + j], Math.fround(acts.value(t, u))));
  });
  return got;
}

describe('corpus match', () => {
  const corpus = corpusOf(FILE_TEXTS, 6);
  const charTok = trainCharTokenizer(corpus.text);

  it('assembleCorpus gives each file\'s span in the joined text', () => {
    const texts = ['one', '', 'two\n', 'bin\0ary', 'three\r\n'];
    const plan = planCorpus([{ prefix: '', files: texts.map((t, i) => ({ path: `f${i}`, size: t.length || 1 })), gitignores: [] }], { include: '**/*', exclude: [], maxFileBytes: Infinity, maxCorpusBytes: Infinity });
    const enc = new TextEncoder();
    const c = assembleCorpus(plan, texts.map((t) => ({ bytes: enc.encode(t) })));
    assert.deepStrictEqual(c.files.map((f) => f.path), ['f0', 'f1', 'f2', 'f4']);
    assert.deepStrictEqual(c.files.map((f, i) => c.text.slice(c.spans[i].start, c.spans[i].end)), ['one', '', 'two\n', 'three\r\n']);
    assert.deepStrictEqual(c.spans, [{ start: 0, end: 3 }, { start: 5, end: 5 }, { start: 7, end: 11 }, { start: 12, end: 19 }]);
  });

  for (const cell of ['lstm', 'gru', 'rnn'] as CellType[]) {
    describe(cell, () => {
      const config: ModelConfig = { cell, vocabSize: charTok.vocabSize, embedSize: 6, hiddenSize: 7, numLayers: 2, dropout: 0 };
      const session = new InferenceSession(config, initParams(config, 11));
      const quantities: QuantityName[] = cell === 'lstm' ? ['h', 'c', 'i', 'f', 'g', 'o'] : cell === 'gru' ? ['h', 'r', 'z', 'n'] : ['h', 'pre'];

      it('values equal single-stream inference of the same streams (ragged streams, warm-up, a short last window)', async () => {
        for (const layer of [0, 1]) {
          for (const q of quantities) {
            const acts = await CorpusActivations.compute(session, charTok, corpus, layer, q, { streams: 5, window: 7, warmup: 4, storage: 'f32' });
            assert.strictEqual(acts.storage, 'f32');
            const want = referenceValues(session, acts.ids, layer, q, 5, 4);
            const d = maxDiff(acts.values(), want);
            assert.ok(d < TOL, `layer ${layer} ${q}: differs from one-token-at-a-time inference by ${d}`);
          }
        }
      });

      it('one stream without warm-up equals a plain trace of the whole corpus', async () => {
        const acts = await CorpusActivations.compute(session, charTok, corpus, 1, 'h', { streams: 1, warmup: 0, window: 16 });
        const tr = session.trace(session.newState(), acts.ids, 1);
        assert.ok(maxDiff(acts.values(), tr.hidden) < TOL);
      });

      it('matches rank as the brute force ranks every span, with the place, text and context right', async () => {
        const acts = await CorpusActivations.compute(session, charTok, corpus, 1, 'h', { streams: 4, window: 9, warmup: 3 });
        // The brute force scores the one-token-at-a-time reference's values.
        const values = referenceValues(session, acts.ids, 1, 'h', 4, 3);
        const units = [1, 4];
        // A threshold near the median in the widest gap between values, so float rounding flips no unit on or off.
        const sorted = Float32Array.from(values).sort();
        let threshold = NaN, gap = 0;
        for (let k = Math.floor(sorted.length * 0.4); k < sorted.length * 0.6; k++) {
          if (sorted[k + 1] - sorted[k] > gap) [gap, threshold] = [sorted[k + 1] - sorted[k], (sorted[k] + sorted[k + 1]) / 2];
        }
        assert.ok(gap > 20 * TOL, `a gap of ${gap} around the threshold`);
        let results = 0;
        for (const [length, top, context] of [[1, 50, 8], [5, 50, 3], [12, 7, 0], [40, 50, 8]]) {
          results += checkMatches(acts, values, corpus, charTok, units, threshold, length, top, context).length;
        }
        assert.ok(results > 100, `the cases return matches (${results})`);
      });
    });
  }

  it('byte-level BPE: offsets of tokens that end inside a character, matches against the brute force', async () => {
    const bpe = trainBpeTokenizer(corpus.text, 300);
    const config: ModelConfig = { cell: 'lstm', vocabSize: bpe.vocabSize, embedSize: 6, hiddenSize: 5, numLayers: 1, dropout: 0 };
    const session = new InferenceSession(config, initParams(config, 3));
    const acts = await CorpusActivations.compute(session, bpe, corpus, 0, 'o', { streams: 3, window: 5 });
    // The decoded text before token t is the text before offsets[t].
    for (let t = 0; t <= acts.tokens; t += 7) assert.strictEqual(bpe.decode(acts.ids.subarray(0, t)).replace(/\uFFFD$/, ''), corpus.text.slice(0, acts.offsets[t]).replace(/\uFFFD$/, ''));
    assert.ok(maxDiff(acts.values(), referenceValues(session, acts.ids, 0, 'o', 3, 64)) < TOL);
    checkMatches(acts, acts.values(), corpus, bpe, [0, 3], 0.5, 4, 50, 5);
  });

  it('8-bit storage: values within the quantisation step of float32, matches as the brute force on the stored values', async () => {
    const config: ModelConfig = { cell: 'lstm', vocabSize: charTok.vocabSize, embedSize: 6, hiddenSize: 7, numLayers: 1, dropout: 0 };
    // Larger weights, so that c leaves [-1, 1].
    const params = initParams(config, 5);
    for (const v of params.values()) for (let i = 0; i < v.length; i++) v[i] *= 4;
    const session = new InferenceSession(config, params);
    for (const [q, step] of [['i', 1 / 255], ['h', 2 / 255], ['c', NaN]] as [QuantityName, number][]) {
      const exact = await CorpusActivations.compute(session, charTok, corpus, 0, q, { storage: 'f32' });
      const small = await CorpusActivations.compute(session, charTok, corpus, 0, q, { maxFloatBytes: 1 });
      assert.strictEqual(small.storage, 'u8');
      assert.ok(small.bytes < exact.bytes - 3 * exact.tokens * 7 + 1, `quantised: ${small.bytes} bytes against ${exact.bytes}`);
      const a = exact.values(), b = small.values();
      for (let k = 0; k < a.length; k++) {
        // c: sign(v)·ln(1+|v|) in steps of 2·ln 65 / 255, so half a step is (1+|v|)·(e^(ln 65 / 255) - 1) in v at most.
        const tol = Number.isNaN(step) ? (1 + Math.abs(a[k])) * Math.expm1(Math.log(65) / 255) + 1e-6 : step / 2 + 1e-6;
        assert.ok(Math.abs(a[k] - b[k]) <= tol, `${q}: ${b[k]} stored for ${a[k]}`);
      }
      if (q === 'c') assert.ok(a.some((v) => Math.abs(v) > 1.5), 'c leaves [-1, 1] here');
      checkMatches(small, b, corpus, charTok, [2, 5], q === 'i' ? 0.5 : 0, 6, 50, 4);
    }
  });

  it('reports progress up to every token, yields to the event loop, and stops when aborted', async () => {
    const big = corpusOf(FILE_TEXTS, 60);
    const config: ModelConfig = { cell: 'lstm', vocabSize: charTok.vocabSize, embedSize: 16, hiddenSize: 64, numLayers: 2, dropout: 0 };
    const session = new InferenceSession(config, initParams(config, 1));
    const seen: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const acts = await CorpusActivations.compute(session, charTok, big, 1, 'h', { onProgress: (done, total) => { assert.strictEqual(total, acts0Tokens()); seen.push(done); } });
    clearInterval(timer);
    function acts0Tokens() { return charTok.encode(big.text).length; }
    assert.strictEqual(seen[0], 0);
    assert.strictEqual(seen[seen.length - 1], acts.tokens);
    assert.ok(seen.every((d, i) => i === 0 || d >= seen[i - 1]), 'progress never goes back');
    assert.ok(ticks > 0, 'a timer ran while the corpus was computed');

    // Aborted a third of the way: no further window runs, even when no turn of the event loop is due.
    const ctrl = new AbortController();
    let afterAbort = 0;
    const started = CorpusActivations.compute(session, charTok, big, 1, 'h', {
      signal: ctrl.signal,
      yieldMs: 1e9,
      onProgress: (done, total) => {
        if (ctrl.signal.aborted) afterAbort++;
        if (done > total / 3) ctrl.abort();
      },
    });
    await assert.rejects(started, (e: unknown) => ctrl.signal.aborted && e === ctrl.signal.reason);
    assert.strictEqual(afterAbort, 0, 'windows ran after the abort');
    const already = new AbortController();
    already.abort();
    await assert.rejects(CorpusActivations.compute(session, charTok, big, 1, 'h', { signal: already.signal }));
  });

  it('refuses what the model does not have and malformed requests, with a message', async () => {
    const config: ModelConfig = { cell: 'gru', vocabSize: charTok.vocabSize, embedSize: 4, hiddenSize: 3, numLayers: 1, dropout: 0 };
    const session = new InferenceSession(config, initParams(config, 2));
    await assert.rejects(CorpusActivations.compute(session, charTok, corpus, 1, 'h'), /layer must be a whole number from 0 to 0/);
    await assert.rejects(CorpusActivations.compute(session, charTok, corpus, 0, 'c'), /a GRU layer has no 'c'; it has h, r, z, n/);
    await assert.rejects(CorpusActivations.compute(session, charTok, { text: 'ab', files: [{ path: 'a', uri: 'u', start: 0, end: 3 }] }, 0, 'h'), GateScopeError);
    const acts = await CorpusActivations.compute(session, charTok, corpus, 0, 'h');
    assert.throws(() => matchUnits(acts, [], 0.5, 3), /at least one unit/);
    assert.throws(() => matchUnits(acts, [3], 0.5, 3), /from 0 to 2/);
    assert.throws(() => matchUnits(acts, [1, 1], 0.5, 3), /once/);
    assert.throws(() => matchUnits(acts, [1], NaN, 3), GateScopeError);
    assert.throws(() => matchUnits(acts, [1], 0.5, 0), GateScopeError);
    // Longer than every file: no place fits.
    assert.deepStrictEqual(matchUnits(acts, [1], 0.5, 10_000), []);
    const empty = await CorpusActivations.compute(session, charTok, { text: '', files: [] }, 0, 'h');
    assert.strictEqual(empty.tokens, 0);
    assert.deepStrictEqual(matchUnits(empty, [0], 0.5, 1), []);
  });
});
