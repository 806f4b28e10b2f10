/**
 * Access reviews on the real API server (src/cluster/live.ts `accessReview`): the same access asked in many
 * namespaces costs one cluster-wide review when the user may do it everywhere, and falls back to one review per
 * namespace when not, with the same answers as asking each one; identical checks are asked once.
 */
import { beforeAll, expect, it } from 'vitest';
import { connect } from '../../src/cluster/live.js';
import type { AccessCheck } from '../../src/k8s/types.js';
import { clusterInfo, describeCluster, freshNamespace, kubectl } from '../cluster/harness.js';
import { serviceAccountToken, tokenKubeconfig } from '../support/identities.js';

describeCluster('access reviews: one cluster-wide review before one per namespace', () => {
  let namespaces: string[] = [];
  let limitedKubeconfig = '';

  beforeAll(async () => {
    namespaces = await Promise.all(Array.from({ length: 6 }, (_, i) => freshNamespace(`access-${i}`)));
    const home = namespaces[0] as string;
    // A user who may patch namespaces' Deployments in two of the six only (a Role in each), nothing cluster-wide.
    const { token } = await serviceAccountToken(home, 'reviewer');
    for (const ns of namespaces.slice(0, 2)) {
      await kubectl([
        'create',
        'role',
        'patch-deploy',
        '--verb=patch',
        '--resource=deployments.apps',
        '-n',
        ns,
      ]);
      await kubectl([
        'create',
        'rolebinding',
        'patch-deploy',
        '--role=patch-deploy',
        `--serviceaccount=${home}:reviewer`,
        '-n',
        ns,
      ]);
    }
    limitedKubeconfig = tokenKubeconfig(token);
  }, 120_000);

  const checksIn = (nss: readonly string[]): AccessCheck[] => [
    ...nss.map((namespace) => ({ verb: 'patch', group: 'apps', resource: 'deployments', namespace })),
    // Asked twice: answered once.
    { verb: 'patch', group: 'apps', resource: 'deployments', namespace: nss[0] as string },
    { verb: 'get', group: '', resource: 'namespaces' },
  ];

  it('an admin allowed everywhere: one review per access, every namespace allowed', async () => {
    const cluster = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    try {
      const before = cluster.requestCount;
      const decisions = await cluster.accessReview(checksIn(namespaces));
      // The cluster-wide patch deployments and the get namespaces: 2 reviews for 8 checks.
      expect(cluster.requestCount - before).toBe(2);
      expect(decisions).toHaveLength(namespaces.length + 2);
      expect(decisions.every((d) => d.allowed)).toBe(true);
      // Each decision names the check it answers (its namespace kept).
      expect(decisions.slice(0, namespaces.length).map((d) => d.namespace)).toEqual(namespaces);
    } finally {
      cluster.close();
    }
  });

  it('a user allowed in two namespaces: denied cluster-wide, then asked per namespace, same answers as one by one', async () => {
    const cluster = connect({ kubeconfig: limitedKubeconfig });
    try {
      const before = cluster.requestCount;
      const decisions = await cluster.accessReview(checksIn(namespaces));
      // 1 cluster-wide (denied) + 6 namespaces + get namespaces.
      expect(cluster.requestCount - before).toBe(8);
      const byNs = decisions.slice(0, namespaces.length).map((d) => [d.namespace, d.allowed]);
      expect(byNs).toEqual(namespaces.map((ns, i) => [ns, i < 2]));
      expect(decisions.at(-1)).toMatchObject({ resource: 'namespaces', allowed: false });
      // One at a time (no shortcut possible): the same answers.
      for (const [i, check] of checksIn(namespaces).entries()) {
        const [one] = await cluster.accessReview([check]);
        expect(one?.allowed, JSON.stringify(check)).toBe(decisions[i]?.allowed);
      }
    } finally {
      cluster.close();
    }
  });
});
