// The inspector's UI state and message bookkeeping, pure so Node tests can check them: what survives
// hide/show (vscode.setState: the chosen layer and quantity, row sort, zoom, threshold, the sampling
// form; never the inspection itself, which the host sends again on 'inspector.ready'), read back
// defensively (an old or damaged state falls back to the defaults field by field); which layer and
// quantity to show for a result; and the drop log that reports malformed messages once.

import { QUANTITY_NAMES, type QuantityName } from '../../kernels/inspect/types';
import { isDiverging } from '../../kernels/inspect/colorScale';
import type { SortBy } from './heatmapModel';

export interface InspectorUiState {
  v: 1;
  layer: number;
  quantity: QuantityName;
  /** One heatmap (the chosen layer and quantity) or all of them stacked (every layer × quantity, linked along the tokens). */
  layout: 'one' | 'all';
  sort: SortBy;
  /** The unit the 'correlation' sort compares with. */
  sortUnit: number;
  /** CSS pixels per token and per unit (null: fit on the first result). */
  cellW: number | null;
  cellH: number | null;
  /** Unit search threshold, per kind of scale (signed quantities and 0..1 gates differ). */
  threshold: { diverging: number; sequential: number };
  prompt: string;
  temperature: number;
  length: number;
}

export const DEFAULT_UI_STATE: InspectorUiState = {
  v: 1,
  layer: 0,
  quantity: 'h',
  layout: 'one',
  sort: 'index',
  sortUnit: 0,
  cellW: null,
  cellH: null,
  threshold: { diverging: 0.3, sequential: 0.5 },
  prompt: '',
  temperature: 0.8,
  length: 200,
};

const num = (v: unknown, lo: number, hi: number, fallback: number, integer = false): number =>
  typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi && (!integer || Number.isInteger(v)) ? v : fallback;

/** A saved state read back: every field checked, defaults for what is missing or wrong. */
export function restoreUiState(saved: unknown): InspectorUiState {
  const d = DEFAULT_UI_STATE;
  if (typeof saved !== 'object' || saved === null || (saved as { v?: unknown }).v !== 1) return { ...d, threshold: { ...d.threshold } };
  const s = saved as Record<string, unknown>;
  const th = (typeof s.threshold === 'object' && s.threshold !== null ? s.threshold : {}) as Record<string, unknown>;
  const cell = (v: unknown) => (v === null ? null : num(v, 0.05, 48, NaN) || null);
  return {
    v: 1,
    layer: num(s.layer, 0, 63, d.layer, true),
    quantity: QUANTITY_NAMES.includes(s.quantity as QuantityName) ? (s.quantity as QuantityName) : d.quantity,
    layout: s.layout === 'all' ? 'all' : 'one',
    sort: s.sort === 'variance' || s.sort === 'correlation' || s.sort === 'index' ? s.sort : d.sort,
    sortUnit: num(s.sortUnit, 0, 1 << 16, d.sortUnit, true),
    cellW: cell(s.cellW),
    cellH: cell(s.cellH),
    threshold: { diverging: num(th.diverging, -1e6, 1e6, d.threshold.diverging), sequential: num(th.sequential, -1e6, 1e6, d.threshold.sequential) },
    prompt: typeof s.prompt === 'string' && s.prompt.length <= 10_000 ? s.prompt : d.prompt,
    temperature: num(s.temperature, 0, 10, d.temperature),
    length: num(s.length, 1, 10_000, d.length, true),
  };
}

/** The threshold the unit search uses for a quantity. */
export function thresholdFor(state: InspectorUiState, q: QuantityName): number {
  return isDiverging(q) ? state.threshold.diverging : state.threshold.sequential;
}

/** The state with the threshold for q's kind of scale set to x. */
export function withThreshold(state: InspectorUiState, q: QuantityName, x: number): InspectorUiState {
  const key = isDiverging(q) ? 'diverging' : 'sequential';
  return { ...state, threshold: { ...state.threshold, [key]: x } };
}

/**
 * The layer and quantity to show from a result's layers: the chosen ones when the result has them,
 * else the same quantity in layer 0, else layer 0's first (h).
 */
export function pickShown(layers: readonly { names: readonly QuantityName[] }[], layer: number, quantity: QuantityName): { layer: number; quantity: QuantityName } | null {
  if (!layers.length) return null;
  const l = layer < layers.length ? layer : 0;
  if (layers[l].names.includes(quantity)) return { layer: l, quantity };
  if (layers[0].names.includes(quantity)) return { layer: 0, quantity };
  return layers[l].names.length ? { layer: l, quantity: layers[l].names[0] } : null;
}

/**
 * Malformed messages are dropped; the first of each message type (and the first with no type) is
 * logged, the rest only counted, so 1,000 bad messages make a handful of log lines, not 1,000.
 */
export class DropLog {
  dropped = 0;
  private readonly seen = new Set<string>();
  private static readonly MAX_KINDS = 32;

  /** Counts a dropped message; returns the line to log, or null when this kind was logged already. */
  drop(message: unknown, error: unknown): string | null {
    this.dropped++;
    const t = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
    const kind = typeof t === 'string' ? t.slice(0, 64) : `(${message === null ? 'null' : typeof message})`;
    if (this.seen.has(kind) || this.seen.size >= DropLog.MAX_KINDS) return null;
    this.seen.add(kind);
    const why = error instanceof Error ? error.message : String(error);
    return `Inspector dropped a malformed ${kind} message: ${why.slice(0, 500)} (further ones of this kind are dropped without a log line).`;
  }
}

/**
 * The i-th of a cycle of malformed inspector messages from the webview (the test hook posts 1,000 to
 * check the extension drops them): each new message type with a field of the wrong type, out of range
 * or missing. test/inspectorView.test.ts checks that parseFromWebview rejects every one.
 */
export function malformedFromWebview(i: number): Record<string, unknown> {
  const cases: Record<string, unknown>[] = [
    { type: 'inspector.ready', version: 'one' },
    { type: 'inspector.ready' },
    { type: 'inspector.colorEditor', unit: { layer: -1, quantity: 'h', unit: 0 } },
    { type: 'inspector.colorEditor', unit: { layer: 0, quantity: 'x', unit: 0 } },
    { type: 'inspector.colorEditor' },
    { type: 'inspector.match', searchId: -1, layer: 0, quantity: 'h', units: [1], threshold: 0.5, length: 3 },
    { type: 'inspector.match', searchId: 1, layer: 0, quantity: 'h', units: 'all', threshold: 0.5, length: 3 },
    { type: 'inspector.match', searchId: 1, layer: 0, quantity: 'h', units: [1], threshold: NaN, length: 3 },
    { type: 'inspector.match', searchId: 1, layer: 0, quantity: 'h', units: [1], threshold: 0.5, length: 0 },
    { type: 'inspector.cancelMatch', searchId: 'x' },
    { type: 'inspector.openMatch', searchId: 1, index: 50 },
    { type: 'inspector.openMatch', searchId: 1, index: 1.5 },
    { type: 'inspector.sample', requestId: 1, prompt: 3, temperature: 1, length: 10 },
    { type: 'inspector.sample', requestId: 1, prompt: 'a', temperature: -1, length: 10 },
    { type: 'inspector.sample', requestId: 1, prompt: 'a', temperature: 1, length: 1e9 },
    { type: 'inspector.corpusSaturation', requestId: null },
    { type: 'inspector.corpusSaturation' },
  ];
  return cases[((i % cases.length) + cases.length) % cases.length];
}
