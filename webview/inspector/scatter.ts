// The gate saturation scatter of one layer (Karpathy, Johnson and Fei-Fei 2015, figure 3): x is the
// share of tokens at which a gate unit is left-saturated (< 0.1), y the share at which it is
// right-saturated (> 0.9), one dot per unit and gate. Gates differ in colour (Tableau 10 from
// d3-scale-chromatic, each deepened or lightened to 3:1 against the background as chart.ts does) and in
// shape (circle, square, triangle), so the plot reads without colour too; an HTML legend names them.

import { schemeTableau10 } from 'd3-scale-chromatic';
import type { QuantityName } from '../../kernels/inspect/types';
import { ensureContrast } from '../chart';
import type { SaturationPoint } from './details';

type Shape = 'circle' | 'square' | 'triangle';

/** Colour and shape of a gate's dots: the first gate of each cell is blue circles, the second orange squares, the third purple triangles. */
const GATE_STYLE: Partial<Record<QuantityName, { color: string; shape: Shape; label: string }>> = {
  i: { color: schemeTableau10[0], shape: 'circle', label: 'i, input gate' },
  f: { color: schemeTableau10[1], shape: 'square', label: 'f, forget gate' },
  o: { color: schemeTableau10[6], shape: 'triangle', label: 'o, output gate' },
  r: { color: schemeTableau10[0], shape: 'circle', label: 'r, reset gate' },
  z: { color: schemeTableau10[1], shape: 'square', label: 'z, update gate' },
};

/** Least contrast of a dot against the plot (WCAG's 3:1 for graphics). */
const DOT_CONTRAST = 3;
const SIZE = 200;
const PAD = { left: 38, right: 8, top: 8, bottom: 34 };

export class SaturationScatter {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly legend: HTMLElement;
  private points: SaturationPoint[] = [];

  constructor(parent: HTMLElement, readonly layer: number) {
    this.element = document.createElement('figure');
    this.element.className = 'scatter';
    const title = document.createElement('div');
    title.className = 'scatter-title';
    title.textContent = `Layer ${layer}`;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'scatter-canvas';
    this.canvas.setAttribute('role', 'img');
    this.legend = document.createElement('figcaption');
    this.legend.className = 'scatter-legend';
    this.element.append(title, this.canvas, this.legend);
    parent.append(this.element);
  }

  setPoints(points: SaturationPoint[]): void {
    this.points = points;
    const gates = [...new Set(points.map((p) => p.gate))];
    this.canvas.setAttribute('aria-label', `Gate saturation of layer ${this.layer}: ${gates.map((g) => {
      const ps = points.filter((p) => p.gate === g);
      const mean = (f: (p: SaturationPoint) => number) => (ps.reduce((s, p) => s + f(p), 0) / Math.max(1, ps.length)).toFixed(2);
      return `${g} gate, ${ps.length} units, mean left-saturated ${mean((p) => p.left)}, right-saturated ${mean((p) => p.right)}`;
    }).join('; ')}.`);
    this.draw();
  }

  draw(): void {
    const css = getComputedStyle(document.body);
    const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const fg = v('--vscode-foreground', '#888');
    const muted = v('--vscode-descriptionForeground', fg);
    const bg = v('--vscode-editor-background', v('--vscode-sideBar-background', ''));
    const font = `${v('--vscode-font-size', '12px')} ${v('--vscode-font-family', 'sans-serif')}`;
    const dpr = window.devicePixelRatio || 1;
    const w = SIZE + PAD.left + PAD.right, h = SIZE + PAD.top + PAD.bottom;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = font;
    const X = (x: number) => PAD.left + x * SIZE, Y = (y: number) => PAD.top + (1 - y) * SIZE;
    g.strokeStyle = muted;
    g.globalAlpha = 0.5;
    g.beginPath();
    for (const t of [0.25, 0.5, 0.75]) {
      g.moveTo(X(t), Y(0)); g.lineTo(X(t), Y(1));
      g.moveTo(X(0), Y(t)); g.lineTo(X(1), Y(t));
    }
    // x + y <= 1: the reachable triangle's edge.
    g.moveTo(X(0), Y(1)); g.lineTo(X(1), Y(0));
    g.stroke();
    g.globalAlpha = 1;
    g.strokeStyle = fg;
    g.strokeRect(X(0) + 0.5, Y(1) + 0.5, SIZE, SIZE);
    g.fillStyle = fg;
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const t of [0, 0.5, 1]) g.fillText(String(t), X(t), Y(0) + 3);
    g.fillText('left-saturated (< 0.1)', X(0.5), Y(0) + 17);
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const t of [0, 0.5, 1]) g.fillText(String(t), X(0) - 4, Y(t));
    g.save();
    g.translate(10, Y(0.5));
    g.rotate(-Math.PI / 2);
    g.textAlign = 'center';
    g.fillText('right-saturated (> 0.9)', 0, 0);
    g.restore();

    this.legend.textContent = '';
    const gates = [...new Set(this.points.map((p) => p.gate))];
    for (const gate of gates) {
      const st = GATE_STYLE[gate] ?? { color: fg, shape: 'circle' as Shape, label: gate };
      const color = ensureContrast(st.color, bg, DOT_CONTRAST);
      g.fillStyle = color;
      g.globalAlpha = 0.75;
      for (const p of this.points) if (p.gate === gate) dot(g, st.shape, X(p.left), Y(p.right), 3);
      g.globalAlpha = 1;
      const item = document.createElement('span');
      item.className = 'legend-item';
      const sw = document.createElement('canvas');
      sw.width = 12;
      sw.height = 12;
      sw.className = 'legend-shape';
      sw.setAttribute('aria-hidden', 'true');
      const sg = sw.getContext('2d');
      if (sg) {
        sg.fillStyle = color;
        dot(sg, st.shape, 6, 6, 5);
      }
      item.append(sw, st.label);
      this.legend.append(item);
    }
    if (!gates.length) this.legend.textContent = 'No gates to plot: this layer has none (an RNN) or no tokens were inspected.';
  }
}

function dot(g: CanvasRenderingContext2D, shape: Shape, x: number, y: number, r: number): void {
  g.beginPath();
  if (shape === 'square') g.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
  else if (shape === 'triangle') {
    g.moveTo(x, y - r);
    g.lineTo(x + r, y + r * 0.8);
    g.lineTo(x - r, y + r * 0.8);
    g.closePath();
  } else g.arc(x, y, r, 0, Math.PI * 2);
  g.fill();
}
