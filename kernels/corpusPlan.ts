// The decisions behind the extension's workspace corpus, kept free of vscode so plain mocha can test
// them: which listed files are excluded (GateScope's folder list, the `exclude` setting, files.exclude,
// matched with VS Code's glob syntax), which are ignored by git (every .gitignore in the folder, with
// git's semantics), which are skipped by name, and which fit under the corpus size cap. The same
// workspace always gives the same corpus.

import ignore from 'ignore';
import { SKIP_DIRS, skipReason } from '../kernels/corpusRules';

export interface CorpusSkip {
  path: string;
  reason: string;
}

export const IGNORED_BY_GIT = 'ignored by .gitignore';
export const CORPUS_SIZE_LIMIT = 'corpus size limit';

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

// ---- Per file ----

/** Why a listed file is skipped before anything of it is read (its name, or .gitignore), or null to keep it. */
export function pathSkipReason(relPath: string, gitignore: GitignoreSet): string | null {
  const byName = skipReason(relPath.slice(relPath.lastIndexOf('/') + 1), false);
  if (byName) return byName;
  return gitignore.ignores(relPath) ? IGNORED_BY_GIT : null;
}

/**
 * The files that make the corpus under `maxCorpusBytes`: sorted by path, taken in that order while
 * their total size fits; the first that does not fit and all after it are skipped. The input order
 * does not matter, so the same workspace always gives the same corpus.
 */
export function chooseWithinCap<T extends { path: string; size: number }>(files: readonly T[], maxCorpusBytes: number): { kept: T[]; skipped: CorpusSkip[] } {
  const sorted = [...files].sort((a, b) => comparePaths(a.path, b.path));
  let total = 0;
  let n = 0;
  while (n < sorted.length && total + sorted[n].size <= maxCorpusBytes) total += sorted[n++].size;
  return { kept: sorted.slice(0, n), skipped: sorted.slice(n).map((f) => ({ path: f.path, reason: CORPUS_SIZE_LIMIT })) };
}

/** "3 may contain secrets, 1 larger than 1.0 MiB": counts by reason (details in parentheses dropped), most first. */
export function summarizeSkipped(skipped: readonly CorpusSkip[]): string {
  const counts = new Map<string, number>();
  for (const s of skipped) {
    const reason = s.reason.replace(/ \(.*\)$/, '');
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || comparePaths(a[0], b[0])).map(([reason, n]) => `${n} ${reason}`).join(', ');
}
