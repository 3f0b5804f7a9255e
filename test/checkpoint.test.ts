// Tests of the checkpoint format: safetensors bytes (writer layout, hostile files), the model
// checkpoint (round trips, PyTorch files without metadata, mismatches), the optimizer-state file, and
// the Node helpers that write files atomically and read them with a size limit.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ModelConfig } from '../kernels/config';
import { GateScopeError } from '../kernels/errors';
import { initParams, paramSpecs, ParamMap } from '../kernels/params';
import { Rng } from '../kernels/rng';
import { Vec } from '../kernels/tensor';
import { decodeSafetensors, encodeSafetensors } from '../kernels/safetensors';
import {
  CHECKPOINT_FORMAT,
  ModelCheckpoint,
  decodeCheckpoint,
  decodeOptimizerState,
  encodeCheckpoint,
  encodeOptimizerState,
  inferConfigFromTensors,
} from '../kernels/checkpoint';
import { atomicWriteFile, atomicWriteFileSync, readFileLimited, readFileLimitedSync } from '../kernels/node/atomicWrite';

const cfg = (cell: ModelConfig['cell'], over: Partial<ModelConfig> = {}): ModelConfig => ({
  cell, vocabSize: 11, embedSize: 5, hiddenSize: 7, numLayers: 2, dropout: 0.25, ...over,
});

/** Expects `fn` to throw a one-line GateScopeError whose message matches `re`. */
function rejects(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected an error matching ${re}, nothing was thrown`);
  assert.ok(err instanceof GateScopeError, `expected a GateScopeError, got ${(err as Error)?.stack ?? err}`);
  assert.match(err.message, re);
  assert.ok(!err.message.includes('\n'), `message is not one line: ${err.message}`);
}

/** A safetensors file from a raw header (string or object) and data bytes; `len` overrides the header length field. */
function rawFile(header: string | object, data: Uint8Array = new Uint8Array(0), len?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, len ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** Header JSON and data start of a file, read by hand (independently of decodeSafetensors). */
function parseHeader(bytes: Uint8Array): { header: Record<string, any>; dataStart: number; headerLen: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  return { header, dataStart: 8 + headerLen, headerLen };
}

function bitsEqual(a: Vec, b: Vec, name: string): void {
  assert.ok(a instanceof Float32Array && b instanceof Float32Array, `${name}: not Float32Array`);
  assert.strictEqual(a.length, b.length, `${name}: length`);
  assert.deepStrictEqual(new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length), `${name}: bits differ`);
}

function fullCheckpoint(config: ModelConfig, seed = 1): ModelCheckpoint {
  return {
    config,
    params: initParams(config, seed),
    tokenizer: { kind: 'bpe', vocab: ['a', 'b', '\n', '"', '\u00e9', '\ud83d\ude00'], merges: [['a', 'b']], unk: null },
    step: 1234,
    optim: { learningRate: 0.002, beta1: 0.9, seqLen: 64, batchSize: 16, nested: { clip: 5 } },
    history: [
      { step: 0, trainLoss: 4.25, valBpc: 3.5, time: 1700000000000 },
      { step: 10, trainLoss: 3.9 },
      { step: 20, valBpc: 2.75 },
    ],
    extra: { note: 'trained on \u00e9t\u00e9 \u2713', corpusHash: 'abc123' },
  };
}

describe('safetensors format', () => {
  it('writes the layout of the spec: padded header, contiguous little-endian f32 in order', () => {
    const a = new Float32Array([1.5, -2, 3.25, 1e-30, 7, 8]);
    const b = new Float64Array([0.1, 1e300 / 1e300]); // f64 input is written as f32
    const bytes = encodeSafetensors([{ name: 'a', shape: [2, 3], data: a }, { name: 'b.x', shape: [2], data: b }], { k: 'v' });
    const { header, dataStart, headerLen } = parseHeader(bytes);
    assert.strictEqual(headerLen % 8, 0, 'header padded to 8 bytes');
    assert.deepStrictEqual(Object.keys(header), ['__metadata__', 'a', 'b.x']);
    assert.deepStrictEqual(header.__metadata__, { k: 'v' });
    assert.deepStrictEqual(header.a, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    assert.deepStrictEqual(header['b.x'], { dtype: 'F32', shape: [2], data_offsets: [24, 32] });
    assert.strictEqual(bytes.length, dataStart + 32);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    for (let i = 0; i < 6; i++) assert.strictEqual(view.getFloat32(dataStart + 4 * i, true), a[i]);
    assert.strictEqual(view.getFloat32(dataStart + 24, true), Math.fround(0.1));
    // no metadata -> no __metadata__ key, as PyTorch's writer
    assert.deepStrictEqual(Object.keys(parseHeader(encodeSafetensors([{ name: 'a', shape: [6], data: a }], {})).header), ['a']);
  });

  it('reads tensors at unaligned offsets from a view into a larger buffer', () => {
    const data = new Float32Array([1, 2, 3, -4.5]);
    // 'a' holds one byte (shape [0] needs none) so 'b' starts at offset 1
    const file = rawFile({ a: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, b: { dtype: 'F32', shape: [4], data_offsets: [1, 17] } },
      new Uint8Array([9, ...f32bytes([...data])]));
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    const out = decodeSafetensors(big.subarray(3));
    bitsEqual(out.tensors.get('b')!.data, data, 'b');
    assert.deepStrictEqual(out.tensors.get('a')!.shape, [0]);
    assert.deepStrictEqual(out.metadata, {});
  });

  it('refuses to write what it could not read back', () => {
    rejects(() => encodeSafetensors([{ name: 'w', shape: [2], data: new Float32Array([1, NaN]) }], {}), /"w" contains NaN/);
    rejects(() => encodeSafetensors([{ name: 'w', shape: [1], data: new Float64Array([1e300]) }], {}), /"w" contains Infinity/);
    rejects(() => encodeSafetensors([{ name: 'w', shape: [3], data: new Float32Array(2) }], {}), /shape \[3\].*2 values/);
    rejects(() => encodeSafetensors([{ name: 'w', shape: [1], data: new Float32Array(1) }, { name: 'w', shape: [1], data: new Float32Array(1) }], {}), /twice/);
    rejects(() => encodeSafetensors([], { k: 5 as unknown as string }), /not a string/);
  });

  it('rejects duplicate keys that JSON.parse would silently merge', () => {
    const t = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    rejects(() => decodeSafetensors(rawFile(`{"w":${t},"w":${t}}`, f32bytes([1]))), /"w" twice/);
    rejects(() => decodeSafetensors(rawFile(`{"__metadata__":{"a":"1","\\u0061":"2"},"w":${t}}`, f32bytes([1]))), /"a" twice/);
    // same key in different objects and key-like strings in values are fine
    const ok = decodeSafetensors(rawFile(`{"__metadata__":{"w":"\\"w\\":"},"w":${t}}`, f32bytes([1])));
    assert.deepStrictEqual(ok.metadata, { w: '"w":' });
  });

  it('survives random corruption and every truncation: a GateScopeError or a valid result, never a crash', () => {
    const good = encodeCheckpoint(fullCheckpoint(cfg('gru', { numLayers: 1, hiddenSize: 3, vocabSize: 4, embedSize: 2 })));
    const rng = new Rng(7);
    let errors = 0;
    const attempt = (bytes: Uint8Array) => {
      try {
        decodeCheckpoint(bytes);
      } catch (e) {
        assert.ok(e instanceof GateScopeError, `not a GateScopeError: ${(e as Error).stack}`);
        errors++;
      }
    };
    for (let n = 0; n < good.length; n++) attempt(good.subarray(0, n));
    assert.strictEqual(errors, good.length, 'every truncated file is rejected');
    const { dataStart } = parseHeader(good);
    for (let trial = 0; trial < 2000; trial++) {
      const bad = good.slice();
      const flips = 1 + Math.floor(rng.uniform(0, 4));
      for (let f = 0; f < flips; f++) {
        // mostly in the header, where the structure is
        const pos = rng.uniform(0, 1) < 0.8 ? Math.floor(rng.uniform(0, dataStart)) : Math.floor(rng.uniform(0, bad.length));
        bad[pos] = Math.floor(rng.uniform(0, 256));
      }
      attempt(bad);
    }
  });
});

describe('model checkpoint', () => {
  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    it(`round-trips a 2-layer ${cell}: bitwise tensors, config, tokenizer, step, optim, history, extras`, () => {
      const ck = fullCheckpoint(cfg(cell));
      const back = decodeCheckpoint(encodeCheckpoint(ck));
      assert.deepStrictEqual(back.config, ck.config);
      assert.deepStrictEqual([...back.params.keys()], paramSpecs(ck.config).map((s) => s.name));
      for (const [name, data] of ck.params) {
        const got = back.params.get(name)!;
        assert.ok(got instanceof Float32Array, `${name} is a Float32Array`);
        bitsEqual(got, data as Float32Array, name);
      }
      assert.deepStrictEqual(back.tokenizer, ck.tokenizer);
      assert.strictEqual(back.step, 1234);
      assert.deepStrictEqual(back.optim, ck.optim);
      assert.deepStrictEqual(back.history, ck.history);
      assert.deepStrictEqual(back.extra, ck.extra);
      // the file's metadata is what the design says, readable by any safetensors reader
      const md = parseHeader(encodeCheckpoint(ck)).header.__metadata__;
      assert.strictEqual(md.format, CHECKPOINT_FORMAT);
      assert.deepStrictEqual(JSON.parse(md.config), ck.config);
      assert.strictEqual(md.step, '1234');
    });
  }

  it('round-trips a minimal checkpoint and float64 params (rounded to float32)', () => {
    const config = cfg('lstm', { numLayers: 1 });
    const params = initParams(config, 3, 'f64');
    const back = decodeCheckpoint(encodeCheckpoint({ config, params, step: 0 }));
    assert.deepStrictEqual(Object.keys(back).sort(), ['config', 'params', 'step']);
    for (const [name, data] of params) bitsEqual(back.params.get(name)!, Float32Array.from(data), name);
  });

  it('stores non-finite history losses as absent and thins over-long histories', () => {
    const config = cfg('rnn', { numLayers: 1 });
    const history = [{ step: 0, trainLoss: NaN, valBpc: 2 }];
    const back = decodeCheckpoint(encodeCheckpoint({ config, params: initParams(config, 1), step: 1, history }));
    assert.deepStrictEqual(back.history, [{ step: 0, valBpc: 2 }]);
    const long = Array.from({ length: 250_000 }, (_, i) => ({ step: i, trainLoss: 1 }));
    const thin = decodeCheckpoint(encodeCheckpoint({ config, params: initParams(config, 1), step: 1, history: long })).history!;
    assert.strictEqual(thin.length, 100_000);
    assert.strictEqual(thin[0].step, 0);
    assert.strictEqual(thin[thin.length - 1].step, 249_999);
  });

  it('refuses to save an inconsistent checkpoint', () => {
    const config = cfg('gru');
    const params = initParams(config, 1);
    rejects(() => encodeCheckpoint({ config, params, step: 1, extra: { step: '5' } }), /extra key "step" is reserved/);
    rejects(() => encodeCheckpoint({ config, params, step: -1 }), /step -1/);
    const missing = new Map(params);
    missing.delete('decoder.bias');
    rejects(() => encodeCheckpoint({ config, params: missing, step: 1 }), /"decoder.bias" is missing/);
    rejects(() => encodeCheckpoint({ config: cfg('lstm'), params, step: 1 }), /"rnn.weight_ih_l0" has \d+ values/);
    const nan = new Map(params);
    nan.set('decoder.bias', new Float32Array(11).fill(NaN));
    rejects(() => encodeCheckpoint({ config, params: nan, step: 1 }), /"decoder.bias" contains NaN/);
  });

  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    it(`loads a ${cell} state dict without metadata (as PyTorch writes it) with the inferred config`, () => {
      const config = cfg(cell, { numLayers: 3, dropout: 0 });
      const params = initParams(config, 5);
      const tensors = paramSpecs(config).map((s) => ({ name: s.name, shape: s.shape, data: params.get(s.name)! }));
      tensors.reverse(); // order in the file does not matter
      for (const md of [{}, { format: 'pt' }] as Record<string, string>[]) {
        const back = decodeCheckpoint(encodeSafetensors(tensors, md));
        assert.deepStrictEqual(back.config, config);
        assert.strictEqual(back.step, 0);
        assert.strictEqual(back.extra, undefined);
        for (const [name, data] of params) bitsEqual(back.params.get(name)!, data as Float32Array, name);
      }
    });
  }

  it('explains state dicts it cannot infer a model from', () => {
    const shapes = (o: Record<string, number[]>) => new Map(Object.entries(o).map(([k, shape]) => [k, { shape }]));
    const base = { 'embedding.weight': [10, 4], 'rnn.weight_ih_l0': [12, 4], 'rnn.weight_hh_l0': [12, 6], 'decoder.weight': [10, 6] };
    rejects(() => inferConfigFromTensors(shapes({ 'encoder.weight': [10, 4] })), /no "embedding.weight" tensor \(found "encoder.weight"\)/);
    rejects(() => inferConfigFromTensors(shapes(base)), /\[12, 6\].*not an LSTM \(4 gates\), GRU \(3\) or RNN \(1\)/);
    const { 'decoder.weight': _d, ...noDecoder } = base;
    rejects(() => inferConfigFromTensors(shapes(noDecoder)), /no "decoder.weight"/);
    const gru = { ...base, 'rnn.weight_ih_l0': [18, 4], 'rnn.weight_hh_l0': [18, 6] };
    assert.deepStrictEqual(inferConfigFromTensors(shapes(gru)),
      { cell: 'gru', vocabSize: 10, embedSize: 4, hiddenSize: 6, numLayers: 1, dropout: 0 });
    rejects(() => inferConfigFromTensors(shapes({ ...gru, 'rnn.weight_ih_l2': [18, 6] })), /without gaps.*"rnn.weight_ih_l2"/);
    rejects(() => inferConfigFromTensors(shapes({ ...gru, 'rnn.weight_ih_l0_reverse': [18, 4] })), /bidirectional/);
  });

  describe('hostile and broken files', () => {
    const config = cfg('lstm');
    const good = encodeCheckpoint(fullCheckpoint(config));
    const { header: goodHeader, dataStart } = parseHeader(good);
    const goodData = good.subarray(dataStart);
    /** The good file with its header edited. */
    const edit = (f: (h: Record<string, any>) => void, data = goodData) => {
      const h = JSON.parse(JSON.stringify(goodHeader));
      f(h);
      return rawFile(h, data);
    };
    const one = (entry: object, data = f32bytes([1, 2, 3])) => rawFile({ t: entry }, data);
    const dec = (b: Uint8Array) => () => decodeCheckpoint(b, 'checkpoint model.safetensors');

    it('accepts the unedited file (so the edits below are what is rejected)', () => {
      assert.strictEqual(decodeCheckpoint(edit(() => undefined)).step, 1234);
    });
    it('empty file', () => rejects(dec(new Uint8Array(0)), /^checkpoint model\.safetensors: the file is empty$/));
    it('7 bytes', () => rejects(dec(new Uint8Array(7)), /only 7 bytes, too short/));
    it('header length larger than the file', () => rejects(dec(rawFile('{}', new Uint8Array(4), 1000n)), /header length 1000 is larger than the rest of the file \(6 bytes\)/));
    it('header length 2^53', () => rejects(dec(rawFile('{}', new Uint8Array(0), 2n ** 53n)), /header length 9007199254740992 is over the 100000000-byte limit/));
    it('header length 2^64-1', () => rejects(dec(rawFile('{}', new Uint8Array(0), 2n ** 64n - 1n)), /over the 100000000-byte limit/));
    it('header not UTF-8', () => rejects(dec(rawFile('{"ab":1}').map((b, i) => (i === 10 ? 0xff : b))), /not valid UTF-8/));
    it('header not JSON', () => rejects(dec(rawFile('{"a": [1, 2}')), /header is not valid JSON/));
    it('header length zero', () => rejects(dec(rawFile('')), /header is not valid JSON/));
    it('header JSON an array', () => rejects(dec(rawFile('[1, 2]')), /header must be a JSON object, found an array/));
    it('header JSON null', () => rejects(dec(rawFile('null')), /header must be a JSON object, found null/));
    it('tensor entry not an object', () => rejects(dec(rawFile({ t: [1, 2] })), /tensor "t": the entry must be an object/));
    it('dtype F16', () => rejects(dec(one({ dtype: 'F16', shape: [3], data_offsets: [0, 6] })), /"t" has dtype F16; GateScope reads float32 .*tensor\.float\(\)/));
    it('dtype I64', () => rejects(dec(one({ dtype: 'I64', shape: [1], data_offsets: [0, 8] })), /"t" has dtype I64; GateScope reads float32/));
    it('dtype missing', () => rejects(dec(one({ shape: [3], data_offsets: [0, 12] })), /"t" has no valid dtype/));
    it('offsets out of range', () => rejects(dec(one({ dtype: 'F32', shape: [4], data_offsets: [0, 16] })), /data_offsets \[0, 16\] run past the end of the data \(12 bytes\)/));
    it('offsets reversed', () => rejects(dec(one({ dtype: 'F32', shape: [1], data_offsets: [8, 4] })), /\[8, 4\] are reversed/));
    it('offsets not two integers', () => {
      rejects(dec(one({ dtype: 'F32', shape: [1], data_offsets: [0.5, 4.5] })), /data_offsets must be two non-negative whole numbers/);
      rejects(dec(one({ dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] })), /data_offsets must be two/);
      rejects(dec(one({ dtype: 'F32', shape: [1], data_offsets: ['0', '4'] })), /data_offsets must be two/);
      rejects(dec(one({ dtype: 'F32', shape: [1], data_offsets: [-4, 0] })), /data_offsets must be two/);
    });
    it('size disagreeing with shape', () => rejects(dec(one({ dtype: 'F32', shape: [2], data_offsets: [0, 12] })), /hold 12 bytes but shape \[2\] needs 8/));
    it('overlapping tensors', () => rejects(dec(rawFile({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, f32bytes([1, 2, 3]))), /"a" \[0, 8\] and "b" \[4, 12\] overlap/));
    it('a shape claiming 10^12 elements is refused before any allocation', () => {
      rejects(dec(one({ dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 4e12] })), /more than 2147483648 elements/);
      rejects(dec(one({ dtype: 'F32', shape: [2 ** 40, 0], data_offsets: [0, 0] })), /more than 2147483648 elements/);
      rejects(dec(one({ dtype: 'F32', shape: new Array(100).fill(1), data_offsets: [0, 4] })), /at most 16 sizes/);
    });
    it('negative or fractional dims', () => {
      rejects(dec(one({ dtype: 'F32', shape: [-1, -3], data_offsets: [0, 12] })), /must hold non-negative whole numbers, found -1/);
      rejects(dec(one({ dtype: 'F32', shape: [1.5, 2], data_offsets: [0, 12] })), /found 1\.5/);
      rejects(dec(one({ dtype: 'F32', shape: '3', data_offsets: [0, 12] })), /shape must be an array/);
    });
    it('shapes that disagree with the metadata config', () => {
      const other = encodeCheckpoint(fullCheckpoint(cfg('lstm', { hiddenSize: 8 })));
      const { header } = parseHeader(other);
      // tensors of the hidden-8 model, metadata claiming the hidden-7 model
      header.__metadata__ = goodHeader.__metadata__;
      rejects(dec(rawFile(header, other.subarray(parseHeader(other).dataStart))),
        /"rnn\.weight_ih_l0" has shape \[32, 5\] but a 2-layer lstm with hidden size 7.* needs \[28, 5\]; the tensors look like a 2-layer lstm with hidden size 8/);
      // a GRU's tensors under an LSTM config: different names are fine, the shapes are not
      const gru = encodeCheckpoint(fullCheckpoint(cfg('gru')));
      const g = parseHeader(gru);
      g.header.__metadata__ = goodHeader.__metadata__;
      rejects(dec(rawFile(g.header, gru.subarray(g.dataStart))), /needs \[28, 5\]; the tensors look like a 2-layer gru/);
    });
    it('missing tensor', () => rejects(dec(edit((h) => delete h['decoder.bias'])), /missing tensors "decoder\.bias" for a 2-layer lstm/));
    it('extra tensor', () => rejects(dec(edit((h) => (h.extra = { dtype: 'F32', shape: [0], data_offsets: [0, 0] }))), /unexpected tensors "extra"/));
    it('NaN or infinity in a weight', () => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const b = good.slice();
        const [begin] = goodHeader['rnn.weight_hh_l1'].data_offsets;
        new DataView(b.buffer).setFloat32(dataStart + begin + 8, bad, true);
        rejects(dec(b), new RegExp(`tensor "rnn\\.weight_hh_l1" contains ${bad} at index 2`));
      }
    });
    it('truncated file (a valid file cut in half)', () => rejects(dec(good.subarray(0, good.length >> 1)), /truncated/));
    it('truncated by one byte', () => rejects(dec(good.subarray(0, good.length - 1)), /"decoder\.bias".*run past the end of the data/));
    it('metadata value not a string', () => rejects(dec(edit((h) => (h.__metadata__.step = 1234))), /metadata value "step" must be a string, found number/));
    it('metadata not an object', () => rejects(dec(edit((h) => (h.__metadata__ = ['a']))), /"__metadata__" must be an object/));
    it('format gatescope/999', () => rejects(dec(edit((h) => (h.__metadata__.format = 'gatescope/999'))), /format "gatescope\/999" is not gatescope\/1; .*newer GateScope/));
    it('bad config metadata', () => {
      rejects(dec(edit((h) => delete h.__metadata__.config)), /metadata has no "config"/);
      rejects(dec(edit((h) => (h.__metadata__.config = '{"cell":'))), /metadata "config" is not valid JSON/);
      rejects(dec(edit((h) => (h.__metadata__.config = JSON.stringify({ ...config, cell: 'transformer' })))), /architecture must be one of/);
      rejects(dec(edit((h) => (h.__metadata__.config = JSON.stringify({ ...config, vocabSize: 1e9 })))), /vocabulary size must be between/);
      rejects(dec(edit((h) => (h.__metadata__.config = JSON.stringify({ ...config, bidirectional: true })))), /unknown fields "bidirectional"/);
    });
    it('bad step, history, optim, tokenizer metadata', () => {
      for (const step of ['-1', '1.5', 'abc', '', '99999999999999999999', ' 1']) {
        rejects(dec(edit((h) => (h.__metadata__.step = step))), /metadata "step" must be a non-negative whole number/);
      }
      rejects(dec(edit((h) => delete h.__metadata__.step)), /no "step"/);
      rejects(dec(edit((h) => (h.__metadata__.history = '{"step":1}'))), /"history" must be a JSON array/);
      rejects(dec(edit((h) => (h.__metadata__.history = '[1]'))), /history point 0 must be an object/);
      rejects(dec(edit((h) => (h.__metadata__.history = '[{"step":-5}]'))), /history point 0 has step -5/);
      rejects(dec(edit((h) => (h.__metadata__.history = '[{"step":1,"trainLoss":"x"}]'))), /trainLoss "x", not a number/);
      rejects(dec(edit((h) => (h.__metadata__.history = JSON.stringify(new Array(100_001).fill({ step: 1 }))))), /100001 points, more than the 100000 allowed/);
      rejects(dec(edit((h) => (h.__metadata__.optim = '[1]'))), /"optim" must be a JSON object/);
      rejects(dec(edit((h) => (h.__metadata__.tokenizer = '{oops'))), /metadata "tokenizer" is not valid JSON/);
    });
  });
});

describe('optimizer state', () => {
  const config = cfg('gru');
  const state = () => {
    const m = initParams(config, 11);
    const v: ParamMap = new Map([...initParams(config, 12)].map(([k, a]) => [k, a.map(Math.abs)]));
    return { step: 77, m, v };
  };

  it('round-trips bitwise with the PyTorch-style names', () => {
    const s = state();
    const bytes = encodeOptimizerState(s);
    const names = Object.keys(parseHeader(bytes).header);
    assert.ok(names.includes('exp_avg.rnn.weight_hh_l1') && names.includes('exp_avg_sq.decoder.bias'));
    const back = decodeOptimizerState(bytes, config);
    assert.strictEqual(back.step, 77);
    for (const [name, a] of s.m) bitsEqual(back.m.get(name)!, a as Float32Array, `m ${name}`);
    for (const [name, a] of s.v) bitsEqual(back.v.get(name)!, a as Float32Array, `v ${name}`);
  });

  it('rejects state that belongs to another model, or is corrupt', () => {
    const bytes = encodeOptimizerState(state());
    rejects(() => decodeOptimizerState(bytes, cfg('gru', { numLayers: 1 }), 'optimizer model.adam.safetensors'),
      /^optimizer model\.adam\.safetensors: unexpected tensors "exp_avg\.rnn\.weight_ih_l1".*another model/);
    rejects(() => decodeOptimizerState(bytes, cfg('gru', { hiddenSize: 8 })), /"exp_avg\.embedding\.weight"|has shape \[\d+\] but the parameter has shape/);
    rejects(() => decodeOptimizerState(bytes, cfg('lstm')), /"exp_avg\.rnn\.weight_ih_l0" has shape \[105\] but the parameter has shape \[28, 5\]/);
    rejects(() => decodeOptimizerState(encodeCheckpoint(fullCheckpoint(config)), config), /missing tensors "exp_avg\.embedding\.weight"/);
    const s = state();
    s.v.get('decoder.bias')![3] = -1;
    rejects(() => decodeOptimizerState(encodeOptimizerState(s), config), /"exp_avg_sq\.decoder\.bias" has a negative value at index 3/);
    const s2 = state();
    s2.v.delete('decoder.bias');
    rejects(() => encodeOptimizerState(s2), /different parameters/);
    const params = initParams(config, 1);
    const noFormat = encodeSafetensors([...params].map(([k, d]) => ({ name: `exp_avg.${k}`, shape: [d.length], data: d })), {});
    rejects(() => decodeOptimizerState(noFormat, config), /format null is not gatescope\/1/);
  });
});

describe('atomicWriteFile and readFileLimited', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-ck-'));
  });
  afterEach(() => {
    fs.chmodSync(dir, 0o755);
    for (const e of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, e), 0o755);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const variants = [
    { name: 'async', write: (p: string, d: Uint8Array | string) => atomicWriteFile(p, d) },
    { name: 'sync', write: async (p: string, d: Uint8Array | string) => atomicWriteFileSync(p, d) },
  ];
  const throwsAsync = async (p: Promise<unknown>): Promise<NodeJS.ErrnoException> => {
    try {
      await p;
    } catch (e) {
      return e as NodeJS.ErrnoException;
    }
    return assert.fail('expected the write to fail');
  };

  for (const { name, write } of variants) {
    it(`${name}: writes bytes and strings, creates the folder, replaces the file, leaves no temp file`, async () => {
      const target = path.join(dir, 'sub', 'deeper', 'model.safetensors');
      const bytes = new Uint8Array(100_000).map((_, i) => i * 7);
      await write(target, bytes);
      assert.deepStrictEqual(new Uint8Array(fs.readFileSync(target)), bytes);
      await write(target, 'second \u2713');
      assert.strictEqual(fs.readFileSync(target, 'utf8'), 'second \u2713');
      assert.deepStrictEqual(fs.readdirSync(path.dirname(target)), ['model.safetensors']);
    });

    it(`${name}: fails cleanly when the parent path is a regular file`, async () => {
      const blocker = path.join(dir, 'not-a-dir');
      fs.writeFileSync(blocker, 'original');
      const err = await throwsAsync(write(path.join(blocker, 'model.safetensors'), 'new'));
      assert.match(String(err.code), /ENOTDIR|EEXIST/);
      assert.strictEqual(fs.readFileSync(blocker, 'utf8'), 'original');
      assert.deepStrictEqual(fs.readdirSync(dir), ['not-a-dir']);
    });

    it(`${name}: when the rename fails after writing, removes the temp file and keeps the target`, async () => {
      const target = path.join(dir, 'model.safetensors');
      fs.mkdirSync(target); // a non-empty directory cannot be replaced by a file
      fs.writeFileSync(path.join(target, 'keep'), 'original');
      await throwsAsync(write(target, new Uint8Array(1000)));
      assert.deepStrictEqual(fs.readdirSync(dir), ['model.safetensors']);
      assert.strictEqual(fs.readFileSync(path.join(target, 'keep'), 'utf8'), 'original');
    });
  }

  it('readFileLimited reads files up to the limit and refuses larger ones, directories and missing files', async () => {
    const file = path.join(dir, 'f.bin');
    fs.writeFileSync(file, new Uint8Array([1, 2, 3, 4, 5]));
    assert.deepStrictEqual([...(await readFileLimited(file, 5))], [1, 2, 3, 4, 5]);
    assert.deepStrictEqual([...readFileLimitedSync(file, 5)], [1, 2, 3, 4, 5]);
    await assert.rejects(readFileLimited(file, 4), (e: unknown) => e instanceof GateScopeError && /over the .* limit/.test(e.message));
    rejects(() => readFileLimitedSync(file, 4), /f\.bin is 5 bytes, over the 4-byte limit/);
    await assert.rejects(readFileLimited(dir, 1e9), (e: unknown) => e instanceof GateScopeError && /not a regular file/.test(e.message));
    rejects(() => readFileLimitedSync(dir, 1e9), /not a regular file/);
    await assert.rejects(readFileLimited(path.join(dir, 'none'), 10), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    // a checkpoint written atomically reads back through the limit
    const config = cfg('rnn');
    const ck = fullCheckpoint(config);
    await atomicWriteFile(path.join(dir, 'model.safetensors'), encodeCheckpoint(ck));
    const back = decodeCheckpoint(await readFileLimited(path.join(dir, 'model.safetensors'), 1e8));
    assert.deepStrictEqual(back.history, ck.history);
  });
});
