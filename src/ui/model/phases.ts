/**
 * The rollout as rows: phase 0 (the read-only inventory) and one row per phase that has steps, in order, each with
 * its status and counts, plus which phase to do next. Status, from strongest to weakest:
 * skipped (the operator said so) › verified (applied in this session and its verification passed) › applied ›
 * unknown (a phase that writes nothing — manual or review steps only — whose preview could not see what it checks,
 * e.g. the API server's flags: never done) › done (such a phase whose preview proposes no manual change and finds
 * nothing open: detection sees everything in place) › planned (the store's current plan covers it) › findings
 * (open findings of its controls) › not started. What the preview of a phase that writes nothing found is
 * remembered (`reviews`), so previewing the next phase does not turn it back to "not started".
 * A phase whose step says its changes have no effect yet (`Step.noEffect`, e.g. no CNI enforces NetworkPolicy)
 * is never verified or applied: it shows `no effect` once applied, and the reason on every status.
 */

import type { Plan, Risk, Step } from '../../engine/types.js';
import type { AccessDecision } from '../../k8s/types.js';
import type { Assessment } from '../../policy/assess.js';
import type { SessionRun } from '../state/wizard.js';
import { countFindings, phaseFindings } from './findings.js';

export type PhaseStatus =
  | 'not started'
  | 'findings'
  | 'planned'
  | 'applied'
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
  /** Changes in the current plan (when planned). */
  changes?: number;
  /** Changes applied in this session (runs not undone). */
  applied?: number;
  recommended: boolean;
  /** Permissions applying it needs that the user lacks, e.g. `patch namespaces`. */
  denied: string[];
  /** Why its changes have no effect yet (Step.noEffect): the phase is not done, whatever was applied. */
  noEffect?: string;
}

export interface PhaseInputs {
  steps: readonly Pick<Step, 'id' | 'phase' | 'title' | 'summary' | 'risk' | 'noEffect'>[];
  assessment?: Assessment;
  plan?: Plan;
  planStale: boolean;
  permissions: Record<string, AccessDecision[]>;
  history: readonly SessionRun[];
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

export function derivePhases(inputs: PhaseInputs): PhaseRow[] {
  const { assessment, plan, history, skipped, permissions } = inputs;
  const rows: PhaseRow[] = [];
  const all = countFindings(phaseFindings(assessment, undefined, 0, []));
  rows.push({
    phase: 0,
    title: INVENTORY_PHASE.title,
    summary: INVENTORY_PHASE.summary,
    risk: 'none',
    stepIds: [],
    status: assessment ? 'findings' : 'not started',
    open: all.open,
    excepted: all.excepted,
    recommended: false,
    denied: [],
  });
  for (const { phase, steps } of stepPhases(inputs.steps)) {
    const stepIds = steps.map((s) => s.id);
    const counts = countFindings(phaseFindings(assessment, undefined, phase, stepIds));
    const live = history.filter((r) => !r.undone);
    const applied = live.reduce(
      (n, r) => n + stepIds.reduce((m, id) => m + (r.appliedByStep[id] ?? 0), 0),
      0,
    );
    const verifiedSteps = stepIds.filter((id) => live.some((r) => r.verified[id] === true));
    const failedVerification = stepIds.some((id) => live.some((r) => r.verified[id] === false));
    const planned = !inputs.planStale && !!plan && stepIds.every((id) => plan.steps.some((s) => s.id === id));
    const noEffect = assessment
      ? steps
          .map((s) => s.noEffect?.(assessment))
          .filter((r): r is string => !!r)
          .join('; ')
      : '';
    // Manual changes are never applied by kube-harden (and a review writes nothing): such a phase is done when its
    // preview proposes no manual change and finds nothing open, unknown when it could not see.
    const review = writesNothing(steps)
      ? planned && plan
        ? reviewOf(plan, stepIds)
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
    const status: PhaseStatus = skipped.includes(phase)
      ? 'skipped'
      : applied > 0
        ? noEffect
          ? 'no effect'
          : verifiedSteps.length > 0 && !failedVerification
            ? 'verified'
            : 'applied'
        : reviewed
          ? reviewed
          : planned
            ? 'planned'
            : counts.open > 0
              ? 'findings'
              : 'not started';
    const denied = stepIds.flatMap((id) =>
      (permissions[id] ?? []).filter((d) => !d.allowed).map((d) => describeAccess(d)),
    );
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
      ...(planned && plan
        ? { changes: plan.changes.filter((c) => stepIds.includes(c.step)).length }
        : review
          ? { changes: review.changes }
          : {}),
      ...(applied > 0 ? { applied } : {}),
      recommended: false,
      denied: [...new Set(denied)],
      ...(noEffect ? { noEffect } : {}),
    });
  }
  const next = assessment
    ? rows.find(
        (r) =>
          r.phase !== 0 &&
          !['applied', 'verified', 'no effect', 'skipped', 'done', 'unknown'].includes(r.status),
      )
    : rows[0];
  if (next) next.recommended = true;
  return rows;
}
