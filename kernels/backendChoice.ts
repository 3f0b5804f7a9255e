// Where a training run goes, decided in one pure function: the `gatescope.training.backend` setting
// and what the panel found out about its WebGPU adapter in, the backend and a sentence saying why out.
// "auto" never trains on a software adapter (SwiftShader, llvmpipe, lavapipe, WARP, a CPU device, a
// fallback adapter): the CPU engine is several times faster there. No DOM, Node or vscode imports.

export type BackendSetting = 'auto' | 'webgpu' | 'cpu';

/** What a WebGPU adapter says about itself (GPUAdapterInfo's strings, and whether it is a fallback adapter). */
export interface AdapterFacts {
  isFallbackAdapter?: boolean;
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

const SOFTWARE_RENDERERS: readonly (readonly [RegExp, string])[] = [
  [/swiftshader|subzero/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/softpipe/i, 'softpipe'],
  [/\bwarp\b|basic render driver/i, 'WARP'],
  [/\bcpu\b/i, 'a CPU device'],
];

/**
 * Why an adapter is a software one ("SwiftShader, a software renderer"), or '' for a hardware GPU.
 * The adapter's strings are matched as a whole, so a name split over vendor and device still counts.
 */
export function softwareAdapterReason(a: AdapterFacts): string {
  const text = [a.vendor, a.architecture, a.device, a.description].filter((s) => typeof s === 'string').join(' ');
  for (const [pattern, name] of SOFTWARE_RENDERERS) if (pattern.test(text)) return `${name}, a software renderer`;
  if (a.isFallbackAdapter === true) return 'a fallback adapter (a software renderer)';
  return '';
}

/** The panel's WebGPU as the decision needs it (webview/protocol.ts's GpuInfo has these fields). */
export interface WebGpuFacts {
  available: boolean;
  adapter: string;
  why: string;
  /** softwareAdapterReason of the adapter ('' for a hardware GPU, absent when unknown). */
  software?: string;
}

export type BackendDecision =
  | { ok: true; backend: 'cpu' | 'webgpu'; reason: string; /** A warning to show beside the run (an explicit choice that is slow here). */ note?: string }
  | { ok: false; error: string };

/**
 * Picks the backend for a run. `gpu` is null when the panel never said ready (it did not start), and
 * is not needed for "cpu".
 */
export function chooseTrainingBackend(wanted: BackendSetting, gpu: WebGpuFacts | null): BackendDecision {
  if (wanted === 'cpu') return { ok: true, backend: 'cpu', reason: 'gatescope.training.backend is "cpu": training on the CPU' };
  const missing = !gpu ? 'the GateScope panel did not start' : !gpu.available ? gpu.why || 'no WebGPU adapter' : '';
  if (missing) {
    if (wanted === 'webgpu') return { ok: false, error: `WebGPU is not available in the GateScope panel: ${missing}. Set gatescope.training.backend to "auto" or "cpu" to train on the CPU.` };
    return { ok: true, backend: 'cpu', reason: `WebGPU is not available in the panel (${missing}): training on the CPU` };
  }
  const adapter = gpu!.adapter || 'an unnamed adapter';
  const software = gpu!.software ?? '';
  if (wanted === 'webgpu') {
    if (!software) return { ok: true, backend: 'webgpu', reason: `gatescope.training.backend is "webgpu": training on WebGPU (${adapter})` };
    return {
      ok: true, backend: 'webgpu',
      reason: `gatescope.training.backend is "webgpu": training on WebGPU (${adapter})`,
      note: `The WebGPU adapter is ${software}: training there is slower than on the CPU. Set gatescope.training.backend to "auto" or "cpu" to train on the CPU.`,
    };
  }
  if (software) return { ok: true, backend: 'cpu', reason: `WebGPU adapter is ${software}: training on the CPU, which is faster here` };
  return { ok: true, backend: 'webgpu', reason: `WebGPU adapter ${adapter} is a hardware GPU: training on WebGPU` };
}
