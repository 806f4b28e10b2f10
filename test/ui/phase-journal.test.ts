/**
 * Phase status from the journal of this cluster's runs (src/ui/model/phases.ts): an operator who comes back days
 * later sees what is done (and when), what is under way, what is blocked and by what, and what does not apply,
 * with the next phase recommended past the done and not-applicable ones. The clock is an input (`now`).
 */
import { describe, expect, it } from 'vitest';
import { type JournalEntry, stepWrites } from '../../src/engine/journal.js';
import type { Plan, Step } from '../../src/engine/types.js';
import type { Assessment } from '../../src/policy/assess.js';
import { selectedByAll } from '../../src/store/store.js';
import {
  ago,
  derivePhases,
  describePhaseState,
  type JournalRun,
  type PhaseInputs,
} from '../../src/ui/model/phases.js';
import type { SessionRun } from '../../src/ui/state/wizard.js';

const NOW = new Date('2026-06-10T12:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000).toISOString();

type S = PhaseInputs['steps'][number];
const step = (id: string, phase: number, risk: Step['risk'], title: string, extra: Partial<S> = {}): S => ({
  id,
  phase,
  risk,
  title,
  summary: id,
  ...extra,
});
const STEPS: S[] = [
  step('psa-warn-audit', 1, 'low', 'Warn'),
  step('psa-enforce', 2, 'disruptive', 'Enforce', { needs: ['psa-warn-audit'] }),
  step('psa-migrate', 2, 'disruptive', 'Migrate', { optIn: true, needs: ['psa-warn-audit'] }),
  step('network-default-deny', 3, 'disruptive', 'Default deny', {
    noEffect: (a) =>
      (a as unknown as { cniOff?: boolean }).cniOff ? 'no CNI enforces NetworkPolicy' : undefined,
  }),
  step('registries-warn', 5, 'low', 'Registries: warn'),
  step('registries-enforce', 5, 'disruptive', 'Registries: enforce', { needs: ['registries-warn'] }),
  step('exceptions-review', 7, 'none', 'Review'),
];

const finding = (control: string, namespace = 'shop') => ({
  control,
  severity: 'medium',
  target: { kind: 'Namespace', name: namespace },
  message: control,
  excepted: false,
});
/** An assessment reduced to what the phases read: findings, namespaces (and the CNI switch of the fake step). */
const assessmentOf = (
  controls: string[],
  namespaces = [{ name: 'shop', tier: 'application' }],
  extra: Record<string, unknown> = {},
) => ({ findings: controls.map((c) => finding(c)), namespaces, ...extra }) as unknown as Assessment;

const run = (
  runId: string,
  byStep: Record<string, [number, string]>,
  state: JournalRun['state'] = 'complete',
) =>
  ({
    runId,
    state,
    byStep: Object.fromEntries(
      Object.entries(byStep).map(([id, [applied, at]]) => [
        id,
        { applied, firstAt: at, lastAt: at, namespaces: ['shop'] },
      ]),
    ),
  }) satisfies JournalRun;

const rowsOf = (extra: Partial<PhaseInputs>) =>
  derivePhases({
    steps: STEPS,
    planStale: false,
    permissions: {},
    history: [],
    skipped: [],
    now: NOW,
    ...extra,
  });
const rowOf = (rows: ReturnType<typeof rowsOf>, phase: number) => rows.find((r) => r.phase === phase);

describe('phase status from the journal', () => {
  it('warn applied 3 days ago, nothing left in phase 1: done; phase 2 in progress (warn live, enforce to do), recommended', () => {
    const rows = rowsOf({
      assessment: assessmentOf(['KH-PSA-NOT-ENFORCED', 'KH-IMAGE-REGISTRY-UNRESTRICTED']),
      journal: [run('r1', { 'psa-warn-audit': [4, daysAgo(3)] })],
    });
    expect(rowOf(rows, 1)).toMatchObject({
      status: 'done',
      applied: 4,
      appliedAt: daysAgo(3),
      when: 'applied 3 days ago',
      recommended: false,
    });
    expect(describePhaseState(rowOf(rows, 1)!)).toBe('done: applied 3 days ago');
    expect(rowOf(rows, 2)).toMatchObject({
      status: 'in progress',
      recommended: true,
      progress: 'Warn (phase 1) applied 3 days ago; Enforce still to do',
    });
    expect(rowOf(rows, 2)?.applied).toBeUndefined();
    expect(describePhaseState(rowOf(rows, 2)!)).toBe(
      'in progress: Warn (phase 1) applied 3 days ago; Enforce still to do',
    );
  });

  it('registries in warn, enforce still to do: in progress, with each step’s age', () => {
    const rows = rowsOf({
      assessment: assessmentOf([]),
      journal: [
        run('r1', { 'psa-warn-audit': [1, daysAgo(9)] }),
        run('r2', { 'registries-warn': [1, daysAgo(2)] }),
      ],
    });
    expect(rowOf(rows, 5)).toMatchObject({
      status: 'in progress',
      when: 'applied 2 days ago',
      progress: 'Registries: warn applied 2 days ago; Registries: enforce still to do',
    });
  });

  it('applied to some namespaces only (findings of the phase left): in progress; the age is the last write', () => {
    const rows = rowsOf({
      assessment: assessmentOf(['KH-PSA-NO-WARN-AUDIT']),
      journal: [
        run('r2', { 'psa-warn-audit': [1, daysAgo(1)] }),
        run('r1', { 'psa-warn-audit': [2, daysAgo(5)] }),
      ],
    });
    expect(rowOf(rows, 1)).toMatchObject({
      status: 'in progress',
      applied: 3,
      when: 'applied 1 day ago',
      progress: 'applied 1 day ago; 1 open finding left to fix',
      recommended: true,
    });
  });

  it('findings fixed by hand, by opt-in steps or only informational do not keep an applied phase in progress', () => {
    const rows = rowsOf({
      assessment: assessmentOf(['KH-POD-NO-LIMITS', 'KH-PSS-RESTRICTED', 'KH-NS-UNDECLARED']),
      journal: [run('r1', { 'psa-warn-audit': [1, daysAgo(8)], 'psa-enforce': [1, daysAgo(1)] })],
    });
    expect(rowOf(rows, 1)).toMatchObject({ status: 'done', left: 0, open: 1 });
    expect(rowOf(rows, 2)).toMatchObject({ status: 'done', left: 0, open: 2, when: 'applied 1 day ago' });
    // An unknown is never done.
    const unknown = rowsOf({
      assessment: assessmentOf([]),
      plan: {
        steps: [{ id: 'psa-warn-audit', findings: [{ ...finding('KH-UNKNOWN'), severity: 'info' }] }],
        changes: [],
      } as unknown as Plan,
      journal: [run('r1', { 'psa-warn-audit': [1, daysAgo(8)] })],
    });
    expect(rowOf(unknown, 1)).toMatchObject({ status: 'in progress', left: 1 });
  });

  it('undone runs do not count; a partly undone run counts what is still in place', () => {
    const assessment = assessmentOf(['KH-PSA-NO-WARN-AUDIT']);
    let rows = rowsOf({ assessment, journal: [run('r1', { 'psa-warn-audit': [3, daysAgo(3)] }, 'undone')] });
    expect(rowOf(rows, 1)).toMatchObject({ status: 'findings', recommended: true });
    expect(rowOf(rows, 1)?.applied).toBeUndefined();
    rows = rowsOf({
      assessment,
      journal: [run('r1', { 'psa-warn-audit': [1, daysAgo(3)] }, 'partially undone')],
    });
    expect(rowOf(rows, 1)).toMatchObject({ status: 'in progress', applied: 1 });
    // Undone in this session (the journal not read again yet): not counted either.
    const session: SessionRun = {
      runId: 'r9',
      target: 'cluster',
      state: 'complete',
      appliedByStep: { 'psa-warn-audit': 2 },
      verified: {},
      undone: true,
    };
    rows = rowsOf({ assessment, history: [session] });
    expect(rowOf(rows, 1)?.applied).toBeUndefined();
  });

  it('a run of this session that the journal also holds counts once; its verification makes the phase verified', () => {
    const session: SessionRun = {
      runId: 'r1',
      target: 'cluster',
      state: 'complete',
      appliedByStep: { 'psa-warn-audit': 4 },
      verified: { 'psa-warn-audit': true },
      undone: false,
    };
    const rows = rowsOf({
      assessment: assessmentOf([]),
      history: [session],
      journal: [run('r1', { 'psa-warn-audit': [4, daysAgo(0)] })],
    });
    expect(rowOf(rows, 1)).toMatchObject({ status: 'verified', applied: 4, when: 'applied just now' });
    // A failed verification leaves it in progress, and says why.
    const failed = rowsOf({
      assessment: assessmentOf([]),
      history: [{ ...session, verified: { 'psa-warn-audit': false } }],
      journal: [run('r1', { 'psa-warn-audit': [4, daysAgo(0)] })],
    });
    expect(rowOf(failed, 1)?.status).toBe('in progress');
    expect(rowOf(failed, 1)?.progress).toContain('the verification failed');
  });

  it('blocked, and by what: the step it builds on, missing permissions, no effect', () => {
    const assessment = assessmentOf(
      ['KH-PSA-NO-WARN-AUDIT', 'KH-PSA-NOT-ENFORCED', 'KH-NET-NO-DEFAULT-DENY-INGRESS'],
      undefined,
      {
        cniOff: true,
      },
    );
    let rows = rowsOf({ assessment });
    expect(rowOf(rows, 2)).toMatchObject({
      status: 'blocked',
      waitsFor: 'Warn (phase 1)',
      blockedBy: ['waits for Warn (phase 1): apply it first'],
      recommended: false,
    });
    expect(describePhaseState(rowOf(rows, 2)!)).toBe('blocked: waits for Warn (phase 1): apply it first');
    expect(rowOf(rows, 3)).toMatchObject({ status: 'blocked', blockedBy: ['no CNI enforces NetworkPolicy'] });
    // Phase 1 is the one to do: recommended, not blocked.
    expect(rowOf(rows, 1)).toMatchObject({ status: 'findings', recommended: true, blockedBy: [] });
    rows = rowsOf({
      assessment,
      permissions: {
        'psa-warn-audit': [{ verb: 'patch', group: '', resource: 'namespaces', allowed: false }],
      },
    });
    expect(rowOf(rows, 1)).toMatchObject({
      status: 'blocked',
      blockedBy: ['you may not patch namespaces'],
      recommended: true, // still the next thing to do: what blocks it is what to fix
    });
    // Once applied, a phase whose changes have no effect says so (never done).
    rows = rowsOf({ assessment, journal: [run('r1', { 'network-default-deny': [2, daysAgo(1)] })] });
    expect(rowOf(rows, 3)).toMatchObject({ status: 'no effect', noEffect: 'no CNI enforces NetworkPolicy' });
  });

  it('not applicable: only system namespaces and no finding; phases that write nothing always apply; the star skips them', () => {
    const rows = rowsOf({ assessment: assessmentOf([], [{ name: 'kube-system', tier: 'system' }]) });
    expect(rows.map((r) => [r.phase, r.status, r.recommended])).toEqual([
      [0, 'findings', false],
      [1, 'not applicable', false],
      [2, 'not applicable', false],
      [3, 'not applicable', false],
      [5, 'not applicable', false],
      [7, 'not started', true],
    ]);
    // A finding of the phase makes it apply (registries are cluster-wide).
    const five = rowsOf({
      assessment: assessmentOf(['KH-IMAGE-REGISTRY-UNRESTRICTED'], [{ name: 'kube-system', tier: 'system' }]),
    });
    expect(rowOf(five, 5)).toMatchObject({ status: 'findings', recommended: true });
    // An application namespace with nothing open is not "not applicable": not started (done once previewed clean).
    expect(rowOf(rowsOf({ assessment: assessmentOf([]) }), 1)?.status).toBe('not started');
  });

  it('before the inventory nothing is blocked or not applicable, and phase 0 is next', () => {
    const rows = rowsOf({ journal: [run('r1', { 'psa-warn-audit': [1, daysAgo(3)] })] });
    expect(rows.map((r) => [r.status, r.recommended])).toEqual([
      ['not started', true],
      ['in progress', false],
      ['in progress', false],
      ['not started', false],
      ['not started', false],
      ['not started', false],
    ]);
    expect(rowOf(rows, 1)?.progress).toBe('applied 3 days ago; not assessed yet');
  });
});

describe('ago', () => {
  it('counts whole units back from now', () => {
    expect(ago(daysAgo(3), NOW)).toBe('3 days ago');
    expect(ago(daysAgo(1), NOW)).toBe('1 day ago');
    expect(ago(new Date(NOW.getTime() - 5 * 3_600_000).toISOString(), NOW)).toBe('5 hours ago');
    expect(ago(new Date(NOW.getTime() - 60_000).toISOString(), NOW)).toBe('1 minute ago');
    expect(ago(NOW.toISOString(), NOW)).toBe('just now');
    expect(ago('garbage', NOW)).toBe('at an unknown time');
  });
});

describe('select all', () => {
  it('leaves out manual and optional changes, and those of opt-in steps', () => {
    const steps = [
      { id: 'psa-enforce', optIn: false },
      { id: 'psa-migrate', optIn: true },
    ];
    expect(selectedByAll({ kind: 'apply', step: 'psa-enforce' }, steps)).toBe(true);
    expect(selectedByAll({ kind: 'apply', step: 'psa-migrate' }, steps)).toBe(false);
    expect(selectedByAll({ kind: 'apply', step: 'psa-enforce', optional: true }, steps)).toBe(false);
    expect(selectedByAll({ kind: 'manual', step: 'psa-enforce' }, steps)).toBe(false);
  });
});

describe('stepWrites', () => {
  it('counts per step the confirmed writes not undone, with when and where', () => {
    const t = (s: number) => `2026-06-07T12:00:0${s}.000Z`;
    const ref = (name: string, kind = 'Namespace', namespace?: string) => ({
      apiVersion: 'v1',
      kind,
      name,
      ...(namespace ? { namespace } : {}),
    });
    const intent = (seq: number, step: string, target: ReturnType<typeof ref>): JournalEntry => ({
      type: 'intent',
      seq,
      at: t(seq),
      changeId: `${step}/${seq}`,
      step,
      target,
      operation: 'update',
      baseResourceVersion: '1',
    });
    const result = (seq: number, outcome: 'applied' | 'failed'): JournalEntry => ({
      type: 'result',
      seq,
      at: t(seq),
      outcome,
    });
    const entries: JournalEntry[] = [
      intent(1, 'psa-warn-audit', ref('shop')),
      result(1, 'applied'),
      intent(2, 'psa-warn-audit', ref('ci')),
      result(2, 'applied'),
      intent(3, 'psa-warn-audit', ref('data')),
      result(3, 'failed'),
      intent(4, 'network-default-deny', ref('deny', 'NetworkPolicy', 'shop')),
      { type: 'sent', seq: 4, at: t(4) },
      intent(5, 'network-default-deny', ref('deny', 'NetworkPolicy', 'ci')),
      result(5, 'applied'),
      { type: 'end', at: t(6), state: 'complete' },
      // An undo restored the write to ci (seq 2) and deleted the NetworkPolicy (seq 5).
      { type: 'undo-intent', seq: 7, at: t(7), undoes: [2], action: 'restore' },
      { type: 'undo-result', seq: 7, at: t(7), outcome: 'restored' },
      { type: 'undo-intent', seq: 8, at: t(8), undoes: [5], action: 'delete' },
      { type: 'undo-result', seq: 8, at: t(8), outcome: 'deleted' },
      { type: 'undone', at: t(9), complete: false },
    ];
    expect(stepWrites(entries)).toEqual({
      'psa-warn-audit': { applied: 1, firstAt: t(1), lastAt: t(1), namespaces: ['shop'] },
    });
    // Before the undo: both steps, each with its namespaces and times.
    expect(stepWrites(entries.slice(0, 11))).toEqual({
      'psa-warn-audit': { applied: 2, firstAt: t(1), lastAt: t(2), namespaces: ['ci', 'shop'] },
      'network-default-deny': { applied: 1, firstAt: t(5), lastAt: t(5), namespaces: ['ci'] },
    });
  });
});

describe('verification from the journal', () => {
  const verified = (r: JournalRun, v: NonNullable<JournalRun['verified']>): JournalRun => ({
    ...r,
    verified: v,
  });
  const base = { assessment: assessmentOf([]) };

  it('a run whose check passed, recorded in an earlier session: verified, with its age', () => {
    const rows = rowsOf({
      ...base,
      journal: [verified(run('r1', { 'psa-warn-audit': [4, daysAgo(3)] }), { 'psa-warn-audit': 'ok' })],
    });
    expect(rowOf(rows, 1)).toMatchObject({ status: 'verified', when: 'applied 3 days ago' });
  });

  it('the latest verification counts: a newer failed one keeps the phase in progress, an older one does not', () => {
    const older = verified(run('r1', { 'psa-warn-audit': [4, daysAgo(3)] }), { 'psa-warn-audit': 'problem' });
    const newer = verified(run('r2', { 'psa-warn-audit': [1, daysAgo(1)] }), { 'psa-warn-audit': 'ok' });
    expect(rowOf(rowsOf({ ...base, journal: [newer, older] }), 1)?.status).toBe('verified');
    const failedLast = verified(run('r2', { 'psa-warn-audit': [1, daysAgo(1)] }), {
      'psa-warn-audit': 'problem',
    });
    const okFirst = verified(run('r1', { 'psa-warn-audit': [4, daysAgo(3)] }), { 'psa-warn-audit': 'ok' });
    expect(rowOf(rowsOf({ ...base, journal: [failedLast, okFirst] }), 1)).toMatchObject({
      status: 'in progress',
      progress: expect.stringContaining('the verification failed'),
    });
    // An undone run's verification no longer counts.
    expect(
      rowOf(rowsOf({ ...base, journal: [{ ...failedLast, state: 'undone' }, okFirst] }), 1)?.status,
    ).toBe('verified');
  });

  it("this session's verification comes before the journal's", () => {
    const session: SessionRun = {
      runId: 'r3',
      target: 'cluster',
      state: 'complete',
      appliedByStep: { 'psa-warn-audit': 1 },
      verified: { 'psa-warn-audit': false },
      undone: false,
    };
    const rows = rowsOf({
      ...base,
      history: [session],
      journal: [verified(run('r1', { 'psa-warn-audit': [4, daysAgo(3)] }), { 'psa-warn-audit': 'ok' })],
    });
    expect(rowOf(rows, 1)?.status).toBe('in progress');
  });
});
