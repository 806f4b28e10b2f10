/**
 * registries-enforce's soak: deny is proposed once the policy has been warning with this allow-list for
 * `--registries-soak` days (7 by default; 0: as soon as the API server agrees). Since when is read from the live
 * objects (the latest time of kube-harden's managedFields entries, else the creationTimestamp), against the
 * injected `options.now`. The real API server's times: test/integration/registries-soak.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterReader } from '../../../src/cluster/types.js';
import type { Step, StepContext, StepOptions } from '../../../src/engine/types.js';
import { warnSinceOf } from '../../../src/engine/warnings-xcheck.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import type { KubeObject, ManagedFieldsEntry } from '../../../src/k8s/types.js';
import { assess } from '../../../src/policy/assess.js';
import { KYVERNO_POLICY, POLICY_NAME, REGISTRIES_SOAK } from '../../../steps/kit/registries.js';
import { kyvernoPolicy } from '../../../steps/kit/registries-native.js';
import { registriesEnforce, soakGate } from '../../../steps/registries-enforce.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { fakePolicyServer } from '../../support/registries-xcheck-server.js';

const LIST = ['ghcr.io/acme'];
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString().replace('.000Z', 'Z');

const entry = (
  manager: string,
  time: string,
  extra: Partial<ManagedFieldsEntry> = {},
): ManagedFieldsEntry => ({
  manager,
  operation: 'Apply',
  apiVersion: 'admissionregistration.k8s.io/v1',
  time,
  fieldsType: 'FieldsV1',
  fieldsV1: {},
  ...extra,
});

const obj = (meta: { managedFields?: ManagedFieldsEntry[]; creationTimestamp?: string }): KubeObject =>
  ({ apiVersion: 'v1', kind: 'X', metadata: { name: 'x', ...meta } }) as KubeObject;

function cluster(): Snapshot {
  return snapshot({
    namespaces: [ns('kube-system'), ns('shop')],
    workloads: [
      workload(
        'Deployment',
        'shop',
        'api',
        restrictedSpec({ containers: [container('api', { image: 'ghcr.io/acme/api:1' })] }),
      ),
    ],
  });
}

/** The stand-in server's objects with the metadata the API server would keep. */
function timed(
  reader: ClusterReader,
  meta: Record<string, { managedFields?: ManagedFieldsEntry[]; creationTimestamp?: string }>,
): ClusterReader {
  const get = reader.get.bind(reader);
  return {
    ...reader,
    capabilities: reader.capabilities,
    dryRunApply: reader.dryRunApply.bind(reader),
    get: async (ref: Parameters<ClusterReader['get']>[0], signal?: AbortSignal) => {
      const r = await get(ref, signal);
      const m = meta[ref.kind];
      return r.value && m ? { ...r, value: { ...r.value, metadata: { ...r.value.metadata, ...m } } } : r;
    },
  } as ClusterReader;
}

async function run(
  reader: ClusterReader,
  settings: Record<string, unknown> = {},
  now = NOW,
  snap: Snapshot = cluster(),
) {
  const options: StepOptions = {
    namespaces: [],
    exclude: [],
    settings: { 'registries-warn.allow': LIST, ...settings },
    now,
  };
  const ctx: StepContext = {
    snapshot: snap,
    assessment: assess(snap, { now }),
    reader,
    options,
    signal: new AbortController().signal,
  };
  const step = registriesEnforce as unknown as Step<never>;
  const { facts, findings } = await step.detect(ctx);
  const changes = step.propose(facts, options);
  return { facts, findings, changes, explanation: step.explain(facts, changes) };
}

/** Warn in place with LIST, the policy written `policyDays` ago and the binding `bindingDays` ago by kube-harden. */
const warnInPlace = (policyDays: number, bindingDays: number, action: 'Warn' | 'Deny' = 'Warn') =>
  timed(fakePolicyServer(LIST, action).reader, {
    ValidatingAdmissionPolicy: { managedFields: [entry('kube-harden', ago(policyDays))] },
    ValidatingAdmissionPolicyBinding: { managedFields: [entry('kube-harden', ago(bindingDays))] },
  });

describe('--registries-soak', () => {
  it('days as --within takes them, 7 by default; the wizard asks 7d (first: the cursor starts there), 30d, 0d', () => {
    expect(REGISTRIES_SOAK.default).toBe('7d');
    expect(REGISTRIES_SOAK.parse('2w')).toEqual({ ok: true, value: 14 });
    expect(REGISTRIES_SOAK.parse('0')).toEqual({ ok: true, value: 0 });
    expect(REGISTRIES_SOAK.parse('soon').ok).toBe(false);
    const choices = Object.keys(REGISTRIES_SOAK.ask?.choices ?? {});
    expect(choices).toEqual(['7d', '30d', '0d']);
    expect(choices.map((c) => REGISTRIES_SOAK.parse(c))).toEqual([
      { ok: true, value: 7 },
      { ok: true, value: 30 },
      { ok: true, value: 0 },
    ]);
  });
});

describe('warnSinceOf', () => {
  it("the latest time of kube-harden's entries over the objects; other managers and subresources do not count", () => {
    const policy = obj({
      creationTimestamp: ago(30),
      managedFields: [
        entry('kube-harden', ago(10)),
        entry('kube-harden', ago(4), { operation: 'Update' }),
        entry('kubectl-edit', ago(1), { operation: 'Update' }),
        entry('kube-harden', ago(0), { subresource: 'status' }),
      ],
    });
    const binding = obj({ managedFields: [entry('kube-harden', ago(6))] });
    expect(warnSinceOf([policy, binding])).toBe(ago(4));
  });

  it('an object without kube-harden entries counts from its creationTimestamp; none at all: unknown', () => {
    expect(
      warnSinceOf([obj({ creationTimestamp: ago(2) }), obj({ managedFields: [entry('x', ago(1))] })]),
    ).toBe(ago(2));
    expect(warnSinceOf([obj({}), undefined])).toBeUndefined();
  });
});

describe('soakGate', () => {
  const warned = (days: number) => ({ action: 'Warn' as const, warnSince: ago(days) });

  it('not passed: blocked, saying for how long, since when and how to skip', () => {
    const g = soakGate(7, warned(3), NOW);
    expect(g.age).toBe(3);
    expect(g.blocked).toEqual({
      control: 'KH-IMAGE-REGISTRY-SOAKING',
      message: `warn has been in place for 3 day(s) (since ${ago(3)}): deny is proposed after 7 days of warnings (--registries-soak; 0 to skip)`,
    });
    // Whole days: 6 days and 23 hours is 6.
    expect(soakGate(7, { action: 'Warn', warnSince: ago(7 - 1 / 24) }, NOW).blocked?.message).toMatch(
      /for 6 day\(s\)/,
    );
  });

  it('passed (exactly the soak, or more): not blocked', () => {
    expect(soakGate(7, warned(7), NOW).blocked).toBeUndefined();
    expect(soakGate(7, warned(40), NOW)).toMatchObject({ age: 40, checked: true });
  });

  it('0: never blocked, even right after warn, or with no time known', () => {
    expect(soakGate(0, warned(0), NOW).blocked).toBeUndefined();
    expect(soakGate(0, { action: 'Warn' }, NOW).blocked).toBeUndefined();
    expect(soakGate(0, { unknown: 'Forbidden' }, NOW).blocked).toBeUndefined();
  });

  it('a binding already in Deny is not gated', () => {
    expect(soakGate(30, { action: 'Deny', warnSince: ago(0) }, NOW).blocked).toBeUndefined();
  });

  it('no time at all, no warn policy in place, or unreadable: blocked (unknown is not compliant)', () => {
    expect(soakGate(7, { action: 'Warn' }, NOW).blocked?.control).toBe('KH-UNKNOWN');
    expect(soakGate(7, {}, NOW).blocked).toMatchObject({
      control: 'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
      message: expect.stringMatching(/registries-warn's policy is not in place/),
    });
    expect(soakGate(7, { unknown: 'Forbidden' }, NOW).blocked?.message).toMatch(
      /could not be read \(Forbidden\)/,
    );
  });

  it('not read (offline): not checked, not blocked', () => {
    expect(soakGate(7, undefined, NOW)).toEqual({ days: 7, checked: false });
  });
});

describe('registries-enforce with the soak', () => {
  it('right after warn (default 7 days): not proposed; a finding on the binding, and explain, say when', async () => {
    const { changes, findings, explanation } = await run(warnInPlace(0, 0));
    expect(changes).toEqual([]);
    const message = `warn has been in place for 0 day(s) (since ${ago(0)}): deny is proposed after 7 days of warnings (--registries-soak; 0 to skip)`;
    expect(findings.map((f) => [f.control, f.severity, f.target.kind, f.target.name, f.message])).toEqual([
      ['KH-IMAGE-REGISTRY-SOAKING', 'info', 'ValidatingAdmissionPolicyBinding', POLICY_NAME, message],
    ]);
    expect(explanation.why).toContain(`Not proposed: ${message}.`);
    expect(explanation.impact).toMatch(/^Nothing changes: images outside the allow-list keep being admitted/);
  });

  it("the latest of the two objects counts: a new allow-list (the policy's write) starts the soak again", async () => {
    const { changes, findings } = await run(warnInPlace(2, 20));
    expect(changes).toEqual([]);
    expect(findings[0]?.message).toMatch(/for 2 day\(s\)/);
  });

  it('soak passed: proposed, the reason says since when', async () => {
    const { changes, findings } = await run(warnInPlace(8, 9));
    expect(findings).toEqual([]);
    expect(changes.map((c) => c.id)).toEqual(['registries-enforce/policy', 'registries-enforce/binding']);
    expect(changes[1]?.kind === 'apply' && changes[1].reason).toContain(
      `warn has been in place for 8 day(s) (since ${ago(8)}), past the soak of 7 days`,
    );
  });

  it('the same objects, planned 8 days later (options.now): proposed', async () => {
    const reader = warnInPlace(0, 0);
    expect((await run(reader)).changes).toEqual([]);
    expect((await run(reader, {}, new Date(NOW.getTime() + 8 * DAY))).changes).toHaveLength(2);
  });

  it('--registries-soak 0: proposed at once; 30: blocked after 8 days', async () => {
    const now = await run(warnInPlace(0, 0), { 'registries-enforce.soak': 0 });
    expect(now.changes).toHaveLength(2);
    expect(now.changes[1]?.kind === 'apply' && now.changes[1].reason).toContain(
      'no soak (--registries-soak 0)',
    );
    const month = await run(warnInPlace(8, 8), { 'registries-enforce.soak': 30 });
    expect(month.changes).toEqual([]);
    expect(month.findings[0]?.message).toMatch(/after 30 days of warnings/);
  });

  it('no managedFields: the creationTimestamp; neither: KH-UNKNOWN, not proposed', async () => {
    const created = timed(fakePolicyServer(LIST, 'Warn').reader, {
      ValidatingAdmissionPolicy: { creationTimestamp: ago(10) },
      ValidatingAdmissionPolicyBinding: { creationTimestamp: ago(9) },
    });
    expect((await run(created)).changes).toHaveLength(2);
    const none = await run(fakePolicyServer(LIST, 'Warn').reader);
    expect(none.changes).toEqual([]);
    expect(none.findings.map((f) => f.control)).toEqual(['KH-UNKNOWN']);
  });

  it('a binding already in Deny (re-planning): not gated', async () => {
    const { changes, findings } = await run(warnInPlace(0, 0, 'Deny'));
    expect(findings).toEqual([]);
    expect(changes.map((c) => c.id)).toEqual(['registries-enforce/policy', 'registries-enforce/binding']);
  });

  it("blocked for another reason too (images denied): both are said, the soak's finding included", async () => {
    const snap = cluster();
    snap.workloads.push(
      workload(
        'Deployment',
        'shop',
        'bad',
        restrictedSpec({ containers: [container('a', { image: 'evil.example/x' })] }),
      ),
    );
    const { changes, findings, explanation } = await run(warnInPlace(1, 1), {}, NOW, snap);
    expect(changes).toEqual([]);
    expect(findings.map((f) => f.control).sort()).toEqual([
      'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
      'KH-IMAGE-REGISTRY-SOAKING',
    ]);
    expect(explanation.why).toMatch(/would be denied; .*warn has been in place for 1 day\(s\)/);
  });
});

describe('registries-enforce with Kyverno: the same soak, from the ClusterPolicy', () => {
  const engines = {
    kyverno: { crd: 'present', controller: 'ready' },
    gatekeeper: { crd: 'absent', controller: 'absent' },
  } as unknown as Snapshot['admissionEngines'];

  const kyvernoReader = (action: 'Warn' | 'Deny' | undefined, days: number) =>
    ({
      capabilities: { dryRun: true, reviews: true },
      get: async (ref: { kind: string }) => ({
        value:
          ref.kind === KYVERNO_POLICY.kind && action
            ? {
                ...kyvernoPolicy(LIST, action, {}),
                metadata: { name: POLICY_NAME, managedFields: [entry('kube-harden', ago(days))] },
              }
            : undefined,
        warnings: [],
      }),
    }) as unknown as ClusterReader;

  const runK = (reader: ClusterReader, settings: Record<string, unknown> = {}) => {
    const snap = cluster();
    snap.admissionEngines = engines;
    return run(reader, { 'registries-warn.engine': 'kyverno', ...settings }, NOW, snap);
  };

  it('Audit for 2 days: not proposed, the finding on the ClusterPolicy; 8 days: proposed; Enforce: not gated', async () => {
    const early = await runK(kyvernoReader('Warn', 2));
    expect(early.changes).toEqual([]);
    expect(early.findings.map((f) => [f.control, f.target.kind, f.message])).toEqual([
      [
        'KH-IMAGE-REGISTRY-SOAKING',
        'ClusterPolicy',
        expect.stringMatching(/^warn has been in place for 2 day\(s\)/),
      ],
    ]);
    const late = await runK(kyvernoReader('Warn', 8));
    expect(late.changes.map((c) => c.id)).toEqual(['registries-enforce/kyverno-policy']);
    expect(late.changes[0]?.kind === 'apply' && late.changes[0].reason).toMatch(/past the soak of 7 days/);
    expect((await runK(kyvernoReader('Deny', 0))).changes).toHaveLength(1);
  });

  it('no ClusterPolicy in place: not proposed (warn first), unless --registries-soak 0', async () => {
    const none = await runK(kyvernoReader(undefined, 0));
    expect(none.changes).toEqual([]);
    expect(none.findings[0]?.message).toMatch(/registries-warn's policy is not in place/);
    expect((await runK(kyvernoReader(undefined, 0), { 'registries-enforce.soak': 0 })).changes).toHaveLength(
      1,
    );
  });
});
