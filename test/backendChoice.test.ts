// Where "auto" trains (kernels/backendChoice.ts), in plain Node: never on a software WebGPU adapter,
// always with a sentence that says why.

import * as assert from 'assert';
import { chooseTrainingBackend, softwareAdapterReason } from '../kernels/backendChoice';

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

    it('auto trains on the CPU on a software adapter, and says so', () => {
      const d = chooseTrainingBackend('auto', swiftshader);
      assert.deepStrictEqual(d, { ok: true, backend: 'cpu', reason: 'WebGPU adapter is SwiftShader, a software renderer: training on the CPU, which is faster here' });
    });

    it('auto trains on WebGPU on a hardware GPU, and on the CPU without an adapter or a panel', () => {
      const gpu = chooseTrainingBackend('auto', h200);
      assert.ok(gpu.ok && gpu.backend === 'webgpu' && /NVIDIA H200 is a hardware GPU/.test(gpu.reason), JSON.stringify(gpu));
      const noAdapter = chooseTrainingBackend('auto', none);
      assert.ok(noAdapter.ok && noAdapter.backend === 'cpu' && /not available in the panel \(no WebGPU adapter/.test(noAdapter.reason), JSON.stringify(noAdapter));
      const noPanel = chooseTrainingBackend('auto', null);
      assert.ok(noPanel.ok && noPanel.backend === 'cpu' && /panel did not start/.test(noPanel.reason), JSON.stringify(noPanel));
      // A panel of an older protocol that does not say whether the adapter is a software one.
      const unknown = chooseTrainingBackend('auto', { available: true, adapter: 'x', why: '' });
      assert.ok(unknown.ok && unknown.backend === 'webgpu', JSON.stringify(unknown));
    });

    it('"webgpu" chosen explicitly still trains on a software adapter, with a note', () => {
      const d = chooseTrainingBackend('webgpu', swiftshader);
      assert.ok(d.ok && d.backend === 'webgpu', JSON.stringify(d));
      assert.match(d.ok ? d.note ?? '' : '', /SwiftShader, a software renderer: training there is slower than on the CPU/);
      const hw = chooseTrainingBackend('webgpu', h200);
      assert.ok(hw.ok && hw.backend === 'webgpu' && hw.note === undefined, JSON.stringify(hw));
    });

    it('"webgpu" without an adapter is an error that says what to do; "cpu" needs no panel', () => {
      const d = chooseTrainingBackend('webgpu', none);
      assert.ok(!d.ok && /not available .*no WebGPU adapter.*Set gatescope.training.backend to "auto" or "cpu"/.test(d.error), JSON.stringify(d));
      const cpu = chooseTrainingBackend('cpu', null);
      assert.ok(cpu.ok && cpu.backend === 'cpu' && /"cpu"/.test(cpu.reason), JSON.stringify(cpu));
    });
  });
});
