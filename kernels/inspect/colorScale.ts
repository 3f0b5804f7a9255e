// The inspector's colour scales, one definition for the webview's heatmaps and the extension's editor
// decorations, so a unit looks the same in both. The colours come from d3-scale-chromatic (the d3
// project's perceptually uniform, colour-blind-safe schemes), not hand-made ramps:
//  - diverging, symmetric around 0 (blue negative, near-white 0, red positive: ColorBrewer RdBu
//    reversed) for h, c, 'pre' and the tanh-activated gate candidates g (LSTM) and n (GRU);
//  - sequential (viridis: dark purple 0 to yellow 1) for the sigmoid gates i f o (LSTM), r z (GRU),
//    and for probabilities and surprisal.
// h and the candidates are tanh outputs, so their range is -1..1 exactly; c and 'pre' are unbounded and
// are clipped at the 99th percentile of |value| over the inspected text (a few outliers would otherwise
// wash everything else out), which the legend says. Each scheme is sampled once into a table (257
// diverging steps, so 0 falls exactly on the middle; 256 sequential), which keeps a colour lookup a
// multiply and an index: the heatmap paints millions of cells from the same packed table (rgbaTable).

import { interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';
import type { QuantityName } from './types';

export type Rgb = [number, number, number];

/** Percentile at which c and 'pre' are clipped (of |value| over the inspected text). */
export const CLIP_PERCENTILE = 99;

/** Diverging table size: odd, so index DIVERGING_MID is exactly 0. */
const DIVERGING_STEPS = 257;
const DIVERGING_MID = (DIVERGING_STEPS - 1) / 2;
const SEQUENTIAL_STEPS = 256;
/** What NaN (no value: the first token's surprisal, the last token's next-token probability) is drawn in. */
export const NAN_RGB: Rgb = [128, 128, 128];

/** Parses d3's colour strings: "rgb(r, g, b)" or "#rrggbb". */
function parseD3(text: string): Rgb {
  const m = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(text);
  if (m) return [+m[1], +m[2], +m[3]];
  const h = /^#([0-9a-f]{6})$/i.exec(text);
  if (h) return [parseInt(h[1].slice(0, 2), 16), parseInt(h[1].slice(2, 4), 16), parseInt(h[1].slice(4, 6), 16)];
  throw new Error(`unexpected colour from d3-scale-chromatic: ${text}`);
}

function table(steps: number, f: (t: number) => string): Rgb[] {
  return Array.from({ length: steps }, (_, k) => parseD3(f(k / (steps - 1))));
}

/** RdBu reversed: index 0 is the most negative (blue), the last the most positive (red). */
const DIVERGING: Rgb[] = table(DIVERGING_STEPS, (t) => interpolateRdBu(1 - t));
const SEQUENTIAL: Rgb[] = table(SEQUENTIAL_STEPS, interpolateViridis);

/** The diverging table index of v on [-clip, clip]; symmetric: index(-v) = last - index(v). */
export function divergingIndex(v: number, clip: number): number {
  if (Number.isNaN(v)) return -1;
  const t = clip > 0 ? Math.min(1, Math.abs(v) / clip) : v === 0 ? 0 : 1;
  const k = Math.round(t * DIVERGING_MID);
  return v < 0 ? DIVERGING_MID - k : DIVERGING_MID + k;
}

/** The sequential table index of v on [0, 1] (clamped). */
export function sequentialIndex(v01: number): number {
  if (Number.isNaN(v01)) return -1;
  return Math.round(Math.min(1, Math.max(0, v01)) * (SEQUENTIAL_STEPS - 1));
}

/** Colour of v on a diverging scale over [-clip, clip] (values beyond are clipped); NaN is grey. */
export function divergingRgb(v: number, clip: number): Rgb {
  const k = divergingIndex(v, clip);
  return k < 0 ? [...NAN_RGB] : [...DIVERGING[k]];
}

/** Colour of v on the sequential scale over [0, 1] (values beyond are clamped); NaN is grey. */
export function sequentialRgb(v01: number): Rgb {
  const k = sequentialIndex(v01);
  return k < 0 ? [...NAN_RGB] : [...SEQUENTIAL[k]];
}

/** A CSS colour: rgb(r, g, b), or rgba(...) with alpha. */
export function unitCss(rgb: readonly number[], alpha?: number): string {
  const [r, g, b] = rgb.map((c) => Math.round(Math.min(255, Math.max(0, c))));
  return alpha === undefined || alpha >= 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${Math.max(0, alpha)})`;
}

/**
 * The p-th percentile (0..100, nearest rank: the ceil(p/100 * n)-th smallest) of |v| over the finite
 * values; 0 when there are none. Linear time (quickselect on a copy), for the 2 million values of a
 * 512 × 4,000 heatmap.
 */
export function percentileAbs(values: ArrayLike<number>, p: number): number {
  const a = new Float32Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) a[n++] = Math.abs(v);
  }
  return n ? selectKth(a, n, Math.max(0, Math.ceil((p / 100) * n) - 1)) : 0;
}

/** The p-th percentile (nearest rank) of the finite values; 0 when there are none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const a = new Float32Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) a[n++] = values[i];
  return n ? selectKth(a, n, Math.max(0, Math.ceil((p / 100) * n) - 1)) : 0;
}

/** The k-th smallest of a[0..n) (k from 0), reordering a: Hoare quickselect with a median-of-three pivot. */
function selectKth(a: Float32Array, n: number, k: number): number {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as the pivot value.
    let x = a[lo], y = a[mid], z = a[hi];
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++; j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

const QUANTITY_LABEL: Record<QuantityName, string> = {
  h: 'h, hidden state',
  c: 'c, cell state',
  i: 'i, input gate',
  f: 'f, forget gate',
  g: 'g, cell candidate',
  o: 'o, output gate',
  r: 'r, reset gate',
  z: 'z, update gate',
  n: 'n, new-state candidate',
  pre: 'pre-activation',
};

/** The heatmap name of a quantity ("c, cell state"). */
export function quantityLabel(q: QuantityName): string {
  return QUANTITY_LABEL[q];
}

/** Whether a quantity is drawn on the diverging scale (signed) or the sequential one (a sigmoid gate, 0..1). */
export function isDiverging(q: QuantityName): boolean {
  return q === 'h' || q === 'c' || q === 'pre' || q === 'g' || q === 'n';
}

export interface ColorScale {
  kind: 'diverging' | 'sequential';
  /** Diverging: the scale spans [-clip, clip]; sequential: [0, clip] (1 for gates). */
  clip: number;
  /** The percentile of |value| the clip was taken at, or null when the range is the quantity's own (-1..1, 0..1). */
  percentile: number | null;
  rgb(v: number): Rgb;
  /** Says the range and, when clipped, where ("c, cell state: −2.41 to +2.41 (clipped at the 99th percentile of |c|); blue negative, red positive"). */
  legend: string;
}

/** Number for a legend: 3 significant digits, a real minus sign. */
export function formatLegendNumber(v: number): string {
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
  return s.replace('-', '−');
}

/**
 * The scale for one quantity's values over the inspected text: h, g, n on [-1, 1]; c and pre on
 * [-p99, p99] of |value| (a positive clip even for all-zero values); i f o r z on [0, 1].
 */
export function scaleFor(quantity: QuantityName, values: ArrayLike<number>): ColorScale {
  const name = QUANTITY_LABEL[quantity];
  if (!isDiverging(quantity)) {
    return { kind: 'sequential', clip: 1, percentile: null, rgb: sequentialRgb, legend: `${name}: 0 to 1; dark purple 0, yellow 1` };
  }
  const clipped = quantity === 'c' || quantity === 'pre';
  let clip = 1;
  if (clipped) {
    const p = percentileAbs(values, CLIP_PERCENTILE);
    clip = p > 0 ? p : 1;
  }
  const range = `${formatLegendNumber(-clip)} to +${formatLegendNumber(clip)}`;
  const note = clipped ? ` (clipped at the ${CLIP_PERCENTILE}th percentile of |${quantity}|)` : '';
  return {
    kind: 'diverging',
    clip,
    percentile: clipped ? CLIP_PERCENTILE : null,
    rgb: (v) => divergingRgb(v, clip),
    legend: `${name}: ${range}${note}; blue negative, white 0, red positive`,
  };
}

/** A sequential scale over [0, clip] for a non-negative measure (surprisal in bits: clip at its 99th percentile). */
export function sequentialScaleFor(label: string, values: ArrayLike<number>, unit: string): ColorScale {
  const p = percentile(values, CLIP_PERCENTILE);
  const clip = p > 0 ? p : 1;
  return {
    kind: 'sequential',
    clip,
    percentile: CLIP_PERCENTILE,
    rgb: (v) => sequentialRgb(v / clip),
    legend: `${label}: 0 to ${formatLegendNumber(clip)} ${unit} (clipped at the ${CLIP_PERCENTILE}th percentile); dark purple low, yellow high`,
  };
}

/**
 * The scale as a packed RGBA table for canvas ImageData (little-endian Uint32: 0xAABBGGRR) and the
 * function from a value to its index; index -1 (NaN) maps to `nan`. The heatmap's inner loop is
 * table[index(v)].
 */
export function rgbaTable(scale: ColorScale): { table: Uint32Array; index: (v: number) => number; nan: number } {
  const pack = ([r, g, b]: readonly number[]) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  const src = scale.kind === 'diverging' ? DIVERGING : SEQUENTIAL;
  const table = new Uint32Array(src.length);
  src.forEach((c, k) => (table[k] = pack(c)));
  const clip = scale.clip;
  const index = scale.kind === 'diverging' ? (v: number) => divergingIndex(v, clip) : (v: number) => sequentialIndex(v / clip);
  return { table, index, nan: pack(NAN_RGB) };
}

/** n evenly spaced colours of a scale from its low end to its high end (for a legend's gradient). */
export function scaleStops(scale: ColorScale, n: number): Rgb[] {
  const lo = scale.kind === 'diverging' ? -scale.clip : 0;
  return Array.from({ length: n }, (_, k) => scale.rgb(lo + ((scale.clip - lo) * k) / Math.max(1, n - 1)));
}

/**
 * Black or white, whichever has more contrast on `rgb` (WCAG relative luminance): for any background one
 * of them reaches at least 4.58:1, so text on a coloured cell (a sampled token, a decoration) stays
 * readable.
 */
export function readableTextOn(rgb: readonly number[]): '#000000' | '#ffffff' {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const L = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
  return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? '#000000' : '#ffffff';
}
