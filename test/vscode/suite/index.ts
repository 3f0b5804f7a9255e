// The extensionTestsPath module for runs inside the real extension host (see ../harness.ts): the host calls
// run() after activating the development extensions and exits with 0 if it resolves, 1 if it rejects.
// It runs Mocha over every *.spec.js next to this file (named *.spec.ts in the sources, so the project's own
// mocha run, which picks up out/test/**/*.test.js, does not load them outside VS Code). The spec reporter
// prints through console.log, which the workbench forwards to the harness's log.
// GATESCOPE_TEST_GREP in the extension host's environment (harness: extensionEnv) runs only matching tests.
import * as fs from 'node:fs';
import * as path from 'node:path';

type MochaCtor = typeof import('mocha');

export async function run(): Promise<void> {
  // mocha 12 is an ES module; require() of it (Node >= 20.19) gives the namespace, whose default is the class.
  const mod = require('mocha') as MochaCtor & { default?: MochaCtor };
  const Mocha = mod.default ?? mod;
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 5 * 60_000, slow: 10_000 });
  const grep = process.env.GATESCOPE_TEST_GREP;
  if (grep) mocha.grep(grep);
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.spec.js')).sort();
  if (files.length === 0) throw new Error(`no *.spec.js files in ${__dirname}`);
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  // run() require()s the files: the extension host resolves require('vscode') only on that path.
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} in-host test(s) failed`);
}
