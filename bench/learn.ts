// Learning parity: train the default CLI model on the fixed npm corpus for a time budget on the CPU,
// then train the same model in PyTorch from the same initial weights on the same token streams for
// the same number of steps, and compare validation bits per character.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { encodeCheckpoint } from '../kernels/checkpoint';
import { DEFAULT_OPTIM, DEFAULT_TRAINING, ModelConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { buildTokenizer, splitTrainVal, tokenize } from '../kernels/trainingData';
import { initParams } from '../kernels/params';
import { trainLoop } from '../kernels/train';
import { buildNpmCorpus } from './corpus';
import { TORCH_PYTHON, torchEnv, torchScriptPath } from './torch';

export interface LearnResult {
  corpus: { path: string; bytes: number; sha256: string };
  config: ModelConfig & { seqLen: number; batchSize: number; learningRate: number; clipNorm: number; tokenizer: string };
  steps: number;
  seconds: number;
  ours: { valBitsPerChar: number; valTokens: number; valChars: number };
  pytorch: { valBitsPerChar: number; valTargets: number; seconds: number } | { error: string };
  /** ours / pytorch validation bits per character (1 = equal; within 1.1 passes). */
  ratio?: number;
}

export async function runLearning(seconds: number, log: (s: string) => void): Promise<LearnResult> {
  const corpusPath = path.resolve('.cache', 'corpus', 'npm-1mb.txt');
  const info = buildNpmCorpus(corpusPath);
  const text = fs.readFileSync(corpusPath, 'utf8');
  const split = splitTrainVal(text, DEFAULT_TRAINING.valFraction);
  const tokenizer = buildTokenizer(split.train, { kind: DEFAULT_TRAINING.tokenizer });
  const data = tokenize(tokenizer, split);
  const d = DEFAULT_TRAINING;
  const config: ModelConfig = { cell: d.cell, vocabSize: tokenizer.vocabSize, embedSize: d.embedSize, hiddenSize: d.hiddenSize, numLayers: d.numLayers, dropout: d.dropout };
  const params0 = initParams(config, 1);
  const backend = new CpuBackend(config, params0, DEFAULT_OPTIM, { dropoutSeed: 1 });
  log(`learning: corpus ${info.bytes} bytes from ${info.files} files (sha256 ${info.sha256.slice(0, 16)}…), ${data.train.length} train / ${data.val.length} val tokens; ${d.cell} hidden ${d.hiddenSize}, ${seconds} s on the CPU`);
  let lastLog = 0;
  const summary = await trainLoop(backend, data, {
    seqLen: d.seqLen, batchSize: d.batchSize, maxSeconds: seconds, yieldEveryStep: false,
    onProgress: (p) => {
      if (p.elapsedSeconds - lastLog >= 30) {
        lastLog = p.elapsedSeconds;
        log(`  ours: step ${p.step}, loss ${p.loss.toFixed(3)}, ${p.tokensPerSecond.toFixed(0)} tok/s`);
      }
    },
  });
  const ours = summary.finalEval!;
  log(`  ours: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s, validation ${ours.bitsPerChar.toFixed(4)} bpc`);
  const result: LearnResult = {
    corpus: { path: info.path, bytes: info.bytes, sha256: info.sha256 },
    config: { ...config, seqLen: d.seqLen, batchSize: d.batchSize, learningRate: DEFAULT_OPTIM.learningRate, clipNorm: DEFAULT_OPTIM.clipNorm, tokenizer: d.tokenizer },
    steps: summary.steps,
    seconds: summary.seconds,
    ours: { valBitsPerChar: ours.bitsPerChar, valTokens: ours.tokens, valChars: ours.chars },
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
    const job = {
      checkpoint: ck, trainTokens: trainFile, valTokens: valFile, steps: summary.steps,
      batch: d.batchSize, seq: d.seqLen, lr: DEFAULT_OPTIM.learningRate, beta1: DEFAULT_OPTIM.beta1, beta2: DEFAULT_OPTIM.beta2,
      eps: DEFAULT_OPTIM.eps, clip: DEFAULT_OPTIM.clipNorm, dropout: config.dropout, cell: config.cell, vocab: config.vocabSize,
      embed: config.embedSize, hidden: config.hiddenSize, layers: config.numLayers, threads: 1, logEvery: 1000000,
    };
    const jobFile = path.join(dir, 'job.json');
    fs.writeFileSync(jobFile, JSON.stringify(job));
    const r = spawnSync(TORCH_PYTHON, [torchScriptPath('torch_learn.py'), jobFile], { encoding: 'utf8', env: torchEnv(1), timeout: 3600_000 });
    if (r.status !== 0) {
      result.pytorch = { error: `PyTorch run failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
      return result;
    }
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    if (out.valTargets !== ours.tokens) throw new Error(`PyTorch evaluated ${out.valTargets} targets, we evaluated ${ours.tokens}`);
    const bpc = out.valNats / Math.LN2 / ours.chars;
    result.pytorch = { valBitsPerChar: bpc, valTargets: out.valTargets, seconds: out.seconds };
    result.ratio = ours.bitsPerChar / bpc;
    log(`  PyTorch: same ${summary.steps} steps in ${out.seconds.toFixed(0)} s, validation ${bpc.toFixed(4)} bpc; ours/PyTorch = ${result.ratio.toFixed(3)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
