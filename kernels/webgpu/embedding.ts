// Embedding lookup on WebGPU and its gradient: the GPU twins of the gather and the scatter-add in
// kernels/cpu/model.ts. Token ids are i32. All offsets are in elements.
//
// WGSL has no float atomics, so the gradient is a gather too: one thread per table element (v, k)
// scans every id and sums the rows of dInp whose id is v, in row order: deterministic, the same
// summation order as the CPU's scatter-add, and no barriers (the threads of a warp read the same id,
// a broadcast load; barriers are what SwiftShader is slowest at).

import { KernelDef, Recorder, gridFor, perItemKernel } from './context';

const WG = 64;

const gather = perItemKernel({
  name: 'embeddingGather', workgroupSize: WG,
  buffers: [['ids', 'read', 'array<i32>'], ['table', 'read'], ['out', 'rw']],
  params: 'n: u32, E: u32, idsOff: u32, outOff: u32',
  count: 'p.n',
  body: /* wgsl */ `
  let r = i / p.E;
  let k = i - r * p.E;
  let id = ids[p.idsOff + r];
  let V = arrayLength(&table) / p.E;
  var v = 0.0;
  if (id >= 0 && u32(id) < V) { v = table[u32(id) * p.E + k]; }
  out[p.outOff + i] = v;`,
});

const backward = perItemKernel({
  name: 'embeddingBackward', workgroupSize: WG,
  buffers: [['ids', 'read', 'array<i32>'], ['dInp', 'read'], ['gTable', 'rw']],
  params: 'R: u32, E: u32, V: u32, idsOff: u32, dOff: u32',
  count: 'p.V * p.E',
  body: /* wgsl */ `
  let v = i / p.E;
  let k = i - v * p.E;
  let vi = i32(v);
  var acc = 0.0;
  for (var r = 0u; r < p.R; r++) {
    if (ids[p.idsOff + r] == vi) { acc += dInp[p.dOff + r * p.E + k]; }
  }
  gTable[i] = acc;`,
});

/** Both embedding kernels, e.g. to compile them ahead of time. */
export const EMBEDDING_KERNELS: readonly KernelDef[] = [gather, backward];

/**
 * out[outOff + r*E + k] = table[ids[idsOff + r]*E + k] for r < R, k < E. An id outside the table
 * (negative, or ≥ table rows) gathers zeros (the CPU model throws; validate ids on upload).
 */
export function embeddingGather(rec: Recorder, R: number, E: number, ids: GPUBuffer, idsOff: number, table: GPUBuffer, out: GPUBuffer, outOff: number): void {
  const n = R * E;
  if (n === 0) return;
  rec.dispatch(gather, [ids, table, out], [n, E, idsOff, outOff], gridFor(n, WG));
}

/**
 * gTable[v*E + k] = Σ_{r < R: ids[idsOff + r] == v} dInp[dInpOff + r*E + k] for every v < V, k < E.
 * OVERWRITES gTable (rows no id selects become zero). Ids outside [0, V) contribute nothing.
 */
export function embeddingBackward(rec: Recorder, R: number, E: number, V: number, ids: GPUBuffer, idsOff: number, dInp: GPUBuffer, dInpOff: number, gTable: GPUBuffer): void {
  if (E === 0 || V === 0) return;
  rec.dispatch(backward, [ids, dInp, gTable], [R, E, V, idsOff, dInpOff], gridFor(V * E, WG));
}
