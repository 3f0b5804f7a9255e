// The corpus options of `train`, `eval` and `corpus` (--include, --exclude, --max-file-bytes,
// --max-corpus-bytes): the same rules as the gatescope.corpus.* settings, with the same defaults,
// and the report of what was skipped.

import { CorpusRules, CorpusSkip, DEFAULT_CORPUS_EXCLUDE, DEFAULT_CORPUS_LIMITS, summarizeSkipped } from '../kernels/corpusPlan';
import { Options, int } from './args';

export const CORPUS_OPTIONS = {
  include: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  'max-file-bytes': { type: 'string' },
  'max-corpus-bytes': { type: 'string' },
} as const;

export const CORPUS_USAGE = `Corpus options (train, eval, corpus):
  --include GLOB           files to consider (default **/*), as gatescope.corpus.include
  --exclude GLOB           files never read, repeatable; replaces the default list
                           (${DEFAULT_CORPUS_EXCLUDE.join(' ')}), as gatescope.corpus.exclude
  --max-file-bytes N       skip files larger than this, unread (default ${DEFAULT_CORPUS_LIMITS.maxFileBytes})
  --max-corpus-bytes N     take files in path order until the next one would pass this total
                           (default ${DEFAULT_CORPUS_LIMITS.maxCorpusBytes}); it and all after it are skipped
  Every .gitignore applies; likely secrets, lock files and binary files are never read.`;

export function corpusRules(o: Options): CorpusRules {
  const exclude = o.exclude as string[] | undefined;
  return {
    include: (o.include as string | undefined) ?? '**/*',
    exclude: exclude ?? DEFAULT_CORPUS_EXCLUDE,
    maxFileBytes: int(o, 'max-file-bytes', DEFAULT_CORPUS_LIMITS.maxFileBytes, 1, 2 ** 31),
    maxCorpusBytes: int(o, 'max-corpus-bytes', DEFAULT_CORPUS_LIMITS.maxCorpusBytes, 1, 2 ** 31),
  };
}

/** Logs what was skipped: a summary naming the files by reason, then one line per file for the first few. */
export function reportSkipped(skipped: readonly CorpusSkip[], log: (s: string) => void, lines = 20): void {
  if (!skipped.length) return;
  log(`skipped ${skipped.length} file(s): ${summarizeSkipped(skipped)}`);
  for (const s of skipped.slice(0, lines)) log(`  skipped ${s.path}: ${s.reason}`);
  if (skipped.length > lines) log(`  ... and ${skipped.length - lines} more`);
}
