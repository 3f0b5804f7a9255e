// The WebGPU GEMMs, row ops and pointwise ops against their CPU twins (kernels/cpu/gemm.ts, or plain
// loops for the pointwise ops): seeded random data at non-zero offsets inside larger buffers, shapes
// that are not multiples of the tiles, both accumulate modes, memory outside the written range
// checked untouched, and dispatches past 65535 workgroups on one axis.

import * as assert from 'assert';
import * as cpu from '../kernels/cpu/gemm';
import { Rng } from '../kernels/rng';
import { maxAbsDiff } from '../kernels/tensor';
import { GpuContext, Recorder } from '../kernels/webgpu/context';
import * as ew from '../kernels/webgpu/elementwise';
import * as gpu from '../kernels/webgpu/gemm';
import { requireGpu } from './gpuContext';

type Gemm = 'gemmNT' | 'gemmNN' | 'gemmTN';

/** Extra elements around every operand: reads must not use them, writes must not touch them. */
const PAD = 13;

function rand(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Exact equality of a buffer outside [off, off+n) with what was uploaded. */
function assertUntouched(what: string, got: Float32Array, before: Float32Array, off: number, n: number): void {
  for (let i = 0; i < got.length; i++) {
    if (i >= off && i < off + n) continue;
    if (!Object.is(got[i], before[i])) assert.fail(`${what}: element ${i} outside the written range [${off}, ${off + n}) changed: ${before[i]} → ${got[i]}`);
  }
}

/** Asserts max|gpu - cpu| ≤ rel · max(1, max|cpu|) over [off, off+n) and returns the error. */
function assertClose(what: string, got: Float32Array, want: Float32Array, off: number, n: number, rel: number): number {
  const g = got.subarray(off, off + n), w = want.subarray(off, off + n);
  const err = maxAbsDiff(g, w);
  const tol = rel * Math.max(1, maxAbs(w));
  assert.ok(err <= tol, `${what}: max |gpu - cpu| = ${err} > ${tol}`);
  return err;
}

describe('webgpu gemm and pointwise ops', function () {
  let ctx: GpuContext;
  const errors: string[] = [];

  before(async function () {
    ctx = await requireGpu(this);
  });

  after(() => {
    if (errors.length) console.log(`      max |gpu - cpu|:\n${errors.map((e) => `        ${e}`).join('\n')}`);
  });

  function buffer(label: string, data: Float32Array): GPUBuffer {
    const b = ctx.createBuffer(label, data.byteLength);
    ctx.upload(b, data);
    return b;
  }

  /** Runs one GEMM on the GPU (accumulate false, then true, each on fresh random C) and on the CPU. */
  async function checkGemm(
    op: Gemm, M: number, N: number, K: number, seed: number, modes = [false, true],
    opts: { aOff?: number; bOff?: number; pad?: number; exact?: boolean; want?: Partial<gpu.Variant> } = {},
  ): Promise<number> {
    const rng = new Rng(seed);
    let aOff = 1 + rng.int(7), bOff = 2 + rng.int(7);
    const cOff = 3 + rng.int(7);
    aOff = opts.aOff ?? aOff;
    bOff = opts.bOff ?? bOff;
    const pad = opts.pad ?? PAD;
    const A = rand(rng, aOff + M * K + pad);
    const B = rand(rng, bOff + N * K + pad);
    // exact: buffers of exactly the data's size (a multiple of 4 bytes, not of 16), not rounded up.
    const exact = (label: string, data: Float32Array) => {
      const b = ctx.device.createBuffer({ label, size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      ctx.upload(b, data);
      return b;
    };
    const gA = opts.exact ? exact('A', A) : buffer('A', A), gB = opts.exact ? exact('B', B) : buffer('B', B);
    if (opts.want) {
      const v = gpu.gemmVariant(op.slice(4) as gpu.Layout, M, N, K, gA, aOff, gB, bOff);
      for (const [k, x] of Object.entries(opts.want)) assert.strictEqual(v[k as keyof gpu.Variant], x, `${op} ${M}x${N}x${K}: variant ${k}`);
    }
    let worst = 0;
    for (const accumulate of modes) {
      const C = rand(rng, cOff + M * N + PAD);
      const gC = buffer('C', C);
      const rec = new Recorder(ctx, `${op} ${M}x${N}x${K}`);
      gpu[op](rec, M, N, K, gA, aOff, gB, bOff, gC, cOff, accumulate);
      await rec.run();
      const got = await ctx.readF32(gC, C.length);
      const want = C.slice();
      cpu[op](M, N, K, A, aOff, B, bOff, want, cOff, accumulate);
      const what = `${op} M=${M} N=${N} K=${K} accumulate=${accumulate}`;
      assertUntouched(what, got, C, cOff, M * N);
      worst = Math.max(worst, assertClose(what, got, want, cOff, M * N, 1e-4));
      rec.destroy();
      gC.destroy();
    }
    gA.destroy();
    gB.destroy();
    errors.push(`${op} ${M}×${N}×${K}: ${worst.toExponential(2)}`);
    return worst;
  }

  // Every size in {1, 3, 17, 33, 64, 130} appears in every dimension; none of 3, 17, 33, 130 is a
  // multiple of the 4×4 thread tile or the 32×32 workgroup block. K = 0 must give C = 0 (or C unchanged).
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 17, 33], [17, 3, 130], [33, 64, 1], [64, 130, 17], [130, 33, 64],
    [1, 130, 3], [130, 1, 17], [33, 33, 33], [64, 64, 64], [130, 130, 130], [5, 7, 0],
  ];
  let seed = 1;
  for (const op of ['gemmNT', 'gemmNN', 'gemmTN'] as Gemm[]) {
    describe(op, () => {
      for (const [M, N, K] of shapes) {
        const s = seed++;
        it(`M=${M} N=${N} K=${K}, accumulate false and true`, async () => {
          await checkGemm(op, M, N, K, s);
        });
      }
    });
  }

  // Every compiled variant: A and B read as vec4f (aligned offsets, the contiguous dimension a multiple
  // of 4) or as scalars (odd offsets), 4 or 8 rows per thread (M ≤ 32 or not), with M, N, K not
  // multiples of the 64-wide blocks, K not a multiple of 4 where no operand is read along k.
  describe('vec4 and scalar load variants', () => {
    const vshapes: Record<Gemm, [number, number, number][]> = {
      gemmNT: [[36, 68, 20], [20, 132, 44], [32, 8, 4], [68, 4, 8]],
      gemmNN: [[36, 68, 20], [20, 132, 44], [32, 8, 4], [68, 4, 8]],
      gemmTN: [[36, 68, 20], [20, 132, 45], [32, 8, 3], [68, 4, 17]],
    };
    const offsets: [number, number][] = [[0, 0], [4, 8], [1, 4], [8, 3]];
    let vseed = 700;
    for (const op of ['gemmNT', 'gemmNN', 'gemmTN'] as Gemm[]) {
      for (const [M, N, K] of vshapes[op]) {
        for (const [aOff, bOff] of offsets) {
          const s = vseed++;
          const want = { tm: (M <= 32 ? 4 : 8) as 4 | 8, aVec: aOff % 4 === 0, bVec: bOff % 4 === 0 };
          it(`${op} M=${M} N=${N} K=${K} aOff=${aOff} bOff=${bOff} (A ${want.aVec ? 'vec4' : 'scalar'}, B ${want.bVec ? 'vec4' : 'scalar'}, ${want.tm} rows per thread)`, async () => {
            await checkGemm(op, M, N, K, s, [false, true], { aOff, bOff, want });
          });
        }
      }
    }

    it('falls back to scalar loads when the contiguous dimension is not a multiple of 4', async () => {
      await checkGemm('gemmNT', 40, 36, 18, 720, [false, true], { aOff: 0, bOff: 0, want: { aVec: false, bVec: false } });
      await checkGemm('gemmNN', 40, 38, 16, 721, [false, true], { aOff: 0, bOff: 0, want: { aVec: true, bVec: false } });
      await checkGemm('gemmTN', 42, 36, 16, 722, [false, true], { aOff: 0, bOff: 0, want: { aVec: false, bVec: true } });
    });

    it('vec4 loads up to the very end of buffers of exactly the data size (not rounded up to 16 bytes)', async () => {
      // An aligned offset plus a multiple-of-4 extent ends on a vec4 boundary, so the last vec4 read is
      // whole even when the buffer ends right there (pad 0) or 2 floats later (pad 2).
      for (const op of ['gemmNT', 'gemmNN', 'gemmTN'] as Gemm[]) {
        for (const pad of [0, 2]) {
          await checkGemm(op, 36, 68, 20, 730 + pad, [false, true], { aOff: 4, bOff: 8, pad, exact: true, want: { aVec: true, bVec: true } });
        }
      }
    });
  });

  it('gemmTN with large K (weight-gradient shape M=64 N=48 K=4096)', async () => {
    await checkGemm('gemmTN', 64, 48, 4096, 100);
  });

  it('gemmTN with small M·N and K=20000 (bias-like shape 3×5)', async () => {
    await checkGemm('gemmTN', 3, 5, 20000, 101);
  });

  it('gemmNT with more than 65535 row blocks (workgroups folded into z), accumulate true', async () => {
    // 65537 blocks of 32 rows: the dispatch is 1×32769×2 workgroups. One mode only (SwiftShader takes ~1.5 s).
    await checkGemm('gemmNT', 65536 * 32 + 5, 3, 2, 102, [true]);
  });

  describe('sumRows', () => {
    const cases: [number, number][] = [[1, 1], [3, 17], [17, 3], [33, 130], [130, 64], [4096, 48], [100000, 3], [2, 65536 * 64 + 7]];
    for (const [M, N] of cases) {
      it(`M=${M} N=${N}, accumulate false and true`, async () => {
        const rng = new Rng(200 + M + N);
        const aOff = 5, outOff = 9;
        const A = rand(rng, aOff + M * N + PAD);
        const gA = buffer('A', A);
        let worst = 0;
        for (const accumulate of [false, true]) {
          const out = rand(rng, outOff + N + PAD);
          const gOut = buffer('out', out);
          const rec = new Recorder(ctx, 'sumRows');
          gpu.sumRows(rec, M, N, gA, aOff, gOut, outOff, accumulate);
          await rec.run();
          const got = await ctx.readF32(gOut, out.length);
          const want = out.slice();
          cpu.sumRows(M, N, A, aOff, want, outOff, accumulate);
          const what = `sumRows M=${M} N=${N} accumulate=${accumulate}`;
          assertUntouched(what, got, out, outOff, N);
          worst = Math.max(worst, assertClose(what, got, want, outOff, N, 1e-6));
          rec.destroy();
          gOut.destroy();
        }
        gA.destroy();
        errors.push(`sumRows ${M}×${N}: ${worst.toExponential(2)}`);
      });
    }
  });

  describe('addBiasRows', () => {
    const cases: [number, number][] = [[1, 1], [3, 17], [17, 3], [33, 130], [130, 64], [1000, 4200]];
    for (const [M, N] of cases) {
      it(`M=${M} N=${N}`, async () => {
        const rng = new Rng(300 + M + N);
        const cOff = 7, biasOff = 4;
        const C = rand(rng, cOff + M * N + PAD);
        const bias = rand(rng, biasOff + N + PAD);
        const gC = buffer('C', C), gBias = buffer('bias', bias);
        const rec = new Recorder(ctx, 'addBiasRows');
        gpu.addBiasRows(rec, M, N, gC, cOff, gBias, biasOff);
        await rec.run();
        const got = await ctx.readF32(gC, C.length);
        const want = C.slice();
        cpu.addBiasRows(M, N, want, cOff, bias.subarray(biasOff));
        const what = `addBiasRows M=${M} N=${N}`;
        assertUntouched(what, got, C, cOff, M * N);
        errors.push(`addBiasRows ${M}×${N}: ${assertClose(what, got, want, cOff, M * N, 1e-6).toExponential(2)}`);
        rec.destroy();
        gC.destroy();
        gBias.destroy();
      });
    }
  });

  describe('pointwise ops', () => {
    const sizes = [1, 3, 17, 255, 256, 257, 1000, 65537];
    type Case = {
      name: string;
      /** GPU op on (rec, n, x, xOff, y, yOff, out, outOff); buffers it does not use are ignored. */
      run: (rec: Recorder, n: number, x: GPUBuffer, xOff: number, y: GPUBuffer, yOff: number, out: GPUBuffer, outOff: number) => void;
      /** CPU twin writing `out` (which starts as a copy of the output buffer). */
      ref: (n: number, x: Float32Array, xOff: number, y: Float32Array, yOff: number, out: Float32Array, outOff: number) => void;
      /** Which buffer the op writes: 'out' (a third buffer), or 'x' (in place). */
      writes: 'out' | 'x';
    };
    const cases: Case[] = [
      {
        name: 'addInto', writes: 'out',
        run: (rec, n, x, xo, y, yo, o, oo) => ew.addInto(rec, n, x, xo, y, yo, o, oo),
        ref: (n, x, xo, y, yo, o, oo) => { for (let i = 0; i < n; i++) o[oo + i] = x[xo + i] + y[yo + i]; },
      },
      {
        name: 'mulInto', writes: 'out',
        run: (rec, n, x, xo, y, yo, o, oo) => ew.mulInto(rec, n, x, xo, y, yo, o, oo),
        ref: (n, x, xo, y, yo, o, oo) => { for (let i = 0; i < n; i++) o[oo + i] = x[xo + i] * y[yo + i]; },
      },
      {
        name: 'addInPlace', writes: 'x',
        run: (rec, n, x, xo, y, yo) => ew.addInPlace(rec, n, x, xo, y, yo),
        ref: (n, x, xo, y, yo) => { for (let i = 0; i < n; i++) x[xo + i] += y[yo + i]; },
      },
      {
        name: 'mulInPlace', writes: 'x',
        run: (rec, n, x, xo, y, yo) => ew.mulInPlace(rec, n, x, xo, y, yo),
        ref: (n, x, xo, y, yo) => { for (let i = 0; i < n; i++) x[xo + i] *= y[yo + i]; },
      },
      {
        name: 'copyInto', writes: 'out',
        run: (rec, n, x, xo, _y, _yo, o, oo) => ew.copyInto(rec, n, x, xo, o, oo),
        ref: (n, x, xo, _y, _yo, o, oo) => { for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]; },
      },
      {
        name: 'fill', writes: 'out',
        run: (rec, n, _x, _xo, _y, _yo, o, oo) => ew.fill(rec, n, o, oo, -0.375),
        ref: (n, _x, _xo, _y, _yo, o, oo) => { o.fill(-0.375, oo, oo + n); },
      },
    ];

    async function checkPointwise(c: Case, n: number, seed: number): Promise<number> {
      const rng = new Rng(seed);
      const xOff = 3, yOff = 6, outOff = 5;
      const x = rand(rng, xOff + n + PAD), y = rand(rng, yOff + n + PAD), out = rand(rng, outOff + n + PAD);
      const gx = buffer('x', x), gy = buffer('y', y), gOut = buffer('out', out);
      const rec = new Recorder(ctx, c.name);
      c.run(rec, n, gx, xOff, gy, yOff, gOut, outOff);
      await rec.run();
      const xw = x.slice(), outw = out.slice();
      c.ref(n, xw, xOff, y, yOff, outw, outOff);
      const [buf, before, want, off] = c.writes === 'x' ? [gx, x, xw, xOff] : [gOut, out, outw, outOff];
      const got = await ctx.readF32(buf, before.length);
      const what = `${c.name} n=${n}`;
      assertUntouched(what, got, before, off, n);
      const err = assertClose(what, got, want, off, n, 1e-6);
      // The buffers it only reads (and, for in-place ops, `out`) are unchanged.
      if (c.writes === 'x') assertUntouched(`${what} (out)`, await ctx.readF32(gOut, out.length), out, 0, 0);
      else assertUntouched(`${what} (x)`, await ctx.readF32(gx, x.length), x, 0, 0);
      rec.destroy();
      gx.destroy();
      gy.destroy();
      gOut.destroy();
      return err;
    }

    for (const c of cases) {
      it(`${c.name}, n in {${sizes.join(', ')}}`, async () => {
        let worst = 0;
        for (const n of sizes) worst = Math.max(worst, await checkPointwise(c, n, 400 + n));
        errors.push(`${c.name}: ${worst.toExponential(2)}`);
      });
    }

    it('addInPlace with more than 65535 workgroups (two-dimensional dispatch)', async () => {
      const n = 65535 * 256 + 1000;
      assert.ok(ew.dispatchGrid(Math.ceil(n / 256))[1] > 1);
      errors.push(`addInPlace n=${n}: ${(await checkPointwise(cases[2], n, 500)).toExponential(2)}`);
    });
  });

  it('dispatchGrid covers every workgroup within the per-axis limit', () => {
    for (const g of [1, 65535, 65536, 65535 * 2 + 1, 1e7, 65535 * 65535]) {
      const [x, y] = ew.dispatchGrid(g);
      assert.ok(x <= 65535 && y <= 65535 && x * y >= g && x * (y - 1) < g, `${g} → ${x}×${y}`);
    }
  });

  it('a layer in one recorder: gemmNT, addBiasRows, sumRows, then gemmTN accumulating twice', async () => {
    // Dispatches later in the pass read what earlier ones wrote; the recorder replays with its own
    // parameters (accumulate=true adds the same product again).
    const rng = new Rng(600);
    const Bt = 19, In = 23, Out = 37;
    const x = rand(rng, Bt * In), W = rand(rng, Out * In), b = rand(rng, Out), g = rand(rng, Bt * Out);
    const gx = buffer('x', x), gW = buffer('W', W), gb = buffer('b', b), gg = buffer('g', g);
    const gy = ctx.createBuffer('y', Bt * Out * 4), gs = ctx.createBuffer('s', Out * 4), gdW = ctx.createBuffer('dW', Out * In * 4);
    const rec = new Recorder(ctx, 'layer');
    ew.fill(rec, Out * In, gdW, 0, 0);
    gpu.gemmNT(rec, Bt, Out, In, gx, 0, gW, 0, gy, 0, false);
    gpu.addBiasRows(rec, Bt, Out, gy, 0, gb, 0);
    gpu.sumRows(rec, Bt, Out, gy, 0, gs, 0, false);
    gpu.gemmTN(rec, Out, In, Bt, gg, 0, gx, 0, gdW, 0, true);
    gpu.gemmTN(rec, Out, In, Bt, gg, 0, gx, 0, gdW, 0, true);
    await rec.run();
    await rec.run(); // replay: the same results (fill resets dW)
    const y = new Float32Array(Bt * Out), s = new Float32Array(Out), dW = new Float32Array(Out * In);
    cpu.gemmNT(Bt, Out, In, x, 0, W, 0, y, 0, false);
    cpu.addBiasRows(Bt, Out, y, 0, b);
    cpu.sumRows(Bt, Out, y, 0, s, 0, false);
    cpu.gemmTN(Out, In, Bt, g, 0, x, 0, dW, 0, true);
    cpu.gemmTN(Out, In, Bt, g, 0, x, 0, dW, 0, true);
    const ey = assertClose('y', await ctx.readF32(gy, y.length), y, 0, y.length, 1e-4);
    const es = assertClose('sum', await ctx.readF32(gs, s.length), s, 0, s.length, 1e-4);
    const ed = assertClose('dW', await ctx.readF32(gdW, dW.length), dW, 0, dW.length, 1e-4);
    errors.push(`layer chain: y ${ey.toExponential(2)}, sum ${es.toExponential(2)}, dW ${ed.toExponential(2)}`);
    rec.destroy();
    for (const buf of [gx, gW, gb, gg, gy, gs, gdW]) buf.destroy();
  });

  it('rejects out-of-range offsets, aliased buffers and bad sizes', () => {
    const a = ctx.createBuffer('a', 64 * 4), b = ctx.createBuffer('b', 64 * 4), c = ctx.createBuffer('c', 64 * 4);
    const rec = new Recorder(ctx, 'bad');
    assert.throws(() => gpu.gemmNT(rec, 8, 8, 8, a, 1, b, 0, c, 0, false), /A\[1\.\.65\) is outside/);
    assert.throws(() => gpu.gemmNN(rec, 4, 4, 4, a, 0, b, 0, a, 0, false), /distinct/);
    assert.throws(() => gpu.gemmTN(rec, 4, 4.5, 4, a, 0, b, 0, c, 0, false), /not a non-negative integer/);
    assert.throws(() => gpu.sumRows(rec, 4, 4, a, 0, a, 0, false), /distinct/);
    assert.throws(() => gpu.addBiasRows(rec, 4, 4, c, 0, b, 61), /outside/);
    assert.throws(() => ew.addInto(rec, 4, a, 0, b, 0, a, 8), /distinct/);
    assert.throws(() => ew.addInPlace(rec, 4, a, 0, a, 8), /distinct/);
    assert.throws(() => ew.copyInto(rec, 10, a, 60, b, 0), /outside/);
    assert.throws(() => ew.fill(rec, 4, c, -1, 0), /offset/);
    assert.strictEqual(rec.length, 0);
    for (const buf of [a, b, c]) buf.destroy();
  });
});
