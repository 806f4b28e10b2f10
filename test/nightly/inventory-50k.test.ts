/**
 * Nightly tier (not CI, not `npm test`): an inventory at 50,000 pods on the local control plane, asserting from
 * the API server's audit log that every list is paginated and none sends `resourceVersion=0` with a limit
 * (failure-modes F9/F10, issue 10). Heavy: ~10-20 min and a few GB of RAM on 2 cores. Run it with
 * `npm run test:nightly` (KUBE_HARDEN_NIGHTLY=1 adds the `nightly` vitest project). Pod count and namespaces:
 * KUBE_HARDEN_NIGHTLY_PODS (default 50000), spread over 100 namespaces.
 */
import { expect, it } from 'vitest';
import { pool } from '../../bench/inventory/seed.js';
import { connect } from '../../src/cluster/live.js';
import { ExitCode } from '../../src/errors.js';
import { clusterInfo, describeCluster, kubectl } from '../cluster/harness.js';
import { auditedLists, seedPods, unpaginated } from '../support/audit-lists.js';
import { runCli } from '../support/cli.js';

const TOTAL = Number(process.env.KUBE_HARDEN_NIGHTLY_PODS ?? 50_000);
const NAMESPACES = 100;
const log = (line: string) => console.log(`[nightly] ${line}`);

describeCluster('nightly: inventory at 50k pods (live)', () => {
  it(
    `kube-harden report over ${TOTAL} pods: paginated lists only, never resourceVersion=0 with a limit`,
    async (ctx) => {
      const { adminKubeconfig, auditLog } = clusterInfo();
      if (!auditLog) ctx.skip();
      const namespaces = Array.from(
        { length: NAMESPACES },
        (_, i) => `nightly-${String(i).padStart(3, '0')}`,
      );
      const seeder = connect({ kubeconfig: adminKubeconfig, qps: 1000, burst: 1000 });
      const started = Date.now();
      try {
        await pool(namespaces, 8, async (name) => {
          await seeder.apply(
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
            { fieldManager: 'seed' },
          );
          await seeder.apply(
            { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } },
            { fieldManager: 'seed' },
          );
        });
        await seedPods(seeder, namespaces, Math.ceil(TOTAL / NAMESPACES), { concurrency: 24, log });
      } finally {
        seeder.close();
      }
      log(`seeded ${TOTAL} pods in ${Math.round((Date.now() - started) / 1000)} s`);

      const since = new Date(Date.now() - 1000);
      const t0 = Date.now();
      const r = await runCli(['report', '--kubeconfig', adminKubeconfig], { timeoutMs: 15 * 60_000 });
      log(`report took ${Math.round((Date.now() - t0) / 1000)} s, exit ${r.code}`);
      expect(r.code, r.stderr.slice(-2000)).toBe(ExitCode.ok);

      const lists = await auditedLists(auditLog as string, since, 'kube-harden');
      const pods = lists.filter((l) => l.resource === 'pods' && !l.namespace);
      log(`${lists.length} list requests, ${pods.length} pages of pods`);
      expect(unpaginated(lists)).toEqual([]);
      expect(pods.length).toBeGreaterThanOrEqual(Math.ceil(TOTAL / 500));
      expect(pods.filter((l) => l.query.has('continue')).length).toBe(pods.length - 1);

      // Leave the shared control plane as it was for whatever runs next (without waiting).
      await kubectl(['delete', 'namespace', ...namespaces, '--wait=false', '--ignore-not-found'], {
        timeoutMs: 120_000,
      });
    },
    60 * 60_000,
  );
});
