/**
 * A list that restarts after 410 Gone (an expired continue token, or an API server restarted between pages): the
 * snapshot keeps exactly what the restarted list gives — no duplicates from the first attempt, and nothing lost
 * from the other namespaces of a scoped run.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterReader, ListOptions, Page } from '../../../src/cluster/types.js';
import { buildSnapshot } from '../../../src/inventory/build.js';
import type { KindRef, KubeObject } from '../../../src/k8s/types.js';

const obj = (
  kind: string,
  name: string,
  namespace?: string,
  extra: Partial<KubeObject> = {},
): KubeObject => ({
  apiVersion: kind === 'Role' ? 'rbac.authorization.k8s.io/v1' : 'v1',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), uid: `${kind}-${namespace}-${name}` },
  ...extra,
});
const pod = (name: string, namespace: string) =>
  obj('Pod', name, namespace, { spec: { containers: [{ name: 'c', image: 'i' }] } } as Partial<KubeObject>);

/** Serves `pages` per `kind/namespace`; a page with `restarted` starts the list over. */
function reader(pages: Record<string, Page[]>): ClusterReader {
  const none = () => Promise.reject(new Error('not in this fake'));
  return {
    source: { kind: 'cluster', context: 'fake', server: 'https://fake.invalid' },
    capabilities: { dryRun: false, reviews: false },
    serverVersion: async () => ({ major: 1, minor: 36, gitVersion: 'v1.36.3' }),
    get: async () => ({ value: undefined, warnings: [] }),
    async *list(kind: KindRef, options: ListOptions = {}): AsyncIterable<Page> {
      yield* pages[`${kind.kind}/${options.namespace ?? ''}`] ?? [];
    },
    dryRunApply: none,
    dryRunMergePatch: none,
    dryRunDelete: none,
    accessReview: none,
    whoAmI: async () => undefined,
  };
}

const page = (items: KubeObject[], index: number, restarted = false): Page => ({
  items,
  warnings: [],
  index,
  restarted,
});

describe('inventory: a list restarted after 410 Gone', () => {
  it('keeps each object once, and the other namespaces of a scoped run', async () => {
    const snapshot = await buildSnapshot(
      reader({
        'Namespace/': [page([obj('Namespace', 'n1'), obj('Namespace', 'n2')], 1)],
        'Pod/n1': [page([pod('p1', 'n1')], 1)],
        'Pod/n2': [page([pod('p2', 'n2')], 1), page([pod('p2', 'n2'), pod('p3', 'n2')], 1, true)],
        'Role/n1': [page([obj('Role', 'r1', 'n1')], 1)],
        'Role/n2': [
          page([obj('Role', 'r2', 'n2')], 1),
          page([obj('Role', 'r2', 'n2'), obj('Role', 'r3', 'n2')], 1, true),
        ],
      }),
      { namespaces: ['n1', 'n2'] },
    );
    expect(snapshot.workloads.map((w) => `${w.namespace}/${w.name}`)).toEqual(['n1/p1', 'n2/p2', 'n2/p3']);
    expect(snapshot.roles.map((r) => `${r.namespace}/${r.name}`)).toEqual(['n1/r1', 'n2/r2', 'n2/r3']);
    expect(snapshot.stats.objects.pods).toBe(3);
    expect(snapshot.stats.objects['roles.rbac.authorization.k8s.io']).toBe(3);
    expect(snapshot.unknown).toEqual([]);
  });
});
