// Which panel buttons make sense in which training status. DOM-free.

import type { PanelCommand, PanelState } from './protocol';

export const COMMANDS: readonly { command: PanelCommand; label: string; title: string; primary?: boolean }[] = [
  { command: 'train', label: 'Train', title: "Collect the workspace's text files and train a model on them", primary: true },
  { command: 'stop', label: 'Stop', title: 'Stop training (the last checkpoint is kept)' },
  { command: 'resume', label: 'Resume', title: 'Continue training the current model from its last checkpoint' },
  { command: 'reset', label: 'Reset', title: 'Forget the current model and its history' },
  { command: 'export', label: 'Export…', title: 'Save the model as a .safetensors file that PyTorch loads' },
  { command: 'import', label: 'Import…', title: 'Load a model from a .safetensors file' },
];

/** The commands that are enabled in a state (none before the first state arrives). */
export function enabledCommands(state: Pick<PanelState, 'status' | 'model' | 'step'> | null): Set<PanelCommand> {
  const on = new Set<PanelCommand>();
  if (!state) return on;
  const hasModel = state.model !== null || state.step > 0;
  switch (state.status) {
    case 'idle':
    case 'paused':
    case 'error':
      on.add('train').add('import');
      if (hasModel) on.add('resume').add('reset').add('export');
      break;
    case 'collecting':
    case 'training':
      on.add('stop');
      if (hasModel) on.add('export');
      break;
    case 'stopping':
      break;
  }
  return on;
}
