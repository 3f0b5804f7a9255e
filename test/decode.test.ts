// The completion decoder (kernels/complete/decode.ts) and its step models (kernels/complete/stepModels.ts).
// Hand-made step models with exact expected suggestions for every rule (line, identifier and length stops,
// maxChars, the repetition cut, the confidence threshold, the expected-saving trim, strict UTF-8, the BPE
// typed-prefix constraint, cancellation); beam search against an exhaustive search and against a plain
// reference beam written here, on random tiny models; the step models on real tiny sessions (char and BPE)
// against a float64 softmax, and the mixture against w·ngram + (1−w)·softmax (with a stand-in n-gram and with
// the real KneserNeyModel); end-to-end properties on a
// BPE session (the suggestion continues the typed bytes exactly and is valid UTF-16); and the decoder's
// own cost per step, printed.

import * as assert from 'assert';
import { ModelConfig } from '../kernels/config';
import { InferenceSession, InferenceState } from '../kernels/infer';
import { initParams } from '../kernels/params';
import { Rng, hash32 } from '../kernels/rng';
import { Tokenizer, preTokenize, trainBpeTokenizer, trainCharTokenizer } from '../kernels/tokenizer/index';
import { CHAR_UNK } from '../kernels/tokenizer/char';
import { encodeWtf8 } from '../kernels/tokenizer/utf8';
import { REPEAT_WINDOW, decodeSuggestion } from '../kernels/complete/decode';
import { KneserNeyModel } from '../kernels/complete/ngram';
import { mixtureState, mixtureStepModel, ngramStepModel, sessionStepModel } from '../kernels/complete/stepModels';
import { CancelledError, DecodeOptions, StepModel } from '../kernels/complete/types';

const EMPTY = new Uint8Array(0);

/** Options with every rule off but the line stop; tests turn on what they check. */
function opts(o: Partial<DecodeOptions> = {}): DecodeOptions {
  return { stopAt: 'line', maxChars: 40, beamWidth: 1, minConfidence: 0, repeatChars: 0, trimToExpectedSaving: false, ...o };
}

type Tok = string | number[] | null;

/**
 * A hand-made step model: tokens as text (their UTF-8 bytes), raw bytes, or null (never emitted); the
 * state is the path of ids; `weights(path)` gives each token's probability before normalisation.
 */
function handModel(tokens: Tok[], weights: (path: number[]) => ArrayLike<number>): StepModel<number[]> & { probsCalls: number } {
  const bytes = tokens.map((t) => (t === null ? null : typeof t === 'string' ? encodeWtf8(t) : Uint8Array.from(t)));
  const buf = new Float32Array(tokens.length);
  const m = {
    vocabSize: tokens.length,
    probsCalls: 0,
    probs(s: number[]): Float32Array {
      m.probsCalls++;
      const w = weights(s);
      let sum = 0;
      for (let i = 0; i < tokens.length; i++) sum += w[i];
      for (let i = 0; i < tokens.length; i++) buf[i] = w[i] / sum;
      return buf;
    },
    next: (s: number[], id: number) => [...s, id],
    bytesOf: (id: number) => bytes[id],
  };
  return m;
}

/**
 * A model over string tokens whose distribution is given by the text decoded so far: `rule(text)` names
 * the probabilities of some tokens; the rest share what is left equally (nothing when they sum to 1).
 */
function textModel(tokens: string[], rule: (text: string, path: string[]) => Record<string, number>): StepModel<number[]> & { probsCalls: number } {
  return handModel(tokens, (path) => {
    const r = rule(path.map((i) => tokens[i]).join(''), path.map((i) => tokens[i]));
    let named = 0;
    let unnamed = 0;
    for (const t of tokens) {
      if (t in r) named += r[t];
      else unnamed++;
    }
    const rest = unnamed > 0 ? Math.max(0, 1 - named) / unnamed : 0;
    return tokens.map((t) => (t in r ? r[t] : rest));
  });
}

/** Follows `target` (the next character with probability p, the rest shared by the others); after it, '\n' for sure. */
function follow(target: string, p: number | ((i: number) => number)): (text: string) => Record<string, number> {
  return (text) => {
    if (!target.startsWith(text) || text.length >= target.length) return { '\n': 1 };
    return { [target[text.length]]: typeof p === 'number' ? p : p(text.length) };
  };
}

const LETTERS = [...'abcdefghijklmnopqrstuvwxyz', ' ', '=', '(', ')', '\n', '\r'];

function f32(x: number): number {
  return Math.fround(x);
}

describe('decodeSuggestion: stop rules (greedy, hand-made models)', () => {
  it('stops before the end of the line, and never holds \\n or \\r', () => {
    const m = textModel(LETTERS, follow('abc\nxyz', 0.9));
    const s = decodeSuggestion(m, [], EMPTY, '', opts());
    assert.deepStrictEqual(s, { text: 'abc', confidence: f32(0.9), tokens: 4 });
    const r = decodeSuggestion(textModel(LETTERS, follow('ab\r\ncd', 0.9)), [], EMPTY, '', opts());
    assert.strictEqual(r?.text, 'ab');
  });

  it('stops at maxChars (every rule), and "length" only there', () => {
    const m = textModel(LETTERS, follow('abc\nxyz', 0.9));
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ maxChars: 2 }))?.text, 'ab');
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ stopAt: 'length', maxChars: 6 }))?.text, 'abc\nxy');
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ stopAt: 'length', maxChars: 40 }))?.text, 'abc\nxyz\n'.padEnd(40, '\n'));
  });

  it('identifier: continues the identifier at the cursor, or keeps leading non-identifier characters and ends after the next one', () => {
    const m = textModel(LETTERS, follow(' foo(bar)', 0.9));
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, 'x =', opts({ stopAt: 'identifier' }))?.text, ' foo');
    // Inside an identifier, a first character that is not part of one ends it at once: nothing to show.
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, 'x', opts({ stopAt: 'identifier' })), null);
    const c = textModel(LETTERS, follow('oo(bar)', 0.9));
    assert.strictEqual(decodeSuggestion(c, [], EMPTY, 'f', opts({ stopAt: 'identifier' }))?.text, 'oo');
    // It also stops at the end of the line.
    const n = textModel(LETTERS, follow(' \nfoo', 0.9));
    assert.strictEqual(decodeSuggestion(n, [], EMPTY, 'x =', opts({ stopAt: 'identifier' }))?.text, ' ');
  });

  it('cuts where a repeated run starts (the issue\'s "thist = thist = ..." case)', () => {
    const cyc = textModel(LETTERS, follow('abababababab', 0.9));
    assert.strictEqual(decodeSuggestion(cyc, [], EMPTY, '', opts({ repeatChars: 4 }))?.text, 'ab');
    assert.strictEqual(decodeSuggestion(cyc, [], EMPTY, '', opts({ repeatChars: 0 }))?.text, 'abababababab');
    const prefix = 'const result = ';
    const loop = textModel(LETTERS, follow('thist = thist = thist = thist = thist = ', 0.9));
    const s = decodeSuggestion(loop, [], EMPTY, prefix, opts({ repeatChars: 8 }));
    // "const result = thist = this" repeats "t = this" (first seen across the prefix's end, "result = this"):
    // the suggestion is cut where the second one starts.
    assert.strictEqual(s?.text, 'this');
    // The line before the cursor counts: a suggestion that only repeats it is cut to nothing.
    const again = textModel(LETTERS, follow('abcdabcd', 0.9));
    assert.strictEqual(decodeSuggestion(again, [], EMPTY, 'abcd', opts({ repeatChars: 4 })), null);
  });

  it('the repetition cut never splits a surrogate pair, and searches the last REPEAT_WINDOW code units of the line', () => {
    const emoji = handModel(['😀', '\n'], (path) => (path.length < 6 ? [1, 0] : [0, 1]));
    // "😀😀😀" repeats the 3-unit run "\ude00\ud83d\ude00"; its start (unit 3) is inside the second 😀: cut before it.
    assert.strictEqual(decodeSuggestion(emoji, [], EMPTY, '', opts({ repeatChars: 3 }))?.text, '😀');
    const m = textModel(LETTERS, follow('abcdefgh', 0.9));
    const far = 'abcd' + ' '.repeat(REPEAT_WINDOW - 4);
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, far, opts({ repeatChars: 4 })), null);
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, far + ' ', opts({ repeatChars: 4 }))?.text, 'abcdefgh'); // 'a' left the window
  });

  it('shows nothing below the confidence threshold (mean per-token probability)', () => {
    const m = textModel(LETTERS, follow('abc\n', 0.3));
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ minConfidence: 0.35 })), null);
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ minConfidence: 0.3 }))?.text, 'abc');
    const mixed = textModel(LETTERS, follow('abcd\n', (i) => [0.9, 0.5, 0.4, 0.2][i]));
    const s = decodeSuggestion(mixed, [], EMPTY, '', opts())!;
    assert.ok(Math.abs(s.confidence - (0.9 + 0.5 + 0.4 + 0.2) / 4) < 1e-7, `confidence ${s.confidence}`);
  });

  it('trims to the length that maximises P(first j right)·(j − 1), and the confidence is then over the kept tokens', () => {
    const p = [0.95, 0.95, 0.95, 0.3, 0.3, 0.3, 0.3];
    const m = textModel(LETTERS, follow('abcdefg', (i) => p[i]));
    // j=3: 0.857·2 = 1.71; j=4: 0.257·3 = 0.77; later ones smaller.
    const s = decodeSuggestion(m, [], EMPTY, '', opts({ trimToExpectedSaving: true }))!;
    assert.strictEqual(s.text, 'abc');
    assert.ok(Math.abs(s.confidence - 0.95) < 1e-7);
    // (j − 1), not j: from j=2 a third character with probability 0.6 pays (0.486·2 > 0.81·1), though
    // 0.486·3 < 0.81·2.
    const q = [0.9, 0.9, 0.6, 0.05, 0.05];
    const m2 = textModel(LETTERS, follow('abcde', (i) => q[i]));
    assert.strictEqual(decodeSuggestion(m2, [], EMPTY, '', opts({ trimToExpectedSaving: true }))?.text, 'abc');
    const all = decodeSuggestion(m, [], EMPTY, '', opts({ trimToExpectedSaving: false }))!;
    assert.strictEqual(all.text, 'abcdefg');
    // Trimmed first, then thresholded: the untrimmed mean (0.5) fails 0.6; the trimmed one (0.95) passes.
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ trimToExpectedSaving: false, minConfidence: 0.6 })), null);
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ trimToExpectedSaving: true, minConfidence: 0.6 }))?.text, 'abc');
  });

  it('greedy stops decoding once the trim could keep nothing longer (P·(maxChars − 1) ≤ the best saving so far)', () => {
    const p = [0.95, 0.95, 0.95, 0.04, 0.9, 0.9, 0.9, 0.9];
    const m = textModel(LETTERS, follow('abcdefgh', (i) => p[i]));
    // After d: P = 0.034, and 0.034·39 = 1.34 < 1.71 (the saving of "abc"): nothing after d is decoded.
    assert.deepStrictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ trimToExpectedSaving: true })), { text: 'abc', confidence: 0.949999988079071, tokens: 4 });
    // With room for 300 characters the bound (0.034·299 = 10) does not stop it; the trim still keeps "abc".
    const long = decodeSuggestion(m, [], EMPTY, '', opts({ trimToExpectedSaving: true, maxChars: 300 }))!;
    assert.strictEqual(long.text, 'abc');
    assert.strictEqual(long.tokens, 9);
    // maxChars 60: 0.034·59 = 2.02 > 1.71 goes on; after e 1.82 still, after f 1.64 stops (the saving is P·(L − 1), not P·L = 2.57).
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ trimToExpectedSaving: true, maxChars: 60 }))?.tokens, 6);
  });

  it('rejects bad options with a message', () => {
    const m = textModel(LETTERS, follow('ab', 0.9));
    assert.throws(() => decodeSuggestion(m, [], EMPTY, '', opts({ beamWidth: 0 })), /beamWidth/);
    assert.throws(() => decodeSuggestion(m, [], EMPTY, '', opts({ maxChars: 0 })), /maxChars/);
    assert.throws(() => decodeSuggestion(m, [], EMPTY, '', opts({ minConfidence: 2 })), /minConfidence/);
  });
});

describe('decodeSuggestion: UTF-8 safety', () => {
  //            0    1       2                    3       4       5     6             7             8    9
  const toks: Tok[] = ['a', [0xff], [0xed, 0xa0, 0x80], [0xc3], [0xa9], '\n', [0xf0, 0x9f], [0x98, 0x80], 'b', null];

  it('never emits an invalid byte, a surrogate or an escape token, and completes a started character', () => {
    const m = handModel(toks, (path) => {
      if (path.length === 0) return [0, 0.3, 0.25, 0.1, 0, 0, 0, 0, 0, 0.35]; // FF, surrogate, <escape> outrank C3
      if (path.length === 1) return [0, 0, 0, 0, 0.4, 0.6, 0, 0, 0, 0]; // '\n' would cut é: A9 must come
      return [0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    });
    const s = decodeSuggestion(m, [], EMPTY, '', opts())!;
    assert.strictEqual(s.text, 'é');
    assert.ok(Math.abs(s.confidence - (f32(0.1) + f32(0.4)) / 2) < 1e-7);
  });

  it('never ends in a cut sequence: a character that does not fit maxChars is dropped whole', () => {
    const m = handModel(toks, (path) => {
      const w = new Array(toks.length).fill(0);
      w[[0, 8, 6, 7, 0][path.length] ?? 5] = 1; // a, b, F0 9F, 98 80 (😀, two code units), a
      return w;
    });
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ maxChars: 3 }))?.text, 'ab');
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ maxChars: 4 }))?.text, 'ab😀');
    assert.strictEqual(decodeSuggestion(m, [], EMPTY, '', opts({ maxChars: 5 }))?.text, 'ab😀a');
  });
});

describe('decodeSuggestion: the BPE typed-prefix constraint', () => {
  const toks = ['im', 'imp', 'import', 'port', 'ort', 'p', 'o', 'r', 't', ' ', '\n', 'x'];
  // Keyed by the token path: the two tokenisations of "import" go on differently.
  const rule = (_text: string, path: string[]): Record<string, number> => {
    const key = path.join('|');
    if (key === '') return { im: 0.5, import: 0.3, imp: 0.05, x: 0.15 };
    if (key === 'im') return { port: 0.5, p: 0.5 };
    if (key === 'import') return { ' ': 0.9, '\n': 0.1 };
    if (key === 'import| ') return { '\n': 1 };
    return { '\n': 0.5, x: 0.5 };
  };
  const typed = encodeWtf8('imp');

  it('greedy: re-types the typed bytes (a token may straddle the cursor), then suggests what follows them', () => {
    const s = decodeSuggestion(textModel(toks, rule), [], typed, 'imp', opts())!;
    // 'x' (disagrees) is skipped; im (0.5 of the agreeing 0.85); then port and p agree (0.5 each, port first
    // by id); port straddles the cursor: "ort" is suggested with p(port | agrees with "p") = 0.5 / 1.
    assert.deepStrictEqual(s, { text: 'ort', confidence: 0.5, tokens: 3 });
  });

  it('the straddling token\'s probability is conditioned on agreeing with the typed bytes', () => {
    const s = decodeSuggestion(textModel(toks, (t): Record<string, number> => (t === '' ? { import: 0.2, im: 0.1, x: 0.7 } : { '\n': 1 })), [], typed, 'imp', opts())!;
    assert.strictEqual(s.text, 'ort');
    // Exactly: p(import) / (p(import) + p(im) + p(imp)); imp shares the unnamed rest (0 here since named sum to 1).
    assert.ok(Math.abs(s.confidence - f32(0.2) / (f32(0.2) + f32(0.1))) < 1e-6, `confidence ${s.confidence}`);
  });

  it('beam: finds the more probable tokenisation across the cursor', () => {
    // im·port·'\n' has 0.5·0.5·0.5 = 0.125; import·' '·'\n' has 0.3·0.9·1 = 0.27.
    const s = decodeSuggestion(textModel(toks, rule), [], typed, 'imp', opts({ beamWidth: 3 }))!;
    assert.strictEqual(s.text, 'ort ');
  });

  it('shows nothing when no token agrees with the typed bytes', () => {
    assert.strictEqual(decodeSuggestion(textModel(toks, rule), [], encodeWtf8('zz'), 'zz', opts()), null);
    assert.strictEqual(decodeSuggestion(textModel(toks, rule), [], encodeWtf8('zz'), 'zz', opts({ beamWidth: 4 })), null);
  });
});

describe('decodeSuggestion: cancellation', () => {
  it('throws CancelledError at a step, greedy and beam, and leaves the given state as it was', () => {
    const m = textModel(LETTERS, follow('abcdefghij', 0.9));
    for (const beamWidth of [1, 3]) {
      let calls = 0;
      const start: number[] = [];
      assert.throws(() => decodeSuggestion(m, start, EMPTY, '', opts({ beamWidth }), () => ++calls > 4), CancelledError);
      assert.ok(calls >= 5, `isCancelled asked ${calls} times`);
      assert.deepStrictEqual(start, []);
      const before = m.probsCalls;
      let asked = 0;
      assert.throws(() => decodeSuggestion(m, start, EMPTY, '', opts({ beamWidth }), () => ++asked > 0), CancelledError);
      assert.strictEqual(m.probsCalls, before, 'cancelled before the first step');
    }
  });
});

describe('decodeSuggestion: beam search', () => {
  it('finds the more probable complete line that greedy misses', () => {
    const tokens = ['a', 'b', 'c', '\n'];
    const rule = (t: string): Record<string, number> =>
      t === '' ? { a: 0.6, b: 0.4 } : t === 'a' ? { b: 0.35, c: 0.35, '\n': 0.3 } : t === 'b' ? { '\n': 0.95, a: 0.05 } : { '\n': 1 };
    assert.strictEqual(decodeSuggestion(textModel(tokens, rule), [], EMPTY, '', opts())?.text, 'ab');
    assert.strictEqual(decodeSuggestion(textModel(tokens, rule), [], EMPTY, '', opts({ beamWidth: 2 }))?.text, 'b');
  });

  /** A random tiny model: each context (the decoded text) gets its own random distribution. */
  function randomModel(tokens: string[], seed: number, sharp = 3): StepModel<number[]> {
    return handModel(tokens, (path) => {
      const rng = new Rng(hash32(seed ^ hash32(path.length * 7919 + path.reduce((h, id) => hash32(h * 31 + id + 1), 17))));
      return tokens.map(() => Math.exp(sharp * rng.normal()));
    });
  }

  /** The text of a token path under the line and maxChars rules, and whether it ended ('stop' or 'cut'). */
  function pathText(tokens: string[], path: number[], maxChars: number): { text: string; ended: boolean } {
    let text = '';
    for (const id of path) {
      for (const ch of tokens[id]) {
        if (ch === '\n') return { text, ended: true };
        if (text.length + 1 > maxChars) return { text, ended: true };
        text += ch;
      }
    }
    return { text, ended: false };
  }

  function logProbs(m: StepModel<number[]>, path: number[]): Float64Array {
    const p = m.probs(path);
    return Float64Array.from(p, (x) => Math.log(x));
  }

  /** Every complete path, the most probable one's text (exhaustive search). */
  function exhaustive(m: StepModel<number[]>, tokens: string[], maxChars: number): string {
    let best = { logP: -Infinity, text: '' };
    const walk = (path: number[], logP: number) => {
      const lp = logProbs(m, path);
      for (let id = 0; id < tokens.length; id++) {
        const next = [...path, id];
        const r = pathText(tokens, next, maxChars);
        if (r.ended) {
          if (logP + lp[id] > best.logP) best = { logP: logP + lp[id], text: r.text };
        } else {
          walk(next, logP + lp[id]);
        }
      }
    };
    walk([], 0);
    return best.text;
  }

  /**
   * A plain beam search as decode.ts documents it, without its early stop: each live path proposes its W
   * most probable tokens; all proposals sorted by log-probability; walking down, an ending one goes to the
   * finished list, others fill the beam up to W; at the step limit the live paths end where they are.
   */
  function referenceBeam(m: StepModel<number[]>, tokens: string[], maxChars: number, W: number): string {
    let live = [{ path: [] as number[], logP: 0 }];
    const finished: { logP: number; text: string }[] = [];
    for (let step = 0; step < 2 * maxChars + 2 && live.length > 0; step++) {
      const props: { path: number[]; logP: number }[] = [];
      for (const h of live) {
        const lp = logProbs(m, h.path);
        const order = tokens.map((_, id) => id).sort((a, b) => lp[b] - lp[a] || a - b).slice(0, W);
        for (const id of order) props.push({ path: [...h.path, id], logP: h.logP + lp[id] });
      }
      props.sort((a, b) => b.logP - a.logP);
      const next: typeof live = [];
      for (const c of props) {
        if (next.length === W) break;
        const r = pathText(tokens, c.path, maxChars);
        if (r.ended) finished.push({ logP: c.logP, text: r.text });
        else next.push(c);
      }
      live = next;
    }
    for (const h of live) finished.push({ logP: h.logP, text: pathText(tokens, h.path, maxChars).text });
    finished.sort((a, b) => b.logP - a.logP);
    return finished[0].text;
  }

  it('with a beam wider than the search space, equals exhaustive search (60 random tiny models)', () => {
    const tokens = ['a', 'b', 'ab', '\n'];
    for (let seed = 1; seed <= 60; seed++) {
      const maxChars = 3;
      const m = randomModel(tokens, seed, 1.5);
      const want = exhaustive(m, tokens, maxChars);
      const got = decodeSuggestion(m, [], EMPTY, '', opts({ beamWidth: 64, maxChars }))?.text ?? '';
      assert.strictEqual(got, want, `seed ${seed}`);
    }
  });

  it('equals the plain reference beam for widths 1-4 (300 random models), and width 1 equals greedy', () => {
    const tokens = ['a', 'b', 'c', 'ab', 'ca', '\n'];
    let differFromGreedy = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const W = 1 + (seed % 4);
      const maxChars = 6;
      const m = randomModel(tokens, seed * 13, 2);
      const want = referenceBeam(m, tokens, maxChars, W);
      const got = decodeSuggestion(m, [], EMPTY, '', opts({ beamWidth: W, maxChars }))?.text ?? '';
      assert.strictEqual(got, want, `seed ${seed}, width ${W}`);
      const greedy = decodeSuggestion(m, [], EMPTY, '', opts({ beamWidth: 1, maxChars }))?.text ?? '';
      if (W === 1) assert.strictEqual(greedy, got, `seed ${seed}: width 1 is greedy`);
      else if (greedy !== got) differFromGreedy++;
    }
    assert.ok(differFromGreedy > 10, `beam differed from greedy on only ${differFromGreedy} models: the test would not see a beam bug`);
  });
});

// ---------------------------------------------------------------------------------------------------
// Step models on real tiny sessions.

const SAMPLE = [
  'export function sum(values: number[]): number {\n',
  '  let total = 0;\n',
  '  for (const v of values) total += v;\n',
  '  return total;\n',
  '}\n',
  'const greeting = "héllo → wörld 😀";\n',
  'if (total > 10 && values.length !== 0) {\r\n',
  '    console.log(`total: ${total}`);\r\n',
  '}\n',
].join('').repeat(3);

function tinySession(tok: Tokenizer, seed: number, hidden = 12, favour?: (id: number) => number): InferenceSession {
  const config: ModelConfig = { cell: 'lstm', vocabSize: tok.vocabSize, embedSize: 8, hiddenSize: hidden, numLayers: 2, dropout: 0 };
  const params = initParams(config, seed);
  // Larger output weights than the initialisation's, so distributions are peaked as a trained model's are.
  const w = params.get('decoder.weight')!;
  for (let i = 0; i < w.length; i++) w[i] *= 12;
  // Tokens to make likely (added to their bias), so that a rule about them is exercised often.
  const b = params.get('decoder.bias')!;
  if (favour) for (let id = 0; id < tok.vocabSize; id++) b[id] += favour(id);
  return new InferenceSession(config, params);
}

function softmax64(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = Float64Array.from(logits, (x) => Math.exp(x - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((x) => x / sum);
}

function snapshot(s: InferenceState): number[] {
  return [...s.inner.h.flatMap((v) => [...v]), ...(s.inner.c ?? []).flatMap((v) => [...v]), ...(s.logits ?? [])];
}

describe('sessionStepModel', () => {
  for (const kind of ['char', 'bpe'] as const) {
    it(`${kind}: probs = softmax of the logits (float64 reference), next leaves its argument, copy+advance = next`, () => {
      const tok = kind === 'char' ? trainCharTokenizer(SAMPLE) : trainBpeTokenizer(SAMPLE, 300);
      const session = tinySession(tok, 5);
      const m = sessionStepModel(session, tok) as StepModel<InferenceState> & { copy(s: InferenceState): InferenceState; advance(s: InferenceState, id: number): void };
      const ids = tok.encode('  let total = 0;\n  for (');
      const s = session.newState();
      // Nothing read yet: uniform.
      const u = m.probs(s);
      assert.ok(u.every((x) => Math.abs(x - 1 / tok.vocabSize) < 1e-9));
      session.feedMany(s, ids);
      const ref = session.newState();
      let maxErr = 0;
      let cur = s;
      for (let k = 0; k < 6; k++) {
        const id = (k * 7 + 3) % tok.vocabSize;
        const p = m.probs(cur);
        session.feedMany(ref, k === 0 ? ids : [(((k - 1) * 7 + 3) % tok.vocabSize)]);
        const want = softmax64(ref.logits!);
        for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(p[i] - want[i]));
        const before = snapshot(cur);
        const nxt = m.next(cur, id);
        assert.deepStrictEqual(snapshot(cur), before, 'next() changed its argument');
        const inPlace = m.copy(cur);
        m.advance(inPlace, id);
        assert.deepStrictEqual(snapshot(inPlace), snapshot(nxt), 'copy + advance differs from next');
        assert.deepStrictEqual(snapshot(cur), before, 'copy + advance changed the original');
        cur = nxt;
      }
      console.log(`      ${kind}: max |probs − float64 softmax| = ${maxErr.toExponential(2)}`);
      assert.ok(maxErr < 1e-6, `probs differ by ${maxErr}`);
      for (let id = 0; id < tok.vocabSize; id++) assert.deepStrictEqual(m.bytesOf(id), tok.bytesOf(id));
    });
  }

  it('greedy decoding does not change the state it starts from (it copies once, then feeds in place)', () => {
    const tok = trainCharTokenizer(SAMPLE);
    const session = tinySession(tok, 9);
    const m = sessionStepModel(session, tok);
    const s = session.newState();
    session.feedMany(s, tok.encode('  return '));
    const before = snapshot(s);
    const a = decodeSuggestion(m, s, EMPTY, '  return ', opts({ stopAt: 'length', maxChars: 20 }));
    assert.deepStrictEqual(snapshot(s), before);
    // The same suggestion from a model without in-place feeding (next() every step).
    const plain: StepModel<InferenceState> = { vocabSize: m.vocabSize, probs: (x) => m.probs(x), next: (x, id) => m.next(x, id), bytesOf: (id) => m.bytesOf(id) };
    assert.deepStrictEqual(decodeSuggestion(plain, s, EMPTY, '  return ', opts({ stopAt: 'length', maxChars: 20 })), a);
  });
});

describe('decodeSuggestion on a tiny BPE session: the suggestion continues the typed text exactly', () => {
  it('200 random cursors (multi-byte characters, emoji, CRLF), greedy and beam, line and length stops', () => {
    const text = SAMPLE + 'naïve café → 😀😀 ünïcödé\r\n';
    const tok = trainBpeTokenizer(SAMPLE, 320);
    // Tokens holding a line end are made likely: the line stop must cut inside them.
    const session = tinySession(tok, 3, 12, (id) => (/\r/.test(tok.decode([id])) ? 5 : /\n/.test(tok.decode([id])) ? 4 : 0));
    const base = sessionStepModel(session, tok);
    const path: number[] = [];
    // Records greedy's path: the model feeds in place through copy/advance.
    const rec = base as StepModel<InferenceState> & { copy(s: InferenceState): InferenceState; advance(s: InferenceState, id: number): void };
    const recording = { ...rec, advance: (s: InferenceState, id: number) => (path.push(id), rec.advance(s, id)) } as typeof rec;
    const rng = new Rng(77);
    let straddled = 0;
    let shown = 0;
    let withLineEnd = 0;
    for (let trial = 0; trial < 200; trial++) {
      let cursor = 1 + rng.int(text.length - 1);
      if (text.charCodeAt(cursor) >= 0xdc00 && text.charCodeAt(cursor) <= 0xdfff) cursor++;
      const before = text.slice(0, cursor);
      let boundary = 0;
      preTokenize(before, (s) => (boundary = s));
      const typed = encodeWtf8(before.slice(boundary));
      const state = session.newState();
      session.feedMany(state, tok.encode(before.slice(0, boundary)));
      const lineStart = before.lastIndexOf('\n') + 1;
      const beamWidth = trial % 3 === 0 ? 3 : 1;
      path.length = 0;
      const stopAt = trial % 2 === 0 ? 'line' : 'length';
      const o = opts({ stopAt, maxChars: 12, beamWidth });
      const s = decodeSuggestion(recording, state, typed, before.slice(lineStart), o);
      if (!s) continue;
      shown++;
      assert.ok(s.text.length > 0 && s.text.length <= 12);
      assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s.text), `lone surrogate in ${JSON.stringify(s.text)}`);
      assert.ok(!s.text.includes('\ufffd'), `U+FFFD in ${JSON.stringify(s.text)}`);
      if (stopAt === 'line') assert.ok(!/[\r\n]/.test(s.text), `a line end in ${JSON.stringify(s.text)}`);
      else if (/[\r\n]/.test(s.text)) withLineEnd++;
      if (beamWidth === 1) {
        // The tokens fed (all but the last, which ended it or was cut) spell typed, then the suggestion.
        const bytes = path.flatMap((id) => [...tok.bytesOf(id)!]);
        const want = [...typed, ...encodeWtf8(s.text)];
        const n = Math.min(bytes.length, want.length);
        assert.deepStrictEqual(bytes.slice(0, n), want.slice(0, n), `cursor ${cursor}`);
        if (typed.length > 0 && path.length > 0 && tok.bytesOf(path[0])!.length > typed.length) straddled++;
      }
    }
    console.log(`      ${shown} suggestions, ${straddled} began with a token straddling the cursor, ${withLineEnd} of the 'length' ones hold a line end`);
    assert.ok(withLineEnd > 10, `only ${withLineEnd} suggestions without the line stop hold a line end: the line-stop check would not see a bug`);
    assert.ok(shown > 60, `only ${shown} suggestions`);
  });

  it('a suggestion from a char session never holds a line end with stopAt line', () => {
    const tok = trainCharTokenizer(SAMPLE);
    const session = tinySession(tok, 11);
    const m = sessionStepModel(session, tok);
    const rng = new Rng(5);
    for (let trial = 0; trial < 40; trial++) {
      const cursor = 1 + rng.int(SAMPLE.length - 1);
      const state = session.newState();
      session.feedMany(state, tok.encode(SAMPLE.slice(0, cursor)));
      const s = decodeSuggestion(m, state, EMPTY, '', opts({ beamWidth: 1 + (trial % 3) }));
      if (s) assert.ok(!/[\r\n]/.test(s.text), JSON.stringify(s.text));
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// The n-gram step model and the mixture, with a stand-in for KneserNeyModel (same interface).

/** A stand-in n-gram: knows `known` code points; each context (its last order−1 code points) gets a random distribution. */
class FakeNgram {
  readonly vocabSize: number;
  readonly contexts: number[][] = [];
  private readonly ids = new Map<number, number>();
  constructor(readonly order: number, private readonly known: number[]) {
    this.vocabSize = known.length + 1;
    known.forEach((cp, i) => this.ids.set(cp, i));
  }
  codePointOf(id: number): number {
    return this.known[id];
  }
  idOf(cp: number): number {
    return this.ids.get(cp) ?? this.vocabSize - 1;
  }
  distribution(context: ArrayLike<number>, out: Float64Array | Float32Array): void {
    const ctx = Array.from(context).slice(Math.max(0, context.length - (this.order - 1)));
    this.contexts.push(ctx);
    const rng = new Rng(ctx.reduce((h, c) => hash32(h * 31 + c + 7), 1));
    let sum = 0;
    for (let i = 0; i < this.vocabSize; i++) sum += out[i] = Math.exp(rng.normal());
    for (let i = 0; i < this.vocabSize; i++) out[i] /= sum;
  }
  bitsPerChar(): number {
    return NaN;
  }
}

describe('ngramStepModel and mixtureStepModel (a stand-in n-gram and the real KneserNeyModel)', () => {
  const tok = trainCharTokenizer(SAMPLE);
  const sessionCps: number[] = [];
  for (let t = 0; t < tok.vocabSize; t++) {
    const b = tok.bytesOf(t);
    if (b) sessionCps.push(new TextDecoder().decode(b).codePointAt(0)!);
  }
  // The n-gram knows two thirds of the session's characters and one the session lacks.
  const known = [...sessionCps.filter((_, i) => i % 3 !== 0), 0x3a9];

  it('ngramStepModel: probs are the n-gram\'s, the context holds the last order−1 code points, the unknown id is never emitted', () => {
    const ng = new FakeNgram(4, known);
    const m = ngramStepModel(ng as unknown as KneserNeyModel);
    assert.strictEqual(m.vocabSize, ng.vocabSize);
    assert.strictEqual(m.bytesOf(ng.vocabSize - 1), null);
    assert.deepStrictEqual(m.bytesOf(known.length - 1), encodeWtf8('Ω'));
    let s = { context: [] as readonly number[] };
    const seq = [0, 5, 2, 7, 1];
    for (const id of seq) s = m.next(s, id);
    assert.deepStrictEqual(s.context, seq.slice(-3).map((id) => known[id]));
    const p = m.probs(s);
    const want = new Float64Array(ng.vocabSize);
    ng.distribution(s.context, want);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(p[i] - want[i]) < 1e-7);
    // Greedy (copy once, then in place) equals next() at every step, long enough for the in-place trimming.
    const plain: StepModel<{ context: readonly number[] }> = { vocabSize: m.vocabSize, probs: (x) => m.probs(x), next: (x, id) => m.next(x, id), bytesOf: (id) => m.bytesOf(id) };
    const o = opts({ stopAt: 'length', maxChars: 120 });
    const a = decodeSuggestion(m, s, EMPTY, '', o);
    assert.deepStrictEqual(a, decodeSuggestion(plain, s, EMPTY, '', o));
    assert.ok(a && a.tokens > 70, `only ${a?.tokens} tokens`);
    assert.deepStrictEqual(s.context, seq.slice(-3).map((id) => known[id]), 'decoding changed the start state');
  });

  const kinds: [string, () => KneserNeyModel][] = [
    ['stand-in', () => new FakeNgram(5, known) as unknown as KneserNeyModel],
    ['KneserNeyModel', () => KneserNeyModel.build(SAMPLE, 5)],
  ];
  for (const [kind, make] of kinds) {
    for (const w of [0, 0.3, 1]) {
      it(`mixture with the ${kind} (w=${w}): p = w·ngram + (1−w)·softmax on every character token, <unk> takes the n-gram's rest, sums to 1`, () => {
        const session = tinySession(tok, 21);
        const ng = make();
        assert.strictEqual(ng.order, 5);
        const m = mixtureStepModel(session, tok, ng, w);
        const read = 'const greeting = "h😀';
        const lstm = session.newState();
        session.feedMany(lstm, tok.encode(read));
        let s = mixtureState(lstm, read, 5);
        let ctx = [...' "h😀'].map((c) => c.codePointAt(0)!);
        assert.deepStrictEqual(s.context, ctx);
        let maxErr = 0;
        for (const next of ['x', ' ', '😀', 'é']) {
          const p = m.probs(s);
          const q = new Float64Array(ng.vocabSize);
          ng.distribution(ctx, q);
          const sm = softmax64(s.lstm.logits!);
          let covered = 0;
          let sum = 0;
          for (let t = 0; t < tok.vocabSize; t++) {
            const b = tok.bytesOf(t);
            const cp = b ? new TextDecoder().decode(b).codePointAt(0)! : -1;
            const id = cp >= 0 ? ng.idOf(cp) : ng.vocabSize - 1;
            const qt = id < ng.vocabSize - 1 ? q[id] : 0;
            covered += qt;
            if (t !== CHAR_UNK) maxErr = Math.max(maxErr, Math.abs(p[t] - (w * qt + (1 - w) * sm[t])));
            sum += p[t];
          }
          maxErr = Math.max(maxErr, Math.abs(p[CHAR_UNK] - ((1 - w) * sm[CHAR_UNK] + w * (1 - covered))));
          assert.ok(Math.abs(sum - 1) < 1e-5, `sums to ${sum}`);
          const id = tok.encode(next)[0];
          const before = snapshot(s.lstm);
          const n2 = m.next(s, id);
          assert.deepStrictEqual(snapshot(s.lstm), before, 'next() changed its argument');
          ctx = [...ctx, next.codePointAt(0)!].slice(-4);
          assert.deepStrictEqual(n2.context.slice(-4), ctx);
          s = n2;
        }
        console.log(`      ${kind}, w=${w}: max |mixture − (w·ngram + (1−w)·float64 softmax)| = ${maxErr.toExponential(2)}`);
        assert.ok(maxErr < 1e-6, `mixture differs by ${maxErr}`);
      });
    }
  }

  it('ngramStepModel on a real KneserNeyModel: token bytes are its code points; greedy completes a line it has seen', () => {
    const kn = KneserNeyModel.build(SAMPLE, 7);
    const m = ngramStepModel(kn);
    for (let id = 0; id < kn.vocabSize - 1; id++) assert.deepStrictEqual(m.bytesOf(id), encodeWtf8(String.fromCodePoint(kn.codePointOf(id))));
    assert.strictEqual(m.bytesOf(kn.vocabSize - 1), null);
    const line = '  let total';
    const s = decodeSuggestion(m, { context: [...line].map((c) => c.codePointAt(0)!) }, EMPTY, line, opts({ minConfidence: 0.3 }));
    assert.strictEqual(s?.text, ' = 0;');
    const emoji = decodeSuggestion(m, { context: [...'wörld '].map((c) => c.codePointAt(0)!) }, EMPTY, 'wörld ', opts());
    assert.strictEqual(emoji?.text, '😀";');
  });

  it('greedy decoding on the mixture equals decoding on a model built from the same formula', () => {
    const session = tinySession(tok, 23);
    const ng = new FakeNgram(3, known);
    const m = mixtureStepModel(session, tok, ng as unknown as KneserNeyModel, 0.5);
    const read = '  let total';
    const lstm = session.newState();
    session.feedMany(lstm, tok.encode(read));
    const a = decodeSuggestion(m, mixtureState(lstm, read, 3), EMPTY, read, opts({ stopAt: 'length', maxChars: 15 }));
    const plain: StepModel<{ lstm: InferenceState; context: readonly number[] }> = { vocabSize: m.vocabSize, probs: (x) => m.probs(x), next: (x, id) => m.next(x, id), bytesOf: (id) => m.bytesOf(id) };
    const b = decodeSuggestion(plain, mixtureState(lstm, read, 3), EMPTY, read, opts({ stopAt: 'length', maxChars: 15 }));
    assert.deepStrictEqual(a, b);
    assert.ok(a && a.text.length > 0);
  });
});

// ---------------------------------------------------------------------------------------------------
// Cost: the decoder's own work per step (a model whose probs cost nothing), and beside a real step.

describe('decoder cost per step (printed, not asserted)', () => {
  it('greedy and beam over a free model, V = 100 and 4096; a hidden-256 2-layer LSTM step for scale', () => {
    for (const V of [100, 4096]) {
      const tokens: Tok[] = Array.from({ length: V }, (_, i) => (i < 95 ? String.fromCharCode(32 + i) : [0x61, 0x62]));
      const rng = new Rng(V);
      const p = Float32Array.from({ length: V }, () => Math.exp(2 * rng.normal()));
      let sum = 0;
      for (const x of p) sum += x;
      for (let i = 0; i < V; i++) p[i] /= sum;
      const bytes = tokens.map((t) => (typeof t === 'string' ? encodeWtf8(t) : Uint8Array.from(t!)));
      const m = { vocabSize: V, probs: () => p, next: (s: number, _id: number) => s + 1, copy: (s: number) => s, advance: () => undefined, bytesOf: (id: number) => bytes[id] };
      for (const beamWidth of [1, 4]) {
        const o = opts({ stopAt: 'length', maxChars: 80, beamWidth, repeatChars: 8, trimToExpectedSaving: true });
        let steps = 0;
        const t0 = performance.now();
        const runs = beamWidth === 1 ? 400 : 50;
        for (let r = 0; r < runs; r++) steps += decodeSuggestion(m, 0, EMPTY, 'const x = ', { ...o, minConfidence: 0 })?.tokens ?? 0;
        const us = ((performance.now() - t0) * 1000) / steps;
        console.log(`      V=${V} beam ${beamWidth}: ${us.toFixed(2)} µs per step (decoder only, ${steps} steps)`);
      }
    }
    const tok = trainCharTokenizer(SAMPLE);
    const config: ModelConfig = { cell: 'lstm', vocabSize: tok.vocabSize, embedSize: 64, hiddenSize: 256, numLayers: 2, dropout: 0 };
    const session = new InferenceSession(config, initParams(config, 1));
    const s = session.newState();
    session.feedMany(s, tok.encode('const x = '));
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) session.feed(s, 20);
    console.log(`      hidden-256 2-layer LSTM (${session.engine}): ${(((performance.now() - t0) * 1000) / 300).toFixed(1)} µs per session.feed`);
    const m = sessionStepModel(session, tok);
    const t1 = performance.now();
    let steps = 0;
    for (let r = 0; r < 10; r++) steps += decodeSuggestion(m, s, EMPTY, '', opts({ stopAt: 'length', maxChars: 40, repeatChars: 0 }))?.tokens ?? 0;
    console.log(`      greedy on it: ${(((performance.now() - t1) * 1000) / steps).toFixed(1)} µs per step (${steps} steps)`);
  });
});
