// Where the inspector is shown: the Inspector webview view in the GateScope side bar and, on
// GateScope: Open Inspector to the Side, the same page as an editor-area webview panel beside the
// editor. Both load dist/inspector.js and media/inspector.css under the dashboard's content security
// policy (a fresh nonce per render, extension/panel.ts), may be open at once and get every message.
// Every message a page posts is checked by parseFromWebview first; a malformed one is dropped and
// logged once per kind; a page's 'log' lines go to the GateScope log. Neither page is kept alive while hidden: on 'inspector.ready' the controller
// sends the last status and results again, so a page comes back as it was.

import * as vscode from 'vscode';
import { InspectorFromWebview, InspectorToWebview, parseFromWebview } from '../webview/protocol';
import { webviewHtml, webviewResourceRoots } from './webviewPage';

export interface InspectorHostEvents {
  /** A checked message from one of the pages; `reply` posts to that page only. */
  onMessage(msg: InspectorFromWebview, reply: (m: InspectorToWebview) => Promise<void>): void;
  /** A page was shown, hidden, opened or closed. */
  onVisibilityChanged(): void;
}

interface Host {
  webview: vscode.Webview;
  visible(): boolean;
  listeners: vscode.Disposable[];
}

export class InspectorHosts implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'gatescope.inspector';
  static readonly panelType = 'gatescope.inspectorPanel';

  private view: Host | null = null;
  private panelHost: Host | null = null;
  private panel: vscode.WebviewPanel | null = null;
  /** Malformed messages dropped, by kind (each kind is logged once, when first seen). */
  private readonly dropped = new Map<string, number>();
  private disposed = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly events: InspectorHostEvents,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    if (this.disposed) return;
    this.close(this.view);
    const host: Host = { webview: view.webview, visible: () => view.visible, listeners: [] };
    this.view = host;
    this.setUp(host, 'view');
    host.listeners.push(
      view.onDidChangeVisibility(() => this.events.onVisibilityChanged()),
      view.onDidDispose(() => {
        if (this.view !== host) return;
        this.close(host);
        this.view = null;
        this.events.onVisibilityChanged();
      }),
    );
    this.events.onVisibilityChanged();
  }

  /** Opens the inspector beside the active editor (or reveals it), keeping the focus in the editor. */
  openPanel(): void {
    if (this.disposed) return;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(InspectorHosts.panelType, 'GateScope Inspector', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: this.roots(),
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'gatescope.svg');
    const host: Host = { webview: panel.webview, visible: () => panel.visible, listeners: [] };
    this.panel = panel;
    this.panelHost = host;
    this.setUp(host, 'panel');
    host.listeners.push(
      panel.onDidChangeViewState(() => this.events.onVisibilityChanged()),
      panel.onDidDispose(() => {
        if (this.panelHost !== host) return;
        this.close(host);
        this.panel = null;
        this.panelHost = null;
        this.events.onVisibilityChanged();
      }),
    );
    this.events.onVisibilityChanged();
  }

  /** Whether any page is open, and whether any is visible. */
  get open(): boolean {
    return this.view !== null || this.panelHost !== null;
  }

  get visible(): boolean {
    return [this.view, this.panelHost].some((h) => h?.visible());
  }

  /** Posts to every open page; resolves once each has taken it or failed (failures are logged). */
  async post(msg: InspectorToWebview): Promise<void> {
    await Promise.all([this.view, this.panelHost].map(async (h) => {
      if (!h) return;
      try {
        await h.webview.postMessage(msg);
      } catch (e) {
        this.log.warn(`inspector: posting a '${msg.type}' message failed: ${errorMessage(e)}`);
      }
    }));
  }

  /** How many malformed messages were dropped, by kind. */
  get malformedDropped(): Record<string, number> {
    return Object.fromEntries(this.dropped);
  }

  /** For the in-VS-Code tests: posts messages that are not valid InspectorToWebview messages; how many went to a page. */
  async postUnchecked(messages: readonly unknown[]): Promise<number> {
    const pages = [this.view, this.panelHost].filter((h): h is Host => h !== null);
    if (!pages.length) return 0;
    let sent = 0;
    for (const m of messages) {
      const ok = await Promise.all(pages.map((h) => Promise.resolve(h.webview.postMessage(m)).catch(() => false)));
      if (ok.some(Boolean)) sent++;
    }
    return sent;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.close(this.view);
    this.view = null;
    const panel = this.panel;
    this.close(this.panelHost);
    this.panel = null;
    this.panelHost = null;
    panel?.dispose();
  }

  // ---------------------------------------------------------------------------------------------

  private roots(): vscode.Uri[] {
    return webviewResourceRoots(this.extensionUri);
  }

  private setUp(host: Host, where: string): void {
    host.webview.options = { enableScripts: true, localResourceRoots: this.roots() };
    host.listeners.push(host.webview.onDidReceiveMessage((raw: unknown) => this.receive(host, where, raw)));
    host.webview.html = this.html(host.webview);
  }

  /** For the in-VS-Code tests: handles `raw` as if an open page had posted it (checked the same way). */
  receiveForTest(raw: unknown): boolean {
    const host = this.panelHost ?? this.view;
    if (!host) return false;
    this.receive(host, 'test', raw);
    return true;
  }

  private receive(host: Host, where: string, raw: unknown): void {
    if (host !== this.view && host !== this.panelHost) return; // a page that has been replaced
    let msg;
    try {
      msg = parseFromWebview(raw);
    } catch (e) {
      this.malformed(where, raw, errorMessage(e));
      return;
    }
    if (msg.type === 'log') {
      // The page's own log lines (what it dropped, what failed there) go to the GateScope log.
      this.log[msg.level](`inspector ${where} page: ${msg.message}`);
      return;
    }
    if (!msg.type.startsWith('inspector.')) {
      this.malformed(where, raw, `'${msg.type}' is a dashboard message, not an inspector one`);
      return;
    }
    const reply = async (m: InspectorToWebview) => {
      try {
        await host.webview.postMessage(m);
      } catch (e) {
        this.log.warn(`inspector ${where}: posting a '${m.type}' message failed: ${errorMessage(e)}`);
      }
    };
    try {
      this.events.onMessage(msg as InspectorFromWebview, reply);
    } catch (e) {
      this.log.error(`inspector: handling a '${msg.type}' message failed: ${errorMessage(e)}`);
    }
  }

  /** Logs a dropped message once per kind (its type, or what it was when it had none). */
  private malformed(where: string, raw: unknown, why: string): void {
    const t = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
    const kind = typeof t === 'string' ? t.slice(0, 60) : `<${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}>`;
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + 1);
    if (seen) return;
    this.log.warn(`inspector ${where}: dropped a malformed '${kind}' message (further ones of this kind are dropped silently): ${why}`);
  }

  private close(host: Host | null): void {
    if (!host) return;
    for (const d of host.listeners) {
      try {
        d.dispose();
      } catch {
        // A listener of a page that is already gone.
      }
    }
    host.listeners = [];
  }

  private html(webview: vscode.Webview): string {
    return webviewHtml(webview, this.extensionUri, { script: 'inspector.js', style: 'inspector.css', title: 'GateScope Inspector' });
  }
}

function errorMessage(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'an unprintable error';
  }
}
