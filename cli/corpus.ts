// Reads a folder into one training text for the CLI: walks it in sorted order, skips what is not
// source text (binary files, invalid UTF-8, node_modules, .git, build output, lock files, likely
// secrets, files over the size limit) and says what it skipped and why.

import * as fs from 'fs';
import * as path from 'path';
import { GateScopeError, check } from '../kernels/errors';

export interface CorpusOptions {
  /** Skip files larger than this (bytes). They are never read. */
  maxFileBytes: number;
  /** Stop adding files once the text reaches this many bytes. */
  maxCorpusBytes: number;
}

export const DEFAULT_CORPUS_OPTIONS: CorpusOptions = { maxFileBytes: 1_000_000, maxCorpusBytes: 50_000_000 };

export interface Skipped {
  path: string;
  reason: string;
}

export interface Corpus {
  text: string;
  files: string[];
  bytes: number;
  skipped: Skipped[];
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', 'dist', 'out', 'build', 'coverage', '.cache', '.gatescope', '__pycache__', '.venv', 'venv', '.next', 'target']);
const SKIP_FILES = new Set(['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'Cargo.lock', 'poetry.lock', 'composer.lock']);
/** Files that may hold credentials are never read. */
const SECRET = [/^\.env(\..*)?$/, /\.pem$/, /\.key$/, /^id_(rsa|dsa|ecdsa|ed25519)/, /\.p12$/, /\.pfx$/, /^credentials(\..*)?$/i, /^\.netrc$/, /^\.npmrc$/];
const BINARY_EXT = new Set(['.png', '.jpg', '.jpeg', '.gif', '.ico', '.pdf', '.zip', '.gz', '.tgz', '.xz', '.7z', '.wasm', '.so', '.dll', '.exe', '.bin', '.woff', '.woff2', '.ttf', '.otf', '.mp3', '.mp4', '.webm', '.safetensors', '.pt', '.onnx', '.vsix', '.class', '.jar', '.o', '.a', '.pyc']);

/** A file is binary if it has a NUL byte in its first 8 KiB (the test git and grep use). */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

export function skipReason(name: string, isDir: boolean): string | null {
  if (isDir) return SKIP_DIRS.has(name) ? 'excluded folder' : null;
  if (SKIP_FILES.has(name)) return 'lock file';
  if (SECRET.some((r) => r.test(name))) return 'may contain secrets';
  if (BINARY_EXT.has(path.extname(name).toLowerCase())) return 'binary file type';
  return null;
}

/** Reads every text file under `root` (sorted by relative path) into one text, files separated by a blank line. */
export function readCorpus(root: string, opts: CorpusOptions = DEFAULT_CORPUS_OPTIONS): Corpus {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new GateScopeError(`cannot read ${root}: no such file or folder`);
  }
  const files: { rel: string; abs: string; size: number }[] = [];
  const skipped: Skipped[] = [];
  if (st.isFile()) {
    files.push({ rel: path.basename(root), abs: root, size: st.size });
  } else {
    check(st.isDirectory(), `${root} is neither a file nor a folder`);
    const walk = (dir: string, rel: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        skipped.push({ path: rel || '.', reason: `unreadable folder (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
        return;
      }
      for (const e of entries) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        const abs = path.join(dir, e.name);
        if (e.isSymbolicLink()) continue; // never follow links out of the folder
        const why = skipReason(e.name, e.isDirectory());
        if (why) {
          if (why !== 'excluded folder') skipped.push({ path: r, reason: why });
          continue;
        }
        if (e.isDirectory()) walk(abs, r);
        else if (e.isFile()) {
          try {
            files.push({ rel: r, abs, size: fs.statSync(abs).size });
          } catch {
            skipped.push({ path: r, reason: 'unreadable' });
          }
        }
      }
    };
    walk(root, '');
  }
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parts: string[] = [];
  const taken: string[] = [];
  let bytes = 0;
  for (const f of files) {
    if (f.size > opts.maxFileBytes) {
      skipped.push({ path: f.rel, reason: `larger than ${formatBytes(opts.maxFileBytes)} (${formatBytes(f.size)})` });
      continue;
    }
    if (f.size === 0) continue;
    if (bytes + f.size > opts.maxCorpusBytes) {
      skipped.push({ path: f.rel, reason: `corpus limit of ${formatBytes(opts.maxCorpusBytes)} reached` });
      continue;
    }
    let data: Buffer;
    try {
      data = fs.readFileSync(f.abs);
    } catch (e) {
      skipped.push({ path: f.rel, reason: `unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    if (looksBinary(data)) {
      skipped.push({ path: f.rel, reason: 'binary' });
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      skipped.push({ path: f.rel, reason: 'not valid UTF-8' });
      continue;
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    parts.push(text.endsWith('\n') ? text : text + '\n');
    taken.push(f.rel);
    bytes += data.length;
  }
  return { text: parts.join('\n'), files: taken, bytes, skipped };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}
