#!/usr/bin/env node
// kubectl's completion for the plugin (kubectl ≥ 1.26): `kubectl harden <TAB>` runs `kubectl_complete-harden WORD…`
// and reads cobra's protocol (candidates, then a `:directive` line).
import { runFromExecutable } from './entry.js';

process.argv.splice(2, 0, '__complete', '--cobra');
await runFromExecutable('kubectl-harden');
