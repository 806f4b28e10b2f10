/**
 * Audit policies (audit.k8s.io/v1) as data (pure): the tiers kube-harden generates, the level each tier promises
 * for the requests that matter, and the check that no rule of a policy can log a secret value — the body of a
 * Secret write, a TokenRequest's response (the issued token) or a TokenReview (the bearer token).
 *
 * Matching follows upstream `apiserver pkg/audit/policy/checker.go`: rules in order, the first match wins, no match
 * is `None`; a rule with `nonResourceURLs` never matches a resource request; `resources[].resources` entries match
 * `resource`, `resource/subresource`, `*`, `*\/subresource` and `resource/*`.
 */
import { isMap, list, strings } from '../../k8s/json.js';

export const AUDIT_TIERS = ['minimal', 'standard', 'forensic'] as const;
export type AuditTier = (typeof AUDIT_TIERS)[number];

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
const LEVELS: readonly AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];

/** A resource request, as the policy checker sees it. */
export interface AuditRequest {
  user?: string;
  groups?: string[];
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

interface Rule {
  level: AuditLevel;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: Array<{ group: string; resources: string[]; resourceNames: string[] }>;
  namespaces: string[];
  nonResourceURLs: string[];
}

/** The rules of a parsed Policy document; a malformed policy (unknown level, no rules list) throws. */
export function policyRules(policy: unknown): Rule[] {
  if (!isMap(policy) || policy.apiVersion !== 'audit.k8s.io/v1' || policy.kind !== 'Policy')
    throw new Error('not an audit.k8s.io/v1 Policy');
  if (!Array.isArray(policy.rules)) throw new Error('the policy has no rules list');
  return list(policy.rules).map((r, i) => {
    if (!LEVELS.includes(r.level as AuditLevel)) throw new Error(`rule ${i + 1} has no valid level`);
    return {
      level: r.level as AuditLevel,
      users: strings(r.users),
      userGroups: strings(r.userGroups),
      verbs: strings(r.verbs),
      resources: list(r.resources).map((g) => ({
        group: typeof g.group === 'string' ? g.group : '',
        resources: strings(g.resources),
        resourceNames: strings(g.resourceNames),
      })),
      namespaces: strings(r.namespaces),
      nonResourceURLs: strings(r.nonResourceURLs),
    };
  });
}

function matchesResource(rule: Rule, req: AuditRequest, ignoreNames: boolean): boolean {
  if (rule.resources.length === 0) return true;
  const combined = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  return rule.resources.some((gr) => {
    if (gr.group !== req.group && gr.group !== '*') return false;
    if (gr.resources.length === 0) return true;
    if (!ignoreNames && gr.resourceNames.length > 0 && !(req.name && gr.resourceNames.includes(req.name)))
      return false;
    return gr.resources.some(
      (res) =>
        res === combined ||
        res === '*' ||
        (!!req.subresource && res.startsWith('*/') && res.slice(2) === req.subresource) ||
        (res.endsWith('/*') && res.slice(0, -2) === req.resource),
    );
  });
}

/** Whether `rule` matches `req` exactly as the API server would. */
function matches(rule: Rule, req: AuditRequest): boolean {
  if (rule.nonResourceURLs.length > 0) return false;
  if (rule.users.length > 0 && !(req.user && rule.users.includes(req.user))) return false;
  if (rule.userGroups.length > 0 && !(req.groups ?? []).some((g) => rule.userGroups.includes(g)))
    return false;
  if (rule.verbs.length > 0 && !rule.verbs.includes(req.verb)) return false;
  if (rule.namespaces.length > 0 && !rule.namespaces.includes(req.namespace ?? '')) return false;
  return matchesResource(rule, req, false);
}

/** The level the policy gives a request (first matching rule; none: `None`). */
export function levelFor(policy: unknown, req: AuditRequest): AuditLevel {
  return policyRules(policy).find((r) => matches(r, req))?.level ?? 'None';
}

/** The requests whose bodies hold secret values, and the highest level each may be logged at. */
const SENSITIVE: ReadonlyArray<{
  what: string;
  req: Omit<AuditRequest, 'verb'>;
  verbs: Record<string, AuditLevel>;
}> = [
  {
    what: 'Secret',
    req: { group: '', resource: 'secrets' },
    // A write's request body holds the data; any response holds it too.
    verbs: {
      create: 'Metadata',
      update: 'Metadata',
      patch: 'Metadata',
      get: 'Request',
      list: 'Request',
      watch: 'Request',
      delete: 'Request',
      deletecollection: 'Request',
    },
  },
  {
    what: 'TokenRequest (serviceaccounts/token)',
    req: { group: '', resource: 'serviceaccounts', subresource: 'token' },
    // The response holds the issued token; the request only the audience, expiry and bound object.
    verbs: { create: 'Request' },
  },
  {
    what: 'TokenReview',
    req: { group: 'authentication.k8s.io', resource: 'tokenreviews' },
    // The request holds the bearer token under review.
    verbs: { create: 'Metadata' },
  },
];

/**
 * Every way the policy could log a secret value: for each sensitive request and verb, each rule that may match it
 * (rules limited to some users, groups, namespaces or names may match for someone, so they are checked and do not
 * hide the rules after them) until an unconditional one. Empty: the policy is safe.
 */
export function secretLeaks(policy: unknown): string[] {
  const rules = policyRules(policy);
  const out: string[] = [];
  for (const s of SENSITIVE) {
    for (const [verb, max] of Object.entries(s.verbs)) {
      const req: AuditRequest = { ...s.req, verb };
      for (const [i, rule] of rules.entries()) {
        if (rule.nonResourceURLs.length > 0) continue;
        if (rule.verbs.length > 0 && !rule.verbs.includes(verb)) continue;
        if (!matchesResource(rule, req, true)) continue;
        if (LEVELS.indexOf(rule.level) > LEVELS.indexOf(max))
          out.push(
            `rule ${i + 1} logs ${verb} ${s.what} at ${rule.level} (at most ${max}: values would be logged)`,
          );
        const conditional =
          rule.users.length > 0 ||
          rule.userGroups.length > 0 ||
          rule.namespaces.length > 0 ||
          rule.resources.some((g) => g.resourceNames.length > 0);
        if (!conditional) break;
      }
    }
  }
  return out;
}

/** Whether the policy drops the RequestReceived stage for every rule. */
export function omitsRequestReceived(policy: unknown): boolean {
  return isMap(policy) && strings(policy.omitStages).includes('RequestReceived');
}

/** The requests each tier promises a level for (what the integration test checks on a real API server). */
export const PROMISED_REQUESTS = {
  secretWrite: { verb: 'create', group: '', resource: 'secrets' },
  secretUpdate: { verb: 'patch', group: '', resource: 'secrets' },
  secretGet: { verb: 'get', group: '', resource: 'secrets' },
  tokenRequest: { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token' },
  tokenReview: { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' },
  roleBindingWrite: { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  exec: { verb: 'create', group: '', resource: 'pods', subresource: 'exec' },
  configMapGet: { verb: 'get', group: '', resource: 'configmaps' },
  deploymentWrite: { verb: 'create', group: 'apps', resource: 'deployments' },
} as const satisfies Record<string, AuditRequest>;

export type PromisedRequest = keyof typeof PROMISED_REQUESTS;

/** The level each tier promises, by a human user (not a system component). */
export const TIER_LEVELS: Readonly<Record<AuditTier, Record<PromisedRequest, AuditLevel>>> = {
  minimal: {
    secretWrite: 'Metadata',
    secretUpdate: 'Metadata',
    secretGet: 'Metadata',
    tokenRequest: 'Metadata',
    tokenReview: 'Metadata',
    roleBindingWrite: 'Request',
    exec: 'Metadata',
    configMapGet: 'Metadata',
    deploymentWrite: 'Metadata',
  },
  standard: {
    secretWrite: 'Metadata',
    secretUpdate: 'Metadata',
    secretGet: 'Request',
    tokenRequest: 'Request',
    tokenReview: 'Metadata',
    roleBindingWrite: 'RequestResponse',
    exec: 'RequestResponse',
    configMapGet: 'Request',
    deploymentWrite: 'Metadata',
  },
  forensic: {
    secretWrite: 'Metadata',
    secretUpdate: 'Metadata',
    secretGet: 'Request',
    tokenRequest: 'Request',
    tokenReview: 'Metadata',
    roleBindingWrite: 'RequestResponse',
    exec: 'RequestResponse',
    configMapGet: 'Request',
    deploymentWrite: 'Request',
  },
};

/** One line per tier for help and PLAN.md. */
export const TIER_SUMMARY: Readonly<Record<AuditTier, string>> = {
  minimal:
    'metadata for everything (who, what, when, from where), RBAC writes with their request; reads by nodes and control-plane components dropped',
  standard:
    'metadata for everything; Secret/ConfigMap reads and TokenRequests at Request (no values); exec/attach/port-forward/proxy and RBAC writes in full',
  forensic:
    'standard, plus every write with its request, and RBAC, admission, certificate, CRD, ServiceAccount and Namespace writes in full; discovery kept',
};
