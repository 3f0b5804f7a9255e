// The training corpus of a checkpoint: `gatescope train` records in the checkpoint's extras (key
// "corpus") which folder it read, with which corpus rules and which validation fraction; this reads
// that folder again through the same planner and returns exactly the text the model trained on (the
// training split), so the baselines of `eval` and `eval-completions` (the n-gram, the word counts)
// see what the model saw and nothing of its held-out end. A SHA-256 of the training text is recorded
// too, so a folder that changed since is reported.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ModelCheckpoint, decodeCheckpoint, encodeCheckpoint } from '../kernels/checkpoint';
import { DEFAULT_TRAINING } from '../kernels/config';
import { CorpusRules } from '../kernels/corpusPlan';
import { GateScopeError, check } from '../kernels/errors';
import { splitTrainVal } from '../kernels/trainingData';
import { readCorpus } from './corpus';
import { corpusRules } from './corpusOptions';

/** The checkpoint extras key of the record. */
export const CORPUS_EXTRA_KEY = 'corpus';

/** What `gatescope train` records (JSON under extras key "corpus"). */
export interface TrainingCorpusRecord {
  /** The folder read, absolute. */
  dir: string;
  /** Share of the text held out at its end (never trained on). */
  valFraction: number;
  /** The corpus rules the planner read it with (given options, else the folder's settings, else defaults). */
  options: CorpusRules;
  /** SHA-256 (hex) of the training split, to notice a folder that changed since training. */
  sha256?: string;
  /** Length of the training split in UTF-16 code units. */
  chars?: number;
}

/** SHA-256 (hex) of a text's UTF-8 bytes. */
export function textSha256(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The record for a training run over `dir` read with `rules`, whose training split is `train`. */
export function trainingCorpusRecord(dir: string, rules: CorpusRules, valFraction: number, train: string): TrainingCorpusRecord {
  return { dir: path.resolve(dir), valFraction, options: { ...rules, exclude: [...rules.exclude] }, sha256: textSha256(train), chars: train.length };
}

/** Checkpoint bytes with the record added to their extras (everything else kept as it was). */
export function withCorpusRecord(model: Uint8Array, record: TrainingCorpusRecord): Uint8Array {
  const ck = decodeCheckpoint(model, 'the checkpoint being written');
  return encodeCheckpoint({ ...ck, extra: { ...ck.extra, [CORPUS_EXTRA_KEY]: JSON.stringify(record) } });
}

/** The checkpoint's record, checked; null when it has none. Throws a GateScopeError for a malformed one. */
export function corpusRecordOf(ck: ModelCheckpoint): TrainingCorpusRecord | null {
  const raw = ck.extra?.[CORPUS_EXTRA_KEY];
  if (raw === undefined) return null;
  const bad = (why: string): never => {
    throw new GateScopeError(`the checkpoint's training-corpus record is malformed (${why}); give the training folder with --corpus TRAINDIR`);
  };
  let r: unknown;
  try {
    r = JSON.parse(raw);
  } catch {
    bad('not JSON');
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return bad('not an object');
  const rec = r as Record<string, unknown>;
  if (typeof rec.dir !== 'string' || !rec.dir) bad('no "dir"');
  if (typeof rec.valFraction !== 'number' || !(rec.valFraction >= 0 && rec.valFraction < 1)) bad('"valFraction" is not a number from 0 to below 1');
  const o = rec.options as Record<string, unknown> | undefined;
  if (typeof o !== 'object' || o === null) return bad('no "options"');
  if (typeof o.include !== 'string') bad('"options.include" is not a string');
  if (!Array.isArray(o.exclude) || !o.exclude.every((g) => typeof g === 'string')) bad('"options.exclude" is not a list of strings');
  for (const k of ['maxFileBytes', 'maxCorpusBytes']) if (!(Number.isInteger(o[k]) && (o[k] as number) >= 1)) bad(`"options.${k}" is not a positive whole number`);
  return rec as unknown as TrainingCorpusRecord;
}

/**
 * The text the checkpoint's model trained on: the recorded folder read again with the recorded rules,
 * its training split (splitTrainVal(...).train). With `overrideDir`: that folder's training split
 * (read with the recorded rules and fraction when there is a record, else with the folder's settings
 * and the default fraction). Throws a GateScopeError that says what to do when there is neither a
 * record nor an override, or the recorded folder is gone.
 */
export function trainingText(ck: ModelCheckpoint, overrideDir?: string, log: (s: string) => void = () => {}): { text: string; source: string } {
  const rec = corpusRecordOf(ck);
  const dir = overrideDir !== undefined ? path.resolve(overrideDir) : rec?.dir;
  if (dir === undefined) throw new GateScopeError('the checkpoint records no training corpus (it was trained before GateScope recorded one, or not by `gatescope train`); give the training folder with --corpus TRAINDIR');
  check(fs.existsSync(dir), overrideDir !== undefined ? `--corpus ${overrideDir}: no such file or folder` : `the checkpoint's training folder ${dir} is not there any more; give the training folder with --corpus TRAINDIR`);
  const valFraction = rec?.valFraction ?? DEFAULT_TRAINING.valFraction;
  const { rules, filesExclude } = corpusRules(rec?.options ?? {}, dir, log);
  const corpus = readCorpus(dir, rules, filesExclude);
  const text = splitTrainVal(corpus.text, valFraction).train;
  const pct = Math.round((1 - valFraction) * 1000) / 10;
  if (overrideDir === undefined && rec?.sha256 !== undefined && rec.sha256 !== textSha256(text)) {
    log(`warning: the files of ${dir} changed since the checkpoint was trained (${rec.chars ?? '?'} training characters then, ${text.length} now); the baselines use them as they are now`);
  }
  return { text, source: `${dir} (the first ${pct}% of ${corpus.files.length} file(s)${overrideDir !== undefined ? ', from --corpus' : ''})` };
}
