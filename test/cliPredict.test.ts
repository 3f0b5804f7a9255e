// `gatescope predict` and `gatescope activations` end to end: their JSON carries the same numbers as
// InferenceSession in this process for the same checkpoint and text, tokens that end inside a
// character are labelled instead of breaking the output, and bad input is a one-line error.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeCheckpoint } from '../kernels/checkpoint';
import { ModelConfig } from '../kernels/config';
import { buildTokenizer } from '../kernels/trainingData';
import { GATE_NAMES, InferenceSession } from '../kernels/infer';
import { initParams } from '../kernels/params';
import { maxAbsDiff } from '../kernels/tensor';
import { tokenizerFromJSON } from '../kernels/tokenizer';
import { loadCheckpointFile } from '../kernels/node/checkpointFiles';
import { assertCleanError, runCli } from './cliRun';

const TOL = 1e-6;

function runJson(args: string[]) {
  const r = runCli(args);
  assert.strictEqual(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** What the CLI should print, computed here with InferenceSession. */
async function inProcess(file: string, text: string) {
  const ck = await loadCheckpointFile(file);
  const tokenizer = tokenizerFromJSON(ck.tokenizer);
  const ids = tokenizer.encode(text);
  const session = new InferenceSession(ck.config, ck.params);
  return { ck, tokenizer, ids, session, labels: Array.from(ids, (id) => tokenizer.tokenLabel(id)) };
}

async function checkPredict(file: string, text: string, k: number): Promise<void> {
  const j = runJson(['predict', file, '--text', text, '--top-k', String(k), '--json']);
  const { tokenizer, ids, session, labels } = await inProcess(file, text);
  const state = session.newState();
  session.feedMany(state, ids);
  const want = session.predict(state, k);
  assert.deepStrictEqual(Object.keys(j).sort(), ['predictions', 'tokens']);
  assert.deepStrictEqual(j.tokens, labels);
  assert.strictEqual(j.predictions.length, k);
  j.predictions.forEach((p: { id: number; token: string; probability: number }, i: number) => {
    assert.deepStrictEqual(Object.keys(p).sort(), ['id', 'probability', 'token']);
    assert.strictEqual(p.id, want[i].id);
    assert.strictEqual(p.token, tokenizer.tokenLabel(want[i].id));
    assert.ok(Math.abs(p.probability - want[i].probability) <= TOL, `probability ${i}: ${p.probability} vs ${want[i].probability}`);
  });
}

async function checkActivations(file: string, text: string, layer: number): Promise<void> {
  const j = runJson(['activations', file, '--text', text, '--layer', String(layer), '--json']);
  const { ck, ids, session, labels } = await inProcess(file, text);
  const tr = session.trace(session.newState(), ids, layer);
  const { cell, hiddenSize: H } = ck.config;
  const T = ids.length;
  assert.deepStrictEqual(Object.keys(j).sort(), ['cell', 'gates', 'hidden', 'layer', 'tokens']);
  assert.strictEqual(j.layer, layer);
  assert.deepStrictEqual(j.tokens, labels);
  const sameRows = (got: number[][], want: Float32Array, what: string) => {
    assert.strictEqual(got.length, T, `${what}: rows`);
    for (const row of got) assert.strictEqual(row.length, H, `${what}: row length`);
    assert.ok(maxAbsDiff(got.flat(), want) <= TOL, `${what} differs by ${maxAbsDiff(got.flat(), want)}`);
  };
  sameRows(j.hidden, tr.hidden, 'hidden');
  if (cell === 'lstm') sameRows(j.cell, tr.cell!, 'cell');
  else assert.strictEqual(j.cell, null);
  if (cell === 'rnn') {
    assert.strictEqual(j.gates, null);
    return;
  }
  const names = GATE_NAMES[cell];
  assert.deepStrictEqual(Object.keys(j.gates), [...names]);
  names.forEach((name, g) => {
    const want = new Float32Array(T * H);
    for (let t = 0; t < T; t++) want.set(tr.gates!.values.subarray((t * names.length + g) * H, (t * names.length + g + 1) * H), t * H);
    sameRows(j.gates[name], want, `gate ${name}`);
  });
}

describe('cli predict and activations', function () {
  this.timeout(120000);
  let tmp: string;
  let lstm: string;
  const source = 'function add(a, b) {\n  return a + b;\n}\n'.repeat(40);
  const text = 'function sub(a, b) {\n  return a';

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-cli-predict-'));
    const dir = path.join(tmp, 'src');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.js'), source);
    lstm = path.join(tmp, 'lstm.safetensors');
    const r = runCli(['train', dir, '--steps', '4', '--arch', 'lstm', '--layers', '2', '--hidden', '8', '--embed', '4', '--seq', '8', '--batch', '2',
      '--eval-every', '1000', '--sample-length', '0', '--quiet', '--out', lstm]);
    assert.strictEqual(r.code, 0, r.stderr);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A checkpoint written here with random weights. */
  function writeModel(name: string, cell: ModelConfig['cell'], kind: 'char' | 'bpe'): string {
    const tokenizer = buildTokenizer(source, { kind, vocabSize: kind === 'bpe' ? 300 : undefined });
    const config: ModelConfig = { cell, vocabSize: tokenizer.vocabSize, embedSize: 5, hiddenSize: 6, numLayers: 2, dropout: 0 };
    const file = path.join(tmp, `${name}.safetensors`);
    fs.writeFileSync(file, encodeCheckpoint({ config, params: initParams(config, 9), step: 0, tokenizer: tokenizer.toJSON() }));
    return file;
  }

  it('predict --json gives the tokens and the top-k of InferenceSession (trained LSTM)', async () => {
    await checkPredict(lstm, text, 5);
  });

  it('activations --json gives the rows of InferenceSession.trace for both layers (trained LSTM)', async () => {
    await checkActivations(lstm, text, 0);
    await checkActivations(lstm, text, 1);
  });

  it('GRU and RNN: gates r z n, and no cell or gates where the cell has none', async () => {
    const gru = writeModel('gru', 'gru', 'char');
    const rnn = writeModel('rnn', 'rnn', 'char');
    await checkActivations(gru, text, 1);
    await checkActivations(rnn, text, 0);
    await checkPredict(rnn, text, 3);
  });

  it('reads the text from --file; a long text is fed in chunks', async () => {
    const file = path.join(tmp, 'input.js');
    fs.writeFileSync(file, source.slice(0, 600));
    const a = runJson(['activations', lstm, '--file', file, '--layer', '1', '--json']);
    const b = runJson(['activations', lstm, '--text', source.slice(0, 600), '--layer', '1', '--json']);
    assert.deepStrictEqual(a, b);
    await checkActivations(lstm, source.slice(0, 600), 1);
  });

  it('BPE tokens that end inside a character are shown as their bytes', async () => {
    const bpe = writeModel('bpe', 'lstm', 'bpe');
    const j = runJson(['predict', bpe, '--text', 'é→', '--json']);
    assert.deepStrictEqual(j.tokens, ['<0xC3>', '<0xA9>', '<0xE2>', '<0x86>', '<0x92>']);
    assert.strictEqual(j.predictions.length, 10);
    await checkActivations(bpe, 'return é', 0);
  });

  it('prints a readable summary without --json', () => {
    const p = runCli(['predict', lstm, '--text', text, '--top-k', '3']);
    assert.strictEqual(p.code, 0, p.stderr);
    assert.strictEqual(p.stdout.trim().split('\n').length, 4);
    const a = runCli(['activations', lstm, '--text', 'ab\n', '--layer', '1']);
    assert.strictEqual(a.code, 0, a.stderr);
    assert.match(a.stdout, /^layer 1 of 2 \(LSTM, hidden 8\), 3 token\(s\)/);
    assert.match(a.stdout, /\d\.\d{4} {2}"\\n"\n$/);
  });

  describe('bad input is a one-line error', () => {
    const cases: [string, () => string[], RegExp][] = [
      ['a missing checkpoint', () => ['predict', path.join(tmp, 'nope.safetensors'), '--text', 'a'], /no checkpoint at/],
      ['no text', () => ['predict', lstm], /usage: gatescope predict/],
      ['both --text and --file', () => ['activations', lstm, '--text', 'a', '--file', lstm], /usage: gatescope activations/],
      ['an empty --text', () => ['activations', lstm, '--text', ''], /--text is empty/],
      ['a missing --file', () => ['predict', lstm, '--file', path.join(tmp, 'nope.txt')], /no file at/],
      ['an empty --file', () => {
        fs.writeFileSync(path.join(tmp, 'empty.txt'), '');
        return ['predict', lstm, '--file', path.join(tmp, 'empty.txt')];
      }, /is empty/],
      ['a --file that is not UTF-8', () => {
        fs.writeFileSync(path.join(tmp, 'bad.txt'), Buffer.from([0x61, 0xff, 0x62]));
        return ['activations', lstm, '--file', path.join(tmp, 'bad.txt')];
      }, /not valid UTF-8/],
      ['a layer out of range', () => ['activations', lstm, '--text', 'a', '--layer', '2', '--json'], /--layer must be a whole number from 0 to 1, got 2/],
      ['a negative layer', () => ['activations', lstm, '--text', 'a', '--layer', '-1'], /--layer must be a whole number from 0 to 1, got -1/],
      ['a --top-k of 0', () => ['predict', lstm, '--text', 'a', '--top-k', '0'], /--top-k must be a whole number from 1/],
      ['two checkpoints', () => ['predict', lstm, lstm, '--text', 'a'], /usage: gatescope predict/],
    ];
    for (const [name, args, pattern] of cases) {
      it(name, () => assertCleanError(runCli(args()), pattern));
    }
  });
});
