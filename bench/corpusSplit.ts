/**
 * The fixed corpus (bench/corpus.ts: the first ~1 MB of npm's .js and .md files) as two folders for the
 * completion evaluation (issue 11): `train/` holds its first 95% and `heldout/` its last 5%, each file
 * under its own relative path, so `gatescope train` and `gatescope eval-completions` read them file by
 * file like any project. The cut is splitTrainVal's (the same UTF-16 offset as the learning bench's
 * validation split, where the issue's reference figures were measured); the file it falls in is split
 * in two: its first part in train/, the rest under the same path in heldout/.
 *
 *   node out/bench/corpusSplit.js [OUTDIR]     (default .cache/completions-split)
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_TRAINING } from '../kernels/config';
import { splitTrainVal } from '../kernels/trainingData';
import { buildNpmCorpus, findNpmDir, listCorpusFiles } from './corpus';

export interface CorpusSplit {
  trainDir: string;
  heldOutDir: string;
  /** Files written to each folder (the split file counted in both). */
  trainFiles: number;
  heldOutFiles: number;
  /** Characters (UTF-16) in each folder's files together. */
  trainChars: number;
  heldOutChars: number;
  /** The file the cut falls in (null when it falls between two files), and where in it. */
  splitFile: { path: string; offset: number } | null;
  /** sha256 of the whole corpus, as bench/corpus.ts prints it. */
  sha256: string;
}

/** The corpus's files as texts, exactly as buildNpmCorpus concatenates them (the last one possibly cut). */
export function corpusFileTexts(maxBytes = 1_000_000): { path: string; text: string }[] {
  const root = findNpmDir();
  const out: { path: string; text: string }[] = [];
  let total = 0;
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for (const rel of listCorpusFiles(root)) {
    if (total >= maxBytes) break;
    const buf = fs.readFileSync(path.join(root, ...rel.split('/')));
    if (buf.length === 0) continue;
    let take = Math.min(buf.length, maxBytes - total);
    while (take < buf.length && take > 0 && (buf[take] & 0xc0) === 0x80) take--; // a UTF-8 character boundary
    if (take > 0) out.push({ path: rel, text: utf8.decode(buf.subarray(0, take)) });
    total += take;
    if (take < buf.length) break;
  }
  return out;
}

/**
 * Writes OUTDIR/train and OUTDIR/heldout (both emptied first) from the fixed corpus, cut where
 * splitTrainVal(corpus, valFraction) cuts it. Checks that the files joined again are the corpus
 * bench/corpus.ts builds (same sha256).
 */
export function writeCorpusSplit(outDir: string, valFraction = DEFAULT_TRAINING.valFraction): CorpusSplit {
  const files = corpusFileTexts();
  const whole = files.map((f) => f.text).join('');
  const cachePath = path.resolve('.cache', 'corpus', 'npm-1mb.txt');
  const info = buildNpmCorpus(cachePath);
  const sha256 = crypto.createHash('sha256').update(whole, 'utf8').digest('hex');
  if (sha256 !== info.sha256) throw new Error(`corpusSplit: the files joined (sha256 ${sha256}) are not the fixed corpus (sha256 ${info.sha256}); bench/corpus.ts and this file read it differently`);
  const cut = splitTrainVal(whole, valFraction).train.length;
  const trainDir = path.resolve(outDir, 'train');
  const heldOutDir = path.resolve(outDir, 'heldout');
  for (const d of [trainDir, heldOutDir]) {
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d, { recursive: true });
  }
  const write = (dir: string, rel: string, text: string) => {
    const p = path.join(dir, ...rel.split('/'));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text, 'utf8');
  };
  const result: CorpusSplit = { trainDir, heldOutDir, trainFiles: 0, heldOutFiles: 0, trainChars: 0, heldOutChars: 0, splitFile: null, sha256 };
  let at = 0;
  for (const f of files) {
    const start = at;
    const end = at + f.text.length;
    at = end;
    const head = f.text.slice(0, Math.max(0, Math.min(cut, end) - start));
    const tail = f.text.slice(head.length);
    if (head.length) {
      write(trainDir, f.path, head);
      result.trainFiles++;
      result.trainChars += head.length;
    }
    if (tail.length) {
      write(heldOutDir, f.path, tail);
      result.heldOutFiles++;
      result.heldOutChars += tail.length;
    }
    if (head.length && tail.length) result.splitFile = { path: f.path, offset: head.length };
  }
  return result;
}

if (require.main === module) {
  try {
    const s = writeCorpusSplit(process.argv[2] ?? path.join('.cache', 'completions-split'));
    console.log(`corpus split (sha256 ${s.sha256.slice(0, 16)}…): ${s.trainDir}: ${s.trainFiles} files, ${s.trainChars} chars; ${s.heldOutDir}: ${s.heldOutFiles} files, ${s.heldOutChars} chars; ${s.splitFile ? `${s.splitFile.path} split at ${s.splitFile.offset}` : 'cut between two files'}`);
  } catch (e) {
    console.error(`corpusSplit: ${(e as Error).message}`);
    process.exit(1);
  }
}
