#!/usr/bin/env node
// Entry point of the `gatescope` command (bundled to dist/cli.js by webpack).
import { endQuietlyWhenOutputCloses, main } from './main';

endQuietlyWhenOutputCloses();
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
