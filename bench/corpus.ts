/**
 * Fixed text corpus for benchmarks and the learning-parity run: the `.js` and `.md` files of
 * the npm package that ships with Node, concatenated in a fixed order, first ~1 MB.
 *
 * Recipe (so a reader can reproduce it): directory <node prefix>/lib/node_modules/npm (or
 * wherever `npm/package.json` resolves from that lib dir), walked recursively without following
 * symlinks; relative posix paths sorted by plain code-unit comparison; file bytes concatenated in
 * that order; the first `maxBytes` bytes kept, cut back to a UTF-8 character boundary.
 * The file count and sha256 are printed so everyone can check they used the same corpus
 * (it depends on the npm version bundled with the Node binary).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { createRequire } from 'module';

export interface CorpusInfo {
  path: string;
  bytes: number;
  /** Number of files that contributed bytes (the last one possibly truncated). */
  files: number;
  sha256: string;
}

/** Locates the npm package directory bundled with the running Node. */
export function findNpmDir(): string {
  const libDir = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules');
  const direct = path.join(libDir, 'npm');
  if (fs.existsSync(path.join(direct, 'package.json'))) return path.resolve(direct);
  try {
    const req = createRequire(path.join(libDir, 'noop.js'));
    const pkg = req.resolve('npm/package.json', { paths: [libDir] });
    return path.dirname(pkg);
  } catch {
    throw new Error(
      `npm package not found: looked for ${direct} and resolved 'npm/package.json' from ${libDir}. ` +
        'The corpus is built from the npm package bundled with Node (process.execPath).',
    );
  }
}

/** Relative posix paths of the .js and .md files under `root` (no symlinks followed), sorted by code units. */
export function listCorpusFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) walk(path.join(dir, ent.name), relPath);
      else if (ent.isFile() && (ent.name.endsWith('.js') || ent.name.endsWith('.md'))) out.push(relPath);
      // symlinks and other entries are skipped
    }
  };
  walk(root, '');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Largest n' <= n such that bytes[0, n') ends on a UTF-8 character boundary. */
function utf8Boundary(bytes: Uint8Array, n: number): number {
  if (n >= bytes.length) return bytes.length;
  let i = n;
  // bytes[i] is the first byte NOT kept; back up while it is a continuation byte (10xxxxxx).
  while (i > 0 && (bytes[i] & 0xc0) === 0x80) i--;
  return i;
}

export function buildNpmCorpus(outPath: string, maxBytes = 1_000_000): CorpusInfo {
  const root = findNpmDir();
  const files = listCorpusFiles(root);
  const chunks: Buffer[] = [];
  let total = 0;
  let used = 0;
  for (const rel of files) {
    if (total >= maxBytes) break;
    const buf = fs.readFileSync(path.join(root, ...rel.split('/')));
    if (buf.length === 0) continue;
    // Files are whole UTF-8 texts, so only a cut inside the last file needs the boundary fix.
    const take = buf.length <= maxBytes - total ? buf.length : utf8Boundary(buf, maxBytes - total);
    if (take > 0) {
      chunks.push(take === buf.length ? buf : buf.subarray(0, take));
      total += take;
      used++;
    }
    if (take < buf.length) break;
  }
  const data = Buffer.concat(chunks, total);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new Error('corpus is not valid UTF-8 (a source file contains invalid bytes)');
  }
  const dir = path.dirname(path.resolve(outPath));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(outPath)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, outPath);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // ignore
    }
    throw e;
  }
  const sha256 = crypto.createHash('sha256').update(data).digest('hex');
  return { path: path.resolve(outPath), bytes: data.length, files: used, sha256 };
}

if (require.main === module) {
  try {
    const out = path.join(process.cwd(), '.cache', 'corpus', 'npm-1mb.txt');
    const info = buildNpmCorpus(out);
    let npmVersion = '?';
    try {
      npmVersion = JSON.parse(fs.readFileSync(path.join(findNpmDir(), 'package.json'), 'utf8')).version;
    } catch {
      // ignore
    }
    console.log(
      `corpus: ${info.path}: ${info.bytes} bytes from ${info.files} files of npm ${npmVersion} (node ${process.version}), sha256 ${info.sha256}`,
    );
  } catch (e) {
    console.error(`corpus: ${(e as Error).message}`);
    process.exit(1);
  }
}
