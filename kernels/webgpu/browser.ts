// WebGPU in a browser (the webview): the same GpuContext on `navigator.gpu`. When there is no
// adapter the reason says so and what to try, so the panel can tell the user and fall back to the
// CPU backend.

import { GpuContext } from './context';

export async function createBrowserGpuContext(): Promise<{ ctx: GpuContext | null; why?: string }> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return { ctx: null, why: 'this browser has no WebGPU (navigator.gpu is missing); VS Code may need --enable-unsafe-webgpu on Linux' };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { ctx: null, why: 'no WebGPU adapter: the GPU may be blocked for this browser (on Linux start VS Code with --enable-unsafe-webgpu --enable-features=Vulkan)' };
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(10, adapter.limits.maxStorageBuffersPerShaderStage),
    },
  });
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { ctx: new GpuContext(device, name) };
}
