// The WebGPU plumbing: a kernel through the recorder, uniform parameters, errors named by kernel.

import * as assert from 'assert';
import { GpuError, KernelDef, Recorder } from '../kernels/webgpu/context';
import { GpuContext } from '../kernels/webgpu/context';
import { requireGpu } from './gpuContext';

const scale: KernelDef = {
  name: 'scaleTest',
  key: 'scaleTest',
  bindings: ['read', 'rw'],
  code: `
struct P { n: u32, off: u32, s: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.n) { y[p.off + g.x] = x[g.x] * p.s; }
}`,
};

describe('webgpu context', () => {
  let ctx: GpuContext;
  before(async function () {
    ctx = await requireGpu(this);
    console.log(`      adapter: ${ctx.adapterName}`);
  });

  it('records dispatches with their own parameters and replays them', async () => {
    const x = ctx.createBuffer('x', 100 * 4);
    const y = ctx.createBuffer('y', 200 * 4);
    ctx.upload(x, new Float32Array(100).map((_, i) => i));
    const rec = new Recorder(ctx, 'test');
    rec.dispatch(scale, [x, y], [100, 0, { f: 2 }], [2]);
    rec.dispatch(scale, [x, y], [100, 100, { f: -1 }], [2]);
    await rec.run();
    const out = await ctx.readF32(y, 200);
    assert.strictEqual(out[7], 14);
    assert.strictEqual(out[107], -7);
    await rec.run(); // replay
    assert.strictEqual((await ctx.readF32(y, 200))[199], -99);
  });

  it('a WGSL error becomes a GpuError that names the kernel', async () => {
    const bad: KernelDef = { ...scale, name: 'brokenKernel', key: 'brokenKernel', code: scale.code.replace('x[g.x] * p.s', 'x[g.x] * undefinedThing') };
    await assert.rejects(ctx.compile(bad), (e: unknown) => e instanceof GpuError && /brokenKernel/.test(e.message));
  });
});
