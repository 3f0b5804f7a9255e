// The word-completion baseline (kernels/complete/wordCompletion.ts): hand-made cases with exact
// answers, and random corpora with random sequences of typed file words, file resets and requests
// checked against a brute-force scan of every word (corpus + file counts, strictly longer, ties to the
// shorter word then code unit order).

import * as assert from 'assert';
import { WordCompletion, isWordChar, wordsIn } from '../kernels/complete/wordCompletion';
import { Rng } from '../kernels/rng';

/** The reference: one Map of counts, every word scanned. */
function bruteForce(corpusWords: string[], fileWords: string[], prefix: string): string | null {
  if (!prefix) return null;
  const counts = new Map<string, number>();
  for (const w of [...corpusWords, ...fileWords]) counts.set(w, (counts.get(w) ?? 0) + 1);
  let best: [string, number] | null = null;
  for (const [w, n] of counts) {
    if (!(w.length > prefix.length && w.slice(0, prefix.length) === prefix)) continue;
    if (!best || n > best[1] || (n === best[1] && (w.length < best[0].length || (w.length === best[0].length && w < best[0])))) best = [w, n];
  }
  return best ? best[0].slice(prefix.length) : null;
}

describe('word completion baseline', () => {
  it('splits text into maximal runs of identifier characters', () => {
    assert.deepStrictEqual(wordsIn('const $x = foo_bar(12, a.b);\r\n  é9z'), ['const', '$x', 'foo_bar', '12', 'a', 'b', '9z']);
    assert.deepStrictEqual(wordsIn(''), []);
    assert.deepStrictEqual(wordsIn('abc'), ['abc']);
    assert.ok(isWordChar('_'.charCodeAt(0)) && isWordChar('$'.charCodeAt(0)) && !isWordChar('-'.charCodeAt(0)) && !isWordChar(0xe9));
  });

  it('offers the rest of the most frequent strictly longer word; file words add to corpus counts; reset forgets them', () => {
    const wc = new WordCompletion('return result; return results; resolve resolve resolve; re');
    assert.strictEqual(wc.suggest(''), null);
    assert.strictEqual(wc.suggest('re'), 'solve'); // resolve 3 > return 2 > result, results 1
    assert.strictEqual(wc.suggest('ret'), 'urn');
    assert.strictEqual(wc.suggest('return'), null); // nothing strictly longer
    assert.strictEqual(wc.suggest('resu'), 'lt'); // result and results both 1: the shorter
    assert.strictEqual(wc.suggest('x'), null);
    wc.addFileWord('results');
    assert.strictEqual(wc.suggest('resu'), 'lts');
    wc.addFileWord('rest');
    wc.addFileWord('rest');
    wc.addFileWord('rest');
    assert.strictEqual(wc.suggest('re'), 'st'); // rest 3 = resolve 3: the shorter wins
    wc.addFileWord('resolve');
    assert.strictEqual(wc.suggest('re'), 'solve');
    wc.addFileWord('rest');
    assert.strictEqual(wc.suggest('r'), 'est');
    wc.resetFile();
    assert.strictEqual(wc.suggest('r'), 'esolve');
    assert.strictEqual(wc.suggest('resu'), 'lt');
    // Equal count and length: code unit order.
    assert.strictEqual(new WordCompletion('abd abc abe').suggest('ab'), 'c');
  });

  it('agrees with a brute-force scan on random corpora and random typing (2000 requests)', () => {
    const rng = new Rng(11);
    let requests = 0, offered = 0;
    for (let trial = 0; trial < 20; trial++) {
      const alphabet = 'abcAB_$1'.slice(0, 2 + rng.int(7));
      const word = () => Array.from({ length: 1 + rng.int(5) }, () => alphabet[rng.int(alphabet.length)]).join('');
      const sep = () => [' ', '.', '(', '\n', ', '][rng.int(5)];
      let corpus = '';
      const n = rng.int(200);
      for (let i = 0; i < n; i++) corpus += word() + sep();
      const wc = new WordCompletion(corpus);
      const corpusWords = wordsIn(corpus);
      let fileWords: string[] = [];
      for (let step = 0; step < 150; step++) {
        const r = rng.next();
        if (r < 0.3) {
          const w = word();
          wc.addFileWord(w);
          fileWords.push(w);
        } else if (r < 0.33) {
          wc.resetFile();
          fileWords = [];
        } else {
          const prefix = rng.next() < 0.1 ? '' : word().slice(0, 1 + rng.int(3));
          const got = wc.suggest(prefix);
          const want = bruteForce(corpusWords, fileWords, prefix);
          assert.strictEqual(got, want, `trial ${trial} step ${step}: suggest(${JSON.stringify(prefix)})`);
          requests++;
          if (got !== null) offered++;
        }
      }
    }
    assert.ok(offered > requests / 4 && offered < requests, `offered ${offered} of ${requests}: the cases should mix offers and none`);
  });
});
