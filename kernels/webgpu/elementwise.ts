// Small pointwise ops on f32 storage buffers: sums, products (dropout masks), copies and fills.
// Offsets and counts are in f32 elements. One thread per element, 256 threads per workgroup; the
// workgroups are laid out in two dimensions when there are more than 65535 of them (see
// context.ts dispatchGrid).
// "Into" ops take distinct buffers for inputs and output (WebGPU forbids binding one buffer both
// read-only and writable in a dispatch); "InPlace" ops read and write one read-write binding.

import { KernelDef, Recorder, StorageBuffer, gridFor, perItemKernel } from './context';

// Where the tests and older callers look for it; it lives with the other dispatch helpers.
export { dispatchGrid } from './context';

/** Threads per workgroup of the pointwise kernels. */
const WG = 256;

/** Throws unless `count` elements from `off` lie inside the buffer (a clear error instead of a
 * silently clamped access on the GPU). */
export function checkRange(op: string, what: string, buf: GPUBuffer, off: number, count: number): void {
  if (!Number.isInteger(off) || off < 0) throw new Error(`${op}: ${what} offset ${off} is not a non-negative integer`);
  if ((off + count) * 4 > buf.size) {
    throw new Error(`${op}: ${what}[${off}..${off + count}) is outside its buffer of ${buf.size / 4} f32`);
  }
}

function checkCount(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${op}: size ${n} is not a non-negative integer`);
}

function checkDistinct(op: string, bufs: GPUBuffer[]): void {
  for (let i = 0; i < bufs.length; i++) {
    for (let j = i + 1; j < bufs.length; j++) {
      if (bufs[i] === bufs[j]) throw new Error(`${op}: inputs and output must be distinct buffers`);
    }
  }
}

/** A pointwise kernel: one thread per element i < p.n. */
function pointwise(name: string, buffers: StorageBuffer[], params: string, body: string): KernelDef {
  return perItemKernel({ name, workgroupSize: WG, buffers, params: `n: u32, ${params}`, count: 'p.n', body });
}

function binaryInto(name: string, op: string): KernelDef {
  return pointwise(name, [['a', 'read'], ['b', 'read'], ['o', 'rw']], 'aOff: u32, bOff: u32, outOff: u32',
    `  o[p.outOff + i] = a[p.aOff + i] ${op} b[p.bOff + i];`);
}

function binaryInPlace(name: string, op: string): KernelDef {
  return pointwise(name, [['acc', 'rw'], ['src', 'read']], 'accOff: u32, srcOff: u32', `
  let j = p.accOff + i;
  acc[j] = acc[j] ${op} src[p.srcOff + i];`);
}

const ADD_INTO = binaryInto('addInto', '+');
const MUL_INTO = binaryInto('mulInto', '*');
const ADD_IN_PLACE = binaryInPlace('addInPlace', '+');
const MUL_IN_PLACE = binaryInPlace('mulInPlace', '*');
const COPY = pointwise('copyInto', [['src', 'read'], ['dst', 'rw']], 'srcOff: u32, dstOff: u32', '  dst[p.dstOff + i] = src[p.srcOff + i];');
const FILL = pointwise('fill', [['dst', 'rw']], 'dstOff: u32, value: f32', '  dst[p.dstOff + i] = p.value;');

function into(def: KernelDef, rec: Recorder, n: number, a: GPUBuffer, aOff: number, b: GPUBuffer, bOff: number, out: GPUBuffer, outOff: number): void {
  checkCount(def.name, n);
  checkDistinct(def.name, [a, b, out]);
  checkRange(def.name, 'a', a, aOff, n);
  checkRange(def.name, 'b', b, bOff, n);
  checkRange(def.name, 'out', out, outOff, n);
  if (n === 0) return;
  rec.dispatch(def, [a, b, out], [n, aOff, bOff, outOff], gridFor(n, WG));
}

function inPlace(def: KernelDef, rec: Recorder, n: number, acc: GPUBuffer, accOff: number, src: GPUBuffer, srcOff: number): void {
  checkCount(def.name, n);
  checkDistinct(def.name, [acc, src]);
  checkRange(def.name, 'acc', acc, accOff, n);
  checkRange(def.name, 'src', src, srcOff, n);
  if (n === 0) return;
  rec.dispatch(def, [acc, src], [n, accOff, srcOff], gridFor(n, WG));
}

/** out[outOff + i] = a[aOff + i] + b[bOff + i] for i < n (three distinct buffers). */
export function addInto(rec: Recorder, n: number, a: GPUBuffer, aOff: number, b: GPUBuffer, bOff: number, out: GPUBuffer, outOff: number): void {
  into(ADD_INTO, rec, n, a, aOff, b, bOff, out, outOff);
}

/** acc[accOff + i] += src[srcOff + i] for i < n. */
export function addInPlace(rec: Recorder, n: number, acc: GPUBuffer, accOff: number, src: GPUBuffer, srcOff: number): void {
  inPlace(ADD_IN_PLACE, rec, n, acc, accOff, src, srcOff);
}

/** out[outOff + i] = a[aOff + i] · b[bOff + i] for i < n (three distinct buffers), e.g. dropout masks. */
export function mulInto(rec: Recorder, n: number, a: GPUBuffer, aOff: number, b: GPUBuffer, bOff: number, out: GPUBuffer, outOff: number): void {
  into(MUL_INTO, rec, n, a, aOff, b, bOff, out, outOff);
}

/** acc[accOff + i] *= src[srcOff + i] for i < n. */
export function mulInPlace(rec: Recorder, n: number, acc: GPUBuffer, accOff: number, src: GPUBuffer, srcOff: number): void {
  inPlace(MUL_IN_PLACE, rec, n, acc, accOff, src, srcOff);
}

/** dst[dstOff + i] = src[srcOff + i] for i < n (distinct buffers). */
export function copyInto(rec: Recorder, n: number, src: GPUBuffer, srcOff: number, dst: GPUBuffer, dstOff: number): void {
  checkCount('copyInto', n);
  checkDistinct('copyInto', [src, dst]);
  checkRange('copyInto', 'src', src, srcOff, n);
  checkRange('copyInto', 'dst', dst, dstOff, n);
  if (n === 0) return;
  rec.dispatch(COPY, [src, dst], [n, srcOff, dstOff], gridFor(n, WG));
}

/** dst[dstOff + i] = value for i < n. */
export function fill(rec: Recorder, n: number, dst: GPUBuffer, dstOff: number, value: number): void {
  checkCount('fill', n);
  checkRange('fill', 'dst', dst, dstOff, n);
  if (n === 0) return;
  rec.dispatch(FILL, [dst], [n, dstOff, { f: value }], gridFor(n, WG));
}
