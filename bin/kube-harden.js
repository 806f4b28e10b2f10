#!/usr/bin/env node
// Thin shim: the CLI lives in dist/src/ (built by `npm run build`; bin/entry.js picks the bundle or the modules).
import { runFromExecutable } from './entry.js';

await runFromExecutable(process.argv[1]);
