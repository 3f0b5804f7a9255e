// The architecture's boundaries, checked on the sources: kernels/ is a plain library (no vscode, no
// Node built-ins outside kernels/node/), webview/ runs in a browser (no vscode, no Node built-ins, no
// extension/ code), and extension/ may use everything. A wrong import fails here, not in a bundle.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const NODE_BUILTINS = new Set(['fs', 'path', 'os', 'crypto', 'child_process', 'worker_threads', 'util', 'http', 'net', 'stream', 'url', 'zlib', 'events', 'buffer']);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|require\('([^']+)'\)/gm)].map((m) => m[1] ?? m[2]);
}

function violations(dir: string, bad: (spec: string, file: string) => boolean): string[] {
  return sources(dir).flatMap((f) => imports(f).filter((s) => bad(s, f)).map((s) => `${f} imports ${s}`));
}

const isNode = (s: string) => NODE_BUILTINS.has(s.replace(/^node:/, ''));

describe('layering', () => {
  it('kernels/ imports neither vscode nor Node built-ins (except kernels/node/)', () => {
    assert.deepStrictEqual(violations('kernels', (s, f) => s === 'vscode' || (isNode(s) && !f.startsWith(path.join('kernels', 'node')))), []);
  });

  it('webview/ imports neither vscode, Node built-ins nor extension code', () => {
    assert.deepStrictEqual(violations('webview', (s) => s === 'vscode' || isNode(s) || s.includes('extension/') || s.includes('/node/')), []);
  });

  it('the import scan finds imports (a scan that finds nothing would pass anything)', () => {
    assert.ok(imports(path.join('extension', 'extension.ts')).includes('vscode'));
    assert.ok(imports(path.join('kernels', 'node', 'atomicWrite.ts')).includes('fs'));
  });
});
