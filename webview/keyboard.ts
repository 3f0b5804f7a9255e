// Keeps the keys a GateScope webview's own controls consume away from the workbench.
//
// VS Code's webview host script listens for 'keydown' and 'keyup' on the webview's window (bubble
// phase) and posts every key to the workbench, which runs its keybindings with them: Ctrl+A, Ctrl+Z,
// Ctrl+Y, Ctrl+C/V/X are "multi-commands" that fall back to the active text editor, so select-all in the
// panel's *Hidden size* field selected the whole editor and focused it, and the next keys (Tab, a digit)
// edited the file. The host script also cancels undo/redo (and, in the desktop app, copy/paste) so that
// the workbench can do them instead. It does not know that a text field inside a web component's shadow
// root is editable.
//
// installKeyboardGuard() listens on the document (bubble phase): after the focused control has seen the
// key, before the window does. For the keys that control consumes (keepKeyInWebview) it stops the event
// there, so it is neither forwarded nor cancelled, and the control acts on it alone (undo and redo
// outside a text field are cancelled: there the page's undo would edit another field). Every other key
// (Ctrl+Shift+P, F1, Ctrl+P, Ctrl+`, Ctrl+B, ...) still reaches the workbench. The decision is a pure
// function of the key and of the focused element's kind (controlKind), tested in test/keyboard.test.ts.

/** The modifier state and key of a keyboard event (KeyboardEvent has all of these). */
export interface KeyPress {
  /** KeyboardEvent.key: 'a', 'A', '7', ' ', 'Tab', 'ArrowLeft', 'F1', ... */
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/**
 * What the key goes to: a 'text' control (a text field, text area or editable region: typing, editing,
 * caret keys, its own undo), a 'list' (a dropdown, list box or grid: typing chooses, arrows move), a
 * 'toggle' (a button, checkbox or link: Space and Enter), or 'none' (the page itself, a canvas, text).
 */
export type ControlKind = 'text' | 'list' | 'toggle' | 'none';

/** The parts of an element that controlKind reads (a DOM Element has them; tests pass plain objects). */
export interface PathElement {
  tagName?: string;
  /** The `type` property of an <input>. */
  type?: string;
  /** The `role` attribute, if any. */
  role?: string | null;
  isContentEditable?: boolean;
}

/** Input types that take typed text (everything but buttons, toggles, files, ranges and colours). */
const NON_TEXT_INPUT_TYPES = new Set(['button', 'checkbox', 'color', 'file', 'hidden', 'image', 'radio', 'range', 'reset', 'submit']);
const TEXT_TAGS = new Set(['TEXTAREA', 'VSCODE-TEXT-FIELD', 'VSCODE-TEXT-AREA']);
const TEXT_ROLES = new Set(['textbox', 'searchbox', 'spinbutton']);
const LIST_TAGS = new Set(['SELECT', 'VSCODE-DROPDOWN']);
const LIST_ROLES = new Set(['combobox', 'listbox', 'option', 'slider', 'grid', 'tree']);
const TOGGLE_TAGS = new Set(['BUTTON', 'A', 'SUMMARY', 'VSCODE-BUTTON', 'VSCODE-CHECKBOX', 'VSCODE-RADIO', 'VSCODE-LINK', 'VSCODE-PANEL-TAB']);
const TOGGLE_ROLES = new Set(['button', 'checkbox', 'radio', 'switch', 'link', 'tab', 'menuitem', 'menuitemcheckbox', 'menuitemradio']);

/**
 * The kind of control a key event goes to, from its composed path (innermost first, as
 * event.composedPath() gives it: the real <input> inside a toolkit component's shadow root comes before
 * its host). The innermost element that is a control decides.
 */
export function controlKind(path: readonly PathElement[]): ControlKind {
  for (const el of path) {
    const tag = (el.tagName ?? '').toUpperCase();
    if (!tag) continue; // the document, the window, shadow roots
    const role = (el.role ?? '').toLowerCase();
    if (tag === 'INPUT') return NON_TEXT_INPUT_TYPES.has((el.type ?? 'text').toLowerCase()) ? 'toggle' : 'text';
    if (el.isContentEditable || TEXT_TAGS.has(tag) || TEXT_ROLES.has(role)) return 'text';
    if (LIST_TAGS.has(tag) || LIST_ROLES.has(role)) return 'list';
    if (TOGGLE_TAGS.has(tag) || TOGGLE_ROLES.has(role)) return 'toggle';
  }
  return 'none';
}

/** Ctrl or, on macOS, Cmd. */
const primary = (k: KeyPress) => k.ctrlKey || k.metaKey;
const letter = (k: KeyPress) => (k.key.length === 1 ? k.key.toLowerCase() : '');

/** Undo and redo: Ctrl/Cmd+Z, Ctrl/Cmd+Shift+Z, Ctrl/Cmd+Y. */
const isUndoRedo = (k: KeyPress) => primary(k) && !k.altKey && ['z', 'y'].includes(letter(k));

/** Select all, copy, cut, paste, undo, redo (Ctrl/Cmd + A C X V Z Y, Shift+Z), and the Insert/Delete forms of clipboard keys. */
function isEditingShortcut(k: KeyPress): boolean {
  if (primary(k) && !k.altKey && ['a', 'c', 'x', 'v', 'z', 'y'].includes(letter(k))) return true;
  if (k.key === 'Insert' && (primary(k) || k.shiftKey)) return true; // Ctrl+Insert copies, Shift+Insert pastes
  return k.key === 'Delete' && k.shiftKey && !primary(k); // Shift+Delete cuts
}

/** Keys that, with Ctrl/Cmd, move the caret or delete by word or to the ends (Ctrl+PageUp/Down switch editors: not here). */
const CARET_KEYS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'Backspace', 'Delete']);

/** F1..F24, Escape and the like: never a control's, always the workbench's. */
const isFunctionKey = (k: KeyPress) => /^F\d{1,2}$/.test(k.key) || k.key === 'Escape';

/**
 * Whether a key stays in the webview (true) or goes on to the workbench's keybindings (false).
 *
 * - Anywhere in the webview: the editing shortcuts (select all, clipboard, undo, redo) act on the
 *   webview's focus or selection, never on an editor; Tab and Shift+Tab move focus between its controls.
 * - In a text control or a list: every key without Ctrl/Cmd (typing, Space, Enter, Backspace, Delete, arrows,
 *   Home/End, Alt combinations such as macOS's Option characters or word moves) except the function keys
 *   and Escape, plus Ctrl/Cmd with a caret key (word moves and deletes), and AltGr characters (Ctrl+Alt
 *   with a printable key, as Windows reports them).
 * - On a toggle: Space and Enter.
 * Everything else (Ctrl+Shift+P, Ctrl+P, Ctrl+`, F1, Escape, ...) reaches the workbench.
 */
export function keepKeyInWebview(k: KeyPress, kind: ControlKind): boolean {
  if (isEditingShortcut(k)) return true;
  if (k.key === 'Tab' && !primary(k) && !k.altKey) return true;
  if (kind === 'text' || kind === 'list') {
    if (!primary(k)) return !isFunctionKey(k);
    if (CARET_KEYS.has(k.key) && !k.altKey) return true;
    return k.ctrlKey && k.altKey && !k.metaKey && k.key.length === 1; // AltGr
  }
  if (kind === 'toggle') return (k.key === ' ' || k.key === 'Enter') && !primary(k) && !k.altKey;
  return false;
}

/**
 * Whether the browser's own action for a key kept in the webview must not happen either: undo and redo
 * outside a text control, where the document's undo would change the last text field edited (and move
 * the focus there), not the focused control.
 */
export function cancelKeyDefault(k: KeyPress, kind: ControlKind): boolean {
  return kind !== 'text' && isUndoRedo(k);
}

/** Marks a document whose guard is installed (the value removes it). */
const INSTALLED = Symbol('gatescope.keyboardGuard');

/** The parts of a composed-path node that controlKind reads (nothing for the document, window or shadow roots). */
function describe(node: EventTarget): PathElement {
  const el = node as Partial<HTMLInputElement>;
  if (typeof el.tagName !== 'string') return {};
  return { tagName: el.tagName, type: el.tagName === 'INPUT' ? el.type : undefined, role: el.getAttribute?.('role'), isContentEditable: el.isContentEditable };
}

/**
 * Installs the guard on a webview's document (once per document; a second call returns the first's
 * remover). Returns a function that removes it.
 */
export function installKeyboardGuard(doc: Document = document): () => void {
  const marked = doc as Document & { [INSTALLED]?: () => void };
  const existing = marked[INSTALLED];
  if (existing) return existing;
  const onKey = (e: KeyboardEvent) => {
    const kind = controlKind(e.composedPath().map(describe));
    if (!keepKeyInWebview(e, kind)) return;
    e.stopPropagation();
    if (cancelKeyDefault(e, kind)) e.preventDefault();
  };
  doc.addEventListener('keydown', onKey);
  doc.addEventListener('keyup', onKey);
  const remove = () => {
    doc.removeEventListener('keydown', onKey);
    doc.removeEventListener('keyup', onKey);
    delete marked[INSTALLED];
  };
  marked[INSTALLED] = remove;
  return remove;
}
