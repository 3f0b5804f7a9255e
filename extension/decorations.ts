// The editor coloured by one unit: the coloured tokens (extension/decorationBuckets.ts) become
// decorations, one TextEditorDecorationType per colour, created once and reused while the colour is in
// the palette (a new clip changes the palette; types of colours that left it are disposed), every
// type's ranges replaced on each update and all of them disposed on clear. Also keeps what was applied
// last, as plain JSON, for the in-VS-Code tests (gatescope.test.inspectorDecorations).

import * as vscode from 'vscode';
import { UnitRef } from '../kernels/inspect/types';
import { ColouredToken, groupByBucket } from './decorationBuckets';

export interface AppliedDecorations {
  unit: UnitRef | null;
  /** The document the decorations are in ('' when none). */
  uri: string;
  ranges: { start: { line: number; character: number }; end: { line: number; character: number }; color: string; value: number }[];
}

export class UnitDecorations implements vscode.Disposable {
  /** One decoration type per background colour. */
  private readonly types = new Map<string, vscode.TextEditorDecorationType>();
  /** The editor the decorations are in now. */
  private editor: vscode.TextEditor | undefined;
  private applied: AppliedDecorations = { unit: null, uri: '', ranges: [] };

  get last(): AppliedDecorations {
    return { unit: this.applied.unit ? { ...this.applied.unit } : null, uri: this.applied.uri, ranges: this.applied.ranges.map((r) => ({ ...r, start: { ...r.start }, end: { ...r.end } })) };
  }

  /** Colours `editor`'s tokens: tokens[i].bucket indexes `palette` (CSS colours). Other editors' colouring is removed. */
  apply(editor: vscode.TextEditor, unit: UnitRef, tokens: readonly ColouredToken[], palette: readonly string[]): void {
    if (this.editor && this.editor !== editor) this.clearEditor(this.editor);
    this.editor = editor;
    const doc = editor.document;
    const byColour = new Map<string, vscode.Range[]>();
    const ranges: AppliedDecorations['ranges'] = [];
    for (const [bucket, group] of groupByBucket(tokens)) {
      const color = palette[bucket];
      const list = byColour.get(color) ?? [];
      for (const t of group) {
        const range = new vscode.Range(doc.positionAt(t.start), doc.positionAt(t.end));
        list.push(range);
        ranges.push({ start: pos(range.start), end: pos(range.end), color, value: t.value });
      }
      byColour.set(color, list);
    }
    // Types of colours no longer in the palette go; the rest are kept for the next update.
    const keep = new Set(palette);
    for (const [color, type] of this.types) {
      if (!keep.has(color)) {
        type.dispose();
        this.types.delete(color);
      }
    }
    for (const color of byColour.keys()) if (!this.types.has(color)) this.types.set(color, vscode.window.createTextEditorDecorationType({ backgroundColor: color }));
    for (const [color, type] of this.types) editor.setDecorations(type, byColour.get(color) ?? []);
    ranges.sort((a, b) => a.start.line - b.start.line || a.start.character - b.start.character);
    this.applied = { unit: { ...unit }, uri: doc.uri.toString(), ranges };
  }

  /** Removes every decoration and disposes every type. */
  clear(): void {
    for (const type of this.types.values()) type.dispose();
    this.types.clear();
    this.editor = undefined;
    this.applied = { unit: null, uri: '', ranges: [] };
  }

  get decoratedEditor(): vscode.TextEditor | undefined {
    return this.editor;
  }

  dispose(): void {
    this.clear();
  }

  private clearEditor(editor: vscode.TextEditor): void {
    for (const type of this.types.values()) editor.setDecorations(type, []);
  }
}

function pos(p: vscode.Position): { line: number; character: number } {
  return { line: p.line, character: p.character };
}
