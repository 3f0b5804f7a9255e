// The extension's model store and inference (extension/store.ts, extension/inference.ts), which need
// Node but not VS Code: checked atomic saves that never replace a good model with bad bytes, and
// predictions, activations and line completions from the stored model, checked against the float64
// reference forward pass (test/float64Reference.ts), not against the InferenceSession they are built on.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CpuBackend } from '../kernels/cpu/backend';
import { DEFAULT_OPTIM } from '../kernels/config';
import { TrainingReport, runTrainingJob } from '../kernels/session';
import { maxAbsDiff } from '../kernels/tensor';
import { tokenizerFromJSON } from '../kernels/tokenizer';
import { ModelInference } from '../extension/inference';
import { ModelStore } from '../extension/store';
import { referenceLayers, referenceNextProbabilities } from './float64Reference';

const TEXT = 'const a = 1;\nconst b = 2;\nfunction f(x) {\n  return x + a;\n}\n'.repeat(40);
/** Enough for the model to continue 'function f(x) {\n  ret' with more than blanks (30 steps gave only spaces). */
const TRAINED_STEPS = 400;

async function trained(): Promise<Extract<TrainingReport, { kind: 'checkpoint' }>> {
  let ck: Extract<TrainingReport, { kind: 'checkpoint' }> | undefined;
  await runTrainingJob({
    runId: 1, text: { train: TEXT, val: TEXT.slice(0, 200) }, model: { cell: 'gru', hiddenSize: 16, numLayers: 2, embedSize: 8, dropout: 0 },
    tokenizer: { kind: 'char', vocabSize: 256 }, optim: DEFAULT_OPTIM, batch: { seqLen: 16, batchSize: 4 }, budget: { maxSteps: TRAINED_STEPS },
    checkpointEverySeconds: 1e6, evalEverySeconds: 1e6, seed: 5,
  }, { backend: 'cpu', adapter: 'test' }, async (c, p, o, opts) => new CpuBackend(c, p, o, opts), (r) => { if (r.kind === 'checkpoint') ck = r; }, new AbortController().signal);
  assert.ok(ck);
  return ck;
}

describe('extension model store and inference', () => {
  let dir: string;
  let ck: Extract<TrainingReport, { kind: 'checkpoint' }>;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-store-'));
    ck = await trained();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('saves a checked checkpoint and loads it back', async () => {
    const store = new ModelStore(dir);
    assert.strictEqual(await store.load(), null);
    await store.save(ck.model, ck.optimizer);
    const m = await store.load();
    assert.strictEqual(m?.checkpoint.step, TRAINED_STEPS);
    assert.ok(Buffer.from(m!.bytes).equals(Buffer.from(ck.model)));
    assert.ok(Buffer.from((await store.loadOptimizerBytes())!).equals(Buffer.from(ck.optimizer)));
  });

  it('refuses bad bytes and keeps the stored model untouched', async () => {
    const store = new ModelStore(dir);
    const before = fs.readFileSync(store.modelPath);
    const truncated = ck.model.slice(0, ck.model.length - 10);
    const flipped = ck.model.slice();
    flipped[3] ^= 0xff;
    for (const [model, optimizer] of [[truncated, ck.optimizer], [flipped, ck.optimizer], [ck.model, ck.optimizer.slice(0, 100)], [new Uint8Array(0), undefined]] as const) {
      await assert.rejects(store.save(model, optimizer));
      assert.ok(fs.readFileSync(store.modelPath).equals(before), 'the stored model changed');
    }
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'temporary files were left behind');
  });

  it('predicts and traces from the stored model as the float64 reference does', async () => {
    const store = new ModelStore(dir);
    const inference = new ModelInference(store);
    const stored = (await store.load())!.checkpoint;
    const { config, params } = stored;
    const tokenizer = tokenizerFromJSON(stored.tokenizer);
    const prefix = 'function f(x) {\n  ret';
    const ids = Array.from(tokenizer.encode(prefix));

    const probs = referenceNextProbabilities(config, params, ids);
    const order = probs.map((_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
    const got = await inference.predictNext(prefix, 3);
    assert.deepStrictEqual(got.map((p) => p.id), order.slice(0, 3));
    got.forEach((p) => assert.ok(Math.abs(p.probability - probs[p.id]) < 1e-5, `token ${p.id}: ${p.probability} vs ${probs[p.id]}`));
    assert.deepStrictEqual(got.map((p) => p.token), order.slice(0, 3).map((id) => tokenizer.tokenLabel(id)));

    const layer = 1;
    const acts = await inference.activations('const a', layer);
    const want = referenceLayers(config, params, tokenizer.encode('const a'))[layer];
    assert.strictEqual(acts.tokens.length, 7);
    assert.deepStrictEqual(Object.keys(acts.gates!), ['r', 'z', 'n']);
    assert.strictEqual(acts.cell, null);
    assert.ok(maxAbsDiff(acts.hidden.flat(), want.h.flat()) < 1e-5, `hidden differs by ${maxAbsDiff(acts.hidden.flat(), want.h.flat())}`);
    const H = config.hiddenSize;
    ['r', 'z', 'n'].forEach((g, gi) => {
      const wantGate = want.gates!.map((row) => row.slice(gi * H, (gi + 1) * H));
      assert.ok(maxAbsDiff(acts.gates![g].flat(), wantGate.flat()) < 1e-5, `gate ${g} differs`);
    });
    await assert.rejects(inference.activations('x', 2), /layer/);

  });
});
