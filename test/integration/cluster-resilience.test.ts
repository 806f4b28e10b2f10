/**
 * Failure modes of the access layer on the real control plane: API Priority and Fairness throttling (429 with
 * Retry-After, failure-modes F4 / test 3) and an expired continue token (410 Gone, F10 / test 2).
 */
import { expect, it } from 'vitest';
import { connect } from '../../src/cluster/live.js';
import type { PageItems } from '../../src/cluster/types.js';
import { Kinds } from '../../src/k8s/kinds.js';
import { startControlPlane } from '../cluster/control-plane.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  waitFor,
} from '../cluster/harness.js';

describeCluster('cluster access resilience (live)', () => {
  it('429 from API Priority and Fairness: honours Retry-After and completes without a retry storm', async () => {
    const ns = await freshNamespace('apf');
    const { users, limitedKubeconfig } = clusterInfo();
    const big = 'x'.repeat(20_000);
    const cms = Array.from(
      { length: 150 },
      (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}}\ndata: {v: "${big}"}\n`,
    ).join('---\n');
    await applyYaml(cms, ns);
    await applyYaml(
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [list, get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: cm-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
subjects: [{kind: User, name: ${users.limited}, apiGroup: rbac.authorization.k8s.io}]
`,
      ns,
    );
    // A tiny priority level that rejects (no queuing) whatever does not fit, for the limited user only.
    const plName = `kh-tiny-${ns}`;
    await applyYaml(`apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: ${plName}}
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 1
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse: {type: Reject}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: ${plName}}
spec:
  priorityLevelConfiguration: {name: ${plName}}
  matchingPrecedence: 100
  distinguisherMethod: {type: ByUser}
  rules:
  - subjects: [{kind: User, user: {name: ${users.limited}}}]
    resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"]}]
`);
    // The API server picks up new flow-control objects asynchronously; their status says when.
    await waitFor(
      async () =>
        (await kubectl([
          'get',
          'flowschema',
          plName,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Dangling")].status}',
        ])) === 'False',
      { what: `FlowSchema ${plName} in effect`, timeoutMs: 30_000 },
    );
    const limited = connect({
      kubeconfig: limitedKubeconfig,
      qps: 1000,
      burst: 1000,
      maxConcurrentLists: 60,
    });
    try {
      const started = performance.now();
      const lists = Array.from({ length: 60 }, async () => {
        let n = 0;
        for await (const page of limited.list(Kinds.ConfigMap, { namespace: ns, limit: 500 }))
          n += page.items.length;
        return n;
      });
      const counts = await Promise.all(lists);
      const elapsed = performance.now() - started;
      console.log(
        `[apf] 60 concurrent LISTs: ${limited.throttledCount} throttled (429) and retried, ${limited.requestCount} requests, ${Math.round(elapsed)} ms`,
      );
      expect(counts.every((n) => n === 151)).toBe(true);
      expect(limited.throttledCount).toBeGreaterThan(0);
      // Retry-After is 1 s for APF rejections: a throttled run cannot finish faster than that.
      expect(elapsed).toBeGreaterThan(900);
      // Bounded retries: at most 7 attempts per request.
      expect(limited.requestCount).toBeLessThanOrEqual(60 * 7);
    } finally {
      limited.close();
      await kubectl(['delete', 'flowschema', plName, '--ignore-not-found']);
      await kubectl(['delete', 'prioritylevelconfiguration', plName, '--ignore-not-found']);
    }
  });

  it('410 Gone: an expired continue token restarts that list once, and the consumer is told', async () => {
    // Since 1.34 the watch cache serves continue tokens from snapshots (ListFromCacheSnapshot), so they rarely
    // expire; clusters before that, and many managed ones, read continuations from etcd and return 410 after
    // compaction. This test runs its own control plane configured like them.
    const cp = await startControlPlane({ apiserverArgs: ['--feature-gates=ListFromCacheSnapshot=false'] });
    const own = connect({ kubeconfig: cp.adminKubeconfig });
    try {
      const ns = 'gone';
      await own.apply(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
        { fieldManager: 'test' },
      );
      for (let i = 0; i < 6; i++) {
        await own.apply(
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `c-${i}`, namespace: ns },
            data: { i: `${i}` },
          },
          { fieldManager: 'test' },
        );
      }
      const iterator = own
        .list(Kinds.ConfigMap, { namespace: ns, labelSelector: '!none', limit: 2 })
        [Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value?.index).toBe(1);
      expect(first.value?.restarted).toBe(false);
      // Advance the store and compact etcd past the token's resourceVersion: the token is now too old.
      await own.apply(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: ns } },
        { fieldManager: 'test' },
      );
      const range = await fetch(`${cp.etcdUrl}/v3/kv/range`, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
      });
      const revision = Number(((await range.json()) as { header: { revision: string } }).header.revision);
      const compact = await fetch(`${cp.etcdUrl}/v3/kv/compaction`, {
        method: 'POST',
        body: JSON.stringify({ revision, physical: true }),
      });
      expect(compact.ok).toBe(true);
      const pages: Array<{ index: number; restarted: boolean; items: PageItems }> = [];
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) pages.push(r.value);
      // The page read ahead before the compaction may still arrive; the next request meets the expired token and
      // the list restarts from the beginning: consumers drop what they kept, and the restarted list is complete.
      const restart = pages.findIndex((p) => p.restarted);
      expect(restart).toBeGreaterThanOrEqual(0);
      expect(restart).toBeLessThanOrEqual(1);
      expect(pages[restart]?.index).toBe(1);
      const names = pages
        .slice(restart)
        .flatMap((p) => Array.from(p.items, (i) => i.metadata.name))
        .filter((n) => n !== 'kube-root-ca.crt')
        .sort();
      expect(names).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'late']);
    } finally {
      own.close();
      await cp.stop();
    }
  });
});
