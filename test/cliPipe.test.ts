// A closed stdout ends any CLI command quietly: `gatescope activations ... --json | head` must not print
// an EPIPE stack trace. Each command runs with its stdout pipe closed by the reader before it writes.

import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI, runCli } from './cliRun';

/** Runs `gatescope ARGS` with the reading end of its stdout closed at once; resolves with its exit code and stderr. */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATESCOPE_DEBUG: '' } });
    child.stdout.destroy(); // the reader goes away before the command writes anything, as `head` does after its lines
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('cli with a closed stdout', function () {
  this.timeout(120000);
  let tmp: string;
  let model: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-cli-pipe-'));
    fs.writeFileSync(path.join(tmp, 'a.js'), 'function add(a, b) {\n  return a + b;\n}\n'.repeat(40));
    model = path.join(tmp, 'model.safetensors');
    const r = runCli(['train', tmp, '--steps', '2', '--hidden', '8', '--embed', '4', '--seq', '8', '--batch', '2', '--sample-length', '0', '--quiet', '--out', model]);
    assert.strictEqual(r.code, 0, r.stderr);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const commands: [string, () => string[]][] = [
    ['activations --json', () => ['activations', model, '--text', 'function add(a, b) {\n'.repeat(200), '--json']],
    ['predict --json', () => ['predict', model, '--text', 'function ', '--json']],
    ['sample', () => ['sample', model, '--length', '2000', '--seed', '1']],
    ['corpus --json', () => ['corpus', tmp, '--json']],
    ['help', () => ['help']],
  ];
  for (const [name, args] of commands) {
    it(`${name} ends quietly`, async () => {
      const r = await runWithClosedStdout(args());
      assert.doesNotMatch(r.stderr, /EPIPE|^\s+at /m, `it printed an error:\n${r.stderr}`);
      assert.strictEqual(r.stderr, '', 'it printed something on stderr');
      assert.strictEqual(r.signal, null);
      assert.strictEqual(r.code, 0);
    });
  }
});
