// Optimizer kernels: the WebAssembly twins of kernels/cpu/optim.ts. Global-norm clipping is
// sumSquares over ranges (each thread's partial in f64, summed by the caller, who takes the square
// root and calls elementwise scale), and one Adam/AdamW step over a range of the parameter vector.

/** f64 at `out` = Σ g[i]² over [i0, i1): squares of float32 are exact in f64 and summed in f64. */
export function sumSquares(g: usize, out: usize, i0: i32, i1: i32): void {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v = v128.load(g + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    s0 = f64x2.add(s0, f64x2.mul(lo, lo));
    s1 = f64x2.add(s1, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(s0, s1);
  let t = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < i1; i++) { const x = <f64>load<f32>(g + (<usize>i << 2)); t += x * x; }
  store<f64>(out, t);
}

// @ts-ignore: decorator
@inline function adamAt(p: usize, g: usize, m: usize, v: usize, o: usize, st: v128, bc: v128, b1: v128, b2: v128,
  c1: v128, c2: v128, eps: v128, decay: v128, withDecay: bool, full: bool): void {
  const gi = full ? v128.load(g + o) : v128.load32_zero(g + o);
  const mo = full ? v128.load(m + o) : v128.load32_zero(m + o);
  const vo = full ? v128.load(v + o) : v128.load32_zero(v + o);
  const mi = f32x4.add(f32x4.mul(b1, mo), f32x4.mul(c1, gi));
  const vi = f32x4.add(f32x4.mul(b2, vo), f32x4.mul(f32x4.mul(c2, gi), gi));
  let pi = full ? v128.load(p + o) : v128.load32_zero(p + o);
  if (withDecay) pi = f32x4.mul(pi, decay);
  pi = f32x4.sub(pi, f32x4.div(f32x4.mul(st, mi), f32x4.add(f32x4.div(f32x4.sqrt(vi), bc), eps)));
  if (full) { v128.store(m + o, mi); v128.store(v + o, vi); v128.store(p + o, pi); }
  else { v128.store32_lane(m + o, mi, 0); v128.store32_lane(v + o, vi, 0); v128.store32_lane(p + o, pi, 0); }
}

/** One Adam step over [i0, i1), as adamUpdate: m, v moments; stepSize = lr / (1 - b1^t);
 *  bc2Sqrt = sqrt(1 - b2^t); decay = 1 - lr·weightDecay (AdamW, skipped when exactly 1). */
export function adam(p: usize, g: usize, m: usize, v: usize, stepSize: f64, bc2Sqrt: f64, b1: f64, b2: f64, eps: f64, decay: f64,
  i0: i32, i1: i32): void {
  const st = f32x4.splat(<f32>stepSize), bc = f32x4.splat(<f32>bc2Sqrt);
  const vb1 = f32x4.splat(<f32>b1), vb2 = f32x4.splat(<f32>b2);
  const c1 = f32x4.splat(<f32>(1 - b1)), c2 = f32x4.splat(<f32>(1 - b2));
  const ve = f32x4.splat(<f32>eps), vd = f32x4.splat(<f32>decay);
  const withDecay = decay != 1;
  let i = i0;
  if (withDecay) {
    for (; i + 4 <= i1; i += 4) adamAt(p, g, m, v, <usize>i << 2, st, bc, vb1, vb2, c1, c2, ve, vd, true, true);
    for (; i < i1; i++) adamAt(p, g, m, v, <usize>i << 2, st, bc, vb1, vb2, c1, c2, ve, vd, true, false);
  } else {
    for (; i + 4 <= i1; i += 4) adamAt(p, g, m, v, <usize>i << 2, st, bc, vb1, vb2, c1, c2, ve, vd, false, true);
    for (; i < i1; i++) adamAt(p, g, m, v, <usize>i << 2, st, bc, vb1, vb2, c1, c2, ve, vd, false, false);
  }
}
