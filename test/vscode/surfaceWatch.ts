// Watches GateScope's progress surfaces in the workbench from outside (the browser): the GateScope
// status-bar item, VS Code's own progress entry in the status bar, the notifications (toasts, and the
// notification center's list: with the smoke-test driver that the in-host runs need, VS Code shows no
// toasts, so a test opens the center to see them), and the panel's status line, backend note and its
// Backend and Adapter statistics. MutationObservers inside the pages record every change with
// its time (Date.now(): the same clock as the extension host on this machine), so a state that lasts
// a few milliseconds is not missed between polls; the Node side drains the records every 200 ms.
// Also the panel-form driver for the settings test (type a value into a field of the panel).

import type { Frame, Page } from 'playwright-core';

export interface WorkbenchSample {
  t: number;
  /** The GateScope status-bar item's text ('' when it is not there). */
  status: string;
  /** VS Code's own progress entry in the status bar (shown for a hidden progress notification), '' when there is none. */
  progressEntry: string;
  /** Text of each notification on screen (toasts and the notification center's rows). */
  notifications: string[];
}

export interface PanelSample {
  t: number;
  status: string;
  message: string;
  note: string;
  saved: string;
  /** The run statistics' Backend and Adapter values. */
  backend: string;
  adapter: string;
}

export interface SurfaceWatch {
  workbench: WorkbenchSample[];
  panel: PanelSample[];
  stop(): Promise<void>;
}

/** Runs in the page: records a snapshot into window.__gsSamples whenever it differs from the last one. */
function installObserver(spec: { key: string; fields: Record<string, string>; lists: Record<string, string>; flags: Record<string, string> }): void {
  const w = window as unknown as Record<string, unknown>;
  if (w[spec.key]) return;
  const samples: Record<string, unknown>[] = [];
  w[spec.key] = samples;
  let last = '';
  const snap = () => {
    const s: Record<string, unknown> = {};
    for (const [k, sel] of Object.entries(spec.fields)) {
      const el = document.querySelector(sel) as HTMLElement | null;
      s[k] = el && !el.closest('[hidden]') ? (el.textContent ?? '').trim() : '';
    }
    for (const [k, sel] of Object.entries(spec.lists)) s[k] = Array.from(document.querySelectorAll(sel), (e) => (e.textContent ?? "").trim());
    for (const [k, sel] of Object.entries(spec.flags)) s[k] = document.querySelector(sel) !== null;
    const json = JSON.stringify(s);
    if (json === last) return;
    last = json;
    samples.push({ t: Date.now(), ...s });
  };
  snap();
  new MutationObserver(snap).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['hidden', 'class'] });
}

const WORKBENCH_KEY = '__gsWorkbenchSamples';
const PANEL_KEY = '__gsPanelSamples';

/** The frame of the GateScope panel's document, or null while it is not open. */
export async function panelFrame(page: Page): Promise<Frame | null> {
  for (const f of page.frames()) {
    const found = await f.evaluate(() => document.querySelector('main#app.gatescope') !== null).catch(() => false);
    if (found) return f;
  }
  return null;
}

export function watchSurfaces(page: Page, statusSelector: string): SurfaceWatch {
  const workbench: WorkbenchSample[] = [];
  const panel: PanelSample[] = [];
  let running = true;
  const drain = async <T>(target: { evaluate: Page['evaluate'] }, key: string, into: T[]) => {
    const got = await target.evaluate((k) => ((window as unknown as Record<string, unknown[]>)[k] ?? []).splice(0), key).catch(() => [] as unknown[]);
    into.push(...(got as T[]));
  };
  const loop = (async () => {
    let frame: Frame | null = null;
    while (running && !page.isClosed()) {
      await page.evaluate(installObserver, {
        key: WORKBENCH_KEY, fields: { status: statusSelector, progressEntry: '[id="status.progress"]' },
        lists: { notifications: '.notifications-toasts .notification-toast, .notifications-center .monaco-list-row' }, flags: {},
      }).catch(() => undefined);
      await drain(page, WORKBENCH_KEY, workbench);
      if (!frame || frame.isDetached()) frame = await panelFrame(page);
      if (frame) {
        await frame.evaluate(installObserver, {
          key: PANEL_KEY, fields: {
            status: '.status-text', message: '.status-message', note: '.gpu-note', saved: '.saved-note', backend: '[data-stat="backend"]', adapter: '[data-stat="adapter"]',
          },
          lists: {}, flags: {},
        }).catch(() => undefined);
        await drain(frame, PANEL_KEY, panel);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    workbench,
    panel,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Types `value` into the panel's text field `id` (e.g. 'field-hiddenSize') as a user would, then Tab. */
export async function typeIntoPanelField(page: Page, id: string, value: string): Promise<void> {
  const frame = await panelFrame(page);
  if (!frame) throw new Error('the GateScope panel is not open');
  const field = frame.locator(`#${id}`);
  await field.click();
  const input = frame.locator(`#${id} input, #${id} >> input`).first();
  await input.fill(value);
  await input.press('Tab');
}
