// Waiting helpers the in-host suites share: polling until a condition holds, and timing command round
// trips through the extension host while something else runs (its responsiveness).

import * as vscode from 'vscode';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `get` every `pollMs` until `ok` holds for its value; past the timeout, fails with `what` and the last value. */
export async function until<T>(what: string, get: () => PromiseLike<T>, ok: (v: T) => boolean, timeoutMs = 60_000, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last: ${JSON.stringify(v)?.slice(0, 800)}`);
    await sleep(pollMs);
  }
}

/**
 * Runs `command` again and again, `pauseMs` apart, until stop(): how many round trips there were and
 * the slowest one (ms).
 */
export function commandProbe(command: string, pauseMs: number): { stop(): Promise<{ calls: number; worst: number }> } {
  let running = true, calls = 0, worst = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await vscode.commands.executeCommand(command);
      worst = Math.max(worst, performance.now() - t0);
      calls++;
      await sleep(pauseMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { calls, worst };
    },
  };
}
