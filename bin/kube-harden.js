#!/usr/bin/env node
// Thin shim: the CLI lives in dist/src/cli.js (built by `npm run build`).
import { main } from '../dist/src/cli.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let stdout drain naturally; if a stray handle keeps the loop alive, leave anyway.
setTimeout(() => process.exit(code), 1500).unref();
