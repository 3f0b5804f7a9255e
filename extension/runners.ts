// Where a training job runs. Both runners take a TrainingJob and deliver TrainingReports; the
// controller does not care which one it has, except to fall back from the webview to the CPU.
//  - CpuRunner: a worker_threads worker (dist/trainWorker.js) of the extension host.
//  - WebviewRunner: the GateScope panel's WebGPU device; its reports arrive through the panel's
//    message handler, which the controller routes here by run id.

import { Worker } from 'worker_threads';
import { BackendKind, TrainingJob, TrainingReport } from '../kernels/session';
import { ToWebview } from '../webview/protocol';

export interface RunnerEvents {
  report(r: TrainingReport): void;
  /** The runner ended without a 'done' or 'error' report (worker crash, panel closed). */
  lost(reason: string): void;
}

export interface Runner {
  readonly kind: BackendKind;
  stop(): void;
  dispose(): void;
}

export class CpuRunner implements Runner {
  readonly kind = 'cpu' as const;
  private readonly worker: Worker;
  private finished = false;

  constructor(workerPath: string, job: TrainingJob, events: RunnerEvents) {
    this.worker = new Worker(workerPath, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 4096 } });
    this.worker.on('message', (r: TrainingReport) => {
      if (r.kind === 'done' || r.kind === 'error') this.finished = true;
      events.report(r);
    });
    this.worker.on('error', (e) => {
      if (this.finished) return;
      this.finished = true;
      events.lost(`the CPU training worker failed: ${e.message}`);
    });
    this.worker.on('exit', (code) => {
      if (this.finished) return;
      this.finished = true;
      events.lost(`the CPU training worker exited with code ${code}`);
    });
  }

  stop(): void {
    this.worker.postMessage({ type: 'stop' });
  }

  dispose(): void {
    this.finished = true;
    void this.worker.terminate();
  }
}

export class WebviewRunner implements Runner {
  readonly kind = 'webgpu' as const;

  constructor(private readonly post: (m: ToWebview) => Promise<boolean>, private readonly runId: number, job: TrainingJob, events: RunnerEvents) {
    void post({ type: 'train', job }).then((ok) => {
      if (!ok) events.lost('the GateScope panel could not be reached');
    });
  }

  stop(): void {
    void this.post({ type: 'stop', runId: this.runId });
  }

  dispose(): void {
    // The webview stops on its own when its run is aborted or the view goes away.
  }
}
