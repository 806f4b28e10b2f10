/**
 * The rollout as rows: phase 0 (the read-only inventory) and one row per phase that has steps, in order, each with
 * its status, counts and when it was applied, plus which phase to do next.
 *
 * What was applied comes from the journal of this cluster's runs (`journal`: every run recorded for the cluster,
 * any session, any day; `RunRecord.byStep` counts the writes that are in place: confirmed and not undone) and from
 * this session's runs (`history`: verification results, and offline manifest writes, which have no journal). An
 * undone run (or the undone part of a partly undone one) does not count. Ages ("3 days ago") are taken against
 * `now`, an input, so the rows are a pure function of their inputs.
 *
 * The steps that make a phase: its *required* steps are those that write to the cluster (risk low or disruptive)
 * and are not opt-in; opt-in steps (`Step.optIn`, e.g. psa-migrate) count when applied but are never "to do";
 * manual and review steps never write.
 *
 * Status, first match wins:
 * 1. skipped: the operator said so.
 * 2. Something of the phase is in place (journal or session):
 *    - no effect: a step says its changes have no effect yet (`Step.noEffect`, e.g. no CNI enforces
 *      NetworkPolicy): never done, the reason is shown;
 *    - in progress: a required step has applied nothing yet (e.g. phase 5: registries in warn, enforce still to
 *      do), or findings are left that its required steps fix (`left`: open, not informational, of a control whose
 *      `stepsFixing` names one of them, or an unknown; e.g. applied to some namespaces only), or there is no
 *      assessment to tell, or this session's verification of one of its steps failed. Findings fixed by hand or
 *      by opt-in steps (psa-migrate, resource-limits) are listed but do not keep a phase in progress;
 *    - verified: nothing left, and the steps' latest verification passed (this session's, or one recorded in a
 *      run's journal); done: nothing left.
 * 3. A phase that writes nothing (manual or review steps only), by what its preview found (the current plan, or
 *    the last preview remembered in `reviews`): unknown (it could not see what it checks, e.g. the API server's
 *    flags: never done), planned (manual changes proposed), findings (a review with open findings), done.
 * 4. blocked (once there is an assessment: before the inventory every phase not applied is "not started"): the
 *    phase writes, and the operator may not do it (`denied`: missing permissions), or every required
 *    step waits for a step of an earlier phase it builds on (`Step.needs`, e.g. enforce waits for warn) that is
 *    neither applied nor in place (its phase done, or nothing left to fix), or its changes would have no effect (`noEffect`). `blockedBy` says by what.
 * 5. planned: the current plan (not stale) covers the phase; done instead when that preview proposes no change
 *    and nothing is left to fix (detection sees everything in place).
 * 6. in progress: nothing of the phase applied yet, but a step it builds on (in an earlier phase) is in place:
 *    the rollout of that control is under way (phase 1 warn applied 3 days ago, phase 2 enforce not yet).
 * 7. not applicable: the phase writes, nothing of it was applied, its controls have no finding at all (open or
 *    excepted), and the assessment has no namespace in scope other than system ones (all its steps act on
 *    application and infrastructure namespaces, or on findings, and there is nothing to act on). A cluster whose
 *    namespaces are all in place is *not* "not applicable": that is done once previewed (5). Phases that write
 *    nothing check the cluster itself and are never "not applicable".
 * 8. findings (open findings of its controls) › not started.
 *
 * The recommended next phase is the first (after 0) that is not done, verified, not applicable, skipped, without
 * effect, or unknown; blocked phases are still recommended (what blocks them is the next thing to fix).
 * A row's open/excepted counts are those of the findings its detail lists: its controls' findings, plus the
 * findings of its steps when the current (not stale) plan covers them.
 */

import type { RunRecord } from '../../engine/journal.js';
import type { Plan, Risk, Step } from '../../engine/types.js';
import type { AccessDecision } from '../../k8s/types.js';
import type { Assessment } from '../../policy/assess.js';
import { isControlId, stepsFixing } from '../../policy/controls.js';
import type { SessionRun } from '../state/wizard.js';
import { countFindings, type FindingRow, phaseFindings } from './findings.js';

export type PhaseStatus =
  | 'not started'
  | 'findings'
  | 'planned'
  /** Partly in place (some steps, some namespaces), or a step it builds on is (see the module comment). */
  | 'in progress'
  /** The operator may not do it, it waits for an earlier step, or its changes would have no effect. */
  | 'blocked'
  /** Nothing in this cluster for its steps to act on (see the module comment). */
  | 'not applicable'
  | 'verified'
  | 'no effect'
  | 'skipped'
  /** A phase that writes nothing (phase 6, 7) whose preview needs nothing: detection sees everything in place. */
  | 'done'
  /** A phase that writes nothing whose preview could not see what it checks (e.g. phase 6 without the flags). */
  | 'unknown';

/** What the preview of a phase that writes nothing (manual or review steps only) found. */
export interface PhaseReview {
  /** Manual changes proposed. */
  changes: number;
  /** Open (not excepted) step findings, unknowns included. */
  open: number;
  /** A step could not see what it checks (a `KH-…-UNKNOWN` finding, or the plan's unknowns). */
  unknown: boolean;
}

export interface PhaseRow {
  phase: number;
  title: string;
  summary: string;
  risk: Risk;
  stepIds: string[];
  status: PhaseStatus;
  open: number;
  excepted: number;
  /**
   * Open findings its required steps fix (`stepsFixing`), not informational, plus unknowns: what keeps a phase
   * applied from being done. Findings fixed by hand, by opt-in steps or only informational do not.
   */
  left: number;
  /** Changes in the current plan (when planned). */
  changes?: number;
  /** Changes in place: applied by runs of the journal (any session) or of this session, not undone. */
  applied?: number;
  /** When the last of them was applied (ISO), from the journal. */
  appliedAt?: string;
  /** When, for people: "applied 3 days ago", "written in this session". */
  when?: string;
  /** What is done and what is left, for people, when the phase is in progress. */
  progress?: string;
  /** What blocks it, for people (permissions, a step it waits for, no effect); empty when nothing does. */
  blockedBy: string[];
  /** The steps of earlier phases it waits for (part of `blockedBy`), e.g. `Pod Security warn + audit (phase 1)`. */
  waitsFor?: string;
  recommended: boolean;
  /** Permissions applying it needs that the user lacks, e.g. `patch namespaces`. */
  denied: string[];
  /** Why its changes have no effect yet (Step.noEffect): the phase is not done, whatever was applied. */
  noEffect?: string;
}

/** A run of this cluster's journal, as the phases need it (`listRunRecords`). */
export type JournalRun = Pick<RunRecord, 'runId' | 'state' | 'byStep'> & Partial<Pick<RunRecord, 'verified'>>;

export interface PhaseInputs {
  steps: readonly Pick<
    Step,
    'id' | 'phase' | 'title' | 'summary' | 'risk' | 'noEffect' | 'optIn' | 'needs'
  >[];
  assessment?: Assessment;
  plan?: Plan;
  planStale: boolean;
  permissions: Record<string, AccessDecision[]>;
  history: readonly SessionRun[];
  /** Every run recorded for this cluster (newest first or any order); absent: none known. */
  journal?: readonly JournalRun[];
  /** The time ages are counted from (inject it: the rows are then deterministic); default: the current time. */
  now?: Date;
  skipped: readonly number[];
  /** Per phase that writes nothing: what its last preview found (the current plan, when it covers it, wins). */
  reviews?: Readonly<Record<number, PhaseReview>>;
}

/** Whether a phase's steps never write to the cluster (manual changes, or a review). */
export function writesNothing(steps: readonly Pick<Step, 'risk'>[]): boolean {
  return steps.length > 0 && steps.every((s) => s.risk === 'manual' || s.risk === 'none');
}

const isUnknownControl = (id: string) => id === 'KH-UNKNOWN' || id.endsWith('-UNKNOWN');

/** What a plan found for the steps `stepIds` of a phase that writes nothing. */
export function reviewOf(plan: Plan, stepIds: readonly string[]): PhaseReview {
  const steps = plan.steps.filter((s) => stepIds.includes(s.id));
  const findings = steps.flatMap((s) => s.findings ?? []).filter((f) => f.excepted !== true);
  return {
    changes: plan.changes.filter((c) => stepIds.includes(c.step)).length,
    open: findings.length,
    unknown: findings.some((f) => isUnknownControl(f.control)),
  };
}

export const INVENTORY_PHASE = {
  title: 'Inventory privilege exceptions',
  summary: 'every finding of the assessment: Pod Security, RBAC, tokens, network, images (read-only)',
};

export function describeAccess(d: Pick<AccessDecision, 'verb' | 'group' | 'resource'>): string {
  return `${d.verb} ${d.group ? `${d.resource}.${d.group}` : d.resource}`;
}

/** Phases that have steps, in order, with their steps. */
export function stepPhases<S extends Pick<Step, 'phase'>>(
  steps: readonly S[],
): Array<{ phase: number; steps: S[] }> {
  const by = new Map<number, S[]>();
  for (const s of steps) {
    const list = by.get(s.phase);
    if (list) list.push(s);
    else by.set(s.phase, [s]);
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([phase, list]) => ({ phase, steps: list }));
}

const RISK_ORDER: Risk[] = ['none', 'low', 'manual', 'disruptive'];

/**
 * The row's state in words, for the detail under the list: what is done and when, what is left, what blocks it
 * (permissions are said by the caller; a step's "no effect" reason is shown apart, in red).
 */
export function describePhaseState(row: PhaseRow): string | undefined {
  if (row.phase === 0) return undefined;
  if (row.status === 'in progress' && row.progress) return `in progress: ${row.progress}`;
  if ((row.status === 'done' || row.status === 'verified') && row.when) return `${row.status}: ${row.when}`;
  if (row.status === 'done') return 'done: nothing left to do';
  if (row.status === 'not applicable')
    return 'not applicable: no application or infrastructure namespace in scope, and no finding';
  if (row.waitsFor) return `blocked: waits for ${row.waitsFor}: apply it first`;
  if (row.when) return `${row.status}: ${row.when}`;
  return undefined;
}

/** "3 days ago", "5 hours ago", "just now": the age of `at` (ISO) at `now`. */
export function ago(at: string, now: Date): string {
  const ms = now.getTime() - Date.parse(at);
  if (!Number.isFinite(ms)) return 'at an unknown time';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'just now';
  const unit = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'} ago`;
  if (minutes < 60) return unit(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return unit(hours, 'hour');
  return unit(Math.floor(hours / 24), 'day');
}

/** Whether a step writes to the cluster (not manual, not a review). */
const writes = (s: Pick<Step, 'risk'>) => s.risk === 'low' || s.risk === 'disruptive';

interface InPlace {
  applied: number;
  /** Latest confirmed write (ISO), when a journal says. */
  at?: string;
  /** Applied by this session to manifests (no journal). */
  written: boolean;
}

/** Per step id: what is in place, from the journal's runs and this session's (a run in both counts once). */
function inPlace(history: readonly SessionRun[], journal: readonly JournalRun[]): Map<string, InPlace> {
  const by = new Map<string, InPlace>();
  const add = (step: string, applied: number, at: string | undefined, written: boolean) => {
    if (applied <= 0) return;
    const cur = by.get(step) ?? { applied: 0, written: false };
    cur.applied += applied;
    if (at && (!cur.at || at > cur.at)) cur.at = at;
    cur.written ||= written;
    by.set(step, cur);
  };
  const journaled = new Set(journal.map((r) => r.runId));
  for (const run of journal) {
    if (run.state === 'undone') continue;
    for (const [step, w] of Object.entries(run.byStep)) add(step, w.applied, w.lastAt, false);
  }
  for (const run of history) {
    if (run.undone || journaled.has(run.runId)) continue;
    for (const [step, n] of Object.entries(run.appliedByStep))
      add(step, n, undefined, run.target === 'manifests');
  }
  return by;
}

/**
 * Each step's latest verification: this session's runs (newest first), then the journal's (newest first, this and
 * earlier sessions). An undone run's verification no longer counts.
 */
function latestVerifications(
  history: readonly SessionRun[],
  journal: readonly JournalRun[],
): Map<string, boolean> {
  const latest = new Map<string, boolean>();
  for (const run of [...history].reverse()) {
    if (run.undone) continue;
    for (const [step, ok] of Object.entries(run.verified)) if (!latest.has(step)) latest.set(step, ok);
  }
  for (const run of journal) {
    if (run.state === 'undone' || run.state === 'partially undone') continue;
    for (const [step, result] of Object.entries(run.verified ?? {}))
      if (!latest.has(step)) latest.set(step, result === 'ok');
  }
  return latest;
}

/** Of the findings a row lists, those that keep it from done (see `PhaseRow.left`). */
function leftToFix(findings: readonly FindingRow[], requiredIds: readonly string[]): number {
  return findings.filter(
    (f) =>
      !f.excepted &&
      (isUnknownControl(f.control) ||
        (f.severity !== 'info' &&
          isControlId(f.control) &&
          (stepsFixing(f.control) ?? []).some((id) => requiredIds.includes(id)))),
  ).length;
}

const DONE: readonly PhaseStatus[] = ['done', 'verified', 'not applicable'];

export function derivePhases(inputs: PhaseInputs): PhaseRow[] {
  const { assessment, plan, history, skipped, permissions } = inputs;
  const now = inputs.now ?? new Date();
  const current = inputs.planStale ? undefined : plan;
  const rows: PhaseRow[] = [];
  const all = countFindings(phaseFindings(assessment, undefined, 0, []));
  rows.push({
    phase: 0,
    left: 0,
    title: INVENTORY_PHASE.title,
    summary: INVENTORY_PHASE.summary,
    risk: 'none',
    stepIds: [],
    status: assessment ? 'findings' : 'not started',
    open: all.open,
    excepted: all.excepted,
    recommended: false,
    denied: [],
    blockedBy: [],
  });
  const placed = inPlace(history, inputs.journal ?? []);
  const verifications = latestVerifications(history, inputs.journal ?? []);
  // Application and infrastructure namespaces in scope: without any, namespace steps have nothing to act on.
  const workNamespaces = assessment
    ? assessment.namespaces.filter((n) => n.tier !== 'system' && !n.terminating).length
    : 0;
  const byStep = new Map(inputs.steps.map((s) => [s.id, s]));
  /** A step another builds on is in place: applied, or its phase done (detection sees it in place). */
  const satisfied = (id: string): boolean => {
    if ((placed.get(id)?.applied ?? 0) > 0) return true;
    const row = rows.find((r) => r.stepIds.includes(id));
    return !!row && (DONE.includes(row.status) || (!!assessment && row.left === 0));
  };
  for (const { phase, steps } of stepPhases(inputs.steps)) {
    const stepIds = steps.map((s) => s.id);
    // The findings its detail lists: its controls', and its steps' own once the current plan covers them.
    const listed = phaseFindings(assessment, current, phase, stepIds);
    const counts = countFindings(listed);
    const applied = stepIds.reduce((n, id) => n + (placed.get(id)?.applied ?? 0), 0);
    const appliedAt = stepIds
      .map((id) => placed.get(id)?.at)
      .filter((a): a is string => !!a)
      .sort()
      .at(-1);
    const written = stepIds.some((id) => placed.get(id)?.written);
    const verifiedSteps = stepIds.filter((id) => verifications.get(id) === true);
    const failedVerification = stepIds.some((id) => verifications.get(id) === false);
    const planned = !!current && stepIds.every((id) => current.steps.some((s) => s.id === id));
    const noEffect = assessment
      ? steps
          .map((s) => s.noEffect?.(assessment))
          .filter((r): r is string => !!r)
          .join('; ')
      : '';
    const denied = [
      ...new Set(
        stepIds.flatMap((id) =>
          (permissions[id] ?? []).filter((d) => !d.allowed).map((d) => describeAccess(d)),
        ),
      ),
    ];
    const required = steps.filter((s) => writes(s) && !s.optIn);
    const isApplied = (s: Pick<Step, 'id'>) => (placed.get(s.id)?.applied ?? 0) > 0;
    const pending = required.filter((s) => !isApplied(s));
    const left = leftToFix(
      listed,
      required.map((s) => s.id),
    );
    const appliedSteps = steps.filter(isApplied);
    // Steps of earlier phases its required steps build on (Step.needs), and whether they are in place.
    const needs = [
      ...new Set(
        required.flatMap((s) => (s.needs ?? []).filter((n) => byStep.has(n) && !stepIds.includes(n))),
      ),
    ];
    const gated =
      !!assessment &&
      required.length > 0 &&
      required.every((s) => (s.needs ?? []).some((n) => needs.includes(n) && !satisfied(n)));
    const describeNeed = (id: string) => {
      const s = byStep.get(id);
      return s ? `${s.title} (phase ${s.phase})` : id;
    };
    const when = (at: string | undefined, isWritten: boolean) =>
      at ? `applied ${ago(at, now)}` : isWritten ? 'written in this session' : 'applied in this session';

    const blockedBy: string[] = [];
    let waitsFor: string | undefined;
    if (!writesNothing(steps)) {
      if (denied.length) blockedBy.push(`you may not ${denied.join(', ')}`);
      if (gated) {
        waitsFor = needs
          .filter((n) => !satisfied(n))
          .map(describeNeed)
          .join(', ');
        blockedBy.push(`waits for ${waitsFor}: apply it first`);
      }
    }
    if (noEffect) blockedBy.push(noEffect);

    // Manual changes are never applied by kube-harden (and a review writes nothing): such a phase is done when its
    // preview proposes no manual change and finds nothing open, unknown when it could not see.
    const review = writesNothing(steps)
      ? planned && current
        ? reviewOf(current, stepIds)
        : inputs.reviews?.[phase]
      : undefined;
    const reviewed: PhaseStatus | undefined = review
      ? review.unknown
        ? 'unknown'
        : review.changes > 0
          ? 'planned'
          : review.open > 0 && steps.every((s) => s.risk === 'none')
            ? 'findings'
            : 'done'
      : undefined;
    const plannedChanges =
      planned && current ? current.changes.filter((c) => stepIds.includes(c.step)).length : 0;

    let status: PhaseStatus;
    let progress: string | undefined;
    if (skipped.includes(phase)) status = 'skipped';
    else if (applied > 0) {
      const todo: string[] = [];
      if (pending.length) todo.push(`${pending.map((s) => s.title).join(', ')} still to do`);
      if (left > 0) todo.push(`${left} open finding${left === 1 ? '' : 's'} left to fix`);
      if (!assessment) todo.push('not assessed yet');
      if (failedVerification) todo.push('the verification failed (see the run summary)');
      const done =
        required.length > 1 || appliedSteps.length > 1
          ? appliedSteps
              .map((s) => `${s.title} ${when(placed.get(s.id)?.at, !!placed.get(s.id)?.written)}`)
              .join('; ')
          : when(appliedAt, written);
      status = noEffect
        ? 'no effect'
        : todo.length
          ? 'in progress'
          : verifiedSteps.length > 0
            ? 'verified'
            : 'done';
      if (status === 'in progress') progress = `${done}; ${todo.join('; ')}`;
    } else if (reviewed) status = reviewed;
    else if (assessment && blockedBy.length) status = 'blocked';
    else if (planned) status = plannedChanges === 0 && left === 0 && assessment ? 'done' : 'planned';
    else if (needs.some((n) => (placed.get(n)?.applied ?? 0) > 0)) {
      status = 'in progress';
      const ready = needs.filter((n) => (placed.get(n)?.applied ?? 0) > 0);
      progress = `${ready
        .map((n) => `${describeNeed(n)} ${when(placed.get(n)?.at, !!placed.get(n)?.written)}`)
        .join('; ')}; ${required.map((s) => s.title).join(', ')} still to do`;
    } else if (
      assessment &&
      !writesNothing(steps) &&
      workNamespaces === 0 &&
      counts.open + counts.excepted === 0
    )
      status = 'not applicable';
    else status = counts.open > 0 ? 'findings' : 'not started';

    rows.push({
      phase,
      title: steps.map((s) => s.title).join(' + '),
      summary: steps.map((s) => s.summary).join('; '),
      risk: steps.reduce<Risk>(
        (worst, s) => (RISK_ORDER.indexOf(s.risk) > RISK_ORDER.indexOf(worst) ? s.risk : worst),
        'none',
      ),
      stepIds,
      status,
      open: counts.open,
      excepted: counts.excepted,
      left,
      ...(planned && current ? { changes: plannedChanges } : review ? { changes: review.changes } : {}),
      ...(applied > 0 ? { applied, when: when(appliedAt, written) } : {}),
      ...(appliedAt && applied > 0 ? { appliedAt } : {}),
      ...(progress ? { progress } : {}),
      ...(waitsFor ? { waitsFor } : {}),
      recommended: false,
      denied,
      blockedBy,
      ...(noEffect ? { noEffect } : {}),
    });
  }
  const next = assessment
    ? rows.find(
        (r) =>
          r.phase !== 0 &&
          !['verified', 'no effect', 'skipped', 'done', 'unknown', 'not applicable'].includes(r.status),
      )
    : rows[0];
  if (next) next.recommended = true;
  return rows;
}
