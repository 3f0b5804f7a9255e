// Elementwise kernels over float ranges [i0, i1) of f32 arrays (byte addresses), four floats per
// v128 with a scalar tail: the glue between GEMMs and cells (dh = dH + dhNext, dropout ⊙, copies).

/** out = a + b */
export function add(a: usize, b: usize, out: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) { const o = <usize>i << 2; v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o))); }
  for (; i < i1; i++) { const o = <usize>i << 2; store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o)); }
}

/** out = a ⊙ b */
export function mul(a: usize, b: usize, out: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) { const o = <usize>i << 2; v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o))); }
  for (; i < i1; i++) { const o = <usize>i << 2; store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o)); }
}

/** out += a */
export function addInPlace(out: usize, a: usize, i0: i32, i1: i32): void {
  add(out, a, out, i0, i1);
}

/** out = value */
export function fill(out: usize, value: f32, i0: i32, i1: i32): void {
  let i = i0;
  const v = f32x4.splat(value);
  for (; i + 4 <= i1; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < i1; i++) store<f32>(out + (<usize>i << 2), value);
}

/** dst = src (the ranges must not overlap unless equal) */
export function copy(src: usize, dst: usize, i0: i32, i1: i32): void {
  if (i1 > i0) memory.copy(dst + (<usize>i0 << 2), src + (<usize>i0 << 2), <usize>(i1 - i0) << 2);
}

/** g *= coef */
export function scale(g: usize, coef: f32, i0: i32, i1: i32): void {
  let i = i0;
  const c = f32x4.splat(coef);
  for (; i + 4 <= i1; i += 4) { const o = <usize>i << 2; v128.store(g + o, f32x4.mul(v128.load(g + o), c)); }
  for (; i < i1; i++) { const o = <usize>i << 2; store<f32>(g + o, load<f32>(g + o) * coef); }
}
