/** Snapshots for screen tests, built in code. */
import type { Snapshot } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { createHardenStore, type HardenStore } from '../../../src/store/store.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { PSA_STEPS, sessionOptions } from './wizard.js';

/**
 * `workloads` Deployments spread over `namespaces` namespaces, each failing baseline and restricted, running as
 * root without limits on an untagged image: seven findings apiece (plus one per namespace).
 */
export function bigSnapshot(workloads: number, namespaces = 50): Snapshot {
  const names = Array.from({ length: namespaces }, (_, i) => `team-${String(i).padStart(3, '0')}`);
  return snapshot({
    source: { kind: 'cluster', context: 'big', server: 'https://10.0.0.2:6443' },
    serverVersion: { major: 1, minor: 33, gitVersion: 'v1.33.2' },
    namespaces: names.map((n) => ns(n)),
    workloads: Array.from({ length: workloads }, (_, i) =>
      workload(
        'Deployment',
        names[i % namespaces] as string,
        `app-${String(i).padStart(5, '0')}`,
        restrictedSpec({
          serviceAccountName: 'default',
          automountServiceAccountToken: true,
          securityContext: {},
          hostNetwork: true,
          containers: [
            container('main', { image: 'nginx', securityContext: { privileged: true }, resources: {} }),
          ],
        }),
        { replicas: 1 },
      ),
    ),
  });
}

/** A store preloaded with a snapshot and its assessment (no source behind it: nothing to plan or apply). */
export function snapshotStore(snap: Snapshot): HardenStore {
  return createHardenStore({
    options: sessionOptions(),
    steps: PSA_STEPS,
    open: async () => {
      throw new Error('this test store has no source');
    },
    initial: {
      snapshot: snap,
      assessment: assess(snap, { now: NOW }),
      source: snap.source,
      ...(snap.serverVersion ? { serverVersion: snap.serverVersion } : {}),
      status: 'ready',
    },
  });
}
