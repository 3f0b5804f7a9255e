// The corpus planner: which files of a folder listing make the training text, in which order, and
// which are left out and why. Pure (no Node, no vscode): the extension feeds it from
// workspace.findFiles and files.exclude, the CLI from a walk of the disk, so the same folder with the
// same rules gives the same corpus both ways. Rules, in the order they are applied to each listed
// file: the include glob and the exclude globs (GateScope's skipped folders, gatescope.corpus.exclude,
// files.exclude; VS Code glob syntax; an excluded file is as if never listed), names never read
// (likely secrets, lock files, binary types), every .gitignore (git's semantics), symbolic links,
// the per-file size limit, then the corpus size cap: files are taken in path order until the next one
// does not fit, and that one and all after it are left out. After reading, `assembleCorpus` drops what
// is binary or not UTF-8 and joins the rest.

import ignore from 'ignore';
import { SKIP_DIRS, decodeFileText, joinFileTexts, skipReason, tooLargeReason } from './corpusRules';
import { formatBytes } from './format';

export interface CorpusSkip {
  path: string;
  reason: string;
}

export const IGNORED_BY_GIT = 'ignored by .gitignore';
export const SYMBOLIC_LINK = 'symbolic link (not followed)';

/** The reason for every file the corpus size cap leaves out. */
export function corpusCapReason(maxCorpusBytes: number): string {
  return `corpus size limit of ${formatBytes(maxCorpusBytes)} reached`;
}

/**
 * The default of `gatescope.corpus.exclude` (package.json declares the same list; a test checks) and of
 * the CLI's `--exclude`: minified bundles and source maps are generated, not written.
 */
export const DEFAULT_CORPUS_EXCLUDE: readonly string[] = ['**/node_modules/**', '**/.git/**', '**/dist/**', '**/out/**', '**/build/**', '**/*.min.js', '**/*.map'];

/**
 * VS Code's default `files.exclude` (1.139: version control folders, macOS and Windows folder metadata):
 * what the extension's listing leaves out when the user has not changed it, so the CLI leaves it out too.
 */
export const VSCODE_FILES_EXCLUDE_DEFAULT: Readonly<Record<string, boolean>> = {
  '**/.git': true, '**/.svn': true, '**/.hg': true, '**/.jj': true, '**/.DS_Store': true, '**/Thumbs.db': true,
};

/** Per-file and total limits: the defaults of gatescope.corpus.maxFileSizeKB (1000) and maxCorpusSizeMB (50). */
export const DEFAULT_CORPUS_LIMITS = { maxFileBytes: 1000 * 1024, maxCorpusBytes: 50 * 1024 * 1024 } as const;

/** Orders paths by UTF-16 code units: the same on every machine and in every locale. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- Excludes: VS Code glob syntax ----

/**
 * Every glob a folder's files are excluded by: GateScope's skipped folders (`**\/node_modules`, ...),
 * the `exclude` setting, and the folder's `files.exclude` map, of which only the `true` entries count
 * (`false` turns a default off; `{ when: ... }` sibling clauses are not supported and left out).
 */
export function excludeGlobs(settingExclude: readonly string[], filesExclude: Readonly<Record<string, unknown>> | undefined): string[] {
  const fromFilesExclude = Object.entries(filesExclude ?? {}).filter(([, on]) => on === true).map(([glob]) => glob);
  return [...new Set([...[...SKIP_DIRS].map((dir) => `**/${dir}`), ...settingExclude, ...fromFilesExclude])];
}

/**
 * The exclude argument for `workspace.findFiles`, so the search does not walk excluded folders: the
 * globs as one `{a,b,...}` group. VS Code's globs do not nest groups, so globs with braces or commas
 * of their own are left out here; `excludeMatcher` still applies them to what the search returns.
 */
export function findFilesExclude(globs: readonly string[]): string {
  return `{${globs.map((g) => g.trim()).filter((g) => g && !/[{},]/.test(g)).join(',')}}`;
}

/**
 * Whether a folder-relative path is excluded by any of `globs`: the path itself or one of its folders
 * matches, since an excluded folder excludes everything in it (as files.exclude does in VS Code).
 */
export function excludeMatcher(globs: readonly string[]): (relPath: string) => boolean {
  const sources = globs.map((g) => globSource(g.trim().replace(/(.)\/$/, '$1'))).filter(isValidSource);
  if (!sources.length) return () => false;
  const re = new RegExp(`^(?:${sources.join('|')})$`);
  return (relPath) => {
    for (let end = relPath.indexOf('/'); end >= 0; end = relPath.indexOf('/', end + 1)) {
      if (re.test(relPath.slice(0, end))) return true;
    }
    return re.test(relPath);
  };
}

/**
 * A RegExp for one VS Code glob, with the semantics of vs/base/common/glob.ts: `*` and `?` stay within
 * a path segment, `**` spans any number of segments (none included), `{a,b}` is one of its choices
 * (groups do not nest), `[...]` and `[!...]` are character ranges. Case-sensitive. A trailing `/` is
 * dropped, as VS Code does for plain paths. An invalid glob matches nothing.
 */
export function globToRegExp(glob: string): RegExp {
  const source = globSource(glob.trim().replace(/(.)\/$/, '$1'));
  return isValidSource(source) ? new RegExp(`^${source}$`) : /(?!)/;
}

function isValidSource(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

const ANY_FOLDERS = '(?:/|[^/]+/)*?'; // "", "a/", "a/b/"
const ANY_FOLDERS_AT_END = '(?:/|[^/]+/|/[^/]+)*?'; // also "/a", "/a/b": "x/**" matches x and all in it

function globSource(glob: string): string {
  const segments = splitOutsideGroups(glob, '/');
  if (segments.every((s) => s === '**')) return '.*';
  let re = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') {
      if (segments[i - 1] !== '**') re += last ? ANY_FOLDERS_AT_END : ANY_FOLDERS;
      return;
    }
    re += segmentSource(segment);
    // The slash after a segment, unless all that follows is a final ** (which matches no folder too).
    if (!last && !(segments[i + 1] === '**' && i + 2 === segments.length)) re += '/';
  });
  return re;
}

function segmentSource(segment: string): string {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '{') {
      const close = segment.indexOf('}', i + 1);
      if (close < 0) break; // an unclosed group matches nothing more, as in VS Code
      re += `(?:${splitOutsideGroups(segment.slice(i + 1, close), ',').map(globSource).join('|')})`;
      i = close;
    } else if (c === '[') {
      let members = '';
      let j = i + 1;
      for (; j < segment.length && (segment[j] !== ']' || !members); j++) {
        const m = segment[j];
        if (m === '-') members += m;
        else if ((m === '!' || m === '^') && !members) members += '^';
        else if (m !== '/') members += escapeRegExp(m);
      }
      if (j >= segment.length) break; // an unclosed range, likewise
      re += `[${members}]`;
      i = j;
    } else if (c === '*') re += '[^/]*?';
    else if (c === '?') re += '[^/]';
    else re += escapeRegExp(c);
  }
  return re;
}

/** Splits on `sep` where it is outside `{...}` and `[...]`. */
function splitOutsideGroups(glob: string, sep: string): string[] {
  const parts: string[] = [];
  let braces = false;
  let brackets = false;
  let part = '';
  for (const c of glob) {
    if (c === sep && !braces && !brackets) {
      parts.push(part);
      part = '';
      continue;
    }
    if (c === '{') braces = true;
    else if (c === '}') braces = false;
    else if (c === '[') brackets = true;
    else if (c === ']') brackets = false;
    part += c;
  }
  if (part) parts.push(part);
  return parts;
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

// ---- .gitignore ----

export interface GitignoreFile {
  /** The folder holding the .gitignore, relative to the workspace folder ('' for its root). */
  dir: string;
  content: string;
}

/**
 * Every .gitignore of a workspace folder, answering as git does whether a folder-relative file path is
 * ignored: a .gitignore applies below its own folder, a deeper one overrides a shallower one, the last
 * matching rule wins, `!` re-includes, and nothing in an ignored folder can be re-included. Built as
 * one `ignore` rule list: the rules of `a/b/.gitignore` are rewritten to apply under `a/b/` (a rule
 * with no inner slash matches at any depth there, `a/b/**\/rule`; one with a slash is anchored to
 * `a/b/`) and listed after those of shallower files, so that last-match-wins gives git's precedence.
 * Case-sensitive, as git is by default.
 */
export class GitignoreSet {
  private readonly rules = ignore({ ignorecase: false });

  constructor(files: readonly GitignoreFile[]) {
    const depth = (dir: string) => (dir ? dir.split('/').length : 0);
    const ordered = [...files].sort((a, b) => depth(a.dir) - depth(b.dir) || comparePaths(a.dir, b.dir));
    for (const f of ordered) this.rules.add(f.dir ? scopeRules(f.content, f.dir) : f.content);
  }

  ignores(relPath: string): boolean {
    return this.rules.ignores(relPath);
  }
}

/** The rules of `dir/.gitignore`, rewritten to match paths relative to the workspace folder. */
function scopeRules(content: string, dir: string): string[] {
  const prefix = escapeGitPath(dir) + '/';
  const rules: string[] = [];
  for (const line of content.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const negative = line.startsWith('!');
    // A leading "\!" or "\#" only protects the pattern's first character; inside the new rule it is plain.
    const body = (negative ? line.slice(1) : line).replace(/^\\([!#])/, '$1');
    if (!body.trim()) continue;
    const anchored = body.trimEnd().replace(/\/$/, '').includes('/');
    rules.push(`${negative ? '!' : ''}${prefix}${anchored ? body.replace(/^\//, '') : '**/' + body}`);
  }
  return rules;
}

/** A folder path as a literal in a gitignore pattern. */
function escapeGitPath(dir: string): string {
  return dir.replace(/[\\*?[]/g, '\\$&').replace(/^[!#]/, '\\$&');
}

// ---- The plan ----

/** One listed file of a folder. */
export interface ListedFile {
  /** Relative to its folder, '/'-separated. */
  path: string;
  size: number;
  /** A symbolic link: never followed. */
  symlink?: boolean;
}

/** One folder's listing: its files and the contents of its .gitignore files. */
export interface FolderListing {
  /** Put before each path in the plan: '' for a lone folder, `name/` when there are several. */
  prefix: string;
  files: readonly ListedFile[];
  gitignores: readonly GitignoreFile[];
  /** The folder's `files.exclude` map (only `true` entries count). */
  filesExclude?: Readonly<Record<string, unknown>>;
  /** Paths the listing could not examine (a folder it could not open, a file it could not stat), and why: reported with the skipped files. */
  unlisted?: readonly CorpusSkip[];
}

export interface CorpusRules {
  /** Glob (VS Code syntax) of the files to consider in each folder. */
  include: string;
  /** Globs never read: gatescope.corpus.exclude or the CLI's --exclude. */
  exclude: readonly string[];
  maxFileBytes: number;
  maxCorpusBytes: number;
}

export interface PlannedFile {
  /** Index of its folder in the listing. */
  folder: number;
  /** Relative to its folder. */
  relPath: string;
  /** As reported: with the folder's prefix. */
  path: string;
  size: number;
}

export interface CorpusPlan {
  /** What to read, in order. */
  read: PlannedFile[];
  /** What is left out before reading, and why, sorted by path. */
  skipped: CorpusSkip[];
}

/** Whether a folder-relative path is left out by the include and exclude globs (as if never listed). */
export function outOfScope(rules: Pick<CorpusRules, 'include' | 'exclude'>, filesExclude?: Readonly<Record<string, unknown>>): (relPath: string) => boolean {
  const excluded = excludeMatcher(excludeGlobs(rules.exclude, filesExclude));
  const included = rules.include.trim() === '**/*' || rules.include.trim() === '**' ? () => true : (p: string) => globToRegExp(rules.include).test(p);
  return (relPath) => excluded(relPath) || !included(relPath);
}

/** Plans the corpus of one or more folders: see the header for the rules. The input order does not matter. */
export function planCorpus(folders: readonly FolderListing[], rules: CorpusRules): CorpusPlan {
  const skipped: CorpusSkip[] = [];
  const candidates: PlannedFile[] = [];
  folders.forEach((folder, index) => {
    for (const u of folder.unlisted ?? []) skipped.push({ path: folder.prefix + u.path, reason: u.reason });
    const outside = outOfScope(rules, folder.filesExclude);
    const gitignore = new GitignoreSet(folder.gitignores);
    for (const file of folder.files) {
      if (outside(file.path)) continue;
      const path = folder.prefix + file.path;
      const why = pathSkipReason(file.path, gitignore)
        ?? (file.symlink ? SYMBOLIC_LINK : file.size > rules.maxFileBytes ? tooLargeReason(rules.maxFileBytes, file.size) : null);
      if (why) skipped.push({ path, reason: why });
      else if (file.size > 0) candidates.push({ folder: index, relPath: file.path, path, size: file.size });
    }
  });
  candidates.sort((a, b) => comparePaths(a.path, b.path));
  // The cap: a prefix of the path order, so raising it only ever adds files.
  let total = 0;
  let n = 0;
  while (n < candidates.length && total + candidates[n].size <= rules.maxCorpusBytes) total += candidates[n++].size;
  const capReason = corpusCapReason(rules.maxCorpusBytes);
  for (const f of candidates.slice(n)) skipped.push({ path: f.path, reason: capReason });
  skipped.sort((a, b) => comparePaths(a.path, b.path));
  return { read: candidates.slice(0, n), skipped };
}

/** What reading a planned file gave: its bytes, or why it could not be read. */
export type ReadResult = { bytes: Uint8Array } | { unreadable: string };

export interface AssembledCorpus {
  text: string;
  /** The files taken, in order, with the bytes each gave. */
  files: { path: string; bytes: number }[];
  /**
   * Where each file's text lies in `text`: `spans[i]` for `files[i]`, UTF-16 offsets [start, end) of the
   * file's own text (the newline and blank line that joinFileTexts adds after it are outside). Kept
   * beside `files` rather than in it, so `files` stays the same listing for the CLI and the extension.
   */
  spans: { start: number; end: number }[];
  /** Everything left out, before or after reading, sorted by path. */
  skipped: CorpusSkip[];
  bytes: number;
}

/**
 * The corpus from the plan and what reading each planned file gave (`results[i]` for `plan.read[i]`):
 * binary files, text that is not UTF-8 and unreadable files are skipped; the rest is joined in order.
 */
export function assembleCorpus(plan: CorpusPlan, results: readonly ReadResult[]): AssembledCorpus {
  const skipped = [...plan.skipped];
  const texts: string[] = [];
  const files: { path: string; bytes: number }[] = [];
  const spans: { start: number; end: number }[] = [];
  let bytes = 0;
  let at = 0;
  plan.read.forEach((f, i) => {
    const r = results[i];
    const decoded = 'bytes' in r ? decodeFileText(r.bytes) : { skip: `unreadable (${r.unreadable})` };
    if ('skip' in decoded) {
      skipped.push({ path: f.path, reason: decoded.skip });
      return;
    }
    texts.push(decoded.text);
    spans.push({ start: at, end: at + decoded.text.length });
    at += decoded.text.length + (decoded.text.endsWith('\n') ? 0 : 1) + 1; // as joinFileTexts joins them
    const n = (r as { bytes: Uint8Array }).bytes.byteLength;
    files.push({ path: f.path, bytes: n });
    bytes += n;
  });
  skipped.sort((a, b) => comparePaths(a.path, b.path));
  return { text: joinFileTexts(texts), files, spans, skipped, bytes };
}

/** Why a listed file is skipped by its name or by .gitignore, or null to keep it. */
export function pathSkipReason(relPath: string, gitignore: GitignoreSet): string | null {
  const byName = skipReason(relPath.slice(relPath.lastIndexOf('/') + 1), false);
  if (byName) return byName;
  return gitignore.ignores(relPath) ? IGNORED_BY_GIT : null;
}

/**
 * Skipped files for a log line, by reason (most first), each naming its files:
 * "2 may contain secrets: .env, keys/id_rsa; 1 binary file type: logo.png". At most `namesPerReason`
 * names per reason, then "and N more". Details in parentheses ("(2.0 MiB)") are left out.
 */
export function summarizeSkipped(skipped: readonly CorpusSkip[], namesPerReason = 5): string {
  const byReason = new Map<string, string[]>();
  for (const s of skipped) {
    const reason = s.reason.replace(/ \(.*\)$/, '');
    const paths = byReason.get(reason) ?? [];
    paths.push(s.path);
    byReason.set(reason, paths);
  }
  return [...byReason]
    .sort((a, b) => b[1].length - a[1].length || comparePaths(a[0], b[0]))
    .map(([reason, paths]) => {
      const shown = paths.slice(0, namesPerReason).join(', ');
      const more = paths.length > namesPerReason ? ` and ${paths.length - namesPerReason} more` : '';
      return `${paths.length} ${reason}: ${shown}${more}`;
    })
    .join('; ');
}
