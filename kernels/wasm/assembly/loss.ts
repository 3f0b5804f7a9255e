// Softmax cross-entropy over rows of logits [·, V]: the WebAssembly twin of kernels/cpu/loss.ts.
// Per row: the max, then Σ e^(x - max) with the vector exp of vmath.ts (f32 lanes), lse in f64.
import { expv } from './vmath';

/** Natural log in f64 for x >= 1 (here the sum of exponentials, in [1, V]): x = 2^k·m with m in
 *  [√½, √2), ln m = 2·atanh(s), s = (m-1)/(m+1), |s| < 0.172, odd series to s^17 (error < 1e-15).
 *  Written out rather than AssemblyScript's Math.log, whose lookup tables would put static data in
 *  the module (rewritten into the shared memory by every thread's instantiation). */
// @ts-ignore: decorator
@inline function logPositive(x: f64): f64 {
  const bits = reinterpret<i64>(x);
  let k = <i32>((bits >>> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) { m *= 0.5; k++; }
  const s = (m - 1) / (m + 1), s2 = s * s;
  let t = 1.0 / 17;
  t = t * s2 + 1.0 / 15; t = t * s2 + 1.0 / 13; t = t * s2 + 1.0 / 11; t = t * s2 + 1.0 / 9;
  t = t * s2 + 1.0 / 7; t = t * s2 + 1.0 / 5; t = t * s2 + 1.0 / 3; t = t * s2 + 1;
  return <f64>k * 0.6931471805599453 + 2 * s * t;
}

/** For rows [r0, r1): rowLoss[r] (f64) = lse - logit[targets[r]]; if withGrad, the row becomes
 *  (softmax - onehot) · gradScale. */
export function softmaxXent(V: i32, logits: usize, targets: usize, gradScale: f32, withGrad: i32, rowLoss: usize, r0: i32, r1: i32): void {
  const rowBytes = <usize>V << 2;
  const v4 = V & ~3;
  for (let r = r0; r < r1; r++) {
    const row = logits + <usize>r * rowBytes;
    // pmax is one maxps (max's NaN rules cost V8 several instructions); two chains halve the latency.
    let mv = f32x4.splat(-Infinity), mv2 = mv;
    let j = 0;
    for (; j + 8 <= v4; j += 8) {
      mv = f32x4.pmax(mv, v128.load(row + (<usize>j << 2)));
      mv2 = f32x4.pmax(mv2, v128.load(row + (<usize>j << 2), 16));
    }
    for (; j < v4; j += 4) mv = f32x4.pmax(mv, v128.load(row + (<usize>j << 2)));
    mv = f32x4.pmax(mv, mv2);
    let mx = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; j < V; j++) mx = max(mx, load<f32>(row + (<usize>j << 2)));
    const y = load<i32>(targets + (<usize>r << 2));
    const ly = load<f32>(row + (<usize>y << 2)); // before the row is overwritten with exponentials
    const m4 = f32x4.splat(mx);
    let sv = f32x4.splat(0);
    j = 0;
    for (; j < v4; j += 4) {
      const q = row + (<usize>j << 2);
      const e = expv(f32x4.sub(v128.load(q), m4));
      sv = f32x4.add(sv, e);
      if (withGrad) v128.store(q, e);
    }
    let sum = f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1) + f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3);
    for (; j < V; j++) {
      const q = row + (<usize>j << 2);
      const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(q) - mx)), 0);
      sum += e;
      if (withGrad) store<f32>(q, e);
    }
    store<f64>(rowLoss + (<usize>r << 3), <f64>mx + logPositive(<f64>sum) - <f64>ly);
    if (withGrad) {
      const inv = gradScale / sum;
      const iv = f32x4.splat(inv);
      j = 0;
      for (; j < v4; j += 4) { const q = row + (<usize>j << 2); v128.store(q, f32x4.mul(v128.load(q), iv)); }
      for (; j < V; j++) { const q = row + (<usize>j << 2); store<f32>(q, load<f32>(q) * inv); }
      const qy = row + (<usize>y << 2);
      store<f32>(qy, load<f32>(qy) - gradScale);
    }
  }
}
