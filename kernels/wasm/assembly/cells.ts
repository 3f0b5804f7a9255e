// Fused recurrent cells, forward and backward over one timestep, in v128: the WebAssembly twins of
// kernels/cpu/cells.ts (same maths, same layouts; activations from vmath.ts, to float32 accuracy).
// xp, hp, gates, dPre, dXp, dHp are [B, G·H] (row stride G·H, PyTorch's gate order); cPrev, c, h,
// hPrev, dh, dc, dhDirect are [B, H]. Each kernel covers all B rows for hidden units [j0, j1), so a
// thread pool can split even batch 1. Four units at a time; the last j1 - j0 mod 4 one by one with the
// same vector code on lane 0 (ld/st below), so a tail gives the same value a full vector would.
import { sigmoidv, tanhv } from './vmath';

// @ts-ignore: decorator
@inline function ld(p: usize, full: bool): v128 { return full ? v128.load(p) : v128.load32_zero(p); }
// @ts-ignore: decorator
@inline function st(p: usize, v: v128, full: bool): void { if (full) v128.store(p, v); else v128.store32_lane(p, v, 0); }

const ONE = f32x4.splat(1);

// @ts-ignore: decorator
@inline function lstmFwdAt(x: usize, r: usize, cp: usize, g: usize, c: usize, h: usize, Hb: usize, full: bool): void {
  const i = sigmoidv(f32x4.add(ld(x, full), ld(r, full)));
  const f = sigmoidv(f32x4.add(ld(x + Hb, full), ld(r + Hb, full)));
  const gg = tanhv(f32x4.add(ld(x + 2 * Hb, full), ld(r + 2 * Hb, full)));
  const o = sigmoidv(f32x4.add(ld(x + 3 * Hb, full), ld(r + 3 * Hb, full)));
  st(g, i, full); st(g + Hb, f, full); st(g + 2 * Hb, gg, full); st(g + 3 * Hb, o, full);
  const cv = f32x4.add(f32x4.mul(f, ld(cp, full)), f32x4.mul(i, gg));
  st(c, cv, full);
  st(h, f32x4.mul(o, tanhv(cv)), full);
}

/** LSTM forward: gates [B, 4H] (i, f, g, o activated), c' and h'. */
export function lstmFwd(B: i32, H: i32, xp: usize, hp: usize, cPrev: usize, gates: usize, c: usize, h: usize, j0: i32, j1: i32): void {
  const Hb = <usize>H << 2, Gb = Hb * 4;
  for (let b = 0; b < B; b++) {
    const gr = <usize>b * Gb, sr = <usize>b * Hb;
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      const o = <usize>j << 2;
      lstmFwdAt(xp + gr + o, hp + gr + o, cPrev + sr + o, gates + gr + o, c + sr + o, h + sr + o, Hb, true);
    }
    for (; j < j1; j++) {
      const o = <usize>j << 2;
      lstmFwdAt(xp + gr + o, hp + gr + o, cPrev + sr + o, gates + gr + o, c + sr + o, h + sr + o, Hb, false);
    }
  }
}

// @ts-ignore: decorator
@inline function lstmBwdAt(dh: usize, dc: usize, g: usize, c: usize, cp: usize, d: usize, Hb: usize, full: bool): void {
  const i = ld(g, full), f = ld(g + Hb, full), gg = ld(g + 2 * Hb, full), o = ld(g + 3 * Hb, full);
  const tc = tanhv(ld(c, full));
  const dhv = ld(dh, full);
  const dcv = f32x4.add(ld(dc, full), f32x4.mul(f32x4.mul(dhv, o), f32x4.sub(ONE, f32x4.mul(tc, tc))));
  st(d, f32x4.mul(f32x4.mul(f32x4.mul(dcv, gg), i), f32x4.sub(ONE, i)), full);
  st(d + Hb, f32x4.mul(f32x4.mul(f32x4.mul(dcv, ld(cp, full)), f), f32x4.sub(ONE, f)), full);
  st(d + 2 * Hb, f32x4.mul(f32x4.mul(dcv, i), f32x4.sub(ONE, f32x4.mul(gg, gg))), full);
  st(d + 3 * Hb, f32x4.mul(f32x4.mul(f32x4.mul(dhv, tc), o), f32x4.sub(ONE, o)), full);
  st(dc, f32x4.mul(dcv, f), full);
}

/** LSTM backward: dc holds ∂L/∂c' on entry and ∂L/∂c (previous step) on exit; dPre [B, 4H]. */
export function lstmBwd(B: i32, H: i32, dh: usize, dc: usize, gates: usize, c: usize, cPrev: usize, dPre: usize, j0: i32, j1: i32): void {
  const Hb = <usize>H << 2, Gb = Hb * 4;
  for (let b = 0; b < B; b++) {
    const gr = <usize>b * Gb, sr = <usize>b * Hb;
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      const o = <usize>j << 2;
      lstmBwdAt(dh + sr + o, dc + sr + o, gates + gr + o, c + sr + o, cPrev + sr + o, dPre + gr + o, Hb, true);
    }
    for (; j < j1; j++) {
      const o = <usize>j << 2;
      lstmBwdAt(dh + sr + o, dc + sr + o, gates + gr + o, c + sr + o, cPrev + sr + o, dPre + gr + o, Hb, false);
    }
  }
}

// @ts-ignore: decorator
@inline function gruFwdAt(x: usize, q: usize, hpv: usize, g: usize, h: usize, Hb: usize, full: bool): void {
  const r = sigmoidv(f32x4.add(ld(x, full), ld(q, full)));
  const z = sigmoidv(f32x4.add(ld(x + Hb, full), ld(q + Hb, full)));
  const n = tanhv(f32x4.add(ld(x + 2 * Hb, full), f32x4.mul(r, ld(q + 2 * Hb, full))));
  st(g, r, full); st(g + Hb, z, full); st(g + 2 * Hb, n, full);
  st(h, f32x4.add(f32x4.mul(f32x4.sub(ONE, z), n), f32x4.mul(z, ld(hpv, full))), full);
}

/** GRU forward: gates [B, 3H] (r, z, n activated) and h'. */
export function gruFwd(B: i32, H: i32, xp: usize, hp: usize, hPrev: usize, gates: usize, h: usize, j0: i32, j1: i32): void {
  const Hb = <usize>H << 2, Gb = Hb * 3;
  for (let b = 0; b < B; b++) {
    const gr = <usize>b * Gb, sr = <usize>b * Hb;
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      const o = <usize>j << 2;
      gruFwdAt(xp + gr + o, hp + gr + o, hPrev + sr + o, gates + gr + o, h + sr + o, Hb, true);
    }
    for (; j < j1; j++) {
      const o = <usize>j << 2;
      gruFwdAt(xp + gr + o, hp + gr + o, hPrev + sr + o, gates + gr + o, h + sr + o, Hb, false);
    }
  }
}

// @ts-ignore: decorator
@inline function gruBwdAt(dh: usize, g: usize, q: usize, hpv: usize, dx: usize, dq: usize, dd: usize, Hb: usize, full: bool): void {
  const r = ld(g, full), z = ld(g + Hb, full), n = ld(g + 2 * Hb, full);
  const dhv = ld(dh, full);
  const hpn = ld(q + 2 * Hb, full);
  const dn = f32x4.mul(f32x4.mul(dhv, f32x4.sub(ONE, z)), f32x4.sub(ONE, f32x4.mul(n, n)));
  const dz = f32x4.mul(f32x4.mul(f32x4.mul(dhv, f32x4.sub(ld(hpv, full), n)), z), f32x4.sub(ONE, z));
  const dr = f32x4.mul(f32x4.mul(f32x4.mul(dn, hpn), r), f32x4.sub(ONE, r));
  st(dx, dr, full); st(dx + Hb, dz, full); st(dx + 2 * Hb, dn, full);
  st(dq, dr, full); st(dq + Hb, dz, full); st(dq + 2 * Hb, f32x4.mul(dn, r), full);
  st(dd, f32x4.mul(dhv, z), full);
}

/** GRU backward: dXp, dHp [B, 3H] and dhDirect [B, H] (z ⊙ dh, the part of ∂L/∂h not through W_hh). */
export function gruBwd(B: i32, H: i32, dh: usize, gates: usize, hp: usize, hPrev: usize, dXp: usize, dHp: usize, dhDirect: usize, j0: i32, j1: i32): void {
  const Hb = <usize>H << 2, Gb = Hb * 3;
  for (let b = 0; b < B; b++) {
    const gr = <usize>b * Gb, sr = <usize>b * Hb;
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      const o = <usize>j << 2;
      gruBwdAt(dh + sr + o, gates + gr + o, hp + gr + o, hPrev + sr + o, dXp + gr + o, dHp + gr + o, dhDirect + sr + o, Hb, true);
    }
    for (; j < j1; j++) {
      const o = <usize>j << 2;
      gruBwdAt(dh + sr + o, gates + gr + o, hp + gr + o, hPrev + sr + o, dXp + gr + o, dHp + gr + o, dhDirect + sr + o, Hb, false);
    }
  }
}

/** RNN forward, elementwise over floats [i0, i1) of [B, H]: h' = tanh(xp + hp). */
export function rnnFwd(xp: usize, hp: usize, h: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    v128.store(h + o, tanhv(f32x4.add(v128.load(xp + o), v128.load(hp + o))));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    v128.store32_lane(h + o, tanhv(f32x4.add(v128.load32_zero(xp + o), v128.load32_zero(hp + o))), 0);
  }
}

/** RNN backward, elementwise: dPre = dh ⊙ (1 - h'²). */
export function rnnBwd(dh: usize, h: usize, dPre: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const hv = v128.load(h + o);
    v128.store(dPre + o, f32x4.mul(v128.load(dh + o), f32x4.sub(ONE, f32x4.mul(hv, hv))));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const hv = load<f32>(h + o);
    store<f32>(dPre + o, load<f32>(dh + o) * (1 - hv * hv));
  }
}
