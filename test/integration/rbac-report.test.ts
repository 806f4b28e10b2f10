/**
 * Phase 4 in `kube-harden report`, on the real control plane: a ClusterRoleBinding of cluster-admin to a user, a
 * binding of a role with nodes/proxy and pods/exec, and a long-lived token Secret (the controller-manager's token
 * controller fills in its token) are named in every format, with the last use the API server's label records. The
 * Secret's values — the real token and a planted canary, in its data and an annotation — appear in no output.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  waitFor,
} from '../cluster/harness.js';
import { type CliResult, runCli } from '../support/cli.js';

interface ReportJson {
  findings: Array<{
    control: string;
    target: { kind: string; namespace?: string; name: string };
    message: string;
  }>;
  controls: Array<{ id: string; nextStep: string }>;
  workloads: Array<{ namespace: string; name: string; apiUse?: { use: string; evidence: string } }>;
}

describeCluster('phase 4 in the report: RBAC and legacy tokens (live)', () => {
  const suffix = randomBytes(3).toString('hex');
  const canary = `kh-canary-${randomBytes(12).toString('hex')}`;
  const admin = `kh-test-admin-${suffix}`;
  const debug = `kh-test-debug-${suffix}`;
  let ns: string;
  let kubeconfig: string;
  let token = '';
  const outputs: Array<{ format: string; r: CliResult }> = [];

  beforeAll(async () => {
    kubeconfig = clusterInfo().adminKubeconfig;
    ns = await freshNamespace('rbac-report');
    await applyYaml(
      [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'legacy-user', namespace: ns } },
        {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/service-account-token',
          metadata: {
            name: 'legacy-token',
            namespace: ns,
            annotations: {
              'kubernetes.io/service-account.name': 'legacy-user',
              'kube-harden.test/canary': canary,
            },
            labels: { 'kubernetes.io/legacy-token-last-used': '2026-11-30' },
          },
          stringData: { canary },
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: admin },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `alice-${suffix}` }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: debug },
          rules: [
            { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] },
            { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
          ],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'debuggers', namespace: ns },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: debug },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `bob-${suffix}` }],
        },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'uses-api', namespace: ns },
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: 'uses-api' } },
            template: {
              metadata: { labels: { app: 'uses-api' } },
              spec: {
                serviceAccountName: 'legacy-user',
                containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
              },
            },
          },
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'legacy-user-view', namespace: ns },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ kind: 'ServiceAccount', name: 'legacy-user', namespace: ns }],
        },
      ]
        .map((o) => stringify(o))
        .join('---\n'),
    );
    // The token controller writes the real token into the Secret: it must not leak either.
    token = await waitFor(
      async () => {
        const s = await kubectlJson<{ data?: Record<string, string> }>([
          'get',
          'secret',
          'legacy-token',
          '-n',
          ns,
          '-o',
          'json',
        ]);
        return s.data?.token ? Buffer.from(s.data.token, 'base64').toString('utf8') : '';
      },
      { timeoutMs: 30_000, what: 'the token controller to fill in legacy-token' },
    );
    for (const format of ['json', 'text', 'md', 'sarif']) {
      outputs.push({
        format,
        r: await runCli(['report', '-n', ns, '-o', format, '--kubeconfig', kubeconfig]),
      });
    }
  });

  afterAll(async () => {
    await kubectl(['delete', 'clusterrolebinding', admin, '--ignore-not-found', '--wait=false']);
    await kubectl(['delete', 'clusterrole', debug, '--ignore-not-found', '--wait=false']);
  });

  it('the JSON report names the cluster-admin binding, nodes/proxy and exec, and the legacy token with its last use', () => {
    const json = outputs.find((o) => o.format === 'json')?.r;
    expect(json?.code, json?.stderr).toBe(0);
    const report = JSON.parse(json?.stdout ?? '{}') as ReportJson;
    const find = (control: string, name: string) =>
      report.findings.find((f) => f.control === control && f.target.name === name);
    expect(find('KH-RBAC-CLUSTER-ADMIN', admin)?.message).toContain(
      `grants cluster-admin cluster-wide to User alice-${suffix}`,
    );
    expect(find('KH-RBAC-NODES-PROXY', 'debuggers')?.target.namespace).toBe(ns);
    expect(find('KH-RBAC-PODS-EXEC', 'debuggers')?.message).toContain('pods/exec');
    const legacy = find('KH-SA-LEGACY-TOKEN', 'legacy-token');
    expect(legacy?.target).toEqual({ kind: 'Secret', namespace: ns, name: 'legacy-token' });
    expect(legacy?.message).toContain(`a long-lived token of ServiceAccount ${ns}/legacy-user`);
    expect(legacy?.message).toContain('last used 2026-11-30');
    expect(report.controls.find((c) => c.id === 'KH-SA-LEGACY-TOKEN')?.nextStep).toContain('own audience');
    // The workload bound to a role keeps its token: the same evidence as sa-tokens.
    expect(report.workloads.find((w) => w.namespace === ns && w.name === 'uses-api')?.apiUse).toEqual({
      use: 'yes',
      evidence: `bound to ClusterRole view in namespace ${ns} (RoleBinding ${ns}/legacy-user-view)`,
    });
    expect(find('KH-SA-TOKEN-EVIDENCE', 'uses-api')?.message).toContain('the token is kept');
  });

  it('every format names them', () => {
    for (const { format, r } of outputs) {
      expect(r.code, `${format}: ${r.stderr}`).toBe(0);
      for (const s of [
        'KH-RBAC-CLUSTER-ADMIN',
        admin,
        'KH-SA-LEGACY-TOKEN',
        'legacy-token',
        'KH-RBAC-NODES-PROXY',
      ])
        expect(r.stdout, `${format}: ${s}`).toContain(s);
    }
  });

  it("the Secret's token and the planted canary appear in no output", () => {
    expect(token.length).toBeGreaterThan(100);
    const needles = [
      canary,
      Buffer.from(canary).toString('base64'),
      token,
      Buffer.from(token).toString('base64'),
      ...token.split('.').filter((p) => p.length >= 16),
    ];
    for (const { format, r } of outputs)
      for (const [i, n] of needles.entries()) {
        expect(r.stdout.includes(n), `${format} stdout: needle ${i}`).toBe(false);
        expect(r.stderr.includes(n), `${format} stderr: needle ${i}`).toBe(false);
      }
  });
});
