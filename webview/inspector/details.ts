// The inspector's texts and plain-data views, pure so Node tests can check them: the hover details
// line (token, position, unit, value, surprisal, top-5 next tokens), the numbers as the panel prints
// them (enough digits that a test can compare them with the CLI's to 1e-5), the saturation scatter's
// points, and the test hook's plain-JSON copy of a message (typed arrays as arrays).

import type { InspectResult, QuantityName, SaturationLayer } from '../../kernels/inspect/types';
import { quantityLabel } from '../../kernels/inspect/colorScale';
import { quoteToken } from './heatmapModel';

/** A value as the panel prints it: 6 significant digits (|error| < 1e-5 for |v| < 10), a real minus sign, NaN as "—". */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '—' : v > 0 ? '∞' : '−∞';
  const s = Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-4 && v !== 0) ? v.toExponential(5) : v.toPrecision(6);
  return s.replace(/^-/, '−');
}

/** A probability: 5 decimals. */
export function formatProb(p: number): string {
  return Number.isFinite(p) ? p.toFixed(5) : '—';
}

/** A probability as a percentage with one decimal ("62.0%"), as the details line shows it. */
export function formatPercent(p: number): string {
  return Number.isFinite(p) ? `${(p * 100).toFixed(1)}%` : '—';
}

/** A value for the details line: 3 decimals (the exact value is in the heatmap's data), NaN as "—". */
export function formatShort(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : Number.isNaN(v) ? '—' : v > 0 ? '∞' : '-∞';
}

/** The value of a quantity of a layer at token t, unit u (undefined when the result has no such quantity). */
export function valueAt(r: InspectResult, layer: number, q: QuantityName, t: number, u: number): number | undefined {
  const l = r.layers[layer];
  const k = l ? l.names.indexOf(q) : -1;
  if (k < 0 || t < 0 || t >= r.tokens.length || u < 0 || u >= r.hiddenSize) return undefined;
  return l.values[k][t * r.hiddenSize + u];
}

/** The top-k next tokens after token t with their probabilities, most likely first. */
export function topAt(r: InspectResult, t: number): { token: string; p: number }[] {
  const out: { token: string; p: number }[] = [];
  for (let k = 0; k < r.topK; k++) out.push({ token: r.topTokens[t * r.topK + k] ?? '', p: r.topProbs[t * r.topK + k] });
  return out;
}

/**
 * The hover details line: "Token 42 «foo» at offset 1,234 · layer 1 h unit 87 = 0.531 · surprisal 3.214 bits ·
 * next: «a» 31.2%, …". `offsetBase` is the inspected text's offset in its document.
 */
export function hoverDetails(r: InspectResult, layer: number, q: QuantityName, t: number, u: number, offsetBase = 0): string {
  if (t < 0 || t >= r.tokens.length) return '';
  const v = valueAt(r, layer, q, t, u);
  const s = r.surprisal[t];
  const parts = [
    `Token ${t.toLocaleString('en-US')} ${quoteToken(r.tokens[t])} at offset ${(offsetBase + r.offsets[t]).toLocaleString('en-US')}`,
    `layer ${layer} ${q} unit ${u} = ${v === undefined ? '—' : formatShort(v)}`,
    `surprisal ${Number.isFinite(s) ? `${s.toFixed(3)} bits` : '— (nothing before it)'}`,
  ];
  const top = topAt(r, t);
  if (top.length) parts.push(`next: ${top.map((x) => `${quoteToken(x.token)} ${formatPercent(x.p)}`).join(', ')}`);
  return parts.join(' · ');
}

/** One dot of the gate saturation scatter. */
export interface SaturationPoint {
  source: 'text' | 'corpus';
  layer: number;
  gate: QuantityName;
  unit: number;
  left: number;
  right: number;
}

/** The scatter's dots (NaN shares, from no tokens, left out). */
export function saturationPoints(layers: readonly SaturationLayer[], source: 'text' | 'corpus'): SaturationPoint[] {
  const out: SaturationPoint[] = [];
  for (const l of layers) {
    for (const g of l.gates) {
      for (let u = 0; u < g.left.length; u++) {
        if (Number.isFinite(g.left[u]) && Number.isFinite(g.right[u])) out.push({ source, layer: l.layer, gate: g.name, unit: u, left: g.left[u], right: g.right[u] });
      }
    }
  }
  return out;
}

/** A quantity's name for a selector: "h, hidden state". */
export function quantityOption(q: QuantityName): string {
  return quantityLabel(q);
}

/** A copy that JSON (and page.evaluate) can carry: typed arrays as plain arrays, everything else as is. */
export function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}
