/**
 * After a change: did a controller fail to create pods since? A `FailedCreate` event (reason of the ReplicaSet,
 * StatefulSet, DaemonSet, Job and ReplicationController controllers when the API server refuses a pod, e.g.
 * `pods "x" is forbidden: violates PodSecurity "restricted:v1.36": …`) in the namespace, newer than the change,
 * means the change broke a workload. Unknown is not compliant: events that cannot be read fail the verification.
 */
import type { ClusterReader } from '../../src/cluster/types.js';
import { Kinds } from '../../src/k8s/kinds.js';

export interface FailedCreateQuery {
  namespace: string;
  /** When the change was applied (ISO time); events older than this (minus a second of clock skew) are ignored. */
  since: string;
  /** Only events whose message matches (e.g. /violates PodSecurity/); default: every FailedCreate. */
  match?: RegExp;
}

export interface FailedCreateResult {
  ok: boolean;
  /** One line per failure (naming the object), or per namespace whose events could not be read. */
  messages: string[];
}

/** Event timestamps have second precision: an event of the same second as the change counts. */
const SKEW_MS = 1000;

interface EventLike {
  message?: string;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { lastObservedTime?: string | null } | null;
  involvedObject?: { kind?: string; name?: string };
}

/** The latest time an event was seen (core/v1 events of the legacy recorder, or of the events.k8s.io API). */
function lastSeen(e: EventLike): number {
  return Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? '');
}

/**
 * FailedCreate events since each change, one list per namespace (the earliest change of a namespace is its
 * threshold). Messages name the object that could not create its pods.
 */
export async function failedCreateSince(
  reader: ClusterReader,
  queries: readonly FailedCreateQuery[],
  signal?: AbortSignal,
): Promise<FailedCreateResult> {
  const byNamespace = new Map<string, { since: number; match?: RegExp }>();
  for (const q of queries) {
    const since = Date.parse(q.since);
    const prev = byNamespace.get(q.namespace);
    if (!prev || since < prev.since)
      byNamespace.set(q.namespace, { since, ...(q.match ? { match: q.match } : {}) });
  }
  const messages: string[] = [];
  let ok = true;
  for (const [namespace, { since, match }] of [...byNamespace].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    try {
      for await (const page of reader.list(Kinds.Event, {
        namespace,
        fieldSelector: 'reason=FailedCreate',
        ...(signal ? { signal } : {}),
      })) {
        for (const item of page.items) {
          const e = item as unknown as EventLike;
          // NaN (no timestamp) is not "before": an undated failure is reported, not ignored.
          if (lastSeen(e) < since - SKEW_MS) continue;
          if (match && !match.test(e.message ?? '')) continue;
          ok = false;
          messages.push(
            `${e.involvedObject?.kind ?? 'object'} ${namespace}/${e.involvedObject?.name ?? '?'}: FailedCreate: ${e.message ?? '(no message)'}`,
          );
        }
      }
    } catch (error) {
      ok = false;
      messages.push(
        `namespace ${namespace}: could not read events (${(error as Error).message}); check FailedCreate events by hand (kubectl get events -n ${namespace} --field-selector reason=FailedCreate)`,
      );
    }
  }
  return { ok, messages };
}
