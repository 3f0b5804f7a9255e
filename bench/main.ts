// `npm run bench`: GateScope's CPU engines (WebAssembly SIMD with one thread and with every core, and
// the plain TypeScript reference) beside TensorFlow.js (WASM-SIMD and plain CPU backends) and PyTorch
// (Debian's, with OpenBLAS; 1 and 2 threads), all in one run on the same models, each reported as a
// ratio to GateScope's WebAssembly engine on one thread; then the learning comparisons against
// PyTorch on the npm corpus, and the inspector's figures. The inline completions' evaluation
// (completions.ts: trains two models for about 13 minutes) runs only when asked: --sections completions.
//
//   npm run bench [-- --json] [--sections speed,infer,learn,inspect,completions] [--seconds S] [--rounds R] [--learn-seconds S]
//                    [--only lstm|gru] [--no-tfjs] [--no-torch] [--completions-seconds A,B] [--completions-ngram-weight W]
//   npm run bench -- --backend webgpu [--only lstm|gru] [--seconds S] [--tfjs-steps N] [--no-tfjs]

import { parseArgs } from 'util';
import { BENCH_CONFIGS, BenchConfig, InferRow, TrainRow, configLabel } from './configs';
import { median, ratioOf } from './stats';
import { benchOursInfer, benchOursTrain, benchOursTrainWebGpu } from './ours';
import { benchTfjsWebgpuTrain } from './tfjsWebgpu';
import { createNodeGpuContext } from '../kernels/node/webgpu';
import { benchTfjsInfer, benchTfjsTrain, tfjsInfo } from './tfjs';
import { benchTorch, torchAvailable, torchInfo } from './torch';
import { LearnResult, runLearning } from './learn';
import { InspectBenchResult, benchInspect, inspectBenchLines } from './inspectBench';
import { CompletionsBenchResult, benchCompletions, completionsBenchLines, completionsRunSpecs } from './completions';
import { createWasmBackend } from '../kernels/wasm/backend';
import { defaultVariant, wasmSupport } from '../kernels/wasm/module';

/** The system every ratio is taken against: the WebAssembly engine on one thread. */
const BASE = 'gatescope-wasm-1t';

interface Report {
  machine: { cpus: number; node: string };
  train: TrainRow[];
  infer: InferRow[];
  learning?: LearnResult;
  inspect?: InspectBenchResult;
  completions?: CompletionsBenchResult;
  notes: string[];
}

async function main(): Promise<void> {
  const { values: o } = parseArgs({
    options: {
      json: { type: 'boolean' }, sections: { type: 'string' }, seconds: { type: 'string' }, 'learn-seconds': { type: 'string' },
      only: { type: 'string' }, 'no-tfjs': { type: 'boolean' }, 'no-torch': { type: 'boolean' }, backend: { type: 'string' },
      'tfjs-steps': { type: 'string' }, rounds: { type: 'string' }, 'completions-seconds': { type: 'string' },
      'completions-ngram-weight': { type: 'string' },
    },
  });
  if (o.backend === 'webgpu') return benchWebGpu(o);
  if (o.backend !== undefined && o.backend !== 'cpu') throw new Error(`--backend must be cpu or webgpu, got ${o.backend}`);
  const sections = new Set((o.sections ?? 'speed,infer,learn,inspect').split(','));
  const seconds = Number(o.seconds ?? 3);
  const rounds = Math.max(1, Math.floor(Number(o.rounds ?? 3)));
  if (!Number.isFinite(rounds)) throw new Error(`--rounds must be a whole number ≥ 1, got ${o.rounds}`);
  const learnSeconds = Number(o['learn-seconds'] ?? 180);
  const configs = BENCH_CONFIGS.filter((c) => !o.only || c.cell === o.only);
  const log = (s: string) => process.stderr.write(s + '\n');
  const os = await import('os');
  const report: Report = { machine: { cpus: os.cpus().length, node: process.version }, train: [], infer: [], notes: [] };

  const torch = o['no-torch'] ? { ok: false, why: 'skipped (--no-torch)' } : torchAvailable();
  if (!torch.ok) report.notes.push(`PyTorch: ${torch.why}`);
  else report.notes.push(`PyTorch ${torchInfo().torch ?? ''} with ${(torchInfo().blas ?? []).join(', ') || 'its BLAS'}`);
  const useTfjs = !o['no-tfjs'];
  if (useTfjs) {
    const info = await tfjsInfo();
    report.notes.push(`TensorFlow.js ${info.tfjsVersion}, WASM backend ${info.wasmSimd ? 'with' : 'WITHOUT'} SIMD, ${info.wasmMultithread ? `${info.wasmThreads} threads` : 'one thread'}`);
  }
  const support = wasmSupport();
  if (!support.simd) throw new Error(`WebAssembly SIMD is not available in this Node (${support.reason}): the benchmark compares the WebAssembly engine`);
  const cores = os.cpus().length;
  const wasmThreads = [...new Set([1, cores])];
  report.notes.push(`GateScope: WebAssembly SIMD engine (${defaultVariant()} build) with ${wasmThreads.join(' and ')} thread(s), and the plain TypeScript reference (gatescope-ref), one thread`);

  if (sections.has('speed')) {
    // Interleaved rounds: every system is measured once per round, round after round, and the row
    // holds the median. On a shared VM a neighbour's burst then lands on one sample of each system
    // instead of on the single measurement of one of them (a single 3 s measurement here moved
    // by up to 40%). The slow systems that no goal compares with run once.
    log(`training throughput (${rounds} interleaved rounds of ${seconds} s per measurement; the median is reported)…`);
    for (const cfg of configs) {
      const samples = new Map<string, number[]>();
      const add = (system: string, tokensPerSecond: number, round: number) => {
        if (!samples.has(system)) samples.set(system, []);
        samples.get(system)!.push(tokensPerSecond);
        log(`  ${configLabel(cfg).padEnd(22)} ${system.padEnd(17)} ${tokensPerSecond.toFixed(0).padStart(8)} tok/s  (round ${round + 1})`);
      };
      for (let round = 0; round < rounds; round++) {
        for (const threads of wasmThreads) add(`gatescope-wasm-${threads}t`, await benchOursTrain(cfg, seconds, { kind: 'wasm', threads }), round);
        if (round === 0) add('gatescope-ref', await benchOursTrain(cfg, seconds), round);
        if (useTfjs) {
          add('tfjs-wasm', await benchTfjsTrain('wasm', cfg, { minSeconds: seconds }), round);
          if (round === 0) add('tfjs-cpu', await benchTfjsTrain('cpu', cfg, { minSeconds: Math.min(seconds, 2), minSteps: 1 }), round);
        }
        if (torch.ok) {
          for (const threads of [1, 2] as const) for (const r of benchTorch([cfg], threads, seconds, false).train) add(r.system, r.tokensPerSecond, round);
        }
      }
      const base = samples.get(BASE)!;
      for (const [system, xs] of samples) {
        report.train.push({ system, cell: cfg.cell, hidden: cfg.hidden, layers: cfg.layers, seq: cfg.seq, batch: cfg.batch, tokensPerSecond: median(xs), samples: xs, ratioOfBase: ratioOf(base, xs) });
      }
    }
  }
  if (sections.has('infer')) {
    log('inference latency (batch 1)…');
    for (const cfg of configs) {
      const add = (system: string, r: { msPerToken: number; msContext256: number }) => {
        report.infer.push({ system, cell: cfg.cell, hidden: cfg.hidden, layers: cfg.layers, ...r });
        log(`  ${`${cfg.cell} h${cfg.hidden} L${cfg.layers}`.padEnd(14)} ${system.padEnd(11)} ${r.msPerToken.toFixed(3).padStart(8)} ms/token  ${r.msContext256.toFixed(1).padStart(8)} ms per 256-token context`);
      };
      add('gatescope-wasm', benchOursInfer(cfg, 1, 'wasm'));
      add('gatescope-ref', benchOursInfer(cfg, 1, 'cpu'));
      if (useTfjs) {
        add('tfjs-wasm', await benchTfjsInfer('wasm', cfg, { minSeconds: 1 }));
        add('tfjs-cpu', await benchTfjsInfer('cpu', cfg, { minSeconds: 1 }));
      }
      if (torch.ok) for (const r of benchTorch([cfg], 1, 1, true, 1).infer) add(r.system, r);
    }
  }
  if (sections.has('learn')) {
    if (!torch.ok) log(`learning comparison without PyTorch: ${torch.why}`);
    report.learning = await runLearning(learnSeconds, log, {
      name: 'WebAssembly engine',
      create: (config, params, optim, opts) => createWasmBackend(config, params, optim, opts),
      dispose: () => undefined,
    });
  }
  if (sections.has('inspect')) report.inspect = await benchInspect(log);
  if (sections.has('completions')) {
    const [a, b] = (o['completions-seconds'] ?? '180,600').split(',').map(Number);
    if (!(a > 0 && b > 0)) throw new Error(`--completions-seconds must be two positive numbers A,B, got ${o['completions-seconds']}`);
    const w = o['completions-ngram-weight'];
    report.completions = benchCompletions(log, completionsRunSpecs(a, b), w === undefined ? [] : ['--ngram-weight', w]);
  }

  if (o.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
  } else {
    printTables(report, configs);
  }
}

/**
 * `--backend webgpu`: our WebGPU backend and TensorFlow.js's WebGPU backend on the same models, on
 * the same adapter, in the same run (Dawn in Node; SwiftShader when there is no GPU).
 */
async function benchWebGpu(o: { json?: boolean; seconds?: string; only?: string; 'no-tfjs'?: boolean; 'tfjs-steps'?: string }): Promise<void> {
  const log = (s: string) => process.stderr.write(s + '\n');
  const { ctx, why } = await createNodeGpuContext();
  if (!ctx) throw new Error(`no WebGPU adapter: ${why}`);
  const seconds = Number(o.seconds ?? 5);
  const configs = BENCH_CONFIGS.filter((c) => !o.only || c.cell === o.only);
  const rows: (TrainRow & { firstStepSeconds: number })[] = [];
  log(`WebGPU adapter: ${ctx.adapterName}`);
  for (const cfg of configs) {
    const ours = await benchOursTrainWebGpu(ctx, cfg, seconds);
    rows.push({ system: 'gatescope-webgpu', cell: cfg.cell, hidden: cfg.hidden, layers: cfg.layers, seq: cfg.seq, batch: cfg.batch, ...ours });
    log(`  ${configLabel(cfg).padEnd(22)} gatescope-webgpu ${ours.tokensPerSecond.toFixed(0).padStart(8)} tok/s (first step, with pipeline compiles: ${ours.firstStepSeconds.toFixed(1)} s)`);
    if (!o['no-tfjs']) {
      const t = await benchTfjsWebgpuTrain(cfg, { warmSteps: Number(o['tfjs-steps'] ?? 2), maxSeconds: 60 });
      rows.push({ system: 'tfjs-webgpu', cell: cfg.cell, hidden: cfg.hidden, layers: cfg.layers, seq: cfg.seq, batch: cfg.batch, tokensPerSecond: t.tokensPerSecond, firstStepSeconds: t.firstStepSeconds });
      log(`  ${configLabel(cfg).padEnd(22)} tfjs-webgpu      ${t.tokensPerSecond.toFixed(0).padStart(8)} tok/s (first step ${t.firstStepSeconds.toFixed(1)} s; ${t.steps} timed steps) → GateScope ÷ TF.js = ${(ours.tokensPerSecond / t.tokensPerSecond).toFixed(1)}×`);
    }
  }
  if (o.json) {
    process.stdout.write(JSON.stringify({ adapter: ctx.adapterName, train: rows }) + '\n');
  } else {
    const out = [`# WebGPU adapter: ${ctx.adapterName}`, '', 'Training throughput on WebGPU, tokens/s (ratio = GateScope ÷ TF.js)', ''];
    for (const cfg of configs) {
      const mine = rows.find((r) => r.system === 'gatescope-webgpu' && r.cell === cfg.cell && r.hidden === cfg.hidden && r.layers === cfg.layers);
      const tf = rows.find((r) => r.system === 'tfjs-webgpu' && r.cell === cfg.cell && r.hidden === cfg.hidden && r.layers === cfg.layers);
      out.push(`${configLabel(cfg).padEnd(24)} gatescope ${mine!.tokensPerSecond.toFixed(0).padStart(8)}   tfjs-webgpu ${tf ? `${tf.tokensPerSecond.toFixed(0).padStart(8)} (${(mine!.tokensPerSecond / tf.tokensPerSecond).toFixed(1)}×)` : '-'}`);
    }
    process.stdout.write(out.join('\n') + '\n');
  }
  ctx.device.destroy();
}

function printTables(r: Report, configs: BenchConfig[]): void {
  const out: string[] = [];
  for (const n of r.notes) out.push(`# ${n}`);
  if (r.train.length) {
    const systems = [...new Set(r.train.map((x) => x.system))];
    out.push('', `Training throughput, tokens/s, median of the interleaved rounds (ratio = ${BASE} ÷ system, the median of the rounds' ratios; [min–max] of ${BASE}'s rounds)`, '');
    out.push(['config'.padEnd(24), ...systems.map((s) => s.padStart(22))].join(''));
    for (const cfg of configs) {
      const rows = r.train.filter((x) => x.cell === cfg.cell && x.hidden === cfg.hidden && x.layers === cfg.layers && x.seq === cfg.seq && x.batch === cfg.batch);
      if (!rows.length) continue;
      out.push([configLabel(cfg).padEnd(24), ...systems.map((s) => {
        const row = rows.find((x) => x.system === s);
        if (row === undefined) return '-'.padStart(22);
        const v = row.tokensPerSecond;
        const range = row.samples && row.samples.length > 1 ? ` [${Math.min(...row.samples).toFixed(0)}–${Math.max(...row.samples).toFixed(0)}]` : '';
        return (s === BASE ? `${v.toFixed(0)}${range}` : `${v.toFixed(0)} (${(row.ratioOfBase ?? NaN).toFixed(2)}×)`).padStart(22);
      })].join(''));
    }
  }
  if (r.infer.length) {
    const systems = [...new Set(r.infer.map((x) => x.system))];
    out.push('', 'Inference latency, batch 1: ms per token from a cached state | ms for a 256-token context (ratio = system ÷ gatescope-wasm time)', '');
    out.push(['model'.padEnd(16), ...systems.map((s) => s.padStart(30))].join(''));
    const keys = [...new Set(r.infer.map((x) => `${x.cell} h${x.hidden} L${x.layers}`))];
    for (const k of keys) {
      const rows = r.infer.filter((x) => `${x.cell} h${x.hidden} L${x.layers}` === k);
      const ours = rows.find((x) => x.system === 'gatescope-wasm')!;
      out.push([k.padEnd(16), ...systems.map((s) => {
        const v = rows.find((x) => x.system === s);
        if (!v) return '-'.padStart(30);
        const txt = s === 'gatescope-wasm' ? `${v.msPerToken.toFixed(3)} | ${v.msContext256.toFixed(1)}`
          : `${v.msPerToken.toFixed(3)} (${(v.msPerToken / ours.msPerToken).toFixed(2)}×) | ${v.msContext256.toFixed(1)} (${(v.msContext256 / ours.msContext256).toFixed(2)}×)`;
        return txt.padStart(30);
      })].join(''));
    }
  }
  if (r.learning) {
    const l = r.learning;
    out.push('', `Learning: ${l.config.cell} hidden ${l.config.hiddenSize}, ${l.config.tokenizer} tokenizer (${l.config.vocabSize} tokens), batch ${l.config.batchSize} × ${l.config.seqLen}, Adam ${l.config.learningRate}, clip ${l.config.clipNorm}`);
    out.push(`  corpus ${l.corpus.bytes} bytes, sha256 ${l.corpus.sha256}`);
    out.push(`  reference: ${l.steps} steps in ${l.seconds.toFixed(0)} s → validation ${l.ours.valBitsPerChar.toFixed(4)} bits/char`);
    if ('error' in l.pytorch) out.push(`  PyTorch: ${l.pytorch.error}`);
    else out.push(`  PyTorch:   ${l.steps} steps in ${l.pytorch.seconds.toFixed(0)} s → validation ${l.pytorch.valBitsPerChar.toFixed(4)} bits/char   (reference ÷ PyTorch = ${l.ratio!.toFixed(3)})`);
    if (l.sameTime) {
      const t = l.sameTime;
      out.push(`  Same wall clock, ${t.seconds} s each, one thread:`);
      out.push(`    ${t.engine}: ${t.wasm.steps} steps → validation ${t.wasm.valBitsPerChar.toFixed(4)} bits/char`);
      if ('error' in t.pytorch) out.push(`    PyTorch: ${t.pytorch.error}`);
      else out.push(`    PyTorch: ${t.pytorch.steps} steps → validation ${t.pytorch.valBitsPerChar.toFixed(4)} bits/char   (${t.engine} ÷ PyTorch = ${t.ratio!.toFixed(3)}; goal ≤ 1.05)`);
      out.push(`    reference: ${l.steps} steps → validation ${l.ours.valBitsPerChar.toFixed(4)} bits/char`);
    }
  }
  if (r.inspect) out.push(...inspectBenchLines(r.inspect));
  if (r.completions) out.push(...completionsBenchLines(r.completions));
  process.stdout.write(out.join('\n') + '\n');
}

main().then(() => process.exit(process.exitCode ?? 0)).catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
