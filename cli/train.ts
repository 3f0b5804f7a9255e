// `gatescope train`: reads a folder through the corpus planner, then runs the training job of
// kernels/session.ts (the same job the panel runs on WebGPU and the extension's worker on the CPU) on
// the backend --backend names (auto: kernels/backendChoice.ts, with a timed probe of both engines on a
// hardware GPU), shows its reports as a progress line and log lines, writes its checkpoints to disk,
// and ends with a sample and the validation score.

import * as path from 'path';
import { BOUNDS, CELL_TYPES, CellType, DEFAULT_OPTIM, DEFAULT_TRAINING, OptimConfig, checkSetting, validateBatchConfig, validateModelConfig, validateOptimConfig } from '../kernels/config';
import { ModelCheckpoint, checkpointTokenizer, decodeCheckpoint } from '../kernels/checkpoint';
import { BACKEND_SETTINGS, BackendSetting, WebGpuFacts, chooseByProbe, chooseTrainingBackend, probeBackend, softwareAdapterReason } from '../kernels/backendChoice';
import { GateScopeError, check } from '../kernels/errors';
import { formatBytes, formatCount, formatDuration } from '../kernels/format';
import { InferenceSession } from '../kernels/infer';
import { loadCheckpointFileBytes, readOptimizerFile, saveCheckpointBytes } from '../kernels/node/checkpointFiles';
import { createNodeGpuContext } from '../kernels/node/webgpu';
import { Rng } from '../kernels/rng';
import { cloneParams } from '../kernels/params';
import { BackendFactory, RunnerInfo, TrainingJob, TrainingReport, runTrainingJob } from '../kernels/session';
import { TokenizerKind, splitTrainVal } from '../kernels/trainingData';
import { GpuContext } from '../kernels/webgpu/context';
import { WebGpuBackend } from '../kernels/webgpu/backend';
import { num, parse, setting } from './args';
import { readCorpus } from './corpus';
import { CORPUS_OPTIONS, corpusOptions, corpusRules, reportSkipped } from './corpusOptions';
import { CpuEngine, referenceEngine, softwareForAuto, threadsFor, wasmEngine, wasmFacts } from './engines';
import { ProgressLine } from './progress';
import { generateText } from './sample';
import { TrainingCorpusRecord, trainingCorpusRecord, withCorpusRecord } from './trainingCorpus';

export const TRAIN_USAGE = `Train options:
  --arch lstm|gru|rnn      cell type (default ${DEFAULT_TRAINING.cell})
  --hidden N               hidden size (default ${DEFAULT_TRAINING.hiddenSize})
  --layers N               stacked layers, ${BOUNDS.numLayers.join('-')} (default ${DEFAULT_TRAINING.numLayers})
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
  --vocab N                BPE vocabulary size, ${BOUNDS.bpeVocabSize.join('-')} (default ${DEFAULT_TRAINING.bpeVocab})
  --out PATH               checkpoint to write (default .gatescope/model.safetensors)
  --resume [PATH]          continue from a checkpoint (default: --out)
  --val-fraction F         share of the text held out for validation (default ${DEFAULT_TRAINING.valFraction})
  --eval-every SECONDS     evaluate on the validation text this often (default ${DEFAULT_TRAINING.evalEverySeconds})
  --checkpoint-every S     write a checkpoint this often (default ${DEFAULT_TRAINING.checkpointEverySeconds})
  --seed N                 random seed (default ${DEFAULT_TRAINING.seed})
  --backend auto|wasm|cpu|webgpu
                           compute backend (default auto): wasm is the CPU engine with WebAssembly SIMD
                           on --threads threads, cpu the plain TypeScript reference (one thread, several
                           times slower), webgpu the WGSL kernels through Dawn; auto uses WebGPU only on
                           a hardware GPU and only when a timed probe of a few steps finds it faster than
                           wasm (both figures are printed), else wasm, else (no WebAssembly SIMD) cpu
  --threads N              threads of the wasm engine, ${BOUNDS.threads[0] + 1}-${BOUNDS.threads[1]} (default: cores - 1, at least 1; 0 = the default)
  --sample-length N        characters of sample printed after training (default 400)
  --quiet                  no progress line`;

const TRAIN_OPTIONS = {
  arch: { type: 'string' }, hidden: { type: 'string' }, layers: { type: 'string' }, embed: { type: 'string' },
  dropout: { type: 'string' }, seq: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
  clip: { type: 'string' }, 'weight-decay': { type: 'string' }, time: { type: 'string' }, steps: { type: 'string' },
  tokenizer: { type: 'string' }, vocab: { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' },
  'val-fraction': { type: 'string' }, 'eval-every': { type: 'string' }, 'checkpoint-every': { type: 'string' },
  seed: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, 'sample-length': { type: 'string' }, quiet: { type: 'boolean' },
  ...CORPUS_OPTIONS,
} as const;

/** `--resume` may be given without a path: parseArgs needs a value, so a bare one is rewritten. */
function normaliseResume(args: string[]): string[] {
  return args.flatMap((a, i) => (a === '--resume' && (i === args.length - 1 || args[i + 1].startsWith('--')) ? ['--resume='] : [a]));
}

/** The options, checked against kernels/config.ts's bounds before anything is read or allocated. */
function trainSettings(argv: string[]) {
  const { values: o, positionals } = parse(normaliseResume(argv), TRAIN_OPTIONS);
  check(positionals.length <= 1, `train takes one folder, got ${positionals.length}: ${positionals.join(' ')}`);
  const out = path.resolve(o.out ?? path.join('.gatescope', 'model.safetensors'));
  const backend = (o.backend ?? 'auto') as BackendSetting;
  check(BACKEND_SETTINGS.includes(backend), `--backend must be one of ${BACKEND_SETTINGS.join(', ')}, got ${JSON.stringify(backend)}`);
  const cell = (o.arch ?? DEFAULT_TRAINING.cell) as CellType;
  check(CELL_TYPES.includes(cell), `--arch must be one of ${CELL_TYPES.join(', ')}, got ${JSON.stringify(o.arch)}`);
  const tokenizer = (o.tokenizer ?? DEFAULT_TRAINING.tokenizer) as TokenizerKind;
  check(tokenizer === 'char' || tokenizer === 'bpe', `--tokenizer must be char or bpe, got ${JSON.stringify(o.tokenizer)}`);
  const steps = o.steps === undefined ? undefined : num(o, 'steps', 0);
  if (steps !== undefined) check(Number.isInteger(steps) && steps >= 1 && steps <= 1e9, `--steps must be a whole number from 1 to 1000000000, got ${steps}`);
  const optim: OptimConfig = validateOptimConfig({
    ...DEFAULT_OPTIM,
    learningRate: num(o, 'lr', DEFAULT_OPTIM.learningRate),
    clipNorm: num(o, 'clip', DEFAULT_OPTIM.clipNorm),
    weightDecay: num(o, 'weight-decay', DEFAULT_OPTIM.weightDecay),
  });
  const model = {
    cell,
    hiddenSize: checkSetting('hiddenSize', num(o, 'hidden', DEFAULT_TRAINING.hiddenSize)),
    numLayers: checkSetting('numLayers', num(o, 'layers', DEFAULT_TRAINING.numLayers)),
    embedSize: checkSetting('embedSize', num(o, 'embed', DEFAULT_TRAINING.embedSize)),
    dropout: checkSetting('dropout', num(o, 'dropout', DEFAULT_TRAINING.dropout)),
  };
  const batch = { seqLen: setting(o, 'seq', 'seqLen', DEFAULT_TRAINING.seqLen), batchSize: setting(o, 'batch', 'batchSize', DEFAULT_TRAINING.batchSize) };
  const vocabSize = setting(o, 'vocab', 'bpeVocabSize', DEFAULT_TRAINING.bpeVocab);
  // Sizes against memory, with the largest vocabulary the tokenizer could produce.
  validateBatchConfig(validateModelConfig({ ...model, vocabSize: tokenizer === 'bpe' ? vocabSize : 256 + 17 }), batch);
  return {
    dir: positionals[0] ?? '.',
    out,
    resumePath: o.resume === undefined ? null : path.resolve(o.resume || out),
    backend,
    threads: threadsFor(setting(o, 'threads', 'threads', 0)),
    model,
    tokenizer: { kind: tokenizer, vocabSize },
    optim,
    batch,
    // With --steps alone the run has no time limit.
    budget: { maxSeconds: o.time === undefined && steps !== undefined ? undefined : setting(o, 'time', 'timeBudgetSeconds', DEFAULT_TRAINING.seconds), maxSteps: steps },
    valFraction: setting(o, 'val-fraction', 'validationFraction', DEFAULT_TRAINING.valFraction),
    evalEverySeconds: setting(o, 'eval-every', 'evalEverySeconds', DEFAULT_TRAINING.evalEverySeconds),
    checkpointEverySeconds: setting(o, 'checkpoint-every', 'checkpointEverySeconds', DEFAULT_TRAINING.checkpointEverySeconds),
    seed: setting(o, 'seed', 'seed', DEFAULT_TRAINING.seed),
    sampleLength: num(o, 'sample-length', 400),
    quiet: !!o.quiet,
    corpus: corpusOptions(o),
  };
}

const log = (s: string) => process.stderr.write(s + '\n');

export async function trainCommand(argv: string[]): Promise<void> {
  const s = trainSettings(argv);
  check(Number.isInteger(s.sampleLength) && s.sampleLength >= 0 && s.sampleLength <= 100000, `--sample-length must be a whole number from 0 to 100000, got ${s.sampleLength}`);

  let resume: TrainingJob['resume'];
  let resumed: ModelCheckpoint | null = null;
  if (s.resumePath) {
    const r = await loadCheckpointFileBytes(s.resumePath);
    resumed = r.checkpoint;
    checkpointTokenizer(resumed, `checkpoint ${s.resumePath}`, 'it cannot be trained further; train a new model');
    const optimizer = await readOptimizerFile(s.resumePath);
    if (optimizer.note) log(optimizer.note);
    resume = { model: r.bytes, optimizer: optimizer.bytes };
    log(`resuming ${s.resumePath} at step ${resumed.step} (${resumed.config.cell}, hidden ${resumed.config.hiddenSize}, ${resumed.config.numLayers} layer(s)); model options on the command line are ignored`);
  }

  const { rules, filesExclude } = corpusRules(s.corpus, s.dir, log);
  const corpus = readCorpus(s.dir, rules, filesExclude);
  reportSkipped(corpus.skipped, log);
  check(corpus.text.length > 0, corpus.skipped.length ? `no usable text in ${s.dir}: every file was skipped (see above)` : `no text files found in ${s.dir}`);
  log(`read ${corpus.files.length} file(s), ${formatBytes(corpus.bytes)} of text from ${path.resolve(s.dir)}`);
  const text = splitTrainVal(corpus.text, s.valFraction);
  // Recorded in every checkpoint, so `eval` and `eval-completions` can build their baselines from the same text.
  const record = trainingCorpusRecord(s.dir, rules, s.valFraction, text.train);

  const { info, createBackend, gpu, engines } = await chooseBackend(s);

  const job: TrainingJob = {
    runId: 1, text, model: s.model, tokenizer: s.tokenizer, optim: s.optim, batch: s.batch, budget: s.budget,
    checkpointEverySeconds: s.checkpointEverySeconds, evalEverySeconds: s.evalEverySeconds, seed: s.seed, resume,
  };
  const view = new TrainingView(s.out, s.quiet, record);
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    log('\nstopping after this step (press Ctrl+C again to quit without saving)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    await runTrainingJob(job, info, createBackend, (r) => view.onReport(r), abort.signal);
  } finally {
    process.off('SIGINT', onSigint);
    for (const e of engines) e.dispose();
    gpu?.device.destroy();
  }
  const done = await view.finished();
  log(`trained ${done.stepsThisRun} steps in ${formatDuration(done.seconds)} (${done.stoppedBy === 'abort' ? 'stopped' : `${done.stoppedBy} budget reached`}), step ${done.step} in all; checkpoint: ${s.out}`);

  const last = view.lastCheckpoint ? decodeCheckpoint(view.lastCheckpoint, `checkpoint ${s.out}`) : resumed;
  if (s.sampleLength > 0 && last) {
    const tokenizer = checkpointTokenizer(last, `checkpoint ${s.out}`);
    const prime = text.val.slice(0, 80);
    const sample = generateText(new InferenceSession(last.config, last.params), tokenizer, prime, s.sampleLength, { temperature: 0.8, rng: new Rng(s.seed) });
    process.stdout.write(`\n--- sample (temperature 0.8), primed with the first line of the validation text ---\n${prime}${sample}\n---\n\n`);
  }
  if (done.valBitsPerChar !== null && view.lastEval) {
    const e = view.lastEval;
    process.stdout.write(`validation: ${e.bitsPerChar.toFixed(4)} bits per character, ${e.bitsPerToken.toFixed(4)} bits per token (${view.valTokens} held-out tokens, never trained on)\n`);
  }
}

interface ChosenBackend {
  /** Filled in by the time the job's 'started' report is made (a probe decides inside createBackend). */
  info: RunnerInfo;
  createBackend: BackendFactory;
  gpu: GpuContext | null;
  /** The CPU engines made, to end their threads after the job. */
  engines: CpuEngine[];
}

/**
 * The backend for --backend (kernels/backendChoice.ts decides; a line says why). On a hardware GPU with
 * "auto", the decision waits for the model: the factory first times a few steps of it on WebGPU and on
 * the WebAssembly engine (throw-away copies of the parameters), prints both figures and the choice,
 * then makes the faster one.
 */
async function chooseBackend(s: { backend: BackendSetting; threads: number; batch: { seqLen: number; batchSize: number } }): Promise<ChosenBackend> {
  const wasm = wasmFacts();
  let ctx: GpuContext | null = null;
  let gpuFacts: WebGpuFacts | null = null;
  if (s.backend === 'auto' || s.backend === 'webgpu') {
    const r = await createNodeGpuContext();
    ctx = r.ctx;
    if (r.ctx) log(`WebGPU adapter: ${r.ctx.adapterName}`);
    gpuFacts = r.ctx ? { available: true, adapter: r.ctx.adapterName, why: '', software: softwareForAuto(softwareAdapterReason({ description: r.ctx.adapterName })) } : { available: false, adapter: '', why: r.why ?? 'no WebGPU adapter' };
  }
  const d = chooseTrainingBackend(s.backend, gpuFacts, wasm);
  if (!d.ok) {
    ctx?.device.destroy();
    throw new GateScopeError(`--backend ${s.backend}: ${d.error.replace(/Choose the backend "auto" or "wasm"/, 'Use --backend auto or wasm')}`);
  }
  log(`backend: ${d.reason}`);
  if (d.note) log(d.note);
  const engines: CpuEngine[] = [];
  const cpuEngine = (kind: 'wasm' | 'cpu') => {
    const e = kind === 'wasm' ? wasmEngine(s.threads, s.batch) : referenceEngine();
    engines.push(e);
    return e;
  };
  if (d.backend !== 'webgpu' || !ctx) {
    ctx?.device.destroy();
    const e = cpuEngine(d.backend === 'wasm' ? 'wasm' : 'cpu');
    return { info: e.info, createBackend: e.createBackend, gpu: null, engines };
  }
  const gpu = ctx;
  const webgpu = { info: { backend: 'webgpu', adapter: gpu.adapterName } as RunnerInfo, createBackend: ((config, params, optim, opts) => WebGpuBackend.create(gpu, config, params, optim, opts)) as BackendFactory };
  if (!d.probe) return { ...webgpu, gpu, engines };
  const info: RunnerInfo = { ...webgpu.info };
  const createBackend: BackendFactory = async (config, params, optim, opts) => {
    const { seqLen, batchSize } = s.batch;
    const probeOn = (make: BackendFactory) => probeBackend(() => make(config, cloneParams(params), optim, { dropoutSeed: opts.dropoutSeed }), config.vocabSize, seqLen, batchSize);
    const probeWasm = wasmEngine(s.threads, s.batch);
    const wasmTime = await probeOn(probeWasm.createBackend).finally(() => probeWasm.dispose());
    const gpuTime = await probeOn(webgpu.createBackend);
    const c = chooseByProbe({ adapter: gpu.adapterName, threads: s.threads, webgpu: gpuTime, wasm: wasmTime });
    log(`backend: ${c.reason}`);
    const chosen = c.backend === 'webgpu' ? webgpu : cpuEngine(c.backend);
    Object.assign(info, chosen.info);
    return chosen.createBackend(config, params, optim, opts);
  };
  return { info, createBackend, gpu, engines };
}

type Report<K extends TrainingReport['kind']> = Extract<TrainingReport, { kind: K }>;

/** What the terminal shows of a job's reports, and the checkpoint files it writes (in order, one at a time). */
class TrainingView {
  private readonly progress = new ProgressLine();
  private writes: Promise<void> = Promise.resolve();
  private done: Report<'done'> | null = null;
  private error: Report<'error'> | null = null;
  private writeError: Error | undefined;
  lastEval: Report<'eval'> | null = null;
  lastCheckpoint: Uint8Array | null = null;
  valTokens = 0;

  constructor(private readonly out: string, private readonly quiet: boolean, private readonly corpus: TrainingCorpusRecord) {}

  onReport(r: TrainingReport): void {
    switch (r.kind) {
      case 'started': {
        const c = r.config;
        this.valTokens = r.valTokens;
        if (r.note) log(r.note);
        log(`${r.trainTokens} training tokens, ${r.valTokens} validation tokens (the end of the text, never trained on); vocabulary ${c.vocabSize} tokens`);
        log(`model: ${c.cell.toUpperCase()}, ${c.numLayers} layer(s) of ${c.hiddenSize}, embedding ${c.embedSize}, ${formatCount(r.parameters)} parameters; backend ${r.backend} (${r.adapter})`);
        break;
      }
      case 'progress': {
        if (this.quiet) break;
        const val = this.lastEval ? ` | val ${this.lastEval.bitsPerChar.toFixed(3)} bpc` : '';
        this.progress.update(r.fraction, `step ${r.step} | loss ${r.loss.toFixed(3)} | ${r.bitsPerChar.toFixed(3)} bpc${val} | ${formatCount(r.tokensPerSecond)} tok/s | ETA ${formatDuration(r.etaSeconds)}`);
        break;
      }
      case 'eval':
        this.lastEval = r;
        break;
      case 'checkpoint': {
        const { optimizer } = r;
        const model = withCorpusRecord(r.model, this.corpus);
        this.lastCheckpoint = model;
        this.writes = this.writes.then(() => saveCheckpointBytes(this.out, model, optimizer)).catch((e: Error) => {
          this.writeError ??= e;
        });
        break;
      }
      case 'done':
        this.done = r;
        break;
      case 'error':
        this.error = r;
        break;
    }
  }

  /** Once the job has ended: waits for its checkpoint files, and throws its error if it had one. */
  async finished(): Promise<Report<'done'>> {
    this.progress.done();
    await this.writes;
    if (this.writeError) throw new GateScopeError(`could not write the checkpoint ${this.out}: ${this.writeError.message}`);
    if (this.error) {
      const internal = this.error.message.startsWith('internal error: ');
      if (internal) throw new Error(this.error.message.slice('internal error: '.length));
      throw new GateScopeError(this.error.message);
    }
    check(this.done, 'training ended without a result');
    return this.done;
  }
}
