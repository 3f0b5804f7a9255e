// Reads a folder into one training text for the CLI: walks the disk into a listing (files, sizes and
// every .gitignore), hands it to the corpus planner that the extension uses too (kernels/corpusPlan.ts),
// reads what the plan says in its order, and assembles the text. The walk does not descend into
// excluded folders (node_modules, .git, ...); everything else is the planner's decision, so the same
// folder with the same rules gives the same corpus here and in VS Code (cli/folderSettings.ts reads the
// folder's own rules from its .vscode/settings.json).

import * as fs from 'fs';
import * as path from 'path';
import { AssembledCorpus, CorpusPlan, CorpusSkip, CorpusRules, DEFAULT_CORPUS_EXCLUDE, DEFAULT_CORPUS_LIMITS, FolderListing, GitignoreFile, ListedFile, ReadResult, VSCODE_FILES_EXCLUDE_DEFAULT, assembleCorpus, outOfScope, planCorpus } from '../kernels/corpusPlan';
import { GateScopeError, check } from '../kernels/errors';

export const DEFAULT_CORPUS_RULES: CorpusRules = { include: '**/*', exclude: DEFAULT_CORPUS_EXCLUDE, ...DEFAULT_CORPUS_LIMITS };

/**
 * The listing of `root` (a folder, or one file) as the planner takes it; folders the rules exclude are
 * not walked. `filesExclude` is the folder's files.exclude as VS Code resolves it (its defaults when unset).
 */
export function listFolder(root: string, rules: CorpusRules, filesExclude: Readonly<Record<string, unknown>> = VSCODE_FILES_EXCLUDE_DEFAULT): FolderListing {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new GateScopeError(`cannot read ${root}: no such file or folder`);
  }
  if (st.isFile()) return { prefix: '', files: [{ path: path.basename(root), size: st.size }], gitignores: [], filesExclude };
  check(st.isDirectory(), `${root} is neither a file nor a folder`);
  const excluded = outOfScope({ include: '**/*', exclude: rules.exclude }, filesExclude);
  const files: ListedFile[] = [];
  const gitignores: GitignoreFile[] = [];
  const unlisted: CorpusSkip[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      unlisted.push({ path: rel || '.', reason: `unreadable folder (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, e.name);
      if (excluded(r)) continue;
      if (e.isSymbolicLink()) files.push({ path: r, size: 0, symlink: true });
      else if (e.isDirectory()) walk(abs, r);
      else if (e.isFile()) {
        const size = statSize(abs);
        files.push({ path: r, size });
        if (e.name === '.gitignore') gitignores.push({ dir: rel, content: readGitignore(abs) });
      }
    }
  };
  walk(root, '');
  return { prefix: '', files, gitignores, unlisted, filesExclude };
}

function statSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0; // gone since it was listed: as an empty file, it is left out
  }
}

function readGitignore(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The plan for `root`: what would be read and what is skipped, nothing read but .gitignore files. */
export function planFolder(root: string, rules: CorpusRules = DEFAULT_CORPUS_RULES, filesExclude?: Readonly<Record<string, unknown>>): CorpusPlan {
  return planCorpus([listFolder(root, rules, filesExclude)], rules);
}

/** Reads the files of `root` the planner picks into one text, files separated by a blank line. */
export function readCorpus(root: string, rules: CorpusRules = DEFAULT_CORPUS_RULES, filesExclude?: Readonly<Record<string, unknown>>): AssembledCorpus {
  const plan = planFolder(root, rules, filesExclude);
  const base = fs.statSync(root).isFile() ? path.dirname(root) : root;
  const results = plan.read.map((f): ReadResult => {
    try {
      return { bytes: fs.readFileSync(path.join(base, f.relPath)) };
    } catch (e) {
      return { unreadable: (e as NodeJS.ErrnoException).code ?? 'error' };
    }
  });
  return assembleCorpus(plan, results);
}
