import { describe, expect, test } from 'vitest';
import {
  apiServerTargets,
  nodeLocalDns,
  policyName,
  resolveDns,
  serviceAccountUsesApi,
} from '../../../../src/policy/netpol/index.js';
import { KUBE_DNS_SERVICE } from './cluster-fixture.js';

describe('resolveDns', () => {
  const pods: never[] = [];
  test('kube-system/kube-dns with numeric ports; metrics is not DNS', () => {
    const r = resolveDns({ services: [KUBE_DNS_SERVICE], pods, daemonSets: [] });
    expect(r).toMatchObject({
      ok: true,
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { protocol: 'TCP', port: 53 },
        { protocol: 'UDP', port: 53 },
      ],
    });
    // No DNS pods were given: the allow still follows the selector, and says so.
    expect(r.ok && r.notes.join()).toMatch(/no DNS pods/);
  });

  test('a named targetPort no DNS pod declares: refused, with the reason', () => {
    const svc = { ...KUBE_DNS_SERVICE, ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }] };
    const r = resolveDns({ services: [svc], pods, daemonSets: [] });
    expect(r).toMatchObject({ ok: false });
    expect(!r.ok && r.reason).toMatch(/named port "dns", which no selected pod declares/);
  });

  test('no selector, no port 53, no Service at all: refused', () => {
    expect(
      resolveDns({ services: [{ ...KUBE_DNS_SERVICE, selector: {} }], pods, daemonSets: [] }),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/has no selector/),
    });
    expect(
      resolveDns({ services: [{ ...KUBE_DNS_SERVICE, ports: [{ port: 9153 }] }], pods, daemonSets: [] }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/no port 53/) });
    expect(resolveDns({ services: [], pods, daemonSets: [] })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no cluster DNS Service found/),
    });
  });

  test('UDP only: allowed, with a note that TCP is missing', () => {
    const svc = { ...KUBE_DNS_SERVICE, ports: [{ port: 53, protocol: 'UDP' }] };
    const r = resolveDns({ services: [svc], pods, daemonSets: [] });
    expect(r.ok && r.notes.join()).toMatch(/no TCP port 53/);
  });

  test('the kubelet clusterDNS points elsewhere: that Service wins', () => {
    const other = { ...KUBE_DNS_SERVICE, namespace: 'dns', name: 'coredns', clusterIPs: ['10.96.0.53'] };
    const r = resolveDns({
      services: [KUBE_DNS_SERVICE, other],
      pods,
      daemonSets: [],
      clusterDnsIPs: ['10.96.0.53'],
    });
    expect(r).toMatchObject({ ok: true, service: { namespace: 'dns', name: 'coredns' } });
  });

  test('NodeLocal DNSCache from a link-local clusterDNS alone (IPVS mode), unreplaced placeholders ignored', () => {
    expect(nodeLocalDns([], ['169.254.20.10'])?.addresses).toEqual(['169.254.20.10']);
    const ds = {
      namespace: 'kube-system',
      name: 'node-local-dns',
      labels: {},
      containers: [
        {
          name: 'node-cache',
          image: 'registry.k8s.io/dns/k8s-dns-node-cache:1.23.1',
          args: ['-localip', '__PILLAR__LOCAL__DNS__,__PILLAR__DNS__SERVER__'],
        },
      ],
    };
    expect(nodeLocalDns([ds], [])).toBeUndefined();
  });
});

describe('apiServerTargets', () => {
  test('dual-stack slices, not-ready endpoints and FQDN slices skipped', () => {
    const r = apiServerTargets({
      endpointSlices: [
        {
          name: 'kubernetes-v6',
          addressType: 'IPv6',
          endpoints: [{ addresses: ['fd00::1'] }],
          ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
        },
        {
          name: 'kubernetes',
          addressType: 'IPv4',
          endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'], conditions: { ready: false } }],
          ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
        },
        {
          name: 'odd',
          addressType: 'FQDN',
          endpoints: [{ addresses: ['api.example.com'] }],
          ports: [{ port: 443 }],
        },
      ],
    });
    expect(r).toMatchObject({
      ok: true,
      targets: [
        { cidr: '10.0.0.1/32', ports: [{ protocol: 'TCP', port: 6443 }] },
        { cidr: 'fd00::1/128', ports: [{ protocol: 'TCP', port: 6443 }] },
      ],
    });
  });

  test('no endpoint: refused', () => {
    expect(apiServerTargets({ endpointSlices: [] })).toMatchObject({ ok: false });
  });
});

describe('serviceAccountUsesApi', () => {
  test('a binding to a role that only has nonResourceURLs is not API use; RBAC unknown is unknown', () => {
    const rbac = {
      roles: [
        {
          kind: 'ClusterRole' as const,
          name: 'healthz',
          rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }],
          aggregated: false,
          labels: {},
        },
      ],
      bindings: [
        {
          kind: 'ClusterRoleBinding' as const,
          name: 'h',
          roleRef: { kind: 'ClusterRole', name: 'healthz' },
          subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }],
          labels: {},
        },
      ],
    };
    expect(serviceAccountUsesApi('ns', 'sa', rbac).uses).toBe(false);
    expect(serviceAccountUsesApi('ns', 'sa', { ...rbac, unknown: true }).uses).toBe('unknown');
    expect(serviceAccountUsesApi('other', 'sa', rbac).uses).toBe(false);
  });
});

describe('policyName', () => {
  test('lowercase DNS subdomain, long names end in a hash', () => {
    expect(policyName('allow-apiserver', 'Deployment', 'My_App')).toBe(
      'kube-harden-allow-apiserver-deployment-my-app',
    );
    const long = policyName('allow-ingress', 'x'.repeat(300));
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long).toMatch(/-[0-9a-f]{8}$/);
    expect(policyName('allow-ingress', `${'x'.repeat(300)}y`)).not.toBe(long);
  });
});
