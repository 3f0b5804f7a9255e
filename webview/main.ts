// The GateScope panel's entry point in the webview (built into dist/webview.js): registers the
// toolkit's components, wires window messages to the controller, builds the dashboard, creates the
// WebGPU context and says 'ready'. The message listener is attached first, so nothing the extension
// posts while the GPU starts is missed; the keyboard guard before any control exists, so no key typed
// in the panel reaches the workbench's editor (see keyboard.ts).

import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import { WebGpuBackend } from '../kernels/webgpu/backend';
import { createBrowserGpuContext } from '../kernels/webgpu/browser';
import { GpuContext } from '../kernels/webgpu/context';
import { ControllerUi, WebviewController } from './controller';
import { Dashboard } from './dashboard';
import { installKeyboardGuard } from './keyboard';
import type { FromWebview } from './protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

installKeyboardGuard();

const vscode = acquireVsCodeApi();
const post = (m: FromWebview) => vscode.postMessage(m);

/** Forwards to the dashboard once it exists (it is built after the listener is attached). */
let dashboard: ControllerUi | undefined;
const ui: ControllerUi = {
  init: (settings, state) => dashboard?.init(settings, state),
  setState: (state) => dashboard?.setState(state),
  setSettings: (settings) => dashboard?.setSettings(settings),
  report: (report) => dashboard?.report(report),
  setGpu: (gpu) => dashboard?.setGpu(gpu),
  settingsSaved: (scope) => dashboard?.settingsSaved(scope),
};

const controller = new WebviewController<GpuContext>({
  post,
  createGpu: createBrowserGpuContext,
  createBackend: (ctx, config, params, optim, opts) => WebGpuBackend.create(ctx, config, params, optim, opts),
  ui,
});

window.addEventListener('message', (event: MessageEvent) => controller.handle(event.data));

// Nothing should escape, but if something does, the extension's log should say so.
const report = (what: string, e: unknown) => {
  try {
    post({ type: 'log', level: 'error', message: `${what}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`.slice(0, 4000) });
  } catch {
    // The channel itself failed; nothing more to do.
  }
};
window.addEventListener('error', (e) => report('uncaught error in the panel', e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => report('unhandled rejection in the panel', e.reason));

try {
  provideVSCodeDesignSystem().register(
    vsCodeButton(), vsCodeCheckbox(), vsCodeDivider(), vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing(), vsCodeTextField(),
  );
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
  dashboard = new Dashboard(root, { post, getState: () => vscode.getState(), setState: (s) => vscode.setState(s) });
} catch (e) {
  report('building the panel failed', e);
}

void controller.start();
