/**
 * The pagination contract, checked from the API server's audit log (failure-modes F9/F10): an inventory of the
 * whole cluster lists every kind with a `limit`, follows `continue` tokens, and never sends `resourceVersion=0`
 * with a limit. 2,000 pods here; the nightly tier (test/nightly, `npm run test:nightly`) does the same at 50,000.
 */
import { expect, it } from 'vitest';
import { connect } from '../../src/cluster/live.js';
import { ExitCode } from '../../src/errors.js';
import { clusterInfo, describeCluster, freshNamespace } from '../cluster/harness.js';
import { auditedLists, seedPods, unpaginated } from '../support/audit-lists.js';
import { runCli } from '../support/cli.js';

describeCluster('pagination from the audit log (live, 2k smoke)', () => {
  it('kube-harden report over 2,000 pods: every list has a limit, pods come in pages, no resourceVersion=0', async (ctx) => {
    const { adminKubeconfig, auditLog } = clusterInfo();
    if (!auditLog) ctx.skip();
    const namespaces = await Promise.all([0, 1, 2, 3].map((i) => freshNamespace(`pages-${i}`)));
    const seeder = connect({ kubeconfig: adminKubeconfig, qps: 500, burst: 500 });
    try {
      await seedPods(seeder, namespaces, 500);
    } finally {
      seeder.close();
    }
    const since = new Date(Date.now() - 1000);
    const r = await runCli(['report', '-o', 'json', '--kubeconfig', adminKubeconfig], { timeoutMs: 110_000 });
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const lists = await auditedLists(auditLog as string, since, 'kube-harden');
    expect(lists.length).toBeGreaterThan(15);
    expect(unpaginated(lists)).toEqual([]);
    const pods = lists.filter((l) => l.resource === 'pods' && !l.namespace);
    expect(pods.length).toBeGreaterThanOrEqual(4);
    expect(pods.filter((l) => l.query.has('continue')).length).toBe(pods.length - 1);
    expect(new Set(pods.map((l) => l.query.get('limit')))).toEqual(new Set(['500']));
    // No request per namespace or per object on the way: the report sends no access review for the steps'
    // permissions (only the wizard shows them): 18 reviews here before, growing with the namespaces.
    const reviews = (await auditedLists(auditLog as string, since, 'kube-harden', 'create')).filter((c) =>
      c.resource.startsWith('selfsubjectaccessreviews'),
    );
    expect(reviews.map((r) => r.at)).toEqual([]);
  });
});
