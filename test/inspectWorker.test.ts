// The inspector worker and its host-side pieces, in plain Node: the byte-bounded cache of corpus
// activations (extension/inspectCache.ts), superseding requests (extension/supersede.ts), the transfer
// list of a reply (every typed array moves, none is copied), and the compiled worker itself
// (out/extension/inspectWorker.js, through extension/inspectWorkerClient.ts) on a small model: its
// inspection equals planInspection + inspectWindow + probeWindow run here, the editor colouring's
// values and palette are the unit's values and the panel's colour scale, a second match over the same
// layer and quantity is served from the cache with the same results, a match can be cancelled, a
// request made for another model answers stale, and sampling is reproducible from its seed.

import * as assert from 'assert';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { encodeCheckpoint } from '../kernels/checkpoint';
import { ModelConfig } from '../kernels/config';
import { InferenceSession } from '../kernels/infer';
import { rgbaTable, scaleFor, unitCss } from '../kernels/inspect/colorScale';
import { CorpusSource } from '../kernels/inspect/match';
import { probeWindow } from '../kernels/inspect/probes';
import { inspectWindow } from '../kernels/inspect/trace';
import { planInspection } from '../kernels/inspect/window';
import { initParams } from '../kernels/params';
import { trainCharTokenizer } from '../kernels/tokenizer';
import { ActivationCache } from '../extension/inspectCache';
import { InspectEngine, StaleModelError } from '../extension/inspectEngine';
import { InspectWorkerClient } from '../extension/inspectWorkerClient';
import { FromInspectWorker, ToInspectWorker, transferList } from '../extension/inspectWorkerProtocol';
import { Superseding } from '../extension/supersede';

const WORKER = path.resolve(__dirname, '..', 'extension', 'inspectWorker.js');

const TEXT = 'function f(a, b) {\n  return [a, (b + "x")];\n}\n// a comment\nconst s = \'q\';\n'.repeat(12);

function model(seed: number, text = TEXT) {
  const tokenizer = trainCharTokenizer(text);
  const config: ModelConfig = { cell: 'lstm', vocabSize: tokenizer.vocabSize, embedSize: 6, hiddenSize: 8, numLayers: 2, dropout: 0 };
  const params = initParams(config, seed);
  const bytes = encodeCheckpoint({ config, params, tokenizer: tokenizer.toJSON(), step: seed });
  return { tokenizer, config, params, bytes, session: new InferenceSession(config, params) };
}

function corpusOf(texts: string[]): CorpusSource {
  let at = 0;
  const files = texts.map((t, i) => {
    const f = { path: `f${i}.ts`, uri: `file:///w/f${i}.ts`, start: at, end: at + t.length };
    at += t.length + 1;
    return f;
  });
  return { text: texts.join('\n'), files };
}

describe('inspector: activation cache', () => {
  const entry = (bytes: number) => ({ bytes });

  it('evicts the least recently used entries until a new one fits, and never keeps one larger than the budget', () => {
    const c = new ActivationCache<{ bytes: number }>(100);
    c.set('a', entry(40));
    c.set('b', entry(40));
    assert.ok(c.get('a')); // a is now the most recently used
    c.set('c', entry(40)); // evicts b, not a
    assert.deepStrictEqual(c.keys(), ['a', 'c']);
    assert.strictEqual(c.bytes, 80);
    assert.strictEqual(c.set('huge', entry(101)), false);
    assert.deepStrictEqual(c.keys(), ['a', 'c']);
    c.set('d', entry(100)); // needs everything
    assert.deepStrictEqual(c.keys(), ['d']);
    assert.strictEqual(c.bytes, 100);
  });

  it('replacing a key counts its bytes once; a new model drops the other models\' entries', () => {
    const c = new ActivationCache<{ bytes: number }>(1000);
    const k1 = ActivationCache.key('m1', 'c1', 0, 'h'), k2 = ActivationCache.key('m2', 'c1', 0, 'h');
    c.set(k1, entry(10));
    c.set(k1, entry(30));
    c.set(k2, entry(5));
    assert.strictEqual(c.bytes, 35);
    c.keepModel('m2');
    assert.deepStrictEqual(c.keys(), [k2]);
    assert.strictEqual(c.bytes, 5);
  });
});

describe('inspector: superseding requests', () => {
  /** A request whose work finishes when the test says. */
  function harness() {
    const running: { id: number; finish(v: string): void; fail(e: Error): void }[] = [];
    const delivered: string[] = [];
    const failed: string[] = [];
    const q = new Superseding<string, string>(
      (req, id) => new Promise((resolve, reject) => running.push({ id, finish: resolve, fail: reject })).then((v) => `${req}:${v}`),
      (res) => delivered.push(res),
      (e) => failed.push((e as Error).message),
    );
    return { q, running, delivered, failed };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('runs one at a time, keeps only the newest waiting request, and delivers only the newest result', async () => {
    const { q, running, delivered } = harness();
    q.submit('a');
    q.submit('b');
    q.submit('c'); // replaces b, which never runs
    assert.strictEqual(running.length, 1, 'only one request runs at a time');
    running[0].finish('1'); // a's result is stale: c was submitted after it
    await tick();
    assert.deepStrictEqual(delivered, []);
    assert.strictEqual(running.length, 2, 'c starts once a has ended');
    running[1].finish('2');
    await tick();
    assert.deepStrictEqual(delivered, ['c:2']);
    assert.strictEqual(q.dropped, 2); // b replaced, a stale
  });

  it('a stale failure is dropped too; the newest one is reported; cancel() makes the running one stale', async () => {
    const { q, running, delivered, failed } = harness();
    q.submit('a');
    q.submit('b');
    running[0].fail(new Error('a failed'));
    await tick();
    assert.deepStrictEqual(failed, []);
    running[1].fail(new Error('b failed'));
    await tick();
    assert.deepStrictEqual(failed, ['b failed']);
    q.submit('c');
    q.cancel();
    running[2].finish('3');
    await tick();
    assert.deepStrictEqual(delivered, []);
  });
});

describe('inspector: transfer list', () => {
  it('moves every typed array of an inspection (each buffer once), so none is copied', () => {
    const m = model(1);
    const plan = planInspection(TEXT, m.tokenizer, { selection: { start: 20, end: 40 }, visible: { start: 0, end: 200 }, cursor: 30 });
    const result = inspectWindow(m.session, m.tokenizer, TEXT, plan);
    const probes = probeWindow(TEXT, plan, result);
    const msg: FromInspectWorker = { type: 'inspected', id: 1, plan, result, probes, ms: 1 };
    const arrays = [result.offsets, result.surprisal, result.nextProb, result.topProbs, ...result.layers.flatMap((l) => l.values), ...probes.map((p) => p.values)];
    assert.ok(arrays.every((a) => a.length > 0));
    const list = transferList(msg);
    assert.strictEqual(new Set(list).size, list.length, 'a buffer listed twice cannot be transferred');
    structuredClone(msg, { transfer: list });
    arrays.forEach((a, i) => assert.strictEqual(a.length, 0, `typed array ${i} was copied, not transferred`));
  });
});

describe('inspector: the engine', () => {
  it('answers a request made for another model as stale', () => {
    const e = new InspectEngine();
    e.setModel('m1', model(1).bytes);
    assert.throws(() => e.inspect({ type: 'inspect', id: 1, modelKey: 'm0', text: TEXT, view: { selection: null, visible: { start: 0, end: 50 }, cursor: 0 } }), StaleModelError);
  });
});

describe('inspector: the worker thread', function () {
  this.timeout(60_000);
  let client: InspectWorkerClient;
  const problems: string[] = [];
  const m = model(3);

  beforeEach(() => {
    problems.length = 0;
    client = new InspectWorkerClient(WORKER, { onProblem: (p) => problems.push(p) });
  });
  afterEach(() => client.dispose());

  it('without a model, a request fails with the no-model sentence and no worker is started', async () => {
    await assert.rejects(client.request({ type: 'sample', prompt: 'a', temperature: 1, length: 3, seed: 1 }).answer, /No model yet: run GateScope: Train on Workspace first/);
    assert.strictEqual(client.started, false);
  });

  it('inspects exactly what planInspection + inspectWindow + probeWindow give, typed arrays arriving as typed arrays', async () => {
    client.setModel('k3', m.bytes);
    const view = { selection: { start: 60, end: 75 }, visible: { start: 0, end: 300 }, cursor: 70 };
    // The worker's own problems (a model it could not load) say more than the request's stale error.
    const got = await client.request({ type: 'inspect', text: TEXT, view }).answer.catch((e: Error) => {
      throw new Error(`${e.message}; the worker reported: ${problems.join('; ') || 'nothing'}`);
    });
    const plan = planInspection(TEXT, m.tokenizer, view);
    const want = inspectWindow(m.session, m.tokenizer, TEXT, plan);
    assert.deepStrictEqual(got.plan, plan);
    assert.ok(got.result.offsets instanceof Int32Array && got.result.surprisal instanceof Float32Array);
    assert.deepStrictEqual(got.result, want);
    assert.deepStrictEqual(got.probes, probeWindow(TEXT, plan, want));
    assert.ok(got.ms >= 0);
    assert.deepStrictEqual(problems, []);
  });

  it('colours by a unit: its values over the visible window, each in exactly the panel\'s colour for it', async () => {
    client.setModel('k3', m.bytes);
    const view = { selection: { start: 5, end: 9 }, visible: { start: 40, end: 160 }, cursor: 50 };
    const unit = { layer: 1, quantity: 'c' as const, unit: 5 };
    const got = await client.request({ type: 'unitValues', text: TEXT, view, unit, alpha: 0.45 }).answer;
    // The selection does not matter: the visible range is planned as `gatescope inspect --visible` plans it.
    const plan = planInspection(TEXT, m.tokenizer, { selection: null, visible: view.visible, cursor: view.cursor });
    const r = inspectWindow(m.session, m.tokenizer, TEXT, plan);
    const c = r.layers[1].values[r.layers[1].names.indexOf('c')];
    const H = m.config.hiddenSize, T = r.tokens.length;
    assert.strictEqual(got.windowStart, plan.start);
    assert.deepStrictEqual(got.offsets, r.offsets);
    assert.deepStrictEqual(got.values, Float32Array.from({ length: T }, (_, t) => c[t * H + 5]));
    // The scale over the whole quantity of the window (all units), as the panel's heatmap of it.
    const scale = scaleFor('c', c);
    assert.strictEqual(got.palette.length, rgbaTable(scale).table.length);
    for (let t = 0; t < T; t++) assert.strictEqual(got.palette[got.buckets[t]], unitCss(scale.rgb(got.values[t]), 0.45), `token ${t}`);
    assert.ok(new Set(got.buckets).size > 3, 'the values all got one colour');
  });

  it('matches across the corpus with progress; the second search over the same quantity comes from the cache', async () => {
    client.setModel('k3', m.bytes);
    const corpus = corpusOf([TEXT, TEXT.slice(0, 300), 'let x = [1, [2, 3]];\n']);
    const progress: number[][] = [];
    const ask = (units: number[]) => client.request({ type: 'match', corpusKey: 'c1', corpus, layer: 0, quantity: 'h', units, threshold: 0, length: 4 }, (d, t) => progress.push([d, t])).answer;
    const first = await ask([1, 2]);
    assert.strictEqual(first.cached, false);
    assert.strictEqual(first.cancelled, false);
    assert.ok(first.results.length > 0 && first.results.length <= 50);
    assert.ok(first.results.every((r) => r.values instanceof Float32Array && corpus.files.some((f) => f.uri === r.uri)));
    assert.ok(progress.length > 0 && progress[progress.length - 1][0] === progress[progress.length - 1][1], `progress ${JSON.stringify(progress)}`);
    assert.strictEqual(first.tokensSearched, progress[progress.length - 1][1]);
    progress.length = 0;
    const second = await ask([1, 2]);
    assert.strictEqual(second.cached, true);
    assert.deepStrictEqual(progress, [], 'a cached search computes nothing');
    assert.deepStrictEqual(second.results, first.results);
    // Other units of the same layer and quantity use the same cached activations.
    assert.strictEqual((await ask([0])).cached, true);
    // Another corpus is another key.
    const other = await client.request({ type: 'match', corpusKey: 'c2', corpus, layer: 0, quantity: 'h', units: [1, 2], threshold: 0, length: 4 }).answer;
    assert.strictEqual(other.cached, false);
  });

  it('a match can be cancelled while it runs', async () => {
    client.setModel('k3', m.bytes);
    // Long enough to run for seconds: the cancel arrives while it computes.
    const corpus = corpusOf([TEXT.repeat(600)]);
    let cancelledAt = -1;
    const req = client.request({ type: 'match', corpusKey: 'big', corpus, layer: 1, quantity: 'h', units: [0], threshold: 0, length: 3 }, (done) => {
      if (cancelledAt < 0) {
        cancelledAt = done;
        client.cancel(req.id);
      }
    });
    const r = await req.answer;
    assert.strictEqual(r.cancelled, true, 'the search ran to its end');
    assert.deepStrictEqual(r.results, []);
  });

  it('samples reproducibly from a seed, and uses a new model from the next request on', async () => {
    client.setModel('k3', m.bytes);
    const s1 = await client.request({ type: 'sample', prompt: 'func', temperature: 0.8, length: 20, seed: 7 }).answer;
    const s2 = await client.request({ type: 'sample', prompt: 'func', temperature: 0.8, length: 20, seed: 7 }).answer;
    assert.deepStrictEqual(s2, { ...s1, id: s2.id }, 'the same seed samples the same tokens');
    assert.strictEqual(s1.tokens.length, 20);
    assert.ok(s1.probs.every((p) => p > 0 && p <= 1));
    const m2 = model(4);
    client.setModel('k4', m2.bytes);
    const s3 = await client.request({ type: 'sample', prompt: 'func', temperature: 0, length: 5, seed: 7 }).answer;
    // Greedy with the second model: the most likely token each time.
    const st = m2.session.newState();
    m2.session.feedMany(st, m2.tokenizer.encode('func'));
    assert.deepStrictEqual(s3.tokens, m2.session.greedy(st, 5).map((id) => m2.tokenizer.tokenLabel(id)));
  });

  it('gate saturation over a corpus sample: a left and a right fraction per gate unit, in [0, 1]', async () => {
    client.setModel('k3', m.bytes);
    const r = await client.request({ type: 'saturation', text: TEXT }).answer;
    assert.ok(r.tokens > 0);
    assert.strictEqual(r.layers.length, 2);
    for (const l of r.layers) for (const g of l.gates) {
      assert.strictEqual(g.left.length, m.config.hiddenSize);
      assert.ok([...g.left, ...g.right].every((x) => x >= 0 && x <= 1));
    }
  });

  it('a request made for a model the worker does not hold fails as stale (the host recomputes it)', async () => {
    const worker = new Worker(WORKER);
    try {
      const reply = new Promise<FromInspectWorker>((resolve) => worker.once('message', resolve));
      worker.postMessage({ type: 'model', key: 'k3', bytes: m.bytes } satisfies ToInspectWorker);
      worker.postMessage({ type: 'sample', id: 9, modelKey: 'k-other', prompt: 'a', temperature: 1, length: 1, seed: 1 } satisfies ToInspectWorker);
      const r = await reply;
      assert.strictEqual(r.type, 'error');
      assert.ok(r.type === 'error' && r.stale && r.id === 9, JSON.stringify(r));
    } finally {
      await worker.terminate();
    }
  });

  it('drops inspections superseded by newer ones that arrived while it was busy', async () => {
    const worker = new Worker(WORKER);
    try {
      const replies: FromInspectWorker[] = [];
      const got4 = new Promise<void>((resolve) => worker.on('message', (r: FromInspectWorker) => {
        replies.push(r);
        if (replies.length === 4) resolve();
      }));
      worker.postMessage({ type: 'model', key: 'k3', bytes: m.bytes } satisfies ToInspectWorker);
      // Keeps the worker busy while the three inspections queue up behind it.
      worker.postMessage({ type: 'saturation', id: 1, modelKey: 'k3', text: TEXT.repeat(40) } satisfies ToInspectWorker);
      for (const id of [2, 3, 4]) {
        worker.postMessage({ type: 'inspect', id, modelKey: 'k3', text: TEXT, view: { selection: null, visible: { start: id, end: 200 }, cursor: 0 } } satisfies ToInspectWorker);
      }
      await got4;
      const byId = new Map(replies.map((r) => [r.id, r]));
      assert.strictEqual(byId.get(1)?.type, 'saturation');
      for (const id of [2, 3]) {
        const r = byId.get(id);
        assert.ok(r?.type === 'error' && r.stale && /superseded/.test(r.message), `inspection ${id} was not dropped: ${r?.type}`);
      }
      assert.strictEqual(byId.get(4)?.type, 'inspected');
    } finally {
      await worker.terminate();
    }
  });
});
