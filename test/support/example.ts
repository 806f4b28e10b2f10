/** The bundled legacy cluster (examples/legacy-cluster), loaded into the test control plane the same way everywhere. */
import { join } from 'node:path';
import { kubectl, kubectlJson, waitFor } from '../cluster/harness.js';
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

/** Waits until no namespace is terminating (other test files delete theirs without waiting). */
export async function noneTerminating(): Promise<void> {
  await waitFor(
    async () => {
      const list = await kubectlJson<{ items: Array<{ status?: { phase?: string } }> }>([
        'get',
        'namespaces',
      ]);
      return !list.items.some((n) => n.status?.phase === 'Terminating');
    },
    { what: 'no namespace terminating', timeoutMs: 150_000, intervalMs: 1000 },
  );
}
