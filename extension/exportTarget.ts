// Where Export Model… suggests saving, and what it calls the button that shows the saved file. Pure
// (no vscode import), so plain-Node tests check it: outside the workspace (an exported binary is not
// the project's, and in the workspace it shows up as an untracked file), in the last export folder or
// the home folder, under a name that says which model it is.

import * as path from 'path';
import type { ModelConfig } from '../kernels/config';

/** What the operating system's file manager is called on the button that shows an exported file (VS Code's own names). */
export function revealLabel(platform: string): string {
  return platform === 'darwin' ? 'Reveal in Finder' : platform === 'win32' ? 'Reveal in File Explorer' : 'Open Containing Folder';
}

/** A file name that says which model it is: workspace, cell, layers × hidden size and step. */
export function exportFileName(config: Pick<ModelConfig, 'cell' | 'numLayers' | 'hiddenSize'>, step: number, workspaceName: string | undefined): string {
  const ws = (workspaceName ?? '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 40);
  return `gatescope-${ws ? `${ws}-` : ''}${config.cell}-${config.numLayers}x${config.hiddenSize}-step${step}.safetensors`;
}

/** The suggested export path: the last export folder (when it is an absolute path), else the home folder. */
export function defaultExportPath(lastFolder: unknown, home: string, fileName: string): string {
  const folder = typeof lastFolder === 'string' && path.isAbsolute(lastFolder) ? lastFolder : home;
  return path.join(folder, fileName);
}
