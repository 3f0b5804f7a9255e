// What the .vsix carries (`vsce ls`, the list `vsce package` packs): every bundle webpack builds for the
// extension and its webviews, every stylesheet and image the webviews and README load from media/. A
// new entry point or stylesheet left out of .vscodeignore's allow-list would ship a broken extension
// (it happened to the inspector's bundles): this test names it. The CPU training worker, the completion worker and the
// WebAssembly engine's thread worker (its nested workers load dist/wasmWorker.js) must be among them, and
// no native Node module may be packed (the .vsix runs on every platform).

import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('the packaged extension', function () {
  this.timeout(120_000);

  it('holds every bundle of the extension and webview builds, and every media file the webviews and README use', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const configs = require(path.join(ROOT, 'webpack.config.js')) as { name: string; entry: Record<string, string> }[];
    const bundles = configs.filter((c) => c.name === 'extension' || c.name === 'webview').flatMap((c) => Object.keys(c.entry).map((k) => `dist/${k}.js`));
    assert.ok(bundles.includes('dist/inspector.js') && bundles.includes('dist/extension.js'), `webpack's entries were not read: ${bundles}`);
    for (const worker of ['dist/trainWorker.js', 'dist/wasmWorker.js', 'dist/completionWorker.js']) assert.ok(bundles.includes(worker), `webpack builds no ${worker} for the extension: ${bundles.join(', ')}`);
    const sources = ['extension/panel.ts', 'extension/inspectorView.ts'].map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
    const styles = [...sources.matchAll(/style: '([^']+)'/g)].map((m) => `media/${m[1]}`);
    assert.ok(styles.length >= 2, `no stylesheet found in the webviews' HTML: ${styles}`);
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\((media\/[^)]+)\)/g)].map((m) => m[1]);
    // `vsce ls` lists only files that exist: it runs on a copy of the manifest, README, licence,
    // .vscodeignore and media/ beside empty stand-ins for the bundles, so no build is needed first.
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-vsix-'));
    for (const f of ['package.json', 'README.md', 'LICENSE', '.vscodeignore']) fs.copyFileSync(path.join(ROOT, f), path.join(tree, f));
    fs.cpSync(path.join(ROOT, 'media'), path.join(tree, 'media'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'dist'));
    for (const b of bundles) fs.writeFileSync(path.join(tree, b), '');
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'vsce'), ['ls', '--no-dependencies'], { cwd: tree, encoding: 'utf8' });
    fs.rmSync(tree, { recursive: true, force: true });
    assert.strictEqual(r.status, 0, `vsce ls failed: ${r.stderr}`);
    const packed = new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
    const missing = [...bundles, ...styles, ...images, 'package.json', 'README.md'].filter((f) => !packed.has(f));
    assert.deepStrictEqual(missing, [], `.vscodeignore leaves these out of the .vsix: ${missing.join(', ')}`);
    const native = [...packed].filter((f) => /\.node$|(^|\/)node_modules\//.test(f));
    assert.deepStrictEqual(native, [], `the .vsix would carry native modules or node_modules: ${native.join(', ')}`);
  });
});
