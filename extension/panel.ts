// The GateScope panel as a webview view: its HTML (a strict content security policy, a fresh nonce
// per render, the bundled script and stylesheet from the extension's dist/ and media/), every
// message it posts checked by parseFromWebview before the host sees it, and the 'ready' handshake:
// on 'ready' the panel records the webview's GPU info, answers with 'init' (settings and state from
// the host) and wakes whoever waits in open(). The extension registers it (with
// retainContextWhenHidden, so training in the webview goes on while the view is hidden).

import * as vscode from 'vscode';
import { FormValues, FromWebview, GpuInfo, PROTOCOL_VERSION, PanelState, ToWebview, parseFromWebview } from '../webview/protocol';
import { webviewHtml, webviewResourceRoots } from './webviewPage';

export interface PanelHost {
  getInit(): { settings: FormValues; state: PanelState };
  /** Called with every message from the webview, already checked by parseFromWebview. */
  onMessage(msg: FromWebview): void;
  /** The view was closed or disposed (any training in it has stopped). */
  onDidDispose(): void;
}

const DEFAULT_OPEN_TIMEOUT_MS = 15_000;

export class GateScopePanel implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'gatescope.panel';

  private view: vscode.WebviewView | undefined;
  /** Listeners of the current view (replaced when the view is resolved again). */
  private viewListeners: vscode.Disposable[] = [];
  private gpuInfo: GpuInfo | null = null;
  private waiters = new Set<(gpu: GpuInfo | null) => void>();
  private disposed = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly host: PanelHost,
  ) {}

  resolveWebviewView(view: vscode.WebviewView, _context: vscode.WebviewViewResolveContext, _token: vscode.CancellationToken): void {
    if (this.disposed) return;
    this.detach();
    this.view = view;
    this.gpuInfo = null;
    const webview = view.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: webviewResourceRoots(this.extensionUri),
    };
    this.viewListeners.push(
      webview.onDidReceiveMessage((raw: unknown) => this.receive(view, raw)),
      view.onDidDispose(() => this.viewDisposed(view)),
    );
    webview.html = this.html(webview);
  }

  /** Posts a message if the view exists; false when there is none or it failed. */
  async post(msg: ToWebview): Promise<boolean> {
    const view = this.view;
    if (!view) return false;
    try {
      return await view.webview.postMessage(msg);
    } catch (e) {
      this.log.warn(`panel: posting a '${msg.type}' message failed: ${errorMessage(e)}`);
      return false;
    }
  }

  /** GPU info from the latest 'ready' (null until the webview has said ready, and after it closes). */
  get gpu(): GpuInfo | null {
    return this.gpuInfo ? { ...this.gpuInfo } : null;
  }

  /**
   * Reveals the view (command `${viewType}.focus`) and waits for its 'ready'; null on timeout or when
   * the view closes first. A view that is already ready answers at once.
   */
  async open(timeoutMs = DEFAULT_OPEN_TIMEOUT_MS): Promise<GpuInfo | null> {
    if (this.disposed) return null;
    let resolveWaiter!: (gpu: GpuInfo | null) => void;
    const ready = new Promise<GpuInfo | null>((resolve) => (resolveWaiter = resolve));
    const already = this.gpu;
    if (!already) this.waiters.add(resolveWaiter);
    try {
      await vscode.commands.executeCommand(`${GateScopePanel.viewType}.focus`);
    } catch (e) {
      this.log.warn(`panel: revealing the view failed: ${errorMessage(e)}`);
    }
    if (already) return already;
    if (this.gpuInfo) {
      this.waiters.delete(resolveWaiter);
      return this.gpu;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), Math.max(0, timeoutMs));
    });
    try {
      const gpu = await Promise.race([ready, timeout]);
      if (gpu === null) this.log.warn(`panel: the view did not say ready within ${timeoutMs} ms`);
      return gpu;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(resolveWaiter);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.detach();
    this.view = undefined;
    this.gpuInfo = null;
    this.wake(null);
  }

  // ---------------------------------------------------------------------------------------------

  private receive(view: vscode.WebviewView, raw: unknown): void {
    if (view !== this.view) return; // a message from a view that has been replaced
    let msg: FromWebview;
    try {
      msg = parseFromWebview(raw);
    } catch (e) {
      this.log.warn(`panel: dropped a malformed message from the webview: ${errorMessage(e)}`);
      return;
    }
    try {
      if (msg.type === 'ready') {
        this.gpuInfo = { ...msg.gpu };
        this.log.info(`panel: ready (protocol ${msg.version}; ${msg.gpu.available ? `WebGPU on ${msg.gpu.adapter}` : `no WebGPU: ${msg.gpu.why}`})`);
        let init: { settings: FormValues; state: PanelState } | undefined;
        try {
          init = this.host.getInit();
        } catch (e) {
          this.log.error(`panel: getting the panel's initial state failed: ${errorMessage(e)}`);
        }
        if (init) void this.post({ type: 'init', version: PROTOCOL_VERSION, settings: init.settings, state: init.state });
        this.wake(this.gpu);
      }
      this.host.onMessage(msg);
    } catch (e) {
      this.log.error(`panel: handling a '${msg.type}' message failed: ${errorMessage(e)}`);
    }
  }

  private viewDisposed(view: vscode.WebviewView): void {
    if (view !== this.view) return;
    this.detach();
    this.view = undefined;
    this.gpuInfo = null;
    this.wake(null);
    try {
      this.host.onDidDispose();
    } catch (e) {
      this.log.error(`panel: handling the view's disposal failed: ${errorMessage(e)}`);
    }
  }

  private detach(): void {
    for (const d of this.viewListeners) {
      try {
        d.dispose();
      } catch {
        // Disposing a listener of a view that is already gone.
      }
    }
    this.viewListeners = [];
  }

  private wake(gpu: GpuInfo | null): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w(gpu ? { ...gpu } : null);
  }

  private html(webview: vscode.Webview): string {
    return webviewHtml(webview, this.extensionUri, { script: 'webview.js', style: 'panel.css', title: 'GateScope' });
  }
}

function errorMessage(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'an unprintable error';
  }
}
