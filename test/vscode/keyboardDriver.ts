// The outside half of the keystroke test (the in-host half is suite/keyboard.spec.ts, "@keys"): once the
// spec has the editor and the panel ready, this clicks every text field and dropdown the panel's document
// holds, in order, and presses there what a user does (select all, typing, Tab, undo, redo, copy, cut,
// paste, caret keys), at a human pace, so that a key the webview forwards to the workbench has time to act
// on the editor, as it did in issue 8 (Ctrl+A selected the editor and focused it; the next keys edited it).
// After every key it checks that the keyboard focus is still in the panel; after each control, that the
// control holds what was typed; at the end, that F1 pressed in a field still opens the command palette
// (workbench shortcuts pass). It then tells the spec, which checks the document.

import * as fs from 'node:fs';
import type { KeysDriverDone, KeysHostReady } from './suite/keyboard.spec';
import { Workbench, browserState, webviewFrame } from './harness';
import { syncFiles, waitForJson, writeJsonAtomic } from './sync';

/** The panel's form controls, as the webview's light DOM holds them (a toolkit control's inner input is not counted twice). */
const CONTROL_SELECTOR = 'vscode-text-field, vscode-text-area, vscode-dropdown, input, textarea, select, [contenteditable]:not([contenteditable="false"])';

/** A user's pace between keys: a leaked shortcut acts within it (the workbench reacts to a forwarded key asynchronously). */
const KEY_PACE_MS = 120;
/** A little over FAST's Listbox.TYPE_AHEAD_TIMEOUT_MS (1000 ms), after which a dropdown's type-ahead search starts afresh. */
const TYPE_AHEAD_MS = 1300;

export interface ControlInfo {
  id: string;
  tag: string;
  visible: boolean;
  value: string;
  options: { value: string; text: string }[];
}

export interface KeystrokeReport extends KeysDriverDone {
  /** Every control found, in document order, when the form was first filled in. */
  found: ControlInfo[];
  /** The controls exercised, with what each should hold and holds. */
  exercised: { id: string; expected: string; actual: string }[];
  keysPressed: number;
}

/**
 * Runs the keystroke test's outside half against the workbench of a runExtensionTests run (call it from
 * `during`). Always writes the hand-over file for the spec (with the problems found), even when it fails,
 * so the spec never waits for nothing.
 */
export async function drivePanelKeystrokes(wb: Workbench, syncDir: string): Promise<KeystrokeReport> {
  const sync = syncFiles(syncDir);
  const report: KeystrokeReport = { controls: 0, problems: [], found: [], exercised: [], keysPressed: 0 };
  try {
    await driveAll(wb, sync.hostReady, report);
  } catch (e) {
    report.problems.push(`the driver stopped: ${e instanceof Error ? e.message : String(e)}\n${browserState(wb)}`);
  } finally {
    const done: KeysDriverDone = { controls: report.controls, problems: report.problems };
    fs.mkdirSync(syncDir, { recursive: true });
    writeJsonAtomic(sync.driverDone, done);
  }
  return report;
}

async function driveAll(wb: Workbench, hostReadyFile: string, report: KeystrokeReport): Promise<void> {
  const { page } = wb;
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  let hostExited = false;
  void wb.exited.then(() => (hostExited = true));
  await waitForJson<KeysHostReady>(hostReadyFile, 'the in-host keystroke spec to open the editor and the panel', 5 * 60_000, () =>
    page.isClosed() ? 'the workbench page closed' : hostExited ? 'the extension host exited (the in-host spec failed before it was ready: see its report)' : undefined);
  const frame = webviewFrame(page, 'gatescope.gatescope');
  const body = frame.locator('body');
  const list = (): Promise<ControlInfo[]> =>
    body.evaluate((b, selector) => Array.from(b.ownerDocument.querySelectorAll(selector)).map((el) => {
      const e = el as HTMLElement & { value?: string };
      return {
        id: e.id,
        tag: e.tagName.toLowerCase(),
        visible: e.getClientRects().length > 0,
        value: String(e.value ?? e.textContent ?? ''),
        options: Array.from(e.querySelectorAll('vscode-option, option')).map((o) => ({ value: String((o as HTMLOptionElement).value), text: (o.textContent ?? '').trim() })),
      };
    }), CONTROL_SELECTOR);

  // The form is filled in from the settings once the extension answers the panel's 'ready'.
  const deadline = Date.now() + 120_000;
  let found = await list().catch(() => [] as ControlInfo[]);
  while (!(found.length > 0 && found.every((c) => !c.visible || c.value !== ''))) {
    if (Date.now() > deadline) throw new Error(`the panel's form was not filled in within 120 s: ${JSON.stringify(found)}`);
    await page.waitForTimeout(250);
    found = await list().catch(() => [] as ControlInfo[]);
  }
  report.found = found;

  // Where the keyboard focus is when it is in an editor (what a leaked select-all does: it focuses the
  // editor, and the next keys edit it); '' otherwise. Tab from the panel's last control may leave the
  // webview for the workbench's body: that is the browser's focus order, not a leak.
  const focusOutsidePanel = (): Promise<string> =>
    page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      if (!a?.closest('.monaco-editor')) return '';
      return `<${a.tagName.toLowerCase()} class="${a.className}"> in an editor`;
    });
  const focusedControl = (): Promise<string> => body.evaluate((b) => b.ownerDocument.activeElement?.id ?? '');

  const press = async (id: string, chord: string) => {
    await page.keyboard.press(chord);
    report.keysPressed++;
    await page.waitForTimeout(KEY_PACE_MS);
    const outside = await focusOutsidePanel();
    if (outside) {
      report.problems.push(`after ${chord} in #${id} the keyboard focus went to ${outside}`);
      await focus(id); // go on with the other keys and controls
    }
  };
  const type = async (id: string, text: string) => {
    for (const ch of text) await press(id, ch);
  };
  const focus = async (id: string) => {
    const control = frame.locator(`#${id}`);
    await control.scrollIntoViewIfNeeded();
    await control.click();
    for (const until = Date.now() + 5000; (await focusedControl()) !== id; await page.waitForTimeout(100)) {
      if (Date.now() > until) throw new Error(`clicking #${id} did not focus it (the focus is on #${await focusedControl()})`);
    }
  };
  // The user came from the editor: clicked the field and pressed Ctrl+A at once, before the
  // workbench had heard that the panel has the focus (its select-all, undo and paste then fall back to
  // the editor). So each control is first reached that way, with no pause between the keys.
  const editorText = page.locator('.part.editor .monaco-editor .view-lines').first();
  const fromEditor = async (id: string, chords: string[]) => {
    await editorText.click();
    await frame.locator(`#${id}`).click();
    for (const chord of chords) {
      await page.keyboard.press(chord);
      report.keysPressed++;
    }
    await page.waitForTimeout(KEY_PACE_MS);
    const outside = await focusOutsidePanel();
    if (outside) report.problems.push(`after ${chords.join(', ')} typed at once in #${id} (coming from the editor) the keyboard focus went to ${outside}`);
  };
  const valueOf = (id: string): Promise<string> => frame.locator(`#${id}`).evaluate((e) => String((e as HTMLElement & { value?: string }).value ?? ''));

  for (const [index, first] of found.entries()) {
    // Visibility can change on the way (the tokenizer's choice shows the vocabulary size).
    const now = (await list()).find((c) => c.id === first.id);
    if (!first.id || !now) {
      report.problems.push(`control ${index} (<${first.tag}>) has no id or went away; it was not exercised`);
      continue;
    }
    if (!now.visible) {
      report.problems.push(`#${now.id} is hidden; it was not exercised`);
      continue;
    }
    const id = now.id;
    let expected: string;
    await fromEditor(id, now.tag === 'vscode-text-field' ? ['Control+a', '7', 'Tab'] : ['Control+a', 'Control+z', 'Control+v']);
    await focus(id);
    if (now.tag === 'vscode-dropdown' || now.tag === 'select') {
      // A click on the dropdown opens its list (one on its label, or a click that a late layout shift moved
      // there, only focuses it). With the list open a typed letter moves the highlight but does not choose,
      // and Tab closes it without choosing: close it first (Enter keeps the current option).
      const isOpen = () => frame.locator(`#${id}`).evaluate((e) => Boolean((e as HTMLElement & { open?: boolean }).open));
      if (await isOpen()) await press(id, 'Enter');
      // One choice only: quick successive choices can be saved out of order (the extension does not
      // serialise the panel's settings writes; reported).
      for (const chord of ['Control+a', 'Control+c', 'Control+v', 'Control+x', 'Control+z', 'Control+y', 'Control+Shift+z', 'Shift+Insert', 'ArrowLeft', 'ArrowRight']) await press(id, chord);
      // The toolkit's dropdown adds every letter key (with Ctrl too) to a type-ahead search that runs on
      // until no key came for TYPE_AHEAD_MS, and would take the arrow's choice back to a match: let it lapse.
      await page.waitForTimeout(TYPE_AHEAD_MS);
      if (await isOpen()) await press(id, 'Enter');
      // The next option (the previous one from the last): one arrow key chooses it in a closed dropdown.
      // (Ctrl+A's "a" may have chosen an option by type-ahead: start from what it holds now.)
      const current = await valueOf(id);
      const at = now.options.findIndex((o) => o.value === current);
      if (at < 0 || now.options.length < 2) throw new Error(`#${id}: its value ${JSON.stringify(current)} is not one of two or more options (${JSON.stringify(now.options)})`);
      const down = at < now.options.length - 1;
      expected = now.options[down ? at + 1 : at - 1].value;
      await press(id, down ? 'ArrowDown' : 'ArrowUp');
      await press(id, 'Tab');
    } else {
      expected = String(32 + index);
      await press(id, 'Control+a');
      await type(id, '7');
      await press(id, 'Tab');
      await focus(id);
      for (const chord of ['Control+z', 'Control+y', 'Control+Shift+z', 'Control+a', 'Control+c', 'Control+x', 'Control+v', 'Shift+Insert', 'Control+a', 'Backspace']) await press(id, chord);
      await type(id, expected);
      for (const chord of ['Home', 'End', 'ArrowLeft', 'Shift+ArrowRight', 'Delete', 'Control+Backspace', 'Control+a']) await press(id, chord);
      await type(id, expected);
      await press(id, 'Tab');
    }
    // A valid value goes to the settings and comes back (setSettings); a choice saved while an earlier
    // one is still on its way can show the earlier one for a moment. Wait for the round trip to settle.
    let actual = await valueOf(id);
    for (const until = Date.now() + 10_000; actual !== expected && Date.now() < until; actual = await valueOf(id)) await page.waitForTimeout(200);
    report.exercised.push({ id, expected, actual });
    if (actual !== expected) report.problems.push(`#${id} holds ${JSON.stringify(actual)}, not what was typed (${JSON.stringify(expected)})`);
  }
  report.controls = report.exercised.length;

  // The guard keeps only what a control consumes: a workbench shortcut typed in a field still works.
  const field = report.exercised.find((c) => c.id && found.find((f) => f.id === c.id)?.tag === 'vscode-text-field');
  if (field) {
    await focus(field.id);
    await page.keyboard.press('F1');
    const palette = page.locator('.quick-input-widget');
    const opened = await palette.waitFor({ state: 'visible', timeout: 15_000 }).then(() => true, () => false);
    if (!opened) report.problems.push(`F1 in #${field.id} did not open the command palette: a workbench shortcut no longer reaches the workbench`);
    await page.keyboard.press('Escape');
    if (opened) await palette.waitFor({ state: 'hidden', timeout: 15_000 }).catch(() => report.problems.push('the command palette did not close on Escape'));
  }
}
