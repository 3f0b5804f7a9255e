// The inspector heatmap's pure parts, separate from the canvas so Node tests can check them: row
// orders (unit index, variance, correlation with a chosen unit; statistics in float64), the view
// (cell sizes, scroll, zoom around a point, which tokens and rows are visible, which cell is under a
// point), token labels with visible whitespace, and the cell painter that fills an ImageData buffer
// from the visible cells only (one colour lookup per cell, rows that repeat a unit copied).

export type SortBy = 'index' | 'variance' | 'correlation';

/** Per-unit mean and variance (population) of token-major values [T*H], in float64. */
export function unitStats(values: ArrayLike<number>, T: number, H: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(H), variance = new Float64Array(H);
  if (T === 0) return { mean, variance };
  for (let t = 0; t < T; t++) for (let u = 0, o = t * H; u < H; u++) mean[u] += values[o + u];
  for (let u = 0; u < H; u++) mean[u] /= T;
  for (let t = 0; t < T; t++) {
    for (let u = 0, o = t * H; u < H; u++) {
      const d = values[o + u] - mean[u];
      variance[u] += d * d;
    }
  }
  for (let u = 0; u < H; u++) variance[u] /= T;
  return { mean, variance };
}

/** Pearson r of every unit with unit `ref` over the T tokens (NaN where a unit is constant), float64. */
export function correlationsWith(values: ArrayLike<number>, T: number, H: number, ref: number): Float64Array {
  const { mean, variance } = unitStats(values, T, H);
  const cov = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    const o = t * H;
    const dr = values[o + ref] - mean[ref];
    for (let u = 0; u < H; u++) cov[u] += (values[o + u] - mean[u]) * dr;
  }
  const r = new Float64Array(H);
  for (let u = 0; u < H; u++) {
    const den = Math.sqrt(variance[u] * variance[ref]) * T;
    r[u] = den > 0 ? Math.max(-1, Math.min(1, cov[u] / den)) : NaN;
  }
  return r;
}

/**
 * The order in which units are drawn as rows: by index; by variance, largest first; or by |r| with
 * `ref`, largest first (ref itself first, constant units last). Ties keep the unit index order.
 */
export function rowOrder(values: ArrayLike<number>, T: number, H: number, by: SortBy, ref = 0): Int32Array {
  const order = Int32Array.from({ length: H }, (_, u) => u);
  if (by === 'index' || T === 0) return order;
  let key: Float64Array;
  if (by === 'variance') key = unitStats(values, T, H).variance;
  else {
    const r = correlationsWith(values, T, H, Math.min(H - 1, Math.max(0, ref)));
    key = r.map((x) => (Number.isNaN(x) ? -1 : Math.abs(x)));
    key[Math.min(H - 1, Math.max(0, ref))] = Infinity;
  }
  return order.sort((a, b) => key[b] - key[a] || a - b);
}

// ---------------------------------------------------------------------------------------------
// View: cell sizes and scroll offsets in CSS pixels

export interface Axis {
  /** CSS pixels per cell. */
  cell: number;
  /** CSS pixels scrolled past the first cell. */
  scroll: number;
}

export const MIN_CELL = 0.05;
export const MAX_CELL = 48;

/** The axis with its scroll clamped so the plot never shows past the last cell (or before the first). */
export function clampAxis(a: Axis, count: number, viewPx: number): Axis {
  const cell = Math.min(MAX_CELL, Math.max(MIN_CELL, Number.isFinite(a.cell) ? a.cell : 1));
  const max = Math.max(0, count * cell - viewPx);
  const scroll = Math.min(max, Math.max(0, Number.isFinite(a.scroll) ? a.scroll : 0));
  return { cell, scroll };
}

/** The cells [first, last) at least partly visible. */
export function visibleRange(a: Axis, count: number, viewPx: number): { first: number; last: number } {
  const first = Math.max(0, Math.floor(a.scroll / a.cell));
  const last = Math.min(count, Math.ceil((a.scroll + viewPx) / a.cell));
  return { first, last: Math.max(first, last) };
}

/** Zooms by `factor` keeping the point at `anchorPx` (CSS pixels into the plot) over the same place. */
export function zoomAxis(a: Axis, factor: number, anchorPx: number, count: number, viewPx: number): Axis {
  const cell = Math.min(MAX_CELL, Math.max(MIN_CELL, a.cell * factor));
  const at = (a.scroll + anchorPx) / a.cell; // cell coordinate under the anchor
  return clampAxis({ cell, scroll: at * cell - anchorPx }, count, viewPx);
}

/** Scrolls so cell k is inside the view (with the least movement). */
export function revealCell(a: Axis, k: number, count: number, viewPx: number): Axis {
  let scroll = a.scroll;
  if (k * a.cell < scroll) scroll = k * a.cell;
  else if ((k + 1) * a.cell > scroll + viewPx) scroll = (k + 1) * a.cell - viewPx;
  return clampAxis({ cell: a.cell, scroll }, count, viewPx);
}

/** The cell index at CSS pixel `px` into the plot, or -1 outside the cells. */
export function cellAt(a: Axis, px: number, count: number): number {
  const k = Math.floor((a.scroll + px) / a.cell);
  return k >= 0 && k < count ? k : -1;
}

/** The cell size that fits `count` cells in `viewPx`, within [min, max]. */
export function fitCell(count: number, viewPx: number, min = MIN_CELL, max = MAX_CELL): number {
  return Math.min(max, Math.max(min, count > 0 ? viewPx / count : max));
}

/**
 * For each of `devicePx` device pixels along an axis, the cell at its centre (-1 past the last): the
 * nearest cell when cells are narrower than a pixel.
 */
export function pixelCells(a: Axis, devicePx: number, dpr: number, count: number): Int32Array {
  const out = new Int32Array(devicePx);
  for (let p = 0; p < devicePx; p++) {
    const k = Math.floor((a.scroll + (p + 0.5) / dpr) / a.cell);
    out[p] = k < count ? k : -1;
  }
  return out;
}

/** Columns painted per pass: a block's tokens' values (H floats each, token-major) stay in cache while its rows are filled. */
const PAINT_BLOCK = 64;

/**
 * Paints the plot into a packed RGBA buffer (`dst`, width × height, row-major, as ImageData's Uint32
 * view): pixel (x, y) shows the value of token colTok[x] for unit order[rowOf[y]], coloured through
 * table[index(v)] (nan for NaN), `background` outside the cells. Painted in blocks of columns, so
 * the values read (token-major) stay in cache when many tokens share the width; within a block, a row
 * whose unit repeats the row above is copied and consecutive pixels of one token reuse its colour.
 */
export function paintCells(
  dst: Uint32Array, width: number, height: number,
  colTok: Int32Array, rowOf: Int32Array, order: Int32Array,
  values: ArrayLike<number>, H: number,
  table: Uint32Array, index: (v: number) => number, nan: number, background: number,
): void {
  for (let x0 = 0; x0 < width; x0 += PAINT_BLOCK) {
    const x1 = Math.min(width, x0 + PAINT_BLOCK);
    let prevRow = -2;
    for (let y = 0; y < height; y++) {
      const row = rowOf[y];
      const start = y * width;
      if (row === prevRow) {
        dst.copyWithin(start + x0, start - width + x0, start - width + x1);
        continue;
      }
      prevRow = row;
      if (row < 0) {
        dst.fill(background, start + x0, start + x1);
        continue;
      }
      const u = order[row];
      let lastTok = -2, color = background;
      for (let x = x0; x < x1; x++) {
        const t = colTok[x];
        if (t !== lastTok) {
          lastTok = t;
          if (t < 0) color = background;
          else {
            const k = index(values[t * H + u]);
            color = k < 0 ? nan : table[k];
          }
        }
        dst[start + x] = color;
      }
    }
  }
}

/** A token as a label: space as ·, newline as ⏎, tab as →, carriage return as ␍, other controls as ␣; long ones cut with …. */
export function tokenLabel(text: string, max = 12): string {
  let s = '';
  for (const ch of text) {
    if (ch === ' ') s += '·';
    else if (ch === '\n') s += '⏎';
    else if (ch === '\t') s += '→';
    else if (ch === '\r') s += '␍';
    else if (ch < ' ' || ch === '\u007f') s += '␣';
    else s += ch;
  }
  if (s === '') return '∅';
  const chars = [...s];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : s;
}

/** A token quoted for a details line: visible whitespace inside «». */
export function quoteToken(text: string): string {
  return `«${tokenLabel(text, 40)}»`;
}

/** Every k-th index to label so labels `labelPx` apart fit `cellPx` cells: 1, 2, 5, 10, 20, 50, ... */
export function labelStride(cellPx: number, labelPx: number): number {
  if (cellPx >= labelPx) return 1;
  const need = labelPx / Math.max(cellPx, 1e-9);
  for (let m = 1; ; m *= 10) for (const s of [1, 2, 5]) if (s * m >= need) return s * m;
}
