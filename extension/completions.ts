// Inline completions (ghost text) from the stored model, when `gatescope.completions.enabled` is on:
// the model reads the text just before the cursor and continues it greedily to the end of the line.
// This first version primes from the last PRIME_CHARS characters on each request (a few milliseconds
// for a small model); caching recurrent states along the document is the next step.

import * as vscode from 'vscode';
import { ModelInference } from './inference';

/** Characters before the cursor the model reads. */
const PRIME_CHARS = 256;
/** Most tokens one completion adds. */
const MAX_TOKENS = 40;

export class GateScopeCompletions implements vscode.InlineCompletionItemProvider {
  constructor(private readonly inference: ModelInference, private readonly log: vscode.LogOutputChannel) {}

  async provideInlineCompletionItems(document: vscode.TextDocument, position: vscode.Position, _context: vscode.InlineCompletionContext, token: vscode.CancellationToken): Promise<vscode.InlineCompletionItem[]> {
    if (!vscode.workspace.getConfiguration('gatescope').get<boolean>('completions.enabled', false)) return [];
    const start = document.positionAt(Math.max(0, document.offsetAt(position) - PRIME_CHARS));
    const prefix = document.getText(new vscode.Range(start, position));
    // Complete at the end of a line only: ghost text in the middle of a line hides what follows.
    if (document.lineAt(position.line).text.slice(position.character).trim().length > 0) return [];
    try {
      const text = await this.inference.continueLine(prefix, MAX_TOKENS);
      if (token.isCancellationRequested || !text.trim()) return [];
      return [new vscode.InlineCompletionItem(text, new vscode.Range(position, position))];
    } catch (e) {
      this.log.debug(`no completion: ${(e as Error).message}`);
      return [];
    }
  }
}
