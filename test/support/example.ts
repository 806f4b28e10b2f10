/** The bundled legacy cluster (examples/legacy-cluster), loaded into the test control plane the same way everywhere. */
import { join } from 'node:path';
import { kubectl } from '../cluster/harness.js';
import { repoRoot } from './cli.js';

export const EXAMPLE = join(repoRoot, 'examples', 'legacy-cluster');

/**
 * Server-side apply of every example manifest under a test field manager. `--force-conflicts`: on a reused
 * (disposable) cluster, objects left by an earlier apply under another field manager (e.g. the README's plain
 * `kubectl apply --server-side`) would conflict on defaulted atomic fields.
 */
export async function applyExample(): Promise<void> {
  await kubectl(
    [
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=kube-harden-test-fixture',
      '-R',
      '-f',
      EXAMPLE,
    ],
    { timeoutMs: 120_000 },
  );
}
