/**
 * rbac-review (phase 4): the report's RBAC findings plus nodes/proxy and exec, on bindings in scope; with an audit
 * log, a manual narrowed-role proposal per bound subject that made requests (rendered from templates/rbac/), and an
 * "unused" finding for one that made none. Never a write.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { outsideTargets } from '../../../src/engine/targets.js';
import type { PlannedChange } from '../../../src/engine/types.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import { rbacReview } from '../../../steps/rbac-review.js';
import { binding, ns, role, snapshot } from '../../fixtures/snapshots/builder.js';
import { runStep } from '../../support/step-run.js';

const run = (snap: Snapshot, settings: Record<string, unknown> = {}, namespaces: string[] = []) =>
  runStep(rbacReview, snap, { settings, namespaces });

function fixture(): Snapshot {
  return snapshot({
    namespaces: [ns('shop'), ns('ci')],
    roles: [
      role('ClusterRole', 'debugger', [
        { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
      ]),
      role('Role', 'editor', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], 'shop'),
    ],
    bindings: [
      binding('ClusterRoleBinding', 'debuggers', { kind: 'ClusterRole', name: 'debugger' }, [
        { kind: 'User', name: 'alice' },
      ]),
      binding(
        'RoleBinding',
        'cart-editor',
        { kind: 'Role', name: 'editor' },
        [{ kind: 'ServiceAccount', name: 'cart', namespace: 'shop' }],
        'shop',
      ),
      binding(
        'RoleBinding',
        'idle',
        { kind: 'Role', name: 'editor' },
        [{ kind: 'ServiceAccount', name: 'idle', namespace: 'ci' }],
        'ci',
      ),
    ],
  });
}

const event = (user: string, objectRef: Record<string, string>, verb = 'get') =>
  JSON.stringify({
    kind: 'Event',
    stage: 'ResponseComplete',
    verb,
    user: { username: user },
    objectRef,
    requestReceivedTimestamp: '2026-06-01T10:00:00Z',
  });

describe('rbac-review', () => {
  it('findings: the report checks plus nodes/proxy and exec; bindings out of scope are left out', async () => {
    const { findings, changes } = await run(fixture());
    const ids = findings.map((f) => `${f.control} ${f.target.name}`).sort();
    expect(ids).toEqual(
      expect.arrayContaining([
        'KH-RBAC-CLUSTER-ADMIN cart-editor',
        'KH-RBAC-NODES-PROXY debuggers',
        'KH-RBAC-PODS-EXEC debuggers',
        'KH-RBAC-WILDCARD editor',
      ]),
    );
    expect(findings.find((f) => f.control === 'KH-RBAC-NODES-PROXY')?.severity).toBe('high');
    expect(changes).toEqual([]);
    const narrowed = await run(fixture(), {}, ['shop']);
    expect(narrowed.findings.some((f) => f.target.name === 'idle')).toBe(false);
  });

  it('with an audit log: a narrowed role per subject that made requests, unused for one that made none', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kh-rr-')), 'audit.log');
    writeFileSync(
      file,
      [
        event('system:serviceaccount:shop:cart', { resource: 'configmaps', namespace: 'shop', name: 'cart' }),
        event('system:serviceaccount:shop:cart', { resource: 'pods', namespace: 'shop' }, 'list'),
        event('alice', { resource: 'nodes', subresource: 'proxy', name: 'n1' }),
      ].join('\n'),
    );
    const { findings, changes, explanation } = await run(fixture(), { 'sa-tokens.auditLog': file });
    expect(changes.map((c) => c.id)).toEqual([
      'rbac-review/narrowed/user/alice',
      'rbac-review/narrowed/shop/cart',
    ]);
    const cart = changes[1];
    if (cart?.kind !== 'manual') throw new Error('manual expected');
    expect(cart.reason).toContain(
      'is bound by RoleBinding shop/cart-editor; in the audit log it made 2 requests',
    );
    expect(cart.artifact.path).toBe('narrowed-serviceaccount-shop-cart.yaml');
    const docs = parseAllDocuments(cart.artifact.content).map((d) => d.toJS());
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name}`)).toEqual([
      'Role shop/kube-harden-narrowed:shop:cart',
      'RoleBinding shop/kube-harden-narrowed:shop:cart',
    ]);
    expect(docs[0].rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['cart'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(docs[1].subjects).toEqual([{ kind: 'ServiceAccount', name: 'cart', namespace: 'shop' }]);
    expect(findings.find((f) => f.control === 'KH-RBAC-UNUSED')?.message).toContain(
      'ServiceAccount ci/idle made no request in the audit log',
    );
    expect(explanation.impact).toContain('Nothing is written to the cluster');
    for (const c of changes) {
      const planned = {
        ...c,
        step: 'rbac-review',
        phase: 4,
        operation: 'manual',
      } as unknown as PlannedChange;
      expect(outsideTargets(planned, rbacReview.targets, undefined)).toBeUndefined();
    }
  });

  it('token hygiene: legacy token Secrets in scope are findings with their use; unreadable ones are unknown', async () => {
    const snap = fixture();
    snap.serviceAccountFacts = {
      legacyTokens: [
        {
          namespace: 'ci',
          name: 'ci-token',
          serviceAccount: 'ci-deployer',
          created: '2023-01-02T03:04:05Z',
          lastUsed: '2026-05-30',
        },
        { namespace: 'shop', name: 'old', serviceAccount: 'cart', invalidSince: '2026-01-01' },
      ],
      unreadable: { namespaces: ['data'], reason: 'Forbidden' },
    };
    const { findings } = await run(snap, {}, ['ci', 'data']);
    const tokens = findings.filter((f) => f.control === 'KH-SA-LEGACY-TOKEN');
    expect(tokens.map((f) => `${f.target.namespace}/${f.target.name}`)).toEqual(['ci/ci-token']);
    expect(tokens[0]?.message).toContain(
      'a long-lived token of ServiceAccount ci/ci-deployer, created 2023-01-02: last used 2026-05-30',
    );
    expect(findings.find((f) => f.control === 'KH-SA-LEGACY-TOKEN-UNKNOWN')?.message).toContain(
      'could not be listed in data (Forbidden)',
    );
  });
});
