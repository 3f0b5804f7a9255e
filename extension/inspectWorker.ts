// The inspector worker: a worker_threads thread of the extension host (built by webpack into
// dist/inspectWorker.js) that computes everything the inspector shows (extension/inspectEngine.ts), so
// the extension host's event loop never computes an activation. Messages are handled in order, except
// that an inspection superseded by a newer one that has already arrived is dropped unrun (answered
// 'stale'); a corpus match is asynchronous (it yields while it runs), so inspections and its
// cancellation get through while it computes.

import { parentPort } from 'worker_threads';
import { applyNoSimdEnv } from '../cli/engines';
import { InspectEngine, StaleModelError } from './inspectEngine';
import { FromInspectWorker, ToInspectWorker, transferList } from './inspectWorkerProtocol';

applyNoSimdEnv(); // GATESCOPE_NO_WASM_SIMD=1: inference on the reference engine in this thread too
const port = parentPort;
if (!port) throw new Error('inspectWorker.js runs only as a worker thread');

const engine = new InspectEngine();
/** The newest inspection not yet run (a newer one replaces it). */
let pendingInspect: Extract<ToInspectWorker, { type: 'inspect' }> | null = null;

const send = (m: FromInspectWorker) => port.postMessage(m, transferList(m));

function fail(id: number, e: unknown): void {
  send({ type: 'error', id, message: e instanceof Error ? e.message : String(e), stale: e instanceof StaleModelError });
}

function runPendingInspect(): void {
  const req = pendingInspect;
  pendingInspect = null;
  if (!req) return;
  try {
    send(engine.inspect(req));
  } catch (e) {
    fail(req.id, e);
  }
}

port.on('message', (m: ToInspectWorker) => {
  if (m.type === 'inspect') {
    // Run it on the next turn, after any newer request already waiting in the port's queue.
    if (pendingInspect) send({ type: 'error', id: pendingInspect.id, message: 'superseded by a newer inspection', stale: true });
    else setImmediate(runPendingInspect);
    pendingInspect = m;
    return;
  }
  if (m.type === 'cancel') {
    engine.cancel(m.id);
    return;
  }
  if (m.type === 'model') {
    try {
      engine.setModel(m.key, m.bytes);
    } catch (e) {
      // Every request made for this model fails as stale; the host has already checked these bytes.
      send({ type: 'error', id: 0, message: `the inspector could not load the model: ${e instanceof Error ? e.message : String(e)}`, stale: false });
    }
    return;
  }
  if (m.type === 'match') {
    engine.match(m, send).then(send, (e) => fail(m.id, e));
    return;
  }
  try {
    send(m.type === 'unitValues' ? engine.unitValues(m) : m.type === 'saturation' ? engine.saturation(m) : engine.sample(m));
  } catch (e) {
    fail(m.id, e);
  }
});
