// The WebGPU embedding, loss, reduction, optimizer and dropout ops against their CPU twins:
// kernels/cpu/model.ts (gather, scatter-add, dropoutMask), kernels/cpu/loss.ts and kernels/cpu/optim.ts.

import * as assert from 'assert';
import { DECODER_DROPOUT_SITE, dropoutMask as cpuDropoutMask } from '../kernels/cpu/model';
import { softmaxCrossEntropy as cpuSoftmaxCrossEntropy, softmaxRow } from '../kernels/cpu/loss';
import { adamUpdate, clipGradNorm } from '../kernels/cpu/optim';
import { Rng, dropoutStream } from '../kernels/rng';
import { maxAbsDiff } from '../kernels/tensor';
import { GpuContext, Recorder } from '../kernels/webgpu/context';
import { DROPOUT_KERNELS, dropoutMask, dropoutThreshold } from '../kernels/webgpu/dropout';
import { EMBEDDING_KERNELS, embeddingBackward, embeddingGather } from '../kernels/webgpu/embedding';
import { LOSS_KERNELS, softmaxCrossEntropy, sumInto } from '../kernels/webgpu/loss';
import { OPTIM_KERNELS, STEP_PARAMS_BYTES, clipAdam, packStepParams, sumSquares, sumSquaresPartialLength } from '../kernels/webgpu/optim';
import { requireGpu } from './gpuContext';

function normal(rng: Rng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

function ints(rng: Rng, n: number, hi: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(hi);
  return a;
}

/** max_i |a_i - b_i| / max(|b_i|, floor); NaN counts as Infinity. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  assert.strictEqual(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** max |a - b| / max |b|: the error relative to the array's scale. */
function normRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s = Math.max(s, Math.abs(b[i]));
  return maxAbsDiff(a, b) / Math.max(s, 1e-30);
}

function fmt(x: number): string {
  return x.toExponential(2);
}

describe('webgpu ops vs CPU', () => {
  let ctx: GpuContext;
  const made: GPUBuffer[] = [];
  const upload = (label: string, data: Float32Array | Int32Array | Uint32Array, extraBytes = 0): GPUBuffer => {
    const b = ctx.createBuffer(label, data.byteLength + extraBytes);
    ctx.upload(b, data);
    made.push(b);
    return b;
  };
  const empty = (label: string, bytes: number): GPUBuffer => {
    const b = ctx.createBuffer(label, bytes);
    made.push(b);
    return b;
  };

  before(async function () {
    ctx = await requireGpu(this);
    // The kernels with barriers take seconds to compile on SwiftShader: once per process.
    for (const k of [...EMBEDDING_KERNELS, ...LOSS_KERNELS, ...OPTIM_KERNELS, ...DROPOUT_KERNELS]) await ctx.compile(k);
  });
  afterEach(() => {
    for (const b of made.splice(0)) b.destroy();
  });

  // ---------------------------------------------------------------- embedding
  const EMB_SHAPES: [number, number, number][] = [
    // R, E, V
    [1, 1, 2], [37, 5, 97], [300, 33, 1000], [300, 128, 97], [37, 128, 2], [1000, 7, 1000], [130, 65, 97],
  ];

  it('embedding gather copies the rows of the ids exactly', async () => {
    const rng = new Rng(11);
    const rec = new Recorder(ctx, 'gather test');
    const checks: (() => Promise<number>)[] = [];
    for (const [R, E, V] of EMB_SHAPES) {
      const idsOff = 3, outOff = 5;
      const ids = new Int32Array(idsOff + R + 2).map(() => rng.int(V));
      const table = normal(rng, V * E, 1);
      const out0 = normal(rng, outOff + R * E + 4, 1);
      const bIds = upload('ids', ids), bTable = upload('table', table), bOut = upload('out', out0);
      embeddingGather(rec, R, E, bIds, idsOff, bTable, bOut, outOff);
      const ref = out0.slice();
      for (let r = 0; r < R; r++) ref.set(table.subarray(ids[idsOff + r] * E, (ids[idsOff + r] + 1) * E), outOff + r * E);
      checks.push(async () => maxAbsDiff(await ctx.readF32(bOut, ref.length), ref));
    }
    await rec.run();
    let worst = 0;
    for (const c of checks) worst = Math.max(worst, await c());
    console.log(`      embeddingGather: max abs error ${fmt(worst)}`);
    assert.strictEqual(worst, 0);
  });

  it('embedding gradient sums the rows of dInp by id and overwrites the table gradient', async () => {
    const rng = new Rng(12);
    const rec = new Recorder(ctx, 'embedding backward test');
    const checks: (() => Promise<number>)[] = [];
    for (const [R, E, V] of EMB_SHAPES) {
      const idsOff = 7, dOff = 3;
      // Few distinct ids in some cases, so rows collect many contributions; others leave rows empty.
      const hi = R > 100 ? Math.min(V, 13) : V;
      const ids = new Int32Array(idsOff + R + 1).map(() => rng.int(hi));
      const dInp = normal(rng, dOff + R * E + 2, 1);
      const bIds = upload('ids', ids), bD = upload('dInp', dInp), bG = upload('gTable', new Float32Array(V * E + 3).fill(7));
      embeddingBackward(rec, R, E, V, bIds, idsOff, bD, dOff, bG);
      const ref = new Float32Array(V * E + 3).fill(7);
      ref.fill(0, 0, V * E);
      for (let r = 0; r < R; r++) {
        const dst = ids[idsOff + r] * E, src = dOff + r * E;
        for (let k = 0; k < E; k++) ref[dst + k] += dInp[src + k];
      }
      checks.push(async () => maxAbsDiff(await ctx.readF32(bG, ref.length), ref));
    }
    await rec.run();
    let worst = 0;
    for (const c of checks) worst = Math.max(worst, await c());
    console.log(`      embeddingBackward: max abs error ${fmt(worst)}`);
    assert.ok(worst <= 1e-5, `embedding gradient error ${worst}`);
  });

  // ---------------------------------------------------------------- loss
  /** Row losses relative to max(|loss|, 1 nat) (absolute below 1 nat), gradients absolute. */
  async function lossCases(cases: { N: number; V: number; scale: number; gradScale: number | null }[], seed: number): Promise<{ loss: number; grad: number; total: number }> {
    const rng = new Rng(seed);
    const rec = new Recorder(ctx, 'loss test');
    const checks: (() => Promise<{ loss: number; grad: number; total: number }>)[] = [];
    for (const { N, V, scale, gradScale } of cases) {
      const tOff = 4;
      const logits = normal(rng, N * V, scale);
      const targets = ints(rng, tOff + N + 1, V);
      const bL = upload('logits', logits), bT = upload('targets', targets), bRow = upload('rowLoss', new Float32Array(N + 2).fill(-1));
      const bTotal = upload('total', new Float32Array(4).fill(0.5));
      softmaxCrossEntropy(rec, N, V, bL, bT, tOff, bRow, gradScale);
      sumInto(rec, N, bRow, 0, bTotal, 1, false);
      // CPU: per-row losses (one row at a time) and the gradient over the whole batch.
      const refRows = new Float32Array(N + 2).fill(-1);
      for (let r = 0; r < N; r++) refRows[r] = cpuSoftmaxCrossEntropy(1, V, logits.subarray(r * V, (r + 1) * V), targets.subarray(tOff + r, tOff + r + 1));
      const refGrad = logits.slice();
      const refTotal = cpuSoftmaxCrossEntropy(N, V, refGrad, targets.subarray(tOff), gradScale ?? undefined);
      checks.push(async () => {
        const rows = await ctx.readF32(bRow, N + 2);
        const grad = await ctx.readF32(bL, N * V);
        const total = (await ctx.readF32(bTotal, 4))[1];
        return {
          loss: maxRelDiff(rows, refRows, 1),
          grad: maxAbsDiff(grad, gradScale === null ? logits : refGrad),
          total: Math.abs(total - refTotal) / Math.max(Math.abs(refTotal), 1),
        };
      });
    }
    await rec.run();
    const worst = { loss: 0, grad: 0, total: 0 };
    for (const c of checks) {
      const e = await c();
      worst.loss = Math.max(worst.loss, e.loss);
      worst.grad = Math.max(worst.grad, e.grad);
      worst.total = Math.max(worst.total, e.total);
    }
    return worst;
  }

  it('softmax cross-entropy: row losses and gradients (V in {2,97,1000,8192}, logits up to ±30)', async () => {
    const cases: { N: number; V: number; scale: number; gradScale: number | null }[] = [];
    for (const V of [2, 97, 1000]) for (const N of [1, 3, 130]) cases.push({ N, V, scale: 3, gradScale: N === 3 ? null : N === 1 ? 1 : 1 / N });
    cases.push({ N: 5, V: 8192, scale: 3, gradScale: 1 });
    cases.push({ N: 17, V: 300, scale: 30, gradScale: 1 });
    const w = await lossCases(cases, 21);
    console.log(`      softmaxCrossEntropy: loss rel ${fmt(w.loss)}, gradient abs ${fmt(w.grad)}, summed loss rel ${fmt(w.total)}`);
    assert.ok(w.loss <= 1e-4, `row loss error ${w.loss}`);
    assert.ok(w.grad <= 1e-5, `gradient error ${w.grad}`);
    assert.ok(w.total <= 1e-4, `summed loss error ${w.total}`);
  });

  it('softmax cross-entropy over 140000 rows (2-D dispatch)', async () => {
    const w = await lossCases([{ N: 140000, V: 2, scale: 3, gradScale: 1 }], 22);
    console.log(`      softmaxCrossEntropy N=140000: loss rel ${fmt(w.loss)}, gradient abs ${fmt(w.grad)}, summed loss rel ${fmt(w.total)}`);
    assert.ok(w.loss <= 1e-4, `row loss error ${w.loss}`);
    assert.ok(w.grad <= 1e-5, `gradient error ${w.grad}`);
    assert.ok(w.total <= 1e-4, `summed loss error ${w.total}`);
  });

  it('softmax cross-entropy: a target outside [0, V) gives a NaN loss and no one-hot term', async () => {
    const V = 5;
    const logits = new Float32Array([0.5, -1, 2, 0, 1, 0.5, -1, 2, 0, 1, 0.5, -1, 2, 0, 1]);
    const bL = upload('logits', logits), bT = upload('targets', new Int32Array([-1, 5, 2])), bRow = upload('rowLoss', new Float32Array(3));
    const rec = new Recorder(ctx, 'bad target test');
    softmaxCrossEntropy(rec, 3, V, bL, bT, 0, bRow, 1);
    await rec.run();
    const rows = await ctx.readF32(bRow, 3);
    assert.ok(Number.isNaN(rows[0]) && Number.isNaN(rows[1]), `losses ${rows}`);
    const ref = logits.slice(10);
    const good = cpuSoftmaxCrossEntropy(1, V, ref, new Int32Array([2]), 1);
    assert.ok(Math.abs(rows[2] - good) < 1e-6);
    const grad = await ctx.readF32(bL, 15);
    const soft = logits.slice(0, 5);
    softmaxRow(V, soft, 0, soft);
    assert.ok(maxAbsDiff(grad.subarray(0, 5), soft) < 1e-6 && maxAbsDiff(grad.subarray(5, 10), soft) < 1e-6);
    assert.ok(maxAbsDiff(grad.subarray(10), ref) < 1e-6);
  });

  // ---------------------------------------------------------------- reductions
  it('sumInto and sumSquares (n in {1, 1000, 70000})', async () => {
    const rng = new Rng(31);
    const rec = new Recorder(ctx, 'sum test');
    const checks: (() => Promise<[number, number, number]>)[] = [];
    for (const n of [1, 1000, 70000]) {
      const srcOff = 5;
      const src = normal(rng, srcOff + n + 3, 2);
      const bSrc = upload('src', src);
      const bSq = upload('sq src', src.subarray(srcOff, srcOff + n));
      const bOut = upload('out', new Float32Array([9, 9, 1.5, 9, 9, 9]));
      const bPartial = empty('partial', sumSquaresPartialLength(n) * 4);
      sumInto(rec, n, bSrc, srcOff, bOut, 0, false);
      sumInto(rec, n, bSrc, srcOff, bOut, 2, true);
      sumSquares(rec, n, bSq, bPartial, bOut, 4);
      let s = 0, sa = 0, sq = 0;
      for (let i = srcOff; i < srcOff + n; i++) {
        s += src[i];
        sa += Math.abs(src[i]);
        sq += src[i] * src[i];
      }
      checks.push(async () => {
        const out = await ctx.readF32(bOut, 6);
        assert.deepStrictEqual([out[1], out[3], out[5]], [9, 9, 9], 'only the target elements are written');
        // Sums: error relative to Σ|x| (the sum itself may cancel); squares: relative.
        return [Math.abs(out[0] - s) / sa, Math.abs(out[2] - (1.5 + s)) / (sa + 1.5), Math.abs(out[4] - sq) / sq];
      });
    }
    await rec.run();
    let sumErr = 0, accErr = 0, sqErr = 0;
    for (const c of checks) {
      const [a, b, q] = await c();
      sumErr = Math.max(sumErr, a);
      accErr = Math.max(accErr, b);
      sqErr = Math.max(sqErr, q);
    }
    console.log(`      sumInto: rel error ${fmt(sumErr)} (accumulate ${fmt(accErr)}); sumSquares: rel error ${fmt(sqErr)}`);
    assert.ok(sumErr <= 1e-5 && accErr <= 1e-5, `sum errors ${sumErr} ${accErr}`);
    assert.ok(sqErr <= 1e-5, `sum of squares error ${sqErr}`);
  });

  // ---------------------------------------------------------------- optimizer
  it('clip + Adam/AdamW over 3 steps matches clipGradNorm + adamUpdate (clipping active and not)', async () => {
    const cases = [
      { n: 1000, clipNorm: 1, weightDecay: 0.01, gscale: 1 },     // norm ≈ 32: clipped
      { n: 70000, clipNorm: 0, weightDecay: 0, gscale: 1 },       // clipping off
      { n: 1, clipNorm: 5, weightDecay: 0.1, gscale: 0.5 },       // below the threshold: not clipped
      { n: 70000, clipNorm: 2.5, weightDecay: 0, gscale: 0.3 },   // clipped
    ];
    const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    const rng = new Rng(41);
    let pErr = 0, mErr = 0, vErr = 0, normErr = 0;
    let clipped = 0;
    for (const { n, clipNorm, weightDecay, gscale } of cases) {
      const p = normal(rng, n, 0.5), m = new Float32Array(n), v = new Float32Array(n);
      const bP = upload('params', p), bM = upload('m', m), bV = upload('v', v);
      const bG = empty('grads', n * 4), bPartial = empty('partial', sumSquaresPartialLength(n) * 4);
      const bNorm = upload('normSq', new Float32Array(4)), bStep = empty('step', STEP_PARAMS_BYTES);
      // Recorded once, replayed every step with new gradients and step parameters.
      const rec = new Recorder(ctx, 'adam test');
      sumSquares(rec, n, bG, bPartial, bNorm, 2);
      clipAdam(rec, n, bP, bG, bM, bV, bNorm, 2, bStep, { beta1, beta2, eps, weightDecay, clipNorm });
      for (let t = 1; t <= 3; t++) {
        const lr = 0.01 * (1 - 0.2 * t); // a schedule: the step buffer must be re-read every step
        const g = normal(rng, n, gscale);
        ctx.upload(bG, g);
        ctx.device.queue.writeBuffer(bStep, 0, packStepParams(t, lr, beta1, beta2));
        await rec.run();
        const norm = clipGradNorm([g], clipNorm);
        if (clipNorm > 0 && clipNorm / (norm + 1e-6) < 1) clipped++;
        adamUpdate(p, g, m, v, t, { learningRate: lr, beta1, beta2, eps, weightDecay });
        normErr = Math.max(normErr, Math.abs(Math.sqrt((await ctx.readF32(bNorm, 4))[2]) - norm) / norm);
      }
      pErr = Math.max(pErr, maxRelDiff(await ctx.readF32(bP, n), p, 1e-2));
      mErr = Math.max(mErr, normRelDiff(await ctx.readF32(bM, n), m));
      vErr = Math.max(vErr, normRelDiff(await ctx.readF32(bV, n), v));
      rec.destroy();
    }
    console.log(`      clipAdam: params rel ${fmt(pErr)}, m rel ${fmt(mErr)}, v rel ${fmt(vErr)}; global norm rel ${fmt(normErr)} (${clipped} clipped steps)`);
    assert.ok(clipped >= 6, 'clipping was active');
    assert.ok(pErr <= 1e-5, `params error ${pErr}`);
    assert.ok(mErr <= 1e-5 && vErr <= 1e-5, `moment errors ${mErr} ${vErr}`);
    assert.ok(normErr <= 1e-5, `norm error ${normErr}`);
  });

  it('packStepParams packs t, lr and the bias corrections', () => {
    const dv = new DataView(packStepParams(3, 0.005, 0.9, 0.999));
    assert.strictEqual(dv.byteLength, STEP_PARAMS_BYTES);
    assert.strictEqual(dv.getUint32(0, true), 3);
    assert.strictEqual(dv.getFloat32(4, true), Math.fround(0.005));
    assert.strictEqual(dv.getFloat32(8, true), Math.fround(1 - 0.9 ** 3));
    assert.strictEqual(dv.getFloat32(12, true), Math.fround(Math.sqrt(1 - 0.999 ** 3)));
  });

  // ---------------------------------------------------------------- dropout
  it('dropout masks equal the CPU masks bit for bit (several seeds, sites, steps; p in {0.1, 0.5})', async () => {
    const sizes = [1, 1000, 70000];
    const configs = [
      { p: 0.1, seed: 0, site: 0 },
      { p: 0.5, seed: 12345, site: 3 },
      { p: 0.5, seed: 0xdeadbeef, site: DECODER_DROPOUT_SITE },
      { p: 0.1, seed: 987654321, site: 1 },
    ];
    const steps = [0, 1, 77, 0x7ffffff3, 0xfffffffe];
    const stepOff = 3;
    const total = configs.length * sizes.reduce((a, b) => a + b + 2, 0);
    const bMask = empty('masks', total * 4), bStep = empty('step', 32);
    const rec = new Recorder(ctx, 'dropout test');
    const layout: { off: number; n: number; p: number; seed: number; site: number }[] = [];
    let off = 1;
    for (const c of configs) for (const n of sizes) {
      layout.push({ off, n, ...c });
      dropoutMask(rec, n, bMask, off, c.p, c.seed, c.site, bStep, stepOff);
      off += n + 1;
    }
    let mismatches = 0, compared = 0, dropped = 0;
    for (const step of steps) {
      const words = new Uint32Array(8).fill(0xffffffff);
      words[stepOff] = step;
      ctx.upload(bStep, words);
      await rec.run();
      const got = await ctx.readF32(bMask, total);
      for (const { off, n, p, seed, site } of layout) {
        const ref = new Float32Array(n);
        cpuDropoutMask(ref, p, seed, dropoutStream(step, site));
        for (let i = 0; i < n; i++) {
          if (!Object.is(got[off + i], ref[i])) mismatches++;
          if (ref[i] === 0) dropped++;
        }
        compared += n;
      }
    }
    console.log(`      dropoutMask: ${mismatches} mismatches in ${compared} elements (${((100 * dropped) / compared).toFixed(1)}% dropped)`);
    assert.strictEqual(mismatches, 0);
  });

  it('dropout mask over 2^24 + 1000 elements (2-D dispatch of a pointwise kernel)', async () => {
    const n = (1 << 24) + 1000, p = 0.5, seed = 7, site = 2, step = 123456;
    const bMask = empty('big mask', n * 4), bStep = upload('step', new Uint32Array([step]));
    const rec = new Recorder(ctx, 'dropout 2-D test');
    dropoutMask(rec, n, bMask, 0, p, seed, site, bStep, 0);
    await rec.run();
    const got = await ctx.readF32(bMask, n);
    const ref = new Float32Array(n);
    cpuDropoutMask(ref, p, seed, dropoutStream(step, site));
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (got[i] !== ref[i]) mismatches++;
    console.log(`      dropoutMask n=${n}: ${mismatches} mismatches`);
    assert.strictEqual(mismatches, 0);
  });

  it('dropout edge cases: p = 0 keeps everything, p = 1 drops everything, threshold matches JS', async () => {
    assert.strictEqual(dropoutThreshold(0), 0);
    assert.strictEqual(dropoutThreshold(1), null);
    assert.strictEqual(dropoutThreshold(0.5), 0x80000000);
    // hash >= threshold ⇔ hash / 2^32 >= p, at the boundary.
    for (const p of [0.1, 0.3, 1 / 3, 0.5, 0.9]) {
      const t = dropoutThreshold(p)!;
      assert.ok(t / 4294967296 >= p && (t - 1) / 4294967296 < p, `threshold of ${p}`);
    }
    const n = 500;
    const bMask = upload('mask', new Float32Array(2 * n).fill(3)), bStep = upload('step', new Uint32Array([5]));
    const rec = new Recorder(ctx, 'dropout edge test');
    dropoutMask(rec, n, bMask, 0, 0, 1, 2, bStep, 0);
    dropoutMask(rec, n, bMask, n, 1, 1, 2, bStep, 0);
    await rec.run();
    const got = await ctx.readF32(bMask, 2 * n);
    assert.ok(got.subarray(0, n).every((x) => x === 1));
    assert.ok(got.subarray(n).every((x) => x === 0));
    assert.throws(() => dropoutMask(rec, n, bMask, 0, 1.5, 1, 2, bStep, 0), RangeError);
  });
});
