// Which build of the CLI the executables run. `npm run build` compiles the modules (dist/src/) and bundles them
// into a few files (dist/src/bundle/, dependencies left outside): resolving and loading ~120 modules is a good part
// of a short run's start-up (bench/startup). The bundle is used unless it is missing or older than the modules
// (`tsc` alone after a change); stack traces map back to src/ with DEBUG=kube-harden (source maps).
import { statSync } from 'node:fs';

const modules = new URL('../dist/src/cli/entry.js', import.meta.url);
const bundle = new URL('../dist/src/bundle/entry.js', import.meta.url);

function bundleIsFresh() {
  try {
    return statSync(bundle).mtimeMs >= statSync(modules).mtimeMs;
  } catch {
    return false;
  }
}

/** `runFromExecutable` of src/cli/entry.ts. */
export const { runFromExecutable } = await import(bundleIsFresh() ? bundle.href : modules.href);
