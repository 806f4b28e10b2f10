/**
 * The report's `namespaces[].defaultDeny.dnsEgress` is judged against the cluster DNS the default-deny planner
 * resolves (`clusterDnsOf` → `resolveDns`), not a hard-coded UDP/TCP 53 to kube-dns: once the step's policies are
 * in place, the report shows denied/denied/dnsEgress true, whatever pods and ports serve DNS.
 */
import { describe, expect, test } from 'vitest';
import { emptyNetworkFacts } from '../../../src/inventory/network-facts.js';
import type { NetworkFacts, NetworkPolicyInfo, Snapshot, Workload } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import {
  clusterDnsOf,
  netpolInputFromSnapshot,
  planNetworkPolicies,
  type ServiceLite,
} from '../../../src/policy/netpol/index.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { toInfo } from './netpol/cluster-fixture.js';

function facts(services: ServiceLite[], extra: Partial<NetworkFacts> = {}): NetworkFacts {
  return {
    ...emptyNetworkFacts(),
    services,
    daemonSets: [
      {
        namespace: 'kube-system',
        name: 'calico-node',
        labels: {},
        containers: [{ name: 'calico-node', image: 'calico/node:v3.28.0' }],
      },
    ],
    ...extra,
  };
}

/** A DNS server Deployment listening on 5353 under the names dns/dns-tcp. */
function dnsServer(namespace: string, labels: Record<string, string>): Workload {
  return workload(
    'Deployment',
    namespace,
    'dns-server',
    restrictedSpec({
      containers: [
        container('dns', {
          ports: [
            { name: 'dns', containerPort: 5353, protocol: 'UDP' },
            { name: 'dns-tcp', containerPort: 5353, protocol: 'TCP' },
          ],
        }),
      ],
    }),
    { podLabels: labels },
  );
}

const ON_5353: ServiceLite['ports'] = [
  { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
];

/** An OpenShift-like cluster: the kubelet's clusterDNS is openshift-dns/dns-default, whose pods answer on 5353. */
function openshiftLike(): Snapshot {
  return snapshot({
    namespaces: [ns('kube-system'), ns('openshift-dns'), ns('shop')],
    workloads: [
      dnsServer('openshift-dns', { 'dns.operator.openshift.io/daemonset-dns': 'default' }),
      workload('Deployment', 'shop', 'web'),
    ],
    network: facts(
      [
        {
          namespace: 'openshift-dns',
          name: 'dns-default',
          selector: { 'dns.operator.openshift.io/daemonset-dns': 'default' },
          clusterIPs: ['172.30.0.10'],
          ports: ON_5353,
        },
      ],
      { clusterDnsIPs: ['172.30.0.10'] },
    ),
  });
}

/** The step's policies for `namespaces`, as the inventory reads them back once applied. */
function applied(snap: Snapshot, namespaces: string[]): NetworkPolicyInfo[] {
  const plan = planNetworkPolicies(netpolInputFromSnapshot(snap), { namespaces });
  return plan.namespaces.flatMap((n) => n.policies.map((p) => toInfo(p.object as never)));
}

describe('the report judges dnsEgress with the planner’s DNS resolution', () => {
  test('clusterDnsOf: the kubelet’s clusterDNS Service, its pods’ labels and pod ports (named targetPort → 5353)', () => {
    const { resolution, target } = clusterDnsOf(openshiftLike());
    expect(resolution.ok).toBe(true);
    expect(target).toEqual({
      namespace: 'openshift-dns',
      namespaceLabels: { 'kubernetes.io/metadata.name': 'openshift-dns' },
      podLabels: { app: 'dns-server', 'dns.operator.openshift.io/daemonset-dns': 'default' },
      ports: [
        { protocol: 'TCP', port: 5353, names: ['dns-tcp'] },
        { protocol: 'UDP', port: 5353, names: ['dns'] },
      ],
    });
  });

  test('after the step’s policies: denied / denied / dnsEgress true (a kube-dns-on-53 check would say false)', () => {
    const before = openshiftLike();
    const policies = applied(before, ['shop']);
    expect(policies.length).toBeGreaterThan(0);
    const after = { ...before, networkPolicies: policies };
    const shop = assess(after, { now: NOW }).namespaces.find((n) => n.name === 'shop');
    expect(shop?.defaultDeny).toMatchObject({ ingress: 'denied', egress: 'denied', dnsEgress: true });
    expect(
      assess(after, { now: NOW }).findings.filter(
        (f) => f.control === 'KH-NET-NO-DNS-EGRESS' && f.target.name === 'shop',
      ),
    ).toEqual([]);
  });

  test('kube-system/kube-dns on 53 targeting 5353 by number: the same', () => {
    const snap = snapshot({
      namespaces: [ns('kube-system'), ns('shop')],
      workloads: [dnsServer('kube-system', { 'k8s-app': 'kube-dns' }), workload('Deployment', 'shop', 'web')],
      network: facts([
        {
          namespace: 'kube-system',
          name: 'kube-dns',
          selector: { 'k8s-app': 'kube-dns' },
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5353 },
          ],
        },
      ]),
    });
    const after = { ...snap, networkPolicies: applied(snap, ['shop']) };
    const shop = assess(after, { now: NOW }).namespaces.find((n) => n.name === 'shop');
    expect(shop?.defaultDeny).toMatchObject({ ingress: 'denied', egress: 'denied', dnsEgress: true });
    // A policy for kube-dns on 53 (what naive generators write) misses pods that listen on 5353.
    const naive = snapshot({
      ...after,
      networkPolicies: [
        toInfo({
          metadata: { name: 'deny', namespace: 'shop' },
          spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
        } as never),
        toInfo({
          metadata: { name: 'dns', namespace: 'shop' },
          spec: {
            podSelector: {},
            policyTypes: ['Egress'],
            egress: [
              {
                to: [
                  {
                    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                    podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                  },
                ],
                ports: [
                  { protocol: 'UDP', port: 53 },
                  { protocol: 'TCP', port: 53 },
                ],
              },
            ],
          },
        } as never),
      ],
    });
    expect(assess(naive, { now: NOW }).namespaces.find((n) => n.name === 'shop')?.defaultDeny.dnsEgress).toBe(
      false,
    );
  });

  test('no cluster DNS can be resolved: a denied egress has dnsEgress false, and the finding says why', () => {
    const snap = snapshot({
      namespaces: [ns('shop')],
      network: facts([]),
      networkPolicies: [
        toInfo({
          metadata: { name: 'deny', namespace: 'shop' },
          spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
        } as never),
      ],
    });
    delete snap.dns;
    const a = assess(snap, { now: NOW });
    expect(a.namespaces[0]?.defaultDeny).toMatchObject({ egress: 'denied', dnsEgress: false });
    expect(a.findings.find((f) => f.control === 'KH-NET-NO-DNS-EGRESS')?.message).toMatch(
      /whether DNS is allowed is unknown: no cluster DNS Service found/,
    );
  });
});
