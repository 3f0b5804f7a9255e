// GateScope in a real VS Code: code-server (VS Code 1.139 for the web) in headless Chromium, driven by
// test/vscode/harness.ts. Three runs:
//  1. the in-host suite (test/vscode/suite/extension.spec.ts, "@main") on the fixture workspace, with
//     the API-consumer fixture extension loaded beside GateScope; from outside, the status bar and the
//     notifications are watched;
//  2. the same suite's "@many" part on a workspace of 20,000 small files;
//  2b. the keystroke test ("@keys", suite/keyboard.spec.ts with vscode/keyboardDriver.ts): keys typed in
//     every field of the panel leave the editor beside it unchanged;
//  2c. the panel's screenshots in each built-in theme family ("@screenshots", vscode/screenshots.ts), with a
//     trained model's curves and an editor beside it (GATESCOPE_UPDATE_SCREENSHOT=1 copies them into media/);
//  2d. the corpus test ("@corpus", suite/corpus.spec.ts): the extension's collector and the CLI read the
//     same files from test/vscode/corpusFixture.ts's workspace;
//  2d. the progress surfaces ("@surfaces", vscode/surfaceWatch.ts): "auto" beside SwiftShader, Stop, the
//     notification and status bar during training, the form's settings, watched from outside;
//  2f. inline completions ("@completions", suite/completions.spec.ts): ghost text, Tab, accept-word, the
//     auto-closed `)`, superseded requests, off / no model / below threshold, the status bar item clicked
//     from outside, and the host's answers while a fast typist types;
//  3. the packaged .vsix installed with --install-extension, used as a user would (command palette),
//     with a screenshot of the workbench while it trains (GATESCOPE_UPDATE_SCREENSHOT=1 copies it
//     into media/screenshot.png for the README).
// The first run installs Chromium, Node 24 and code-server (about 3 minutes, once per machine).

import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SERIES_CONTRAST, contrastRatio, parseColor } from '../webview/chart';
import { FIELDS } from '../webview/form';
import { makeCorpusFixture } from './vscode/corpusFixture';
import { makeFixtureWorkspace, makeManySmallFiles } from './vscode/fixture';
import type { CompletionsCase } from './vscode/suite/completions.spec';
import type { InspectorCase } from './vscode/suite/inspector.spec';
import { InspectorReport, driveInspector } from './vscode/inspectorDriver';
import { KeystrokeReport, drivePanelKeystrokes } from './vscode/keyboardDriver';
import { THEME_SHOTS, takeThemeScreenshots } from './vscode/screenshots';
import { SurfaceWatch, typeIntoPanelField, watchSurfaces } from './vscode/surfaceWatch';
import { waitForJson, writeJsonAtomic } from './vscode/sync';
import {
  PROJECT_ROOT, TextWatch, browserState, ensureInstalled, installVsix, logTail, openWorkbench, reloadWorkbench, runExtensionTests, screenshot,
  startCodeServer, statusBarItemSelector, watchText, webviewFrame,
} from './vscode/harness';

const TESTS_PATH = path.join(PROJECT_ROOT, 'out', 'test', 'vscode', 'suite', 'index.js');
const CONSUMER = path.join(PROJECT_ROOT, 'test', 'fixtures', 'api-consumer');
const STATUS = statusBarItemSelector('gatescope.gatescope', 'gatescope.status');
const TINY_MODEL = {
  'gatescope.model.hiddenSize': 16,
  'gatescope.model.embeddingSize': 8,
  'gatescope.training.sequenceLength': 16,
  'gatescope.training.batchSize': 4,
  'gatescope.training.checkpointIntervalSeconds': 1,
  'gatescope.training.evalIntervalSeconds': 2,
  'gatescope.training.timeBudgetSeconds': 600,
  'gatescope.training.backend': 'cpu',
};

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  assert.strictEqual(r.status, 0, `${cmd} ${args.join(' ')} failed`);
}

/** Mocha's report from inside the extension host (indented lines), without the workbench's own logging. */
function printReport(log: string[]): void {
  for (const line of log) {
    const m = /^\S+ ( {2,}[\s\S]*)$/.exec(line); // a failure's message spans several lines
    if (m) console.log(`    ${m[1]}`);
  }
}

describe('GateScope in a real VS Code (code-server)', function () {
  this.timeout(20 * 60_000);
  let tmp: string;

  before(function () {
    this.timeout(15 * 60_000);
    ensureInstalled();
    // The extension, its worker, the webview and the CLI the in-host tests compare against.
    run('npx', ['webpack', '--mode', 'production', '--config-name', 'extension', '--config-name', 'webview', '--config-name', 'cli']);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-vscode-'));
  });

  after(function () {
    if (tmp && this.currentTest?.state !== 'failed') fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('trains (WebGPU, the WebAssembly engine, the reference), probes for auto, stops, resumes, exports, imports, falls back to the CPU and serves another extension (in-host suite)', async () => {
    const fx = makeFixtureWorkspace(path.join(tmp, 'fixture'), { settings: TINY_MODEL });
    let status: TextWatch | null = null;
    const r = await runExtensionTests({
      workspace: fx.root,
      developmentPaths: [PROJECT_ROOT, CONSUMER],
      testsPath: TESTS_PATH,
      // "auto"'s timed probe on this machine's SwiftShader (no hardware GPU here).
      extensionEnv: { GATESCOPE_TEST_GREP: '@main', GATESCOPE_PROBE_ANY_ADAPTER: '1' },
      expectTests: 11,
      during: (wb) => {
        status = watchText(wb.page, STATUS, 200);
      },
    });
    printReport(r.log);
    const statusTexts = status ? await (status as TextWatch).stop() : [];
    assert.strictEqual(r.exitCode, 0, `the in-host suite failed:\n${logTail(r.log, 120)}`);
    const progress = statusTexts.filter((t) => /GateScope step \d+ · [\d.]+ bpc · [\d.]+k? tok\/s · (CPU|WebGPU)/.test(t));
    console.log(`      status bar showed ${statusTexts.length} texts, e.g. ${JSON.stringify(progress[progress.length - 1])}`);
    assert.ok(progress.length >= 2, `the status bar never showed training progress: ${JSON.stringify(statusTexts.slice(0, 20))}`);
    assert.ok(progress.some((t) => t.includes('WebGPU')) && progress.some((t) => t.includes('CPU')), 'the status bar named both backends');
  });

  it('on 20,000 files, collection finishes, can be cancelled, and the extension host stays responsive (in-host suite)', async () => {
    const fx = makeFixtureWorkspace(path.join(tmp, 'many'), { settings: { ...TINY_MODEL, 'gatescope.corpus.maxCorpusSizeMB': 512 }, sizeKb: 20 });
    makeManySmallFiles(fx.root, 20_000);
    const r = await runExtensionTests({
      workspace: fx.root,
      developmentPaths: [PROJECT_ROOT],
      testsPath: TESTS_PATH,
      extensionEnv: { GATESCOPE_TEST_GREP: '@many' },
      expectTests: 2,
    });
    printReport(r.log);
    assert.strictEqual(r.exitCode, 0, `the in-host suite failed:\n${logTail(r.log, 80)}`);
  });

  it('the in-host runner fails a run in which no test ran (a grep that matches nothing)', async () => {
    const fx = makeFixtureWorkspace(path.join(tmp, 'none'), { settings: TINY_MODEL, sizeKb: 20 });
    const r = await runExtensionTests({ workspace: fx.root, developmentPaths: [PROJECT_ROOT], testsPath: TESTS_PATH, extensionEnv: { GATESCOPE_TEST_GREP: '@no-such-test' }, expectTests: 0 });
    console.log(`      exit code ${r.exitCode}, counts ${JSON.stringify(r.counts)}`);
    assert.strictEqual(r.exitCode, 1, 'a run in which no test ran passed');
    assert.strictEqual(r.counts?.tests, 0);
    assert.ok(r.log.some((l) => l.includes('no in-host test ran')), `the log does not say why the run failed:\n${logTail(r.log, 30)}`);
  });

  it('keys typed in every text field and dropdown of the panel act on that control only: the editor beside it keeps its text and version (in-host suite and driver)', async () => {
    // Auto save on: a leaked edit would also reach the disk. The tokenizer is the default (characters):
    // the driver's choice of BPE in the Tokenizer dropdown then shows the Vocabulary size field, which is
    // exercised after it.
    const fx = makeFixtureWorkspace(path.join(tmp, 'keys'), { settings: { ...TINY_MODEL, 'files.autoSave': 'afterDelay', 'files.autoSaveDelay': 100 } });
    const syncDir = path.join(tmp, 'keys-sync');
    fs.mkdirSync(syncDir, { recursive: true });
    let keys: KeystrokeReport | undefined;
    const r = await runExtensionTests({
      workspace: fx.root,
      developmentPaths: [PROJECT_ROOT],
      testsPath: TESTS_PATH,
      extensionEnv: { GATESCOPE_TEST_GREP: '@keys', GATESCOPE_KEYS_SYNC: syncDir },
      expectTests: 1,
      failureScreenshot: path.join(tmp, 'keys-failure.png'),
      during: async (wb) => {
        keys = await drivePanelKeystrokes(wb, syncDir);
      },
    });
    printReport(r.log);
    assert.ok(keys, 'the driver did not run');
    assert.deepStrictEqual(keys.problems, [], 'the driver saw keys act outside the panel, or could not go on');
    console.log(`      ${keys.keysPressed} keys pressed in ${keys.exercised.length} controls: ${keys.exercised.map((c) => `#${c.id}=${JSON.stringify(c.actual)}`).join(', ')}`);
    // Every control the panel's document holds is one of the form's fields, and every field was exercised.
    const fieldIds = FIELDS.map((f) => `field-${f.key}`);
    assert.deepStrictEqual(keys.found.map((c) => c.id), fieldIds, 'the panel\'s text fields and dropdowns are not the form\'s fields: a new control needs its keystroke check (update this test)');
    assert.deepStrictEqual(keys.exercised.map((c) => c.id), fieldIds, `not every field was exercised: ${keys.problems.join('; ')}`);
    assert.strictEqual(r.exitCode, 0, `the editor changed (in-host spec):\n${logTail(r.log, 60)}`);
  });

  it('photographs the panel, with a trained model\'s curves and an editor beside it, in each built-in theme family (in-host suite and driver)', async () => {
    const fx = makeFixtureWorkspace(path.join(tmp, 'themes'), { settings: TINY_MODEL });
    const syncDir = path.join(tmp, 'themes-sync');
    fs.mkdirSync(syncDir, { recursive: true });
    const outDir = path.join(os.tmpdir(), 'gatescope-theme-screenshots'); // kept after the run, to be looked at
    let shots: Awaited<ReturnType<typeof takeThemeScreenshots>> = { files: [], colors: [] };
    const r = await runExtensionTests({
      workspace: fx.root,
      developmentPaths: [PROJECT_ROOT],
      testsPath: TESTS_PATH,
      extensionEnv: { GATESCOPE_TEST_GREP: '@screenshots', GATESCOPE_SCREENSHOT_SYNC: syncDir },
      expectTests: 1,
      during: async (wb) => {
        shots = await takeThemeScreenshots(wb, syncDir, outDir);
      },
    });
    printReport(r.log);
    assert.strictEqual(r.exitCode, 0, `the in-host screenshot spec failed:\n${logTail(r.log, 60)}`);
    const { files, colors } = shots;
    assert.strictEqual(files.length, THEME_SHOTS.length);
    // What the screenshots show, measured: each curve against the chart, the checkbox's box against the panel.
    const ratio = (a: string, b: string) => contrastRatio(parseColor(a)!, parseColor(b)!);
    for (const c of colors) {
      const curves = c.series.map((s) => ratio(s, c.chartBackground));
      const box = ratio(c.checkboxBorder, c.panelBackground);
      console.log(`      ${c.theme}: curves ${c.series.join(', ')} on ${c.chartBackground}: ${curves.map((x) => `${x.toFixed(1)}:1`).join(', ')}; checkbox ${c.checkboxBorder} on ${c.panelBackground}: ${box.toFixed(1)}:1`);
      curves.forEach((x, i) => assert.ok(x >= SERIES_CONTRAST - 0.05, `${c.theme}: series ${i} has ${x.toFixed(2)}:1`));
      assert.ok(box >= 3, `${c.theme}: the checkbox's box has ${box.toFixed(2)}:1 against the panel (3:1 needed)`);
    }
    for (const f of files) {
      const kb = fs.statSync(f).size / 1024;
      console.log(`      ${f}: ${kb.toFixed(0)} KB`);
      assert.ok(kb < 150, `${f} is ${kb.toFixed(0)} KB: crop it further`);
      if (process.env.GATESCOPE_UPDATE_SCREENSHOT === '1') fs.copyFileSync(f, path.join(PROJECT_ROOT, 'media', path.basename(f)));
    }
  });

  it('the extension and the CLI read the same corpus from the same folder (in-host suite, "@corpus")', async () => {
    const fx = makeCorpusFixture(path.join(tmp, 'corpus'));
    const expectedFile = path.join(tmp, 'corpus-expected.json');
    fs.writeFileSync(expectedFile, JSON.stringify(fx.expected));
    const r = await runExtensionTests({
      workspace: fx.root,
      developmentPaths: [PROJECT_ROOT],
      testsPath: TESTS_PATH,
      extensionEnv: { GATESCOPE_TEST_GREP: '@corpus', GATESCOPE_CORPUS_EXPECTED: expectedFile },
      expectTests: 1,
    });
    printReport(r.log);
    assert.strictEqual(r.exitCode, 0, `the in-host suite failed:\n${logTail(r.log, 80)}`);
  });

  it('"auto" trains on the CPU (WebAssembly, 2 threads) beside SwiftShader and says why, the status bar and the panel name the backend and its threads; one progress surface while training; Stop shows "Stopping…" at once and ends within 3 s; the form saves to the workspace settings (in-host suite "@surfaces", workbench watched)', async () => {
    // A large validation text (half of about 2 MB): a full validation pass after Stop would take far longer than 3 s.
    const fx = makeFixtureWorkspace(path.join(tmp, 'surfaces'), {
      sizeKb: 1500,
      settings: {
        ...TINY_MODEL, 'gatescope.training.backend': 'auto', 'gatescope.model.hiddenSize': 64, 'gatescope.model.embeddingSize': 32,
        'gatescope.training.sequenceLength': 32, 'gatescope.training.batchSize': 16, 'gatescope.training.validationFraction': 0.5,
        'gatescope.training.evalIntervalSeconds': 3600, 'gatescope.corpus.maxCorpusSizeMB': 64, 'gatescope.training.threads': 2,
      },
    });
    makeManySmallFiles(fx.root, 12_000); // a collection long enough to stop it while its notification is up
    const syncDir = path.join(tmp, 'surfaces-sync');
    fs.mkdirSync(syncDir, { recursive: true });
    const at = (name: string) => path.join(syncDir, `${name}.json`);
    let watch: SurfaceWatch | undefined;
    let userSettings = '';
    let gatescopeLog = '';
    let driverError = '';
    const r = await runExtensionTests({
      workspace: fx.root,
      developmentPaths: [PROJECT_ROOT],
      testsPath: TESTS_PATH,
      extensionEnv: { GATESCOPE_TEST_GREP: '@surfaces', GATESCOPE_SURFACES_SYNC: syncDir },
      expectTests: 3,
      timeoutMs: 15 * 60_000,
      failureScreenshot: path.join(tmp, 'surfaces-failure.png'),
      during: async (wb, server) => {
        let exited = false;
        void wb.exited.then(() => (exited = true));
        const gone = () => (exited ? 'the extension host exited' : undefined);
        watch = watchSurfaces(wb.page, STATUS);
        try {
          await waitForJson(at('form-ready'), 'the form test', 10 * 60_000, gone);
          await typeIntoPanelField(wb.page, 'field-hiddenSize', '48');
          writeJsonAtomic(at('form-done'), { t: Date.now() });
          await waitForJson(at('collect-started'), 'the collection test', 5 * 60_000, gone);
          await wb.page.locator('.notifications-center .monaco-list-row').filter({ hasText: /reading the workspace/i }).first().waitFor({ timeout: 60_000 });
          writeJsonAtomic(at('toast-seen'), { t: Date.now() });
          await waitForJson(at('collect-stopped'), 'the collection test', 5 * 60_000, gone);
          await new Promise((res) => setTimeout(res, 1000)); // the last samples
        } catch (e) {
          // The in-host report (printed below) says more than a driver that waited in vain.
          driverError = (e as Error).message;
        }
        await watch.stop();
        const user = path.join(server.dataDir, 'user-data', 'User', 'settings.json');
        userSettings = fs.existsSync(user) ? fs.readFileSync(user, 'utf8') : '';
        // The GateScope output channel (a LogOutputChannel) as VS Code writes it to disk.
        const logs = path.join(server.dataDir, 'user-data', 'logs');
        for (const session of fs.existsSync(logs) ? fs.readdirSync(logs) : []) {
          for (const host of fs.readdirSync(path.join(logs, session)).filter((d) => d.startsWith('exthost'))) {
            const file = path.join(logs, session, host, 'gatescope.gatescope', 'GateScope.log');
            if (fs.existsSync(file)) gatescopeLog += fs.readFileSync(file, 'utf8');
          }
        }
        writeJsonAtomic(at('driver-done'), { t: Date.now() });
      },
    });
    printReport(r.log);
    await watch?.stop();
    assert.strictEqual(r.exitCode, 0, `the in-host suite failed:\n${logTail(r.log, 80)}`);
    assert.strictEqual(driverError, '', 'the outside driver failed');
    const wbs = watch!.workbench, panel = watch!.panel;
    const t = (name: string) => (JSON.parse(fs.readFileSync(at(name), 'utf8')) as { t: number }).t;
    /** The samples from the one in force at `from` up to `to`. */
    const between = <S extends { t: number }>(list: S[], from: number, to: number) => {
      const i = list.findIndex((x) => x.t > from);
      return list.slice(Math.max(0, (i < 0 ? list.length : i) - 1)).filter((x) => x.t <= to);
    };

    // Every check below adds what it found wrong to `problems`, so one run reports all of them.
    const problems: string[] = [];
    const check = (ok: unknown, problem: string) => { if (!ok) problems.push(problem); };

    // One progress surface while training: no GateScope notification (the spec keeps the notification
    // center open), no VS Code progress entry in the status bar; the GateScope status bar item shows the
    // progress and moves.
    const training = between(wbs, t('training'), t('stop-asked'));
    const notes = [...new Set(training.flatMap((x) => x.notifications.filter((m) => /GateScope/i.test(m))))];
    check(notes.length === 0, `a GateScope notification was up during training: ${JSON.stringify(notes)}`);
    const entries = [...new Set(training.map((x) => x.progressEntry).filter(Boolean))];
    check(entries.length === 0, `VS Code showed a progress entry in the status bar during training: ${JSON.stringify(entries)}`);
    const progress = [...new Set(training.map((x) => x.status).filter((x) => /GateScope step \d+ · [\d.]+ bpc · [\d.]+k? tok\/s · CPU \(WebAssembly\), 2 threads$/.test(x)))];
    console.log(`      during training (${training.length} workbench samples): ${progress.length} status texts, e.g. ${JSON.stringify(progress[progress.length - 1])}`);
    check(progress.length >= 2, `the status bar did not show the training progress: ${JSON.stringify(training.map((x) => x.status))}`);

    // The panel names the backend and its threads while training.
    const named = [...new Set(between(panel, t('training'), t('stop-asked')).map((x) => `${x.backend} | ${x.adapter}`))];
    console.log(`      panel Backend | Adapter while training: ${JSON.stringify(named)}`);
    check(named.length > 0 && named.every((n) => /^CPU \(WebAssembly\) \| WebAssembly SIMD, 2 threads \(.+\)$/.test(n)), `the panel did not name the WebAssembly engine and its 2 threads: ${JSON.stringify(named)}`);

    // Why the CPU: the log and the panel say so.
    const logged = gatescopeLog.split('\n').filter((l) => /backend \(gatescope.training.backend "auto"\)/.test(l));
    console.log(`      log: ${JSON.stringify(logged)}`);
    check(logged.some((l) => /WebGPU adapter is SwiftShader, a software renderer, slower than the CPU: training on the CPU \(WebAssembly SIMD\)/.test(l)), `the GateScope log did not say why it trains on the CPU (${gatescopeLog.length} characters of log)`);
    check(/training on CPU \(WebAssembly\) with 2 threads/.test(gatescopeLog), 'the GateScope log did not say the run trains on the WebAssembly engine with 2 threads');
    const why = [...new Set(panel.map((x) => x.note).filter(Boolean))];
    console.log(`      panel notes: ${JSON.stringify(why)}`);
    check(why.some((n) => /SwiftShader, a software renderer, slower than the CPU: training on the CPU \(WebAssembly SIMD\)/.test(n)), 'the panel did not say why it trains on the CPU');

    // Stop: "Stopping…" in the status bar and the panel at once, before the idle text.
    const stopAsked = t('stop-asked');
    const firstAfter = <S extends { t: number }>(list: S[], pred: (x: S) => boolean) => list.find((x) => x.t >= stopAsked && pred(x));
    const barStopping = firstAfter(wbs, (x) => /Stopping…/.test(x.status));
    const panelStopping = firstAfter(panel, (x) => x.status === 'Stopping…');
    const barIdle = firstAfter(wbs, (x) => !/tok\/s|Stopping/.test(x.status));
    console.log(`      Stop asked; "Stopping…" after ${barStopping ? barStopping.t - stopAsked : '—'} ms in the status bar, ${panelStopping ? panelStopping.t - stopAsked : '—'} ms in the panel; stopped after ${t('stopped') - stopAsked} ms`);
    check(barStopping && barStopping.t - stopAsked < 1500, 'the status bar did not show "Stopping…" at once');
    check(panelStopping && panelStopping.t - stopAsked < 1500, 'the panel did not show "Stopping…" at once');
    check(barIdle && barStopping && barIdle.t >= barStopping.t, 'the status bar went idle before it showed "Stopping…"');

    // The form: saved to the workspace settings, and the panel said so.
    const saved = panel.find((x) => x.t >= t('form-ready') && x.saved);
    console.log(`      form: ${JSON.stringify(saved?.saved)}; workspace settings: ${JSON.stringify(JSON.parse(fs.readFileSync(path.join(fx.root, '.vscode', 'settings.json'), 'utf8'))['gatescope.model.hiddenSize'])}`);
    check(saved?.saved === 'Saved to workspace settings', `the panel did not say "Saved to workspace settings": ${JSON.stringify(saved?.saved)}`);
    check(userSettings.length > 0, 'the user settings file was not found');
    check(!userSettings.includes('gatescope.model.hiddenSize'), `the user settings got the value: ${userSettings}`);

    // Stop while reading the workspace: its notification says "Stopping…" at once.
    const collectStop = t('collect-stop');
    const noteStopping = wbs.find((x) => x.t >= collectStop && x.notifications.some((m) => /reading the workspace/i.test(m) && /Stopping…/.test(m)));
    console.log(`      Stop while reading: "Stopping…" in the notification after ${noteStopping ? noteStopping.t - collectStop : '—'} ms`);
    check(noteStopping && noteStopping.t - collectStop < 1500, `the reading notification did not show "Stopping…": ${JSON.stringify(between(wbs, collectStop, collectStop + 3000).map((x) => x.notifications))}`);
    assert.deepStrictEqual(problems, []);
  });

  it('the inspector: its heatmaps, hover, unit search, matches and saturation equal `gatescope inspect`; a unit colours the editor; screenshots in three themes; bad input; speed (in-host suite "@inspector" and driver)', async () => {
    const fx = makeFixtureWorkspace(path.join(tmp, 'inspector'), { settings: TINY_MODEL });
    const syncDir = path.join(tmp, 'inspector-sync');
    fs.mkdirSync(syncDir, { recursive: true });
    // The models, trained by the CLI on the same workspace: a small 2-layer LSTM to inspect, and one of
    // hidden 256, 2 layers (a single step: only its speed matters) for the timing.
    const cliPath = path.join(PROJECT_ROOT, 'out', 'cli', 'gatescope.js');
    const small = path.join(tmp, 'inspector-small.safetensors'), big = path.join(tmp, 'inspector-big.safetensors');
    const train = (args: string[]) => run(process.execPath, [cliPath, 'train', fx.root, '--quiet', '--sample-length', '1', '--seq', '32', '--batch', '8', '--embed', '16', ...args]);
    train(['--arch', 'lstm', '--hidden', '32', '--layers', '2', '--time', '25', '--out', small]);
    train(['--arch', 'lstm', '--hidden', '256', '--layers', '2', '--steps', '1', '--out', big]);
    const file = fx.sourceFiles.map((f) => (path.isAbsolute(f) ? path.relative(fx.root, f) : f)).find((f) => f.endsWith('.ts'))!;
    const inspectorCase: InspectorCase = { smallModel: small, smallHidden: 32, bigModel: big, node: process.execPath, cli: cliPath, file };
    writeJsonAtomic(path.join(syncDir, 'case.json'), inspectorCase);
    const outDir = path.join(os.tmpdir(), 'gatescope-inspector-screenshots'); // kept after the run, to be looked at
    let report: InspectorReport | undefined;
    const r = await runExtensionTests({
      workspace: fx.root,
      developmentPaths: [PROJECT_ROOT],
      testsPath: TESTS_PATH,
      extensionEnv: { GATESCOPE_TEST_GREP: '@inspector', GATESCOPE_INSPECTOR_SYNC: syncDir },
      expectTests: 6,
      timeoutMs: 15 * 60_000,
      viewport: { width: 1600, height: 1000 },
      failureScreenshot: path.join(tmp, 'inspector-failure.png'),
      during: async (wb) => {
        report = await driveInspector(wb, syncDir, inspectorCase, fx.root, outDir);
      },
    });
    printReport(r.log);
    assert.ok(report, 'the driver did not run');
    console.log(`      compared with the CLI: ${report.compared.join(', ')}; largest difference ${report.maxDifference.toExponential(2)}`);
    console.log(`      512 × 4,000 heatmap render: ${report.renderMs.map((x) => x.toFixed(1)).join(', ')} ms; hover ${report.hoverMs ? `${report.hoverMs.median.toFixed(2)} ms median, ${report.hoverMs.max.toFixed(1)} ms max` : '—'}; match search ${report.matchTokensPerSecond ? `${Math.round(report.matchTokensPerSecond).toLocaleString('en-US')} tokens/s` : '—'}`);
    const speed = path.join(syncDir, 'speed.json');
    if (fs.existsSync(speed)) console.log(`      worker: ${fs.readFileSync(speed, 'utf8').replace(/\s+/g, ' ')}`);
    assert.deepStrictEqual(report.problems, [], 'the driver found problems');
    assert.strictEqual(r.exitCode, 0, `the in-host inspector spec failed:\n${logTail(r.log, 80)}`);
    const sorted = [...report.renderMs].sort((a, b) => a - b);
    assert.ok(sorted[Math.floor(sorted.length / 2)] < 50, `rendering 512 × 4,000 took ${sorted.join(', ')} ms (median over 50 ms)`);
    for (const f of report.shots) {
      const kb = fs.statSync(f).size / 1024;
      console.log(`      ${f}: ${kb.toFixed(0)} KB`);
      assert.ok(kb < 400, `${f} is ${kb.toFixed(0)} KB`);
      if (process.env.GATESCOPE_UPDATE_SCREENSHOT === '1') fs.copyFileSync(f, path.join(PROJECT_ROOT, 'media', path.basename(f)));
    }
  });

  it('inline completions: typing shows the model\'s ghost text, Tab inserts it, accept-word one word, before an auto-closed `)`; superseded requests are not shown; nothing when off (status bar click), with no model or below the threshold; the host answers within 200 ms while keys come every 30 ms (in-host suite "@completions" and driver)', async () => {
    // The lines a small model learns in half a minute, so that it suggests whole lines of them.
    const corpusBlock = [
      'const total = computeTotal(items, price);',
      'export function formatName(user: string): string {',
      '  return user.trim().toLowerCase();',
      '}',
      'if (value > limit) {',
      '  console.log("value is above the limit");',
      '}',
      'let count = items.length + offset;',
    ];
    const corpus = path.join(tmp, 'completions-corpus');
    fs.mkdirSync(corpus, { recursive: true });
    fs.writeFileSync(path.join(corpus, 'lines.ts'), `${corpusBlock.join('\n')}\n`.repeat(250));
    const fx = makeFixtureWorkspace(path.join(tmp, 'completions'), {
      sizeKb: 20,
      settings: {
        'gatescope.completions.enabled': false,
        // Only the inline suggestions: no suggest widget over them; brackets always auto-close.
        'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
        'editor.suggestOnTriggerCharacters': false,
        'editor.wordBasedSuggestions': 'off',
        'editor.parameterHints.enabled': false,
        'editor.autoClosingBrackets': 'always',
        'editor.inlineSuggest.enabled': true,
      },
    });
    const file = 'src/typing.ts';
    fs.writeFileSync(path.join(fx.root, file), `${corpusBlock.join('\n')}\n`.repeat(3));
    const syncDir = path.join(tmp, 'completions-sync');
    fs.mkdirSync(syncDir, { recursive: true });
    const cliPath = path.join(PROJECT_ROOT, 'out', 'cli', 'gatescope.js');
    const small = path.join(tmp, 'completions-small.safetensors'), big = path.join(tmp, 'completions-big.safetensors');
    const train = (args: string[]) => run(process.execPath, [cliPath, 'train', corpus, '--quiet', '--sample-length', '1', '--seq', '64', '--batch', '16', '--embed', '16', ...args]);
    // A step budget, not a time budget: the same model on a busy machine as on an idle one (about 30 s idle).
    train(['--arch', 'lstm', '--hidden', '64', '--layers', '1', '--steps', '6000', '--out', small]);
    train(['--arch', 'lstm', '--hidden', '256', '--layers', '2', '--steps', '1', '--out', big]);
    writeJsonAtomic(path.join(syncDir, 'case.json'), { smallModel: small, bigModel: big, file, corpusBlock } satisfies CompletionsCase);
    const selector = statusBarItemSelector('gatescope.gatescope', 'gatescope.completionStatus');
    let statusTexts: string[] = [];
    let driverError = '';
    const r = await runExtensionTests({
      workspace: fx.root,
      developmentPaths: [PROJECT_ROOT],
      testsPath: TESTS_PATH,
      extensionEnv: { GATESCOPE_TEST_GREP: '@completions', GATESCOPE_COMPLETIONS_SYNC: syncDir },
      expectTests: 7,
      timeoutMs: 15 * 60_000,
      failureScreenshot: path.join(tmp, 'completions-failure.png'),
      during: async (wb) => {
        let exited = false;
        void wb.exited.then(() => (exited = true));
        const gone = () => (exited ? 'the extension host exited' : fs.existsSync(path.join(syncDir, 'host-done.json')) ? 'the in-host tests ended' : undefined);
        const watch = watchText(wb.page, selector, 200);
        try {
          // The in-host spec asks for two clicks on the completions item: off, then on again.
          for (const n of [1, 2]) {
            await waitForJson(path.join(syncDir, `click-${n}.json`), `the spec to ask for click ${n}`, 10 * 60_000, gone);
            await wb.page.click(selector);
            writeJsonAtomic(path.join(syncDir, `clicked-${n}.json`), { t: Date.now() });
          }
        } catch (e) {
          driverError = (e as Error).message;
        }
        await waitForJson(path.join(syncDir, 'host-done.json'), 'the in-host tests', 10 * 60_000, () => (exited ? 'the extension host exited' : undefined)).catch(() => undefined);
        statusTexts = await watch.stop();
      },
    });
    printReport(r.log);
    assert.strictEqual(r.exitCode, 0, `the in-host completions spec failed:\n${logTail(r.log, 80)}`);
    assert.strictEqual(driverError, '', 'the outside driver failed');
    const seen = [...new Set(statusTexts.map((t) => t.trim()))];
    console.log(`      the completions item showed ${JSON.stringify(seen)}`);
    for (const want of [/waiting for a model/, /completions off/, /^GateScope completions$/]) {
      assert.ok(seen.some((t) => want.test(t)), `the status bar item never showed ${want}: ${JSON.stringify(seen)}`);
    }
  });

  it('the packaged .vsix (under 5 MB) installs with --install-extension, activates, trains from the command palette, refuses a corrupted import with an error notification, and resumes after a window reload', async () => {
    const vsix = path.join(tmp, 'gatescope.vsix');
    run('npx', ['vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', vsix]);
    const size = fs.statSync(vsix).size;
    console.log(`      gatescope.vsix: ${(size / 1024).toFixed(0)} KB`);
    assert.ok(size < 5 * 1024 * 1024, `the .vsix is ${size} bytes`);
    const extensionsDir = path.join(tmp, 'extensions');
    installVsix(vsix, extensionsDir);
    const fx = makeFixtureWorkspace(path.join(tmp, 'ui'), { settings: { ...TINY_MODEL, 'gatescope.training.backend': 'auto', 'gatescope.model.hiddenSize': 64, 'gatescope.training.evalIntervalSeconds': 3 } });
    const server = await startCodeServer({ workspace: fx.root, extensionsDir });
    const wb = await openWorkbench(server, { folder: fx.root, viewport: { width: 1440, height: 900 } });
    try {
      const { page } = wb;
      await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      // Runs a command from the palette as a user would. Contributed commands appear in the palette a
      // little after the workbench is drawn, so an empty search is retried.
      const palette = async (command: string) => {
        const deadline = Date.now() + 60_000;
        for (;;) {
          await page.keyboard.press('F1');
          await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
          await page.keyboard.type(command);
          const row = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: command }).first();
          try {
            await row.waitFor({ timeout: 3000 });
            await row.click();
            return;
          } catch (e) {
            await page.keyboard.press('Escape');
            if (Date.now() > deadline) {
              await screenshot(page, path.join(tmp, 'palette-failure.png'));
              throw new Error(`the command palette has no "${command}" (screenshot ${path.join(tmp, 'palette-failure.png')})`);
            }
          }
        }
      };
      // GateScope activates on startup (its status bar item appears without the panel being opened), and
      // with no model yet the palette offers neither Resume, Export nor Reset.
      await page.waitForSelector(STATUS, { timeout: 120_000 });
      const gatescopeRows = async () => {
        await page.keyboard.press('F1');
        await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
        await page.keyboard.type('GateScope: ');
        await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Train on Workspace' }).first().waitFor({ timeout: 60_000 });
        const rows = await page.locator('.quick-input-list .monaco-list-row').allTextContents();
        await page.keyboard.press('Escape');
        return rows;
      };
      const before = await gatescopeRows();
      console.log(`      palette before training: ${JSON.stringify(before)}`);
      assert.ok(!before.some((r) => /Resume Training|Export Model|Reset Model/.test(r)), 'the palette offers model commands without a model');
      await palette('GateScope: Train on Workspace');
      // "auto" trains on the CPU here: the panel's only WebGPU adapter is SwiftShader, a software renderer.
      await page.waitForFunction((sel) => /GateScope step \d+ · .*CPU/.test(document.querySelector(sel)?.textContent ?? ''), STATUS, { timeout: 180_000 });
      // The panel (opened to learn its WebGPU adapter) draws its curves; let a few evaluations land.
      const frame = webviewFrame(page, 'gatescope.gatescope');
      await frame.locator('canvas').first().waitFor({ timeout: 60_000 });
      // An editor beside the panel, as a user would have it.
      await page.keyboard.press('Control+P');
      await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
      await page.keyboard.type(path.basename(fx.sourceFiles[0]));
      await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 30_000 });
      await page.keyboard.press('Enter');
      await page.waitForTimeout(15_000);
      const shot = path.join(tmp, 'screenshot.png');
      await screenshot(page, shot);
      if (process.env.GATESCOPE_UPDATE_SCREENSHOT === '1') fs.copyFileSync(shot, path.join(PROJECT_ROOT, 'media', 'screenshot.png'));
      const text = await page.locator(STATUS).textContent();
      console.log(`      status bar: ${JSON.stringify(text)}`);
      await palette('GateScope: Stop Training');
      await page.waitForFunction((sel) => !/tok\/s|Stopping/.test(document.querySelector(sel)?.textContent ?? ''), STATUS, { timeout: 60_000 });
      const stopped = (await page.locator(STATUS).textContent())?.trim();

      // Import a corrupted file through the file dialog (code-server's simple dialog is a quick input).
      const bad = path.join(fx.root, 'corrupted.safetensors');
      fs.writeFileSync(bad, Buffer.concat([Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0]), Buffer.from('{"oops":')]));
      await palette('GateScope: Import Model…');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible' });
      const toast = page.locator('.notifications-toasts').getByText(/could not import the model: corrupted\.safetensors/i);
      // The simple file dialog fills in the active editor's folder once it is ready; type the path
      // after that, and again if the dialog replaced it, until it accepts the file.
      await page.waitForFunction(() => ((document.querySelector('.quick-input-widget input') as HTMLInputElement | null)?.value ?? '').length > 0);
      for (let i = 0; i < 5 && !(await toast.count()); i++) {
        if (await input.isVisible()) {
          if ((await input.inputValue()) !== bad) await input.fill(bad);
          await page.waitForTimeout(300);
          await page.keyboard.press('Enter');
        }
        await page.waitForTimeout(2000);
      }
      try {
        await toast.first().waitFor({ timeout: 30_000 });
      } catch (e) {
        await screenshot(page, path.join(tmp, 'import-failure.png'));
        throw new Error(`no error notification after importing a corrupted file (screenshot ${path.join(tmp, 'import-failure.png')})`);
      }
      console.log(`      notification: ${JSON.stringify((await toast.first().textContent())?.trim())}`);
      assert.match((await toast.first().textContent()) ?? '', /current model is kept/);
      assert.strictEqual((await page.locator(STATUS).textContent())?.trim(), stopped, 'the model changed');

      // Reload the window (a new extension host), then Resume: the step count goes on from where it stopped.
      const stoppedStep = Number(/step (\d+)/.exec(stopped ?? '')?.[1]);
      assert.ok(stoppedStep > 0, `no step in ${JSON.stringify(stopped)}`);
      await reloadWorkbench(wb);
      await palette('GateScope: Resume Training');
      await page.waitForFunction(([sel, n]) => {
        const m = /GateScope step (\d+) · .*(WebGPU|CPU)/.exec(document.querySelector(sel as string)?.textContent ?? '');
        return m !== null && Number(m[1]) > (n as number);
      }, [STATUS, stoppedStep] as const, { timeout: 120_000 });
      console.log(`      after a reload, Resume went on from step ${stoppedStep}: ${JSON.stringify((await page.locator(STATUS).textContent())?.trim())}`);
      await palette('GateScope: Stop Training');
    } finally {
      // A browser that went away under load explains a later "Target page, context or browser has been closed".
      if (wb.incidents.length) console.log(`      ${browserState(wb)}`);
      await wb.close();
      await server.stop();
    }
  });
});
