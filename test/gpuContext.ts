// One WebGPU device for every *.gpu.test.ts file in this mocha process. Under CI (test/ci.ts) a
// missing adapter fails the run; elsewhere the GPU tests are reported as pending with the reason.

import { createNodeGpuContext } from '../kernels/node/webgpu';
import { GpuContext } from '../kernels/webgpu/context';
import { skipOrFailUnderCI } from './ci';

let shared: Promise<{ ctx: GpuContext | null; why?: string }> | null = null;

export function sharedGpu(): Promise<{ ctx: GpuContext | null; why?: string }> {
  shared ??= createNodeGpuContext();
  return shared;
}

/** Call in a `before` hook: returns the context, or fails (CI) / skips (elsewhere) without one. */
export async function requireGpu(self: Mocha.Context): Promise<GpuContext> {
  const { ctx, why } = await sharedGpu();
  if (ctx) return ctx;
  skipOrFailUnderCI(self, `no WebGPU: ${why}`);
}
