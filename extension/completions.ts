// Inline completions (ghost text) from the stored model, when `gatescope.completions.enabled` is on.
// The model runs in the completion worker (completionWorker.ts through completionClient.ts), never on
// the extension host's thread: the provider only reads the text before the cursor and the rest of its
// line, waits the debounce (a newer keystroke cancels the wait), and awaits the worker's answer with the
// request's CancellationToken wired to the worker's shared cancellation words, so a superseded request
// stops in the worker at its next step and is never shown. Suggestions also show mid-line when only
// closers, quotes or whitespace follow the cursor (allowsSuggestion from kernels/complete/engine.ts):
// the item then replaces the rest of the line with the suggestion followed by those closers
// (completionEdit), so VS Code shows the ghost text before an auto-closed `)` and keeps it.
// CompletionService also keeps the worker's model current (the stored model's file, checked at each
// request, every few seconds while completions are on, and after each checkpoint), forwards document
// edits and closes to the worker's state cache, and drives the status-bar item (completionStatus.ts).
// For a model with the character tokenizer it also sends the worker the text of a character n-gram mixed
// into the model's distribution (gatescope.completions.ngramWeight; the evaluation on a held-out part of a
// fixed corpus: model alone 24.5% of keystrokes saved, n-gram alone 29.6%, mixed at 0.7 30.0%): the
// workspace's training corpus, read by the same collector training uses (extension/corpus.ts) and split
// as training splits it (the training part, not the validation part), its first NGRAM_MAX_CHARS only.
// The status item says 'loading' until the worker has built it; a BPE model or weight 0 sends none.
// READ_AHEAD_DEBOUNCE_MS after the last edit of a document it sends the worker the document's whole text
// and the first offset edited, and the worker reads the contexts of the lines below it into its cache
// as idle work (an edit changes the context of every cursor in the lines below it).

import * as path from 'path';
import * as vscode from 'vscode';
import { allowsSuggestion } from '../kernels/complete/engine';
import { checkpointTokenizer } from '../kernels/checkpoint';
import { splitTrainVal } from '../kernels/trainingData';
import { globToRegExp, outOfScope } from '../kernels/corpusPlan';
import { CompletionAnswer, CompletionClient, CompletionWorkerError, NGRAM_MAX_CHARS, NGRAM_ORDER, completionEdit, ngramText } from './completionClient';
import { CompletionState, CompletionStatusBar } from './completionStatus';
import { collectWorkspaceCorpus } from './corpus';
import { CompletionSettings, readCompletionSettings, readSettings } from './settings';
import { ModelStore, StoredModel } from './store';

/** How often the stored model's file is checked while completions are on (a stat; the bytes only when it changed). */
const MODEL_POLL_MS = 2000;
/** Wait after a document's last edit before the worker reads ahead the lines below it. */
const READ_AHEAD_DEBOUNCE_MS = 150;
/** Requests remembered for gatescope.test.completionState. */
const RECORDS = 500;
/** One request as the provider saw it (for the in-VS-Code tests: gatescope.test.completionState). */
export interface CompletionRecord {
  seq: number;
  uri: string;
  version: number;
  /** Characters before the cursor. */
  offset: number;
  trigger: 'automatic' | 'invoke';
  outcome: 'shown' | 'off' | 'not in files' | 'no model' | 'cancelled' | 'text after the cursor' | 'nothing confident' | 'error' | string;
  suggestion?: string;
  insertText?: string;
  confidence?: number;
  workerMs?: number;
  /** From the request to the provider's answer. */
  ms: number;
  /** The document's version when the provider answered (a shown item is always for the version it was asked for). */
  answeredVersion?: number;
  /** Where a cancelled request stopped: in the debounce, in the worker (answered 'cancelled'), or after the worker's answer. */
  cancelledIn?: 'debounce' | 'worker' | 'provider';
  message?: string;
}

export interface CompletionServiceDeps {
  extensionPath: string;
  store: ModelStore;
  log: vscode.LogOutputChannel;
  /** Training reports: a checkpoint or the end of a run may have changed the stored model. */
  onDidReport: vscode.Event<{ kind: string }>;
}

export class CompletionService implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly client: CompletionClient;
  private readonly status = new CompletionStatusBar();
  private readonly disposables: vscode.Disposable[] = [];
  private settings: CompletionSettings;
  private readonly modelKeys = new WeakMap<Uint8Array, string>();
  private modelGeneration = 0;
  /** The key of the model the worker has loaded, and of one it failed to load. */
  private loadedKey: string | null = null;
  private failedKey: string | null = null;
  private hasModel = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  /** The model and weight the n-gram was last decided for, the key sent, the key the worker has built, the collection under way, and the last text sent. */
  private ngramFor: { modelKey: string; weight: number } | null = null;
  private ngramSent: string | null = null;
  private ngramLoaded: string | null = null;
  private ngramCollecting: vscode.CancellationTokenSource | null = null;
  private ngramCollected: { modelKey: string; text: string | null } | null = null;
  private ngramTextSent: string | null = null;
  /** The key of the last text sent (kept while weight 0 sends none, so the same text is not built again). */
  private ngramTextKey: string | null = null;
  private ngramGeneration = 0;
  private readonly tokenizerKinds = new Map<string, string>();
  /** Per document: the first offset edited since the last read-ahead, and its debounce timer. */
  private readonly readAheads = new Map<string, { offset: number; timer: NodeJS.Timeout }>();
  readonly records: CompletionRecord[] = [];

  constructor(private readonly deps: CompletionServiceDeps) {
    this.settings = this.readSettings();
    this.client = new CompletionClient(path.join(deps.extensionPath, 'dist', 'completionWorker.js'), {
      onProblem: (m) => {
        deps.log.warn(`completions: ${m}`);
        if (/could not load the model/.test(m)) {
          this.failedKey = this.client.modelKey;
          this.updateStatus();
        } else if (/could not build the n-gram/.test(m)) {
          this.ngramLoaded = this.ngramSent; // the worker goes on without it
          this.updateStatus();
        }
      },
      onLoaded: (key, what, ms) => {
        deps.log.info(`completions: the ${what} ${key} is loaded in the worker (${ms.toFixed(0)} ms)`);
        if (what === 'model') this.loadedKey = key;
        else this.ngramLoaded = key;
        this.updateStatus();
      },
    }, { maxBytes: this.settings.cacheBytes });
    this.disposables.push(
      this.status,
      vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], this),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!e.contentChanges.length || !this.client.started) return;
        const offset = Math.min(...e.contentChanges.map((c) => c.rangeOffset));
        this.client.edit(e.document.uri.toString(), offset);
        this.scheduleReadAhead(e.document, offset);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.cancelReadAhead(d.uri.toString());
        this.client.close(d.uri.toString());
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('gatescope.completions')) return;
        this.settings = this.readSettings();
        this.client.setCache({ maxBytes: this.settings.cacheBytes });
        this.updateNgram();
        this.updatePolling();
        this.updateStatus();
        if (this.settings.enabled) void this.refreshModel();
      }),
      deps.onDidReport((r) => {
        if (this.settings.enabled && (r.kind === 'checkpoint' || r.kind === 'done')) for (const ms of [300, 1500]) setTimeout(() => void this.refreshModel(), ms);
      }),
    );
    this.updateStatus();
    this.updatePolling();
    if (this.settings.enabled) void this.refreshModel();
  }

  /** What gatescope.test.completionState returns. */
  testState(): { status: CompletionState | null; statusText: string; modelKey: string | null; loadedKey: string | null; records: CompletionRecord[]; ngram: { sentKey: string | null; loadedKey: string | null; weight: number; text: string | null } } {
    return {
      status: this.status.state, statusText: this.status.text, modelKey: this.client.modelKey, loadedKey: this.loadedKey, records: this.records.slice(),
      ngram: { sentKey: this.ngramSent, loadedKey: this.ngramLoaded, weight: this.ngramSent === 'none' ? 0 : this.ngramFor?.weight ?? 0, text: this.ngramSent === 'none' ? null : this.ngramTextSent },
    };
  }

  /** The stored model changed (imported, reset): look now rather than at the next poll. */
  modelChanged(): void {
    void this.refreshModel();
  }

  async provideInlineCompletionItems(document: vscode.TextDocument, position: vscode.Position, context: vscode.InlineCompletionContext, token: vscode.CancellationToken): Promise<vscode.InlineCompletionItem[]> {
    const t0 = performance.now();
    const record: CompletionRecord = {
      seq: ++this.seq, uri: document.uri.toString(), version: document.version, offset: document.offsetAt(position),
      trigger: context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke ? 'invoke' : 'automatic', outcome: '', ms: 0,
    };
    const done = (outcome: CompletionRecord['outcome'], items: vscode.InlineCompletionItem[] = []) => {
      record.outcome = outcome;
      record.ms = performance.now() - t0;
      record.answeredVersion = document.version;
      this.records.push(record);
      if (this.records.length > RECORDS) this.records.splice(0, this.records.length - RECORDS);
      return items;
    };
    const s = this.settings;
    if (!s.enabled) return done('off');
    if (!this.applies(document, s.files)) return done('not in files');
    const line = document.lineAt(position.line);
    const after = line.text.slice(position.character);
    if (!allowsSuggestion(after)) return done('text after the cursor');
    const key = await this.refreshModel();
    if (!key) return done('no model');
    if ((s.debounceMs > 0 && record.trigger === 'automatic' && !(await wait(s.debounceMs, token))) || token.isCancellationRequested) {
      record.cancelledIn = 'debounce';
      return done('cancelled');
    }
    const text = document.getText(new vscode.Range(new vscode.Position(0, 0), position));
    const { id, answer } = this.client.complete({ doc: document.uri.toString(), text, after, options: s.decode });
    const sub = token.onCancellationRequested(() => this.client.cancel(id));
    let a: CompletionAnswer;
    try {
      a = await answer;
    } catch (e) {
      record.message = (e as Error).message;
      if (!(e instanceof CompletionWorkerError && e.stale)) this.deps.log.debug(`completions: no completion: ${record.message}`);
      return done('error');
    } finally {
      sub.dispose();
    }
    if (a.kind === 'cancelled' || token.isCancellationRequested || document.version !== record.version) {
      record.cancelledIn = a.kind === 'cancelled' ? 'worker' : 'provider';
      return done('cancelled');
    }
    record.workerMs = a.workerMs;
    if (!a.suggestion) return done(a.reason);
    const edit = completionEdit(a.suggestion.text, after);
    record.suggestion = a.suggestion.text;
    record.insertText = edit.insertText;
    record.confidence = a.suggestion.confidence;
    const range = edit.replaceRestOfLine ? new vscode.Range(position, line.range.end) : new vscode.Range(position, position);
    return done('shown', [new vscode.InlineCompletionItem(edit.insertText, range)]);
  }

  /** After the document's last edit (debounced), the worker reads the contexts below the first offset edited. */
  private scheduleReadAhead(document: vscode.TextDocument, offset: number): void {
    const uri = document.uri.toString();
    const s = this.settings;
    if (!s.enabled || !this.client.modelKey || !this.applies(document, s.files)) return;
    const prev = this.readAheads.get(uri);
    if (prev) clearTimeout(prev.timer);
    const first = prev ? Math.min(prev.offset, offset) : offset;
    const timer = setTimeout(() => {
      this.readAheads.delete(uri);
      if (document.isClosed || !this.settings.enabled) return;
      this.client.readAhead(uri, document.getText(), first);
    }, READ_AHEAD_DEBOUNCE_MS);
    this.readAheads.set(uri, { offset: first, timer });
  }

  private cancelReadAhead(uri: string): void {
    const r = this.readAheads.get(uri);
    if (r) clearTimeout(r.timer);
    this.readAheads.delete(uri);
  }

  dispose(): void {
    for (const uri of [...this.readAheads.keys()]) this.cancelReadAhead(uri);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    for (const d of this.disposables) d.dispose();
    this.client.dispose();
  }

  private readSettings(): CompletionSettings {
    const { settings, problems } = readCompletionSettings();
    for (const p of problems) this.deps.log.warn(p);
    return settings;
  }

  /** Whether completions apply to this document (gatescope.completions.files; empty: the corpus's files and untitled ones). */
  private applies(doc: vscode.TextDocument, files: string[]): boolean {
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
    const rel = folder ? path.posix.relative(folder.uri.path, doc.uri.path) : doc.uri.path.replace(/^\//, '');
    if (files.length === 0) {
      if (doc.isUntitled) return true;
      if (!folder) return false;
      const corpus = vscode.workspace.getConfiguration('gatescope.corpus', doc.uri);
      const include = corpus.get<unknown>('include', '**/*');
      const exclude = corpus.get<unknown>('exclude', []);
      const filesExclude = vscode.workspace.getConfiguration('files', doc.uri).get<Record<string, unknown>>('exclude');
      return !outOfScope({ include: typeof include === 'string' ? include : '**/*', exclude: Array.isArray(exclude) ? exclude.filter((g) => typeof g === 'string') : [] }, filesExclude)(rel);
    }
    return files.some((f) => (/[*?/.{[]/.test(f) ? globToRegExp(f).test(rel) : f === doc.languageId));
  }

  /** Sends the stored model to the worker when it changed; its key, or null when there is none (or it cannot be read). */
  private async refreshModel(): Promise<string | null> {
    let stored: StoredModel | null;
    try {
      stored = await this.deps.store.load();
    } catch (e) {
      this.deps.log.warn(`completions: the stored model cannot be read: ${(e as Error).message}`);
      stored = null;
    }
    if (!stored) {
      this.hasModel = false;
      this.client.clearModel();
      this.loadedKey = null;
      this.updateStatus();
      return null;
    }
    this.hasModel = true;
    let key = this.modelKeys.get(stored.bytes);
    if (!key) {
      key = `model${++this.modelGeneration}@${stored.checkpoint.step}`;
      this.modelKeys.set(stored.bytes, key);
      let kind = 'unknown';
      try {
        kind = checkpointTokenizer(stored.checkpoint, 'the stored model', 'completions cannot use it').kind;
      } catch {
        // The worker reports why the model cannot be used.
      }
      this.tokenizerKinds.set(key, kind);
    }
    if (this.client.modelKey !== key) {
      this.deps.log.info(`completions: using the stored model at step ${stored.checkpoint.step} (${key})`);
      this.client.setModel(key, stored.bytes);
    }
    this.updateNgram();
    this.updateStatus();
    return key;
  }

  /**
   * Sends the worker the n-gram the current model and weight want, when that changed: none for weight 0
   * or a model without the character tokenizer; else the workspace's training corpus, collected again for
   * each new model (training may have read another corpus since).
   */
  private updateNgram(): void {
    const modelKey = this.client.modelKey;
    const weight = this.settings.ngramWeight;
    if (!modelKey || !this.settings.enabled) return;
    if (this.ngramFor && this.ngramFor.modelKey === modelKey && this.ngramFor.weight === weight) return;
    this.ngramFor = { modelKey, weight };
    this.ngramCollecting?.cancel();
    this.ngramCollecting = null;
    if (weight <= 0 || this.tokenizerKinds.get(modelKey) !== 'char') {
      this.sendNgram(null, 0);
      return;
    }
    // Only the weight changed: the text collected for this model is used again.
    if (this.ngramCollected?.modelKey === modelKey) {
      this.sendNgram(this.ngramCollected.text, weight);
      return;
    }
    const cts = (this.ngramCollecting = new vscode.CancellationTokenSource());
    this.updateStatus();
    void (async () => {
      let text: string | null = null;
      let cancelled = false;
      try {
        const { settings, problems } = readSettings();
        for (const p of problems) this.deps.log.warn(p);
        const collected = await collectWorkspaceCorpus(settings.corpus, { token: cts.token, log: this.deps.log });
        const train = splitTrainVal(collected.text, settings.validationFraction).train;
        text = ngramText(train);
        if (!text.length) text = null;
        this.deps.log.info(`completions: the n-gram is built from ${text?.length ?? 0} characters of the workspace's training corpus${train.length > NGRAM_MAX_CHARS ? ` (its first ${NGRAM_MAX_CHARS} of ${train.length})` : ''}`);
      } catch (e) {
        if (!cts.token.isCancellationRequested) this.deps.log.warn(`completions: no n-gram (the workspace's corpus could not be read: ${(e as Error).message}); the model completes alone`);
      } finally {
        cancelled = cts.token.isCancellationRequested || this.ngramCollecting !== cts;
        cts.dispose();
      }
      if (cancelled) return;
      this.ngramCollecting = null;
      this.ngramCollected = { modelKey, text };
      this.sendNgram(text, text === null ? 0 : this.settings.ngramWeight);
    })();
  }

  /** Sends the n-gram's text (the same text keeps its key, so the worker does not build it again) and weight. */
  private sendNgram(text: string | null, weight: number): void {
    let key = 'none';
    if (text !== null) {
      if (text !== this.ngramTextSent || !this.ngramTextKey) this.ngramTextKey = `ngram${++this.ngramGeneration}`;
      key = this.ngramTextKey;
      this.ngramTextSent = text;
    }
    if (this.client.setNgram(key, text, weight, NGRAM_ORDER)) {
      if (this.ngramSent !== key) this.ngramLoaded = null;
      this.ngramSent = key;
    }
    this.updateStatus();
  }

  private updatePolling(): void {
    if (this.settings.enabled && !this.pollTimer) {
      this.pollTimer = setInterval(() => void this.refreshModel(), MODEL_POLL_MS);
    } else if (!this.settings.enabled && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private updateStatus(): void {
    const key = this.client.modelKey;
    let state: CompletionState;
    if (!this.settings.enabled) state = 'off';
    else if (!this.hasModel || !key) state = 'noModel';
    else if (this.failedKey === key) state = 'failed';
    else if (this.loadedKey !== key || this.ngramCollecting || (this.ngramSent !== null && this.ngramLoaded !== this.ngramSent)) state = 'loading';
    else state = 'on';
    this.status.show(state);
  }
}

/** Waits `ms`; false when the token fired first. */
function wait(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  return new Promise((resolve) => {
    if (token.isCancellationRequested) return resolve(false);
    const sub = token.onCancellationRequested(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve(false);
    });
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(true);
    }, ms);
  });
}
