// The inspector's corpus match in `npm run bench` (section 'inspect'): CorpusActivations.compute (the
// corpus as 16 parallel streams through batch forwards) and matchUnits over a synthetic 2,000,000-token
// corpus with a hidden-256, 2-layer LSTM, in tokens per second, beside the single-stream way (one token
// at a time through InferenceSession.feed, as a plain loop would) as a ratio. When the whole corpus would take
// longer than BUDGET_SECONDS on this machine, the first part of it is measured and the time for all of it
// extrapolated from that, and the row says so.

import { ModelConfig } from '../kernels/config';
import { InferenceSession } from '../kernels/infer';
import { CorpusActivations, CorpusSource, DEFAULT_MAX_FLOAT_BYTES, DEFAULT_STREAMS, matchUnits } from '../kernels/inspect/match';
import { initParams } from '../kernels/params';
import { Rng } from '../kernels/rng';
import { trainCharTokenizer } from '../kernels/tokenizer';
import { BENCH_EMBED, BENCH_SEED } from './configs';

export interface InspectBenchResult {
  model: { cell: 'lstm'; hidden: number; layers: number; embed: number; vocab: number };
  /** The corpus the figure is for, and the part of it measured (tokens). */
  corpusTokens: number;
  measuredTokens: number;
  extrapolated: boolean;
  streams: number;
  /** CorpusActivations.compute (layer 1, h), tokens per second. */
  activationsTokensPerSecond: number;
  /** matchUnits (3 units, length 20, top 50) over the measured tokens, tokens per second. */
  matchTokensPerSecond: number;
  /** Both together over the whole corpus, seconds (extrapolated when `extrapolated`). */
  corpusSeconds: number;
  /** One token at a time through InferenceSession.feed, tokens per second, and how many it ran. */
  singleStreamTokensPerSecond: number;
  singleStreamTokens: number;
  /** activationsTokensPerSecond ÷ singleStreamTokensPerSecond. */
  ratio: number;
  /** Memory the whole corpus's activations take (CorpusActivations.bytes, scaled from the measured part). */
  corpusBytes: number;
}

const CORPUS_TOKENS = 2_000_000;
const HIDDEN = 256;
const LAYERS = 2;
/** Longest the batch measurement runs before it extrapolates. */
const BUDGET_SECONDS = 25;
const SINGLE_SECONDS = 8;

/**
 * Code-like synthetic text, one character per token: 100 files of lines with identifiers, nested
 * brackets, strings and comments, from a seeded generator.
 */
function syntheticCorpus(chars: number): CorpusSource {
  const rng = new Rng(BENCH_SEED);
  const pick = <T>(a: readonly T[]) => a[Math.floor(rng.next() * a.length)];
  const words = ['value', 'count', 'items', 'next', 'state', 'result', 'i', 'x', 'node', 'parse', 'token', 'buffer'];
  const line = (depth: number): string => {
    const ind = '  '.repeat(depth);
    const r = rng.next();
    if (r < 0.15) return `${ind}// ${pick(words)} ${pick(words)} ${pick(words)}`;
    if (r < 0.3) return `${ind}const ${pick(words)} = "${pick(words)} ${pick(words)}";`;
    if (r < 0.5) return `${ind}${pick(words)}(${pick(words)}[${Math.floor(rng.next() * 100)}], (${pick(words)} + ${pick(words)}));`;
    return `${ind}${pick(words)} = ${pick(words)} * ${Math.floor(rng.next() * 10)} + ${pick(words)};`;
  };
  const fileChars = Math.ceil(chars / 100);
  const texts: string[] = [];
  for (let f = 0; f < 100; f++) {
    let t = '';
    let depth = 0;
    while (t.length < fileChars) {
      if (depth < 4 && rng.next() < 0.2) t += `${'  '.repeat(depth++)}if (${pick(words)} < ${pick(words)}) {\n`;
      else if (depth > 0 && rng.next() < 0.2) t += `${'  '.repeat(--depth)}}\n`;
      else t += line(depth) + '\n';
    }
    while (depth > 0) t += `${'  '.repeat(--depth)}}\n`;
    texts.push(t);
  }
  const files: CorpusSource['files'] = [];
  let at = 0;
  texts.forEach((t, i) => {
    files.push({ path: `src/file${i}.js`, uri: `file:///bench/src/file${i}.js`, start: at, end: at + t.length });
    at += t.length + 1;
  });
  return { text: texts.join('\n').slice(0, chars), files: files.filter((f) => f.end <= chars) };
}

/** The first `chars` characters of a corpus, with the files that lie wholly in them. */
function prefixOf(c: CorpusSource, chars: number): CorpusSource {
  return { text: c.text.slice(0, chars), files: c.files.filter((f) => f.end <= chars) };
}

export async function benchInspect(log: (s: string) => void): Promise<InspectBenchResult> {
  const corpus = syntheticCorpus(CORPUS_TOKENS);
  const tokenizer = trainCharTokenizer(corpus.text);
  const config: ModelConfig = { cell: 'lstm', vocabSize: tokenizer.vocabSize, embedSize: BENCH_EMBED, hiddenSize: HIDDEN, numLayers: LAYERS, dropout: 0 };
  const session = new InferenceSession(config, initParams(config, 1));
  const N = tokenizer.encode(corpus.text).length;
  const units = [3, 17, 101];

  // A short warm-up run gives the rate, which sizes the measured part to fit the budget.
  const warm = prefixOf(corpus, 20_000);
  let t0 = performance.now();
  await CorpusActivations.compute(session, tokenizer, warm, 1, 'h');
  const guess = warm.text.length / ((performance.now() - t0) / 1000);
  const measuredChars = Math.min(corpus.text.length, Math.max(warm.text.length, Math.round(guess * BUDGET_SECONDS)));
  const part = prefixOf(corpus, measuredChars);
  log(`  corpus match: ${N} tokens in ${corpus.files.length} files; measuring ${measuredChars === corpus.text.length ? 'all of it' : `the first ${measuredChars} tokens`}…`);
  // Kept as the whole corpus would be (8 bits past 256 MiB), so the time includes the quantising.
  const storage = N * HIDDEN * 4 > DEFAULT_MAX_FLOAT_BYTES ? 'u8' : 'f32';
  t0 = performance.now();
  const acts = await CorpusActivations.compute(session, tokenizer, part, 1, 'h', { storage });
  const actSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  matchUnits(acts, units, 0.05, 20);
  const matchSeconds = (performance.now() - t0) / 1000;

  // The single-stream way: one token at a time through InferenceSession.feed (the model alone; reading
  // the layer after each token, as a plain loop must, would only add to it).
  const ids = tokenizer.encode(corpus.text.slice(0, 200_000));
  const state = session.newState();
  let single = 0;
  t0 = performance.now();
  while (single < ids.length && (performance.now() - t0) / 1000 < SINGLE_SECONDS) session.feed(state, ids[single++]);
  const singleSeconds = (performance.now() - t0) / 1000;

  const measured = acts.tokens;
  const activationsTokensPerSecond = measured / actSeconds;
  const singleStreamTokensPerSecond = single / singleSeconds;
  return {
    model: { cell: 'lstm', hidden: HIDDEN, layers: LAYERS, embed: BENCH_EMBED, vocab: config.vocabSize },
    corpusTokens: N,
    measuredTokens: measured,
    extrapolated: measured < N,
    streams: DEFAULT_STREAMS,
    activationsTokensPerSecond,
    matchTokensPerSecond: measured / matchSeconds,
    corpusSeconds: ((actSeconds + matchSeconds) * N) / measured,
    singleStreamTokensPerSecond,
    singleStreamTokens: single,
    ratio: activationsTokensPerSecond / singleStreamTokensPerSecond,
    corpusBytes: Math.round((acts.bytes * N) / measured),
  };
}

/** The row for the text report. */
export function inspectBenchLines(r: InspectBenchResult): string[] {
  const m = r.model;
  const how = r.extrapolated ? `EXTRAPOLATED from the first ${r.measuredTokens} tokens measured` : 'measured';
  return [
    '',
    `Corpus match (inspector): ${m.cell} hidden ${m.hidden} × ${m.layers} layers, ${r.corpusTokens} synthetic tokens, ${r.streams} streams`,
    `  activations ${r.activationsTokensPerSecond.toFixed(0)} tok/s (single stream, InferenceSession.feed one token at a time: ${r.singleStreamTokensPerSecond.toFixed(0)} tok/s over ${r.singleStreamTokens} tokens → ${r.ratio.toFixed(2)}×)`,
    `  match ${r.matchTokensPerSecond.toFixed(0)} tok/s; whole corpus ${r.corpusSeconds.toFixed(0)} s (${how}); activations ${(r.corpusBytes / 2 ** 20).toFixed(0)} MiB`,
  ];
}
