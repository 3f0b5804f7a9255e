// The CPU training worker: a worker_threads thread of the extension host that runs one TrainingJob
// on the CPU backend, so the extension host's event loop never waits for a training step. It posts
// the same TrainingReports as the webview's WebGPU runner (checkpoint bytes are transferred, not
// copied) and stops when the parent posts {type: 'stop'}. Built by webpack into dist/trainWorker.js.

import * as os from 'os';
import { parentPort, workerData } from 'worker_threads';
import { CpuBackend } from '../kernels/cpu/backend';
import { TrainingJob, TrainingReport, runTrainingJob } from '../kernels/session';

const port = parentPort;
if (!port) throw new Error('trainWorker.js runs only as a worker thread');

const abort = new AbortController();
port.on('message', (m: unknown) => {
  if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stop') abort.abort();
});

const emit = (r: TrainingReport) => port.postMessage(r, r.kind === 'checkpoint' ? [r.model.buffer as ArrayBuffer, r.optimizer.buffer as ArrayBuffer] : []);
const cpu = os.cpus()[0]?.model?.trim() || os.arch();
runTrainingJob(workerData as TrainingJob, { backend: 'cpu', adapter: `${cpu}, 1 thread` }, async (c, p, o, opts) => new CpuBackend(c, p, o, opts), emit, abort.signal)
  .finally(() => port.close());
