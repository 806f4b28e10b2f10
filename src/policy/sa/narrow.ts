/**
 * Narrowed RBAC from the requests a subject made (the audit2rbac idea, `liggitt/audit2rbac` pkg/process.go; see
 * phases-3-6-and-packaging §4): verbs × resources × namespaces, with `resourceNames` where the log shows a small
 * fixed set of names. Pure.
 *
 * - Requests discovery already allows every authenticated user (`/api*`, `/version`, `/healthz`, `/openapi*`, …)
 *   need no rule.
 * - `create` carries no name (RBAC cannot check names on create).
 * - Verbs are expanded as audit2rbac does: watch/list → get, list, watch; update/patch → get, patch, update.
 * - Namespaced requests become rules of a Role in that namespace (never widened to a ClusterRole: narrower than
 *   audit2rbac's default); cluster-scoped requests, requests across all namespaces and non-resource URLs become
 *   rules of one ClusterRole.
 * - Named requests keep `resourceNames` when every request of that kind was named and there are at most
 *   `MAX_NAMES` names; otherwise the rule covers every name.
 */
import type { PolicyRule } from '../../inventory/types.js';
import type { AuditOperation } from './audit-log.js';

export const MAX_NAMES = 10;

const DISCOVERY = [
  /^\/api\/?$/,
  /^\/api\/v1\/?$/,
  /^\/apis(\/[^/]+(\/[^/]+)?)?\/?$/,
  /^\/version\/?$/,
  /^\/(healthz|livez|readyz)(\/.*)?$/,
  /^\/openapi(\/.*)?$/,
  /^\/swagger.*$/,
  /^\/\.well-known\/openid-configuration\/?$/,
  /^\/openid\/v1\/jwks\/?$/,
];

export function isDiscoveryPath(path: string): boolean {
  return DISCOVERY.some((re) => re.test(path));
}

const EXPAND: Readonly<Record<string, readonly string[]>> = {
  watch: ['get', 'list', 'watch'],
  list: ['get', 'list', 'watch'],
  update: ['get', 'patch', 'update'],
  patch: ['get', 'patch', 'update'],
};

export interface NarrowedRules {
  /** Rules of a ClusterRole (cluster-scoped resources, all-namespace requests, non-resource URLs). */
  cluster: PolicyRule[];
  /** Rules of a Role per namespace. */
  namespaced: Record<string, PolicyRule[]>;
  /** Requests that needed no rule (discovery). */
  discovery: number;
}

interface Bucket {
  group: string;
  resource: string;
  unnamed: Set<string>;
  named: Set<string>;
  names: Set<string>;
}

const sorted = (s: Iterable<string>) => [...s].sort();

export function narrowRules(operations: Iterable<AuditOperation>): NarrowedRules {
  const buckets = new Map<string, Map<string, Bucket>>(); // scope ('' = cluster) → group/resource → bucket
  const urls = new Map<string, Set<string>>();
  let discovery = 0;
  for (const op of operations) {
    const verbs = EXPAND[op.verb] ?? [op.verb];
    if (op.path !== undefined) {
      if (isDiscoveryPath(op.path)) {
        discovery += op.count;
        continue;
      }
      const set = urls.get(op.path) ?? new Set<string>();
      for (const v of verbs) set.add(v);
      urls.set(op.path, set);
      continue;
    }
    if (!op.resource) continue;
    const scope = op.namespace ?? '';
    const resource = op.subresource ? `${op.resource}/${op.subresource}` : op.resource;
    const group = op.apiGroup ?? '';
    let byScope = buckets.get(scope);
    if (!byScope) {
      byScope = new Map();
      buckets.set(scope, byScope);
    }
    const key = `${group}\0${resource}`;
    let b = byScope.get(key);
    if (!b) {
      b = { group, resource, unnamed: new Set(), named: new Set(), names: new Set() };
      byScope.set(key, b);
    }
    const name = op.verb === 'create' ? undefined : op.name;
    if (name === undefined) for (const v of verbs) b.unnamed.add(v);
    else {
      for (const v of verbs) b.named.add(v);
      b.names.add(name);
    }
  }

  const rulesOf = (byScope: Map<string, Bucket>): PolicyRule[] => {
    const raw: PolicyRule[] = [];
    for (const b of byScope.values()) {
      if (b.names.size > MAX_NAMES) {
        for (const v of b.named) b.unnamed.add(v);
        b.named.clear();
      }
      for (const v of b.unnamed) b.named.delete(v);
      if (b.unnamed.size)
        raw.push({ apiGroups: [b.group], resources: [b.resource], verbs: sorted(b.unnamed) });
      if (b.named.size)
        raw.push({
          apiGroups: [b.group],
          resources: [b.resource],
          verbs: sorted(b.named),
          resourceNames: sorted(b.names),
        });
    }
    // Compact: one rule per group × verbs × names, listing its resources.
    const merged = new Map<string, PolicyRule>();
    for (const r of raw) {
      const k = JSON.stringify([r.apiGroups, r.verbs, r.resourceNames ?? null]);
      const m = merged.get(k);
      if (m) m.resources = sorted(new Set([...(m.resources ?? []), ...(r.resources ?? [])]));
      else merged.set(k, { ...r });
    }
    return [...merged.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  };

  const cluster = buckets.has('') ? rulesOf(buckets.get('') as Map<string, Bucket>) : [];
  for (const [path, verbs] of [...urls].sort(([a], [b]) => a.localeCompare(b)))
    cluster.push({ nonResourceURLs: [path], verbs: sorted(verbs) });
  const namespaced: Record<string, PolicyRule[]> = {};
  for (const scope of sorted(buckets.keys())) {
    if (scope === '') continue;
    namespaced[scope] = rulesOf(buckets.get(scope) as Map<string, Bucket>);
  }
  return { cluster, namespaced, discovery };
}
