/**
 * sa-tokens (phase 4): the default account stops mounting, workloads without evidence get false on their template,
 * workloads with evidence running as default get an explicit true; immutable workloads that need default's token
 * keep default as it is; system namespaces are never changed; every decision names its evidence; the changes stay
 * inside the step's targets.
 */
import { describe, expect, it } from 'vitest';
import { outsideTargets } from '../../../src/engine/targets.js';
import type { Change } from '../../../src/engine/types.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import { saTokens } from '../../../steps/sa-tokens.js';
import { binding, NOW, ns, sa, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { asDefault } from '../../support/pod-specs.js';
import { offlinePlanned, runStep } from '../../support/step-run.js';

const run = (snap: Snapshot, settings: Record<string, unknown> = {}) => runStep(saTokens, snap, { settings });

const planned = (change: Change, operation: 'create' | 'update' = 'update') =>
  offlinePlanned(change, { step: 'sa-tokens', phase: 4, operation });

const template = (c: Change | undefined) =>
  c?.kind === 'apply'
    ? (c.desired.spec as { template: { spec: Record<string, unknown> } }).template.spec
    : undefined;

const ledgerBinding = binding(
  'RoleBinding',
  'ledger',
  { kind: 'Role', name: 'ledger-operator' },
  [{ kind: 'ServiceAccount', name: 'default', namespace: 'payments' }],
  'payments',
);

function payments(): Snapshot {
  return snapshot({
    namespaces: [ns('payments'), ns('kube-system')],
    serviceAccounts: [sa('payments', 'default'), sa('payments', 'api', false), sa('payments', 'worker')],
    workloads: [
      workload('Deployment', 'payments', 'web', asDefault()),
      workload('Deployment', 'payments', 'api', asDefault({ serviceAccountName: 'api' })),
      workload('Deployment', 'payments', 'worker', asDefault({ serviceAccountName: 'worker' })),
      workload('StatefulSet', 'payments', 'keeps', asDefault({ automountServiceAccountToken: true })),
      workload('Deployment', 'kube-system', 'coredns', asDefault()),
    ],
    bindings: [],
  });
}

describe('sa-tokens', () => {
  it('without evidence: default stops mounting, templates say false, accounts that already say false change nothing', async () => {
    const { changes, findings, explanation } = await run(payments());
    expect(changes.map((c) => c.id)).toEqual([
      'sa-tokens/serviceaccount/payments/default',
      'sa-tokens/deployment/payments/web',
      'sa-tokens/deployment/payments/worker',
    ]);
    const sa0 = changes[0];
    expect(sa0?.kind === 'apply' && sa0.desired).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace: 'payments' },
      automountServiceAccountToken: false,
    });
    expect(template(changes[1])).toEqual({ automountServiceAccountToken: false });
    expect(changes[1]?.reason).toContain(
      'shows no API use (no binding, no known controller, no projected token',
    );
    // Every workload's decision is a finding naming its evidence, the ones that change nothing too.
    const ev = findings.filter((f) => f.control === 'KH-SA-TOKEN-EVIDENCE').map((f) => f.target.name);
    expect(ev.sort()).toEqual(['api', 'keeps', 'web', 'worker']);
    expect(findings.find((f) => f.target.name === 'api')?.message).toMatch(
      /^no change — evidence: no binding.* — Deployment payments\/api mounts no token already /,
    );
    // kube-system is never touched.
    expect(changes.some((c) => c.kind === 'apply' && c.target.namespace === 'kube-system')).toBe(false);
    expect(explanation.impact).toContain(
      '1 default ServiceAccount(s) stop mounting tokens; 2 workload template(s)',
    );
    for (const c of changes) {
      if (c.kind !== 'apply') continue;
      const live = {
        apiVersion: c.target.apiVersion,
        kind: c.target.kind,
        metadata: { ...c.desired.metadata },
      };
      expect(outsideTargets(planned(c), saTokens.targets, live)).toBeUndefined();
    }
  });

  it('a workload with evidence running as default gets an explicit true, named by its evidence', async () => {
    const snap = payments();
    snap.bindings.push(ledgerBinding);
    const { changes } = await run(snap);
    const web = changes.find((c) => c.id === 'sa-tokens/deployment/payments/web');
    expect(template(web)).toEqual({ automountServiceAccountToken: true });
    expect(web?.reason).toContain(
      'uses the API (bound to Role payments/ledger-operator (RoleBinding payments/ledger))',
    );
    expect(web?.notes?.[0]).toContain(
      'deselect it only together with the change of ServiceAccount payments/default',
    );
    const def = changes.find((c) => c.id === 'sa-tokens/serviceaccount/payments/default');
    expect(def?.reason).toContain('1 of them use the API and get an explicit true');
  });

  it('a Job that needs the default token keeps default unchanged (its template is immutable)', async () => {
    const snap = payments();
    snap.bindings.push(ledgerBinding);
    snap.workloads.push(workload('Job', 'payments', 'migrate', asDefault()));
    const { changes, findings } = await run(snap);
    expect(changes.some((c) => c.id === 'sa-tokens/serviceaccount/payments/default')).toBe(false);
    // Without the default change, nobody needs an explicit true; the others still get false.
    expect(changes.map((c) => c.id)).toEqual(['sa-tokens/deployment/payments/worker']);
    expect(
      findings.find((f) => f.target.kind === 'ServiceAccount' && f.target.name === 'default')?.message,
    ).toMatch(/left as it is: Job payments\/migrate .* cannot be changed in place/);
  });

  it('an audit log is evidence: requests keep the token, none in the window removes it', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'kh-sat-')), 'audit.log');
    const ev = (user: string) =>
      JSON.stringify({
        kind: 'Event',
        stage: 'ResponseComplete',
        verb: 'list',
        user: { username: user },
        objectRef: { resource: 'pods', namespace: 'payments' },
        requestReceivedTimestamp: '2026-06-01T10:00:00Z',
      });
    writeFileSync(
      file,
      `${ev('system:serviceaccount:payments:worker')}\n${ev('system:serviceaccount:payments:worker')}\n`,
    );
    const { changes, findings } = await run(payments(), { 'sa-tokens.auditLog': file });
    expect(changes.map((c) => c.id)).toEqual([
      'sa-tokens/serviceaccount/payments/default',
      'sa-tokens/deployment/payments/web',
    ]);
    expect(findings.find((f) => f.target.name === 'worker')?.message).toContain(
      'token kept — evidence: made 2 requests in the audit log (2026-06-01T10:00:00Z → 2026-06-01T10:00:00Z) — Deployment payments/worker uses the API',
    );
    expect(changes[1]?.reason).toContain('no binding, no requests in the audit log');
  });

  it('unreadable bindings: unknown keeps the token (explicit true under default)', async () => {
    const snap = payments();
    snap.unknown.push({
      resource: 'rolebindings.rbac.authorization.k8s.io',
      namespace: 'payments',
      reason: 'Forbidden',
      message: 'forbidden',
    });
    const { changes } = await run(snap);
    expect(template(changes.find((c) => c.id === 'sa-tokens/deployment/payments/web'))).toEqual({
      automountServiceAccountToken: true,
    });
    expect(template(changes.find((c) => c.id === 'sa-tokens/deployment/payments/worker'))).toBeUndefined();
  });

  it('unreadable ServiceAccounts: no change in that namespace, an unknown finding', async () => {
    const snap = payments();
    snap.unknown.push({
      resource: 'serviceaccounts',
      namespace: 'payments',
      reason: 'Forbidden',
      message: 'x',
    });
    const { changes, findings } = await run(snap);
    expect(changes).toEqual([]);
    expect(findings.some((f) => f.control === 'KH-UNKNOWN' && f.target.name === 'payments')).toBe(true);
  });

  it('targets refuse what the step never writes', () => {
    const other: Change = {
      kind: 'apply',
      id: 'x',
      target: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'payments', name: 'api' },
      desired: {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'api', namespace: 'payments' },
        automountServiceAccountToken: false,
      } as never,
      risk: 'disruptive',
      reason: '',
    };
    expect(outsideTargets(planned(other, 'create'), saTokens.targets, undefined)).toMatch(
      /never touches ServiceAccount api/,
    );
    const loosen: Change = {
      kind: 'apply',
      id: 'y',
      target: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'payments', name: 'default' },
      desired: {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace: 'payments' },
        automountServiceAccountToken: true,
      } as never,
      risk: 'disruptive',
      reason: '',
    };
    expect(outsideTargets(planned(loosen, 'create'), saTokens.targets, undefined)).toMatch(
      /never sets field automountServiceAccountToken to true/,
    );
  });

  it('permissions: patch ServiceAccounts and workload kinds in scope, never in system namespaces', () => {
    const checks = saTokens.permissions({ namespaces: [], exclude: [], settings: {}, now: NOW }, payments());
    expect(checks).toEqual([
      { verb: 'patch', group: '', resource: 'serviceaccounts', namespace: 'payments' },
      { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'payments' },
      { verb: 'patch', group: 'apps', resource: 'statefulsets', namespace: 'payments' },
    ]);
  });
});

describe('the namespaces both phase-4 steps may change (accountNamespaces)', () => {
  it('an unreadable namespace is unknown, naming what is not proposed there; system namespaces are never changed', async () => {
    const { saDedicated } = await import('../../../steps/sa-dedicated.js');
    const snap = snapshot({
      namespaces: [ns('payments'), ns('shop'), ns('kube-system')],
      serviceAccounts: [sa('payments', 'default'), sa('kube-system', 'default')],
      workloads: [
        workload('Deployment', 'payments', 'web', asDefault()),
        workload('Deployment', 'shop', 'cart', asDefault()),
        workload('Deployment', 'kube-system', 'agent', asDefault()),
      ],
      unknown: [
        { resource: 'serviceaccounts', namespace: 'shop', reason: 'Forbidden', message: 'forbidden' },
      ],
    });
    const unknownOf = (findings: Array<{ control: string; target?: { name: string }; message: string }>) =>
      findings.filter((f) => f.control === 'KH-UNKNOWN').map((f) => [f.target?.name, f.message]);

    const tokens = await run(snap);
    expect(unknownOf(tokens.findings)).toEqual([
      [
        'shop',
        'namespace shop: it or its ServiceAccounts could not be read, so no token change is proposed (unknown is not compliant)',
      ],
    ]);
    expect(tokens.facts.skipped).toEqual([
      { namespace: 'kube-system', reason: 'system namespace: its accounts are never changed' },
    ]);
    const touched = new Set(tokens.changes.map((c) => ('target' in c ? c.target.namespace : undefined)));
    expect([...touched]).toEqual(['payments']);

    const dedicated = await runStep(saDedicated, snap);
    expect(unknownOf(dedicated.findings)).toEqual([
      [
        'shop',
        'namespace shop: it or its ServiceAccounts could not be read, so no dedicated account is proposed (unknown is not compliant)',
      ],
    ]);
    expect(dedicated.changes.every((c) => 'target' in c && c.target.namespace === 'payments')).toBe(true);
    expect(dedicated.changes.length).toBeGreaterThan(0);
  });
});
