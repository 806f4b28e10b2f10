/**
 * network-default-deny (phase 3): which namespaces it plans, one change per desired policy, the CNI verdict as a
 * finding, and the loud "no effect" note on every change when the CNI does not (or is not known to) enforce.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import type { ClusterReader } from '../../../src/cluster/types.js';
import { outsideTargets } from '../../../src/engine/targets.js';
import type { Change, PlannedChange, StepContext } from '../../../src/engine/types.js';
import { buildSnapshot } from '../../../src/inventory/build.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import { NO_EFFECT_NOTE, networkDefaultDeny } from '../../../steps/network-default-deny.js';
import { netpol, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { runStep } from '../../support/step-run.js';

const fixture = join(import.meta.dirname, '..', '..', 'fixtures', 'netpol-cluster');

const run = (snap: Snapshot, settings: Record<string, unknown> = {}, reader?: ClusterReader) =>
  runStep(networkDefaultDeny, snap, { settings, ...(reader ? { reader } : {}) });

const ids = (changes: Change[]) => changes.map((c) => c.id);

function planned(change: Change): PlannedChange {
  if (change.kind !== 'apply') throw new Error('not an apply');
  return {
    id: change.id,
    step: 'network-default-deny',
    phase: 3,
    kind: 'apply',
    operation: 'create',
    target: change.target,
    desired: change.desired,
    risk: change.risk,
    reason: change.reason,
    notes: change.notes ?? [],
    baseResourceVersion: null,
    diff: { text: '', added: 0, removed: 0 },
    warnings: [],
    preview: 'offline',
  };
}

describe('network-default-deny on the netpol fixture cluster (manifest source)', async () => {
  const source = await ManifestSource.load(fixture);
  const snap = await buildSnapshot(source);

  it('plans the application namespaces only, one create per policy, explanations as reasons', async () => {
    const { facts, changes, findings } = await run(snap);
    expect(facts.plan.namespaces.map((n) => n.namespace)).toEqual(['default', 'gateways', 'shop']);
    expect(facts.skipped.map((s) => `${s.namespace}:${s.tier}`)).toEqual(
      expect.arrayContaining([
        'kube-system:system',
        'ingress-nginx:infrastructure',
        'monitoring:infrastructure',
      ]),
    );
    const shop = changes.filter((c) => c.kind === 'apply' && c.target.namespace === 'shop');
    expect(ids(shop)[0]).toBe('network-default-deny/shop/kube-harden-default-deny');
    expect(ids(shop)).toContain('network-default-deny/shop/kube-harden-allow-dns');
    for (const c of changes) {
      if (c.kind !== 'apply') throw new Error('not an apply');
      expect(c.risk).toBe('disruptive');
      expect(c.target.apiVersion).toBe('networking.k8s.io/v1');
      expect(c.desired.kind).toBe('NetworkPolicy');
      expect(c.desired.metadata.name).toBe(c.target.name);
      expect(c.desired.metadata.namespace).toBe(c.target.namespace);
      const policy = facts.plan.namespaces
        .flatMap((n) => n.policies)
        .find((p) => p.namespace === c.target.namespace && p.name === c.target.name);
      expect(c.reason).toBe(policy?.explanation);
      expect(c.desired.spec).toEqual(policy?.object.spec);
      // Every generated change is inside the step's declared targets (what apply --plan checks).
      expect(outsideTargets(planned(c), networkDefaultDeny.targets, undefined)).toBeUndefined();
    }
    const deny = shop[0];
    expect(deny?.kind === 'apply' && deny.desired.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
    // The DNS allow goes to the pod port behind the Service (53 → 5353), not to 53.
    const dns = shop.find((c) => c.id.endsWith('allow-dns'));
    expect(JSON.stringify(dns?.kind === 'apply' && dns.desired.spec)).toContain('5353');
    expect(findings.map((f) => `${f.control} ${f.target.name}`)).toEqual(
      expect.arrayContaining(['KH-NET-NO-DEFAULT-DENY-INGRESS shop', 'KH-NET-NO-DEFAULT-DENY-EGRESS shop']),
    );
  });

  it('reports the CNI verdict; an enforcing CNI adds no "no effect" note', async () => {
    const { facts, findings, changes, explanation } = await run(snap);
    expect(facts.plan.cni.enforcesNetworkPolicy).toBe(true);
    expect(findings.filter((f) => f.control.startsWith('KH-NET-CNI')).map((f) => f.control)).toEqual([
      'KH-NET-CNI',
    ]);
    expect(changes.some((c) => c.notes?.some((n) => n.includes(NO_EFFECT_NOTE)))).toBe(false);
    expect(explanation.why).not.toContain(NO_EFFECT_NOTE);
    expect(explanation.why).not.toContain('WARNING');
    expect(explanation.rollback).toContain('kube-harden undo');
  });

  it('includes infrastructure namespaces only with the setting, system ones only when forced', async () => {
    const infra = await run(snap, { 'network-default-deny.includeInfrastructure': 'yes' });
    expect(infra.facts.plan.namespaces.map((n) => n.namespace)).toEqual([
      'default',
      'gateways',
      'ingress-nginx',
      'monitoring',
      'shop',
    ]);
    const forced = await run(snap, { 'network-default-deny.forceSystemNamespaces': 'yes' });
    expect(forced.facts.plan.namespaces.map((n) => n.namespace)).toContain('kube-system');
    // A saved plan still refuses a change in a system namespace (targets are static).
    const inSystem = forced.changes.find((c) => c.kind === 'apply' && c.target.namespace === 'kube-system');
    expect(inSystem).toBeDefined();
    expect(outsideTargets(planned(inSystem as Change), networkDefaultDeny.targets, undefined)).toMatch(
      /never writes in namespace kube-system/,
    );
  });

  it('targets: only kube-harden-* names, only the policy spec fields', async () => {
    const { changes } = await run(snap);
    const c = planned(changes[0] as Change);
    const renamed = { ...c, target: { ...c.target!, name: 'default-deny' } } as PlannedChange;
    renamed.desired = { ...c.desired!, metadata: { ...c.desired!.metadata, name: 'default-deny' } };
    expect(outsideTargets(renamed, networkDefaultDeny.targets, undefined)).toMatch(/never touches/);
    const extra = {
      ...c,
      desired: { ...c.desired!, spec: { ...(c.desired!.spec as object), other: 1 } },
    } as PlannedChange;
    expect(outsideTargets(extra, networkDefaultDeny.targets, undefined)).toMatch(
      /never sets field spec.other/,
    );
    const label = structuredClone(c);
    label.desired!.metadata.labels = { ...label.desired!.metadata.labels, team: 'x' };
    expect(outsideTargets(label, networkDefaultDeny.targets, undefined)).toMatch(/never sets label team/);
  });

  it('isolated same-namespace traffic drops the allow-same-namespace policy', async () => {
    const ns = await run(snap);
    const iso = await run(snap, { 'network-default-deny.sameNamespace': 'isolated' });
    expect(ids(ns.changes)).toContain('network-default-deny/shop/kube-harden-allow-same-namespace');
    expect(ids(iso.changes)).not.toContain('network-default-deny/shop/kube-harden-allow-same-namespace');
  });
});

describe('network-default-deny on built snapshots', () => {
  it('without network facts: CNI unknown → every change says it has no effect, egress is refused (no DNS)', async () => {
    const snap = snapshot({
      namespaces: [ns('kube-system'), ns('shop')],
      workloads: [workload('Deployment', 'shop', 'web', restrictedSpec(), { pods: 1 })],
    });
    const { facts, findings, changes, explanation } = await run(snap);
    expect(facts.plan.cni.enforcesNetworkPolicy).toBe('unknown');
    expect(findings.map((f) => f.control)).toContain('KH-NET-CNI-UNKNOWN');
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) expect(c.notes?.[0]).toContain(NO_EFFECT_NOTE);
    // Said first, before anything else PLAN.md shows of the step.
    expect(explanation.why).toMatch(
      /^WARNING: NetworkPolicies have no effect yet: the CNI \(unknown\) is not known to enforce NetworkPolicy; phase 3 \(default-deny\) is not done until it does\./,
    );
    expect(ids(changes)[0]).toBe('network-default-deny/shop/kube-harden-default-deny-ingress');
    expect(changes[0]?.notes?.some((n) => n.startsWith('not proposed: egress not denied'))).toBe(true);
    expect(findings.find((f) => f.control === 'KH-NET-NO-DEFAULT-DENY-EGRESS')?.message).toMatch(
      /not proposed: egress not denied/,
    );
  });

  it('respects an existing all-pods deny: only the missing direction is added, nothing is overwritten', async () => {
    const snap = snapshot({
      namespaces: [ns('shop')],
      networkPolicies: [netpol('shop', 'deny-in', { policyTypes: ['Ingress'] })],
    });
    const { changes, findings } = await run(snap);
    expect(changes.some((c) => c.kind === 'apply' && c.target.name === 'deny-in')).toBe(false);
    expect(findings.some((f) => f.control === 'KH-NET-NO-DEFAULT-DENY-INGRESS')).toBe(false);
    // Egress is refused here (no DNS Service known): no new deny, only same-namespace traffic for the denied ingress.
    expect(ids(changes)).toEqual(['network-default-deny/shop/kube-harden-allow-same-namespace']);
  });

  it('an unreadable namespace is unknown, not compliant, and gets no policy', async () => {
    const snap = snapshot({ namespaces: [ns('hidden', {}, { unreadable: true })] });
    const { changes, findings } = await run(snap);
    expect(findings.map((f) => `${f.control} ${f.target.name}`)).toContain('KH-UNKNOWN hidden');
    expect(changes).toEqual([]);
  });

  it('verify says DNS was not probed', async () => {
    const v = await networkDefaultDeny.verify?.({} as StepContext, []);
    expect(v?.ok).toBe(true);
    expect(v?.messages.join(' ')).toContain('DNS was not probed');
  });
});
