// Where a run trains (kernels/backendChoice.ts), in plain Node: "auto" never on a software WebGPU
// adapter, on a hardware one only when a timed probe (fake timings here) finds WebGPU faster, the
// reference engine with its one-line notice without WebAssembly SIMD; always with a sentence that says why.

import * as assert from 'assert';
import type { TrainingBackend } from '../kernels/backend';
import { PROBE_STEPS, PROBE_TIE_RATIO, chooseByProbe, chooseTrainingBackend, fallbackNotice, probeBackend, softwareAdapterReason } from '../kernels/backendChoice';

describe('backend choice', () => {
  describe('softwareAdapterReason', () => {
    it('names the software renderers, wherever their name appears in the adapter info', () => {
      const cases: [Parameters<typeof softwareAdapterReason>[0], RegExp][] = [
        // What Chromium's SwiftShader adapter reports in the harness's webview.
        [{ vendor: 'google', architecture: 'swiftshader', device: '', description: '' }, /^SwiftShader, a software renderer$/],
        [{ vendor: 'Google Inc.', description: 'SwiftShader Device (Subzero)' }, /SwiftShader/],
        [{ vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' }, /^llvmpipe/],
        [{ description: 'Vulkan lavapipe' }, /^lavapipe/],
        [{ vendor: 'microsoft', architecture: 'warp' }, /^WARP/],
        [{ description: 'Microsoft Basic Render Driver' }, /^WARP/],
        [{ vendor: 'intel', architecture: '', device: 'cpu' }, /a CPU device/],
        [{ vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: true }, /fallback adapter/],
      ];
      for (const [facts, want] of cases) assert.match(softwareAdapterReason(facts), want, JSON.stringify(facts));
    });

    it('says nothing for hardware GPUs', () => {
      for (const facts of [
        { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA H200', isFallbackAdapter: false },
        { vendor: 'apple', architecture: 'metal-3' },
        { vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770' },
        { vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX (RADV NAVI31)' },
        { vendor: 'qualcomm', architecture: 'adreno-7xx', description: 'Adreno (TM) 740' },
        {},
      ]) assert.strictEqual(softwareAdapterReason(facts), '', JSON.stringify(facts));
    });
  });

  describe('chooseTrainingBackend', () => {
    const swiftshader = { available: true, adapter: 'google swiftshader', why: '', software: 'SwiftShader, a software renderer' };
    const h200 = { available: true, adapter: 'nvidia hopper NVIDIA H200', why: '', software: '' };
    const none = { available: false, adapter: '', why: 'no WebGPU adapter: the GPU may be blocked', software: '' };
    const simd = { simd: true, reason: '' };
    const noSimd = { simd: false, reason: 'forced off by GATESCOPE_NO_WASM_SIMD' };
    const notice = 'WebAssembly SIMD is not available here (forced off by GATESCOPE_NO_WASM_SIMD): training on the reference CPU engine, which is several times slower.';

    it('auto trains on the CPU (WebAssembly SIMD) on a software adapter, and says so', () => {
      const d = chooseTrainingBackend('auto', swiftshader, simd);
      assert.deepStrictEqual(d, { ok: true, backend: 'wasm', reason: 'the WebGPU adapter is SwiftShader, a software renderer, slower than the CPU: training on the CPU (WebAssembly SIMD)' });
    });

    it('auto probes on a hardware GPU, and trains on the CPU without an adapter or a panel', () => {
      const gpu = chooseTrainingBackend('auto', h200, simd);
      assert.ok(gpu.ok && gpu.backend === 'webgpu' && gpu.probe === true && /NVIDIA H200 is a hardware GPU: timing a few steps/.test(gpu.reason), JSON.stringify(gpu));
      const noAdapter = chooseTrainingBackend('auto', none, simd);
      assert.ok(noAdapter.ok && noAdapter.backend === 'wasm' && !noAdapter.probe && /not available \(no WebGPU adapter/.test(noAdapter.reason), JSON.stringify(noAdapter));
      const noPanel = chooseTrainingBackend('auto', null, simd);
      assert.ok(noPanel.ok && noPanel.backend === 'wasm' && /panel did not start/.test(noPanel.reason), JSON.stringify(noPanel));
      // A panel of an older protocol that does not say whether the adapter is a software one.
      const unknown = chooseTrainingBackend('auto', { available: true, adapter: 'x', why: '' }, simd);
      assert.ok(unknown.ok && unknown.backend === 'webgpu' && unknown.probe, JSON.stringify(unknown));
    });

    it('without WebAssembly SIMD, auto and "wasm" train on the reference with the one-line notice; a hardware GPU is used without a probe', () => {
      for (const d of [chooseTrainingBackend('auto', swiftshader, noSimd), chooseTrainingBackend('auto', none, noSimd), chooseTrainingBackend('wasm', null, noSimd)]) {
        assert.ok(d.ok && d.backend === 'cpu' && d.note === notice, JSON.stringify(d));
      }
      const gpu = chooseTrainingBackend('auto', h200, noSimd);
      assert.ok(gpu.ok && gpu.backend === 'webgpu' && !gpu.probe && gpu.note === undefined && /SIMD is not available here \(forced off/.test(gpu.reason), JSON.stringify(gpu));
      assert.strictEqual(fallbackNotice('no v128'), 'WebAssembly SIMD is not available here (no v128): training on the reference CPU engine, which is several times slower.');
    });

    it('"wasm" and "cpu" need no WebGPU; "cpu" is the reference engine, never with the notice', () => {
      const w = chooseTrainingBackend('wasm', null, simd);
      assert.deepStrictEqual(w, { ok: true, backend: 'wasm', reason: 'the backend setting is "wasm": training on the CPU (WebAssembly SIMD)' });
      for (const facts of [simd, noSimd]) {
        const cpu = chooseTrainingBackend('cpu', null, facts);
        assert.ok(cpu.ok && cpu.backend === 'cpu' && cpu.note === undefined && /"cpu"/.test(cpu.reason), JSON.stringify(cpu));
      }
    });

    it('"webgpu" chosen explicitly still trains on a software adapter, with a note, and never probes', () => {
      const d = chooseTrainingBackend('webgpu', swiftshader, simd);
      assert.ok(d.ok && d.backend === 'webgpu' && !d.probe, JSON.stringify(d));
      assert.match(d.ok ? d.note ?? '' : '', /SwiftShader, a software renderer: training there is slower than on the CPU/);
      const hw = chooseTrainingBackend('webgpu', h200, simd);
      assert.ok(hw.ok && hw.backend === 'webgpu' && hw.note === undefined && !hw.probe, JSON.stringify(hw));
    });

    it('"webgpu" without an adapter is an error that says what to do', () => {
      const d = chooseTrainingBackend('webgpu', none, simd);
      assert.ok(!d.ok && /not available: no WebGPU adapter.*Choose the backend "auto" or "wasm"/.test(d.error), JSON.stringify(d));
    });
  });

  describe('chooseByProbe (the timed probe, with fake timings)', () => {
    const adapter = 'nvidia hopper NVIDIA H200';
    const t = (secondsPerStep: number) => ({ ok: true as const, secondsPerStep });
    const failed = (error: string) => ({ ok: false as const, error });

    it('picks WebGPU when it is faster, with both figures and the ratio', () => {
      const c = chooseByProbe({ adapter, threads: 2, webgpu: t(0.004), wasm: t(0.0316) });
      assert.deepStrictEqual(c, {
        backend: 'webgpu',
        reason: 'timed probe: WebGPU (nvidia hopper NVIDIA H200) 4.00 ms/step, WebAssembly SIMD with 2 threads 31.6 ms/step: training on WebGPU, 7.9× faster',
      });
    });

    it('picks the CPU when it is faster (a small model, the GPU\'s dispatch latency)', () => {
      const c = chooseByProbe({ adapter, threads: 1, webgpu: t(0.0125), wasm: t(0.003) });
      assert.strictEqual(c.backend, 'wasm');
      assert.strictEqual(c.reason, 'timed probe: WebGPU (nvidia hopper NVIDIA H200) 12.5 ms/step, WebAssembly SIMD with 1 thread 3.00 ms/step: training on the CPU (WebAssembly SIMD), 4.2× faster');
    });

    it('a tie, or WebGPU less than PROBE_TIE_RATIO faster, goes to the CPU and says so', () => {
      for (const [g, w] of [[0.01, 0.01], [0.0095, 0.01], [0.01 / PROBE_TIE_RATIO + 1e-9, 0.01]]) {
        const c = chooseByProbe({ adapter, threads: 2, webgpu: t(g), wasm: t(w) });
        assert.strictEqual(c.backend, 'wasm', `${g} vs ${w}: ${c.reason}`);
        assert.match(c.reason, /less than 10% faster, a tie: training on the CPU/);
      }
      // Just past the margin, WebGPU wins.
      assert.strictEqual(chooseByProbe({ adapter, threads: 2, webgpu: t(0.01 / PROBE_TIE_RATIO - 1e-6), wasm: t(0.01) }).backend, 'webgpu');
      // The CPU just faster is not a tie.
      assert.match(chooseByProbe({ adapter, threads: 2, webgpu: t(0.0101), wasm: t(0.01) }).reason, /1\.0× faster$/);
    });

    it('a failing probe on one side picks the other and names the failure; both failing is the reference engine', () => {
      const g = chooseByProbe({ adapter, threads: 2, webgpu: failed('device lost: out of memory'), wasm: t(0.02) });
      assert.deepStrictEqual(g, { backend: 'wasm', reason: 'timed probe: WebGPU (nvidia hopper NVIDIA H200) failed (device lost: out of memory), WebAssembly SIMD with 2 threads 20.0 ms/step: training on the CPU (WebAssembly SIMD)' });
      const w = chooseByProbe({ adapter, threads: 2, webgpu: t(0.5), wasm: failed('memory.grow failed') });
      assert.strictEqual(w.backend, 'webgpu');
      assert.match(w.reason, /WebGPU \(.*\) 500 ms\/step, WebAssembly SIMD with 2 threads failed \(memory.grow failed\): training on WebGPU$/);
      const both = chooseByProbe({ adapter, threads: 2, webgpu: failed('a'), wasm: failed('b') });
      assert.strictEqual(both.backend, 'cpu');
      assert.match(both.reason, /failed \(a\).*failed \(b\): neither engine could be timed/);
    });

    it('a nonsense timing (NaN, 0, Infinity) counts as a failed probe', () => {
      for (const bad of [NaN, 0, Infinity, -1]) {
        assert.strictEqual(chooseByProbe({ adapter, threads: 2, webgpu: t(bad), wasm: t(0.5) }).backend, 'wasm', String(bad));
        assert.strictEqual(chooseByProbe({ adapter, threads: 2, webgpu: t(0.5), wasm: t(bad) }).backend, 'webgpu', String(bad));
      }
    });
  });

  describe('probeBackend', () => {
    /** A backend whose steps take `ms` each (busy-waiting), counting its steps and whether it was disposed. */
    function fake(msPerStep: number[], failAt = -1) {
      const log = { steps: 0, disposed: false, shapes: [] as string[] };
      const backend = {
        async trainStep(x: Int32Array, y: Int32Array, T: number, B: number) {
          if (log.steps === failAt) throw new Error('out of memory');
          const end = performance.now() + msPerStep[Math.min(log.steps, msPerStep.length - 1)];
          log.steps++;
          log.shapes.push(`${x.length} ${y.length} ${T} ${B} ${Math.max(...x) < 7 && Math.min(...x) >= 0}`);
          while (performance.now() < end) { /* busy */ }
          return { loss: 1, gradNorm: 1 };
        },
        dispose() { log.disposed = true; },
      };
      return { log, create: async () => backend as unknown as TrainingBackend };
    }

    it('times the steps after the warm-up on windows of the run\'s shape and disposes the backend', async () => {
      // Warm-up steps are slow (compilation); the timed ones take 1, 300 and 30 ms: the median is 30
      // (not the mean, 110, nor the least or the most; a busy machine only adds to each).
      const f = fake([500, 500, 1, 300, 30]);
      const r = await probeBackend(f.create, 7, 4, 3);
      assert.ok(r.ok, JSON.stringify(r));
      assert.ok(r.secondsPerStep >= 0.03 && r.secondsPerStep < 0.11, String(r.secondsPerStep));
      assert.strictEqual(f.log.steps, PROBE_STEPS.warmup + PROBE_STEPS.timed);
      assert.deepStrictEqual(new Set(f.log.shapes), new Set(['12 12 4 3 true']));
      assert.ok(f.log.disposed);
    });

    it('a failing step or a failing construction is a failed probe with the message, not a throw', async () => {
      const f = fake([1], 3);
      const r = await probeBackend(f.create, 7, 4, 3);
      assert.deepStrictEqual(r, { ok: false, error: 'out of memory' });
      assert.ok(f.log.disposed);
      const c = await probeBackend(async () => { throw new Error('no adapter'); }, 7, 4, 3);
      assert.deepStrictEqual(c, { ok: false, error: 'no adapter' });
    });
  });
});
