// WebGPU in a browser (the webview): the same GpuContext on `navigator.gpu`. When there is no
// adapter the reason says so and what to try, so the panel can tell the user and fall back to the
// CPU backend.

import { GpuContext, contextFromAdapter } from './context';

export async function createBrowserGpuContext(): Promise<{ ctx: GpuContext | null; why?: string; isFallbackAdapter?: boolean }> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return { ctx: null, why: 'this browser has no WebGPU (navigator.gpu is missing); VS Code may need --enable-unsafe-webgpu on Linux' };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { ctx: null, why: 'no WebGPU adapter: the GPU may be blocked for this browser (on Linux start VS Code with --enable-unsafe-webgpu --enable-features=Vulkan)' };
  // A fallback adapter is a software one ("auto" never trains there); older browsers say so on the adapter itself.
  const isFallbackAdapter = adapter.info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return { ctx: await contextFromAdapter(adapter), isFallbackAdapter };
}
