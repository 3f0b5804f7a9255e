// The outside half of the panel's theme screenshots (the in-host half, suite/screenshots.spec.ts, trains a
// model, opens an editor beside the panel and sets the colour theme this driver asks for): for each
// built-in theme family, have the theme set, wait until the workbench and the panel's document both wear
// it and the chart has redrawn, and
// save a PNG cropped to the panel and the editor beside it. With GATESCOPE_UPDATE_SCREENSHOT=1 the
// caller copies them into media/ (they are looked at by a person: contrast is judged there).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Workbench, browserState, webviewFrame } from './harness';
import { syncFiles, themeApplied, themeRequest, waitForJson, writeJsonAtomic } from './sync';

export interface ThemeShot {
  /** File name stem: media/panel-<name>.png. */
  name: string;
  /** The theme's label, the value of workbench.colorTheme. */
  theme: string;
  /** The class the workbench element carries in this theme. */
  workbenchClass: string;
  /** The class the webview's body carries in this theme (and, for hc, the one it must not carry). */
  bodyClass: string;
  notBodyClass?: string;
}

export const THEME_SHOTS: readonly ThemeShot[] = [
  { name: 'light', theme: 'Default Light Modern', workbenchClass: 'vs', bodyClass: 'vscode-light' },
  { name: 'dark', theme: 'Default Dark Modern', workbenchClass: 'vs-dark', bodyClass: 'vscode-dark' },
  { name: 'hc', theme: 'Default High Contrast', workbenchClass: 'hc-black', bodyClass: 'vscode-high-contrast', notBodyClass: 'vscode-high-contrast-light' },
  { name: 'hc-light', theme: 'Default High Contrast Light', workbenchClass: 'hc-light', bodyClass: 'vscode-high-contrast-light' },
];

/** The colours a theme's screenshot shows, as the browser computed them ('rgb(...)'), for the contrast checks. */
export interface ThemeColors {
  theme: string;
  /** The chart canvas's background. */
  chartBackground: string;
  /** Each series' colour as its legend swatch shows it (the chart draws the same). */
  series: string[];
  /** The panel's background and the "Plot against wall time" checkbox's box border. */
  panelBackground: string;
  checkboxBorder: string;
}

/** Width of the editor shown beside the panel in a screenshot (CSS pixels). */
const EDITOR_WIDTH = 300;

/**
 * Photographs the panel in every theme of THEME_SHOTS into outDir/panel-<name>.png once the in-host spec
 * is ready; returns the files. Always writes the hand-over file for the spec.
 */
export async function takeThemeScreenshots(wb: Workbench, syncDir: string, outDir: string): Promise<{ files: string[]; colors: ThemeColors[] }> {
  const sync = syncFiles(syncDir);
  const problems: string[] = [];
  const files: string[] = [];
  const colors: ThemeColors[] = [];
  try {
    const { page } = wb;
    let hostExited = false;
    void wb.exited.then(() => (hostExited = true));
    await waitForJson(sync.hostReady, 'the in-host screenshot spec to train and open the editor', 8 * 60_000, () =>
      page.isClosed() ? 'the workbench page closed' : hostExited ? 'the extension host exited (the in-host spec failed: see its report)' : undefined);
    const body = webviewFrame(page, 'gatescope.gatescope').locator('body');
    fs.mkdirSync(outDir, { recursive: true });
    for (const [i, shot] of THEME_SHOTS.entries()) {
      writeJsonAtomic(themeRequest(syncDir, i), { theme: shot.theme });
      await waitForJson(themeApplied(syncDir, i), `the in-host spec to set ${shot.theme}`, 60_000);
      await page.waitForFunction((cls) => document.querySelector('.monaco-workbench')?.classList.contains(cls) ?? false, shot.workbenchClass, { timeout: 60_000 });
      for (const until = Date.now() + 60_000; ; await page.waitForTimeout(200)) {
        const classes = await body.evaluate((b) => Array.from(b.classList));
        if (classes.includes(shot.bodyClass) && !(shot.notBodyClass && classes.includes(shot.notBodyClass))) break;
        if (Date.now() > until) throw new Error(`the panel did not take the ${shot.theme} theme: body classes ${JSON.stringify(classes)}`);
      }
      // The chart redraws on the next animation frame after the theme's variables change.
      await body.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
      const sidebar = await page.locator('.part.sidebar').boundingBox();
      const editor = await page.locator('.part.editor').boundingBox();
      if (!sidebar || !editor) throw new Error('no side bar or editor part to photograph');
      const x = Math.min(sidebar.x, editor.x);
      const right = Math.min(Math.max(sidebar.x + sidebar.width, editor.x + editor.width), Math.max(sidebar.x + sidebar.width, editor.x) + EDITOR_WIDTH);
      const file = path.join(outDir, `panel-${shot.name}.png`);
      await page.screenshot({ path: file, clip: { x, y: sidebar.y, width: right - x, height: sidebar.height } });
      files.push(file);
      colors.push({
        theme: shot.theme,
        ...(await body.evaluate((b) => {
          const style = (el: Element | null | undefined, prop: string) => (el ? getComputedStyle(el).getPropertyValue(prop) : '');
          const doc = b.ownerDocument;
          const box = doc.querySelector('vscode-checkbox')?.shadowRoot?.querySelector('.control');
          return {
            chartBackground: style(doc.querySelector('.chart-canvas'), 'background-color'),
            series: Array.from(doc.querySelectorAll('.legend-swatch')).map((sw) => style(sw, 'border-top-color')),
            panelBackground: style(b, 'background-color'),
            checkboxBorder: style(box, 'border-top-color'),
          };
        })),
      });
    }
  } catch (e) {
    problems.push(`${e instanceof Error ? e.message : String(e)}\n${browserState(wb)}`);
  } finally {
    writeJsonAtomic(sync.driverDone, { problems });
  }
  if (problems.length) throw new Error(`theme screenshots failed: ${problems.join('; ')}`);
  return { files, colors };
}
