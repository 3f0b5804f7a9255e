// Embedding gather (forward) and gradient scatter-add (backward): the WebAssembly twins of the
// embedding code in kernels/cpu/model.ts. ids is an i32 array the caller has validated (0 <= id < V).

/** out[r, :] = emb[ids[r], :] for rows [r0, r1) (rows of E floats). */
export function embedGather(E: i32, ids: usize, emb: usize, out: usize, r0: i32, r1: i32): void {
  const rowBytes = <usize>E << 2;
  for (let r = r0; r < r1; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    memory.copy(out + <usize>r * rowBytes, emb + <usize>id * rowBytes, rowBytes);
  }
}

/** gemb[ids[r], k] += dInp[r, k] for all R rows and k in [k0, k1); zeroing gemb is the caller's job.
 *  Split by columns, so threads never add to the same float. */
export function embedGrad(R: i32, E: i32, ids: usize, dInp: usize, gemb: usize, k0: i32, k1: i32): void {
  const rowBytes = <usize>E << 2;
  for (let r = 0; r < R; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    const d = gemb + <usize>id * rowBytes, s = dInp + <usize>r * rowBytes;
    let k = k0;
    for (; k + 4 <= k1; k += 4) { const o = <usize>k << 2; v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o))); }
    for (; k < k1; k++) { const o = <usize>k << 2; store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o)); }
  }
}
