// The completion path's state cache (kernels/complete/stateCache.ts). The property the whole cache
// rests on, checked over random edit sequences (insertions and deletions anywhere, multi-byte and astral
// characters, lone surrogates, CRLF), on a trained char tokenizer (with escapes for unknown characters)
// and a small BPE, with an LSTM and a GRU: after each edit and a request at a random cursor, EVERY state
// the cache keeps (that it would treat as valid for the edited text) equals a fresh pass,
// session.feedMany(newState(), encode(text.slice(anchor, offset))), and the state it returns equals the
// fresh pass to the read boundary. Then what the cache is for (a keystroke costs the tokens since the
// nearest kept state; chains found again after edits above them; warm() reads the next context's chain)
// and its housekeeping: LRU eviction by bytes, clear, dropDocument, invalidate, cancellation.

import * as assert from 'assert';
import { contextStart, readBoundary } from '../kernels/complete/anchors';
import { StateCache } from '../kernels/complete/stateCache';
import { CancelledError, ContextOptions, StateCacheOptions } from '../kernels/complete/types';
import { CellType, ModelConfig } from '../kernels/config';
import { InferenceSession, InferenceState } from '../kernels/infer';
import { initParams } from '../kernels/params';
import { Rng } from '../kernels/rng';
import { Tokenizer, trainBpeTokenizer, trainCharTokenizer } from '../kernels/tokenizer';

const TOL = 1e-5;

const LINE_POOL = [
  'const x = 1;', '  return foo(bar);', '}', '', '// 😀 emoji here', "let s = 'héllo wörld';", '\t\tif (a && b) {',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 text', 'x = y;\r', '    ', '}\r', 'function f(a, b) {', '  a += b; // ∑', 'import { z } from "./z";',
  '    x   = y  +  z;', 'emoji 👍🏽 ok',
];
/** What random edits insert: code, newlines (LF and CRLF), astral and accented characters, lone surrogates. */
const INSERTS = ['a', 'x', ' ', '  ', '\n', '\r\n', '😀', 'é', '∑', '𝔘', 'foo', '});\n', '\t', '\uD83D', '\uDE00', 'ab\ncd', '\n\n', ' = ', '"', 'ß€'];

const CORPUS = LINE_POOL.join('\n').repeat(10);
const CHAR = trainCharTokenizer(CORPUS, { maxVocab: 40 }); // some pool characters are unknown: escapes
const BPE = trainBpeTokenizer(CORPUS, 320);

function randomText(rng: Rng, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const base = LINE_POOL[rng.int(LINE_POOL.length)];
    out.push(rng.next() < 0.3 ? base + ' ' + rng.int(100) : base);
  }
  return out.join('\n');
}

function randomEdit(rng: Rng, text: string): { text: string; at: number; inserted: number } {
  const at = rng.int(text.length + 1);
  if (rng.next() < 0.45 && text.length > 0) {
    const n = 1 + rng.int(Math.min(8, text.length - at));
    return { text: text.slice(0, at) + text.slice(at + n), at, inserted: 0 };
  }
  let ins = INSERTS[rng.int(INSERTS.length)];
  if (rng.next() < 0.2) ins += INSERTS[rng.int(INSERTS.length)];
  return { text: text.slice(0, at) + ins + text.slice(at), at, inserted: ins.length };
}

function makeSession(cell: CellType, tokenizer: Tokenizer, hidden = 12, layers = 2, seed = 3): InferenceSession {
  const config: ModelConfig = { cell, vocabSize: tokenizer.vocabSize, embedSize: 8, hiddenSize: hidden, numLayers: layers, dropout: 0 };
  return new InferenceSession(config, initParams(config, seed));
}

/** Max |a - b| over h, c and the logits; Infinity when their shapes differ. */
function stateError(a: InferenceState, b: InferenceState): number {
  if ((a.logits === null) !== (b.logits === null) || a.position !== b.position) return Infinity;
  let err = 0;
  const cmp = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    if (x.length !== y.length) err = Infinity;
    for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(x[i] - y[i]));
  };
  a.inner.h.forEach((v, l) => cmp(v, b.inner.h[l]));
  if (a.inner.c) a.inner.c.forEach((v, l) => cmp(v, b.inner.c![l]));
  if (a.logits) cmp(a.logits, b.logits!);
  return err;
}

function fresh(session: InferenceSession, tokenizer: Tokenizer, text: string, from: number, to: number): InferenceState {
  const s = session.newState();
  session.feedMany(s, tokenizer.encode(text.slice(from, to)));
  return s;
}

interface Request { text: string; cs: number; boundary: number }

function request(tokenizer: Tokenizer, doc: string, cursor: number, ctx: ContextOptions): Request {
  const text = doc.slice(0, cursor);
  const cs = contextStart(text, cursor, ctx);
  return { text, cs, boundary: readBoundary(tokenizer, text, cs) };
}

describe('StateCache', function () {
  this.timeout(180_000);

  describe('property: every kept state equals a fresh pass over the edited text', () => {
    const cases: { name: string; cell: CellType; tokenizer: Tokenizer; sequences: number; seed: number }[] = [
      { name: 'char tokenizer, LSTM', cell: 'lstm', tokenizer: CHAR, sequences: 220, seed: 1 },
      { name: 'BPE, LSTM', cell: 'lstm', tokenizer: BPE, sequences: 200, seed: 2 },
      { name: 'char tokenizer, GRU', cell: 'gru', tokenizer: CHAR, sequences: 50, seed: 3 },
      { name: 'BPE, GRU', cell: 'gru', tokenizer: BPE, sequences: 50, seed: 4 },
    ];
    let totalSequences = 0;
    after(() => assert.ok(totalSequences >= 500, `only ${totalSequences} edit sequences ran`));

    for (const tc of cases) {
      it(`${tc.name}: ${tc.sequences} random edit sequences`, () => {
        const session = makeSession(tc.cell, tc.tokenizer);
        const rng = new Rng(1000 + tc.seed);
        let maxKept = 0;
        let maxReturned = 0;
        let keptChecked = 0;
        let requests = 0;
        let reused = 0;
        for (let seq = 0; seq < tc.sequences; seq++) {
          // Small contexts and spacing, so that a short text holds many anchors, chains and kept states.
          const ctx: ContextOptions = { minLines: 1 + rng.int(4), windowLines: 2 + rng.int(4) };
          const opts: StateCacheOptions = { everyTokens: 2 + rng.int(7), maxBytes: rng.next() < 0.2 ? 20_000 : 1 << 26, context: ctx };
          const cache = new StateCache(session, tc.tokenizer, opts);
          let doc = randomText(rng, 4 + rng.int(16));
          const steps = 3 + rng.int(4);
          for (let step = 0; step < steps; step++) {
            let near = doc.length;
            if (step > 0) {
              const e = randomEdit(rng, doc);
              doc = e.text;
              near = e.at + e.inserted;
              if (rng.next() < 0.4) cache.invalidate('d', e.at); // a hint only: correctness must not need it
            }
            const cursor = Math.min(doc.length, rng.next() < 0.6 ? near + rng.int(3) : rng.int(doc.length + 1));
            const r = request(tc.tokenizer, doc, cursor, ctx);
            const got = cache.stateAt('d', r.text, r.boundary);
            assert.strictEqual(got.contextStart, r.cs);
            const eRet = stateError(got.state, fresh(session, tc.tokenizer, r.text, r.cs, r.boundary));
            maxReturned = Math.max(maxReturned, eRet);
            assert.ok(eRet <= TOL, `seq ${seq} step ${step}: returned state differs by ${eRet} (cursor ${cursor}, cs ${r.cs}, boundary ${r.boundary})`);
            if (got.tokensRead < tc.tokenizer.encode(r.text.slice(r.cs, r.boundary)).length) reused++;
            requests++;
            // The returned state is the caller's: feeding it must not change what the cache keeps.
            session.feed(got.state, 1);
            if (rng.next() < 0.3) cache.warm('d', r.text, r.boundary);
            const kept = cache.keptStates('d', doc);
            for (const k of kept) {
              const e = stateError(k.state, fresh(session, tc.tokenizer, doc, k.contextStart, k.offset));
              maxKept = Math.max(maxKept, e);
              assert.ok(e <= TOL, `seq ${seq} step ${step}: kept state at ${k.offset} (anchor ${k.contextStart}) differs by ${e}`);
            }
            keptChecked += kept.length;
            assert.ok(cache.bytes <= opts.maxBytes, `cache holds ${cache.bytes} bytes, over its bound ${opts.maxBytes}`);
          }
        }
        totalSequences += tc.sequences;
        console.log(`      ${tc.name}: ${requests} requests (${reused} reused kept states), ${keptChecked} kept states checked; max error returned ${maxReturned.toExponential(2)}, kept ${maxKept.toExponential(2)}`);
        assert.ok(keptChecked > requests, `only ${keptChecked} kept states were checked over ${requests} requests`);
        assert.ok(reused > requests / 5, `kept states were reused in only ${reused} of ${requests} requests`);
      });
    }
  });

  describe('what a request costs', () => {
    const ctx: ContextOptions = { minLines: 16, windowLines: 16 };
    const opts: StateCacheOptions = { everyTokens: 16, maxBytes: 1 << 26, context: ctx };

    it('typing on costs the new tokens; an edit at the cursor costs at most the tokens since a kept state (char)', () => {
      const session = makeSession('lstm', CHAR);
      const cache = new StateCache(session, CHAR, opts);
      const rng = new Rng(8);
      let doc = randomText(rng, 400);
      const ends: number[] = [];
      for (let i = doc.indexOf('\n'); i >= 0; i = doc.indexOf('\n', i + 1)) ends.push(i);
      // Read along the document, as a user moving down it does.
      let first = 0;
      for (const p of ends) {
        const r = cache.stateAt('d', doc.slice(0, p), p);
        if (first === 0) first = r.tokensRead;
      }
      const atEnd = cache.stateAt('d', doc.slice(0, ends[ends.length - 1]) + 'x', ends[ends.length - 1] + 1);
      assert.strictEqual(atEnd.tokensRead, 1, 'typing one character read more than one token');
      // One edit in each block of 40 lines (blocks farther apart than a chain is long), from the bottom
      // up so that earlier edits do not shift later positions.
      let most = 0;
      for (let block = 9; block >= 1; block--) {
        const line = block * 40 + rng.int(20);
        const at = ends[line - 1] + 1 + rng.int(ends[line] - ends[line - 1]);
        doc = doc.slice(0, at) + 'e' + doc.slice(at);
        const text = doc.slice(0, at + 1);
        const r = cache.stateAt('d', text, text.length);
        most = Math.max(most, r.tokensRead);
        const e = stateError(r.state, fresh(session, CHAR, text, r.contextStart, text.length));
        assert.ok(e <= TOL, `differs by ${e}`);
      }
      assert.ok(most <= 2 * opts.everyTokens + 8, `an edit at the cursor read ${most} tokens (a cold read: ${first})`);
    });

    it('a request inside a chain (the cursor moved up) is kept: asking again costs nothing', () => {
      for (const tokenizer of [CHAR, BPE]) {
        const session = makeSession('lstm', tokenizer);
        const cache = new StateCache(session, tokenizer, opts);
        const doc = randomText(new Rng(10), 60);
        const end = request(tokenizer, doc, doc.length, ctx);
        cache.stateAt('d', end.text, end.boundary);
        const up = doc.length - 7;
        const r = request(tokenizer, doc, up, ctx);
        assert.strictEqual(r.cs, end.cs, 'the test needs the same context start');
        const first = cache.stateAt('d', r.text, r.boundary);
        assert.ok(first.tokensRead > 0 && first.tokensRead <= 2 * opts.everyTokens + 8, `${tokenizer.kind}: read ${first.tokensRead}`);
        const again = cache.stateAt('d', r.text, r.boundary);
        assert.strictEqual(again.tokensRead, 0, `${tokenizer.kind}: the same request read ${again.tokensRead} tokens again`);
        assert.ok(stateError(again.state, fresh(session, tokenizer, r.text, r.cs, r.boundary)) <= TOL);
        // The chain past it is still there: back at the end costs nothing either.
        assert.strictEqual(cache.stateAt('d', end.text, end.boundary).tokensRead, 0);
      }
    });

    it('a chain is found again by its text after an edit above it shifts it', () => {
      for (const tokenizer of [CHAR, BPE]) {
        const session = makeSession('lstm', tokenizer);
        const cache = new StateCache(session, tokenizer, opts);
        const rng = new Rng(9);
        const doc = randomText(rng, 100);
        const r0 = request(tokenizer, doc, doc.length, ctx);
        cache.stateAt('d', r0.text, r0.boundary);
        const edited = 'let inserted = "😀";\r\n\n' + doc;
        const r1 = request(tokenizer, edited, edited.length, ctx);
        const got = cache.stateAt('d', r1.text, r1.boundary);
        assert.strictEqual(got.tokensRead, 0, `${tokenizer.kind}: read ${got.tokensRead} tokens after an edit far above`);
        assert.ok(stateError(got.state, fresh(session, tokenizer, r1.text, r1.cs, r1.boundary)) <= TOL);
      }
    });

    it('BPE: typing within a word reuses the tip at the chunk start; a new chunk reads on from it', () => {
      const session = makeSession('lstm', BPE);
      const cache = new StateCache(session, BPE, opts);
      const doc = randomText(new Rng(12), 60) + '\nconst result';
      const r0 = request(BPE, doc, doc.length, ctx);
      cache.stateAt('d', r0.text, r0.boundary);
      const r1 = request(BPE, doc + 'ing', doc.length + 3, ctx);
      assert.strictEqual(r1.boundary, r0.boundary);
      assert.strictEqual(cache.stateAt('d', r1.text, r1.boundary).tokensRead, 0);
      const more = doc + 'ing = foo';
      const r2 = request(BPE, more, more.length, ctx);
      const got = cache.stateAt('d', r2.text, r2.boundary);
      const tokens = BPE.encode(more.slice(r0.boundary, r2.boundary)).length;
      assert.strictEqual(got.tokensRead, tokens, 'did not read on from the tip');
      assert.ok(stateError(got.state, fresh(session, BPE, r2.text, r2.cs, r2.boundary)) <= TOL);
    });

    it('warm() reads the chain the next line\'s context needs, so moving the cursor down a line costs only that line', () => {
      const session = makeSession('lstm', CHAR);
      const small: ContextOptions = { minLines: 4, windowLines: 4 };
      const doc = randomText(new Rng(13), 120) + '\n';
      const ends: number[] = [];
      for (let i = doc.indexOf('\n'); i >= 0; i = doc.indexOf('\n', i + 1)) ends.push(i);
      let moves = 0;
      for (let L = 20; L + 1 < ends.length; L++) {
        const [p1, p2] = [ends[L], ends[L + 1]];
        const cs2 = contextStart(doc, p2, small);
        if (cs2 === contextStart(doc, p1, small)) continue;
        const run = (warm: boolean) => {
          const cache = new StateCache(session, CHAR, { everyTokens: 8, maxBytes: 1 << 26, context: small });
          cache.stateAt('d', doc.slice(0, p1), p1);
          if (warm) cache.warm('d', doc.slice(0, p1), p1);
          const got = cache.stateAt('d', doc.slice(0, p2), p2);
          assert.ok(stateError(got.state, fresh(session, CHAR, doc, cs2, p2)) <= TOL);
          return got.tokensRead;
        };
        const cold = run(false);
        const warmed = run(true);
        assert.strictEqual(warmed, CHAR.encode(doc.slice(p1, p2)).length, `line ${L}: warmed read ${warmed} tokens (cold ${cold})`);
        assert.ok(cold > warmed);
        moves++;
      }
      assert.ok(moves >= 10, `only ${moves} moves changed the context start`);
    });
  });

  describe('housekeeping', () => {
    const ctx: ContextOptions = { minLines: 3, windowLines: 3 };

    function fill(cache: StateCache, doc: string, text: string): void {
      for (let p = 40; p <= text.length; p += 37) {
        const r = request(CHAR, text, p, ctx);
        cache.stateAt(doc, r.text, r.boundary);
      }
    }

    it('evicts the least recently used chains first and stays within maxBytes', () => {
      const session = makeSession('lstm', CHAR);
      const textA = randomText(new Rng(21), 40);
      const textB = randomText(new Rng(22), 40);
      const probe = new StateCache(session, CHAR, { everyTokens: 4, maxBytes: 1 << 26, context: ctx });
      fill(probe, 'a', textA);
      const bytesA = probe.bytes;
      assert.ok(bytesA > 0 && probe.keptStates('a', textA).length > 0);
      // Room for about one document: filling B evicts A's chains, not B's.
      const cache = new StateCache(session, CHAR, { everyTokens: 4, maxBytes: Math.round(bytesA * 1.2), context: ctx });
      fill(cache, 'a', textA);
      assert.strictEqual(cache.bytes, bytesA);
      fill(cache, 'b', textB);
      assert.ok(cache.bytes <= Math.round(bytesA * 1.2));
      const keptA = cache.keptStates('a', textA).length;
      const keptB = cache.keptStates('b', textB).length;
      assert.ok(keptB > 0 && keptA < probe.keptStates('a', textA).length / 3, `A kept ${keptA}, B kept ${keptB}`);
      // The chain used last survives a squeeze; touching A's last request keeps it over B's older chains.
      const r = request(CHAR, textA, textA.length, ctx);
      cache.stateAt('a', r.text, r.boundary);
      assert.ok(cache.keptStates('a', textA).some((k) => k.offset === r.boundary));
    });

    it('dropDocument and clear free everything they hold; bytes come back to zero', () => {
      const session = makeSession('lstm', CHAR);
      const cache = new StateCache(session, CHAR, { everyTokens: 4, maxBytes: 1 << 26, context: ctx });
      const textA = randomText(new Rng(23), 30);
      const textB = randomText(new Rng(24), 30);
      fill(cache, 'a', textA);
      const onlyA = cache.bytes;
      fill(cache, 'b', textB);
      cache.dropDocument('b');
      assert.strictEqual(cache.bytes, onlyA);
      assert.strictEqual(cache.keptStates('b', textB).length, 0);
      assert.ok(cache.keptStates('a', textA).length > 0);
      cache.clear();
      assert.strictEqual(cache.bytes, 0);
      assert.strictEqual(cache.keptStates('a', textA).length, 0);
      const r = request(CHAR, textA, textA.length, ctx);
      const again = cache.stateAt('a', r.text, r.boundary);
      assert.strictEqual(again.tokensRead, CHAR.encode(textA.slice(r.cs, r.boundary)).length, 'read less than everything after clear()');
    });

    it('invalidate frees the states past the edit and leaves the cache correct', () => {
      const session = makeSession('lstm', CHAR);
      const cache = new StateCache(session, CHAR, { everyTokens: 4, maxBytes: 1 << 26, context: ctx });
      const text = randomText(new Rng(25), 30);
      const r = request(CHAR, text, text.length, ctx);
      cache.stateAt('d', r.text, r.boundary);
      const before = cache.bytes;
      const at = text.lastIndexOf('\n') + 2; // on the cursor's line: no anchor moves
      cache.invalidate('d', at);
      assert.ok(cache.bytes < before, 'invalidate freed nothing');
      assert.ok(cache.keptStates('d', text).every((k) => k.offset <= at));
      const edited = text.slice(0, at) + 'zz' + text.slice(at);
      const r2 = request(CHAR, edited, edited.length, ctx);
      const got = cache.stateAt('d', r2.text, r2.boundary);
      assert.ok(stateError(got.state, fresh(session, CHAR, r2.text, r2.cs, r2.boundary)) <= TOL);
      const since = CHAR.encode(edited.slice(at)).length;
      assert.ok(got.tokensRead <= since + 4 + 7, `read ${got.tokensRead} tokens, ${since} of them after the edit`);
    });

    it('a read cancelled midway throws CancelledError and leaves the cache consistent, keeping what was read', () => {
      for (const tokenizer of [CHAR, BPE]) {
        const session = makeSession('lstm', tokenizer);
        const big: ContextOptions = { minLines: 30, windowLines: 8 };
        const cache = new StateCache(session, tokenizer, { everyTokens: 8, maxBytes: 1 << 26, context: big });
        const text = randomText(new Rng(26), 50);
        const r = request(tokenizer, text, text.length, big);
        const all = tokenizer.encode(text.slice(r.cs, r.boundary)).length;
        let calls = 0;
        assert.throws(() => cache.stateAt('d', r.text, r.boundary, () => ++calls > 3), CancelledError);
        const kept = cache.keptStates('d', text);
        assert.ok(kept.length > 0, `${tokenizer.kind}: nothing kept from the cancelled read`);
        for (const k of kept) assert.ok(stateError(k.state, fresh(session, tokenizer, text, k.contextStart, k.offset)) <= TOL);
        const got = cache.stateAt('d', r.text, r.boundary);
        assert.ok(got.tokensRead < all, `${tokenizer.kind}: read ${got.tokensRead} of ${all} tokens again`);
        assert.ok(stateError(got.state, fresh(session, tokenizer, r.text, r.cs, r.boundary)) <= TOL);
        // warm() is cancellable too.
        let n = 0;
        assert.throws(() => cache.warm('d', r.text, r.boundary, () => ++n > 0), CancelledError);
      }
    });

    it('a surrogate pair completed by an edit is never split between a kept state and the read after it (char)', () => {
      const session = makeSession('lstm', CHAR);
      const cache = new StateCache(session, CHAR, { everyTokens: 3, maxBytes: 1 << 26, context: { minLines: 2, windowLines: 2 } });
      const head = 'a = 1;\nb = 2;\n';
      const t1 = head + 'xy\uD83D';
      cache.stateAt('d', t1, t1.length); // a tip right after a lone high surrogate
      const t2 = t1 + '\uDE00 ok';
      const got = cache.stateAt('d', t2, t2.length);
      assert.ok(stateError(got.state, fresh(session, CHAR, t2, 0, t2.length)) <= TOL, 'the pair was read as two lone surrogates');
    });
  });
});
