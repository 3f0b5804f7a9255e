// `gatescope eval`: a checkpoint's bits per character on the files of a folder, read through the
// same corpus planner as training.

import { checkpointTokenizer } from '../kernels/checkpoint';
import { BOUNDS, DEFAULT_OPTIM, validateBatchConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { createWasmBackend } from '../kernels/wasm/backend';
import { wasmSupport } from '../kernels/wasm/module';
import { check } from '../kernels/errors';
import { loadCheckpointFile } from '../kernels/node/checkpointFiles';
import { evaluate } from '../kernels/train';
import { charsPerTokenTable } from '../kernels/trainingData';
import { int, parse } from './args';
import { CORPUS_OPTIONS, corpusOptions, readFolderCorpus, reportSkipped } from './corpusOptions';

export const EVAL_USAGE = `Eval options:
  --json                   print {"bitsPerChar","bitsPerToken","tokens","chars"}
  --seq N, --batch N       evaluation window (default 64 × 32)`;

export async function evalCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, { json: { type: 'boolean' }, seq: { type: 'string' }, batch: { type: 'string' }, ...CORPUS_OPTIONS } as const);
  check(positionals.length === 2, 'usage: gatescope eval CHECKPOINT DIR [--json]');
  const [ckPath, dir] = positionals;
  const ck = await loadCheckpointFile(ckPath);
  const tokenizer = checkpointTokenizer(ck, `checkpoint ${ckPath}`);
  const seqLen = int(o, 'seq', 64, ...BOUNDS.seqLen);
  const batchSize = int(o, 'batch', 32, ...BOUNDS.batchSize);
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
  if (o.json) {
    process.stdout.write(JSON.stringify({ bitsPerChar: r.bitsPerChar, bitsPerToken: r.bitsPerToken, tokens: r.tokens, chars: r.chars }) + '\n');
  } else {
    process.stdout.write(`${r.bitsPerChar.toFixed(4)} bits per character, ${r.bitsPerToken.toFixed(4)} bits per token over ${r.tokens} tokens (${r.chars} characters) in ${corpus.files.length} file(s)\n`);
  }
}
