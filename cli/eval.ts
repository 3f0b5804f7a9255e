// `gatescope eval`: a checkpoint's bits per character on the files of a folder, read through the
// same corpus planner as training, and beside it the bits per character of a character n-gram with
// interpolated Kneser-Ney smoothing built from the checkpoint's training text (cli/trainingCorpus.ts):
// the counting model a trained model has to beat (issue 11).

import { checkpointTokenizer } from '../kernels/checkpoint';
import { BOUNDS, DEFAULT_OPTIM, validateBatchConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { createWasmBackend } from '../kernels/wasm/backend';
import { wasmSupport } from '../kernels/wasm/module';
import { GateScopeError, check } from '../kernels/errors';
import { KneserNeyModel } from '../kernels/complete/ngram';
import { loadCheckpointFile } from '../kernels/node/checkpointFiles';
import { evaluate } from '../kernels/train';
import { charsPerTokenTable } from '../kernels/trainingData';
import { int, parse } from './args';
import { CORPUS_OPTIONS, corpusOptions, readFolderCorpus, reportSkipped } from './corpusOptions';
import { trainingText } from './trainingCorpus';

/** The n-gram's order when --order is not given. */
export const DEFAULT_NGRAM_ORDER = 7;

export const EVAL_USAGE = `Eval options:
  --json                   print {"bitsPerChar","bitsPerToken","tokens","chars","ngramBitsPerChar","ngramOrder"}
                           (the n-gram's keys only when there is a training corpus to build it from)
  --seq N, --batch N       evaluation window (default 64 × 32)
  --corpus TRAINDIR        the n-gram's training text: that folder's training split (default: the folder
                           the checkpoint records, read again with the same rules; none recorded and no
                           --corpus: the n-gram figure is skipped)
  --order N                the n-gram's order, 1-32 (default ${DEFAULT_NGRAM_ORDER})`;

export async function evalCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, {
    json: { type: 'boolean' }, seq: { type: 'string' }, batch: { type: 'string' }, corpus: { type: 'string' }, order: { type: 'string' }, ...CORPUS_OPTIONS,
  } as const);
  check(positionals.length === 2, 'usage: gatescope eval CHECKPOINT DIR [--json] [--corpus TRAINDIR] [--order N]');
  const [ckPath, dir] = positionals;
  const ck = await loadCheckpointFile(ckPath);
  const tokenizer = checkpointTokenizer(ck, `checkpoint ${ckPath}`);
  const seqLen = int(o, 'seq', 64, ...BOUNDS.seqLen);
  const batchSize = int(o, 'batch', 32, ...BOUNDS.batchSize);
  const order = int(o, 'order', DEFAULT_NGRAM_ORDER, 1, 32);
  const log = (s: string) => process.stderr.write(s + '\n');
  const corpus = readFolderCorpus(corpusOptions(o), dir, log);
  if (!o.json) reportSkipped(corpus.skipped, log);
  check(corpus.text.length > 0, `no usable text in ${dir}`);
  const tokens = tokenizer.encode(corpus.text);
  check(tokens.length >= 2, `${dir} holds too little text to evaluate (${tokens.length} token)`);
  validateBatchConfig(ck.config, { seqLen, batchSize });
  // The WebAssembly engine (one thread) where the runtime has SIMD, else the reference: same figures to float32 rounding.
  const backend = wasmSupport().simd ? createWasmBackend(ck.config, ck.params, DEFAULT_OPTIM) : new CpuBackend(ck.config, ck.params, DEFAULT_OPTIM);
  let r: Awaited<ReturnType<typeof evaluate>>;
  try {
    r = await evaluate(backend, tokens, charsPerTokenTable(tokenizer.vocabSize, (id) => tokenizer.charCount(id)), seqLen, batchSize);
  } finally {
    backend.dispose();
  }
  const ngram = ngramBitsPerChar(ck, o.corpus, order, corpus.text, log);
  if (o.json) {
    const extra = ngram ? { ngramBitsPerChar: ngram.bitsPerChar, ngramOrder: order } : {};
    process.stdout.write(JSON.stringify({ bitsPerChar: r.bitsPerChar, bitsPerToken: r.bitsPerToken, tokens: r.tokens, chars: r.chars, ...extra }) + '\n');
  } else {
    process.stdout.write(`${r.bitsPerChar.toFixed(4)} bits per character, ${r.bitsPerToken.toFixed(4)} bits per token over ${r.tokens} tokens (${r.chars} characters) in ${corpus.files.length} file(s)\n`);
    if (ngram) process.stdout.write(`${ngram.bitsPerChar.toFixed(4)} bits per character: the character ${order}-gram (interpolated Kneser-Ney) built from ${ngram.source}\n`);
  }
}

/**
 * The n-gram's bits per character on `text`, the n-gram built from the checkpoint's training text (or
 * --corpus's); null, with a line on stderr saying why, when the checkpoint records no usable corpus and
 * none is given (an error in a --corpus given is the user's to fix, so it throws).
 */
function ngramBitsPerChar(ck: Parameters<typeof trainingText>[0], corpusDir: string | undefined, order: number, text: string, log: (s: string) => void): { bitsPerChar: number; source: string } | null {
  let training: { text: string; source: string };
  try {
    training = trainingText(ck, corpusDir, log);
  } catch (e) {
    if (corpusDir !== undefined || !(e instanceof GateScopeError)) throw e;
    log(`no n-gram figure: ${e.message}`);
    return null;
  }
  if (!training.text.length) {
    check(corpusDir === undefined, `--corpus ${corpusDir}: no usable text in its training split`);
    log(`no n-gram figure: the training corpus ${training.source} holds no text now`);
    return null;
  }
  const t0 = performance.now();
  const model = KneserNeyModel.build(training.text, order);
  const bitsPerChar = model.bitsPerChar(text);
  log(`n-gram: order ${order} built from ${training.source} (${training.text.length} characters) and evaluated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { bitsPerChar, source: training.source };
}
