// Pointwise recurrent cells on WebGPU, forward and backward: the GPU twins of kernels/cpu/cells.ts.
// One thread per (row b, unit j) of the step; `xp`/`hp` are [B, G*H] pre-activations (biases
// included) in PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n). All offsets are in elements.
//
// WebGPU forbids binding one buffer both read-only and writable in a dispatch, so where the CPU
// twin reads and writes the same array (LSTM cPrev → c in `cs`, h' in `hs`; GRU hPrev → h' in `hs`)
// the op takes one read-write binding with two offsets. The two ranges must not overlap.

import { KernelDef, Recorder, StorageBuffer, gridFor, perItemKernel } from './context';

const WG = 64;

/** Exact activations. tanh's argument is clamped to ±15 (tanh(15) rounds to 1 in f32) because some
 * implementations return NaN for large |x|; sigmoid's to ±80 so exp never overflows. */
const ACT = /* wgsl */ `
fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-clamp(x, -80.0, 80.0))); }
fn tanhs(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }
`;

/** A cell kernel: one thread per element k = b*H + j of the step, with B and H first in its parameters. */
function kernel(name: string, buffers: StorageBuffer[], params: string, body: string): KernelDef {
  return perItemKernel({
    name, workgroupSize: WG, buffers, params: `B: u32, H: u32, ${params}`, prelude: ACT, index: 'k', count: 'p.B * p.H',
    body: `  let H = p.H;
  let b = k / H;
  let j = k - b * H;
${body}`,
  });
}

const rnnFwd = kernel(
  'rnnCellForward', [['xp', 'read'], ['hp', 'read'], ['hs', 'rw']],
  'xpOff: u32, hpOff: u32, hOff: u32',
  `  hs[p.hOff + k] = tanhs(xp[p.xpOff + k] + hp[p.hpOff + k]);`,
);

const rnnBwd = kernel(
  'rnnCellBackward', [['dh', 'read'], ['hs', 'read'], ['dPre', 'rw']],
  'dhOff: u32, hOff: u32, dOff: u32',
  `  let hv = hs[p.hOff + k];
  dPre[p.dOff + k] = dh[p.dhOff + k] * (1.0 - hv * hv);`,
);

const lstmFwd = kernel(
  'lstmCellForward', [['xp', 'read'], ['hp', 'read'], ['cs', 'rw'], ['gates', 'rw'], ['hs', 'rw']],
  'xpOff: u32, hpOff: u32, cPrevOff: u32, cOff: u32, gOff: u32, hOff: u32',
  `  let G = 4u * H;
  let x = p.xpOff + b * G + j;
  let r = p.hpOff + b * G + j;
  let g = p.gOff + b * G + j;
  let i = sigm(xp[x] + hp[r]);
  let f = sigm(xp[x + H] + hp[r + H]);
  let gg = tanhs(xp[x + 2u * H] + hp[r + 2u * H]);
  let o = sigm(xp[x + 3u * H] + hp[r + 3u * H]);
  gates[g] = i;
  gates[g + H] = f;
  gates[g + 2u * H] = gg;
  gates[g + 3u * H] = o;
  let cv = f * cs[p.cPrevOff + k] + i * gg;
  cs[p.cOff + k] = cv;
  hs[p.hOff + k] = o * tanhs(cv);`,
);

const lstmBwd = kernel(
  'lstmCellBackward', [['dh', 'read'], ['dc', 'rw'], ['gates', 'read'], ['cs', 'read'], ['dPre', 'rw']],
  'dhOff: u32, gOff: u32, cOff: u32, cPrevOff: u32, dOff: u32',
  `  let G = 4u * H;
  let g = p.gOff + b * G + j;
  let d = p.dOff + b * G + j;
  let i = gates[g];
  let f = gates[g + H];
  let gg = gates[g + 2u * H];
  let o = gates[g + 3u * H];
  let tc = tanhs(cs[p.cOff + k]);
  let dhv = dh[p.dhOff + k];
  let dcv = dc[k] + dhv * o * (1.0 - tc * tc);
  dPre[d] = dcv * gg * i * (1.0 - i);
  dPre[d + H] = dcv * cs[p.cPrevOff + k] * f * (1.0 - f);
  dPre[d + 2u * H] = dcv * i * (1.0 - gg * gg);
  dPre[d + 3u * H] = dhv * tc * o * (1.0 - o);
  dc[k] = dcv * f;`,
);

const gruFwd = kernel(
  'gruCellForward', [['xp', 'read'], ['hp', 'read'], ['hs', 'rw'], ['gates', 'rw']],
  'xpOff: u32, hpOff: u32, hPrevOff: u32, hOff: u32, gOff: u32',
  `  let G = 3u * H;
  let x = p.xpOff + b * G + j;
  let q = p.hpOff + b * G + j;
  let g = p.gOff + b * G + j;
  let r = sigm(xp[x] + hp[q]);
  let z = sigm(xp[x + H] + hp[q + H]);
  let n = tanhs(xp[x + 2u * H] + r * hp[q + 2u * H]);
  gates[g] = r;
  gates[g + H] = z;
  gates[g + 2u * H] = n;
  hs[p.hOff + k] = (1.0 - z) * n + z * hs[p.hPrevOff + k];`,
);

const gruBwd = kernel(
  'gruCellBackward', [['dh', 'read'], ['gates', 'read'], ['hp', 'read'], ['hs', 'read'], ['dXp', 'rw'], ['dHp', 'rw'], ['dhDirect', 'rw']],
  'dhOff: u32, gOff: u32, hpOff: u32, hPrevOff: u32, dxOff: u32, dhpOff: u32',
  `  let G = 3u * H;
  let g = p.gOff + b * G + j;
  let r = gates[g];
  let z = gates[g + H];
  let n = gates[g + 2u * H];
  let dhv = dh[p.dhOff + k];
  let hpn = hp[p.hpOff + b * G + 2u * H + j];
  let dn = dhv * (1.0 - z) * (1.0 - n * n);
  let dz = dhv * (hs[p.hPrevOff + k] - n) * z * (1.0 - z);
  let dr = dn * hpn * r * (1.0 - r);
  let dx = p.dxOff + b * G + j;
  let dq = p.dhpOff + b * G + j;
  dXp[dx] = dr;
  dXp[dx + H] = dz;
  dXp[dx + 2u * H] = dn;
  dHp[dq] = dr;
  dHp[dq + H] = dz;
  dHp[dq + 2u * H] = dn * r;
  dhDirect[k] = dhv * z;`,
);

/** Every cell kernel, e.g. to compile them ahead of time. */
export const CELL_KERNELS: readonly KernelDef[] = [rnnFwd, rnnBwd, lstmFwd, lstmBwd, gruFwd, gruBwd];

/** hs[hOff + k] = tanh(xp[xpOff + k] + hp[hpOff + k]) for k < B*H. */
export function rnnCellForward(rec: Recorder, B: number, H: number, xp: GPUBuffer, xpOff: number, hp: GPUBuffer, hpOff: number, hs: GPUBuffer, hOff: number): void {
  rec.dispatch(rnnFwd, [xp, hp, hs], [B, H, xpOff, hpOff, hOff], gridFor(B * H, WG));
}

/** dPre[dOff + k] = dh[dhOff + k] · (1 - h'²) with h' = hs[hOff + k]. */
export function rnnCellBackward(rec: Recorder, B: number, H: number, dh: GPUBuffer, dhOff: number, hs: GPUBuffer, hOff: number, dPre: GPUBuffer, dOff: number): void {
  rec.dispatch(rnnBwd, [dh, hs, dPre], [B, H, dhOff, hOff, dOff], gridFor(B * H, WG));
}

/**
 * LSTM step: writes the activated gates [B, 4H] at gOff, c' into cs at cOff (reading c from cs at
 * cPrevOff: one read-write binding) and h' into hs at hOff.
 */
export function lstmCellForward(
  rec: Recorder, B: number, H: number,
  xp: GPUBuffer, xpOff: number, hp: GPUBuffer, hpOff: number,
  cs: GPUBuffer, cPrevOff: number, cOff: number,
  gates: GPUBuffer, gOff: number, hs: GPUBuffer, hOff: number,
): void {
  rec.dispatch(lstmFwd, [xp, hp, cs, gates, hs], [B, H, xpOff, hpOff, cPrevOff, cOff, gOff, hOff], gridFor(B * H, WG));
}

/**
 * LSTM step backward. dc [B*H] (offset 0) holds ∂L/∂c' on entry and ∂L/∂c on exit (in place); c' is
 * read from cs at cOff and c from cs at cPrevOff. dPre [B, 4H] at dOff receives the gate
 * pre-activation gradient.
 */
export function lstmCellBackward(
  rec: Recorder, B: number, H: number,
  dh: GPUBuffer, dhOff: number, dc: GPUBuffer,
  gates: GPUBuffer, gOff: number, cs: GPUBuffer, cOff: number, cPrevOff: number,
  dPre: GPUBuffer, dOff: number,
): void {
  rec.dispatch(lstmBwd, [dh, dc, gates, cs, dPre], [B, H, dhOff, gOff, cOff, cPrevOff, dOff], gridFor(B * H, WG));
}

/** GRU step: reads h from hs at hPrevOff and writes h' to hs at hOff (one read-write binding); gates [B, 3H] (r, z, n) at gOff. */
export function gruCellForward(
  rec: Recorder, B: number, H: number,
  xp: GPUBuffer, xpOff: number, hp: GPUBuffer, hpOff: number,
  hs: GPUBuffer, hPrevOff: number, hOff: number,
  gates: GPUBuffer, gOff: number,
): void {
  rec.dispatch(gruFwd, [xp, hp, hs, gates], [B, H, xpOff, hpOff, hPrevOff, hOff, gOff], gridFor(B * H, WG));
}

/**
 * GRU step backward: from dh = ∂L/∂h', writes dXp and dHp [B, 3H] and dhDirect [B*H] (offset 0),
 * the part of ∂L/∂h that bypasses W_hh (z ⊙ dh). dXp and dHp must be different buffers from the inputs.
 */
export function gruCellBackward(
  rec: Recorder, B: number, H: number,
  dh: GPUBuffer, dhOff: number,
  gates: GPUBuffer, gOff: number, hp: GPUBuffer, hpOff: number, hs: GPUBuffer, hPrevOff: number,
  dXp: GPUBuffer, dxOff: number, dHp: GPUBuffer, dhpOff: number, dhDirect: GPUBuffer,
): void {
  rec.dispatch(gruBwd, [dh, gates, hp, hs, dXp, dHp, dhDirect], [B, H, dhOff, gOff, hpOff, hPrevOff, dxOff, dhpOff], gridFor(B * H, WG));
}
