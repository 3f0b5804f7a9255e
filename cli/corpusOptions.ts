// The corpus options of `train`, `eval` and `corpus` (--include, --exclude, --max-file-bytes,
// --max-corpus-bytes): the same rules as the gatescope.corpus.* settings, with the same defaults,
// and the report of what was skipped.

import { AssembledCorpus, CorpusRules, CorpusSkip, DEFAULT_CORPUS_EXCLUDE, DEFAULT_CORPUS_LIMITS, summarizeSkipped } from '../kernels/corpusPlan';
import * as path from 'path';
import { Options, int } from './args';
import { readCorpus } from './corpus';
import { readFolderSettings } from './folderSettings';

export const CORPUS_OPTIONS = {
  include: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  'max-file-bytes': { type: 'string' },
  'max-corpus-bytes': { type: 'string' },
} as const;

export const CORPUS_USAGE = `Corpus options (train, eval, corpus); each defaults to the folder's .vscode/settings.json
(gatescope.corpus.*, as the VS Code extension reads it there), else to the settings' default:
  --include GLOB           files to consider (default **/*), as gatescope.corpus.include
  --exclude GLOB           files never read, repeatable, as gatescope.corpus.exclude; replaces the list
${DEFAULT_CORPUS_EXCLUDE.map((g) => `                           ${g}`).join('\n')}
  --max-file-bytes N       skip files larger than this, unread (default ${DEFAULT_CORPUS_LIMITS.maxFileBytes})
  --max-corpus-bytes N     take files in path order until the next one would pass this total
                           (default ${DEFAULT_CORPUS_LIMITS.maxCorpusBytes}); it and all after it are skipped
  Every .gitignore and the folder's files.exclude apply; likely secrets, lock files and binary files
  are never read.`;

/** Checks the corpus options (before anything is read): what was given, the rest left to the folder's settings. */
export function corpusOptions(o: Options): Partial<CorpusRules> {
  return {
    include: o.include as string | undefined,
    exclude: o.exclude as string[] | undefined,
    maxFileBytes: o['max-file-bytes'] === undefined ? undefined : int(o, 'max-file-bytes', 0, 1, 2 ** 31),
    maxCorpusBytes: o['max-corpus-bytes'] === undefined ? undefined : int(o, 'max-corpus-bytes', 0, 1, 2 ** 31),
  };
}

/**
 * The rules for reading `dir`: the options given, else the folder's .vscode/settings.json (as the
 * extension reads it there), else the settings' defaults; and the folder's files.exclude.
 */
export function corpusRules(given: Partial<CorpusRules>, dir: string, log: (s: string) => void): { rules: CorpusRules; filesExclude: Record<string, unknown> } {
  const folder = readFolderSettings(dir, (s) => log(`warning: ${s}`));
  if (folder.applied.length) log(`applying ${folder.applied.join(', ')} from ${path.join(dir, '.vscode', 'settings.json')}`);
  return {
    rules: {
      include: given.include ?? folder.include ?? '**/*',
      exclude: given.exclude ?? folder.exclude ?? DEFAULT_CORPUS_EXCLUDE,
      maxFileBytes: given.maxFileBytes ?? folder.maxFileBytes ?? DEFAULT_CORPUS_LIMITS.maxFileBytes,
      maxCorpusBytes: given.maxCorpusBytes ?? folder.maxCorpusBytes ?? DEFAULT_CORPUS_LIMITS.maxCorpusBytes,
    },
    filesExclude: folder.filesExclude,
  };
}

/** Reads the corpus of `dir` with the options given and the folder's settings (see corpusRules). */
export function readFolderCorpus(given: Partial<CorpusRules>, dir: string, log: (s: string) => void): AssembledCorpus {
  const { rules, filesExclude } = corpusRules(given, dir, log);
  return readCorpus(dir, rules, filesExclude);
}

/** Logs what was skipped: a summary naming the files by reason, then one line per file for the first few. */
export function reportSkipped(skipped: readonly CorpusSkip[], log: (s: string) => void, lines = 20): void {
  if (!skipped.length) return;
  log(`skipped ${skipped.length} file(s): ${summarizeSkipped(skipped)}`);
  for (const s of skipped.slice(0, lines)) log(`  skipped ${s.path}: ${s.reason}`);
  if (skipped.length > lines) log(`  ... and ${skipped.length - lines} more`);
}
