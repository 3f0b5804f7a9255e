// The training corpus a checkpoint records (cli/train.ts → extras "corpus", cli/trainingCorpus.ts) and
// the n-gram's bits per character that `gatescope eval` prints beside the model's: the record names
// the folder, rules and validation fraction; trainingText() gives back exactly the training split the
// planner makes (not the held-out end, not the files the rules leave out); eval's figure equals an
// n-gram built here from that text; a checkpoint without a record skips the figure with a note, or
// takes --corpus; bad --corpus / --order are clean errors.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeCheckpoint, encodeCheckpoint } from '../kernels/checkpoint';
import { KneserNeyModel } from '../kernels/complete/ngram';
import { splitTrainVal } from '../kernels/trainingData';
import { readFolderCorpus } from '../cli/corpusOptions';
import { CORPUS_EXTRA_KEY, textSha256, trainingText } from '../cli/trainingCorpus';
import { assertCleanError, runCli } from './cliRun';

const TINY = ['--hidden', '8', '--embed', '4', '--seq', '8', '--batch', '2', '--eval-every', '1000', '--sample-length', '0', '--quiet'];

describe('cli: the training corpus record and the n-gram in eval', function () {
  this.timeout(120000);
  let tmp: string;
  let trainDir: string;
  let evalDir: string;
  let model: string;

  function folder(name: string, files: Record<string, string>): string {
    const dir = path.join(tmp, name);
    for (const [f, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), content);
    }
    return dir;
  }

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-evalngram-'));
    const js = Array.from({ length: 60 }, (_, i) => `function add${i % 7}(a, b) { return a + b * ${i}; }\n`).join('');
    trainDir = folder('train', { 'a.js': js, 'z.js': 'const END_OF_TRAINING = "only in the held-out end";\n'.repeat(8), 'notes.md': '# Markdown the rules leave out\n'.repeat(30) });
    evalDir = folder('eval', { 'c.js': 'function add3(a, b) { return a - b; }\n'.repeat(5) });
    model = path.join(tmp, 'model.safetensors');
    const r = runCli(['train', trainDir, '--steps', '2', '--out', model, '--include', '**/*.js', '--val-fraction', '0.2', ...TINY]);
    assert.strictEqual(r.code, 0, r.stderr);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('train records the folder, the rules and the validation fraction; trainingText gives back exactly the training split', () => {
    const ck = decodeCheckpoint(fs.readFileSync(model));
    const rec = JSON.parse(ck.extra?.[CORPUS_EXTRA_KEY] ?? 'null');
    assert.ok(rec, 'no corpus record in the checkpoint');
    assert.strictEqual(rec.dir, path.resolve(trainDir));
    assert.strictEqual(rec.valFraction, 0.2);
    assert.strictEqual(rec.options.include, '**/*.js');
    // What the planner reads with the same rules, split as training splits it.
    const all = readFolderCorpus({ include: '**/*.js' }, trainDir, () => {}).text;
    const want = splitTrainVal(all, 0.2).train;
    assert.ok(!want.includes('Markdown') && want.includes('add6') && !want.includes('END_OF_TRAINING'), 'the test folder should give a training split without the md file and without z.js (held out)');
    assert.strictEqual(rec.sha256, textSha256(want));
    const got = trainingText(ck);
    assert.strictEqual(got.text, want);
    assert.match(got.source, /the first 80% of 2 file\(s\)/);
    // With an override: that folder's training split (here with the recorded rules and fraction).
    assert.strictEqual(trainingText(ck, evalDir).text, splitTrainVal(readFolderCorpus({ include: '**/*.js' }, evalDir, () => {}).text, 0.2).train);
  });

  it('eval prints the n-gram of the training text beside the model, in text and in --json, at --order', () => {
    const ck = decodeCheckpoint(fs.readFileSync(model));
    const train = trainingText(ck).text;
    const evalText = readFolderCorpus({}, evalDir, () => {}).text;
    for (const order of [7, 3]) {
      const r = runCli(['eval', model, evalDir, '--json', ...(order === 7 ? [] : ['--order', String(order)])]);
      assert.strictEqual(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepStrictEqual(Object.keys(j).sort(), ['bitsPerChar', 'bitsPerToken', 'chars', 'ngramBitsPerChar', 'ngramOrder', 'tokens']);
      const want = KneserNeyModel.build(train, order).bitsPerChar(evalText);
      assert.strictEqual(j.ngramOrder, order);
      assert.ok(Math.abs(j.ngramBitsPerChar - want) <= 1e-12, `order ${order}: eval printed ${j.ngramBitsPerChar}, the n-gram of the training split gives ${want}`);
    }
    const t = runCli(['eval', model, evalDir]);
    assert.strictEqual(t.code, 0, t.stderr);
    const lines = t.stdout.trim().split('\n');
    assert.strictEqual(lines.length, 2, t.stdout);
    assert.match(lines[0], /^\d+\.\d{4} bits per character, .* tokens/);
    assert.match(lines[1], /^\d+\.\d{4} bits per character: the character 7-gram \(interpolated Kneser-Ney\) built from .*train \(the first 80% of 2 file\(s\)\)$/);
  });

  it('a checkpoint without a record: eval says so on stderr, skips the figure and exits 0; --corpus supplies it', () => {
    const ck = decodeCheckpoint(fs.readFileSync(model));
    delete ck.extra;
    const bare = path.join(tmp, 'bare.safetensors');
    fs.writeFileSync(bare, encodeCheckpoint(ck));
    const r = runCli(['eval', bare, evalDir, '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(Object.keys(JSON.parse(r.stdout)).sort(), ['bitsPerChar', 'bitsPerToken', 'chars', 'tokens']);
    assert.match(r.stderr, /no n-gram figure: the checkpoint records no training corpus .* --corpus TRAINDIR/);
    const c = runCli(['eval', bare, evalDir, '--json', '--corpus', trainDir]);
    assert.strictEqual(c.code, 0, c.stderr);
    // No record: the folder's own settings and the default fraction (every file, md included).
    const train = splitTrainVal(readFolderCorpus({}, trainDir, () => {}).text, 0.05).train;
    assert.ok(train.includes('Markdown'));
    const want = KneserNeyModel.build(train, 7).bitsPerChar(readFolderCorpus({}, evalDir, () => {}).text);
    assert.ok(Math.abs(JSON.parse(c.stdout).ngramBitsPerChar - want) <= 1e-12);
  });

  it('a training folder changed since training is reported; a missing one skips the figure with a note', () => {
    const copy = path.join(tmp, 'moving');
    fs.cpSync(trainDir, copy, { recursive: true });
    const m = path.join(tmp, 'moving.safetensors');
    assert.strictEqual(runCli(['train', copy, '--steps', '1', '--out', m, ...TINY]).code, 0);
    fs.appendFileSync(path.join(copy, 'a.js'), 'const changed = 1;\n');
    const r = runCli(['eval', m, evalDir, '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: the files of .*moving changed since the checkpoint was trained/);
    assert.ok('ngramBitsPerChar' in JSON.parse(r.stdout));
    fs.rmSync(copy, { recursive: true });
    const g = runCli(['eval', m, evalDir, '--json']);
    assert.strictEqual(g.code, 0, g.stderr);
    assert.match(g.stderr, /no n-gram figure: the checkpoint's training folder .*moving is not there any more; give the training folder with --corpus TRAINDIR/);
    assert.ok(!('ngramBitsPerChar' in JSON.parse(g.stdout)));
  });

  it('bad --corpus and --order are clean errors', () => {
    assertCleanError(runCli(['eval', model, evalDir, '--corpus', path.join(tmp, 'nowhere')]), /--corpus .*nowhere: no such file or folder/);
    assertCleanError(runCli(['eval', model, evalDir, '--order', '0']), /--order must be a whole number from 1 to 32, got 0/);
    assertCleanError(runCli(['eval', model, evalDir, '--corpus', folder('empty', { '.keep.bin': '\u0000\u0001' })]), /--corpus .*empty: no usable text in its training split/);
  });
});
