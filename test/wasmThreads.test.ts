// The WebAssembly kernels on several threads (kernels/wasm/pool.ts, kernels/node/wasmPool.ts): every kind of
// kernel run split over 2 and 3 threads (GEMM by rows and by columns, packing, cells, elementwise, embedding,
// loss, Adam, the per-piece partial sums of sumSquares) writes exactly what one unsplit call writes, bit for
// bit, over the whole data region (so nothing outside the outputs moves either), and what the one-thread
// runner on a plain memory writes; a kernel that throws on a worker thread and a worker that is killed give
// errors, not hangs; dispose ends every worker; and whole training steps on 3 threads (RNN, LSTM, GRU, 2
// layers, 20 steps) agree with the CPU reference within the tolerances.

import * as assert from 'assert';
import * as v8 from 'v8';
import { CellType, DEFAULT_OPTIM, ModelConfig, OptimConfig } from '../kernels/config';
import { CpuBackend } from '../kernels/cpu/backend';
import { NodeWorkerHost, nodeThreadRunner } from '../kernels/node/wasmPool';
import { initParams } from '../kernels/params';
import { Rng } from '../kernels/rng';
import { maxAbsDiff } from '../kernels/tensor';
import { trainSteps } from './trainingRun';
import { createWasmBackend, wasmBackendBytes } from '../kernels/wasm/backend';
import { GEMM_SCRATCH_BYTES, KERNEL_RESERVED_BYTES, KernelVariant, packedFloats, wasmSupport } from '../kernels/wasm/module';
import { KernelName, KernelRunner, ThreadPoolRunner, serialRunner, splitRange } from '../kernels/wasm/pool';

if (!wasmSupport().relaxed) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const MEMORY_BYTES = 16 << 20;
const SCRATCH = KERNEL_RESERVED_BYTES; // three pieces' GEMM scratch
const DATA = SCRATCH + 3 * GEMM_SCRATCH_BYTES;

/** A bump allocator of float buffers in the data region, 64-byte aligned. */
class Layout {
  end = DATA;
  buf(floats: number): number {
    const at = this.end;
    this.end = Math.ceil((at + floats * 4 + 16) / 64) * 64; // 16 bytes of gap after each: overruns show
    return at;
  }
}

interface Case {
  label: string;
  name: KernelName;
  args: number[];
  lo: number;
  align: number;
  scratchArg?: number;
  /** The kernel writes into its scratch (each piece into its own). */
  usesScratch?: boolean;
  /** Writes valid integer inputs (ids, targets) over the random fill. */
  setup?: (i32: Int32Array) => void;
  end: number;
}

/** The cases: each kernel with a range large enough for 3 pieces, at odd sizes. */
function cases(): Case[] {
  const out: Case[] = [];
  const add = (label: string, name: KernelName, L: Layout, args: number[], lo: number, align: number, extra: Partial<Case> = {}) =>
    out.push({ label, name, args, lo, align, end: L.end, ...extra });

  // GEMM: M 37, N 75, K 300 (past the 256-deep K block), strided A and C, both A layouts, accumulate.
  for (const aTrans of [0, 1]) {
    const M = 37, N = 75, K = 300, lda = aTrans ? M + 3 : K + 5, ldc = N + 7;
    const L = new Layout();
    const a = L.buf(aTrans ? K * lda : M * lda), bp = L.buf(packedFloats(N, K)), c = L.buf(M * ldc);
    const args = [M, N, K, a, lda, aTrans, bp, c, ldc, 1, SCRATCH, 0, M, 0, N];
    add(`gemm aTrans ${aTrans} by rows`, 'gemm', L, args, 11, 4, { scratchArg: 10, usesScratch: true });
    add(`gemm aTrans ${aTrans} by columns`, 'gemm', L, args, 13, 8, { scratchArg: 10, usesScratch: true });
  }
  {
    // Small M (the GEMV path) by columns, as the batch-1 recurrence runs it.
    const M = 2, N = 260, K = 33;
    const L = new Layout();
    const a = L.buf(M * K), bp = L.buf(packedFloats(N, K)), c = L.buf(M * N);
    add('gemm M 2 by columns', 'gemm', L, [M, N, K, a, K, 0, bp, c, N, 0, SCRATCH, 0, M, 0, N], 13, 8, { scratchArg: 10 });
  }
  {
    const N = 75, K = 29;
    const L = new Layout();
    const b = L.buf(N * (K + 2)), p = L.buf(packedFloats(N, K));
    add('packB_NT by columns', 'packB_NT', L, [b, K + 2, N, K, p, 0, N], 5, 8);
    const L2 = new Layout();
    const b2 = L2.buf(K * (N + 1)), p2 = L2.buf(packedFloats(N, K));
    add('packB_NN by columns', 'packB_NN', L2, [b2, N + 1, K, N, p2, 0, N], 5, 8);
  }
  {
    const M = 23, N = 37, ld = 41;
    const L = new Layout();
    const c = L.buf(M * ld), bias = L.buf(N), s = L.buf(N);
    add('addBiasRows by rows', 'addBiasRows', L, [N, c, ld, bias, 0, M], 4, 1);
    add('sumRows by columns', 'sumRows', L, [N, c, ld, M, s, 1, 0, N], 6, 4);
  }

  // Cells: B 3, H 37 (ranges over hidden units, all rows).
  const B = 3, H = 37;
  {
    const L = new Layout();
    const xp = L.buf(B * 4 * H), hp = L.buf(B * 4 * H), cPrev = L.buf(B * H), gates = L.buf(B * 4 * H), c = L.buf(B * H), h = L.buf(B * H);
    add('lstmFwd by hidden units', 'lstmFwd', L, [B, H, xp, hp, cPrev, gates, c, h, 0, H], 8, 1);
    const dh = L.buf(B * H), dc = L.buf(B * H), dPre = L.buf(B * 4 * H);
    add('lstmBwd by hidden units', 'lstmBwd', L, [B, H, dh, dc, gates, c, cPrev, dPre, 0, H], 8, 4);
  }
  {
    const L = new Layout();
    const xp = L.buf(B * 3 * H), hp = L.buf(B * 3 * H), hPrev = L.buf(B * H), gates = L.buf(B * 3 * H), h = L.buf(B * H);
    add('gruFwd by hidden units', 'gruFwd', L, [B, H, xp, hp, hPrev, gates, h, 0, H], 7, 1);
    const dh = L.buf(B * H), dXp = L.buf(B * 3 * H), dHp = L.buf(B * 3 * H), dhDirect = L.buf(B * H);
    add('gruBwd by hidden units', 'gruBwd', L, [B, H, dh, gates, hp, hPrev, dXp, dHp, dhDirect, 0, H], 9, 4);
  }
  {
    const n = B * H;
    const L = new Layout();
    const xp = L.buf(n), hp = L.buf(n), h = L.buf(n), dPre = L.buf(n);
    add('rnnFwd by floats', 'rnnFwd', L, [xp, hp, h, 0, n], 3, 4);
    add('rnnBwd by floats', 'rnnBwd', L, [xp, h, dPre, 0, n], 3, 1);
  }

  // Elementwise, dropout, optimizer: 1001 floats.
  {
    const n = 1001;
    const L = new Layout();
    const a = L.buf(n), b = L.buf(n), o = L.buf(n);
    add('add', 'add', L, [a, b, o, 0, n], 3, 4);
    add('mul', 'mul', L, [a, b, o, 0, n], 3, 4);
    add('addInPlace', 'addInPlace', L, [o, a, 0, n], 2, 4);
    add('fill', 'fill', L, [o, 0.75, 0, n], 2, 4);
    add('copy', 'copy', L, [a, o, 0, n], 2, 1);
    add('scale', 'scale', L, [o, 0.3, 0, n], 2, 4);
    add('dropoutMask', 'dropoutMask', L, [0x5bd1e995 | 0, 1288490189, 1 / 0.7, o, 0, n], 4, 4);
    const p = L.buf(n), g = L.buf(n), m = L.buf(n), v = L.buf(n);
    add('adam', 'adam', L, [p, g, m, v, 1e-3 / (1 - 0.9 ** 3), Math.sqrt(1 - 0.999 ** 3), 0.9, 0.999, 1e-8, 1 - 1e-5, 0, n], 10, 4, {
      setup: (i32) => { for (let i = 0; i < n; i++) i32[(v >> 2) + i] = i32[(v >> 2) + i] & 0x7fffffff; }, // v >= 0
    });
  }

  // Embedding and loss: V 29, E 13, R 31 rows.
  {
    const V = 29, E = 13, R = 31;
    const L = new Layout();
    const ids = L.buf(R), emb = L.buf(V * E), inp = L.buf(R * E), gemb = L.buf(V * E), logits = L.buf(R * V), targets = L.buf(R), rowLoss = L.buf(2 * R);
    const setup = (i32: Int32Array) => {
      const r = new Rng(5);
      for (let i = 0; i < R; i++) i32[(ids >> 2) + i] = r.int(V);
      for (let i = 0; i < R; i++) i32[(targets >> 2) + i] = r.int(V);
    };
    add('embedGather by rows', 'embedGather', L, [E, ids, emb, inp, 0, R], 4, 1, { setup });
    add('embedGrad by columns', 'embedGrad', L, [R, E, ids, inp, gemb, 0, E], 5, 1, { setup });
    add('softmaxXent by rows', 'softmaxXent', L, [V, logits, targets, 1 / R, 1, rowLoss, 0, R], 6, 1, { setup });
  }
  return out;
}

/** Seeded random floats in [-2, 2) over [DATA, end), then the case's integer inputs. */
function fillInputs(mem: WebAssembly.Memory, c: Case): void {
  const f32 = new Float32Array(mem.buffer);
  const r = new Rng(17);
  for (let i = DATA >> 2; i < c.end >> 2; i++) f32[i] = r.next() * 4 - 2;
  c.setup?.(new Int32Array(mem.buffer));
}

/** A NaN's bits that no kernel writes: marks scratch that was not used. */
const SENTINEL = 0x7fc0dead;

const region = (mem: WebAssembly.Memory, end: number) => new Uint32Array(mem.buffer.slice(DATA, end));

function firstDifference(a: Uint32Array, b: Uint32Array): string | null {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const fa = new Float32Array(a.buffer)[i], fb = new Float32Array(b.buffer)[i];
      return `byte ${DATA + 4 * i}: ${fa} vs ${fb}`;
    }
  }
  return null;
}

describe('WebAssembly kernels on several threads', function () {
  this.timeout(60000);
  before(function () {
    const s = wasmSupport();
    assert.ok(s.simd && s.threads, `WebAssembly SIMD and threads are needed here (${s.reason || 'no shared memory'})`);
  });

  it('splitRange gives disjoint aligned pieces that cover the range', () => {
    for (const [start, end] of [[0, 0], [0, 1], [0, 7], [0, 75], [8, 1001], [3, 4], [0, 4096]]) {
      for (const align of [1, 4, 8]) {
        for (const parts of [1, 2, 3, 5]) {
          let at = start;
          for (let t = 0; t < parts; t++) {
            const [a, b] = splitRange(start, end, align, parts, t);
            assert.strictEqual(a, at, `piece ${t} of [${start}, ${end}) align ${align} in ${parts} starts at ${a}, not ${at}`);
            assert.ok(b >= a && b <= Math.max(start, end));
            if (b > a && b < end) assert.strictEqual((b - start) % align, 0, `piece ${t} ends at ${b}, not on the alignment ${align}`);
            at = b;
          }
          assert.strictEqual(at, Math.max(start, end), `the pieces of [${start}, ${end}) end at ${at}`);
        }
      }
    }
    // Balanced: 10 units over 3 threads are 3, 3, 4.
    assert.deepStrictEqual([0, 1, 2].map((t) => splitRange(0, 75, 8, 3, t)), [[0, 24], [24, 48], [48, 75]]);
  });

  for (const variant of ['simd', 'relaxed'] as KernelVariant[]) {
    for (const threads of variant === 'simd' ? [2, 3] : [3]) {
      it(`${variant}, ${threads} threads: every kind of kernel, split, writes what one unsplit call writes, bit for bit`, async () => {
        const pool = await nodeThreadRunner(threads, variant, MEMORY_BYTES) as ThreadPoolRunner;
        const serial = serialRunner(variant, MEMORY_BYTES);
        // Every helper runs its own piece (the caller would take the pieces of late helpers, leaving them untested).
        pool.adaptive = false;
        try {
          assert.strictEqual(pool.threads, threads);
          assert.ok(pool.memory.buffer instanceof SharedArrayBuffer);
          const lines: string[] = [];
          for (const c of cases()) {
            fillInputs(pool.memory, c);
            const before = region(pool.memory, c.end);
            const scratch = new Uint32Array(pool.memory.buffer, SCRATCH, (threads * GEMM_SCRATCH_BYTES) / 4);
            scratch.fill(SENTINEL);
            pool.run(c.name, c.args, c.lo, c.align, c.scratchArg);
            const split = region(pool.memory, c.end);
            for (let t = 0; t < threads && c.usesScratch; t++) {
              const own = scratch.subarray((t * GEMM_SCRATCH_BYTES) / 4, ((t + 1) * GEMM_SCRATCH_BYTES) / 4);
              assert.ok(own.some((x) => x !== SENTINEL), `${c.label}: piece ${t} did not use its own scratch`);
            }
            // The same call unsplit, on this thread, from the same inputs.
            new Uint32Array(pool.memory.buffer, DATA, before.length).set(before);
            (pool.k[c.name] as (...a: number[]) => void)(...c.args);
            const whole = region(pool.memory, c.end);
            assert.ok(firstDifference(before, whole) !== null, `${c.label}: the kernel changed nothing (the case tests nothing)`);
            const d = firstDifference(whole, split);
            assert.strictEqual(d, null, `${c.label}: split over ${threads} threads differs from one call at ${d}`);
            // And the one-thread runner on a plain memory.
            fillInputs(serial.memory, c);
            serial.run(c.name, c.args, c.lo, c.align, c.scratchArg);
            const s = firstDifference(whole, region(serial.memory, c.end));
            assert.strictEqual(s, null, `${c.label}: the shared-memory build differs from the one-thread runner at ${s}`);
            lines.push(c.label);
          }
          assert.strictEqual(pool.stats.stolen, 0);
          console.log(`      ${lines.length} cases equal: ${lines.join(', ')}`);
        } finally {
          pool.dispose();
          serial.dispose();
        }
      });
    }
  }

  it('sumSquares split with a per-piece output (scratchArg): each partial is its piece, and they add up', async () => {
    const pool = await nodeThreadRunner(3, 'simd', MEMORY_BYTES) as ThreadPoolRunner;
    try {
      const n = 100003;
      const g = DATA;
      const one = DATA + Math.ceil((4 * n) / 64) * 64; // one piece's sum, computed here
      const f32 = new Float32Array(pool.memory.buffer);
      const f64 = new Float64Array(pool.memory.buffer);
      const r = new Rng(3);
      let ref = 0;
      for (let i = 0; i < n; i++) {
        f32[(g >> 2) + i] = r.next() - 0.5;
        ref += f32[(g >> 2) + i] ** 2;
      }
      for (let rep = 0; rep < 50; rep++) {
        for (let t = 0; t < 3; t++) f64[(SCRATCH + t * GEMM_SCRATCH_BYTES) >> 3] = NaN;
        // Half the repetitions with every piece on its own thread, half with the caller taking late helpers' pieces.
        pool.adaptive = rep % 2 === 1;
        pool.run('sumSquares', [g, SCRATCH, 0, n], 2, 4, 1);
        let total = 0;
        for (let t = 0; t < 3; t++) {
          const part = f64[(SCRATCH + t * GEMM_SCRATCH_BYTES) >> 3];
          const [a, b] = splitRange(0, n, 4, 3, t);
          pool.k.sumSquares(g, one, a, b);
          assert.strictEqual(part, f64[one >> 3], `piece ${t}'s partial sum`);
          total += part;
        }
        assert.ok(Math.abs(total - ref) <= 1e-9 * ref, `the partials add up to ${total}, float64 says ${ref}`);
      }
    } finally {
      pool.dispose();
    }
  });

  it('many small runs in a row (as a recurrence dispatches them) each do every piece once', async () => {
    const pool = await nodeThreadRunner(3, 'simd', MEMORY_BYTES);
    try {
      const n = 999, a = DATA, o = DATA + 4096 * 4;
      const f32 = new Float32Array(pool.memory.buffer);
      f32.fill(1, a >> 2, (a >> 2) + n);
      f32.fill(0, o >> 2, (o >> 2) + n + 16);
      const runs = 20000;
      for (let i = 0; i < runs; i++) pool.run('addInPlace', [o, a, 0, n], 2, 4);
      let wrong = 0;
      for (let i = 0; i < n; i++) if (f32[(o >> 2) + i] !== runs) wrong++;
      assert.strictEqual(wrong, 0, `${wrong} of ${n} floats were not added exactly ${runs} times`);
      assert.strictEqual(f32[(o >> 2) + n], 0, 'the float after the range was written');
    } finally {
      pool.dispose();
    }
  });

  it('a kernel that throws on a worker thread is an error in the caller, and the pool still works', async () => {
    const pool = await nodeThreadRunner(2, 'simd', MEMORY_BYTES) as ThreadPoolRunner;
    try {
      // The second piece runs past the end of memory: on the worker thread, and on the caller when it takes it.
      const floats = MEMORY_BYTES / 4;
      pool.adaptive = false;
      assert.throws(() => pool.run('fill', [0, 1, 0, floats + 4096], 2, 4),
        /^Error: WebAssembly kernel fill failed on a worker thread \(thread 1: RuntimeError: memory access out of bounds\)$/);
      pool.adaptive = true;
      for (let i = 0; i < 20; i++) assert.throws(() => pool.run('fill', [0, 1, 0, floats + 4096], 2, 4), /memory access out of bounds/);
      const f32 = new Float32Array(pool.memory.buffer);
      pool.run('fill', [DATA, 2, 0, 100], 2, 4);
      assert.strictEqual(f32[(DATA >> 2) + 99], 2);
    } finally {
      pool.dispose();
    }
  });

  it('a worker that is killed (before or during a run) makes the run throw, not hang, and the pool refuses further runs', async () => {
    for (const [when, steal] of [['before', true], ['before', false], ['during', true], ['during', false]] as const) {
      const pool = await nodeThreadRunner(3, 'simd', MEMORY_BYTES) as ThreadPoolRunner;
      pool.adaptive = steal; // found dead when the caller takes its piece, or while the caller waits for it
      try {
        const worker = (pool.host as NodeWorkerHost).workers[1];
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        void worker.terminate();
        if (when === 'before') await exited;
        // A run of ~1 ms per piece, repeated until the dead worker is noticed (at the first run when it died before).
        const M = 64, N = 512, K = 256;
        const a = DATA, bp = a + 4 * M * K, c = bp + 4 * packedFloats(N, K);
        assert.throws(() => {
          for (const started = Date.now(); Date.now() - started < 20000;) pool.run('gemm', [M, N, K, a, K, 0, bp, c, N, 0, SCRATCH, 0, M, 0, N], 13, 8, 10);
        }, /worker thread 2 of 3 stopped/, `killed ${when} a run, steal ${steal}: 20 s of runs and the dead worker was not noticed`);
        assert.throws(() => pool.run('fill', [DATA, 0, 0, 64], 2, 4), /unusable.*dispose it and create a new runner/);
      } finally {
        pool.dispose();
      }
    }
  });

  it('dispose ends every worker thread, and a disposed runner refuses to run', async () => {
    const pool = await nodeThreadRunner(3, 'simd', MEMORY_BYTES) as ThreadPoolRunner;
    const workers = (pool.host as NodeWorkerHost).workers;
    assert.strictEqual(workers.length, 2);
    const exits = workers.map((w) => new Promise<number>((resolve) => w.once('exit', resolve)));
    pool.run('fill', [DATA, 1, 0, 4096], 2, 4);
    pool.dispose();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('a worker thread was still running 10 s after dispose')), 10000); });
    try {
      await Promise.race([Promise.all(exits), timeout]);
    } finally {
      clearTimeout(timer);
    }
    assert.throws(() => pool.run('fill', [DATA, 1, 0, 64], 2, 4), /disposed/);
  });

  it('sizes and thread counts: 1 thread is the serial runner, a shared memory does not grow past its size, bad counts are errors', async () => {
    const one = await nodeThreadRunner(1, 'simd', 1 << 20);
    assert.strictEqual(one.threads, 1);
    assert.ok(!(one.memory.buffer instanceof SharedArrayBuffer));
    one.ensureBytes(3 << 20);
    assert.ok(one.memory.buffer.byteLength >= 3 << 20);
    one.dispose();
    const pool = await nodeThreadRunner(2, 'simd', 1 << 20);
    try {
      pool.ensureBytes(1 << 20);
      assert.throws(() => pool.ensureBytes((1 << 20) + 1), /cannot grow.*maxBytes >= 1048577/);
      assert.throws(() => pool.run('nope' as KernelName, [0, 0], 0, 1), /no kernel named 'nope'/);
      assert.throws(() => pool.run('fill', [DATA, 0, 0, 8], 3, 4), /range's argument index 3/);
    } finally {
      pool.dispose();
    }
    await assert.rejects(nodeThreadRunner(0, 'simd', 1 << 20), /1 to 64 threads, got 0/);
  });
});

const optim: OptimConfig = { ...DEFAULT_OPTIM, learningRate: 5e-3, clipNorm: 1 };


describe('WebAssembly training on 3 threads against the CPU reference', function () {
  this.timeout(120000);

  for (const cell of ['rnn', 'lstm', 'gru'] as CellType[]) {
    it(`${cell}, 2 layers, 20 steps: losses within 1e-5 relative, parameters within 1e-4`, async () => {
      // Sizes that split unevenly over 3 threads: hidden 37 (148 LSTM gate columns), batch 7, vocabulary 41.
      const config: ModelConfig = { cell, vocabSize: 41, embedSize: 9, hiddenSize: 37, numLayers: 2, dropout: 0.2 };
      const T = 9, B = 7, threads = 3;
      const params = initParams(config, 21);
      const r = new Rng(4);
      const data = new Int32Array(T * B * 6 + 1).map((_, i) => (i % 5 === 0 ? r.int(config.vocabSize) : (i * 7) % config.vocabSize));
      const runner: KernelRunner = await nodeThreadRunner(threads, 'simd', wasmBackendBytes(config, T, B, threads));
      const wasm = createWasmBackend(config, params, optim, { runner, dropoutSeed: 9 });
      try {
        assert.strictEqual(wasm.threads, threads);
        const cpu = new CpuBackend(config, params, optim, { dropoutSeed: 9 });
        const rc = await trainSteps(cpu, data, T, B, 0, 20);
        const rw = await trainSteps(wasm, data, T, B, 0, 20);
        let loss = 0;
        rc.forEach((s, i) => { loss = Math.max(loss, Math.abs(rw[i].loss - s.loss) / Math.abs(s.loss)); });
        const pc = await cpu.getParams(), pw = await wasm.getParams();
        let param = 0, where = '';
        for (const [k, v] of pc) {
          const d = maxAbsDiff(v, pw.get(k)!);
          if (!(d <= param)) { param = d; where = k; }
        }
        console.log(`      ${cell}: loss ${rc[0].loss.toFixed(4)} → ${rc[19].loss.toFixed(4)}; max differences: loss ${loss.toExponential(2)} relative, parameters ${param.toExponential(2)} (${where})`);
        assert.ok(loss < 1e-5, `losses differ by ${loss.toExponential(2)} relative`);
        assert.ok(param < 1e-4, `parameter ${where} differs by ${param.toExponential(2)}`);
      } finally {
        wasm.dispose();
      }
    });
  }
});
