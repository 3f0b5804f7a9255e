// A small line chart on a canvas: two series, axes with round ticks, an HTML legend, colours from VS
// Code's theme variables. Sharp on any device-pixel ratio, redrawn (at most once a frame) when the
// data, the size, the zoom or the theme changes. The canvas is an image to assistive technology with
// a label that says the latest values.
// A series keeps its theme colour's hue, but is drawn opaque (VS Code 1.139's charts.orange is
// rgba(234, 92, 0, 0.33), a fill colour: as a thin dashed line it was pale on Light Modern and dim on
// Dark Modern), and where that is too pale or too dim against the chart's background it is darkened
// (on a light background) or lightened (on a dark one) until it stands out (SERIES_CONTRAST); the
// legend shows the colour drawn.

import { formatDuration } from '../kernels/format';
import { niceTicks, tickFormatter, timeTicks } from './curves';

export interface ChartPoint {
  x: number;
  y: number;
}

export interface SeriesStyle {
  label: string;
  /** CSS variable with the line colour, e.g. '--vscode-charts-blue'. */
  colorVar: string;
  /** Draw a dot on every point (sparse series). */
  markers?: boolean;
  /** Dashed line (distinguishes the series without colour). */
  dashed?: boolean;
}

export interface ChartData {
  series: ChartPoint[][];
  xLabel: string;
  /** X values are seconds: ticks at round durations. */
  xIsTime: boolean;
  yLabel: string;
  /** The canvas's accessible label. */
  summary: string;
}

/** Least contrast ratio of a series line against the chart background (WCAG asks 3:1 of graphics; these lines are thin and one is dashed). */
export const SERIES_CONTRAST = 4.5;

/** An sRGB colour with alpha, channels 0..255, alpha 0..1. */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb() and rgba() (what theme variables and a canvas's fillStyle hold); null otherwise. */
export function parseColor(text: string): Rgba | null {
  const t = text.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,8})$/.exec(t)?.[1];
  if (hex && hex.length !== 5 && hex.length !== 7) {
    const short = hex.length <= 4;
    const at = (i: number) => parseInt(short ? hex[i] + hex[i] : hex.slice(2 * i, 2 * i + 2), 16);
    const alpha = hex.length === 4 || hex.length === 8 ? at(3) / 255 : 1;
    return { r: at(0), g: at(1), b: at(2), a: alpha };
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/.exec(t);
  if (!fn) return null;
  const a = fn[4] === undefined ? 1 : fn[4].endsWith('%') ? parseFloat(fn[4]) / 100 : parseFloat(fn[4]);
  return { r: +fn[1], g: +fn[2], b: +fn[3], a };
}

/** WCAG relative luminance of an opaque colour. */
export function luminance(c: Rgba): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

/** WCAG contrast ratio (1 to 21) of two opaque colours. */
export function contrastRatio(a: Rgba, b: Rgba): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** a over b (b opaque). */
function over(a: Rgba, b: Rgba): Rgba {
  return { r: a.r * a.a + b.r * (1 - a.a), g: a.g * a.a + b.g * (1 - a.a), b: a.b * a.a + b.b * (1 - a.a), a: 1 };
}

const hex2 = (v: number) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0');
const toHex = (c: Rgba) => `#${hex2(c.r)}${hex2(c.g)}${hex2(c.b)}`;

const BLACK: Rgba = { r: 0, g: 0, b: 0, a: 1 };
const WHITE: Rgba = { r: 255, g: 255, b: 255, a: 1 };

/**
 * The colour to draw a series line in: `color` made opaque (a translucent theme colour is meant for
 * fills), as is when it has at least `min` contrast against `background`, otherwise the least mix of it
 * toward black (on a light background) or white (on a dark one) that has: the hue stays, only lightness
 * changes. Colours that cannot be parsed are returned unchanged.
 */
export function ensureContrast(color: string, background: string, min = SERIES_CONTRAST): string {
  const bg = parseColor(background), c0 = parseColor(color);
  if (!bg || !c0) return color;
  const base = over(bg, WHITE);
  const c = { ...c0, a: 1 };
  if (contrastRatio(c, base) >= min) return c0.a === 1 ? color : toHex(c);
  const target = contrastRatio(BLACK, base) >= contrastRatio(WHITE, base) ? BLACK : WHITE;
  for (let step = 1; step <= 20; step++) {
    const t = step / 20;
    const mixed = { r: c.r + (target.r - c.r) * t, g: c.g + (target.g - c.g) * t, b: c.b + (target.b - c.b) * t, a: 1 };
    if (contrastRatio(mixed, base) >= min) return toHex(mixed);
  }
  return toHex(target);
}

interface Colors {
  series: string[];
  fg: string;
  muted: string;
  grid: string;
  font: string;
}

export class LineChart {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private data: ChartData;
  private frame = 0;
  private colors: Colors | null = null;
  private readonly swatches: HTMLElement[] = [];
  private readonly resize: ResizeObserver;
  private readonly theme: MutationObserver;
  private dprQuery: MediaQueryList | null = null;
  private readonly onDpr = () => this.watchDpr();

  constructor(parent: HTMLElement, private readonly styles: readonly SeriesStyle[], title: string) {
    this.element = document.createElement('figure');
    this.element.className = 'chart';
    const caption = document.createElement('figcaption');
    caption.className = 'chart-legend';
    caption.append(title ? textSpan('chart-title', title) : '');
    styles.forEach((s, i) => {
      const item = document.createElement('span');
      item.className = 'legend-item';
      const swatch = document.createElement('span');
      swatch.className = `legend-swatch series-${i}${s.dashed ? ' dashed' : ''}`;
      swatch.setAttribute('aria-hidden', 'true');
      // CSSOM, not a style attribute: allowed by the webview's CSP (no 'unsafe-inline').
      swatch.style.setProperty('--swatch-color', `var(${s.colorVar}, var(--vscode-foreground))`);
      this.swatches.push(swatch);
      item.append(swatch, s.label);
      caption.append(item);
    });
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'chart-canvas';
    this.canvas.setAttribute('role', 'img');
    this.element.append(this.canvas, caption);
    parent.append(this.element);
    this.data = { series: styles.map(() => []), xLabel: '', xIsTime: false, yLabel: '', summary: title };
    this.canvas.setAttribute('aria-label', title);

    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(this.canvas);
    // VS Code puts the theme kind in body's class and the theme's colours in <html>'s style attribute.
    this.theme = new MutationObserver(() => {
      this.colors = null;
      this.schedule();
    });
    this.theme.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
    this.theme.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    this.watchDpr();
  }

  setData(data: ChartData): void {
    this.data = data;
    if (this.canvas.getAttribute('aria-label') !== data.summary) this.canvas.setAttribute('aria-label', data.summary);
    this.schedule();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.theme.disconnect();
    this.dprQuery?.removeEventListener('change', this.onDpr);
  }

  /** Zoom changes the device-pixel ratio without always resizing the element: watch it too. */
  private watchDpr(): void {
    this.dprQuery?.removeEventListener('change', this.onDpr);
    this.dprQuery = typeof matchMedia === 'function' ? matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`) : null;
    this.dprQuery?.addEventListener('change', this.onDpr);
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      try {
        this.draw();
      } catch (e) {
        console.error('GateScope chart:', e);
      }
    });
  }

  private readColors(): Colors {
    const css = getComputedStyle(document.body);
    const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const fg = v('--vscode-foreground', css.color || 'CanvasText');
    const muted = v('--vscode-descriptionForeground', fg);
    const size = v('--vscode-font-size', '13px');
    const family = v('--vscode-font-family', css.fontFamily || 'sans-serif');
    // The canvas's background (.chart-canvas in panel.css) is the editor's.
    const background = v('--vscode-editor-background', v('--vscode-sideBar-background', ''));
    return {
      series: this.styles.map((s) => ensureContrast(v(s.colorVar, fg), background)),
      fg,
      muted,
      grid: v('--vscode-editorWidget-border', v('--vscode-widget-border', muted)),
      font: `${size} ${family}`,
    };
  }

  private draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const cssW = this.canvas.clientWidth;
    const cssH = this.canvas.clientHeight;
    if (cssW <= 0 || cssH <= 0) return;
    const w = Math.round(cssW * dpr), h = Math.round(cssH * dpr);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    const g = this.canvas.getContext('2d');
    if (!g) return;
    if (!this.colors) {
      this.colors = this.readColors();
      // The legend shows the colours drawn (ensureContrast may have deepened a theme colour).
      this.swatches.forEach((sw, i) => sw.style.setProperty('--swatch-color', this.colors!.series[i]));
    }
    const c = this.colors;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);
    g.font = c.font;
    g.textBaseline = 'middle';

    const { series, xIsTime } = this.data;
    let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
    for (const s of series) {
      for (const p of s) {
        if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
        if (p.x < xlo) xlo = p.x;
        if (p.x > xhi) xhi = p.x;
        if (p.y < ylo) ylo = p.y;
        if (p.y > yhi) yhi = p.y;
      }
    }
    const empty = xlo > xhi;
    if (empty) {
      xlo = 0; xhi = xIsTime ? 60 : 100; ylo = 0; yhi = 8;
    }
    const xt = xIsTime ? timeTicks(xlo, Math.max(xhi, xlo + 1), 5) : niceTicks(xlo, Math.max(xhi, xlo + 1), 5);
    const yt = niceTicks(ylo, yhi, Math.max(2, Math.min(6, Math.floor(cssH / 40))));
    const xfmt = xIsTime ? formatDuration : tickFormatter(xt.ticks, xt.step);
    const yfmt = tickFormatter(yt.ticks, yt.step);

    const lineH = parseFloat(c.font) * 1.4 || 18;
    const yLabelW = Math.max(...yt.ticks.map((t) => g.measureText(yfmt(t)).width));
    const left = Math.ceil(yLabelW + 10 + lineH);
    const right = 12;
    const top = 8;
    const bottom = Math.ceil(lineH * 2 + 6);
    const pw = cssW - left - right, ph = cssH - top - bottom;
    if (pw < 20 || ph < 20) return;
    const X = (x: number) => left + ((x - xt.lo) / (xt.hi - xt.lo || 1)) * pw;
    const Y = (y: number) => top + ph - ((y - yt.lo) / (yt.hi - yt.lo || 1)) * ph;

    // Grid and ticks.
    g.lineWidth = 1;
    g.strokeStyle = c.grid;
    g.fillStyle = c.muted;
    g.globalAlpha = 0.6;
    g.beginPath();
    for (const t of yt.ticks) {
      const y = Math.round(Y(t)) + 0.5;
      g.moveTo(left, y);
      g.lineTo(left + pw, y);
    }
    for (const t of xt.ticks) {
      const x = Math.round(X(t)) + 0.5;
      g.moveTo(x, top);
      g.lineTo(x, top + ph);
    }
    g.stroke();
    g.globalAlpha = 1;
    g.strokeStyle = c.fg;
    g.beginPath();
    g.moveTo(left + 0.5, top);
    g.lineTo(left + 0.5, top + ph + 0.5);
    g.lineTo(left + pw, top + ph + 0.5);
    g.stroke();

    g.textAlign = 'right';
    for (const t of yt.ticks) g.fillText(yfmt(t), left - 6, Y(t));
    g.textAlign = 'center';
    let lastRight = -Infinity;
    for (const t of xt.ticks) {
      const label = xfmt(t);
      const x = X(t);
      const half = g.measureText(label).width / 2;
      if (x - half < lastRight + 6) continue; // skip labels that would overlap
      g.fillText(label, Math.min(Math.max(x, left + half), left + pw - half + right), top + ph + lineH * 0.6 + 2);
      lastRight = x + half;
    }
    g.fillStyle = c.fg;
    g.fillText(this.data.xLabel, left + pw / 2, top + ph + lineH * 1.5 + 2);
    g.save();
    g.translate(lineH * 0.5 + 1, top + ph / 2);
    g.rotate(-Math.PI / 2);
    g.fillText(this.data.yLabel, 0, 0);
    g.restore();

    if (empty) {
      g.fillStyle = c.muted;
      g.fillText('No training data yet', left + pw / 2, top + ph / 2);
      return;
    }

    // Series, clipped to the plot.
    g.save();
    g.beginPath();
    g.rect(left, top - 2, pw + 2, ph + 4);
    g.clip();
    series.forEach((pts, i) => {
      const style = this.styles[i];
      g.strokeStyle = c.series[i] ?? c.fg;
      g.fillStyle = g.strokeStyle;
      g.lineWidth = 2;
      g.lineJoin = 'round';
      g.setLineDash(style?.dashed ? [7, 3] : []);
      g.beginPath();
      let pen = false;
      // More points than pixels: draw one min/max pair per pixel column.
      let col = NaN, cmin = 0, cmax = 0;
      const flush = () => {
        if (Number.isNaN(col)) return;
        if (!pen) { g.moveTo(col, cmin); pen = true; } else g.lineTo(col, cmin);
        if (cmax !== cmin) g.lineTo(col, cmax);
      };
      for (const p of pts) {
        if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
        const x = Math.round(X(p.x)), y = Y(p.y);
        if (x === col) {
          cmin = Math.min(cmin, y);
          cmax = Math.max(cmax, y);
        } else {
          flush();
          col = x; cmin = y; cmax = y;
        }
      }
      flush();
      g.stroke();
      g.setLineDash([]);
      if (style?.markers && pts.length <= pw / 3) {
        for (const p of pts) {
          if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
          g.beginPath();
          g.arc(X(p.x), Y(p.y), 3, 0, Math.PI * 2);
          g.fill();
        }
      }
    });
    g.restore();
  }
}

function textSpan(className: string, text: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}
