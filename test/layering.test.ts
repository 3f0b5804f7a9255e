// The architecture's boundaries, checked on the sources: kernels/ is a plain library (no vscode, no
// Node built-ins outside kernels/node/, nothing from webview/, extension/, cli/ or bench/), webview/
// runs in a browser (no vscode, no Node built-ins, no extension/, cli/ or kernels/node/ code), and
// extension/ may use everything. Every form of import counts: import/export ... from, side-effect
// imports, import type, import(), require() and import x = require(), in either quote style (the
// TypeScript scanner finds them, so comments and strings do not). A wrong import fails here, not in
// a bundle.

import * as assert from 'assert';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');
const NODE_BUILTINS = new Set(builtinModules);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Every module specifier a TypeScript source names, in any import form. */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

function imports(file: string): string[] {
  return importsOf(fs.readFileSync(path.join(ROOT, file), 'utf8'));
}

/** What one import of `file` is: vscode, a Node built-in, another package, or a project folder (posix path). */
type Target = { kind: 'vscode' | 'node' | 'package'; name: string } | { kind: 'project'; path: string };

function target(spec: string, file: string): Target {
  if (spec.startsWith('.')) {
    return { kind: 'project', path: path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)).split(path.sep).join('/') };
  }
  if (spec === 'vscode') return { kind: 'vscode', name: spec };
  if (spec.startsWith('node:') || NODE_BUILTINS.has(spec)) return { kind: 'node', name: spec };
  return { kind: 'package', name: spec };
}

const under = (t: Target, folder: string) => t.kind === 'project' && (t.path === folder || t.path.startsWith(`${folder}/`));

/** Why `file` (posix, relative to the root) may not import `spec`, or null when it may. */
function forbidden(file: string, spec: string): string | null {
  const t = target(spec, file);
  const top = file.split('/')[0];
  if (top !== 'kernels' && top !== 'webview') return null;
  if (t.kind === 'vscode') return 'vscode';
  if (t.kind === 'node' && !(top === 'kernels' && file.startsWith('kernels/node/'))) return 'a Node built-in';
  for (const folder of ['extension', 'cli', 'bench', 'test']) if (under(t, folder)) return `${folder}/ code`;
  if (top === 'kernels' && under(t, 'webview')) return 'webview/ code';
  if (top === 'webview' && under(t, 'kernels/node')) return 'kernels/node/ code (Node only)';
  return null;
}

function violationsIn(file: string, text: string): string[] {
  return importsOf(text).flatMap((s) => {
    const why = forbidden(file, s);
    return why ? [`${file} imports ${s} (${why})`] : [];
  });
}

function violations(dir: string): string[] {
  return sources(dir).flatMap((f) => violationsIn(f.split(path.sep).join('/'), fs.readFileSync(path.join(ROOT, f), 'utf8')));
}

describe('layering', () => {
  it('kernels/ imports neither vscode, Node built-ins (except kernels/node/), nor webview/, extension/, cli/ or bench/ code', () => {
    assert.deepStrictEqual(violations('kernels'), []);
  });

  it('webview/ imports neither vscode, Node built-ins, nor extension/, cli/ or kernels/node/ code', () => {
    assert.deepStrictEqual(violations('webview'), []);
  });

  it('the import scan finds imports in the real sources (a scan that finds nothing would pass anything)', () => {
    assert.ok(imports(path.join('extension', 'extension.ts')).includes('vscode'));
    assert.ok(imports(path.join('kernels', 'node', 'atomicWrite.ts')).includes('fs'));
  });

  it('every import form is found, in both quote styles, and comments and strings are not imports', () => {
    const text = [
      `import a from "double";`, `import 'side-effect';`, `import type { T } from './type-only';`, `export * from "./reexport";`,
      `export { x } from './named';`, `const m = await import('./dynamic');`, `const n = import("./dynamic-double");`,
      `const r = require("required");`, `const r2 = require('required-single');`, `import fs = require('import-equals');`,
      `// import x from 'commented';`, `/* require('block-comment') */`, `const s = "import('in-a-string')";`,
    ].join('\n');
    assert.deepStrictEqual(importsOf(text), [
      'double', 'side-effect', './type-only', './reexport', './named', './dynamic', './dynamic-double', 'required', 'required-single', 'import-equals',
    ]);
  });

  it('each rule rejects what it guards against (planted imports in made-up files)', () => {
    const planted: [string, string, RegExp][] = [
      ['kernels/planted.ts', `const p = import("../webview/protocol");`, /webview\/ code/],
      ['kernels/sub/planted.ts', `import { x } from "../../webview/protocol";`, /webview\/ code/],
      ['kernels/planted.ts', `const fs = require("fs");`, /Node built-in/],
      ['kernels/planted.ts', `import * as p from 'node:fs/promises';`, /Node built-in/],
      ['kernels/planted.ts', `import type { Api } from '../extension/api';`, /extension\/ code/],
      ['kernels/planted.ts', `const v = require('vscode');`, /vscode/],
      ['webview/planted.ts', `import { readFileSync } from "fs";`, /Node built-in/],
      ['webview/planted.ts', `const w = import('../kernels/node/webgpu');`, /kernels\/node/],
      ['webview/planted.ts', `export { main } from "../cli/main";`, /cli\/ code/],
    ];
    for (const [file, text, why] of planted) {
      const found = violationsIn(file, text);
      assert.strictEqual(found.length, 1, `${file}: ${text} was not rejected`);
      assert.match(found[0], why);
    }
    // And what is allowed stays allowed.
    assert.deepStrictEqual(violationsIn('kernels/node/planted.ts', `import * as fs from "fs";`), []);
    assert.deepStrictEqual(violationsIn('webview/planted.ts', `import { Rng } from "../kernels/rng"; import x from '@vscode/webview-ui-toolkit';`), []);
    assert.deepStrictEqual(violationsIn('extension/planted.ts', `import * as vscode from 'vscode'; import '../webview/protocol';`), []);
  });
});
