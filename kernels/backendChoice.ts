// Where a training run goes, decided in pure functions: the backend setting (`--backend`,
// `gatescope.training.backend`), what is known about the WebGPU adapter and whether WebAssembly SIMD
// runs here in; the backend and a sentence saying why out.
//  - "auto" never trains on a software adapter (SwiftShader, llvmpipe, lavapipe, WARP, a CPU device, a
//    fallback adapter): the CPU engine is several times faster there.
//  - On a hardware GPU with WebAssembly SIMD available, "auto" cannot know which is faster (a small
//    model can be faster on the CPU than through a GPU's dispatch latency): the decision says `probe`,
//    the caller times a few steps of the actual model on both, and chooseByProbe picks the faster.
//  - Without WebAssembly SIMD, the CPU engine is the TypeScript reference (kernels/cpu), with a
//    one-line notice (FALLBACK_NOTICE).
// No DOM, Node or vscode imports.

import type { TrainingBackend } from './backend';
import type { BackendKind } from './session';

export type BackendSetting = 'auto' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['auto', 'webgpu', 'wasm', 'cpu'];

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

/** What is known about WebGPU (the panel's, or Dawn's in the CLI; webview/protocol.ts's GpuInfo has these fields). */
export interface WebGpuFacts {
  available: boolean;
  adapter: string;
  why: string;
  /** softwareAdapterReason of the adapter ('' for a hardware GPU, absent when unknown). */
  software?: string;
}

/** Whether the WebAssembly SIMD engine runs here (kernels/wasm/module.ts wasmSupport's fields). */
export interface WasmFacts {
  simd: boolean;
  /** Why not, in words, when !simd. */
  reason: string;
}

/** The one-line notice when the CPU engine has to be the reference one. */
export function fallbackNotice(reason: string): string {
  return `WebAssembly SIMD is not available here (${reason || 'no reason given'}): training on the reference CPU engine, which is several times slower.`;
}

export type BackendDecision =
  | {
    ok: true;
    backend: BackendKind;
    reason: string;
    /** A warning to show beside the run (an explicit choice that is slow here, or the reference fallback). */
    note?: string;
    /**
     * "auto" on a hardware GPU with WebAssembly SIMD: `backend` is 'webgpu' until a timed probe of
     * both says otherwise (chooseByProbe).
     */
    probe?: boolean;
  }
  | { ok: false; error: string };

/** The CPU engine: WebAssembly SIMD when it runs here, else the reference with the notice. */
function cpuEngine(wasm: WasmFacts, why: string): Extract<BackendDecision, { ok: true }> {
  if (wasm.simd) return { ok: true, backend: 'wasm', reason: `${why}: training on the CPU (WebAssembly SIMD)` };
  return { ok: true, backend: 'cpu', reason: `${why}: training on the reference CPU engine`, note: fallbackNotice(wasm.reason) };
}

/**
 * Picks the backend for a run. `gpu` is null when nothing is known about WebGPU (the panel did not
 * start), and is not needed for "cpu" and "wasm".
 */
export function chooseTrainingBackend(wanted: BackendSetting, gpu: WebGpuFacts | null, wasm: WasmFacts): BackendDecision {
  if (wanted === 'cpu') return { ok: true, backend: 'cpu', reason: 'the backend setting is "cpu": training on the reference CPU engine' };
  if (wanted === 'wasm') return cpuEngine(wasm, 'the backend setting is "wasm"');
  const missing = !gpu ? 'the GateScope panel did not start' : !gpu.available ? gpu.why || 'no WebGPU adapter' : '';
  if (missing) {
    if (wanted === 'webgpu') return { ok: false, error: `WebGPU is not available: ${missing}. Choose the backend "auto" or "wasm" to train on the CPU.` };
    return cpuEngine(wasm, `WebGPU is not available (${missing})`);
  }
  const adapter = gpu!.adapter || 'an unnamed adapter';
  const software = gpu!.software ?? '';
  if (wanted === 'webgpu') {
    const reason = `the backend setting is "webgpu": training on WebGPU (${adapter})`;
    if (!software) return { ok: true, backend: 'webgpu', reason };
    return { ok: true, backend: 'webgpu', reason, note: `The WebGPU adapter is ${software}: training there is slower than on the CPU. Choose the backend "auto" or "wasm" to train on the CPU.` };
  }
  if (software) return cpuEngine(wasm, `the WebGPU adapter is ${software}, slower than the CPU`);
  if (!wasm.simd) return { ok: true, backend: 'webgpu', reason: `WebGPU adapter ${adapter} is a hardware GPU and WebAssembly SIMD is not available here (${wasm.reason}): training on WebGPU` };
  return { ok: true, backend: 'webgpu', probe: true, reason: `WebGPU adapter ${adapter} is a hardware GPU: timing a few steps on WebGPU and on the CPU (WebAssembly SIMD) to pick the faster` };
}

/** One side of the timed probe: seconds per training step of the actual model, or why it failed. */
export type ProbeTiming = { ok: true; secondsPerStep: number } | { ok: false; error: string };

export interface BackendProbe {
  adapter: string;
  /** Threads of the WebAssembly engine. */
  threads: number;
  webgpu: ProbeTiming;
  wasm: ProbeTiming;
}

/**
 * WebGPU must be this much faster to be chosen: within it the two are a tie, and the CPU engine wins
 * it (timings of a few steps are noisy, and a run on the CPU does not depend on the GPU staying there:
 * in VS Code, the panel that holds the device may be closed).
 */
export const PROBE_TIE_RATIO = 1.1;

function ms(seconds: number): string {
  const v = seconds * 1000;
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms/step`;
}

/** The probe's verdict: the faster backend, and one sentence with both figures. */
export function chooseByProbe(p: BackendProbe): { backend: BackendKind; reason: string } {
  const gpuName = `WebGPU (${p.adapter || 'an unnamed adapter'})`;
  const cpuName = `WebAssembly SIMD with ${p.threads} thread${p.threads === 1 ? '' : 's'}`;
  const figure = (name: string, t: ProbeTiming) => `${name} ${t.ok ? ms(t.secondsPerStep) : `failed (${t.error})`}`;
  const figures = `timed probe: ${figure(gpuName, p.webgpu)}, ${figure(cpuName, p.wasm)}`;
  const valid = (t: ProbeTiming) => t.ok && Number.isFinite(t.secondsPerStep) && t.secondsPerStep > 0;
  const g = valid(p.webgpu), w = valid(p.wasm);
  if (!g && !w) return { backend: 'cpu', reason: `${figures}: neither engine could be timed, training on the reference CPU engine` };
  if (!g) return { backend: 'wasm', reason: `${figures}: training on the CPU (WebAssembly SIMD)` };
  if (!w) return { backend: 'webgpu', reason: `${figures}: training on WebGPU` };
  const gs = (p.webgpu as { secondsPerStep: number }).secondsPerStep, ws = (p.wasm as { secondsPerStep: number }).secondsPerStep;
  if (gs * PROBE_TIE_RATIO < ws) return { backend: 'webgpu', reason: `${figures}: training on WebGPU, ${(ws / gs).toFixed(1)}× faster` };
  if (ws < gs) return { backend: 'wasm', reason: `${figures}: training on the CPU (WebAssembly SIMD), ${(gs / ws).toFixed(1)}× faster` };
  return { backend: 'wasm', reason: `${figures}: WebGPU is less than ${Math.round((PROBE_TIE_RATIO - 1) * 100)}% faster, a tie: training on the CPU (WebAssembly SIMD)` };
}

/** The shape of the probe: warm-up steps (pipeline compilation, first allocations) and timed ones. */
export const PROBE_STEPS = { warmup: 2, timed: 3 };

/**
 * Times a few training steps of the actual model (`create` builds a throw-away backend on a copy of
 * the run's parameters) on random tokens of the run's window shape: the median of the timed steps.
 * Never throws: a failure is a ProbeTiming saying why. Uses `performance.now()` (Node and browsers).
 */
export async function probeBackend(create: () => Promise<TrainingBackend>, vocabSize: number, seqLen: number, batchSize: number): Promise<ProbeTiming> {
  let backend: TrainingBackend | null = null;
  try {
    backend = await create();
    const n = seqLen * batchSize;
    const x = new Int32Array(n), y = new Int32Array(n);
    let seed = 12345;
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      x[i] = seed % vocabSize;
      y[(i + n - 1) % n] = x[i];
    }
    for (let i = 0; i < PROBE_STEPS.warmup; i++) await backend.trainStep(x, y, seqLen, batchSize, { resetState: i === 0 });
    const times: number[] = [];
    for (let i = 0; i < PROBE_STEPS.timed; i++) {
      const t0 = performance.now();
      await backend.trainStep(x, y, seqLen, batchSize, { resetState: false });
      times.push((performance.now() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    return { ok: true, secondsPerStep: times[times.length >> 1] };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    backend?.dispose();
  }
}
