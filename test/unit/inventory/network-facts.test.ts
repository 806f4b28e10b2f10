/**
 * The inventory's network facts (Snapshot.network, phase 3) through the manifest source, on a small cluster
 * (test/fixtures/netpol-cluster): what is collected, what is never read, and that the planner gets all it needs from
 * the Snapshot alone.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import type { ClusterReader } from '../../../src/cluster/types.js';
import { buildSnapshot } from '../../../src/inventory/build.js';
import { redactArgs } from '../../../src/inventory/project.js';
import { netpolInputFromSnapshot, planNetworkPolicies } from '../../../src/policy/netpol/index.js';

const fixture = join(import.meta.dirname, '..', '..', 'fixtures', 'netpol-cluster');

/** The manifest source, recording what the inventory asks of it. */
async function recorded() {
  const source = await ManifestSource.load(fixture);
  const lists: string[] = [];
  const gets: string[] = [];
  const reader: ClusterReader = Object.assign(Object.create(source) as ClusterReader, {
    source: source.source,
    capabilities: source.capabilities,
    list: (kind: Parameters<ClusterReader['list']>[0], options?: Parameters<ClusterReader['list']>[1]) => {
      lists.push(`${kind.kind}${options?.namespace ? ` -n ${options.namespace}` : ''}`);
      return source.list(kind, options);
    },
    get: (ref: Parameters<ClusterReader['get']>[0], signal?: AbortSignal) => {
      gets.push(`${ref.kind} ${ref.namespace ?? ''}/${ref.name}`);
      return source.get(ref, signal);
    },
  });
  return { reader, lists, gets };
}

describe('network facts (Snapshot.network)', () => {
  it('collects Services, endpoints, DaemonSets, CNI hints, ingress, Gateway API, webhooks and monitors', async () => {
    const { reader, lists, gets } = await recorded();
    const snapshot = await buildSnapshot(reader);
    const net = snapshot.network!;
    expect(net).toBeDefined();

    expect(net.services.find((s) => s.name === 'kube-dns')).toEqual({
      namespace: 'kube-system',
      name: 'kube-dns',
      labels: { 'k8s-app': 'kube-dns' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9153' },
      selector: { 'k8s-app': 'kube-dns' },
      clusterIPs: ['10.96.0.10'],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
      ],
    });
    expect(net.services.map((s) => `${s.namespace}/${s.name}`)).toEqual([
      'default/kubernetes',
      'ingress-nginx/ingress-nginx-controller-admission',
      'kube-system/kube-dns',
      'shop/web',
    ]);

    // Only the slice of the `kubernetes` Service, not every EndpointSlice of `default`.
    expect(net.apiServer).toEqual({
      endpointSlices: [
        {
          name: 'kubernetes',
          addressType: 'IPv4',
          endpoints: [{ addresses: ['192.168.1.10'], conditions: { ready: true } }],
          ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
        },
      ],
    });

    expect(net.daemonSets).toEqual([
      {
        namespace: 'kube-system',
        name: 'cilium',
        labels: { 'k8s-app': 'cilium' },
        hostNetwork: true,
        containers: [
          {
            name: 'cilium-agent',
            image: 'quay.io/cilium/cilium:v1.15.0',
            args: ['cilium-agent', '--config-dir=/tmp/cilium/config-map', '--api-token=<redacted>'],
          },
        ],
        initContainers: [
          { name: 'config', image: 'quay.io/cilium/cilium:v1.15.0', args: ['cilium-dbg', 'build-config'] },
        ],
      },
    ]);
    expect(net.cniConfig).toEqual({
      ciliumEnablePolicy: 'default',
      ciliumPolicyCidrMatchMode: 'nodes',
      k3sNodeArgs: ['server', '--flannel-backend', 'none', '--token', '<redacted>'],
      nodesHavePodCidr: true,
    });

    expect(net.ingresses).toEqual([
      {
        namespace: 'shop',
        name: 'web',
        ingressClassName: 'nginx',
        annotations: { 'kubernetes.io/ingress.class': 'nginx' },
        backends: [
          { service: 'web', port: 'http' },
          { service: 'web', port: 80 },
        ],
      },
    ]);
    expect(net.ingressClasses).toEqual([
      { name: 'nginx', controller: 'k8s.io/ingress-nginx', isDefault: true },
    ]);
    expect(net.gatewayClasses).toEqual([
      { name: 'envoy', controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
    ]);
    expect(net.gateways).toEqual([{ namespace: 'gateways', name: 'public', gatewayClassName: 'envoy' }]);
    expect(net.httpRoutes).toEqual([
      {
        namespace: 'shop',
        name: 'web',
        parentRefs: [{ name: 'public', namespace: 'gateways' }],
        backendRefs: [{ name: 'web', port: 80 }],
      },
    ]);

    expect(net.webhooks).toEqual([
      {
        kind: 'ValidatingWebhookConfiguration',
        configuration: 'ingress-nginx-admission',
        webhook: 'validate.nginx.ingress.kubernetes.io',
        service: { namespace: 'ingress-nginx', name: 'ingress-nginx-controller-admission', port: 443 },
        failurePolicy: 'Fail',
      },
    ]);

    // null (matches nothing) stays distinct from {} (matches everything) and from absent.
    expect(net.prometheuses).toEqual([
      {
        namespace: 'monitoring',
        name: 'k8s',
        serviceMonitorSelector: {},
        serviceMonitorNamespaceSelector: { matchLabels: { monitored: 'true' } },
        podMonitorSelector: null,
      },
    ]);
    expect(net.serviceMonitors).toEqual([
      {
        namespace: 'monitoring',
        name: 'web',
        labels: { team: 'shop' },
        selector: { matchLabels: { app: 'web' } },
        namespaceSelector: { matchNames: ['shop'] },
        endpoints: [{ port: 'metrics' }],
      },
    ]);
    expect(net.podMonitors).toEqual([
      {
        namespace: 'monitoring',
        name: 'web-pods',
        labels: {},
        selector: { matchLabels: { app: 'web' } },
        namespaceSelector: { any: true },
        podMetricsEndpoints: [{ portNumber: 9090 }],
      },
    ]);
    expect(net.outsideWorkloads).toEqual([]);

    // Workloads carry their selector, args and prometheus.io annotations.
    const web = snapshot.workloads.find((w) => w.name === 'web')!;
    expect(web.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(web.template?.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
    });
    const coredns = snapshot.workloads.find((w) => w.name === 'coredns')!;
    expect(coredns.template?.spec.containers[0]?.args).toEqual(['-conf', '/etc/coredns/Corefile']);

    // ConfigMaps are never listed; the CNI's own one is read by name, and no other (kubeadm-config: phase 6).
    expect(lists.filter((l) => l.startsWith('ConfigMap'))).toEqual([]);
    expect(gets.filter((g) => g.startsWith('ConfigMap')).sort()).toEqual([
      'ConfigMap kube-system/cilium-config',
      'ConfigMap kube-system/kubeadm-config',
      'ConfigMap kube-system/kubelet-config',
    ]);
    expect(net.clusterDnsIPs).toEqual(['169.254.20.10']);
    expect(JSON.stringify(snapshot)).not.toContain('never-read-by-the-inventory');
    expect(JSON.stringify(snapshot)).not.toContain('s3cr3t-value');
    expect(JSON.stringify(snapshot)).not.toContain('not-kept');
    expect(snapshot.unknown).toEqual([]);
  });

  it('gives the planner everything it reads, from the Snapshot alone', async () => {
    const snapshot = await buildSnapshot(await ManifestSource.load(fixture));
    const input = netpolInputFromSnapshot(snapshot);
    expect(input.services.length).toBe(4);
    expect(input.apiServer.endpointSlices.map((s) => s.name)).toEqual(['kubernetes']);
    expect(input.daemonSets.map((d) => d.name)).toEqual(['cilium']);
    expect(input.cniConfig?.ciliumEnablePolicy).toBe('default');
    expect(input.webhooks?.length).toBe(1);
    expect(input.clusterDnsIPs).toEqual(['169.254.20.10']);
    expect(input.serviceMonitors?.length).toBe(1);
    const web = input.pods.find((p) => p.workload.name === 'web')!;
    expect(web.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(web.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' });

    const plan = planNetworkPolicies(input, { namespaces: ['shop'] });
    const shop = plan.namespaces.find((n) => n.namespace === 'shop')!;
    const purposes = shop.policies.map((p) => p.purpose);
    expect(purposes).toContain('default-deny');
    expect(purposes).toContain('ingress');
    // DNS egress on the pod port behind the Service's DNAT: 5353, not 53.
    const dns = shop.policies.find((p) => p.purpose === 'dns')!;
    expect(JSON.stringify(dns.object.spec.egress)).toContain('5353');
    expect(JSON.stringify(dns.object.spec.egress)).not.toContain(':53,');
  });

  it('a narrowed run (-n) still sees the DNS, ingress and monitoring pods elsewhere, without assessing them', async () => {
    const snapshot = await buildSnapshot(await ManifestSource.load(fixture), { namespaces: ['shop'] });
    expect([...new Set(snapshot.workloads.map((w) => w.namespace))]).toEqual(['shop']);
    const net = snapshot.network!;
    expect(net.outsideWorkloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`)).toEqual([
      'Deployment/ingress-nginx/ingress-nginx-controller',
      'DaemonSet/kube-system/cilium',
      'Deployment/kube-system/coredns',
    ]);
    expect(net.services.length).toBe(4);
    expect(net.daemonSets.map((d) => d.name)).toEqual(['cilium']);
    const input = netpolInputFromSnapshot(snapshot);
    const coredns = input.pods.find((p) => p.workload.name === 'coredns')!;
    expect(coredns.selector).toEqual({ matchLabels: { 'k8s-app': 'kube-dns' } });
    expect(coredns.containers[0]?.ports?.map((p) => p.containerPort)).toEqual([5353, 5353]);
    const plan = planNetworkPolicies(input, { namespaces: ['shop'] });
    expect(plan.namespaces[0]?.policies.map((p) => p.purpose)).toContain('dns');
  });

  it('redacts credential-like flag values in both spellings', () => {
    expect(
      redactArgs(['--token=abc', '--db-password', 'pw', '--verbose', '--client-secret', '--x=1']),
    ).toEqual(['--token=<redacted>', '--db-password', '<redacted>', '--verbose', '--client-secret', '--x=1']);
  });
});
