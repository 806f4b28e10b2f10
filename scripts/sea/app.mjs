// The bundle's entry (esbuild → app.mjs): the same as bin/kube-harden.js. In a single executable
// process.argv[1] is the name it was started as, so a copy or link named kubectl-harden is the kubectl plugin.
import { runFromExecutable } from '../../src/cli/entry.ts';

await runFromExecutable(process.argv[1]);
