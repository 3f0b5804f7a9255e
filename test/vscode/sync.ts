// Hand-over between an in-host spec (inside the extension host) and the harness's driver (outside, with
// the browser): each side writes a JSON file into a shared folder when it reaches a step, and waits for the
// other's. Files are written atomically (a temporary name, then rename), so a reader never sees half of one.
// Plain Node: the spec and the driver both import it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from '../../kernels/node/atomicWrite';

/** Writes value as JSON to file through a temporary file and a rename (the project's atomic write). */
export function writeJsonAtomic(file: string, value: unknown): void {
  atomicWriteFileSync(file, JSON.stringify(value, null, 2));
}

/**
 * Resolves with the parsed content of file once it exists, polling every 100 ms. Rejects after timeoutMs
 * with a message that names what was awaited, or as soon as stillWaiting() returns a reason to give up.
 */
export async function waitForJson<T>(file: string, what: string, timeoutMs: number, stillWaiting: () => string | undefined = () => undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
    const giveUp = stillWaiting();
    if (giveUp) throw new Error(`gave up waiting for ${what} (${file}): ${giveUp}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s (${file} never appeared)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The screenshot driver's request for the i-th theme ({ theme }), and the in-host spec's answer once it is set. */
export const themeRequest = (dir: string, i: number): string => path.join(dir, `theme-request-${i}.json`);
export const themeApplied = (dir: string, i: number): string => path.join(dir, `theme-applied-${i}.json`);

/** The files of one hand-over folder. */
export function syncFiles(dir: string): { hostReady: string; driverDone: string } {
  return { hostReady: path.join(dir, 'host-ready.json'), driverDone: path.join(dir, 'driver-done.json') };
}
