// Stop acts within one step (kernels/train.ts, kernels/session.ts): after the abort signal no full
// validation pass runs (on a large validation text it took most of the 15 to 34 s a Stop used to
// take); the run's last periodic measurement is the one its 'done' report carries.

import * as assert from 'assert';
import { CpuBackend } from '../kernels/cpu/backend';
import { DEFAULT_OPTIM } from '../kernels/config';
import { BackendFactory, TrainingJob, TrainingReport, runTrainingJob } from '../kernels/session';

const TEXT = 'function add(a, b) {\n  return a + b;\n}\n'.repeat(200);

describe('Stop', () => {
  it('ends a run within a step of the abort, with no validation pass after it, and keeps the last measured value', async () => {
    const job: TrainingJob = {
      runId: 1,
      text: { train: TEXT, val: TEXT },
      model: { cell: 'lstm', hiddenSize: 12, numLayers: 1, embedSize: 8, dropout: 0 },
      tokenizer: { kind: 'char', vocabSize: 256 },
      optim: DEFAULT_OPTIM,
      batch: { seqLen: 16, batchSize: 4 },
      budget: { maxSeconds: 600 },
      checkpointEverySeconds: 1e6,
      evalEverySeconds: 0.05,
      seed: 3,
    };
    const abort = new AbortController();
    const reports: TrainingReport[] = [];
    let evalWindowsAfterStop = 0, stepsAfterStop = 0;
    const factory: BackendFactory = async (c, p, o, opts) => {
      const b = new CpuBackend(c, p, o, opts);
      const evalWindow = b.evalWindow.bind(b), trainStep = b.trainStep.bind(b);
      b.evalWindow = (...a) => { if (abort.signal.aborted) evalWindowsAfterStop++; return evalWindow(...a); };
      b.trainStep = (...a) => { if (abort.signal.aborted) stepsAfterStop++; return trainStep(...a); };
      return b;
    };
    const emit = (r: TrainingReport) => {
      reports.push(r);
      // Stop right after the second periodic validation measurement.
      if (r.kind === 'eval' && reports.filter((x) => x.kind === 'eval').length === 2) abort.abort();
    };
    await runTrainingJob(job, { backend: 'cpu', adapter: 'test' }, factory, emit, abort.signal);
    const done = reports[reports.length - 1];
    assert.ok(done.kind === 'done', JSON.stringify(done));
    assert.strictEqual(done.stoppedBy, 'abort');
    assert.strictEqual(evalWindowsAfterStop, 0, 'a validation pass ran after the Stop');
    assert.ok(stepsAfterStop <= 1, `${stepsAfterStop} steps ran after the Stop`);
    const evals = reports.filter((r): r is Extract<TrainingReport, { kind: 'eval' }> => r.kind === 'eval');
    assert.strictEqual(evals.length, 2, 'no evaluation after the Stop');
    assert.strictEqual(done.valBitsPerChar, evals[1].bitsPerChar, 'the last measured value stands');
    const ck = reports.filter((r) => r.kind === 'checkpoint');
    assert.strictEqual(ck.length, 1, 'the stopped run is checkpointed once');
    assert.strictEqual(ck[0].step, done.step);
  });
});
