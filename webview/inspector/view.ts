// The inspector panel: status line, the heatmap of a chosen layer and quantity with its surprisal
// strip and hover details, unit search (selection + threshold → ranked units, a filtered heatmap, and
// a match across the workspace with progress, cancel and 50 results with miniature heatmaps), the
// probes, the gate saturation scatters and the sampling view. Built from the Webview UI Toolkit's
// components (registered by inspectorMain.ts) and canvases; colours from the theme's variables and
// kernels/inspect/colorScale.ts. It receives checked InspectorToWebview messages (inspectorMain.ts
// parses them) and posts InspectorFromWebview ones. Only UI state is kept across hide/show; the host
// sends the last inspection again on 'inspector.ready'. snapshot() and the drive functions are what
// the test hook (globalThis.gatescopeInspector) exposes.

import { divergingRgb, readableTextOn, scaleFor, sequentialRgb, sequentialScaleFor, unitCss, type ColorScale } from '../../kernels/inspect/colorScale';
import { gateSaturation } from '../../kernels/inspect/saturation';
import type { InspectResult, MatchResult, QuantityName, UnitRef, UnitSearchResult } from '../../kernels/inspect/types';
import { searchUnits } from '../../kernels/inspect/unitSearch';
import type { FromWebview, InspectorToWebview } from '../protocol';
import { SaturationPoint, formatProb, formatValue, hoverDetails, plain, quantityOption, saturationPoints } from './details';
import { Heatmap, HeatmapData, paintLegendBar } from './heatmap';
import { Axis, rowOrder, tokenLabel } from './heatmapModel';
import { SaturationScatter } from './scatter';
import { InspectorUiState, pickShown, restoreUiState, thresholdFor, withThreshold } from './state';

export interface InspectorHost {
  post(msg: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

type ResultMessage = Extract<InspectorToWebview, { type: 'inspector.result' }>;
type ValueElement = HTMLElement & { value: string; disabled: boolean };

/** Most units the search lists and the filtered heatmap shows. */
const MAX_LISTED_UNITS = 64;
const SAVE_DEBOUNCE_MS = 500;
const STATUS_TEXT = { noModel: 'No model yet', idle: 'Idle', computing: 'Inspecting…', ready: 'Ready', error: 'Error' } as const;

export class InspectorView {
  private ui: InspectorUiState;
  private result: ResultMessage | null = null;
  private lastRequestId = -1;
  private selection: { start: number; end: number } | null = null;
  private found: UnitSearchResult['units'] = [];
  private searchError = '';
  private matchSearchId = 0;
  private matching = false;
  private matches: MatchResult[] = [];
  private matchInfo = '';
  /** The latest workspace search as asked and (when done) answered, for the test hook. */
  private matchSearch: {
    searchId: number; layer: number; quantity: QuantityName; units: number[]; threshold: number; length: number;
    done: boolean; results: MatchResult[]; tokensSearched: number; seconds: number; cached: boolean; cancelled: boolean;
  } | null = null;
  private textSaturation: SaturationPoint[] = [];
  private corpusSaturation: SaturationPoint[] | null = null;
  private corpusTokens = 0;
  private saturationSource: 'text' | 'corpus' = 'text';
  private requestCounter = 0;
  private corpusRequestId = -1;
  private sampleRequestId = -1;
  private sample: { tokens: string[]; probs: number[] } | null = null;
  private decorated: UnitRef | null = null;
  private hoverText = '';
  private hovered: { token: number; unit: number; layer: number; quantity: QuantityName } | null = null;
  /** The stacked heatmaps (layout 'all'): every layer × quantity. */
  private stack: Heatmap[] = [];
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly heatmap: Heatmap;
  private readonly filtered: Heatmap;
  private scatters: SaturationScatter[] = [];
  /** Sorted row orders, by layer/quantity/sort key, so switching back is instant. */
  private readonly orders = new Map<string, Int32Array>();
  private readonly scales = new Map<string, ColorScale>();
  private surprisalScale: ColorScale | null = null;
  private readonly el: Record<string, HTMLElement>;
  private readonly layerSel: ValueElement;
  private readonly quantitySel: ValueElement;
  private readonly sortSel: ValueElement;
  private readonly layoutSel: ValueElement;
  private readonly sortUnit: ValueElement;
  private readonly threshold: ValueElement;
  private readonly prompt: ValueElement;
  private readonly temperature: ValueElement;
  private readonly length: ValueElement;

  constructor(root: HTMLElement, private readonly host: InspectorHost) {
    this.ui = restoreUiState(safe(() => host.getState()));
    root.textContent = '';
    root.classList.add('gatescope', 'inspector');

    // Status.
    const header = h('section', { class: 'status-section', 'aria-label': 'Inspector status' });
    const statusLine = h('div', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
    const ring = h('vscode-progress-ring', { class: 'status-ring', 'aria-hidden': 'true' });
    ring.hidden = true;
    const status = h('span', { class: 'status-text' }, 'Waiting for the extension…');
    const statusMessage = h('span', { class: 'status-message' });
    statusLine.append(ring, status, statusMessage);
    const source = h('div', { class: 'source hint' });
    const notice = h('div', { class: 'notice', role: 'status' });
    notice.hidden = true;
    const refresh = button('Inspect Again', 'Inspect the active editor again now', () => this.host.post({ type: 'inspector.refresh' }));
    header.append(statusLine, source, notice, h('div', { class: 'toolbar' }, undefined, [refresh]));

    // Heatmap.
    const content = h('div', { class: 'inspector-content' });
    content.hidden = true;
    const hmSection = h('section', { class: 'heatmap-section', 'aria-label': 'Heatmap' });
    this.layerSel = dropdown('Layer', 'inspector-layer');
    this.quantitySel = dropdown('Quantity', 'inspector-quantity');
    this.sortSel = dropdown('Sort rows by', 'inspector-sort');
    this.layoutSel = dropdown('Show', 'inspector-layout');
    for (const [v, t] of [['one', 'The chosen heatmap'], ['all', 'All heatmaps, stacked']]) this.layoutSel.append(h('vscode-option', { value: v }, t));
    for (const [v, t] of [['index', 'Unit index'], ['variance', 'Variance'], ['correlation', 'Correlation with unit']]) this.sortSel.append(h('vscode-option', { value: v }, t));
    this.sortUnit = h('vscode-text-field', { id: 'inspector-sort-unit', inputmode: 'numeric', size: '5', 'aria-label': 'Unit to correlate with' }, 'Unit') as ValueElement;
    const controls = h('div', { class: 'controls' }, undefined, [
      labelled('Show', this.layoutSel), labelled('Layer', this.layerSel), labelled('Quantity', this.quantitySel), labelled('Sort rows by', this.sortSel), this.sortUnit,
    ]);
    const zoomBar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Zoom' }, undefined, [
      button('Tokens −', 'Zoom out along the tokens (−)', () => this.heatmap.zoom('x', 1 / 1.5)),
      button('Tokens +', 'Zoom in along the tokens (+)', () => this.heatmap.zoom('x', 1.5)),
      button('Units −', 'Zoom out along the units (Alt+−)', () => this.heatmap.zoom('y', 1 / 1.5)),
      button('Units +', 'Zoom in along the units (Alt++)', () => this.heatmap.zoom('y', 1.5)),
      button('Fit', 'Fit every token and unit', () => this.heatmap.fit()),
      button('Colour Editor by Unit', 'Colour the editor’s text by the unit under the cursor', () => this.colorEditorByCursor()),
    ]);
    this.heatmap = new Heatmap(hmSection, 'Activations heatmap', 320, {
      hover: (c) => this.onHover(c),
      select: (s, e) => this.select(s, e),
      xChanged: (x) => this.linkX(this.heatmap, x),
      yChanged: (y) => {
        this.ui.cellH = y.cell;
        this.scheduleSave();
      },
    });
    hmSection.prepend(h('div', { class: 'section-head' }, undefined, [h('h2', {}, 'Activations')]), controls, zoomBar);
    const stackHost = h('div', { class: 'heatmap-stack' });
    hmSection.append(stackHost);
    const detailsLine = h('div', { class: 'details', role: 'status', 'aria-live': 'polite' }, 'Hover over the heatmap, or focus it and use the arrow keys, for the values at a token.');
    hmSection.append(detailsLine);

    // Unit search and match.
    const searchSection = h('section', { class: 'search-section', 'aria-label': 'Unit search' });
    this.threshold = h('vscode-text-field', { id: 'inspector-threshold', inputmode: 'decimal', size: '6' }, 'Threshold') as ValueElement;
    const selText = h('div', { class: 'selection-text' }, 'Select text in the editor, or drag across the heatmap, to find the units that are on there and off around it.');
    const searchNote = h('div', { class: 'hint search-note', role: 'status' });
    const unitList = h('ol', { class: 'unit-list', 'aria-label': 'Units found, best first' });
    const findBtn = button('Find in Workspace', 'Search the training corpus for places where these units show the same on/off pattern', () => this.findInWorkspace());
    const cancelBtn = button('Cancel', 'Stop the workspace search', () => this.cancelMatch());
    cancelBtn.hidden = true;
    const matchRing = h('vscode-progress-ring', { class: 'status-ring', 'aria-hidden': 'true' });
    matchRing.hidden = true;
    const matchStatus = h('span', { class: 'match-status', role: 'status', 'aria-live': 'polite' });
    const matchList = h('ol', { class: 'match-list', 'aria-label': 'Workspace matches, best first' });
    const filteredHost = h('div', { class: 'filtered-heatmap' });
    this.filtered = new Heatmap(filteredHost, 'Units found', 200, {
      hover: (c) => this.onHover(c),
      select: (s, e) => this.select(s, e),
      xChanged: (x) => this.linkX(this.filtered, x),
    });
    this.filtered.setData(null);
    searchSection.append(
      h('div', { class: 'section-head' }, undefined, [h('h2', {}, 'Unit search')]), selText,
      h('div', { class: 'controls' }, undefined, [this.threshold]), searchNote, unitList, filteredHost,
      h('div', { class: 'toolbar' }, undefined, [findBtn, cancelBtn, matchRing, matchStatus]), matchList,
    );

    // Probes.
    const probeSection = h('section', { class: 'probe-section', 'aria-label': 'Probes' });
    const decoratedText = h('span', { class: 'hint', role: 'status' });
    const clearBtn = button('Clear Colouring', 'Remove the colouring from the editor', () => this.host.post({ type: 'inspector.colorEditor', unit: null }));
    const probeList = h('ul', { class: 'probe-list' });
    probeSection.append(h('div', { class: 'section-head' }, undefined, [h('h2', {}, 'Probes'), decoratedText, clearBtn]), probeList);

    // Saturation.
    const satSection = h('section', { class: 'saturation-section', 'aria-label': 'Gate saturation' });
    const satNote = h('div', { class: 'hint' });
    const satPlots = h('div', { class: 'scatters' });
    const satText = button('Inspected Text', 'Plot the gates over the inspected text', () => this.showSaturation('text'));
    const satCorpus = button('Corpus Sample', 'Plot the gates over a sample of the training corpus', () => this.requestCorpusSaturation());
    satSection.append(h('div', { class: 'section-head' }, undefined, [h('h2', {}, 'Gate saturation')]), h('div', { class: 'toolbar' }, undefined, [satText, satCorpus]), satNote, satPlots);

    // Sampling.
    const sampleSection = h('section', { class: 'sample-section', 'aria-label': 'Sampling' });
    this.prompt = h('vscode-text-field', { id: 'inspector-prompt', class: 'prompt-field' }, 'Prompt') as ValueElement;
    this.temperature = h('vscode-text-field', { id: 'inspector-temperature', inputmode: 'decimal', size: '5' }, 'Temperature') as ValueElement;
    this.length = h('vscode-text-field', { id: 'inspector-length', inputmode: 'numeric', size: '6' }, 'Length') as ValueElement;
    const sampleError = h('div', { class: 'field-error', role: 'alert' });
    sampleError.hidden = true;
    const generate = button('Generate', 'Sample text from the model', () => this.generate());
    const sampleOut = h('div', { class: 'sample-output', 'aria-label': 'Sampled text' });
    const sampleLegend = h('div', { class: 'legend-row' });
    sampleLegend.hidden = true;
    sampleSection.append(
      h('div', { class: 'section-head' }, undefined, [h('h2', {}, 'Sampling')]),
      h('div', { class: 'controls' }, undefined, [this.prompt, this.temperature, this.length, generate]), sampleError, sampleOut, sampleLegend,
    );

    content.append(hmSection, h('vscode-divider', { role: 'separator' }), searchSection, h('vscode-divider', { role: 'separator' }), probeSection,
      h('vscode-divider', { role: 'separator' }), satSection, h('vscode-divider', { role: 'separator' }), sampleSection);
    root.append(header, content);
    this.el = {
      ring, status, statusMessage, source, notice, content, detailsLine, stackHost, selText, searchNote, unitList, findBtn, cancelBtn, matchRing, matchStatus, matchList,
      decoratedText, clearBtn, probeList, satNote, satPlots, satText, satCorpus, sampleError, sampleOut, sampleLegend, generate,
    };

    // Controls' events.
    this.layerSel.addEventListener('change', () => this.choose(Number(this.layerSel.value), this.ui.quantity));
    this.quantitySel.addEventListener('change', () => this.choose(this.ui.layer, this.quantitySel.value as QuantityName));
    this.sortSel.addEventListener('change', () => this.setSort(this.sortSel.value as InspectorUiState['sort'], this.ui.sortUnit));
    this.layoutSel.addEventListener('change', () => this.setLayout(this.layoutSel.value === 'all' ? 'all' : 'one'));
    this.sortUnit.addEventListener('change', () => {
      const u = Number(this.sortUnit.value);
      if (Number.isInteger(u) && u >= 0 && u < (this.result?.result.hiddenSize ?? 0)) this.setSort('correlation', u);
      else this.sortUnit.value = String(this.ui.sortUnit);
    });
    this.threshold.addEventListener('change', () => {
      const x = Number(String(this.threshold.value).trim());
      if (String(this.threshold.value).trim() !== '' && Number.isFinite(x)) this.setThreshold(x);
      else this.threshold.value = String(thresholdFor(this.ui, this.ui.quantity));
    });
    this.prompt.value = this.ui.prompt;
    this.temperature.value = String(this.ui.temperature);
    this.length.value = String(this.ui.length);
    for (const f of [this.prompt, this.temperature, this.length]) f.addEventListener('input', () => this.readSampleForm(false));
    this.threshold.value = String(thresholdFor(this.ui, this.ui.quantity));
    this.sortSel.value = this.ui.sort;
    this.sortUnit.value = String(this.ui.sortUnit);
    this.sortUnit.hidden = this.ui.sort !== 'correlation';
    window.addEventListener('pagehide', () => this.save());
    // The scatters read the theme's colours when drawn: draw them again when the theme changes (the heatmaps watch it themselves).
    const theme = new MutationObserver(() => {
      for (const sc of this.scatters) sc.draw();
    });
    theme.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  handle(m: InspectorToWebview): void {
    switch (m.type) {
      case 'inspector.status': return this.onStatus(m);
      case 'inspector.result': return this.onResult(m);
      case 'inspector.matchProgress':
        if (m.searchId !== this.matchSearchId || !this.matching) return;
        this.setMatchStatus(`Searching the workspace: ${m.doneTokens.toLocaleString('en-US')} of ${m.totalTokens.toLocaleString('en-US')} tokens`
          + `${m.totalTokens ? ` (${Math.floor((100 * m.doneTokens) / m.totalTokens)}%)` : ''}…`);
        return;
      case 'inspector.matchResults': return this.onMatchResults(m);
      case 'inspector.saturation':
        if (m.requestId !== this.corpusRequestId) return;
        this.corpusSaturation = saturationPoints(m.layers, 'corpus');
        this.corpusTokens = m.tokens;
        this.showSaturation('corpus');
        return;
      case 'inspector.sample':
        if (m.requestId !== this.sampleRequestId) return;
        this.sample = { tokens: m.tokens.slice(), probs: Array.from(m.probs) };
        this.renderSample();
        return;
      case 'inspector.decorated':
        this.decorated = m.unit;
        this.renderDecorated();
        return;
    }
  }

  private onStatus(m: Extract<InspectorToWebview, { type: 'inspector.status' }>): void {
    setText(this.el.status, STATUS_TEXT[m.status]);
    setText(this.el.statusMessage, m.message);
    this.el.ring.hidden = m.status !== 'computing';
    this.el.statusMessage.classList.toggle('error', m.status === 'error');
    if (m.status === 'noModel') {
      // Nothing to show without a model; the earlier inspection belongs to a model that is gone.
      this.result = null;
      this.el.content.hidden = true;
      setText(this.el.source, '');
      this.el.notice.hidden = true;
    }
    this.el.content.classList.toggle('stale', m.status === 'computing');
  }

  private onResult(m: ResultMessage): void {
    if (m.requestId < this.lastRequestId) return; // an older inspection overtaken by a newer one
    this.lastRequestId = m.requestId;
    const r = m.result;
    this.result = m;
    this.orders.clear();
    this.scales.clear();
    this.surprisalScale = sequentialScaleFor('surprisal', r.surprisal, 'bits');
    this.el.content.hidden = false;
    this.el.content.classList.remove('stale');
    setText(this.el.status, STATUS_TEXT.ready);
    setText(this.el.statusMessage, '');
    this.el.ring.hidden = true;
    setText(this.el.source, `${m.source.label}: ${r.tokens.length.toLocaleString('en-US')} tokens; ${m.model.config.cell.toUpperCase()}, ${r.numLayers} × ${r.hiddenSize} units, step ${m.model.step.toLocaleString('en-US')}`);
    setText(this.el.notice, m.notice);
    this.el.notice.hidden = !m.notice;

    // Selectors.
    this.layerSel.textContent = '';
    for (let l = 0; l < r.numLayers; l++) this.layerSel.append(h('vscode-option', { value: String(l) }, `Layer ${l}`));
    const shown = pickShown(r.layers, this.ui.layer, this.ui.quantity);
    if (shown) {
      this.ui.layer = shown.layer;
      this.ui.quantity = shown.quantity;
    }
    if (this.ui.sortUnit >= r.hiddenSize) this.ui.sortUnit = 0;
    this.hovered = null;
    this.hoverText = '';
    setText(this.el.detailsLine, 'Hover over the heatmap, or focus it and use the arrow keys, for the values at a token.');
    this.selection = m.source.selection && m.source.selection.end > m.source.selection.start ? { ...m.source.selection } : null;
    this.matches = [];
    this.matchInfo = '';
    this.matching = false;
    this.matchSearch = null;
    this.textSaturation = saturationPoints(safe(() => gateSaturation(r.layers, r.tokens.length, r.hiddenSize)) ?? [], 'text');
    this.corpusSaturation = null;
    this.saturationSource = 'text';

    this.showHeatmap(true);
    this.renderProbes();
    this.renderMatches();
    this.showSaturation('text');
    this.renderDecorated();
  }

  private onMatchResults(m: Extract<InspectorToWebview, { type: 'inspector.matchResults' }>): void {
    if (m.searchId !== this.matchSearchId) return;
    this.matching = false;
    this.matches = m.results;
    if (this.matchSearch) {
      Object.assign(this.matchSearch, { done: true, results: m.results, tokensSearched: m.tokensSearched, seconds: m.seconds, cached: m.cached, cancelled: m.cancelled });
    }
    const tokens = m.tokensSearched.toLocaleString('en-US');
    this.matchInfo = m.cancelled
      ? `Cancelled after ${tokens} tokens.`
      : `${m.results.length} places in ${tokens} tokens, ${m.seconds.toFixed(1)} s${m.cached ? ' (corpus activations cached)' : ''}${m.seconds > 0 ? `, ${Math.round(m.tokensSearched / m.seconds).toLocaleString('en-US')} tokens/s` : ''}.`;
    this.renderMatches();
  }

  // ---------------------------------------------------------------------------------------------
  // Heatmap

  private key(layer: number, q: QuantityName): string {
    return `${layer}/${q}`;
  }

  private shownValues(): { r: InspectResult; values: Float32Array } | null {
    const r = this.result?.result;
    if (!r) return null;
    const l = r.layers[this.ui.layer];
    const k = l ? l.names.indexOf(this.ui.quantity) : -1;
    return k < 0 ? null : { r, values: l.values[k] };
  }

  private scaleOf(layer: number, q: QuantityName, values: Float32Array): ColorScale {
    const key = this.key(layer, q);
    let s = this.scales.get(key);
    if (!s) this.scales.set(key, (s = scaleFor(q, values)));
    return s;
  }

  private showHeatmap(first = false): void {
    const sv = this.shownValues();
    if (!sv) {
      this.heatmap.setData(null);
      this.filtered.setData(null);
      return;
    }
    const { r, values } = sv;
    const T = r.tokens.length, H = r.hiddenSize;
    this.quantitySel.textContent = '';
    for (const q of r.layers[this.ui.layer].names) this.quantitySel.append(h('vscode-option', { value: q }, quantityOption(q)));
    this.layerSel.value = String(this.ui.layer);
    this.quantitySel.value = this.ui.quantity;
    this.sortSel.value = this.ui.sort;
    this.sortUnit.value = String(this.ui.sortUnit);
    this.sortUnit.hidden = this.ui.sort !== 'correlation';
    this.threshold.value = String(thresholdFor(this.ui, this.ui.quantity));
    const order = this.orderOf(this.ui.layer, this.ui.quantity, values, T, H);
    const scale = this.scaleOf(this.ui.layer, this.ui.quantity, values);
    this.heatmap.setData({
      layer: this.ui.layer, quantity: this.ui.quantity, values, T, H, tokens: r.tokens, scale, order,
      strip: this.surprisalScale ? { values: r.surprisal, scale: this.surprisalScale } : undefined,
    }, first ? { cellW: this.ui.cellW ?? 14, cellH: this.ui.cellH } : {});
    this.heatmap.setSelection(this.selection);
    this.layoutSel.value = this.ui.layout;
    this.heatmap.element.hidden = this.ui.layout === 'all';
    this.showStack();
    this.runSearch();
    this.scheduleSave();
  }

  private orderOf(layer: number, q: QuantityName, values: Float32Array, T: number, H: number): Int32Array {
    const key = `${this.key(layer, q)}/${this.ui.sort}/${this.ui.sort === 'correlation' ? this.ui.sortUnit : ''}`;
    let order = this.orders.get(key);
    if (!order) this.orders.set(key, (order = rowOrder(values, T, H, this.ui.sort, this.ui.sortUnit)));
    return order;
  }

  /** Layout 'all': one heatmap per layer and quantity, stacked, linked along the tokens (painted when scrolled into view). */
  private showStack(): void {
    const r = this.result?.result;
    if (this.ui.layout !== 'all' || !r) {
      for (const m of this.stack) m.dispose();
      this.stack = [];
      return;
    }
    const wanted = r.layers.flatMap((l, layer) => l.names.map((quantity, k) => ({ layer, quantity, values: l.values[k] })));
    if (this.stack.length !== wanted.length) {
      for (const m of this.stack) m.dispose();
      this.stack = wanted.map(() => {
        const m: Heatmap = new Heatmap(this.el.stackHost, 'Activations heatmap', 200, {
          hover: (c) => this.onHover(c),
          select: (s, e) => this.select(s, e),
          xChanged: (x) => this.linkX(m, x),
        });
        return m;
      });
    }
    const T = r.tokens.length, H = r.hiddenSize;
    wanted.forEach((w, i) => {
      const m = this.stack[i];
      m.setTitle(`Layer ${w.layer} · ${quantityOption(w.quantity)}`);
      m.setData({
        layer: w.layer, quantity: w.quantity, values: w.values, T, H, tokens: r.tokens, scale: this.scaleOf(w.layer, w.quantity, w.values),
        order: this.orderOf(w.layer, w.quantity, w.values, T, H),
        strip: this.surprisalScale ? { values: r.surprisal, scale: this.surprisalScale } : undefined,
      });
      m.setX(this.heatmap.xAxis);
      m.setSelection(this.selection);
    });
  }

  /** Keeps every heatmap's token axis where the one the user moved put it. */
  private linkX(from: Heatmap, x: Axis): void {
    for (const m of [this.heatmap, this.filtered, ...this.stack]) if (m !== from) m.setX(x);
    this.ui.cellW = x.cell;
    this.scheduleSave();
  }

  private setLayout(layout: 'one' | 'all'): void {
    this.ui.layout = layout;
    this.showHeatmap();
  }

  private choose(layer: number, q: QuantityName): void {
    const r = this.result?.result;
    if (!r) return;
    const shown = pickShown(r.layers, layer, q);
    if (!shown) return;
    this.ui.layer = shown.layer;
    this.ui.quantity = shown.quantity;
    this.showHeatmap();
  }

  private setSort(by: InspectorUiState['sort'], unit: number): void {
    this.ui.sort = by;
    this.ui.sortUnit = unit;
    this.showHeatmap();
  }

  private onHover(c: { token: number; unit: number; layer: number; quantity: QuantityName } | null): void {
    const m = this.result;
    if (!m || !c) return; // the last details stay (never blinking while the pointer crosses a gap)
    this.hovered = { ...c };
    this.hoverText = hoverDetails(m.result, c.layer, c.quantity, c.token, c.unit, m.source.start);
    setText(this.el.detailsLine, this.hoverText);
  }

  private cursorUnit(): UnitRef | null {
    const d = this.heatmap.shown;
    if (!d) return null;
    const hv = this.hovered;
    return hv && hv.unit < d.H ? { layer: hv.layer, quantity: hv.quantity, unit: hv.unit } : { layer: d.layer, quantity: d.quantity, unit: d.order[0] };
  }

  private colorEditorByCursor(): void {
    const unit = this.cursorUnit();
    if (unit) this.host.post({ type: 'inspector.colorEditor', unit });
  }

  // ---------------------------------------------------------------------------------------------
  // Unit search and match

  select(start: number, end: number): void {
    const T = this.result?.result.tokens.length ?? 0;
    const s = Math.max(0, Math.min(T, Math.floor(start))), e = Math.max(s, Math.min(T, Math.floor(end)));
    this.selection = e > s ? { start: s, end: e } : null;
    for (const m of [this.heatmap, ...this.stack]) m.setSelection(this.selection);
    this.runSearch();
  }

  setThreshold(x: number): void {
    if (!Number.isFinite(x)) return;
    this.ui = withThreshold(this.ui, this.ui.quantity, x);
    this.threshold.value = String(x);
    this.runSearch();
    this.scheduleSave();
  }

  private runSearch(): void {
    const sv = this.shownValues();
    this.found = [];
    this.searchError = '';
    const sel = this.selection;
    if (sv && sel) {
      const { r, values } = sv;
      try {
        this.found = searchUnits(values, r.tokens.length, r.hiddenSize, sel.start, sel.end, thresholdFor(this.ui, this.ui.quantity));
      } catch (e) {
        this.searchError = e instanceof Error ? e.message : String(e);
      }
    }
    this.renderSearch();
  }

  private renderSearch(): void {
    const sv = this.shownValues();
    const sel = this.selection;
    const list = this.el.unitList;
    list.textContent = '';
    if (!sv || !sel) {
      setText(this.el.selText, 'Select text in the editor, or drag across the heatmap, to find the units that are on there and off around it.');
      setText(this.el.searchNote, '');
      this.filtered.setData(null);
      setDisabled(this.el.findBtn, true);
      return;
    }
    const { r, values } = sv;
    const text = r.tokens.slice(sel.start, Math.min(sel.end, sel.start + 40)).join('');
    setText(this.el.selText, `Tokens ${sel.start}–${sel.end - 1} (${sel.end - sel.start}): ${tokenLabel(text, 60)}`);
    const th = thresholdFor(this.ui, this.ui.quantity);
    const listed = this.found.slice(0, MAX_LISTED_UNITS);
    setText(this.el.searchNote, this.searchError
      ? `Unit search failed: ${this.searchError}`
      : this.found.length
        ? `${this.found.length} ${this.ui.quantity} unit${this.found.length === 1 ? '' : 's'} of layer ${this.ui.layer} at or above ${th} across the selection and below it just around it${this.found.length > listed.length ? ` (the best ${listed.length} listed)` : ''}.`
        : `No ${this.ui.quantity} unit of layer ${this.ui.layer} is at or above ${th} across the whole selection and below it around it: lower the threshold or select a shorter range.`);
    for (const f of listed) {
      const li = h('li', { class: 'unit-row', tabindex: '0', role: 'button', title: 'Show this unit first in the heatmap' },
        `unit ${f.unit} · score ${f.score.toFixed(2)} · mean in ${formatValue(f.meanIn)} · mean around ${formatValue(f.meanOut)}`);
      const go = () => this.focusUnit({ layer: this.ui.layer, quantity: this.ui.quantity, unit: f.unit });
      li.addEventListener('click', go);
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          go();
        }
      });
      list.append(li);
    }
    setDisabled(this.el.findBtn, !listed.length || this.matching);
    if (listed.length) {
      this.filtered.setData({
        layer: this.ui.layer, quantity: this.ui.quantity, values, T: r.tokens.length, H: r.hiddenSize, tokens: r.tokens,
        scale: this.scaleOf(this.ui.layer, this.ui.quantity, values), order: Int32Array.from(listed, (f) => f.unit),
      });
      this.filtered.setX(this.heatmap.xAxis);
      this.filtered.setSelection(sel);
    } else this.filtered.setData(null);
  }

  /** Searches the workspace for the listed units' pattern (or the given units'); false when there is nothing to search for. */
  findInWorkspace(only?: number[] | null): boolean {
    const sel = this.selection;
    const H = this.result?.result.hiddenSize ?? 0;
    const units = only?.length ? only.filter((u) => Number.isInteger(u) && u >= 0 && u < H) : this.found.slice(0, MAX_LISTED_UNITS).map((f) => f.unit);
    if (!sel || !units.length || !this.result) return false;
    if (this.matching) this.cancelMatch();
    this.matchSearchId++;
    this.matching = true;
    this.matches = [];
    this.matchInfo = '';
    const ask = {
      searchId: this.matchSearchId, layer: this.ui.layer, quantity: this.ui.quantity, units,
      threshold: thresholdFor(this.ui, this.ui.quantity), length: Math.min(4096, sel.end - sel.start),
    };
    this.matchSearch = { ...ask, done: false, results: [], tokensSearched: 0, seconds: 0, cached: false, cancelled: false };
    this.host.post({ type: 'inspector.match', ...ask });
    this.renderMatches();
    this.setMatchStatus('Searching the workspace…');
    return true;
  }

  private cancelMatch(): void {
    if (!this.matching) return;
    this.host.post({ type: 'inspector.cancelMatch', searchId: this.matchSearchId });
    this.setMatchStatus('Cancelling…');
  }

  private setMatchStatus(text: string): void {
    setText(this.el.matchStatus, text);
    this.el.matchRing.hidden = !this.matching;
    this.el.cancelBtn.hidden = !this.matching;
    setDisabled(this.el.findBtn, this.matching || !this.found.length);
  }

  private renderMatches(): void {
    const list = this.el.matchList;
    list.textContent = '';
    this.setMatchStatus(this.matching ? this.el.matchStatus.textContent ?? '' : this.matchInfo);
    const sv = this.shownValues();
    const scale = sv ? this.scaleOf(this.ui.layer, this.ui.quantity, sv.values) : null;
    this.matches.forEach((m, index) => {
      const li = h('li', { class: 'match-row', tabindex: '0', role: 'button', title: `Open ${m.path} at line ${m.line + 1}` });
      const mini = document.createElement('canvas');
      mini.className = 'match-mini';
      mini.setAttribute('aria-hidden', 'true');
      if (scale) paintMini(mini, m, scale);
      const text = m.tokens.slice(m.matchStart, m.matchStart + m.matchLength).join('');
      li.append(mini, h('span', { class: 'match-place' }, `${m.path}:${m.line + 1}`), h('span', { class: 'match-score' }, `score ${m.score.toFixed(3)}`),
        h('span', { class: 'match-text' }, tokenLabel(text, 40)));
      const open = () => this.host.post({ type: 'inspector.openMatch', searchId: this.matchSearchId, index });
      li.addEventListener('click', open);
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
      list.append(li);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Probes and editor colouring

  /** Shows a unit: its layer and quantity, rows sorted by correlation with it (so it is the first row), the cursor on it. */
  private focusUnit(u: UnitRef): void {
    this.ui.layer = u.layer;
    this.ui.quantity = u.quantity;
    this.ui.sort = 'correlation';
    this.ui.sortUnit = u.unit;
    this.showHeatmap();
    const t = this.selection?.start ?? 0;
    const map = this.ui.layout === 'all' ? this.stack.find((m) => m.shown?.layer === u.layer && m.shown?.quantity === u.quantity) : this.heatmap;
    map?.focusCell(t, u.unit);
    map?.element.scrollIntoView({ block: 'nearest' });
  }

  private renderProbes(): void {
    const list = this.el.probeList;
    list.textContent = '';
    const probes = this.result?.probes ?? [];
    if (!probes.length) list.append(h('li', { class: 'hint' }, 'No probes for this text.'));
    for (const p of probes) {
      const li = h('li', { class: 'probe' });
      li.append(h('div', { class: 'probe-label' }, p.label));
      const best = p.best.slice(0, 3);
      if (!best.length) li.append(h('div', { class: 'hint' }, 'No unit tracks it (the property does not vary in this text).'));
      for (const b of best) {
        const ref: UnitRef = { layer: b.layer, quantity: b.quantity, unit: b.unit };
        const row = h('div', { class: 'probe-unit' });
        row.append(
          button(`Layer ${b.layer} ${b.quantity} unit ${b.unit}`, 'Show this unit in the heatmap', () => this.focusUnit(ref)),
          h('span', { class: 'probe-r' }, `r = ${b.r.toFixed(3)}`),
          button('Colour Editor', 'Colour the editor’s text by this unit', () => this.host.post({ type: 'inspector.colorEditor', unit: ref }), 'secondary'),
        );
        li.append(row);
      }
      list.append(li);
    }
  }

  private renderDecorated(): void {
    const u = this.decorated;
    setText(this.el.decoratedText, u ? `The editor is coloured by layer ${u.layer} ${u.quantity} unit ${u.unit}.` : 'The editor is not coloured.');
    setDisabled(this.el.clearBtn, !u);
  }

  // ---------------------------------------------------------------------------------------------
  // Gate saturation

  private requestCorpusSaturation(): void {
    if (!this.result) return;
    this.corpusRequestId = ++this.requestCounter;
    this.host.post({ type: 'inspector.corpusSaturation', requestId: this.corpusRequestId });
    setText(this.el.satNote, 'Reading a sample of the training corpus…');
  }

  private showSaturation(source: 'text' | 'corpus'): void {
    this.saturationSource = source === 'corpus' && this.corpusSaturation ? 'corpus' : 'text';
    const points = this.currentSaturation();
    const r = this.result?.result;
    const layers = r?.numLayers ?? 0;
    if (this.scatters.length !== layers) {
      this.el.satPlots.textContent = '';
      this.scatters = Array.from({ length: layers }, (_, l) => new SaturationScatter(this.el.satPlots, l));
    }
    this.scatters.forEach((s, l) => s.setPoints(points.filter((p) => p.layer === l)));
    setText(this.el.satNote, this.saturationSource === 'corpus'
      ? `Over a sample of ${this.corpusTokens.toLocaleString('en-US')} tokens of the training corpus. One dot per gate unit: the share of tokens at which it is below 0.1 (x) and above 0.9 (y).`
      : `Over the ${(r?.tokens.length ?? 0).toLocaleString('en-US')} inspected tokens. One dot per gate unit: the share of tokens at which it is below 0.1 (x) and above 0.9 (y).`);
    this.el.satText.setAttribute('appearance', this.saturationSource === 'text' ? 'primary' : 'secondary');
    this.el.satCorpus.setAttribute('appearance', this.saturationSource === 'corpus' ? 'primary' : 'secondary');
  }

  private currentSaturation(): SaturationPoint[] {
    return this.saturationSource === 'corpus' && this.corpusSaturation ? this.corpusSaturation : this.textSaturation;
  }

  // ---------------------------------------------------------------------------------------------
  // Sampling

  private readSampleForm(show: boolean): { prompt: string; temperature: number; length: number } | null {
    const prompt = String(this.prompt.value ?? '');
    const temperature = Number(String(this.temperature.value).trim());
    const length = Number(String(this.length.value).trim());
    let error = '';
    if (!(String(this.temperature.value).trim() !== '' && Number.isFinite(temperature) && temperature > 0 && temperature <= 10)) error = 'Temperature must be a number above 0 and at most 10 (0.8 is a good start).';
    else if (!(Number.isInteger(length) && length >= 1 && length <= 10_000)) error = 'Length must be a whole number of tokens from 1 to 10,000.';
    else if (prompt.length > 10_000) error = 'The prompt is too long: at most 10,000 characters.';
    if (show || !error) {
      setText(this.el.sampleError, error);
      this.el.sampleError.hidden = !error;
    }
    if (error) return null;
    this.ui.prompt = prompt;
    this.ui.temperature = temperature;
    this.ui.length = length;
    this.scheduleSave();
    return { prompt, temperature, length };
  }

  private generate(): void {
    const f = this.readSampleForm(true);
    if (!f) return;
    this.sampleRequestId = ++this.requestCounter;
    this.host.post({ type: 'inspector.sample', requestId: this.sampleRequestId, ...f });
    setText(this.el.sampleOut, 'Generating…');
  }

  private renderSample(): void {
    const out = this.el.sampleOut;
    out.textContent = '';
    const s = this.sample;
    if (!s) return;
    s.tokens.forEach((t, i) => {
      const p = s.probs[i];
      const rgb = sequentialRgb(p);
      const span = h('span', { class: 'sample-token', title: `${tokenLabel(t, 40)}: p = ${formatProb(p)}` }, t.replace(/\n/g, '⏎\n').replace(/\t/g, '→\t'));
      span.style.setProperty('background-color', unitCss(rgb));
      span.style.setProperty('color', readableTextOn(rgb));
      out.append(span);
    });
    const legend = this.el.sampleLegend;
    legend.textContent = '';
    const bar = document.createElement('canvas');
    bar.className = 'legend-bar';
    bar.width = 120;
    bar.height = 1;
    paintLegendBar(bar, { kind: 'sequential', clip: 1, percentile: null, rgb: sequentialRgb, legend: '' });
    legend.append(bar, h('span', { class: 'legend-text' }, 'Probability the model gave each sampled token: 0 (dark purple) to 1 (yellow).'));
    legend.hidden = false;
  }

  // ---------------------------------------------------------------------------------------------
  // State

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, SAVE_DEBOUNCE_MS);
  }

  private save(): void {
    safe(() => this.host.setState({ ...this.ui, threshold: { ...this.ui.threshold } }));
  }

  // ---------------------------------------------------------------------------------------------
  // Test hook

  /** Plain JSON of what the panel shows (the test hook's data). */
  snapshot(withResult = true): Record<string, unknown> {
    const r = this.result?.result;
    const main = this.heatmap.describe();
    // Every heatmap the selectors offer (one per layer and quantity), with its legend; `drawn` marks the one on screen.
    const heatmaps = r ? r.layers.flatMap((l, layer) => l.names.map((quantity, k) => {
      const scale = this.scaleOf(layer, quantity, l.values[k]);
      const map = this.ui.layout === 'all'
        ? this.stack.find((m) => m.shown?.layer === layer && m.shown?.quantity === quantity)
        : main && main.layer === layer && main.quantity === quantity ? this.heatmap : undefined;
      const drawn = !!map && map.renderMs > 0;
      return { layer, quantity, rows: r.hiddenSize, cols: r.tokens.length, legend: scale.legend, clip: scale.clip, percentile: scale.percentile, shown: !!map, drawn, renderMs: map ? map.renderMs : null };
    })) : [];
    const sv = this.shownValues();
    return {
      lastResult: withResult && this.result ? plain(this.result) : null,
      shown: { layout: this.ui.layout, layer: this.ui.layer, quantity: this.ui.quantity, sort: this.ui.sort, sortUnit: this.ui.sortUnit, rowOrder: main?.units ?? [] },
      heatmaps,
      filteredHeatmap: this.filtered.describe(),
      surprisalStrip: r && this.surprisalScale ? { cols: r.tokens.length, legend: this.surprisalScale.legend, clip: this.surprisalScale.clip } : null,
      hover: this.hoverText,
      selection: this.selection,
      threshold: thresholdFor(this.ui, this.ui.quantity),
      unitSearch: sv && this.selection ? {
        layer: this.ui.layer, quantity: this.ui.quantity, threshold: thresholdFor(this.ui, this.ui.quantity), start: this.selection.start, end: this.selection.end,
        units: this.found.map((f) => ({ ...f })), listed: Math.min(this.found.length, MAX_LISTED_UNITS), error: this.searchError,
      } : null,
      matches: this.matches.map((m) => plain(m)),
      matchSearch: this.matchSearch ? plain(this.matchSearch) : null,
      matchStatus: this.el.matchStatus.textContent ?? '',
      probes: (this.result?.probes ?? []).map((p) => ({ name: p.name, label: p.label, best: p.best.map((b) => ({ ...b })) })),
      saturation: this.currentSaturation().map((p) => ({ ...p })),
      saturationSource: this.saturationSource,
      sample: this.sample ? this.sample.tokens.map((token, i) => ({ token, p: this.sample!.probs[i] })) : [],
      decorated: this.decorated,
      status: { text: this.el.status.textContent ?? '', message: this.el.statusMessage.textContent ?? '', notice: this.el.notice.hidden ? '' : this.el.notice.textContent ?? '' },
    };
  }

  /** Shows one heatmap or all of them stacked (as the Show selector does). */
  layout(layout: 'one' | 'all'): void {
    this.setLayout(layout === 'all' ? 'all' : 'one');
  }

  /** Colours the editor by a unit (null: clears), as the probes' Colour Editor button does. */
  colorEditor(unit: UnitRef | null): void {
    this.host.post({ type: 'inspector.colorEditor', unit: unit ? { layer: unit.layer, quantity: unit.quantity, unit: unit.unit } : null });
  }

  /** Moves the hover details (and cursor) to a token and unit of the shown heatmap; returns the details text. */
  hoverAt(token: number, unit: number): string {
    if (!this.heatmap.focusCell(token, unit) && this.result) this.onHover({ token, unit, layer: this.ui.layer, quantity: this.ui.quantity });
    return this.hoverText;
  }

  /** Shows a layer and quantity (as the selectors do). */
  show(layer: number, quantity: QuantityName): boolean {
    this.choose(layer, quantity);
    return this.ui.layer === layer && this.ui.quantity === quantity;
  }

  /** Renders a synthetic units × tokens heatmap in a detached-size host and returns the milliseconds of one full draw. */
  renderTiming(units: number, tokens: number, width = 1200): { ms: number; fitMs: number; prepareMs: number } {
    const host = h('div', { class: 'timing-host' });
    host.style.setProperty('width', `${width}px`);
    document.body.append(host);
    try {
      const T = Math.max(1, Math.floor(tokens)), H = Math.max(1, Math.floor(units));
      const values = new Float32Array(T * H);
      let seed = 12345;
      for (let i = 0; i < values.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        values[i] = Math.tanh(((seed / 2 ** 32) - 0.5) * 4);
      }
      const surprisal = Float32Array.from({ length: T }, (_, t) => (t * 7919) % 13);
      const tokenText = Array.from({ length: T }, (_, t) => ' abc\n\tdef'[t % 9]);
      const p0 = performance.now();
      const data: HeatmapData = {
        layer: 0, quantity: 'c', values, T, H, tokens: tokenText, scale: scaleFor('c', values), order: rowOrder(values, T, H, 'variance'),
        strip: { values: surprisal, scale: sequentialScaleFor('surprisal', surprisal, 'bits') },
      };
      const prepareMs = performance.now() - p0;
      const hm = new Heatmap(host, 'timing', 320);
      hm.setData(data, { cellW: 14 });
      hm.drawNow(); // warm-up (canvas allocation, font)
      const runs: number[] = [];
      for (let k = 0; k < 5; k++) runs.push(hm.drawNow());
      hm.fit();
      const fits: number[] = [];
      for (let k = 0; k < 5; k++) fits.push(hm.drawNow());
      hm.dispose();
      const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
      return { ms: median(runs), fitMs: median(fits), prepareMs };
    } finally {
      host.remove();
    }
  }
}

/** Paints a match's miniature heatmap: its tokens along x, the selected units along y, the matched tokens outlined. */
function paintMini(canvas: HTMLCanvasElement, m: MatchResult, scale: ColorScale): void {
  const T = m.tokens.length;
  const U = T ? Math.floor(m.values.length / T) : 0;
  const cw = 4, ch = Math.max(2, Math.min(6, Math.floor(36 / Math.max(U, 1))));
  canvas.width = Math.max(1, T * cw);
  canvas.height = Math.max(1, U * ch);
  const g = canvas.getContext('2d');
  if (!g || !U) return;
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < U; k++) {
      const v = m.values[t * U + k];
      g.fillStyle = unitCss(scale.kind === 'diverging' ? divergingRgb(v, scale.clip) : sequentialRgb(v / scale.clip));
      g.fillRect(t * cw, k * ch, cw, ch);
    }
  }
  g.strokeStyle = '#000';
  g.lineWidth = 2;
  g.strokeRect(m.matchStart * cw + 1, 1, m.matchLength * cw - 2, U * ch - 2);
  g.strokeStyle = '#fff';
  g.lineWidth = 1;
  g.strokeRect(m.matchStart * cw + 0.5, 0.5, m.matchLength * cw - 1, U * ch - 1);
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    console.error('GateScope inspector:', e);
    return undefined;
  }
}

/** Creates an element with attributes, text and children (never HTML from data). */
function h(tag: string, attrs: Record<string, string> = {}, text?: string, children: Node[] = []): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  e.append(...children);
  return e;
}

function button(label: string, title: string, onClick: () => void, appearance = 'secondary'): ValueElement {
  const b = h('vscode-button', { appearance, title }, label) as ValueElement;
  b.addEventListener('click', () => {
    if (!b.disabled) onClick();
  });
  return b;
}

function dropdown(label: string, id: string): ValueElement {
  return h('vscode-dropdown', { id, 'aria-label': label }) as ValueElement;
}

function labelled(label: string, control: HTMLElement): HTMLElement {
  return h('div', { class: 'field' }, undefined, [h('label', { for: control.id }, label), control]);
}

function setText(e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

function setDisabled(e: HTMLElement, off: boolean): void {
  const b = e as ValueElement;
  if (b.disabled !== off) b.disabled = off;
}

