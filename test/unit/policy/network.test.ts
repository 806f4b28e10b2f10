import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { buildSnapshot, effectivePolicyTypes } from '../../../src/inventory/build.js';
import type { NetworkPolicyInfo, NetworkPolicyRule } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import {
  allowsDnsEgress,
  type DnsTarget,
  isAllowAllRule,
  matchesSelector,
  networkPosture,
} from '../../../src/policy/network.js';
import { defaultDenyWithDns, NOW, netpol, ns, snapshot } from '../../fixtures/snapshots/builder.js';

type RawRule = {
  from?: NetworkPolicyRule['peers'];
  to?: NetworkPolicyRule['peers'];
  ports?: NetworkPolicyRule['ports'];
};

/** A NetworkPolicy as read from a manifest: policyTypes defaulted the way the API server does. */
function fromManifest(spec: {
  podSelector?: NetworkPolicyInfo['podSelector'];
  policyTypes?: string[];
  ingress?: RawRule[];
  egress?: RawRule[];
}): NetworkPolicyInfo {
  const rule = (r: RawRule): NetworkPolicyRule => {
    const out: NetworkPolicyRule = {};
    if (r.ports) out.ports = r.ports;
    const peers = r.from ?? r.to;
    if (peers) out.peers = peers;
    return out;
  };
  return netpol('app', 'np', {
    podSelector: spec.podSelector ?? {},
    policyTypes: effectivePolicyTypes(spec as Record<string, unknown>),
    ingress: (spec.ingress ?? []).map(rule),
    egress: (spec.egress ?? []).map(rule),
  });
}

/** kubeadm's CoreDNS, as `clusterDnsOf` resolves it (see network-dns.test.ts for the resolution itself). */
const DEFAULT_DNS: DnsTarget = {
  namespace: 'kube-system',
  namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
  podLabels: { 'k8s-app': 'kube-dns' },
  ports: [
    { protocol: 'UDP', port: 53, names: ['dns'] },
    { protocol: 'TCP', port: 53, names: ['dns-tcp'] },
  ],
};

const posture = (...policies: NetworkPolicyInfo[]) =>
  networkPosture(policies, { unknown: false, dns: DEFAULT_DNS });

describe('default-deny detection (k8s-semantics §3)', () => {
  test('a namespace with no NetworkPolicy at all is uncovered in both directions', () => {
    expect(posture()).toEqual({ ingress: 'none', egress: 'none', dnsEgress: null, policies: 0 });
  });

  test('{podSelector: {}} alone defaults to [Ingress]: default-deny ingress only', () => {
    expect(posture(fromManifest({ podSelector: {} }))).toMatchObject({ ingress: 'denied', egress: 'none' });
  });

  test('a deny-all-egress policy must list Egress: without egress rules it is not an egress policy', () => {
    expect(posture(fromManifest({ egress: [] }))).toMatchObject({ ingress: 'denied', egress: 'none' });
    expect(posture(fromManifest({ policyTypes: ['Egress'] }))).toMatchObject({
      ingress: 'none',
      egress: 'denied',
    });
  });

  test('egress rules without policyTypes default to [Ingress, Egress]', () => {
    const np = fromManifest({ egress: [{ ports: [{ protocol: 'TCP', port: 443 }] }] });
    expect(np.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(posture(np)).toMatchObject({ ingress: 'denied', egress: 'denied' });
  });

  test('policyTypes as stored are used as is', () => {
    expect(posture(fromManifest({ policyTypes: ['Ingress', 'Egress'] }))).toMatchObject({
      ingress: 'denied',
      egress: 'denied',
    });
  });

  test('a policy that selects only some pods does not make a default deny', () => {
    const np = fromManifest({
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Ingress', 'Egress'],
    });
    expect(posture(np)).toMatchObject({ ingress: 'none', egress: 'none', policies: 1 });
    const expr = fromManifest({ podSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } });
    expect(posture(expr).ingress).toBe('none');
  });

  test('downgrade: an all-pods policy with an allow-all rule is isolated but open', () => {
    const deny = fromManifest({ policyTypes: ['Ingress', 'Egress'] });
    // ingress: [{}] — one empty rule allows everything
    expect(posture(deny, fromManifest({ ingress: [{}] })).ingress).toBe('open');
    // namespaceSelector: {} without ports = every pod in every namespace
    expect(posture(deny, fromManifest({ ingress: [{ from: [{ namespaceSelector: {} }] }] })).ingress).toBe(
      'open',
    );
    // ipBlock 0.0.0.0/0 egress without ports
    expect(
      posture(
        deny,
        fromManifest({ policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }),
      ).egress,
    ).toBe('open');
    // With a port restriction, or an except, it is not allow-all.
    expect(posture(deny, fromManifest({ ingress: [{ ports: [{ port: 8080 }] }] })).ingress).toBe('denied');
    expect(
      posture(
        deny,
        fromManifest({
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }],
        }),
      ).egress,
    ).toBe('denied');
  });

  test('an allow-all rule of a policy that selects only some pods does not downgrade', () => {
    const deny = fromManifest({ policyTypes: ['Ingress'] });
    const some = fromManifest({ podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] });
    expect(posture(deny, some).ingress).toBe('denied');
  });

  test('rules of a direction not in policyTypes are ignored', () => {
    const deny = fromManifest({ policyTypes: ['Ingress', 'Egress'] });
    const ingressOnly = fromManifest({ policyTypes: ['Ingress'], egress: [{}] });
    expect(posture(deny, ingressOnly).egress).toBe('denied');
  });

  test('isAllowAllRule', () => {
    expect(isAllowAllRule({})).toBe(true);
    expect(isAllowAllRule({ peers: [] })).toBe(true);
    expect(isAllowAllRule({ peers: [{ podSelector: {} }] })).toBe(false); // pods of this namespace only
    expect(isAllowAllRule({ peers: [{ namespaceSelector: {}, podSelector: {} }] })).toBe(true);
    expect(isAllowAllRule({ peers: [{ ipBlock: { cidr: '::/0' } }] })).toBe(true);
  });

  test('unknown when NetworkPolicies could not be read', () => {
    expect(networkPosture([], { unknown: true, dns: DEFAULT_DNS })).toEqual({
      ingress: 'unknown',
      egress: 'unknown',
      dnsEgress: null,
      policies: 0,
    });
  });
});

describe('DNS egress when egress is denied', () => {
  test('the phase-3 pair: deny all + UDP/TCP 53 to kube-dns pods in kube-system', () => {
    expect(posture(...defaultDenyWithDns('app'))).toMatchObject({ egress: 'denied', dnsEgress: true });
  });

  test('egress denied and nothing allowed: no DNS', () => {
    expect(posture(fromManifest({ policyTypes: ['Egress'] }))).toMatchObject({
      egress: 'denied',
      dnsEgress: false,
    });
  });

  test('UDP only is not enough (TCP fallback for large answers)', () => {
    const deny = fromManifest({ policyTypes: ['Egress'] });
    const udp = fromManifest({
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }] }],
    });
    expect(allowsDnsEgress([deny, udp], DEFAULT_DNS)).toBe(false);
    const tcp = fromManifest({
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 53 }] }],
    });
    expect(allowsDnsEgress([deny, udp, tcp], DEFAULT_DNS)).toBe(true); // protocol defaults to TCP
  });

  test('named ports, port ranges and a peer that is not the DNS namespace', () => {
    const named = fromManifest({
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } }, namespaceSelector: {} }],
          ports: [
            { protocol: 'UDP', port: 'dns' },
            { protocol: 'TCP', port: 'dns-tcp' },
          ],
        },
      ],
    });
    expect(allowsDnsEgress([named], DEFAULT_DNS)).toBe(true);
    const range = fromManifest({
      policyTypes: ['Egress'],
      egress: [
        {
          ports: [
            { protocol: 'UDP', port: 1, endPort: 1024 },
            { protocol: 'TCP', port: 50, endPort: 60 },
          ],
        },
      ],
    });
    expect(allowsDnsEgress([range], DEFAULT_DNS)).toBe(true);
    const wrongNs = fromManifest({
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    expect(allowsDnsEgress([wrongNs], DEFAULT_DNS)).toBe(false);
    // podSelector alone means pods of the policy's own namespace, not kube-system.
    const podOnly = fromManifest({
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    expect(allowsDnsEgress([podOnly], DEFAULT_DNS)).toBe(false);
  });

  test('label selector operators', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(
      matchesSelector({ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }, labels),
    ).toBe(true);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, labels),
    ).toBe(false);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['web'] }] }, labels),
    ).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels)).toBe(
      true,
    );
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, labels)).toBe(false);
  });
});

describe('network findings in the assessment', () => {
  test('application namespaces without default-deny get findings; system and infrastructure do not', () => {
    const snap = snapshot({
      namespaces: [ns('kube-system'), ns('monitoring'), ns('shop'), ns('payments'), ns('batch')],
      networkPolicies: [
        netpol('shop', 'default-deny-ingress'),
        ...defaultDenyWithDns('payments'),
        netpol('batch', 'deny-egress', { policyTypes: ['Egress'] }),
      ],
    });
    const a = assess(snap, { now: NOW });
    const net = a.findings
      .filter((f) => f.control.startsWith('KH-NET-NO'))
      .map((f) => `${f.control} ${f.target.name}`);
    expect(net.sort()).toEqual([
      'KH-NET-NO-DEFAULT-DENY-EGRESS shop',
      'KH-NET-NO-DEFAULT-DENY-INGRESS batch',
      'KH-NET-NO-DNS-EGRESS batch',
    ]);
    expect(a.namespaces.find((n) => n.name === 'monitoring')?.defaultDeny).toMatchObject({
      ingress: 'none',
      egress: 'none',
    });
  });

  test('NetworkPolicies that could not be read: coverage unknown, no false finding, an unknown finding instead', () => {
    const snap = snapshot({
      namespaces: [ns('shop')],
      unknown: [{ resource: 'networkpolicies.networking.k8s.io', reason: 'Forbidden', message: 'forbidden' }],
    });
    const a = assess(snap, { now: NOW });
    expect(a.namespaces[0]?.defaultDeny).toMatchObject({ ingress: 'unknown', egress: 'unknown' });
    expect(a.findings.some((f) => f.control.startsWith('KH-NET-NO-DEFAULT'))).toBe(false);
    expect(a.findings.find((f) => f.control === 'KH-UNKNOWN')?.message).toContain(
      'networkpolicies.networking.k8s.io',
    );
  });

  test('from manifests: policyTypes defaulting applies end to end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kh-np-'));
    try {
      await writeFile(
        join(dir, 'np.yaml'),
        `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
---
apiVersion: v1
kind: Namespace
metadata: {name: api}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-443, namespace: api}
spec:
  podSelector: {}
  egress:
    - ports: [{port: 443}]
`,
      );
      const snap = await buildSnapshot(await ManifestSource.load(dir));
      const a = assess(snap, { now: NOW });
      const byName = Object.fromEntries(a.namespaces.map((n) => [n.name, n.defaultDeny]));
      expect(byName.shop).toMatchObject({ ingress: 'denied', egress: 'none' });
      expect(byName.api).toMatchObject({ ingress: 'denied', egress: 'denied', dnsEgress: false });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
