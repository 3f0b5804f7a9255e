// Where Export Model… suggests saving (extension/exportTarget.ts): outside the workspace, in the last
// export folder or the home folder, under a name that says which model it is; and the Reveal button's name.

import * as assert from 'assert';
import * as path from 'path';
import { defaultExportPath, exportFileName, revealLabel } from '../extension/exportTarget';

describe('export target', () => {
  const lstm = { cell: 'lstm' as const, numLayers: 2, hiddenSize: 128 };

  it('names the file after the workspace and the model', () => {
    assert.strictEqual(exportFileName(lstm, 420, 'lib'), 'gatescope-lib-lstm-2x128-step420.safetensors');
    assert.strictEqual(exportFileName(lstm, 7, 'my project (copy)/..'), 'gatescope-my-project-copy-lstm-2x128-step7.safetensors');
    assert.strictEqual(exportFileName({ cell: 'gru', numLayers: 1, hiddenSize: 16 }, 0, undefined), 'gatescope-gru-1x16-step0.safetensors');
  });

  it('suggests the last export folder, else the home folder, never a relative (workspace) path', () => {
    const home = path.resolve('/home/someone');
    const last = path.resolve('/data/models');
    assert.strictEqual(defaultExportPath(last, home, 'm.safetensors'), path.join(last, 'm.safetensors'));
    for (const bad of [undefined, null, 42, '', 'relative/dir', { dir: last }]) assert.strictEqual(defaultExportPath(bad, home, 'm.safetensors'), path.join(home, 'm.safetensors'), JSON.stringify(bad));
  });

  it('calls the reveal button what VS Code calls it on each platform', () => {
    assert.strictEqual(revealLabel('darwin'), 'Reveal in Finder');
    assert.strictEqual(revealLabel('win32'), 'Reveal in File Explorer');
    assert.strictEqual(revealLabel('linux'), 'Open Containing Folder');
  });
});
