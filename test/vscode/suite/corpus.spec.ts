// One corpus, two readers ("@corpus"): on test/vscode/corpusFixture.ts's workspace, the extension's
// collector (extension/corpus.ts, fed by workspace.findFiles and files.exclude, with the workspace's
// gatescope.corpus.* settings as the extension reads them) and the CLI (`gatescope corpus DIR --json`, a
// disk walk, with no options: it reads the folder's .vscode/settings.json itself) read the same files in
// the same order and skip the same files for the same reasons; both match the listing the fixture
// writes out by hand. Run by
// test/vscode.test.ts, which passes the fixture's expected listing in GATESCOPE_CORPUS_EXPECTED.

import * as assert from 'assert';
import * as cp from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { collectWorkspaceCorpus } from '../../../extension/corpus';
import { readSettings } from '../../../extension/settings';
import { VSCODE_FILES_EXCLUDE_DEFAULT } from '../../../kernels/corpusPlan';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Listing {
  files: { path: string; bytes: number }[];
  skipped: { path: string; reason: string }[];
  textSha256: string;
}

describe('GateScope corpus @corpus', function () {
  this.timeout(5 * 60_000);

  it('the extension and the CLI read the same files in the same order, with the same skips and reasons', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder');
    const expectedFile = process.env.GATESCOPE_CORPUS_EXPECTED;
    assert.ok(expectedFile, 'GATESCOPE_CORPUS_EXPECTED is not set (run through test/vscode.test.ts)');
    const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as { files: string[]; skipped: Listing['skipped'] };

    // The extension's side: its settings as it reads them, its collector as Train on Workspace runs it.
    const { settings, problems } = readSettings();
    assert.deepStrictEqual(problems, []);
    const log = vscode.window.createOutputChannel('GateScope corpus test', { log: true });
    const collected = await collectWorkspaceCorpus(settings.corpus, { log });
    log.dispose();
    const byExtension: Listing = {
      files: collected.files.map((f) => ({ path: f.path, bytes: f.bytes })),
      skipped: collected.skipped,
      textSha256: createHash('sha256').update(collected.text, 'utf8').digest('hex'),
    };

    // The CLI applies VS Code's default files.exclude by itself: it must be this VS Code's (less its
    // browser-only entries), or a folder without settings would give two corpora.
    const defaults = vscode.workspace.getConfiguration('files', folder.uri).inspect<Record<string, unknown>>('exclude')?.defaultValue ?? {};
    const defaultGlobs = Object.entries(defaults).filter(([glob, on]) => on === true && glob !== '**/*.crswap').map(([glob]) => glob).sort();
    assert.deepStrictEqual(defaultGlobs, Object.keys(VSCODE_FILES_EXCLUDE_DEFAULT).sort(), "VS Code's default files.exclude is not the CLI's");

    // The CLI's side: the same folder, nothing else (it reads the folder's .vscode/settings.json as the
    // extension does).
    const args = ['corpus', folder.uri.fsPath, '--json'];
    const r = cp.spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.strictEqual(r.status, 0, `gatescope ${args.join(' ')} failed: ${r.stderr}`);
    const byCli = JSON.parse(r.stdout) as Listing & { bytes: number };

    console.log(`      extension: ${byExtension.files.length} files, ${byExtension.skipped.length} skipped; CLI: ${byCli.files.length} files, ${byCli.skipped.length} skipped`);
    assert.deepStrictEqual(byExtension.files, byCli.files, 'the files read (path and bytes, in order) differ');
    assert.deepStrictEqual(byExtension.skipped, byCli.skipped, 'the skipped files or their reasons differ');
    assert.strictEqual(byExtension.textSha256, byCli.textSha256, 'the joined texts differ');
    assert.deepStrictEqual(byExtension.files.map((f) => f.path), expected.files, 'the files read are not the ones the rules allow');
    assert.deepStrictEqual(byExtension.skipped, expected.skipped, 'the skips are not the ones the rules give');
  });
});
