// The visible panel: status line, training buttons, the bits-per-character chart, run statistics and
// the hyperparameter form, built from the Webview UI Toolkit's components (registered by main.ts).
// It implements the controller's ControllerUi; what the user does goes to the extension as
// 'command' and 'updateSettings' messages. The form draft and the curve points survive the webview
// being hidden and reloaded through the webview state (vscode.setState / getState).

import { LineChart } from './chart';
import { COMMANDS, enabledCommands, primaryCommand } from './commands';
import type { ControllerUi } from './controller';
import { formatBytes, formatCount, formatDuration } from '../kernels/format';
import type { BackendKind } from '../kernels/session';
import { Curves, CurvePoint } from './curves';
import { ChoiceField, FIELDS, FormKey, NumberField, checkChoice, checkNumber, fieldApplies, formatValue } from './form';
import type { DisplayReport, FormValues, FromWebview, GpuInfo, PanelCommand, PanelState, TrainingStatus } from './protocol';

export interface DashboardHost {
  post(msg: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

type Axis = 'step' | 'time';

interface SavedState {
  v: 1;
  draft: Partial<Record<FormKey, string>>;
  curves: unknown;
  axis: Axis;
}

type ValueElement = HTMLElement & { value: string; disabled: boolean };

const STATUS_TEXT: Record<TrainingStatus, string> = {
  idle: 'Idle',
  collecting: 'Collecting files…',
  training: 'Training',
  stopping: 'Stopping…',
  paused: 'Paused',
  error: 'Error',
};

/** Wait after the last keystroke before a valid value is sent (a change event sends at once). */
const SETTINGS_DEBOUNCE_MS = 400;
const SAVE_DEBOUNCE_MS = 1000;
/** How long "Saved to workspace settings" stays after a form change was written. */
const SAVED_NOTE_MS = 4000;
const SAVED_TEXT = { workspace: 'Saved to workspace settings', user: 'Saved to user settings (no folder is open)' } as const;

export class Dashboard implements ControllerUi {
  private state: PanelState | null = null;
  private settings: FormValues | null = null;
  private gpu: GpuInfo | null = null;
  private readonly curves = new Curves();
  private axis: Axis = 'step';
  /** Typed values that did not pass the check (kept, shown with their message, never sent). */
  private draft: Partial<Record<FormKey, string>> = {};
  private pending: Partial<FormValues> = {};
  private pendingTimer: ReturnType<typeof setTimeout> | undefined;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private savedNoteTimer: ReturnType<typeof setTimeout> | undefined;
  private lastRunId = -1;
  private live: {
    step: number | null;
    tokensPerSecond: number | null;
    fraction: number | null;
    etaSeconds: number | null;
    backend: BackendKind | null;
    adapter: string | null;
    parameters: number | null;
    note: string;
    error: string;
    done: string;
  } = { step: null, tokensPerSecond: null, fraction: null, etaSeconds: null, backend: null, adapter: null, parameters: null, note: '', error: '', done: '' };

  private readonly el: {
    status: HTMLElement;
    statusMessage: HTMLElement;
    ring: HTMLElement;
    buttons: Map<PanelCommand, ValueElement>;
    gpuNote: HTMLElement;
    notice: HTMLElement;
    stats: Map<string, HTMLElement>;
    fields: Map<FormKey, { row: HTMLElement; input: ValueElement; error: HTMLElement; def: NumberField | ChoiceField }>;
    axis: HTMLElement & { checked: boolean };
    savedNote: HTMLElement;
  };
  private readonly chart: LineChart;

  constructor(root: HTMLElement, private readonly host: DashboardHost) {
    root.textContent = '';
    root.classList.add('gatescope');

    // Status line and buttons.
    const header = h('section', { class: 'status-section', 'aria-label': 'Training status' });
    const statusLine = h('div', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
    const ring = h('vscode-progress-ring', { class: 'status-ring', 'aria-hidden': 'true' });
    ring.hidden = true;
    const status = h('span', { class: 'status-text' }, 'Starting…');
    const statusMessage = h('span', { class: 'status-message' });
    statusLine.append(ring, status, statusMessage);
    const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Training commands' });
    const buttons = new Map<PanelCommand, ValueElement>();
    for (const c of COMMANDS) {
      const b = h('vscode-button', { appearance: c.command === primaryCommand(null) ? 'primary' : 'secondary', title: c.title }, c.label) as ValueElement;
      b.disabled = true;
      b.addEventListener('click', () => {
        if (b.disabled) return;
        this.flushSettings();
        this.host.post({ type: 'command', command: c.command });
      });
      buttons.set(c.command, b);
      toolbar.append(b);
    }
    const notice = h('div', { class: 'notice', role: 'status', 'aria-live': 'polite' });
    notice.hidden = true;
    const gpuNote = h('div', { class: 'gpu-note', role: 'note' });
    gpuNote.hidden = true;
    header.append(statusLine, toolbar, notice, gpuNote);

    // Chart.
    const chartSection = h('section', { class: 'chart-section', 'aria-label': 'Loss curves' });
    const chartHead = h('div', { class: 'section-head' });
    chartHead.append(h('h2', {}, 'Bits per character'));
    const axis = h('vscode-checkbox', { class: 'axis-toggle' }, 'Plot against wall time') as HTMLElement & { checked: boolean };
    axis.addEventListener('change', () => {
      const next: Axis = axis.checked ? 'time' : 'step';
      if (next === this.axis) return;
      this.axis = next;
      this.updateChart();
      this.scheduleSave();
    });
    chartHead.append(axis);
    chartSection.append(chartHead);
    this.chart = new LineChart(chartSection, [
      { label: 'training', colorVar: '--vscode-charts-blue' },
      { label: 'validation', colorVar: '--vscode-charts-orange', markers: true, dashed: true },
    ], '');

    // Statistics.
    const statsSection = h('section', { class: 'stats-section', 'aria-label': 'Run statistics' });
    const dl = h('dl', { class: 'stats' });
    const stats = new Map<string, HTMLElement>();
    for (const [key, label] of [
      ['step', 'Step'], ['speed', 'Tokens/s'], ['progress', 'Progress'], ['train', 'Train bits/char'], ['val', 'Validation bits/char'],
      ['backend', 'Backend'], ['adapter', 'Adapter'], ['parameters', 'Parameters'], ['model', 'Model'], ['corpus', 'Corpus'],
    ] as const) {
      const dd = h('dd', { 'data-stat': key }, '—');
      dl.append(h('dt', {}, label), dd);
      stats.set(key, dd);
    }
    statsSection.append(dl);

    // Form.
    const formSection = h('section', { class: 'form-section', 'aria-label': 'Hyperparameters' });
    const formHead = h('div', { class: 'section-head' });
    const savedNote = h('span', { class: 'hint saved-note', role: 'status', 'aria-live': 'polite' });
    savedNote.hidden = true;
    formHead.append(h('h2', {}, 'Hyperparameters'), h('span', { class: 'hint' }, 'Changes apply to the next run.'), savedNote);
    const form = h('div', { class: 'form' });
    const fields = new Map<FormKey, { row: HTMLElement; input: ValueElement; error: HTMLElement; def: NumberField | ChoiceField }>();
    for (const def of FIELDS) {
      const id = `field-${def.key}`;
      const row = h('div', { class: 'field' });
      const error = h('div', { class: 'field-error', id: `${id}-error`, role: 'alert' });
      error.hidden = true;
      let input: ValueElement;
      if (def.kind === 'number') {
        input = h('vscode-text-field', { id, inputmode: 'decimal', spellcheck: 'false' }, def.label) as ValueElement;
        input.addEventListener('input', () => this.onNumberInput(def, false));
        input.addEventListener('change', () => this.onNumberInput(def, true));
        row.append(input);
      } else {
        const label = h('label', { for: id }, def.label);
        input = h('vscode-dropdown', { id, 'aria-label': def.label }) as ValueElement;
        for (const [value, text] of def.options) input.append(h('vscode-option', { value }, text));
        input.addEventListener('change', () => this.onChoice(def));
        row.append(label, input);
      }
      if (def.hint) row.append(h('div', { class: 'hint' }, def.hint));
      row.append(error);
      fields.set(def.key, { row, input, error, def });
      form.append(row);
    }
    formSection.append(formHead, form);

    root.append(header, h('vscode-divider', { role: 'separator' }), chartSection, statsSection, h('vscode-divider', { role: 'separator' }), formSection);
    this.el = { status, statusMessage, ring, buttons, gpuNote, notice, stats, fields, axis, savedNote };

    this.restore();
    window.addEventListener('pagehide', () => this.save());
    this.render();
    this.updateChart();
  }

  // ---------------------------------------------------------------------------------------------
  // ControllerUi

  init(settings: FormValues, state: PanelState): void {
    this.settings = settings;
    this.applySettings(settings);
    this.setState(state);
  }

  setState(state: PanelState): void {
    this.state = state;
    // The state's step moves at checkpoints; while training, the progress reports are ahead of it.
    const busy = state.status === 'training' || state.status === 'collecting' || state.status === 'stopping';
    if (!(busy && this.live.step !== null && this.live.step > state.step)) this.live.step = state.step;
    this.live.backend = state.backend;
    this.live.adapter = state.adapter;
    this.live.parameters = state.parameters;
    if (state.status === 'collecting' || state.status === 'training') this.live.done = '';
    this.curves.applyState(state);
    this.render();
    this.updateChart();
    this.scheduleSave();
  }

  setSettings(settings: FormValues): void {
    this.settings = settings;
    this.applySettings(settings);
  }

  report(r: DisplayReport): void {
    if (r.runId < this.lastRunId) return; // a stale report from an earlier run
    this.lastRunId = r.runId;
    const l = this.live;
    switch (r.kind) {
      case 'started':
        l.step = r.step;
        l.backend = r.backend;
        l.adapter = r.adapter;
        l.parameters = r.parameters;
        l.note = r.note ?? '';
        l.error = '';
        l.done = '';
        l.fraction = 0;
        l.etaSeconds = null;
        l.tokensPerSecond = null;
        break;
      case 'progress':
        l.step = r.step;
        l.tokensPerSecond = r.tokensPerSecond;
        l.fraction = r.fraction;
        l.etaSeconds = r.etaSeconds;
        break;
      case 'eval':
      case 'checkpoint':
        l.step = Math.max(l.step ?? 0, r.step);
        break;
      case 'done':
        l.step = r.step;
        l.fraction = 1;
        l.etaSeconds = 0;
        l.done = `Run ${r.runId} finished: ${r.stepsThisRun} steps in ${formatDuration(r.seconds)} (${r.stoppedBy === 'abort' ? 'stopped' : r.stoppedBy === 'time' ? 'time budget reached' : 'step budget reached'})${r.valBitsPerChar !== null && Number.isFinite(r.valBitsPerChar) ? `, validation ${r.valBitsPerChar.toFixed(3)} bits/char` : ''}.`;
        break;
      case 'error':
        l.error = `${r.deviceLost ? 'The GPU device was lost: ' : 'Training failed: '}${r.message}`;
        break;
    }
    if (this.curves.report(r)) {
      this.updateChart();
      this.scheduleSave();
    }
    this.render();
  }

  setGpu(gpu: GpuInfo): void {
    this.gpu = gpu;
    this.render();
  }

  settingsSaved(scope: 'workspace' | 'user'): void {
    const note = this.el.savedNote;
    setText(note, SAVED_TEXT[scope]);
    note.hidden = false;
    clearTimeout(this.savedNoteTimer);
    this.savedNoteTimer = setTimeout(() => {
      note.hidden = true;
    }, SAVED_NOTE_MS);
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering

  private render(): void {
    const s = this.state;
    const l = this.live;
    const status = s ? STATUS_TEXT[s.status] : 'Waiting for the extension…';
    setText(this.el.status, status);
    setText(this.el.statusMessage, s?.message ?? '');
    this.el.ring.hidden = !s || !(s.status === 'collecting' || s.status === 'training' || s.status === 'stopping');

    const enabled = enabledCommands(s);
    const primary = primaryCommand(s);
    const active = document.activeElement;
    let lostFocus = false;
    for (const [cmd, b] of this.el.buttons) {
      const appearance = cmd === primary ? 'primary' : 'secondary';
      if (b.getAttribute('appearance') !== appearance) b.setAttribute('appearance', appearance);
      const off = !enabled.has(cmd);
      if (off && active === b) lostFocus = true;
      if (b.disabled !== off) b.disabled = off;
    }
    if (lostFocus) {
      // Keep keyboard users in the toolbar when the button they pressed turns off (Train → Stop).
      const next = [...this.el.buttons.values()].find((b) => !b.disabled);
      next?.focus();
    }

    const notice = [l.error, l.note, l.done].filter(Boolean).join(' ');
    setText(this.el.notice, notice);
    this.el.notice.hidden = !notice;
    this.el.notice.classList.toggle('error', !!l.error);

    const g = this.gpu;
    const gpuNote = backendNote(s, g);
    this.el.gpuNote.hidden = !gpuNote;
    setText(this.el.gpuNote, gpuNote);

    const st = this.el.stats;
    const latest = this.curves.latest();
    setText(st.get('step')!, l.step !== null ? l.step.toLocaleString('en-US') : '—');
    setText(st.get('speed')!, l.tokensPerSecond !== null && Number.isFinite(l.tokensPerSecond) ? formatCount(l.tokensPerSecond) : '—');
    const pct = l.fraction !== null && Number.isFinite(l.fraction) ? `${Math.round(l.fraction * 100)}%` : '—';
    const eta = l.etaSeconds !== null && Number.isFinite(l.etaSeconds) && l.fraction !== null && l.fraction < 1 ? `, ${formatDuration(l.etaSeconds)} left` : '';
    setText(st.get('progress')!, pct === '—' ? '—' : `${pct}${eta}`);
    setText(st.get('train')!, latest.train ? latest.train.bpc.toFixed(3) : '—');
    setText(st.get('val')!, latest.val ? latest.val.bpc.toFixed(3) : '—');
    setText(st.get('backend')!, l.backend ? BACKEND_NAME[l.backend] : '—');
    setText(st.get('adapter')!, l.adapter || (g?.available ? g.adapter : '') || '—');
    setText(st.get('parameters')!, l.parameters ? formatCount(l.parameters) : '—');
    const m = s?.model;
    setText(st.get('model')!, m ? `${m.cell.toUpperCase()}, ${m.numLayers} × ${m.hiddenSize} hidden, ${m.embedSize} embedding, ${m.vocabSize} tokens${m.dropout ? `, dropout ${m.dropout}` : ''}` : '—');
    const c = s?.corpus;
    setText(st.get('corpus')!, c ? `${c.files.toLocaleString('en-US')} files, ${formatBytes(c.bytes)}${c.skipped ? `, ${c.skipped.toLocaleString('en-US')} skipped` : ''}${c.folders > 1 ? `, ${c.folders} folders` : ''}` : '—');
  }

  private updateChart(): void {
    const time = this.axis === 'time';
    this.el.axis.checked = time;
    const train = this.curves.train, val = this.curves.val;
    let t0 = Infinity;
    if (time) for (const p of [train[0], val[0]]) if (p?.time !== undefined && p.time < t0) t0 = p.time;
    const toXY = (pts: CurvePoint[]) => {
      if (!time) return pts.map((p) => ({ x: p.step, y: p.bpc }));
      const out: { x: number; y: number }[] = [];
      for (const p of pts) if (p.time !== undefined) out.push({ x: p.time - t0, y: p.bpc });
      return out;
    };
    const latest = this.curves.latest();
    const part = (name: string, p: CurvePoint | null) => (p ? `${name} ${p.bpc.toFixed(3)} at step ${p.step}` : `no ${name} points yet`);
    this.chart.setData({
      series: [toXY(train), toXY(val)],
      xLabel: time ? 'wall time' : 'step',
      xIsTime: time,
      yLabel: 'bits/char',
      summary: `Bits per character against ${time ? 'wall time' : 'training step'}: ${part('training', latest.train)}; ${part('validation', latest.val)}.`,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Form

  private applySettings(settings: FormValues): void {
    for (const [key, f] of this.el.fields) {
      if (this.draft[key] !== undefined) continue; // the user's unsent text wins until it is fixed
      const value = settings[key];
      if (f.def.kind === 'number') {
        const focused = document.activeElement === f.input;
        const current = checkNumber(f.def.key, f.input.value ?? '', f.def.label);
        if (focused && current.ok && current.value === value) continue; // do not move the caret
        const text = formatValue(value as number);
        if (f.input.value !== text) f.input.value = text;
        this.showError(key, '');
      } else if (f.input.value !== value) {
        f.input.value = String(value);
      }
    }
    this.updateApplicability();
  }

  private onNumberInput(def: NumberField, commit: boolean): void {
    const f = this.el.fields.get(def.key)!;
    const raw = String(f.input.value ?? '');
    const r = checkNumber(def.key, raw, def.label);
    if (!r.ok) {
      this.draft[def.key] = raw;
      delete this.pending[def.key];
      this.showError(def.key, r.message);
    } else {
      delete this.draft[def.key];
      this.showError(def.key, '');
      if (this.settings?.[def.key] !== r.value || this.pending[def.key] !== undefined) this.pending[def.key] = r.value;
      if (commit) this.flushSettings();
      else this.scheduleSettings();
    }
    this.scheduleSave();
  }

  private onChoice(def: ChoiceField): void {
    const f = this.el.fields.get(def.key)!;
    const r = checkChoice(def.key, String(f.input.value ?? ''));
    if (!r.ok) {
      this.showError(def.key, r.message);
      return;
    }
    this.showError(def.key, '');
    if (this.settings?.[def.key] !== r.value) {
      (this.pending as Record<string, unknown>)[def.key] = r.value;
      this.flushSettings();
    }
    if (def.key === 'tokenizer') this.updateApplicability();
  }

  private updateApplicability(): void {
    const tok = this.el.fields.get('tokenizer')?.input.value;
    const values = { tokenizer: tok === 'bpe' ? 'bpe' as const : 'char' as const };
    for (const [key, f] of this.el.fields) f.row.hidden = !fieldApplies(key, values);
  }

  private showError(key: FormKey, message: string): void {
    const f = this.el.fields.get(key);
    if (!f) return;
    setText(f.error, message);
    f.error.hidden = !message;
    f.row.classList.toggle('invalid', !!message);
    if (message) f.input.setAttribute('aria-invalid', 'true');
    else f.input.removeAttribute('aria-invalid');
  }

  private scheduleSettings(): void {
    clearTimeout(this.pendingTimer);
    this.pendingTimer = setTimeout(() => this.flushSettings(), SETTINGS_DEBOUNCE_MS);
  }

  /** Sends the valid changes not sent yet. */
  private flushSettings(): void {
    clearTimeout(this.pendingTimer);
    this.pendingTimer = undefined;
    const values = this.pending;
    if (!Object.keys(values).length) return;
    this.pending = {};
    if (this.settings) this.settings = { ...this.settings, ...values };
    this.host.post({ type: 'updateSettings', values });
  }

  // ---------------------------------------------------------------------------------------------
  // Webview state (survives hide/show and reloads)

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, SAVE_DEBOUNCE_MS);
  }

  private save(): void {
    try {
      const s: SavedState = { v: 1, draft: { ...this.draft }, curves: this.curves.toJSON(), axis: this.axis };
      this.host.setState(s);
    } catch (e) {
      console.error('GateScope: saving the panel state failed', e);
    }
  }

  private restore(): void {
    let saved: unknown;
    try {
      saved = this.host.getState();
    } catch {
      return;
    }
    if (typeof saved !== 'object' || saved === null || (saved as SavedState).v !== 1) return;
    const s = saved as Partial<SavedState>;
    this.axis = s.axis === 'time' ? 'time' : 'step';
    this.curves.restore(s.curves);
    if (typeof s.draft === 'object' && s.draft !== null) {
      for (const [key, f] of this.el.fields) {
        const raw = (s.draft as Record<string, unknown>)[key];
        if (typeof raw !== 'string' || raw.length > 100 || f.def.kind !== 'number') continue;
        const r = checkNumber(f.def.key, raw, f.def.label);
        if (r.ok) continue;
        this.draft[key] = raw;
        f.input.value = raw;
        this.showError(key, r.message);
      }
    }
  }
}

/** The backend as the panel names it (the status bar's BACKEND_LABEL, extension/statusBar.ts); the adapter row says more (threads, CPU). */
const BACKEND_NAME: Record<BackendKind, string> = { cpu: 'CPU (reference engine)', wasm: 'CPU (WebAssembly)', webgpu: 'WebGPU' };

/** Where training runs and why (the extension's reason for the current run), else what the panel's WebGPU means for "Auto". */
function backendNote(s: PanelState | null, g: GpuInfo | null): string {
  if (s?.backendReason) return `Backend: ${s.backendReason}`;
  if (g && !g.available) return `WebGPU is not available in this panel: ${g.why || 'no reason given'}. Training runs on the CPU in a worker thread instead.`;
  if (g?.software) return `The WebGPU adapter is ${g.software}: with Backend "Auto", training runs on the CPU, which is faster here.`;
  return '';
}

/** Creates an element with attributes and text (never HTML from data). */
function h(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function setText(e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}
