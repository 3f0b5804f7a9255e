// The inspector webview's entry point (built into dist/inspector.js): installs the keyboard guard
// before any control exists (so no key typed in the inspector reaches the workbench's editor), attaches
// the message listener, builds the view and says 'inspector.ready' (the host then sends the model's
// status and the last inspection). Every message goes through parseToWebview first; a malformed one is
// dropped, and the first of each kind is logged to the extension (state.ts's DropLog). Messages meant
// for the dashboard are ignored. The test hook globalThis.gatescopeInspector is read-only data and
// drive functions for the in-VS-Code harness (see view.ts's snapshot()).

import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import type { QuantityName, UnitRef } from '../kernels/inspect/types';
import { installKeyboardGuard } from './keyboard';
import { FromWebview, InspectorToWebview, PROTOCOL_VERSION, parseToWebview } from './protocol';
import { DropLog, malformedFromWebview } from './inspector/state';
import { InspectorView } from './inspector/view';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

installKeyboardGuard();

const vscode = acquireVsCodeApi();
const post = (m: FromWebview) => vscode.postMessage(m);

const log = (level: 'info' | 'warn' | 'error', message: string) => {
  try {
    post({ type: 'log', level, message: message.slice(0, 4000) });
  } catch {
    // The channel itself failed; nothing more to do.
  }
};
/** Errors that escaped (kept for the test hook too: a test checks there are none). */
const errors: string[] = [];
const report = (what: string, e: unknown) => {
  const line = `${what}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
  if (errors.length < 100) errors.push(line.slice(0, 2000));
  log('error', line);
};
window.addEventListener('error', (e) => report('uncaught error in the inspector', e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => report('unhandled rejection in the inspector', e.reason));

let view: InspectorView | undefined;
/** Messages that arrive before the view exists (it is built right after the listener is attached). */
const early: InspectorToWebview[] = [];
const drops = new DropLog();
/** Errors while showing a message, logged once per message type. */
const failed = new Set<string>();

window.addEventListener('message', (event: MessageEvent) => {
  let m;
  try {
    m = parseToWebview(event.data);
  } catch (e) {
    const line = drops.drop(event.data, e);
    if (line) log('warn', line);
    return;
  }
  if (!m.type.startsWith('inspector.')) return; // the dashboard's messages
  const msg = m as InspectorToWebview;
  if (!view) {
    early.push(msg);
    return;
  }
  try {
    view.handle(msg);
  } catch (e) {
    if (!failed.has(msg.type)) {
      failed.add(msg.type);
      report(`showing ${msg.type} failed`, e);
    }
  }
});

try {
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDivider(), vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing(), vsCodeTextField());
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
  view = new InspectorView(root, { post, getState: () => vscode.getState(), setState: (s) => vscode.setState(s) });
  for (const m of early.splice(0)) view.handle(m);
} catch (e) {
  report('building the inspector failed', e);
}

// The test hook: read-only data and the functions the harness drives the inspector with.
const v = () => {
  if (!view) throw new Error('The inspector did not start (see the GateScope log).');
  return view;
};
Object.defineProperty(globalThis, 'gatescopeInspector', {
  configurable: false,
  enumerable: false,
  value: Object.freeze({
    snapshot: () => ({ ...v().snapshot(), malformedDropped: drops.dropped, errors: errors.slice() }),
    get lastResult() { return v().snapshot().lastResult; },
    get heatmaps() { return v().snapshot(false).heatmaps; },
    get hover() { return v().snapshot(false).hover; },
    get unitSearch() { return v().snapshot(false).unitSearch; },
    get matches() { return v().snapshot(false).matches; },
    get saturation() { return v().snapshot(false).saturation; },
    get sample() { return v().snapshot(false).sample; },
    get decorated() { return v().snapshot(false).decorated; },
    get malformedDropped() { return drops.dropped; },
    hoverAt: (tokenIndex: number, unit: number) => v().hoverAt(tokenIndex, unit),
    select: (start: number, end: number) => v().select(start, end),
    setThreshold: (x: number) => v().setThreshold(x),
    findInWorkspace: (units?: number[] | null) => v().findInWorkspace(units),
    colorEditor: (unit: UnitRef | null) => v().colorEditor(unit),
    show: (layer: number, quantity: QuantityName) => v().show(layer, quantity),
    layout: (layout: 'one' | 'all') => v().layout(layout),
    /** Milliseconds to draw a synthetic units × tokens heatmap with every cell in view (the whole heatmap fitted). */
    renderTiming: (units: number, tokens: number) => v().renderTiming(units, tokens).fitMs,
    renderTimings: (units: number, tokens: number) => v().renderTiming(units, tokens),
    /** Posts n malformed inspector messages to the extension (which must drop them); returns n. */
    postMalformed: (n: number) => {
      const count = Math.max(0, Math.min(100_000, Math.floor(n)));
      for (let i = 0; i < count; i++) vscode.postMessage(malformedFromWebview(i));
      return count;
    },
  }),
});

post({ type: 'inspector.ready', version: PROTOCOL_VERSION });
