// A workspace that exercises every corpus rule, for the test that the CLI and the extension read the
// same corpus from it (test/cliCorpus.test.ts from the command line, test/vscode/suite/corpus.spec.ts
// inside VS Code): nested .gitignore files with negations, exclude globs from gatescope.corpus.exclude
// and files.exclude, secrets, a binary type, a file with NUL bytes, one that is not UTF-8, a file over
// the per-file limit and the corpus size cap reached in the middle of the path order, with a small file
// after it that "skip and continue" would have taken. `expected` is written out by hand, independently
// of the planner.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The limits the fixture is sized for: 64 KB per file, 1 MB in all (the smallest MB setting). */
const MAX_FILE_KB = 64;
const MAX_CORPUS_MB = 1;
/** 20 bulk files of this size fit under 1 MiB with the small files; the 21st crosses it. */
const BULK_BYTES = 50_000;

export interface CorpusFixture {
  root: string;
  /** Written to .vscode/settings.json (the extension reads them). */
  settings: Record<string, unknown>;
  /** The same rules as `gatescope corpus` options (the CLI reads them from .vscode/settings.json too). */
  cliArgs: string[];
  /** What both must give: the files read, in order, and the skips, sorted by path, with their reasons. */
  expected: { files: string[]; skipped: { path: string; reason: string }[] };
}

export function makeCorpusFixture(dir: string): CorpusFixture {
  const write = (rel: string, data: string | Uint8Array): void => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  };
  const exclude = ['**/*.min.js', 'vendor/**'];
  const filesExclude = { 'docs/private/**': true, '**/*.snap': true, 'keep.log': false };
  const settings = {
    'gatescope.corpus.exclude': exclude,
    'gatescope.corpus.maxFileSizeKB': MAX_FILE_KB,
    'gatescope.corpus.maxCorpusSizeMB': MAX_CORPUS_MB,
    'files.exclude': filesExclude,
  };
  write('.vscode/settings.json', `${JSON.stringify(settings, null, 2)}\n`);

  write('.gitignore', '# build output and logs\ngenerated/\n*.log\n!keep.log\n');
  write('src/.gitignore', '*.tmp\n!important.tmp\n');
  write('src/nested/.gitignore', '!*.log\n');
  write('keep.log', 'kept: the root .gitignore re-includes it\n');
  write('app.log', 'ignored by the root .gitignore\n');
  write('src/important.tmp', 'kept: src/.gitignore re-includes it\n');
  write('src/scratch.tmp', 'ignored by src/.gitignore\n');
  write('src/nested/trace.log', 'kept: src/nested/.gitignore re-includes *.log below it\n');
  write('generated/schema.ts', 'export const ignored = true;\n');
  write('.env', 'API_TOKEN=not-a-real-token\n');
  write('keys/id_rsa', '-----BEGIN OPENSSH PRIVATE KEY-----\n');
  write('assets/logo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  write('data/blob.txt', new Uint8Array([0x61, 0x62, 0, 0x63, 0x0a]));
  write('data/latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1
  write('docs/private/notes.md', '# excluded by files.exclude\n');
  write('docs/guide.snap', 'excluded by files.exclude\n');
  write('lib/app.min.js', 'var excluded=1;\n');
  write('vendor/lib.js', 'var excluded = 1;\n');
  write('lib/huge.ts', codeOfSize(100 * 1024, 'huge'));
  for (let i = 0; i <= 20; i++) write(`src/zbulk/m${String(i).padStart(2, '0')}.ts`, codeOfSize(BULK_BYTES, `m${i}`));
  write('src/zbulk/n.ts', 'export const afterTheCap = 1;\n');
  write('zz/tail.md', '# after the cap\n');

  const capped = 'corpus size limit of 1 MiB reached';
  return {
    root: dir,
    settings,
    cliArgs: [
      ...[...exclude, ...Object.entries(filesExclude).filter(([, on]) => on).map(([glob]) => glob)].flatMap((g) => ['--exclude', g]),
      '--max-file-bytes', String(MAX_FILE_KB * 1024), '--max-corpus-bytes', String(MAX_CORPUS_MB * 1024 * 1024),
    ],
    expected: {
      files: [
        '.gitignore', '.vscode/settings.json', 'keep.log', 'src/.gitignore', 'src/important.tmp', 'src/nested/.gitignore', 'src/nested/trace.log',
        ...Array.from({ length: 20 }, (_, i) => `src/zbulk/m${String(i).padStart(2, '0')}.ts`),
      ],
      skipped: [
        { path: '.env', reason: 'may contain secrets' },
        { path: 'app.log', reason: 'ignored by .gitignore' },
        { path: 'assets/logo.png', reason: 'binary file type' },
        { path: 'data/blob.txt', reason: 'binary' },
        { path: 'data/latin1.txt', reason: 'not valid UTF-8' },
        { path: 'generated/schema.ts', reason: 'ignored by .gitignore' },
        { path: 'keys/id_rsa', reason: 'may contain secrets' },
        { path: 'lib/huge.ts', reason: 'larger than 64 KiB (100 KiB)' },
        { path: 'src/scratch.tmp', reason: 'ignored by .gitignore' },
        { path: 'src/zbulk/m20.ts', reason: capped },
        { path: 'src/zbulk/n.ts', reason: capped },
        { path: 'zz/tail.md', reason: capped },
      ],
    },
  };
}

/** Plausible code of exactly `bytes` bytes, ending with a newline. */
function codeOfSize(bytes: number, name: string): string {
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += `export const ${name}_${i} = ${(i * 7919) % 1000}; // line ${i}\n`;
  return text.slice(0, bytes - 1) + '\n';
}
