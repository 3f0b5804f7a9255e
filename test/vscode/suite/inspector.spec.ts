// The in-host half of the inspector test (test/vscode/inspectorDriver.ts drives the webview from outside):
// with no model the inspector says so; a model trained by the CLI is imported, a fixture file opened and a
// range selected; the driver checks the webview's heatmaps, hover, unit search, matches and saturation
// against `gatescope inspect --json`, then asks for a unit to colour the editor, and this spec checks the
// decorations against the CLI's values for the visible range and that clearing removes them; the driver
// photographs the inspector in three themes; then bad input (an empty selection, 100,000 selected
// characters, a file in a language the model never saw, 1,000 malformed messages each way, the model
// changed mid-computation) and speed (a hidden-256, 2-layer LSTM over 2,000 tokens in the worker while the
// host answers commands). Tag "@inspector"; needs GATESCOPE_INSPECTOR_SYNC (the hand-over folder, with
// case.json from the harness: the checkpoints and the CLI to compare with).

import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { scaleFor } from '../../../kernels/inspect/colorScale';
import { QuantityName } from '../../../kernels/inspect/types';
import { themeApplied, themeRequest, waitForJson, writeJsonAtomic } from '../sync';
import { sleep, until as waitUntil } from './wait';

/** What the harness prepared (written before the workbench starts). */
export interface InspectorCase {
  /** A small 2-layer LSTM trained by the CLI on the fixture workspace, and one of hidden 256, 2 layers. */
  smallModel: string;
  smallHidden: number;
  bigModel: string;
  /** node and out/cli/gatescope.js, to compare with. */
  node: string;
  cli: string;
  /** The fixture file to inspect (workspace-relative). */
  file: string;
}

/** The request the extension sent for the last inspection, and a summary of what came back (gatescope.test.inspectorState). */
interface InspectorState {
  status: string;
  message: string;
  lastRequest: { uri: string; selection: { start: number; end: number } | null; visible: { start: number; end: number }; cursor: number } | null;
  lastResult: { requestId: number; uri: string; version: number; start: number; end: number; selection: { start: number; end: number } | null; tokens: number; step: number; hiddenSize: number; notice: string; workerMs: number } | null;
  malformedDropped: Record<string, number>;
}

interface Decorations {
  unit: { layer: number; quantity: QuantityName; unit: number } | null;
  ranges: { start: { line: number; character: number }; end: { line: number; character: number }; color: string; value: number }[];
}

const state = () => vscode.commands.executeCommand<InspectorState>('gatescope.test.inspectorState');
/** Polls as the shared `until` does, with this suite's longer default (the inspector's first answers load a model). */
const until = <T>(what: string, get: () => PromiseLike<T>, ok: (v: T) => boolean, timeoutMs = 120_000) => waitUntil(what, get, ok, timeoutMs, 100);

/** The inspector's result for this document at this version (after `after`, a request id). */
function resultFor(doc: vscode.TextDocument, after: number, step?: number) {
  return until(`an inspection of ${doc.uri.toString()}`, state, (s) => !!s.lastResult && s.lastResult.requestId > after && s.lastResult.uri === doc.uri.toString()
    && s.lastResult.version === doc.version && (step === undefined || s.lastResult.step === step));
}

function cliJson<T>(c: InspectorCase, args: string[]): T {
  const out = execFileSync(c.node, [c.cli, ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  return JSON.parse(out) as T;
}

describe('GateScope inspector @inspector', function () {
  this.timeout(15 * 60_000);
  const dir = process.env.GATESCOPE_INSPECTOR_SYNC ?? '';
  const at = (name: string) => path.join(dir, `${name}.json`);
  let c: InspectorCase;
  let lastId = 0;

  /** Stops a wait for the driver once the driver has given up (its problems are in the harness's report). */
  const driverGone = () => (fs.existsSync(at('driver-done')) ? 'the driver stopped early (see its problems in the harness output)' : undefined);

  // A failed test tells the driver at once, so it does not wait for steps that will never come.
  afterEach(function () {
    if (this.currentTest?.state === 'failed') writeJsonAtomic(at('host-failed'), { test: this.currentTest.title });
  });

  before(async function () {
    assert.ok(dir, 'GATESCOPE_INSPECTOR_SYNC is not set: run this spec through test/vscode.test.ts, whose driver works the webview');
    c = JSON.parse(fs.readFileSync(at('case'), 'utf8')) as InspectorCase;
    const ext = vscode.extensions.getExtension('gatescope.gatescope');
    assert.ok(ext, 'GateScope is not loaded');
    await ext.activate();
  });

  it('with no model yet, the inspector says so (and nothing throws)', async () => {
    await vscode.commands.executeCommand('gatescope.openInspector');
    const s = await until('the no-model status', state, (x) => x.status === 'noModel');
    assert.match(s.message, /no model/i);
    writeJsonAtomic(at('no-model'), { message: s.message });
    await waitForJson(at('no-model-seen'), 'the driver to see the no-model message', 120_000, driverGone);
  });

  it('inspects a selection; the driver checks the webview against `gatescope inspect`; a unit colours the editor as the CLI says, and clearing removes it', async () => {
    await vscode.commands.executeCommand('gatescope.import', vscode.Uri.file(c.smallModel));
    const [folder] = vscode.workspace.workspaceFolders!;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, c.file));
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
    await vscode.commands.executeCommand('gatescope.openInspector');
    editor.selection = new vscode.Selection(new vscode.Position(6, 2), new vscode.Position(6, 16));
    const s = await resultFor(doc, lastId);
    lastId = s.lastResult!.requestId;
    assert.ok(s.lastRequest && s.lastRequest.selection, 'the request carried no selection');
    console.log(`      inspected ${s.lastResult!.tokens} tokens of ${c.file} [${s.lastResult!.start}, ${s.lastResult!.end}) in ${s.lastResult!.workerMs.toFixed(1)} ms in the worker`);
    writeJsonAtomic(at('inspected'), { fsPath: doc.uri.fsPath, request: s.lastRequest, result: s.lastResult });
    const colored = await waitForJson<{ unit: Decorations['unit'] }>(at('colored'), 'the driver to check the webview and colour the editor by a unit', 8 * 60_000, driverGone);

    // The decorations: one per token of the visible range, its colour the panel's colour for the value the CLI gives.
    const deco = await until('the unit decorations', () => vscode.commands.executeCommand<Decorations>('gatescope.test.inspectorDecorations'),
      (d) => !!d.unit && d.unit.unit === colored.unit!.unit && d.ranges.length > 0, 60_000);
    const visible = editor.visibleRanges[0];
    const vStart = doc.offsetAt(visible.start), vEnd = doc.offsetAt(visible.end);
    const cli = cliJson<{ window: { start: number; end: number }; offsets: number[]; layers: { names: string[]; values: Record<string, number[][]> }[] }>(c, [
      'inspect', c.smallModel, '--file', doc.uri.fsPath, '--visible', `${vStart}:${vEnd}`, '--cursor', String(doc.offsetAt(editor.selection.active)), '--json',
    ]);
    const u = deco.unit!;
    const column = cli.layers[u.layer].values[u.quantity].map((row) => row[u.unit]);
    const scale = scaleFor(u.quantity, Float32Array.from(cli.layers[u.layer].values[u.quantity].flat()));
    let worst = 0, checked = 0;
    for (const r of deco.ranges) {
      const off = doc.offsetAt(new vscode.Position(r.start.line, r.start.character)) - cli.window.start;
      const t = cli.offsets.indexOf(off);
      assert.ok(t >= 0, `a decoration starts at offset ${off + cli.window.start}, where the CLI has no token`);
      worst = Math.max(worst, Math.abs(r.value - column[t]));
      const [R, G, B] = scale.rgb(column[t]);
      assert.ok(r.color.includes(`${R}, ${G}, ${B}`) || r.color.toLowerCase().includes([R, G, B].map((x) => x.toString(16).padStart(2, '0')).join('')),
        `token ${t}: colour ${r.color} is not the scale's ${R}, ${G}, ${B} for ${column[t]}`);
      checked++;
    }
    console.log(`      ${checked} decorations on the visible range; largest difference from the CLI ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-5, `a decoration's value differs from the CLI's by ${worst}`);
    await vscode.commands.executeCommand('gatescope.clearUnitColoring');
    const cleared = await until('the cleared decorations', () => vscode.commands.executeCommand<Decorations>('gatescope.test.inspectorDecorations'), (d) => d.ranges.length === 0 && d.unit === null, 30_000);
    assert.deepStrictEqual(cleared.ranges, []);
    writeJsonAtomic(at('decorations-checked'), { checked, worst });
  });

  it('holds still in each theme while the driver photographs the inspector', async () => {
    const workbench = vscode.workspace.getConfiguration('workbench');
    const original = workbench.inspect('colorTheme')?.globalValue;
    try {
      for (let i = 0, deadline = Date.now() + 5 * 60_000; !fs.existsSync(at('shots-done')); ) {
        assert.ok(Date.now() < deadline, 'the driver neither asked for a theme nor finished within 5 minutes');
        assert.ok(!fs.existsSync(at('driver-done')), 'the driver stopped before the screenshots (see its problems in the harness output)');
        if (fs.existsSync(themeRequest(dir, i))) {
          const { theme } = JSON.parse(fs.readFileSync(themeRequest(dir, i), 'utf8')) as { theme: string };
          await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
          writeJsonAtomic(themeApplied(dir, i++), { theme });
        }
        await sleep(100);
      }
    } finally {
      await workbench.update('colorTheme', original, vscode.ConfigurationTarget.Global);
    }
  });

  it('a click on a match opens its file with the matched text selected', async () => {
    const m = await waitForJson<{ path: string; line: number; character: number; length: number }>(at('match-opened'), 'the driver to click a match', 120_000, driverGone);
    const editor = await until('the matched file in the editor', async () => vscode.window.activeTextEditor, (e) => !!e && e.document.uri.fsPath.replace(/\\/g, '/').endsWith(`/${m.path}`), 30_000);
    const sel = editor!.selection;
    console.log(`      opened ${m.path} at ${m.line + 1}:${m.character + 1}, ${m.length} characters selected`);
    assert.deepStrictEqual([sel.start.line, sel.start.character], [m.line, m.character]);
    assert.strictEqual(editor!.document.offsetAt(sel.end) - editor!.document.offsetAt(sel.start), m.length);
  });

  it('bad input: an empty selection, 100,000 selected characters, an unknown language, 1,000 malformed messages each way', async () => {
    const editor = vscode.window.activeTextEditor!;
    // An empty selection: the visible range is inspected.
    editor.selection = new vscode.Selection(new vscode.Position(3, 0), new vscode.Position(3, 0));
    // (The match just opened selected its text: wait for the inspection of the empty selection.)
    let s = await until('the inspection with an empty selection', state, (x) => !!x.lastResult && x.lastResult.requestId > lastId
      && x.lastResult.uri === editor.document.uri.toString() && x.lastResult.selection === null);
    lastId = s.lastResult!.requestId;
    assert.strictEqual(s.lastRequest!.selection, null);
    // 100,000 characters selected: at most 4,000 tokens, and the panel says why.
    const big = await vscode.workspace.openTextDocument({ language: 'typescript', content: 'const value = compute(a, b);\n'.repeat(3449) });
    const bigEditor = await vscode.window.showTextDocument(big, { viewColumn: vscode.ViewColumn.One, preview: false });
    bigEditor.selection = new vscode.Selection(new vscode.Position(0, 0), big.positionAt(100_000));
    s = await resultFor(big, lastId);
    lastId = s.lastResult!.requestId;
    assert.ok(s.lastResult!.tokens <= 4000, `${s.lastResult!.tokens} tokens inspected`);
    assert.match(s.lastResult!.notice, /4,000|4000/, `no notice about the cut: ${JSON.stringify(s.lastResult!.notice)}`);
    // A language the model never saw (characters outside its vocabulary): a result or a clear message, never a throw.
    const odd = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'Жизнь — это то, что с тобой происходит.\n日本語のテキスト\n'.repeat(20) });
    await vscode.window.showTextDocument(odd, { viewColumn: vscode.ViewColumn.One, preview: false });
    s = await until('the unknown-language inspection', state, (x) => (!!x.lastResult && x.lastResult.uri === odd.uri.toString()) || x.status === 'error');
    console.log(`      unknown language: ${s.status === 'error' ? `message ${JSON.stringify(s.message)}` : `${s.lastResult!.tokens} tokens inspected`}`);
    if (s.status === 'error') assert.ok(s.message.length > 10, 'an error without a message');
    if (s.lastResult) lastId = Math.max(lastId, s.lastResult.requestId);
    // 1,000 malformed messages from the extension side to the webview (the driver posts 1,000 the other way).
    const sent = await vscode.commands.executeCommand<number>('gatescope.test.inspectorPostMalformed', 1000);
    assert.strictEqual(sent, 1000);
    writeJsonAtomic(at('malformed-sent'), { sent });
    const driver = await waitForJson<{ posted: number; dropped: number; errors: string[] }>(at('malformed-posted'), 'the driver\'s malformed messages', 120_000, driverGone);
    assert.strictEqual(driver.posted, 1000);
    const after = await until('the malformed messages from the webview to be dropped', state, (x) => Object.values(x.malformedDropped).reduce((a, b) => a + b, 0) >= 1000, 60_000);
    console.log(`      malformed: the webview dropped ${driver.dropped} of 1,000 (uncaught errors: ${driver.errors.length}); the extension dropped ${JSON.stringify(after.malformedDropped)}`);
    assert.strictEqual(driver.dropped, 1000);
    assert.deepStrictEqual(driver.errors, []);
  });

  it('speed: a hidden-256, 2-layer LSTM over 2,000 tokens in the worker while the host answers commands; a model changed mid-computation', async () => {
    await vscode.commands.executeCommand('gatescope.import', vscode.Uri.file(c.bigModel));
    const text = fs.readFileSync(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, c.file), 'utf8').slice(0, 2000).padEnd(2000, ' ');
    const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: text });
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
    const started = Date.now();
    editor.selection = new vscode.Selection(new vscode.Position(0, 0), doc.positionAt(text.length));
    // While the worker computes, a command round trip through the host: never longer than 200 ms.
    let worst = 0, probes = 0;
    let s: InspectorState;
    for (;;) {
      const t0 = performance.now();
      s = await vscode.commands.executeCommand<InspectorState>('gatescope.test.inspectorState');
      worst = Math.max(worst, performance.now() - t0);
      probes++;
      if (s.lastResult && s.lastResult.uri === doc.uri.toString() && s.lastResult.hiddenSize === 256) break;
      assert.ok(Date.now() - started < 5 * 60_000, 'no inspection of the 2,000 tokens within 5 minutes');
      await sleep(20);
    }
    console.log(`      hidden 256, 2 layers: ${s.lastResult!.tokens} tokens in ${s.lastResult!.workerMs.toFixed(0)} ms in the worker; ${probes} commands answered meanwhile, the slowest in ${worst.toFixed(0)} ms`);
    writeJsonAtomic(at('speed'), { tokens: s.lastResult!.tokens, workerMs: s.lastResult!.workerMs, worstCommandMs: worst, probes });
    assert.ok(worst < 200, `a command took ${worst.toFixed(0)} ms while the inspector computed`);
    lastId = s.lastResult!.requestId;

    // The model changes while an inspection runs: the stale result is dropped; what shows is the new model's.
    editor.selection = new vscode.Selection(new vscode.Position(0, 0), doc.positionAt(1500));
    await sleep(150);
    await vscode.commands.executeCommand('gatescope.import', vscode.Uri.file(c.smallModel));
    const small = { hiddenSize: c.smallHidden };
    s = await until('the inspection with the model imported mid-computation', state, (x) => !!x.lastResult && x.lastResult.requestId > lastId && x.lastResult.uri === doc.uri.toString() && x.lastResult.hiddenSize === small.hiddenSize);
    await sleep(2000); // a stale big-model result would land now
    const settled = await state();
    assert.strictEqual(settled.lastResult!.hiddenSize, small.hiddenSize, 'a result of the replaced model was shown after the new one');
    writeJsonAtomic(at('host-done'), {});
    await waitForJson(at('driver-done'), 'the driver to finish', 120_000);
  });
});
