// A stand-in for CompletionEngine inside the completion worker (loaded through CompletionWorkerData's
// engineModule), for test/completionWorker.test.ts: it checks the worker's protocol and cancellation
// independently of the model. What it does depends on the request's text:
//  - ends with "spin": steps until isCancelled() says stop (at most SPIN_LIMIT_MS, then it answers
//    "finished", so a broken cancellation fails the test rather than hanging it); it tells the host it
//    started through a 'problem' message "spinning <id>";
//  - ends with "calls": answers the calls it has seen (JSON) as the suggestion's text;
//  - ends with "crash": ends the worker thread;
//  - anything else: answers "<doc>:<text.length>:<after>".
// warm() spins until cancelled too, counting its slices, and reports each in a 'problem' message.

import { parentPort } from 'worker_threads';
import type { CompletionModel, CompleteRequest, CompleteResult } from '../kernels/complete/engine';
import { CancelledError, StateCacheOptions } from '../kernels/complete/types';
import type { WorkerEngine } from '../extension/completionWorker';

const SPIN_LIMIT_MS = 20_000;
const calls: string[] = [];

function say(message: string): void {
  parentPort!.postMessage({ type: 'problem', message });
}

export function createEngine(model: CompletionModel, cache: StateCacheOptions): WorkerEngine {
  calls.push(`create vocab=${model.session.vocabSize} maxBytes=${cache.maxBytes}`);
  const result = (text: string): CompleteResult => ({ suggestion: { text, confidence: 0.5, tokens: 1 }, reason: 'shown', tokensRead: 0, contextStart: 0 });
  return {
    cache: { bytes: 1234 },
    complete(req: CompleteRequest): CompleteResult {
      calls.push(`complete ${req.doc} ${req.text.length}`);
      if (req.text.endsWith('spin')) {
        say(`spinning ${req.text}`);
        const t0 = Date.now();
        let steps = 0;
        while (Date.now() - t0 < SPIN_LIMIT_MS) {
          steps++;
          if (req.isCancelled?.()) {
            calls.push(`cancelled after ${steps} steps`);
            throw new CancelledError();
          }
        }
        return result('finished');
      }
      if (req.text.endsWith('calls')) return result(JSON.stringify(calls));
      if (req.text.endsWith('crash')) process.exit(3);
      return result(`${req.doc}:${req.text.length}:${req.after}`);
    },
    warm(doc: string, text: string, isCancelled?: () => boolean): void {
      calls.push(`warm ${doc} ${text.length}`);
      say(`warming ${doc} ${calls.filter((c) => c.startsWith('warm ')).length}`);
      while (!isCancelled?.()) {
        // Spins like a long read until the slice ends or a newer request comes.
      }
      throw new CancelledError();
    },
    edit(doc: string, offset: number): void {
      calls.push(`edit ${doc} ${offset}`);
    },
    close(doc: string): void {
      calls.push(`close ${doc}`);
    },
  };
}
