/**
 * ServiceAccount token facts (phase 4, token hygiene): long-lived `kubernetes.io/service-account-token` Secrets
 * (legacy tokens), listed with `fieldSelector=type=kubernetes.io/service-account-token` and projected at once to
 * their metadata — the Secret's `data` (the token itself) is never kept, logged or returned (house rule 3). Legacy
 * token tracking (phases-3-6-and-packaging §4): label `kubernetes.io/legacy-token-last-used` (a date, since 1.28),
 * `kubernetes.io/legacy-token-invalid-since` (the cleaner marked it unused, 1.29+).
 *
 * A refused list is not an inventory unknown (reading Secrets is a privilege a read-only reviewer may rightly lack,
 * and the report's completeness does not depend on it): it is `unreadable` here, and the step that reads these
 * facts says so in a finding (unknown is not compliant).
 */

import { ClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { Kinds } from '../k8s/kinds.js';

export const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const LAST_USED_LABEL = 'kubernetes.io/legacy-token-last-used';
export const INVALID_SINCE_LABEL = 'kubernetes.io/legacy-token-invalid-since';
const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';

/** A legacy token Secret, metadata only. */
export interface LegacyTokenLite {
  namespace: string;
  name: string;
  /** Annotation `kubernetes.io/service-account.name`. */
  serviceAccount?: string;
  created?: string;
  lastUsed?: string;
  invalidSince?: string;
}

export interface ServiceAccountFacts {
  legacyTokens: LegacyTokenLite[];
  /** The list was refused or failed (namespaces: the ones that failed; empty = cluster-wide). */
  unreadable?: { namespaces: string[]; reason: string };
}

export interface ServiceAccountFactsContext {
  reader: ClusterReader;
  /** The namespaces of a narrowed run (-n); empty: all. */
  only: ReadonlySet<string>;
  pageSize?: number;
  signal?: AbortSignal;
  onPage?: () => void;
}

/** The metadata of a token Secret; nothing else of the object is read. */
export function legacyTokenOf(item: {
  metadata: {
    name: string;
    namespace?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}): LegacyTokenLite {
  const m = item.metadata;
  const t: LegacyTokenLite = { namespace: m.namespace ?? 'default', name: m.name };
  const sa = m.annotations?.[SA_NAME_ANNOTATION];
  if (typeof sa === 'string') t.serviceAccount = sa;
  if (typeof m.creationTimestamp === 'string') t.created = m.creationTimestamp;
  const used = m.labels?.[LAST_USED_LABEL];
  if (typeof used === 'string') t.lastUsed = used;
  const invalid = m.labels?.[INVALID_SINCE_LABEL];
  if (typeof invalid === 'string') t.invalidSince = invalid;
  return t;
}

export async function collectServiceAccountFacts(
  ctx: ServiceAccountFactsContext,
): Promise<ServiceAccountFacts> {
  const facts: ServiceAccountFacts = { legacyTokens: [] };
  const scopes: Array<string | undefined> = ctx.only.size > 0 ? [...ctx.only].sort() : [undefined];
  for (const namespace of scopes) {
    const kept: LegacyTokenLite[] = [];
    try {
      for await (const page of ctx.reader.list(Kinds.Secret, {
        ...(namespace ? { namespace } : {}),
        fieldSelector: `type=${SA_TOKEN_TYPE}`,
        ...(ctx.pageSize ? { limit: ctx.pageSize } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      })) {
        ctx.onPage?.();
        if (page.restarted && page.index === 1) kept.length = 0;
        for (const item of page.items) {
          // Project at once: the Secret (and its data) is dropped with the page.
          if ((item as { type?: unknown }).type !== SA_TOKEN_TYPE) continue;
          kept.push(legacyTokenOf(item));
        }
      }
      facts.legacyTokens.push(...kept);
    } catch (error) {
      if (!(error instanceof ClusterError)) throw error;
      if (['Unauthorized', 'Connection', 'TLS', 'NotKubernetes'].includes(error.reason)) throw error;
      const u = facts.unreadable ?? { namespaces: [], reason: error.reason };
      if (namespace) u.namespaces.push(namespace);
      facts.unreadable = u;
    }
  }
  facts.legacyTokens.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return facts;
}
