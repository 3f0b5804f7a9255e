// Pointwise recurrent cells, forward and backward: the CPU twins of the fused WGSL cell kernels.
// Each works on one timestep for B rows. `xp` is the input projection W_ih·x + b_ih and `hp` the
// recurrent projection W_hh·h + b_hh, both [B, G*H] with PyTorch's gate order; activations are exact.
//
//   RNN : h' = tanh(xp + hp)
//   LSTM: i,f,g,o = σ,σ,tanh,σ(xp + hp);  c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
//   GRU : r = σ(xp_r + hp_r);  z = σ(xp_z + hp_z);  n = tanh(xp_n + r⊙hp_n);  h' = (1-z)⊙n + z⊙h
//
// Backward functions take dh (the gradient reaching h') and write the gradient of the gate
// pre-activations. For RNN and LSTM that one gradient serves both projections; the GRU's differs in
// its n block (the hp side is scaled by r), so it writes dXp and dHp separately.

import { Vec } from '../tensor';

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function rnnCellForward(B: number, H: number, xp: Vec, xpOff: number, hp: Vec, hpOff: number, h: Vec, hOff: number): void {
  const n = B * H;
  for (let k = 0; k < n; k++) h[hOff + k] = Math.tanh(xp[xpOff + k] + hp[hpOff + k]);
}

/** dPre = dh ⊙ (1 - h'²) */
export function rnnCellBackward(B: number, H: number, dh: Vec, dhOff: number, h: Vec, hOff: number, dPre: Vec, dOff: number): void {
  const n = B * H;
  for (let k = 0; k < n; k++) {
    const hv = h[hOff + k];
    dPre[dOff + k] = dh[dhOff + k] * (1 - hv * hv);
  }
}

/** Writes activated gates [B, 4H] (i, f, g, o), c' and h'. */
export function lstmCellForward(
  B: number, H: number,
  xp: Vec, xpOff: number, hp: Vec, hpOff: number, cPrev: Vec, cPrevOff: number,
  gates: Vec, gOff: number, c: Vec, cOff: number, h: Vec, hOff: number,
): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const x = xpOff + b * G, r = hpOff + b * G, g = gOff + b * G, s = b * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(xp[x + j] + hp[r + j]);
      const f = sigmoid(xp[x + H + j] + hp[r + H + j]);
      const gg = Math.tanh(xp[x + 2 * H + j] + hp[r + 2 * H + j]);
      const o = sigmoid(xp[x + 3 * H + j] + hp[r + 3 * H + j]);
      gates[g + j] = i;
      gates[g + H + j] = f;
      gates[g + 2 * H + j] = gg;
      gates[g + 3 * H + j] = o;
      const cv = f * cPrev[cPrevOff + s + j] + i * gg;
      c[cOff + s + j] = cv;
      h[hOff + s + j] = o * Math.tanh(cv);
    }
  }
}

/**
 * dc holds ∂L/∂c' from the future on entry and ∂L/∂c (for the previous step) on exit.
 * dPre [B, 4H] receives the gradient of the gate pre-activations.
 */
export function lstmCellBackward(
  B: number, H: number,
  dh: Vec, dhOff: number, dc: Vec,
  gates: Vec, gOff: number, c: Vec, cOff: number, cPrev: Vec, cPrevOff: number,
  dPre: Vec, dOff: number,
): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const g = gOff + b * G, d = dOff + b * G, s = b * H;
    for (let j = 0; j < H; j++) {
      const i = gates[g + j], f = gates[g + H + j], gg = gates[g + 2 * H + j], o = gates[g + 3 * H + j];
      const tc = Math.tanh(c[cOff + s + j]);
      const dhv = dh[dhOff + s + j];
      const dcv = dc[s + j] + dhv * o * (1 - tc * tc);
      dPre[d + j] = dcv * gg * i * (1 - i);
      dPre[d + H + j] = dcv * cPrev[cPrevOff + s + j] * f * (1 - f);
      dPre[d + 2 * H + j] = dcv * i * (1 - gg * gg);
      dPre[d + 3 * H + j] = dhv * tc * o * (1 - o);
      dc[s + j] = dcv * f;
    }
  }
}

/** Writes activated gates [B, 3H] (r, z, n) and h'. hp is kept by the caller for the backward pass. */
export function gruCellForward(
  B: number, H: number,
  xp: Vec, xpOff: number, hp: Vec, hpOff: number, hPrev: Vec, hPrevOff: number,
  gates: Vec, gOff: number, h: Vec, hOff: number,
): void {
  const G = 3 * H;
  for (let b = 0; b < B; b++) {
    const x = xpOff + b * G, q = hpOff + b * G, g = gOff + b * G, s = b * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(xp[x + j] + hp[q + j]);
      const z = sigmoid(xp[x + H + j] + hp[q + H + j]);
      const n = Math.tanh(xp[x + 2 * H + j] + r * hp[q + 2 * H + j]);
      gates[g + j] = r;
      gates[g + H + j] = z;
      gates[g + 2 * H + j] = n;
      h[hOff + s + j] = (1 - z) * n + z * hPrev[hPrevOff + s + j];
    }
  }
}

/**
 * From dh = ∂L/∂h', writes dXp and dHp [B, 3H] (gradients of xp and hp) and dhDirect [B, H], the part
 * of ∂L/∂h that does not go through W_hh (z ⊙ dh).
 */
export function gruCellBackward(
  B: number, H: number,
  dh: Vec, dhOff: number,
  gates: Vec, gOff: number, hp: Vec, hpOff: number, hPrev: Vec, hPrevOff: number,
  dXp: Vec, dxOff: number, dHp: Vec, dhpOff: number, dhDirect: Vec,
): void {
  const G = 3 * H;
  for (let b = 0; b < B; b++) {
    const g = gOff + b * G, q = hpOff + b * G, dx = dxOff + b * G, dq = dhpOff + b * G, s = b * H;
    for (let j = 0; j < H; j++) {
      const r = gates[g + j], z = gates[g + H + j], n = gates[g + 2 * H + j];
      const dhv = dh[dhOff + s + j];
      const hpn = hp[q + 2 * H + j];
      const dn = dhv * (1 - z) * (1 - n * n);
      const dz = dhv * (hPrev[hPrevOff + s + j] - n) * z * (1 - z);
      const dr = dn * hpn * r * (1 - r);
      dXp[dx + j] = dr;
      dXp[dx + H + j] = dz;
      dXp[dx + 2 * H + j] = dn;
      dHp[dq + j] = dr;
      dHp[dq + H + j] = dz;
      dHp[dq + 2 * H + j] = dn * r;
      dhDirect[s + j] = dhv * z;
    }
  }
}
