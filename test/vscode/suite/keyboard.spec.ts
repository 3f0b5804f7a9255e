// The in-host half of the keystroke test (issue 8's data loss): keys typed in the GateScope panel must
// never reach the editor beside it. This spec opens a fixture file in an editor with an edit to undo and
// text in the clipboard, shows the panel, records the document's text and version, and hands over to the
// driver outside (test/vscode/keyboardDriver.ts), which clicks every text field and dropdown of the panel
// and presses select-all, typing, Tab, undo/redo, copy/cut/paste there. When the driver is done, the
// document's text, version, dirty state and file on disk (auto save is on) must be as they were, and no
// change or save event may have happened. Tag "@keys"; needs GATESCOPE_KEYS_SYNC (the hand-over folder).

import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { syncFiles, waitForJson, writeJsonAtomic } from '../sync';

/** What the spec tells the driver when the editor and the panel are ready. */
export interface KeysHostReady {
  file: string;
  version: number;
  /** What the clipboard holds (null if writing it failed): a leaked paste would insert it. */
  clipboard: string | null;
}

/** What the driver tells the spec when it is done (problems found outside, e.g. focus that left the panel). */
export interface KeysDriverDone {
  controls: number;
  problems: string[];
}

const DRIVER_TIMEOUT_MS = 8 * 60_000;

function within<T>(p: Thenable<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([Promise.resolve(p), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}

describe('GateScope panel keystrokes @keys', function () {
  this.timeout(DRIVER_TIMEOUT_MS + 2 * 60_000);
  it('keys typed in every panel field leave the editor beside it unchanged (text, version, disk)', async () => {
    const dir = process.env.GATESCOPE_KEYS_SYNC;
    assert.ok(dir, 'GATESCOPE_KEYS_SYNC is not set: run this spec through test/vscode.test.ts, whose driver presses the keys');
    const sync = syncFiles(dir);
    const ext = vscode.extensions.getExtension('gatescope.gatescope');
    assert.ok(ext, 'GateScope is not loaded');
    await ext.activate();
    assert.strictEqual(vscode.workspace.getConfiguration('files').get('autoSave'), 'afterDelay', 'the fixture must turn auto save on, so a leaked edit reaches the disk');

    // The editor: a fixture source file, with one saved edit (so a leaked undo has something to undo).
    const [uri] = await vscode.workspace.findFiles('src/**/*.ts', undefined, 1);
    assert.ok(uri, 'no src/**/*.ts in the fixture workspace');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
    assert.ok(await editor.edit((b) => b.insert(new vscode.Position(0, 0), '// keystroke test: an edit a leaked undo would remove\n')));
    // Auto save may have saved it already (then save() answers false: nothing to save).
    if (doc.isDirty) await doc.save();
    for (const until = Date.now() + 10_000; doc.isDirty; await new Promise((r) => setTimeout(r, 100))) {
      assert.ok(Date.now() < until, 'the edited fixture file was not saved');
    }
    editor.selection = new vscode.Selection(2, 0, 2, 0);
    const marker = 'GATESCOPE-CLIPBOARD-MARKER';
    const wrote = await within(vscode.env.clipboard.writeText(marker).then(() => true, () => false), 5000);
    const clipboard = wrote === true ? marker : null;
    if (!clipboard) console.log('      (the clipboard could not be written; a leaked paste is caught only if the browser has text to paste)');
    await vscode.commands.executeCommand('gatescope.showPanel');

    const before = { text: doc.getText(), version: doc.version, disk: fs.readFileSync(uri.fsPath, 'utf8') };
    assert.strictEqual(before.disk, before.text, 'the file on disk differs from the saved document');
    const events: string[] = [];
    const subs = [
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === doc && e.contentChanges.length) events.push(`change to version ${e.document.version}: ${JSON.stringify(e.contentChanges[0].text.slice(0, 40))} at line ${e.contentChanges[0].range.start.line}`);
      }),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (d === doc) events.push(`saved at version ${d.version}`);
      }),
    ];
    try {
      const ready: KeysHostReady = { file: uri.fsPath, version: before.version, clipboard };
      writeJsonAtomic(sync.hostReady, ready);
      const done = await waitForJson<KeysDriverDone>(sync.driverDone, 'the keystroke driver', DRIVER_TIMEOUT_MS);
      // A leaked key acts within milliseconds, a leaked edit is saved after files.autoSaveDelay: let both land.
      await new Promise((r) => setTimeout(r, 1500));
      console.log(`      the driver exercised ${done.controls} controls; document version ${before.version} → ${doc.version}; ${events.length} change/save events`);
      assert.deepStrictEqual(events, [], 'the editor\'s document changed or was saved while keys were typed in the panel');
      assert.strictEqual(doc.version, before.version, 'the document version changed');
      assert.ok(doc.getText() === before.text, `the document text changed (length ${before.text.length} → ${doc.getText().length})`);
      assert.strictEqual(doc.isDirty, false, 'the document is dirty');
      assert.ok(fs.readFileSync(uri.fsPath, 'utf8') === before.disk, 'the file on disk changed');
      assert.deepStrictEqual(done.problems, [], 'the driver saw problems');
    } finally {
      subs.forEach((s) => s.dispose());
    }
  });
});
