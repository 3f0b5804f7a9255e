// The completion worker (out/extension/completionWorker.js, worker_threads) through its host-side client
// (extension/completionClient.ts), in plain Node. The shared cancellation words: a newer request or the
// host's cancel stops a request; what the provider inserts before closers (completionEdit). With a
// stand-in engine (test/completionFakeEngine.ts, which spins until isCancelled() says stop) the
// protocol and cancellation: a request is answered by the engine; edits and closes reach it in order;
// a request superseded WHILE it computes is answered 'cancelled' without finishing (the worker's event
// loop is busy, so only the shared words can tell it); a CancellationToken's cancel does the same; a
// request replaced while it waits is answered 'cancelled' unrun; warming runs after a request and stops
// for the next; a crashed worker fails its request and the next request gets a new worker with the
// model. With the real CompletionEngine: the worker's suggestion equals the engine's run in this thread,
// also with a character n-gram sent (setNgram) mixed in at a weight, when only the weight changes, and at
// weight 0 (the model alone); the n-gram's text is the first part of the training text.
// After an edit, the read-ahead (readAhead: the document's whole text and the first offset edited) reads
// the contexts of the lines below the edit, so a request there reads few tokens (against a document
// that got the same edit without it).

import * as assert from 'assert';
import * as path from 'path';
import { checkpointTokenizer, decodeCheckpoint, encodeCheckpoint } from '../kernels/checkpoint';
import { CompletionEngine } from '../kernels/complete/engine';
import { InferenceSession } from '../kernels/infer';
import { ModelConfig } from '../kernels/config';
import { initParams } from '../kernels/params';
import { trainCharTokenizer } from '../kernels/tokenizer';
import { CompletionAnswer, CompletionClient, CompletionWorkerError, completionEdit, ngramText } from '../extension/completionClient';
import { KneserNeyModel } from '../kernels/complete/ngram';
import { CancelWords } from '../extension/completionWorkerProtocol';
import { DEFAULT_CACHE, DEFAULT_DECODE } from '../kernels/complete/types';

const WORKER = path.resolve(__dirname, '..', 'extension', 'completionWorker.js');
const FAKE = path.resolve(__dirname, 'completionFakeEngine.js');
const TEXT = 'function f(a, b) {\n  return [a, (b + "x")];\n}\n// a comment\nconst s = \'q\';\n'.repeat(12);

function modelBytes(seed: number): Uint8Array {
  const tokenizer = trainCharTokenizer(TEXT);
  const config: ModelConfig = { cell: 'lstm', vocabSize: tokenizer.vocabSize, embedSize: 6, hiddenSize: 8, numLayers: 1, dropout: 0 };
  return encodeCheckpoint({ config, params: initParams(config, seed), tokenizer: tokenizer.toJSON(), step: seed });
}

/** A client on the stand-in engine; `said` collects the worker's problem messages (the stand-in's signals). */
function fakeClient() {
  const said: string[] = [];
  const loaded: string[] = [];
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const client = new CompletionClient(WORKER, {
    onProblem: (m) => {
      said.push(m);
      for (const w of waiters.filter((x) => x.re.test(m))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    onLoaded: (key, what) => loaded.push(`${what} ${key}`),
    engineModule: FAKE,
  }, { maxBytes: 1 << 20 });
  /** Resolves when the worker says something matching `re` (now or later). */
  const heard = (re: RegExp) => new Promise<void>((resolve) => {
    if (said.some((m) => re.test(m))) return resolve();
    waiters.push({ re, resolve });
  });
  return { client, said, loaded, heard };
}

const req = (text: string, after = '') => ({ doc: 'file:///a.ts', text, after, options: DEFAULT_DECODE });
const textOf = (a: CompletionAnswer) => (a.kind === 'completed' ? a.suggestion?.text : `(${a.kind})`);

describe('completion worker: cancellation words and the inserted text', () => {
  it('a request is cancelled by any newer request, or by cancel() of its id or a newer one', () => {
    const w = new CancelWords();
    w.begin(5);
    assert.strictEqual(w.isCancelled(5), false);
    assert.strictEqual(w.isCancelled(4), true, 'an older request is superseded');
    w.cancel(3);
    assert.strictEqual(w.isCancelled(5), false, 'cancelling an older id leaves the newest');
    w.cancel(5);
    assert.strictEqual(w.isCancelled(5), true);
    w.cancel(2); // never goes back
    assert.strictEqual(w.isCancelled(5), true);
    w.begin(6);
    assert.strictEqual(w.isCancelled(6), false);
    // The worker's view of the same memory.
    const other = new CancelWords(w.buffer);
    assert.strictEqual(other.isCancelled(6), false);
    w.begin(7);
    assert.strictEqual(other.isCancelled(6), true);
  });

  it('before closers, the item replaces the rest of the line with the suggestion and then the closers it did not type itself', () => {
    assert.deepStrictEqual(completionEdit('foo()', ''), { insertText: 'foo()', replaceRestOfLine: false });
    assert.deepStrictEqual(completionEdit('a, b', ')'), { insertText: 'a, b)', replaceRestOfLine: true });
    assert.deepStrictEqual(completionEdit('a, b) {', ')'), { insertText: 'a, b) {', replaceRestOfLine: true });
    assert.deepStrictEqual(completionEdit('x]', ')]'), { insertText: 'x])]', replaceRestOfLine: true });
    assert.deepStrictEqual(completionEdit('g(x)', ')]'), { insertText: 'g(x)]', replaceRestOfLine: true });
    assert.deepStrictEqual(completionEdit('g(x)]', ')]'), { insertText: 'g(x)]', replaceRestOfLine: true });
    assert.deepStrictEqual(completionEdit('"a"', '"  '), { insertText: '"a"  ', replaceRestOfLine: true });
  });

  it('the n-gram\'s text is the FIRST part of the training text, never ending in half a surrogate pair', () => {
    assert.strictEqual(ngramText('abcdef', 10), 'abcdef');
    assert.strictEqual(ngramText('abcdef', 4), 'abcd');
    assert.strictEqual(ngramText('ab\u{1F600}cd', 3), 'ab');
    assert.strictEqual(ngramText('ab\u{1F600}cd', 4), 'ab\u{1F600}');
  });
});

describe('completion worker: protocol and cancellation (stand-in engine)', function () {
  this.timeout(60_000);
  let fx: ReturnType<typeof fakeClient>;

  beforeEach(() => {
    fx = fakeClient();
  });
  afterEach(() => fx.client.dispose());

  it('with no model a request fails saying so, and no worker starts', async () => {
    await assert.rejects(fx.client.complete(req('abc')).answer, (e: Error) => e instanceof CompletionWorkerError && /No model yet/.test(e.message));
    assert.strictEqual(fx.client.started, false);
  });

  it('answers a request with the engine\'s suggestion; edits and closes reach the engine in order', async () => {
    fx.client.setModel('m1', modelBytes(1));
    const a = await fx.client.complete(req('hello', ')')).answer;
    assert.strictEqual(textOf(a), 'file:///a.ts:5:)');
    assert.ok(a.kind === 'completed' && a.cacheBytes === 1234 && a.workerMs >= 0);
    fx.client.edit('file:///a.ts', 3);
    fx.client.close('file:///b.ts');
    const calls = JSON.parse(textOf(await fx.client.complete(req('calls')).answer)!) as string[];
    const seen = calls.filter((c) => !c.startsWith('warm'));
    assert.match(seen[0], /^create vocab=\d+ maxBytes=1048576$/);
    assert.deepStrictEqual(seen.slice(1), ['complete file:///a.ts 5', 'edit file:///a.ts 3', 'close file:///b.ts', 'complete file:///a.ts 5']);
    assert.ok(fx.loaded.includes('model m1'), `the worker did not say the model loaded: ${fx.loaded}`);
  });

  it('a request superseded while it computes is answered cancelled without finishing; the newer one is answered', async () => {
    fx.client.setModel('m1', modelBytes(1));
    const first = fx.client.complete(req('1 spin'));
    await fx.heard(/spinning 1 spin/);
    const second = fx.client.complete(req('22'));
    const [a, b] = await Promise.all([first.answer, second.answer]);
    assert.deepStrictEqual(a, { kind: 'cancelled' });
    assert.strictEqual(textOf(b), 'file:///a.ts:2:');
    const calls = JSON.parse(textOf(await fx.client.complete(req('calls')).answer)!) as string[];
    assert.ok(calls.some((c) => /^cancelled after \d+ steps$/.test(c)), `the spinning request was not stopped by the shared words: ${calls}`);
  });

  it('cancel(id) (the provider\'s CancellationToken) stops a request while it computes', async () => {
    fx.client.setModel('m1', modelBytes(1));
    const r = fx.client.complete(req('x spin'));
    await fx.heard(/spinning x spin/);
    const t0 = Date.now();
    fx.client.cancel(r.id);
    assert.deepStrictEqual(await r.answer, { kind: 'cancelled' });
    console.log(`      cancelled ${Date.now() - t0} ms after cancel()`);
    // The worker still answers what comes next.
    assert.strictEqual(textOf(await fx.client.complete(req('abc')).answer), 'file:///a.ts:3:');
  });

  it('of several requests waiting behind a busy one, only the newest runs; the others are answered cancelled unrun', async () => {
    fx.client.setModel('m1', modelBytes(1));
    const busy = fx.client.complete(req('b spin'));
    await fx.heard(/spinning b spin/);
    const waiting = ['a', 'ab', 'abc', 'abcd'].map((t) => fx.client.complete(req(t)));
    const answers = await Promise.all([busy.answer, ...waiting.map((w) => w.answer)]);
    assert.deepStrictEqual(answers.map(textOf), ['(cancelled)', '(cancelled)', '(cancelled)', '(cancelled)', 'file:///a.ts:4:']);
    const calls = JSON.parse(textOf(await fx.client.complete(req('calls')).answer)!) as string[];
    const completes = calls.filter((c) => c.startsWith('complete'));
    assert.deepStrictEqual(completes, ['complete file:///a.ts 6', 'complete file:///a.ts 4', 'complete file:///a.ts 5'], 'a replaced request ran');
  });

  it('warms the document after a request, in slices, and a new request stops the warming at once', async () => {
    fx.client.setModel('m1', modelBytes(1));
    await fx.client.complete(req('warm me')).answer;
    await fx.heard(/warming file:\/\/\/a.ts 3/); // the third slice
    const t0 = Date.now();
    const a = await fx.client.complete(req('next')).answer;
    const ms = Date.now() - t0;
    assert.strictEqual(textOf(a), 'file:///a.ts:4:');
    const warmSlices = fx.said.filter((m) => m.startsWith('warming')).length;
    console.log(`      ${warmSlices} warming slices; the next request answered after ${ms} ms`);
    assert.ok(warmSlices >= 3 && warmSlices < 40, `warming went on for ${warmSlices} slices (40: it never stopped for the new request)`);
  });

  it('a crashed worker fails its request; the next request starts a new worker with the model', async () => {
    fx.client.setModel('m1', modelBytes(1));
    await assert.rejects(fx.client.complete(req('crash')).answer, /exited with code 3/);
    assert.ok(fx.said.some((m) => /exited with code 3/.test(m)));
    assert.strictEqual(textOf(await fx.client.complete(req('again')).answer), 'file:///a.ts:5:');
    const calls = JSON.parse(textOf(await fx.client.complete(req('calls')).answer)!) as string[];
    assert.ok(calls[0].startsWith('create '), `the new worker has no engine: ${calls}`);
  });

  it('a model that cannot be loaded is a problem, and requests for it fail as stale', async () => {
    fx.client.setModel('bad', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await assert.rejects(fx.client.complete(req('abc')).answer, (e: Error) => e instanceof CompletionWorkerError && e.stale && /no model is loaded/.test(e.message));
    assert.ok(fx.said.some((m) => /could not load the model/.test(m)), `no problem was reported: ${fx.said}`);
  });
});

describe('completion worker: the real CompletionEngine', function () {
  this.timeout(120_000);
  const clients: CompletionClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.dispose();
  });

  function realClient(): { client: CompletionClient; loaded: Promise<void>; ngrams: string[]; readAheadEnded: (doc: string) => Promise<boolean> } {
    let resolve!: () => void;
    const ngrams: string[] = [];
    const ended: { doc: string; done: boolean }[] = [];
    const waiters: { doc: string; resolve: (done: boolean) => void }[] = [];
    /** Resolves with `done` when the worker ends a read-ahead of `doc` (the first not yet taken). */
    const readAheadEnded = (doc: string) => new Promise<boolean>((res) => {
      const i = ended.findIndex((e) => e.doc === doc);
      if (i >= 0) return res(ended.splice(i, 1)[0].done);
      waiters.push({ doc, resolve: res });
    });
    const loaded = new Promise<void>((r) => (resolve = r));
    const problems: string[] = [];
    const client = new CompletionClient(WORKER, {
      onProblem: (m) => problems.push(m),
      onLoaded: (key, what) => {
        if (what === 'model') resolve();
        else ngrams.push(key);
      },
      onReadAheadEnded: (doc, done) => {
        const i = waiters.findIndex((w) => w.doc === doc);
        if (i >= 0) waiters.splice(i, 1)[0].resolve(done);
        else ended.push({ doc, done });
      },
    }, { maxBytes: 8 << 20 });
    clients.push(client);
    return { client, loaded, ngrams, readAheadEnded };
  }

  it('its suggestions equal CompletionEngine run in this thread, as a document is typed, edited and typed again', async () => {
    const bytes = modelBytes(3);
    const ck = decodeCheckpoint(bytes, 'test');
    const here = new CompletionEngine({ session: new InferenceSession(ck.config, ck.params), tokenizer: checkpointTokenizer(ck, 'test', '') });
    const { client } = realClient();
    client.setModel('m3', bytes);
    const options = { ...DEFAULT_DECODE, minConfidence: 0 };
    let text = TEXT;
    const compare = async (cursor: number, after = '') => {
      const got = await client.complete({ doc: 'file:///d.ts', text: text.slice(0, cursor), after, options }).answer;
      const want = here.complete({ doc: 'x', text: text.slice(0, cursor), after, options, useCache: false });
      assert.strictEqual(got.kind, 'completed');
      if (got.kind !== 'completed') return;
      assert.strictEqual(got.suggestion?.text, want.suggestion?.text, `at ${cursor}`);
      if (got.suggestion && want.suggestion) assert.ok(Math.abs(got.suggestion.confidence - want.suggestion.confidence) < 1e-5, `confidence at ${cursor}: ${got.suggestion.confidence} vs ${want.suggestion.confidence}`);
      return got;
    };
    let shown = 0;
    for (let p = 300; p < 330; p++) if ((await compare(p))?.suggestion) shown++;
    // An edit far above the cursor, told to the worker, then typing on.
    text = `${text.slice(0, 40)}XYZ${text.slice(41)}`;
    client.edit('file:///d.ts', 40);
    for (let p = 330; p < 345; p++) if ((await compare(p))?.suggestion) shown++;
    // Mid-line before closers, and text after the cursor that forbids a suggestion.
    const r = await compare(text.indexOf('(b + "x")') + 1, 'b + "x")];');
    assert.ok(r?.kind === 'completed' && r.suggestion === null && r.reason === 'text after the cursor');
    await compare(text.indexOf('(b + "x")') + 1, ')');
    console.log(`      ${shown} of 45 positions had a suggestion; every one equal to the engine's here`);
    assert.ok(shown > 0, 'no position had a suggestion');
  });

  it('a request superseded while the model reads is answered cancelled, and the newer one is answered', async () => {
    // A hidden-256, 2-layer model and 24 lines of 900 characters: reading the context takes seconds.
    const long = Array.from({ length: 24 }, (_, i) => `${'abcdefgh '.repeat(100)}${i}`).join('\n');
    const tokenizer = trainCharTokenizer(long);
    const config: ModelConfig = { cell: 'lstm', vocabSize: tokenizer.vocabSize, embedSize: 16, hiddenSize: 256, numLayers: 2, dropout: 0 };
    const bytes = encodeCheckpoint({ config, params: initParams(config, 1), tokenizer: tokenizer.toJSON(), step: 1 });
    const { client, loaded } = realClient();
    client.setModel('big', bytes);
    await loaded;
    const options = { ...DEFAULT_DECODE, minConfidence: 0 };
    const t0 = Date.now();
    const first = client.complete({ doc: 'file:///long.ts', text: long, after: '', options });
    await new Promise((r) => setTimeout(r, 100));
    const second = client.complete({ doc: 'file:///short.ts', text: 'abc', after: '', options });
    const a = await first.answer;
    const ms = Date.now() - t0;
    const b = await second.answer;
    // The same request left to finish (on another document: nothing of the first was kept).
    const full = await client.complete({ doc: 'file:///long2.ts', text: long, after: '', options }).answer;
    const fullMs = full.kind === 'completed' ? full.workerMs : NaN;
    console.log(`      the long request was answered ${a.kind} after ${ms} ms (left to finish it takes ${fullMs.toFixed(0)} ms in the worker); the short one ${b.kind}`);
    assert.deepStrictEqual(a, { kind: 'cancelled' });
    assert.strictEqual(b.kind, 'completed');
    assert.ok(full.kind === 'completed' && full.tokensRead > 14_000, `the long request read only ${full.kind === 'completed' ? full.tokensRead : '?'} tokens`);
  });

  it('with an n-gram sent (setNgram), its suggestions equal the engine mixing the same n-gram at the same weight; weight 0 is the model alone again', async () => {
    const bytes = modelBytes(5);
    const ck = decodeCheckpoint(bytes, 'test');
    const corpus = TEXT.slice(0, 500);
    const kn = KneserNeyModel.build(corpus, 7);
    const engine = (w: number) => new CompletionEngine({ session: new InferenceSession(ck.config, ck.params), tokenizer: checkpointTokenizer(ck, 'test', ''), ngram: w > 0 ? kn : null, ngramWeight: w });
    const mixed = engine(0.7), alone = engine(0), mixed3 = engine(0.3);
    const { client, ngrams } = realClient();
    client.setModel('m5', bytes);
    assert.strictEqual(client.setNgram('ng', corpus, 0.7, 7), true);
    assert.strictEqual(client.setNgram('ng', corpus, 0.7, 7), false, 'the same n-gram was sent twice');
    const options = { ...DEFAULT_DECODE, minConfidence: 0 };
    const text = TEXT;
    const check = async (here: CompletionEngine, label: string) => {
      let differ = 0;
      for (let p = 600; p < 640; p++) {
        const got = await client.complete({ doc: 'file:///n.ts', text: text.slice(0, p), after: '', options }).answer;
        const want = here.complete({ doc: 'x', text: text.slice(0, p), after: '', options, useCache: false });
        const other = (here === alone ? mixed : alone).complete({ doc: 'x', text: text.slice(0, p), after: '', options, useCache: false });
        assert.strictEqual(got.kind, 'completed');
        if (got.kind !== 'completed') return 0;
        assert.strictEqual(got.suggestion?.text, want.suggestion?.text, `${label} at ${p}`);
        if (got.suggestion && want.suggestion) assert.ok(Math.abs(got.suggestion.confidence - want.suggestion.confidence) < 1e-5, `${label}: confidence at ${p}`);
        if (other.suggestion?.text !== want.suggestion?.text) differ++;
      }
      return differ;
    };
    const d1 = await check(mixed, 'mixed 0.7');
    client.setNgram('ng', corpus, 0.3, 7);
    await check(mixed3, 'mixed 0.3 (the same text: only the weight changes)');
    client.setNgram('ng', corpus, 0, 7);
    const d2 = await check(alone, 'weight 0');
    console.log(`      the mixture's suggestion differs from the model alone's at ${d1} of 40 positions (${d2} seen from the other side); n-grams loaded: ${ngrams.join(', ')}`);
    assert.ok(d1 > 0 && d2 > 0, 'the n-gram changes no suggestion here: the test cannot tell it is used');
    assert.deepStrictEqual(ngrams, ['ng', 'ng', 'ng']);
  });

  it('after an edit, the read-ahead reads the contexts of the lines below it: a request there then reads few tokens', async () => {
    const bytes = modelBytes(7);
    const lines = Array.from({ length: 200 }, (_, i) => `  const v${i} = f(a${i % 7}, "s${i}") + ${i * 13};`);
    let text = `${lines.join('\n')}\n`;
    const { client, loaded, readAheadEnded } = realClient();
    client.setModel('m7', bytes);
    await loaded;
    const options = { ...DEFAULT_DECODE, minConfidence: 0, maxChars: 4 };
    const complete = async (doc: string, t: string) => {
      const a = await client.complete({ doc, text: t, after: '', options }).answer;
      assert.strictEqual(a.kind, 'completed');
      return a.kind === 'completed' ? a.tokensRead : NaN;
    };
    const RA = 'file:///ahead.ts', PLAIN = 'file:///plain.ts';
    // Both documents' chains are read to the end, then the same edit (line 50) reaches both.
    for (const doc of [RA, PLAIN]) await complete(doc, text);
    const lineStart = (n: number) => { let o = 0; for (let k = 0; k < n; k++) o = text.indexOf('\n', o) + 1; return o; };
    const at = lineStart(50) + 5;
    text = `${text.slice(0, at)}XY${text.slice(at)}`;
    for (const doc of [RA, PLAIN]) client.edit(doc, at);
    client.readAhead(RA, text, at);
    assert.strictEqual(await readAheadEnded(RA), true, 'the read-ahead did not finish');
    // Requests below the edit, where every context holds it (and the last one within READ_AHEAD_LINES).
    const reads: string[] = [];
    let ahead = 0, plain = 0;
    for (const n of [53, 58, 64, 75, 89]) {
      const cursor = lineStart(n) + 9;
      const a = await complete(RA, text.slice(0, cursor));
      const p = await complete(PLAIN, text.slice(0, cursor));
      reads.push(`line ${n}: ${a} vs ${p}`);
      assert.ok(a <= DEFAULT_CACHE.everyTokens + 16, `at line ${n} the request read ${a} tokens after the read-ahead (a state is kept every ${DEFAULT_CACHE.everyTokens} tokens)`);
      ahead += a;
      plain += p;
    }
    console.log(`      tokens read after the read-ahead vs without it: ${reads.join('; ')}`);
    assert.ok(plain > 5 * Math.max(ahead, 1), `without the read-ahead the requests read only ${plain} tokens (with it ${ahead})`);
  });
});
