import { describe, expect, test } from 'vitest';
import type { BindingInfo } from '../../../../src/inventory/types.js';
import {
  dnsTargetOf,
  type NetpolOptions,
  type NetworkPolicyObject,
  planNetworkPolicies,
} from '../../../../src/policy/netpol/index.js';
import { type DnsTarget, networkPosture } from '../../../../src/policy/network.js';
import type { EvalEndpoint, PolicyJson } from '../../../support/netpol-evaluator.js';
import {
  asJson,
  build,
  type Fx,
  type FxPod,
  KUBE_DNS_POD,
  KUBE_DNS_SERVICE,
  KUBERNETES_SERVICE,
  SHOP_PODS,
  SHOP_SERVICES,
  toInfo,
} from './cluster-fixture.js';

// Given a cluster (one description, read by the planner and by the independent evaluator), when the default-deny
// plan is made, then the flows the cluster relies on still pass once the generated policies are added, and the
// rest no longer does.

const NGINX: FxPod = {
  ns: 'ingress-nginx',
  name: 'ingress-nginx-controller',
  labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
  ip: '10.244.2.10',
  sa: 'ingress-nginx',
  image: 'registry.k8s.io/ingress-nginx/controller:v1.11.2@sha256:abc',
  args: ['/nginx-ingress-controller', '--controller-class=k8s.io/ingress-nginx', '--ingress-class=nginx'],
  ports: [
    { name: 'http', containerPort: 80 },
    { name: 'https', containerPort: 443 },
  ],
};
const TRAEFIK: FxPod = {
  ns: 'traefik',
  name: 'traefik',
  labels: { 'app.kubernetes.io/name': 'traefik', 'app.kubernetes.io/instance': 'traefik-traefik' },
  ip: '10.244.3.10',
  sa: 'traefik',
  image: 'docker.io/traefik:v3.1',
  ports: [{ name: 'web', containerPort: 8000 }],
};
const OUTSIDER: FxPod = { ns: 'other', name: 'outsider', labels: { app: 'outsider' }, ip: '10.244.9.9' };
const API1 = { ip: '192.168.1.10' };
const API2 = { ip: '192.168.1.11' };
const INTERNET = { ip: '1.1.1.1' };

function base(extra: Partial<Fx> = {}): Fx {
  return {
    namespaces: [
      'kube-system',
      'default',
      'shop',
      'ingress-nginx',
      'traefik',
      'other',
      'monitoring',
      'hooks',
    ],
    pods: [KUBE_DNS_POD, ...SHOP_PODS, NGINX, OUTSIDER, ...(extra.pods ?? [])],
    services: [KUBE_DNS_SERVICE, KUBERNETES_SERVICE, ...SHOP_SERVICES, ...(extra.services ?? [])],
    ...(extra.policies ? { policies: extra.policies } : {}),
    ...(extra.daemonSets ? { daemonSets: extra.daemonSets } : {}),
    ...(extra.roles ? { roles: extra.roles } : {}),
    ...(extra.bindings ? { bindings: extra.bindings } : {}),
    extra: {
      ingressClasses: [{ name: 'nginx', controller: 'k8s.io/ingress-nginx', isDefault: true }],
      ingresses: [
        {
          namespace: 'shop',
          name: 'web',
          ingressClassName: 'nginx',
          backends: [{ service: 'web', port: 80 }],
        },
      ],
      ...extra.extra,
    },
  };
}

function run(fx: Fx, options: Partial<NetpolOptions> = {}) {
  const { input, cluster } = build(fx);
  const plan = planNetworkPolicies(input, { namespaces: ['shop'], ...options });
  const objects: NetworkPolicyObject[] = plan.namespaces.flatMap((n) => n.policies.map((p) => p.object));
  const after = cluster.with(asJson(objects));
  const pod = (ns: string, name: string) => cluster.pod(ns, name);
  return {
    plan,
    before: cluster,
    after,
    objects,
    pod,
    ns: (name: string) => plan.namespaces.find((n) => n.namespace === name)!,
  };
}

type Flow = [EvalEndpoint, EvalEndpoint, 'TCP' | 'UDP', number];

describe('default-deny plan on a kubeadm-like cluster', () => {
  const r = run(base());
  const web = r.pod('shop', 'web');
  const api = r.pod('shop', 'api');
  const operator = r.pod('shop', 'operator');
  const worker = r.pod('shop', 'worker');
  const dns = r.pod('kube-system', 'coredns');
  const nginx = r.pod('ingress-nginx', 'ingress-nginx-controller');
  const outsider = r.pod('other', 'outsider');

  test('proposes a default deny for both directions, then named allows, each with an explanation', () => {
    const names = r.ns('shop').policies.map((p) => p.name);
    expect(names[0]).toBe('kube-harden-default-deny');
    expect(names).toEqual([
      'kube-harden-default-deny',
      'kube-harden-allow-apiserver-deployment-operator',
      'kube-harden-allow-dns',
      'kube-harden-allow-ingress-web',
      'kube-harden-allow-same-namespace',
    ]);
    for (const p of r.ns('shop').policies) {
      expect(p.explanation).not.toContain('\n');
      expect(p.explanation.length).toBeGreaterThan(20);
      expect(p.object.metadata).toMatchObject({
        name: p.name,
        namespace: 'shop',
        labels: { 'app.kubernetes.io/managed-by': 'kube-harden' },
      });
      expect(p.object.spec.policyTypes.length).toBeGreaterThan(0);
    }
    expect(r.ns('shop').refusals).toEqual([]);
    expect(r.ns('shop').denied).toEqual({ ingress: true, egress: true });
  });

  test('flows the cluster relies on pass before and after', () => {
    const needed: Flow[] = [
      [web, dns, 'UDP', 53],
      [web, dns, 'TCP', 53],
      [worker, dns, 'UDP', 53],
      [operator, API1, 'TCP', 6443],
      [operator, API2, 'TCP', 6443],
      [nginx, web, 'TCP', 8080],
      [web, api, 'TCP', 9000], // same namespace (default `namespace`)
    ];
    for (const [from, to, proto, port] of needed) {
      expect(r.before.allowed(from, to, proto, port)).toBe(true);
      expect(
        r.after.allowed(from, to, proto, port),
        `${JSON.stringify(from)} → ${JSON.stringify(to)} ${proto}/${port}`,
      ).toBe(true);
    }
  });

  test('everything else is denied after', () => {
    const denied: Flow[] = [
      [web, INTERNET, 'TCP', 443],
      [worker, API1, 'TCP', 6443], // no RBAC beyond discovery: no API egress
      [web, API1, 'TCP', 6443],
      [operator, API1, 'TCP', 443], // the endpoint port, not the Service port
      [outsider, web, 'TCP', 8080],
      [nginx, web, 'TCP', 9102], // only the backend port
      [nginx, api, 'TCP', 9000],
      [web, dns, 'TCP', 9153], // DNS only, not metrics
    ];
    for (const [from, to, proto, port] of denied) {
      expect(r.before.allowed(from, to, proto, port)).toBe(true);
      expect(r.after.allowed(from, to, proto, port), `${JSON.stringify(to)} ${proto}/${port}`).toBe(false);
    }
  });

  test('the API server allow is per endpoint, on the endpoint port, scoped to the API client', () => {
    const p = r.ns('shop').policies.find((x) => x.purpose === 'apiserver')!;
    expect(p.object.spec.podSelector).toEqual({ matchLabels: { app: 'operator' } });
    expect(p.object.spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: '10.96.0.1/32' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      { to: [{ ipBlock: { cidr: '192.168.1.10/32' } }], ports: [{ protocol: 'TCP', port: 6443 }] },
      { to: [{ ipBlock: { cidr: '192.168.1.11/32' } }], ports: [{ protocol: 'TCP', port: 6443 }] },
    ]);
    expect(p.explanation).toContain('RoleBinding shop/operator');
  });

  test('is deterministic: shuffled input gives the same plan', () => {
    const fx = base();
    const shuffled: Fx = {
      ...fx,
      pods: [...fx.pods].reverse(),
      services: [...(fx.services ?? [])].reverse(),
    };
    const again = planNetworkPolicies(build(shuffled).input, { namespaces: ['shop'] });
    expect(again).toEqual(r.plan);
  });

  test('idempotent: planning again with its own policies in place gives the same objects', () => {
    const fx = base({ policies: asJson(r.objects) });
    const again = run(fx);
    expect(again.objects).toEqual(r.objects);
    expect(again.ns('shop').existing).toEqual({ ingress: 'none', egress: 'none' });
  });
});

describe('DNS targets', () => {
  test('a DNS Service on 53 targeting a named port 5353 (OpenShift-style, found via the kubelet clusterDNS)', () => {
    const dnsPod: FxPod = {
      ns: 'openshift-dns',
      name: 'dns-default',
      kind: 'DaemonSet',
      labels: { 'dns.operator.openshift.io/daemonset-dns': 'default' },
      ip: '10.128.0.5',
      ports: [
        { name: 'dns', containerPort: 5353, protocol: 'UDP' },
        { name: 'dns-tcp', containerPort: 5353, protocol: 'TCP' },
      ],
    };
    const svc = {
      namespace: 'openshift-dns',
      name: 'dns-default',
      selector: { 'dns.operator.openshift.io/daemonset-dns': 'default' },
      clusterIPs: ['172.30.0.10'],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
      ],
    };
    const fx: Fx = {
      namespaces: ['openshift-dns', 'shop', 'default'],
      pods: [dnsPod, ...SHOP_PODS],
      services: [svc, KUBERNETES_SERVICE, ...SHOP_SERVICES],
      extra: { clusterDnsIPs: ['172.30.0.10'] },
    };
    const r = run(fx);
    expect(r.plan.dns).toMatchObject({
      ok: true,
      service: { namespace: 'openshift-dns', name: 'dns-default' },
    });
    const web = r.pod('shop', 'web');
    const dns = r.pod('openshift-dns', 'dns-default');
    expect(r.after.allowed(web, dns, 'UDP', 5353)).toBe(true);
    expect(r.after.allowed(web, dns, 'TCP', 5353)).toBe(true);
    expect(r.after.allowed(web, dns, 'UDP', 53)).toBe(false);
    const allow = r.ns('shop').policies.find((p) => p.purpose === 'dns')!;
    expect(allow.object.spec.egress?.[0]?.ports).toEqual([
      { protocol: 'TCP', port: 5353 },
      { protocol: 'UDP', port: 5353 },
    ]);
  });

  test("after the plan, the report's coverage check says denied/denied with DNS egress, for 53 and for 5353", () => {
    for (const target of [53, 5353]) {
      const svc = {
        ...KUBE_DNS_SERVICE,
        ports: [
          { port: 53, protocol: 'UDP', targetPort: 'dns' },
          { port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
        ],
      };
      const pod = {
        ...KUBE_DNS_POD,
        ports: [
          { name: 'dns', containerPort: target, protocol: 'UDP' },
          { name: 'dns-tcp', containerPort: target, protocol: 'TCP' },
        ],
      };
      const { input } = build({
        namespaces: ['kube-system', 'shop'],
        pods: [pod, ...SHOP_PODS],
        services: [svc, ...SHOP_SERVICES],
      });
      const plan = planNetworkPolicies(input, { namespaces: ['shop'] });
      if (!plan.dns.ok) throw new Error('DNS not resolved');
      const generated = plan.namespaces[0]!.policies.map((p) => toInfo(p.object as never));
      const posture = networkPosture(generated, { unknown: false, dns: dnsTargetOf(plan.dns, input.pods) });
      expect(posture).toMatchObject({ ingress: 'denied', egress: 'denied', dnsEgress: true });
      // And the kubeadm default target would be wrong on 5353: the check is only as good as its target.
      const kubeadm: DnsTarget = {
        namespace: 'kube-system',
        namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
        podLabels: { 'k8s-app': 'kube-dns' },
        ports: [
          { protocol: 'UDP', port: 53, names: [] },
          { protocol: 'TCP', port: 53, names: [] },
        ],
      };
      expect(networkPosture(generated, { unknown: false, dns: kubeadm }).dnsEgress).toBe(target === 53);
    }
  });

  test('a numeric targetPort other than 53 is used as is', () => {
    const svc = {
      ...KUBE_DNS_SERVICE,
      ports: [
        { port: 53, protocol: 'UDP', targetPort: 1053 },
        { port: 53, protocol: 'TCP', targetPort: 1053 },
      ],
    };
    const pod = {
      ...KUBE_DNS_POD,
      ports: [{ containerPort: 1053, protocol: 'UDP' }, { containerPort: 1053 }],
    };
    const r = run({
      namespaces: ['kube-system', 'shop'],
      pods: [pod, ...SHOP_PODS],
      services: [svc, ...SHOP_SERVICES],
    });
    const web = r.pod('shop', 'web');
    expect(r.after.allowed(web, r.pod('kube-system', 'coredns'), 'UDP', 1053)).toBe(true);
    expect(r.after.allowed(web, r.pod('kube-system', 'coredns'), 'UDP', 53)).toBe(false);
  });

  test('NodeLocal DNSCache: ipBlock allows for the link-local address and the kube-dns ClusterIP, plus the DNS pods', () => {
    const r = run(
      base({
        daemonSets: [
          {
            namespace: 'kube-system',
            name: 'node-local-dns',
            labels: { 'k8s-app': 'node-local-dns' },
            hostNetwork: true,
            containers: [
              {
                name: 'node-cache',
                image: 'registry.k8s.io/dns/k8s-dns-node-cache:1.23.1',
                args: [
                  '-localip',
                  '169.254.20.10,10.96.0.10',
                  '-conf',
                  '/etc/Corefile',
                  '-upstreamsvc',
                  'kube-dns-upstream',
                ],
              },
            ],
          },
        ],
      }),
    );
    const web = r.pod('shop', 'web');
    for (const ip of ['169.254.20.10', '10.96.0.10'])
      for (const proto of ['UDP', 'TCP'] as const) {
        expect(r.after.allowed(web, { ip }, proto, 53)).toBe(true);
        expect(r.after.allowed(web, { ip }, proto, 5353)).toBe(false);
      }
    expect(r.after.allowed(web, r.pod('kube-system', 'coredns'), 'UDP', 53)).toBe(true);
  });

  test('no DNS Service: egress is not denied, and says why; ingress still is', () => {
    const fx = base();
    fx.services = (fx.services ?? []).filter((s) => s.name !== 'kube-dns');
    const r = run(fx);
    const shop = r.ns('shop');
    expect(shop.refusals.join('\n')).toMatch(/egress not denied: no cluster DNS Service found/);
    expect(shop.denied).toEqual({ ingress: true, egress: false });
    expect(shop.policies.map((p) => p.object.spec.policyTypes.includes('Egress'))).not.toContain(true);
    const web = r.pod('shop', 'web');
    expect(r.after.allowed(web, INTERNET, 'TCP', 443)).toBe(true);
    expect(r.after.allowed(r.pod('shop', 'operator'), API1, 'TCP', 6443)).toBe(true);
    expect(r.after.allowed(r.pod('other', 'outsider'), web, 'TCP', 8080)).toBe(false);
  });
});

describe('ingress controllers', () => {
  const twoControllers = (scope: string[]) =>
    run(
      base({
        pods: [TRAEFIK],
        services: [
          {
            namespace: 'ingress-nginx',
            name: 'ingress-nginx-controller',
            type: 'LoadBalancer',
            selector: {
              'app.kubernetes.io/name': 'ingress-nginx',
              'app.kubernetes.io/component': 'controller',
            },
            ports: [
              { name: 'http', port: 80, targetPort: 'http' },
              { name: 'https', port: 443, targetPort: 'https' },
            ],
          },
        ],
        extra: {
          ingressClasses: [
            { name: 'nginx', controller: 'k8s.io/ingress-nginx', isDefault: true },
            { name: 'traefik', controller: 'traefik.io/ingress-controller' },
          ],
          ingresses: [
            {
              namespace: 'shop',
              name: 'web',
              ingressClassName: 'nginx',
              backends: [{ service: 'web', port: 'http' }],
            },
            {
              namespace: 'shop',
              name: 'api',
              annotations: { 'kubernetes.io/ingress.class': 'traefik' },
              backends: [{ service: 'api', port: 9000 }],
            },
          ],
        },
      }),
      { namespaces: scope },
    );

  test('each backend is reachable from its own controller only', () => {
    const r = twoControllers(['shop']);
    const [web, api] = [r.pod('shop', 'web'), r.pod('shop', 'api')];
    const [nginx, traefik] = [
      r.pod('ingress-nginx', 'ingress-nginx-controller'),
      r.pod('traefik', 'traefik'),
    ];
    expect(r.after.allowed(nginx, web, 'TCP', 8080)).toBe(true);
    expect(r.after.allowed(traefik, api, 'TCP', 9000)).toBe(true);
    expect(r.after.allowed(traefik, web, 'TCP', 8080)).toBe(false);
    expect(r.after.allowed(nginx, api, 'TCP', 9000)).toBe(false);
  });

  test("with the controller's namespace default-denied too: its egress to the backends and its LoadBalancer ingress stay open", () => {
    const r = twoControllers(['shop', 'ingress-nginx']);
    const web = r.pod('shop', 'web');
    const nginx = r.pod('ingress-nginx', 'ingress-nginx-controller');
    expect(r.ns('ingress-nginx').denied).toEqual({ ingress: true, egress: true });
    expect(r.after.allowed(nginx, web, 'TCP', 8080)).toBe(true);
    expect(r.after.allowed(nginx, r.pod('shop', 'api'), 'TCP', 9000)).toBe(false);
    expect(r.after.allowed({ ip: '203.0.113.5' }, nginx, 'TCP', 80)).toBe(true);
    expect(r.after.allowed({ ip: '203.0.113.5' }, nginx, 'TCP', 443)).toBe(true);
    expect(r.after.allowed({ ip: '203.0.113.5' }, nginx, 'TCP', 10254)).toBe(false);
    // The controller watches Ingresses: it is an API client when its ServiceAccount is bound.
    expect(r.after.allowed(nginx, r.pod('kube-system', 'coredns'), 'UDP', 53)).toBe(true);
  });

  test('an IngressClass whose controller pods cannot be found: backends allowed from anywhere, with a note', () => {
    const fx = base();
    fx.pods = fx.pods.filter((p) => p.name !== 'ingress-nginx-controller');
    const r = run(fx);
    expect(r.ns('shop').notes.join('\n')).toMatch(/no pods found for controller k8s.io\/ingress-nginx/);
    expect(r.after.allowed(r.pod('other', 'outsider'), r.pod('shop', 'web'), 'TCP', 8080)).toBe(true);
    expect(r.after.allowed(r.pod('other', 'outsider'), r.pod('shop', 'web'), 'TCP', 9102)).toBe(false);
  });

  test('an HTTPRoute through a Gateway: from the Gateway data-plane pods', () => {
    const gw: FxPod = {
      ns: 'gateways',
      name: 'public-gw-istio',
      labels: { 'gateway.networking.k8s.io/gateway-name': 'public-gw' },
      ip: '10.244.4.4',
    };
    const fx = base({ pods: [gw] });
    fx.namespaces.push('gateways');
    fx.extra = {
      ...fx.extra,
      ingresses: [],
      gatewayClasses: [{ name: 'istio', controllerName: 'istio.io/gateway-controller' }],
      gateways: [{ namespace: 'gateways', name: 'public-gw', gatewayClassName: 'istio' }],
      httpRoutes: [
        {
          namespace: 'shop',
          name: 'api',
          parentRefs: [{ name: 'public-gw', namespace: 'gateways' }],
          backendRefs: [{ name: 'api', port: 9000 }],
        },
      ],
    };
    const r = run(fx);
    expect(r.after.allowed(r.pod('gateways', 'public-gw-istio'), r.pod('shop', 'api'), 'TCP', 9000)).toBe(
      true,
    );
    expect(
      r.after.allowed(r.pod('ingress-nginx', 'ingress-nginx-controller'), r.pod('shop', 'api'), 'TCP', 9000),
    ).toBe(false);
  });
});

describe('admission webhooks', () => {
  const HOOK: FxPod = {
    ns: 'hooks',
    name: 'webhook',
    labels: { app: 'webhook' },
    ip: '10.244.5.5',
    ports: [{ name: 'https', containerPort: 10250 }],
  };
  const HOOK2: FxPod = {
    ns: 'hooks',
    name: 'validator',
    labels: { app: 'validator' },
    ip: '10.244.5.6',
    ports: [{ containerPort: 9443 }],
  };
  const services = [
    {
      namespace: 'hooks',
      name: 'webhook',
      selector: { app: 'webhook' },
      ports: [
        { name: 'metrics', port: 8080 },
        { name: 'https', port: 443, targetPort: 'https' },
      ],
    },
    {
      namespace: 'hooks',
      name: 'validator',
      selector: { app: 'validator' },
      ports: [{ port: 8443, targetPort: 9443 }],
    },
  ];

  test('with and without a port: the API server reaches the pod port (443 by default → named target)', () => {
    const r = run(
      base({
        pods: [HOOK, HOOK2],
        services,
        extra: {
          webhooks: [
            {
              kind: 'MutatingWebhookConfiguration',
              configuration: 'hooks',
              webhook: 'mutate.hooks.io',
              service: { namespace: 'hooks', name: 'webhook' },
            },
            {
              kind: 'ValidatingWebhookConfiguration',
              configuration: 'validator',
              webhook: 'v.hooks.io',
              service: { namespace: 'hooks', name: 'validator', port: 8443 },
            },
          ],
        },
      }),
      { namespaces: ['hooks'] },
    );
    const [hook, validator] = [r.pod('hooks', 'webhook'), r.pod('hooks', 'validator')];
    expect(r.ns('hooks').denied.ingress).toBe(true);
    expect(r.after.allowed(API1, hook, 'TCP', 10250)).toBe(true);
    expect(r.after.allowed(API2, validator, 'TCP', 9443)).toBe(true);
    expect(r.after.allowed(API1, hook, 'TCP', 443)).toBe(false);
    expect(r.after.allowed(API1, validator, 'TCP', 8443)).toBe(false);
    expect(r.after.allowed(API1, validator, 'TCP', 10250)).toBe(false);
    const p = r.ns('hooks').policies.find((x) => x.name === 'kube-harden-allow-webhook-webhook')!;
    expect(p.explanation).toContain('port defaults to 443');
  });

  test('a webhook whose Service cannot be resolved refuses the ingress deny of its namespace', () => {
    const r = run(
      base({
        pods: [HOOK],
        services: [services[0]!],
        extra: {
          webhooks: [
            {
              kind: 'ValidatingWebhookConfiguration',
              configuration: 'gone',
              webhook: 'gone.hooks.io',
              service: { namespace: 'hooks', name: 'missing' },
            },
          ],
        },
      }),
      { namespaces: ['hooks'] },
    );
    expect(r.ns('hooks').denied).toEqual({ ingress: false, egress: true });
    expect(r.ns('hooks').refusals.join('\n')).toMatch(
      /ingress not denied: .*Service hooks\/missing.*not found/,
    );
    expect(r.after.allowed(API1, r.pod('hooks', 'webhook'), 'TCP', 1234)).toBe(true);
  });
});

describe('existing policies', () => {
  const managed = (o: PolicyJson) => o;

  test('an all-pods ingress deny already there: only the egress deny is added, the existing policies are untouched', () => {
    const existing: PolicyJson[] = [
      { metadata: { name: 'deny-ingress', namespace: 'shop' }, spec: { podSelector: {} } },
      {
        metadata: { name: 'web-from-lb', namespace: 'shop' },
        spec: {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [{ from: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ port: 8080 }] }],
        },
      },
    ];
    const r = run(base({ policies: existing }));
    const shop = r.ns('shop');
    expect(shop.existing).toEqual({ ingress: 'denied', egress: 'none' });
    expect(shop.policies[0]).toMatchObject({ name: 'kube-harden-default-deny-egress' });
    expect(shop.policies[0]!.object.spec.policyTypes).toEqual(['Egress']);
    expect(shop.policies.map((p) => p.name)).not.toContain('deny-ingress');
    expect(shop.notes.join('\n')).toMatch(/ingress is already denied/);
    const [web, nginx] = [r.pod('shop', 'web'), r.pod('ingress-nginx', 'ingress-nginx-controller')];
    // Before: the existing deny already cut the ingress controller off; after: the allow brings it back.
    expect(r.before.allowed(nginx, web, 'TCP', 8080)).toBe(false);
    expect(r.after.allowed(nginx, web, 'TCP', 8080)).toBe(true);
    expect(r.after.allowed({ ip: '203.0.113.7' }, web, 'TCP', 8080)).toBe(true);
    expect(r.after.allowed(web, r.pod('kube-system', 'coredns'), 'UDP', 53)).toBe(true);
  });

  test('an existing allow-all for a direction: the deny is still proposed, and the plan says it has no effect yet', () => {
    const existing: PolicyJson[] = [
      {
        metadata: { name: 'allow-all-egress', namespace: 'shop' },
        spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] },
      },
    ];
    const r = run(base({ policies: existing }));
    expect(r.ns('shop').existing.egress).toBe('open');
    expect(r.ns('shop').notes.join('\n')).toMatch(/allows all egress/);
    expect(r.after.allowed(r.pod('shop', 'web'), INTERNET, 'TCP', 443)).toBe(true);
  });

  test("someone else's policy with one of our names is never overwritten", () => {
    const existing: PolicyJson[] = [
      managed({
        metadata: { name: 'kube-harden-allow-dns', namespace: 'shop' },
        spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] },
      }),
    ];
    const r = run(base({ policies: existing }));
    expect(r.ns('shop').policies.map((p) => p.name)).not.toContain('kube-harden-allow-dns');
    expect(r.ns('shop').refusals.join('\n')).toMatch(
      /kube-harden-allow-dns exists and is not managed by kube-harden/,
    );
  });

  test('NetworkPolicies that could not be read: nothing is proposed', () => {
    const fx = base();
    fx.extra = { ...fx.extra, networkPoliciesUnknown: ['shop'] };
    const r = run(fx);
    expect(r.ns('shop').policies).toEqual([]);
    expect(r.ns('shop').refusals[0]).toMatch(/could not be read/);
  });
});

describe('same-namespace traffic', () => {
  test('isolated: only the Services of the namespace, on their pod ports', () => {
    const r = run(base(), { sameNamespace: 'isolated' });
    const [web, api, worker] = [r.pod('shop', 'web'), r.pod('shop', 'api'), r.pod('shop', 'worker')];
    expect(r.after.allowed(web, api, 'TCP', 9000)).toBe(true);
    expect(r.after.allowed(worker, web, 'TCP', 8080)).toBe(true);
    expect(r.after.allowed(web, api, 'TCP', 9001)).toBe(false);
    expect(r.after.allowed(web, worker, 'TCP', 8080)).toBe(false); // worker has no Service
    expect(r.ns('shop').policies.map((p) => p.name)).not.toContain('kube-harden-allow-same-namespace');
  });
});

describe('API clients', () => {
  test('no API egress without a token, with a token but only discovery, and with RBAC via the namespace group', () => {
    const pods: FxPod[] = [
      {
        ns: 'shop',
        name: 'notoken',
        labels: { app: 'notoken' },
        ip: '10.244.1.20',
        sa: 'operator',
        token: false,
      },
      { ns: 'shop', name: 'grouped', labels: { app: 'grouped' }, ip: '10.244.1.21', sa: 'grouped' },
    ];
    const fx = base({ pods });
    const r0 = run(fx);
    const bindings: BindingInfo[] = [
      ...build(fx).input.rbac.bindings,
      {
        kind: 'ClusterRoleBinding',
        name: 'shop-sas-view',
        roleRef: { kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'Group', name: 'system:serviceaccounts:shop' }],
        labels: {},
      },
    ];
    const r1 = run({ ...fx, bindings });
    expect(r0.after.allowed(r0.pod('shop', 'notoken'), API1, 'TCP', 6443)).toBe(false);
    expect(r0.after.allowed(r0.pod('shop', 'grouped'), API1, 'TCP', 6443)).toBe(false);
    expect(r1.after.allowed(r1.pod('shop', 'grouped'), API1, 'TCP', 6443)).toBe(true);
    expect(r1.after.allowed(r1.pod('shop', 'worker'), API1, 'TCP', 6443)).toBe(true); // SA default, same group
  });

  test('API endpoints unreadable while a workload uses the API: egress is not denied', () => {
    const fx = base();
    const { input } = build(fx);
    const plan = planNetworkPolicies(
      { ...input, apiServer: { endpointSlices: [], unknown: true } },
      { namespaces: ['shop'] },
    );
    const shop = plan.namespaces[0]!;
    expect(shop.denied.egress).toBe(false);
    expect(shop.refusals.join('\n')).toMatch(/API server endpoints .* could not be read/);
  });

  test('Endpoints fallback and IPv6 endpoints', () => {
    const { input } = build(base());
    const plan = planNetworkPolicies(
      {
        ...input,
        apiServer: {
          endpointSlices: [],
          endpoints: {
            subsets: [{ addresses: [{ ip: 'fd00::10' }], ports: [{ name: 'https', port: 443 }] }],
          },
        },
      },
      { namespaces: ['shop'] },
    );
    const p = plan.namespaces[0]!.policies.find((x) => x.purpose === 'apiserver')!;
    expect(p.object.spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: 'fd00::10/128' } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    });
  });
});

describe('monitoring', () => {
  test('a ServiceMonitor and a PodMonitor selected by a Prometheus: scrapes pass on the pod ports only', () => {
    const prom: FxPod = {
      ns: 'monitoring',
      name: 'prometheus-k8s',
      kind: 'StatefulSet',
      labels: {
        'app.kubernetes.io/name': 'prometheus',
        prometheus: 'k8s',
        'operator.prometheus.io/name': 'k8s',
      },
      ip: '10.244.6.6',
    };
    const fx = base({ pods: [prom] });
    fx.extra = {
      ...fx.extra,
      prometheuses: [
        {
          namespace: 'monitoring',
          name: 'k8s',
          serviceMonitorSelector: {},
          serviceMonitorNamespaceSelector: {},
          podMonitorSelector: { matchLabels: { team: 'shop' } },
          podMonitorNamespaceSelector: {},
        },
        // Selects nothing: null selectors.
        { namespace: 'monitoring', name: 'idle', serviceMonitorSelector: null },
      ],
      serviceMonitors: [
        {
          namespace: 'monitoring',
          name: 'web',
          labels: {},
          selector: { matchLabels: { app: 'web' } },
          namespaceSelector: { any: true },
          endpoints: [{ port: 'metrics' }],
        },
      ],
      podMonitors: [
        {
          namespace: 'shop',
          name: 'api',
          labels: { team: 'shop' },
          selector: { matchLabels: { app: 'api' } },
          podMetricsEndpoints: [{ port: 'grpc' }],
        },
      ],
    };
    const r = run(fx, { namespaces: ['shop', 'monitoring'] });
    const p = r.pod('monitoring', 'prometheus-k8s');
    expect(r.after.allowed(p, r.pod('shop', 'web'), 'TCP', 9102)).toBe(true);
    expect(r.after.allowed(p, r.pod('shop', 'web'), 'TCP', 8080)).toBe(false);
    expect(r.after.allowed(p, r.pod('shop', 'api'), 'TCP', 9000)).toBe(true);
    expect(r.after.allowed(r.pod('other', 'outsider'), r.pod('shop', 'web'), 'TCP', 9102)).toBe(false);
  });
});

describe('hostNetwork pods', () => {
  test('are named in the notes: no policy covers them', () => {
    const r = run(
      base({
        pods: [
          {
            ns: 'shop',
            name: 'agent',
            kind: 'DaemonSet',
            labels: { app: 'agent' },
            ip: '192.168.1.50',
            hostNetwork: true,
          },
        ],
      }),
    );
    expect(r.ns('shop').notes).toContain(
      'hostNetwork pods are not covered by NetworkPolicy: shop/DaemonSet agent',
    );
    expect(r.after.allowed(r.pod('shop', 'agent'), INTERNET, 'TCP', 443)).toBe(true);
  });
});

describe('monitoring by annotations (plain Prometheus)', () => {
  test('annotated pods and Services are scraped from the Prometheus server pods, on the annotated port', () => {
    const server: FxPod = {
      ns: 'monitoring',
      name: 'prometheus-server',
      labels: { app: 'prometheus', component: 'server' },
      ip: '10.244.7.7',
      image: 'quay.io/prometheus/prometheus:v2.54.1',
    };
    const fx = base({ pods: [server] });
    fx.pods = fx.pods.map((p) =>
      p.name === 'api'
        ? { ...p, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9100' } }
        : p.name === 'worker'
          ? { ...p, annotations: { 'prometheus.io/scrape': 'true' }, ports: [{ containerPort: 7070 }] }
          : p,
    );
    fx.services = (fx.services ?? []).map((s) =>
      s.namespace === 'shop' && s.name === 'web'
        ? { ...s, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102' } }
        : s,
    );
    const r = run(fx);
    const p = r.pod('monitoring', 'prometheus-server');
    expect(r.after.allowed(p, r.pod('shop', 'api'), 'TCP', 9100)).toBe(true);
    expect(r.after.allowed(p, r.pod('shop', 'api'), 'TCP', 9000)).toBe(false);
    expect(r.after.allowed(p, r.pod('shop', 'worker'), 'TCP', 7070)).toBe(true);
    expect(r.after.allowed(p, r.pod('shop', 'web'), 'TCP', 9102)).toBe(true);
    expect(r.after.allowed(p, r.pod('shop', 'web'), 'TCP', 8080)).toBe(false);
    expect(r.after.allowed(p, r.pod('shop', 'operator'), 'TCP', 7070)).toBe(false);
  });
});

describe('generated objects', () => {
  test('names are valid DNS subdomains with the kube-harden- prefix; ports are resolved numbers', () => {
    const r = run(base(), { namespaces: ['shop', 'ingress-nginx', 'kube-system'] });
    for (const n of r.plan.namespaces)
      for (const p of n.policies) {
        expect(p.name).toMatch(/^kube-harden-[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
        expect(p.name.length).toBeLessThanOrEqual(253);
        for (const rule of [...(p.object.spec.ingress ?? []), ...(p.object.spec.egress ?? [])])
          for (const port of rule.ports ?? []) expect(typeof port.port).toBe('number');
      }
  });

  test('with kube-system in scope (forced), the DNS pods keep answering every pod', () => {
    const r = run(base(), { namespaces: ['shop', 'kube-system'] });
    const dns = r.pod('kube-system', 'coredns');
    expect(r.after.allowed(r.pod('other', 'outsider'), dns, 'UDP', 53)).toBe(true);
    expect(r.after.allowed(r.pod('shop', 'web'), dns, 'TCP', 53)).toBe(true);
    expect(r.after.allowed(r.pod('other', 'outsider'), dns, 'TCP', 9153)).toBe(false);
    // CoreDNS forwards upstream, and nothing else leaves.
    expect(r.after.allowed(dns, { ip: '8.8.8.8' }, 'UDP', 53)).toBe(true);
    expect(r.after.allowed(dns, { ip: '2001:4860:4860::8888' }, 'TCP', 53)).toBe(true);
    expect(r.after.allowed(dns, { ip: '8.8.8.8' }, 'TCP', 443)).toBe(false);
  });

  test('a CNI that does not enforce is said loudly, with its evidence', () => {
    const flannel = base({
      daemonSets: [
        {
          namespace: 'kube-flannel',
          name: 'kube-flannel-ds',
          labels: {},
          containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.25.5' }],
        },
      ],
    });
    expect(run(flannel).plan.warnings[0]).toMatch(
      /^the CNI \(flannel\) does not enforce NetworkPolicy: these policies have no effect yet/,
    );
    expect(run(base()).plan.warnings[0]).toMatch(/is unknown/);
  });

  test('Cilium: ipBlock allows to the API server come with a warning, unless policy-cidr-match-mode is nodes', () => {
    const cilium = base({
      daemonSets: [
        {
          namespace: 'kube-system',
          name: 'cilium',
          labels: {},
          containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.1' }],
        },
      ],
    });
    expect(run(cilium).plan.warnings).toEqual([
      expect.stringMatching(/Cilium does not match node addresses with ipBlock/),
    ]);
    cilium.extra = { ...cilium.extra, cniConfig: { ciliumPolicyCidrMatchMode: 'nodes' } };
    expect(run(cilium).plan.warnings).toEqual([]);
  });
});
