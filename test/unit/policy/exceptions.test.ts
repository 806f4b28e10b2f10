import { describe, expect, test } from 'vitest';
import { InputError, UsageError } from '../../../src/errors.js';
import { assess } from '../../../src/policy/assess.js';
import {
  daysLeft,
  type ExceptionRegister,
  isExpired,
  parseExceptions,
  parseWithin,
  review,
  scopeMatches,
} from '../../../src/policy/exceptions.js';
import type { Finding } from '../../../src/policy/findings.js';
import {
  container,
  NOW,
  ns,
  restrictedSpec,
  sa,
  snapshot,
  workload,
} from '../../fixtures/snapshots/builder.js';

const HEAD = 'apiVersion: kube-harden.io/v1alpha1\nkind: ExceptionList\nexceptions:\n';

function register(entries: string): ExceptionRegister {
  return parseExceptions(HEAD + entries, 'ex.yaml');
}

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

const VALID = `  - id: node-exporter
    scope: { namespace: monitoring, kind: DaemonSet, name: node-exporter }
    controls: [hostNamespaces, hostPathVolumes, hostPorts]
    reason: reads host metrics
    owner: team-observability
    ticket: OBS-142
    expires: 2027-06-30
`;

describe('parsing the register', () => {
  test('a valid entry, with its line', () => {
    const r = register(`  - id: first
    scope: { namespace: shop }
    controls: [KH-POD-ROOT]
    reason: r
    owner: o
    expires: 2026-12-31
${VALID}`);
    expect(r.file).toBe('ex.yaml');
    expect(r.exceptions.map((e) => [e.id, e.line])).toEqual([
      ['first', 4],
      ['node-exporter', 10],
    ]);
    expect(r.exceptions[1]).toEqual({
      id: 'node-exporter',
      scope: { namespace: 'monitoring', kind: 'DaemonSet', name: 'node-exporter' },
      controls: ['hostNamespaces', 'hostPathVolumes', 'hostPorts'],
      reason: 'reads host metrics',
      owner: 'team-observability',
      ticket: 'OBS-142',
      expires: '2027-06-30',
      line: 10,
    });
  });

  test('cluster-scoped objects are named without a namespace', () => {
    const r = register(`  - id: ingress-secrets
    scope: { kind: ClusterRoleBinding, name: ingress-nginx }
    controls: [KH-RBAC-SECRETS-READ]
    reason: the controller serves TLS from Secrets
    owner: platform
    expires: 2027-01-01
`);
    expect(r.exceptions[0]?.scope).toEqual({ kind: 'ClusterRoleBinding', name: 'ingress-nginx' });
  });

  test('an empty list is valid', () => {
    expect(parseExceptions(`${HEAD}  []\n`, 'ex.yaml').exceptions).toEqual([]);
  });

  const entry = (over: Record<string, string | null>) => {
    const fields: Record<string, string | null> = {
      id: 'x',
      scope: '{ namespace: shop }',
      controls: '[KH-POD-ROOT]',
      reason: 'r',
      owner: 'o',
      expires: '2027-01-01',
      ...over,
    };
    return Object.entries(fields)
      .filter(([, v]) => v !== null)
      .map(([k, v], i) => `${i === 0 ? '  - ' : '    '}${k}: ${v}\n`)
      .join('');
  };

  test.each([
    [entry({ colour: 'red' }), 10, 'unknown field "colour" in exception 0'],
    [entry({ expires: null }), 4, 'needs an expiry date'],
    [entry({ expires: '2027-02-30' }), 9, 'must be a date YYYY-MM-DD'],
    [entry({ expires: '31.12.2027' }), 9, 'must be a date YYYY-MM-DD'],
    [entry({ expires: '20270101' }), 9, 'must be a date YYYY-MM-DD, not number'],
    [entry({ controls: '[runAsRoot]' }), 6, 'unknown control "runAsRoot"'],
    [entry({ controls: '[]' }), 6, 'must be a non-empty list'],
    [entry({ controls: '[KH-UNKNOWN]' }), 6, 'KH-UNKNOWN cannot be excepted'],
    [entry({ controls: '[privileged, privileged]' }), 6, 'listed twice'],
    [entry({ scope: '{ namespace: shop, kind: Deployment }' }), 5, 'both kind and name'],
    [entry({ scope: '{ namespace: shop, container: nginx }' }), 5, 'names a container but no kind and name'],
    [entry({ scope: '{ kind: Deployment, name: web }' }), 5, 'needs a namespace (Deployment is namespaced)'],
    [entry({ scope: '{ namespace: x, kind: ClusterRole, name: r }' }), 5, 'cluster-scoped'],
    [entry({ scope: '{ namespace: x, kind: Service, name: r }' }), 5, 'kind "Service"'],
    [
      entry({ scope: '{ namespace: x, kind: RoleBinding, name: r, container: c }' }),
      5,
      'a RoleBinding has none',
    ],
    [entry({ scope: '{ namespace: x, ns: y }' }), 5, 'unknown field "ns" in the scope of exception x'],
    [entry({ scope: '{}' }), 5, 'needs at least a namespace'],
    [entry({ scope: null }), 4, 'exception x needs a scope'],
    [entry({ owner: '""' }), 8, 'owner of exception x must be a non-empty string'],
    [entry({ ticket: '142' }), 10, 'ticket of exception x must be a string (quote it)'],
    [entry({ id: 'has space' }), 4, 'id "has space" must be'],
    [`${entry({})}${entry({})}`, 10, 'duplicate exception id "x" (first at line 4)'],
  ])('malformed entry %#: line %i', (text, line, message) => {
    const e = inputError(() => register(text));
    expect(e.file).toBe('ex.yaml');
    expect(e.line).toBe(line);
    expect(e.message).toContain(message);
  });

  test.each([
    [
      'apiVersion: kube-harden.io/v1alpha1\nkind: ExceptionList\nexceptions: {}\n',
      3,
      'exceptions must be a list',
    ],
    ['apiVersion: kube-harden.io/v1alpha1\nkind: Config\n', 2, 'kind must be ExceptionList'],
    [
      'apiVersion: kube-harden.io/v1alpha1\nkind: ExceptionList\nexceptions:\n  - id: a\n    id: b\n',
      5,
      'invalid YAML',
    ],
    [
      'apiVersion: kube-harden.io/v1alpha1\nkind: ExceptionList\nexceptions:\n  - [a]\n',
      4,
      'must be a mapping',
    ],
    ['a: &x [1]\nb: !!js/function "x"\n', 2, 'invalid YAML'],
  ])('malformed file %#: line %i', (text, line, message) => {
    const e = inputError(() => parseExceptions(text, 'ex.yaml'));
    expect(e.line).toBe(line);
    expect(e.message).toContain(message);
  });
});

describe('expiry (UTC days; valid through the expiry date)', () => {
  test('expired only when today > expires', () => {
    expect(isExpired({ expires: '2026-06-01' }, NOW)).toBe(false);
    expect(isExpired({ expires: '2026-05-31' }, NOW)).toBe(true);
    expect(isExpired({ expires: '2026-05-31' }, new Date('2026-05-31T23:59:59Z'))).toBe(false);
    expect(daysLeft({ expires: '2026-06-15' }, NOW)).toBe(14);
    expect(daysLeft({ expires: '2026-05-30' }, NOW)).toBe(-2);
  });

  test('--within parses days and weeks', () => {
    expect(parseWithin('14d')).toBe(14);
    expect(parseWithin('2w')).toBe(14);
    expect(parseWithin('30')).toBe(30);
    expect(() => parseWithin('soon')).toThrow(UsageError);
  });
});

describe('scope matching', () => {
  const deploy = { kind: 'Deployment', namespace: 'shop', name: 'web' };
  test.each([
    [{ namespace: 'shop' }, deploy, true],
    [{ namespace: 'shop' }, { kind: 'Namespace', name: 'shop' }, true],
    [{ namespace: 'other' }, deploy, false],
    [{ namespace: 'shop', kind: 'Deployment', name: 'web' }, deploy, true],
    [{ namespace: 'shop', kind: 'Deployment', name: 'web' }, { ...deploy, container: 'nginx' }, true],
    [{ namespace: 'shop', kind: 'StatefulSet', name: 'web' }, deploy, false],
    [
      { namespace: 'shop', kind: 'Deployment', name: 'web', container: 'nginx' },
      { ...deploy, container: 'nginx' },
      true,
    ],
    [
      { namespace: 'shop', kind: 'Deployment', name: 'web', container: 'nginx' },
      { ...deploy, container: 'sidecar' },
      false,
    ],
    [{ namespace: 'shop', kind: 'Deployment', name: 'web', container: 'nginx' }, deploy, false],
    [{ kind: 'ClusterRoleBinding', name: 'x' }, { kind: 'ClusterRoleBinding', name: 'x' }, true],
    [{ kind: 'ClusterRoleBinding', name: 'x' }, { kind: 'ClusterRoleBinding', name: 'y' }, false],
  ])('%j covers %j: %s', (scope, target, expected) => {
    expect(scopeMatches(scope, target)).toBe(expected);
  });
});

describe('exceptions in the assessment', () => {
  // Given a namespace with a hostNetwork DaemonSet, a root nginx Deployment and a sidecar
  const hostAgent = workload(
    'DaemonSet',
    'ops',
    'agent',
    restrictedSpec({
      hostNetwork: true,
      containers: [container('agent', { ports: [{ containerPort: 9100 }] })],
    }),
  );
  const web = workload(
    'Deployment',
    'ops',
    'web',
    restrictedSpec({
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        container('nginx'),
        container('sidecar', { securityContext: { ...container().securityContext, runAsNonRoot: true } }),
      ],
    }),
  );
  const snap = snapshot({
    namespaces: [ns('ops')],
    workloads: [hostAgent, web],
    serviceAccounts: [sa('ops', 'app', false)],
  });
  const run = (entries: string, now = NOW) => assess(snap, { now, exceptions: register(entries) });
  const pss = (a: ReturnType<typeof run>, name: string, control = 'KH-PSS-BASELINE') =>
    a.findings.filter((f) => f.control === control && f.target.name === name);

  test('covered findings are reported as excepted, not hidden; the rest stay open', () => {
    const a = run(`  - id: agent-host
    scope: { namespace: ops, kind: DaemonSet, name: agent }
    controls: [hostNamespaces]
    reason: r
    owner: o
    expires: 2027-01-01
`);
    const f = pss(a, 'agent');
    // hostNetwork defaults hostPort to the containerPort: baseline fails hostNamespaces and hostPorts.
    expect(f.map((x) => [x.checks, x.excepted, x.exceptedBy])).toEqual([
      [['hostPorts'], false, undefined],
      [['hostNamespaces'], true, ['agent-host']],
    ]);
    expect(a.summary.excepted).toBe(1);
    expect(a.exceptions).toMatchObject({ expired: [], unused: [] });
    expect(a.exceptions.entries[0]).toMatchObject({ id: 'agent-host', covers: 1, state: 'active' });
    // Not fully covered: the namespace still cannot enforce baseline.
    expect(a.namespaces[0]?.strictestEnforceable).toBe('privileged');
  });

  test('fully covered violations make the namespace enforceable at that level', () => {
    const a = run(`  - id: agent-host
    scope: { namespace: ops, kind: DaemonSet, name: agent }
    controls: [KH-PSS-BASELINE]
    reason: r
    owner: o
    expires: 2027-01-01
`);
    expect(pss(a, 'agent').every((f) => f.excepted)).toBe(true);
    expect(a.namespaces[0]).toMatchObject({
      strictestEnforceable: 'baseline',
      strictestWithoutExceptions: 'privileged',
    });
  });

  test('an expired exception covers nothing and is itself a finding', () => {
    const a = run(`  - id: agent-host
    scope: { namespace: ops }
    controls: [hostNamespaces, hostPorts]
    reason: r
    owner: team-ops
    ticket: OPS-1
    expires: 2026-05-31
`);
    expect(pss(a, 'agent').every((f) => !f.excepted)).toBe(true);
    const expired = a.findings.find((f) => f.control === 'KH-EXCEPTION-EXPIRED');
    expect(expired).toMatchObject({
      severity: 'medium',
      target: { kind: 'Exception', namespace: 'ops', name: 'agent-host' },
      excepted: false,
      message:
        'expired on 2026-05-31 (owner team-ops, ticket OPS-1): it no longer covers hostNamespaces, hostPorts',
    });
    expect(a.exceptions).toMatchObject({ expired: ['agent-host'], unused: [] });
  });

  test('a container-scoped exception covers a Pod Security check only when that container alone causes it', () => {
    const a = run(`  - id: nginx-root
    scope: { namespace: ops, kind: Deployment, name: web, container: nginx }
    controls: [runAsNonRoot, KH-POD-ROOT]
    reason: r
    owner: o
    expires: 2027-01-01
`);
    const restricted = pss(a, 'web', 'KH-PSS-RESTRICTED');
    expect(restricted.find((f) => f.excepted)?.checks).toEqual(['runAsNonRoot']);
    const root = a.findings.filter((f) => f.control === 'KH-POD-ROOT' && f.target.name === 'web');
    expect(root.map((f) => [f.target.container, f.excepted])).toEqual([['nginx', true]]);
  });

  test('a container-scoped exception does not cover a pod-level violation', () => {
    const a = run(`  - id: agent-host
    scope: { namespace: ops, kind: DaemonSet, name: agent, container: agent }
    controls: [hostNamespaces, hostPorts]
    reason: r
    owner: o
    expires: 2027-01-01
`);
    // hostNetwork is a pod field: removing the container does not fix it. hostPorts comes from the container.
    const f = pss(a, 'agent');
    expect(f.map((x) => [x.checks, x.excepted])).toEqual([
      [['hostNamespaces'], false],
      [['hostPorts'], true],
    ]);
  });

  test('a namespace-wide exception covers our own controls too', () => {
    const a = run(`  - id: ops-root
    scope: { namespace: ops }
    controls: [KH-POD-ROOT, KH-NET-NO-DEFAULT-DENY-INGRESS]
    reason: r
    owner: o
    expires: 2027-01-01
`);
    const covered = a.findings
      .filter((f) => f.excepted)
      .map((f) => `${f.control} ${f.target.kind} ${f.target.name}`);
    expect(covered).toEqual(['KH-NET-NO-DEFAULT-DENY-INGRESS Namespace ops', 'KH-POD-ROOT Deployment web']);
  });

  test('review: expired, expiring within N days, unused', () => {
    const r = register(`  - id: soon
    scope: { namespace: ops }
    controls: [KH-POD-ROOT]
    reason: r
    owner: o
    expires: 2026-06-10
  - id: later
    scope: { namespace: ops, kind: Deployment, name: gone }
    controls: [privileged]
    reason: r
    owner: o
    expires: 2026-12-31
  - id: old
    scope: { namespace: ops }
    controls: [privileged]
    reason: r
    owner: o
    expires: 2026-01-01
`);
    const findings: Finding[] = [
      {
        control: 'KH-POD-ROOT',
        severity: 'medium',
        target: { kind: 'Deployment', namespace: 'ops', name: 'web' },
        message: 'm',
        excepted: true,
        exceptedBy: ['soon'],
      },
    ];
    const rev = review(r, findings, { now: NOW, within: 14 });
    expect(rev).toMatchObject({
      file: 'ex.yaml',
      within: 14,
      expired: ['old'],
      expiring: ['soon'],
      unused: ['later'],
    });
    expect(rev.entries.map((e) => [e.id, e.state, e.daysLeft, e.covers])).toEqual([
      ['later', 'active', 213, 0],
      ['old', 'expired', -151, 0],
      ['soon', 'expiring', 9, 1],
    ]);
    expect(review(r, findings, { now: NOW, within: 7 }).expiring).toEqual([]);
    // The default window is 30 days (one default with `exceptions review --within` and the phase 7 step).
    expect(review(undefined, [], { now: NOW })).toEqual({
      within: 30,
      entries: [],
      expired: [],
      expiring: [],
      unused: [],
    });
  });
});
