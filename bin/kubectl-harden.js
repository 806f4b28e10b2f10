#!/usr/bin/env node
// The kubectl plugin: on PATH, `kubectl harden …` runs this (kubectl looks up `kubectl-harden`); help says so.
import { runFromExecutable } from './entry.js';

await runFromExecutable('kubectl-harden');
