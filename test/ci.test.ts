// test/ci.ts: which CI values count as CI (a check that treats CI=false as CI, or CI=true as not,
// would turn a skip into a failure on a developer's machine or a failure into a skip under CI).

import * as assert from 'assert';
import { isCI, skipOrFailUnderCI } from './ci';

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
});
