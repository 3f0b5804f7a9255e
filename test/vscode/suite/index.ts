// The extensionTestsPath module for runs inside the real extension host (see ../harness.ts): the host calls
// run() after activating the development extensions and exits with 0 if it resolves, 1 if it rejects.
// It runs Mocha over every *.spec.js next to this file (named *.spec.ts in the sources, so the project's own
// mocha run, which picks up out/test/**/*.test.js, does not load them outside VS Code). The spec reporter
// prints through console.log, which the workbench forwards to the harness's log.
// GATESCOPE_TEST_GREP in the extension host's environment (harness: extensionEnv) runs only matching tests.
// A run in which no test ran fails (a grep that matches nothing must not pass), and the last line it logs
// is SUITE_RESULT_PREFIX + JSON counts, which the harness reads to check the number of tests it expected.
import * as fs from 'node:fs';
import * as path from 'node:path';

type MochaCtor = typeof import('mocha');

/** The log line that carries the run's counts: `${SUITE_RESULT_PREFIX}{"tests":..,"passes":..,...}`. */
export const SUITE_RESULT_PREFIX = 'gatescope-suite-result ';

export interface SuiteCounts {
  /** Tests that ran (passed or failed; pending ones not included). */
  tests: number;
  passes: number;
  failures: number;
  pending: number;
  grep: string;
}

export async function run(): Promise<void> {
  // mocha 12 is an ES module; require() of it (Node >= 20.19) gives the namespace, whose default is the class.
  const mod = require('mocha') as MochaCtor & { default?: MochaCtor };
  const Mocha = mod.default ?? mod;
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 5 * 60_000, slow: 10_000, failZero: true });
  const grep = process.env.GATESCOPE_TEST_GREP ?? '';
  if (grep) mocha.grep(grep);
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.spec.js')).sort();
  if (files.length === 0) throw new Error(`no *.spec.js files in ${__dirname}`);
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  // run() require()s the files: the extension host resolves require('vscode') only on that path.
  const counts: SuiteCounts = { tests: 0, passes: 0, failures: 0, pending: 0, grep };
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    runner.on('pass', () => { counts.tests++; counts.passes++; });
    runner.on('fail', (runnable) => {
      counts.failures++;
      if (runnable.type === 'test') counts.tests++; // a failing hook is a failure, not a test
    });
    runner.on('pending', () => counts.pending++);
  });
  console.log(`${SUITE_RESULT_PREFIX}${JSON.stringify(counts)}`);
  if (counts.tests === 0) throw new Error(`no in-host test ran${grep ? ` (GATESCOPE_TEST_GREP=${JSON.stringify(grep)} matches no test)` : ''}`);
  if (failures > 0) throw new Error(`${failures} in-host test(s) failed`);
}
