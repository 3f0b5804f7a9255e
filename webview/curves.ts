// The dashboard's loss curves as data: training bits/char (from 'progress' reports) and validation
// bits/char (from 'eval' reports and the panel state's history), capped and thinned evenly so the
// webview state stays small, plus the axis arithmetic the chart uses (nice ticks, labels). DOM-free,
// so plain-Node tests can exercise it.

import type { HistoryPoint } from '../kernels/checkpoint';
import { RUNNING_MEAN_STEPS } from '../kernels/train';
import type { DisplayReport, PanelState } from './protocol';

export interface CurvePoint {
  step: number;
  /** Wall-clock time in seconds since the epoch (absent in old history points). */
  time?: number;
  /** Bits per character. */
  bpc: number;
}

/** Most points kept per series (in memory and in the webview state). */
export const MAX_CURVE_POINTS = 5000;

/** Evenly spaced subset of at most `max` points that keeps the first and the last. */
export function thinEvenly<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return points.slice();
  if (max <= 1) return points.length ? [points[points.length - 1]] : [];
  const out: T[] = [];
  const stride = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * stride)]);
  return out;
}

function validPoint(p: unknown): CurvePoint | null {
  if (typeof p !== 'object' || p === null) return null;
  const { step, time, bpc } = p as Record<string, unknown>;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return null;
  if (typeof bpc !== 'number' || !Number.isFinite(bpc)) return null;
  const out: CurvePoint = { step, bpc };
  if (typeof time === 'number' && Number.isFinite(time)) out.time = time;
  return out;
}

export interface CurvesJSON {
  train: CurvePoint[];
  val: CurvePoint[];
  lastRunId: number;
}

export class Curves {
  train: CurvePoint[] = [];
  /** Validation points that came from eval reports after the last state's history. */
  private evals: CurvePoint[] = [];
  private history: CurvePoint[] = [];
  private lastRunId = -1;
  /**
   * The training curve's last point before a Resume: the trainer's running mean restarts with the
   * run, so its first reports are blended with this one until they cover a whole window.
   */
  private carry: CurvePoint | null = null;
  /** Bumped on every change (the chart and the saved state compare it). */
  version = 0;

  constructor(readonly max = MAX_CURVE_POINTS) {}

  /** Validation series: the state's history followed by later eval reports. */
  get val(): CurvePoint[] {
    if (!this.evals.length) return this.history;
    const last = this.history.length ? this.history[this.history.length - 1].step : -1;
    const later = this.evals.filter((p) => p.step > last);
    return later.length ? thinEvenly(this.history.concat(later), this.max) : this.history;
  }

  /** Latest point of each series (for labels). */
  latest(): { train: CurvePoint | null; val: CurvePoint | null } {
    const v = this.val;
    return { train: this.train[this.train.length - 1] ?? null, val: v[v.length - 1] ?? null };
  }

  /** Applies a report; returns true when the curves changed. Stale runs are ignored. */
  report(r: DisplayReport): boolean {
    if (r.runId < this.lastRunId) return false;
    this.lastRunId = r.runId;
    switch (r.kind) {
      case 'started':
        // A fresh model starts new curves; a resumed one drops what came after its checkpoint.
        if (!r.resumed) this.clear();
        else this.truncate(r.step);
        this.carry = r.resumed ? this.train[this.train.length - 1] ?? null : null;
        this.version++;
        return true;
      case 'progress':
        if (!Number.isFinite(r.bitsPerChar)) return false;
        push(this.train, { step: r.step, time: finite(r.time), bpc: this.continued(r.step, r.bitsPerChar) }, this.max);
        this.version++;
        return true;
      case 'eval':
        if (!Number.isFinite(r.bitsPerChar)) return false;
        push(this.evals, { step: r.step, time: finite(r.time), bpc: r.bitsPerChar }, this.max);
        this.version++;
        return true;
      default:
        return false;
    }
  }

  /**
   * A resumed run's running mean as if it had not restarted: the new steps' mean stands for the steps
   * since the Resume, the last point before it for the rest of the window.
   */
  private continued(step: number, bpc: number): number {
    const c = this.carry;
    if (!c) return bpc;
    const fresh = step - c.step;
    if (fresh >= RUNNING_MEAN_STEPS || fresh < 0) {
      this.carry = null;
      return bpc;
    }
    return (fresh * bpc + (RUNNING_MEAN_STEPS - fresh) * c.bpc) / RUNNING_MEAN_STEPS;
  }

  /**
   * Takes the validation curve from the state's history; a state with no model, no steps and no
   * history (after a reset) clears everything. The training curve is otherwise left alone: the
   * state's step may lag behind the progress reports (it moves at checkpoints), and a resumed run
   * trims it itself ('started').
   */
  applyState(state: PanelState): void {
    if (state.step === 0 && state.history.length === 0 && state.model === null) this.clear();
    else this.setHistory(state.history);
    this.version++;
  }

  private setHistory(history: readonly HistoryPoint[]): void {
    const pts: CurvePoint[] = [];
    for (const h of history) {
      if (h.valBpc === undefined || !Number.isFinite(h.valBpc)) continue;
      const p: CurvePoint = { step: h.step, bpc: h.valBpc };
      if (h.time !== undefined && Number.isFinite(h.time)) p.time = h.time;
      pts.push(p);
    }
    pts.sort((a, b) => a.step - b.step);
    this.history = thinEvenly(pts, this.max);
    const last = this.history.length ? this.history[this.history.length - 1].step : -1;
    this.evals = this.evals.filter((p) => p.step > last);
  }

  clear(): void {
    this.carry = null;
    this.train = [];
    this.evals = [];
    this.history = [];
    this.version++;
  }

  private truncate(step: number): void {
    this.train = this.train.filter((p) => p.step <= step);
    this.evals = this.evals.filter((p) => p.step <= step);
    this.history = this.history.filter((p) => p.step <= step);
  }

  toJSON(): CurvesJSON {
    return { train: this.train, val: this.val, lastRunId: this.lastRunId };
  }

  /** Restores saved curves; anything malformed is skipped. */
  restore(saved: unknown): void {
    if (typeof saved !== 'object' || saved === null) return;
    const s = saved as Record<string, unknown>;
    const list = (v: unknown) => (Array.isArray(v) ? thinEvenly(v.map(validPoint).filter((p): p is CurvePoint => p !== null), this.max) : []);
    this.train = list(s.train);
    this.history = list(s.val);
    this.evals = [];
    if (typeof s.lastRunId === 'number' && Number.isInteger(s.lastRunId)) this.lastRunId = s.lastRunId;
    this.version++;
  }
}

function finite(v: number): number | undefined {
  return Number.isFinite(v) ? v : undefined;
}

/** Appends in step order (a point at or before the last replaces the tail) and halves past `max`. */
function push(list: CurvePoint[], p: CurvePoint, max: number): void {
  while (list.length && list[list.length - 1].step >= p.step) list.pop();
  list.push(p);
  if (list.length > max) {
    // Keep every other point (and the newest): evenly spaced, and each point survives several appends.
    const kept = list.filter((_, i) => i % 2 === 0 || i === list.length - 1);
    list.length = 0;
    list.push(...kept);
  }
}

// ---------------------------------------------------------------------------------------------
// Axis arithmetic

/** About `target` round tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, target = 5): { ticks: number[]; lo: number; hi: number; step: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { ticks: [0, 1], lo: 0, hi: 1, step: 1 };
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = start, i = 0; v <= end + step * 1e-9 && i < 100; v = start + ++i * step) ticks.push(roundTo(v, step));
  return { ticks, lo: start, hi: end, step };
}

/** Round tick values in seconds (s, min, h) covering [lo, hi]. */
export function timeTicks(lo: number, hi: number, target = 5): { ticks: number[]; lo: number; hi: number; step: number } {
  const span = Math.max(1e-9, hi - lo);
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400];
  const step = steps.find((s) => span / s <= target) ?? niceTicks(lo / 86400, hi / 86400, target).step * 86400;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = start, i = 0; v <= end + 1e-9 && i < 100; v = start + ++i * step) ticks.push(v);
  return { ticks, lo: start, hi: end === start ? start + step : end, step };
}

function roundTo(v: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(20, digits)));
}

/** Labels for a set of ticks, in one unit for all of them: 12, 1.5k, 2M; as many decimals as the step needs. */
export function tickFormatter(ticks: readonly number[], step: number): (v: number) => string {
  const maxAbs = ticks.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const [scale, suffix] = maxAbs >= 1e6 ? [1e6, 'M'] : maxAbs >= 1e4 ? [1e3, 'k'] : [1, ''];
  const s = step / scale;
  const decimals = s >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(s) - 1e-9));
  return (v) => (v === 0 ? '0' : `${(v / scale).toFixed(decimals)}${suffix}`);
}
