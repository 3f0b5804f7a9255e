// Where a training job runs. Both runners take a TrainingJob and deliver TrainingReports; the
// controller does not care which one it has, except to fall back from the webview to the CPU.
//  - CpuRunner: a worker_threads worker (dist/trainWorker.js) of the extension host, on the
//    WebAssembly SIMD engine with N threads ('wasm') or on the reference engine ('cpu').
//  - WebviewRunner: the GateScope panel's WebGPU device; its reports arrive through the panel's
//    message handler, which the controller routes here by run id.

import { Worker } from 'worker_threads';
import { ProbeTiming } from '../kernels/backendChoice';
import { ModelConfig, OptimConfig } from '../kernels/config';
import { BackendKind, TrainingJob, TrainingReport } from '../kernels/session';
import { ToWebview } from '../webview/protocol';

export interface RunnerEvents {
  report(r: TrainingReport): void;
  /** The runner ended without a 'done' or 'error' report (worker crash, panel closed). */
  lost(reason: string): void;
}

export interface Runner {
  readonly kind: BackendKind;
  /** Threads it computes on (the WebAssembly engine's setting; 1 for the reference; 0 for WebGPU). */
  readonly threads: number;
  stop(): void;
  dispose(): void;
}

/** What dist/trainWorker.js is started with: a job to run, or a model to time (auto's probe). */
export interface TrainWorkerData {
  engine: 'wasm' | 'cpu';
  /** Threads of the WebAssembly engine (resolved: at least 1). */
  threads: number;
  job?: TrainingJob;
  probe?: { config: ModelConfig; batch: { seqLen: number; batchSize: number }; optim: OptimConfig; seed: number };
}

export class CpuRunner implements Runner {
  private readonly worker: Worker;
  private finished = false;

  constructor(workerPath: string, job: TrainingJob, readonly kind: 'wasm' | 'cpu', readonly threads: number, events: RunnerEvents) {
    const data: TrainWorkerData = { engine: kind, threads, job };
    this.worker = new Worker(workerPath, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 4096 } });
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
  readonly threads = 0;

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

/**
 * Times a few steps of a model on the WebAssembly engine in a worker of its own (auto's probe); never
 * rejects, and a worker that takes longer than `timeoutMs` is ended and counts as a failed probe.
 */
export function probeWasmInWorker(workerPath: string, probe: NonNullable<TrainWorkerData['probe']>, threads: number, timeoutMs: number): Promise<ProbeTiming> {
  return new Promise((resolve) => {
    const data: TrainWorkerData = { engine: 'wasm', threads, probe };
    const worker = new Worker(workerPath, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 4096 } });
    let timing: ProbeTiming = { ok: false, error: 'the probe worker ended without a result' };
    const timer = setTimeout(() => {
      timing = { ok: false, error: `the probe took longer than ${Math.round(timeoutMs / 1000)} s` };
      void worker.terminate();
    }, timeoutMs);
    worker.on('message', (m: { kind?: string; timing?: ProbeTiming }) => {
      if (m?.kind === 'probe' && m.timing) timing = m.timing;
    });
    worker.on('error', (e) => {
      timing = { ok: false, error: `the probe worker failed: ${e.message}` };
    });
    worker.on('exit', () => {
      clearTimeout(timer);
      resolve(timing);
    });
  });
}
