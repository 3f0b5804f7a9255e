#!/usr/bin/env node
// Entry point of the `gatescope` command (bundled to dist/cli.js by webpack).
import { main } from './main';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
