// The webview protocol's checks (webview/protocol.ts) against the message types it declares, read
// with the TypeScript compiler (test/typeShapes.ts), so a message or field added there is fuzzed
// without editing this file:
//  - every valid sample survives a round trip, and together the samples hold every field of every
//    message kind (a new one fails here, named, until a sample has it);
//  - exhaustively, every field of every sample is removed (rejected where the type requires it,
//    accepted where it is optional, whatever other messages declare for a field of that name) and
//    given every kind of value its type does not allow (rejected);
//  - 1,000 random malformed messages per direction, with a different seed per direction (wrong
//    types, missing required fields, unknown kinds, oversized arrays, non-objects, numbers out of
//    bounds), are rejected with a ProtocolError: never another exception, never a value applied.

import * as assert from 'assert';
import * as path from 'path';
import { DEFAULT_OPTIM } from '../kernels/config';
import { Rng } from '../kernels/rng';
import { InspectResult } from '../kernels/inspect/types';
import { FromWebview, PanelState, ProtocolError, ToWebview, parseFromWebview, parseToWebview } from '../webview/protocol';
import { Shape, admits, altOf, discriminant, readTypeShape } from './typeShapes';

const ROOT = path.resolve(__dirname, '..', '..');

const state: PanelState = {
  status: 'training', message: 'Training on WebGPU', backend: 'webgpu', backendReason: 'the adapter is a hardware GPU', adapter: 'SwiftShader', step: 12,
  parameters: 1234, model: { cell: 'gru', vocabSize: 90, embedSize: 16, hiddenSize: 32, numLayers: 2, dropout: 0.1 },
  corpus: { files: 3, skipped: 1, bytes: 1000, folders: 1 },
  history: [{ step: 10, valBpc: 3.2, time: 1700000000 }, { step: 12, trainLoss: 2.1 }],
};
const settings = {
  architecture: 'lstm', hiddenSize: 128, layers: 1, embeddingSize: 64, dropout: 0, sequenceLength: 64, batchSize: 16,
  learningRate: 0.005, gradientClip: 5, tokenizer: 'char', vocabularySize: 2048, timeBudgetSeconds: 300, backend: 'auto',
} as const;
const started = { kind: 'started', runId: 2, step: 0, backend: 'wasm', adapter: 'x', config: state.model!, parameters: 5, trainTokens: 10, valTokens: 2, resumed: false, note: 'software adapter' } as const;
const progress = { kind: 'progress', runId: 1, step: 3, loss: 2, bitsPerChar: 2.9, tokensPerSecond: 1000, elapsedSeconds: 1, fraction: 0.1, etaSeconds: NaN, epoch: 0, time: 1 } as const;
const evalReport = { kind: 'eval', runId: 2, step: 5, bitsPerChar: 3, bitsPerToken: 3, time: 2 } as const;
const done = { kind: 'done', runId: 2, step: 9, stepsThisRun: 9, seconds: 1.5, stoppedBy: 'abort', valBitsPerChar: null } as const;
const error = { kind: 'error', runId: 2, step: 9, message: 'the GPU device was lost', deviceLost: true } as const;

// The inspector: 3 tokens, hidden 2, one LSTM layer (h, c, i, f, g, o), top-2.
const T3 = (...v: number[]) => new Float32Array(v);
const inspectResult = {
  cell: 'lstm', hiddenSize: 2, numLayers: 1, tokens: ['a', ' ', '\n'], offsets: new Int32Array([0, 1, 2, 3]),
  layers: [{ names: ['h', 'c', 'i', 'f', 'g', 'o'], values: ['h', 'c', 'i', 'f', 'g', 'o'].map((_, k) => T3(k, 0.1, 0.2, 0.3, 0.4, -0.5)) }],
  surprisal: T3(NaN, 2.5, 1), nextProb: T3(0.2, 0.5, NaN), topK: 2, topTokens: ['a', 'b', 'c', 'd', 'e', 'f'], topProbs: T3(0.5, 0.2, 0.4, 0.3, 0.9, 0.05),
} as const;
const inspectSource = { uri: 'file:///w/a.ts', label: 'a.ts', languageId: 'typescript', version: 3, start: 10, end: 13, selection: { start: 1, end: 2 } };
const unit = { layer: 0, quantity: 'c', unit: 1 } as const;
const match = {
  path: 'src/a.ts', uri: 'file:///w/src/a.ts', offset: 120, length: 4, line: 7, character: 2, score: 3.5,
  tokens: ['(', 'x', ')'], matchStart: 1, matchLength: 1, values: T3(0.1, 0.9, 0.2),
};

const TO_WEBVIEW: ToWebview[] = [
  { type: 'init', version: 1, settings, state },
  { type: 'state', state },
  { type: 'state', state: { ...state, model: null, corpus: null, backend: null, history: [] } },
  { type: 'settings', settings: { ...settings, tokenizer: 'bpe' } },
  ...[started, progress, evalReport, done, { ...done, valBitsPerChar: 2.5 }, error, { kind: 'checkpoint', runId: 1, step: 3 } as const].map((report) => ({ type: 'report', report }) as const),
  {
    type: 'train', job: {
      runId: 4, text: { train: 'abc'.repeat(100), val: 'abc' }, model: { cell: 'rnn', hiddenSize: 8, numLayers: 1, embedSize: 4, dropout: 0 },
      tokenizer: { kind: 'char', vocabSize: 256 }, optim: DEFAULT_OPTIM, batch: { seqLen: 8, batchSize: 2 }, budget: { maxSeconds: 10, maxSteps: 100 },
      checkpointEverySeconds: 5, evalEverySeconds: 5, seed: 1, resume: { model: new Uint8Array([1, 2]), optimizer: new Uint8Array(3) },
      history: [{ step: 3, trainLoss: 2.5, valBpc: 3.1, time: 5 }],
    },
  },
  { type: 'stop', runId: 4 },
  { type: 'settingsSaved', scope: 'workspace' },
  { type: 'loseDevice' },
  { type: 'probe', probeId: 3, config: state.model!, batch: { seqLen: 64, batchSize: 16 }, optim: DEFAULT_OPTIM, seed: 1 },
  { type: 'inspector.status', status: 'noModel', message: 'No model yet' },
  {
    type: 'inspector.result', requestId: 7, source: inspectSource, model: { config: { ...state.model!, cell: 'lstm', numLayers: 1, hiddenSize: 2 }, step: 40, tokenizer: 'char' },
    result: inspectResult as unknown as InspectResult,
    probes: [{ name: 'bracketDepth', label: 'bracket depth', values: T3(0, 1, 1), best: [{ layer: 0, quantity: 'h', unit: 1, r: 0.93 }] }],
    notice: '',
  },
  { type: 'inspector.result', requestId: 8, source: { ...inspectSource, selection: null }, model: { config: { ...state.model!, cell: 'lstm', numLayers: 1, hiddenSize: 2 }, step: 40, tokenizer: 'bpe' }, result: inspectResult as unknown as InspectResult, probes: [], notice: 'cut' },
  { type: 'inspector.matchProgress', searchId: 2, doneTokens: 100, totalTokens: 1000 },
  { type: 'inspector.matchResults', searchId: 2, results: [match], tokensSearched: 1000, seconds: 0.5, cached: true, cancelled: false },
  { type: 'inspector.saturation', requestId: 3, tokens: 500, layers: [{ layer: 0, gates: [{ name: 'f', left: T3(0.1, 0.2), right: T3(0.5, 0) }] }] },
  { type: 'inspector.sample', requestId: 4, tokens: ['x', 'y'], probs: T3(0.5, 0.25) },
  { type: 'inspector.decorated', unit },
  { type: 'inspector.decorated', unit: null },
];

const FROM_WEBVIEW: FromWebview[] = [
  { type: 'ready', version: 1, gpu: { available: true, adapter: 'SwiftShader', why: '', software: 'SwiftShader, a software renderer' } },
  { type: 'command', command: 'resume' },
  { type: 'updateSettings', values: { ...settings } },
  { type: 'updateSettings', values: { hiddenSize: 64, architecture: 'gru' } },
  ...[started, progress, evalReport, done, error].map((report) => ({ type: 'report', report }) as const),
  { type: 'report', report: { kind: 'checkpoint', runId: 2, step: 5, model: new Uint8Array(10), optimizer: new Uint8Array(20) } },
  { type: 'log', level: 'warn', message: 'hello' },
  { type: 'probeResult', probeId: 3, secondsPerStep: 0.012, error: '' },
  { type: 'probeResult', probeId: 4, secondsPerStep: null, error: 'the GPU device was lost' },
  { type: 'inspector.ready', version: 1 },
  { type: 'inspector.colorEditor', unit },
  { type: 'inspector.colorEditor', unit: null },
  { type: 'inspector.match', searchId: 3, layer: 0, quantity: 'h', units: [1, 5], threshold: 0.3, length: 4 },
  { type: 'inspector.cancelMatch', searchId: 3 },
  { type: 'inspector.openMatch', searchId: 3, index: 0 },
  { type: 'inspector.sample', requestId: 5, prompt: 'function ', temperature: 0.8, length: 200 },
  { type: 'inspector.corpusSaturation', requestId: 6 },
  { type: 'inspector.refresh' },
];

/**
 * Numeric fields with no bounds by design (losses before the first step, ETAs, times, match scores) or
 * whose range takes in the fuzzer's -1 and -1e-3 (a unit's correlation, an activation threshold): an
 * out-of-range value of the fuzzer's kind is not malformed there.
 */
const UNBOUNDED_NUMBERS = new Set(['score', 'r', 'threshold', 'loss', 'bitsPerChar', 'tokensPerSecond', 'elapsedSeconds', 'fraction', 'etaSeconds', 'time', 'seconds', 'bitsPerToken', 'trainLoss', 'valBpc', 'valBitsPerChar']);

/** A different seed per direction, so the two fuzz runs do not make the same choices. */
const SEEDS = { toWebview: 0x70_57eb, fromWebview: 0xf2_0e57 };

type Path = (string | number)[];

/** One value inside a sample message, with what its declared type says about it. */
interface Site {
  path: Path;
  value: unknown;
  shape: Shape;
  /** true/false for an object field (may it be left out?); null for an array element. */
  optional: boolean | null;
  /** Where the field is in the type, e.g. `.report[kind=eval].time`. */
  typePath: string;
}

function objectAlts(shape: Shape) {
  return shape.alts.filter((a): a is Extract<typeof a, { kind: 'object' }> => a.kind === 'object');
}

/** Every field and array element of `v`, which must be an instance of `shape`. */
function sites(shape: Shape, v: unknown, at: Path = [], typePath = ''): Site[] {
  if (v === null) return [];
  const alt = altOf(shape, v);
  if (!alt) throw new Error(`the sample at ${typePath || 'the top'} is not of its declared type: ${JSON.stringify(v)?.slice(0, 200)}`);
  const out: Site[] = [];
  if (alt.kind === 'array') {
    (v as unknown[]).forEach((x, i) => {
      out.push({ path: [...at, i], value: x, shape: alt.item, optional: null, typePath: `${typePath}[]` });
      out.push(...sites(alt.item, x, [...at, i], `${typePath}[]`));
    });
  } else if (alt.kind === 'object') {
    const d = discriminant(objectAlts(shape));
    const label = d ? `[${d}=${(v as Record<string, unknown>)[d]}]` : '';
    for (const [k, prop] of alt.props) {
      if (!Object.hasOwn(v as object, k)) continue;
      const x = (v as Record<string, unknown>)[k];
      const tp = `${typePath}${label}.${k}`;
      out.push({ path: [...at, k], value: x, shape: prop.shape, optional: prop.optional, typePath: tp });
      out.push(...sites(prop.shape, x, [...at, k], tp));
    }
  }
  return out;
}

/** Every field the type declares, named as in Site.typePath (objects in a union are told apart by their discriminant). */
function declaredFields(shape: Shape, typePath = '', stack: Shape[] = []): string[] {
  if (stack.includes(shape)) return [];
  const out: string[] = [];
  const d = discriminant(objectAlts(shape));
  for (const alt of shape.alts) {
    if (alt.kind === 'array') out.push(...declaredFields(alt.item, `${typePath}[]`, [...stack, shape]));
    if (alt.kind !== 'object') continue;
    const tags = d ? (alt.props.get(d)!.shape.alts[0] as { literals: string[] }).literals : [null];
    for (const tag of tags) {
      const label = tag === null ? '' : `[${d}=${tag}]`;
      for (const [k, prop] of alt.props) {
        out.push(`${typePath}${label}.${k}`);
        out.push(...declaredFields(prop.shape, `${typePath}${label}.${k}`, [...stack, shape]));
      }
    }
  }
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

/** One value of every kind; a field is given each one its type does not admit. */
const ANY_KIND: unknown[] = ['oops', '', 42, -1, true, null, [], [1, 2], {}, { type: 'ready' }, new Uint8Array(2), new Float32Array(2), new Int32Array(2)];

const wrongValues = (shape: Shape) => ANY_KIND.filter((w) => !admits(shape, w));

function checkRejected(parse: (v: unknown) => unknown, v: unknown, what: string): void {
  let result: unknown;
  try {
    result = parse(v);
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `${what}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return;
  }
  assert.fail(`${what}: a malformed message was accepted: ${JSON.stringify(v)?.slice(0, 300)} → ${JSON.stringify(result)?.slice(0, 200)}`);
}

/** One certainly malformed variant of a valid message. */
function malformed(valid: readonly object[], shape: Shape, rng: Rng): unknown {
  const base = clone(valid[Math.floor(rng.next() * valid.length)]) as Record<string, unknown>;
  const all = sites(shape, base);
  const pick = <T>(xs: T[]) => xs[Math.floor(rng.next() * xs.length)];
  switch (Math.floor(rng.next() * 6)) {
    case 0: { // a field of a kind its type does not allow
      const s = pick(all);
      setAt(base, s.path, pick([...wrongValues(s.shape), ...(admits(s.shape, 'x') ? [] : ['x'.repeat(70 * 1024)])]));
      return base;
    }
    case 1: { // a required field missing
      const required = all.filter((s) => s.optional === false);
      setAt(base, pick(required).path, undefined, true);
      return base;
    }
    case 2: { // an unknown value of a field that takes a fixed set of strings (message types, report kinds, ...)
      const fixed = all.filter((s) => s.shape.alts.some((a) => a.kind === 'string' && a.literals !== null));
      setAt(base, pick(fixed).path, pick(['hello', 'READY', '', 'toString', '__proto__', 'hasOwnProperty', 'constructor']));
      return base;
    }
    case 3: { // a huge array where an array is allowed, or in place of the message type
      const arrays = all.filter((s) => Array.isArray(s.value));
      if (!arrays.length) return { ...base, type: new Array(200_000).fill('ready') };
      const s = pick(arrays);
      setAt(base, s.path, new Array(100_001).fill((s.value as unknown[])[0] ?? 0));
      return base;
    }
    case 4: // not an object at all
      return pick([null, undefined, 0, 'ready', [], [base], new Uint8Array(8), true, () => 1]);
    default: { // a number out of its bounds
      const nums = all.filter((s) => typeof s.value === 'number' && !UNBOUNDED_NUMBERS.has(String(s.path[s.path.length - 1])));
      if (!nums.length) return { type: 42 };
      setAt(base, pick(nums).path, pick([-1, -1e-3, 1e300, Infinity, NaN]));
      return base;
    }
  }
}

const DIRECTIONS = [
  { name: 'extension → webview', typeName: 'ToWebview', parse: parseToWebview, valid: TO_WEBVIEW, seed: SEEDS.toWebview },
  { name: 'webview → extension', typeName: 'FromWebview', parse: parseFromWebview, valid: FROM_WEBVIEW, seed: SEEDS.fromWebview },
] as const;

describe('webview protocol', function () {
  this.timeout(120_000);
  const shapes = new Map<string, Shape>();
  before(function () {
    for (const d of DIRECTIONS) shapes.set(d.typeName, readTypeShape(ROOT, 'webview/protocol.ts', d.typeName));
  });

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

  it('an inspection whose arrays disagree in length is rejected (the webview indexes them without checks)', () => {
    const good = TO_WEBVIEW.find((m) => m.type === 'inspector.result')!;
    const bad = (edit: (r: Record<string, unknown>) => void) => {
      const m = clone(good) as unknown as { result: Record<string, unknown> };
      edit(m.result);
      return m;
    };
    const cases: [string, unknown][] = [
      ['offsets', bad((r) => { r.offsets = new Int32Array(3); })],
      ['a layer quantity', bad((r) => { (r.layers as { values: Float32Array[] }[])[0].values[2] = new Float32Array(5); })],
      ['names vs values', bad((r) => { (r.layers as { names: string[] }[])[0].names.pop(); })],
      ['layers', bad((r) => { r.numLayers = 2; })],
      ['surprisal', bad((r) => { r.surprisal = new Float32Array(4); })],
      ['nextProb', bad((r) => { r.nextProb = new Float32Array(2); })],
      ['top tokens', bad((r) => { (r.topTokens as string[]).pop(); })],
      ['top probabilities', bad((r) => { r.topProbs = new Float32Array(5); })],
    ];
    for (const [what, m] of cases) checkRejected(parseToWebview, m, `an inspection with the wrong number of ${what}`);
  });

  it('the two fuzz directions use different seeds', () => {
    assert.notStrictEqual(SEEDS.toWebview, SEEDS.fromWebview);
  });

  for (const d of DIRECTIONS) {
    it(`${d.name}: the samples hold every field of every message kind of ${d.typeName}`, () => {
      const shape = shapes.get(d.typeName)!;
      const declared = new Set(declaredFields(shape));
      const covered = new Set(d.valid.flatMap((m) => sites(shape, m).map((s) => s.typePath)));
      assert.ok(declared.size > 20, `only ${declared.size} fields were read from the type: the type reader is broken`);
      const missing = [...declared].filter((f) => !covered.has(f));
      assert.deepStrictEqual(missing, [], `no sample message has these fields: add one to ${d.typeName === 'ToWebview' ? 'TO_WEBVIEW' : 'FROM_WEBVIEW'}`);
    });

    it(`${d.name}: every field removed is rejected where required and accepted where optional; every wrong kind of value is rejected`, () => {
      const shape = shapes.get(d.typeName)!;
      let removed = 0, retyped = 0;
      for (const [mi, m] of d.valid.entries()) {
        for (const s of sites(shape, m)) {
          const where = `sample ${mi} (${(m as { type: string }).type}) ${s.typePath}`;
          if (s.optional !== null) {
            const without = clone(m);
            setAt(without, s.path, undefined, true);
            if (s.optional) assert.doesNotThrow(() => d.parse(without), `${where} is optional but leaving it out was rejected`);
            else checkRejected(d.parse, without, `${where} is required but was left out`);
            removed++;
          }
          for (const w of wrongValues(s.shape)) {
            const bad = clone(m);
            setAt(bad, s.path, w);
            checkRejected(d.parse, bad, `${where} = ${JSON.stringify(w) ?? String(w)}`);
            retyped++;
          }
        }
      }
      console.log(`      ${d.name}: ${removed} fields removed, ${retyped} wrong values, over ${d.valid.length} sample messages`);
    });

    it(`${d.name}: 1,000 random malformed messages are all rejected with a ProtocolError`, () => {
      const rng = new Rng(d.seed);
      const shape = shapes.get(d.typeName)!;
      for (let i = 0; i < 1000; i++) checkRejected(d.parse, malformed(d.valid, shape, rng), `case ${i}`);
    });
  }

  it('every field UNBOUNDED_NUMBERS exempts from the bounds fuzz is a number field of some message', () => {
    const numberFields = new Set(DIRECTIONS.flatMap((d) => d.valid.flatMap((m) => sites(shapes.get(d.typeName)!, m)))
      .filter((s) => s.shape.alts.some((a) => a.kind === 'number')).map((s) => String(s.path[s.path.length - 1])));
    assert.deepStrictEqual([...UNBOUNDED_NUMBERS].filter((n) => !numberFields.has(n)), []);
  });

  it('rejects the wrong side\'s messages', () => {
    for (const m of FROM_WEBVIEW.filter((x) => x.type !== 'report')) checkRejected(parseToWebview, clone(m), m.type);
    for (const m of TO_WEBVIEW.filter((x) => x.type !== 'report')) checkRejected(parseFromWebview, clone(m), m.type);
  });
});
