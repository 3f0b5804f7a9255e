// Reads a folder into one training text for the CLI: walks it in sorted order, skips what is not
// source text (binary files, invalid UTF-8, node_modules, .git, build output, lock files, likely
// secrets, files over the size limit) and says what it skipped and why. The rules and the join
// format are kernels/corpusRules.ts, shared with the extension's workspace collector.

import * as fs from 'fs';
import * as path from 'path';
import { SKIP_REASON, decodeFileText, formatBytes, joinFileTexts, skipReason, tooLargeReason } from '../kernels/corpusRules';
import { GateScopeError, check } from '../kernels/errors';

export { formatBytes };

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
          if (why !== SKIP_REASON.folder) skipped.push({ path: r, reason: why });
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
  const texts: string[] = [];
  const taken: string[] = [];
  let bytes = 0;
  for (const f of files) {
    if (f.size > opts.maxFileBytes) {
      skipped.push({ path: f.rel, reason: tooLargeReason(opts.maxFileBytes, f.size) });
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
    const decoded = decodeFileText(data);
    if ('skip' in decoded) {
      skipped.push({ path: f.rel, reason: decoded.skip });
      continue;
    }
    texts.push(decoded.text);
    taken.push(f.rel);
    bytes += data.length;
  }
  return { text: joinFileTexts(texts), files: taken, bytes, skipped };
}
