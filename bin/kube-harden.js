#!/usr/bin/env node
// Thin shim: the CLI lives in dist/src/ (built by `npm run build`).
import { runFromExecutable } from '../dist/src/cli/entry.js';

await runFromExecutable(process.argv[1]);
