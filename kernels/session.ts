// One training run, from a job description to a stream of reports: build (or restore) the tokenizer
// and the model, tokenize, train with a time/step budget, evaluate, and hand back checkpoints as
// bytes. The same code runs in the webview (WebGPU backend) and in the extension host's CPU worker
// thread, so both produce the same reports, the same checkpoint files and the same step counts; the
// caller only supplies the backend and a sink for reports. No Node or DOM imports.

import { TrainingBackend } from './backend';
import { CellType, ModelConfig, OptimConfig, parameterCount, validateBatchConfig, validateModelConfig, validateOptimConfig } from './config';
import { HistoryPoint, ModelCheckpoint, OptimizerState, checkpointTokenizer, decodeCheckpoint, encodeCheckpoint, encodeOptimizerState, optimizerStateFor } from './checkpoint';
import { TokenizerKind, buildTokenizer, tokenize } from './trainingData';
import { GateScopeError, check } from './errors';
import { ParamMap, initParams } from './params';
import { Tokenizer } from './tokenizer';
import { trainLoop } from './train';

/** The model sizes a job asks for; the vocabulary size comes from the tokenizer. */
export interface ModelSizes {
  cell: CellType;
  hiddenSize: number;
  numLayers: number;
  embedSize: number;
  dropout: number;
}

export interface TrainingJob {
  /** Identifies the run in every report (a stale report from an earlier run is ignored). */
  runId: number;
  /** The corpus, already split: the validation text never trains. */
  text: { train: string; val: string };
  model: ModelSizes;
  tokenizer: { kind: TokenizerKind; vocabSize: number };
  optim: OptimConfig;
  batch: { seqLen: number; batchSize: number };
  /** Seconds for this run and/or a total step count (counting steps before a resume). */
  budget: { maxSeconds?: number; maxSteps?: number };
  checkpointEverySeconds: number;
  evalEverySeconds: number;
  seed: number;
  /** Continue from these checkpoint files (model and optimizer state) instead of a fresh model. */
  resume?: { model: Uint8Array; optimizer?: Uint8Array };
  /** Loss history from before (kept when the resumed checkpoint carries none). */
  history?: HistoryPoint[];
}

/** Where a run computes: the reference CPU engine, the WebAssembly SIMD engine, or WebGPU. */
export type BackendKind = 'cpu' | 'wasm' | 'webgpu';

export type TrainingReport =
  | { kind: 'started'; runId: number; step: number; backend: BackendKind; adapter: string; config: ModelConfig; parameters: number; trainTokens: number; valTokens: number; resumed: boolean; note?: string }
  | { kind: 'progress'; runId: number; step: number; loss: number; bitsPerChar: number; tokensPerSecond: number; elapsedSeconds: number; fraction: number; etaSeconds: number; epoch: number; time: number }
  | { kind: 'eval'; runId: number; step: number; bitsPerChar: number; bitsPerToken: number; time: number }
  | { kind: 'checkpoint'; runId: number; step: number; model: Uint8Array; optimizer: Uint8Array }
  | { kind: 'done'; runId: number; step: number; stepsThisRun: number; seconds: number; stoppedBy: 'steps' | 'time' | 'abort'; valBitsPerChar: number | null }
  | { kind: 'error'; runId: number; step: number; message: string; deviceLost: boolean };

export type BackendFactory = (config: ModelConfig, params: ParamMap, optim: OptimConfig, opts: { dropoutSeed: number; optimizerState?: OptimizerState; startStep?: number }) => Promise<TrainingBackend>;

/** What a runner says about where it computes, for the reports. */
export interface RunnerInfo {
  backend: BackendKind;
  adapter: string;
}

interface Prepared {
  config: ModelConfig;
  params: ParamMap;
  tokenizer: Tokenizer;
  optimizerState?: OptimizerState;
  step: number;
  history: HistoryPoint[];
  note?: string;
}

function prepare(job: TrainingJob): Prepared {
  if (job.resume) {
    const ck = decodeCheckpoint(job.resume.model, 'the checkpoint to resume');
    const tokenizer = checkpointTokenizer(ck, 'the checkpoint to resume', 'train a new model');
    const { state, note } = optimizerStateFor(job.resume.optimizer, ck);
    return { config: ck.config, params: ck.params, tokenizer, optimizerState: state ?? undefined, step: ck.step, history: ck.history ?? job.history ?? [], note };
  }
  const tokenizer = buildTokenizer(job.text.train, { kind: job.tokenizer.kind, vocabSize: job.tokenizer.kind === 'bpe' ? job.tokenizer.vocabSize : undefined });
  const config = validateModelConfig({ ...job.model, vocabSize: tokenizer.vocabSize });
  return { config, params: initParams(config, job.seed), tokenizer, step: 0, history: job.history ?? [] };
}

/**
 * Runs one job to its end (budget reached, `signal` aborted, or an error) and reports as it goes.
 * Never throws: failures become an 'error' report (with `deviceLost` when the GPU went away), after
 * which the last 'checkpoint' report is the state to resume from.
 */
export async function runTrainingJob(job: TrainingJob, info: RunnerInfo, createBackend: BackendFactory, emit: (r: TrainingReport) => void, signal: AbortSignal): Promise<void> {
  const { runId } = job;
  let backend: TrainingBackend | null = null;
  let step = 0;
  try {
    const p = prepare(job);
    step = p.step;
    const optim = validateOptimConfig(job.optim);
    validateBatchConfig(p.config, job.batch);
    const data = tokenize(p.tokenizer, job.text);
    check(data.train.length > job.batch.batchSize * 2, `the training text is too short for batch size ${job.batch.batchSize}: ${data.train.length} tokens`);
    backend = await createBackend(p.config, p.params, optim, { dropoutSeed: job.seed, optimizerState: p.optimizerState, startStep: p.step });
    const b = backend;
    const history = [...p.history];
    const tokenizerJSON = p.tokenizer.toJSON();
    emit({
      kind: 'started', runId, step: p.step, backend: info.backend, adapter: info.adapter, config: p.config,
      parameters: parameterCount(p.config), trainTokens: data.train.length, valTokens: data.val.length, resumed: !!job.resume, note: p.note,
    });
    let lastLoss: number | undefined;
    let lastValBpc: number | null = null; // this run's latest validation measurement
    const checkpoint = async (s: number) => {
      const ck: ModelCheckpoint = { config: p.config, params: await b.getParams(), tokenizer: tokenizerJSON, step: s, optim: { ...optim, ...job.batch }, history };
      const model = encodeCheckpoint(ck);
      const optimizer = encodeOptimizerState(await b.getOptimizerState());
      emit({ kind: 'checkpoint', runId, step: s, model, optimizer });
    };
    const summary = await trainLoop(b, { train: data.train, val: data.val, chars: data.chars }, {
      ...job.batch,
      maxSteps: job.budget.maxSteps,
      maxSeconds: job.budget.maxSeconds,
      signal,
      evalEverySeconds: job.evalEverySeconds,
      evalMaxTokens: 20000,
      checkpointEverySeconds: job.checkpointEverySeconds,
      progressEverySeconds: 0.25,
      onProgress: (pr) => {
        step = pr.step;
        lastLoss = pr.loss;
        emit({
          kind: 'progress', runId, step: pr.step, loss: pr.loss, bitsPerChar: pr.bitsPerChar, tokensPerSecond: pr.tokensPerSecond,
          elapsedSeconds: pr.elapsedSeconds, fraction: pr.fraction, etaSeconds: pr.etaSeconds, epoch: pr.epoch, time: Date.now() / 1000,
        });
      },
      onEval: (s, r) => {
        const time = Date.now() / 1000;
        lastValBpc = r.bitsPerChar;
        history.push({ step: s, trainLoss: lastLoss !== undefined && Number.isFinite(lastLoss) ? lastLoss : undefined, valBpc: r.bitsPerChar, time });
        emit({ kind: 'eval', runId, step: s, bitsPerChar: r.bitsPerChar, bitsPerToken: r.bitsPerToken, time });
      },
      onCheckpoint: async (s) => {
        step = s;
        await checkpoint(s);
      },
    });
    emit({
      kind: 'done', runId, step: summary.steps, stepsThisRun: summary.stepsThisRun, seconds: summary.seconds, stoppedBy: summary.stoppedBy,
      valBitsPerChar: summary.finalEval ? summary.finalEval.bitsPerChar : lastValBpc,
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const deviceLost = /device was lost|device lost/i.test(message);
    emit({ kind: 'error', runId, step, message: e instanceof GateScopeError || deviceLost ? message : `internal error: ${message}`, deviceLost });
  } finally {
    backend?.dispose();
  }
}
