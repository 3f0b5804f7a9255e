// The register-only peak of 128-bit WebAssembly SIMD on this core (no loads), the ceiling to quote GEMM
// GFLOP/s against: node kernels/wasm/peak.mjs (builds kernels/wasm/assembly/peak.ts into build/wasm/ first;
// peak.ts is not part of the kernel module). On a busy machine read the best figure, not the median.
import asc from 'assemblyscript/asc';
import { readFileSync, mkdirSync } from 'fs';
import v8 from 'v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
mkdirSync('build/wasm', { recursive: true });
for (const v of ['simd', 'relaxed']) {
  const flags = v === 'relaxed' ? ['--enable', 'simd', '--enable', 'relaxed-simd'] : ['--enable', 'simd'];
  const { error, stderr } = await asc.main(['kernels/wasm/assembly/peak.ts', '-O3', '--noAssert', '--runtime', 'stub', ...flags, '-o', `build/wasm/peak.${v}.wasm`]);
  if (error) { console.error(stderr.toString()); process.exit(1); }
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(`build/wasm/peak.${v}.wasm`)), {});
  const n = 2e7; exports.peak8(1000, 0.5);
  const ts = [];
  for (let r = 0; r < 7; r++) { const t = performance.now(); exports.peak8(n, 0.5); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  console.log(`${v}: register-only, 8 v128 accumulators: ${(n * 64 / ts[0] / 1e6).toFixed(1)} GFLOP/s best, ${(n * 64 / ts[3] / 1e6).toFixed(1)} median`);
}
