// Writes throwaway workspaces for the in-VS-Code tests (and any other test that needs a realistic folder).
// makeFixtureWorkspace: a few hundred KB of deterministic, plausible TypeScript, Python, Markdown and JSON
// generated from a seed (varied enough for a small model to learn something), plus the files a corpus reader
// must skip: a binary file, a git-ignored generated/ folder and a .env, each holding a unique marker string
// so a test can prove they were not read; and .vscode/settings.json with the settings a test wants.
// makeManySmallFiles: n small text files in nested folders, for scanning and cancellation tests.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FixtureOptions {
  /** Written to .vscode/settings.json (e.g. { 'gatescope.model.hiddenSize': 32 }). */
  settings?: Record<string, unknown>;
  /** Same seed, same bytes. Default 1. */
  seed?: number;
  /** Approximate size of the readable source, in KB. Default 300. */
  sizeKb?: number;
}

export interface FixtureWorkspace {
  root: string;
  /** Relative paths of the source files a reader should take (not ignored, not binary, not secret). */
  sourceFiles: string[];
  /** Total bytes of sourceFiles. */
  sourceBytes: number;
  /** Relative path of the binary file (contains NUL bytes). */
  binaryFile: string;
  /** Relative paths of the git-ignored files (under generated/). */
  ignoredFiles: string[];
  /** A string that occurs only in the ignored files (it holds 'Ж', which no other readable file has; .env has 'Щ', the binary file 'Ѫ'). */
  ignoredMarker: string;
  /** A string that occurs only in .env. */
  secretMarker: string;
}

/** Writes the fixture workspace into dir (created if needed; existing files of the same names are replaced). */
export function makeFixtureWorkspace(dir: string, opts: FixtureOptions = {}): FixtureWorkspace {
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed);
  const target = (opts.sizeKb ?? 300) * 1024;
  const tag = `${seed.toString(36)}${(seed * 2654435761 >>> 0).toString(36)}`;
  const ignoredMarker = `GSFIXTURE_IGNORED_${tag}_Qx7_Ж`;
  const secretMarker = `GSFIXTURE_SECRET_${tag}_Zk9_Щ`;
  const write = (rel: string, data: string | Uint8Array): void => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  };

  const kinds: { dir: string; ext: string; gen: (r: Rng) => string }[] = [
    { dir: 'src', ext: 'ts', gen: typescriptFile },
    { dir: 'scripts', ext: 'py', gen: pythonFile },
    { dir: 'docs', ext: 'md', gen: markdownFile },
    { dir: 'config', ext: 'json', gen: jsonFile },
  ];
  const weights = [0.45, 0.3, 0.15, 0.1];
  const sourceFiles: string[] = [];
  const used = new Set<string>();
  let sourceBytes = 0;
  for (let k = 0; k < kinds.length; k++) {
    const { dir: sub, ext, gen } = kinds[k];
    let bytes = 0;
    while (bytes < target * weights[k]) {
      const nested = rng.chance(0.4) ? `${rng.pick(MODULES)}/` : '';
      let rel = `${sub}/${nested}${rng.pick(NOUNS)}${rng.chance(0.5) ? cap(rng.pick(NOUNS)) : ''}.${ext}`;
      for (let i = 2; used.has(rel); i++) rel = rel.replace(/(\d*)\.(\w+)$/, `${i}.$2`);
      used.add(rel);
      const text = gen(rng);
      write(rel, text);
      sourceFiles.push(rel);
      bytes += Buffer.byteLength(text);
    }
    sourceBytes += bytes;
  }

  const binaryFile = 'assets/logo.png';
  const png = new Uint8Array(4096);
  png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  for (let i = 16; i < png.length; i++) png[i] = i % 7 === 0 ? 0 : rng.int(256);
  // A character found nowhere else ('Ѫ', UTF-8 D1 AA): had the file been read as text, a char tokenizer would hold it.
  for (let i = 64; i + 1 < png.length; i += 97) png.set([0xd1, 0xaa], i);
  write(binaryFile, png);

  write('.gitignore', 'generated/\nnode_modules/\n*.log\n');
  const ignoredFiles = ['generated/schema.ts', 'generated/notes.md', 'generated/deep/table.py'];
  for (const rel of ignoredFiles) write(rel, `// generated file, do not edit\n// ${ignoredMarker}\n${typescriptFile(rng).slice(0, 1500)}\n// ${ignoredMarker}\n`);
  write('.env', `# local secrets\nAPI_TOKEN=${secretMarker}\nDATABASE_URL=postgres://user:${secretMarker}@localhost/db\n`);
  write('.vscode/settings.json', `${JSON.stringify(opts.settings ?? {}, null, 2)}\n`);

  return { root: dir, sourceFiles, sourceBytes, binaryFile, ignoredFiles, ignoredMarker, secretMarker };
}

/** Writes n small text files under dir/many/dNN/dNN/ (100 per folder); returns their total bytes. */
export function makeManySmallFiles(dir: string, n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const folder = path.join(dir, 'many', `d${Math.floor(i / 10_000)}`, `d${Math.floor(i / 100) % 100}`);
    if (i % 100 === 0) fs.mkdirSync(folder, { recursive: true });
    const text = `// small file ${i}\nexport const value${i} = ${(i * 7919) % 1000};\nexport function get${i}(): number {\n  return value${i} + ${i % 13};\n}\n`;
    fs.writeFileSync(path.join(folder, `f${i}.ts`), text);
    bytes += text.length;
  }
  return bytes;
}

/** mulberry32: small, fast, deterministic. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

const NOUNS = ['user', 'order', 'item', 'cache', 'token', 'buffer', 'record', 'session', 'request', 'response', 'config', 'layer', 'node', 'edge', 'graph', 'queue', 'task', 'event', 'message', 'channel', 'file', 'path', 'index', 'score', 'batch', 'model', 'weight', 'state', 'result', 'entry', 'table', 'column', 'row', 'key', 'value', 'price', 'account', 'invoice', 'report', 'metric'] as const;
const VERBS = ['get', 'set', 'load', 'save', 'parse', 'format', 'build', 'create', 'update', 'remove', 'find', 'filter', 'merge', 'split', 'compute', 'validate', 'render', 'flush', 'reset', 'apply', 'collect', 'encode', 'decode', 'sort', 'count'] as const;
const ADJS = ['active', 'pending', 'cached', 'visible', 'stale', 'valid', 'empty', 'remote', 'local', 'sorted', 'unique', 'total', 'last', 'first', 'next', 'current', 'default', 'raw'] as const;
const MODULES = ['core', 'utils', 'api', 'storage', 'billing', 'auth'] as const;
const TYPES = ['number', 'string', 'boolean', 'number[]', 'string[]', 'Map<string, number>', 'Set<string>'] as const;
const WORDS = ['the', 'a', 'each', 'every', 'this', 'that', 'when', 'before', 'after', 'until', 'returns', 'keeps', 'reads', 'writes', 'checks', 'stores', 'sends', 'list', 'of', 'with', 'without', 'and', 'or', 'if', 'only', 'all', 'new', 'old', 'small', 'large', 'fast', 'slow', 'safe', 'simple'] as const;

const cap = (s: string): string => s[0].toUpperCase() + s.slice(1);
const camel = (r: Rng): string => `${r.pick(VERBS)}${cap(r.pick(ADJS))}${cap(r.pick(NOUNS))}`;
const snake = (r: Rng): string => `${r.pick(VERBS)}_${r.pick(ADJS)}_${r.pick(NOUNS)}`;
const sentence = (r: Rng, lo = 6, hi = 16): string => {
  const n = r.range(lo, hi);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(r.chance(0.3) ? r.pick(NOUNS) : r.chance(0.15) ? r.pick(VERBS) + 's' : r.pick(WORDS));
  return `${cap(words.join(' '))}.`;
};
const repeat = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('');

function typescriptFile(r: Rng): string {
  const head = repeat(r.range(1, 4), () => `import { ${camel(r)}, ${cap(r.pick(NOUNS))} } from './${r.pick(NOUNS)}';\n`);
  const decls = repeat(r.range(4, 9), () => {
    const name = cap(r.pick(NOUNS)) + cap(r.pick(NOUNS));
    switch (r.int(3)) {
      case 0:
        return `\nexport interface ${name} {\n${repeat(r.range(2, 6), () => `  ${r.pick(ADJS)}${cap(r.pick(NOUNS))}${r.chance(0.3) ? '?' : ''}: ${r.pick(TYPES)};\n`)}}\n`;
      case 1: {
        const field = r.pick(NOUNS);
        return `\nexport class ${name} {\n  private ${field}s: ${cap(field)}[] = [];\n\n${repeat(r.range(2, 4), () => {
          const m = camel(r);
          return `  ${m}(${r.pick(NOUNS)}: ${r.pick(TYPES)}): ${r.pick(TYPES)} {\n    // ${sentence(r, 4, 10)}\n    const ${r.pick(ADJS)} = this.${field}s.filter((x) => x.${r.pick(ADJS)});\n    if (this.${field}s.length === 0) {\n      throw new Error('${name}.${m}: no ${field}s');\n    }\n    return this.${field}s.length > ${r.range(1, 64)} ? ${r.range(0, 9)} : this.${field}s.length;\n  }\n\n`;
        })}}\n`;
      }
      default: {
        const arg = r.pick(NOUNS);
        return `\n/** ${sentence(r)} */\nexport function ${camel(r)}(${arg}s: ${cap(arg)}[], limit = ${r.range(2, 100)}): number {\n  let ${r.pick(ADJS)}Count = 0;\n  for (const ${arg} of ${arg}s) {\n    if (${arg}.${r.pick(ADJS)} && ${arg}.${r.pick(NOUNS)} > limit) {\n      ${r.pick(ADJS)}Count += ${arg}.${r.pick(NOUNS)};\n    }\n  }\n  return Math.min(limit, ${arg}s.length);\n}\n`;
      }
    }
  });
  return head + decls;
}

function pythonFile(r: Rng): string {
  const head = `"""${sentence(r)}"""\n\nimport ${r.pick(['os', 'json', 'math', 're', 'collections', 'itertools'])}\nfrom typing import Dict, List, Optional\n`;
  const decls = repeat(r.range(4, 9), () => {
    if (r.chance(0.35)) {
      const cls = cap(r.pick(NOUNS)) + cap(r.pick(NOUNS));
      return `\n\nclass ${cls}:\n    """${sentence(r, 4, 10)}"""\n\n    def __init__(self, ${r.pick(NOUNS)}: int = ${r.range(0, 32)}) -> None:\n        self.${r.pick(ADJS)}_${r.pick(NOUNS)}s: List[str] = []\n        self.${r.pick(NOUNS)}_count = 0\n${repeat(r.range(1, 3), () => `\n    def ${snake(r)}(self, ${r.pick(NOUNS)}: str) -> Optional[str]:\n        if not self.${r.pick(NOUNS)}_count:\n            return None\n        return "${r.pick(NOUNS)}-%d" % self.${r.pick(NOUNS)}_count\n`)}`;
    }
    const arg = r.pick(NOUNS);
    return `\n\ndef ${snake(r)}(${arg}s: List[Dict[str, int]], limit: int = ${r.range(2, 100)}) -> int:\n    """${sentence(r, 4, 12)}"""\n    ${r.pick(ADJS)} = [${arg}["${r.pick(NOUNS)}"] for ${arg} in ${arg}s if ${arg}.get("${r.pick(ADJS)}")]\n    total = 0\n    for ${arg} in ${arg}s:\n        if ${arg}["${r.pick(NOUNS)}"] > limit:\n            total += ${arg}["${r.pick(NOUNS)}"]\n    return min(total, limit)\n`;
  });
  return `${head}${decls}`;
}

function markdownFile(r: Rng): string {
  let text = `# ${cap(r.pick(ADJS))} ${r.pick(NOUNS)}s\n\n${repeat(r.range(2, 4), () => sentence(r) + ' ')}\n`;
  text += repeat(r.range(3, 6), () => {
    const body = r.chance(0.5)
      ? repeat(r.range(2, 5), () => `- ${sentence(r, 3, 9)}\n`)
      : `${repeat(r.range(2, 5), () => sentence(r) + ' ')}\n\n\`\`\`ts\nconst ${r.pick(NOUNS)} = ${camel(r)}(${r.pick(NOUNS)}s, ${r.range(1, 50)});\n\`\`\`\n`;
    return `\n## ${cap(r.pick(VERBS))} the ${r.pick(NOUNS)}\n\n${body}`;
  });
  return text;
}

function jsonFile(r: Rng): string {
  const obj: Record<string, unknown> = { name: `${r.pick(MODULES)}-${r.pick(NOUNS)}`, version: `${r.range(0, 3)}.${r.range(0, 20)}.${r.range(0, 9)}` };
  for (let i = r.range(4, 10); i > 0; i--) {
    const key = `${r.pick(ADJS)}${cap(r.pick(NOUNS))}`;
    obj[key] = r.chance(0.3)
      ? Array.from({ length: r.range(2, 6) }, () => ({ id: r.range(1, 9999), [r.pick(NOUNS)]: r.pick(ADJS), enabled: r.chance(0.5) }))
      : r.chance(0.5) ? r.range(0, 10000) : `${r.pick(VERBS)}-${r.pick(NOUNS)}`;
  }
  return `${JSON.stringify(obj, null, 2)}\n`;
}
