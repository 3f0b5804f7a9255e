// The corpus settings the extension would read in a folder's .vscode/settings.json — files.exclude and
// gatescope.corpus.include / exclude / maxFileSizeKB / maxCorpusSizeMB — so that `gatescope train DIR`
// reads what Train on Workspace reads in DIR. Only that file counts (not the user's own settings). It is
// read as VS Code reads it, JSON with comments and trailing commas, by Microsoft's jsonc-parser (the
// parser VS Code's own settings editor uses); a file it cannot parse is left out with a warning, and the
// options --include, --exclude, --max-file-bytes and --max-corpus-bytes say the same thing.

import * as fs from 'fs';
import * as path from 'path';
import { ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import { BOUNDS, isIntegerSetting } from '../kernels/config';
import { VSCODE_FILES_EXCLUDE_DEFAULT } from '../kernels/corpusPlan';

export interface FolderCorpusSettings {
  include?: string;
  exclude?: string[];
  maxFileBytes?: number;
  maxCorpusBytes?: number;
  /** VS Code's default files.exclude with the folder's entries over it (as VS Code merges them). */
  filesExclude: Record<string, unknown>;
  /** The settings found and applied, for the log. */
  applied: string[];
}

/** The corpus settings of `dir`'s .vscode/settings.json; `warn` hears about a file or a value left out. */
export function readFolderSettings(dir: string, warn: (s: string) => void): FolderCorpusSettings {
  const out: FolderCorpusSettings = { filesExclude: { ...VSCODE_FILES_EXCLUDE_DEFAULT }, applied: [] };
  const file = path.join(dir, '.vscode', 'settings.json');
  let text: string;
  try {
    if (!fs.statSync(dir).isDirectory()) return out;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return out; // no settings file: the defaults
  }
  const errors: ParseError[] = [];
  const json: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const e = errors[0];
    warn(`${file} could not be read (${printParseErrorCode(e.error)} at offset ${e.offset}): its files.exclude and gatescope.corpus.* are not applied; fix it, or give them as --exclude, --include, --max-file-bytes, --max-corpus-bytes`);
    return out;
  }
  if (typeof json !== 'object' || json === null) return out;
  const s = json as Record<string, unknown>;
  const bad = (key: string, why: string) => warn(`${file}: ${key} ${why}; left out`);
  const filesExclude = s['files.exclude'];
  if (filesExclude !== undefined) {
    if (typeof filesExclude === 'object' && filesExclude !== null && !Array.isArray(filesExclude)) {
      Object.assign(out.filesExclude, filesExclude);
      out.applied.push('files.exclude');
    } else bad('files.exclude', 'is not an object of globs');
  }
  const include = s['gatescope.corpus.include'];
  if (include !== undefined) {
    if (typeof include === 'string' && include.length > 0 && include.length < 1000) {
      out.include = include;
      out.applied.push('gatescope.corpus.include');
    } else bad('gatescope.corpus.include', 'is not a glob');
  }
  const exclude = s['gatescope.corpus.exclude'];
  if (exclude !== undefined) {
    if (Array.isArray(exclude) && exclude.length <= 1000 && exclude.every((g) => typeof g === 'string' && g.length > 0 && g.length < 1000)) {
      out.exclude = exclude as string[];
      out.applied.push('gatescope.corpus.exclude');
    } else bad('gatescope.corpus.exclude', 'is not a list of globs');
  }
  const size = (key: string, bound: 'maxFileSizeKB' | 'maxCorpusSizeMB', unit: number): number | undefined => {
    const v = s[key];
    if (v === undefined) return undefined;
    const [lo, hi] = BOUNDS[bound];
    if (typeof v === 'number' && v >= lo && v <= hi && (!isIntegerSetting(bound) || Number.isInteger(v))) {
      out.applied.push(key);
      return v * unit;
    }
    bad(key, `must be a whole number from ${lo} to ${hi}`);
    return undefined;
  };
  out.maxFileBytes = size('gatescope.corpus.maxFileSizeKB', 'maxFileSizeKB', 1024);
  out.maxCorpusBytes = size('gatescope.corpus.maxCorpusSizeMB', 'maxCorpusSizeMB', 1024 * 1024);
  return out;
}
