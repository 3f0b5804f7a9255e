// Unit search, LSTMVis's "select": given one quantity of one layer over an inspected text, a token range
// and a threshold, the units that are on (value >= threshold) across the range and off just around it,
// best first. The inspector lists them and shows them as a filtered heatmap; their on/off pattern is
// what `matchUnits` (match.ts) then looks for across the corpus. Pure; no model needed.
//
// The rule, for a range [start, end) of the T tokens and `margin` tokens around it (the `margin` tokens
// before `start` and after `end`, clipped at the text's ends):
//   fracIn(u)  = share of the range's tokens where u >= threshold
//   fracOut(u) = share of the around tokens where u >= threshold (0 when there are none)
//   u is listed when fracIn(u) >= onFraction and fracOut(u) <= 1 - onFraction
//   (onFraction 1, the default: on at every token of the range and off at every token around it).
// Listed units are ranked by score = fracIn - fracOut (highest first), then by the mean margin
// meanIn - meanOut (the mean value in the range minus the mean value around it; meanIn alone when there
// is nothing around), then by unit index.
// Edge cases: an empty range (start === end) lists no unit, since nothing can be on across it; a range
// with nothing around it (the whole text, or margin 0) has no "off around" to check, so the units on
// across the range are listed, with meanOut NaN.

import { check } from '../errors';
import { UnitSearchResult } from './types';

export interface UnitSearchOptions {
  /** Tokens before and after the range that must be off (default 3). */
  margin?: number;
  /** At most this many units, best first (default: all that qualify). */
  max?: number;
  /** Share of the range's tokens a unit must be on at, and of the tokens around it it must be off at (default 1: all; over 0.5). */
  onFraction?: number;
}

export const DEFAULT_SEARCH_MARGIN = 3;

/** The units on across [start, end) and off around it, best first: see the header for the rule. */
export function searchUnits(values: Float32Array, T: number, H: number, start: number, end: number, threshold: number, opts: UnitSearchOptions = {}): UnitSearchResult['units'] {
  const margin = opts.margin ?? DEFAULT_SEARCH_MARGIN;
  const onFraction = opts.onFraction ?? 1;
  const max = opts.max ?? H;
  check(Number.isInteger(T) && T >= 0 && Number.isInteger(H) && H >= 1, `unit search needs a whole number of tokens and at least one unit, got T=${T}, H=${H}`);
  check(values.length === T * H, `unit search: expected ${T * H} values for ${T} tokens × ${H} units, got ${values.length}`);
  check(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= T,
    `unit search: the token range must satisfy 0 <= start <= end <= ${T} with whole numbers, got [${start}, ${end})`);
  check(Number.isFinite(threshold), `unit search: the threshold must be a finite number, got ${threshold}`);
  check(Number.isInteger(margin) && margin >= 0, `unit search: the margin must be a whole number of tokens, 0 or more, got ${margin}`);
  check(Number.isInteger(max) && max >= 0, `unit search: max must be a whole number, 0 or more, got ${max}`);
  check(onFraction > 0.5 && onFraction <= 1, `unit search: onFraction must be over 0.5 and at most 1, got ${onFraction}`);
  if (start === end) return [];

  const before0 = Math.max(0, start - margin);
  const after1 = Math.min(T, end + margin);
  const nIn = end - start;
  const nOut = start - before0 + (after1 - end);
  const onIn = new Int32Array(H), onOut = new Int32Array(H);
  const sumIn = new Float64Array(H), sumOut = new Float64Array(H);
  const count = (t0: number, t1: number, on: Int32Array, sum: Float64Array) => {
    for (let t = t0; t < t1; t++) {
      const row = t * H;
      for (let u = 0; u < H; u++) {
        const v = values[row + u];
        sum[u] += v;
        if (v >= threshold) on[u]++;
      }
    }
  };
  count(start, end, onIn, sumIn);
  count(before0, start, onOut, sumOut);
  count(end, after1, onOut, sumOut);

  // Compared as counts, so that onFraction 1 means exactly "every token" with no rounding.
  const needIn = Math.ceil(onFraction * nIn - 1e-9);
  const allowOut = Math.floor((1 - onFraction) * nOut + 1e-9);
  const found: (UnitSearchResult['units'][number] & { marginMean: number })[] = [];
  for (let u = 0; u < H; u++) {
    if (onIn[u] < needIn || onOut[u] > allowOut) continue;
    const meanIn = sumIn[u] / nIn;
    const meanOut = nOut ? sumOut[u] / nOut : NaN;
    const score = onIn[u] / nIn - (nOut ? onOut[u] / nOut : 0);
    found.push({ unit: u, score, meanIn, meanOut, marginMean: nOut ? meanIn - meanOut : meanIn });
  }
  found.sort((a, b) => b.score - a.score || b.marginMean - a.marginMean || a.unit - b.unit);
  return found.slice(0, max).map(({ unit, score, meanIn, meanOut }) => ({ unit, score, meanIn, meanOut }));
}
