// extension/api.ts stands alone (another extension copies it as is): it imports nothing, and its types
// equal GateScope's own. The equalities are checked by the compiler: if a report, the model config or
// the history point changes on one side only, `tsc` fails on this file.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type * as api from '../extension/api';
import type { HistoryPoint } from '../kernels/checkpoint';
import type { ModelConfig } from '../kernels/config';
import type { BackendKind } from '../kernels/session';
import type { DisplayReport } from '../webview/protocol';

/** true when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

const sameTypes: [
  Equal<api.TrainingReportEvent, DisplayReport>,
  Equal<api.ModelConfig, ModelConfig>,
  Equal<api.HistoryPoint, HistoryPoint>,
  Equal<api.BackendKind, BackendKind>,
] = [true, true, true, true];

describe('extension/api.ts', () => {
  it('imports nothing, so it can be copied as is', () => {
    const source = fs.readFileSync(path.join(__dirname, '..', '..', 'extension', 'api.ts'), 'utf8');
    const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    assert.deepStrictEqual(code.match(/\bimport\b|\brequire\s*\(/g) ?? [], []);
    assert.deepStrictEqual(sameTypes, [true, true, true, true]);
  });
});
