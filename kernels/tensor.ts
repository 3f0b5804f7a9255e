// Plain typed-array helpers. Every model buffer is a Float32Array (training, inference) or a
// Float64Array (gradient checks); the code is written once for both.

export type DType = 'f32' | 'f64';
export type Vec = Float32Array | Float64Array;

export function alloc(dtype: DType, n: number): Vec {
  return dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d; // NaN counts as the worst difference
  }
  return m;
}
