/**
 * Phase 0 (inventory) against the real control plane loaded with examples/legacy-cluster:
 * - our KH-POD-ROOT / KH-POD-NO-LIMITS / KH-RBAC-CLUSTER-ADMIN findings agree with widely used checklist
 *   one-liners (kubectl + jq, run for real on the same cluster: test/support/oracle.ts) where those are well
 *   defined, and differ only where we deliberately do, for the reasons written next to each difference;
 * - namespaces without any NetworkPolicy are reported (the checklist's default-deny query cannot name them);
 * - no report format contains the value of a Secret;
 * - a limited user's report completes, marks what it could not read as unknown, and exits 7 (incomplete).
 *
 * The example uses fixed namespace names: setup waits for a previous run's namespaces to finish terminating, the
 * apply is idempotent (server-side), and the namespaces (plus the example's cluster-scoped RBAC, and on a local
 * control plane its kube-system objects) are deleted afterwards. The limited user's Role and RoleBinding live in
 * the example's `shop` namespace, so they go with it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ExitCode } from '../../src/errors.js';
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
import { repoRoot, runCli } from '../support/cli.js';
import { applyExample, EXAMPLE } from '../support/example.js';
import {
  CHECKLIST_CLUSTER_ADMIN,
  CHECKLIST_NO_LIMITS,
  CHECKLIST_ROOT,
  type Cluster,
  checklist,
  checklistDefaultDeny,
  owners,
  readCluster,
} from '../support/oracle.js';

const EXCEPTIONS = join(repoRoot, 'examples/legacy-cluster-exceptions.yaml');
/** One folder per namespace, plus `cluster/` for cluster-scoped RBAC. */
const EXAMPLE_NAMESPACES = readdirSync(EXAMPLE, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'cluster')
  .map((d) => d.name)
  .sort();
/** "The controllers create 20 Pending pods" (examples/legacy-cluster/README.md). */
const EXAMPLE_PODS = 20;
const EXAMPLE_CANARY = 'kh-example-canary-7f3a9c';
const LIMITED_NS = 'shop';

// ---- The JSON report, as far as these tests read it (docs/report-schema.md) -------------------------------------

interface Target {
  kind: string;
  namespace?: string;
  name: string;
  container?: string;
}
interface Finding {
  control: string;
  target: Target;
  message: string;
  excepted: boolean;
}
interface Report {
  summary: { workloads: number; pods: number; unknown: number };
  unknown: Array<{ resource: string; namespace?: string; reason: string; message: string }>;
  namespaces: Array<{
    name: string;
    tier: string;
    psa: unknown;
    strictestEnforceable: string;
    defaultDeny: { ingress: string; egress: string; dnsEgress: boolean | null };
    networkPolicies: number;
    unreadable: boolean;
  }>;
  workloads: Array<{ kind: string; namespace: string; name: string; pods: number; automountToken: unknown }>;
  findings: Finding[];
}

/** Checklist lines (`namespace/pod`) of the example's namespaces (other test files' leftovers may be terminating). */
const inExample = (lines: readonly string[]) =>
  lines.filter((l) => EXAMPLE_NAMESPACES.includes(l.split('/')[0] ?? ''));
const key = (t: Target) => `${t.kind}/${t.namespace ?? ''}/${t.name}`;
const nsOf = (k: string) => k.split('/')[1] ?? '';
const sorted = (s: Iterable<string>) => [...s].sort();
const inNamespaces = (s: Iterable<string>, namespaces: readonly string[]) =>
  sorted([...s].filter((k) => namespaces.includes(nsOf(k))));

async function report(args: string[]): Promise<{ code: number | null; json: Report; stderr: string }> {
  const r = await runCli(['report', '-o', 'json', ...args]);
  if (r.code !== ExitCode.ok && r.code !== ExitCode.incomplete) {
    throw new Error(`kube-harden report ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  return { code: r.code, json: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

/** Workloads with findings of `control`, and per workload the containers named. */
function findingsOf(rep: Report, control: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of rep.findings) {
    if (f.control !== control) continue;
    const k = key(f.target);
    const set = out.get(k) ?? new Set<string>();
    if (f.target.container) set.add(f.target.container);
    out.set(k, set);
  }
  return out;
}

/**
 * The part of our per-container findings that the checklist can see at all: workloads with live pods, and only
 * findings on regular containers (`.spec.containers` of those pods) — not init containers, not templates.
 */
function visibleToChecklist(ours: Map<string, Set<string>>, rep: Report, cluster: Cluster): Set<string> {
  const regular = new Map<string, Set<string>>();
  for (const p of cluster.pods) {
    const owner = cluster.ownerOf.get(`${p.metadata.namespace}/${p.metadata.name}`);
    if (!owner) continue;
    const set = regular.get(owner) ?? new Set<string>();
    for (const c of p.spec.containers) set.add(c.name);
    regular.set(owner, set);
  }
  const live = new Set(
    rep.workloads.filter((w) => w.pods > 0).map((w) => `${w.kind}/${w.namespace}/${w.name}`),
  );
  const out = new Set<string>();
  for (const [k, containers] of ours) {
    if (live.has(k) && [...containers].some((c) => regular.get(k)?.has(c))) out.add(k);
  }
  return out;
}

// ---- Fixtures ---------------------------------------------------------------------------------------------------

interface ContainerSpec {
  name: string;
  image: string;
  securityContext?: Record<string, unknown>;
  resources?: Record<string, unknown>;
}
function pod(name: string, spec: Record<string, unknown>): string {
  return stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });
}
const c = (name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name,
  image: 'registry.example.com/app:1.0',
  ...extra,
});
const LIMITS = { limits: { cpu: '100m', memory: '64Mi' } };

/**
 * Bare pods where the checklist queries and our rules are compared case by case. Each one is its own workload
 * (`Pod/<ns>/<name>`), so there is no folding in the way.
 */
const EDGE_PODS = [
  // Nothing set, two containers: both sides flag it (root and no limits). jq prints it twice: one line per container.
  pod('two-unset', { containers: [c('a'), c('b')] }),
  // Pod-level runAsNonRoot: true, limits set: neither side flags it.
  pod('pod-nonroot', {
    securityContext: { runAsNonRoot: true },
    containers: [c('a', { resources: LIMITS })],
  }),
  // A non-zero runAsUser without runAsNonRoot, requests but no limits.
  pod('uid-1000', {
    containers: [
      c('a', {
        securityContext: { runAsUser: 1000 },
        resources: { requests: { cpu: '100m', memory: '64Mi' } },
      }),
    ],
  }),
  // The pod says runAsNonRoot: true, the container overrides it with false; `limits: {}` (stored without limits).
  pod('override-false', {
    securityContext: { runAsNonRoot: true },
    containers: [c('a', { securityContext: { runAsNonRoot: false }, resources: { limits: {} } })],
  }),
  // The regular container is hardened and limited; the init container is neither.
  pod('init-root', {
    initContainers: [c('init')],
    containers: [c('a', { securityContext: { runAsNonRoot: true }, resources: LIMITS })],
  }),
  // Only a memory limit: both sides accept it (limits are not null; we do not report a missing cpu limit).
  pod('memory-limit-only', {
    securityContext: { runAsNonRoot: true },
    containers: [c('a', { resources: { limits: { memory: '64Mi' } } })],
  }),
].join('---\n');

describeCluster('inventory against the real control plane (examples/legacy-cluster)', () => {
  let admin: string;
  let edgeNs: string;
  let secretNs: string;
  let canary: string;
  let rep: Report;
  let cluster: Cluster;

  beforeAll(async () => {
    const info = clusterInfo();
    admin = info.adminKubeconfig;
    // A previous run's namespaces may still be terminating: applying into them would fail.
    await waitFor(
      async () => {
        const list = await kubectlJson<{
          items: Array<{ metadata: { name: string }; status?: { phase?: string } }>;
        }>(['get', 'namespaces']);
        return !list.items.some(
          (n) => EXAMPLE_NAMESPACES.includes(n.metadata.name) && n.status?.phase === 'Terminating',
        );
      },
      {
        what: 'the example namespaces of a previous run to finish terminating',
        timeoutMs: 150_000,
        intervalMs: 1000,
      },
    );
    await applyExample();

    edgeNs = await freshNamespace('inv-oracle');
    await applyYaml(EDGE_PODS, edgeNs);

    // A Secret with a value unique to this run, and the same value where a careless inventory could pick it up: an
    // env literal, and (client-side apply) the last-applied-configuration annotation of a Deployment and a Pod.
    secretNs = await freshNamespace('inv-secret');
    canary = `kh-inv-canary-${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
    const env = [
      { name: 'DB_PASSWORD', value: canary },
      { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'app-credentials', key: 'password' } } },
    ];
    await kubectl(['apply', '--namespace', secretNs, '-f', '-'], {
      input: [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'app-credentials' },
          stringData: { password: canary },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'app', annotations: { 'example.com/note': `password is ${canary}` } },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'app' } },
            template: {
              metadata: { labels: { app: 'app' } },
              spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', env }] },
            },
          },
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'debug', annotations: { 'example.com/token': canary } },
          spec: { containers: [{ name: 'debug', image: 'busybox:1.36', args: ['--password', canary], env }] },
        },
      ]
        .map((o) => stringify(o))
        .join('---\n'),
    });

    // The controllers create the example's pods (Pending: no scheduler) and the Deployment's pod above.
    await waitFor(
      async () => {
        const c = await readCluster();
        const example = c.pods.filter((p) => EXAMPLE_NAMESPACES.includes(p.metadata.namespace ?? ''));
        const app = c.pods.filter((p) => p.metadata.namespace === secretNs);
        return example.length === EXAMPLE_PODS && app.length === 2;
      },
      {
        what: `${EXAMPLE_PODS} pods of the example and 2 in ${secretNs}`,
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );

    // One report and one oracle read of the same, settled cluster.
    const r = await report(['--kubeconfig', admin]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    rep = r.json;
    cluster = await readCluster();
  });

  afterAll(async () => {
    if (process.env.KUBE_HARDEN_KEEP_NAMESPACES === '1' || !clusterInfo().available) return;
    await kubectl(['delete', '-f', join(EXAMPLE, 'cluster'), '--ignore-not-found', '--wait=false']);
    // kube-system always exists, so its objects are deleted one by one; on an external (disposable) cluster they
    // may have replaced real ones (CoreDNS), so they are left alone there.
    if (clusterInfo().kind === 'local') {
      await kubectl(['delete', '-f', join(EXAMPLE, 'kube-system'), '--ignore-not-found', '--wait=false']);
    }
    const namespaces = EXAMPLE_NAMESPACES.filter((n) => n !== 'kube-system');
    await kubectl(['delete', 'namespace', ...namespaces, '--ignore-not-found', '--wait=false']);
  });

  describe('agrees with the checklist one-liners, run on the same cluster', () => {
    it('KH-POD-ROOT vs the runAsNonRoot query: equal where the query can see, every difference explained', async () => {
      const lines = await checklist(['get', 'pods', '-A', '-o', 'json'], CHECKLIST_ROOT);
      const oracle = owners(cluster, inExample(lines));
      const ours = findingsOf(rep, 'KH-POD-ROOT');

      // Where the query is well defined — live pods, their regular containers — the sets agree, namespace by
      // namespace. (Per namespace so a failure names the namespace.)
      const visible = visibleToChecklist(ours, rep, cluster);
      for (const ns of EXAMPLE_NAMESPACES) {
        expect(inNamespaces(visible, [ns]), ns).toEqual(inNamespaces(oracle, [ns]));
      }
      // The query finds nothing we miss …
      expect(
        inNamespaces(
          [...oracle].filter((k) => !ours.has(k)),
          EXAMPLE_NAMESPACES,
        ),
      ).toEqual([]);
      // … and we report more, deliberately:
      const onlyOurs: Record<string, string> = {
        // Its init container `init-permissions` sets runAsUser: 0 — it does run as root. The query reads
        // `.spec.containers` only.
        'StatefulSet/data/postgres': 'init container as root',
        // No pod exists (no nodes for the DaemonSet, the CronJob has not fired, replicas: 0): we evaluate the
        // workload template, so the problem is known before a pod runs. The query sees pods only.
        'DaemonSet/kube-system/calico-node': 'template only',
        'CronJob/legacy-batch/nightly-report': 'template only',
        'Deployment/legacy-batch/legacy-importer': 'template only',
      };
      expect(
        inNamespaces(
          [...ours.keys()].filter((k) => !oracle.has(k)),
          EXAMPLE_NAMESPACES,
        ),
      ).toEqual(sorted(Object.keys(onlyOurs)));
      expect(ours.get('StatefulSet/data/postgres')).toEqual(new Set(['init-permissions']));
    });

    it('KH-POD-ROOT vs the runAsNonRoot query on edge cases: where and why the rules differ', async () => {
      const lines = (await checklist(['get', 'pods', '-n', edgeNs, '-o', 'json'], CHECKLIST_ROOT)).map((l) =>
        l.slice(edgeNs.length + 1),
      );
      // `.spec.containers[]` inside `select` emits the pod once per matching container.
      expect(lines.sort()).toEqual(['two-unset', 'two-unset', 'uid-1000']);
      const ours = findingsOf(rep, 'KH-POD-ROOT');
      const oursHere = sorted(
        [...ours.keys()].filter((k) => nsOf(k) === edgeNs).map((k) => k.split('/')[2] ?? ''),
      );
      expect(oursHere).toEqual(['init-root', 'override-false', 'two-unset']);
      // - uid-1000: runAsUser 1000 is not root, whatever the image says; runAsNonRoot only makes the kubelet check
      //   the UID. The query flags it because runAsNonRoot is not set; we do not.
      // - override-false: the container's runAsNonRoot: false overrides the pod's true (the kubelet resolves the
      //   container value first), so the image decides. The query stops at the pod-level true; we flag it.
      // - init-root: the init container sets nothing and runs before everything else. The query reads regular
      //   containers only; we flag the init container.
      expect(ours.get(`Pod/${edgeNs}/init-root`)).toEqual(new Set(['init']));
      expect(ours.get(`Pod/${edgeNs}/two-unset`)).toEqual(new Set(['a', 'b']));
    });

    it('KH-POD-NO-LIMITS vs the limits query: equal where the query can see, every difference explained', async () => {
      const lines = await checklist(['get', 'pods', '-A', '-o', 'json'], CHECKLIST_NO_LIMITS);
      const oracle = owners(cluster, inExample(lines));
      const ours = findingsOf(rep, 'KH-POD-NO-LIMITS');
      const visible = visibleToChecklist(ours, rep, cluster);
      for (const ns of EXAMPLE_NAMESPACES) {
        expect(inNamespaces(visible, [ns]), ns).toEqual(inNamespaces(oracle, [ns]));
      }
      expect(
        inNamespaces(
          [...oracle].filter((k) => !ours.has(k)),
          EXAMPLE_NAMESPACES,
        ),
      ).toEqual([]);
      // Templates without pods (see the root test); shop/cart is in both, and we also name its init container.
      expect(
        inNamespaces(
          [...ours.keys()].filter((k) => !oracle.has(k)),
          EXAMPLE_NAMESPACES,
        ),
      ).toEqual([
        'CronJob/legacy-batch/nightly-report',
        'DaemonSet/kube-system/calico-node',
        'Deployment/legacy-batch/legacy-importer',
      ]);
      expect(ours.get('Deployment/shop/cart')).toEqual(new Set(['cart', 'wait-for-redis']));
      // coredns has a memory limit only (as kubeadm ships it): neither side reports it.
      expect(ours.has('Deployment/kube-system/coredns')).toBe(false);
      expect(oracle.has('Deployment/kube-system/coredns')).toBe(false);

      // Edge cases: `limits: {}` is stored without limits, so both sides agree on it; requests are not limits;
      // one limit is enough for both. Only the init container differs (the query reads regular containers).
      const edge = (await checklist(['get', 'pods', '-n', edgeNs, '-o', 'json'], CHECKLIST_NO_LIMITS)).map(
        (l) => l.slice(edgeNs.length + 1),
      );
      expect(edge.sort()).toEqual(['override-false', 'two-unset', 'two-unset', 'uid-1000']);
      const oursHere = sorted(
        [...ours.keys()].filter((k) => nsOf(k) === edgeNs).map((k) => k.split('/')[2] ?? ''),
      );
      expect(oursHere).toEqual(['init-root', 'override-false', 'two-unset', 'uid-1000']);
    });

    it('KH-RBAC-CLUSTER-ADMIN vs the cluster-admin query: equal but for system:masters, which we leave out', async () => {
      const oracle = new Set(
        await checklist(['get', 'clusterrolebindings', '-o', 'json'], CHECKLIST_CLUSTER_ADMIN),
      );
      const crbs = await kubectlJson<{
        items: Array<{
          metadata: { name: string };
          roleRef: { kind: string; name: string };
          subjects?: Array<{ kind: string; name: string }>;
        }>;
      }>(['get', 'clusterrolebindings']);
      const byName = new Map(crbs.items.map((b) => [b.metadata.name, b]));
      // The group system:masters holds every right by definition (the authorizer never asks RBAC about it), so a
      // binding that grants cluster-admin only to it grants nothing: the upstream default `cluster-admin` binding.
      const onlyMasters = (name: string) =>
        (byName.get(name)?.subjects ?? []).every((s) => s.kind === 'Group' && s.name === 'system:masters');
      const ours = new Set(
        rep.findings
          .filter((f) => f.control === 'KH-RBAC-CLUSTER-ADMIN' && f.target.kind === 'ClusterRoleBinding')
          .map((f) => f.target.name),
      );
      expect(oracle).toContain('cluster-admin');
      expect(oracle).toContain('ci-deployer-cluster-admin');
      expect(sorted([...oracle].filter((n) => !ours.has(n)))).toEqual(
        sorted([...oracle].filter(onlyMasters)),
      );
      expect(sorted([...oracle].filter((n) => ours.has(n)))).toEqual(
        sorted([...oracle].filter((n) => !onlyMasters(n))),
      );
      // Ours may also name bindings of roles equivalent to cluster-admin (* on */*), which the query cannot see.
      for (const name of [...ours].filter((n) => !oracle.has(n))) {
        expect(byName.get(name)?.roleRef.name, name).not.toBe('cluster-admin');
      }
      // And RoleBindings, which the query does not list: the example's namespace-admin Role in legacy-batch.
      expect(
        rep.findings.some(
          (f) =>
            f.control === 'KH-RBAC-CLUSTER-ADMIN' &&
            f.target.kind === 'RoleBinding' &&
            f.target.namespace === 'legacy-batch' &&
            f.target.name === 'batch-runner-admin',
        ),
      ).toBe(true);
    });

    it('default-deny: namespaces without any NetworkPolicy are reported (the checklist query cannot name them)', async () => {
      const policies = await kubectlJson<{ items: Array<{ metadata: { namespace: string } }> }>([
        'get',
        'networkpolicies',
        '-A',
      ]);
      const withPolicies = new Set(policies.items.map((p) => p.metadata.namespace));
      const namespaces = [...EXAMPLE_NAMESPACES, edgeNs, secretNs];
      const none = namespaces.filter((n) => !withPolicies.has(n));
      expect(none).toEqual(expect.arrayContaining(['legacy-batch', 'ci', 'data', edgeNs, secretNs]));

      for (const direction of ['Ingress', 'Egress'] as const) {
        const dir = direction === 'Ingress' ? 'ingress' : 'egress';
        const listed = new Set(
          await checklist(['get', 'networkpolicies', '-A', '-o', 'json'], checklistDefaultDeny(direction)),
        );
        // The query's universe is namespaces with a policy: it never names one without.
        for (const n of none) expect(listed.has(n)).toBe(false);
        for (const name of namespaces) {
          const posture = rep.namespaces.find((n) => n.name === name);
          expect(posture, name).toBeDefined();
          if (!posture) continue;
          if (!withPolicies.has(name)) {
            // Ours: no NetworkPolicy at all = `none` both ways, and a finding in application namespaces.
            expect(posture.networkPolicies, name).toBe(0);
            expect(posture.defaultDeny[dir], name).toBe('none');
            if (posture.tier === 'application') {
              const f = rep.findings.find(
                (x) =>
                  x.control === `KH-NET-NO-DEFAULT-DENY-${direction.toUpperCase()}` &&
                  x.target.kind === 'Namespace' &&
                  x.target.name === name,
              );
              expect(f?.message, `${name} ${dir}`).toBe(`has no NetworkPolicy: all ${dir} is allowed`);
            }
          } else {
            // Where both can answer, they agree: an all-pods policy for the direction exists exactly when ours says
            // the direction is isolated (`denied`, or `open` when that policy also allows everything).
            expect(['denied', 'open'].includes(posture.defaultDeny[dir]), `${name} ${dir}`).toBe(
              listed.has(name),
            );
          }
        }
      }
      // The example's planted cases, for the record: payments denies both ways, shop only ingress.
      const p = (name: string) => rep.namespaces.find((n) => n.name === name)?.defaultDeny;
      expect(p('payments')).toMatchObject({ ingress: 'denied', egress: 'denied', dnsEgress: true });
      expect(p('shop')).toMatchObject({ ingress: 'denied', egress: 'none' });
    });
  });

  it('no report in any format contains the value of a Secret', async () => {
    // The values are really there (otherwise this test proves nothing).
    const secret = await kubectlJson<{ data: Record<string, string> }>([
      'get',
      'secret',
      'app-credentials',
      '-n',
      secretNs,
    ]);
    expect(Buffer.from(secret.data.password ?? '', 'base64').toString()).toBe(canary);
    const deployment = await kubectl(['get', 'deployment', 'app', '-n', secretNs, '-o', 'json']);
    expect(deployment).toContain(canary); // env literal and kubectl's last-applied-configuration annotation
    const example = await kubectlJson<{ data: Record<string, string> }>([
      'get',
      'secret',
      'db-credentials',
      '-n',
      'data',
    ]);
    expect(Buffer.from(example.data.POSTGRES_PASSWORD ?? '', 'base64').toString()).toBe(EXAMPLE_CANARY);
    // The workloads were read: the secret namespace is in the report.
    expect(
      rep.workloads
        .filter((w) => w.namespace === secretNs)
        .map((w) => `${w.kind}/${w.name}`)
        .sort(),
    ).toEqual(['Deployment/app', 'Pod/debug']);

    const needles = [canary, EXAMPLE_CANARY].flatMap((v) => [v, Buffer.from(v).toString('base64')]);
    for (const format of ['text', 'md', 'json', 'sarif']) {
      const r = await runCli(['report', '--kubeconfig', admin, '--exceptions', EXCEPTIONS, '-o', format]);
      expect(r.code, `${format}: ${r.stderr}`).toBe(ExitCode.ok);
      expect(r.stdout.length, format).toBeGreaterThan(1000);
      for (const needle of needles) {
        expect(r.stdout.includes(needle), `${format} stdout contains ${needle}`).toBe(false);
        expect(r.stderr.includes(needle), `${format} stderr contains ${needle}`).toBe(false);
      }
    }
  });

  describe('a limited user', () => {
    it('without any rights: the report completes, everything is unknown, exit 7', async () => {
      const { limitedKubeconfig } = clusterInfo();
      const r = await report(['--kubeconfig', limitedKubeconfig]);
      expect(r.code).toBe(ExitCode.incomplete);
      expect(r.stderr).toMatch(/incomplete: \d+ resource type\(s\) could not be read/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const unknown = new Set(r.json.unknown.map((u) => `${u.resource}@${u.namespace ?? '*'}`));
      for (const resource of [...NAMESPACED, ...CLUSTER_SCOPED]) expect(unknown).toContain(`${resource}@*`);
      expect(r.json.unknown.every((u) => u.reason === 'Forbidden')).toBe(true);
      expect(r.json.summary.workloads).toBe(0);
      expect(r.json.findings.filter((f) => f.control === 'KH-UNKNOWN')).toHaveLength(r.json.unknown.length);
      // The text report leads with what it could not read, and exits the same way.
      const text = await runCli(['report', '--kubeconfig', limitedKubeconfig]);
      expect(text.code).toBe(ExitCode.incomplete);
      expect(text.stdout).toMatch(/unknown/i);
    });

    it(`with read on pods, deployments and replicasets in ${LIMITED_NS} only: exit 7, unknown names the rest`, async () => {
      const { limitedKubeconfig, users } = clusterInfo();
      await applyYaml(
        [
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'kh-inventory-test-read' },
            rules: [
              { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
              { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list'] },
            ],
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'kh-inventory-test-read' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kh-inventory-test-read' },
            subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: users.limited }],
          },
        ]
          .map((o) => stringify(o))
          .join('---\n'),
        LIMITED_NS,
      );
      await waitFor(
        async () =>
          (
            await kubectlRaw(['auth', 'can-i', 'list', 'replicasets.apps', '-n', LIMITED_NS], {
              kubeconfig: limitedKubeconfig,
            })
          ).stdout.trim() === 'yes',
        { what: `the limited user's grant in ${LIMITED_NS}` },
      );

      const r = await report(['--kubeconfig', limitedKubeconfig, '-n', LIMITED_NS]);
      expect(r.code).toBe(ExitCode.incomplete);
      const unknown = sorted(r.json.unknown.map((u) => `${u.resource}@${u.namespace ?? '*'} ${u.reason}`));
      expect(unknown).toEqual(
        sorted([
          ...NAMESPACED.filter((x) => !['pods', 'deployments.apps', 'replicasets.apps'].includes(x)).map(
            (x) => `${x}@${LIMITED_NS} Forbidden`,
          ),
          ...CLUSTER_SCOPED.map((x) => `${x}@* Forbidden`),
          // The cluster DNS Service (for DNS egress policies) is read in kube-system, whatever the scope.
          'services@kube-system Forbidden',
          // Phase 6 lists the kube-apiserver static pods in kube-system, whatever the scope.
          'pods@kube-system Forbidden',
          // Phase 3's network facts (src/inventory/network-facts.ts): cluster-wide, then in the run's namespace.
          ...NETWORK_FACTS_UNKNOWN,
        ]),
      );
      expect(r.json.summary.unknown).toBe(r.json.unknown.length);

      // What it could read is there, folded as for the admin …
      const shopPods = cluster.pods.filter((p) => p.metadata.namespace === LIMITED_NS);
      const expected = new Map<string, number>();
      for (const p of shopPods) {
        const o = cluster.ownerOf.get(`${LIMITED_NS}/${p.metadata.name}`) ?? '';
        expected.set(o, (expected.get(o) ?? 0) + 1);
      }
      expect(new Map(r.json.workloads.map((w) => [`${w.kind}/${w.namespace}/${w.name}`, w.pods]))).toEqual(
        expected,
      );
      expect(sorted(findingsOf(r.json, 'KH-POD-ROOT').keys())).toEqual(
        inNamespaces(findingsOf(rep, 'KH-POD-ROOT').keys(), [LIMITED_NS]),
      );
      // … and everything that depends on what it could not read is unknown, never a pass.
      const ns = r.json.namespaces.find((n) => n.name === LIMITED_NS);
      expect(ns).toMatchObject({
        unreadable: true,
        psa: null,
        strictestEnforceable: 'unknown',
        defaultDeny: { ingress: 'unknown', egress: 'unknown', dnsEgress: null },
      });
      for (const w of r.json.workloads) expect(w.automountToken, w.name).toBe('unknown');
      expect(r.json.findings.filter((f) => f.control === 'KH-UNKNOWN')).toHaveLength(r.json.unknown.length);
      expect(r.json.findings.some((f) => f.control.startsWith('KH-NET-NO-DEFAULT-DENY'))).toBe(false);
    });
  });
});

/** What the inventory lists (src/inventory/access.ts), written out independently. */
const NAMESPACED = [
  'pods',
  'deployments.apps',
  'statefulsets.apps',
  'daemonsets.apps',
  'replicasets.apps',
  'jobs.batch',
  'cronjobs.batch',
  'replicationcontrollers',
  'serviceaccounts',
  'roles.rbac.authorization.k8s.io',
  'rolebindings.rbac.authorization.k8s.io',
  'networkpolicies.networking.k8s.io',
];
/** The limited user's refusals of the network facts in a run narrowed to LIMITED_NS (not-served kinds: none). */
const NETWORK_FACTS_UNKNOWN = [
  'apiservices.apiregistration.k8s.io@* Forbidden',
  'endpoints@default Forbidden',
  'endpointslices.discovery.k8s.io@default Forbidden',
  'ingressclasses.networking.k8s.io@* Forbidden',
  'ingresses.networking.k8s.io@* Forbidden',
  `ingresses.networking.k8s.io@${LIMITED_NS} Forbidden`,
  'nodes@* Forbidden',
  'services@* Forbidden',
  `services@${LIMITED_NS} Forbidden`,
];
const CLUSTER_SCOPED = [
  'namespaces',
  'clusterroles.rbac.authorization.k8s.io',
  'clusterrolebindings.rbac.authorization.k8s.io',
  'validatingadmissionpolicies.admissionregistration.k8s.io',
  'validatingadmissionpolicybindings.admissionregistration.k8s.io',
  'validatingwebhookconfigurations.admissionregistration.k8s.io',
  'mutatingwebhookconfigurations.admissionregistration.k8s.io',
];
