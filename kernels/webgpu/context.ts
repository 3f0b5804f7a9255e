// The WebGPU device as the backend uses it: pipelines compiled once and cached by key, explicit
// bind-group layouts, storage buffers, readback, and errors that are never silent: validation errors
// become GpuError exceptions naming the kernel, and a lost device is reported with its reason.
// Runs in Node (Dawn through the `webgpu` package, see kernels/node/webgpu.ts) and in the browser.

/** Binding kinds, in binding order: read-only storage, read-write storage. A kernel's uniform
 * parameters are always the last binding, with a dynamic offset into the recorder's uniform buffer. */
export type BindingKind = 'read' | 'rw';

export interface KernelDef {
  /** Human-readable name used in error messages, e.g. 'gemmNT'. */
  name: string;
  /** Cache key: name plus every compile-time constant baked into `code`. */
  key: string;
  /** WGSL with one entry point `main`; storage bindings 0..n-1 in `bindings` order, uniforms at n. */
  code: string;
  bindings: BindingKind[];
}

export class GpuError extends Error {
  constructor(message: string, readonly kernel?: string) {
    super(message);
    this.name = 'GpuError';
  }
}

/** Size of one uniform slot: the minimum dynamic-offset alignment WebGPU guarantees. */
export const UNIFORM_SLOT = 256;

interface CompiledKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class GpuContext {
  private readonly kernels = new Map<string, CompiledKernel>();
  private lostInfo: GPUDeviceLostInfo | null = null;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private uncaptured: string | null = null;

  constructor(readonly device: GPUDevice, readonly adapterName: string) {
    device.lost.then((info) => {
      this.lostInfo = info;
      for (const l of this.lostListeners) l(`${info.reason}: ${info.message}`);
    });
    device.addEventListener('uncapturederror', (e: Event) => {
      const err = (e as GPUUncapturedErrorEvent).error;
      this.uncaptured ??= err.message;
    });
  }

  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  /** Why the device was lost, or null. */
  get lostReason(): string | null {
    return this.lostInfo ? `${this.lostInfo.reason || 'unknown'}: ${this.lostInfo.message}` : null;
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** Throws if the device is lost or an error escaped the error scopes. */
  assertHealthy(what: string): void {
    if (this.lostInfo) throw new GpuError(`${what}: the GPU device was lost (${this.lostReason})`);
    if (this.uncaptured) {
      const m = this.uncaptured;
      this.uncaptured = null;
      throw new GpuError(`${what}: WebGPU error: ${m}`);
    }
  }

  /** The compiled pipeline of a kernel (compiled on first use, inside an error scope). */
  kernel(def: KernelDef): CompiledKernel {
    let k = this.kernels.get(def.key);
    if (k) return k;
    const d = this.device;
    const entries: GPUBindGroupLayoutEntry[] = def.bindings.map((b, i) => ({
      binding: i,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: b === 'read' ? 'read-only-storage' : 'storage' },
    }));
    entries.push({ binding: def.bindings.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } });
    const layout = d.createBindGroupLayout({ label: def.name, entries });
    const module = d.createShaderModule({ label: def.name, code: def.code });
    const pipeline = d.createComputePipeline({
      label: def.name,
      layout: d.createPipelineLayout({ label: def.name, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    k = { pipeline, layout };
    this.kernels.set(def.key, k);
    return k;
  }

  /** Compiles a kernel and reports WGSL or validation errors as a GpuError naming it. */
  async compile(def: KernelDef): Promise<void> {
    if (this.kernels.has(def.key)) return;
    this.device.pushErrorScope('validation');
    this.kernel(def);
    const err = await this.device.popErrorScope();
    if (err) {
      this.kernels.delete(def.key);
      throw new GpuError(`kernel ${def.name} failed to compile: ${err.message}`, def.name);
    }
  }

  createBuffer(label: string, bytes: number, extraUsage = 0): GPUBuffer {
    return this.device.createBuffer({
      label,
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    });
  }

  upload(buffer: GPUBuffer, data: ArrayBufferView, offsetBytes = 0): void {
    this.device.queue.writeBuffer(buffer, offsetBytes, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Copies `bytes` from a buffer to a staging buffer and maps it (waits for the GPU). */
  async read(buffer: GPUBuffer, bytes = buffer.size, offsetBytes = 0): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({ label: 'readback', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, offsetBytes, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.assertHealthy('reading a GPU buffer');
      throw new GpuError(`reading a GPU buffer failed: ${(e as Error).message}`);
    }
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return out;
  }

  async readF32(buffer: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, count * 4, offset * 4));
  }
}

/**
 * A device on `adapter` with the largest storage limits it offers (the backend binds whole
 * parameter and activation buffers), wrapped in a GpuContext named after the adapter.
 */
export async function contextFromAdapter(adapter: GPUAdapter): Promise<GpuContext> {
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(10, limits.maxStorageBuffersPerShaderStage),
    },
  });
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  return new GpuContext(device, name);
}

/** Uniform parameters of one dispatch: u32 values, or f32 values given as { f: x }. */
export type Param = number | { f: number };

interface Dispatch {
  kernel?: CompiledKernel;
  def: KernelDef;
  buffers: GPUBuffer[];
  slot: number;
  groups: [number, number, number];
  bindGroup?: GPUBindGroup;
}

/**
 * Records a sequence of dispatches once and replays it: every dispatch's parameters live in one
 * uniform buffer (a 256-byte slot each, selected by dynamic offset) and every bind group is built
 * once, so encoding a training step allocates nothing. Ops append dispatches through `dispatch`.
 */
export class Recorder {
  private readonly list: Dispatch[] = [];
  private params: Uint32Array = new Uint32Array(0);
  private uniform: GPUBuffer | null = null;
  private finalized = false;
  private readonly bindGroups = new Map<string, GPUBindGroup>();

  constructor(readonly ctx: GpuContext, readonly label = 'recorder') {}

  get length(): number {
    return this.list.length;
  }

  dispatch(def: KernelDef, buffers: GPUBuffer[], params: Param[], groups: [number, number?, number?]): void {
    if (this.finalized) throw new Error('recorder already finalized');
    if (buffers.length !== def.bindings.length) throw new Error(`${def.name}: ${buffers.length} buffers for ${def.bindings.length} bindings`);
    if (params.length > UNIFORM_SLOT / 4) throw new Error(`${def.name}: too many parameters`);
    const slot = this.list.length;
    const words = UNIFORM_SLOT / 4;
    if (this.params.length < (slot + 1) * words) {
      const grown = new Uint32Array(Math.max(words * 64, this.params.length * 2));
      grown.set(this.params);
      this.params = grown;
    }
    const f32 = new Float32Array(this.params.buffer);
    params.forEach((p, i) => {
      if (typeof p === 'number') this.params[slot * words + i] = p >>> 0;
      else f32[slot * words + i] = p.f;
    });
    const [x, y = 1, z = 1] = groups;
    const max = 65535;
    if (x > max || y > max || z > max) throw new Error(`${def.name}: dispatch of ${x}×${y}×${z} workgroups exceeds ${max}`);
    this.list.push({ def, buffers, slot, groups: [x, y, z] });
  }

  /** Compiles every kernel (reporting errors by name), uploads the parameters, builds bind groups. */
  async finalize(): Promise<void> {
    if (this.finalized) return;
    const seen = new Set<string>();
    for (const d of this.list) {
      if (!seen.has(d.def.key)) {
        seen.add(d.def.key);
        await this.ctx.compile(d.def);
      }
      d.kernel = this.ctx.kernel(d.def);
    }
    const bytes = Math.max(UNIFORM_SLOT, this.list.length * UNIFORM_SLOT);
    this.uniform = this.ctx.device.createBuffer({ label: `${this.label} params`, size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.ctx.device.queue.writeBuffer(this.uniform, 0, this.params.buffer, 0, bytes);
    const ids = new Map<GPUBuffer, number>();
    const id = (b: GPUBuffer) => {
      let n = ids.get(b);
      if (n === undefined) ids.set(b, (n = ids.size));
      return n;
    };
    this.ctx.device.pushErrorScope('validation');
    for (const d of this.list) {
      const key = `${d.def.key}|${d.buffers.map(id).join(',')}`;
      let bg = this.bindGroups.get(key);
      if (!bg) {
        const entries: GPUBindGroupEntry[] = d.buffers.map((b, i) => ({ binding: i, resource: { buffer: b } }));
        entries.push({ binding: d.buffers.length, resource: { buffer: this.uniform, offset: 0, size: UNIFORM_SLOT } });
        bg = this.ctx.device.createBindGroup({ label: d.def.name, layout: d.kernel!.layout, entries });
        this.bindGroups.set(key, bg);
      }
      d.bindGroup = bg;
    }
    const err = await this.ctx.device.popErrorScope();
    if (err) throw new GpuError(`${this.label}: binding buffers failed: ${err.message}`);
    this.finalized = true;
  }

  /** Encodes every recorded dispatch into a compute pass. */
  encode(pass: GPUComputePassEncoder): void {
    if (!this.finalized) throw new Error('finalize() the recorder before encoding');
    const offset = [0];
    let current: GPUComputePipeline | null = null;
    for (const d of this.list) {
      const pipeline = d.kernel!.pipeline;
      if (pipeline !== current) {
        pass.setPipeline(pipeline);
        current = pipeline;
      }
      offset[0] = d.slot * UNIFORM_SLOT;
      pass.setBindGroup(0, d.bindGroup!, offset);
      pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
    }
  }

  /** Finalizes if needed, encodes everything in one pass and submits; resolves when the GPU is done. */
  async run(): Promise<void> {
    await this.finalize();
    const dev = this.ctx.device;
    dev.pushErrorScope('validation');
    const enc = dev.createCommandEncoder({ label: this.label });
    const pass = enc.beginComputePass({ label: this.label });
    this.encode(pass);
    pass.end();
    dev.queue.submit([enc.finish()]);
    const err = await dev.popErrorScope();
    if (err) throw new GpuError(`${this.label}: ${err.message}`);
    await dev.queue.onSubmittedWorkDone();
    this.ctx.assertHealthy(this.label);
  }

  destroy(): void {
    this.uniform?.destroy();
    this.uniform = null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Writing kernels: the dispatch size and the WGSL every kernel opens with, in one place.

/** Most workgroups per dispatch axis that WebGPU guarantees. */
export const MAX_GROUPS = 65535;

/**
 * The dispatch size [x, y] for `groups` workgroups that a kernel numbers linearly as
 * `wid.y * num_workgroups.x + wid.x`: one axis up to 65535, then as square as the limit allows
 * (the kernel skips the few ids past `groups` by its bounds check).
 */
export function dispatchGrid(groups: number): [number, number] {
  if (groups <= MAX_GROUPS) return [groups, 1];
  const y = Math.ceil(groups / MAX_GROUPS);
  if (y > MAX_GROUPS) throw new Error(`dispatch of ${groups} workgroups is too large`);
  return [Math.ceil(groups / y), y];
}

/** The dispatch for `items` work items, `perGroup` of them to a workgroup: at least one workgroup,
 * laid out by dispatchGrid. */
export function gridFor(items: number, perGroup: number): [number, number] {
  return dispatchGrid(Math.max(1, Math.ceil(items / perGroup)));
}

/** One storage buffer of a kernel, in binding order: its WGSL name, its access, and its WGSL type
 * (array<f32> unless given). */
export type StorageBuffer = [name: string, kind: BindingKind, type?: string];

/**
 * A kernel whose storage-buffer binding kinds and WGSL declarations come from one list (so the two
 * cannot disagree), with `struct P { <params> }` bound as the uniform `p` after them; `code` holds the
 * rest of the module (helpers, workgroup variables, `main`).
 */
export function declaredKernel(name: string, key: string, buffers: readonly StorageBuffer[], params: string, code: string): KernelDef {
  const decls = buffers.map(([buffer, kind, type = 'array<f32>'], i) =>
    `@group(0) @binding(${i}) var<storage, ${kind === 'read' ? 'read' : 'read_write'}> ${buffer}: ${type};`);
  return {
    name,
    key,
    bindings: buffers.map((b) => b[1]),
    code: ['', `struct P { ${params} }`, ...decls, `@group(0) @binding(${buffers.length}) var<uniform> p: P;`, code].join('\n'),
  };
}

/** A kernel that gives each thread one item (an element, a row, a column), dispatched with gridFor. */
export interface PerItemKernel {
  /** Kernel name, for error messages; with the workgroup size, the pipeline cache key. */
  name: string;
  workgroupSize: number;
  buffers: readonly StorageBuffer[];
  /** Fields of the uniform struct P, e.g. 'n: u32, off: u32, scale: f32'. */
  params: string;
  /** WGSL placed before `main`: helper functions and structs. */
  prelude?: string;
  /** Name of the thread's item index in `main` (default `i`). */
  index?: string;
  /** WGSL count of items: threads whose index reaches it return at once. */
  count: string;
  /** The rest of `main`'s body. */
  body: string;
}

/** The KernelDef of a PerItemKernel: declarations, the linear thread index over the 2-D grid, the bounds check, the body. */
export function perItemKernel(k: PerItemKernel): KernelDef {
  const i = k.index ?? 'i';
  const wg = k.workgroupSize;
  return declaredKernel(k.name, `${k.name}:wg${wg}`, k.buffers, k.params, /* wgsl */ `${k.prelude ?? ''}
@compute @workgroup_size(${wg}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                                   @builtin(local_invocation_index) lid: u32) {
  let ${i} = (wid.y * nwg.x + wid.x) * ${wg}u + lid;
  if (${i} >= ${k.count}) { return; }
${k.body}
}`);
}
