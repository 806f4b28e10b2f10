/**
 * Phase 7: review what is waived, regularly (`kube-harden schedule` runs it in CI or as a CronJob). Read-only: it
 * proposes nothing, it reports
 * - exceptions that have expired (they cover nothing any more), expire within `--within` days, cover nothing in
 *   this snapshot (unused), or have no real owner (a placeholder such as "TBD");
 * - namespaces left below enforcement: warn/audit without enforce beyond `--audit-only-max-age` (psa-enforce's
 *   setting, read by key: one flag, one meaning), and namespaces exempted from Pod Security by an explicit
 *   `enforce=privileged` although their tier's target is stricter, beyond the same age (or since a day nobody
 *   recorded: unknown is not compliant).
 *
 * `--within` is this step's setting; `kube-harden exceptions review` takes the same declaration, so the window
 * has one parser and one default everywhere.
 */
import type { SettingSpec, Step, StepFinding, StepOptions } from '../src/engine/types.js';
import { inScope } from '../src/inventory/scope.js';
import { DEFAULT_WITHIN_DAYS, type ExceptionStatus } from '../src/policy/exceptions.js';
import { ENFORCED_AT } from './kit/annotations.js';
import { finding } from './kit/findings.js';
import { auditOnlyTooLong, daysSince } from './kit/psa-age.js';
import { parseDays, settingOf } from './kit/settings.js';
import { STALE_AFTER } from './psa-enforce.js';

/** The "expiring" window, in days (`--within 30d`, `2w`, `45`). */
export const WITHIN: SettingSpec<number> = {
  key: 'exceptions-review.within',
  flag: 'within',
  type: 'DAYS',
  description: 'the "expiring" window of the exceptions review, e.g. 30d or 2w',
  default: `${DEFAULT_WITHIN_DAYS}d`,
  parse: parseDays,
};

/** Owners that name nobody. */
const PLACEHOLDER_OWNER =
  /^(tbd|tbc|todo|fixme|unknown|unassigned|none|nobody|noone|no-one|n\/?a|owner|someone|changeme|-+|\?+)$/i;

export function isPlaceholderOwner(owner: string): boolean {
  return PLACEHOLDER_OWNER.test(owner.trim());
}

export type ReviewState = 'expired' | 'expiring' | 'unused' | 'no-owner';

export interface ReviewedException {
  id: string;
  line: number;
  namespace?: string;
  owner: string;
  expires: string;
  daysLeft: number;
  states: ReviewState[];
}

export interface ReviewedNamespace {
  name: string;
  control: 'KH-PSA-AUDIT-ONLY' | 'KH-PSA-EXEMPT-PRIVILEGED';
  message: string;
}

export interface ReviewFacts {
  /** The register's path, when one was read. */
  file?: string;
  within: number;
  maxAge: number;
  /** Exceptions in scope, each with what needs a look (empty: nothing). */
  exceptions: ReviewedException[];
  namespaces: ReviewedNamespace[];
}

/** Whether an exception belongs to this run's scope (cluster-scoped ones: only when no `-n` narrows it). */
function exceptionInScope(e: ExceptionStatus, options: StepOptions): boolean {
  if (e.scope.namespace === undefined) return options.namespaces.length === 0;
  return inScope(options, e.scope.namespace);
}

function describeWhen(e: ReviewedException): string {
  if (e.daysLeft < 0) return `expired on ${e.expires} (${-e.daysLeft} days ago)`;
  if (e.daysLeft === 0) return `expires today (${e.expires})`;
  return `expires on ${e.expires} (in ${e.daysLeft} days)`;
}

export const exceptionsReview: Step<ReviewFacts> = {
  id: 'exceptions-review',
  phase: 7,
  title: 'Exception review',
  summary:
    'expired, expiring, unused and owner-less exceptions; namespaces left privileged or audit-only too long',
  risk: 'none',
  settings: [WITHIN],
  needs: ['psa-warn-audit'],
  targets: [],

  permissions() {
    return [];
  },

  async detect(ctx) {
    const { assessment, snapshot, options } = ctx;
    const within = settingOf(WITHIN, options) as number;
    const maxAge = settingOf(STALE_AFTER, options) as number;
    const findings: StepFinding[] = [];
    const exceptions: ReviewedException[] = [];
    // The assessment judged usage and expiry; the window is this step's setting (the assessment may have used
    // another), so "expiring" is recomputed from the days left.
    for (const e of assessment.exceptions.entries) {
      if (!exceptionInScope(e, options)) continue;
      const reviewed: ReviewedException = {
        id: e.id,
        line: e.line,
        owner: e.owner,
        expires: e.expires,
        daysLeft: e.daysLeft,
        states: [],
        ...(e.scope.namespace !== undefined ? { namespace: e.scope.namespace } : {}),
      };
      const target = {
        kind: 'Exception',
        name: e.id,
        ...(e.scope.namespace !== undefined ? { namespace: e.scope.namespace } : {}),
      };
      const who = `owner ${e.owner}${e.ticket ? `, ticket ${e.ticket}` : ''}`;
      if (e.daysLeft < 0) {
        reviewed.states.push('expired');
        findings.push(
          finding(
            'KH-EXCEPTION-EXPIRED',
            target,
            `exception ${e.id} ${describeWhen(reviewed)} (${who}): it no longer covers ${e.controls.join(', ')}`,
          ),
        );
      } else if (e.daysLeft <= within) {
        reviewed.states.push('expiring');
        findings.push(
          finding(
            'KH-EXCEPTION-EXPIRING',
            target,
            `exception ${e.id} ${describeWhen(reviewed)}, within the ${within}-day window (${who}): renew it or fix what it covers (${e.controls.join(', ')})`,
          ),
        );
      }
      if (e.daysLeft >= 0 && e.covers === 0) {
        reviewed.states.push('unused');
        findings.push(
          finding(
            'KH-EXCEPTION-UNUSED',
            target,
            `exception ${e.id} (line ${e.line}) covers nothing in this ${snapshot.source.kind === 'manifests' ? 'manifests directory' : 'cluster'}: remove it (${who})`,
          ),
        );
      }
      if (isPlaceholderOwner(e.owner)) {
        reviewed.states.push('no-owner');
        findings.push(
          finding(
            'KH-EXCEPTION-NO-OWNER',
            target,
            `exception ${e.id} (line ${e.line}) has no real owner ("${e.owner}"): name who answers for it`,
          ),
        );
      }
      exceptions.push(reviewed);
    }

    const namespaces: ReviewedNamespace[] = [];
    for (const posture of assessment.namespaces) {
      if (!inScope(options, posture.name) || posture.tier === 'system' || posture.terminating) continue;
      if (!posture.psa || posture.synthesized || posture.targetLevel === 'privileged') continue;
      const info = snapshot.namespaces.find((n) => n.name === posture.name);
      const stale = auditOnlyTooLong(posture, info, options.now, maxAge);
      if (stale) {
        namespaces.push({ name: posture.name, control: 'KH-PSA-AUDIT-ONLY', message: stale });
        continue;
      }
      const enforce = posture.psa.enforce;
      if (!enforce || enforce.invalid || enforce.level !== 'privileged') continue;
      const since = info?.annotations[ENFORCED_AT];
      const age = daysSince(since, options.now);
      if (age !== undefined && age <= maxAge) continue;
      namespaces.push({
        name: posture.name,
        control: 'KH-PSA-EXEMPT-PRIVILEGED',
        message: `namespace ${posture.name} (${posture.tier}) enforces privileged, an exemption from Pod Security, though its target is ${posture.targetLevel}: ${
          age === undefined
            ? 'since a day kube-harden did not record (unknown is not compliant)'
            : `for ${age} days (since ${since}; threshold ${maxAge})`
        }`,
      });
    }
    for (const n of namespaces)
      findings.push(finding(n.control, { kind: 'Namespace', name: n.name }, n.message));

    const facts: ReviewFacts = { within, maxAge, exceptions, namespaces };
    if (assessment.exceptions.file !== undefined) facts.file = assessment.exceptions.file;
    return { facts, findings };
  },

  propose() {
    return [];
  },

  explain(facts) {
    const due = facts.exceptions.filter((e) => e.states.length > 0).length;
    return {
      why: `Exceptions and exemptions are accepted risks with an end date. Reviewing them on a schedule (kube-harden schedule) keeps the register honest: ${due} of ${facts.exceptions.length} exception(s) need a look (expiring = within ${facts.within} days), and ${facts.namespaces.length} namespace(s) have been left privileged or audit-only beyond ${facts.maxAge} days.`,
      impact: 'None: this phase changes nothing. Renew, fix or remove what it lists, with the owners.',
      rollback: 'Nothing to roll back.',
    };
  },
};
