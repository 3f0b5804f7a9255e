// Crash-safe file writes and size-limited reads for checkpoints (Node only).
// atomicWriteFile writes a temporary file beside the target, fsyncs it, renames it over the target
// and fsyncs the directory: a reader (or a crash, or a power cut) sees the old file or the new one,
// never half of one. On any failure the temporary file is removed and the target is untouched.
// Node's own errors (with their `code`, e.g. ENOENT, EACCES, ENOSPC) are passed through unchanged so
// callers can tell "no checkpoint yet" from other failures; size-limit refusals are GateScopeErrors.

import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { GateScopeError } from '../errors';

type Data = Uint8Array | string;

function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Errors that mean "this platform or filesystem cannot fsync a directory", not "the write failed". */
const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EACCES']);

/** On Windows a rename over a file that another process (indexer, antivirus) holds open fails briefly. */
const RENAME_RETRY = new Set(['EPERM', 'EACCES', 'EBUSY']);
const RENAME_TRIES = process.platform === 'win32' ? 8 : 1;

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export async function atomicWriteFile(target: string, data: Data): Promise<void> {
  const dir = path.dirname(target);
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = tempPathFor(target);
  let renamed = false;
  try {
    const fh = await fs.promises.open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await fs.promises.rename(tmp, target);
        break;
      } catch (e) {
        if (attempt >= RENAME_TRIES || !RENAME_RETRY.has(errCode(e) ?? '')) throw e;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
    renamed = true;
  } finally {
    if (!renamed) await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
  }
  await syncDir(dir);
}

export function atomicWriteFileSync(target: string, data: Data): void {
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(target);
  let renamed = false;
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        fs.renameSync(tmp, target);
        break;
      } catch (e) {
        if (attempt >= RENAME_TRIES || !RENAME_RETRY.has(errCode(e) ?? '')) throw e;
        sleepSync(20 * attempt);
      }
    }
    renamed = true;
  } finally {
    if (!renamed) {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // the original error matters more than a leftover temp file
      }
    }
  }
  syncDirSync(dir);
}

/** Makes the rename durable. Windows cannot open a directory for fsync (EISDIR/EPERM): skipped there. */
async function syncDir(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!DIR_SYNC_UNSUPPORTED.has(errCode(e) ?? '')) throw e;
  } finally {
    await fh?.close();
  }
}

function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    if (!DIR_SYNC_UNSUPPORTED.has(errCode(e) ?? '')) throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function checkStat(file: string, st: fs.Stats, maxBytes: number): fs.Stats {
  if (!st.isFile()) throw new GateScopeError(`${file} is not a regular file`);
  if (st.size > maxBytes) {
    const size = (n: number, unit: string) => (n < 1024 ** 2 ? `${n}${unit}` : `${(n / 1024 ** 2).toFixed(1)} MB`);
    throw new GateScopeError(`${file} is ${size(st.size, ' bytes')}, over the ${size(maxBytes, '-byte')} limit; it is not a GateScope file or the model is too large to load`);
  }
  return st;
}

/**
 * Reads a regular file of at most `maxBytes` bytes. The size is checked on the open file (fstat)
 * before anything is read, so a huge or hostile file is refused without allocating its size. Bytes
 * appended after the check are not read; a file that shrank comes back shorter (the format reader
 * then reports it as truncated).
 */
export async function readFileLimited(file: string, maxBytes: number): Promise<Uint8Array> {
  checkStat(file, await fs.promises.stat(file), maxBytes); // by path first: never open a FIFO or device
  const fh = await fs.promises.open(file, 'r');
  try {
    const st = checkStat(file, await fh.stat(), maxBytes); // again on the open file: it may have been replaced
    const buf = new Uint8Array(st.size);
    let pos = 0;
    while (pos < buf.length) {
      const { bytesRead } = await fh.read(buf, pos, buf.length - pos, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
    }
    return pos === buf.length ? buf : buf.subarray(0, pos);
  } finally {
    await fh.close();
  }
}

export function readFileLimitedSync(file: string, maxBytes: number): Uint8Array {
  checkStat(file, fs.statSync(file), maxBytes);
  const fd = fs.openSync(file, 'r');
  try {
    const st = checkStat(file, fs.fstatSync(fd), maxBytes);
    const buf = new Uint8Array(st.size);
    let pos = 0;
    while (pos < buf.length) {
      const n = fs.readSync(fd, buf, pos, buf.length - pos, pos);
      if (n === 0) break;
      pos += n;
    }
    return pos === buf.length ? buf : buf.subarray(0, pos);
  } finally {
    fs.closeSync(fd);
  }
}
