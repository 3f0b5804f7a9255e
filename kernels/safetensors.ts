// The safetensors byte format (https://github.com/huggingface/safetensors), float32 only:
//   [8-byte little-endian header length N][N bytes of UTF-8 JSON header][data region]
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the
// data region) and may hold "__metadata__": {string: string}. Pure functions on Uint8Array, no Node
// imports: the same code reads checkpoints in the extension host and in the webview.
//
// The reader treats the file as hostile: every length, offset, shape and dtype is checked before any
// tensor data is read or any tensor-sized buffer is allocated, and every problem is a one-line
// GateScopeError, never a RangeError or a huge allocation.

import { GateScopeError } from './errors';

export interface SafetensorsInput {
  name: string;
  shape: number[];
  data: Float32Array | Float64Array;
}

export interface SafetensorsTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

/** Largest header we read (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;
/** Largest element count of one tensor (8 GiB of float32): no model GateScope trains comes close. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31;
/** Most dimensions a tensor may have. */
export const MAX_RANK = 16;

const METADATA_KEY = '__metadata__';

let endianChecked = false;
/** Tensor bytes are copied with typed-array views, which use the host's byte order: require little-endian. */
function assertLittleEndian(): void {
  if (endianChecked) return;
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new GateScopeError('GateScope reads and writes checkpoints only on little-endian CPUs');
  }
  endianChecked = true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Lists at most `max` names for a message. */
export function listNames(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n)).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

export function encodeSafetensors(tensors: SafetensorsInput[], metadata: Record<string, string>): Uint8Array {
  assertLittleEndian();
  const fail: (m: string) => never = (m) => {
    throw new GateScopeError(`cannot save tensors: ${m}`);
  };
  const header: Record<string, unknown> = {};
  const metaKeys = Object.keys(metadata);
  if (metaKeys.length > 0) {
    for (const k of metaKeys) {
      if (typeof metadata[k] !== 'string') fail(`metadata value ${JSON.stringify(k)} is a ${typeof metadata[k]}, not a string`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  const seen = new Set<string>();
  const converted: Float32Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY || t.name === '') fail(`${JSON.stringify(t.name)} is not a valid tensor name`);
    if (seen.has(t.name)) fail(`tensor ${JSON.stringify(t.name)} is listed twice`);
    seen.add(t.name);
    let n = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) fail(`tensor ${JSON.stringify(t.name)} has an invalid shape ${JSON.stringify(t.shape)}`);
      n *= d;
    }
    if (n !== t.data.length) fail(`tensor ${JSON.stringify(t.name)} has shape ${JSON.stringify(t.shape)} (${n} values) but ${t.data.length} values`);
    const f32 = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    // A file we write must be one we can read back: refuse NaN/Inf (a diverged model) here, so the
    // previous good checkpoint is kept rather than replaced by a corrupt one.
    for (let i = 0; i < f32.length; i++) {
      const x = f32[i];
      if (x - x !== 0) fail(`tensor ${JSON.stringify(t.name)} contains ${x} at index ${i} (the model has diverged; lower the learning rate)`);
    }
    converted.push(f32);
    header[t.name] = { dtype: 'F32', shape: t.shape.slice(), data_offsets: [offset, offset + f32.byteLength] };
    offset += f32.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces to a multiple of 8 bytes, as the reference implementation does, so the
  // data region is 8-byte aligned when the file is loaded at an aligned address.
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const f32 of converted) {
    out.set(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength), pos);
    pos += f32.byteLength;
  }
  return out;
}

/**
 * Returns the first key that appears twice in one object of `text`, which must be valid JSON
 * (JSON.parse silently keeps the last of duplicate keys, so a file could show one tensor to us and
 * another to a different reader). A linear scan: strings are skipped whole, and inside an object a
 * string followed by ':' is a key.
 */
function findDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (text.charCodeAt(j) !== 0x22) {
        if (text.charCodeAt(j) === 0x5c /* \ */) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const keys = stack[stack.length - 1];
      if (keys) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k])) k++;
        if (text.charCodeAt(k) === 0x3a /* : */) {
          const key: string = escaped ? JSON.parse(text.slice(i, j + 1)) : text.slice(i + 1, j);
          if (keys.has(key)) return key;
          keys.add(key);
        }
      }
      i = j + 1;
    } else {
      if (c === 0x7b /* { */) stack.push(new Set());
      else if (c === 0x5b /* [ */) stack.push(null);
      else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
      i++;
    }
  }
  return undefined;
}

interface Entry {
  name: string;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

export function decodeSafetensors(bytes: Uint8Array, opts: { what?: string } = {}): SafetensorsFile {
  assertLittleEndian();
  const prefix = opts.what ? `${opts.what}: ` : '';
  const fail: (m: string) => never = (m) => {
    throw new GateScopeError(prefix + m);
  };

  if (bytes.length === 0) fail('the file is empty');
  if (bytes.length < 8) fail(`the file is only ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo; // exact up to 2^53; anything that large is rejected below anyway
  if (headerLen > MAX_HEADER_BYTES) {
    fail(`header length ${headerLen} is over the ${MAX_HEADER_BYTES}-byte limit; this is not a safetensors file or it is corrupt`);
  }
  if (headerLen > bytes.length - 8) {
    fail(`header length ${headerLen} is larger than the rest of the file (${bytes.length - 8} bytes); the file is truncated or not a safetensors file`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    return fail('the header is not valid UTF-8; this is not a safetensors file or it is corrupt');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message}); this is not a safetensors file or it is corrupt`);
  }
  if (!isPlainObject(header)) {
    fail(`the header must be a JSON object, found ${Array.isArray(header) ? 'an array' : header === null ? 'null' : typeof header}`);
  }
  const h = header as Record<string, unknown>;
  const dup = findDuplicateKey(text);
  if (dup !== undefined) fail(`the header lists the key ${JSON.stringify(dup)} twice`);

  // Metadata: strings only.
  const metaEntries: [string, string][] = [];
  if (Object.hasOwn(h, METADATA_KEY)) {
    const meta = h[METADATA_KEY];
    if (!isPlainObject(meta)) fail('"__metadata__" must be an object of strings');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`metadata value ${JSON.stringify(k)} must be a string, found ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
      metaEntries.push([k, v as string]);
    }
  }

  // Tensor entries: dtype, shape, offsets; all checked before anything is allocated.
  const entries: Entry[] = [];
  for (const name of Object.keys(h)) {
    if (name === METADATA_KEY) continue;
    const t = h[name];
    const tn = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(t)) fail(`${tn}: the entry must be an object with dtype, shape and data_offsets`);
    const e = t as Record<string, unknown>;
    if (e.dtype !== 'F32') {
      fail(typeof e.dtype === 'string'
        ? `${tn} has dtype ${e.dtype}; GateScope reads float32 (F32) tensors only: convert it before saving, e.g. with tensor.float()`
        : `${tn} has no valid dtype (found ${JSON.stringify(e.dtype) ?? 'nothing'})`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.length > MAX_RANK) {
      fail(`${tn}: shape must be an array of at most ${MAX_RANK} sizes, found ${JSON.stringify(shape)?.slice(0, 80) ?? 'nothing'}`);
    }
    let count = 1;
    for (const d of shape as unknown[]) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        fail(`${tn}: shape ${JSON.stringify(shape)} must hold non-negative whole numbers, found ${JSON.stringify(d)}`);
      }
      count *= d as number;
      if ((d as number) > MAX_TENSOR_ELEMENTS || count > MAX_TENSOR_ELEMENTS) {
        fail(`${tn}: shape ${JSON.stringify(shape)} has more than ${MAX_TENSOR_ELEMENTS} elements; the file is corrupt or not a GateScope model`);
      }
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
      fail(`${tn}: data_offsets must be two non-negative whole numbers [begin, end], found ${JSON.stringify(offs)?.slice(0, 80) ?? 'nothing'}`);
    }
    const [begin, end] = offs as number[];
    if (begin > end) fail(`${tn}: data_offsets [${begin}, ${end}] are reversed (begin after end)`);
    if (end > dataLen) {
      fail(`${tn}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes); the file is truncated or corrupt`);
    }
    if (end - begin !== count * 4) {
      fail(`${tn}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${JSON.stringify(shape)} needs ${count * 4}`);
    }
    entries.push({ name, shape: (shape as number[]).slice(), count, begin, end });
  }

  // No two tensors may share bytes. Gaps and trailing bytes are tolerated (harmless: every byte of the
  // file has been read already), overlap is not: it means a corrupt or crafted file.
  const byStart = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < byStart.length; i++) {
    const a = byStart[i - 1];
    const b = byStart[i];
    if (b.begin < a.end) {
      fail(`tensors ${JSON.stringify(a.name)} [${a.begin}, ${a.end}] and ${JSON.stringify(b.name)} [${b.begin}, ${b.end}] overlap; the file is corrupt`);
    }
  }

  // Everything checked: copy into fresh, aligned arrays (offsets in the file need not be 4-aligned).
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const data = new Float32Array(e.count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (x - x !== 0) fail(`tensor ${JSON.stringify(e.name)} contains ${x} at index ${i}; the weights are corrupt (a model that diverged?)`);
    }
    tensors.set(e.name, { shape: e.shape, data });
  }
  // Object.fromEntries defines own properties, so a key such as "__proto__" stays plain data.
  return { metadata: Object.fromEntries(metaEntries), tensors };
}
