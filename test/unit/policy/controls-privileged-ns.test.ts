/**
 * KH-PSS-PRIVILEGED-IN-APP-NS (a workload that needs privileged in a shared application namespace), its manual
 * change (steps/privileged-isolate.ts: a Namespace of its own and the moved workload), and KH-PSA-NO-WARN-AUDIT.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ClusterReader } from '../../../src/cluster/types.js';
import type { Change, StepContext, StepOptions } from '../../../src/engine/types.js';
import { emptyNetworkFacts } from '../../../src/inventory/network-facts.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import type { KubeObject, ObjectRef } from '../../../src/k8s/types.js';
import { assess } from '../../../src/policy/assess.js';
import { parseExceptions } from '../../../src/policy/exceptions.js';
import { isolatedNamespaceName } from '../../../src/policy/privileged-namespaces.js';
import { movedManifest, privilegedIsolate, REDACTED } from '../../../steps/privileged-isolate.js';
import {
  binding,
  container,
  NOW,
  netpol,
  ns,
  restrictedSpec,
  snapshot,
  workload,
} from '../../fixtures/snapshots/builder.js';

/** The value at a path of plain JSON. */
const at = (value: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);

const privilegedSpec = () =>
  restrictedSpec({ containers: [container('agent', { securityContext: { privileged: true } })] });

const names = (snap: Snapshot, control: string, exceptions?: string) =>
  assess(snap, {
    now: NOW,
    ...(exceptions ? { exceptions: parseExceptions(exceptions, 'exceptions.yaml') } : {}),
  })
    .findings.filter((f) => f.control === control && !f.excepted)
    .map((f) => `${f.target.namespace ?? ''}/${f.target.kind}/${f.target.name}`);

describe('KH-PSS-PRIVILEGED-IN-APP-NS', () => {
  const shared = () =>
    snapshot({
      namespaces: [ns('shop'), ns('solo'), ns('agents'), ns('monitoring'), ns('kube-system')],
      workloads: [
        workload('Deployment', 'shop', 'frontend'),
        workload('Deployment', 'shop', 'agent', privilegedSpec()),
        // Alone in its namespace: nothing would gain from a move.
        workload('DaemonSet', 'solo', 'agent', privilegedSpec()),
        // Every workload needs privileged: a tiering question, not a shared namespace.
        workload('DaemonSet', 'agents', 'a', privilegedSpec()),
        workload('DaemonSet', 'agents', 'b', privilegedSpec()),
        // Infrastructure and system tiers are not application namespaces.
        workload('Deployment', 'monitoring', 'prometheus'),
        workload('DaemonSet', 'monitoring', 'node-exporter', privilegedSpec()),
        workload('Deployment', 'kube-system', 'coredns'),
        workload('DaemonSet', 'kube-system', 'calico-node', privilegedSpec()),
      ],
    });

  it('flags a workload that fails baseline next to workloads that pass it, in application namespaces only', () => {
    expect(names(shared(), 'KH-PSS-PRIVILEGED-IN-APP-NS')).toEqual(['shop/Deployment/agent']);
    const f = assess(shared(), { now: NOW }).findings.find(
      (x) => x.control === 'KH-PSS-PRIVILEGED-IN-APP-NS',
    );
    expect(f?.severity).toBe('medium');
    expect(f?.message).toContain('fails baseline: privileged');
    expect(f?.message).toContain('with 1 workload that passes baseline (Deployment frontend)');
    expect(f?.message).toContain(
      'move it to shop-privileged (kube-harden plan --step privileged-isolate -n shop)',
    );
  });

  it('the exceptions register may cover it', () => {
    const register = `
apiVersion: kube-harden.io/v1alpha1
kind: ExceptionList
exceptions:
  - { id: keep, scope: { namespace: shop, kind: Deployment, name: agent }, controls: [KH-PSS-PRIVILEGED-IN-APP-NS], reason: r, owner: team, expires: 2027-01-01 }
`;
    expect(names(shared(), 'KH-PSS-PRIVILEGED-IN-APP-NS', register)).toEqual([]);
  });

  it('the dedicated namespace name is a valid namespace name', () => {
    expect(isolatedNamespaceName('shop')).toBe('shop-privileged');
    const long = isolatedNamespaceName(`${'a'.repeat(51)}-b-${'c'.repeat(9)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(isolatedNamespaceName(`${'a'.repeat(51)}-bbbbbbbbbb`)).toBe(`${'a'.repeat(51)}-privileged`);
  });
});

describe('KH-PSA-NO-WARN-AUDIT', () => {
  const snap = () =>
    snapshot({
      namespaces: [
        ns('none'),
        ns('warn-only', { 'pod-security.kubernetes.io/warn': 'restricted' }),
        ns('both', {
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        }),
        ns('weak', {
          'pod-security.kubernetes.io/warn': 'baseline',
          'pod-security.kubernetes.io/audit': 'restricted',
        }),
        ns('enforced', { 'pod-security.kubernetes.io/enforce': 'restricted' }),
        ns('kube-system'),
      ],
      workloads: ['none', 'warn-only', 'both', 'weak', 'enforced', 'kube-system'].map((n) =>
        workload('Deployment', n, 'app'),
      ),
    });

  it('flags namespaces that neither warn nor audit at their target, and says which mode is missing', () => {
    const a = assess(snap(), { now: NOW });
    const found = a.findings.filter((f) => f.control === 'KH-PSA-NO-WARN-AUDIT');
    expect(found.map((f) => f.target.name)).toEqual(['none', 'warn-only', 'weak'].sort());
    const msg = (n: string) => found.find((f) => f.target.name === n)?.message;
    expect(msg('none')).toMatch(
      /^warn is not set, audit is not set; tier application targets restricted: violations are neither shown/,
    );
    expect(msg('warn-only')).toMatch(/^audit is not set; .*: violations are not recorded in the audit log$/);
    expect(msg('weak')).toMatch(/^warn is baseline; .*: violations are not shown to those who deploy$/);
    expect(found[0]?.severity).toBe('low');
  });
});

// ---- the step ----------------------------------------------------------------------------------------------

const LIVE_DEPLOYMENT: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'agent',
    namespace: 'shop',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 3,
    creationTimestamp: '2026-01-01T00:00:00Z',
    managedFields: [{ manager: 'kubectl' }],
    labels: { app: 'agent' },
    annotations: {
      'deployment.kubernetes.io/revision': '3',
      'kubectl.kubernetes.io/last-applied-configuration': '{"secret":"canary-last-applied"}',
      team: 'platform',
    },
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'agent' } },
    template: {
      metadata: { labels: { app: 'agent' } },
      spec: {
        serviceAccountName: 'agent-sa',
        imagePullSecrets: [{ name: 'regcred' }],
        containers: [
          {
            name: 'agent',
            image: 'registry.example.com/agent:1.0.0',
            args: ['--token=canary-flag', '--verbose'],
            securityContext: { privileged: true },
            env: [
              { name: 'DB_PASSWORD', value: 'canary-env' },
              { name: 'MODE', value: 'fast' },
              { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'agent-keys', key: 'api' } } },
            ],
            envFrom: [{ configMapRef: { name: 'agent-env' } }],
            volumeMounts: [{ name: 'config', mountPath: '/etc/agent' }],
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'agent-config' } },
          { name: 'data', persistentVolumeClaim: { claimName: 'agent-data' } },
        ],
      },
    },
  },
  status: { replicas: 2 },
} as unknown as KubeObject;

function readerOf(objects: KubeObject[]): ClusterReader {
  return {
    source: { kind: 'cluster', context: 'test', server: 'https://127.0.0.1' },
    capabilities: { dryRun: false, reviews: false },
    get: async (ref: ObjectRef) => ({
      value: objects.find(
        (o) => o.kind === ref.kind && o.metadata.name === ref.name && o.metadata.namespace === ref.namespace,
      ),
      warnings: [],
    }),
  } as unknown as ClusterReader;
}

async function plan(snap: Snapshot, reader: ClusterReader, namespaces: string[] = []) {
  const options: StepOptions = { namespaces, exclude: [], settings: {}, now: NOW };
  const ctx: StepContext = {
    snapshot: snap,
    assessment: assess(snap, { now: NOW }),
    reader,
    options,
    signal: new AbortController().signal,
  };
  const detected = await privilegedIsolate.detect(ctx);
  return { ...detected, changes: privilegedIsolate.propose(detected.facts, options) };
}

const manual = (c: Change | undefined) => {
  if (c?.kind !== 'manual') throw new Error('not a manual change');
  return c;
};

describe('privileged-isolate', () => {
  const snap = () =>
    snapshot({
      serverVersion: { major: 1, minor: 36, gitVersion: 'v1.36.3' },
      namespaces: [ns('shop'), ns('other')],
      workloads: [
        workload('Deployment', 'shop', 'frontend'),
        workload('Deployment', 'shop', 'agent', privilegedSpec(), { podLabels: { app: 'agent' } }),
        workload('Deployment', 'other', 'web'),
      ],
      networkPolicies: [netpol('shop', 'deny-all')],
      bindings: [
        binding(
          'RoleBinding',
          'agent-read',
          { kind: 'Role', name: 'reader' },
          [{ kind: 'ServiceAccount', name: 'agent-sa', namespace: 'shop' }],
          'shop',
        ),
      ],
      network: {
        ...emptyNetworkFacts(),
        services: [
          { namespace: 'shop', name: 'agent-metrics', selector: { app: 'agent' }, ports: [{ port: 9100 }] },
          { namespace: 'shop', name: 'frontend', selector: { app: 'frontend' }, ports: [{ port: 80 }] },
        ],
      },
    });

  it('writes the Namespace of its own and the moved workload, with what to carry over', async () => {
    const { changes, findings } = await plan(snap(), readerOf([LIVE_DEPLOYMENT]));
    expect(findings).toEqual([]);
    expect(changes.map((c) => [c.id, c.kind, c.risk])).toEqual([
      ['privileged-isolate/shop/namespace', 'manual', 'manual'],
      ['privileged-isolate/shop/workloads', 'manual', 'manual'],
    ]);
    const nsChange = manual(changes[0]);
    expect(nsChange.artifact.path).toBe('shop-privileged-namespace.yaml');
    const [namespace] = parseAllDocuments(nsChange.artifact.content).map((d) => d.toJS());
    expect(namespace).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop-privileged',
        labels: {
          'pod-security.kubernetes.io/enforce': 'privileged',
          'pod-security.kubernetes.io/enforce-version': 'v1.36',
          'pod-security.kubernetes.io/warn': 'baseline',
          'pod-security.kubernetes.io/warn-version': 'v1.36',
          'pod-security.kubernetes.io/audit': 'baseline',
          'pod-security.kubernetes.io/audit-version': 'v1.36',
        },
        annotations: {
          'kube-harden.io/psa-enforced-at': '2026-06-01',
          'kube-harden.io/isolated-from': 'shop',
        },
      },
    });

    const wlChange = manual(changes[1]);
    expect(wlChange.artifact.path).toBe('shop-privileged-workloads.yaml');
    const docs = parseAllDocuments(wlChange.artifact.content).map((d) => d.toJS());
    expect(docs).toHaveLength(1);
    const moved = docs[0];
    expect(moved.metadata).toEqual({
      name: 'agent',
      namespace: 'shop-privileged',
      labels: { app: 'agent' },
      annotations: { team: 'platform' },
    });
    expect(moved.status).toBeUndefined();
    // Same spec, except credential-like literals.
    const expected = structuredClone(LIVE_DEPLOYMENT.spec);
    const c = at(expected, 'template', 'spec', 'containers', 0) as Record<string, unknown>;
    c.args = [`--token=${REDACTED}`, '--verbose'];
    (at(c, 'env', 0) as Record<string, unknown>).value = REDACTED;
    expect(moved.spec).toEqual(expected);
    // Rule 3: no literal value named like a credential, nor the last-applied annotation, in any output.
    for (const change of changes) {
      const all = JSON.stringify(change);
      expect(all).not.toContain('canary');
    }

    const text = wlChange.instructions;
    expect(text).toContain('kubectl create -f shop-privileged-namespace.yaml');
    expect(text).toContain('ServiceAccount agent-sa');
    expect(text).toContain('ConfigMaps agent-config (volume config), agent-env (envFrom of container agent)');
    expect(text).toContain(
      'Secrets agent-keys (env API_KEY of container agent), regcred (imagePullSecrets): re-create them in shop-privileged from their source of truth',
    );
    expect(text).toContain('PersistentVolumeClaims agent-data (volume data)');
    expect(text).toContain('Services agent-metrics (selects Deployment agent)');
    expect(text).not.toContain('Services frontend');
    expect(text).toContain('RoleBinding shop/agent-read (Role reader)');
    expect(text).toContain('NetworkPolicies: 1 in shop do not apply in shop-privileged');
    expect(text).toContain('env DB_PASSWORD of container agent');
    expect(text).toContain('kubectl create -f shop-privileged-workloads.yaml --dry-run=server');
    expect(text).toContain('kubectl rollout status deployment/agent -n shop-privileged');
    expect(text).toContain('kubectl delete deployment agent -n shop');
    expect(text).toContain('kube-harden plan --step psa-enforce -n shop');
    expect(
      text
        .split('\n')
        .filter((l) => /^\d+\. /.test(l))
        .map((l) => Number.parseInt(l, 10)),
    ).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('an unreadable workload is unknown, not moved; out-of-scope namespaces are left alone', async () => {
    const { changes, findings } = await plan(snap(), readerOf([]));
    expect(changes).toEqual([]);
    expect(findings.map((f) => [f.control, f.target.name])).toEqual([['KH-UNKNOWN', 'agent']]);
    expect((await plan(snap(), readerOf([LIVE_DEPLOYMENT]), ['other'])).changes).toEqual([]);
  });

  it('a live bare Pod loses its node and injected token volume; a Job its generated selector and labels', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'shop', uid: 'x', ownerReferences: [] },
      spec: {
        nodeName: 'node-1',
        containers: [
          {
            name: 'c',
            image: 'busybox:1',
            volumeMounts: [
              { name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
              { name: 'logs', mountPath: '/logs' },
            ],
          },
        ],
        volumes: [
          {
            name: 'kube-api-access-abcde',
            projected: { sources: [{ serviceAccountToken: { path: 'token' } }] },
          },
          { name: 'logs', hostPath: { path: '/var/log' } },
        ],
      },
    } as unknown as KubeObject;
    const { manifest } = movedManifest('Pod', pod, 'shop-privileged');
    expect(manifest.metadata).toEqual({ name: 'p', namespace: 'shop-privileged' });
    expect(manifest.spec).toEqual({
      containers: [{ name: 'c', image: 'busybox:1', volumeMounts: [{ name: 'logs', mountPath: '/logs' }] }],
      volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }],
    });

    const generated = { 'controller-uid': 'u', 'batch.kubernetes.io/controller-uid': 'u', 'job-name': 'j' };
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j', namespace: 'shop', labels: { app: 'j' } },
      spec: {
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } },
        template: {
          metadata: { labels: { app: 'j', ...generated } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }] },
        },
      },
    } as unknown as KubeObject;
    const moved = movedManifest('Job', job, 'shop-privileged').manifest;
    expect(at(moved, 'spec', 'selector')).toBeUndefined();
    expect(at(moved, 'spec', 'template', 'metadata', 'labels')).toEqual({ app: 'j' });
    // The source object is not changed.
    expect(at(job, 'spec', 'selector')).toBeDefined();
  });
});
