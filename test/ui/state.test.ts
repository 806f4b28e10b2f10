/** The pure state behind the screens: lists, scrolling, text input, navigation, filters, phase status, diffs. */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/engine/types.js';
import type { AccessDecision } from '../../src/k8s/types.js';
import { assess } from '../../src/policy/assess.js';
import { diffLines } from '../../src/ui/model/diff.js';
import {
  controlChoices,
  describeFilter,
  filterFindings,
  NO_FILTER,
  namespaceChoices,
  phaseFindings,
  severityChoices,
} from '../../src/ui/model/findings.js';
import { clip, shellWord, undoCommand, wrapText } from '../../src/ui/model/format.js';
import { derivePhases } from '../../src/ui/model/phases.js';
import { clampList, LIST_START, listReducer, scrollReducer, visibleRange } from '../../src/ui/state/list.js';
import { textInputReducer } from '../../src/ui/state/text-input.js';
import { currentScreen, initialWizardState, wizardReducer } from '../../src/ui/state/wizard.js';
import { NOW } from '../fixtures/snapshots/builder.js';
import { sampleExceptions, sampleSnapshot } from '../fixtures/snapshots/sample.js';
import { PSA_STEPS } from './support/wizard.js';

const assessment = assess(sampleSnapshot(), { now: NOW, exceptions: sampleExceptions() });

describe('list state', () => {
  const view = { count: 100, height: 10 };
  it('moves the cursor and keeps it in the window', () => {
    let s = LIST_START;
    for (let i = 0; i < 12; i++) s = listReducer(s, { type: 'down' }, view);
    expect(s).toEqual({ cursor: 12, offset: 3 });
    s = listReducer(s, { type: 'pageDown' }, view);
    expect(s).toEqual({ cursor: 21, offset: 12 });
    s = listReducer(s, { type: 'end' }, view);
    expect(s).toEqual({ cursor: 99, offset: 90 });
    expect(visibleRange(s, view)).toEqual({ start: 90, end: 100 });
    s = listReducer(s, { type: 'pageUp' }, view);
    expect(s).toEqual({ cursor: 90, offset: 81 });
    s = listReducer(s, { type: 'home' }, view);
    expect(s).toEqual(LIST_START);
    expect(listReducer(s, { type: 'up' }, view)).toEqual(LIST_START);
  });

  it('clamps when the list shrinks (a filter) or the terminal does', () => {
    expect(clampList({ cursor: 80, offset: 75 }, { count: 5, height: 10 })).toEqual({ cursor: 4, offset: 0 });
    expect(clampList({ cursor: 9, offset: 0 }, { count: 100, height: 4 })).toEqual({ cursor: 9, offset: 6 });
    expect(clampList({ cursor: 3, offset: 0 }, { count: 0, height: 4 })).toEqual({ cursor: 0, offset: 0 });
  });

  it('scrolls without a cursor', () => {
    const v = { count: 50, height: 20 };
    expect(scrollReducer(0, { type: 'down' }, v)).toBe(1);
    expect(scrollReducer(0, { type: 'pageDown' }, v)).toBe(19);
    expect(scrollReducer(25, { type: 'pageDown' }, v)).toBe(30);
    expect(scrollReducer(3, { type: 'end' }, v)).toBe(30);
    expect(scrollReducer(3, { type: 'home' }, v)).toBe(0);
    expect(scrollReducer(0, { type: 'up' }, v)).toBe(0);
    expect(scrollReducer(0, { type: 'end' }, { count: 5, height: 20 })).toBe(0);
  });
});

describe('text input', () => {
  it('types, deletes and drops control characters from a paste', () => {
    let v = textInputReducer('', { type: 'insert', text: 'pro' });
    v = textInputReducer(v, { type: 'insert', text: 'd\u001b[2J\n' });
    expect(v).toBe('prod[2J');
    expect(textInputReducer('prod', { type: 'backspace' })).toBe('pro');
    expect(textInputReducer('', { type: 'backspace' })).toBe('');
    expect(textInputReducer('x', { type: 'clear' })).toBe('');
  });
});

describe('wizard state', () => {
  it('pushes, goes back (never past the root) and clears the notice on navigation', () => {
    let s = wizardReducer(initialWizardState(), { type: 'reset', stack: [{ id: 'phases' }] });
    s = wizardReducer(s, { type: 'push', screen: { id: 'phase', phase: 1 } });
    s = wizardReducer(s, { type: 'notice', notice: { kind: 'info', text: 'hello' } });
    expect(currentScreen(s)).toEqual({ id: 'phase', phase: 1 });
    s = wizardReducer(s, { type: 'back' });
    expect(s.notice).toBeUndefined();
    expect(wizardReducer(s, { type: 'back' })).toBe(s);
  });

  it('records runs, undos and skips; a write makes the plan stale', () => {
    let s = initialWizardState();
    const run = {
      runId: 'r1',
      target: 'cluster' as const,
      state: 'complete' as const,
      appliedByStep: { 'psa-warn-audit': 2 },
      verified: {},
      undone: false,
    };
    s = wizardReducer(s, { type: 'ran', run });
    expect(s.planStale).toBe(true);
    s = wizardReducer(s, { type: 'undone', runId: 'r1' });
    expect(s.history[0]?.undone).toBe(true);
    s = wizardReducer(s, { type: 'skip', phase: 2 });
    expect(s.skipped).toEqual([2]);
    expect(wizardReducer(s, { type: 'skip', phase: 2 }).skipped).toEqual([]);
  });
});

describe('findings model', () => {
  const all = phaseFindings(assessment, undefined, 0, []);

  it('phase 0 is every finding; a step phase those whose control belongs to it', () => {
    expect(all).toHaveLength(assessment.findings.length);
    const phase2 = phaseFindings(assessment, undefined, 2, ['psa-enforce']);
    expect(phase2.length).toBeGreaterThan(0);
    expect(new Set(phase2.map((r) => r.control))).toEqual(
      new Set([
        'KH-PSS-BASELINE',
        'KH-PSS-RESTRICTED',
        'KH-PSS-PRIVILEGED-IN-APP-NS',
        'KH-PSA-NOT-ENFORCED',
        'KH-POD-ROOT',
        'KH-POD-NO-LIMITS',
        'KH-POD-WRITABLE-ROOTFS',
      ]),
    );
  });

  it("adds the step's own findings once it is planned", () => {
    const plan = {
      steps: [
        {
          id: 'psa-enforce',
          findings: [
            {
              control: 'KH-PSA-ENFORCE-BLOCKED',
              severity: 'medium',
              target: { kind: 'Namespace', name: 'shop' },
              message: 'blocked',
            },
          ],
        },
      ],
    } as unknown as Plan;
    const rows = phaseFindings(assessment, plan, 2, ['psa-enforce']);
    expect(rows.at(-1)).toMatchObject({
      control: 'KH-PSA-ENFORCE-BLOCKED',
      namespace: 'shop',
      excepted: false,
    });
  });

  it('filters by namespace, minimum severity, control and excepted', () => {
    const shop = filterFindings(all, { ...NO_FILTER, namespace: 'shop' });
    expect(shop.length).toBeGreaterThan(0);
    expect(shop.every((r) => r.namespace === 'shop')).toBe(true);
    const high = filterFindings(all, { ...NO_FILTER, minSeverity: 'high' });
    expect(high.every((r) => r.severity === 'critical' || r.severity === 'high')).toBe(true);
    const ctl = filterFindings(all, { ...NO_FILTER, control: 'KH-RBAC-CLUSTER-ADMIN' });
    expect(ctl.map((r) => r.target.name)).toEqual(['ci-admin']);
    const excepted = all.filter((r) => r.excepted);
    expect(excepted.length).toBeGreaterThan(0);
    expect(filterFindings(all, { ...NO_FILTER, hideExcepted: true })).toHaveLength(
      all.length - excepted.length,
    );
    expect(filterFindings(all, NO_FILTER)).toBe(all);
    expect(describeFilter({ namespace: '', minSeverity: 'medium', hideExcepted: true })).toBe(
      'namespace: (cluster-scoped)  severity: medium+  control: any  excepted: hidden',
    );
  });

  it('offers choices with counts', () => {
    expect(namespaceChoices(all)[0]).toEqual({ value: undefined, label: `every namespace (${all.length})` });
    expect(namespaceChoices(all).at(-1)?.label).toMatch(/^\(cluster-scoped\) \(\d+\)$/);
    expect(severityChoices(all).map((c) => c.value)).toEqual([
      undefined,
      'critical',
      'high',
      'medium',
      'low',
    ]);
    expect(controlChoices(all).find((c) => c.value === 'KH-RBAC-CLUSTER-ADMIN')?.label).toBe(
      'KH-RBAC-CLUSTER-ADMIN (1) Binding grants cluster-admin (or an equivalent */*/* role)',
    );
  });
});

describe('phase status', () => {
  const permissions: Record<string, AccessDecision[]> = {
    'psa-enforce': [{ verb: 'patch', group: '', resource: 'namespaces', allowed: false }],
  };
  const base = { steps: PSA_STEPS, assessment, planStale: false, permissions, history: [], skipped: [] };

  it('derives status, counts and the recommended next phase', () => {
    const rows = derivePhases(base);
    expect(rows.map((r) => [r.phase, r.status, r.recommended])).toEqual([
      [0, 'findings', false],
      [1, 'findings', true],
      [2, 'blocked', false],
    ]);
    // kube-system's audit label "strict" is invalid, and two namespaces neither warn nor audit: phase-1 controls.
    expect(rows[1]).toMatchObject({ open: 3, excepted: 0 });
    expect((rows[0]?.open ?? 0) + (rows[0]?.excepted ?? 0)).toBe(assessment.findings.length);
    expect(rows[0]?.excepted).toBe(assessment.summary.excepted);
    expect(rows[2]?.denied).toEqual(['patch namespaces']);
    // Blocked by the permission, and by the step it builds on (enforce waits for warn, phase 1, not in place).
    expect(rows[2]?.blockedBy).toEqual([
      'you may not patch namespaces',
      'waits for Pod Security warn + audit (phase 1): apply it first',
    ]);
  });

  it('planned › in progress; skipped wins; undone runs do not count', () => {
    const plan = {
      steps: [{ id: 'psa-warn-audit', findings: [] }],
      changes: [{ step: 'psa-warn-audit' }],
    } as unknown as Plan;
    expect(derivePhases({ ...base, plan })[1]).toMatchObject({ status: 'planned', changes: 1 });
    expect(derivePhases({ ...base, plan, planStale: true })[1]?.status).toBe('findings');
    const run = {
      runId: 'r',
      target: 'cluster' as const,
      state: 'complete' as const,
      appliedByStep: { 'psa-warn-audit': 3 },
      verified: {},
      undone: false,
    };
    // Applied in this session, with phase-1 findings still open (this assessment predates the run): in progress,
    // and still the one to finish; phase 2 is no longer blocked by it.
    let rows = derivePhases({ ...base, history: [run] });
    expect(rows[1]).toMatchObject({
      status: 'in progress',
      applied: 3,
      recommended: true,
      when: 'applied in this session',
      progress: 'applied in this session; 3 open findings left to fix',
    });
    expect(rows[2]?.blockedBy).toEqual(['you may not patch namespaces']);
    rows = derivePhases({
      ...base,
      history: [{ ...run, appliedByStep: { 'psa-enforce': 1 }, verified: { 'psa-enforce': true } }],
    });
    expect(rows[2]?.status).toBe('in progress');
    rows = derivePhases({ ...base, history: [{ ...run, undone: true }], skipped: [2] });
    expect(rows.map((r) => r.status)).toEqual(['findings', 'findings', 'skipped']);
    expect(derivePhases({ ...base, assessment: undefined }).map((r) => [r.status, r.recommended])).toEqual([
      ['not started', true],
      ['not started', false],
      ['not started', false],
    ]);
  });

  it('shows only phases that have steps (no placeholders)', () => {
    expect(derivePhases(base).map((r) => r.phase)).toEqual([0, 1, 2]);
    expect(derivePhases({ ...base, steps: PSA_STEPS.slice(0, 1) }).map((r) => r.phase)).toEqual([0, 1]);
  });
});

describe('text helpers', () => {
  it('fits one line, escapes control characters, wraps without losing words', () => {
    expect(clip('abc\u001b[31mdef', 8)).toBe('abc\\x1b…');
    expect(clip('short', 10)).toBe('short');
    expect(wrapText('one two three four', 10)).toEqual(['one two', 'three four']);
    expect(wrapText('a b c d e f g h', 10, 1)).toEqual(['a b c d e…']);
  });

  it('writes the exact undo command, quoting what a shell would split', () => {
    expect(undoCommand('20261125T081500Z-3fa2c1', { kind: 'cluster', context: 'prod', server: 's' })).toBe(
      'kube-harden undo 20261125T081500Z-3fa2c1 --context prod',
    );
    expect(
      undoCommand('r', { kind: 'cluster', context: "o'brien ctx", server: 's' }, '/tmp/my kube/config'),
    ).toBe(`kube-harden undo r --kubeconfig '/tmp/my kube/config' --context 'o'\\''brien ctx'`);
    expect(shellWord('a$b')).toBe("'a$b'");
  });

  it('splits a unified diff into typed lines', () => {
    const lines = diffLines('--- a\n+++ b\n@@ -1 +1 @@\n ctx\n-old\n+new\n\\ No newline\n');
    expect(lines.map((l) => l.kind)).toEqual(['file', 'file', 'hunk', 'ctx', 'del', 'add', 'meta']);
  });
});
