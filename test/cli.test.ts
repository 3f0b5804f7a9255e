// The command line end to end, and bad input: every case gets a clear one-line message (an error and
// a non-zero exit where nothing can be done, a notice where a file is skipped and training goes on),
// never a stack trace, a hang or a huge allocation.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { decodeCheckpoint, encodeCheckpoint } from '../kernels/checkpoint';
import { ModelConfig } from '../kernels/config';
import { initParams } from '../kernels/params';
import { CLI, assertCleanError, runCli } from './cliRun';

const TINY = ['--hidden', '8', '--embed', '4', '--seq', '8', '--batch', '2', '--eval-every', '1000', '--sample-length', '20', '--quiet'];

describe('cli', function () {
  this.timeout(120000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-cli-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function folder(name: string, files: Record<string, string | Buffer>): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), content);
    }
    return dir;
  }

  const source = 'function add(a, b) {\n  return a + b;\n}\n'.repeat(40);

  it('trains, writes a checkpoint, samples, evaluates and resumes', () => {
    const dir = folder('ok', { 'a.js': source, 'sub/b.md': '# Title\n\nSome text about add().\n'.repeat(20) });
    const out = path.join(tmp, 'ok-model.safetensors');
    const r = runCli(['train', dir, '--steps', '3', '--out', out, ...TINY]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /validation: \d+\.\d+ bits per character/);
    assert.match(r.stdout, /--- sample/);
    assert.ok(fs.existsSync(out) && fs.existsSync(out.replace(/\.safetensors$/, '.optim.safetensors')));
    const s = runCli(['sample', out, '--prime', 'function ', '--length', '10', '--seed', '3']);
    assert.strictEqual(s.code, 0, s.stderr);
    assert.ok(s.stdout.startsWith('function '));
    const b = runCli(['sample', out, '--prime', 'function ', '--length', '5', '--beam', '3']);
    assert.strictEqual(b.code, 0, b.stderr);
    const e = runCli(['eval', out, dir, '--json']);
    assert.strictEqual(e.code, 0, e.stderr);
    const j = JSON.parse(e.stdout);
    assert.deepStrictEqual(Object.keys(j).sort(), ['bitsPerChar', 'bitsPerToken', 'chars', 'ngramBitsPerChar', 'ngramOrder', 'tokens']);
    assert.ok(j.bitsPerChar > 0 && j.bitsPerChar < 10 && j.tokens > 100 && j.chars === j.tokens);
    const r2 = runCli(['train', dir, '--steps', '6', '--resume', '--out', out, ...TINY]);
    assert.strictEqual(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /resuming .* at step 3/);
    assert.match(r2.stderr, /trained 3 steps .* step 6 in all/);
  });

  it('Ctrl+C stops after the current step, saves the checkpoint it reached and exits 0', async () => {
    const dir = folder('sigint', { 'a.js': source.repeat(20) });
    const out = path.join(tmp, 'sigint.safetensors');
    const child = spawn(process.execPath, [CLI, 'train', dir, '--time', '600', '--out', out, '--hidden', '8', '--embed', '4', '--seq', '8', '--batch', '2', '--sample-length', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATESCOPE_DEBUG: '' } });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/\bstep [1-9]\d* \|/.test(stderr) && !child.killed) child.kill('SIGINT'); // once a progress line shows a step
    });
    const code = await exited;
    assert.strictEqual(code, 0, stderr);
    assert.match(stderr, /stopping after this step/);
    const m = /trained (\d+) steps .*\(stopped\), step (\d+) in all/.exec(stderr);
    assert.ok(m, stderr);
    assert.strictEqual(decodeCheckpoint(fs.readFileSync(out)).step, Number(m[2]), 'the checkpoint is not the step the run reached');
  });

  it('an empty folder is a clear error', () => {
    assertCleanError(runCli(['train', folder('empty', {}), ...TINY, '--steps', '1']), /no text files found/);
  });

  it('a folder of only binary files is a clear error that says why', () => {
    const dir = folder('binary', { 'a.dat': Buffer.from([1, 2, 0, 3, 4]), 'b.png': Buffer.from([0x89, 0x50]) });
    const r = runCli(['train', dir, ...TINY, '--steps', '1']);
    assertCleanError(r, /every file was skipped/);
    assert.match(r.stderr, /skipped a\.dat: binary/);
  });

  it('a 50 MB single-line file is skipped with a notice, unread, and training goes on', () => {
    // huge.js, not huge.min.js: minified files are excluded by default (gatescope.corpus.exclude's list), silently.
    const dir = folder('huge', { 'code.js': source });
    fs.writeFileSync(path.join(dir, 'huge.js'), Buffer.alloc(50 * 1024 * 1024, 0x61));
    const t0 = Date.now();
    const r = runCli(['train', dir, ...TINY, '--steps', '1', '--out', path.join(tmp, 'huge.safetensors')]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /skipped huge\.js: larger than/);
    assert.ok(Date.now() - t0 < 30000);
  });

  it('invalid UTF-8 is skipped with a notice and training goes on', () => {
    const dir = folder('utf8', { 'good.js': source, 'bad.txt': Buffer.from([0x61, 0xff, 0xfe, 0x62, 0xc3]) });
    const r = runCli(['train', dir, ...TINY, '--steps', '1', '--out', path.join(tmp, 'utf8.safetensors')]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /skipped bad\.txt: not valid UTF-8/);
  });

  it('likely secrets are never read', () => {
    const dir = folder('secrets', { 'good.js': source, '.env': 'TOKEN=abc', 'id_rsa': 'key', 'cert.pem': 'x' });
    const r = runCli(['train', dir, ...TINY, '--steps', '1', '--out', path.join(tmp, 'secrets.safetensors')]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /skipped \.env: may contain secrets/);
    assert.match(r.stderr, /skipped id_rsa: may contain secrets/);
  });

  describe('absurd options are refused before anything is read or allocated', () => {
    const cases: [string[], RegExp][] = [
      [['--hidden', '0'], /hidden size must be between 1 and 2048, got 0/],
      [['--hidden', '1000000000'], /hidden size must be between 1 and 2048/],
      [['--lr', '-0.1'], /learning rate must be between/],
      [['--lr', 'abc'], /--lr must be a number/],
      [['--layers', '9'], /number of layers must be between 1 and 4/],
      [['--batch', '1e9'], /batch size must be between/],
      [['--arch', 'transformer'], /--arch must be one of rnn, lstm, gru/],
      [['--dropout', '1'], /dropout must be between 0 and 0.9/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
      [['--seq', '2048', '--batch', '1024', '--hidden', '2048'], /GiB of activations/],
    ];
    for (const [args, pattern] of cases) {
      it(args.join(' '), () => {
        const t0 = Date.now();
        assertCleanError(runCli(['train', '/nonexistent-folder', ...args]), pattern);
        assert.ok(Date.now() - t0 < 10000);
      });
    }
  });

  describe('bad checkpoints get a clear message', () => {
    const config: ModelConfig = { cell: 'lstm', vocabSize: 10, embedSize: 4, hiddenSize: 6, numLayers: 1, dropout: 0 };
    const good = encodeCheckpoint({ config, params: initParams(config, 1), step: 0, tokenizer: { kind: 'char', version: 1, chars: [] } });
    const header = () => Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
    const variants: [string, () => Uint8Array, RegExp][] = [
      ['a missing file', () => new Uint8Array(0), /no checkpoint at/],
      ['an empty file', () => new Uint8Array(0), /./],
      ['a truncated file', () => good.slice(0, Math.floor(good.length / 2)), /./],
      ['header length larger than the file', () => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, BigInt(b.length * 4), true);
        return b;
      }, /header/i],
      ['offsets out of range', () => {
        const n = header();
        const json = new TextDecoder().decode(good.subarray(8, 8 + n)).replace(/"data_offsets":\[(\d+),(\d+)\]/, (_m, a) => `"data_offsets":[${a},${99999999}]`);
        return withHeader(good, n, json);
      }, /offset|range|beyond|past/i],
      ['wrong dtype', () => {
        const n = header();
        const json = new TextDecoder().decode(good.subarray(8, 8 + n)).replace('"F32"', '"F16"');
        return withHeader(good, n, json);
      }, /F16/],
      ['shapes that disagree with the metadata', () => {
        const n = header();
        const json = new TextDecoder().decode(good.subarray(8, 8 + n)).replace('\\"hiddenSize\\":6', '\\"hiddenSize\\":7');
        return withHeader(good, n, json);
      }, /shape|expected|hidden/i],
    ];
    for (const [name, make, pattern] of variants) {
      it(name, () => {
        const file = path.join(tmp, `bad-${name.replace(/\W+/g, '-')}.safetensors`);
        if (name !== 'a missing file') fs.writeFileSync(file, make());
        assertCleanError(runCli(['sample', file, '--length', '3']), pattern);
        assertCleanError(runCli(['train', folder('for-resume', { 'a.js': source }), '--resume', file, ...TINY, '--steps', '1']), pattern);
      });
    }
  });
});

/** Replaces the JSON header of a safetensors file, keeping its data region. */
function withHeader(file: Uint8Array, oldLen: number, json: string): Uint8Array {
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + file.length - 8 - oldLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(file.subarray(8 + oldLen), 8 + h.length);
  return out;
}
