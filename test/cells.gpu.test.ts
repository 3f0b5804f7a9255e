// The WebGPU recurrent cells against their CPU twins (kernels/cpu/cells.ts): forward and backward
// for RNN, LSTM and GRU over several shapes (sizes that are not multiples of the workgroup size),
// non-zero offsets, and saturated pre-activations of ±50.

import * as assert from 'assert';
import * as cpu from '../kernels/cpu/cells';
import { Rng } from '../kernels/rng';
import { maxAbsDiff } from '../kernels/tensor';
import * as gpu from '../kernels/webgpu/cells';
import { GpuContext, Recorder } from '../kernels/webgpu/context';
import { requireGpu } from './gpuContext';

const TOL = 1e-5;
const SHAPES: [number, number][] = [];
for (const B of [1, 3, 16]) for (const H of [1, 5, 33, 128]) SHAPES.push([B, H]);

type Arrays = Record<string, Float32Array>;
type Buffers = Record<string, GPUBuffer>;

/** One op on one shape: its arrays (inputs and outputs), which to compare, and both implementations. */
interface Case {
  label: string;
  arrays: Arrays;
  outputs: string[];
  cpu(a: Arrays): void;
  gpu(rec: Recorder, b: Buffers): void;
}

function uniform(rng: Rng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-scale, scale);
  return a;
}

/**
 * Runs every case through one Recorder and the CPU twin on copies of the same data; compares the
 * whole of every output array (so writes outside the target range are caught too). Returns the
 * max abs error per output name over all cases.
 */
async function check(ctx: GpuContext, cases: Case[]): Promise<Map<string, number>> {
  const rec = new Recorder(ctx, 'cells test');
  const bufs: Buffers[] = [];
  for (const c of cases) {
    const b: Buffers = {};
    for (const [name, data] of Object.entries(c.arrays)) {
      b[name] = ctx.createBuffer(`${c.label} ${name}`, data.byteLength);
      ctx.upload(b[name], data);
    }
    c.gpu(rec, b);
    bufs.push(b);
  }
  await rec.run();
  const worst = new Map<string, number>();
  const failures: string[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const ref: Arrays = {};
    for (const [name, data] of Object.entries(c.arrays)) ref[name] = data.slice();
    c.cpu(ref);
    for (const name of c.outputs) {
      const got = await ctx.readF32(bufs[i][name], ref[name].length);
      const err = maxAbsDiff(got, ref[name]);
      worst.set(name, Math.max(worst.get(name) ?? 0, err));
      if (!(err <= TOL)) failures.push(`${c.label} ${name}: max abs error ${err}`);
    }
    for (const b of Object.values(bufs[i])) b.destroy();
  }
  rec.destroy();
  assert.deepStrictEqual(failures, []);
  return worst;
}

function report(op: string, worst: Map<string, number>): void {
  console.log(`      ${op}: max abs error ${[...worst].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
}

// ---- case builders: forward on random pre-activations; backward on the CPU forward's state ----

function rnnCases(rng: Rng, B: number, H: number, scale: number): Case[] {
  const n = B * H;
  const xpOff = 7, hpOff = 3 + n, hOff = n + 2, dhOff = 5, dOff = 9;
  const xp = uniform(rng, xpOff + n + 4, scale);
  const hp = uniform(rng, hpOff + n + 1, scale);
  const hs = uniform(rng, hOff + n + 3, 1);
  const fwd: Case = {
    label: `rnn fwd B=${B} H=${H}`,
    arrays: { xp, hp, hs },
    outputs: ['hs'],
    cpu: (a) => cpu.rnnCellForward(B, H, a.xp, xpOff, a.hp, hpOff, a.hs, hOff),
    gpu: (rec, b) => gpu.rnnCellForward(rec, B, H, b.xp, xpOff, b.hp, hpOff, b.hs, hOff),
  };
  const hsF = hs.slice();
  cpu.rnnCellForward(B, H, xp, xpOff, hp, hpOff, hsF, hOff);
  const bwd: Case = {
    label: `rnn bwd B=${B} H=${H}`,
    arrays: { dh: uniform(rng, dhOff + n, 3), hs: hsF, dPre: uniform(rng, dOff + n + 2, 1) },
    outputs: ['dPre'],
    cpu: (a) => cpu.rnnCellBackward(B, H, a.dh, dhOff, a.hs, hOff, a.dPre, dOff),
    gpu: (rec, b) => gpu.rnnCellBackward(rec, B, H, b.dh, dhOff, b.hs, hOff, b.dPre, dOff),
  };
  return [fwd, bwd];
}

function lstmCases(rng: Rng, B: number, H: number, scale: number): Case[] {
  const n = B * H, G = 4 * H;
  // As the model lays them out: c and h of step t at t*B*H, those of t+1 right after (plus a shift).
  const xpOff = 5, hpOff = 2 + B * G, gOff = 3 + B * G, cPrevOff = 1 + n, cOff = 1 + 2 * n, hOff = 4 + n, dhOff = 6, dOff = 11;
  const xp = uniform(rng, xpOff + B * G + 3, scale);
  const hp = uniform(rng, hpOff + B * G, scale);
  const cs = uniform(rng, cOff + n + 2, 2);
  const gates = uniform(rng, gOff + B * G + 1, 1);
  const hs = uniform(rng, hOff + n + 5, 1);
  const fwd: Case = {
    label: `lstm fwd B=${B} H=${H}`,
    arrays: { xp, hp, cs, gates, hs },
    outputs: ['cs', 'gates', 'hs'],
    cpu: (a) => cpu.lstmCellForward(B, H, a.xp, xpOff, a.hp, hpOff, a.cs, cPrevOff, a.gates, gOff, a.cs, cOff, a.hs, hOff),
    gpu: (rec, b) => gpu.lstmCellForward(rec, B, H, b.xp, xpOff, b.hp, hpOff, b.cs, cPrevOff, cOff, b.gates, gOff, b.hs, hOff),
  };
  const csF = cs.slice(), gatesF = gates.slice(), hsF = hs.slice();
  cpu.lstmCellForward(B, H, xp, xpOff, hp, hpOff, csF, cPrevOff, gatesF, gOff, csF, cOff, hsF, hOff);
  const bwd: Case = {
    label: `lstm bwd B=${B} H=${H}`,
    arrays: { dh: uniform(rng, dhOff + n + 1, 3), dc: uniform(rng, n, 3), gates: gatesF, cs: csF, dPre: uniform(rng, dOff + B * G + 2, 1) },
    outputs: ['dc', 'dPre'],
    cpu: (a) => cpu.lstmCellBackward(B, H, a.dh, dhOff, a.dc, a.gates, gOff, a.cs, cOff, a.cs, cPrevOff, a.dPre, dOff),
    gpu: (rec, b) => gpu.lstmCellBackward(rec, B, H, b.dh, dhOff, b.dc, b.gates, gOff, b.cs, cOff, cPrevOff, b.dPre, dOff),
  };
  return [fwd, bwd];
}

function gruCases(rng: Rng, B: number, H: number, scale: number): Case[] {
  const n = B * H, G = 3 * H;
  const xpOff = 4, hpOff = 1 + B * G, gOff = 2 + B * G, hPrevOff = 3 + n, hOff = 3 + 2 * n, dhOff = 7, dxOff = 5, dhpOff = 2 + B * G;
  const xp = uniform(rng, xpOff + B * G + 2, scale);
  const hp = uniform(rng, hpOff + B * G + 3, scale);
  const hs = uniform(rng, hOff + n + 1, 1);
  const gates = uniform(rng, gOff + B * G + 2, 1);
  const fwd: Case = {
    label: `gru fwd B=${B} H=${H}`,
    arrays: { xp, hp, hs, gates },
    outputs: ['hs', 'gates'],
    cpu: (a) => cpu.gruCellForward(B, H, a.xp, xpOff, a.hp, hpOff, a.hs, hPrevOff, a.gates, gOff, a.hs, hOff),
    gpu: (rec, b) => gpu.gruCellForward(rec, B, H, b.xp, xpOff, b.hp, hpOff, b.hs, hPrevOff, hOff, b.gates, gOff),
  };
  const hsF = hs.slice(), gatesF = gates.slice();
  cpu.gruCellForward(B, H, xp, xpOff, hp, hpOff, hsF, hPrevOff, gatesF, gOff, hsF, hOff);
  const bwd: Case = {
    label: `gru bwd B=${B} H=${H}`,
    arrays: {
      dh: uniform(rng, dhOff + n, 3), gates: gatesF, hp, hs: hsF,
      dXp: uniform(rng, dxOff + B * G + 1, 1), dHp: uniform(rng, dhpOff + B * G + 4, 1), dhDirect: uniform(rng, n + 2, 1),
    },
    outputs: ['dXp', 'dHp', 'dhDirect'],
    cpu: (a) => cpu.gruCellBackward(B, H, a.dh, dhOff, a.gates, gOff, a.hp, hpOff, a.hs, hPrevOff, a.dXp, dxOff, a.dHp, dhpOff, a.dhDirect),
    gpu: (rec, b) => gpu.gruCellBackward(rec, B, H, b.dh, dhOff, b.gates, gOff, b.hp, hpOff, b.hs, hPrevOff, b.dXp, dxOff, b.dHp, dhpOff, b.dhDirect),
  };
  return [fwd, bwd];
}

describe('webgpu cells vs CPU cells', () => {
  let ctx: GpuContext;
  before(async function () {
    ctx = await requireGpu(this);
    for (const k of gpu.CELL_KERNELS) await ctx.compile(k);
  });

  const builders = { rnn: rnnCases, lstm: lstmCases, gru: gruCases };
  for (const [cell, build] of Object.entries(builders)) {
    it(`${cell} forward and backward match (B in {1,3,16}, H in {1,5,33,128}, pre-activations up to ±3)`, async () => {
      const rng = new Rng(cell.length * 1009 + 17);
      const cases = SHAPES.flatMap(([B, H]) => build(rng, B, H, 3));
      report(cell, await check(ctx, cases));
    });
  }

  it('all cells saturate without NaN for pre-activations of ±50', async () => {
    const rng = new Rng(4242);
    const cases: Case[] = [];
    for (const [B, H] of [[3, 33], [16, 5]]) for (const build of Object.values(builders)) cases.push(...build(rng, B, H, 50));
    report('±50', await check(ctx, cases));
  });
});
