// Collects the workspace's text into one training corpus: lists every folder's files with findFiles,
// leaves out what is excluded, ignored by git, a likely secret, a lock file, too large, binary or not
// UTF-8 (secrets and oversized files are never read), caps the total deterministically and joins the
// rest in path order. It works in short slices so the extension host stays responsive, reports
// progress, stops promptly when cancelled, and logs what it took and every file it skipped.

import * as vscode from 'vscode';
import { decodeFileText, formatBytes, joinFileTexts, tooLargeReason } from '../kernels/corpusRules';
import { GateScopeError } from '../kernels/errors';
import {
  CorpusSkip,
  GitignoreFile,
  GitignoreSet,
  chooseWithinCap,
  comparePaths,
  excludeGlobs,
  excludeMatcher,
  findFilesExclude,
  pathSkipReason,
  summarizeSkipped,
} from './corpusPlan';

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

interface Candidate {
  uri: vscode.Uri;
  path: string;
  size: number;
}

export async function collectWorkspaceCorpus(settings: CorpusSettings, opts: CollectOptions): Promise<CollectedCorpus> {
  const t0 = Date.now();
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (!folders.length) throw new GateScopeError('Open a folder first: GateScope trains on the text files of the workspace.');
  const { log } = opts;
  const pacer = new Pacer(opts.token, opts.report);
  const skipped: CorpusSkip[] = [];
  const skip = (path: string, reason: string) => {
    skipped.push({ path, reason });
    log.debug(`skipped ${path}: ${reason}`);
  };

  // List and screen by name, folder by folder; nothing is read but .gitignore files.
  const listed: { uri: vscode.Uri; path: string }[] = [];
  for (const [f, folder] of folders.entries()) {
    const tf = Date.now();
    pacer.report(`Listing files in ${folder.name}`, (LISTED * f) / folders.length, true);
    const globs = excludeGlobs(settings.exclude, vscode.workspace.getConfiguration('files', folder.uri).get<Record<string, unknown>>('exclude'));
    const excluded = excludeMatcher(globs);
    const exclude = findFilesExclude(globs);
    const [uris, gitignoreUris] = await Promise.all([
      vscode.workspace.findFiles(new vscode.RelativePattern(folder, settings.include), exclude, undefined, opts.token),
      vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/.gitignore'), exclude, undefined, opts.token),
    ]);
    await pacer.tick();
    const gitignores: GitignoreFile[] = [];
    await forEachConcurrently(gitignoreUris, pacer, async (uri) => {
      const rel = relativePath(folder.uri, uri);
      if (rel === undefined || excluded(rel)) return;
      try {
        gitignores.push({ dir: rel.slice(0, Math.max(0, rel.lastIndexOf('/'))), content: new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)) });
      } catch (e) {
        log.warn(`could not read ${rel}, its rules are not applied: ${e}`);
      }
    });
    const gitignore = new GitignoreSet(gitignores);
    const prefix = folders.length > 1 ? `${folder.name}/` : '';
    let kept = 0;
    for (const uri of uris) {
      await pacer.tick();
      const rel = relativePath(folder.uri, uri);
      if (rel === undefined || excluded(rel)) continue; // as if never listed: the search should have left it out
      const why = pathSkipReason(rel, gitignore);
      if (why) skip(prefix + rel, why);
      else {
        listed.push({ uri, path: prefix + rel });
        kept++;
      }
    }
    log.info(`${folder.name}: ${uris.length.toLocaleString('en-US')} files listed, ${gitignores.length} .gitignore file(s) applied, ${kept.toLocaleString('en-US')} to check, in ${Date.now() - tf} ms`);
  }

  // Sizes first: files over the limit are never read, and the cap is decided on sizes alone.
  const sized: Candidate[] = [];
  let checked = 0;
  await forEachConcurrently(listed, pacer, async ({ uri, path }) => {
    let stat: vscode.FileStat;
    try {
      stat = await vscode.workspace.fs.stat(uri);
    } catch (e) {
      skip(path, unreadableReason(e));
      return;
    } finally {
      checked++;
      pacer.report(`Checking ${checked.toLocaleString('en-US')} of ${listed.length.toLocaleString('en-US')} files`, LISTED + ((CHECKED - LISTED) * checked) / listed.length, checked === listed.length);
    }
    if (stat.type & vscode.FileType.SymbolicLink) skip(path, 'symbolic link (not followed)');
    else if (stat.size > settings.maxFileBytes) skip(path, tooLargeReason(settings.maxFileBytes, stat.size));
    else if (stat.size > 0) sized.push({ uri, path, size: stat.size });
  });
  const chosen = chooseWithinCap(sized, settings.maxCorpusBytes);
  for (const s of chosen.skipped) skip(s.path, s.reason);
  if (chosen.skipped.length) log.warn(`the corpus size limit of ${formatBytes(settings.maxCorpusBytes)} left out ${chosen.skipped.length.toLocaleString('en-US')} file(s)`);

  // Read in path order, 16 at a time; each text lands in its file's slot so the order holds.
  const contents: ({ text: string; bytes: number } | undefined)[] = new Array(chosen.kept.length);
  let read = 0;
  await forEachConcurrently(chosen.kept, pacer, async (file, i) => {
    try {
      const data = await vscode.workspace.fs.readFile(file.uri);
      const decoded = decodeFileText(data);
      if ('skip' in decoded) skip(file.path, decoded.skip);
      else contents[i] = { text: decoded.text, bytes: data.byteLength };
    } catch (e) {
      skip(file.path, unreadableReason(e));
    } finally {
      read++;
      pacer.report(`Reading ${read.toLocaleString('en-US')} of ${chosen.kept.length.toLocaleString('en-US')} files`, CHECKED + ((1 - CHECKED) * read) / chosen.kept.length, read === chosen.kept.length);
    }
  });

  const files: CorpusFile[] = [];
  const parts: string[] = [];
  let bytes = 0;
  chosen.kept.forEach((file, i) => {
    const content = contents[i];
    if (!content) return;
    files.push({ uri: file.uri.toString(), path: file.path, bytes: content.bytes });
    parts.push(content.text);
    bytes += content.bytes;
  });
  skipped.sort((a, b) => comparePaths(a.path, b.path));
  const elapsedMs = Date.now() - t0;
  log.info(`corpus: ${files.length.toLocaleString('en-US')} file(s), ${formatBytes(bytes)} from ${folders.length} folder(s) in ${elapsedMs} ms`);
  if (skipped.length) log.info(`skipped ${skipped.length.toLocaleString('en-US')} file(s): ${summarizeSkipped(skipped)}`);
  if (!files.length) log.warn('no usable text found in the workspace');
  return { text: joinFileTexts(parts), files, skipped, bytes, folders: folders.length, elapsedMs };
}

/** The path of `file` relative to `folder`, or undefined when it is not inside it. */
function relativePath(folder: vscode.Uri, file: vscode.Uri): string | undefined {
  const base = folder.path.endsWith('/') ? folder.path : folder.path + '/';
  return file.path.startsWith(base) ? file.path.slice(base.length) : undefined;
}

function unreadableReason(e: unknown): string {
  return `unreadable (${e instanceof vscode.FileSystemError ? e.code : 'error'})`;
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
