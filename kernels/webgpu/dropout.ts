// Counter-based dropout masks on WebGPU, bit-identical to kernels/cpu/model.ts dropoutMask: element i
// of the mask for (seed, step, site) keeps iff dropoutUniform(seed, dropoutStream(step, site), i) >= p.
// The hash is the lowbias32 of kernels/rng.ts in u32 arithmetic (WGSL's u32 multiply wraps exactly
// like Math.imul). The step is read from a storage buffer the caller rewrites each training step, so
// one recorded dispatch serves every step.

import { KernelDef, Recorder, gridFor, perItemKernel } from './context';

const WG = 256;

const maskKernel = perItemKernel({
  name: 'dropoutMask', workgroupSize: WG,
  buffers: [['mask', 'rw'], ['steps', 'read', 'array<u32>']],
  params: 'n: u32, off: u32, seed: u32, site: u32, stepOff: u32, threshold: u32, dropAll: u32, scale: f32',
  prelude: /* wgsl */ `
fn hash32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}`,
  count: 'p.n',
  body: /* wgsl */ `
  let stream = steps[p.stepOff] * 16u + p.site;
  let h = hash32(hash32(hash32(p.seed) ^ stream) ^ i);
  let keep = p.dropAll == 0u && h >= p.threshold;
  mask[p.off + i] = select(0.0, p.scale, keep);`,
});

export const DROPOUT_KERNELS: readonly KernelDef[] = [maskKernel];

/**
 * The u32 threshold t with `hash >= t` ⇔ `hash / 2^32 >= p` for every u32 hash (as JS decides it;
 * p·2^32 is exact in f64), or null when p ≥ 1 (nothing is kept).
 */
export function dropoutThreshold(p: number): number | null {
  const t = Math.ceil(p * 4294967296);
  if (t > 0xffffffff) return null;
  return Math.max(0, t);
}

/**
 * mask[maskOff + i] = dropoutUniform(seed, dropoutStream(step, site), i) >= p ? 1/(1-p) : 0 for
 * i < n, where step is the u32 at stepBuf[stepOff] (elements) when the dispatch runs.
 */
export function dropoutMask(rec: Recorder, n: number, mask: GPUBuffer, maskOff: number, p: number, seed: number, site: number, stepBuf: GPUBuffer, stepOff: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability ${p} is outside [0, 1]`);
  if (n === 0) return;
  const t = dropoutThreshold(p);
  rec.dispatch(maskKernel, [mask, stepBuf], [n, maskOff, seed >>> 0, site >>> 0, stepOff, t ?? 0, t === null ? 1 : 0, { f: 1 / (1 - p) }], gridFor(n, WG));
}
