// The statistics of the interleaved rounds (bench/main.ts): no Node-only imports, so tests load it.

/** The median of a non-empty list (the mean of the middle two for an even length). */
export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/**
 * base ÷ other from interleaved rounds: the median of the per-round ratios when both ran in every round
 * (a round's two figures were measured seconds apart, so a slow minute of the shared VM divides out,
 * where the ratio of the two medians can pair one system's fast round with the other's slow one), else
 * the ratio of the medians (a system measured in the first round only).
 */
export function ratioOf(base: number[], other: number[]): number {
  if (base.length === other.length && base.length > 1) return median(base.map((b, i) => b / other[i]));
  return median(base) / median(other);
}
