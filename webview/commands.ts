// Which panel buttons make sense in which training status, and which one is the primary action
// (Resume when there is a model to continue, Train otherwise). DOM-free.

import type { PanelCommand, PanelState } from './protocol';

export const COMMANDS: readonly { command: PanelCommand; label: string; title: string }[] = [
  { command: 'train', label: 'Train', title: "Collect the workspace's text files and train a new model on them" },
  { command: 'stop', label: 'Stop', title: 'Stop training (the last checkpoint is kept)' },
  { command: 'resume', label: 'Resume', title: 'Continue training the current model from its last checkpoint' },
  { command: 'reset', label: 'Reset', title: 'Forget the current model and its history' },
  // The same names as the command palette's "GateScope: Export Model…" and "GateScope: Import Model…".
  { command: 'export', label: 'Export Model…', title: 'Save the model as a .safetensors file that PyTorch loads' },
  { command: 'import', label: 'Import Model…', title: 'Load a model from a .safetensors file' },
];

/** The commands that are enabled in a state (none before the first state arrives). */
export function enabledCommands(state: Pick<PanelState, 'status' | 'model' | 'step'> | null): Set<PanelCommand> {
  const on = new Set<PanelCommand>();
  if (!state) return on;
  const hasModel = modelExists(state);
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

function modelExists(state: Pick<PanelState, 'model' | 'step'>): boolean {
  return state.model !== null || state.step > 0;
}

/** The button drawn as the primary one: Resume when there is a model to continue, Train otherwise. */
export function primaryCommand(state: Pick<PanelState, 'model' | 'step'> | null): PanelCommand {
  return state && modelExists(state) ? 'resume' : 'train';
}
