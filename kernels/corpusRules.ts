// What counts as training text, shared by the CLI's folder reader and the extension's workspace
// collector so both skip the same files for the same reasons and join files into the same text.
// Pure functions of names and bytes: no Node, no vscode. kernels/corpusPlan.ts applies them.

import { formatBytes } from './format';

/** Folders never walked into: dependencies, version control, build output, caches, virtual environments. */
export const SKIP_DIRS: ReadonlySet<string> = new Set([
  'node_modules', '.git', '.hg', '.svn', 'dist', 'out', 'build', 'coverage', '.cache', '.gatescope', '__pycache__', '.venv', 'venv', '.next', 'target',
]);

/** Generated dependency lock files: long, repetitive and not written by anyone. */
const LOCK_FILES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb', 'Cargo.lock', 'poetry.lock', 'Pipfile.lock', 'uv.lock',
  'composer.lock', 'Gemfile.lock', 'go.sum', 'flake.lock', 'pubspec.lock', 'Podfile.lock', 'mix.lock',
]);

/**
 * Files that may hold credentials are never read. Names are compared in lower case. Deliberately broad:
 * `.env.example` and `credentials.ts` are skipped too (losing a file costs little, reading a key does
 * not), and so is direnv's `.envrc`, which usually exports tokens. Lookalikes such as `environment.ts`,
 * `env.ts` or `key.ts` are ordinary source and are kept.
 */
const SECRET_NAMES = new Set([
  '.envrc', '.netrc', '_netrc', '.npmrc', '.pypirc', '.pgpass', '.git-credentials', '.htpasswd', '.dockercfg', '.vault-token', '.s3cfg', '.boto', '.yarnrc.yml',
]);
const SECRET_PATTERNS = [
  /^\.env(\..*)?$/, // .env, .env.local, .env.production
  /^id_(rsa|dsa|ecdsa|ed25519)/, // SSH keys and their .pub halves
  /^credentials(\..*)?$/, // ~/.aws/credentials, credentials.json
  /^secrets?\.(json|ya?ml|toml)$/,
  /\.(pem|key|p12|pfx|jks|keystore|ppk)$/, // private keys and key stores
  /\.tfstate(\.backup)?$/, // Terraform state stores secrets in plain text
];

const BINARY_EXT = new Set(['.png', '.jpg', '.jpeg', '.gif', '.ico', '.pdf', '.zip', '.gz', '.tgz', '.xz', '.7z', '.wasm', '.so', '.dll', '.exe', '.bin', '.woff', '.woff2', '.ttf', '.otf', '.mp3', '.mp4', '.webm', '.safetensors', '.pt', '.onnx', '.vsix', '.class', '.jar', '.o', '.a', '.pyc']);

/** Reasons a file is left out, as both collectors report them. */
export const SKIP_REASON = {
  folder: 'excluded folder',
  lock: 'lock file',
  secret: 'may contain secrets',
  binaryType: 'binary file type',
  binary: 'binary',
  notUtf8: 'not valid UTF-8',
} as const;

function isSecretName(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_NAMES.has(lower) || SECRET_PATTERNS.some((r) => r.test(lower));
}

/** Why a file or folder is skipped by its name alone (before anything is read), or null to keep it. */
export function skipReason(name: string, isDir: boolean): string | null {
  if (isDir) return SKIP_DIRS.has(name) ? SKIP_REASON.folder : null;
  if (LOCK_FILES.has(name)) return SKIP_REASON.lock;
  if (isSecretName(name)) return SKIP_REASON.secret;
  const dot = name.lastIndexOf('.');
  if (dot > 0 && BINARY_EXT.has(name.slice(dot).toLowerCase())) return SKIP_REASON.binaryType;
  return null;
}

export function tooLargeReason(maxFileBytes: number, size: number): string {
  return `larger than ${formatBytes(maxFileBytes)} (${formatBytes(size)})`;
}

/** A file is binary if it has a NUL byte in its first 8 KiB (the test git and grep use). */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

/** Strict UTF-8; it drops a leading byte order mark. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A file's text, or why it is not training text: binary or not valid UTF-8. */
export function decodeFileText(bytes: Uint8Array): { text: string } | { skip: string } {
  if (looksBinary(bytes)) return { skip: SKIP_REASON.binary };
  try {
    return { text: UTF8.decode(bytes) };
  } catch {
    return { skip: SKIP_REASON.notUtf8 };
  }
}

/** Joins files' texts into one training text: each ends with a newline, and a blank line separates them. */
export function joinFileTexts(texts: readonly string[]): string {
  return texts.map((t) => (t.endsWith('\n') ? t : t + '\n')).join('\n');
}
