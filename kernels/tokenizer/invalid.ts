// The error a tokenizer read from a checkpoint raises when its JSON is wrong, for both kinds (char.ts,
// bpe.ts) and the dispatcher (index.ts): one message prefix, and a short description of an untrusted
// value that is safe to put in a message.

import { GateScopeError } from '../errors';

/** GateScopeError("tokenizer in checkpoint is invalid: <message>"). */
export function invalidTokenizer(message: string): GateScopeError {
  return new GateScopeError(`tokenizer in checkpoint is invalid: ${message}`);
}

/** A short description of an untrusted value for an error message (strings cut to 40 characters). */
export function describeValue(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
