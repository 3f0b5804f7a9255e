// The WebAssembly kernel module's entry: every kernel the wasm engine calls, compiled by
// kernels/wasm/build.mjs into the variants simd, relaxed, simdShared and relaxedShared, and typed for
// TypeScript by kernels/wasm/module.ts (WasmKernels). Rules every export keeps: parameters are i32
// (byte addresses into the one imported memory, counts, 0/1 flags) or f32/f64; no return values (the
// results go to memory, so a thread pool can run any kernel); no allocation, no mutable globals, no
// static scratch (threads share the instance code and the memory); a splittable kernel takes its range
// [lo, hi) as its last two parameters and writes only inside it. The first 64 KiB of memory are
// reserved for AssemblyScript (the arena starts above).
export { packB_NT, packB_NN } from './pack';
export { gemm, addBiasRows, sumRows } from './gemm';
export { lstmFwd, lstmBwd, gruFwd, gruBwd, rnnFwd, rnnBwd } from './cells';
export { add, mul, addInPlace, fill, copy, scale } from './elementwise';
export { embedGather, embedGrad } from './embed';
export { softmaxXent } from './loss';
export { dropoutMask } from './dropout';
export { sumSquares, adam } from './optim';
