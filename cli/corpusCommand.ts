// `gatescope corpus`: what training on a folder would read, in order, and what it would skip and why,
// from the same planner as `train` and the extension. With --json, the listing a test (or a script)
// compares: files with their bytes, skips with their reasons, and the SHA-256 of the joined text.

import { createHash } from 'crypto';
import { check } from '../kernels/errors';
import { formatBytes } from '../kernels/format';
import { parse } from './args';
import { CORPUS_OPTIONS, corpusOptions, readFolderCorpus } from './corpusOptions';

export const CORPUS_COMMAND_USAGE = `Corpus options:
  --json                   print {"files": [{"path","bytes"}], "skipped": [{"path","reason"}],
                           "bytes", "textSha256"}`;

export async function corpusCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, { json: { type: 'boolean' }, ...CORPUS_OPTIONS } as const);
  check(positionals.length <= 1, 'usage: gatescope corpus [DIR] [--json] [corpus options]');
  const corpus = readFolderCorpus(corpusOptions(o), positionals[0] ?? '.', (s) => process.stderr.write(s + '\n'));
  if (o.json) {
    const textSha256 = createHash('sha256').update(corpus.text, 'utf8').digest('hex');
    process.stdout.write(JSON.stringify({ files: corpus.files, skipped: corpus.skipped, bytes: corpus.bytes, textSha256 }) + '\n');
    return;
  }
  for (const f of corpus.files) process.stdout.write(`read     ${f.path} (${formatBytes(f.bytes)})\n`);
  for (const s of corpus.skipped) process.stdout.write(`skipped  ${s.path}: ${s.reason}\n`);
  process.stdout.write(`${corpus.files.length} file(s), ${formatBytes(corpus.bytes)} of text; ${corpus.skipped.length} skipped\n`);
}
