/** Findings ranked by what the namespace is for, how far a wildcard reaches and whether a tag moves. */
import { describe, expect, test } from 'vitest';
import type { PodSpecLite } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { isMutableTag, parseImage } from '../../../src/policy/images.js';
import { rbacFindings } from '../../../src/policy/rbac.js';
import {
  container,
  NOW,
  ns,
  restrictedSpec,
  role,
  snapshot,
  workload,
} from '../../fixtures/snapshots/builder.js';

const hostSpec = (): PodSpecLite =>
  restrictedSpec({
    hostNetwork: true,
    containers: [
      container('calico-node', { securityContext: { privileged: true, allowPrivilegeEscalation: true } }),
    ],
  });

describe('Pod Security findings by namespace tier', () => {
  test('calico-node in kube-system (target privileged) is info, "expected for a system namespace"; in an application namespace it stays high', () => {
    const a = assess(
      snapshot({
        namespaces: [ns('kube-system'), ns('shop')],
        workloads: [
          workload('DaemonSet', 'kube-system', 'calico-node', hostSpec()),
          workload('DaemonSet', 'shop', 'calico-node', hostSpec()),
        ],
      }),
      { now: NOW },
    );
    const baseline = a.findings.filter((f) => f.control === 'KH-PSS-BASELINE');
    const system = baseline.find((f) => f.target.namespace === 'kube-system');
    const app = baseline.find((f) => f.target.namespace === 'shop');
    expect(system?.severity).toBe('info');
    expect(system?.message).toMatch(/ — expected for a system namespace \(tier system targets privileged\)$/);
    expect(app?.severity).toBe('high');
    expect(app?.message).not.toContain('expected');
    // The restricted finding follows the same rule
    const restricted = a.findings.filter((f) => f.control === 'KH-PSS-RESTRICTED');
    expect(restricted.find((f) => f.target.namespace === 'kube-system')?.severity).toBe('info');
    expect(restricted.find((f) => f.target.namespace === 'shop')?.severity).toBe('medium');
  });

  test('a namespace only named by an object (synthesized, no workload) gets no network findings; a declared empty one does', () => {
    const a = assess(
      snapshot({
        namespaces: [{ ...ns('named-by-rolebinding'), synthesized: true }, ns('declared')],
        workloads: [],
      }),
      { now: NOW },
    );
    const net = a.findings.filter((f) => f.control.startsWith('KH-NET-NO-DEFAULT-DENY'));
    expect(net.map((f) => f.target.name)).toEqual(['declared', 'declared']);
  });
});

describe('KH-RBAC-WILDCARD by reach', () => {
  const severityOf = (rules: Parameters<typeof role>[2]) =>
    rbacFindings({ roles: [role('ClusterRole', 'r', rules)], bindings: [] })[0]?.severity;

  test('over a component own API group (an operator and its CRDs): low, and the message says so', () => {
    const fs = rbacFindings({
      roles: [
        role('ClusterRole', 'argocd-application-controller', [
          { apiGroups: ['argoproj.io'], resources: ['*'], verbs: ['*'] },
        ]),
      ],
      bindings: [],
    });
    expect(fs[0]?.severity).toBe('low');
    expect(fs[0]?.message).toContain('only over its own API groups');
    expect(
      severityOf([
        { apiGroups: ['metrics.k8s.io', 'gateway.networking.k8s.io'], resources: ['*'], verbs: ['get'] },
      ]),
    ).toBe('low');
  });

  test('over core or RBAC resources, any group or non-resource URLs: high', () => {
    expect(severityOf([{ apiGroups: [''], resources: ['*'], verbs: ['get'] }])).toBe('high');
    expect(
      severityOf([{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['*'] }]),
    ).toBe('high');
    expect(severityOf([{ apiGroups: ['*'], resources: ['deployments'], verbs: ['get'] }])).toBe('high');
    expect(severityOf([{ nonResourceURLs: ['*'], verbs: ['get'] }])).toBe('high');
    // The widest rule decides: an own-group wildcard next to a core one is high
    expect(
      severityOf([
        { apiGroups: ['argoproj.io'], resources: ['*'], verbs: ['*'] },
        { apiGroups: [''], resources: ['*'], verbs: ['list'] },
      ]),
    ).toBe('high');
  });

  test('over other built-in groups (apps, batch, networking.k8s.io, …): medium', () => {
    for (const group of [
      'apps',
      'batch',
      'networking.k8s.io',
      'policy',
      'apiextensions.k8s.io',
      'storage.k8s.io',
    ])
      expect(severityOf([{ apiGroups: [group], resources: ['*'], verbs: ['get'] }]), group).toBe('medium');
  });
});

describe('moving tags', () => {
  test.each([
    ['ghcr.io/org/app:main', true],
    ['ghcr.io/org/app:master', true],
    ['app:dev', true],
    ['app:edge', true],
    ['app:nightly', true],
    ['app:stable', true],
    [`app:main@sha256:${'a'.repeat(64)}`, false],
    ['app:development', false],
    ['app:1.2-stable', false],
  ])('%s → %s', (raw, mutable) => {
    expect(isMutableTag(parseImage(raw))).toBe(mutable);
  });

  test('the finding names the moving tag and suggests pinning by digest', () => {
    const a = assess(
      snapshot({
        namespaces: [ns('shop')],
        workloads: [
          workload(
            'Deployment',
            'shop',
            'web',
            restrictedSpec({ containers: [container('web', { image: 'ghcr.io/org/web:main' })] }),
          ),
        ],
      }),
      { now: NOW },
    );
    expect(a.findings.filter((f) => f.control === 'KH-IMAGE-LATEST').map((f) => f.message)).toEqual([
      'image ghcr.io/org/web:main uses the moving tag :main: it can change under the same name; pin it by digest (image@sha256:…)',
    ]);
  });
});

describe('hostPort defaulting: templates as the server reports them, Pods as a note', () => {
  const speaker = (): PodSpecLite =>
    restrictedSpec({
      hostNetwork: true,
      containers: [container('speaker', { ports: [{ containerPort: 7472, name: 'monitoring' }] })],
    });

  test("MetalLB's speaker: the DaemonSet fails hostNamespaces; its Pods will also show hostPorts (a note)", () => {
    const a = assess(
      snapshot({
        namespaces: [ns('metallb')],
        workloads: [workload('DaemonSet', 'metallb', 'speaker', speaker())],
      }),
      { now: NOW },
    );
    const f = a.findings.find((x) => x.control === 'KH-PSS-BASELINE');
    expect(f?.message).toMatch(
      /^fails baseline: hostNamespaces \(hostNetwork=true\) \(note: its Pods will show hostPorts \(container "speaker" uses hostPort 7472\): the API server sets each hostPort to the containerPort on Pods with hostNetwork, not on templates, so it warns on the Pods\)/,
    );
    // The verdict is the Pods' (what enforcing would refuse): both checks
    expect(f?.checks).toEqual(['hostNamespaces', 'hostPorts']);
  });

  test('a bare Pod gets no note: it is what the server defaults', () => {
    const a = assess(
      snapshot({
        namespaces: [ns('metallb')],
        workloads: [workload('Pod', 'metallb', 'speaker', speaker())],
      }),
      { now: NOW },
    );
    const f = a.findings.find((x) => x.control === 'KH-PSS-BASELINE');
    expect(f?.message).not.toContain('note');
    expect(f?.message).toContain('hostPorts');
  });
});
