/**
 * How long a namespace has been left below enforcement: warn/audit without enforce (or with enforce=privileged)
 * since the day phase 1 first labelled it (`WARN_AUDIT_SINCE`). Shared by psa-enforce (phase 2) and
 * exceptions-review (phase 7), which both flag it (KH-PSA-AUDIT-ONLY) past `--audit-only-max-age`.
 */
import type { NamespaceInfo } from '../../src/inventory/types.js';
import type { NamespacePosture } from '../../src/policy/assess.js';
import { WARN_AUDIT_SINCE } from './annotations.js';

const DAY = 86_400_000;

/** Whole days from `since` (a date or timestamp) to `now`; undefined when `since` is not a date. */
export function daysSince(since: string | undefined, now: Date): number | undefined {
  if (!since) return undefined;
  const age = Math.floor((now.getTime() - Date.parse(since)) / DAY);
  return Number.isFinite(age) ? age : undefined;
}

/**
 * Warn/audit without enforce (or enforcing only `privileged`) for longer than `maxDays`: the finding's message,
 * else undefined (enforced, no warn/audit, no date kept, or not old enough).
 */
export function auditOnlyTooLong(
  posture: Pick<NamespacePosture, 'name' | 'psa'>,
  info: Pick<NamespaceInfo, 'annotations'> | undefined,
  now: Date,
  maxDays: number,
): string | undefined {
  const psa = posture.psa;
  if (!psa || (psa.warn === null && psa.audit === null)) return undefined;
  const current = psa.enforce && !psa.enforce.invalid ? psa.enforce.level : null;
  if (current && current !== 'privileged') return undefined;
  const since = info?.annotations[WARN_AUDIT_SINCE];
  const age = daysSince(since, now);
  if (age === undefined || age <= maxDays) return undefined;
  return `namespace ${posture.name} has had warn/audit without enforce for ${age} days (since ${since}; threshold ${maxDays})`;
}
