// Vectorised float32 exp, sigmoid and tanh on v128 (four lanes), for the cells and the loss.
// exp: Cody-Waite range reduction x = n·ln2 + r (|r| <= ln2/2, ln2 split in two constants so n·ln2
// is exact), a degree-6 polynomial for e^r (Cephes expf's coefficients, about 1 ulp), and 2^n added
// to the exponent bits. The input is clamped to [-86.5, 88.3] so 2^n stays a normal number (below
// -86.5 e^x is under 3e-38, far below anything the kernels add it to).
// sigmoid: 1/(1 + e^{-x}), within 3 ulp of the reference's 1/(1 + Math.exp(-x)).
// tanh: a rational approximation x·P(x²)/Q(x²) (degree 13/6, the coefficients Eigen and XNNPACK use)
// on |x| <= 7.905, clamped beyond: 1-2 ulp over most of the range, at most 5 ulp (3e-7) where tanh is
// within 5 ulp of ±1. Twice as fast as exp-based tanh with a small-|x| polynomial, which was 1 ulp.
// Written for V8's code generation: pmin/pmax are single minps/maxps (min/max's NaN and -0 rules cost
// several instructions), and 2^n comes from adding 1.5·2^23 rather than a float-to-int conversion
// (whose wasm saturation V8 emulates in several instructions). A NaN input gives NaN.

// @ts-ignore: decorator
@inline export function expv(x: v128): v128 {
  // Adding 1.5·2^23 rounds x·log2(e) to an integer n held in the low mantissa bits: n << 23 is a shift.
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-86.5)), f32x4.splat(88.3));
  const magic = f32x4.splat(12582912.0);
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(1.9875691500e-4), r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  return i32x4.add(y, i32x4.shl(t, 23));
}

// @ts-ignore: decorator
@inline export function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanhv(x: v128): v128 {
  // Rational approximation x·P(x²)/Q(x²) on |x| <= 7.9053 (beyond it tanh rounds to ±1 in float32).
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-7.90531110763549805)), f32x4.splat(7.90531110763549805));
  const z = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(z, f32x4.splat(-2.76076847742355e-16)), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(5.12229709037114e-08));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.48572235717979e-05));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(6.37261928875436e-04));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(4.89352455891786e-03));
  p = f32x4.mul(p, x);
  let q = f32x4.add(f32x4.mul(z, f32x4.splat(1.19825839466702e-06)), f32x4.splat(1.18534705686654e-04));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(2.26843463243900e-03));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(4.89352518554385e-03));
  return f32x4.div(p, q);
}
