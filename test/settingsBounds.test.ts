// package.json's settings against kernels/config.ts, the one source of hyperparameter bounds (the CLI
// and the panel's form and messages take theirs from it): every numeric gatescope.* setting's minimum,
// maximum and integer type match its bound there, and its default matches the CLI's where the two
// mean the same; the corpus defaults match kernels/corpusPlan.ts's.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { BOUNDS, Bounded, DEFAULT_OPTIM, DEFAULT_TRAINING, isIntegerSetting } from '../kernels/config';
import { DEFAULT_CORPUS_EXCLUDE, DEFAULT_CORPUS_LIMITS } from '../kernels/corpusPlan';
import { DEFAULT_CACHE, DEFAULT_DECODE } from '../kernels/complete/types';

interface SettingSchema {
  type: string | string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
}

const PACKAGE = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8'));
const SETTINGS: Record<string, SettingSchema> = PACKAGE.contributes.configuration.properties;

/** Each bounded setting, its bound in kernels/config.ts, and the default it shares with the CLI (if it does). */
const BOUNDED: Record<string, { bound: Bounded; default?: number }> = {
  'gatescope.model.hiddenSize': { bound: 'hiddenSize', default: DEFAULT_TRAINING.hiddenSize },
  'gatescope.model.layers': { bound: 'numLayers', default: DEFAULT_TRAINING.numLayers },
  'gatescope.model.embeddingSize': { bound: 'embedSize', default: DEFAULT_TRAINING.embedSize },
  'gatescope.model.dropout': { bound: 'dropout', default: DEFAULT_TRAINING.dropout },
  'gatescope.tokenizer.vocabularySize': { bound: 'bpeVocabSize', default: DEFAULT_TRAINING.bpeVocab },
  'gatescope.training.sequenceLength': { bound: 'seqLen', default: DEFAULT_TRAINING.seqLen },
  'gatescope.training.batchSize': { bound: 'batchSize', default: DEFAULT_TRAINING.batchSize },
  'gatescope.training.learningRate': { bound: 'learningRate', default: DEFAULT_OPTIM.learningRate },
  'gatescope.training.gradientClip': { bound: 'clipNorm', default: DEFAULT_OPTIM.clipNorm },
  // The CLI's default run is a short demonstration (60 s); the extension's is longer.
  'gatescope.training.timeBudgetSeconds': { bound: 'timeBudgetSeconds' },
  'gatescope.training.checkpointIntervalSeconds': { bound: 'checkpointEverySeconds', default: DEFAULT_TRAINING.checkpointEverySeconds },
  'gatescope.training.evalIntervalSeconds': { bound: 'evalEverySeconds', default: DEFAULT_TRAINING.evalEverySeconds },
  'gatescope.training.validationFraction': { bound: 'validationFraction', default: DEFAULT_TRAINING.valFraction },
  'gatescope.training.seed': { bound: 'seed', default: DEFAULT_TRAINING.seed },
  'gatescope.corpus.maxFileSizeKB': { bound: 'maxFileSizeKB', default: DEFAULT_CORPUS_LIMITS.maxFileBytes / 1024 },
  'gatescope.corpus.maxCorpusSizeMB': { bound: 'maxCorpusSizeMB', default: DEFAULT_CORPUS_LIMITS.maxCorpusBytes / 1024 ** 2 },
  // 0 = automatic (cores − 1, at least 1), as the CLI's --threads without a value.
  'gatescope.training.threads': { bound: 'threads', default: 0 },
  // Inline completions: the decoder's defaults are the CLI's eval-completions defaults (kernels/complete/types.ts).
  'gatescope.completions.debounceMs': { bound: 'completionDebounceMs' },
  'gatescope.completions.maxChars': { bound: 'completionMaxChars', default: DEFAULT_DECODE.maxChars },
  'gatescope.completions.beamWidth': { bound: 'completionBeamWidth', default: DEFAULT_DECODE.beamWidth },
  'gatescope.completions.minConfidence': { bound: 'completionMinConfidence', default: DEFAULT_DECODE.minConfidence },
  'gatescope.completions.cacheMegabytes': { bound: 'completionCacheMegabytes', default: DEFAULT_CACHE.maxBytes / 1024 ** 2 },
  'gatescope.completions.ngramWeight': { bound: 'completionNgramWeight', default: 0.7 },
};

describe('package.json settings against kernels/config.ts', () => {
  for (const [key, { bound, default: def }] of Object.entries(BOUNDED)) {
    it(`${key}: minimum, maximum${def === undefined ? '' : ', default'} and type are kernels/config.ts's ${bound}`, () => {
      const s = SETTINGS[key];
      assert.ok(s, `package.json has no ${key}`);
      assert.deepStrictEqual([s.minimum, s.maximum], [...BOUNDS[bound]], `${key}'s minimum/maximum differ from BOUNDS.${bound}`);
      assert.strictEqual(s.type, isIntegerSetting(bound) ? 'integer' : 'number', `${key}'s type`);
      if (def !== undefined) assert.strictEqual(s.default, def, `${key}'s default`);
    });
  }

  it('every numeric setting is checked here (a new one needs its bound in kernels/config.ts)', () => {
    const numeric = Object.entries(SETTINGS).filter(([, s]) => s.type === 'number' || s.type === 'integer').map(([k]) => k).sort();
    assert.deepStrictEqual(numeric, Object.keys(BOUNDED).sort());
  });

  it('every completions setting has a description and a default; stopAt\'s choices and default are the decoder\'s', () => {
    const keys = Object.keys(SETTINGS).filter((k) => k.startsWith('gatescope.completions.'));
    assert.deepStrictEqual(keys.sort(), ['beamWidth', 'cacheMegabytes', 'debounceMs', 'enabled', 'files', 'maxChars', 'minConfidence', 'ngramWeight', 'stopAt'].map((k) => `gatescope.completions.${k}`));
    for (const k of keys) {
      const s = SETTINGS[k] as SettingSchema & { markdownDescription?: string; description?: string };
      assert.ok((s.markdownDescription ?? s.description ?? '').length > 20, `${k} has no description`);
      assert.ok(s.default !== undefined, `${k} has no default`);
    }
    const stopAt = SETTINGS['gatescope.completions.stopAt'] as SettingSchema & { enum: string[] };
    assert.deepStrictEqual(stopAt.enum, ['line', 'identifier', 'length']);
    assert.strictEqual(stopAt.default, DEFAULT_DECODE.stopAt);
  });

  it('the corpus defaults are kernels/corpusPlan.ts\'s, which the CLI uses', () => {
    assert.deepStrictEqual(SETTINGS['gatescope.corpus.exclude'].default, DEFAULT_CORPUS_EXCLUDE);
    assert.strictEqual(SETTINGS['gatescope.corpus.include'].default, '**/*');
  });
});
