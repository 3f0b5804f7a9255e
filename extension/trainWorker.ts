// The CPU training worker: a worker_threads thread of the extension host that runs one TrainingJob on
// the CPU, so the extension host's event loop never waits for a training step: on the WebAssembly
// SIMD engine with the setting's thread count (its pool's threads are nested workers of this one), or
// on the TypeScript reference where the host found no WebAssembly SIMD (the host decides and says so:
// extension/trainingRuns.ts). It posts the same TrainingReports as the webview's WebGPU runner
// (checkpoint bytes are transferred, not copied) and stops when the parent posts {type: 'stop'}.
// With `probe` instead of a job it times a few steps of a model on the WebAssembly engine (auto's
// probe) and posts the timing. Built by webpack into dist/trainWorker.js.

import { parentPort, workerData } from 'worker_threads';
import { probeBackend } from '../kernels/backendChoice';
import { initParams } from '../kernels/params';
import { TrainingReport, runTrainingJob } from '../kernels/session';
import { applyNoSimdEnv, referenceEngine, wasmEngine } from '../cli/engines';
import { TrainWorkerData } from './runners';

const port = parentPort;
if (!port) throw new Error('trainWorker.js runs only as a worker thread');

const data = workerData as TrainWorkerData;
// The host decided with the same check; GATESCOPE_NO_WASM_SIMD must reach this thread's kernels too.
applyNoSimdEnv();

if (data.probe) {
  const { config, batch, optim, seed } = data.probe;
  const engine = wasmEngine(data.threads, batch);
  void probeBackend(() => engine.createBackend(config, initParams(config, seed), optim, { dropoutSeed: seed }), config.vocabSize, batch.seqLen, batch.batchSize)
    .then((timing) => port.postMessage({ kind: 'probe', timing }))
    .finally(() => {
      engine.dispose();
      port.close();
    });
} else {
  const job = data.job!;
  const abort = new AbortController();
  port.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stop') abort.abort();
  });
  const emit = (r: TrainingReport) => port.postMessage(r, r.kind === 'checkpoint' ? [r.model.buffer as ArrayBuffer, r.optimizer.buffer as ArrayBuffer] : []);
  const engine = data.engine === 'wasm' ? wasmEngine(data.threads, job.batch) : referenceEngine();
  runTrainingJob(job, engine.info, engine.createBackend, emit, abort.signal)
    .finally(() => {
      engine.dispose();
      port.close();
    });
}
