// The bundle's entry (esbuild → app.mjs): the same as bin/kube-harden.js. In a single executable
// process.argv[1] is the name it was started as, so a copy or link named kubectl-harden is the kubectl plugin,
// and one named kubectl_complete-harden answers kubectl's completion (as bin/kubectl_complete-harden.js).
import { basename } from 'node:path';
import { runFromExecutable } from '../../src/cli/entry.ts';

if (basename(process.argv[1] ?? '').startsWith('kubectl_complete-')) {
  process.argv.splice(2, 0, '__complete', '--cobra');
  await runFromExecutable('kubectl-harden');
} else {
  await runFromExecutable(process.argv[1]);
}
