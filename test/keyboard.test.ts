// The webview keyboard guard's decision (webview/keyboard.ts), in plain Node: which keys stay in a
// GateScope webview and which go on to the workbench's keybindings, and what kind of control the composed
// path of a key event names. The guard in a real VS Code is tested by test/vscode.test.ts ('@keys').

import * as assert from 'assert';
import { ControlKind, KeyPress, PathElement, cancelKeyDefault, controlKind, keepKeyInWebview } from '../webview/keyboard';

/** 'Ctrl+Shift+Z' → a KeyPress ('Space' is ' '; a single letter with Shift is upper case, as browsers report it). */
function press(chord: string): KeyPress {
  const parts = chord.split('+');
  let key = parts.pop()!;
  if (key === '') key = '+'; // 'Ctrl++'
  const mods = new Set(parts.map((p) => p.toLowerCase()));
  if (key === 'Space') key = ' ';
  if (key.length === 1 && mods.has('shift')) key = key.toUpperCase();
  return { key, ctrlKey: mods.has('ctrl'), metaKey: mods.has('cmd'), altKey: mods.has('alt'), shiftKey: mods.has('shift') };
}

const keep = (chord: string, kind: ControlKind) => keepKeyInWebview(press(chord), kind);

// A vscode-text-field's composed path as the document sees it: the real input in the shadow root first.
const TEXT_FIELD: PathElement[] = [
  { tagName: 'INPUT', type: 'text' }, { tagName: 'DIV', role: null }, {}, { tagName: 'VSCODE-TEXT-FIELD' },
  { tagName: 'DIV' }, { tagName: 'MAIN' }, { tagName: 'BODY' }, { tagName: 'HTML' }, {}, {},
];

describe('webview keyboard guard', () => {
  describe('controlKind', () => {
    it('finds the text input inside a toolkit component\'s shadow root', () => {
      assert.strictEqual(controlKind(TEXT_FIELD), 'text');
    });

    it('a closed shadow root (only the host in the path) still counts by the host\'s tag', () => {
      assert.strictEqual(controlKind(TEXT_FIELD.slice(3)), 'text');
      assert.strictEqual(controlKind([{ tagName: 'vscode-dropdown', role: 'combobox' }, { tagName: 'BODY' }]), 'list');
    });

    it('native and ARIA controls', () => {
      assert.strictEqual(controlKind([{ tagName: 'TEXTAREA' }]), 'text');
      assert.strictEqual(controlKind([{ tagName: 'INPUT' }]), 'text'); // no type: text
      assert.strictEqual(controlKind([{ tagName: 'INPUT', type: 'number' }]), 'text');
      assert.strictEqual(controlKind([{ tagName: 'INPUT', type: 'Checkbox' }]), 'toggle');
      assert.strictEqual(controlKind([{ tagName: 'DIV', isContentEditable: true }]), 'text');
      assert.strictEqual(controlKind([{ tagName: 'DIV', role: 'Listbox' }]), 'list');
      assert.strictEqual(controlKind([{ tagName: 'DIV', role: 'option' }, { tagName: 'VSCODE-DROPDOWN' }]), 'list');
      assert.strictEqual(controlKind([{ tagName: 'SELECT' }]), 'list');
      assert.strictEqual(controlKind([{ tagName: 'VSCODE-CHECKBOX', role: 'checkbox' }]), 'toggle');
      assert.strictEqual(controlKind([{ tagName: 'SPAN' }, { tagName: 'VSCODE-BUTTON' }]), 'toggle');
    });

    it('the innermost control decides (a button inside an editable region is a button)', () => {
      assert.strictEqual(controlKind([{ tagName: 'BUTTON' }, { tagName: 'DIV', role: 'grid' }]), 'toggle');
    });

    it('the page, a canvas or plain text is no control', () => {
      assert.strictEqual(controlKind([{ tagName: 'CANVAS', role: 'img' }, { tagName: 'FIGURE' }, { tagName: 'BODY' }, {}, {}]), 'none');
      assert.strictEqual(controlKind([]), 'none');
    });
  });

  describe('keepKeyInWebview', () => {
    it('in a text field, typing, editing, caret keys, Enter, Space and Tab stay in the webview', () => {
      for (const chord of ['7', 'a', 'Shift+a', 'Space', '.', 'Backspace', 'Delete', 'ArrowLeft', 'Shift+ArrowRight', 'Home', 'Shift+End', 'Enter', 'Tab', 'Shift+Tab', 'Alt+e', 'Alt+ArrowLeft']) {
        assert.strictEqual(keep(chord, 'text'), true, chord);
      }
    });

    it('select all, clipboard, undo and redo stay in the webview, with Ctrl and with Cmd, wherever the focus is', () => {
      for (const kind of ['text', 'list', 'toggle', 'none'] as const) {
        for (const chord of ['Ctrl+a', 'Ctrl+c', 'Ctrl+x', 'Ctrl+v', 'Ctrl+z', 'Ctrl+y', 'Ctrl+Shift+z', 'Cmd+a', 'Cmd+v', 'Cmd+Shift+z', 'Shift+Insert', 'Ctrl+Insert', 'Shift+Delete', 'Ctrl+Shift+v']) {
          assert.strictEqual(keep(chord, kind), true, `${chord} on ${kind}`);
        }
        assert.strictEqual(keep('Tab', kind), true, `Tab on ${kind}`);
      }
    });

    it('word moves and deletes with Ctrl/Cmd, and AltGr characters, stay in a text field', () => {
      for (const chord of ['Ctrl+ArrowLeft', 'Ctrl+Shift+ArrowRight', 'Ctrl+Backspace', 'Cmd+Backspace', 'Ctrl+Delete', 'Ctrl+Home', 'Ctrl+Alt+q', 'Ctrl+Alt+@']) {
        assert.strictEqual(keep(chord, 'text'), true, chord);
      }
    });

    it('workbench shortcuts reach the workbench, even from a text field', () => {
      for (const kind of ['text', 'list', 'toggle', 'none'] as const) {
        for (const chord of ['Ctrl+Shift+p', 'Cmd+Shift+p', 'F1', 'Ctrl+p', 'Ctrl+`', 'Ctrl+b', 'Ctrl+j', 'Ctrl+s', 'Ctrl+w', 'Ctrl+Tab', 'Ctrl+PageDown', 'Ctrl+Shift+e', 'Ctrl+,', 'Ctrl+k', 'Escape', 'F5', 'Shift+F10', 'Alt+F4', 'Ctrl+Alt+ArrowLeft', 'Cmd+Alt+ArrowLeft']) {
          assert.strictEqual(keep(chord, kind), false, `${chord} on ${kind}`);
        }
      }
    });

    it('in a dropdown, typing (type-ahead), arrows, Enter and Space stay, as in a text field', () => {
      for (const chord of ['g', 'ArrowDown', 'ArrowUp', 'Home', 'End', 'Enter', 'Space']) assert.strictEqual(keep(chord, 'list'), true, chord);
      assert.strictEqual(keep('Escape', 'list'), false);
    });

    it('on a button or checkbox only Space and Enter stay; on the page, typing goes on', () => {
      assert.strictEqual(keep('Space', 'toggle'), true);
      assert.strictEqual(keep('Enter', 'toggle'), true);
      for (const chord of ['7', 'a', 'ArrowDown', 'Backspace']) {
        assert.strictEqual(keep(chord, 'toggle'), false, `${chord} on a toggle`);
        assert.strictEqual(keep(chord, 'none'), false, `${chord} on the page`);
      }
      assert.strictEqual(keep('Ctrl+Enter', 'toggle'), false);
    });
  });

  describe('cancelKeyDefault', () => {
    it('cancels undo and redo outside a text control (the page would undo the last text field edited), nothing else', () => {
      for (const chord of ['Ctrl+z', 'Ctrl+Shift+z', 'Ctrl+y', 'Cmd+z']) {
        assert.strictEqual(cancelKeyDefault(press(chord), 'text'), false, `${chord} in a text field undoes there`);
        for (const kind of ['list', 'toggle', 'none'] as const) assert.strictEqual(cancelKeyDefault(press(chord), kind), true, `${chord} on ${kind}`);
      }
      for (const chord of ['Ctrl+a', 'Ctrl+c', 'Ctrl+v', 'Tab', 'a', 'ArrowDown']) {
        for (const kind of ['text', 'list', 'toggle', 'none'] as const) assert.strictEqual(cancelKeyDefault(press(chord), kind), false, `${chord} on ${kind}`);
      }
    });
  });
});
