// `gatescope eval-completions`: how many keystrokes inline completions save on the files of a folder
// (issue 11's evaluation). Every file is replayed as if typed left to right (kernels/complete/replay.ts)
// through the editor's own completion path (CompletionEngine: anchored context, state cache, decoder,
// threshold, stop rule) and, in the same run, through two baselines: VS Code's word-based completion
// and greedy completion from a character Kneser-Ney n-gram, both built from the checkpoint's training
// corpus (cli/trainingCorpus.ts). Also the held-out bits per character of the model and of the n-gram,
// and the latency scenario: requests at random edit positions in a long file, with and without the cache.

import { checkpointTokenizer } from '../kernels/checkpoint';
import { DEFAULT_OPTIM } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { GateScopeError, check } from '../kernels/errors';
import { InferenceSession } from '../kernels/infer';
import { loadCheckpointFile } from '../kernels/node/checkpointFiles';
import { evaluate } from '../kernels/train';
import { charsPerTokenTable } from '../kernels/trainingData';
import { createWasmBackend } from '../kernels/wasm/backend';
import { wasmSupport } from '../kernels/wasm/module';
import { CompletionEngine } from '../kernels/complete/engine';
import { KneserNeyModel } from '../kernels/complete/ngram';
import { LatencyMs, LatencyReport, ReplaySystem, SystemReport, engineLatencyTarget, engineSystem, latencyFile, latencyRun, ngramSystem, replay, wordSystem } from '../kernels/complete/replay';
import { DEFAULT_CACHE, DEFAULT_DECODE, DEFAULT_NGRAM_WEIGHT, DecodeOptions, StopAt } from '../kernels/complete/types';
import { WordCompletion } from '../kernels/complete/wordCompletion';
import { int, num, parse, setting } from './args';
import { CORPUS_OPTIONS, corpusOptions, readFolderCorpus, reportSkipped } from './corpusOptions';
import { trainingText } from './trainingCorpus';

/** The n-gram's share of the model's mixture when --ngram-weight is not given (0: the recurrent model alone). */
export const DEFAULT_EVAL_NGRAM_WEIGHT = DEFAULT_NGRAM_WEIGHT;
/** The latency scenario's file length and requests when not given (the issue's acceptance: 5,000 lines). */
export const DEFAULT_LATENCY_LINES = 5000;
export const DEFAULT_LATENCY_REQUESTS = 200;

export const EVAL_COMPLETIONS_USAGE = `Eval-completions options (defaults: the editor's completion settings):
  --json                   print one object {"model","baseline","ngram": {savedPercent, acceptRate,
                           shownPer100Chars, latencyMs: {p50, p95, p99}}, "files", "chars", ...}
  --corpus TRAINDIR        the training corpus for the baselines (default: the one the checkpoint
                           records, read again with the same rules)
  --order N                the n-gram's order (default 7)
  --beam N                 beam width, 1 = greedy (default ${DEFAULT_DECODE.beamWidth})
  --stop line|identifier|length
                           where a suggestion ends (default ${DEFAULT_DECODE.stopAt})
  --max-chars N            longest suggestion (default ${DEFAULT_DECODE.maxChars})
  --min-confidence X       nothing below this mean token probability (default ${DEFAULT_DECODE.minConfidence})
  --ngram-weight W         mix the n-gram into the model, 0-1 (char tokenizer only; default ${DEFAULT_EVAL_NGRAM_WEIGHT});
                           above 0 the model alone is reported too, as "lstmAlone"
  --no-cache               the model reads its context afresh at every request
  --latency-lines N        lines of the latency scenario's file (default ${DEFAULT_LATENCY_LINES}; 0 = no latency run)
  --latency-requests N     its requests, each after a random edit (default ${DEFAULT_LATENCY_REQUESTS}; 0 = none)
  --latency-reread-lines N with the cache, after each request re-read (untimed, as idle work) the contexts
                           of the N lines after the edit (default 0: no idle work between requests)`;

const OPTIONS = {
  json: { type: 'boolean' }, corpus: { type: 'string' }, order: { type: 'string' }, beam: { type: 'string' }, stop: { type: 'string' },
  'max-chars': { type: 'string' }, 'min-confidence': { type: 'string' }, 'ngram-weight': { type: 'string' }, 'no-cache': { type: 'boolean' },
  'latency-lines': { type: 'string' }, 'latency-requests': { type: 'string' }, 'latency-reread-lines': { type: 'string' }, ...CORPUS_OPTIONS,
} as const;

const USAGE_LINE = 'usage: gatescope eval-completions CHECKPOINT DIR [--json] [--corpus TRAINDIR] [--order N] [--beam N] [--stop line|identifier|length] [--max-chars N] [--min-confidence X] [--ngram-weight W] [--no-cache] [--latency-lines N] [--latency-requests N] [--latency-reread-lines N]';

/** The four figures the issue asks for, per system. */
function figures(r: SystemReport): { savedPercent: number; acceptRate: number; shownPer100Chars: number; latencyMs: LatencyMs } {
  return { savedPercent: r.savedPercent, acceptRate: r.acceptRate, shownPer100Chars: r.shownPer100Chars, latencyMs: r.latencyMs };
}

export async function evalCompletionsCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, OPTIONS);
  check(positionals.length === 2, USAGE_LINE);
  const [ckPath, dir] = positionals;
  const stop = (o.stop ?? DEFAULT_DECODE.stopAt) as StopAt;
  check(stop === 'line' || stop === 'identifier' || stop === 'length', `--stop must be line, identifier or length, got ${JSON.stringify(o.stop)}`);
  const options: DecodeOptions = {
    ...DEFAULT_DECODE,
    stopAt: stop,
    beamWidth: setting(o, 'beam', 'completionBeamWidth', DEFAULT_DECODE.beamWidth),
    maxChars: setting(o, 'max-chars', 'completionMaxChars', DEFAULT_DECODE.maxChars),
    minConfidence: setting(o, 'min-confidence', 'completionMinConfidence', DEFAULT_DECODE.minConfidence),
  };
  check(Number.isInteger(options.beamWidth) && Number.isInteger(options.maxChars), '--beam and --max-chars must be whole numbers');
  const order = int(o, 'order', 7, 1, 16);
  const weight = num(o, 'ngram-weight', DEFAULT_EVAL_NGRAM_WEIGHT);
  check(weight >= 0 && weight <= 1, `--ngram-weight must be from 0 to 1, got ${weight}`);
  const latencyLines = int(o, 'latency-lines', DEFAULT_LATENCY_LINES, 0, 1_000_000);
  const latencyRequests = int(o, 'latency-requests', DEFAULT_LATENCY_REQUESTS, 0, 1_000_000);
  const rereadLines = int(o, 'latency-reread-lines', 0, 0, 100_000);
  const useCache = !o['no-cache'];
  const log = (s: string) => process.stderr.write(s + '\n');

  const ck = await loadCheckpointFile(ckPath);
  const tokenizer = checkpointTokenizer(ck, `checkpoint ${ckPath}`);
  check(weight === 0 || tokenizer.kind === 'char', `--ngram-weight mixes the n-gram into a char-tokenizer model only; this checkpoint's tokenizer is ${tokenizer.kind} (use --ngram-weight 0)`);
  const corpus = readFolderCorpus(corpusOptions(o), dir, log);
  reportSkipped(corpus.skipped, log);
  const files = corpus.spans.map((s) => corpus.text.slice(s.start, s.end));
  check(files.length > 0 && corpus.text.length > 0, `no usable text in ${dir}`);

  const training = trainingText(ck, o.corpus as string | undefined, log);
  check(training.text.length > 0, `the training corpus (${training.source}) holds no text; give one with --corpus TRAINDIR`);
  let t0 = performance.now();
  const ngram = KneserNeyModel.build(training.text, order);
  const words = new WordCompletion(training.text);
  log(`training corpus: ${training.source} (${training.text.length} characters); n-gram of order ${order} and word counts built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const session = new InferenceSession(ck.config, ck.params);
  const engine = new CompletionEngine({ session, tokenizer, ngram, ngramWeight: weight }, DEFAULT_CACHE);
  const systems: ReplaySystem[] = [engineSystem('model', engine, options, useCache), wordSystem(words, 'baseline'), ngramSystem(ngram, options, 'ngram')];
  if (weight > 0) systems.push(engineSystem('lstmAlone', new CompletionEngine({ session, tokenizer }, DEFAULT_CACHE), options, useCache));
  log(`replaying ${files.length} file(s), ${files.reduce((n, f) => n + f.length, 0)} characters, through ${systems.map((s) => s.name).join(', ')} (${session.engine} engine; ${options.stopAt} stop, beam ${options.beamWidth}, max ${options.maxChars} chars, min confidence ${options.minConfidence}${weight > 0 ? `, n-gram weight ${weight}` : ''}${useCache ? '' : ', no cache'})`);
  t0 = performance.now();
  const reports = replay(files, systems, {
    onFile: (i, soFar) => log(`  ${i + 1}/${files.length} ${corpus.files[i].path}: ${soFar.map((r) => `${r.name} ${r.savedPercent.toFixed(1)}%`).join(', ')} (${((performance.now() - t0) / 1000).toFixed(0)} s)`),
  });
  const byName = new Map(reports.map((r) => [r.name, r]));

  // Held-out bits per character: the model on the folder's text (the same as `gatescope eval`), and the n-gram.
  const bitsPerChar = await modelBitsPerChar(ck, tokenizer, corpus.text);
  const ngramBitsPerChar = ngram.bitsPerChar(corpus.text);

  let latency: { cached: LatencyReport; uncached: LatencyReport } | undefined;
  if (latencyLines > 0 && latencyRequests > 0) {
    const file = latencyFile([...files, training.text], latencyLines);
    log(`latency: ${latencyLines} lines, ${latencyRequests} requests after random edits, with the cache then without…`);
    const target = engineLatencyTarget(engine);
    const cached = latencyRun(target, file, { requests: latencyRequests, seed: 1, useCache: true, options, rereadLines });
    const uncached = latencyRun(target, file, { requests: latencyRequests, seed: 1, useCache: false, options });
    latency = { cached, uncached };
  }

  const model = byName.get('model')!;
  const out: Record<string, unknown> = {
    model: figures(model),
    baseline: figures(byName.get('baseline')!),
    ngram: figures(byName.get('ngram')!),
    files: files.length,
    chars: model.chars,
  };
  if (byName.has('lstmAlone')) out.lstmAlone = figures(byName.get('lstmAlone')!);
  out.bitsPerChar = bitsPerChar;
  out.ngramBitsPerChar = ngramBitsPerChar;
  out.ngramOrder = order;
  out.counts = Object.fromEntries(reports.map((r) => [r.name, { shown: r.shown, accepted: r.accepted, keystrokes: r.keystrokes, saved: r.saved, requests: r.requests }]));
  out.options = { ...options, ngramWeight: weight, useCache };
  if (latency) out.latency = latency;
  if (o.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const row = (label: string, r: SystemReport) =>
    `  ${label.padEnd(26)} ${r.savedPercent.toFixed(2).padStart(7)}% ${(100 * r.acceptRate).toFixed(1).padStart(7)}% ${r.shownPer100Chars.toFixed(2).padStart(9)} ${r.latencyMs.p50.toFixed(2).padStart(8)} ${r.latencyMs.p95.toFixed(2).padStart(8)} ${r.latencyMs.p99.toFixed(2).padStart(8)}`;
  const lines = [
    `${files.length} file(s), ${model.chars} characters typed left to right`,
    `  ${'system'.padEnd(26)} ${'saved'.padStart(8)} ${'accepted'.padStart(8)} ${'shown/100'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`,
    row(weight > 0 ? `model (n-gram weight ${weight})` : 'model', model),
  ];
  if (byName.has('lstmAlone')) lines.push(row('model alone (no n-gram)', byName.get('lstmAlone')!));
  lines.push(row('word baseline', byName.get('baseline')!), row(`n-gram baseline (order ${order})`, byName.get('ngram')!));
  const word = byName.get('baseline')!.savedPercent;
  lines.push(`model / word baseline: ${word > 0 ? (model.savedPercent / word).toFixed(2) + '×' : 'n/a (the baseline saved nothing)'}; model − n-gram: ${(model.savedPercent - byName.get('ngram')!.savedPercent).toFixed(2)} points`);
  lines.push(`bits per character on ${dir}: model ${bitsPerChar.toFixed(4)}, n-gram ${ngramBitsPerChar.toFixed(4)}`);
  if (latency) {
    const l = (r: LatencyReport) => `p50 ${r.latencyMs.p50.toFixed(2)} ms, p95 ${r.latencyMs.p95.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms (tokens read p50/p95/p99 ${r.tokensRead.p50}/${r.tokensRead.p95}/${r.tokensRead.p99})`;
    lines.push(`latency, ${latency.cached.lines} lines, ${latency.cached.requests} requests after random edits: with the cache ${l(latency.cached)} (warming it took ${latency.cached.warmSeconds.toFixed(1)} s${rereadLines ? `; re-reading ${rereadLines} lines after each edit, untimed, ${latency.cached.rereadSeconds.toFixed(1)} s` : ''}); without ${l(latency.uncached)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** The model's bits per character on `text` (windows of 64 × 32, as `gatescope eval` by default). */
async function modelBitsPerChar(ck: Awaited<ReturnType<typeof loadCheckpointFile>>, tokenizer: ReturnType<typeof checkpointTokenizer>, text: string): Promise<number> {
  const tokens = tokenizer.encode(text);
  if (tokens.length < 2) throw new GateScopeError('the folder holds too little text to evaluate');
  const backend = wasmSupport().simd ? createWasmBackend(ck.config, ck.params, DEFAULT_OPTIM) : new CpuBackend(ck.config, ck.params, DEFAULT_OPTIM);
  try {
    const r = await evaluate(backend, tokens, charsPerTokenTable(tokenizer.vocabSize, (id) => tokenizer.charCount(id)), 64, 32);
    return r.bitsPerChar;
  } finally {
    backend.dispose();
  }
}
