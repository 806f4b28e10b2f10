/**
 * The cluster access layer against the real control plane: writer → controller-manager → reader across pages,
 * Pod Security warnings as data from a dry-run, typed errors for the limited user, an unreachable server and a
 * broken kubeconfig.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ClusterError } from '../../src/cluster/errors.js';
import { connect, type LiveCluster, readOnly } from '../../src/cluster/live.js';
import { ExitCode } from '../../src/errors.js';
import { buildSnapshot } from '../../src/inventory/build.js';
import { Kinds } from '../../src/k8s/kinds.js';
import type { KubeObject } from '../../src/k8s/types.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectlJson,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

function deployment(ns: string, name: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
      },
    },
  };
}

async function collect(
  cluster: LiveCluster,
  kind: { apiVersion: string; kind: string },
  namespace: string,
  limit: number,
) {
  const pages: number[] = [];
  const names: string[] = [];
  for await (const page of cluster.list(kind, { namespace, limit })) {
    pages.push(page.items.length);
    names.push(...Array.from(page.items, (i) => i.metadata.name));
  }
  return { pages, names };
}

describeCluster('cluster access layer (live)', () => {
  let admin: LiveCluster;
  let ns: string;

  beforeAll(async () => {
    admin = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    ns = await freshNamespace('access');
  });

  it('applies a Deployment with the writer; the controller-manager creates its ReplicaSet and Pods; the reader lists them across pages and folds pods into the Deployment', async () => {
    const applied = await admin.apply(deployment(ns, 'web', 5), { fieldManager: 'kube-harden' });
    expect(applied.object.metadata.managedFields?.some((f) => f.manager === 'kube-harden')).toBe(true);

    await waitFor(
      async () => (await kubectlJson<{ items: unknown[] }>(['get', 'pods', '-n', ns])).items.length === 5,
      {
        what: '5 pods of deployment web',
        timeoutMs: 60_000,
      },
    );

    const pods = await collect(admin, Kinds.Pod, ns, 2);
    expect(pods.pages).toEqual([2, 2, 1]);
    expect(new Set(pods.names).size).toBe(5);

    const snapshot = await buildSnapshot(readOnly(admin), { namespaces: [ns], pageSize: 2 });
    const web = snapshot.workloads.filter((w) => w.namespace === ns);
    expect(web.map((w) => `${w.kind}/${w.name}`)).toEqual(['Deployment/web']);
    expect(web[0]?.pods).toHaveLength(5);
    expect(web[0]?.template?.spec.containers[0]?.image).toBe('registry.k8s.io/pause:3.10');
    expect(snapshot.stats.pages).toBeGreaterThanOrEqual(3);
  });

  it('returns the API server Pod Security warnings of a dry-run enforce label as data, and changes nothing', async () => {
    const psa = await freshNamespace('psa');
    await applyYaml(
      `apiVersion: v1
kind: Pod
metadata: {name: root-pod}
spec:
  containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`,
      psa,
    );
    const before = (await admin.get({ apiVersion: 'v1', kind: 'Namespace', name: psa })).value;
    const result = await admin.dryRunMergePatch(
      { apiVersion: 'v1', kind: 'Namespace', name: psa },
      { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    );
    expect(result.warnings).toContain(
      `existing pods in namespace "${psa}" violate the new PodSecurity enforce level "restricted:latest"`,
    );
    expect(result.warnings.some((w) => w.startsWith('root-pod: allowPrivilegeEscalation != false'))).toBe(
      true,
    );
    expect(result.object.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const after = (await admin.get({ apiVersion: 'v1', kind: 'Namespace', name: psa })).value;
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(after?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBeUndefined();
  });

  it('a server-side apply dry-run of a typo fails loudly (strict field validation)', async () => {
    const bad = deployment(ns, 'typo', 1);
    (bad.spec as Record<string, unknown>).replics = 3;
    const error = await admin.dryRunApply(bad, { fieldManager: 'kube-harden' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as ClusterError).reason).toBe('Invalid');
    expect((error as ClusterError).message).toMatch(
      /rejected .*typo.* as invalid: .*\.spec\.replics: field not declared in schema/,
    );
  });

  it('gives the limited user a typed Forbidden error naming the verb, the resource and the namespace', async () => {
    const limited = connect({ kubeconfig: clusterInfo().limitedKubeconfig });
    const error = await (async () => {
      for await (const _ of limited.list(Kinds.Deployment, { namespace: ns })) {
        // no pages expected
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    const e = error as ClusterError;
    expect(e.reason).toBe('Forbidden');
    expect(e.verb).toBe('list');
    expect(e.resource).toBe('deployments.apps');
    expect(e.namespace).toBe(ns);
    expect(e.message).toContain(`cannot list deployments.apps in namespace ${ns}`);
    expect(e.hint).toContain(`kubectl auth can-i list deployments.apps -n ${ns}`);
    expect(e.exitCode).toBe(ExitCode.auth);
    limited.close();
  });

  it('authenticates through an exec credential plugin, and times out a hanging one with a clear error', async () => {
    const { kubeconfigs, users } = clusterInfo();
    const exec = connect({ kubeconfig: kubeconfigs.exec as string, context: 'exec' });
    expect((await exec.whoAmI())?.username).toBe(users.exec);
    exec.close();
    const hang = connect({
      kubeconfig: kubeconfigs['exec-hang'] as string,
      context: 'exec-hang',
      execTimeoutMs: 1500,
    });
    const started = performance.now();
    const ticks: number[] = [];
    const ticker = setInterval(() => ticks.push(performance.now()), 100);
    const error = await hang.serverVersion().catch((e: unknown) => e);
    clearInterval(ticker);
    expect((error as Error).message).toMatch(/did not answer within 2s and was stopped/);
    expect(performance.now() - started).toBeLessThan(5000);
    // The event loop kept running while the plugin hung.
    expect(ticks.length).toBeGreaterThanOrEqual(8);
    hang.close();
  });

  it('CLI: an unreachable server and a broken kubeconfig each give a one-line error and the documented exit code', async () => {
    const dir = tmpdir();
    const unreachable = join(dir, `kh-unreachable-${process.pid}.kubeconfig`);
    writeFileSync(
      unreachable,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: kh-token-canary-5d1e}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const r1 = await runCli(['preflight', '--kubeconfig', unreachable]);
    expect(r1.code).toBe(ExitCode.unreachable);
    expect(r1.stderr).toMatch(
      /^error: cannot reach the API server at https:\/\/127\.0\.0\.1:1: connection refused\n {2}hint: /,
    );
    expect(r1.stderr.split('\n').filter(Boolean)).toHaveLength(2);
    expect(r1.stderr + r1.stdout).not.toContain('kh-token-canary-5d1e');

    const broken = join(dir, `kh-broken-${process.pid}.kubeconfig`);
    writeFileSync(broken, 'apiVersion: v1\nclusters: [\n  - {name: c\n');
    const r2 = await runCli(['preflight', '--kubeconfig', broken]);
    expect(r2.code).toBe(ExitCode.config);
    expect(r2.stderr).toMatch(/^error: kubeconfig .* is not valid YAML/);
    expect(r2.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const r3 = await runCli([
      'preflight',
      '--kubeconfig',
      clusterInfo().adminKubeconfig,
      '--context',
      'nope',
    ]);
    expect(r3.code).toBe(ExitCode.config);
    expect(r3.stderr).toContain('context "nope" not found');

    // A server that accepts the connection and never answers (a hung API server, or a black-holing proxy).
    const hung = createServer(() => {
      // accept, never respond
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    const port = (hung.address() as { port: number }).port;
    const slow = join(dir, `kh-slow-${process.pid}.kubeconfig`);
    writeFileSync(
      slow,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const started = performance.now();
    const r4 = await runCli(['report', '--kubeconfig', slow, '--request-timeout', '1s']);
    hung.close();
    expect(r4.code).toBe(ExitCode.unreachable);
    expect(r4.stderr).toMatch(/error: the API server at https:\/\/127\.0\.0\.1:\d+ did not answer within 1s/);
    expect(r4.stderr).toContain('--request-timeout');
    expect(r4.stderr).not.toMatch(/\n\s+at /);
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
