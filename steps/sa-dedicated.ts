/**
 * Phase 4, opt-in (`--step sa-dedicated`; issue 12 step 2): each workload that runs as its namespace's `default`
 * ServiceAccount gets a ServiceAccount of its own, named after it; the bindings of `default` it needs are duplicated
 * for the new account as new objects (the old bindings are never edited or deleted); its pod template switches to
 * the new account. The decisions come from src/policy/sa/dedicated.ts, the evidence of API use from
 * src/policy/sa/evidence.ts, and every change's reason names its evidence.
 *
 * One workload's changes are one group: adjacent in the plan (account, binding copies, then the template), their
 * ids share the prefix `sa-dedicated/<kind>/<ns>/<name>/`, and each reason starts with the group's title. Apply
 * order is the plan's: the account and its bindings exist before the first new pod asks for them; undo goes
 * backwards (template first).
 *
 * Reads `--audit-log FILE` (declared by sa-tokens): with it, only the bindings whose role allowed a request
 * `default` made are duplicated. Bare Pods and Jobs (immutable) are reported, not changed. Helm/Argo CD/Flux
 * workloads get their template change exported as a patch, as in migrate.
 */

import type { ObjectRule } from '../src/engine/targets.js';
import type { Change, Step, Verification } from '../src/engine/types.js';
import { inScope } from '../src/inventory/scope.js';
import { Kinds } from '../src/k8s/kinds.js';
import type { ObjectRef } from '../src/k8s/types.js';
import {
  accountKeys,
  bindingLabel,
  DEDICATED_FOR_ANNOTATION,
  type DedicatedNamespace,
  type DedicatedPlan,
  describeWorkload,
  planDedicated,
} from '../src/policy/sa/dedicated.js';
import { isSystemName, SYSTEM_NAMES } from '../src/policy/tiers.js';
import { finding } from './kit/findings.js';
import { readBack, templateKept } from './kit/read-back.js';
import { renderObjectTemplate } from './kit/templates.js';
import { TEMPLATE_KINDS, templatePath, workloadConfig } from './kit/workloads.js';
import { accessChecks, accountNamespaces, auditLogOf } from './sa-tokens.js';

const STEP_ID = 'sa-dedicated';
const TOOLS_WITH_SOURCE = new Set(['helm', 'argocd', 'flux']);
const RBAC = 'rbac.authorization.k8s.io';
/** A DNS subdomain (the names of ServiceAccounts and of the workloads they are named after). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function dedicatedTargets(): ObjectRule[] {
  const copy = {
    [DEDICATED_FOR_ANNOTATION]: 'any',
    'kube-harden.io/copied-from': 'any',
  } as const;
  const subjects = {
    'subjects[].kind': { equals: 'ServiceAccount' },
    'subjects[].name': { matches: DNS_SUBDOMAIN },
    'subjects[].namespace': 'any',
    'roleRef.apiGroup': { equals: RBAC },
    'roleRef.name': 'any',
  } as const;
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      operations: ['create', 'update'],
      neverNames: ['default'],
      neverNamespaces: SYSTEM_NAMES,
      annotations: { [DEDICATED_FOR_ANNOTATION]: 'any' },
      fields: { automountServiceAccountToken: { oneOf: [true, false] } },
    },
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      operations: ['create'],
      neverNamespaces: SYSTEM_NAMES,
      annotations: copy,
      fields: { ...subjects, 'roleRef.kind': { oneOf: ['Role', 'ClusterRole'] } },
    },
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRoleBinding',
      operations: ['create'],
      annotations: copy,
      fields: { ...subjects, 'roleRef.kind': { equals: 'ClusterRole' } },
    },
    ...TEMPLATE_KINDS.map(([apiVersion, kind]): ObjectRule => {
      const spec = `${(templatePath(kind) ?? []).join('.')}.spec`;
      return {
        apiVersion,
        kind,
        operations: ['update'],
        neverNamespaces: SYSTEM_NAMES,
        fields: {
          [`${spec}.serviceAccountName`]: { matches: DNS_SUBDOMAIN },
          [`${spec}.serviceAccount`]: { matches: DNS_SUBDOMAIN },
        },
      };
    }),
  ];
}

export interface SaDedicatedFacts {
  namespaces: DedicatedNamespace[];
  audit?: { file: string; events: number; from?: string; to?: string };
}

function refOf(w: DedicatedPlan['workload']): ObjectRef {
  return { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name };
}

/** The objects and template change of one workload's group, in apply order. */
export function groupChanges(r: DedicatedPlan): Change[] {
  const w = r.workload;
  const ns = w.namespace;
  const what = describeWorkload(w);
  const workloadRef = `${w.kind}/${w.name}`;
  const copies = r.bindings.filter((b) => b.copy);
  const size = 2 + copies.length;
  const title = `Dedicated ServiceAccount for ${what} (group ${r.group}, ${size} changes: apply them together)`;
  const source = w.managedBy.find((m) => TOOLS_WITH_SOURCE.has(m.tool));
  const together = `part of group ${r.group}: deselect it only with the whole group — the template switch without the account (or its bindings) leaves new pods without an account (FailedCreate) or without the permissions they use`;
  const sourceNote = source
    ? [
        `${what} is managed by ${source.detail}: add this object to its source too (chart or Git), or its next sync leaves the account unused`,
      ]
    : [];
  const changes: Change[] = [];
  changes.push({
    kind: 'apply',
    id: `${r.group}/serviceaccount`,
    target: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns, name: r.account },
    desired: renderObjectTemplate('sa/dedicated-serviceaccount.yaml', {
      name: r.account,
      namespace: ns,
      workload: workloadRef,
      automount: r.automount,
    }),
    risk: 'low',
    reason: `${title}: ServiceAccount ${ns}/${r.account}${r.accountExists ? ' (made by kube-harden for it before)' : ''} — ${r.automountWhy}.`,
    notes: [together, ...sourceNote, ...r.evidence.notes],
  });
  for (const b of copies) {
    const s = b.source;
    const common = { name: b.name, copiedFrom: bindingLabel(s), workload: workloadRef, account: r.account };
    const desired =
      s.kind === 'RoleBinding'
        ? renderObjectTemplate('rbac/dedicated-rolebinding.yaml', {
            ...common,
            namespace: ns,
            roleKind: s.roleRef.kind,
            roleName: s.roleRef.name,
          })
        : renderObjectTemplate('rbac/dedicated-clusterrolebinding.yaml', {
            ...common,
            namespace: ns,
            roleName: s.roleRef.name,
          });
    changes.push({
      kind: 'apply',
      id: `${r.group}/${s.kind.toLowerCase()}/${b.name}`,
      target: {
        apiVersion: `${RBAC}/v1`,
        kind: s.kind,
        ...(s.kind === 'RoleBinding' ? { namespace: ns } : {}),
        name: b.name,
      },
      desired,
      risk: 'low',
      reason: `${title}: ${bindingLabel({ kind: s.kind, namespace: ns, name: b.name })}, a copy of ${bindingLabel(s)} for ServiceAccount ${ns}/${r.account} — ${b.why}. Rule: ${r.rule}.`,
      notes: [
        together,
        `${bindingLabel(s)} stays as it is (kube-harden never edits or deletes a binding): once nothing runs as ${ns}/default any more, remove it by hand`,
        `creating it needs every permission of ${s.roleRef.kind} ${s.roleRef.name} or the bind verb on it (RBAC escalation prevention): a Forbidden here means the identity applying the plan lacks them`,
        ...sourceNote,
      ],
    });
  }
  const kept = r.bindings.filter((b) => !b.copy);
  changes.push({
    kind: 'apply',
    id: `${r.group}/template`,
    target: refOf(w),
    // Both names: the API server mirrors serviceAccountName into the deprecated serviceAccount on every read, and
    // fills an empty serviceAccountName from it — an undo that cleared only serviceAccountName would get it back.
    desired: workloadConfig(refOf(w), w.kind, {
      spec: { serviceAccountName: r.account, serviceAccount: r.account },
    }),
    risk: 'disruptive',
    reason: `${title}: its pod template runs as ServiceAccount ${ns}/${r.account} instead of ${ns}/default (evidence: ${r.evidence.summary}); ${
      r.bindings.length
        ? `${copies.length} of default's ${r.bindings.length} binding(s) duplicated for it`
        : 'default has no binding beyond the system defaults: none to duplicate'
    }. Its pods are replaced with the new template.`,
    notes: [
      together,
      ...(source
        ? [
            `managed by ${source.detail}: change its source too (chart values or Git), or the next sync reverts this — the change is exported as a patch (patches/ in the plan directory)`,
          ]
        : []),
      ...kept.map((b) => b.why),
      ...r.notes,
      ...(w.kind === 'ReplicaSet' || w.kind === 'ReplicationController'
        ? [
            `a ${w.kind} does not replace its pods when its template changes: delete them one at a time so that it re-creates them`,
          ]
        : []),
      ...(w.kind === 'CronJob'
        ? ['Jobs already started keep the old account; the next run uses the new one']
        : []),
      'running pods keep their account until they are replaced; if a new pod gets 403 from the API server, the binding it needs was not duplicated: deselect the group, or run again without --audit-log',
    ],
    ...(source ? { exportPatch: source.detail } : {}),
  });
  return changes;
}

export const saDedicated: Step<SaDedicatedFacts> = {
  id: STEP_ID,
  phase: 4,
  title: 'Dedicated ServiceAccounts instead of default',
  summary:
    "give each workload that runs as its namespace's default ServiceAccount an account of its own, with the bindings of default it needs duplicated (old bindings kept)",
  risk: 'disruptive',
  optIn: true,
  targets: dedicatedTargets(),

  permissions(options, snapshot) {
    const { checks, add } = accessChecks();
    for (const w of snapshot.workloads) {
      if (!inScope(options, w.namespace) || isSystemName(w.namespace) || w.kind === 'Pod' || w.kind === 'Job')
        continue;
      const spec = (w.template ?? w.pods[0]?.pod)?.spec;
      if (!spec || (spec.serviceAccountName || 'default') !== 'default') continue;
      const info = Kinds[w.kind];
      add({ verb: 'patch', group: info.group, resource: info.resource, namespace: w.namespace });
      add({ verb: 'create', group: '', resource: 'serviceaccounts', namespace: w.namespace });
      add({ verb: 'create', group: RBAC, resource: 'rolebindings', namespace: w.namespace });
    }
    if (checks.length) add({ verb: 'create', group: RBAC, resource: 'clusterrolebindings' });
    return checks;
  },

  async detect(ctx) {
    const { snapshot, options, reader } = ctx;
    const audit = await auditLogOf(options, ctx.signal);
    const { namespaces, findings } = accountNamespaces(ctx, 'no dedicated account');
    const base = { snapshot, namespaces, ...(audit ? { audit } : {}) };
    // Accounts that exist with a name the plan wants: ours for this workload (a re-run), or someone else's.
    const accountOwners = new Map<string, string | null>();
    for (const key of accountKeys(base)) {
      const [namespace, name] = key.split('/') as [string, string];
      try {
        const live = (
          await reader.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name }, ctx.signal)
        ).value;
        if (live) accountOwners.set(key, live.metadata.annotations?.[DEDICATED_FOR_ANNOTATION] ?? null);
      } catch {
        // Not read: treated as someone else's (the workload is skipped, saying so).
      }
    }
    const plans = planDedicated({ ...base, accountOwners });
    for (const ns of plans) {
      for (const r of ns.workloads) {
        const w = r.workload;
        const target = { kind: w.kind, namespace: w.namespace, name: w.name };
        if (r.choice === 'skip') {
          findings.push(finding('KH-SA-DEFAULT', target, `not changed — ${r.why}`));
          continue;
        }
        const copied = r.bindings.filter((b) => b.copy).map((b) => bindingLabel(b.source));
        const left = r.bindings.filter((b) => !b.copy).map((b) => bindingLabel(b.source));
        findings.push(
          finding(
            'KH-SA-DEFAULT',
            target,
            `dedicated account proposed (${r.group}) — ${r.why}; token: ${r.automountWhy}; bindings duplicated: ${
              copied.length ? copied.join(', ') : 'none'
            }${left.length ? `; left to default only: ${left.join(', ')}` : ''} (rule: ${r.rule})`,
          ),
        );
      }
    }
    const facts: SaDedicatedFacts = { namespaces: plans };
    if (audit) {
      facts.audit = { file: audit.file, events: audit.events };
      if (audit.from) facts.audit.from = audit.from;
      if (audit.to) facts.audit.to = audit.to;
    }
    return { facts, findings };
  },

  propose(facts) {
    return facts.namespaces.flatMap((ns) =>
      ns.workloads.flatMap((r) => (r.choice === 'dedicate' ? groupChanges(r) : [])),
    );
  },

  explain(facts, changes) {
    const groups = facts.namespaces.flatMap((n) => n.workloads.filter((r) => r.choice === 'dedicate'));
    const skipped = facts.namespaces.flatMap((n) => n.workloads.filter((r) => r.choice === 'skip')).length;
    const copies = changes.filter(
      (c) =>
        c.kind === 'apply' && (c.target.kind === 'RoleBinding' || c.target.kind === 'ClusterRoleBinding'),
    ).length;
    const audit = facts.audit
      ? ` The audit log ${facts.audit.file} (${facts.audit.events} event(s)${facts.audit.from ? `, ${facts.audit.from} → ${facts.audit.to}` : ''}) decides which of default's bindings each account needs: those whose role allowed a request default made. The log names the account, not the pod: with several workloads on default, each keeps every binding the account used.`
      : ' No audit log was given (--audit-log FILE): every binding of default beyond the system defaults is duplicated for each new account.';
    return {
      why: `Workloads that share their namespace's default ServiceAccount share its permissions: a binding given to one is given to all, and a token taken from one pod acts for all of them. Each such workload gets an account of its own, named after it, whose token automount mirrors the evidence of API use.${audit} Old bindings are never edited or deleted; bare Pods and Jobs cannot switch accounts and are reported.`,
      impact: `${groups.length} workload(s) get a dedicated ServiceAccount (${changes.length} change(s): ${groups.length} account(s), ${copies} binding copy(ies), ${groups.length} template switch(es))${skipped ? `; ${skipped} workload(s) left as they are (see findings)` : ''}. Changed templates replace their pods. A workload that needs a permission default had but its copy does not (a request outside the audit window) gets 403.`,
      rollback:
        'kube-harden undo RUN_ID switches each template back and deletes the accounts and binding copies the run created (pods roll back to default).',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    const messages: string[] = [];
    let ok = true;
    for (const r of await readBack(ctx.reader, applied, ctx.signal)) {
      const { ref } = r;
      const kept = TEMPLATE_KINDS.some(([, k]) => k === ref.kind) ? templateKept(r) : r.live !== undefined;
      if (!kept) {
        ok = false;
        messages.push(
          `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}: the change is no longer there (reverted or deleted?)`,
        );
      }
    }
    if (ok)
      messages.push(
        `${applied.length} change(s) in place; watch the rollouts (kubectl rollout status) and the logs of changed workloads for 403 from the API server`,
      );
    return { ok, messages };
  },
};
