// The in-host half of the panel's theme screenshots (test/vscode/screenshots.ts takes them): trains a tiny
// model on the CPU until the panel has several validation points, opens a fixture file in an editor beside
// the panel, and hands over to the driver, which photographs the panel in each colour theme. The driver
// asks for each theme with a request file (themeRequest(i)); this spec sets it as the user's
// workbench.colorTheme and answers (themeApplied(i)) until the driver is done. Tag "@screenshots"; needs
// GATESCOPE_SCREENSHOT_SYNC (the hand-over folder).

import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { GateScopeApi } from '../../../extension/api';
import { syncFiles, themeApplied, themeRequest, waitForJson, writeJsonAtomic } from '../sync';

/** Validation points the chart should show before the screenshots. */
const EVALUATIONS = 6;

describe('GateScope panel screenshots @screenshots', function () {
  this.timeout(10 * 60_000);

  it('trains until the curves have several validation points, then waits while the driver photographs the panel in each theme', async () => {
    const dir = process.env.GATESCOPE_SCREENSHOT_SYNC;
    assert.ok(dir, 'GATESCOPE_SCREENSHOT_SYNC is not set: run this spec through test/vscode.test.ts, whose driver takes the screenshots');
    const sync = syncFiles(dir);
    const ext = vscode.extensions.getExtension<GateScopeApi>('gatescope.gatescope');
    assert.ok(ext, 'GateScope is not loaded');
    const api = await ext.activate();
    await vscode.commands.executeCommand('gatescope.showPanel');

    let evals = 0;
    const enough = new Promise<void>((resolve) => {
      const sub = api.onDidReport((r) => {
        if (r.kind === 'eval' && ++evals >= EVALUATIONS) {
          sub.dispose();
          resolve();
        }
      });
    });
    await api.startTraining({ backend: 'cpu' });
    await enough;
    await api.stopTraining();

    const [uri] = await vscode.workspace.findFiles('src/**/*.ts', undefined, 1);
    assert.ok(uri, 'no src/**/*.ts in the fixture workspace');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { viewColumn: vscode.ViewColumn.One, preview: false });
    await vscode.commands.executeCommand('gatescope.showPanel');
    writeJsonAtomic(sync.hostReady, { evaluations: evals });
    const workbench = vscode.workspace.getConfiguration('workbench');
    const original = workbench.inspect('colorTheme')?.globalValue;
    try {
      for (let i = 0, deadline = Date.now() + 8 * 60_000; !fs.existsSync(sync.driverDone); ) {
        assert.ok(Date.now() < deadline, `the screenshot driver neither asked for a theme nor finished within 8 minutes (${sync.driverDone})`);
        if (fs.existsSync(themeRequest(dir, i))) {
          const { theme } = JSON.parse(fs.readFileSync(themeRequest(dir, i), 'utf8')) as { theme: string };
          await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
          writeJsonAtomic(themeApplied(dir, i++), { theme });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await workbench.update('colorTheme', original, vscode.ConfigurationTarget.Global);
    }
    const done = await waitForJson<{ problems: string[] }>(sync.driverDone, 'the screenshot driver', 1000);
    assert.deepStrictEqual(done.problems, []);
  });
});
