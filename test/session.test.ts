// runTrainingJob (kernels/session.ts), the code both the webview and the CPU worker run: reports in
// order, checkpoints that decode, a resume that continues the same step count and loss curve as an
// uninterrupted run, and failures turned into 'error' reports (never exceptions).

import * as assert from 'assert';
import { CpuBackend } from '../kernels/cpu/backend';
import { DEFAULT_OPTIM } from '../kernels/config';
import { decodeCheckpoint, decodeOptimizerState } from '../kernels/checkpoint';
import { BackendFactory, TrainingJob, TrainingReport, runTrainingJob } from '../kernels/session';

const TEXT = 'function add(a, b) {\n  return a + b;\n}\n'.repeat(60);

function job(over: Partial<TrainingJob> = {}): TrainingJob {
  return {
    runId: 7,
    text: { train: TEXT, val: TEXT.slice(0, 300) },
    model: { cell: 'lstm', hiddenSize: 12, numLayers: 1, embedSize: 8, dropout: 0 },
    tokenizer: { kind: 'char', vocabSize: 256 },
    optim: DEFAULT_OPTIM,
    batch: { seqLen: 16, batchSize: 4 },
    budget: { maxSteps: 10 },
    checkpointEverySeconds: 1e6,
    evalEverySeconds: 1e6,
    seed: 3,
    ...over,
  };
}

const cpu: BackendFactory = async (c, p, o, opts) => new CpuBackend(c, p, o, opts);
const INFO = { backend: 'cpu' as const, adapter: 'test' };

async function run(j: TrainingJob, factory = cpu, signal = new AbortController().signal): Promise<TrainingReport[]> {
  const out: TrainingReport[] = [];
  await runTrainingJob(j, INFO, factory, (r) => out.push(r), signal);
  return out;
}

const last = <K extends TrainingReport['kind']>(rs: TrainingReport[], kind: K) =>
  rs.filter((r): r is Extract<TrainingReport, { kind: K }> => r.kind === kind).pop();

describe('runTrainingJob', () => {
  it('reports started, checkpoint and done, and the checkpoint decodes with its tokenizer and Adam state', async () => {
    const rs = await run(job());
    assert.deepStrictEqual([rs[0].kind, rs[rs.length - 1].kind], ['started', 'done']);
    assert.ok(rs.every((r) => r.runId === 7));
    const ck = last(rs, 'checkpoint')!;
    assert.strictEqual(ck.step, 10);
    const model = decodeCheckpoint(ck.model);
    assert.strictEqual(model.step, 10);
    assert.ok(model.tokenizer);
    assert.strictEqual(decodeOptimizerState(ck.optimizer, model.config).step, 10);
    assert.strictEqual(last(rs, 'done')!.stepsThisRun, 10);
  });

  it('a run resumed from its checkpoint continues the step count and the loss curve of an uninterrupted run', async () => {
    const whole = await run(job({ budget: { maxSteps: 30 } }));
    const first = await run(job({ budget: { maxSteps: 15 } }));
    const ck = last(first, 'checkpoint')!;
    const second = await run(job({ budget: { maxSteps: 30 }, resume: { model: ck.model, optimizer: ck.optimizer } }));
    const started = second[0] as Extract<TrainingReport, { kind: 'started' }>;
    assert.strictEqual(started.step, 15);
    assert.strictEqual(started.resumed, true);
    assert.strictEqual(last(second, 'done')!.stepsThisRun, 15);
    assert.strictEqual(decodeCheckpoint(last(second, 'checkpoint')!.model).step, 30);
    // The carried recurrent state is not part of a checkpoint (a resume starts its streams from
    // zeros), so the curves agree closely rather than bit for bit.
    const a = last(whole, 'done')!.valBitsPerChar!, b = last(second, 'done')!.valBitsPerChar!;
    const fresh = last(first, 'done')!.valBitsPerChar!;
    assert.ok(Math.abs(a - b) < 0.02 * a, `uninterrupted ${a} vs resumed ${b}`);
    assert.ok(b < fresh, `the resumed run kept learning: ${fresh} → ${b}`);
  });

  it('stops at an abort with a final checkpoint', async () => {
    const abort = new AbortController();
    const out: TrainingReport[] = [];
    await runTrainingJob(job({ budget: { maxSteps: 1e6 } }), INFO, cpu, (r) => {
      out.push(r);
      if (r.kind === 'started') setTimeout(() => abort.abort(), 50);
    }, abort.signal);
    const done = last(out, 'done')!;
    assert.strictEqual(done.stoppedBy, 'abort');
    assert.strictEqual(last(out, 'checkpoint')!.step, done.step);
  });

  it('turns bad input into an error report', async () => {
    for (const [bad, pattern] of [
      [job({ resume: { model: new Uint8Array([1, 2, 3]) } }), /checkpoint/],
      [job({ text: { train: 'ab', val: '' } }), /too short|too little|shorter/],
      [job({ model: { cell: 'lstm', hiddenSize: 0, numLayers: 1, embedSize: 8, dropout: 0 } }), /hidden size/],
    ] as const) {
      const rs = await run(bad);
      assert.strictEqual(rs.length, 1, JSON.stringify(rs.map((r) => r.kind)));
      const e = rs[0] as Extract<TrainingReport, { kind: 'error' }>;
      assert.strictEqual(e.kind, 'error');
      assert.match(e.message, pattern);
      assert.strictEqual(e.deviceLost, false);
    }
  });

  it('reports a lost device as deviceLost, after the last good checkpoint', async () => {
    let steps = 0;
    const flaky: BackendFactory = async (c, p, o, opts) => {
      const b = new CpuBackend(c, p, o, opts);
      const step = b.trainStep.bind(b);
      b.trainStep = async (...args) => {
        if (++steps > 6) throw new Error('the GPU device was lost after training step 6 (destroyed)');
        return step(...args);
      };
      return b;
    };
    const rs = await run(job({ budget: { maxSteps: 20 }, checkpointEverySeconds: 1e-9 }), flaky);
    const e = last(rs, 'error')!;
    assert.strictEqual(e.deviceLost, true);
    assert.ok(last(rs, 'checkpoint')!.step >= 4);
    assert.strictEqual(last(rs, 'done'), undefined);
  });
});
