// The inspector's host side: it follows the active editor (its text, selection, visible range and
// cursor, debounced) and has the inspector worker inspect it, posting each result to the inspector's
// pages; it reloads the model when the stored checkpoint changes (a new checkpoint during training, an
// import, a reset) and recomputes, dropping a result computed with a model that changed meanwhile; it
// runs matches across the workspace's corpus (read through the training collector, kept until a file
// or a corpus setting changes), corpus gate saturation and sampling in the worker; it colours the
// active editor by a unit (visible range only, recomputed on scroll and edit); and it opens match
// results. Nothing here computes an activation: the worker does (extension/inspectWorker.ts).

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { GateScopeError } from '../kernels/errors';
import { CorpusSource } from '../kernels/inspect/match';
import { MatchResult, UnitRef } from '../kernels/inspect/types';
import { InspectModel, InspectorFromWebview, InspectorStatus, InspectorToWebview } from '../webview/protocol';
import { CollectedCorpus, collectWorkspaceCorpus } from './corpus';
import { colourTokens } from './decorationBuckets';
import { AppliedDecorations, UnitDecorations } from './decorations';
import { InspectorHosts } from './inspectorView';
import { EditorView } from './inspectWorkerProtocol';
import { AnswerTo, InspectWorkerClient, InspectWorkerError } from './inspectWorkerClient';
import { readSettings } from './settings';
import { ModelStore, StoredModel } from './store';
import { Superseding } from './supersede';

/** Wait after the last editor change before inspecting (typing, scrolling and moving the cursor settle first). */
export const FOLLOW_DEBOUNCE_MS = 300;
/** How often the stored model's file is checked while the inspector is in use (a checkpoint, an import, a reset). */
const MODEL_POLL_MS = 1000;
/** Opacity of the editor's unit colouring: the text stays readable over the strongest colours. */
const DECORATION_ALPHA = 0.45;
/** Times a request is recomputed because the model changed under it, before the inspector gives up. */
const MAX_STALE_RETRIES = 3;
/** Least time between two match progress messages. */
const PROGRESS_EVERY_MS = 100;

/**
 * Documents the inspector follows: the user's files. Not the output panel (following the GateScope log
 * would inspect the lines it writes about inspecting, without end), nor other internal documents.
 */
const FOLLOWED_SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-vfs', 'vscode-notebook-cell']);

const followable = (e: vscode.TextEditor | undefined): e is vscode.TextEditor => !!e && FOLLOWED_SCHEMES.has(e.document.uri.scheme);

export const NO_MODEL_MESSAGE = 'No model yet: run GateScope: Train on Workspace first.';

/** What one inspection is made of: a snapshot of the followed editor. */
interface EditorSnapshot {
  uri: string;
  label: string;
  languageId: string;
  version: number;
  text: string;
  view: EditorView;
}

interface InspectAnswer {
  snap: EditorSnapshot;
  model: { key: string; info: InspectModel };
  reply: AnswerTo<'inspect'>;
  roundTripMs: number;
}

interface DecorateJob {
  editor: vscode.TextEditor;
  unit: UnitRef;
  snap: EditorSnapshot;
}

export interface InspectorDeps {
  extensionUri: vscode.Uri;
  store: ModelStore;
  log: vscode.LogOutputChannel;
  /** Fires when training reports (a checkpoint is about to be on disk). */
  onDidReport: vscode.Event<{ kind: string }>;
}

export class InspectorController implements vscode.Disposable {
  readonly hosts: InspectorHosts;
  private readonly client: InspectWorkerClient;
  private readonly decorations = new UnitDecorations();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly store: ModelStore;
  private readonly log: vscode.LogOutputChannel;

  /** The text editor followed: the active one, or the last one when a webview has the focus. */
  private editor: vscode.TextEditor | undefined;
  private followTimer: ReturnType<typeof setTimeout> | undefined;
  private decorateTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  /** The model file's mtime and size last seen ('' when there is none). */
  private modelStamp: string | null = null;
  /** A key per distinct model bytes object the store hands out (the store keeps one per file version). */
  private readonly modelKeys = new WeakMap<Uint8Array, string>();
  private modelGeneration = 0;

  private readonly inspections: Superseding<EditorSnapshot, InspectAnswer>;
  private readonly decorating: Superseding<DecorateJob, { job: DecorateJob; reply: AnswerTo<'unitValues'>; ms: number }>;
  private staleRetries = 0;
  private colourUnit: UnitRef | null = null;

  // What the pages are shown again on 'inspector.ready'.
  private lastStatus: Extract<InspectorToWebview, { type: 'inspector.status' }> = { type: 'inspector.status', status: 'idle', message: 'Open a file to inspect it.' };
  private lastResult: Extract<InspectorToWebview, { type: 'inspector.result' }> | null = null;
  private lastMatch: Extract<InspectorToWebview, { type: 'inspector.matchResults' }> | null = null;
  private lastSaturation: Extract<InspectorToWebview, { type: 'inspector.saturation' }> | null = null;
  private timings = { workerMs: 0, roundTripMs: 0, decorateMs: 0 };
  /** The editor snapshot of the last inspection submitted. */
  private lastRequest: EditorSnapshot | null = null;

  /** The running match: its page id, its worker request, and how to stop reading the workspace. */
  private search: { searchId: number; workerId: number | null; cancel: vscode.CancellationTokenSource } | null = null;
  private corpus: { key: string; collected: CollectedCorpus; stale: boolean } | null = null;
  private corpusGeneration = 0;

  constructor(deps: InspectorDeps) {
    this.store = deps.store;
    this.log = deps.log;
    this.client = new InspectWorkerClient(path.join(deps.extensionUri.fsPath, 'dist', 'inspectWorker.js'), {
      onProblem: (m) => this.log.warn(`inspector: ${m}`),
    });
    this.hosts = new InspectorHosts(deps.extensionUri, deps.log, {
      onMessage: (m, reply) => this.onMessage(m, reply),
      onVisibilityChanged: () => this.onVisibilityChanged(),
    });
    this.inspections = new Superseding((snap) => this.runInspection(snap), (a) => this.showInspection(a), (e, snap) => this.inspectionFailed(e, snap));
    this.decorating = new Superseding(
      async (job) => {
        const t0 = performance.now();
        const model = await this.currentModel();
        if (!model) throw new InspectWorkerError(NO_MODEL_MESSAGE, false);
        const reply = await this.client.request({ type: 'unitValues', text: job.snap.text, view: job.snap.view, unit: job.unit, alpha: DECORATION_ALPHA }).answer;
        return { job, reply, ms: performance.now() - t0 };
      },
      (r) => this.applyColouring(r.job, r.reply, r.ms),
      (e, job) => this.colouringFailed(e, job),
    );
    this.editor = followable(vscode.window.activeTextEditor) ? vscode.window.activeTextEditor : undefined;
    this.disposables.push(
      this.hosts, this.decorations,
      vscode.window.onDidChangeActiveTextEditor((e) => this.onActiveEditor(e)),
      vscode.window.onDidChangeTextEditorSelection((e) => { if (e.textEditor === this.editor) this.follow(); }),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        if (e.textEditor !== this.editor) return;
        this.follow();
        this.scheduleColouring();
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document !== this.editor?.document || !e.contentChanges.length) return;
        this.follow();
        this.scheduleColouring();
      }),
      deps.onDidReport((r) => { if (r.kind === 'checkpoint' || r.kind === 'done') this.checkModelSoon(); }),
      // Any file change may change the corpus; it is read again at the next match.
      ...this.corpusWatchers(),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  openToTheSide(): void {
    this.hosts.openPanel();
  }

  clearColouring(): void {
    this.colourUnit = null;
    this.decorating.cancel();
    clearTimeout(this.decorateTimer);
    this.decorations.clear();
    void vscode.commands.executeCommand('setContext', 'gatescope.unitColoring', false);
    this.log.info('inspector: editor colouring cleared');
    void this.hosts.post({ type: 'inspector.decorated', unit: null });
    this.updatePolling();
  }

  /** For the in-VS-Code tests: the decorations applied last. */
  testDecorations(): AppliedDecorations {
    return this.decorations.last;
  }

  /**
   * For the in-VS-Code tests: what the inspector shows, the request of the last inspection, a summary
   * of its result with the time the worker took, the latest match, and the malformed messages dropped.
   */
  testState(): unknown {
    const r = this.lastResult;
    const m = this.lastMatch;
    return {
      status: this.lastStatus.status,
      message: this.lastStatus.message,
      lastRequest: this.lastRequest && { uri: this.lastRequest.uri, ...this.lastRequest.view },
      lastResult: r && {
        requestId: r.requestId, uri: r.source.uri, version: r.source.version, start: r.source.start, end: r.source.end, selection: r.source.selection,
        tokens: r.result.tokens.length, step: r.model.step, hiddenSize: r.result.hiddenSize, notice: r.notice,
        workerMs: this.timings.workerMs, roundTripMs: this.timings.roundTripMs,
      },
      lastMatch: m && {
        searchId: m.searchId, tokensSearched: m.tokensSearched, seconds: m.seconds, cached: m.cached,
        results: m.results.map((x) => ({ path: x.path, uri: x.uri, offset: x.offset, length: x.length, line: x.line, character: x.character, score: x.score })),
      },
      colouring: this.colourUnit && { ...this.colourUnit, decorateMs: this.timings.decorateMs },
      droppedInspections: this.inspections.dropped,
      malformedDropped: this.hosts.malformedDropped,
    };
  }

  /** For the in-VS-Code tests: a message as if a page had posted it (false when no page is open). */
  testReceive(raw: unknown): boolean {
    return this.hosts.receiveForTest(raw);
  }

  /** For the in-VS-Code tests: posts n malformed inspector messages to the pages (which must drop them); how many were posted. */
  testPostMalformed(n: number): Promise<number> {
    const bad: unknown[] = [
      null, 42, 'inspector.result', [], { type: 'inspector.nothing' }, { type: 'inspector.status', status: 'bogus', message: 'x' },
      { type: 'inspector.result', requestId: -1 },
      { type: 'inspector.sample', requestId: 1, tokens: ['a'], probs: [0.5] },
      { type: 'inspector.matchResults', searchId: 1, results: 'none', tokensSearched: 0, seconds: 0, cached: false, cancelled: false },
      { type: 'inspector.matchProgress', searchId: 1, doneTokens: -5, totalTokens: 1 },
      { type: 'inspector.decorated', unit: { layer: -1, quantity: 'h', unit: 0 } },
      { type: 'inspector.saturation', requestId: 1, tokens: 3, layers: [{ layer: 0, gates: [{ name: 'q', left: new Float32Array(1), right: new Float32Array(1) }] }] },
      { type: 'inspector.result', requestId: 1, source: {}, model: {}, result: { tokens: ['a'], offsets: [0, 1] }, probes: [], notice: '' },
    ];
    return this.hosts.postUnchecked(Array.from({ length: Math.max(0, Math.floor(n)) }, (_, i) => bad[i % bad.length]));
  }

  // -------------------------------------------------------------------------------------------
  // Following the editor

  private onActiveEditor(e: vscode.TextEditor | undefined): void {
    // A webview or the output panel taking the focus leaves the last text editor followed.
    if (!followable(e) || e === this.editor) return;
    this.editor = e;
    this.follow();
    if (this.colourUnit) this.scheduleColouring(0);
  }

  private onVisibilityChanged(): void {
    this.updatePolling();
    if (this.hosts.visible && !this.lastResult) this.follow(0);
  }

  /** Inspects the followed editor after the debounce (only while a page is open to show it). */
  private follow(delay = FOLLOW_DEBOUNCE_MS): void {
    if (!this.hosts.open) return;
    clearTimeout(this.followTimer);
    this.followTimer = setTimeout(() => this.inspectNow(), delay);
  }

  private inspectNow(): void {
    clearTimeout(this.followTimer);
    if (!this.store.exists()) {
      this.setStatus('noModel', NO_MODEL_MESSAGE);
      return;
    }
    const snap = this.snapshot(this.editor);
    if (!snap) {
      this.setStatus('idle', 'Open a file to inspect it: the inspector follows the active editor.');
      return;
    }
    if (!snap.text.length) {
      this.setStatus('idle', `${snap.label} is empty: there is nothing to inspect.`);
      return;
    }
    this.staleRetries = 0;
    this.lastRequest = snap;
    this.inspections.submit(snap);
  }

  private snapshot(editor: vscode.TextEditor | undefined): EditorSnapshot | null {
    if (!editor || editor.document.isClosed) return null;
    const doc = editor.document;
    const off = (p: vscode.Position) => doc.offsetAt(p);
    const sel = editor.selection;
    const ranges = editor.visibleRanges;
    const visible = ranges.length
      ? { start: off(ranges[0].start), end: off(ranges[ranges.length - 1].end) }
      : { start: off(sel.active), end: off(sel.active) };
    return {
      uri: doc.uri.toString(),
      label: doc.uri.scheme === 'untitled' ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri, true),
      languageId: doc.languageId,
      version: doc.version,
      text: doc.getText(),
      view: { selection: sel.isEmpty ? null : { start: off(sel.start), end: off(sel.end) }, visible, cursor: off(sel.active) },
    };
  }

  private async runInspection(snap: EditorSnapshot): Promise<InspectAnswer> {
    const t0 = performance.now();
    const model = await this.currentModel();
    if (!model) throw new InspectWorkerError(NO_MODEL_MESSAGE, false);
    this.setStatus('computing', `Inspecting ${snap.label}…`);
    const reply = await this.client.request({ type: 'inspect', text: snap.text, view: snap.view }).answer;
    // A checkpoint that landed meanwhile makes this result stale: recompute with the new model.
    const now = await this.currentModel();
    if (now?.key !== model.key) throw new InspectWorkerError('the model changed during the inspection', true);
    return { snap, model, reply, roundTripMs: performance.now() - t0 };
  }

  private showInspection(a: InspectAnswer): void {
    const { snap, reply } = a;
    this.staleRetries = 0;
    this.timings.workerMs = reply.ms;
    this.timings.roundTripMs = a.roundTripMs;
    const msg: Extract<InspectorToWebview, { type: 'inspector.result' }> = {
      type: 'inspector.result',
      requestId: reply.id,
      source: { uri: snap.uri, label: snap.label, languageId: snap.languageId, version: snap.version, start: reply.plan.start, end: reply.plan.end, selection: reply.plan.selection },
      model: a.model.info,
      result: reply.result,
      probes: reply.probes,
      notice: reply.plan.notice,
    };
    this.lastResult = msg;
    const T = reply.result.tokens.length;
    this.log.info(`inspector: ${snap.label} v${snap.version}, characters ${reply.plan.start}–${reply.plan.end}: ${T} tokens in ${reply.ms.toFixed(0)} ms in the worker (${a.roundTripMs.toFixed(0)} ms in all), model step ${a.model.info.step}${reply.plan.notice ? `; ${reply.plan.notice}` : ''}`);
    void this.hosts.post(msg);
    this.setStatus('ready', `${snap.label}: ${T.toLocaleString('en-US')} tokens at step ${a.model.info.step.toLocaleString('en-US')}.`);
  }

  private inspectionFailed(e: unknown, snap: EditorSnapshot): void {
    if (e instanceof InspectWorkerError && e.stale && this.staleRetries < MAX_STALE_RETRIES) {
      this.staleRetries++;
      this.log.info(`inspector: ${e.message}; inspecting ${snap.label} again with the new model`);
      this.inspections.submit(snap);
      return;
    }
    this.reportFailure(e, `The inspector could not inspect ${snap.label}`);
  }

  private reportFailure(e: unknown, what: string): void {
    const message = e instanceof Error ? e.message : String(e);
    if (message === NO_MODEL_MESSAGE) {
      this.setStatus('noModel', NO_MODEL_MESSAGE);
      return;
    }
    if (!(e instanceof GateScopeError) && !(e instanceof InspectWorkerError)) this.log.error(e instanceof Error ? (e.stack ?? message) : message);
    this.log.warn(`inspector: ${what}: ${message}`);
    this.setStatus('error', `${what}: ${message}`);
  }

  private setStatus(status: InspectorStatus, message: string): void {
    if (this.lastStatus.status === status && this.lastStatus.message === message) return;
    this.lastStatus = { type: 'inspector.status', status, message };
    void this.hosts.post(this.lastStatus);
  }

  // -------------------------------------------------------------------------------------------
  // The model

  /** The stored model, sent to the worker when it is a new one; null when there is none. */
  private async currentModel(): Promise<{ key: string; info: InspectModel } | null> {
    let stored: StoredModel | null;
    try {
      stored = await this.store.load();
    } catch (e) {
      throw new GateScopeError(`the stored model cannot be read: ${(e as Error).message}`);
    }
    if (!stored) return null;
    let key = this.modelKeys.get(stored.bytes);
    if (!key) {
      key = `model${++this.modelGeneration}@${stored.checkpoint.step}`;
      this.modelKeys.set(stored.bytes, key);
      this.log.info(`inspector: using the stored model at step ${stored.checkpoint.step} (${key})`);
    }
    this.client.setModel(key, stored.bytes);
    const ck = stored.checkpoint;
    const tokenizer = (ck.tokenizer as { kind?: unknown } | undefined)?.kind === 'bpe' ? 'bpe' : 'char';
    return { key, info: { config: ck.config, step: ck.step, tokenizer } };
  }

  /** Polls the model file while a page is open (shown or not: it is shown the latest model's result) or the editor is coloured. */
  private updatePolling(): void {
    const wanted = this.hosts.open || this.colourUnit !== null;
    if (wanted && !this.pollTimer) {
      this.pollTimer = setInterval(() => void this.checkModel(), MODEL_POLL_MS);
      void this.checkModel();
    } else if (!wanted && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  /** A checkpoint is being written: look a little later (and again), then at the next poll. */
  private checkModelSoon(): void {
    for (const ms of [300, 1500]) setTimeout(() => void this.checkModel(), ms);
  }

  /** Recomputes what is shown when the model file changed (a new checkpoint, an import, a reset). */
  private async checkModel(): Promise<void> {
    let stamp = '';
    try {
      const s = await fs.promises.stat(this.store.modelPath);
      stamp = `${s.mtimeMs}:${s.size}`;
    } catch {
      // No model file (yet, or after a reset).
    }
    if (stamp === this.modelStamp) return;
    const first = this.modelStamp === null;
    this.modelStamp = stamp;
    // The first look only records the file: the first inspection comes from a page opening.
    if (first) return;
    this.log.info(stamp ? 'inspector: the stored model changed; recomputing' : 'inspector: there is no stored model');
    if (this.hosts.open) this.inspectNow();
    if (this.colourUnit) this.scheduleColouring(0);
  }

  // -------------------------------------------------------------------------------------------
  // Messages from the pages

  private onMessage(m: InspectorFromWebview, reply: (m: InspectorToWebview) => Promise<void>): void {
    switch (m.type) {
      case 'inspector.ready':
        this.log.info(`inspector: a page is ready (protocol ${m.version})`);
        void this.resend(reply);
        return;
      case 'inspector.refresh':
        this.inspectNow();
        return;
      case 'inspector.colorEditor':
        if (m.unit) this.colourEditor(m.unit);
        else this.clearColouring();
        return;
      case 'inspector.match':
        void this.match(m);
        return;
      case 'inspector.cancelMatch':
        if (this.search?.searchId === m.searchId) {
          this.log.info(`inspector: match ${m.searchId} cancelled`);
          this.search.cancel.cancel();
          if (this.search.workerId !== null) this.client.cancel(this.search.workerId);
        }
        return;
      case 'inspector.openMatch':
        void this.openMatch(m.searchId, m.index);
        return;
      case 'inspector.corpusSaturation':
        void this.corpusSaturation(m.requestId);
        return;
      case 'inspector.sample':
        void this.sample(m);
        return;
    }
  }

  /** A page (re)opened: it gets what it showed before (the other page has it already), or a first inspection. */
  private async resend(reply: (m: InspectorToWebview) => Promise<void>): Promise<void> {
    await reply(this.lastStatus);
    if (this.lastResult) await reply(this.lastResult);
    else this.follow(0);
    if (this.lastMatch) await reply(this.lastMatch);
    if (this.lastSaturation) await reply(this.lastSaturation);
    await reply({ type: 'inspector.decorated', unit: this.colourUnit });
  }

  // -------------------------------------------------------------------------------------------
  // The editor coloured by a unit

  private colourEditor(unit: UnitRef): void {
    this.colourUnit = { ...unit };
    void vscode.commands.executeCommand('setContext', 'gatescope.unitColoring', true);
    this.log.info(`inspector: colouring the editor by layer ${unit.layer} ${unit.quantity} unit ${unit.unit}`);
    this.updatePolling();
    this.scheduleColouring(0);
  }

  private scheduleColouring(delay = FOLLOW_DEBOUNCE_MS): void {
    if (!this.colourUnit) return;
    clearTimeout(this.decorateTimer);
    this.decorateTimer = setTimeout(() => {
      const unit = this.colourUnit;
      const editor = this.editor;
      const snap = this.snapshot(editor);
      if (!unit || !editor || !snap) return;
      if (!snap.text.length) {
        this.decorations.clear();
        return;
      }
      this.decorating.submit({ editor, unit, snap });
    }, delay);
  }

  private applyColouring(job: DecorateJob, reply: AnswerTo<'unitValues'>, ms: number): void {
    const unit = this.colourUnit;
    if (!unit || unit.layer !== job.unit.layer || unit.quantity !== job.unit.quantity || unit.unit !== job.unit.unit) return;
    if (job.editor.document.version !== job.snap.version) {
      this.scheduleColouring(); // edited meanwhile: the ranges would be off
      return;
    }
    const tokens = colourTokens(reply.offsets, reply.windowStart, reply.values, reply.buckets, job.snap.view.visible.start, job.snap.view.visible.end);
    this.decorations.apply(job.editor, unit, tokens, reply.palette);
    this.timings.decorateMs = ms;
    this.log.debug(`inspector: coloured ${tokens.length} tokens of ${job.snap.label} by layer ${unit.layer} ${unit.quantity} unit ${unit.unit} in ${ms.toFixed(0)} ms`);
    void this.hosts.post({ type: 'inspector.decorated', unit });
  }

  private colouringFailed(e: unknown, job: DecorateJob): void {
    if (e instanceof InspectWorkerError && e.stale) {
      this.scheduleColouring(0);
      return;
    }
    this.colourUnit = null;
    this.decorations.clear();
    void vscode.commands.executeCommand('setContext', 'gatescope.unitColoring', false);
    void this.hosts.post({ type: 'inspector.decorated', unit: null });
    this.reportFailure(e, `The inspector could not colour ${job.snap.label} by layer ${job.unit.layer} ${job.unit.quantity} unit ${job.unit.unit}`);
  }

  // -------------------------------------------------------------------------------------------
  // The corpus: matches and saturation

  private corpusWatchers(): vscode.Disposable[] {
    const stale = () => { if (this.corpus) this.corpus.stale = true; };
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    return [
      watcher, watcher.onDidCreate(stale), watcher.onDidChange(stale), watcher.onDidDelete(stale),
      vscode.workspace.onDidChangeWorkspaceFolders(stale),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('gatescope.corpus') || e.affectsConfiguration('files.exclude')) stale(); }),
    ];
  }

  /** The training corpus as the collector reads it now (kept until a file or a corpus setting changes). */
  private async collectCorpus(token: vscode.CancellationToken): Promise<{ key: string; collected: CollectedCorpus }> {
    if (this.corpus && !this.corpus.stale) return this.corpus;
    const { settings, problems } = readSettings();
    for (const p of problems) this.log.warn(p);
    const collected = await collectWorkspaceCorpus(settings.corpus, { token, log: this.log });
    if (!collected.text.length) throw new GateScopeError('The workspace has no text the model could have been trained on (see the GateScope output for the files skipped).');
    // Unchanged text and files keep their key, so the worker's cached activations stay valid.
    const old = this.corpus?.collected;
    const same = old && old.text === collected.text && old.files.length === collected.files.length && old.files.every((f, i) => f.uri === collected.files[i].uri);
    const key = same ? this.corpus!.key : `corpus${++this.corpusGeneration}`;
    this.corpus = { key, collected, stale: false };
    return this.corpus;
  }

  private async match(m: Extract<InspectorFromWebview, { type: 'inspector.match' }>): Promise<void> {
    if (this.search) {
      this.search.cancel.cancel();
      if (this.search.workerId !== null) this.client.cancel(this.search.workerId);
    }
    const cancel = new vscode.CancellationTokenSource();
    const search: NonNullable<InspectorController['search']> = { searchId: m.searchId, workerId: null, cancel };
    this.search = search;
    const t0 = performance.now();
    /** Answers the page (which waits for this search's results); only a search that ran to its end becomes the latest results. */
    const finish = (results: MatchResult[], tokensSearched: number, cached: boolean, cancelled: boolean, completed: boolean) => {
      const msg: Extract<InspectorToWebview, { type: 'inspector.matchResults' }> = {
        type: 'inspector.matchResults', searchId: m.searchId, results, tokensSearched, seconds: (performance.now() - t0) / 1000, cached, cancelled,
      };
      if (completed) this.lastMatch = msg;
      void this.hosts.post(msg);
    };
    try {
      this.log.info(`inspector: match ${m.searchId}: layer ${m.layer} ${m.quantity} units ${m.units.join(', ')} at ${m.threshold}, ${m.length} tokens`);
      const model = await this.currentModel();
      if (!model) throw new InspectWorkerError(NO_MODEL_MESSAGE, false);
      const corpus = await this.collectCorpus(cancel.token);
      const source = toCorpusSource(corpus.collected);
      if (cancel.token.isCancellationRequested) throw new vscode.CancellationError();
      let lastProgress = 0;
      const req = this.client.request(
        { type: 'match', corpusKey: corpus.key, corpus: source, layer: m.layer, quantity: m.quantity, units: m.units, threshold: m.threshold, length: m.length },
        (doneTokens, totalTokens) => {
          const now = performance.now();
          if (now - lastProgress < PROGRESS_EVERY_MS && doneTokens < totalTokens) return;
          lastProgress = now;
          void this.hosts.post({ type: 'inspector.matchProgress', searchId: m.searchId, doneTokens, totalTokens });
        },
      );
      search.workerId = req.id;
      const r = await req.answer;
      this.log.info(`inspector: match ${m.searchId}: ${r.cancelled ? 'cancelled' : `${r.results.length} result(s)`} over ${r.tokensSearched.toLocaleString('en-US')} tokens in ${(performance.now() - t0).toFixed(0)} ms${r.cached ? ' (corpus activations cached)' : ''}, ${Math.round(r.tokensSearched / Math.max(r.seconds, 1e-6)).toLocaleString('en-US')} tokens/s in the worker`);
      finish(r.results, r.tokensSearched, r.cached, r.cancelled, !r.cancelled);
    } catch (e) {
      if (e instanceof vscode.CancellationError || cancel.token.isCancellationRequested) finish([], 0, false, true, false);
      else {
        finish([], 0, false, false, false);
        this.reportFailure(e, 'The match across the workspace failed');
      }
    } finally {
      cancel.dispose();
      if (this.search === search) this.search = null;
    }
  }

  private async openMatch(searchId: number, index: number): Promise<void> {
    const r = this.lastMatch?.searchId === searchId ? this.lastMatch.results[index] : undefined;
    if (!r) {
      this.log.warn(`inspector: no match ${index} in the latest results (search ${searchId}); nothing opened`);
      return;
    }
    try {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(r.uri, true));
      const start = doc.validatePosition(new vscode.Position(r.line, r.character));
      const end = doc.positionAt(doc.offsetAt(start) + r.length);
      const column = this.editor?.viewColumn ?? vscode.ViewColumn.One;
      await vscode.window.showTextDocument(doc, { viewColumn: column, selection: new vscode.Range(start, end), preview: true });
      this.log.info(`inspector: opened match ${index} at ${r.path}:${r.line + 1}:${r.character + 1}`);
    } catch (e) {
      this.reportFailure(e, `The inspector could not open ${r.path}`);
    }
  }

  private async corpusSaturation(requestId: number): Promise<void> {
    const cancel = new vscode.CancellationTokenSource();
    try {
      const model = await this.currentModel();
      if (!model) throw new InspectWorkerError(NO_MODEL_MESSAGE, false);
      this.setStatus('computing', 'Measuring gate saturation over a sample of the workspace…');
      const corpus = await this.collectCorpus(cancel.token);
      const r = await this.client.request({ type: 'saturation', text: corpus.collected.text }).answer;
      this.lastSaturation = { type: 'inspector.saturation', requestId, tokens: r.tokens, layers: r.layers };
      this.log.info(`inspector: gate saturation over ${r.tokens.toLocaleString('en-US')} tokens of the workspace`);
      void this.hosts.post(this.lastSaturation);
      this.setStatus('ready', `Gate saturation over ${r.tokens.toLocaleString('en-US')} tokens of the workspace.`);
    } catch (e) {
      this.reportFailure(e, 'Gate saturation over the workspace failed');
    } finally {
      cancel.dispose();
    }
  }

  private async sample(m: Extract<InspectorFromWebview, { type: 'inspector.sample' }>): Promise<void> {
    try {
      const model = await this.currentModel();
      if (!model) throw new InspectWorkerError(NO_MODEL_MESSAGE, false);
      const r = await this.client.request({ type: 'sample', prompt: m.prompt, temperature: m.temperature, length: m.length, seed: crypto.randomBytes(4).readUInt32LE(0) }).answer;
      void this.hosts.post({ type: 'inspector.sample', requestId: m.requestId, tokens: r.tokens, probs: r.probs });
    } catch (e) {
      this.reportFailure(e, 'Sampling failed');
    }
  }

  dispose(): void {
    clearTimeout(this.followTimer);
    clearTimeout(this.decorateTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.search?.cancel.cancel();
    this.client.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The collected corpus with each file's span in its text, as the match kernel takes it. */
function toCorpusSource(c: CollectedCorpus): CorpusSource {
  const spans = c.spans;
  if (spans.length !== c.files.length) throw new GateScopeError('The corpus collector did not say where each file lies in the corpus (extension/corpus.ts must pass on assembleCorpus\'s spans); matches cannot name their files.');
  return { text: c.text, files: c.files.map((f, i) => ({ path: f.path, uri: f.uri, start: spans[i].start, end: spans[i].end })) };
}
