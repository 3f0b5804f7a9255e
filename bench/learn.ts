// Learning: train the default CLI model on the fixed npm corpus on the CPU and compare with PyTorch
// (one thread each, same initial weights, same token streams and window order):
//  - parity: the reference CPU engine for a time budget, then PyTorch for the same number of steps
//    (same arithmetic, so the validation bits per character should agree);
//  - same wall clock: the WebAssembly engine and PyTorch each for the same time budget (what a user
//    gets from a minute or three of training on each), when a WebAssembly engine is given.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { TrainingBackend } from '../kernels/backend';
import { encodeCheckpoint } from '../kernels/checkpoint';
import { DEFAULT_OPTIM, DEFAULT_TRAINING, ModelConfig, OptimConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { buildTokenizer, splitTrainVal, tokenize } from '../kernels/trainingData';
import { ParamMap, initParams } from '../kernels/params';
import { trainLoop } from '../kernels/train';
import { buildNpmCorpus } from './corpus';
import { TORCH_PYTHON, torchEnv, torchScriptPath } from './torch';

type TorchOutcome = { valBitsPerChar: number; valTargets: number; seconds: number; steps: number } | { error: string };

export interface LearnResult {
  corpus: { path: string; bytes: number; sha256: string };
  config: ModelConfig & { seqLen: number; batchSize: number; learningRate: number; clipNorm: number; tokenizer: string };
  steps: number;
  seconds: number;
  ours: { valBitsPerChar: number; valTokens: number; valChars: number };
  pytorch: TorchOutcome;
  /** ours / pytorch validation bits per character (1 = equal; within 1.1 passes). */
  ratio?: number;
  /** The same-wall-clock comparison: the WebAssembly engine and PyTorch, each for `seconds`. */
  sameTime?: {
    seconds: number;
    engine: string;
    wasm: { steps: number; seconds: number; valBitsPerChar: number };
    pytorch: TorchOutcome;
    /** wasm / pytorch validation bits per character (goal: at most 1.05). */
    ratio?: number;
  };
}

/** Makes the WebAssembly engine's backend for the learning run (one thread), and says what it is. */
export interface WasmLearner {
  name: string;
  create(config: ModelConfig, params: ParamMap, optim: OptimConfig, opts: { dropoutSeed: number }): TrainingBackend;
  dispose(): void;
}

export async function runLearning(seconds: number, log: (s: string) => void, wasm?: WasmLearner): Promise<LearnResult> {
  const corpusPath = path.resolve('.cache', 'corpus', 'npm-1mb.txt');
  const info = buildNpmCorpus(corpusPath);
  const text = fs.readFileSync(corpusPath, 'utf8');
  const split = splitTrainVal(text, DEFAULT_TRAINING.valFraction);
  const tokenizer = buildTokenizer(split.train, { kind: DEFAULT_TRAINING.tokenizer });
  const data = tokenize(tokenizer, split);
  const d = DEFAULT_TRAINING;
  const config: ModelConfig = { cell: d.cell, vocabSize: tokenizer.vocabSize, embedSize: d.embedSize, hiddenSize: d.hiddenSize, numLayers: d.numLayers, dropout: d.dropout };
  const params0 = initParams(config, 1);
  log(`learning: corpus ${info.bytes} bytes from ${info.files} files (sha256 ${info.sha256.slice(0, 16)}…), ${data.train.length} train / ${data.val.length} val tokens; ${d.cell} hidden ${d.hiddenSize}, ${seconds} s per run, one thread each`);

  const trainOurs = async (name: string, backend: TrainingBackend) => {
    let lastLog = 0;
    const summary = await trainLoop(backend, data, {
      seqLen: d.seqLen, batchSize: d.batchSize, maxSeconds: seconds, yieldEveryStep: false,
      onProgress: (p) => {
        if (p.elapsedSeconds - lastLog >= 30) {
          lastLog = p.elapsedSeconds;
          log(`  ${name}: step ${p.step}, loss ${p.loss.toFixed(3)}, ${p.tokensPerSecond.toFixed(0)} tok/s`);
        }
      },
    });
    const ev = summary.finalEval!;
    log(`  ${name}: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s, validation ${ev.bitsPerChar.toFixed(4)} bpc`);
    return { summary, ev };
  };

  const ref = await trainOurs('reference', new CpuBackend(config, params0, DEFAULT_OPTIM, { dropoutSeed: 1 }));
  const result: LearnResult = {
    corpus: { path: info.path, bytes: info.bytes, sha256: info.sha256 },
    config: { ...config, seqLen: d.seqLen, batchSize: d.batchSize, learningRate: DEFAULT_OPTIM.learningRate, clipNorm: DEFAULT_OPTIM.clipNorm, tokenizer: d.tokenizer },
    steps: ref.summary.steps,
    seconds: ref.summary.seconds,
    ours: { valBitsPerChar: ref.ev.bitsPerChar, valTokens: ref.ev.tokens, valChars: ref.ev.chars },
    pytorch: { error: 'not run' },
  };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-learn-'));
  try {
    const ck = path.join(dir, 'init.safetensors');
    fs.writeFileSync(ck, encodeCheckpoint({ config, params: params0, step: 0 }));
    const trainFile = path.join(dir, 'train.i32');
    const valFile = path.join(dir, 'val.i32');
    fs.writeFileSync(trainFile, new Uint8Array(data.train.buffer, data.train.byteOffset, data.train.byteLength));
    fs.writeFileSync(valFile, new Uint8Array(data.val.buffer, data.val.byteOffset, data.val.byteLength));
    const runTorch = (budget: { steps: number } | { seconds: number }): TorchOutcome => {
      const job = {
        checkpoint: ck, trainTokens: trainFile, valTokens: valFile,
        steps: 'steps' in budget ? budget.steps : 1e9, seconds: 'seconds' in budget ? budget.seconds : null,
        batch: d.batchSize, seq: d.seqLen, lr: DEFAULT_OPTIM.learningRate, beta1: DEFAULT_OPTIM.beta1, beta2: DEFAULT_OPTIM.beta2,
        eps: DEFAULT_OPTIM.eps, clip: DEFAULT_OPTIM.clipNorm, dropout: config.dropout, cell: config.cell, vocab: config.vocabSize,
        embed: config.embedSize, hidden: config.hiddenSize, layers: config.numLayers, threads: 1, logEvery: 1000000,
      };
      const jobFile = path.join(dir, 'job.json');
      fs.writeFileSync(jobFile, JSON.stringify(job));
      const r = spawnSync(TORCH_PYTHON, [torchScriptPath('torch_learn.py'), jobFile], { encoding: 'utf8', env: torchEnv(1), timeout: 3600_000 });
      if (r.status !== 0) return { error: `PyTorch run failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      if (out.valTargets !== ref.ev.tokens) throw new Error(`PyTorch evaluated ${out.valTargets} targets, we evaluated ${ref.ev.tokens}`);
      return { valBitsPerChar: out.valNats / Math.LN2 / ref.ev.chars, valTargets: out.valTargets, seconds: out.seconds, steps: out.steps };
    };

    const parity = runTorch({ steps: ref.summary.steps });
    result.pytorch = parity;
    if (!('error' in parity)) {
      result.ratio = ref.ev.bitsPerChar / parity.valBitsPerChar;
      log(`  PyTorch: same ${parity.steps} steps in ${parity.seconds.toFixed(0)} s, validation ${parity.valBitsPerChar.toFixed(4)} bpc; reference/PyTorch = ${result.ratio.toFixed(3)}`);
    } else log(`  PyTorch: ${parity.error}`);

    if (wasm) {
      const w = await trainOurs(wasm.name, wasm.create(config, params0, DEFAULT_OPTIM, { dropoutSeed: 1 }));
      wasm.dispose();
      const torch = runTorch({ seconds });
      result.sameTime = {
        seconds, engine: wasm.name,
        wasm: { steps: w.summary.steps, seconds: w.summary.seconds, valBitsPerChar: w.ev.bitsPerChar },
        pytorch: torch,
      };
      if (!('error' in torch)) {
        result.sameTime.ratio = w.ev.bitsPerChar / torch.valBitsPerChar;
        log(`  PyTorch: ${torch.steps} steps in ${torch.seconds.toFixed(0)} s, validation ${torch.valBitsPerChar.toFixed(4)} bpc; ${wasm.name}/PyTorch at the same time = ${result.sameTime.ratio.toFixed(3)}`);
      } else log(`  PyTorch (same time): ${torch.error}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
