// The webview protocol's checks (webview/protocol.ts): every valid message of either direction
// survives a round trip, and 1,000 malformed messages per direction (wrong types, missing fields,
// oversized arrays, unknown kinds, non-objects) are rejected with a ProtocolError: never another
// exception, never a value that would be applied.

import * as assert from 'assert';
import { DEFAULT_OPTIM } from '../kernels/config';
import { Rng } from '../kernels/rng';
import { FromWebview, PanelState, ProtocolError, ToWebview, parseFromWebview, parseToWebview } from '../webview/protocol';

const state: PanelState = {
  status: 'training', message: 'Training on WebGPU', backend: 'webgpu', adapter: 'SwiftShader', step: 12, parameters: 1234,
  model: { cell: 'gru', vocabSize: 90, embedSize: 16, hiddenSize: 32, numLayers: 2, dropout: 0.1 },
  corpus: { files: 3, skipped: 1, bytes: 1000, folders: 1 },
  history: [{ step: 10, valBpc: 3.2, time: 1700000000 }, { step: 12, trainLoss: 2.1 }],
};
const settings = {
  architecture: 'lstm', hiddenSize: 128, layers: 1, embeddingSize: 64, dropout: 0, sequenceLength: 64, batchSize: 16,
  learningRate: 0.005, gradientClip: 5, tokenizer: 'char', vocabularySize: 2048, timeBudgetSeconds: 300, backend: 'auto',
} as const;

const TO_WEBVIEW: ToWebview[] = [
  { type: 'init', version: 1, settings, state },
  { type: 'state', state: { ...state, model: null, corpus: null, backend: null, history: [] } },
  { type: 'settings', settings: { ...settings, tokenizer: 'bpe' } },
  { type: 'report', report: { kind: 'progress', runId: 1, step: 3, loss: 2, bitsPerChar: 2.9, tokensPerSecond: 1000, elapsedSeconds: 1, fraction: 0.1, etaSeconds: NaN, epoch: 0, time: 1 } },
  { type: 'report', report: { kind: 'checkpoint', runId: 1, step: 3 } },
  {
    type: 'train', job: {
      runId: 4, text: { train: 'abc'.repeat(100), val: 'abc' }, model: { cell: 'rnn', hiddenSize: 8, numLayers: 1, embedSize: 4, dropout: 0 },
      tokenizer: { kind: 'char', vocabSize: 256 }, optim: DEFAULT_OPTIM, batch: { seqLen: 8, batchSize: 2 }, budget: { maxSeconds: 10 },
      checkpointEverySeconds: 5, evalEverySeconds: 5, seed: 1, resume: { model: new Uint8Array([1, 2]), optimizer: new Uint8Array(3) },
    },
  },
  { type: 'stop', runId: 4 },
  { type: 'loseDevice' },
];

const FROM_WEBVIEW: FromWebview[] = [
  { type: 'ready', version: 1, gpu: { available: true, adapter: 'SwiftShader', why: '' } },
  { type: 'command', command: 'resume' },
  { type: 'updateSettings', values: { hiddenSize: 64, architecture: 'gru' } },
  { type: 'report', report: { kind: 'started', runId: 2, step: 0, backend: 'webgpu', adapter: 'x', config: state.model!, parameters: 5, trainTokens: 10, valTokens: 2, resumed: false } },
  { type: 'report', report: { kind: 'eval', runId: 2, step: 5, bitsPerChar: 3, bitsPerToken: 3, time: 2 } },
  { type: 'report', report: { kind: 'checkpoint', runId: 2, step: 5, model: new Uint8Array(10), optimizer: new Uint8Array(20) } },
  { type: 'report', report: { kind: 'done', runId: 2, step: 9, stepsThisRun: 9, seconds: 1.5, stoppedBy: 'abort', valBitsPerChar: null } },
  { type: 'report', report: { kind: 'error', runId: 2, step: 9, message: 'the GPU device was lost', deviceLost: true } },
  { type: 'log', level: 'warn', message: 'hello' },
];

/** Fields that may be left out (so deleting them is not malformed). */
const OPTIONAL = new Set(['note', 'trainLoss', 'valBpc', 'time', 'maxSeconds', 'maxSteps', 'resume', 'history', 'optimizer', 'hiddenSize', 'architecture']);

type Path = (string | number)[];

/** Every path to a value inside a message, with the value. */
function paths(v: unknown, at: Path = []): [Path, unknown][] {
  const out: [Path, unknown][] = at.length ? [[at, v]] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function setAt(root: unknown, p: Path, value: unknown, remove = false): void {
  let o = root as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const key = p[p.length - 1];
  if (remove) delete o[key];
  else o[key] = value;
}

/** A value of a different kind than `v`, so the replacement is certainly wrong for its field. */
function wrongValue(v: unknown, rng: Rng): unknown {
  const pool: unknown[] = [];
  if (typeof v !== 'string') pool.push('oops', '', 'x'.repeat(70 * 1024));
  if (typeof v !== 'number') pool.push(42, -1, 1e308);
  if (typeof v !== 'boolean') pool.push(true, false);
  if (!Array.isArray(v)) pool.push([], [1, 2, 3]);
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) pool.push({}, { type: 'ready' });
  if (v !== null) pool.push(null);
  if (typeof v === 'number') pool.push(-5e15);
  return pool[Math.floor(rng.next() * pool.length)];
}

/** One certainly malformed variant of a valid message. */
function malformed(valid: readonly object[], rng: Rng): unknown {
  const base = clone(valid[Math.floor(rng.next() * valid.length)]) as Record<string, unknown>;
  const all = paths(base);
  const pick = <T>(xs: T[]) => xs[Math.floor(rng.next() * xs.length)];
  switch (Math.floor(rng.next() * 6)) {
    case 0: { // a field of the wrong type (nulls only where null is not allowed)
      const [p, v] = pick(all);
      let w = wrongValue(v, rng);
      if (w === null && v === null) w = 'oops';
      const field = String(p[p.length - 1]);
      if (w === null && ['model', 'corpus', 'backend', 'valBitsPerChar'].includes(field)) w = 'oops';
      if (typeof v === 'number' && typeof w === 'number') w = 'oops';
      setAt(base, p, w);
      return base;
    }
    case 1: { // a required field missing
      const required = all.filter(([p]) => typeof p[p.length - 1] === 'string' && !OPTIONAL.has(String(p[p.length - 1])) && !p.includes('values'));
      setAt(base, pick(required)[0], undefined, true);
      return base;
    }
    case 2: // an unknown message type, or an unknown report kind
      if (base.type === 'report' && rng.next() < 0.5) (base.report as Record<string, unknown>).kind = pick(['progres', 'checkpoints', '', 'constructor', '__proto__']);
      else base.type = pick(['hello', 'READY', '', 'toString', '__proto__', 'hasOwnProperty']);
      return base;
    case 3: // a huge array where an array is allowed, or in place of a string
      if (base.type === 'init' || base.type === 'state') {
        (base.state as PanelState).history = new Array(100_001).fill({ step: 1 });
        return base;
      }
      return { ...base, type: new Array(200_000).fill('ready') };
    case 4: // not an object at all
      return pick([null, undefined, 0, 'ready', [], [base], new Uint8Array(8), true, () => 1]);
    default: { // a number out of its bounds
      const nums = all.filter(([p, v]) => typeof v === 'number' && !['loss', 'bitsPerChar', 'tokensPerSecond', 'elapsedSeconds', 'fraction', 'etaSeconds', 'time', 'seconds', 'bitsPerToken', 'trainLoss', 'valBpc', 'valBitsPerChar'].includes(String(p[p.length - 1])));
      if (!nums.length) return { type: 42 };
      const [p] = pick(nums);
      setAt(base, p, pick([-1, -1e-3, 1e300, Infinity, NaN]));
      return base;
    }
  }
}

function checkRejected(parse: (v: unknown) => unknown, v: unknown, i: number): void {
  let result: unknown;
  try {
    result = parse(v);
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `case ${i}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return;
  }
  assert.fail(`case ${i}: a malformed message was accepted: ${JSON.stringify(v)?.slice(0, 300)} → ${JSON.stringify(result)?.slice(0, 200)}`);
}

describe('webview protocol', () => {
  it('accepts every valid message in both directions and rebuilds it field by field', () => {
    for (const m of TO_WEBVIEW) assert.deepStrictEqual(parseToWebview(clone(m)), m);
    for (const m of FROM_WEBVIEW) assert.deepStrictEqual(parseFromWebview(clone(m)), m);
  });

  it('drops fields it does not know and never copies a prototype', () => {
    const raw = JSON.parse('{"type":"log","level":"info","message":"x","extra":1,"__proto__":{"polluted":true}}');
    const m = parseFromWebview(raw) as Record<string, unknown>;
    assert.deepStrictEqual(Object.keys(m).sort(), ['level', 'message', 'type']);
    assert.strictEqual(({} as Record<string, unknown>).polluted, undefined);
    assert.strictEqual(m.polluted, undefined);
  });

  for (const [name, parse, valid] of [
    ['extension → webview', parseToWebview, TO_WEBVIEW],
    ['webview → extension', parseFromWebview, FROM_WEBVIEW],
  ] as const) {
    it(`${name}: 1,000 malformed messages are all rejected with a ProtocolError`, () => {
      const rng = new Rng(name.length);
      for (let i = 0; i < 1000; i++) checkRejected(parse, malformed(valid, rng), i);
    });
  }

  it('rejects the wrong side\'s messages', () => {
    for (const m of FROM_WEBVIEW.filter((x) => x.type !== 'report')) checkRejected(parseToWebview, clone(m), 0);
    for (const m of TO_WEBVIEW.filter((x) => x.type !== 'report')) checkRejected(parseFromWebview, clone(m), 0);
  });
});
