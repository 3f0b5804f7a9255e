// The CLI's corpus against the rules written out by hand (test/vscode/corpusFixture.ts): `gatescope
// corpus --json` lists the files it reads, in order, and every skip with its reason; `train` names the
// skipped files. The in-VS-Code twin (test/vscode/suite/corpus.spec.ts, "@corpus") checks that the
// extension's collector gives the same listing on the same folder.

import * as assert from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { joinFileTexts } from '../kernels/corpusRules';
import { runCli } from './cliRun';
import { makeCorpusFixture } from './vscode/corpusFixture';

interface CorpusListing {
  files: { path: string; bytes: number }[];
  skipped: { path: string; reason: string }[];
  bytes: number;
  textSha256: string;
}

describe('cli corpus', function () {
  this.timeout(120000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-cli-corpus-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const how of ['its .vscode/settings.json', 'the same rules given as options']) {
    it(`reads the files the rules allow, in path order, stops at the cap, and says why it skipped each other file (rules from ${how})`, () => {
      const fx = makeCorpusFixture(path.join(tmp, how.replace(/\W+/g, '-')));
      const r = runCli(['corpus', fx.root, '--json', ...(how.startsWith('its') ? [] : fx.cliArgs)]);
      assert.strictEqual(r.code, 0, r.stderr);
      if (how.startsWith('its')) assert.match(r.stderr, /applying files\.exclude, gatescope\.corpus\.exclude, gatescope\.corpus\.maxFileSizeKB, gatescope\.corpus\.maxCorpusSizeMB from /);
      const listing = JSON.parse(r.stdout) as CorpusListing;
      assert.deepStrictEqual(listing.files.map((f) => f.path), fx.expected.files);
      assert.deepStrictEqual(listing.skipped, fx.expected.skipped);
      const texts = fx.expected.files.map((f) => fs.readFileSync(path.join(fx.root, f), 'utf8'));
      for (const f of listing.files) assert.strictEqual(f.bytes, fs.statSync(path.join(fx.root, f.path)).size, f.path);
      assert.strictEqual(listing.bytes, listing.files.reduce((s, f) => s + f.bytes, 0));
      assert.strictEqual(listing.textSha256, createHash('sha256').update(joinFileTexts(texts), 'utf8').digest('hex'));
    });
  }

  it('reads a .vscode/settings.json with comments and trailing commas as VS Code does, and its rules apply', () => {
    const dir = path.join(tmp, 'jsonc');
    fs.mkdirSync(path.join(dir, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a.js'), 'let a = 1;\n');
    fs.writeFileSync(path.join(dir, 'b.min.js'), 'let b=1;\n');
    fs.writeFileSync(path.join(dir, 'c.ts'), 'let c = 1;\n');
    fs.writeFileSync(path.join(dir, '.vscode', 'settings.json'), '{\n  // mine: no default excludes, but no TypeScript /* nor this */\n  "gatescope.corpus.exclude": ["**/*.ts",],\n}\n');
    const r = runCli(['corpus', dir, '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /applying gatescope\.corpus\.exclude from /);
    assert.deepStrictEqual((JSON.parse(r.stdout) as CorpusListing).files.map((f) => f.path), ['.vscode/settings.json', 'a.js', 'b.min.js']);
  });

  it('a .vscode/settings.json that cannot be parsed is left out with a warning that says what to do', () => {
    const dir = path.join(tmp, 'broken');
    fs.mkdirSync(path.join(dir, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a.js'), 'let a = 1;\n');
    fs.writeFileSync(path.join(dir, 'b.min.js'), 'let b=1;\n');
    fs.writeFileSync(path.join(dir, '.vscode', 'settings.json'), '{\n  "gatescope.corpus.exclude": [\n');
    const r = runCli(['corpus', dir, '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /settings\.json could not be read \(\w+ at offset \d+\).*give them as --exclude/);
    assert.deepStrictEqual((JSON.parse(r.stdout) as CorpusListing).files.map((f) => f.path), ['.vscode/settings.json', 'a.js'], 'the default exclude list applies');
  });

  it('leaves out what VS Code\'s default files.exclude does (.DS_Store, Thumbs.db), as the extension\'s listing does', () => {
    const dir = path.join(tmp, 'metadata');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a.js'), 'let a = 1;\n');
    fs.writeFileSync(path.join(dir, '.DS_Store'), Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]));
    fs.writeFileSync(path.join(dir, 'sub', 'Thumbs.db'), Buffer.from([0xd0, 0xcf, 0x11, 0xe0]));
    const r = runCli(['corpus', dir, '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const listing = JSON.parse(r.stdout) as CorpusListing;
    assert.deepStrictEqual(listing.files.map((f) => f.path), ['a.js']);
    assert.deepStrictEqual(listing.skipped, []);
  });

  it('train names every skipped file in its summary', () => {
    const fx = makeCorpusFixture(path.join(tmp, 'train'));
    const r = runCli(['train', fx.root, '--steps', '1', '--hidden', '8', '--embed', '4', '--seq', '8', '--batch', '2', '--eval-every', '1000',
      '--sample-length', '0', '--quiet', '--val-fraction', '0.01', '--out', path.join(tmp, 'train.safetensors')]);
    assert.strictEqual(r.code, 0, r.stderr);
    const summary = r.stderr.split('\n').find((l) => l.startsWith('skipped '));
    assert.ok(summary, r.stderr);
    for (const s of fx.expected.skipped) assert.ok(summary.includes(s.path), `the summary does not name ${s.path}: ${summary}`);
  });
});
