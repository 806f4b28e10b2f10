/**
 * The bundled example (examples/legacy-cluster, README "planted problems"): given that cluster as manifests and
 * its exceptions register, the assessment finds exactly what the README says is there.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { buildSnapshot } from '../../../src/inventory/build.js';
import { type Assessment, assess } from '../../../src/policy/assess.js';
import { loadExceptions } from '../../../src/policy/exceptions.js';
import { renderReport } from '../../../src/report/index.js';

let a: Assessment;
// The README's review date: node-exporter's and calico's exceptions valid, the frontend's expired.
const NOW = new Date('2026-06-01T00:00:00Z');

beforeAll(async () => {
  const snapshot = await buildSnapshot(await ManifestSource.load('examples/legacy-cluster'));
  const exceptions = await loadExceptions('examples/legacy-cluster-exceptions.yaml');
  a = assess(snapshot, { now: NOW, ...(exceptions ? { exceptions } : {}) });
});

const targets = (control: string, excepted = false) =>
  a.findings
    .filter((f) => f.control === control && f.excepted === excepted)
    .map(
      (f) =>
        `${f.target.namespace ? `${f.target.namespace}/` : ''}${f.target.kind}/${f.target.name}${f.target.container ? `:${f.target.container}` : ''}`,
    );
const ns = (name: string) => a.namespaces.find((n) => n.name === name);
const wl = (namespace: string, name: string) =>
  a.workloads.find((w) => w.namespace === namespace && w.name === name);

describe('examples/legacy-cluster', () => {
  test('namespaces and tiers', () => {
    expect(a.namespaces.map((n) => [n.name, n.tier])).toEqual([
      ['cert-manager', 'infrastructure'],
      ['ci', 'application'],
      ['data', 'application'],
      ['ingress-nginx', 'infrastructure'],
      ['kube-system', 'system'],
      ['legacy-batch', 'application'],
      ['monitoring', 'infrastructure'],
      ['payments', 'application'],
      ['shop', 'application'],
    ]);
    expect(ns('payments')?.psa?.enforce).toEqual({ level: 'restricted', version: 'v1.30' });
    expect(ns('monitoring')?.psa).toEqual({
      enforce: null,
      audit: null,
      warn: { level: 'baseline', version: 'latest' },
    });
    expect(a.unknown).toEqual([]);
  });

  test('Pod Security results per workload match the README table', () => {
    const failing = (level: 'baseline' | 'restricted') =>
      Object.fromEntries(
        a.workloads
          .filter((w) => !w.pss[level].allowed)
          .map((w) => [`${w.namespace}/${w.name}`, w.pss[level].violations.map((v) => v.check)]),
      );
    expect(failing('baseline')).toEqual({
      'kube-system/calico-node': ['hostNamespaces', 'hostPathVolumes', 'privileged'],
      'legacy-batch/disk-cleanup': ['hostPathVolumes'],
      'legacy-batch/legacy-importer': ['privileged'],
      'monitoring/node-exporter': ['hostNamespaces', 'hostPathVolumes', 'hostPorts'],
    });
    const restricted = failing('restricted');
    expect(Object.keys(restricted).sort()).toEqual([
      'ci/ci-runner',
      'data/postgres',
      'ingress-nginx/ingress-nginx-controller',
      'kube-system/calico-node',
      'kube-system/coredns',
      'legacy-batch/disk-cleanup',
      'legacy-batch/legacy-importer',
      'legacy-batch/nightly-report',
      'monitoring/node-exporter',
      'shop/cart',
      'shop/frontend',
      'shop/redis',
    ]);
    expect(restricted['shop/cart']).toEqual(['capabilities_restricted', 'seccompProfile_restricted']);
    expect(restricted['ingress-nginx/ingress-nginx-controller']).toEqual(['allowPrivilegeEscalation']);
    expect(restricted['legacy-batch/nightly-report']).toContain('runAsUser');
    expect(restricted['monitoring/node-exporter']).toEqual([
      'hostNamespaces',
      'hostPorts',
      'restrictedVolumes',
    ]);
  });

  test('what each namespace could enforce today (exceptions counted), incl. the scaled-to-zero importer', () => {
    expect(Object.fromEntries(a.namespaces.map((n) => [n.name, n.strictestEnforceable]))).toEqual({
      'cert-manager': 'restricted',
      ci: 'baseline',
      data: 'baseline',
      'ingress-nginx': 'baseline',
      'kube-system': 'baseline',
      'legacy-batch': 'privileged',
      monitoring: 'baseline',
      payments: 'restricted',
      shop: 'baseline',
    });
    expect(ns('monitoring')?.strictestWithoutExceptions).toBe('privileged');
    expect(ns('legacy-batch')?.blockers.baseline.map((b) => b.name)).toEqual([
      'legacy-importer',
      'disk-cleanup',
    ]);
    expect(ns('shop')?.blockers.restricted.map((b) => b.name)).toEqual(['cart', 'frontend', 'redis']);
  });

  test('exceptions: two valid and used, one expired (and a finding), one unused', () => {
    // (calico-node is in kube-system, whose tier targets privileged: info, so listed after the high one)
    expect(targets('KH-PSS-BASELINE', true)).toEqual([
      'monitoring/DaemonSet/node-exporter',
      'kube-system/DaemonSet/calico-node',
    ]);
    expect(targets('KH-PSS-BASELINE')).toEqual([
      'legacy-batch/Deployment/legacy-importer',
      'legacy-batch/Pod/disk-cleanup',
    ]);
    expect(a.exceptions).toMatchObject({
      file: 'examples/legacy-cluster-exceptions.yaml',
      expired: ['shop-frontend-runs-as-root'],
      expiring: [],
      unused: ['reporting-etl-hostpath'],
    });
    expect(targets('KH-EXCEPTION-EXPIRED')).toEqual(['shop/Exception/shop-frontend-runs-as-root']);
    // The expired exception covers nothing: the frontend still fails runAsNonRoot, openly.
    const frontend = a.findings.find(
      (f) => f.control === 'KH-PSS-RESTRICTED' && f.target.name === 'frontend',
    );
    expect(frontend).toMatchObject({ excepted: false });
    expect(frontend?.checks).toContain('runAsNonRoot');
  });

  test('resource limits', () => {
    expect(targets('KH-POD-NO-LIMITS')).toEqual([
      'kube-system/DaemonSet/calico-node:calico-node',
      'kube-system/DaemonSet/calico-node:install-cni',
      'legacy-batch/CronJob/nightly-report:report',
      'legacy-batch/Deployment/legacy-importer:importer',
      'legacy-batch/Pod/disk-cleanup:cleanup',
      'shop/Deployment/cart:cart',
      'shop/Deployment/cart:wait-for-redis',
    ]);
  });

  test('root: implicit root images, runAsUser 0 at pod and at init-container level', () => {
    expect(targets('KH-POD-ROOT')).toEqual([
      'data/StatefulSet/postgres:init-permissions',
      'kube-system/DaemonSet/calico-node:calico-node',
      'kube-system/DaemonSet/calico-node:install-cni',
      'kube-system/Deployment/coredns:coredns',
      'legacy-batch/CronJob/nightly-report:report',
      'legacy-batch/Deployment/legacy-importer:importer',
      'legacy-batch/Pod/disk-cleanup:cleanup',
      'shop/Deployment/frontend:nginx',
      'shop/Deployment/redis:redis',
    ]);
  });

  test('ServiceAccount tokens and the default ServiceAccount', () => {
    const mounted = a.workloads
      .filter((w) => w.automountToken === true)
      .map((w) => `${w.namespace}/${w.name}`);
    const notMounted = a.workloads
      .filter((w) => w.automountToken === false)
      .map((w) => `${w.namespace}/${w.name}`);
    expect(notMounted).toEqual([
      'data/postgres',
      'monitoring/node-exporter',
      'payments/payments-api',
      'payments/settlement-worker',
    ]);
    expect(mounted).toHaveLength(13);
    expect(a.workloads.some((w) => w.automountToken === 'unknown')).toBe(false);
    expect(wl('ci', 'ci-runner')).toMatchObject({ serviceAccount: 'ci-deployer', automountToken: true });
    expect(targets('KH-SA-DEFAULT')).toEqual([
      'shop/Deployment/cart',
      'shop/Deployment/frontend',
      'shop/Deployment/redis',
    ]);
  });

  test('RBAC: the planted cluster-admin, namespace admin, secrets readers and escalation verbs', () => {
    expect(targets('KH-RBAC-CLUSTER-ADMIN')).toEqual([
      'ClusterRoleBinding/ci-deployer-cluster-admin',
      'legacy-batch/RoleBinding/batch-runner-admin',
    ]);
    expect(a.findings.find((f) => f.control === 'KH-RBAC-CLUSTER-ADMIN')?.severity).toBe('critical');
    expect(targets('KH-RBAC-WILDCARD')).toEqual(['legacy-batch/Role/batch-admin']);
    expect(targets('KH-RBAC-SECRETS-READ')).toEqual([
      'ClusterRoleBinding/ingress-nginx',
      'ClusterRoleBinding/prometheus-server',
    ]);
    for (const c of ['KH-RBAC-ESCALATE', 'KH-RBAC-BIND', 'KH-RBAC-IMPERSONATE']) {
      expect(targets(c)).toEqual(['ci/RoleBinding/release-managers']);
    }
  });

  test('images: floating tags, the one digest, and the registries in use', () => {
    expect(targets('KH-IMAGE-LATEST')).toEqual([
      'legacy-batch/CronJob/nightly-report:report',
      'legacy-batch/Pod/disk-cleanup:cleanup',
      'shop/Deployment/redis:redis',
    ]);
    expect(a.registries.map((r) => r.registry)).toEqual([
      'docker.io',
      'ghcr.io',
      'quay.io',
      'registry.example.com:5000',
      'registry.k8s.io',
    ]);
    expect(wl('ingress-nginx', 'ingress-nginx-controller')?.images[0]).toMatch(/@sha256:/);
  });

  test('network coverage: payments complete with DNS, shop half, the rest open; Calico enforces', () => {
    expect(ns('payments')?.defaultDeny).toEqual({
      ingress: 'denied',
      egress: 'denied',
      dnsEgress: true,
      policies: 2,
    });
    expect(ns('shop')?.defaultDeny).toMatchObject({ ingress: 'denied', egress: 'none' });
    expect(targets('KH-NET-NO-DEFAULT-DENY-INGRESS')).toEqual([
      'Namespace/ci',
      'Namespace/data',
      'Namespace/legacy-batch',
    ]);
    expect(targets('KH-NET-NO-DEFAULT-DENY-EGRESS')).toEqual([
      'Namespace/ci',
      'Namespace/data',
      'Namespace/legacy-batch',
      'Namespace/shop',
    ]);
    expect(a.cni).toMatchObject({
      status: 'enforcing',
      plugins: [{ name: 'calico', workload: 'calico-node' }],
    });
  });

  test('the Secret canary never appears in any report format', () => {
    for (const format of ['text', 'md', 'json', 'sarif'] as const) {
      const out = renderReport(a, format, { timestamps: false, limit: 1000 });
      expect(out).not.toContain('kh-example-canary-7f3a9c');
      expect(out).not.toContain('POSTGRES_PASSWORD');
    }
  });
});
