// test/ci.ts: which CI values count as CI (a check that treats CI=false as CI, or CI=true as not,
// would turn a skip into a failure on a developer's machine or a failure into a skip under CI).

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { isCI, skipOrFailUnderCI } from './ci';

const TEST_SOURCES = path.resolve(__dirname, '..', '..', 'test');

function testSources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? (e.name === 'fixtures' ? [] : testSources(p)) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('CI detection for tests that need a tool', () => {
  for (const v of ['true', 'TRUE', '1', 'yes', 'on', ' true ']) {
    it(`CI=${JSON.stringify(v)} is CI`, () => assert.strictEqual(isCI({ CI: v }), true));
  }
  for (const v of [undefined, '', 'false', 'False', '0', 'no', 'off']) {
    it(`CI=${JSON.stringify(v)} is not CI`, () => assert.strictEqual(isCI(v === undefined ? {} : { CI: v }), false));
  }

  it('under CI a missing tool throws with the reason instead of skipping', function () {
    const saved = process.env.CI;
    process.env.CI = 'true';
    try {
      assert.throws(() => skipOrFailUnderCI(this, 'needs the frobnicator'), /needs the frobnicator.*CI=true/);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });

  it('no test skips except through skipOrFailUnderCI (a bare this.skip(), it.skip or xit would pass CI silently)', () => {
    const bare = /\bthis\.skip\(|\b(?:it|describe|context|specify)\.skip\(|\bx(?:it|describe|context|specify)\(/;
    const found = testSources(TEST_SOURCES)
      .filter((f) => path.basename(f) !== 'ci.ts' && path.basename(f) !== 'ci.test.ts')
      .flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').flatMap((line, i) => (bare.test(line) ? [`${path.relative(TEST_SOURCES, f)}:${i + 1}: ${line.trim()}`] : [])));
    assert.deepStrictEqual(found, []);
  });
});
