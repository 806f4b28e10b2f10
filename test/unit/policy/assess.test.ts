import { describe, expect, test, vi } from 'vitest';
import type { PodSpecLite, Snapshot } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { CONTROLS } from '../../../src/policy/controls.js';
import * as pss from '../../../src/policy/pss/index.js';
import { mayRunAsRoot } from '../../../src/policy/workloads.js';
import {
  binding,
  container,
  NOW,
  ns,
  restrictedSpec,
  role,
  sa,
  snapshot,
  workload,
} from '../../fixtures/snapshots/builder.js';

vi.mock('../../../src/policy/pss/index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/policy/pss/index.js')>();
  return { ...actual, evaluatePod: vi.fn(actual.evaluatePod) };
});

const privilegedSpec = (): PodSpecLite =>
  restrictedSpec({
    containers: [container('app', { securityContext: { privileged: true, allowPrivilegeEscalation: true } })],
  });

const of = (a: ReturnType<typeof assess>, control: string) => a.findings.filter((f) => f.control === control);
const names = (a: ReturnType<typeof assess>, control: string) =>
  of(a, control).map(
    (f) =>
      `${f.target.kind} ${f.target.namespace ?? ''}/${f.target.name}${f.target.container ? `:${f.target.container}` : ''}`,
  );

describe('strictest enforceable level', () => {
  test('a Deployment scaled to zero whose template is privileged makes the namespace not enforceable at baseline', () => {
    const snap = snapshot({
      namespaces: [ns('batch')],
      workloads: [
        workload('Deployment', 'batch', 'importer', privilegedSpec(), { replicas: 0 }),
        workload('Deployment', 'batch', 'ok'),
      ],
    });
    const a = assess(snap, { now: NOW });
    expect(a.namespaces[0]).toMatchObject({
      strictestEnforceable: 'privileged',
      strictestWithoutExceptions: 'privileged',
    });
    expect(a.namespaces[0]?.blockers.baseline).toEqual([
      { kind: 'Deployment', name: 'importer', checks: ['privileged'] },
    ]);
  });

  test('a CronJob with no pod counts too; every live pod counts (an old pod blocks even if the template is fixed)', () => {
    const rootSpec = restrictedSpec({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } });
    const snap = snapshot({
      namespaces: [ns('a'), ns('b')],
      workloads: [
        workload('CronJob', 'a', 'report', rootSpec),
        workload('Deployment', 'b', 'web', restrictedSpec(), { pods: 2, podSpecs: [privilegedSpec()] }),
      ],
    });
    const a = assess(snap, { now: NOW });
    expect(a.namespaces.map((n) => [n.name, n.strictestEnforceable])).toEqual([
      ['a', 'baseline'],
      ['b', 'privileged'],
    ]);
  });

  test('restricted when every pod and template passes restricted', () => {
    const snap = snapshot({
      namespaces: [ns('pay')],
      workloads: [workload('Deployment', 'pay', 'api', restrictedSpec(), { pods: 3 })],
    });
    expect(assess(snap, { now: NOW }).namespaces[0]?.strictestEnforceable).toBe('restricted');
  });

  test.each<[string, { resource: string; namespace?: string }]>([
    ['pods, cluster-wide', { resource: 'pods' }],
    ['deployments in the namespace', { resource: 'deployments.apps', namespace: 'pay' }],
    ['cronjobs, cluster-wide', { resource: 'cronjobs.batch' }],
  ])('unknown is never compliant: %s could not be read → unknown, never a level', (_, entry) => {
    const snap = snapshot({
      namespaces: [ns('pay'), ns('other')],
      workloads: [workload('Deployment', 'pay', 'api')],
      unknown: [{ ...entry, reason: 'Forbidden', message: 'forbidden' }],
    });
    const a = assess(snap, { now: NOW });
    expect(a.namespaces.find((n) => n.name === 'pay')).toMatchObject({
      strictestEnforceable: 'unknown',
      strictestWithoutExceptions: 'unknown',
    });
    expect(a.namespaces.find((n) => n.name === 'other')?.strictestEnforceable).toBe(
      entry.namespace ? 'restricted' : 'unknown',
    );
    expect(of(a, 'KH-UNKNOWN')).toHaveLength(1);
    expect(a.summary.unknown).toBe(1);
  });

  test('an unreadable namespace: level unknown, PSA labels unknown (null), no label findings', () => {
    const snap = snapshot({
      namespaces: [ns('locked', {}, { unreadable: true })],
      workloads: [workload('Deployment', 'locked', 'x')],
    });
    const a = assess(snap, { now: NOW });
    expect(a.namespaces[0]).toMatchObject({ psa: null, strictestEnforceable: 'unknown', unreadable: true });
    expect(of(a, 'KH-PSA-NOT-ENFORCED')).toEqual([]);
  });

  test('a namespace seen only through its workloads is treated as unreadable', () => {
    const a = assess(snapshot({ workloads: [workload('Deployment', 'ghost', 'x')] }), { now: NOW });
    expect(a.namespaces[0]).toMatchObject({
      name: 'ghost',
      unreadable: true,
      strictestEnforceable: 'unknown',
    });
  });
});

describe('Pod Security findings per workload', () => {
  test('baseline lists baseline checks; restricted lists only what restricted adds; bare pods are kind Pod', () => {
    const bare = workload('Pod', 'ops', 'debug', privilegedSpec(), { pods: 1 });
    const snap = snapshot({ namespaces: [ns('ops')], workloads: [bare] });
    const a = assess(snap, { now: NOW });
    expect(of(a, 'KH-PSS-BASELINE').map((f) => [f.target, f.checks])).toEqual([
      [{ kind: 'Pod', namespace: 'ops', name: 'debug' }, ['privileged']],
    ]);
    expect(of(a, 'KH-PSS-RESTRICTED').map((f) => f.checks)).toEqual([
      ['allowPrivilegeEscalation', 'capabilities_restricted'],
    ]);
    expect(a.workloads[0]?.pss.restricted.violations.map((v) => v.check)).toEqual([
      'privileged',
      'allowPrivilegeEscalation',
      'capabilities_restricted',
    ]);
    expect(of(a, 'KH-PSS-BASELINE')[0]?.message).toBe(
      'fails baseline: privileged (container "app" must not set securityContext.privileged=true)',
    );
  });

  test('pods are reported through their owner only: one finding for a Deployment with 50 pods', () => {
    const snap = snapshot({
      namespaces: [ns('web')],
      workloads: [workload('Deployment', 'web', 'front', privilegedSpec(), { pods: 50 })],
    });
    const a = assess(snap, { now: NOW });
    expect(of(a, 'KH-PSS-BASELINE')).toHaveLength(1);
    expect(a.workloads[0]).toMatchObject({ pods: 50, hasTemplate: true });
  });

  test('a workload whose owner could not be read is evaluated from its pods', () => {
    const snap = snapshot({
      namespaces: [ns('web')],
      workloads: [workload('Deployment', 'web', 'front', privilegedSpec(), { pods: 2, noTemplate: true })],
    });
    const a = assess(snap, { now: NOW });
    expect(a.workloads[0]).toMatchObject({ hasTemplate: false, pods: 2 });
    expect(of(a, 'KH-PSS-BASELINE')).toHaveLength(1);
  });

  test('identical pods are evaluated once per level (results cached per interned object)', () => {
    const spec = restrictedSpec({ hostPID: true });
    const w1 = workload('Deployment', 'web', 'a', spec, { pods: 200 });
    const calls = vi.mocked(pss.evaluatePod);
    calls.mockClear();
    assess(snapshot({ namespaces: [ns('web')], workloads: [w1] }), { now: NOW });
    expect(calls).toHaveBeenCalledTimes(2); // baseline + restricted, for the one shared template
    calls.mockClear();
    assess(snapshot({ namespaces: [ns('web')], workloads: [w1] }), { now: NOW });
    expect(calls).toHaveBeenCalledTimes(0); // and again across assessments of the same snapshot objects
  });

  test('evaluated at latest resolved against the server version; offline: newest implemented', () => {
    const snap = snapshot({ namespaces: [ns('a')], workloads: [workload('Deployment', 'a', 'x')] });
    expect(assess(snap, { now: NOW }).policyVersion).toEqual({
      requested: 'latest',
      resolved: `v1.${pss.NEWEST_POLICY_MINOR}`,
      offline: true,
    });
    const live: Snapshot = { ...snap, serverVersion: { major: 1, minor: 30, gitVersion: 'v1.30.4' } };
    expect(assess(live, { now: NOW }).policyVersion).toEqual({
      requested: 'latest',
      resolved: 'v1.30',
      offline: false,
    });
    expect(assess(live, { now: NOW, psaVersion: 'v1.25' }).policyVersion.resolved).toBe('v1.25');
  });

  test('the version matters: probe hosts are checked from v1.34 only', () => {
    const spec = restrictedSpec({
      containers: [container('app', { livenessProbe: { httpGet: { host: '10.0.0.1' } } })],
    });
    const base = snapshot({ namespaces: [ns('a')], workloads: [workload('Deployment', 'a', 'x', spec)] });
    expect(
      assess({ ...base, serverVersion: { major: 1, minor: 33, gitVersion: 'v1.33.0' } }, { now: NOW })
        .namespaces[0]?.strictestEnforceable,
    ).toBe('restricted');
    expect(
      assess({ ...base, serverVersion: { major: 1, minor: 34, gitVersion: 'v1.34.0' } }, { now: NOW })
        .namespaces[0]?.strictestEnforceable,
    ).toBe('privileged');
  });
});

describe('container controls', () => {
  test.each([
    ['nothing set: the image decides', {}, {}, true],
    ['pod runAsNonRoot: true', { runAsNonRoot: true }, {}, false],
    ['pod runAsUser: 1000', { runAsUser: 1000 }, {}, false],
    ['pod runAsUser: 0', { runAsUser: 0 }, {}, true],
    ['container runAsUser 0 overrides pod runAsNonRoot', { runAsNonRoot: true }, { runAsUser: 0 }, true],
    [
      'container runAsNonRoot: false overrides pod true',
      { runAsNonRoot: true },
      { runAsNonRoot: false },
      true,
    ],
    ['container runAsUser 1000 overrides pod runAsUser 0', { runAsUser: 0 }, { runAsUser: 1000 }, false],
    ['runAsNonRoot: false but a non-zero runAsUser', {}, { runAsNonRoot: false, runAsUser: 5 }, false],
  ])('may run as root — %s', (_, podSc, containerSc, expected) => {
    const c = container('c', { securityContext: containerSc });
    expect(mayRunAsRoot({ metadata: {}, spec: { securityContext: podSc, containers: [c] } }, c)).toBe(
      expected,
    );
  });

  test('windows pods are not judged by UID', () => {
    const c = container('c', { securityContext: {} });
    expect(mayRunAsRoot({ metadata: {}, spec: { os: { name: 'windows' }, containers: [c] } }, c)).toBe(false);
  });

  test('root, limits and images: one finding per container, init containers included', () => {
    const spec = restrictedSpec({
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      initContainers: [
        container('init', { securityContext: { runAsUser: 0 }, resources: {}, image: 'busybox' }),
      ],
      containers: [
        container('app', { securityContext: { runAsNonRoot: true }, image: 'redis:latest' }),
        container('side', {
          resources: { requests: { cpu: '1m' } },
          image: `nginx@sha256:${'a'.repeat(64)}`,
        }),
        container('empty', { resources: { limits: {} }, image: `nginx:latest@sha256:${'b'.repeat(64)}` }),
      ],
    });
    const a = assess(
      snapshot({ namespaces: [ns('x')], workloads: [workload('StatefulSet', 'x', 'db', spec)] }),
      { now: NOW },
    );
    expect(names(a, 'KH-POD-ROOT')).toEqual([
      'StatefulSet x/db:empty',
      'StatefulSet x/db:init',
      'StatefulSet x/db:side',
    ]);
    expect(of(a, 'KH-POD-ROOT').find((f) => f.target.container === 'init')?.message).toBe(
      'init container may run as root: runAsUser: 0',
    );
    expect(names(a, 'KH-POD-NO-LIMITS')).toEqual([
      'StatefulSet x/db:empty',
      'StatefulSet x/db:init',
      'StatefulSet x/db:side',
    ]);
    expect(names(a, 'KH-IMAGE-LATEST')).toEqual(['StatefulSet x/db:app', 'StatefulSet x/db:init']);
    expect(of(a, 'KH-IMAGE-LATEST').map((f) => f.message)).toEqual([
      'image redis:latest uses the moving tag :latest: it can change under the same name; pin it by digest (image@sha256:…)',
      'image busybox has no tag (pulls :latest): it can change under the same name; pin it by digest (image@sha256:…)',
    ]);
    expect(a.workloads[0]?.images).toEqual([
      'busybox',
      `nginx:latest@sha256:${'b'.repeat(64)}`,
      `nginx@sha256:${'a'.repeat(64)}`,
      'redis:latest',
    ]);
  });

  test('registries: normalized hosts with image and workload counts', () => {
    const a = assess(
      snapshot({
        namespaces: [ns('x')],
        workloads: [
          workload(
            'Deployment',
            'x',
            'a',
            restrictedSpec({
              containers: [
                container('c', { image: 'nginx:1' }),
                container('d', { image: 'index.docker.io/library/nginx:1' }),
              ],
            }),
          ),
          workload(
            'Deployment',
            'x',
            'b',
            restrictedSpec({
              containers: [
                container('c', { image: 'docker.io/myorg/app:2' }),
                container('d', { image: 'registry.example.com:5000/app:1' }),
              ],
            }),
          ),
        ],
      }),
      { now: NOW },
    );
    expect(a.registries).toEqual([
      { registry: 'docker.io', images: 2, workloads: 2 },
      { registry: 'registry.example.com:5000', images: 1, workloads: 1 },
    ]);
    expect(of(a, 'KH-IMAGE-REGISTRY').map((f) => [f.target.name, f.message])).toEqual([
      ['docker.io', '2 images in 2 workloads: library/nginx, myorg/app'],
      ['registry.example.com:5000', '1 image in 1 workload: app'],
    ]);
  });
});

describe('ServiceAccount tokens (pod wins, else the SA, else true)', () => {
  const run = (
    spec: Partial<PodSpecLite>,
    sas: Snapshot['serviceAccounts'],
    unknown: Snapshot['unknown'] = [],
  ) => {
    const a = assess(
      snapshot({
        namespaces: [ns('x')],
        workloads: [
          workload(
            'Deployment',
            'x',
            'w',
            restrictedSpec({ automountServiceAccountToken: undefined, ...spec }),
          ),
        ],
        serviceAccounts: sas,
        unknown,
      }),
      { now: NOW },
    );
    return { a, w: a.workloads[0], findings: of(a, 'KH-SA-TOKEN-AUTOMOUNT') };
  };

  test('the pod field wins over the ServiceAccount', () => {
    expect(run({ automountServiceAccountToken: false }, [sa('x', 'app', true)]).w?.automountToken).toBe(
      false,
    );
    const r = run({ automountServiceAccountToken: true }, [sa('x', 'app', false)]);
    expect(r.w).toMatchObject({
      automountToken: true,
      automountReason: 'the pod sets automountServiceAccountToken: true',
    });
    expect(r.findings[0]?.message).toBe(
      'mounts the token of ServiceAccount x/app: the pod sets automountServiceAccountToken: true; no evidence of API use (no binding, no known controller, no projected token)',
    );
    expect(r.w?.apiUse).toEqual({
      use: 'no',
      evidence: 'no binding, no known controller, no projected token',
    });
  });

  test('then the ServiceAccount, then true', () => {
    expect(run({}, [sa('x', 'app', false)]).w?.automountToken).toBe(false);
    expect(run({}, [sa('x', 'app', true)]).w?.automountToken).toBe(true);
    expect(run({}, [sa('x', 'app')]).w?.automountToken).toBe(true);
    expect(run({}, [sa('x', 'app', false)]).findings).toEqual([]);
  });

  test('the default ServiceAccount: implicit, always exists; its own finding', () => {
    const r = run({ serviceAccountName: undefined }, []);
    expect(r.w).toMatchObject({ serviceAccount: 'default', automountToken: true });
    expect(names(r.a, 'KH-SA-DEFAULT')).toEqual(['Deployment x/w']);
  });

  test('an unreadable or missing ServiceAccount makes the token unknown — and says so', () => {
    const forbidden = run(
      {},
      [],
      [{ resource: 'serviceaccounts', namespace: 'x', reason: 'Forbidden', message: 'no' }],
    );
    expect(forbidden.w).toMatchObject({
      automountToken: 'unknown',
      automountReason: 'the ServiceAccount could not be read',
    });
    expect(forbidden.findings[0]?.message).toBe(
      'may mount the token of ServiceAccount x/app (unknown): the ServiceAccount could not be read; no evidence of API use (no binding, no known controller, no projected token)',
    );
    expect(run({}, []).w).toMatchObject({
      automountToken: 'unknown',
      automountReason: 'the ServiceAccount was not found',
    });
  });
});

describe('namespace labels, CNI, unknowns, order', () => {
  test('PSA labels: absent → null; invalid values reported; weaker than the tier target reported', () => {
    const snap = snapshot({
      namespaces: [
        ns('app', {
          'pod-security.kubernetes.io/enforce': 'baseline',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': 'v1.30',
        }),
        ns('bad', {
          'pod-security.kubernetes.io/enforce': 'strict',
          'pod-security.kubernetes.io/warn-version': '1.30',
        }),
        ns('kube-system'),
        ns('good', { 'pod-security.kubernetes.io/enforce': 'restricted' }),
      ],
    });
    const a = assess(snap, { now: NOW });
    const by = Object.fromEntries(a.namespaces.map((n) => [n.name, n]));
    expect(by.app?.psa).toEqual({
      enforce: { level: 'baseline', version: 'latest' },
      audit: { level: 'restricted', version: 'v1.30' },
      warn: null,
    });
    // Invalid enforce evaluates as restricted (fail closed); the version label alone does not make warn explicit.
    expect(by.bad?.psa?.enforce).toEqual({
      level: 'restricted',
      version: 'latest',
      invalid: expect.stringContaining('must be one of privileged, baseline, restricted'),
    });
    expect(by.bad?.psa?.warn).toBeNull();
    expect(names(a, 'KH-PSA-INVALID-LABEL')).toEqual(['Namespace /bad']);
    expect(names(a, 'KH-PSA-NOT-ENFORCED')).toEqual(['Namespace /app']);
    expect(of(a, 'KH-PSA-NOT-ENFORCED')[0]?.message).toBe(
      'enforces baseline:latest; tier application targets restricted; it could enforce restricted today',
    );
  });

  test.each([
    [
      [{ name: 'calico', namespace: 'kube-system', workload: 'calico-node', enforcesNetworkPolicy: true }],
      'enforcing',
      'KH-NET-CNI',
    ],
    [
      [
        {
          name: 'flannel',
          namespace: 'kube-flannel',
          workload: 'kube-flannel-ds',
          enforcesNetworkPolicy: false,
        },
      ],
      'not-enforcing',
      'KH-NET-CNI-NO-NETPOL',
    ],
    [
      [
        {
          name: 'aws-vpc-cni',
          namespace: 'kube-system',
          workload: 'aws-node',
          enforcesNetworkPolicy: 'unknown',
        },
      ],
      'unknown',
      'KH-NET-CNI-UNKNOWN',
    ],
    [[], 'unknown', 'KH-NET-CNI-UNKNOWN'],
  ] as const)('CNI %j → %s', (cni, status, control) => {
    const a = assess(snapshot({ controlPlane: { cni: [...cni], webhookNamespaces: [] } }), { now: NOW });
    expect(a.cni.status).toBe(status);
    expect(of(a, control)).toHaveLength(1);
    expect(a.findings.filter((f) => f.control.startsWith('KH-NET-CNI'))).toHaveLength(1);
  });

  test('the CNI namespace is a system namespace', () => {
    const a = assess(
      snapshot({
        namespaces: [ns('net')],
        controlPlane: {
          cni: [{ name: 'cilium', namespace: 'net', workload: 'cilium', enforcesNetworkPolicy: true }],
          webhookNamespaces: [],
        },
      }),
      { now: NOW },
    );
    expect(a.namespaces[0]?.tier).toBe('system');
  });

  test('one finding per unknown entry, named', () => {
    const a = assess(
      snapshot({
        unknown: [
          { resource: 'secrets', reason: 'Forbidden', message: 'secrets is forbidden' },
          { resource: 'pods', namespace: 'pay', reason: 'Timeout', message: 'timed out' },
        ],
      }),
      { now: NOW },
    );
    expect(of(a, 'KH-UNKNOWN').map((f) => [f.target, f.message, f.severity])).toEqual([
      [
        { kind: 'Resource', name: 'secrets' },
        'could not read secrets (Forbidden): secrets is forbidden',
        'high',
      ],
      [
        { kind: 'Resource', namespace: 'pay', name: 'pods' },
        'could not read pods in namespace pay (Timeout): timed out',
        'high',
      ],
    ]);
  });

  test('deterministic: the same findings in the same order whatever the input order', () => {
    const ws = [
      workload('Deployment', 'b', 'z', privilegedSpec()),
      workload('Deployment', 'a', 'y', privilegedSpec()),
      workload('DaemonSet', 'a', 'y', restrictedSpec({ hostPID: true })),
    ];
    const nss = [ns('b'), ns('a')];
    const rbac = {
      roles: [role('ClusterRole', 'r', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])],
      bindings: [
        binding('ClusterRoleBinding', 'r', { kind: 'ClusterRole', name: 'r' }, [{ kind: 'User', name: 'u' }]),
      ],
    };
    const one = assess(snapshot({ namespaces: nss, workloads: ws, ...rbac }), { now: NOW });
    const two = assess(snapshot({ namespaces: [...nss].reverse(), workloads: [...ws].reverse(), ...rbac }), {
      now: NOW,
    });
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
    const sev = one.findings.map((f) => f.severity);
    expect(sev.indexOf('critical')).toBe(0);
    expect(one.namespaces.map((n) => n.name)).toEqual(['a', 'b']);
  });

  test('every finding names a catalog control and carries its severity', () => {
    const a = assess(
      snapshot({ namespaces: [ns('a')], workloads: [workload('Deployment', 'a', 'x', privilegedSpec())] }),
      { now: NOW },
    );
    const catalog = new Map(CONTROLS.map((c) => [c.id, c.severity]));
    for (const f of a.findings) expect(f.severity).toBe(catalog.get(f.control));
  });
});
