// User-facing errors. A GateScopeError carries a one-line message that says what went wrong and,
// where it can, what to do; the CLI and the extension show it without a stack trace.

export class GateScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GateScopeError';
  }
}

/** Throws a GateScopeError when `condition` is false. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new GateScopeError(typeof message === 'string' ? message : message());
}
