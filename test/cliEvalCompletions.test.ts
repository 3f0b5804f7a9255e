// `gatescope eval-completions` end to end: a tiny model trained by the CLI on a generated folder, replayed
// on a held-out folder (CRLF and an emoji included). The CLI's figures equal an in-process replay of the
// same engine, word baseline and n-gram built here from the checkpoint's recorded training corpus; the
// options reach the engine; the n-gram mixture reports the model alone too; the cache changes nothing
// but time; the held-out bits per character match `gatescope eval` and the n-gram's own; --json prints
// exactly one object; bad input is a one-line error.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkpointTokenizer, encodeCheckpoint } from '../kernels/checkpoint';
import { CompletionEngine } from '../kernels/complete/engine';
import { KneserNeyModel } from '../kernels/complete/ngram';
import { ReplaySystem, SystemReport, engineSystem, ngramSystem, replay, wordSystem } from '../kernels/complete/replay';
import { DEFAULT_CACHE, DEFAULT_DECODE, DEFAULT_NGRAM_WEIGHT, DecodeOptions } from '../kernels/complete/types';
import { WordCompletion } from '../kernels/complete/wordCompletion';
import { ModelConfig } from '../kernels/config';
import { InferenceSession } from '../kernels/infer';
import { loadCheckpointFile } from '../kernels/node/checkpointFiles';
import { initParams } from '../kernels/params';
import { buildTokenizer } from '../kernels/trainingData';
import { readFolderCorpus } from '../cli/corpusOptions';
import { trainingText } from '../cli/trainingCorpus';
import { assertCleanError, runCli } from './cliRun';

/** Source-like text with repeated identifiers, so a tiny model and the baselines have something to complete. */
function codeText(seed: number, functions: number, crlf = false): string {
  const names = ['total', 'count', 'result', 'value', 'items', 'index'];
  const lines: string[] = [];
  for (let i = 0; i < functions; i++) {
    const a = names[(i * 7 + seed) % names.length];
    const b = names[(i * 3 + seed + 1) % names.length];
    lines.push(`function update${a[0].toUpperCase()}${a.slice(1)}${i % 5}(${a}, ${b}) {`, `  const ${a}Next = ${a} + ${b} * ${(i + seed) % 9};`, `  return ${a}Next;`, '}', '');
  }
  return lines.join(crlf ? '\r\n' : '\n');
}

const SYSTEM_FIELDS = ['acceptRate', 'latencyMs', 'savedPercent', 'shownPer100Chars'];

describe('gatescope eval-completions', function () {
  this.timeout(240000);
  let tmp: string;
  let trainDir: string;
  let heldDir: string;
  let ck: string;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-evalcomp-'));
    trainDir = path.join(tmp, 'train');
    heldDir = path.join(tmp, 'held');
    fs.mkdirSync(path.join(trainDir, 'src'), { recursive: true });
    fs.mkdirSync(path.join(heldDir, 'src'), { recursive: true });
    for (let f = 0; f < 4; f++) fs.writeFileSync(path.join(trainDir, 'src', `part${f}.js`), codeText(f, 60));
    fs.writeFileSync(path.join(heldDir, 'src', 'a.js'), codeText(11, 6));
    fs.writeFileSync(path.join(heldDir, 'src', 'b.js'), `// émoji 😀 ok\r\n${codeText(5, 4, true)}`);
    ck = path.join(tmp, 'model.safetensors');
    const r = runCli(['train', trainDir, '--hidden', '16', '--embed', '8', '--steps', '120', '--out', ck, '--quiet', '--sample-length', '0', '--backend', 'wasm', '--threads', '1'], 180000);
    assert.strictEqual(r.code, 0, r.stderr);
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function runJson(args: string[]) {
    const r = runCli(['eval-completions', ck, heldDir, '--json', ...args], 180000);
    assert.strictEqual(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.strictEqual(lines.length, 1, `stdout must be exactly one JSON line, got: ${r.stdout}`);
    return { j: JSON.parse(lines[0]), stderr: r.stderr };
  }

  /** The replay done here, with the same parts the CLI should have built. */
  async function inProcess(options: DecodeOptions, weight: number, useCache: boolean): Promise<Map<string, SystemReport>> {
    const c = await loadCheckpointFile(ck);
    const tokenizer = checkpointTokenizer(c, 'test');
    const training = trainingText(c);
    const ngram = KneserNeyModel.build(training.text, 7);
    const session = new InferenceSession(c.config, c.params);
    const corpus = readFolderCorpus({}, heldDir, () => undefined);
    const files = corpus.spans.map((s) => corpus.text.slice(s.start, s.end));
    const systems: ReplaySystem[] = [
      engineSystem('model', new CompletionEngine({ session, tokenizer, ngram, ngramWeight: weight }, DEFAULT_CACHE), options, useCache),
      wordSystem(new WordCompletion(training.text), 'baseline'),
      ngramSystem(ngram, options, 'ngram'),
    ];
    if (weight > 0) systems.push(engineSystem('lstmAlone', new CompletionEngine({ session, tokenizer }, DEFAULT_CACHE), options, useCache));
    return new Map(replay(files, systems).map((r) => [r.name, r]));
  }

  function sameCounts(j: Record<string, any>, want: Map<string, SystemReport>, names: string[]) {
    for (const name of names) {
      const w = want.get(name)!;
      assert.deepStrictEqual(j.counts[name], { shown: w.shown, accepted: w.accepted, keystrokes: w.keystrokes, saved: w.saved, requests: w.requests }, `${name}: counts`);
      const figures = j[name];
      assert.deepStrictEqual(Object.keys(figures).sort(), SYSTEM_FIELDS, `${name}: fields`);
      assert.strictEqual(figures.savedPercent, w.savedPercent, `${name}: savedPercent`);
      assert.strictEqual(figures.acceptRate, w.acceptRate, `${name}: acceptRate`);
      assert.strictEqual(figures.shownPer100Chars, w.shownPer100Chars, `${name}: shownPer100Chars`);
      assert.deepStrictEqual(Object.keys(figures.latencyMs).sort(), ['p50', 'p95', 'p99']);
      assert.ok(figures.latencyMs.p50 <= figures.latencyMs.p95 && figures.latencyMs.p95 <= figures.latencyMs.p99, `${name}: percentiles ordered`);
    }
  }

  it('--json: one object with the issue\'s fields, the same figures as the replay done here, the options honoured', async () => {
    const args = ['--min-confidence', '0.05', '--stop', 'identifier', '--beam', '2', '--max-chars', '12', '--latency-requests', '0'];
    const { j, stderr } = runJson(args);
    assert.match(stderr, /replaying 2 file\(s\)/);
    for (const k of ['model', 'baseline', 'ngram', 'files', 'chars']) assert.ok(k in j, `missing ${k}`);
    assert.strictEqual(j.files, 2);
    const held = ['a.js', 'b.js'].map((f) => fs.readFileSync(path.join(heldDir, 'src', f), 'utf8'));
    assert.strictEqual(j.chars, held.reduce((n, t) => n + Array.from(t).length, 0));
    assert.ok('lstmAlone' in j && !('latency' in j), 'the default mixes the n-gram in, so the model alone is reported too');
    const options: DecodeOptions = { ...DEFAULT_DECODE, minConfidence: 0.05, stopAt: 'identifier', beamWidth: 2, maxChars: 12 };
    const want = await inProcess(options, DEFAULT_NGRAM_WEIGHT, true);
    sameCounts(j, want, ['model', 'baseline', 'ngram', 'lstmAlone']);
    // Something was shown and accepted by each, so the comparison above says something.
    for (const name of ['model', 'baseline', 'ngram']) assert.ok(want.get(name)!.accepted > 0, `${name} accepted nothing`);
    // The options matter here: the defaults give other figures.
    const defaults = await inProcess({ ...DEFAULT_DECODE, minConfidence: 0.05 }, DEFAULT_NGRAM_WEIGHT, true);
    assert.notDeepStrictEqual([defaults.get('model')!.saved, defaults.get('ngram')!.saved], [want.get('model')!.saved, want.get('ngram')!.saved]);
  });

  it('bits per character: the model\'s as `gatescope eval` gives it, the n-gram\'s from the training text', async () => {
    const { j } = runJson(['--latency-requests', '0']);
    const ev = runCli(['eval', ck, heldDir, '--json']);
    assert.strictEqual(ev.code, 0, ev.stderr);
    const bpc = JSON.parse(ev.stdout).bitsPerChar;
    assert.ok(Math.abs(j.bitsPerChar - bpc) <= 1e-9, `model ${j.bitsPerChar} vs eval ${bpc}`);
    const c = await loadCheckpointFile(ck);
    const corpus = readFolderCorpus({}, heldDir, () => undefined);
    const want = KneserNeyModel.build(trainingText(c).text, 7).bitsPerChar(corpus.text);
    assert.ok(Math.abs(j.ngramBitsPerChar - want) <= 1e-12, `n-gram ${j.ngramBitsPerChar} vs ${want}`);
    assert.strictEqual(j.ngramOrder, 7);
  });

  it('--ngram-weight mixes the n-gram into the model and reports the model alone as lstmAlone; --no-cache changes nothing but time', async () => {
    const { j } = runJson(['--min-confidence', '0.05', '--ngram-weight', '0.5', '--no-cache', '--latency-requests', '0']);
    assert.ok('lstmAlone' in j);
    assert.strictEqual(j.options.ngramWeight, 0.5);
    assert.strictEqual(j.options.useCache, false);
    const options: DecodeOptions = { ...DEFAULT_DECODE, minConfidence: 0.05 };
    const withCache = await inProcess(options, 0.5, true);
    sameCounts(j, withCache, ['model', 'baseline', 'ngram', 'lstmAlone']);
    assert.notDeepStrictEqual(j.counts.model, j.counts.lstmAlone, 'the mixture changed nothing');
  });

  it('the latency run: with and without the cache, the requests and lines asked for', () => {
    const { j } = runJson(['--latency-lines', '150', '--latency-requests', '12', '--min-confidence', '0.05']);
    for (const k of ['cached', 'uncached']) {
      const l = j.latency[k];
      assert.strictEqual(l.lines, 150);
      assert.strictEqual(l.requests, 12);
      assert.strictEqual(l.useCache, k === 'cached');
      assert.ok(l.latencyMs.p50 <= l.latencyMs.p95 && l.latencyMs.p95 <= l.latencyMs.p99);
    }
    assert.ok(j.latency.cached.warmSeconds > 0 && j.latency.uncached.warmSeconds === 0);
    assert.strictEqual(j.latency.cached.shown, j.latency.uncached.shown, 'the cache changed what was shown');
  });

  it('prints a table without --json, and help lists the command', () => {
    const r = runCli(['eval-completions', ck, heldDir, '--latency-requests', '0']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /^2 file\(s\), \d+ characters typed left to right/);
    assert.match(r.stdout, /\n\s+model \(n-gram weight 0\.7\)\s+[\d.]+%/);
    assert.match(r.stdout, /word baseline/);
    assert.match(r.stdout, /n-gram baseline \(order 7\)/);
    assert.match(r.stdout, /bits per character on .*: model [\d.]+, n-gram [\d.]+/);
    const help = runCli(['help']);
    assert.match(help.stdout, /gatescope eval-completions CHECKPOINT DIR/);
    assert.match(help.stdout, /--latency-requests N/);
  });

  it('bad input is a one-line error', () => {
    assertCleanError(runCli(['eval-completions', ck]), /usage: gatescope eval-completions CHECKPOINT DIR/);
    assertCleanError(runCli(['eval-completions', ck, heldDir, '--stop', 'word']), /--stop must be line, identifier or length/);
    assertCleanError(runCli(['eval-completions', ck, heldDir, '--ngram-weight', '1.5']), /--ngram-weight must be from 0 to 1/);
    assertCleanError(runCli(['eval-completions', ck, heldDir, '--beam', '0']), /beam/);
    assertCleanError(runCli(['eval-completions', ck, path.join(tmp, 'nowhere')]), /nowhere/);
  });

  it('a checkpoint that records no training corpus needs --corpus', () => {
    const text = codeText(1, 20);
    const tokenizer = buildTokenizer(text, { kind: 'char' });
    const config: ModelConfig = { cell: 'lstm', vocabSize: tokenizer.vocabSize, embedSize: 8, hiddenSize: 8, numLayers: 1, dropout: 0 };
    const bare = path.join(tmp, 'bare.safetensors');
    fs.writeFileSync(bare, encodeCheckpoint({ config, params: initParams(config, 3), step: 0, tokenizer: tokenizer.toJSON() }));
    assertCleanError(runCli(['eval-completions', bare, heldDir, '--latency-requests', '0']), /--corpus TRAINDIR/);
    const r = runCli(['eval-completions', bare, heldDir, '--corpus', trainDir, '--json', '--latency-requests', '0']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(JSON.parse(r.stdout).files, 2);
  });
});
