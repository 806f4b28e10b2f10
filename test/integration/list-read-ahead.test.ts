/**
 * Paginated lists read one page ahead (src/cluster/live.ts `list`): the next page is requested as soon as a page
 * arrives, before the consumer handles it, one request in flight at a time; a consumer that stops early aborts
 * the page read ahead, and nothing more is sent. Each page's items are parsed one by one as the consumer reaches
 * them (src/cluster/list-body.ts), each with its kind.
 */
import { expect, it } from 'vitest';
import { ListItems } from '../../src/cluster/list-body.js';
import { connect, readOnly } from '../../src/cluster/live.js';
import { buildSnapshot } from '../../src/inventory/build.js';
import { Kinds } from '../../src/k8s/kinds.js';
import { clusterInfo, describeCluster, freshNamespace, kubectl } from '../cluster/harness.js';

describeCluster('paginated lists read one page ahead', () => {
  it('page 2 is on its way while page 1 is handled; stopping early sends nothing more', async () => {
    const ns = await freshNamespace('read-ahead');
    for (let i = 0; i < 6; i++) await kubectl(['create', 'configmap', `c-${i}`, '-n', ns]);
    const cluster = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    try {
      // Warm up discovery (not part of what is counted).
      for await (const _ of cluster.list(Kinds.ConfigMap, { namespace: ns, limit: 100 })) break;
      const before = cluster.requestCount;
      const iterator = cluster.list(Kinds.ConfigMap, { namespace: ns, limit: 2 })[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value?.items).toHaveLength(2);
      // Page 1 and the request for page 2: on the wire before page 1 is handed over (a consumer reads a page
      // synchronously, and would otherwise hold back a request still passing the rate limiter).
      expect(cluster.requestCount - before).toBe(2);
      const second = await iterator.next();
      expect(second.value?.index).toBe(2);
      await new Promise((r) => setTimeout(r, 100));
      expect(cluster.requestCount - before).toBe(3);
      // Stop early: the page read ahead is dropped, and no further request goes out.
      await iterator.return?.();
      await new Promise((r) => setTimeout(r, 200));
      expect(cluster.requestCount - before).toBe(3);
      // All pages of a complete list, in order, nothing twice.
      const names: string[] = [];
      for await (const page of cluster.list(Kinds.ConfigMap, { namespace: ns, limit: 2 }))
        names.push(...Array.from(page.items, (c) => c.metadata.name));
      expect(names.filter((n) => n.startsWith('c-'))).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5']);
      // Read item by item (not one array parsed at once), each item with the kind the list omits, in the order
      // the server wrote them.
      for await (const page of cluster.list(Kinds.ConfigMap, { namespace: ns, limit: 3 })) {
        expect(page.items).toBeInstanceOf(ListItems);
        for (const item of page.items) {
          expect(Object.keys(item).slice(-2)).toEqual(['apiVersion', 'kind']);
          expect(item).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: ns } });
        }
      }
    } finally {
      cluster.close();
    }
  });

  it('a throttled client sends the next page before handing over this one, not after the consumer is done', async () => {
    const ns = await freshNamespace('read-ahead-throttled');
    // With kube-root-ca.crt, 4 ConfigMaps: 2 pages of 2.
    for (let i = 0; i < 3; i++) await kubectl(['create', 'configmap', `c-${i}`, '-n', ns]);
    // One token, then one every 250 ms: the request for page 2 waits for a timer.
    const cluster = connect({ kubeconfig: clusterInfo().adminKubeconfig, qps: 4, burst: 1 });
    try {
      for await (const _ of cluster.list(Kinds.ConfigMap, { namespace: ns, limit: 100 })) break; // discovery
      const before = cluster.requestCount;
      const atHandover: number[] = [];
      for await (const page of cluster.list(Kinds.ConfigMap, { namespace: ns, limit: 2 })) {
        atHandover.push(cluster.requestCount - before);
        // A consumer that reads its page synchronously for 400 ms (500 pods take tens of ms).
        const until = performance.now() + 400;
        while (performance.now() < until) {}
        expect(page.items).toHaveLength(2);
      }
      // Page 1 was handed over with page 2 already sent; a request held back by the consumer would have left
      // after the busy wait (counted 1 here).
      expect(atHandover).toEqual([2, 2]);
    } finally {
      cluster.close();
    }
  });

  it('omitFieldsV1: field sets read as {}, managers kept; the inventory still names the field managers', async () => {
    const ns = await freshNamespace('omit-fields');
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] },
        },
      },
    };
    await kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], {
      input: JSON.stringify(deployment),
    });
    const cluster = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    try {
      const read = async (omitFieldsV1: boolean) => {
        const out: Array<{ manager?: string; fieldsV1?: unknown }> = [];
        for await (const page of cluster.list(Kinds.Deployment, { namespace: ns, omitFieldsV1 }))
          for (const item of page.items) out.push(...(item.metadata.managedFields ?? []));
        return out;
      };
      const whole = await read(false);
      expect(whole.map((e) => e.manager)).toContain('helm');
      expect(Object.keys(whole[0]?.fieldsV1 ?? {})).not.toHaveLength(0);
      const omitted = await read(true);
      expect(omitted).toEqual(whole.map((e) => ({ ...e, fieldsV1: {} })));

      const snapshot = await buildSnapshot(readOnly(cluster), { namespaces: [ns] });
      const web = snapshot.workloads.find((w) => w.kind === 'Deployment' && w.name === 'web');
      expect(web?.fieldManagers).toContain('helm');
      expect(web?.managedBy).toContainEqual({ tool: 'helm', detail: 'field manager helm' });
    } finally {
      cluster.close();
    }
  });
});
