// Dropout masks equal to kernels/rng.ts's bit for bit: element i is kept when
// hash32(key ^ i) >= threshold (unsigned), where the caller computes key = hash32(hash32(seed) ^ stream)
// and threshold = ceil(p · 2^32) (so that hash/2^32 >= p exactly when hash >= threshold).
// hash32 is lowbias32 (Wellons): only xor, shifts and 32-bit multiplies, four lanes at a time.

/** mask[i] = hash32(key ^ i) >= threshold ? scale : 0 for i in [i0, i1). */
export function dropoutMask(key: i32, threshold: i32, scale: f32, mask: usize, i0: i32, i1: i32): void {
  const k = i32x4.splat(key), thr = i32x4.splat(threshold), sc = f32x4.splat(scale);
  const m1 = i32x4.splat(0x7feb352d), m2 = i32x4.splat(0x846ca68b);
  let idx = i32x4.add(i32x4.splat(i0), i32x4(0, 1, 2, 3));
  const four = i32x4.splat(4);
  let i = i0;
  for (; i < i1; i += 4) {
    let x = v128.xor(k, idx);
    x = v128.xor(x, i32x4.shr_u(x, 16));
    x = i32x4.mul(x, m1);
    x = v128.xor(x, i32x4.shr_u(x, 15));
    x = i32x4.mul(x, m2);
    x = v128.xor(x, i32x4.shr_u(x, 16));
    const v = v128.and(i32x4.ge_u(x, thr), sc);
    const o = mask + (<usize>i << 2);
    if (i + 4 <= i1) v128.store(o, v);
    else for (let l = 0; l < i1 - i; l++) store<f32>(o + (<usize>l << 2), laneOf(v, l));
    idx = i32x4.add(idx, four);
  }
}

// @ts-ignore: decorator
@inline function laneOf(v: v128, l: i32): f32 {
  return l == 0 ? f32x4.extract_lane(v, 0) : l == 1 ? f32x4.extract_lane(v, 1) : l == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}
