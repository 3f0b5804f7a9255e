// Inline completions on the fixed corpus (issue 11's acceptance 2 and 3): the corpus split into its
// first 95% and last 5% as folders (corpusSplit.ts); `gatescope train` on the 95% with the CLI defaults
// for 180 s, and a hidden-256, 2-layer LSTM for 600 s; then `gatescope eval-completions` of each on the
// 5%: keystrokes saved by the model, the word baseline and the n-gram baseline, the held-out bits per
// character of the model and the n-gram, and the latency with and without the state cache. It runs the
// command line itself (dist/cli.js, or out/cli/gatescope.js), so what it measures is what a user runs.
// Not in the default sections: it trains for about 13 minutes.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeCorpusSplit, CorpusSplit } from './corpusSplit';

export interface CompletionsRunSpec {
  label: string;
  /** `gatescope train` options besides the folder, --out and --time. */
  trainArgs: string[];
  seconds: number;
}

export interface CompletionsRun extends CompletionsRunSpec {
  /** eval-completions' --json object (model, baseline, ngram, files, chars, bitsPerChar, ngramBitsPerChar, latency, ...). */
  result: EvalCompletionsJson;
}

export interface SystemFigures {
  savedPercent: number;
  acceptRate: number;
  shownPer100Chars: number;
  latencyMs: { p50: number; p95: number; p99: number };
}

export interface EvalCompletionsJson {
  model: SystemFigures;
  baseline: SystemFigures;
  ngram: SystemFigures;
  lstmAlone?: SystemFigures;
  files: number;
  chars: number;
  bitsPerChar: number;
  ngramBitsPerChar: number;
  latency?: { cached: { lines: number; requests: number; warmSeconds: number; latencyMs: SystemFigures['latencyMs'] }; uncached: { latencyMs: SystemFigures['latencyMs'] } };
}

export interface CompletionsBenchResult {
  split: CorpusSplit;
  runs: CompletionsRun[];
}

/** The issue's two models: the CLI defaults for 180 s, and a hidden-256, 2-layer LSTM for 600 s. */
export function completionsRunSpecs(defaultSeconds = 180, largeSeconds = 600): CompletionsRunSpec[] {
  return [
    { label: `CLI defaults, ${defaultSeconds} s`, trainArgs: [], seconds: defaultSeconds },
    { label: `LSTM hidden 256, 2 layers, ${largeSeconds} s`, trainArgs: ['--hidden', '256', '--layers', '2'], seconds: largeSeconds },
  ];
}

/** The command line this benchmark runs: the webpack build beside it (dist/), else the tsc build. */
export function cliPath(): string {
  const candidates = [path.join(__dirname, 'cli.js'), path.join(__dirname, '..', 'cli', 'gatescope.js'), path.join(process.cwd(), 'dist', 'cli.js')];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`the gatescope command line was not found (looked in: ${candidates.join(', ')}); run npm run build:cli`);
}

function runCli(args: string[], log: (s: string) => void): string {
  log(`  $ gatescope ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`gatescope ${args[0]} failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r.stdout;
}

/**
 * Splits the corpus, trains each model on the 95% and evaluates its completions on the 5%.
 * `evalArgs` are extra eval-completions options (e.g. --ngram-weight 0.3).
 */
export function benchCompletions(log: (s: string) => void, specs = completionsRunSpecs(), evalArgs: string[] = []): CompletionsBenchResult {
  const split = writeCorpusSplit(path.join('.cache', 'completions-split'));
  log(`completions: ${split.trainDir} (${split.trainFiles} files, ${split.trainChars} chars) / ${split.heldOutDir} (${split.heldOutFiles} files, ${split.heldOutChars} chars)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-completions-'));
  const runs: CompletionsRun[] = [];
  try {
    specs.forEach((spec, i) => {
      const ck = path.join(dir, `model-${i}.safetensors`);
      log(`completions: ${spec.label}: training…`);
      runCli(['train', split.trainDir, ...spec.trainArgs, '--time', String(spec.seconds), '--out', ck, '--quiet', '--sample-length', '0'], log);
      log(`completions: ${spec.label}: eval-completions on the held-out 5%…`);
      const out = runCli(['eval-completions', ck, split.heldOutDir, '--json', ...evalArgs], log);
      const result = JSON.parse(out.trim().split('\n').pop()!) as EvalCompletionsJson;
      runs.push({ ...spec, result });
      log(`completions: ${spec.label}: model ${result.model.savedPercent.toFixed(2)}%, word ${result.baseline.savedPercent.toFixed(2)}%, n-gram ${result.ngram.savedPercent.toFixed(2)}% keystrokes saved`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { split, runs };
}

/** The benchmark's table of the completion figures. */
export function completionsBenchLines(r: CompletionsBenchResult): string[] {
  const out = ['', `Inline completions: trained on the first 95% of the corpus (${r.split.trainChars} chars), replayed on the last 5% (${r.split.heldOutChars} chars in ${r.split.heldOutFiles} files)`, ''];
  const f = (s: SystemFigures) => `${s.savedPercent.toFixed(2).padStart(6)}% saved, ${(100 * s.acceptRate).toFixed(1).padStart(5)}% accepted, ${s.shownPer100Chars.toFixed(2).padStart(6)} shown/100 chars, p50/p95/p99 ${s.latencyMs.p50.toFixed(2)}/${s.latencyMs.p95.toFixed(2)}/${s.latencyMs.p99.toFixed(2)} ms`;
  for (const run of r.runs) {
    const j = run.result;
    out.push(`${run.label}: held-out bits per character ${j.bitsPerChar.toFixed(4)} (n-gram ${j.ngramBitsPerChar.toFixed(4)})`);
    out.push(`  model           ${f(j.model)}`);
    if (j.lstmAlone) out.push(`  model alone     ${f(j.lstmAlone)}`);
    out.push(`  word baseline   ${f(j.baseline)}`, `  n-gram baseline ${f(j.ngram)}`);
    const ratio = j.baseline.savedPercent > 0 ? j.model.savedPercent / j.baseline.savedPercent : NaN;
    out.push(`  model ÷ word baseline ${ratio.toFixed(2)}× (goal ≥ 1.5×: ${ratio >= 1.5 ? 'met' : 'MISSED'}); model − n-gram ${(j.model.savedPercent - j.ngram.savedPercent).toFixed(2)} points (goal > 0: ${j.model.savedPercent > j.ngram.savedPercent ? 'met' : 'MISSED'})`);
    if (j.latency) {
      const c = j.latency.cached;
      const u = j.latency.uncached;
      out.push(`  latency, ${c.lines} lines, ${c.requests} requests after random edits: cache p50/p95/p99 ${c.latencyMs.p50.toFixed(2)}/${c.latencyMs.p95.toFixed(2)}/${c.latencyMs.p99.toFixed(2)} ms (warm ${c.warmSeconds.toFixed(1)} s), no cache ${u.latencyMs.p50.toFixed(2)}/${u.latencyMs.p95.toFixed(2)}/${u.latencyMs.p99.toFixed(2)} ms`);
    }
  }
  return out;
}
