/**
 * The inventory's network facts (Snapshot.network, phase 3) against the real control plane: Services, an
 * Ingress with its IngressClass, a ValidatingWebhookConfiguration backed by a Service, a DaemonSet with args, the
 * API server's own EndpointSlice; Gateway API and Prometheus Operator are not served there, so they are absent
 * (not unknown). The limited user (no RBAC) gets every new kind as unknown, never as an empty truth. The lists are
 * a fixed handful per run, whatever the number of namespaces.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type LiveCluster } from '../../src/cluster/live.js';
import type { ClusterReader } from '../../src/cluster/types.js';
import { buildSnapshot } from '../../src/inventory/build.js';
import type { Snapshot } from '../../src/inventory/types.js';
import { netpolInputFromSnapshot } from '../../src/policy/netpol/index.js';
import { applyYaml, clusterInfo, describeCluster, freshNamespace, kubectl } from '../cluster/harness.js';

/** The reader, counting list calls per kind (each call is one paginated list). */
function counting(reader: LiveCluster) {
  const lists = new Map<string, number>();
  const wrapped: ClusterReader = {
    source: reader.source,
    capabilities: reader.capabilities,
    serverVersion: (s) => reader.serverVersion(s),
    get: (ref, s) => reader.get(ref, s),
    list: (kind, options) => {
      const key = `${kind.kind}${options?.namespace ? ` -n ${options.namespace}` : ''}`;
      lists.set(key, (lists.get(key) ?? 0) + 1);
      return reader.list(kind, options);
    },
    dryRunApply: (o, opts) => reader.dryRunApply(o, opts),
    dryRunMergePatch: (r, p, s) => reader.dryRunMergePatch(r, p, s),
    dryRunDelete: (r, s) => reader.dryRunDelete(r, s),
    accessReview: (c, s) => reader.accessReview(c, s),
    whoAmI: (s) => reader.whoAmI(s),
  };
  return { reader: wrapped, lists };
}

describeCluster('inventory network facts (live)', () => {
  let app: string;
  let ing: string;
  let suffix: string;
  let admin: LiveCluster;

  beforeAll(async () => {
    app = await freshNamespace('np-app');
    ing = await freshNamespace('np-ing');
    suffix = app.slice(-8);
    admin = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    await applyYaml(
      `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web, version: v1}
      annotations: {prometheus.io/scrape: "true"}
    spec:
      containers:
        - name: web
          image: registry.example/web:1
          args: [--listen=:8080]
          ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, annotations: {prometheus.io/port: "8080", other: dropped}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: kh-${suffix}
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
`,
      app,
    );
    await applyYaml(
      `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: registry.example/agent:1
          command: [agent]
          args: [--enable-network-policy=true, --auth-token=abc123secret]
---
apiVersion: v1
kind: Service
metadata: {name: admission}
spec:
  selector: {app: controller}
  ports: [{port: 443, targetPort: 8443}]
`,
      ing,
    );
    await applyYaml(`
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kh-${suffix}}
spec: {controller: example.com/kh-${suffix}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: kh-${suffix}}
webhooks:
  - name: validate.kh-${suffix}.example.com
    failurePolicy: Ignore
    sideEffects: None
    admissionReviewVersions: [v1]
    # Matches nothing that exists: it must not slow down or break other tests.
    rules: [{operations: [CREATE], apiGroups: [kh.example.com], apiVersions: [v1], resources: [nothings]}]
    clientConfig:
      service: {namespace: ${ing}, name: admission, port: 443}
`);
  });

  afterAll(async () => {
    admin?.close();
    if (suffix) {
      await kubectl([
        'delete',
        `ingressclass/kh-${suffix}`,
        `validatingwebhookconfiguration/kh-${suffix}`,
        '--ignore-not-found',
        '--wait=false',
      ]);
    }
  });

  it('collects the Services, Ingress, IngressClass, webhook, DaemonSet and API server endpoints', async () => {
    const { reader, lists } = counting(admin);
    const before = admin.requestCount;
    const snapshot = await buildSnapshot(reader);
    const requests = admin.requestCount - before;
    const net = snapshot.network!;

    expect(net.services.filter((s) => s.namespace === app)).toEqual([
      {
        namespace: app,
        name: 'web',
        annotations: { 'prometheus.io/port': '8080' },
        type: 'ClusterIP',
        selector: { app: 'web' },
        clusterIPs: expect.any(Array),
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }],
      },
    ]);
    expect(net.services.find((s) => s.namespace === 'default' && s.name === 'kubernetes')).toBeDefined();
    expect(net.ingresses.filter((i) => i.namespace === app)).toEqual([
      {
        namespace: app,
        name: 'web',
        ingressClassName: `kh-${suffix}`,
        backends: [{ service: 'web', port: 'http' }],
      },
    ]);
    expect(net.ingressClasses.find((c) => c.name === `kh-${suffix}`)).toEqual({
      name: `kh-${suffix}`,
      controller: `example.com/kh-${suffix}`,
    });
    expect(net.webhooks.filter((w) => w.configuration === `kh-${suffix}`)).toEqual([
      {
        kind: 'ValidatingWebhookConfiguration',
        configuration: `kh-${suffix}`,
        webhook: `validate.kh-${suffix}.example.com`,
        service: { namespace: ing, name: 'admission', port: 443 },
        failurePolicy: 'Ignore',
      },
    ]);
    expect(net.daemonSets.filter((d) => d.namespace === ing)).toEqual([
      {
        namespace: ing,
        name: 'agent',
        labels: { app: 'agent' },
        hostNetwork: true,
        containers: [
          {
            name: 'agent',
            image: 'registry.example/agent:1',
            args: ['agent', '--enable-network-policy=true', '--auth-token=<redacted>'],
          },
        ],
      },
    ]);
    expect(JSON.stringify(snapshot)).not.toContain('abc123secret');

    if (clusterInfo().kind === 'local') {
      // The local control plane advertises 127.0.0.1, which the API server refuses to publish (loopback, see its
      // log): neither the EndpointSlice nor the Endpoints exist, so the addresses are unknown, never invented.
      expect(net.apiServer).toEqual({ endpointSlices: [], unknown: true });
    } else {
      // The API server's own EndpointSlice: its real address and port (not the Service's 443).
      const slice = net.apiServer.endpointSlices.find((s) => s.name === 'kubernetes');
      expect(slice?.endpoints[0]?.addresses.length).toBeGreaterThan(0);
      expect(slice?.ports.some((p) => p.port !== 443)).toBe(true);
      expect(net.apiServer.unknown).toBeUndefined();
    }
    expect(net.cniConfig.serverGitVersion).toBe(clusterInfo().version);

    // Not served here: absent, not unknown.
    expect(net.gatewayClasses).toEqual([]);
    expect(net.prometheuses).toEqual([]);
    expect(snapshot.unknown.filter((u) => /gateway|monitoring|prometheus/.test(u.resource))).toEqual([]);

    // Workload selectors reach the planner.
    const input = netpolInputFromSnapshot(snapshot);
    const web = input.pods.find((p) => p.namespace === app && p.workload.name === 'web');
    expect(web?.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(web?.annotations).toEqual({ 'prometheus.io/scrape': 'true' });

    // Each kind is listed once, cluster-wide; DaemonSets and webhook configurations are not listed twice.
    for (const [kind, n] of lists) expect(`${kind}: ${n}`).toBe(`${kind}: 1`);
    expect(lists.has('ConfigMap')).toBe(false);
    console.log(
      `[inventory-netpol] full run: ${lists.size} lists, ${requests} requests`,
      [...lists.keys()].join(', '),
    );
  });

  it('a narrowed run lists the network kinds once cluster-wide, not per namespace', async () => {
    const { reader, lists } = counting(admin);
    const snapshot = await buildSnapshot(reader, { namespaces: [app, ing] });
    expect(lists.get('Service')).toBe(1);
    expect(lists.get('Ingress')).toBe(1);
    expect(lists.get('Deployment')).toBe(1); // the outside workloads (kube-system and others)
    expect(snapshot.network?.outsideWorkloads.some((w) => w.namespace === app)).toBe(false);
    expect(snapshot.network?.services.some((s) => s.namespace === app)).toBe(true);
    expect(snapshot.workloads.every((w) => w.namespace === app || w.namespace === ing)).toBe(true);
  });

  it('the limited user gets the new kinds as unknown (never as empty truths); not-served kinds stay absent', async () => {
    const limited = connect({ kubeconfig: clusterInfo().limitedKubeconfig });
    try {
      const snapshot: Snapshot = await buildSnapshot(limited);
      const forbidden = new Set(
        snapshot.unknown.filter((u) => u.reason === 'Forbidden').map((u) => u.resource),
      );
      for (const r of [
        'services',
        'ingresses.networking.k8s.io',
        'ingressclasses.networking.k8s.io',
        'endpointslices.discovery.k8s.io',
        'endpoints',
        'nodes',
        'apiservices.apiregistration.k8s.io',
        'daemonsets.apps',
        'validatingwebhookconfigurations.admissionregistration.k8s.io',
      ]) {
        expect(forbidden, r).toContain(r);
      }
      expect(snapshot.unknown.filter((u) => /gateway|monitoring/.test(u.resource))).toEqual([]);
      const input = netpolInputFromSnapshot(snapshot);
      expect(input.apiServer.unknown).toBe(true);
      expect(input.cniConfig?.daemonSetsUnreadable).toBe(true);
      expect(input.services).toEqual([]);
    } finally {
      limited.close();
    }
  });
});
