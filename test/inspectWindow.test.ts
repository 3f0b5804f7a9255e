// planInspection (kernels/inspect/window.ts), the one function that decides which tokens the inspector
// and `gatescope inspect` inspect: selections widened to whole lines plus a margin, the visible range
// when nothing is selected, the 4,000-token cap around the selection or cursor with its notice, the
// priming before the window, and token offsets that are exact for the char and byte-level BPE
// tokenizers (characters outside the BMP and multi-byte UTF-8 included).

import * as assert from 'assert';
import { InspectionPlan, planInspection, tokenOffsets } from '../kernels/inspect/window';
import { Tokenizer, trainBpeTokenizer, trainCharTokenizer } from '../kernels/tokenizer';

const LINES = Array.from({ length: 40 }, (_, i) => `line ${i}: let x${i} = "é${i}" + '😀' // 注释 ${i}`);
const TEXT = LINES.join('\n') + '\n';
/** Offset of the start of line i. */
const at = (i: number) => LINES.slice(0, i).reduce((s, l) => s + l.length + 1, 0);

const char = trainCharTokenizer(TEXT);
// Trained on the ASCII part only, so é, 😀 and 注释 stay split into bytes: tokens that end inside a character.
const bpe = trainBpeTokenizer(TEXT.replace(/[^\x00-\x7f]/g, '').repeat(3), 300);

/** Every token of the window decodes to its slice of the text, and the selection's tokens are exactly those overlapping it. */
function checkPlan(text: string, tk: Tokenizer, plan: InspectionPlan, sel: { start: number; end: number } | null): void {
  const w = text.slice(plan.start, plan.end);
  const ids = tk.encode(w);
  const off = tokenOffsets(tk, ids, w);
  assert.strictEqual(off[0], 0);
  assert.strictEqual(off[ids.length], w.length);
  if (tk === bpe && /😀/.test(w)) assert.ok(off.some((o, t) => t > 0 && o === off[t - 1]), 'no token ends inside a character');
  // Decoding the first t tokens gives exactly the text before offsets[t].
  for (let t = 0; t <= ids.length; t += Math.max(1, Math.floor(ids.length / 50))) {
    assert.strictEqual(tk.decode(ids.subarray(0, t)).replace(/\uFFFD+$/, ''), w.slice(0, off[t]), `token ${t}`);
  }
  if (!sel) {
    assert.strictEqual(plan.selection, null);
    return;
  }
  assert.ok(plan.selection);
  const a = sel.start - plan.start, b = sel.end - plan.start;
  for (let t = 0; t < ids.length; t++) {
    // A token that ends inside a character goes with the token that completes it.
    let u = t;
    while (u < ids.length - 1 && off[u + 1] === off[u]) u++;
    const inside: boolean = t >= plan.selection.start && t < plan.selection.end;
    assert.strictEqual(inside, off[u + 1] > a && off[u] < b, `token ${t} [${off[u]}, ${off[u + 1]}) vs selection [${a}, ${b})`);
  }
}

const nowhere = { start: 0, end: 0 };

for (const [name, tk] of [['char', char], ['bpe', bpe]] as const) {
  describe(`planInspection (${name} tokenizer)`, () => {
    it('widens a selection to whole lines plus 3 lines of margin', () => {
      const sel = { start: at(10) + 5, end: at(12) + 7 };
      const plan = planInspection(TEXT, tk, { selection: sel, visible: nowhere, cursor: 0 });
      assert.deepStrictEqual([plan.start, plan.end, plan.notice], [at(7), at(16), '']);
      checkPlan(TEXT, tk, plan, sel);
    });

    it('a whole-line selection (ending at the next line\'s start) does not take in that line', () => {
      const sel = { start: at(10), end: at(12) };
      const plan = planInspection(TEXT, tk, { selection: sel, visible: nowhere, cursor: 0, marginLines: 1 });
      assert.deepStrictEqual([plan.start, plan.end], [at(9), at(13)]);
      checkPlan(TEXT, tk, plan, sel);
    });

    it('a selection starting and ending at characters split over several tokens takes all of their tokens', () => {
      const emoji = TEXT.indexOf('😀', at(15));
      for (const sel of [{ start: emoji, end: emoji + 2 }, { start: emoji - 1, end: emoji + 3 }, { start: emoji + 2, end: TEXT.indexOf('注', emoji) + 1 }]) {
        const plan = planInspection(TEXT, tk, { selection: sel, visible: nowhere, cursor: 0 });
        checkPlan(TEXT, tk, plan, sel);
      }
    });

    it('a reversed selection is the same selection', () => {
      const a = planInspection(TEXT, tk, { selection: { start: at(12) + 7, end: at(10) + 5 }, visible: nowhere, cursor: 0 });
      const b = planInspection(TEXT, tk, { selection: { start: at(10) + 5, end: at(12) + 7 }, visible: nowhere, cursor: 0 });
      assert.deepStrictEqual(a, b);
    });

    it('an empty selection inspects the visible range, widened to whole lines', () => {
      const plan = planInspection(TEXT, tk, { selection: { start: at(20) + 3, end: at(20) + 3 }, visible: { start: at(5) + 2, end: at(9) + 4 }, cursor: at(20) + 3 });
      assert.deepStrictEqual([plan.start, plan.end, plan.selection], [at(5), at(10), null]);
      checkPlan(TEXT, tk, plan, null);
    });

    it('text shorter than the margins: the whole text, clamped offsets', () => {
      const text = 'a = "x"\nb';
      const plan = planInspection(text, tk, { selection: { start: 2, end: 99 }, visible: nowhere, cursor: 0, marginLines: 10 });
      assert.deepStrictEqual([plan.start, plan.end, plan.primeStart], [0, text.length, 0]);
      checkPlan(text, tk, plan, { start: 2, end: text.length });
      const empty = planInspection('', tk, { selection: null, visible: { start: 0, end: 5 }, cursor: 3 });
      assert.deepStrictEqual(empty, { start: 0, end: 0, primeStart: 0, selection: null, notice: '' });
    });

    it('primes with up to primeTokens tokens just before the window', () => {
      const sel = { start: at(30), end: at(31) };
      const plan = planInspection(TEXT, tk, { selection: sel, visible: nowhere, cursor: 0, primeTokens: 50 });
      const prime = tk.encode(TEXT.slice(plan.primeStart, plan.start));
      assert.ok(prime.length <= 50 && prime.length >= 45, `${prime.length} priming tokens`);
      if (name === 'char') assert.strictEqual(prime.length, 50);
      const none = planInspection(TEXT, tk, { selection: sel, visible: nowhere, cursor: 0, primeTokens: 0 });
      assert.strictEqual(none.primeStart, none.start);
    });

    it('a selection of 100,000 characters is cut to 4,000 tokens from its start, with a notice', () => {
      const big = TEXT.repeat(Math.ceil(110_000 / TEXT.length));
      const sel = { start: 5_003, end: 105_003 };
      const plan = planInspection(big, tk, { selection: sel, visible: nowhere, cursor: 0 });
      const T = tk.encode(big.slice(plan.start, plan.end)).length;
      assert.ok(T <= 4000 && T >= 3950, `${T} tokens`);
      assert.match(plan.notice, /over the limit of 4,000; inspecting the [\d,]+ tokens around the selection/);
      assert.ok(plan.start <= sel.start && plan.start >= sel.start - 4, `window starts at ${plan.start}, selection at ${sel.start}`);
      assert.strictEqual(plan.selection!.end, T);
      checkPlan(big, tk, plan, sel);
    });

    it('a visible range over the cap keeps the part around the cursor', () => {
      const cursor = at(25) + 3;
      const plan = planInspection(TEXT, tk, { selection: null, visible: { start: 0, end: TEXT.length }, cursor, maxTokens: 200 });
      const T = tk.encode(TEXT.slice(plan.start, plan.end)).length;
      assert.ok(T <= 200 && T >= 190, `${T} tokens`);
      assert.ok(plan.start < cursor && plan.end > cursor);
      const before = tk.encode(TEXT.slice(plan.start, cursor)).length;
      assert.ok(Math.abs(before - T / 2) < 10, `${before} of ${T} tokens before the cursor`);
      assert.match(plan.notice, /around the cursor/);
    });

    it('a short selection in a window over the cap stays in the middle of what is kept', () => {
      const sel = { start: at(20) + 4, end: at(20) + 10 };
      const plan = planInspection(TEXT, tk, { selection: sel, visible: nowhere, cursor: 0, marginLines: 40, maxTokens: 100 });
      assert.ok(plan.start < sel.start && plan.end > sel.end);
      const s = plan.selection!;
      const T = tk.encode(TEXT.slice(plan.start, plan.end)).length;
      assert.ok(Math.abs(s.start - (T - s.end)) < 6, `selection tokens ${s.start}..${s.end} of ${T}`);
      checkPlan(TEXT, tk, plan, sel);
    });
  });
}

describe('planInspection: bad options', () => {
  it('refuses a maxTokens that is not a whole number of at least 1', () => {
    assert.throws(() => planInspection(TEXT, char, { selection: null, visible: nowhere, cursor: 0, maxTokens: 0 }), /maxTokens must be a whole number of at least 1/);
  });
});
