import { describe, expect, test } from 'vitest';
import {
  cidrContains,
  type EvalPod,
  NetpolCluster,
  type PolicyJson,
} from '../../../support/netpol-evaluator.js';

// The evaluator is the yardstick of the planner's tests: these pin down its reading of the upstream rules
// (`networking/v1/types.go`, docs `network-policies.md`), each against a case that would pass a looser reading.

const a: EvalPod = {
  namespace: 'a',
  name: 'client',
  labels: { app: 'client' },
  ip: '10.0.0.1',
};
const b: EvalPod = {
  namespace: 'b',
  name: 'server',
  labels: { app: 'server' },
  ip: '10.0.0.2',
  ports: [
    { name: 'http', containerPort: 8080 },
    { name: 'dns', containerPort: 5353, protocol: 'UDP' },
  ],
};
const nss = [{ name: 'a', labels: { team: 'x' } }, { name: 'b' }];
const policy = (namespace: string, spec: PolicyJson['spec'], name = 'p'): PolicyJson => ({
  metadata: { name, namespace },
  spec,
});

describe('independent NetworkPolicy evaluator', () => {
  test('no policy: everything flows', () => {
    expect(new NetpolCluster(nss, [a, b], []).allowed(a, b, 'TCP', 1)).toBe(true);
  });

  test('policyTypes defaulting: {podSelector: {}} alone isolates ingress only', () => {
    const c = new NetpolCluster(nss, [a, b], [policy('b', { podSelector: {} })]);
    expect(c.allowed(a, b, 'TCP', 8080)).toBe(false);
    expect(c.allowed(b, a, 'TCP', 8080)).toBe(true);
  });

  test('egress rules without policyTypes make it an egress policy too', () => {
    const c = new NetpolCluster(
      nss,
      [a, b],
      [policy('a', { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] })],
    );
    expect(c.isolated(a, 'Egress')).toBe(true);
    expect(c.allowed(a, b, 'TCP', 53)).toBe(true);
    expect(c.allowed(a, b, 'TCP', 80)).toBe(false);
  });

  test('a flow needs egress at the source and ingress at the destination; policies are a union', () => {
    const denyA = policy('a', { podSelector: {}, policyTypes: ['Egress'] }, 'deny');
    const allowA = policy('a', { podSelector: {}, policyTypes: ['Egress'], egress: [{}] }, 'allow');
    const denyB = policy('b', { podSelector: {}, policyTypes: ['Ingress'] }, 'deny');
    const c = new NetpolCluster(nss, [a, b], [denyA, allowA]);
    expect(c.allowed(a, b, 'TCP', 1)).toBe(true);
    expect(c.with([denyB]).allowed(a, b, 'TCP', 1)).toBe(false);
  });

  test('peers: podSelector alone is the policy namespace; with namespaceSelector it is AND', () => {
    const local = policy('b', {
      podSelector: {},
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
    });
    expect(new NetpolCluster(nss, [a, b], [local]).allowed(a, b, 'TCP', 1)).toBe(false);
    const both = policy('b', {
      podSelector: {},
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'x' } },
              podSelector: { matchLabels: { app: 'client' } },
            },
          ],
        },
      ],
    });
    expect(new NetpolCluster(nss, [a, b], [both]).allowed(a, b, 'TCP', 1)).toBe(true);
    const wrongPod = policy('b', {
      podSelector: {},
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'x' } },
              podSelector: { matchLabels: { app: 'no' } },
            },
          ],
        },
      ],
    });
    expect(new NetpolCluster(nss, [a, b], [wrongPod]).allowed(a, b, 'TCP', 1)).toBe(false);
    const byName = policy('b', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } } }] }],
    });
    expect(new NetpolCluster(nss, [a, b], [byName]).allowed(a, b, 'TCP', 1)).toBe(true);
  });

  test('ports: protocol defaults to TCP, endPort ranges, named ports resolve on the destination pod', () => {
    const p = (ports: PolicyJson['spec']['egress']) =>
      new NetpolCluster(
        nss,
        [a, b],
        [policy('a', { podSelector: {}, policyTypes: ['Egress'], egress: ports })],
      );
    expect(p([{ ports: [{ port: 5353 }] }]).allowed(a, b, 'UDP', 5353)).toBe(false);
    expect(p([{ ports: [{ protocol: 'UDP', port: 5353 }] }]).allowed(a, b, 'UDP', 5353)).toBe(true);
    expect(p([{ ports: [{ port: 8000, endPort: 8100 }] }]).allowed(a, b, 'TCP', 8080)).toBe(true);
    expect(p([{ ports: [{ port: 8000, endPort: 8079 }] }]).allowed(a, b, 'TCP', 8080)).toBe(false);
    expect(p([{ ports: [{ port: 'http' }] }]).allowed(a, b, 'TCP', 8080)).toBe(true);
    expect(p([{ ports: [{ port: 'http' }] }]).allowed(a, b, 'TCP', 8081)).toBe(false);
    expect(p([{ ports: [{ protocol: 'UDP', port: 'dns' }] }]).allowed(a, b, 'UDP', 5353)).toBe(true);
    expect(p([{ ports: [{ port: 'http' }] }]).allowed(a, { ip: '1.1.1.1' }, 'TCP', 8080)).toBe(false);
  });

  test('ipBlock with except, IPv4 and IPv6; pod selectors never match plain addresses or hostNetwork pods', () => {
    expect(cidrContains('10.0.0.0/8', '10.1.2.3')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.1.2.3')).toBe(false);
    expect(cidrContains('fd00::/8', 'fd00:10:244::1')).toBe(true);
    expect(cidrContains('fd00::/8', '10.0.0.1')).toBe(false);
    expect(cidrContains('2001:db8::1/128', '2001:db8:0:0:0:0:0:1')).toBe(true);
    const c = new NetpolCluster(
      nss,
      [a, b],
      [
        policy('a', {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                { ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } },
                { namespaceSelector: {} },
              ],
            },
          ],
        }),
      ],
    );
    expect(c.allowed(a, { ip: '192.168.2.1' }, 'TCP', 6443)).toBe(true);
    expect(c.allowed(a, { ip: '192.168.1.1' }, 'TCP', 6443)).toBe(false);
    expect(c.allowed(a, { ip: '8.8.8.8' }, 'TCP', 443)).toBe(false);
    const host: EvalPod = {
      namespace: 'b',
      name: 'h',
      labels: { app: 'server' },
      ip: '192.168.1.5',
      hostNetwork: true,
    };
    expect(c.allowed(a, host, 'TCP', 1)).toBe(false);
    expect(c.isolated(host, 'Ingress')).toBe(false);
  });

  test('matchExpressions', () => {
    const c = (op: string, values?: string[]) =>
      new NetpolCluster(
        nss,
        [a, b],
        [
          policy('b', {
            podSelector: {},
            ingress: [
              {
                from: [
                  {
                    namespaceSelector: {},
                    podSelector: {
                      matchExpressions: [{ key: 'app', operator: op, ...(values ? { values } : {}) }],
                    },
                  },
                ],
              },
            ],
          }),
        ],
      ).allowed(a, b, 'TCP', 1);
    expect(c('In', ['client'])).toBe(true);
    expect(c('In', ['x'])).toBe(false);
    expect(c('NotIn', ['client'])).toBe(false);
    expect(c('Exists')).toBe(true);
    expect(c('DoesNotExist')).toBe(false);
  });
});
