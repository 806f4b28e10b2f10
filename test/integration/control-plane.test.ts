import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { isAlive, k8sVersion } from '../cluster/control-plane.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  isNotFound,
  kubectl,
  kubectlJson,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';

interface Owned {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
}
interface List<T> {
  items: T[];
}

const deployment = (name: string, replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: main
          image: registry.k8s.io/pause:3.10
`;

describeCluster('local control plane (test harness)', () => {
  let ns: string;

  beforeAll(async () => {
    ns = await freshNamespace('control-plane');
  });

  it('serves the Kubernetes version the binaries were built for', async () => {
    const c = clusterInfo();
    const v = JSON.parse(await kubectl(['get', '--raw', '/version'])) as { gitVersion: string };
    expect(v.gitVersion).toBe(c.version);
    if (c.kind === 'local') expect(v.gitVersion).toBe(k8sVersion());
  });

  it('creates the default ServiceAccount and root CA ConfigMap in a fresh namespace (controller-manager)', async () => {
    expect(
      await kubectl(['get', 'serviceaccount', 'default', '-n', ns, '-o', 'jsonpath={.metadata.name}']),
    ).toBe('default');
    await waitFor(() => kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', ns, '-o', 'name']), {
      what: 'ConfigMap kube-root-ca.crt',
    });
  });

  it('turns a Deployment into a ReplicaSet and 2 Pods', async () => {
    await applyYaml(deployment('web', 2), ns);
    const rs = await waitFor(
      async () => {
        const l = await kubectlJson<List<Owned>>(['get', 'replicasets', '-n', ns]);
        return l.items.find((r) =>
          r.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === 'web'),
        );
      },
      { timeoutMs: 60_000, what: 'a ReplicaSet owned by deployment web' },
    );
    const pods = await waitFor(
      async () => {
        const l = await kubectlJson<List<Owned>>(['get', 'pods', '-n', ns, '-l', 'app=web']);
        const owned = l.items.filter((p) =>
          p.metadata.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name === rs.metadata.name),
        );
        return owned.length === 2 ? owned : undefined;
      },
      { timeoutMs: 60_000, what: `2 pods of ReplicaSet ${rs.metadata.name}` },
    );
    expect(pods).toHaveLength(2);
  });

  it('forbids the limited user to list pods', async () => {
    const c = clusterInfo();
    const r = await kubectlRaw(['get', 'pods', '-n', ns], { kubeconfig: c.limitedKubeconfig });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('Forbidden');
    expect(r.stderr).toContain(`User "${c.users.limited}" cannot list resource "pods"`);
    const auditLog = c.auditLog;
    if (auditLog) {
      // The audit log records it (Metadata level): usable for request-pattern assertions in other suites.
      await waitFor(
        () =>
          readFileSync(auditLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map(
              (l) =>
                JSON.parse(l) as {
                  user: { username: string };
                  objectRef?: { resource?: string; namespace?: string };
                  responseStatus?: { code?: number };
                },
            )
            .some(
              (e) =>
                e.user.username === 'limited' &&
                e.objectRef?.resource === 'pods' &&
                e.objectRef.namespace === ns &&
                e.responseStatus?.code === 403,
            ),
        { timeoutMs: 10_000, what: 'the 403 in the audit log' },
      );
    }
  });

  it('runs PodSecurity admission: a dry-run enforce label warns about existing root pods', async () => {
    const psaNs = await freshNamespace('psa');
    await applyYaml(
      `
apiVersion: v1
kind: Pod
metadata:
  name: root-pod
spec:
  containers:
    - name: main
      image: registry.k8s.io/pause:3.10
      securityContext:
        runAsUser: 0
`,
      psaNs,
    );
    const r = await kubectlRaw([
      'label',
      '--dry-run=server',
      'namespace',
      psaNs,
      'pod-security.kubernetes.io/enforce=restricted',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `existing pods in namespace "${psaNs}" violate the new PodSecurity enforce level "restricted:latest"`,
    );
    expect(r.stderr).toContain('root-pod');
    // Dry run: nothing changed.
    const labels = await kubectl(['get', 'namespace', psaNs, '-o', 'jsonpath={.metadata.labels}']);
    expect(labels).not.toContain('pod-security.kubernetes.io/enforce');
  });

  it('completes namespace deletion (pods included) within 60 s', async () => {
    const doomed = await freshNamespace('doomed');
    await applyYaml(deployment('doomed', 2), doomed);
    await waitFor(
      async () => (await kubectlJson<List<Owned>>(['get', 'pods', '-n', doomed])).items.length === 2,
      { timeoutMs: 60_000, what: 'pods in the namespace to delete' },
    );
    const t0 = Date.now();
    await kubectl(['delete', 'namespace', doomed, '--wait=false']);
    await waitFor(
      async () => {
        try {
          await kubectl(['get', 'namespace', doomed, '-o', 'name']);
          return false;
        } catch (e) {
          if (isNotFound(e)) return true;
          throw e;
        }
      },
      { timeoutMs: 60_000, what: `namespace ${doomed} to disappear` },
    );
    console.log(`namespace deletion took ${Date.now() - t0} ms`);
  });

  it('authenticates the exec-plugin context as the exec user', async () => {
    const c = clusterInfo();
    const who = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
      kubeconfig: c.execKubeconfig,
    });
    expect(who).toBe(c.users.exec);
  });

  it('exec-hang plugin never answers; its child ignores SIGTERM; killing the process group ends both', async () => {
    const c = clusterInfo();
    const pidfile = join(tmpdir(), `kh-exec-hang-${process.pid}-${Date.now()}`);
    try {
      const run = kubectlRaw(['auth', 'whoami'], {
        kubeconfig: c.kubeconfigs['exec-hang'],
        timeoutMs: 5000,
        env: { KUBE_HARDEN_FAKE_EXEC_PIDFILE: pidfile },
      });
      const [pluginPid, childPid] = (
        await waitFor(() => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim(), {
          timeoutMs: 5000,
          what: 'the hanging plugin to write its pidfile',
        })
      )
        .split(' ')
        .map(Number) as [number, number];
      process.kill(childPid, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      expect(isAlive(childPid)).toBe(true);
      const r = await run;
      expect(r.timedOut).toBe(true);
      await waitFor(() => !isAlive(pluginPid) && !isAlive(childPid), {
        timeoutMs: 5000,
        what: 'plugin and child to be killed with the process group',
      });
    } finally {
      rmSync(pidfile, { force: true });
    }
  });
});
