// When a test may skip for a missing tool (PyTorch, git, a WebGPU adapter, a dev dependency's file):
// on a developer's machine it is reported as pending with the reason and the fix; under CI it fails
// with the same words, so a CI run never passes by skipping what it was meant to check.

/** CI is on when CI is one of true/1/yes/on (any case); unset, empty, false/0/no/off and anything else are off. */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['true', '1', 'yes', 'on'].includes((env.CI ?? '').trim().toLowerCase());
}

/** Skips the current test or hook with `reason` outside CI; under CI throws it instead. */
export function skipOrFailUnderCI(self: Mocha.Context, reason: string): never {
  if (isCI()) throw new Error(`${reason} (under CI=${process.env.CI} a missing tool fails the run instead of skipping)`);
  console.log(`      SKIPPED: ${reason}`);
  self.skip();
}
