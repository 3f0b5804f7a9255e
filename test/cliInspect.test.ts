// `gatescope inspect` end to end (the tsc build, out/cli/gatescope.js): its --json carries, for each
// layer, the same numbers as `gatescope activations --json` on the same text, and the same inspection,
// probes, unit search and corpus match as the kernels in this process (planInspection, inspectWindow,
// probeWindow, searchUnits, CorpusActivations + matchUnits over the folder as the CLI's corpus reader
// reads it); NaN is written as null; the human output has its tables; bad input is a one-line error.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { readFolderCorpus } from '../cli/corpusOptions';
import { encodeCheckpoint } from '../kernels/checkpoint';
import { ModelConfig } from '../kernels/config';
import { InferenceSession } from '../kernels/infer';
import { CorpusActivations, matchUnits } from '../kernels/inspect/match';
import { probeWindow } from '../kernels/inspect/probes';
import { inspectWindow } from '../kernels/inspect/trace';
import { searchUnits } from '../kernels/inspect/unitSearch';
import { planInspection } from '../kernels/inspect/window';
import { loadCheckpointFile } from '../kernels/node/checkpointFiles';
import { initParams } from '../kernels/params';
import { buildTokenizer } from '../kernels/trainingData';
import { tokenizerFromJSON } from '../kernels/tokenizer';
import { assertCleanError, runCli } from './cliRun';

function runJson(args: string[]) {
  const r = runCli(args);
  assert.strictEqual(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** JSON's view of a float32 array: the same numbers, NaN as null. */
const asJson = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));

describe('cli inspect', function () {
  this.timeout(120000);
  let tmp: string;
  let dir: string;
  const source = 'function add(a, b) {\n  return a + b; // sum\n}\nconst s = "x(y";\n'.repeat(30);
  const text = source.slice(0, 400);

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-cli-inspect-'));
    dir = path.join(tmp, 'src');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.js'), source);
    fs.writeFileSync(path.join(dir, 'b.py'), 'def f(x):\n    return [x, "s"]  # list\n'.repeat(20));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A checkpoint written here with random weights (scaled so that gates saturate). */
  function writeModel(name: string, cell: ModelConfig['cell'], kind: 'char' | 'bpe' = 'char'): string {
    const tokenizer = buildTokenizer(source, { kind, vocabSize: kind === 'bpe' ? 300 : undefined });
    const config: ModelConfig = { cell, vocabSize: tokenizer.vocabSize, embedSize: 5, hiddenSize: 6, numLayers: 2, dropout: 0 };
    const params = initParams(config, 9);
    for (const v of params.values()) for (let i = 0; i < v.length; i++) v[i] *= 3;
    const file = path.join(tmp, `${name}.safetensors`);
    fs.writeFileSync(file, encodeCheckpoint({ config, params, step: 0, tokenizer: tokenizer.toJSON() }));
    return file;
  }

  async function inProcess(file: string) {
    const ck = await loadCheckpointFile(file);
    const tokenizer = tokenizerFromJSON(ck.tokenizer);
    return { ck, tokenizer, session: new InferenceSession(ck.config, ck.params) };
  }

  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    it(`--json --layer L: each layer's values equal 'gatescope activations --json' (${cell})`, () => {
      const model = writeModel(cell, cell);
      for (const layer of [0, 1]) {
        const j = runJson(['inspect', model, '--text', text, '--layer', String(layer), '--json']);
        const a = runJson(['activations', model, '--text', text, '--layer', String(layer), '--json']);
        assert.strictEqual(j.layers.length, 1);
        const l = j.layers[0];
        assert.strictEqual(l.layer, layer);
        assert.deepStrictEqual(j.tokens, a.tokens);
        assert.deepStrictEqual(l.values.h, a.hidden);
        if (cell === 'lstm') assert.deepStrictEqual(l.values.c, a.cell);
        const gates = { lstm: ['i', 'f', 'g', 'o'], gru: ['r', 'z', 'n'], rnn: [] }[cell];
        assert.deepStrictEqual(l.names, ['h', ...(cell === 'lstm' ? ['c'] : []), ...gates, ...(cell === 'rnn' ? ['pre'] : [])]);
        for (const g of gates) assert.deepStrictEqual(l.values[g], a.gates[g], `gate ${g}`);
      }
    });
  }

  it('--json without --layer: the inspection, probes and window of the kernels, NaN as null (BPE)', async () => {
    const model = writeModel('bpe', 'lstm', 'bpe');
    const sel = { start: 130, end: 150 };
    const j = runJson(['inspect', model, '--text', source, '--select', `${sel.start}:${sel.end}`, '--json']);
    const { tokenizer, session } = await inProcess(model);
    const plan = planInspection(source, tokenizer, { selection: sel, visible: { start: 0, end: source.length }, cursor: sel.start });
    const r = inspectWindow(session, tokenizer, source, plan);
    const probes = probeWindow(source, plan, r);
    assert.deepStrictEqual(j.window, { start: plan.start, end: plan.end, primeStart: plan.primeStart, selection: plan.selection, notice: '' });
    assert.ok(plan.primeStart < plan.start, 'primed');
    assert.deepStrictEqual(j.tokens, r.tokens);
    assert.deepStrictEqual(j.offsets, Array.from(r.offsets));
    assert.deepStrictEqual(j.surprisal, asJson(r.surprisal));
    assert.deepStrictEqual(j.nextProb, asJson(r.nextProb));
    assert.strictEqual(j.nextProb[j.nextProb.length - 1], null);
    const T = r.tokens.length;
    assert.strictEqual(j.top.length, T);
    j.top.forEach((row: { token: string; prob: number }[], t: number) => {
      assert.deepStrictEqual(row, Array.from({ length: 5 }, (_, k) => ({ token: r.topTokens[t * 5 + k], prob: r.topProbs[t * 5 + k] })));
    });
    assert.deepStrictEqual(j.layers.map((l: { layer: number }) => l.layer), [0, 1]);
    for (let l = 0; l < 2; l++) {
      r.layers[l].names.forEach((q, k) => {
        assert.deepStrictEqual(j.layers[l].values[q].flat(), Array.from(r.layers[l].values[k]), `layer ${l} ${q}`);
        assert.strictEqual(j.layers[l].values[q].length, T);
      });
    }
    assert.deepStrictEqual(j.probes, probes.map((p) => ({ ...p, values: Array.from(p.values) })));
    assert.ok(!('search' in j) && !('matches' in j));
  });

  it('the first token of an unprimed window has surprisal null', () => {
    const j = runJson(['inspect', writeModel('gru2', 'gru'), '--text', 'ab', '--json']);
    assert.deepStrictEqual(j.surprisal.length, 2);
    assert.strictEqual(j.surprisal[0], null);
    assert.ok(typeof j.surprisal[1] === 'number');
  });

  it('--quantity --threshold: the unit search of the selection; --match: the corpus match of the kernels', async () => {
    const model = writeModel('lstm2', 'lstm');
    const { tokenizer, session } = await inProcess(model);
    // A short selection and a threshold at which some unit is on across it and off around it.
    let sel = { start: 0, end: 0 }, plan = planInspection(source, tokenizer, { selection: null, visible: { start: 0, end: 0 }, cursor: 0 });
    let threshold = NaN, found: ReturnType<typeof searchUnits> = [];
    search: for (let at = 60; at < 140; at++) {
      sel = { start: at, end: at + 2 };
      plan = planInspection(source, tokenizer, { selection: sel, visible: { start: 0, end: source.length }, cursor: sel.start });
      const r = inspectWindow(session, tokenizer, source, plan);
      const o = r.layers[1].values[r.layers[1].names.indexOf('o')];
      for (const x of [0.9, 0.8, 0.7, 0.6, 0.5]) {
        found = searchUnits(o, r.tokens.length, 6, plan.selection!.start, plan.selection!.end, x);
        threshold = x;
        if (found.length) break search;
      }
    }
    assert.ok(found.length > 0, 'no unit found at any threshold; pick another selection');
    const j = runJson(['inspect', model, '--file', path.join(dir, 'a.js'), '--select', `${sel.start}:${sel.end}`, '--layer', '1',
      '--quantity', 'o', '--threshold', String(threshold), '--match', dir, '--length', '4', '--json']);
    assert.deepStrictEqual(j.search, { layer: 1, quantity: 'o', threshold, start: plan.selection!.start, end: plan.selection!.end, units: found });

    const corpus = readFolderCorpus({}, dir, () => undefined);
    const acts = await CorpusActivations.compute(session, tokenizer, {
      text: corpus.text,
      files: corpus.files.map((f, i) => ({ path: f.path, uri: pathToFileURL(path.join(dir, f.path)).href, start: corpus.spans[i].start, end: corpus.spans[i].end })),
    }, 1, 'o');
    const want = matchUnits(acts, found.map((u) => u.unit), threshold, 4);
    assert.ok(want.length > 0);
    assert.deepStrictEqual(j.matches, want.map((m) => ({ ...m, values: Array.from(m.values) })));
    assert.ok(j.matches.every((m: { uri: string }) => m.uri.startsWith('file://')));

    // Units given by hand, and the human output's tables.
    const h = runCli(['inspect', model, '--file', path.join(dir, 'a.js'), '--select', `${sel.start}:${sel.end}`, '--match', dir, '--units', '0,3', '--threshold', '0', '--length', '3']);
    assert.strictEqual(h.code, 0, h.stderr);
    assert.match(h.stdout, /^LSTM, 2 layer\(s\) of 6; window: characters \d+ to \d+ of \d+, \d+ token\(s\)/);
    assert.match(h.stdout, /\n {5}t {2}token {9}bits {2}p\(next\) {2}most likely next/);
    assert.match(h.stdout, /\n\*\s+\d+ /, 'selected tokens are marked');
    assert.match(h.stdout, /\nprobes: .*\n {2}inside a string literal +L\d [a-z]+ \d+: -?\d\.\d{3}/);
    assert.match(h.stdout, /\nmatches: \d+\n {2}-?\d+\.\d{3} {2}(a\.js|b\.py):\d+:\d+ /);
  });

  it('errors: no checkpoint, bad --select, --quantity without a selection or --threshold, unknown quantity, bad --units', () => {
    const model = writeModel('lstm3', 'lstm');
    assertCleanError(runCli(['inspect', path.join(tmp, 'none.safetensors'), '--text', 'abc']), /none\.safetensors/);
    assertCleanError(runCli(['inspect', '--text', 'abc']), /usage: gatescope inspect CHECKPOINT/);
    assertCleanError(runCli(['inspect', model]), /usage: gatescope inspect CHECKPOINT/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--select', '1-2']), /--select must be START:END, two whole numbers/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--select', '2:1']), /--select 2:1: START must not be after END/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--select', '0:9']), /--select 0:9 goes past the end of the text \(3 UTF-16 units\)/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--visible', 'x']), /--visible must be START:END/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--quantity', 'h', '--threshold', '0.5']), /give --select START:END/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--select', '0:2', '--quantity', 'h']), /--quantity needs --threshold X/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--select', '0:2', '--quantity', 'r', '--threshold', '0']), /--quantity "r": a LSTM layer has h, c, i, f, g, o/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--match', dir, '--units', '1,x', '--threshold', '0', '--length', '2']), /--units must be unit numbers from 0 to 5/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--match', dir, '--threshold', '0']), /--match needs the units to look for/);
    assertCleanError(runCli(['inspect', model, '--text', 'abc', '--layer', '2']), /--layer must be a whole number from 0 to 1/);
  });
});
