// Option parsing shared by the CLI's commands: node:util parseArgs with GateScope's messages, and
// number options checked against their bounds (kernels/config.ts's BOUNDS where a setting has one).

import { ParseArgsConfig, parseArgs } from 'util';
import { BOUNDS, checkSetting } from '../kernels/config';
import { GateScopeError, check } from '../kernels/errors';

export type Options = Record<string, unknown>;

/** A number option, or `fallback` when it is absent. */
export function num(opts: Options, key: string, fallback: number): number {
  const v = opts[key];
  if (v === undefined) return fallback;
  const s = String(v).trim();
  const n = s === '' ? NaN : Number(s);
  check(Number.isFinite(n), `--${key} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** A whole-number option from `lo` to `hi`. */
export function int(opts: Options, key: string, fallback: number, lo: number, hi: number): number {
  const n = num(opts, key, fallback);
  check(Number.isInteger(n) && n >= lo && n <= hi, `--${key} must be a whole number from ${lo} to ${hi}, got ${n}`);
  return n;
}

/** A number option for a setting with bounds in kernels/config.ts, checked there (the same message as everywhere). */
export function setting(opts: Options, key: string, name: keyof typeof BOUNDS, fallback: number): number {
  return checkSetting(name, num(opts, key, fallback));
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  // `--lr -0.1` would read as two options: glue a negative number to the option that takes it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    if (name && options[name]?.type === 'string' && /^-\d|^-\.\d/.test(argv[i + 1] ?? '')) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true } as const);
  } catch (e) {
    throw new GateScopeError(`${(e as Error).message.split('\n')[0]} (see 'gatescope help')`);
  }
}
