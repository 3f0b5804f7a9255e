// The data pipeline of every training job (kernels/trainingData.ts): the train/validation split, the
// characters-per-token table, and the contiguous-stream batcher. A batcher that paired a window with
// the wrong targets, or let windows skip or overlap along a stream, would still train (worse), so
// these check the layout itself, token by token.

import * as assert from 'assert';
import { trainCharTokenizer } from '../kernels/tokenizer';
import { StreamBatcher, buildTokenizer, checkTrainable, countChars, splitTrainVal, tokenize } from '../kernels/trainingData';

/** Tokens whose values are their positions, so a window shows where it was read from. */
function positions(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

describe('training data pipeline', () => {
  it('windows are T consecutive tokens of B contiguous streams, each target the token after its input', () => {
    for (const [N, B, T] of [[101, 4, 5], [64, 1, 7], [1000, 16, 32], [33, 3, 10]]) {
      const data = new StreamBatcher(positions(N), B, T);
      const L = Math.floor((N - 1) / B);
      assert.strictEqual(data.streamLength, L);
      assert.strictEqual(data.windowsPerEpoch, Math.floor(L / T));
      assert.strictEqual(data.tailLength, L - data.windowsPerEpoch * T);
      const x = new Int32Array(T * B);
      const y = new Int32Array(T * B);
      for (let w = 0; w < data.windowsPerEpoch; w++) {
        data.fill(w, x, y);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < T; t++) {
            const at = `N=${N} B=${B} T=${T} window ${w} row ${b} step ${t}`;
            assert.strictEqual(x[t * B + b], b * L + w * T + t, `input, ${at}`);
            assert.strictEqual(y[t * B + b], x[t * B + b] + 1, `target, ${at}`);
          }
        }
      }
    }
  });

  it('the partial last window continues its stream and never reads past it', () => {
    const N = 53, B = 4, T = 5; // L = 13: two full windows and a tail of 3
    const data = new StreamBatcher(positions(N), B, T);
    assert.strictEqual(data.tailLength, 3);
    const x = new Int32Array(3 * B);
    const y = new Int32Array(3 * B);
    data.fill(2, x, y, 3);
    for (let b = 0; b < B; b++) assert.deepStrictEqual([0, 1, 2].map((t) => y[t * B + b]), [0, 1, 2].map((t) => b * 13 + 10 + t + 1));
    assert.throws(() => data.fill(2, new Int32Array(T * B), new Int32Array(T * B)), /runs past the stream/);
  });

  it('the validation text is the end of the text, cut between code points', () => {
    assert.deepStrictEqual(splitTrainVal('abcdefghij', 0.3), { train: 'abcdefg', val: 'hij' });
    assert.deepStrictEqual(splitTrainVal('abc', 0), { train: 'abc', val: '' });
    const emoji = 'ab😀'; // the cut at 3 of 4 code units would fall inside the surrogate pair
    assert.deepStrictEqual(splitTrainVal(emoji, 0.25), { train: 'ab', val: '😀' });
    assert.throws(() => splitTrainVal('abc', 1), /validation fraction/);
    assert.throws(() => splitTrainVal('abc', -0.1), /validation fraction/);
  });

  it('characters per token add up to the code points of the text, for both tokenizers', () => {
    const text = 'const ünïcødé = "😀 and \u{1F600}";\n'.repeat(20);
    const split = splitTrainVal(text, 0.25);
    for (const kind of ['char', 'bpe'] as const) {
      const tokenizer = kind === 'char' ? trainCharTokenizer(split.train) : buildTokenizer(split.train, { kind, vocabSize: 300 });
      const data = tokenize(tokenizer, split);
      assert.strictEqual(countChars(data.train, data.chars), [...split.train].length, `${kind}: train characters`);
      assert.strictEqual(countChars(data.val, data.chars), [...split.val].length, `${kind}: validation characters`);
    }
  });

  it('a token stream too short for one batch is refused with what to change', () => {
    assert.doesNotThrow(() => checkTrainable(4 * 16 + 1, 4, 16));
    assert.throws(() => checkTrainable(4 * 16, 4, 16), /too short: 64 tokens, but batch 4 × sequence length 16 needs at least 65; add more files or lower/);
  });
});
