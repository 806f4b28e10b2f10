/**
 * sa-dedicated (phase 4, opt-in): the pure planner (src/policy/sa/dedicated.ts) — names, collisions, which of
 * default's bindings are duplicated with and without audit evidence — and the step's changes: one adjacent group
 * per workload sharing a reason that names it, objects from templates/, inside the step's targets.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outsideTargets } from '../../../src/engine/targets.js';
import type { Change } from '../../../src/engine/types.js';
import type { BindingInfo, Snapshot } from '../../../src/inventory/types.js';
import type { KubeObject, ObjectRef } from '../../../src/k8s/types.js';
import { summarizeAuditLines } from '../../../src/policy/sa/audit-log.js';
import {
  accountNames,
  copyName,
  type DedicatedInput,
  joinName,
  MAX_NAME,
  planDedicated,
  ruleAllows,
} from '../../../src/policy/sa/dedicated.js';
import { STEPS } from '../../../steps/index.js';
import { saDedicated } from '../../../steps/sa-dedicated.js';
import { binding, ns, role, sa, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { asDefault } from '../../support/pod-specs.js';
import { offlinePlanned, runStep } from '../../support/step-run.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const SA_DEFAULT = { kind: 'ServiceAccount', name: 'default', namespace: 'payments' };
const ledger = binding(
  'RoleBinding',
  'ledger',
  { kind: 'Role', name: 'pod-reader' },
  [SA_DEFAULT],
  'payments',
);
const secrets = binding(
  'RoleBinding',
  'secrets',
  { kind: 'Role', name: 'secret-reader' },
  [SA_DEFAULT],
  'payments',
);
const nodes = binding('ClusterRoleBinding', 'node-view', { kind: 'ClusterRole', name: 'node-reader' }, [
  SA_DEFAULT,
]);
const systemBinding = binding(
  'RoleBinding',
  'system:controller:x',
  { kind: 'Role', name: 'x' },
  [SA_DEFAULT],
  'payments',
);
const groupBinding = binding(
  'RoleBinding',
  'all-sas',
  { kind: 'ClusterRole', name: 'view' },
  [{ kind: 'Group', name: 'system:serviceaccounts:payments' }],
  'payments',
);

function payments(bindings: BindingInfo[] = [ledger, secrets, nodes, systemBinding, groupBinding]): Snapshot {
  return snapshot({
    namespaces: [ns('payments'), ns('kube-system')],
    serviceAccounts: [sa('payments', 'default'), sa('payments', 'api')],
    roles: [
      role(
        'Role',
        'pod-reader',
        [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
        'payments',
      ),
      role(
        'Role',
        'secret-reader',
        [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
        'payments',
      ),
      role('ClusterRole', 'node-reader', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }]),
    ],
    workloads: [
      workload('Deployment', 'payments', 'web', asDefault()),
      workload('Deployment', 'payments', 'api', asDefault({ serviceAccountName: 'api' })),
      workload('Pod', 'payments', 'debug', asDefault()),
      workload('Job', 'payments', 'migrate', asDefault()),
      workload('Deployment', 'kube-system', 'coredns', asDefault()),
    ],
    bindings,
  });
}

function plan(snap: Snapshot, extra: Partial<DedicatedInput> = {}) {
  return planDedicated({ snapshot: snap, namespaces: ['payments'], ...extra })[0]?.workloads ?? [];
}

const event = (username: string, verb: string, objectRef: Record<string, string> | undefined, uri = '/x') =>
  JSON.stringify({
    kind: 'Event',
    stage: 'ResponseComplete',
    verb,
    user: { username },
    requestURI: uri,
    requestReceivedTimestamp: '2026-06-01T10:00:00Z',
    ...(objectRef ? { objectRef } : {}),
  });

const DEFAULT_USER = 'system:serviceaccount:payments:default';

describe('sa-dedicated planner: names', () => {
  it('names the account after the workload; default and same-named workloads get the kind appended', () => {
    expect(
      Object.fromEntries(
        accountNames([
          { kind: 'Deployment', name: 'web' },
          { kind: 'CronJob', name: 'web' },
          { kind: 'StatefulSet', name: 'db' },
          { kind: 'Deployment', name: 'default' },
        ]),
      ),
    ).toEqual({
      'Deployment/web': 'web-deployment',
      'CronJob/web': 'web-cronjob',
      'StatefulSet/db': 'db',
      'Deployment/default': 'default-deployment',
    });
  });

  it('cuts a name over 253 characters and ends it with a hash: still a valid DNS subdomain, still distinct', () => {
    const long = `${'a'.repeat(120)}.${'b'.repeat(130)}`; // 251 characters: a valid workload name
    const one = joinName(long, 'deployment');
    const two = joinName(long, 'cronjob');
    for (const n of [one, two]) {
      expect(n.length).toBeLessThanOrEqual(MAX_NAME);
      expect(n).toMatch(DNS_SUBDOMAIN);
    }
    expect(one).not.toBe(two);
    expect(joinName('web')).toBe('web');
  });

  it('copies are <binding>-<account>, cluster-wide ones <binding>-<namespace>-<account>', () => {
    expect(copyName(ledger, 'payments', 'web')).toBe('ledger-web');
    expect(copyName(nodes, 'payments', 'web')).toBe('node-view-payments-web');
  });
});

describe('sa-dedicated planner: what is proposed', () => {
  it('without an audit log: every non-default binding of default is duplicated; system and group bindings are not', () => {
    const rows = plan(payments());
    const web = rows.find((r) => r.workload.name === 'web');
    expect(web?.choice).toBe('dedicate');
    expect(web?.account).toBe('web');
    expect(web?.bindings.map((b) => [b.source.name, b.copy, b.name])).toEqual([
      ['ledger', true, 'ledger-web'],
      ['secrets', true, 'secrets-web'],
      ['node-view', true, 'node-view-payments-web'],
    ]);
    expect(web?.rule).toContain('no audit log');
    expect(web?.bindings[0]?.why).toContain(
      'RoleBinding payments/ledger binds ServiceAccount payments/default',
    );
    expect(web?.notes.join('\n')).toContain(
      'group system:serviceaccounts:payments is bound by RoleBinding payments/all-sas',
    );
    // Bound: the evidence says it uses the API, so the new account mounts a token.
    expect(web?.automount).toBe(true);
    expect(web?.automountWhy).toContain(
      'uses the API (bound to Role payments/pod-reader (RoleBinding payments/ledger)',
    );
    // Workloads on their own account are not candidates; kube-system is not planned.
    expect(rows.map((r) => r.workload.name).sort()).toEqual(['debug', 'migrate', 'web']);
  });

  it('no evidence of API use: the new account does not mount a token, and nothing is duplicated', () => {
    const web = plan(payments([]))[0];
    expect(web?.automount).toBe(false);
    expect(web?.automountWhy).toBe(
      'no evidence of API use (no binding, no known controller, no projected token): automountServiceAccountToken: false',
    );
    expect(web?.bindings).toEqual([]);
    expect(web?.why).toBe(
      'Deployment payments/web runs as ServiceAccount payments/default: ServiceAccount payments/web of its own (no token), no binding to duplicate (default has none beyond the system defaults)',
    );
  });

  it('with an audit log: only the bindings whose role allowed a request default made', () => {
    const audit = summarizeAuditLines([
      event(DEFAULT_USER, 'list', { resource: 'pods', namespace: 'payments', apiVersion: 'v1' }),
      event(DEFAULT_USER, 'list', { resource: 'pods', namespace: 'payments', apiVersion: 'v1' }),
      // Discovery needs no binding; a request in another namespace is not allowed by a RoleBinding in payments.
      event(DEFAULT_USER, 'get', undefined, '/api/v1'),
      event(DEFAULT_USER, 'get', { resource: 'secrets', namespace: 'other', name: 's', apiVersion: 'v1' }),
      event('system:serviceaccount:payments:api', 'get', { resource: 'nodes', name: 'n1', apiVersion: 'v1' }),
    ]);
    const web = plan(payments(), { audit }).find((r) => r.workload.name === 'web');
    expect(web?.bindings.map((b) => [b.source.name, b.copy])).toEqual([
      ['ledger', true],
      ['secrets', false],
      ['node-view', false],
    ]);
    expect(web?.rule).toContain(
      'audit log: only the bindings whose role allows a request ServiceAccount payments/default made (made 4 requests in the audit log',
    );
    expect(web?.bindings[0]?.why).toBe(
      'RoleBinding payments/ledger (Role payments/pod-reader) allowed 2 requests ServiceAccount payments/default made in the audit log (2026-06-01T10:00:00Z → 2026-06-01T10:00:00Z) (list pods in payments)',
    );
    expect(web?.bindings[1]?.why).toContain('allowed none of the requests');
    expect(web?.why).toContain("1 of default's 3 binding(s) duplicated for it");
  });

  it('with an audit log where default made no request: nothing duplicated; a role that cannot be read is kept', () => {
    const audit = summarizeAuditLines([event('someone', 'get', { resource: 'pods', apiVersion: 'v1' })]);
    const snap = payments();
    snap.roles = snap.roles.filter((r) => r.name !== 'secret-reader');
    const web = plan(snap, { audit }).find((r) => r.workload.name === 'web');
    expect(web?.rule).toContain('made no request in the audit log');
    expect(web?.bindings.map((b) => [b.source.name, b.copy])).toEqual([
      ['ledger', false],
      ['secrets', true],
      ['node-view', false],
    ]);
    expect(web?.bindings[1]?.why).toContain('Role payments/secret-reader, which could not be read: kept');
  });

  it("an audit log that may miss default's requests keeps every binding, saying why", () => {
    const audit = summarizeAuditLines([event('someone', 'get', { resource: 'pods', apiVersion: 'v1' })]);
    audit.droppedUsers = 3;
    const web = plan(payments(), { audit }).find((r) => r.workload.name === 'web');
    expect(web?.bindings.every((b) => b.copy)).toBe(true);
    expect(web?.rule).toContain('names more users than kube-harden keeps');
  });

  it('bare Pods and Jobs are reported, not changed; unreadable bindings block the namespace', () => {
    const rows = plan(payments());
    expect(rows.find((r) => r.workload.name === 'debug')?.why).toContain(
      'a bare Pod cannot switch accounts (spec.serviceAccountName is immutable)',
    );
    expect(rows.find((r) => r.workload.name === 'migrate')?.why).toContain(
      "a Job's pod template is immutable",
    );
    const snap = payments();
    snap.unknown.push({
      resource: 'rolebindings.rbac.authorization.k8s.io',
      namespace: 'payments',
      reason: 'Forbidden',
      message: 'forbidden',
    });
    const web = plan(snap).find((r) => r.workload.name === 'web');
    expect(web?.choice).toBe('skip');
    expect(web?.why).toContain('bindings could not all be read');
  });
});

describe('sa-dedicated planner: collisions', () => {
  const withAccount = () => {
    const snap = payments();
    snap.serviceAccounts.push(sa('payments', 'web'));
    return snap;
  };

  it('an account with the name that kube-harden did not make is left alone: the workload is skipped, saying so', () => {
    const web = plan(withAccount(), { accountOwners: new Map([['payments/web', null]]) }).find(
      (r) => r.workload.name === 'web',
    );
    expect(web?.choice).toBe('skip');
    expect(web?.why).toContain(
      'ServiceAccount payments/web, which exists already and was not made by kube-harden',
    );
    // Not read at all: not ours either.
    expect(plan(withAccount()).find((r) => r.workload.name === 'web')?.why).toContain('could not be read');
    // Made by kube-harden for another workload.
    expect(
      plan(withAccount(), { accountOwners: new Map([['payments/web', 'StatefulSet/web']]) }).find(
        (r) => r.workload.name === 'web',
      )?.why,
    ).toContain('was made by kube-harden for StatefulSet/web');
  });

  it('an account kube-harden made for this workload before is reused (a re-run)', () => {
    const web = plan(withAccount(), { accountOwners: new Map([['payments/web', 'Deployment/web']]) }).find(
      (r) => r.workload.name === 'web',
    );
    expect(web?.choice).toBe('dedicate');
    expect(web?.accountExists).toBe(true);
  });

  it("a copy's name taken by a binding that binds something else skips the workload; the same copy is fine", () => {
    const taken = binding(
      'RoleBinding',
      'ledger-web',
      { kind: 'Role', name: 'admin' },
      [SA_DEFAULT],
      'payments',
    );
    const web = plan(payments([ledger, taken])).find((r) => r.workload.name === 'web');
    expect(web?.choice).toBe('skip');
    expect(web?.why).toContain(
      'the copy of RoleBinding payments/ledger would be RoleBinding payments/ledger-web, which exists already and binds something else',
    );
    const same = binding(
      'RoleBinding',
      'ledger-web',
      { kind: 'Role', name: 'pod-reader' },
      [{ kind: 'ServiceAccount', name: 'web', namespace: 'payments' }],
      'payments',
    );
    expect(plan(payments([ledger, same])).find((r) => r.workload.name === 'web')?.choice).toBe('dedicate');
  });
});

describe('RBAC rule matching (upstream evaluation_helpers.go)', () => {
  const op = { verb: 'get', apiGroup: '', resource: 'pods', namespace: 'a', name: 'p' };
  it.each([
    [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, op, true],
    [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, op, true],
    [{ apiGroups: ['apps'], resources: ['pods'], verbs: ['get'] }, op, false],
    [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }, op, false],
    [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['q'] }, op, false],
    [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['p'] }, op, true],
    [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { ...op, subresource: 'log' }, false],
    [{ apiGroups: [''], resources: ['*/log'], verbs: ['get'] }, { ...op, subresource: 'log' }, true],
    [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }, { ...op, subresource: 'log' }, true],
    [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }, { verb: 'get', path: '/metrics' }, true],
    [{ nonResourceURLs: ['/logs/*'], verbs: ['get'] }, { verb: 'get', path: '/logs/x' }, true],
    [{ nonResourceURLs: ['/logs'], verbs: ['get'] }, { verb: 'get', path: '/logs/x' }, false],
  ])('%j allows %j: %s', (rule, request, allowed) => {
    expect(ruleAllows(rule, request)).toBe(allowed);
  });
});

// ---- The step ----------------------------------------------------------------------------------------------------

/** A live reader that finds nothing (no ServiceAccount or RoleBinding of the plan exists yet). */
const noneLive = { get: async () => ({ value: undefined, warnings: [] }) } as never;

const run = (snap: Snapshot, settings: Record<string, unknown> = {}) =>
  runStep(saDedicated, snap, { settings, reader: noneLive });

const planned = (change: Change) =>
  offlinePlanned(change, {
    step: 'sa-dedicated',
    phase: 4,
    operation: change.kind === 'apply' && change.target.kind === 'Deployment' ? 'update' : 'create',
  });

describe('sa-dedicated step', () => {
  it('is opt-in, phase 4, registered', () => {
    expect(saDedicated.optIn).toBe(true);
    expect(saDedicated.phase).toBe(4);
    expect(STEPS.some((s) => s.id === 'sa-dedicated')).toBe(true);
  });

  it('one adjacent group per workload: account, binding copies, template; one reason prefix naming the group', async () => {
    const snap = payments();
    snap.workloads.push(workload('StatefulSet', 'payments', 'db', asDefault()));
    const { changes, findings, explanation } = await run(snap);
    expect(changes.map((c) => c.id)).toEqual([
      'sa-dedicated/deployment/payments/web/serviceaccount',
      'sa-dedicated/deployment/payments/web/rolebinding/ledger-web',
      'sa-dedicated/deployment/payments/web/rolebinding/secrets-web',
      'sa-dedicated/deployment/payments/web/clusterrolebinding/node-view-payments-web',
      'sa-dedicated/deployment/payments/web/template',
      'sa-dedicated/statefulset/payments/db/serviceaccount',
      'sa-dedicated/statefulset/payments/db/rolebinding/ledger-db',
      'sa-dedicated/statefulset/payments/db/rolebinding/secrets-db',
      'sa-dedicated/statefulset/payments/db/clusterrolebinding/node-view-payments-db',
      'sa-dedicated/statefulset/payments/db/template',
    ]);
    const prefix =
      'Dedicated ServiceAccount for Deployment payments/web (group sa-dedicated/deployment/payments/web, 5 changes: apply them together): ';
    for (const c of changes.slice(0, 5)) expect(c.reason.startsWith(prefix), c.reason).toBe(true);
    const [account, copy, , clusterCopy, template] = changes;
    expect(account?.kind === 'apply' && account.desired).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'web',
        namespace: 'payments',
        labels: { 'app.kubernetes.io/managed-by': 'kube-harden' },
        annotations: { 'kube-harden.io/dedicated-for': 'Deployment/web' },
      },
      automountServiceAccountToken: true,
    });
    expect(copy?.kind === 'apply' && copy.desired).toMatchObject({
      kind: 'RoleBinding',
      metadata: {
        name: 'ledger-web',
        namespace: 'payments',
        annotations: { 'kube-harden.io/copied-from': 'RoleBinding payments/ledger' },
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: 'payments' }],
    });
    expect(copy?.reason).toContain('Rule: no audit log');
    expect(copy?.notes?.join('\n')).toContain('RoleBinding payments/ledger stays as it is');
    expect(clusterCopy?.kind === 'apply' && clusterCopy.desired).toMatchObject({
      kind: 'ClusterRoleBinding',
      metadata: { name: 'node-view-payments-web' },
      roleRef: { kind: 'ClusterRole', name: 'node-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: 'payments' }],
    });
    expect(template?.kind === 'apply' && template.desired).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'payments' },
      // The deprecated alias too: undo clears both (the server fills one from the other).
      spec: { template: { spec: { serviceAccountName: 'web', serviceAccount: 'web' } } },
    });
    expect(template?.risk).toBe('disruptive');
    // Every decision is a finding naming its evidence: the groups, and the workloads left as they are.
    const byName = new Map(
      findings.filter((f) => f.control === 'KH-SA-DEFAULT').map((f) => [f.target.name, f.message]),
    );
    expect(byName.get('web')).toMatch(
      /^dedicated account proposed \(sa-dedicated\/deployment\/payments\/web\) — .*token: uses the API \(bound to Role payments\/pod-reader .*bindings duplicated: RoleBinding payments\/ledger, RoleBinding payments\/secrets, ClusterRoleBinding node-view \(rule: no audit log/,
    );
    expect(byName.get('debug')).toMatch(/^not changed — .*bare Pod/);
    expect(byName.get('migrate')).toMatch(/^not changed — .*Job's pod template is immutable/);
    expect(byName.has('coredns')).toBe(false);
    expect(explanation.impact).toContain(
      '2 workload(s) get a dedicated ServiceAccount (10 change(s): 2 account(s), 6 binding copy(ies)',
    );
    // Inside the step's targets (creates of new objects, an update of the template).
    for (const c of changes) {
      if (c.kind !== 'apply') continue;
      const live =
        c.target.kind === 'Deployment' || c.target.kind === 'StatefulSet'
          ? { apiVersion: c.target.apiVersion, kind: c.target.kind, metadata: { ...c.desired.metadata } }
          : undefined;
      expect(
        outsideTargets({ ...planned(c), operation: live ? 'update' : 'create' }, saDedicated.targets, live),
      ).toBeUndefined();
    }
    // The targets refuse what the step never writes: default itself, another field of the template.
    const sa0 = planned(changes[0] as Change);
    expect(
      outsideTargets(
        { ...sa0, target: { ...(sa0.target as ObjectRef), name: 'default' } },
        saDedicated.targets,
        undefined,
      ),
    ).toContain('never touches ServiceAccount default');
    const t = planned(template as Change);
    expect(
      outsideTargets(
        {
          ...t,
          desired: { ...(t.desired as KubeObject), spec: { template: { spec: { hostNetwork: true } } } },
        },
        saDedicated.targets,
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'payments' } },
      ),
    ).toContain('never sets field spec.template.spec.hostNetwork');
  });

  it('reads --audit-log (declared by sa-tokens): only used bindings are copied; a Helm workload exports its template patch', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kh-sad-')), 'audit.log');
    writeFileSync(
      file,
      `${event(DEFAULT_USER, 'get', { resource: 'nodes', name: 'n1', apiVersion: 'v1' })}\n`,
    );
    const snap = payments();
    const web = snap.workloads.find((w) => w.name === 'web');
    if (web) web.managedBy = [{ tool: 'helm', detail: 'Helm release payments/web' } as never];
    const { changes } = await run(snap, { 'sa-tokens.auditLog': file });
    expect(changes.map((c) => c.id)).toEqual([
      'sa-dedicated/deployment/payments/web/serviceaccount',
      'sa-dedicated/deployment/payments/web/clusterrolebinding/node-view-payments-web',
      'sa-dedicated/deployment/payments/web/template',
    ]);
    expect(changes[1]?.reason).toContain(
      'allowed 1 request ServiceAccount payments/default made in the audit log',
    );
    expect(changes[2]?.exportPatch).toBe('Helm release payments/web');
    expect(changes[2]?.notes?.join('\n')).toContain(
      'RoleBinding payments/ledger (Role payments/pod-reader) allowed none',
    );
    expect(changes[0]?.exportPatch).toBeUndefined();
    expect(changes[0]?.notes?.join('\n')).toContain('add this object to its source too');
  });

  it('an unreadable namespace is unknown, not compliant', async () => {
    const snap = payments();
    snap.namespaces.push(ns('hidden', {}, { unreadable: true }));
    const { findings } = await run(snap);
    expect(findings.find((f) => f.control === 'KH-UNKNOWN')?.target.name).toBe('hidden');
  });
});
