/**
 * `kube-harden schedule` on the real control plane: every object it writes is accepted; the CronJob's pod passes
 * Pod Security restricted (its namespace enforces it: the API server is the oracle); and the ClusterRole grants
 * exactly what the report needs — `kube-harden report -A` under the ServiceAccount's token completes without
 * unknowns, and with any one rule removed it reports an unknown (exit 7).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SCHEDULE_NAME, scheduleFiles, scheduleObjects } from '../../src/commands/schedule.js';
import type { KubeObject } from '../../src/k8s/types.js';
import {
  deleteFreshNamespaces,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';
import { tokenKubeconfig } from '../support/identities.js';

const IMAGE = 'ghcr.io/example/kube-harden:0.1.0';

describeCluster('kube-harden schedule: the CronJob and its read-only RBAC', () => {
  let ns: string;
  let objects: KubeObject[];
  let kubeconfig: string;
  const roleOf = () => objects.find((o) => o.kind === 'ClusterRole') as KubeObject & { rules: unknown[] };
  const applyRole = (rules: unknown[]) =>
    kubectl(['apply', '--server-side', '--field-manager=kube-harden', '-f', '-'], {
      input: stringify({ ...roleOf(), rules }),
    });

  beforeAll(async () => {
    ns = await freshNamespace('schedule');
    objects = scheduleObjects({
      schedule: '0 6 * * 1',
      within: 30,
      exceptionsPath: 'kube-harden-exceptions.yaml',
      exceptionsText: readFileSync('examples/legacy-cluster-exceptions.yaml', 'utf8'),
      image: IMAGE,
      namespace: ns,
      version: '0.1.0',
    });
  });

  afterAll(async () => {
    await kubectl(['delete', 'clusterrolebinding,clusterrole', SCHEDULE_NAME, '--ignore-not-found']);
    await deleteFreshNamespaces();
  });

  it('writes the Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMaps and CronJob', () => {
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'ConfigMap',
      'CronJob',
    ]);
    const file = scheduleFiles({
      schedule: '0 6 * * 1',
      within: 30,
      exceptionsPath: 'kube-harden-exceptions.yaml',
      image: IMAGE,
      namespace: ns,
      version: '0.1.0',
    }).find((f) => f.path === 'kubernetes/kube-harden-review.yaml');
    expect(file?.content).toContain('kind: CronJob');
  });

  it('the API server accepts every object, with no Pod Security warning for the restricted namespace', async () => {
    // Apply in order (the Namespace gains enforce=restricted before the CronJob arrives).
    for (const o of objects) {
      const r = await kubectlRaw(['apply', '--server-side', '--field-manager=kube-harden', '-f', '-'], {
        input: stringify(o),
      });
      expect(r.exitCode, `${o.kind} ${o.metadata.name}: ${r.stderr}`).toBe(0);
      expect(r.stderr, `${o.kind} ${o.metadata.name}`).not.toMatch(/Warning/i);
    }
    const labels = JSON.parse(await kubectl(['get', 'namespace', ns, '-o', 'json'])).metadata.labels;
    expect(labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it("the CronJob's pod is admitted under enforce=restricted (and a root variant is refused: the oracle works)", async () => {
    const cronJob = objects.find((o) => o.kind === 'CronJob') as unknown as {
      spec: { jobTemplate: { spec: { template: { spec: Record<string, unknown> } } } };
    };
    const spec = cronJob.spec.jobTemplate.spec.template.spec;
    const pod = (podSpec: Record<string, unknown>) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'review', namespace: ns },
        spec: podSpec,
      });
    const ok = await kubectlRaw(['create', '--dry-run=server', '-f', '-'], { input: pod(spec) });
    expect(ok.exitCode, ok.stderr).toBe(0);
    const root = { ...spec, securityContext: { seccompProfile: { type: 'RuntimeDefault' } } };
    const refused = await kubectlRaw(['create', '--dry-run=server', '-f', '-'], { input: pod(root) });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/violates PodSecurity "restricted/);
  });

  it('the report under the ServiceAccount completes without unknowns (exit 0)', async () => {
    const token = (await kubectl(['create', 'token', SCHEDULE_NAME, '-n', ns, '--duration=1h'])).trim();
    kubeconfig = tokenKubeconfig(token, mkdtempSync(join(tmpdir(), 'kh-schedule-')));
    // RBAC takes effect once the authorizer's informer sees the binding.
    const r = await waitFor(
      async () => {
        const res = await runCli(['report', '-A', '-o', 'json', '--kubeconfig', kubeconfig]);
        return res.code === 0 ? res : undefined;
      },
      { what: 'report -A under the schedule ServiceAccount exits 0', timeoutMs: 60_000, intervalMs: 2000 },
    );
    const report = JSON.parse(r.stdout) as { unknown: unknown[] };
    expect(report.unknown).toEqual([]);
    // And it may not read a Secret, nor write anything.
    const canI = (...args: string[]) =>
      kubectlRaw(['auth', 'can-i', ...args, '--kubeconfig', kubeconfig]).then((x) => x.stdout.trim());
    expect(await canI('list', 'secrets', '-A')).toBe('no');
    expect(await canI('get', 'configmaps', '-n', 'kube-system')).toBe('no');
    expect(await canI('patch', 'namespaces')).toBe('no');
    expect(await canI('create', 'pods', '-n', ns)).toBe('no');
  });

  it('with any one rule of the ClusterRole removed, the report has an unknown (exit 7): nothing in it is spare', async () => {
    const rules = roleOf().rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    expect(rules.length).toBeGreaterThan(3);
    // Kinds the inventory reads only when their API is served (Gateway API, Prometheus Operator): this control
    // plane serves neither, so without their rule nothing is missing here.
    const unserved: string[] = [];
    for (const g of ['gateway.networking.k8s.io', 'monitoring.coreos.com']) {
      const served = (await kubectl(['api-resources', `--api-group=${g}`, '-o', 'name'])).trim();
      if (!served) unserved.push(g);
    }
    expect(unserved).toEqual(['gateway.networking.k8s.io', 'monitoring.coreos.com']);
    // The named ConfigMaps are read only for the CNI that uses them (cilium-config when a cilium agent runs): a
    // cilium DaemonSet (no nodes here, so no pods) makes that read happen.
    const cni = await freshNamespace('schedule-cni');
    await kubectl(['apply', '--server-side', '--field-manager=kube-harden-test-fixture', '-f', '-'], {
      input: stringify({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'cilium', namespace: cni },
        spec: {
          selector: { matchLabels: { app: 'cilium' } },
          template: {
            metadata: { labels: { app: 'cilium' } },
            spec: { containers: [{ name: 'agent', image: 'quay.io/cilium/cilium:v1.16.0' }] },
          },
        },
      }),
    });
    const full = await runCli(['report', '-A', '-o', 'json', '--kubeconfig', kubeconfig]);
    expect(full.code, full.stderr).toBe(0);
    const spare: string[] = [];
    try {
      for (const [i, rule] of rules.entries()) {
        await applyRole(rules.filter((_, j) => j !== i));
        const what = `${rule.verbs.join(',')} ${rule.resources.join(',')}.${rule.apiGroups.join(',') || 'core'}`;
        try {
          const r = await waitFor(
            async () => {
              const res = await runCli(['report', '-A', '-o', 'json', '--kubeconfig', kubeconfig]);
              return res.code === 7 ? res : undefined;
            },
            { what: `report exits 7 without ${what}`, timeoutMs: 10_000, intervalMs: 1000 },
          );
          expect((JSON.parse(r.stdout) as { unknown: unknown[] }).unknown.length, what).toBeGreaterThan(0);
        } catch {
          spare.push(what);
        }
      }
    } finally {
      await applyRole(rules);
    }
    expect(spare).toEqual([
      'list gatewayclasses,gateways,httproutes.gateway.networking.k8s.io',
      'list prometheuses,servicemonitors,podmonitors.monitoring.coreos.com',
    ]);
    // One full report per rule, one after another (they change the same ClusterRole): ~3-5 s each alone, more in
    // the full suite on 2 cores; the rule count grows with what the inventory reads (phases 4-6 added rules).
  }, 360_000);
});
