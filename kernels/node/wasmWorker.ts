// A helper thread of the WebAssembly thread pool (kernels/node/wasmPool.ts): it instantiates the kernels on
// the pool's shared memory and runs the jobs the calling thread posts through the command block
// (kernels/wasm/pool.ts serveKernels) until the pool is disposed. Built by webpack into dist/wasmWorker.js,
// beside the bundles that start it; tsc's copy is out/kernels/node/wasmWorker.js.

import { parentPort, workerData } from 'worker_threads';
import { HelperData, serveKernels } from '../wasm/pool';

const port = parentPort;
if (!port) throw new Error('wasmWorker.js runs only as a worker thread of the WebAssembly thread pool');
serveKernels(workerData as HelperData, () => port.postMessage('ready'));
