// Colouring the editor by one unit: which colour each token of the visible range gets. VS Code needs one
// TextEditorDecorationType per background colour, so values are quantised into a fixed number of
// buckets over the colour scale's domain (the panel's scale, kernels/inspect/colorScale.ts: symmetric
// [-clip, clip] for the signed quantities, [0, clip] = [0, 1] for the sigmoid gates), each bucket drawn in the colour of its
// centre. An odd bucket count gives the diverging scale a neutral middle bucket that holds 0. Pure: no
// vscode or Node imports, so it is tested in plain Node (test/decorationBuckets.test.ts).

/** Buckets per scale: enough that neighbouring colours are hard to tell apart, few enough to keep as decoration types. */
export const BUCKETS = 25;

export interface BucketScale {
  kind: 'diverging' | 'sequential';
  /** Diverging: the domain is [-clip, clip]; sequential: [0, clip]. Values beyond take the end colours. */
  clip: number;
}

/** The scale's domain [lo, hi]. */
export function domainOf(scale: BucketScale): [number, number] {
  const c = scale.clip > 0 && Number.isFinite(scale.clip) ? scale.clip : 1;
  return scale.kind === 'sequential' ? [0, c] : [-c, c];
}

/** The bucket of value v: 0 .. n-1, values outside the domain in the end buckets; NaN is -1 (no colour). */
export function bucketIndex(v: number, scale: BucketScale, n = BUCKETS): number {
  if (Number.isNaN(v)) return -1;
  const [lo, hi] = domainOf(scale);
  const b = Math.floor(((v - lo) / (hi - lo)) * n);
  return b < 0 ? 0 : b >= n ? n - 1 : b;
}

/** The value at the centre of bucket b (its colour is the scale's colour there). */
export function bucketCentre(b: number, scale: BucketScale, n = BUCKETS): number {
  const [lo, hi] = domainOf(scale);
  return lo + ((b + 0.5) / n) * (hi - lo);
}

/** One token to colour: its range as UTF-16 offsets in the document and its value. */
export interface ColouredToken {
  start: number;
  end: number;
  value: number;
  bucket: number;
}

/**
 * The tokens of a window that overlap the visible range [visibleStart, visibleEnd), with their buckets.
 * `offsets` are the window's token boundaries ([T+1], relative to the window), `windowStart` the
 * window's offset in the document, `values` the unit's value at each token ([T]). Empty tokens and
 * NaN values are left out.
 */
export function colourTokens(
  offsets: ArrayLike<number>, windowStart: number, values: ArrayLike<number>, scale: BucketScale,
  visibleStart: number, visibleEnd: number, n = BUCKETS,
): ColouredToken[] {
  const out: ColouredToken[] = [];
  const T = values.length;
  for (let t = 0; t < T; t++) {
    const start = windowStart + offsets[t], end = windowStart + offsets[t + 1];
    if (end <= start || end <= visibleStart || start >= visibleEnd) continue;
    const bucket = bucketIndex(values[t], scale, n);
    if (bucket < 0) continue;
    out.push({ start, end, value: values[t], bucket });
  }
  return out;
}

/** Groups coloured tokens by bucket (one decoration type each), buckets in increasing order. */
export function groupByBucket(tokens: readonly ColouredToken[]): Map<number, ColouredToken[]> {
  const groups = new Map<number, ColouredToken[]>();
  for (const t of tokens) {
    const g = groups.get(t.bucket);
    if (g) g.push(t);
    else groups.set(t.bucket, [t]);
  }
  return new Map([...groups].sort((a, b) => a[0] - b[0]));
}
