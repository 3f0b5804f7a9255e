// WebGPU in Node through the `webgpu` npm package (Dawn). On a machine without a GPU, Dawn runs on
// SwiftShader's Vulkan driver (Debian's chromium-common ships it; libvulkan1 is the loader).
// The object returned by create() must stay referenced while its device lives, or the process
// crashes when it is garbage-collected: it is kept in a module-level variable here.

import { GpuContext, contextFromAdapter } from '../webgpu/context';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let gpuInstance: GPU | null = null;

export interface NodeGpuOptions {
  powerPreference?: GPUPowerPreference;
}

/** A fresh device on the best adapter Dawn finds, or null (with the reason) when there is none. */
export async function createNodeGpuContext(opts: NodeGpuOptions = {}): Promise<{ ctx: GpuContext | null; why?: string }> {
  const fs = await import('fs');
  if (!process.env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER_ICD) && !process.env.GATESCOPE_NO_SWIFTSHADER) {
    // Without a real GPU driver, use SwiftShader; a machine with a GPU driver keeps its own.
    const hasOtherIcd = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'].some((d) => fs.existsSync(d) && fs.readdirSync(d).length > 0);
    if (!hasOtherIcd) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  process.env.NODEVICE_SELECT ??= '1';
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('webgpu');
  } catch (e) {
    return { ctx: null, why: `the 'webgpu' package could not be loaded (${(e as Error).message.split('\n')[0]})` };
  }
  Object.assign(globalThis, mod.globals);
  gpuInstance ??= mod.create([]);
  const adapter = await gpuInstance.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) return { ctx: null, why: 'no WebGPU adapter (for SwiftShader: apt-get install chromium-common libvulkan1)' };
  return { ctx: await contextFromAdapter(adapter) };
}

/** The `navigator.gpu`-like object of this process (after createNodeGpuContext), for libraries that want one. */
export function nodeGpuInstance(): GPU | null {
  return gpuInstance;
}
