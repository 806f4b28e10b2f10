/**
 * Phase 4: RBAC review (issue 12), findings and proposals only — kube-harden never writes, changes or deletes RBAC.
 *
 * Findings (src/policy/rbac.ts, the same checks the report runs, plus node proxy and exec): cluster-admin or
 * `*`/`*`/`*` bound to anyone but `system:masters`, wildcard roles, escalate/bind/impersonate, Secrets read,
 * `nodes/proxy`, `pods/exec`/`attach`. ClusterRoleBindings always; RoleBindings of the namespaces in scope.
 *
 * With `--audit-log FILE` (declared by sa-tokens, read here): for every ServiceAccount or User bound by a
 * non-default binding in scope, a narrowed Role per namespace (and a ClusterRole for cluster-wide requests) from the
 * requests it made (src/policy/sa/narrow.ts), as a manual artifact naming the bindings it would replace; a subject
 * with no request in the window gets a finding, never a deletion. Groups are not narrowed (their members are not in
 * RBAC).
 */

import { toYaml } from '../src/engine/normalize.js';
import type { Change, Step, StepFinding, StepOptions } from '../src/engine/types.js';
import { inScope } from '../src/inventory/scope.js';
import type { BindingInfo, PolicyRule, Snapshot, Subject } from '../src/inventory/types.js';
import type { KubeObject } from '../src/k8s/types.js';
import { describeSubject, rbacAccessFindings, rbacFindings } from '../src/policy/rbac.js';
import { requestsText, serviceAccountUser, windowText } from '../src/policy/sa/audit-log.js';
import { isDefaultBinding } from '../src/policy/sa/evidence.js';
import { type NarrowedRules, narrowRules } from '../src/policy/sa/narrow.js';
import { legacyTokenFindings } from '../src/policy/sa/report.js';
import { finding } from './kit/findings.js';
import { renderObjectTemplate } from './kit/templates.js';
import { auditLogOf } from './sa-tokens.js';

const RBAC_API = 'rbac.authorization.k8s.io';

export interface NarrowedProposal {
  username: string;
  subject: Subject;
  /** The non-default bindings that name it today (what the narrowed roles would replace). */
  bindings: BindingInfo[];
  requests: number;
  rules: NarrowedRules;
  /** Some of its operations were not kept (the log is larger than kube-harden keeps). */
  truncated: boolean;
  window: string;
}

export interface RbacReviewFacts {
  proposals: NarrowedProposal[];
  audit?: { file: string; events: number; from?: string; to?: string };
  reviewed: number;
}

function bindingName(b: BindingInfo): string {
  return b.kind === 'ClusterRoleBinding'
    ? `ClusterRoleBinding ${b.name}`
    : `RoleBinding ${b.namespace}/${b.name}`;
}

function roleName(p: Pick<NarrowedProposal, 'subject'>): string {
  const s = p.subject;
  return s.kind === 'ServiceAccount'
    ? `kube-harden-narrowed:${s.namespace}:${s.name}`
    : `kube-harden-narrowed:user:${s.name}`;
}

function fileName(p: Pick<NarrowedProposal, 'subject'>): string {
  const s = p.subject;
  const raw = s.kind === 'ServiceAccount' ? `serviceaccount-${s.namespace}-${s.name}` : `user-${s.name}`;
  return `narrowed-${raw.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}.yaml`;
}

function bindingSubject(s: Subject): Record<string, string> {
  return s.kind === 'ServiceAccount'
    ? { kind: 'ServiceAccount', name: s.name, namespace: s.namespace ?? '' }
    : { kind: 'User', apiGroup: RBAC_API, name: s.name };
}

/** The narrowed roles and their bindings, as objects rendered from templates/rbac/. */
export function narrowedObjects(p: NarrowedProposal): KubeObject[] {
  const name = roleName(p);
  const subject = p.username;
  const out: KubeObject[] = [];
  const withRules = (o: KubeObject, rules: PolicyRule[]) => ({ ...o, rules }) as KubeObject;
  const withSubject = (o: KubeObject) => ({ ...o, subjects: [bindingSubject(p.subject)] }) as KubeObject;
  if (p.rules.cluster.length) {
    out.push(
      withRules(
        renderObjectTemplate('rbac/narrowed-clusterrole.yaml', { name, subject, window: p.window }),
        p.rules.cluster,
      ),
    );
    out.push(withSubject(renderObjectTemplate('rbac/narrowed-clusterrolebinding.yaml', { name, subject })));
  }
  for (const [namespace, rules] of Object.entries(p.rules.namespaced)) {
    if (rules.length === 0) continue;
    out.push(
      withRules(
        renderObjectTemplate('rbac/narrowed-role.yaml', { name, namespace, subject, window: p.window }),
        rules,
      ),
    );
    out.push(
      withSubject(renderObjectTemplate('rbac/narrowed-rolebinding.yaml', { name, namespace, subject })),
    );
  }
  return out;
}

/**
 * Token hygiene: long-lived ServiceAccount token Secrets in scope (legacy tokens never expire; TokenRequest and
 * projected tokens do), with what the API server's legacy-token tracking says about their use — the same findings
 * as the report (src/policy/sa/report.ts).
 */
function tokenHygiene(snapshot: Snapshot, options: StepOptions): StepFinding[] {
  return legacyTokenFindings(snapshot.serviceAccountFacts, (ns) => inScope(options, ns)).map((f) =>
    finding(f.control, f.target, f.message),
  );
}

export const rbacReview: Step<RbacReviewFacts> = {
  id: 'rbac-review',
  phase: 4,
  title: 'RBAC review and narrowed roles from evidence',
  summary:
    'findings on broad RBAC (cluster-admin, wildcards, escalate/bind/impersonate, Secrets, nodes/proxy, exec); with --audit-log, narrowed roles from the requests each subject made (manual: nothing is written)',
  risk: 'manual',
  targets: [{ manual: true }],

  permissions() {
    return [];
  },

  async detect(ctx) {
    const { snapshot, options } = ctx;
    const scoped = snapshot.bindings.filter(
      (b) => b.kind === 'ClusterRoleBinding' || (b.namespace !== undefined && inScope(options, b.namespace)),
    );
    const input = { roles: snapshot.roles, bindings: scoped };
    const findings: StepFinding[] = [...rbacFindings(input), ...rbacAccessFindings(input)].map((f) =>
      finding(f.control, f.target, f.message),
    );
    findings.push(...tokenHygiene(snapshot, options));
    const audit = await auditLogOf(options, ctx.signal);
    const facts: RbacReviewFacts = { proposals: [], reviewed: scoped.length };
    if (!audit) return { facts, findings };
    facts.audit = { file: audit.file, events: audit.events };
    if (audit.from) facts.audit.from = audit.from;
    if (audit.to) facts.audit.to = audit.to;

    // Subjects (ServiceAccounts in scope, Users) bound by non-default bindings.
    const subjects = new Map<string, { subject: Subject; bindings: BindingInfo[] }>();
    for (const b of scoped) {
      if (isDefaultBinding(b)) continue;
      for (const s of b.subjects) {
        let username: string;
        let subject: Subject;
        if (s.kind === 'ServiceAccount') {
          const namespace = s.namespace ?? b.namespace;
          if (!namespace || !inScope(options, namespace)) continue;
          username = serviceAccountUser(namespace, s.name);
          subject = { kind: 'ServiceAccount', name: s.name, namespace };
        } else if (s.kind === 'User') {
          if (s.name.startsWith('system:')) continue;
          username = s.name;
          subject = { kind: 'User', name: s.name };
        } else continue;
        const entry = subjects.get(username) ?? { subject, bindings: [] };
        if (!entry.bindings.includes(b)) entry.bindings.push(b);
        subjects.set(username, entry);
      }
    }
    const window = audit.from && audit.to ? `${audit.from}/${audit.to}` : 'unknown';
    for (const [username, { subject, bindings }] of [...subjects].sort(([a], [b]) => a.localeCompare(b))) {
      const target =
        subject.kind === 'ServiceAccount'
          ? { kind: 'ServiceAccount', namespace: subject.namespace as string, name: subject.name }
          : { kind: 'User', name: subject.name };
      const bound = bindings.map(bindingName).join(', ');
      const activity = audit.users.get(username);
      if (!activity || activity.requests === 0) {
        findings.push(
          finding(
            'KH-RBAC-UNUSED',
            target,
            `${describeSubject(subject)} made no request ${windowText(audit)}, yet is bound by ${bound}: confirm over a longer window, then remove the binding by hand (kube-harden never deletes one)`,
          ),
        );
        continue;
      }
      const rules = narrowRules(activity.operations.values());
      const proposal: NarrowedProposal = {
        username,
        subject,
        bindings,
        requests: activity.requests,
        rules,
        truncated: activity.truncated,
        window,
      };
      facts.proposals.push(proposal);
      findings.push(
        finding(
          'KH-RBAC-NARROWED',
          target,
          `${describeSubject(subject)} made ${requestsText(activity.requests)} ${windowText(audit)}; a narrowed role is proposed (rbac-review/${fileName(proposal)}) to replace ${bound}`,
        ),
      );
    }
    return { facts, findings };
  },

  propose(facts) {
    const changes: Change[] = [];
    for (const p of facts.proposals) {
      const objects = narrowedObjects(p);
      const bound = p.bindings.map(bindingName);
      const who = describeSubject(p.subject);
      const header = [
        `# Narrowed RBAC for ${who}, from the ${requestsText(p.requests)} it made in the audit log (${p.window}).`,
        `# It would replace: ${bound.join(', ')}. kube-harden writes none of this and deletes nothing.`,
        '# Apply it, watch for 403s over a soak period, then remove the broader bindings by hand.',
        '',
      ].join('\n');
      const content =
        objects.length === 0
          ? `${header}# Every request it made is allowed to everyone (discovery): it needs no role at all.\n`
          : header + objects.map((o) => toYaml(o)).join('---\n');
      const notes = [
        'seen requests only: what it did not do in this window (yearly jobs, failure paths) is not in these roles',
      ];
      if (p.truncated)
        notes.push('the audit log held more distinct requests than kube-harden keeps: some are missing');
      if (p.rules.discovery) notes.push(`${p.rules.discovery} discovery request(s) need no rule`);
      changes.push({
        kind: 'manual',
        id: `rbac-review/narrowed/${p.subject.kind === 'ServiceAccount' ? `${p.subject.namespace}/${p.subject.name}` : `user/${p.subject.name}`}`,
        risk: 'manual',
        reason: `${who} is bound by ${bound.join(', ')}; in the audit log it made ${requestsText(p.requests)}, which ${
          objects.length ? `${objects.length / 2} narrowed role(s) allow exactly` : 'discovery alone allows'
        } (verbs × resources × namespaces, resourceNames where the log shows a fixed set).`,
        notes,
        artifact: { path: fileName(p), content },
        instructions: `Review ${fileName(p)}; kubectl apply -f it; watch ${who}'s requests for 403 (audit log, its logs) over a soak period; then remove ${bound.join(', ')} by hand. kube-harden never deletes a binding.`,
      });
    }
    return changes;
  },

  explain(facts, changes) {
    return {
      why: `Broad RBAC "for convenience" is the most common path from one compromised pod or credential to the whole cluster. ${facts.reviewed} binding(s) in scope were reviewed with the same checks as the report, plus nodes/proxy and exec. ${
        facts.audit
          ? `The audit log ${facts.audit.file} (${facts.audit.events} event(s)${facts.audit.from ? `, ${facts.audit.from} → ${facts.audit.to}` : ''}) shows what each bound subject really did: the narrowed roles allow exactly that.`
          : 'Pass --audit-log FILE to derive narrowed roles from the requests each subject made.'
      } Legacy token Secrets never expire: they are listed as findings (metadata only; their values are never read out). A token used outside the cluster should be a short-lived one requested for its own audience (TokenRequest, or a projected volume with an audience and automountServiceAccountToken: false), so it is useless against the API server.`,
      impact: `${changes.length} narrowed role proposal(s), as files for review. Nothing is written to the cluster: no role or binding is created, changed or deleted by kube-harden.`,
      rollback:
        'Nothing to roll back: manual proposals only. If you applied a narrowed role, delete it with kubectl.',
    };
  },
};
