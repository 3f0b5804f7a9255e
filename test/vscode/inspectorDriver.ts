// The outside half of the inspector test (the in-host half is suite/inspector.spec.ts): works the inspector's
// webview from the browser, reads what it shows and what it received through its read-only test hook
// (globalThis.gatescopeInspector in the webview's document), and compares the values with
// `gatescope inspect --json` on the same checkpoint and text: every layer's h, c and gates, surprisal,
// next-token probabilities and top-5, the hover details, the unit search, the matches across the
// workspace and the gate saturation. Then it asks for a unit to colour the editor, photographs the
// inspector in three themes, posts 1,000 malformed messages from the webview, and times a 512 × 4,000
// heatmap render in the headless browser.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { gateSaturation } from '../../kernels/inspect/saturation';
import { searchUnits } from '../../kernels/inspect/unitSearch';
import { InspectLayer, QuantityName } from '../../kernels/inspect/types';
import { Workbench, browserState } from './harness';
import { themeApplied, themeRequest, waitForJson, writeJsonAtomic } from './sync';
import type { InspectorCase } from './suite/inspector.spec';

/** The themes the inspector is photographed in: media/inspector-<name>.png. */
export const INSPECTOR_SHOTS = [
  { name: 'dark', theme: 'Default Dark Modern', bodyClass: 'vscode-dark' },
  { name: 'light', theme: 'Default Light Modern', bodyClass: 'vscode-light' },
  { name: 'hc', theme: 'Default High Contrast', bodyClass: 'vscode-high-contrast' },
] as const;

export interface InspectorReport {
  problems: string[];
  /** What was compared and the largest difference found. */
  compared: string[];
  maxDifference: number;
  renderMs: number[];
  hoverMs?: { median: number; max: number };
  matchTokensPerSecond: number | null;
  shots: string[];
}

/** The JSON `gatescope inspect --json` prints. */
interface CliInspect {
  window: { start: number; end: number; notice: string };
  tokens: string[];
  offsets: number[];
  surprisal: (number | null)[];
  nextProb: (number | null)[];
  top: { token: string; prob: number }[][];
  layers: { names: QuantityName[]; values: Record<string, number[][]> }[];
  search?: { start: number; end: number; units: { unit: number; score: number }[] };
  matches?: { path: string; offset: number; score: number }[];
}

const TOL = 1e-5;

/** The webview document that carries the inspector's test hook (the inspector view or its editor panel). */
async function inspectorFrame(page: Page, timeoutMs = 120_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      try {
        if (await f.evaluate(() => typeof (globalThis as { gatescopeInspector?: unknown }).gatescopeInspector === 'object')) return f;
      } catch {
        // A frame that went away while being asked.
      }
    }
    if (Date.now() > deadline) throw new Error('no webview with the inspector\'s test hook (globalThis.gatescopeInspector)');
    await page.waitForTimeout(200);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Hook = any;
/**
 * Calls fn(hook, arg) in the webview's document. The function's source is sent as an expression (the
 * DevTools protocol evaluates it; the webview's CSP, which forbids eval, does not apply), so it must not
 * use anything from this file's scope.
 */
const hook = <T>(frame: Frame, fn: (h: Hook, arg: unknown) => T | Promise<T>, arg?: unknown): Promise<T> =>
  frame.evaluate(`(${fn.toString()})(globalThis.gatescopeInspector, ${JSON.stringify(arg ?? null)})`) as Promise<T>;

async function waitHook<T>(frame: Frame, what: string, fn: (h: Hook, arg: unknown) => T, ok: (v: T) => boolean, arg?: unknown, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await hook(frame, fn, arg);
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last ${JSON.stringify(v)?.slice(0, 400)}`);
    await frame.page().waitForTimeout(200);
  }
}

export async function driveInspector(wb: Workbench, dir: string, c: InspectorCase, workspace: string, outDir: string): Promise<InspectorReport> {
  const at = (name: string) => path.join(dir, `${name}.json`);
  const report: InspectorReport = { problems: [], compared: [], maxDifference: 0, renderMs: [], matchTokensPerSecond: null, shots: [] };
  const problems = report.problems;
  const check = (ok: unknown, problem: string) => { if (!ok) problems.push(problem); };
  const { page } = wb;
  let hostExited = false;
  void wb.exited.then(() => (hostExited = true));
  const gone = () => (hostExited ? 'the extension host exited (see the in-host report)'
    : fs.existsSync(at('host-failed')) ? `the in-host test failed: ${fs.readFileSync(at('host-failed'), 'utf8').trim()}` : undefined);
  const cli = (args: string[]) => JSON.parse(execFileSync(c.node, [c.cli, ...args], { encoding: 'utf8', maxBuffer: 1024 ** 3 })) as CliInspect;
  const diff = (what: string, a: ArrayLike<number | null>, b: ArrayLike<number | null>) => {
    check(a.length === b.length, `${what}: ${a.length} values in the webview, ${b.length} from the CLI`);
    let worst = 0;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const x = a[i], y = b[i];
      const nx = x === null || Number.isNaN(x), ny = y === null || Number.isNaN(y);
      if (nx || ny) { check(nx && ny, `${what}[${i}]: ${x} vs ${y}`); continue; }
      worst = Math.max(worst, Math.abs((x as number) - (y as number)));
    }
    check(worst <= TOL, `${what}: differs from the CLI by ${worst}`);
    report.maxDifference = Math.max(report.maxDifference, worst);
    report.compared.push(`${what} (${a.length})`);
  };

  try {
    // 1. No model: the inspector says so.
    await waitForJson(at('no-model'), 'the in-host spec to open the inspector', 5 * 60_000, gone);
    let frame = await inspectorFrame(page);
    await frame.waitForFunction(() => /no model/i.test(document.body.innerText), undefined, { timeout: 60_000 });
    writeJsonAtomic(at('no-model-seen'), {});

    // 2. An inspection: the webview's values against the CLI's.
    const inspected = await waitForJson<{ fsPath: string; request: { selection: { start: number; end: number }; visible: { start: number; end: number }; cursor: number }; result: { requestId: number } }>(
      at('inspected'), 'the in-host inspection', 5 * 60_000, gone);
    frame = await inspectorFrame(page);
    const snap = await waitHook(frame, 'the inspection in the webview', (h) => h.snapshot(), (s: Hook) => !!s.lastResult && s.lastResult.requestId >= inspected.result.requestId);
    const rq = inspected.request;
    const cliArgs = ['inspect', c.smallModel, '--file', inspected.fsPath, '--select', `${rq.selection.start}:${rq.selection.end}`, '--visible', `${rq.visible.start}:${rq.visible.end}`, '--cursor', String(rq.cursor)];
    const ref = cli([...cliArgs, '--json']);
    const r = snap.lastResult.result;
    check(JSON.stringify(r.tokens) === JSON.stringify(ref.tokens), `the tokens differ: ${JSON.stringify(r.tokens).slice(0, 200)} vs ${JSON.stringify(ref.tokens).slice(0, 200)}`);
    diff('offsets', r.offsets, ref.offsets);
    diff('surprisal', r.surprisal, ref.surprisal);
    diff('nextProb', r.nextProb, ref.nextProb);
    diff('top-5 probabilities', r.topProbs, ref.top.flat().map((x) => x.prob));
    check(JSON.stringify(r.topTokens) === JSON.stringify(ref.top.flat().map((x) => x.token)), 'the top-5 tokens differ');
    const layers: InspectLayer[] = [];
    (r.layers as { names: QuantityName[]; values: number[][] }[]).forEach((l, k) => {
      check(JSON.stringify(l.names) === JSON.stringify(ref.layers[k].names), `layer ${k}: quantities ${l.names} vs ${ref.layers[k].names}`);
      l.names.forEach((name, j) => diff(`layer ${k} ${name}`, l.values[j], ref.layers[k].values[name].flat()));
      layers.push({ names: l.names, values: l.values.map((v) => Float32Array.from(v)) });
    });
    // Every heatmap (a layer × quantity) drawn, with a legend.
    const maps = snap.heatmaps as { layer: number; quantity: string; rows: number; cols: number; legend: string }[];
    for (const [k, l] of ref.layers.entries()) for (const q of l.names) {
      const m = maps.find((x) => x.layer === k && x.quantity === q);
      check(m && m.legend && m.cols === ref.tokens.length, `no heatmap with a legend for layer ${k} ${q}: ${JSON.stringify(maps.map((x) => [x.layer, x.quantity, x.cols]))}`);
    }
    check(snap.surprisalStrip && snap.surprisalStrip.cols === ref.tokens.length, `no surprisal strip over the ${ref.tokens.length} tokens`);

    // Hover: token, position, unit, value and the top-5 with their probabilities.
    const T = ref.tokens.length, t = Math.min(5, T - 1), unit = 3;
    const hoverText: string = await hook(frame, (h, a) => h.hoverAt((a as number[])[0], (a as number[])[1]), [t, unit]);
    const value = ref.layers[0].values.h[t][unit];
    check(hoverText.includes(String(t)) && hoverText.includes(String(unit)) && hoverText.includes(value.toFixed(3)), `the hover says ${JSON.stringify(hoverText)}; expected token ${t}, unit ${unit}, h = ${value.toFixed(3)}`);
    for (const p of ref.top[t].slice(0, 5)) check(hoverText.includes(`${(p.prob * 100).toFixed(1)}%`), `the hover lacks the top-5 probability ${(p.prob * 100).toFixed(1)}% (${JSON.stringify(hoverText)})`);

    // Hovering never blocks the UI: 200 hovers over the heatmap, each timed in the page.
    const hoverMs: number[] = await hook(frame, (h, a) => {
      const [tokens, units] = a as number[];
      const out: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        h.hoverAt((i * 37) % tokens, (i * 11) % units);
        out.push(performance.now() - t0);
      }
      return out;
    }, [T, r.hiddenSize]);
    hoverMs.sort((a, b) => a - b);
    report.hoverMs = { median: hoverMs[100], max: hoverMs[199] };
    check(hoverMs[199] < 50, `a hover took ${hoverMs[199].toFixed(1)} ms`);

    // Every heatmap draws when chosen, as the Layer and Quantity selectors choose it.
    for (const [k, l] of ref.layers.entries()) for (const q of l.names) {
      const shown = await hook(frame, (h, a) => h.show((a as [number, string])[0], (a as [number, string])[1]), [k, q]);
      const drawn = await waitHook(frame, `the heatmap of layer ${k} ${q}`, (h) => h.snapshot().heatmaps, (x: Hook) => x.some((m: Hook) => m.drawn && m.renderMs !== null), undefined, 30_000)
        .then((x: Hook) => x.find((m: Hook) => m.drawn));
      check(shown && drawn && drawn.layer === k && drawn.quantity === q, `choosing layer ${k} ${q} drew ${JSON.stringify(drawn)}`);
    }
    await hook(frame, (h) => h.show(0, 'h'));

    // Unit search on the editor's selection: the webview's list against the CLI's (`--select`), at the
    // threshold the panel starts with.
    const threshold0: number = await hook(frame, (h) => h.snapshot().threshold);
    const fromEditor = await waitHook(frame, 'the unit search on the selection', (h) => h.snapshot().unitSearch, (u: Hook) => Array.isArray(u?.units));
    const refEditor = cli([...cliArgs, '--layer', '0', '--quantity', 'h', '--threshold', String(threshold0), '--json']).search;
    check(refEditor && fromEditor.start === refEditor.start && fromEditor.end === refEditor.end, `the selection is tokens [${fromEditor.start}, ${fromEditor.end}) in the webview, ${JSON.stringify(refEditor && [refEditor.start, refEditor.end])} for the CLI`);
    check(JSON.stringify(fromEditor.units.map((x: { unit: number }) => x.unit)) === JSON.stringify((refEditor?.units ?? []).map((x) => x.unit)), `unit search on the selection: ${JSON.stringify(fromEditor.units.map((x: { unit: number }) => x.unit))} vs the CLI's ${JSON.stringify(refEditor?.units.map((x) => x.unit))}`);
    diff('unit search scores (editor selection)', fromEditor.units.map((x: { score: number }) => x.score), (refEditor?.units ?? []).map((x) => x.score));
    report.compared.push(`unit search on the editor's selection, tokens [${fromEditor.start}, ${fromEditor.end}) at threshold ${threshold0}: ${fromEditor.units.length} unit(s)`);

    // Then a range dragged over the heatmap where, by the CLI's values, some unit is on and off around it
    // (a small model has few units that switch exactly at a selection's edges): the list must name the
    // same units, with the same scores, as searchUnits over the CLI's values.
    const hCli = Float32Array.from(ref.layers[0].values.h.flat());
    const H = ref.layers[0].values.h[0].length;
    let pick: { start: number; end: number; threshold: number; units: ReturnType<typeof searchUnits> } | null = null;
    for (const x of [0.5, 0.3, 0.1]) {
      for (let a = 4; a < T - 8 && !pick; a++) for (let len = 6; len >= 3 && !pick; len--) {
        const units = searchUnits(hCli, T, H, a, a + len, x);
        if (units.length) pick = { start: a, end: a + len, threshold: x, units };
      }
      if (pick) break;
    }
    check(pick, 'the CLI\'s values have no range of 3 to 6 tokens where a unit is on and off around it');
    if (pick) {
      const p = pick;
      const dragged = await waitHook(frame, 'the unit search on the dragged range', (h, a) => {
        const [s0, e0, x] = a as number[];
        h.setThreshold(x);
        h.select(s0, e0);
        return h.snapshot().unitSearch;
      }, (u: Hook) => !!u && u.start === p.start && u.end === p.end && u.threshold === p.threshold, [p.start, p.end, p.threshold]);
      check(dragged.units.length > 0, `no unit listed for the dragged range [${p.start}, ${p.end})`);
      check(JSON.stringify(dragged.units.map((x: { unit: number }) => x.unit)) === JSON.stringify(p.units.map((x) => x.unit)), `unit search on the dragged range: ${JSON.stringify(dragged.units.map((x: { unit: number }) => x.unit))} vs ${JSON.stringify(p.units.map((x) => x.unit))} from the CLI's values`);
      diff('unit search scores (dragged range)', dragged.units.map((x: { score: number }) => x.score), p.units.map((x) => x.score));
      report.compared.push(`unit search on tokens [${p.start}, ${p.end}) at threshold ${p.threshold}: units ${p.units.map((x) => x.unit).join(', ')}`);
    }
    const listed = await hook(frame, (h) => h.snapshot().unitSearch);
    const threshold: number = pick ? pick.threshold : threshold0;

    // Match across the workspace with the units found (or the best ones of the first probe).
    const units: number[] = listed.units.length ? listed.units.slice(0, 3).map((x: { unit: number }) => x.unit) : [snap.probes[0].best[0].unit];
    const matches = await waitHook(frame, 'the matches across the workspace', (h, a) => { const s = h.snapshot(); if (!s.matchSearch) h.findInWorkspace(a); return s.matchSearch; },
      (m: Hook) => !!m && m.done === true, units, 5 * 60_000);
    const sel = inspected.request.selection;
    const refMatch = cli([...cliArgs, '--layer', '0', '--quantity', 'h', '--threshold', String(threshold), '--match', workspace, '--units', units.join(','), '--length', String(matches.length), '--json']).matches ?? [];
    check(matches.results.length > 0, 'no match across the workspace');
    check(JSON.stringify(matches.results.map((m: { path: string; offset: number }) => `${m.path}@${m.offset}`)) === JSON.stringify(refMatch.map((m) => `${m.path}@${m.offset}`)),
      `matches: ${JSON.stringify(matches.results.slice(0, 5).map((m: { path: string; offset: number }) => `${m.path}@${m.offset}`))} vs the CLI's ${JSON.stringify(refMatch.slice(0, 5).map((m) => `${m.path}@${m.offset}`))}`);
    diff('match scores', matches.results.map((m: { score: number }) => m.score), refMatch.map((m) => m.score));
    if (matches.seconds > 0) report.matchTokensPerSecond = matches.tokensSearched / matches.seconds;
    void sel;

    // Gate saturation of the inspected text.
    const sat = gateSaturation(layers, T, r.hiddenSize);
    const shown = snap.saturation as { layer: number; gate: string; unit: number; left: number; right: number }[];
    const expected = sat.flatMap((l) => l.gates.flatMap((g) => Array.from(g.left, (left, u) => ({ layer: l.layer, gate: g.name, unit: u, left, right: g.right[u] }))));
    check(shown.length === expected.length, `the saturation plot has ${shown.length} points, expected ${expected.length}`);
    diff('saturation (left)', shown.map((p) => p.left), expected.map((p) => p.left));
    diff('saturation (right)', shown.map((p) => p.right), expected.map((p) => p.right));

    // Colour the editor by the best unit of the first probe, as a user clicks it.
    const best = snap.probes[0].best[0] as { layer: number; quantity: QuantityName; unit: number };
    await hook(frame, (h, a) => h.colorEditor(a), best);
    writeJsonAtomic(at('colored'), { unit: best });
    await waitForJson(at('decorations-checked'), 'the in-host decoration check', 5 * 60_000, gone);

    // 3. Screenshots in three themes: the code, coloured by the probe's best unit, and the inspector beside it.
    await hook(frame, (h, a) => h.colorEditor(a), best);
    await waitHook(frame, 'the editor coloured again', (h) => h.snapshot().decorated, (d: Hook) => !!d && d.unit === best.unit, undefined, 60_000);
    fs.mkdirSync(outDir, { recursive: true });
    for (const [i, shot] of INSPECTOR_SHOTS.entries()) {
      writeJsonAtomic(themeRequest(dir, i), { theme: shot.theme });
      await waitForJson(themeApplied(dir, i), `the theme ${shot.theme}`, 60_000, gone);
      frame = await inspectorFrame(page);
      await frame.waitForFunction((cls) => document.body.classList.contains(cls), shot.bodyClass, { timeout: 60_000 });
      await frame.evaluate(() => new Promise<void>((res) => requestAnimationFrame(() => requestAnimationFrame(() => res()))));
      await page.waitForTimeout(500);
      const editor = await page.locator('.part.editor').boundingBox();
      if (!editor) throw new Error('no editor part to photograph');
      const file = path.join(outDir, `inspector-${shot.name}.png`);
      await page.screenshot({ path: file, clip: editor });
      report.shots.push(file);
    }
    writeJsonAtomic(at('shots-done'), {});

    // Opening a match, as a user does: a click on its row (the spec checks the editor that opens).
    const first = matches.results[0] as { path: string; line: number; character: number; length: number };
    await frame.locator('.match-row').first().click();
    writeJsonAtomic(at('match-opened'), { path: first.path, line: first.line, character: first.character, length: first.length });

    // 4. 1,000 malformed messages from the webview.
    await waitForJson(at('malformed-sent'), 'the in-host malformed messages', 5 * 60_000, gone);
    frame = await inspectorFrame(page);
    const dropped = await waitHook(frame, 'the webview to drop the host\'s malformed messages', (h) => h.snapshot().malformedDropped, (n: Hook) => n >= 1000, undefined, 60_000);
    const errors: string[] = await hook(frame, (h) => h.snapshot().errors ?? []);
    const posted: number = await hook(frame, (h) => h.postMalformed(1000));
    writeJsonAtomic(at('malformed-posted'), { posted, dropped, errors });

    // 5. A 512 × 4,000 heatmap rendered in the headless browser.
    for (let i = 0; i < 5; i++) report.renderMs.push(await hook(frame, (h) => h.renderTiming(512, 4000)));
    await waitForJson(at('host-done'), 'the in-host speed test', 10 * 60_000, gone);
  } catch (e) {
    problems.push(`${e instanceof Error ? e.message : String(e)}\n${browserState(wb)}`);
  } finally {
    writeJsonAtomic(at('driver-done'), { problems });
  }
  return report;
}
