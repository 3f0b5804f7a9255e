// One heatmap on a canvas: tokens along x (their text as labels, whitespace made visible), units along
// y (in the chosen row order), an optional surprisal strip under the cells aligned with the tokens,
// and an HTML legend naming the range. Only the visible cells are painted, through one ImageData
// (heatmapModel.paintCells), so 512 units × 4,000 tokens draws in a few milliseconds; the time of the
// last draw is kept (renderMs). A second canvas on top holds what moves often (the hovered cell, the
// keyboard cursor, the selected token range), so hovering never repaints the cells.
// Mouse: wheel scrolls (Shift+wheel along the tokens), Ctrl/Cmd+wheel zooms the tokens, with Shift the
// units; drag selects a token range; click sets the cursor. Keyboard (the canvas is focusable, role
// grid so the keyboard guard keeps its keys): arrows move the cursor cell, Shift+arrows extend the
// selection, + and - zoom the tokens (with Alt the units), Home/End, PageUp/PageDown.

import { ColorScale, rgbaTable, scaleStops, unitCss } from '../../kernels/inspect/colorScale';
import type { QuantityName } from '../../kernels/inspect/types';
import {
  Axis, cellAt, clampAxis, fitCell, labelStride, paintCells, pixelCells, revealCell, tokenLabel, visibleRange, zoomAxis,
} from './heatmapModel';

export interface HeatmapData {
  layer: number;
  quantity: QuantityName;
  /** Token-major [T*H]. */
  values: Float32Array;
  T: number;
  H: number;
  tokens: readonly string[];
  scale: ColorScale;
  /** Row r shows unit order[r]; rows = order.length (a filtered heatmap lists fewer units). */
  order: Int32Array;
  /** Surprisal strip under the cells (main heatmap only). */
  strip?: { values: Float32Array; scale: ColorScale };
}

export interface HeatmapEvents {
  /** The pointer or the keyboard cursor is over (token, unit), or nothing (null). */
  hover?(cell: { token: number; unit: number; layer: number; quantity: QuantityName } | null): void;
  /** A token range [start, end) was selected by dragging or Shift+arrows. */
  select?(start: number, end: number): void;
  /** The token axis moved (zoom or scroll), to keep linked heatmaps aligned. */
  xChanged?(x: Axis): void;
  /** The unit axis was zoomed (to remember the zoom). */
  yChanged?(y: Axis): void;
}

interface Colors {
  fg: string;
  muted: string;
  background: string;
  backgroundPacked: number;
  focus: string;
  font: string;
}

const GUTTER = 44;
const RIGHT_PAD = 4;
const STRIP_H = 14;
const STRIP_GAP = 3;
/** The token label band: as tall as the longest label (rotated), within these bounds. */
const LABEL_BAND_MIN = 26;
const LABEL_BAND_MAX = 96;
const LABEL_MIN_CELL = 11;
/** Rows are at most this tall when few units fit (each keeps its label). */
const ROW_CELL_MAX = 14;

export class Heatmap {
  readonly element: HTMLElement;
  private readonly base: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private readonly legendText: HTMLElement;
  private readonly legendBar: HTMLCanvasElement;
  private readonly stripLegend: HTMLElement;
  private readonly caption: HTMLElement;
  private data: HeatmapData | null = null;
  private x: Axis = { cell: 14, scroll: 0 };
  private y: Axis = { cell: 12, scroll: 0 };
  private plotH = 120;
  private labelBand = LABEL_BAND_MIN;
  /** The longest token label (by characters), measured in draw() for the label band's height. */
  private longestLabel = '';
  private cursor: { token: number; row: number } = { token: 0, row: 0 };
  private hoverCell: { token: number; row: number } | null = null;
  private selection: { start: number; end: number } | null = null;
  private drag: { anchor: number; moved: boolean } | null = null;
  private colors: Colors | null = null;
  private image: ImageData | null = null;
  private frame = 0;
  private overlayFrame = 0;
  private readonly resize: ResizeObserver;
  /** Off screen (stacked heatmaps below the fold) nothing is painted; a paint asked for meanwhile waits until it shows. */
  private readonly seen: IntersectionObserver;
  private onScreen = true;
  private deferred = false;
  private readonly heading: HTMLElement;
  private readonly theme: MutationObserver;
  /** Milliseconds the last full draw took (cells, strip and labels). */
  renderMs = 0;

  constructor(parent: HTMLElement, title: string, private readonly maxPlotH: number, private readonly events: HeatmapEvents = {}) {
    this.element = document.createElement('figure');
    this.element.className = 'heatmap';
    const wrap = document.createElement('div');
    wrap.className = 'heatmap-canvases';
    this.base = document.createElement('canvas');
    this.base.className = 'heatmap-base';
    this.base.setAttribute('aria-hidden', 'true');
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'heatmap-overlay';
    this.overlay.tabIndex = 0;
    // A grid to assistive technology and to the keyboard guard (which keeps a grid's arrow keys in the webview).
    this.overlay.setAttribute('role', 'grid');
    this.overlay.setAttribute('aria-roledescription', 'heatmap');
    this.overlay.setAttribute('aria-label', title);
    wrap.append(this.base, this.overlay);
    this.heading = document.createElement('div');
    this.heading.className = 'heatmap-title';
    this.heading.hidden = true;
    const legend = document.createElement('figcaption');
    legend.className = 'heatmap-legend';
    this.legendBar = document.createElement('canvas');
    this.legendBar.className = 'legend-bar';
    this.legendBar.width = 120;
    this.legendBar.height = 1;
    this.legendBar.setAttribute('aria-hidden', 'true');
    this.legendText = document.createElement('span');
    this.legendText.className = 'legend-text';
    const row1 = document.createElement('div');
    row1.className = 'legend-row';
    row1.append(this.legendBar, this.legendText);
    this.stripLegend = document.createElement('div');
    this.stripLegend.className = 'legend-row strip-legend';
    this.stripLegend.hidden = true;
    this.caption = document.createElement('div');
    this.caption.className = 'heatmap-caption hint';
    legend.append(row1, this.stripLegend, this.caption);
    this.element.append(this.heading, wrap, legend);
    parent.append(this.element);

    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(wrap);
    this.seen = new IntersectionObserver((entries) => {
      this.onScreen = entries[entries.length - 1].isIntersecting;
      if (this.onScreen && this.deferred) {
        this.deferred = false;
        this.schedule();
      }
    }, { rootMargin: '200px' });
    this.seen.observe(wrap);
    this.theme = new MutationObserver(() => {
      this.colors = null;
      this.labelBand = 0;
      this.schedule();
    });
    this.theme.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
    this.theme.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    this.listen();
  }

  /** Shows new data. Keeps the zoom; `fit` sets the unit axis to fit the plot (and the token axis to `cellW` when given). */
  setData(data: HeatmapData | null, opts: { cellW?: number | null; cellH?: number | null } = {}): void {
    const rowsBefore = this.data?.order.length ?? -1;
    this.data = data;
    if (!data) {
      this.element.hidden = true;
      return;
    }
    this.element.hidden = false;
    const rows = data.order.length;
    this.plotH = Math.round(Math.min(this.maxPlotH, Math.max(28, rows * Math.min(ROW_CELL_MAX, Math.max(2, this.maxPlotH / Math.max(rows, 1))))));
    if (opts.cellW) this.x = { ...this.x, cell: opts.cellW };
    if (opts.cellH) this.y = { ...this.y, cell: opts.cellH };
    else if (rows !== rowsBefore) this.y = { cell: fitCell(rows, this.plotH, 0.05, ROW_CELL_MAX), scroll: 0 };
    this.cursor = { token: Math.min(this.cursor.token, Math.max(0, data.T - 1)), row: Math.min(this.cursor.row, Math.max(0, rows - 1)) };
    this.hoverCell = null;
    this.longestLabel = '';
    for (const t of data.tokens) {
      const l = tokenLabel(t);
      if (l.length > this.longestLabel.length) this.longestLabel = l;
    }
    this.labelBand = 0; // measured at the next draw
    // The height now (not at the first paint), so stacked heatmaps below do not move when this one paints.
    this.base.parentElement!.style.height = `${this.heights().total}px`;
    this.updateLegend();
    this.schedule();
  }

  /** A title above the heatmap (stacked heatmaps say which layer and quantity they are). */
  setTitle(text: string): void {
    this.heading.textContent = text;
    this.heading.hidden = !text;
  }

  get shown(): HeatmapData | null {
    return this.data;
  }

  get xAxis(): Axis {
    return this.x;
  }

  get yAxis(): Axis {
    return this.y;
  }

  /** Follows a linked heatmap's token axis. */
  setX(x: Axis): void {
    this.x = { ...x };
    this.schedule();
  }

  setSelection(sel: { start: number; end: number } | null): void {
    this.selection = sel && sel.end > sel.start ? { ...sel } : null;
    if (this.selection && this.data) this.x = revealCell(this.x, this.selection.start, this.data.T, this.plotW());
    this.schedule();
  }

  /** Puts the cursor (and the hover details) on a token and unit, scrolling it into view. */
  focusCell(token: number, unit: number): boolean {
    const d = this.data;
    if (!d) return false;
    const row = d.order.indexOf(unit);
    if (row < 0 || token < 0 || token >= d.T) return false;
    this.cursor = { token, row };
    this.x = revealCell(this.x, token, d.T, this.plotW());
    this.y = revealCell(this.y, row, d.order.length, this.plotH);
    this.hoverCell = { token, row };
    this.events.hover?.({ token, unit, layer: d.layer, quantity: d.quantity });
    this.schedule();
    return true;
  }

  zoom(axis: 'x' | 'y', factor: number, anchorPx?: number): void {
    const d = this.data;
    if (!d) return;
    if (axis === 'x') {
      const w = this.plotW();
      this.x = zoomAxis(this.x, factor, anchorPx ?? this.cursorAnchor('x'), d.T, w);
      this.events.xChanged?.(this.x);
    } else {
      this.y = zoomAxis(this.y, factor, anchorPx ?? this.cursorAnchor('y'), d.order.length, this.plotH);
      this.events.yChanged?.(this.y);
    }
    this.schedule();
  }

  /** Fits every token and every unit into the plot. */
  fit(): void {
    const d = this.data;
    if (!d) return;
    this.x = { cell: fitCell(d.T, this.plotW()), scroll: 0 };
    this.y = { cell: fitCell(d.order.length, this.plotH), scroll: 0 };
    this.events.xChanged?.(this.x);
    this.events.yChanged?.(this.y);
    this.schedule();
  }

  /** Draws now (not at the next frame); returns the milliseconds it took. */
  drawNow(): number {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.draw();
    return this.renderMs;
  }

  /** What a test or the details line reads: the shown heatmap's shape and legend. */
  describe(): { layer: number; quantity: QuantityName; rows: number; cols: number; legend: string; clip: number; renderMs: number; units: number[] } | null {
    const d = this.data;
    if (!d) return null;
    return { layer: d.layer, quantity: d.quantity, rows: d.order.length, cols: d.T, legend: d.scale.legend, clip: d.scale.clip, renderMs: this.renderMs, units: Array.from(d.order) };
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    cancelAnimationFrame(this.overlayFrame);
    this.resize.disconnect();
    this.seen.disconnect();
    this.theme.disconnect();
    this.element.remove();
  }

  // ---------------------------------------------------------------------------------------------

  private plotW(): number {
    return Math.max(20, (this.base.parentElement?.clientWidth ?? 300) - GUTTER - RIGHT_PAD);
  }

  private cursorAnchor(axis: 'x' | 'y'): number {
    const a = axis === 'x' ? this.x : this.y;
    const k = axis === 'x' ? this.cursor.token : this.cursor.row;
    const view = axis === 'x' ? this.plotW() : this.plotH;
    return Math.min(view, Math.max(0, (k + 0.5) * a.cell - a.scroll));
  }

  private heights(): { strip: number; labels: number; total: number } {
    const strip = this.data?.strip ? STRIP_GAP + STRIP_H : 0;
    const labels = this.labelBand || LABEL_BAND_MIN;
    return { strip, labels, total: this.plotH + strip + labels };
  }

  private updateLegend(): void {
    const d = this.data;
    if (!d) return;
    this.legendText.textContent = d.scale.legend;
    paintLegendBar(this.legendBar, d.scale);
    this.stripLegend.textContent = '';
    this.stripLegend.hidden = !d.strip;
    if (d.strip) {
      const bar = document.createElement('canvas');
      bar.className = 'legend-bar';
      bar.width = 120;
      bar.height = 1;
      bar.setAttribute('aria-hidden', 'true');
      paintLegendBar(bar, d.strip.scale);
      const text = document.createElement('span');
      text.className = 'legend-text';
      text.textContent = `Strip: ${d.strip.scale.legend}`;
      this.stripLegend.append(bar, text);
    }
  }

  private readColors(): Colors {
    const css = getComputedStyle(document.body);
    const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const fg = v('--vscode-foreground', css.color || '#888');
    const background = v('--vscode-editor-background', v('--vscode-sideBar-background', '#808080'));
    // The packed background for ImageData: read back through a 1×1 canvas (any CSS colour form works).
    const probe = document.createElement('canvas').getContext('2d');
    let packed = 0xff808080;
    if (probe) {
      probe.fillStyle = background;
      probe.fillRect(0, 0, 1, 1);
      const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
      packed = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
    }
    return {
      fg,
      muted: v('--vscode-descriptionForeground', fg),
      background,
      backgroundPacked: packed,
      focus: v('--vscode-focusBorder', fg),
      font: `${v('--vscode-editor-font-size', '12px').replace(/^(\d+)$/, '$1px')} ${v('--vscode-editor-font-family', 'monospace')}`,
    };
  }

  private schedule(): void {
    if (!this.onScreen) {
      this.deferred = true;
      return;
    }
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      try {
        this.draw();
      } catch (e) {
        console.error('GateScope heatmap:', e);
      }
    });
  }

  private scheduleOverlay(): void {
    if (this.overlayFrame) return;
    this.overlayFrame = requestAnimationFrame(() => {
      this.overlayFrame = 0;
      this.drawOverlay();
    });
  }

  private draw(): void {
    const t0 = performance.now();
    const d = this.data;
    const wrap = this.base.parentElement!;
    if (d && !this.labelBand) {
      const g0 = this.base.getContext('2d');
      if (!this.colors) this.colors = this.readColors();
      if (g0) g0.font = this.colors.font;
      const w = g0 ? g0.measureText(this.longestLabel).width : this.longestLabel.length * 8;
      this.labelBand = Math.ceil(Math.min(LABEL_BAND_MAX, Math.max(LABEL_BAND_MIN, w + 10)));
    }
    const { strip, labels, total } = this.heights();
    if (wrap.style.height !== `${total}px`) wrap.style.height = `${total}px`;
    if (!d) return;
    const dpr = window.devicePixelRatio || 1;
    const cssW = wrap.clientWidth;
    if (cssW <= GUTTER + RIGHT_PAD + 4) return;
    const W = Math.round(cssW * dpr), Ht = Math.round(total * dpr);
    for (const c of [this.base, this.overlay]) {
      if (c.width !== W || c.height !== Ht) {
        c.width = W;
        c.height = Ht;
      }
    }
    const g = this.base.getContext('2d');
    if (!g) return;
    if (!this.colors) this.colors = this.readColors();
    const c = this.colors;
    const pw = this.plotW(), ph = this.plotH, rows = d.order.length;
    this.x = clampAxis(this.x, d.T, pw);
    this.y = clampAxis(this.y, rows, ph);

    // Cells: one ImageData of the plot, in device pixels.
    const px0 = Math.round(GUTTER * dpr);
    const pwDev = Math.max(1, Math.round(pw * dpr)), phDev = Math.max(1, Math.round(ph * dpr));
    if (!this.image || this.image.width !== pwDev || this.image.height !== phDev) this.image = g.createImageData(pwDev, phDev);
    const dst = new Uint32Array(this.image.data.buffer);
    const colTok = pixelCells(this.x, pwDev, dpr, d.T);
    const rowOf = pixelCells(this.y, phDev, dpr, rows);
    const lut = rgbaTable(d.scale);
    paintCells(dst, pwDev, phDev, colTok, rowOf, d.order, d.values, d.H, lut.table, lut.index, lut.nan, c.backgroundPacked);
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = c.background;
    g.fillRect(0, 0, W, Ht);
    g.putImageData(this.image, px0, 0);

    // Surprisal strip: the same columns, one row repeated.
    if (d.strip) {
      const sh = Math.max(1, Math.round(STRIP_H * dpr));
      const img = g.createImageData(pwDev, sh);
      const slut = rgbaTable(d.strip.scale);
      paintCells(new Uint32Array(img.data.buffer), pwDev, sh, colTok, new Int32Array(sh), new Int32Array(1), d.strip.values, 1, slut.table, slut.index, slut.nan, c.backgroundPacked);
      g.putImageData(img, px0, Math.round((ph + STRIP_GAP) * dpr));
    }

    // Labels.
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.font = c.font;
    g.fillStyle = c.fg;
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    const ys = visibleRange(this.y, rows, ph);
    const ystride = labelStride(this.y.cell, 12);
    for (let r = ys.first; r < ys.last; r++) {
      if (ystride > 1 && r % ystride !== 0) continue;
      const yc = (r + 0.5) * this.y.cell - this.y.scroll;
      if (yc < 5 || yc > ph - 5) continue;
      g.fillText(String(d.order[r]), GUTTER - 4, yc);
    }
    if (d.strip) {
      g.fillStyle = c.muted;
      g.fillText('bits', GUTTER - 4, ph + STRIP_GAP + STRIP_H / 2);
    }
    const xs = visibleRange(this.x, d.T, pw);
    const labelTop = ph + strip + 3;
    g.save();
    g.beginPath();
    g.rect(GUTTER, labelTop - 2, pw, labels);
    g.clip();
    if (this.x.cell >= LABEL_MIN_CELL) {
      // Token text, rotated, one per token.
      g.fillStyle = c.fg;
      g.textAlign = 'right';
      for (let t = xs.first; t < xs.last; t++) {
        const xc = GUTTER + (t + 0.5) * this.x.cell - this.x.scroll;
        g.save();
        g.translate(xc, labelTop);
        g.rotate(-Math.PI / 2);
        g.fillText(tokenLabel(d.tokens[t] ?? ''), 0, 0);
        g.restore();
      }
    } else {
      // Too narrow for text: token positions at round strides.
      g.fillStyle = c.muted;
      g.textAlign = 'center';
      const stride = labelStride(this.x.cell, 48);
      const first = Math.ceil(xs.first / stride) * stride;
      for (let t = first; t < xs.last; t += stride) {
        const xc = GUTTER + (t + 0.5) * this.x.cell - this.x.scroll;
        g.fillRect(Math.round(xc), labelTop - 3, 1, 4);
        g.fillText(t.toLocaleString('en-US'), xc, labelTop + 9);
      }
    }
    g.restore();

    this.caption.textContent = `Tokens ${xs.first.toLocaleString('en-US')}–${Math.max(xs.first, xs.last - 1).toLocaleString('en-US')} of ${d.T.toLocaleString('en-US')}, `
      + `rows ${ys.first + 1}–${ys.last} of ${rows}. Wheel scrolls, Shift+wheel scrolls the tokens, Ctrl+wheel zooms them (with Shift the units); drag to select tokens.`;
    this.renderMs = performance.now() - t0;
    this.drawOverlay();
  }

  private drawOverlay(): void {
    const d = this.data;
    const g = this.overlay.getContext('2d');
    if (!g || !d || !this.colors) return;
    const dpr = window.devicePixelRatio || 1;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, this.overlay.width, this.overlay.height);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const pw = this.plotW(), ph = this.plotH;
    const X = (t: number) => GUTTER + t * this.x.cell - this.x.scroll;
    const Y = (r: number) => r * this.y.cell - this.y.scroll;
    g.save();
    g.beginPath();
    g.rect(GUTTER, 0, pw, this.heights().total);
    g.clip();
    const sel = this.drag && this.selection ? this.selection : this.selection;
    if (sel) {
      // The cells keep their colours (a tint would change what they say): an outline, and a band under the labels.
      const { strip, labels } = this.heights();
      g.fillStyle = this.colors.focus;
      g.globalAlpha = 0.25;
      g.fillRect(X(sel.start), ph + strip, (sel.end - sel.start) * this.x.cell, labels);
      g.globalAlpha = 1;
      g.strokeStyle = this.colors.focus;
      g.lineWidth = 2;
      g.strokeRect(X(sel.start) + 1, 1, Math.max(1, (sel.end - sel.start) * this.x.cell - 2), ph - 2);
    }
    const mark = (cell: { token: number; row: number }, dashed: boolean) => {
      const w = Math.max(this.x.cell, 3), h = Math.max(this.y.cell, 3);
      const x = X(cell.token) + this.x.cell / 2 - w / 2, y = Y(cell.row) + this.y.cell / 2 - h / 2;
      g.lineWidth = 2;
      g.setLineDash(dashed ? [3, 2] : []);
      // Two strokes (dark and light) so the mark shows on any cell colour.
      g.strokeStyle = '#000';
      g.strokeRect(x - 1, y - 1, w + 2, h + 2);
      g.strokeStyle = '#fff';
      g.lineWidth = 1;
      g.strokeRect(x - 0.5, y - 0.5, w + 1, h + 1);
      g.setLineDash([]);
    };
    if (document.activeElement === this.overlay) mark(this.cursor, false);
    if (this.hoverCell && (this.hoverCell.token !== this.cursor.token || this.hoverCell.row !== this.cursor.row || document.activeElement !== this.overlay)) mark(this.hoverCell, true);
    g.restore();
  }

  // ---------------------------------------------------------------------------------------------
  // Input

  private cellFromEvent(e: MouseEvent): { token: number; row: number } | null {
    const d = this.data;
    if (!d) return null;
    const rect = this.overlay.getBoundingClientRect();
    const px = e.clientX - rect.left - GUTTER, py = e.clientY - rect.top;
    if (px < 0 || px >= this.plotW()) return null;
    const token = cellAt(this.x, px, d.T);
    if (token < 0) return null;
    // Over the strip or the labels: the token, at the cursor's row.
    const row = py < this.plotH ? cellAt(this.y, py, d.order.length) : this.cursor.row;
    return row < 0 ? null : { token, row };
  }

  private setHover(cell: { token: number; row: number } | null): void {
    const same = cell && this.hoverCell && cell.token === this.hoverCell.token && cell.row === this.hoverCell.row;
    if (same || (!cell && !this.hoverCell)) return;
    this.hoverCell = cell;
    const d = this.data;
    this.events.hover?.(cell && d ? { token: cell.token, unit: d.order[cell.row], layer: d.layer, quantity: d.quantity } : null);
    this.scheduleOverlay();
  }

  private listen(): void {
    const o = this.overlay;
    o.addEventListener('mousemove', (e) => {
      const cell = this.cellFromEvent(e);
      if (this.drag && cell) {
        const a = this.drag.anchor;
        if (cell.token !== a) this.drag.moved = true;
        this.selection = { start: Math.min(a, cell.token), end: Math.max(a, cell.token) + 1 };
      }
      this.setHover(cell);
      this.scheduleOverlay();
    });
    o.addEventListener('mouseleave', () => this.setHover(null));
    o.addEventListener('mousedown', (e) => {
      if (e.button !== 0) return;
      const cell = this.cellFromEvent(e);
      if (!cell) return;
      this.drag = { anchor: cell.token, moved: false };
      this.cursor = cell;
    });
    window.addEventListener('mouseup', () => {
      const drag = this.drag;
      this.drag = null;
      if (!drag) return;
      if (drag.moved && this.selection) this.events.select?.(this.selection.start, this.selection.end);
      this.scheduleOverlay();
    });
    o.addEventListener('focus', () => this.scheduleOverlay());
    o.addEventListener('blur', () => this.scheduleOverlay());
    o.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    o.addEventListener('keydown', (e) => this.onKey(e));
  }

  private onWheel(e: WheelEvent): void {
    const d = this.data;
    if (!d) return;
    const rect = this.overlay.getBoundingClientRect();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 200 : 1;
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      const factor = Math.exp(-e.deltaY * unit * 0.002);
      if (e.shiftKey) this.zoom('y', factor, Math.max(0, e.clientY - rect.top));
      else this.zoom('x', factor, Math.max(0, e.clientX - rect.left - GUTTER));
      return;
    }
    const dx = e.shiftKey ? e.deltaY || e.deltaX : e.deltaX;
    const dy = e.shiftKey ? 0 : e.deltaY;
    const x = clampAxis({ cell: this.x.cell, scroll: this.x.scroll + dx * unit }, d.T, this.plotW());
    const y = clampAxis({ cell: this.y.cell, scroll: this.y.scroll + dy * unit }, d.order.length, this.plotH);
    // At the heatmap's edge the wheel scrolls the page (a narrow side bar is scrolled over the heatmap too).
    if (x.scroll === this.x.scroll && y.scroll === this.y.scroll) return;
    e.preventDefault();
    if (x.scroll !== this.x.scroll) {
      this.x = x;
      this.events.xChanged?.(this.x);
    }
    this.y = y;
    this.schedule();
  }

  private onKey(e: KeyboardEvent): void {
    const d = this.data;
    if (!d || e.ctrlKey || e.metaKey) return;
    const rows = d.order.length;
    const page = Math.max(1, Math.floor(this.plotH / this.y.cell) - 1);
    const c = { ...this.cursor };
    let handled = true;
    switch (e.key) {
      case 'ArrowLeft': c.token--; break;
      case 'ArrowRight': c.token++; break;
      case 'ArrowUp': c.row--; break;
      case 'ArrowDown': c.row++; break;
      case 'PageUp': c.row -= page; break;
      case 'PageDown': c.row += page; break;
      case 'Home': c.token = 0; break;
      case 'End': c.token = d.T - 1; break;
      case '+': case '=': this.zoom(e.altKey ? 'y' : 'x', 1.5); break;
      case '-': case '_': this.zoom(e.altKey ? 'y' : 'x', 1 / 1.5); break;
      default: handled = false;
    }
    if (!handled) return;
    e.preventDefault();
    c.token = Math.max(0, Math.min(d.T - 1, c.token));
    c.row = Math.max(0, Math.min(rows - 1, c.row));
    if (e.shiftKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
      // Extend the selection from the cursor.
      const s = this.selection ?? { start: this.cursor.token, end: this.cursor.token + 1 };
      const anchor = this.cursor.token === s.start ? s.end - 1 : s.start;
      this.selection = { start: Math.min(anchor, c.token), end: Math.max(anchor, c.token) + 1 };
      this.events.select?.(this.selection.start, this.selection.end);
    }
    if (c.token !== this.cursor.token || c.row !== this.cursor.row) {
      this.cursor = c;
      this.x = revealCell(this.x, c.token, d.T, this.plotW());
      this.y = revealCell(this.y, c.row, rows, this.plotH);
      this.events.xChanged?.(this.x);
      this.hoverCell = c;
      this.events.hover?.({ token: c.token, unit: d.order[c.row], layer: d.layer, quantity: d.quantity });
    }
    this.schedule();
  }
}

/** Paints a scale's colours, low to high, across a 1-pixel-high canvas (CSS stretches it). */
export function paintLegendBar(canvas: HTMLCanvasElement, scale: ColorScale): void {
  const g = canvas.getContext('2d');
  if (!g) return;
  const stops = scaleStops(scale, canvas.width);
  stops.forEach((rgb, i) => {
    g.fillStyle = unitCss(rgb);
    g.fillRect(i, 0, 1, canvas.height);
  });
}
