// The one HTML page and content security policy of GateScope's webviews (the dashboard and the
// inspector): a fresh nonce per render, the bundled script from dist/ and the stylesheet from media/,
// and nothing else may load. Both webviews are built from here, so a change to the policy reaches both.

import * as crypto from 'crypto';
import * as vscode from 'vscode';

/** What a webview may load from the extension: its bundles and its media. */
export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export interface WebviewPage {
  /** The bundle in dist/ (e.g. 'webview.js'). */
  script: string;
  /** The stylesheet in media/ (e.g. 'panel.css'). */
  style: string;
  /** The document's title and the main region's label. */
  title: string;
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = crypto.randomBytes(18).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', page.script));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.style));
  const src = webview.cspSource;
  // The toolkit (FAST) styles its components with constructable stylesheets (adoptedStyleSheets),
  // which style-src does not govern, so no 'unsafe-inline' is needed; the pages set styles through
  // the CSSOM only. One exception: at load FAST probes `:focus-visible` support with an empty <style>
  // element, which it tags with the nonce from <meta property="csp-nonce">; without the nonce in
  // style-src that probe is a CSP violation and the toolkit falls back to :focus rings on mouse
  // clicks too. WebGPU needs no CSP source.
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${src} 'nonce-${nonce}'`,
    `font-src ${src}`,
    `img-src ${src} data:`,
  ].join('; ');
  const title = escapeHtml(page.title);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp};">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${nonce}">
<link rel="stylesheet" href="${style.toString()}">
<title>${title}</title>
</head>
<body>
<main id="app" aria-label="${title}"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
