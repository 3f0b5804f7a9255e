// The `gatescope` command line: train a model on a folder, sample from a checkpoint, evaluate one,
// and look inside one: next-token predictions and per-token activations for a text.
// Run as `npx gatescope <command>` or `npm start -- <command>`; `npm start` alone trains on this
// repository for about a minute and shows what the model learned.

import * as fs from 'fs';
import * as path from 'path';
import { ParseArgsConfig, parseArgs } from 'util';
import { CELL_TYPES, CellType, DEFAULT_OPTIM, DEFAULT_TRAINING, ModelConfig, OptimConfig, checkSetting, gateCount, validateBatchConfig, validateModelConfig, validateOptimConfig } from '../kernels/config';
import { TrainingBackend } from '../kernels/backend';
import { CpuBackend } from '../kernels/cpu/backend';
import { createNodeGpuContext } from '../kernels/node/webgpu';
import { GpuContext } from '../kernels/webgpu/context';
import { WebGpuBackend } from '../kernels/webgpu/backend';
import { HistoryPoint, ModelCheckpoint, checkpointTokenizer } from '../kernels/checkpoint';
import { TokenizerKind, buildTokenizer, charsPerTokenTable, splitTrainVal, tokenize } from '../kernels/trainingData';
import { GateScopeError, check } from '../kernels/errors';
import { InferenceSession, LayerTrace } from '../kernels/infer';
import { initParams } from '../kernels/params';
import { Rng } from '../kernels/rng';
import { Tokenizer } from '../kernels/tokenizer';
import { EvalResult, evaluate, trainLoop } from '../kernels/train';
import { loadCheckpointFile, loadOptimizerFile, saveCheckpointFiles } from '../kernels/node/checkpointFiles';
import { DEFAULT_CORPUS_OPTIONS, formatBytes, readCorpus } from './corpus';
import { ProgressLine, formatDuration, formatRate } from './progress';

const USAGE = `gatescope — train small LSTM/GRU/RNN language models on your own code

Usage:
  gatescope train [DIR] [options]         train on the text files under DIR (default: .)
  gatescope sample CHECKPOINT [options]   generate text from a checkpoint
  gatescope eval CHECKPOINT DIR [--json]  bits per character of a model on the files under DIR
  gatescope predict CHECKPOINT (--text TEXT | --file PATH) [--top-k K] [--json]
                                          the most likely next tokens after a text
  gatescope activations CHECKPOINT (--text TEXT | --file PATH) [--layer L] [--json]
                                          one layer's hidden state, cell and gates after each token
  gatescope help                          this text

Train options:
  --arch lstm|gru|rnn      cell type (default ${DEFAULT_TRAINING.cell})
  --hidden N               hidden size (default ${DEFAULT_TRAINING.hiddenSize})
  --layers N               stacked layers, 1-4 (default ${DEFAULT_TRAINING.numLayers})
  --embed N                embedding size (default ${DEFAULT_TRAINING.embedSize})
  --dropout P              dropout between layers and before the decoder (default ${DEFAULT_TRAINING.dropout})
  --seq N                  sequence length for truncated BPTT (default ${DEFAULT_TRAINING.seqLen})
  --batch N                batch size (default ${DEFAULT_TRAINING.batchSize})
  --lr X                   Adam learning rate (default ${DEFAULT_OPTIM.learningRate})
  --clip X                 clip gradients to this global norm, 0 = off (default ${DEFAULT_OPTIM.clipNorm})
  --weight-decay X         AdamW weight decay (default 0)
  --time SECONDS           training time budget (default ${DEFAULT_TRAINING.seconds})
  --steps N                step budget (total steps, counting steps before a resume)
  --tokenizer char|bpe     tokenizer (default ${DEFAULT_TRAINING.tokenizer})
  --vocab N                BPE vocabulary size, 256-8192 (default ${DEFAULT_TRAINING.bpeVocab})
  --out PATH               checkpoint to write (default .gatescope/model.safetensors)
  --resume [PATH]          continue from a checkpoint (default: --out)
  --val-fraction F         share of the text held out for validation (default ${DEFAULT_TRAINING.valFraction})
  --eval-every SECONDS     evaluate on the validation text this often (default 20)
  --checkpoint-every S     write a checkpoint this often (default 30)
  --max-file-bytes N       skip files larger than this (default 1000000)
  --max-corpus-bytes N     read at most this much text (default 50000000)
  --seed N                 random seed (default 1)
  --backend cpu|webgpu     compute backend (default cpu); webgpu runs the WGSL kernels through Dawn
  --sample-length N        characters of sample printed after training (default 400)
  --quiet                  no progress line

Sample options:
  --prime TEXT             text to start from (default: a newline)
  --length N               tokens to generate (default 300)
  --temperature T          softmax temperature, 0 = greedy (default 0.8)
  --top-k K                sample from the K most likely tokens only (default 0 = all)
  --beam N                 beam search with N beams instead of sampling
  --seed N                 random seed

Eval options:
  --json                   print {"bitsPerChar","bitsPerToken","tokens","chars"}
  --seq N, --batch N       evaluation window (default 64 × 32)

Predict options:
  --text TEXT, --file PATH the text fed to the model (one of the two)
  --top-k K                how many tokens to show (default 10)
  --json                   print {"tokens": [...], "predictions": [{"id","token","probability"}]}

Activations options:
  --text TEXT, --file PATH the text fed to the model (one of the two)
  --layer L                layer to show, from 0 (default 0)
  --json                   print {"layer", "tokens", "hidden", "cell", "gates"}, one row of H
                           values per token: hidden is h, cell the LSTM's c (else null), gates
                           maps LSTM i f g o or GRU r z n to their rows (null for the RNN);
                           without --json, a summary: the mean |h| after each token

Tokens are shown as their text; a BPE token that ends inside a character shows its incomplete
bytes as <0xE2>, and the char tokenizer's escapes for unseen characters as <unk>, <unk:3>.
`;

function num(opts: Record<string, unknown>, key: string, fallback: number): number {
  const v = opts[key];
  if (v === undefined) return fallback;
  const s = String(v).trim();
  const n = s === '' ? NaN : Number(s);
  check(Number.isFinite(n), `--${key} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function int(opts: Record<string, unknown>, key: string, fallback: number, lo: number, hi: number): number {
  const n = num(opts, key, fallback);
  check(Number.isInteger(n) && n >= lo && n <= hi, `--${key} must be a whole number from ${lo} to ${hi}, got ${n}`);
  return n;
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  // `--lr -0.1` would read as two options: glue a negative number to the option that takes it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    if (name && options[name]?.type === 'string' && /^-\d|^-\.\d/.test(argv[i + 1] ?? '')) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true } as const);
  } catch (e) {
    throw new GateScopeError(`${(e as Error).message.split('\n')[0]} (see 'gatescope help')`);
  }
}

const TRAIN_OPTIONS = {
  arch: { type: 'string' }, hidden: { type: 'string' }, layers: { type: 'string' }, embed: { type: 'string' },
  dropout: { type: 'string' }, seq: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
  clip: { type: 'string' }, 'weight-decay': { type: 'string' }, time: { type: 'string' }, steps: { type: 'string' },
  tokenizer: { type: 'string' }, vocab: { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' },
  'val-fraction': { type: 'string' }, 'eval-every': { type: 'string' }, 'checkpoint-every': { type: 'string' },
  'max-file-bytes': { type: 'string' }, 'max-corpus-bytes': { type: 'string' }, seed: { type: 'string' },
  backend: { type: 'string' }, 'sample-length': { type: 'string' }, quiet: { type: 'boolean' },
} as const;

/** `--resume` may be given without a path: parseArgs needs a value, so a bare one is rewritten. */
function normaliseResume(args: string[]): string[] {
  return args.flatMap((a, i) => (a === '--resume' && (i === args.length - 1 || args[i + 1].startsWith('--')) ? ['--resume='] : [a]));
}

async function train(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(normaliseResume(argv), TRAIN_OPTIONS);
  check(positionals.length <= 1, `train takes one folder, got ${positionals.length}: ${positionals.join(' ')}`);
  const dir = positionals[0] ?? '.';
  const out = path.resolve(o.out ?? path.join('.gatescope', 'model.safetensors'));
  const resumePath = o.resume === undefined ? null : path.resolve(o.resume || out);
  const backendName = o.backend ?? 'cpu';
  check(backendName === 'cpu' || backendName === 'webgpu', `--backend must be cpu or webgpu, got ${JSON.stringify(backendName)}`);
  const seed = int(o, 'seed', 1, 0, 2 ** 32 - 1);
  const timeBudget = o.time === undefined && o.steps !== undefined ? undefined : num(o, 'time', DEFAULT_TRAINING.seconds);
  if (timeBudget !== undefined) check(timeBudget > 0 && timeBudget <= 30 * 24 * 3600, `--time must be between 0 and 2592000 seconds, got ${timeBudget}`);
  const stepBudget = o.steps === undefined ? undefined : int(o, 'steps', 0, 1, 1e9);
  const valFraction = num(o, 'val-fraction', DEFAULT_TRAINING.valFraction);
  check(valFraction > 0 && valFraction <= 0.5, `--val-fraction must be above 0 and at most 0.5, got ${valFraction}`);
  const evalEvery = num(o, 'eval-every', 20);
  check(evalEvery > 0, `--eval-every must be positive, got ${evalEvery}`);
  const checkpointEvery = num(o, 'checkpoint-every', 30);
  check(checkpointEvery > 0, `--checkpoint-every must be positive, got ${checkpointEvery}`);
  const sampleLength = int(o, 'sample-length', 400, 0, 100000);
  const corpusOpts = {
    maxFileBytes: int(o, 'max-file-bytes', DEFAULT_CORPUS_OPTIONS.maxFileBytes, 1, 2 ** 31),
    maxCorpusBytes: int(o, 'max-corpus-bytes', DEFAULT_CORPUS_OPTIONS.maxCorpusBytes, 1, 2 ** 31),
  };
  const batch = { seqLen: num(o, 'seq', DEFAULT_TRAINING.seqLen), batchSize: num(o, 'batch', DEFAULT_TRAINING.batchSize) };
  checkSetting('seqLen', batch.seqLen);
  checkSetting('batchSize', batch.batchSize);
  const optim: OptimConfig = validateOptimConfig({
    ...DEFAULT_OPTIM,
    learningRate: num(o, 'lr', DEFAULT_OPTIM.learningRate),
    clipNorm: num(o, 'clip', DEFAULT_OPTIM.clipNorm),
    weightDecay: num(o, 'weight-decay', DEFAULT_OPTIM.weightDecay),
  });
  const arch = (o.arch ?? DEFAULT_TRAINING.cell) as CellType;
  check(CELL_TYPES.includes(arch), `--arch must be one of ${CELL_TYPES.join(', ')}, got ${JSON.stringify(o.arch)}`);
  const tokKind = (o.tokenizer ?? DEFAULT_TRAINING.tokenizer) as TokenizerKind;
  check(tokKind === 'char' || tokKind === 'bpe', `--tokenizer must be char or bpe, got ${JSON.stringify(o.tokenizer)}`);
  const bpeVocab = int(o, 'vocab', DEFAULT_TRAINING.bpeVocab, 256, 8192);
  // Sizes are checked before anything is read or allocated.
  const sizes = {
    hiddenSize: num(o, 'hidden', DEFAULT_TRAINING.hiddenSize), numLayers: num(o, 'layers', DEFAULT_TRAINING.numLayers),
    embedSize: num(o, 'embed', DEFAULT_TRAINING.embedSize), dropout: num(o, 'dropout', DEFAULT_TRAINING.dropout),
  };
  checkSetting('hiddenSize', sizes.hiddenSize);
  checkSetting('numLayers', sizes.numLayers);
  checkSetting('embedSize', sizes.embedSize);
  checkSetting('dropout', sizes.dropout);
  // Sizes against memory, with the largest vocabulary the tokenizer could produce.
  validateBatchConfig(validateModelConfig({ cell: arch, vocabSize: tokKind === 'bpe' ? bpeVocab : 256 + 17, ...sizes }), batch);
  const log = (s: string) => process.stderr.write(s + '\n');

  let resumed: ModelCheckpoint | null = null;
  if (resumePath) {
    resumed = await loadCheckpointFile(resumePath);
    log(`resuming ${resumePath} at step ${resumed.step} (${resumed.config.cell}, hidden ${resumed.config.hiddenSize}, ${resumed.config.numLayers} layer(s)); model options on the command line are ignored`);
  }

  const corpus = readCorpus(dir, corpusOpts);
  reportSkipped(corpus.skipped, log);
  check(corpus.text.length > 0, corpus.skipped.length
    ? `no usable text in ${dir}: every file was skipped (see above)`
    : `no text files found in ${dir}`);
  log(`read ${corpus.files.length} file(s), ${formatBytes(corpus.bytes)} of text from ${path.resolve(dir)}`);
  const split = splitTrainVal(corpus.text, valFraction);

  let tokenizer: Tokenizer;
  if (resumed) {
    tokenizer = checkpointTokenizer(resumed, `checkpoint ${resumePath}`, 'it cannot be trained further; train a new model');
  } else {
    const t0 = performance.now();
    tokenizer = buildTokenizer(split.train, { kind: tokKind, vocabSize: tokKind === 'bpe' ? bpeVocab : undefined });
    log(`${tokKind} tokenizer: ${tokenizer.vocabSize} tokens (built in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const data = tokenize(tokenizer, split);
  log(`${data.train.length} training tokens, ${data.val.length} validation tokens (last ${(valFraction * 100).toFixed(0)}% of the text, never trained on)`);

  const config: ModelConfig = resumed ? resumed.config : validateModelConfig({ cell: arch, vocabSize: tokenizer.vocabSize, ...sizes });
  validateBatchConfig(config, batch);
  const params = resumed ? resumed.params : initParams(config, seed);
  let optState = null;
  if (resumed && resumePath) {
    const r = await loadOptimizerFile(resumePath, resumed);
    optState = r.state;
    if (r.note) log(r.note);
  }
  const backendOpts = { dropoutSeed: seed, optimizerState: optState ?? undefined, startStep: resumed?.step };
  let backend: TrainingBackend;
  let gpu: GpuContext | null = null;
  if (backendName === 'webgpu') {
    const r = await createNodeGpuContext();
    check(r.ctx, () => `--backend webgpu: ${r.why}; use --backend cpu`);
    gpu = r.ctx;
    log(`WebGPU adapter: ${gpu.adapterName}`);
    backend = await WebGpuBackend.create(gpu, config, params, optim, backendOpts);
  } else {
    backend = new CpuBackend(config, params, optim, backendOpts);
  }
  const history: HistoryPoint[] = resumed?.history ? [...resumed.history] : [];
  log(`model: ${config.cell.toUpperCase()}, ${config.numLayers} layer(s) of ${config.hiddenSize}, embedding ${config.embedSize}, ${countParams(params)} parameters; batch ${batch.batchSize} × sequence ${batch.seqLen}; Adam lr ${optim.learningRate}, clip ${optim.clipNorm > 0 ? `global norm ${optim.clipNorm}` : 'off'}; backend ${backend.kind}`);

  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    log('\nstopping after this step (press Ctrl+C again to quit without saving)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const progress = new ProgressLine();
  let lastLoss = NaN;
  let lastVal: EvalResult | null = null;
  const save = async (step: number) => {
    const ck: ModelCheckpoint = {
      config, params: await backend.getParams(), tokenizer: tokenizer.toJSON(), step,
      optim: { ...optim, ...batch }, history,
    };
    await saveCheckpointFiles(out, ck, await backend.getOptimizerState());
  };
  const summary = await trainLoop(backend, { train: data.train, val: data.val, chars: data.chars }, {
    ...batch,
    maxSteps: stepBudget,
    maxSeconds: timeBudget,
    signal: abort.signal,
    evalEverySeconds: evalEvery,
    evalMaxTokens: 20000,
    checkpointEverySeconds: checkpointEvery,
    onProgress: o.quiet ? undefined : (p) => {
      lastLoss = p.loss;
      const val = lastVal ? ` | val ${lastVal.bitsPerChar.toFixed(3)} bpc` : '';
      progress.update(p.fraction, `step ${p.step} | loss ${p.loss.toFixed(3)} | ${p.bitsPerChar.toFixed(3)} bpc${val} | ${formatRate(p.tokensPerSecond)} tok/s | ETA ${formatDuration(p.etaSeconds)}`);
    },
    onEval: (step, r) => {
      lastVal = r;
      history.push({ step, trainLoss: Number.isFinite(lastLoss) ? lastLoss : undefined, valBpc: r.bitsPerChar, time: Date.now() / 1000 });
    },
    onCheckpoint: save,
  });
  progress.done();
  process.off('SIGINT', onSigint);
  const finalParams = await backend.getParams();
  backend.dispose();
  gpu?.device.destroy();
  log(`trained ${summary.stepsThisRun} steps in ${formatDuration(summary.seconds)} (${summary.stoppedBy === 'abort' ? 'stopped' : `${summary.stoppedBy} budget reached`}), step ${summary.steps} in all; checkpoint: ${out}`);

  if (sampleLength > 0) {
    const session = new InferenceSession(config, finalParams);
    const prime = split.val.slice(0, 80);
    const text = generateText(session, tokenizer, prime, sampleLength, { temperature: 0.8, rng: new Rng(seed) });
    process.stdout.write(`\n--- sample (temperature 0.8), primed with the first line of the validation text ---\n${prime}${text}\n---\n\n`);
  }
  if (summary.finalEval) {
    const e = summary.finalEval;
    process.stdout.write(`validation: ${e.bitsPerChar.toFixed(4)} bits per character, ${e.bitsPerToken.toFixed(4)} bits per token (${e.tokens} tokens, ${e.chars} characters)\n`);
  }
}

function countParams(p: Map<string, ArrayLike<number>>): string {
  let n = 0;
  for (const v of p.values()) n += v.length;
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`;
}

function reportSkipped(skipped: { path: string; reason: string }[], log: (s: string) => void): void {
  if (!skipped.length) return;
  const byReason = new Map<string, number>();
  for (const s of skipped) {
    const reason = s.reason.replace(/ \(.*\)$/, '');
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  log(`skipped ${skipped.length} file(s): ${[...byReason].map(([r, n]) => `${n} ${r}`).join(', ')}`);
  for (const s of skipped.slice(0, 8)) log(`  skipped ${s.path}: ${s.reason}`);
  if (skipped.length > 8) log(`  ... and ${skipped.length - 8} more`);
}

/** Feeds the prime and samples `length` tokens; returns the generated text. */
function generateText(session: InferenceSession, tokenizer: Tokenizer, prime: string, length: number, opts: { temperature: number; topK?: number; rng: Rng }): string {
  const state = session.newState();
  const ids = tokenizer.encode(prime.length ? prime : '\n');
  session.feedMany(state, ids);
  const decoder = tokenizer.createDecoder();
  let text = '';
  for (const id of session.generate(state, length, opts)) text += decoder.push(id);
  return text + decoder.flush();
}

async function sample(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, {
    prime: { type: 'string' }, length: { type: 'string' }, temperature: { type: 'string' }, 'top-k': { type: 'string' },
    beam: { type: 'string' }, seed: { type: 'string' },
  } as const);
  check(positionals.length === 1, 'usage: gatescope sample CHECKPOINT [--prime TEXT] [--length N] [--temperature T] [--top-k K] [--beam N]');
  const ck = await loadCheckpointFile(positionals[0]);
  const tokenizer = checkpointTokenizer(ck, `checkpoint ${positionals[0]}`);
  const length = int(o, 'length', 300, 1, 100000);
  const temperature = num(o, 'temperature', 0.8);
  check(temperature >= 0 && temperature <= 100, `--temperature must be from 0 to 100, got ${temperature}`);
  const topK = int(o, 'top-k', 0, 0, ck.config.vocabSize);
  const prime = o.prime ?? '\n';
  const session = new InferenceSession(ck.config, ck.params);
  if (o.beam !== undefined) {
    const width = int(o, 'beam', 4, 1, 64);
    const state = session.newState();
    session.feedMany(state, tokenizer.encode(prime.length ? prime : '\n'));
    const r = session.beam(state, length, width);
    process.stdout.write(prime + tokenizer.decode(r.tokens) + '\n');
    return;
  }
  const rng = new Rng(int(o, 'seed', (Date.now() & 0x7fffffff) >>> 0, 0, 2 ** 32 - 1));
  process.stdout.write(prime + generateText(session, tokenizer, prime, length, { temperature, topK, rng }) + '\n');
}

async function evalCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, {
    json: { type: 'boolean' }, seq: { type: 'string' }, batch: { type: 'string' },
    'max-file-bytes': { type: 'string' }, 'max-corpus-bytes': { type: 'string' },
  } as const);
  check(positionals.length === 2, 'usage: gatescope eval CHECKPOINT DIR [--json]');
  const [ckPath, dir] = positionals;
  const ck = await loadCheckpointFile(ckPath);
  const tokenizer = checkpointTokenizer(ck, `checkpoint ${ckPath}`);
  const seqLen = int(o, 'seq', 64, 1, 2048);
  const batchSize = int(o, 'batch', 32, 1, 1024);
  const corpus = readCorpus(dir, {
    maxFileBytes: int(o, 'max-file-bytes', DEFAULT_CORPUS_OPTIONS.maxFileBytes, 1, 2 ** 31),
    maxCorpusBytes: int(o, 'max-corpus-bytes', DEFAULT_CORPUS_OPTIONS.maxCorpusBytes, 1, 2 ** 31),
  });
  if (!o.json) reportSkipped(corpus.skipped, (s) => process.stderr.write(s + '\n'));
  check(corpus.text.length > 0, `no usable text in ${dir}`);
  const tokens = tokenizer.encode(corpus.text);
  check(tokens.length >= 2, `${dir} holds too little text to evaluate (${tokens.length} token)`);
  validateBatchConfig(ck.config, { seqLen, batchSize });
  const backend = new CpuBackend(ck.config, ck.params, DEFAULT_OPTIM);
  const r = await evaluate(backend, tokens, charsPerTokenTable(tokenizer.vocabSize, (id) => tokenizer.charCount(id)), seqLen, batchSize);
  if (o.json) {
    process.stdout.write(JSON.stringify({ bitsPerChar: r.bitsPerChar, bitsPerToken: r.bitsPerToken, tokens: r.tokens, chars: r.chars }) + '\n');
  } else {
    process.stdout.write(`${r.bitsPerChar.toFixed(4)} bits per character, ${r.bitsPerToken.toFixed(4)} bits per token over ${r.tokens} tokens (${r.chars} characters) in ${corpus.files.length} file(s)\n`);
  }
}

/** Largest --file read by predict and activations. */
const MAX_INPUT_BYTES = DEFAULT_CORPUS_OPTIONS.maxFileBytes;
/** Most activation values (tokens × values per token) activations prints, to keep its output printable. */
const MAX_ACTIVATION_VALUES = 4_000_000;

const TEXT_OPTIONS = { text: { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean' } } as const;

/** The text given with --text or read from --file (exactly one of them), not empty. */
async function inputText(o: { text?: string; file?: string }, usage: string): Promise<string> {
  check((o.text === undefined) !== (o.file === undefined), usage);
  if (o.text !== undefined) {
    check(o.text.length > 0, '--text is empty; give some text to feed the model');
    return o.text;
  }
  const file = o.file!;
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new GateScopeError(code === 'ENOENT' ? `no file at ${file}` : `cannot read ${file} (${code ?? (e as Error).message})`);
  }
  check(st.isFile(), `${file} is not a regular file`);
  check(st.size <= MAX_INPUT_BYTES, `${file} is ${formatBytes(st.size)}, over the ${formatBytes(MAX_INPUT_BYTES)} limit for --file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await fs.promises.readFile(file));
  } catch {
    throw new GateScopeError(`${file} is not valid UTF-8 text`);
  }
  check(text.length > 0, `${file} is empty; give some text to feed the model`);
  return text;
}

/** Loads the checkpoint and tokenizes the input text: what predict and activations share. */
async function loadForText(positionals: string[], o: { text?: string; file?: string }, usage: string) {
  check(positionals.length === 1, usage);
  const text = await inputText(o, usage);
  const ck = await loadCheckpointFile(positionals[0]);
  const tokenizer = checkpointTokenizer(ck, `checkpoint ${positionals[0]}`);
  const ids = tokenizer.encode(text);
  const labels = Array.from(ids, (id) => tokenizer.tokenLabel(id));
  return { ck, tokenizer, ids, labels, session: new InferenceSession(ck.config, ck.params) };
}

async function predictCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, { ...TEXT_OPTIONS, 'top-k': { type: 'string' } } as const);
  const { ck, tokenizer, ids, labels, session } = await loadForText(positionals, o, 'usage: gatescope predict CHECKPOINT (--text TEXT | --file PATH) [--top-k K] [--json]');
  const V = ck.config.vocabSize;
  const k = int(o, 'top-k', Math.min(10, V), 1, V);
  const state = session.newState();
  session.feedMany(state, ids);
  const predictions = session.predict(state, k).map(({ id, probability }) => ({ id, token: tokenizer.tokenLabel(id), probability }));
  if (o.json) {
    process.stdout.write(JSON.stringify({ tokens: labels, predictions }) + '\n');
    return;
  }
  process.stdout.write(`after ${ids.length} token(s), ending ${JSON.stringify(labels.slice(-8).join(''))}:\n`);
  for (const p of predictions) process.stdout.write(`  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${JSON.stringify(p.token)}\n`);
}

async function activationsCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, { ...TEXT_OPTIONS, layer: { type: 'string' } } as const);
  const { ck, ids, labels, session } = await loadForText(positionals, o, 'usage: gatescope activations CHECKPOINT (--text TEXT | --file PATH) [--layer L] [--json]');
  const { cell, hiddenSize: H, numLayers } = ck.config;
  const layer = int(o, 'layer', 0, 0, numLayers - 1);
  const perToken = H * (1 + (cell === 'lstm' ? 1 : 0) + (cell === 'rnn' ? 0 : gateCount(cell)));
  const maxTokens = Math.floor(MAX_ACTIVATION_VALUES / perToken);
  check(ids.length <= maxTokens, `the text is ${ids.length} tokens; activations prints at most ${maxTokens} tokens for this model, give a shorter text`);
  const trace = session.trace(session.newState(), ids, layer);
  const T = ids.length;
  if (o.json) {
    process.stdout.write(JSON.stringify({
      layer,
      tokens: labels,
      hidden: rows(trace.hidden, T, H),
      cell: trace.cell ? rows(trace.cell, T, H) : null,
      gates: gatesByName(trace, T, H),
    }) + '\n');
    return;
  }
  process.stdout.write(`layer ${layer} of ${numLayers} (${cell.toUpperCase()}, hidden ${H}), ${T} token(s); mean |h| after each token:\n`);
  for (let t = 0; t < T; t++) {
    let sum = 0;
    for (let j = 0; j < H; j++) sum += Math.abs(trace.hidden[t * H + j]);
    process.stdout.write(`  ${(sum / H).toFixed(4)}  ${JSON.stringify(labels[t])}\n`);
  }
}

/** Splits [T*W] values into T rows of W plain numbers. */
function rows(values: Float32Array, T: number, W: number): number[][] {
  return Array.from({ length: T }, (_, t) => Array.from(values.subarray(t * W, (t + 1) * W)));
}

/** The trace's gates as { name: T rows of H }, or null for the RNN. */
function gatesByName(trace: LayerTrace, T: number, H: number): Record<string, number[][]> | null {
  if (!trace.gates) return null;
  const { names, values } = trace.gates;
  const G = names.length;
  const out: Record<string, number[][]> = {};
  names.forEach((name, g) => {
    out[name] = Array.from({ length: T }, (_, t) => Array.from(values.subarray((t * G + g) * H, (t * G + g + 1) * H)));
  });
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command ?? 'train') {
      case 'train': await train(rest); break;
      case 'sample': await sample(rest); break;
      case 'eval': await evalCommand(rest); break;
      case 'predict': await predictCommand(rest); break;
      case 'activations': await activationsCommand(rest); break;
      case 'help': case '--help': case '-h': process.stdout.write(USAGE); break;
      default:
        if (command.startsWith('-')) { await train(argv); break; }
        throw new GateScopeError(`unknown command ${JSON.stringify(command)}; try 'gatescope help'`);
    }
    return 0;
  } catch (e) {
    if (e instanceof GateScopeError) {
      process.stderr.write(`gatescope: error: ${e.message}\n`);
      return 1;
    }
    const err = e as Error;
    process.stderr.write(`gatescope: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.GATESCOPE_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    else process.stderr.write('(set GATESCOPE_DEBUG=1 for details, and please report it)\n');
    return 2;
  }
}
