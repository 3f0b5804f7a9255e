// The harness's check of how many in-host tests a run reported (test/vscode/harness.ts, suite/index.ts),
// in plain Node: the result line is found in a workbench log and a count other than the expected one, or
// no result line at all, is an error. The in-VS-Code tier runs the real thing (a grep that matches nothing).

import * as assert from 'assert';
import { countMismatch, suiteCounts } from './vscode/harness';
import { SUITE_RESULT_PREFIX } from './vscode/suite/index';

describe('in-VS-Code harness: test counts', () => {
  const line = (counts: object) => `info ${SUITE_RESULT_PREFIX}${JSON.stringify(counts)}`;

  it('reads the last result line of a workbench log', () => {
    const log = ['info   1) a test', line({ tests: 1, passes: 1, failures: 0, pending: 0, grep: '' }), 'info noise', line({ tests: 3, passes: 2, failures: 1, pending: 0, grep: '@main' })];
    assert.deepStrictEqual(suiteCounts(log), { tests: 3, passes: 2, failures: 1, pending: 0, grep: '@main' });
    assert.strictEqual(suiteCounts(['info nothing here']), null);
  });

  it('a count other than the expected one, or none, is an error that says what to check', () => {
    const counts = { tests: 9, passes: 9, failures: 0, pending: 0, grep: '@main' };
    assert.strictEqual(countMismatch(counts, 9), '');
    assert.match(countMismatch(counts, 10), /expected 10 in-host test\(s\) to run, the run reported 9 .*GATESCOPE_TEST_GREP/);
    assert.match(countMismatch({ ...counts, tests: 0, passes: 0 }, 1), /reported 0/);
    assert.match(countMismatch(null, 1), /no result line/);
  });
});
