/**
 * privileged-isolate (phase 2, manual) against the real control plane: in an application namespace where a
 * privileged Deployment, a hostPath Pod and a privileged Job run next to a workload that passes baseline, `plan
 * --step privileged-isolate` writes the Namespace of their own and their manifests. The API server accepts the
 * Namespace (created for real), then dry-run-creates every moved workload in it (the live-only fields — a Job's
 * generated selector, a Pod's node and injected token volume — are gone, or the create would fail), warning about
 * baseline as the namespace's warn label says. The Secret the workloads reference is named, never read: its value
 * and the credential-like env literal appear in no file of the plan.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readPlanDir } from '../../src/engine/plan-file.js';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

const CANARY = 'canary-privileged-isolate-7f3a';

const fixture = (ns: string) => `
apiVersion: v1
kind: ServiceAccount
metadata: { name: agent-sa, namespace: ${ns} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: agent-config, namespace: ${ns} }
data: { mode: fast }
---
apiVersion: v1
kind: Secret
metadata: { name: agent-keys, namespace: ${ns} }
stringData: { api: ${CANARY}-secret }
---
apiVersion: v1
kind: Service
metadata: { name: agent-metrics, namespace: ${ns} }
spec:
  selector: { app: agent }
  ports: [{ port: 9100 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: frontend, namespace: ${ns} }
spec:
  replicas: 0
  selector: { matchLabels: { app: frontend } }
  template:
    metadata: { labels: { app: frontend } }
    spec:
      containers: [{ name: web, image: registry.example.com/web:1.0.0 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: agent, namespace: ${ns}, labels: { app: agent } }
spec:
  replicas: 0
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      serviceAccountName: agent-sa
      containers:
        - name: agent
          image: registry.example.com/agent:1.0.0
          securityContext: { privileged: true }
          env:
            - { name: DB_PASSWORD, value: ${CANARY}-env }
            - name: API_KEY
              valueFrom: { secretKeyRef: { name: agent-keys, key: api } }
          volumeMounts: [{ name: config, mountPath: /etc/agent }]
      volumes: [{ name: config, configMap: { name: agent-config } }]
---
apiVersion: batch/v1
kind: Job
metadata: { name: migrate, namespace: ${ns} }
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example.com/migrate:1.0.0
          securityContext: { privileged: true }
---
apiVersion: v1
kind: Pod
metadata: { name: cleanup, namespace: ${ns} }
spec:
  containers:
    - name: cleanup
      image: registry.example.com/cleanup:1.0.0
      volumeMounts: [{ name: logs, mountPath: /host/var/log }]
  volumes: [{ name: logs, hostPath: { path: /var/log, type: Directory } }]
`;

describeCluster('privileged-isolate (live)', () => {
  let ns: string;
  let isolated: string;
  let state: string;

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    ns = await freshNamespace('piso');
    isolated = `${ns}-privileged`;
    await applyYaml(fixture(ns));
    // The Job controller adds its selector and labels; the ServiceAccount admission plugin the Pod's token volume.
    await waitFor(
      async () => {
        const job = await kubectlJson<KubeObject>(['get', 'job', 'migrate', '-n', ns]);
        return (job.spec as { selector?: unknown }).selector !== undefined;
      },
      { timeoutMs: 30_000, what: 'the Job selector' },
    );
  }, 120_000);

  afterAll(async () => {
    await kubectl(['delete', 'namespace', isolated, '--wait=false', '--ignore-not-found']);
  });

  it('plan writes the Namespace and the moved workloads; the API server accepts both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await runCli(
      [
        'plan',
        '-n',
        ns,
        '--step',
        'privileged-isolate',
        '--out',
        dir,
        '--kubeconfig',
        clusterInfo().adminKubeconfig,
      ],
      { env: { XDG_STATE_HOME: state } },
    );
    expect(planned.code, planned.stderr).toBe(ExitCode.ok);
    const saved = readPlanDir(dir);
    expect(saved.changes.map((c) => [c.id, c.kind, c.operation])).toEqual([
      [`privileged-isolate/${ns}/namespace`, 'manual', 'manual'],
      [`privileged-isolate/${ns}/workloads`, 'manual', 'manual'],
    ]);
    const artifacts = join(dir, 'artifacts', 'privileged-isolate');
    expect(readdirSync(artifacts).sort()).toEqual([
      `${isolated}-namespace.yaml`,
      `${isolated}-workloads.yaml`,
    ]);

    // The Namespace: created for real (the plan's instructions say `kubectl create -f`).
    const nsFile = join(artifacts, `${isolated}-namespace.yaml`);
    await kubectl(['create', '-f', nsFile]);
    const created = await kubectlJson<KubeObject>(['get', 'namespace', isolated]);
    expect(created.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'privileged',
      'pod-security.kubernetes.io/warn': 'baseline',
      'pod-security.kubernetes.io/audit': 'baseline',
    });
    expect(created.metadata.annotations?.['kube-harden.io/isolated-from']).toBe(ns);

    // The workloads: each dry-run-created there, as is.
    const wlFile = join(artifacts, `${isolated}-workloads.yaml`);
    const docs = parseAllDocuments(readFileSync(wlFile, 'utf8')).map((d) => d.toJS() as KubeObject);
    expect(docs.map((d) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`).sort()).toEqual(
      [`Deployment/${isolated}/agent`, `Job/${isolated}/migrate`, `Pod/${isolated}/cleanup`].sort(),
    );
    const res = await kubectlRaw(['create', '-f', wlFile, '--dry-run=server', '-o', 'name']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout.trim().split('\n').sort()).toEqual([
      'deployment.apps/agent',
      'job.batch/migrate',
      'pod/cleanup',
    ]);
    // warn=baseline: the privileged workloads are visible to whoever creates them.
    expect(res.stderr).toMatch(/would violate PodSecurity "baseline:v1\.\d+": privileged/);
    // Nothing was created by the dry-run.
    const left = await kubectlRaw(['get', 'deployment,job,pod', '-n', isolated, '-o', 'name']);
    expect(left.stdout.trim()).toBe('');

    // The same spec: the Deployment's template is the live one (credential-like literals aside).
    const live = await kubectlJson<KubeObject>(['get', 'deployment', 'agent', '-n', ns]);
    const moved = docs.find((d) => d.kind === 'Deployment') as KubeObject;
    const liveSpec = structuredClone(live.spec) as {
      template: { spec: { containers: Array<{ env: Array<{ value?: string }> }> } };
    };
    const env = liveSpec.template.spec.containers[0]?.env[0];
    if (env) env.value = '<redacted by kube-harden: copy this value from the source workload>';
    expect(moved.spec).toEqual(liveSpec);

    // What to carry over is named; no Secret value, nor the env literal, is in any file of the plan.
    const workloads = saved.changes[1];
    expect(workloads?.instructions).toContain('ServiceAccount agent-sa');
    expect(workloads?.instructions).toContain('ConfigMaps agent-config (volume config)');
    expect(workloads?.instructions).toContain('Secrets agent-keys (env API_KEY of container agent)');
    expect(workloads?.instructions).toContain('Services agent-metrics (selects Deployment agent)');
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)],
      );
    for (const f of files(dir)) expect(readFileSync(f, 'utf8'), f).not.toContain(CANARY);
    expect(planned.stdout + planned.stderr).not.toContain(CANARY);
  }, 120_000);

  it('report names the shared namespace finding', async () => {
    const r = await runCli(
      ['report', '-n', ns, '-o', 'json', '--kubeconfig', clusterInfo().adminKubeconfig],
      { env: { XDG_STATE_HOME: state } },
    );
    const report = JSON.parse(r.stdout) as { findings: Array<{ control: string; target: { name: string } }> };
    expect(
      report.findings
        .filter((f) => f.control === 'KH-PSS-PRIVILEGED-IN-APP-NS')
        .map((f) => f.target.name)
        .sort(),
    ).toEqual(['agent', 'cleanup', 'migrate']);
  }, 60_000);
});
