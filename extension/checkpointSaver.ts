// Saving one run's checkpoints: each 'checkpoint' report is written to the model store (checked and
// atomic, see store.ts) in the order the reports came, one write at a time; a failed write is logged
// and shown, and the run goes on (its next checkpoint may succeed). The run waits for `settled()`
// before it reports its end, so the last checkpoint is on disk when a Stop resolves.

import * as vscode from 'vscode';
import { ModelStore } from './store';

export class CheckpointSaver {
  private chain: Promise<void> = Promise.resolve();
  /** Step of the last checkpoint written, -1 before the first. */
  lastSavedStep = -1;

  constructor(
    private readonly store: ModelStore,
    private readonly log: vscode.LogOutputChannel,
    /** Called after each successful write (the "has a model" context key follows it). */
    private readonly onSaved: () => void,
  ) {}

  /** Queues a checkpoint write behind the earlier ones. */
  save(what: string, checkpoint: { step: number; model: Uint8Array; optimizer: Uint8Array }): void {
    this.chain = this.chain.then(async () => {
      try {
        const ck = await this.store.save(checkpoint.model, checkpoint.optimizer);
        this.lastSavedStep = ck.step;
        this.log.info(`${what}: checkpoint at step ${ck.step} saved to ${this.store.modelPath}`);
        this.onSaved();
      } catch (e) {
        this.log.error(`${what}: the checkpoint at step ${checkpoint.step} was not saved: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`GateScope could not save the checkpoint at step ${checkpoint.step}: ${(e as Error).message}`);
      }
    });
  }

  /** Resolves once every write queued so far has ended. */
  settled(): Promise<void> {
    return this.chain;
  }
}
