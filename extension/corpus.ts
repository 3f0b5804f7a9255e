// Collects the workspace's text into one training corpus: lists every folder's files with findFiles
// (and files.exclude), reads its .gitignore files, stats what was listed, and lets the corpus planner
// (kernels/corpusPlan.ts, which the CLI uses too) decide what to read and what to skip and why; then
// reads the plan in order and assembles the text (secrets, oversized files and files past the cap are
// never read). It works in short slices so the extension host stays responsive, reports
// progress, stops promptly when cancelled, and logs what it took and every file it skipped.

import * as vscode from 'vscode';
import { CorpusSkip, FolderListing, GitignoreFile, ListedFile, ReadResult, assembleCorpus, excludeGlobs, findFilesExclude, planCorpus, summarizeSkipped } from '../kernels/corpusPlan';
import { GateScopeError } from '../kernels/errors';
import { formatBytes } from '../kernels/format';

export type { CorpusSkip };

export interface CorpusSettings {
  /** Glob of the files to consider, relative to each workspace folder. */
  include: string;
  /** Globs to leave out, on top of files.exclude. */
  exclude: string[];
  maxFileBytes: number;
  maxCorpusBytes: number;
}

export interface CorpusFile {
  uri: string;
  /** Workspace-relative; prefixed with the folder name when the workspace has several folders. */
  path: string;
  bytes: number;
}

export interface CollectedCorpus {
  text: string;
  files: CorpusFile[];
  /** Where files[i]'s text lies in `text`, UTF-16 [start, end) (for the inspector's matches). */
  spans: { start: number; end: number }[];
  skipped: CorpusSkip[];
  bytes: number;
  folders: number;
  elapsedMs: number;
}

export interface CollectOptions {
  token?: vscode.CancellationToken;
  report?: (message: string, fraction: number) => void;
  log: vscode.LogOutputChannel;
}

/** How many stats or reads are in flight at once. */
const CONCURRENCY = 16;
/** Synchronous work between yields to the extension host. */
const SLICE_MS = 20;
/** Shares of the progress bar: listing, then checking sizes, then reading. */
const LISTED = 0.05;
const CHECKED = 0.25;

export async function collectWorkspaceCorpus(settings: CorpusSettings, opts: CollectOptions): Promise<CollectedCorpus> {
  const t0 = Date.now();
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (!folders.length) throw new GateScopeError('Open a folder first: GateScope trains on the text files of the workspace.');
  const { log } = opts;
  const pacer = new Pacer(opts.token, opts.report);

  // List each folder (nothing is read but .gitignore files), then stat what was listed.
  const listed: { folder: Omit<FolderListing, 'files' | 'unlisted'>; uris: Map<string, vscode.Uri> }[] = [];
  let listedCount = 0;
  for (const [f, folder] of folders.entries()) {
    const tf = Date.now();
    pacer.report(`Listing files in ${folder.name}`, (LISTED * f) / folders.length, true);
    const filesExclude = vscode.workspace.getConfiguration('files', folder.uri).get<Record<string, unknown>>('exclude');
    const exclude = findFilesExclude(excludeGlobs(settings.exclude, filesExclude));
    const [found, gitignoreUris] = await Promise.all([
      vscode.workspace.findFiles(new vscode.RelativePattern(folder, settings.include), exclude, undefined, opts.token),
      vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/.gitignore'), exclude, undefined, opts.token),
    ]);
    await pacer.tick();
    const gitignores: GitignoreFile[] = [];
    await forEachConcurrently(gitignoreUris, pacer, async (uri) => {
      const rel = relativePath(folder.uri, uri);
      if (rel === undefined) return;
      try {
        gitignores.push({ dir: rel.slice(0, Math.max(0, rel.lastIndexOf('/'))), content: new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)) });
      } catch (e) {
        log.warn(`could not read ${rel}, its rules are not applied: ${e}`);
      }
    });
    const byPath = new Map<string, vscode.Uri>();
    for (const uri of found) {
      const rel = relativePath(folder.uri, uri);
      if (rel !== undefined) byPath.set(rel, uri);
    }
    listed.push({ folder: { prefix: folders.length > 1 ? `${folder.name}/` : '', gitignores, filesExclude }, uris: byPath });
    listedCount += byPath.size;
    log.info(`${folder.name}: ${found.length.toLocaleString('en-US')} files listed, ${gitignores.length} .gitignore file(s) found, in ${Date.now() - tf} ms`);
  }

  // Sizes: the planner decides on them, so files over the limit or past the cap are never read.
  let checked = 0;
  const listings: FolderListing[] = [];
  for (const { folder, uris } of listed) {
    const files: ListedFile[] = [];
    const unlisted: CorpusSkip[] = [];
    await forEachConcurrently([...uris], pacer, async ([path, uri]) => {
      try {
        const stat = await vscode.workspace.fs.stat(uri);
        files.push({ path, size: stat.size, symlink: (stat.type & vscode.FileType.SymbolicLink) !== 0 });
      } catch (e) {
        unlisted.push({ path, reason: unreadableReason(e) });
      } finally {
        checked++;
        pacer.report(`Checking ${checked.toLocaleString('en-US')} of ${listedCount.toLocaleString('en-US')} files`, LISTED + ((CHECKED - LISTED) * checked) / listedCount, checked === listedCount);
      }
    });
    listings.push({ ...folder, files, unlisted });
  }
  const plan = planCorpus(listings, { include: settings.include, exclude: settings.exclude, maxFileBytes: settings.maxFileBytes, maxCorpusBytes: settings.maxCorpusBytes });
  for (const s of plan.skipped) log.debug(`skipped ${s.path}: ${s.reason}`);

  // Read in plan order, 16 at a time; each result lands in its file's slot so the order holds.
  const results: ReadResult[] = new Array(plan.read.length);
  let read = 0;
  await forEachConcurrently(plan.read, pacer, async (file, i) => {
    try {
      results[i] = { bytes: await vscode.workspace.fs.readFile(listed[file.folder].uris.get(file.relPath)!) };
    } catch (e) {
      results[i] = { unreadable: unreadableCode(e) };
    } finally {
      read++;
      pacer.report(`Reading ${read.toLocaleString('en-US')} of ${plan.read.length.toLocaleString('en-US')} files`, CHECKED + ((1 - CHECKED) * read) / plan.read.length, read === plan.read.length);
    }
  });
  const corpus = assembleCorpus(plan, results);
  const uriOf = new Map(plan.read.map((p) => [p.path, listed[p.folder].uris.get(p.relPath)!.toString()]));
  const files: CorpusFile[] = corpus.files.map((file) => ({ uri: uriOf.get(file.path)!, path: file.path, bytes: file.bytes }));
  const elapsedMs = Date.now() - t0;
  log.info(`corpus: ${files.length.toLocaleString('en-US')} file(s), ${formatBytes(corpus.bytes)} from ${folders.length} folder(s) in ${elapsedMs} ms`);
  if (corpus.skipped.length) log.info(`skipped ${corpus.skipped.length.toLocaleString('en-US')} file(s): ${summarizeSkipped(corpus.skipped)}`);
  if (!files.length) log.warn('no usable text found in the workspace');
  return { text: corpus.text, files, spans: corpus.spans, skipped: corpus.skipped, bytes: corpus.bytes, folders: folders.length, elapsedMs };
}

/** The path of `file` relative to `folder`, or undefined when it is not inside it. */
function relativePath(folder: vscode.Uri, file: vscode.Uri): string | undefined {
  const base = folder.path.endsWith('/') ? folder.path : folder.path + '/';
  return file.path.startsWith(base) ? file.path.slice(base.length) : undefined;
}

function unreadableCode(e: unknown): string {
  return e instanceof vscode.FileSystemError ? e.code : 'error';
}

function unreadableReason(e: unknown): string {
  return `unreadable (${unreadableCode(e)})`;
}

/** Runs `work` on every item, CONCURRENCY at a time, checking for cancellation and yielding between items. */
async function forEachConcurrently<T>(items: readonly T[], pacer: Pacer, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
      await pacer.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/** Keeps the extension host responsive: cancellation checks, a yield every SLICE_MS, throttled progress. */
class Pacer {
  private sliceStart = Date.now();
  private lastReport = 0;

  constructor(
    private readonly token: vscode.CancellationToken | undefined,
    private readonly onProgress: ((message: string, fraction: number) => void) | undefined,
  ) {}

  /** Throws CancellationError when cancelled; lets the event loop run once this slice has had SLICE_MS. */
  async tick(): Promise<void> {
    if (this.token?.isCancellationRequested) throw new vscode.CancellationError();
    if (Date.now() - this.sliceStart < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.sliceStart = Date.now();
    if (this.token?.isCancellationRequested) throw new vscode.CancellationError();
  }

  /** Passes progress on, at most every 100 ms unless `force` (a phase's first or last report). */
  report(message: string, fraction: number, force = false): void {
    const now = Date.now();
    if (!this.onProgress || (!force && now - this.lastReport < 100)) return;
    this.lastReport = now;
    this.onProgress(message, fraction);
  }
}
