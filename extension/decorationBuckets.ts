// Colouring the editor by one unit: which tokens of the visible range are coloured, and with which of
// the colour scale's colours. VS Code needs one TextEditorDecorationType per background colour, so
// tokens are grouped by colour: the bucket of a value is its index in the panel's colour table
// (kernels/inspect/colorScale.ts rgbaTable: 257 diverging steps, 256 sequential), so each token gets
// exactly the colour its heatmap cell has, and there are at most as many decoration types as table
// entries (in practice far fewer: only the colours present are created). The worker computes the
// buckets with the scale; this file only decides which tokens show. Pure: no vscode or Node imports,
// so it is tested in plain Node (test/decorationsBuckets.test.ts).

/** One token to colour: its range as UTF-16 offsets in the document, its value and its colour's index. */
export interface ColouredToken {
  start: number;
  end: number;
  value: number;
  bucket: number;
}

/**
 * The tokens of a window that overlap the visible range [visibleStart, visibleEnd), with their buckets.
 * `offsets` are the window's token boundaries ([T+1], relative to the window), `windowStart` the
 * window's offset in the document, `values` the unit's value at each token and `buckets` its colour's
 * index ([T] each; -1: no colour, NaN). Empty tokens and tokens without a colour are left out.
 */
export function colourTokens(
  offsets: ArrayLike<number>, windowStart: number, values: ArrayLike<number>, buckets: ArrayLike<number>,
  visibleStart: number, visibleEnd: number,
): ColouredToken[] {
  const out: ColouredToken[] = [];
  for (let t = 0; t < values.length; t++) {
    const start = windowStart + offsets[t], end = windowStart + offsets[t + 1];
    if (end <= start || end <= visibleStart || start >= visibleEnd || buckets[t] < 0) continue;
    out.push({ start, end, value: values[t], bucket: buckets[t] });
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

/** The CSS colour of each entry of a packed colour table (little-endian 0xAABBGGRR, as rgbaTable packs it). */
export function paletteOf(table: ArrayLike<number>, css: (rgb: [number, number, number]) => string): string[] {
  return Array.from({ length: table.length }, (_, k) => {
    const x = table[k];
    return css([x & 255, (x >>> 8) & 255, (x >>> 16) & 255]);
  });
}
