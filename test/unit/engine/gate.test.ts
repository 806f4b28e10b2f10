/** The pure parts of the gate a saved plan passes: what a write needs (access checks) and which changes enforce. */
import { describe, expect, it } from 'vitest';
import { accessChecks, carriesSecretValues, enforceOf } from '../../../src/engine/gate.js';
import type { PlannedChange } from '../../../src/engine/types.js';

function change(over: Partial<PlannedChange>): PlannedChange {
  return {
    id: 'c',
    step: 's',
    phase: 1,
    kind: 'apply',
    operation: 'update',
    risk: 'low',
    reason: '',
    notes: [],
    baseResourceVersion: '1',
    diff: { text: '', added: 0, removed: 0 },
    warnings: [],
    preview: 'ok',
    ...over,
  };
}

describe('accessChecks', () => {
  it('asks for get and patch (apply) or delete, on the named object in its namespace', () => {
    const target = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };
    const base = { group: 'apps', resource: 'deployments', namespace: 'shop', name: 'web' };
    expect(accessChecks(change({ target }))).toEqual([
      { verb: 'get', ...base },
      { verb: 'patch', ...base },
    ]);
    expect(accessChecks(change({ target, kind: 'delete', operation: 'delete' }))).toEqual([
      { verb: 'get', ...base },
      { verb: 'delete', ...base },
    ]);
    expect(
      accessChecks(change({ target: { apiVersion: 'v1', kind: 'Namespace', name: 'shop' } }))[1],
    ).toEqual({ verb: 'patch', group: '', resource: 'namespaces', name: 'shop' });
    expect(accessChecks(change({ kind: 'manual', operation: 'manual' }))).toEqual([]);
  });
});

describe('enforceOf', () => {
  const ns = (labels: Record<string, string>) =>
    change({
      target: { apiVersion: 'v1', kind: 'Namespace', name: 'shop' },
      desired: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels } },
    });
  it('finds the level and version an enforce change sets, and nothing in other changes', () => {
    expect(
      enforceOf(
        ns({
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.36',
        }),
      ),
    ).toEqual({ namespace: 'shop', level: 'restricted', version: 'v1.36' });
    expect(enforceOf(ns({ 'pod-security.kubernetes.io/enforce': 'baseline' }))?.version).toBe('latest');
    expect(enforceOf(ns({ 'pod-security.kubernetes.io/warn': 'restricted' }))).toBeUndefined();
  });
});

describe('carriesSecretValues', () => {
  const secret = (extra: Record<string, unknown>) =>
    change({
      target: { apiVersion: 'v1', kind: 'Secret', namespace: 'shop', name: 'db' },
      desired: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, ...extra },
    });

  it('refuses a saved Secret change that sets data or stringData (plan.json holds only the mask)', () => {
    expect(carriesSecretValues(secret({ data: { password: '***' } }))).toMatch(/Secret values/);
    expect(carriesSecretValues(secret({ stringData: { password: '***' } }))).toMatch(/from the wizard/);
  });

  it('lets through a Secret change of labels only, and changes of other kinds', () => {
    expect(carriesSecretValues(secret({}))).toBeUndefined();
    expect(
      carriesSecretValues(
        change({
          desired: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } },
        }),
      ),
    ).toBeUndefined();
  });
});
