// GateScope inside a real VS Code (code-server), run by test/vscode.test.ts through the harness. The
// workspace is test/vscode/fixture.ts's: mixed source, a binary file, a git-ignored folder and a .env,
// with a tiny model in .vscode/settings.json. Tests run in order and share the stored model.
// Tags: "@main" for the fixture workspace, "@many" for the 20,000-file workspace (the harness picks).

import * as assert from 'assert';
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GateScopeApi, ModelDescription, TrainingOutcome, TrainingReportEvent } from '../../../extension/api';
import { decodeCheckpoint } from '../../../kernels/checkpoint';
import { waitForJson, writeJsonAtomic } from '../sync';
import { commandProbe } from './wait';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-host-'));

type Report<K extends TrainingReportEvent['kind']> = Extract<TrainingReportEvent, { kind: K }>;

async function gatescope(): Promise<GateScopeApi> {
  const ext = vscode.extensions.getExtension<GateScopeApi>('gatescope.gatescope');
  assert.ok(ext, 'GateScope is not loaded');
  return ext.activate();
}

/** Resolves with the first report of `kind` that satisfies `pred` (reports before the call are missed). */
function nextReport<K extends TrainingReportEvent['kind']>(api: GateScopeApi, kind: K, pred: (r: Report<K>) => boolean = () => true, timeoutMs = 120_000): Promise<Report<K>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`no '${kind}' report in ${timeoutMs / 1000} s`)); }, timeoutMs);
    const sub = api.onDidReport((r) => {
      if (r.kind === 'error') log(`error report: ${r.message}`);
      if (r.kind === kind && pred(r as Report<K>)) {
        clearTimeout(timer);
        sub.dispose();
        resolve(r as Report<K>);
      }
    });
  });
}

/** Records every report from now on. */
function record(api: GateScopeApi): { reports: TrainingReportEvent[]; dispose(): void } {
  const reports: TrainingReportEvent[] = [];
  const sub = api.onDidReport((r) => reports.push(r));
  return { reports, dispose: () => sub.dispose() };
}

function log(s: string): void {
  console.log(`      ${s}`);
}

function cli(args: string[]): unknown {
  const r = cp.spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.strictEqual(r.status, 0, `gatescope ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder');
  return folder.uri.fsPath;
}

async function model(api: GateScopeApi): Promise<ModelDescription> {
  const m = await api.describeModel();
  assert.ok(m, 'no stored model');
  return m;
}

async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('gatescope').update(key, value, vscode.ConfigurationTarget.Workspace);
}

/** Asks the panel to go away: the webview view is disposed (what the user does by closing it). */
async function closePanel(): Promise<void> {
  await vscode.commands.executeCommand('gatescope.panel.removeView');
}

describe('GateScope in VS Code @main', function () {
  let api: GateScopeApi;

  before(async () => {
    api = await gatescope();
  });

  it('Train on Workspace trains a tiny model on the text files only, checkpoints it and shows progress', async () => {
    const checkpoint = nextReport(api, 'checkpoint', (r) => r.step >= 3);
    const progress = nextReport(api, 'progress');
    await vscode.commands.executeCommand('gatescope.train');
    const p = await progress;
    log(`progress: step ${p.step}, ${p.bitsPerChar.toFixed(3)} bpc, ${p.tokensPerSecond.toFixed(0)} tok/s`);
    await checkpoint;
    const outcome = (await vscode.commands.executeCommand('gatescope.stop')) as TrainingOutcome;
    assert.strictEqual(outcome.stoppedBy, 'abort');
    const m = await model(api);
    assert.ok(fs.existsSync(m.checkpointPath), `no checkpoint at ${m.checkpointPath}`);
    assert.strictEqual(m.step, outcome.step);
    assert.ok(m.checkpointPath.includes('gatescope.gatescope'), `the checkpoint is not in the extension's storage: ${m.checkpointPath}`);
    // The char tokenizer holds every character of the text it was built from: the markers' unique
    // characters prove that the git-ignored files, the .env file and the binary file were never read.
    const ck = decodeCheckpoint(fs.readFileSync(m.checkpointPath));
    const chars = new Set((ck.tokenizer as { chars: string[] }).chars);
    for (const c of ['Ж', 'Щ', 'Ѫ']) assert.ok(!chars.has(c), `the model saw ${c}: a file that must be skipped was read`);
    assert.ok(chars.has('{') && chars.has('d'), 'the source files were read');
    log(`checkpoint: step ${m.step}, ${chars.size} distinct characters, ${m.checkpointPath}`);
  });

  it('Stop and Resume continue the step count and the loss history', async () => {
    const before = await model(api);
    const started = nextReport(api, 'started');
    const later = nextReport(api, 'checkpoint', (r) => r.step >= before.step + 3);
    await vscode.commands.executeCommand('gatescope.resume');
    const s = await started;
    assert.strictEqual(s.step, before.step, 'Resume starts where the stored model stopped');
    assert.strictEqual(s.resumed, true);
    await later;
    const outcome = (await vscode.commands.executeCommand('gatescope.stop')) as TrainingOutcome;
    const after = await model(api);
    assert.ok(after.step > before.step + 2, `${before.step} → ${after.step}`);
    assert.strictEqual(after.step, outcome.step);
    assert.ok(after.history.length >= before.history.length, 'the loss history is kept');
    log(`resumed at step ${s.step}, stopped at ${after.step}`);
  });

  it('Export writes a file that loads back; importing a corrupted file shows an error and keeps the model', async () => {
    const m = await model(api);
    const out = vscode.Uri.file(path.join(TMP, 'exported.safetensors'));
    await vscode.commands.executeCommand('gatescope.export', out);
    const exported = decodeCheckpoint(fs.readFileSync(out.fsPath));
    assert.strictEqual(exported.step, m.step);
    const ok = (await vscode.commands.executeCommand('gatescope.import', out)) as { ok: boolean; error: string };
    assert.deepStrictEqual(ok, { ok: true, error: '' });
    assert.strictEqual((await model(api)).step, m.step);

    const stored = fs.readFileSync(m.checkpointPath);
    const bad = Buffer.from(fs.readFileSync(out.fsPath));
    bad.writeBigUInt64LE(BigInt(bad.length * 4), 0); // header longer than the file
    const badUri = vscode.Uri.file(path.join(TMP, 'corrupted.safetensors'));
    fs.writeFileSync(badUri.fsPath, bad);
    const refused = (await vscode.commands.executeCommand('gatescope.import', badUri)) as { ok: boolean; error: string };
    assert.strictEqual(refused.ok, false);
    assert.match(refused.error, /header|length|larger|truncated/i);
    assert.ok(fs.readFileSync(m.checkpointPath).equals(stored), 'the stored model changed');
    log(`corrupted import refused: ${refused.error}`);
  });

  it('trains on WebGPU in the panel and in the CPU worker on the WebAssembly engine and on the reference; every checkpoint loads in the CLI', async () => {
    const results: Record<string, { step: number; file: string; adapter: string }> = {};
    for (const backend of ['webgpu', 'wasm', 'cpu'] as const) {
      await vscode.commands.executeCommand('gatescope.reset', { force: true });
      const started = nextReport(api, 'started');
      await api.startTraining({ backend, maxSteps: 12 });
      const s = await started;
      assert.strictEqual(s.backend, backend);
      const outcome = await api.whenStopped();
      assert.strictEqual(outcome?.stoppedBy, 'steps', JSON.stringify(outcome));
      const m = await model(api);
      assert.strictEqual(m.step, 12);
      const file = path.join(TMP, `${backend}.safetensors`);
      fs.copyFileSync(m.checkpointPath, file);
      results[backend] = { step: m.step, file, adapter: s.adapter };
    }
    const evals = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, cli(['eval', r.file, workspaceDir(), '--json']) as { bitsPerChar: number }]));
    log(`WebGPU (${results.webgpu.adapter}): ${evals.webgpu.bitsPerChar.toFixed(5)} bpc; wasm (${results.wasm.adapter}): ${evals.wasm.bitsPerChar.toFixed(5)} bpc; reference CPU (${results.cpu.adapter}): ${evals.cpu.bitsPerChar.toFixed(5)} bpc`);
    for (const e of Object.values(evals)) assert.ok(Number.isFinite(e.bitsPerChar) && e.bitsPerChar > 0 && e.bitsPerChar < 8);
    // The worker's WebAssembly engine says what it runs on: its thread count (gatescope.training.threads: 0 = cores − 1) and the CPU.
    const threads = Math.max(1, (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) - 1);
    assert.match(results.wasm.adapter, new RegExp(`^WebAssembly SIMD, ${threads} threads? \\(.+\\)$`));
    // Same seed, same text, same steps: the three backends agree to float32 rounding.
    assert.ok(Math.abs(evals.webgpu.bitsPerChar - evals.cpu.bitsPerChar) < 1e-3, 'the WebGPU and CPU models differ');
    assert.ok(Math.abs(evals.wasm.bitsPerChar - evals.cpu.bitsPerChar) < 1e-3, 'the WebAssembly and reference CPU models differ');
  });

  it('"auto" on a hardware adapter (the harness takes SwiftShader for one: GATESCOPE_PROBE_ANY_ADAPTER) times both engines, logs and shows both figures and trains on the faster', async () => {
    await vscode.commands.executeCommand('gatescope.reset', { force: true });
    const started = nextReport(api, 'started');
    await api.startTraining({ backend: 'auto', maxSteps: 3 });
    const s = await started;
    const shown = (await vscode.commands.executeCommand('gatescope.test.panelState')) as { state: { backendReason?: string } };
    const reason = shown.state.backendReason ?? '';
    log(`auto: ${reason} -> ${s.backend} (${s.adapter})`);
    const m = /^timed probe: WebGPU \((.+)\) ([\d.]+) ms\/step, WebAssembly SIMD with (\d+) threads? ([\d.]+) ms\/step: .*training on (WebGPU|the CPU \(WebAssembly SIMD\))/.exec(reason);
    assert.ok(m, `the panel does not show both figures of the probe: ${JSON.stringify(reason)}`);
    const [gpuMs, wasmMs] = [Number(m[2]), Number(m[4])];
    // WebGPU must be 10% faster (kernels/backendChoice.ts PROBE_TIE_RATIO) to be chosen.
    assert.strictEqual(s.backend, gpuMs * 1.1 < wasmMs ? 'webgpu' : 'wasm', `the run does not train on the faster: ${reason}`);
    const outcome = await api.whenStopped();
    assert.strictEqual(outcome?.stoppedBy, 'steps', JSON.stringify(outcome));
  });

  it('the panel keeps training on WebGPU while it is hidden', async () => {
    await vscode.commands.executeCommand('gatescope.reset', { force: true });
    await api.startTraining({ backend: 'webgpu' });
    const first = await nextReport(api, 'checkpoint', (r) => r.step >= 2);
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    const hidden = Date.now();
    const later = await nextReport(api, 'checkpoint', (r) => r.step >= first.step + 20, 60_000);
    log(`hidden for ${((Date.now() - hidden) / 1000).toFixed(1)} s: step ${first.step} → ${later.step}, still on ${(await model(api)).trainingOn}`);
    assert.strictEqual((await model(api)).trainingOn, 'webgpu');
    await api.stopTraining();
    await vscode.commands.executeCommand('gatescope.showPanel');
  });

  it('closing the panel during WebGPU training continues on the CPU from the last checkpoint', async () => {
    await vscode.commands.executeCommand('gatescope.reset', { force: true });
    const rec = record(api);
    try {
      await api.startTraining({ backend: 'webgpu' });
      await nextReport(api, 'checkpoint', (r) => r.step >= 4);
      await closePanel();
      const cpuStart = await nextReport(api, 'started', (r) => r.backend === 'wasm');
      const checkpoints = rec.reports.filter((r): r is Report<'checkpoint'> => r.kind === 'checkpoint');
      const lastGpuCheckpoint = checkpoints[checkpoints.length - 1].step;
      assert.strictEqual(cpuStart.step, lastGpuCheckpoint, 'the CPU continues from the last checkpoint');
      assert.strictEqual(cpuStart.resumed, true);
      await nextReport(api, 'checkpoint', (r) => r.step >= cpuStart.step + 3);
      await api.stopTraining();
      const steps = rec.reports.filter((r): r is Report<'checkpoint'> => r.kind === 'checkpoint').map((r) => r.step);
      for (let i = 1; i < steps.length; i++) assert.ok(steps[i] >= steps[i - 1], `checkpoint steps go back: ${steps.join(', ')}`);
      log(`WebGPU checkpoints up to step ${lastGpuCheckpoint}, CPU from step ${cpuStart.step} to ${(await model(api)).step}`);
    } finally {
      rec.dispose();
    }
  });

  it('a GPU device lost during WebGPU training also continues on the CPU from the last checkpoint', async () => {
    await vscode.commands.executeCommand('gatescope.reset', { force: true });
    const rec = record(api);
    try {
      await api.startTraining({ backend: 'webgpu' });
      await nextReport(api, 'checkpoint', (r) => r.step >= 3);
      const cpuStarted = nextReport(api, 'started', (r) => r.backend === 'wasm');
      await vscode.commands.executeCommand('gatescope.test.loseGpuDevice');
      const cpuStart = await cpuStarted;
      const checkpoints = rec.reports.filter((r): r is Report<'checkpoint'> => r.kind === 'checkpoint');
      assert.strictEqual(cpuStart.step, checkpoints[checkpoints.length - 1].step);
      await nextReport(api, 'checkpoint', (r) => r.step >= cpuStart.step + 2);
      await api.stopTraining();
      log(`device lost; the CPU continued from step ${cpuStart.step}`);
    } finally {
      rec.dispose();
    }
  });

  it('with onPanelClosed = pause, closing the panel pauses at the last checkpoint and Resume continues', async () => {
    await setSetting('training.onPanelClosed', 'pause');
    const rec = record(api);
    try {
      await vscode.commands.executeCommand('gatescope.reset', { force: true });
      await vscode.commands.executeCommand('gatescope.showPanel');
      await api.startTraining({ backend: 'webgpu' });
      await nextReport(api, 'checkpoint', (r) => r.step >= 3);
      await closePanel();
      const outcome = await api.whenStopped();
      assert.strictEqual(outcome?.stoppedBy, 'paused');
      const m = await model(api);
      assert.strictEqual(outcome.step, m.step);
      const started = nextReport(api, 'started');
      await api.startTraining({ resume: true, backend: 'cpu', maxSteps: m.step + 3 });
      assert.strictEqual((await started).step, m.step);
      await api.whenStopped();
      assert.strictEqual((await model(api)).step, m.step + 3);
    } finally {
      rec.dispose();
      await setSetting('training.onPanelClosed', undefined);
    }
  });

  it('another extension uses the exported API: it trains, receives reports, and gets the CLI\'s predictions and activations', async () => {
    await vscode.commands.executeCommand('gatescope.reset', { force: true });
    const text = 'export function ';
    const r = (await vscode.commands.executeCommand('apiConsumer.run', { maxSteps: 10, text, topK: 5, layer: 0 })) as {
      apiVersion: number; kinds: Record<string, number>; steps: number[]; outcome: TrainingOutcome; model: ModelDescription;
      predictions: { id: number; token: string; probability: number }[];
      activations: { tokens: string[]; hidden: number[][]; cell: number[][] | null; gates: Record<string, number[][]> | null };
    };
    assert.strictEqual(r.apiVersion, 1);
    assert.ok(r.kinds.started === 1 && r.kinds.done === 1 && r.kinds.checkpoint >= 1, JSON.stringify(r.kinds));
    assert.strictEqual(r.outcome.step, 10);
    const file = path.join(TMP, 'api.safetensors');
    fs.copyFileSync(r.model.checkpointPath, file);
    const predicted = cli(['predict', file, '--text', text, '--top-k', '5', '--json']) as { predictions: { id: number; token: string; probability: number }[] };
    assert.deepStrictEqual(r.predictions.map((p) => [p.id, p.token]), predicted.predictions.map((p) => [p.id, p.token]));
    r.predictions.forEach((p, i) => assert.ok(Math.abs(p.probability - predicted.predictions[i].probability) < 1e-6, `prediction ${i}: the API says ${p.probability}, the CLI ${predicted.predictions[i].probability}`));
    const acts = cli(['activations', file, '--text', text, '--layer', '0', '--json']) as typeof r.activations;
    assert.deepStrictEqual(r.activations.tokens, acts.tokens);
    const close = (a: number[][], b: number[][], what: string) => {
      assert.strictEqual(a.length, b.length, what);
      a.forEach((row, t) => row.forEach((v, j) => assert.ok(Math.abs(v - b[t][j]) < 1e-6, `${what}[${t}][${j}]: ${v} vs ${b[t][j]}`)));
    };
    close(r.activations.hidden, acts.hidden, 'hidden');
    close(r.activations.cell!, acts.cell!, 'cell');
    for (const g of ['i', 'f', 'g', 'o']) close(r.activations.gates![g], acts.gates![g], `gate ${g}`);
    log(`API: ${JSON.stringify(r.kinds)}; top prediction after ${JSON.stringify(text)}: ${JSON.stringify(r.predictions[0].token)} (${r.predictions[0].probability.toFixed(3)})`);
  });
  it('offers the model\'s continuation as an inline completion, which Tab-accept inserts', async () => {
    await vscode.commands.executeCommand('gatescope.reset', { force: true });
    await api.startTraining({ backend: 'cpu', maxSteps: 4000 });
    await api.whenStopped();
    log(`predictions: ${JSON.stringify(await api.predictNext('export function ', 3))}`);
    // Any suggestion will do here (the confidence threshold has its own test in @completions): a model
    // trained for a few thousand steps is often below the default threshold after 'export function '.
    await vscode.workspace.getConfiguration('gatescope').update('completions.minConfidence', 0, vscode.ConfigurationTarget.Workspace);
    await vscode.workspace.getConfiguration('gatescope').update('completions.enabled', true, vscode.ConfigurationTarget.Workspace);
    try {
      const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: 'export function ' });
      const editor = await vscode.window.showTextDocument(doc);
      const end = doc.lineAt(0).range.end;
      editor.selection = new vscode.Selection(end, end);
      let text = doc.getText();
      for (let i = 0; i < 20 && text === 'export function '; i++) {
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        await new Promise((r) => setTimeout(r, 500));
        await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
        text = doc.getText();
      }
      log(`accepted completion: ${JSON.stringify(text)}`);
      assert.ok(text.startsWith('export function ') && text.length > 'export function '.length, 'no completion was inserted');
      assert.ok(!text.includes('\n'), 'a completion stops at the end of the line');
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    } finally {
      await vscode.workspace.getConfiguration('gatescope').update('completions.enabled', undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.workspace.getConfiguration('gatescope').update('completions.minConfidence', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});

describe('GateScope on 20,000 files @many', function () {
  let api: GateScopeApi;

  before(async () => {
    api = await gatescope();
  });

  it('collection can be cancelled', async () => {
    const t0 = Date.now();
    const run = api.startTraining({ backend: 'cpu' });
    await new Promise((r) => setTimeout(r, 500));
    const tStop = Date.now();
    await vscode.commands.executeCommand('gatescope.stop');
    await assert.rejects(run, (e: Error) => e instanceof vscode.CancellationError || /cancel/i.test(e.message));
    log(`cancelled after ${tStop - t0} ms; the collection ended ${Date.now() - tStop} ms after Stop`);
    assert.ok(Date.now() - tStop < 3000, 'cancelling took too long');
    assert.strictEqual(await api.describeModel(), null);
  });

  it('collection finishes and the extension host answers commands within 200 ms meanwhile', async () => {
    const probe = commandProbe('gatescope.describeModel', 50);
    const t0 = Date.now();
    const started = nextReport(api, 'started', () => true, 600_000);
    await api.startTraining({ backend: 'cpu', maxSteps: 2 });
    const { calls, worst } = await probe.stop();
    const s = await started;
    log(`collected and tokenized in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${s.trainTokens + s.valTokens} tokens; ${calls} commands, slowest ${worst.toFixed(0)} ms`);
    assert.ok(calls >= 5, `only ${calls} commands ran during collection`);
    assert.ok(worst < 200, `a command took ${worst.toFixed(0)} ms`);
    await api.whenStopped();
  });
});

// The progress surfaces, with the workbench watched from outside by test/vscode.test.ts
// (vscode/surfaceWatch.ts): this side trains and stops, and writes the times of each step into the
// hand-over folder GATESCOPE_SURFACES_SYNC; the outside checks what the status bar, the notifications
// and the panel showed at those times. The workspace has a large validation text, so a full
// validation pass after Stop (the old behaviour) would take far longer than the 3 s allowed.
describe('GateScope progress surfaces @surfaces', function () {
  let api: GateScopeApi;
  const sync = process.env.GATESCOPE_SURFACES_SYNC ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-surfaces-'));
  const mark = (name: string, extra: Record<string, unknown> = {}) => writeJsonAtomic(path.join(sync, `${name}.json`), { t: Date.now(), ...extra });
  const panelState = async () => (await vscode.commands.executeCommand('gatescope.test.panelState')) as { state: { status: string; backendReason?: string }; gpu: { available: boolean; adapter: string; software?: string } | null };

  before(async () => {
    api = await gatescope();
  });

  it('with backend "auto" and only SwiftShader, trains on the CPU (WebAssembly, 2 threads as set) and says why; Stop shows "Stopping…" at once and reaches "stopped" within 3 s', async () => {
    assert.strictEqual(vscode.workspace.getConfiguration('gatescope').get('training.backend'), 'auto');
    // The smoke-test driver these runs need turns notification toasts off: the outside watches the
    // notification center instead, open from now on.
    await vscode.commands.executeCommand('notifications.showList');
    await vscode.commands.executeCommand('gatescope.reset', { force: true });
    const started = nextReport(api, 'started');
    let progress = 0;
    const counting = api.onDidReport((r) => { if (r.kind === 'progress') progress++; });
    try {
      await vscode.commands.executeCommand('gatescope.train');
      const s = await started;
      // Opening the panel (to learn its adapter) took the focus, which closes the notification center: open it again.
      await vscode.commands.executeCommand('notifications.showList');
      assert.strictEqual(s.backend, 'wasm', 'auto did not train on the WebAssembly engine beside a software WebGPU adapter');
      assert.strictEqual(vscode.workspace.getConfiguration('gatescope').get('training.threads'), 2);
      assert.match(s.adapter, /^WebAssembly SIMD, 2 threads \(.+\)$/, 'the run does not say it computes on the 2 threads set');
      const shown = await panelState();
      log(`panel WebGPU: ${JSON.stringify(shown.gpu)}; reason shown: ${JSON.stringify(shown.state.backendReason)}`);
      assert.ok(shown.gpu?.available && /SwiftShader, a software renderer/.test(shown.gpu.software ?? ''), `the panel did not see a software adapter: ${JSON.stringify(shown.gpu)}`);
      assert.match(shown.state.backendReason ?? '', /WebGPU adapter is SwiftShader, a software renderer, slower than the CPU: training on the CPU \(WebAssembly SIMD\)/);
      for (let i = 0; i < 600 && progress < 3; i++) await new Promise((r) => setTimeout(r, 100));
      mark('training');
      // Long enough for the status bar to show a few progress reports.
      const more = progress + 4;
      for (let i = 0; i < 600 && progress < more; i++) await new Promise((r) => setTimeout(r, 100));
      mark('stop-asked');
      const t0 = Date.now();
      const stopped = vscode.commands.executeCommand('gatescope.stop') as Thenable<TrainingOutcome>;
      await new Promise((r) => setTimeout(r, 0));
      const during = (await panelState()).state.status;
      const outcome = await stopped;
      const ms = Date.now() - t0;
      mark('stopped', { ms });
      log(`Stop: the panel state said ${JSON.stringify(during)} at once; stopped (${outcome.stoppedBy}) at step ${outcome.step} after ${ms} ms`);
      assert.strictEqual(during, 'stopping');
      assert.strictEqual(outcome.stoppedBy, 'abort');
      assert.ok(ms < 3000, `Stop took ${ms} ms`);
      assert.strictEqual((await model(api)).step, outcome.step, 'the stopped step is saved');
    } finally {
      counting.dispose();
      await api.stopTraining(); // when an assertion failed mid-run, so the next tests start idle
    }
  });

  it('the panel form writes to the workspace settings (not the user settings) and says so', async () => {
    const cfg = () => vscode.workspace.getConfiguration('gatescope').inspect<number>('model.hiddenSize');
    const before = cfg();
    mark('form-ready');
    // The outside types a new hidden size into the panel's form.
    await waitForJson(path.join(sync, 'form-done.json'), 'the form driver', 120_000);
    for (let i = 0; i < 100 && cfg()?.workspaceValue !== 48; i++) await new Promise((r) => setTimeout(r, 100));
    const after = cfg();
    log(`hiddenSize: workspace ${before?.workspaceValue} → ${after?.workspaceValue}, user ${before?.globalValue} → ${after?.globalValue}`);
    assert.strictEqual(after?.workspaceValue, 48);
    assert.strictEqual(after?.globalValue, undefined, 'the form wrote to the user settings');
  });

  it('Stop while reading the workspace cancels it, with "Stopping…" in the notification', async () => {
    await vscode.commands.executeCommand('notifications.showList'); // see the first test
    const run = api.startTraining({ backend: 'cpu' });
    run.catch(() => undefined);
    for (let i = 0; i < 500 && (await panelState()).state.status !== 'collecting'; i++) await new Promise((r) => setTimeout(r, 10));
    mark('collect-started');
    // The outside says when the notification is on screen; Stop then.
    const seen = path.join(sync, 'toast-seen.json');
    for (let i = 0; i < 600 && !fs.existsSync(seen); i++) {
      const status = (await panelState()).state.status;
      assert.strictEqual(status, 'collecting', 'the reading ended before its notification was seen: make the workspace larger');
      await new Promise((r) => setTimeout(r, 50));
    }
    mark('collect-stop');
    await vscode.commands.executeCommand('gatescope.stop');
    await assert.rejects(run, (e: Error) => e instanceof vscode.CancellationError || /cancel/i.test(e.message));
    mark('collect-stopped');
    await waitForJson(path.join(sync, 'driver-done.json'), 'the surface checks', 120_000);
  });
});
