/**
 * psa-warn-audit and psa-enforce on fixture snapshots (offline: no API server, so the server's own check is not
 * part of these; the integration tests cover it): targets per tier, pinned versions, never loosening, templates
 * of workloads without pods, exceptions PSA cannot honour, and the warn/audit-without-enforce age.
 */
import { describe, expect, test } from 'vitest';
import type { ClusterReader } from '../../../src/cluster/types.js';
import type { Change, StepContext, StepOptions } from '../../../src/engine/types.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { parseExceptions } from '../../../src/policy/exceptions.js';
import { WARN_AUDIT_SINCE } from '../../../steps/kit/annotations.js';
import { psaEnforce } from '../../../steps/psa-enforce.js';
import { psaWarnAudit } from '../../../steps/psa-warn-audit.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';

const offline = {
  source: { kind: 'manifests', path: 'fixture' },
  capabilities: { dryRun: false, reviews: false },
} as ClusterReader;

function ctx(snap: Snapshot, extra: Partial<StepOptions> = {}, exceptions?: string): StepContext {
  const register = exceptions ? parseExceptions(exceptions, 'exceptions.yaml') : undefined;
  const options: StepOptions = { namespaces: [], exclude: [], settings: {}, now: NOW, ...extra };
  return {
    snapshot: snap,
    assessment: assess(snap, { now: NOW, ...(register ? { exceptions: register } : {}) }),
    reader: offline,
    options,
    signal: new AbortController().signal,
  };
}

async function changesOf<F>(
  step: { detect: (c: StepContext) => Promise<{ facts: F }>; propose: (f: F, o: StepOptions) => Change[] },
  c: StepContext,
) {
  const { facts } = await step.detect(c);
  return step.propose(facts, c.options);
}

const labelsOf = (change: Change | undefined) =>
  change?.kind === 'apply' ? (change.desired.metadata.labels ?? {}) : undefined;

const rootSpec = () =>
  restrictedSpec({ securityContext: {}, containers: [container('app', { securityContext: {} })] });
const privilegedSpec = () =>
  restrictedSpec({ containers: [container('app', { securityContext: { privileged: true } })] });

describe('psa-warn-audit', () => {
  const snap = snapshot({
    serverVersion: { major: 1, minor: 36, gitVersion: 'v1.36.3' },
    namespaces: [
      ns('kube-system'),
      ns('monitoring'),
      ns('shop'),
      ns('strict', {
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'v1.30',
      }),
    ],
  });

  test('targets by tier with the server minor pinned; system namespaces are left alone', async () => {
    const changes = await changesOf(psaWarnAudit, ctx(snap));
    expect(changes.map((c) => c.id)).toEqual([
      'psa-warn-audit/namespace/monitoring',
      'psa-warn-audit/namespace/shop',
      'psa-warn-audit/namespace/strict',
    ]);
    expect(labelsOf(changes[0])).toEqual({
      'pod-security.kubernetes.io/warn': 'baseline',
      'pod-security.kubernetes.io/warn-version': 'v1.36',
      'pod-security.kubernetes.io/audit': 'baseline',
      'pod-security.kubernetes.io/audit-version': 'v1.36',
    });
    expect(labelsOf(changes[1])?.['pod-security.kubernetes.io/warn']).toBe('restricted');
    const shop = changes[1];
    expect(shop?.kind === 'apply' && shop.desired.metadata.annotations?.[WARN_AUDIT_SINCE]).toBe(
      '2026-06-01',
    );
  });

  test('an existing pinned label at the target keeps its version; only audit is added', async () => {
    const [, , strict] = await changesOf(psaWarnAudit, ctx(snap));
    expect(labelsOf(strict)).toMatchObject({
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'v1.30',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'v1.36',
    });
  });

  test('never loosens a stricter label, and proposes nothing when everything is in place', async () => {
    const done = snapshot({
      namespaces: [
        ns('monitoring', {
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': 'v1.37',
          'pod-security.kubernetes.io/audit': 'baseline',
          'pod-security.kubernetes.io/audit-version': 'v1.37',
        }),
      ],
    });
    expect(await changesOf(psaWarnAudit, ctx(done))).toEqual([]);
  });

  test('--psa-version and the scope flags apply', async () => {
    const changes = await changesOf(psaWarnAudit, ctx(snap, { psaVersion: 'latest', namespaces: ['shop'] }));
    expect(changes.map((c) => c.id)).toEqual(['psa-warn-audit/namespace/shop']);
    expect(labelsOf(changes[0])?.['pod-security.kubernetes.io/warn-version']).toBe('latest');
    const excluded = await changesOf(psaWarnAudit, ctx(snap, { exclude: ['shop', 'strict'] }));
    expect(excluded.map((c) => c.id)).toEqual(['psa-warn-audit/namespace/monitoring']);
  });
});

describe('psa-enforce', () => {
  test('a Deployment scaled to zero with a privileged template blocks baseline, though it has no pods', async () => {
    const snap = snapshot({
      namespaces: [ns('batch')],
      workloads: [workload('Deployment', 'batch', 'importer', privilegedSpec(), { replicas: 0 })],
    });
    const { facts, findings } = await psaEnforce.detect(ctx(snap));
    expect(psaEnforce.propose(facts, ctx(snap).options)).toEqual([]);
    expect(findings.map((f) => f.control)).toEqual(['KH-PSA-ENFORCE-BLOCKED']);
    expect(findings[0]?.message).toContain('Deployment importer (privileged');
  });

  test('restricted blocked by a root template: proposes baseline, the strictest level that passes', async () => {
    const snap = snapshot({
      namespaces: [ns('shop')],
      workloads: [
        workload('Deployment', 'shop', 'web', restrictedSpec(), { pods: 2 }),
        workload('CronJob', 'shop', 'report', rootSpec()),
      ],
    });
    const c = ctx(snap);
    const changes = await changesOf(psaEnforce, c);
    expect(changes).toHaveLength(1);
    expect(labelsOf(changes[0])).toEqual({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/enforce-version': 'v1.37',
    });
    expect(changes[0]?.risk).toBe('disruptive');
    expect(changes[0]?.notes?.[0]).toContain('CronJob report');
  });

  test('an excepted workload still blocks restricted: PSA cannot exempt one workload; the note says to move it', async () => {
    const snap = snapshot({
      namespaces: [ns('shop')],
      workloads: [workload('Deployment', 'shop', 'legacy', rootSpec(), { pods: 1 })],
    });
    const exceptions = `apiVersion: kube-harden.io/v1alpha1
kind: ExceptionList
exceptions:
  - id: legacy-root
    scope: {namespace: shop, kind: Deployment, name: legacy}
    controls: [runAsNonRoot, allowPrivilegeEscalation, capabilities_restricted, seccompProfile_restricted]
    reason: vendor image
    owner: team-shop
    expires: 2027-01-01
`;
    const c = ctx(snap, {}, exceptions);
    const changes = await changesOf(psaEnforce, c);
    expect(labelsOf(changes[0])?.['pod-security.kubernetes.io/enforce']).toBe('baseline');
    expect(changes[0]?.notes?.join('\n')).toMatch(
      /PSA cannot exempt one workload.*Deployment legacy \(exception legacy-root\)/,
    );
  });

  test('never loosens: a stricter enforce label stays; unknown namespaces get no proposal', async () => {
    const snap = snapshot({
      namespaces: [
        ns('strict', { 'pod-security.kubernetes.io/enforce': 'restricted' }),
        ns('hidden', {}, { unreadable: true }),
      ],
      workloads: [workload('Deployment', 'strict', 'root', rootSpec(), { pods: 1 })],
    });
    const { facts, findings } = await psaEnforce.detect(ctx(snap));
    expect(psaEnforce.propose(facts, ctx(snap).options)).toEqual([]);
    expect(findings.some((f) => f.control === 'KH-UNKNOWN' && f.target.name === 'hidden')).toBe(true);
  });

  test('flags warn/audit without enforce older than the threshold (default 30 days), from the annotation', async () => {
    const aged = (days: number) => {
      const since = new Date(NOW.getTime() - days * 86_400_000).toISOString().slice(0, 10);
      return ns(
        `ns-${days}`,
        { 'pod-security.kubernetes.io/warn': 'restricted' },
        { annotations: { [WARN_AUDIT_SINCE]: since } },
      );
    };
    const snap = snapshot({ namespaces: [aged(45), aged(10)] });
    const stale = (await psaEnforce.detect(ctx(snap))).findings.filter(
      (f) => f.control === 'KH-PSA-AUDIT-ONLY',
    );
    expect(stale.map((f) => f.target.name)).toEqual(['ns-45']);
    expect(stale[0]?.message).toContain('for 45 days');
    const custom = await psaEnforce.detect(ctx(snap, { settings: { 'psa-enforce.staleAfterDays': 7 } }));
    expect(
      custom.findings.filter((f) => f.control === 'KH-PSA-AUDIT-ONLY').map((f) => f.target.name),
    ).toEqual(['ns-10', 'ns-45']);
  });
});
