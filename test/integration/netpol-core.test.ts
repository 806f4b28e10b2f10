/**
 * The pure default-deny core against the real control plane:
 * - the API server's own `default/kubernetes` EndpointSlice, read for real, resolves to an ipBlock per API server
 *   on the port it listens on (not the Service's 443). The local control plane advertises 127.0.0.1, which the
 *   API server cannot publish (its log: `Endpoints "kubernetes" is invalid: ... may not be in the loopback
 *   range`), so there the test checks the other branch: no endpoint → no egress deny for API clients;
 * - every NetworkPolicy the planner generates (every purpose, both same-namespace modes) passes a server-side
 *   dry-run with strict field validation, and comes back with the spec we sent (nothing defaulted in or dropped:
 *   re-planning diffs clean).
 */
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  apiServerTargets,
  type NetworkPolicyObject,
  planNetworkPolicies,
} from '../../src/policy/netpol/index.js';
import { describeCluster, freshNamespace, kubectl, kubectlJson } from '../cluster/harness.js';
import {
  build,
  type Fx,
  KUBE_DNS_POD,
  KUBE_DNS_SERVICE,
  SHOP_PODS,
  SHOP_SERVICES,
} from '../unit/policy/netpol/cluster-fixture.js';

interface SliceList {
  items: Array<{
    metadata: { name: string };
    addressType: string;
    endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
    ports?: Array<{ name?: string; port?: number; protocol?: string }>;
  }>;
}

describeCluster('netpol core on a real control plane', () => {
  it('resolves the real API server endpoints to their listening port, or refuses egress deny without them', async () => {
    const slices = await kubectlJson<SliceList>([
      'get',
      'endpointslices',
      '--namespace',
      'default',
      '-l',
      'kubernetes.io/service-name=kubernetes',
    ]);
    const svc = await kubectlJson<{ spec: { ports: Array<{ port: number; targetPort: number }> } }>([
      'get',
      'service',
      'kubernetes',
      '--namespace',
      'default',
    ]);
    const r = apiServerTargets({
      endpointSlices: slices.items.map((s) => ({
        name: s.metadata.name,
        addressType: s.addressType,
        endpoints: s.endpoints ?? [],
        ports: s.ports ?? [],
      })),
    });
    const listening = svc.spec.ports[0]!.targetPort;
    expect(svc.spec.ports[0]!.port).toBe(443);
    if (slices.items.length === 0) {
      // The local control plane advertises 127.0.0.1, which Endpoints validation rejects ("may not be in the
      // loopback range"): the API server publishes no endpoint. Then the planner must not cut API clients off.
      expect(r.ok).toBe(false);
      const fx: Fx = {
        namespaces: ['kube-system', 'shop'],
        pods: [KUBE_DNS_POD, ...SHOP_PODS],
        services: [KUBE_DNS_SERVICE, ...SHOP_SERVICES],
      };
      const { input } = build(fx);
      const plan = planNetworkPolicies(
        { ...input, apiServer: { endpointSlices: [] } },
        { namespaces: ['shop'] },
      );
      expect(plan.namespaces[0]!.denied).toEqual({ ingress: true, egress: false });
      expect(plan.namespaces[0]!.refusals.join()).toMatch(/no ready endpoint/);
      return;
    }
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    for (const t of r.targets) {
      expect(t.cidr).toMatch(/\/(32|128)$/);
      expect(t.ports).toEqual([{ protocol: 'TCP', port: listening }]);
    }
  });

  it('every generated NetworkPolicy passes a strict server-side dry-run and round-trips unchanged', async () => {
    const app = await freshNamespace('netpol-app');
    const edge = await freshNamespace('netpol-edge');
    const rename = (ns: string) => (ns === 'shop' ? app : ns === 'ingress-nginx' ? edge : ns);
    const fx: Fx = {
      namespaces: ['kube-system', 'default', app, edge, 'monitoring'],
      pods: [
        KUBE_DNS_POD,
        ...SHOP_PODS.map((p) => ({ ...p, ns: rename(p.ns) })),
        {
          ns: edge,
          name: 'ingress-nginx-controller',
          labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
          ip: '10.244.2.10',
          args: ['--controller-class=k8s.io/ingress-nginx'],
          ports: [{ name: 'http', containerPort: 80 }],
        },
        {
          ns: 'monitoring',
          name: 'prometheus-k8s',
          kind: 'StatefulSet',
          labels: { prometheus: 'k8s' },
          ip: '10.244.6.6',
        },
      ],
      services: [
        KUBE_DNS_SERVICE,
        ...SHOP_SERVICES.map((s) => ({ ...s, namespace: rename(s.namespace) })),
        {
          namespace: edge,
          name: 'ingress-nginx-controller',
          type: 'LoadBalancer',
          selector: { 'app.kubernetes.io/name': 'ingress-nginx' },
          ports: [{ name: 'http', port: 80, targetPort: 'http' }],
        },
      ],
      daemonSets: [
        {
          namespace: 'kube-system',
          name: 'node-local-dns',
          labels: {},
          containers: [
            {
              name: 'node-cache',
              image: 'registry.k8s.io/dns/k8s-dns-node-cache:1.23.1',
              args: ['-localip', '169.254.20.10,fd00::a'],
            },
          ],
        },
      ],
      bindings: [
        {
          kind: 'RoleBinding',
          namespace: app,
          name: 'operator',
          roleRef: { kind: 'ClusterRole', name: 'view' },
          subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: app }],
          labels: {},
        },
      ],
      apiServerIps: ['192.168.1.10', 'fd00::1'],
      extra: {
        ingressClasses: [{ name: 'nginx', controller: 'k8s.io/ingress-nginx' }],
        ingresses: [
          {
            namespace: app,
            name: 'web',
            ingressClassName: 'nginx',
            backends: [{ service: 'web', port: 80 }],
          },
        ],
        webhooks: [
          {
            kind: 'ValidatingWebhookConfiguration',
            configuration: 'v',
            webhook: 'v.example.com',
            service: { namespace: app, name: 'api', port: 9000 },
          },
        ],
        prometheuses: [
          { namespace: 'monitoring', name: 'k8s', podMonitorSelector: {}, podMonitorNamespaceSelector: {} },
        ],
        podMonitors: [
          {
            namespace: app,
            name: 'web',
            labels: {},
            selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] },
            podMetricsEndpoints: [{ port: 'metrics' }],
          },
        ],
      },
    };
    const { input } = build(fx);
    const objects: NetworkPolicyObject[] = [];
    for (const sameNamespace of ['namespace', 'isolated'] as const) {
      const plan = planNetworkPolicies(input, { namespaces: [app, edge], sameNamespace });
      for (const n of plan.namespaces) expect(n.refusals).toEqual([]);
      objects.push(...plan.namespaces.flatMap((n) => n.policies.map((p) => p.object)));
    }
    const purposes = new Set(
      objects.map((o) => o.metadata.name.replace(/^kube-harden-(allow-)?([a-z]+).*$/, '$2')),
    );
    expect([...purposes].sort()).toEqual(
      [
        'apiserver',
        'default',
        'dns',
        'external',
        'ingress',
        'monitoring',
        'same',
        'service',
        'services',
        'webhook',
      ].sort(),
    );
    // One object per name: the `isolated` run repeats the shared ones.
    const unique = new Map(objects.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
    const out = await kubectl(
      [
        'apply',
        '--server-side',
        '--dry-run=server',
        '--validate=strict',
        '--field-manager=kube-harden',
        '-o',
        'json',
        '-f',
        '-',
      ],
      { input: [...unique.values()].map((o) => stringify(o)).join('---\n') },
    );
    const parsed = JSON.parse(out) as {
      items?: Array<{ metadata: { name: string; namespace: string }; spec: unknown }>;
    };
    const items = parsed.items ?? [parsed as never];
    expect(items).toHaveLength(unique.size);
    for (const item of items) {
      const sent = unique.get(`${item.metadata.namespace}/${item.metadata.name}`)!;
      expect(item.spec, `${item.metadata.namespace}/${item.metadata.name}`).toEqual(sent.spec);
    }
  });
});
