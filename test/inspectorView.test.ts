// The inspector view's pure parts: the UI state kept across hide/show (restored field by field from
// anything, thresholds per kind of scale), the choice of the shown layer and quantity, the drop log
// for malformed messages (first of each kind logged, the rest counted: 1,000 malformed messages of
// every new type through parseToWebview make one line per type), the hover details text (values to
// 1e-5, token, position, top-5), the saturation points and the test hook's plain copy.

import * as assert from 'assert';
import type { InspectResult, QuantityName } from '../kernels/inspect/types';
import { gateSaturation } from '../kernels/inspect/saturation';
import { parseFromWebview, parseToWebview } from '../webview/protocol';
import { formatProb, formatValue, hoverDetails, plain, saturationPoints, topAt, valueAt } from '../webview/inspector/details';
import { DEFAULT_UI_STATE, DropLog, malformedFromWebview, pickShown, restoreUiState, thresholdFor, withThreshold } from '../webview/inspector/state';

function tinyResult(): InspectResult {
  const T = 4, H = 3;
  const names: QuantityName[] = ['h', 'c', 'i', 'f', 'g', 'o'];
  const layers = [0, 1].map((l) => ({
    names,
    values: names.map((_, k) => Float32Array.from({ length: T * H }, (_, i) => Math.fround((l + 1) * 0.01 * (k + 1) * (i + 1) * (k === 2 || k === 3 || k === 5 ? 0.3 : 1) - 0.05))),
  }));
  return {
    cell: 'lstm', hiddenSize: H, numLayers: 2, tokens: ['a', ' ', '\n', 'b'], offsets: Int32Array.from([0, 1, 2, 3, 4]), layers,
    surprisal: Float32Array.from([NaN, 1.5, 2.25, 0.125]), nextProb: Float32Array.from([0.5, 0.25, 0.125, NaN]), topK: 2,
    topTokens: ['x', 'y', ' ', 'z', '\n', 'q', 'b', 'c'], topProbs: Float32Array.from([0.6, 0.3, 0.5, 0.2, 0.7, 0.1, 0.9, 0.05]),
  };
}

describe('inspector view state and texts', () => {
  it('restoreUiState: defaults for nothing, a wrong version or garbage; each valid field kept, each invalid one defaulted', () => {
    for (const bad of [undefined, null, 3, 'x', {}, { v: 2, layer: 1 }]) assert.deepStrictEqual(restoreUiState(bad), DEFAULT_UI_STATE);
    const good = {
      v: 1, layer: 1, quantity: 'f', layout: 'all', sort: 'correlation', sortUnit: 7, cellW: 3, cellH: 0.5, threshold: { diverging: -0.2, sequential: 0.9 },
      prompt: 'def ', temperature: 1.2, length: 50,
    };
    assert.deepStrictEqual(restoreUiState(good), good);
    const mixed = restoreUiState({ ...good, layer: -1, quantity: 'q', layout: 'grid', sort: 'random', sortUnit: 1.5, cellW: 1e9, cellH: 'x', threshold: { diverging: NaN }, temperature: 99, length: 0, prompt: 5 });
    assert.deepStrictEqual(mixed, { ...DEFAULT_UI_STATE, cellW: null, cellH: null });
    assert.strictEqual(restoreUiState({ ...good, cellW: null }).cellW, null);
    // The default is not shared (a caller changing its copy cannot change the default).
    const a = restoreUiState(undefined);
    a.threshold.diverging = 5;
    assert.strictEqual(DEFAULT_UI_STATE.threshold.diverging, 0.3);
  });

  it('thresholds are kept per kind of scale: signed quantities and 0..1 gates each remember their own', () => {
    let s = restoreUiState(undefined);
    s = withThreshold(s, 'c', -0.4);
    s = withThreshold(s, 'f', 0.75);
    assert.strictEqual(thresholdFor(s, 'h'), -0.4);
    assert.strictEqual(thresholdFor(s, 'g'), -0.4); // tanh candidate: signed
    assert.strictEqual(thresholdFor(s, 'i'), 0.75);
    assert.strictEqual(thresholdFor(s, 'z'), 0.75);
  });

  it('pickShown keeps the chosen layer and quantity when the result has them, else falls back', () => {
    const lstm = [{ names: ['h', 'c', 'i', 'f', 'g', 'o'] as QuantityName[] }, { names: ['h', 'c', 'i', 'f', 'g', 'o'] as QuantityName[] }];
    const gru = [{ names: ['h', 'r', 'z', 'n'] as QuantityName[] }];
    assert.deepStrictEqual(pickShown(lstm, 1, 'f'), { layer: 1, quantity: 'f' });
    assert.deepStrictEqual(pickShown(gru, 1, 'f'), { layer: 0, quantity: 'h' }); // layer gone, quantity gone
    assert.deepStrictEqual(pickShown(gru, 0, 'z'), { layer: 0, quantity: 'z' });
    assert.deepStrictEqual(pickShown(lstm, 5, 'c'), { layer: 0, quantity: 'c' });
    assert.strictEqual(pickShown([], 0, 'h'), null);
  });

  it('DropLog: 1,000 malformed messages of each new type make one log line per type, and all are counted', () => {
    const log = new DropLog();
    const types = ['inspector.status', 'inspector.result', 'inspector.matchProgress', 'inspector.matchResults', 'inspector.saturation', 'inspector.sample', 'inspector.decorated'];
    const lines: string[] = [];
    let n = 0;
    for (let i = 0; i < 1000; i++) {
      for (const type of types) {
        const bad = [{ type }, { type, status: 'nope', message: 1 }, { type, requestId: -1 }, { type, unit: { layer: 'x' } }][i % 4];
        assert.throws(() => parseToWebview(bad), `a malformed ${type} must not parse`);
        const line = log.drop(bad, new Error('bad'));
        n++;
        if (line) lines.push(line);
      }
      for (const junk of [null, 42, 'text']) {
        const line = log.drop(junk, new Error('not an object'));
        n++;
        if (line) lines.push(line);
      }
    }
    assert.strictEqual(log.dropped, n);
    assert.strictEqual(lines.length, types.length + 3, lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('malformed inspector.result message: bad')));
    // Made-up types cannot flood the log either.
    for (let i = 0; i < 500; i++) log.drop({ type: `x${i}` }, 'bad');
    assert.strictEqual(log.drop({ type: 'x999' }, 'bad'), null);
  });

  it('malformedFromWebview: every one of the 1,000 the test hook posts is rejected by parseFromWebview, and every new message type is among them', () => {
    const types = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const m = malformedFromWebview(i);
      types.add(String(m.type));
      assert.throws(() => parseFromWebview(m), `malformed message ${i} parsed: ${JSON.stringify(m)}`);
    }
    for (const t of ['inspector.ready', 'inspector.colorEditor', 'inspector.match', 'inspector.cancelMatch', 'inspector.openMatch', 'inspector.sample', 'inspector.corpusSaturation']) {
      assert.ok(types.has(t), `no malformed ${t}`);
    }
  });

  it('valueAt and topAt read token-major arrays', () => {
    const r = tinyResult();
    assert.strictEqual(valueAt(r, 1, 'c', 2, 1), r.layers[1].values[1][2 * 3 + 1]);
    assert.strictEqual(valueAt(r, 0, 'r', 0, 0), undefined);
    assert.strictEqual(valueAt(r, 0, 'h', 4, 0), undefined);
    assert.deepStrictEqual(topAt(r, 2), [{ token: '\n', p: Math.fround(0.7) }, { token: 'q', p: Math.fround(0.1) }]);
  });

  it('hoverDetails: token with visible whitespace, document offset, layer/quantity/unit = value (3 decimals), surprisal, top-k in percent', () => {
    const r = tinyResult();
    const text = hoverDetails(r, 1, 'g', 2, 1, 100);
    const v = r.layers[1].values[4][2 * 3 + 1];
    assert.ok(text.startsWith('Token 2 «⏎» at offset 102'), text);
    const m = /layer 1 g unit 1 = (\S+)/.exec(text);
    assert.ok(m, text);
    assert.strictEqual(m[1], v.toFixed(3));
    assert.ok(text.includes('surprisal 2.250 bits'), text);
    assert.ok(text.includes('next: «⏎» 70.0%, «q» 10.0%'), text);
    assert.ok(hoverDetails(r, 0, 'c', 3, 0).includes(`layer 0 c unit 0 = ${r.layers[0].values[1][9].toFixed(3)}`));
    assert.ok(hoverDetails(r, 0, 'h', 0, 0).includes('surprisal — (nothing before it)'));
    assert.strictEqual(hoverDetails(r, 0, 'h', 9, 0), '');
  });

  it('formatValue prints 6 significant digits (|error| < 1e-5 below 10), a real minus, and marks NaN', () => {
    const r = (seed: number) => Math.sin(seed * 12.9898) * 9.99;
    for (let i = 0; i < 1000; i++) {
      const v = r(i);
      assert.ok(Math.abs(Number(formatValue(v).replace('−', '-')) - v) < 1e-5, `${v} → ${formatValue(v)}`);
    }
    assert.strictEqual(formatValue(-0.5), '−0.500000');
    assert.strictEqual(formatValue(NaN), '—');
    assert.strictEqual(formatProb(0.123456), '0.12346');
  });

  it('saturationPoints lists one point per gate unit with its shares, leaving out NaN (no tokens)', () => {
    const r = tinyResult();
    const sat = gateSaturation(r.layers, r.tokens.length, r.hiddenSize);
    const pts = saturationPoints(sat, 'text');
    assert.strictEqual(pts.length, 2 * 3 * 3); // 2 layers × (i, f, o) × 3 units
    for (const p of pts) {
      const g = sat[p.layer].gates.find((x) => x.name === p.gate)!;
      assert.strictEqual(p.left, g.left[p.unit]);
      assert.strictEqual(p.right, g.right[p.unit]);
    }
    assert.strictEqual(saturationPoints(gateSaturation(r.layers.map((l) => ({ names: l.names, values: l.values.map(() => new Float32Array(0)) })), 0, 3), 'text').length, 0);
  });

  it('plain turns typed arrays into arrays, deeply, and leaves the rest', () => {
    const r = tinyResult();
    const p = plain({ type: 'inspector.result', result: r }) as { result: { offsets: unknown; layers: { values: unknown[] }[]; surprisal: number[] } };
    assert.ok(Array.isArray(p.result.offsets));
    assert.ok(Array.isArray(p.result.layers[1].values[3]));
    assert.deepStrictEqual(p.result.layers[1].values[3], Array.from(r.layers[1].values[3]));
    assert.ok(Number.isNaN(p.result.surprisal[0]));
    assert.ok(JSON.stringify(p).length > 100);
  });
});
