// Vectorised float32 exp, sigmoid and tanh on v128 (four lanes), for the cells and the loss.
// exp: Cody-Waite range reduction x = n·ln2 + r (|r| <= ln2/2, ln2 split in two constants so n·ln2
// is exact), a degree-6 polynomial for e^r (Cephes expf's coefficients, about 1 ulp), and 2^n added
// to the exponent bits. The input is clamped to [-86.5, 88.3] so 2^n stays a normal number (below
// -86.5 e^x is under 3e-38, far below anything the kernels add it to).
// tanh: an odd polynomial for |x| < 0.625 (Cephes tanhf), 1 - 2/(e^{2|x|} + 1) above, sign restored.
// sigmoid: 1/(1 + e^{-x}). All a few ulp of float32 against Math.exp / Math.tanh.

// @ts-ignore: decorator
@inline export function expv(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-86.5)), f32x4.splat(88.3));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(1.9875691500e-4), r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  return i32x4.add(y, i32x4.shl(i32x4.trunc_sat_f32x4_s(n), 23));
}

// @ts-ignore: decorator
@inline export function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanhv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const sign = v128.and(x, i32x4.splat(0x80000000));
  // Small |x|: x + x³·P(x²).
  const z = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(f32x4.splat(-5.70498872745e-3), z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  // Large |x|: 1 - 2/(e^{2|x|} + 1), then the sign of x.
  const e = expv(f32x4.add(ax, ax));
  const big = v128.or(f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1)))), sign);
  return v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
}
