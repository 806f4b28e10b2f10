/**
 * Phase 7 on fixture snapshots: expired, expiring (the `--within` window, default 30 days), unused and owner-less
 * exceptions, and namespaces left audit-only or privileged beyond psa-enforce's `--audit-only-max-age`.
 */
import { describe, expect, test } from 'vitest';
import type { ClusterReader } from '../../../src/cluster/types.js';
import type { StepContext, StepOptions } from '../../../src/engine/types.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { parseExceptions } from '../../../src/policy/exceptions.js';
import { exceptionsReview, isPlaceholderOwner, WITHIN } from '../../../steps/exceptions-review.js';
import { STEPS, stepSettings } from '../../../steps/index.js';
import { ENFORCED_AT, WARN_AUDIT_SINCE } from '../../../steps/kit/annotations.js';
import { STALE_AFTER } from '../../../steps/psa-enforce.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';

const offline = {
  source: { kind: 'manifests', path: 'fixture' },
  capabilities: { dryRun: false, reviews: false },
} as ClusterReader;

const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000).toISOString().slice(0, 10);

// NOW is 2026-06-01.
const REGISTER = `apiVersion: kube-harden.io/v1alpha1
kind: ExceptionList
exceptions:
  - { id: expired, scope: { namespace: shop, kind: Deployment, name: web }, controls: [runAsNonRoot], reason: r, owner: team-shop, ticket: SHOP-1, expires: 2026-05-01 }
  - { id: in-20-days, scope: { namespace: shop, kind: Deployment, name: web }, controls: [runAsNonRoot], reason: r, owner: team-shop, expires: 2026-06-21 }
  - { id: in-60-days, scope: { namespace: shop, kind: Deployment, name: web }, controls: [runAsNonRoot], reason: r, owner: team-shop, expires: 2026-07-31 }
  - { id: unused, scope: { namespace: shop, kind: CronJob, name: etl }, controls: [hostPathVolumes], reason: r, owner: team-data, expires: 2027-01-01 }
  - { id: nobody, scope: { namespace: batch }, controls: [runAsNonRoot], reason: r, owner: TBD, expires: 2027-01-01 }
  - { id: admin, scope: { kind: ClusterRoleBinding, name: ops-admin }, controls: [KH-RBAC-CLUSTER-ADMIN], reason: r, owner: ops, expires: 2027-01-01 }
`;

const rootSpec = () =>
  restrictedSpec({ securityContext: {}, containers: [container('app', { securityContext: {} })] });

function fixture(): Snapshot {
  return snapshot({
    namespaces: [
      ns('kube-system'),
      ns('shop'),
      ns('batch'),
      ns(
        'stale',
        { 'pod-security.kubernetes.io/warn': 'restricted' },
        { annotations: { [WARN_AUDIT_SINCE]: daysAgo(45) } },
      ),
      ns(
        'fresh',
        { 'pod-security.kubernetes.io/audit': 'restricted' },
        { annotations: { [WARN_AUDIT_SINCE]: daysAgo(10) } },
      ),
      ns('exempt', { 'pod-security.kubernetes.io/enforce': 'privileged' }),
      ns(
        'exempt-recent',
        { 'pod-security.kubernetes.io/enforce': 'privileged' },
        { annotations: { [ENFORCED_AT]: daysAgo(5) } },
      ),
      ns(
        'exempt-old',
        { 'pod-security.kubernetes.io/enforce': 'privileged' },
        { annotations: { [ENFORCED_AT]: daysAgo(90) } },
      ),
      ns('infra-ok', {
        'kube-harden.io/tier': 'infrastructure',
        'pod-security.kubernetes.io/enforce': 'baseline',
      }),
    ],
    workloads: [
      workload('Deployment', 'shop', 'web', rootSpec(), { pods: 1 }),
      workload('Deployment', 'batch', 'job', rootSpec(), { pods: 1 }),
    ],
  });
}

function ctx(snap: Snapshot, extra: Partial<StepOptions> = {}, register = REGISTER): StepContext {
  return {
    snapshot: snap,
    assessment: assess(snap, { now: NOW, exceptions: parseExceptions(register, 'exceptions.yaml') }),
    reader: offline,
    options: { namespaces: [], exclude: [], settings: {}, now: NOW, ...extra },
    signal: new AbortController().signal,
  };
}

const byControl = (findings: Array<{ control: string; target: { name: string } }>) => {
  const out: Record<string, string[]> = {};
  for (const f of findings) out[f.control] = [...(out[f.control] ?? []), f.target.name];
  return out;
};

describe('exceptions-review (phase 7)', () => {
  test('is registered last of the phases, risk none, proposing nothing and needing no permission', () => {
    expect(STEPS.filter((s) => !s.optIn).at(-1)?.id).toBe('exceptions-review');
    expect(exceptionsReview.phase).toBe(7);
    expect(exceptionsReview.risk).toBe('none');
    expect(exceptionsReview.propose({} as never, ctx(fixture()).options)).toEqual([]);
    expect(exceptionsReview.permissions(ctx(fixture()).options, fixture())).toEqual([]);
  });

  test('expired, expiring within 30 days by default, unused and owner-less exceptions are findings', async () => {
    const { findings, facts } = await exceptionsReview.detect(ctx(fixture()));
    const got = byControl(findings);
    expect(got['KH-EXCEPTION-EXPIRED']).toEqual(['expired']);
    expect(got['KH-EXCEPTION-EXPIRING']).toEqual(['in-20-days']);
    expect(got['KH-EXCEPTION-UNUSED']).toEqual(['admin', 'unused']);
    expect(got['KH-EXCEPTION-NO-OWNER']).toEqual(['nobody']);
    expect(facts.within).toBe(30);
    const expired = findings.find((f) => f.control === 'KH-EXCEPTION-EXPIRED');
    expect(expired?.target).toEqual({ kind: 'Exception', namespace: 'shop', name: 'expired' });
    expect(expired?.message).toContain(
      'expired on 2026-05-01 (31 days ago) (owner team-shop, ticket SHOP-1)',
    );
    expect(expired?.severity).toBe('medium');
    const expiring = findings.find((f) => f.control === 'KH-EXCEPTION-EXPIRING');
    expect(expiring?.message).toContain('in 20 days), within the 30-day window');
    expect(facts.exceptions.find((e) => e.id === 'in-60-days')?.states).toEqual([]);
  });

  test('--within sets the window (the setting the exceptions review command declares too)', async () => {
    const wide = await exceptionsReview.detect(ctx(fixture(), { settings: { [WITHIN.key]: 90 } }));
    expect(byControl(wide.findings)['KH-EXCEPTION-EXPIRING']).toEqual(['in-20-days', 'in-60-days']);
    const narrow = await exceptionsReview.detect(ctx(fixture(), { settings: { [WITHIN.key]: 7 } }));
    expect(byControl(narrow.findings)['KH-EXCEPTION-EXPIRING']).toBeUndefined();
    expect(WITHIN.flag).toBe('within');
    expect(WITHIN.parse('2w')).toEqual({ ok: true, value: 14 });
    // One flag, one declaration: --audit-only-max-age stays psa-enforce's.
    expect(
      stepSettings()
        .filter((s) => s.flag === 'audit-only-max-age')
        .map((s) => s.key),
    ).toEqual([STALE_AFTER.key]);
  });

  test('with -n, only the exceptions of those namespaces (cluster-scoped ones need the whole cluster)', async () => {
    const { findings } = await exceptionsReview.detect(ctx(fixture(), { namespaces: ['batch'] }));
    expect(findings.filter((f) => f.target.kind === 'Exception').map((f) => f.target.name)).toEqual([
      'nobody',
    ]);
  });

  test('namespaces left audit-only or privileged beyond --audit-only-max-age (psa-enforce’s setting)', async () => {
    const { findings } = await exceptionsReview.detect(ctx(fixture()));
    const got = byControl(findings);
    expect(got['KH-PSA-AUDIT-ONLY']).toEqual(['stale']);
    // No recorded day is not "recent": unknown is not compliant.
    expect(got['KH-PSA-EXEMPT-PRIVILEGED']).toEqual(['exempt', 'exempt-old']);
    const exempt = findings.filter((f) => f.control === 'KH-PSA-EXEMPT-PRIVILEGED');
    expect(exempt[0]?.message).toContain('since a day kube-harden did not record');
    expect(exempt[1]?.message).toContain('for 90 days');
    const strict = await exceptionsReview.detect(ctx(fixture(), { settings: { [STALE_AFTER.key]: 7 } }));
    const strictGot = byControl(strict.findings);
    expect(strictGot['KH-PSA-AUDIT-ONLY']).toEqual(['fresh', 'stale']);
    expect(strictGot['KH-PSA-EXEMPT-PRIVILEGED']).toEqual(['exempt', 'exempt-old']);
    const lax = await exceptionsReview.detect(ctx(fixture(), { settings: { [STALE_AFTER.key]: 100 } }));
    expect(byControl(lax.findings)['KH-PSA-AUDIT-ONLY']).toBeUndefined();
    expect(byControl(lax.findings)['KH-PSA-EXEMPT-PRIVILEGED']).toEqual(['exempt']);
  });

  test('placeholder owners', () => {
    for (const o of ['TBD', 'tbd', 'n/a', 'NA', 'none', 'unknown', '-', '???', ' todo ']) {
      expect(isPlaceholderOwner(o)).toBe(true);
    }
    for (const o of ['team-shop', 'alice@example.com', 'none-team'])
      expect(isPlaceholderOwner(o)).toBe(false);
  });

  test('a clean register and cluster: nothing to review', async () => {
    const clean = `apiVersion: kube-harden.io/v1alpha1
kind: ExceptionList
exceptions:
  - { id: ok, scope: { namespace: shop, kind: Deployment, name: web }, controls: [runAsNonRoot], reason: r, owner: team-shop, expires: 2027-06-21 }
`;
    const snap = snapshot({
      namespaces: [ns('shop')],
      workloads: [workload('Deployment', 'shop', 'web', rootSpec(), { pods: 1 })],
    });
    const { findings, facts } = await exceptionsReview.detect(ctx(snap, {}, clean));
    expect(findings).toEqual([]);
    expect(exceptionsReview.explain(facts, []).why).toContain('0 of 1 exception(s) need a look');
  });
});
