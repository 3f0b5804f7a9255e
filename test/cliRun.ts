// Running the compiled CLI from tests (out/cli/gatescope.js, the tsc build) and checking its errors:
// shared by the CLI test files.

import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

export const CLI = path.resolve(__dirname, '..', 'cli', 'gatescope.js');

/** Runs `gatescope ARGS` to its end (GATESCOPE_DEBUG off, so errors are what a user sees). */
export function runCli(args: string[], timeoutMs = 60000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, GATESCOPE_DEBUG: '' } });
  assert.ok(!r.error, `CLI did not finish: ${r.error}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 1 with one `gatescope: error:` line matching `pattern`, and no stack trace. */
export function assertCleanError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.strictEqual(r.code, 1, `expected exit 1, got ${r.code}; stderr: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace was printed');
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('gatescope: error:'));
  assert.strictEqual(errors.length, 1, `expected one error line, got: ${r.stderr}`);
  assert.match(errors[0], pattern);
}
