/**
 * Phase 4 in the report: token findings follow the same evidence as `sa-tokens` (one source: src/policy/sa/),
 * `workloads[].apiUse` names it, node proxy / exec and legacy token Secrets are findings in every format, and no
 * token value ever reaches an output.
 */
import { describe, expect, test } from 'vitest';
import type { Snapshot } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { allWorkloadEvidence } from '../../../src/policy/sa/evidence.js';
import { EvidenceIndex } from '../../../src/policy/sa/report.js';
import { planTokens } from '../../../src/policy/sa/tokens.js';
import { renderReport } from '../../../src/report/index.js';
import {
  binding,
  NOW,
  ns,
  restrictedSpec,
  role,
  sa,
  snapshot,
  workload,
} from '../../fixtures/snapshots/builder.js';

const spec = (serviceAccountName?: string) =>
  restrictedSpec({
    automountServiceAccountToken: undefined,
    ...(serviceAccountName ? { serviceAccountName } : { serviceAccountName: undefined }),
  });

function fixture(): Snapshot {
  return snapshot({
    namespaces: [ns('payments'), ns('shop')],
    workloads: [
      workload('Deployment', 'payments', 'ledger', spec()),
      workload('Deployment', 'payments', 'web', spec('web')),
      workload('Deployment', 'shop', 'cart', spec()),
      workload('Deployment', 'shop', 'quiet', { ...spec(), automountServiceAccountToken: false }),
    ],
    serviceAccounts: [sa('payments', 'default'), sa('payments', 'web'), sa('shop', 'default')],
    roles: [
      role(
        'Role',
        'ledger-operator',
        [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
        'payments',
      ),
      role('ClusterRole', 'node-debug', [
        { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
      ]),
    ],
    bindings: [
      binding(
        'RoleBinding',
        'ledger',
        { kind: 'Role', name: 'ledger-operator' },
        [{ kind: 'ServiceAccount', name: 'default', namespace: 'payments' }],
        'payments',
      ),
      binding('ClusterRoleBinding', 'debuggers', { kind: 'ClusterRole', name: 'node-debug' }, [
        { kind: 'User', name: 'alice' },
      ]),
      binding('ClusterRoleBinding', 'ops-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [
        { kind: 'User', name: 'bob' },
      ]),
    ],
    serviceAccountFacts: {
      legacyTokens: [
        {
          namespace: 'shop',
          name: 'cart-token',
          serviceAccount: 'cart',
          created: '2024-03-01T00:00:00Z',
          lastUsed: '2026-05-30',
        },
        { namespace: 'payments', name: 'old-token', serviceAccount: 'web' },
      ],
    },
  });
}

const targetOf = (f: { target: { kind: string; namespace?: string; name: string } }) =>
  `${f.target.kind} ${f.target.namespace ? `${f.target.namespace}/` : ''}${f.target.name}`;

describe('token findings follow the evidence of sa-tokens', () => {
  const a = assess(fixture(), { now: NOW });
  const of = (control: string) => a.findings.filter((f) => f.control === control);

  test('with evidence: info, token kept, the evidence named; without: the medium finding, saying so', () => {
    expect(of('KH-SA-TOKEN-EVIDENCE').map(targetOf)).toEqual(['Deployment payments/ledger']);
    expect(of('KH-SA-TOKEN-EVIDENCE')[0]?.message).toContain(
      'it uses the API, so the token is kept — evidence: bound to Role payments/ledger-operator (RoleBinding payments/ledger)',
    );
    expect(of('KH-SA-TOKEN-AUTOMOUNT').map(targetOf).sort()).toEqual([
      'Deployment payments/web',
      'Deployment shop/cart',
    ]);
    expect(of('KH-SA-TOKEN-AUTOMOUNT')[0]?.message).toContain('no evidence of API use (no binding');
  });

  test('workloads[].apiUse and automountToken agree with the planner (same evidence, same mount answer)', () => {
    const snap = fixture();
    const plans = planTokens({ snapshot: snap, namespaces: ['payments', 'shop'] }).flatMap(
      (n) => n.workloads,
    );
    for (const p of plans) {
      const w = a.workloads.find((x) => x.namespace === p.workload.namespace && x.name === p.workload.name);
      expect(w?.apiUse, p.workload.name).toEqual({ use: p.evidence.use, evidence: p.evidence.summary });
      expect(w?.automountToken, p.workload.name).toBe(p.mountsToday);
    }
    const json = JSON.parse(renderReport(a, 'json', { timestamps: false }));
    expect(json.workloads.find((w: { name: string }) => w.name === 'ledger').apiUse).toEqual({
      use: 'yes',
      evidence: 'bound to Role payments/ledger-operator (RoleBinding payments/ledger)',
    });
  });

  test('the indexed evidence equals the evidence over all bindings (group bindings included)', () => {
    const snap = fixture();
    snap.bindings.push(
      binding('ClusterRoleBinding', 'all-sa-view', { kind: 'ClusterRole', name: 'view' }, [
        { kind: 'Group', name: 'system:serviceaccounts' },
      ]),
      binding(
        'RoleBinding',
        'both',
        { kind: 'ClusterRole', name: 'edit' },
        [
          { kind: 'Group', name: 'system:serviceaccounts:shop' },
          { kind: 'ServiceAccount', name: 'default', namespace: 'shop' },
        ],
        'shop',
      ),
    );
    const index = new EvidenceIndex(snap);
    const all = allWorkloadEvidence({ snapshot: snap });
    for (const e of all) {
      const w = snap.workloads.find((x) => x.namespace === e.namespace && x.name === e.name);
      if (!w) throw new Error('fixture');
      expect(index.evidence(w, e.serviceAccount)).toEqual(e);
    }
    expect(all.some((e) => e.notes.some((n) => n.includes('group system:serviceaccounts')))).toBe(true);
  });
});

describe('RBAC and token hygiene in the report', () => {
  const a = assess(fixture(), { now: NOW });

  test('nodes/proxy, pods/exec, cluster-admin and legacy tokens are findings', () => {
    const ids = (c: string) => a.findings.filter((f) => f.control === c).map(targetOf);
    expect(ids('KH-RBAC-NODES-PROXY')).toEqual(['ClusterRoleBinding debuggers']);
    expect(ids('KH-RBAC-PODS-EXEC')).toEqual(['ClusterRoleBinding debuggers']);
    expect(ids('KH-RBAC-CLUSTER-ADMIN')).toEqual(['ClusterRoleBinding ops-admin']);
    expect(ids('KH-SA-LEGACY-TOKEN')).toEqual(['Secret payments/old-token', 'Secret shop/cart-token']);
    const cart = a.findings.find((f) => f.target.name === 'cart-token');
    expect(cart?.message).toContain('last used 2026-05-30');
    expect(a.findings.find((f) => f.target.name === 'old-token')?.message).toContain('no use recorded');
  });

  test('every format names them; the catalog next step carries the audience note', () => {
    for (const format of ['text', 'md', 'json', 'sarif'] as const) {
      const out = renderReport(a, format, { timestamps: false, width: 200 });
      for (const s of [
        'KH-SA-LEGACY-TOKEN',
        'cart-token',
        'KH-RBAC-NODES-PROXY',
        'KH-RBAC-PODS-EXEC',
        'ops-admin',
      ])
        expect(out, `${format}: ${s}`).toContain(s);
    }
    const json = JSON.parse(renderReport(a, 'json', { timestamps: false }));
    const legacy = json.controls.find((c: { id: string }) => c.id === 'KH-SA-LEGACY-TOKEN');
    expect(legacy.nextStep).toContain('its own audience');
  });

  test('Secrets that could not be listed: their own finding, not an inventory unknown', () => {
    const snap = fixture();
    snap.serviceAccountFacts = { legacyTokens: [], unreadable: { namespaces: [], reason: 'Forbidden' } };
    const b = assess(snap, { now: NOW });
    expect(b.unknown).toEqual([]);
    expect(b.findings.filter((f) => f.control === 'KH-UNKNOWN')).toEqual([]);
    const f = b.findings.find((x) => x.control === 'KH-SA-LEGACY-TOKEN-UNKNOWN');
    expect(f?.message).toContain('could not be listed cluster-wide (Forbidden)');
    expect(f?.severity).toBe('medium');
  });
});
