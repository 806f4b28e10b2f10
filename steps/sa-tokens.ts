/**
 * Phase 4: ServiceAccount tokens only where the API is used (issue 12). In each application and infrastructure
 * namespace in scope (system namespaces never): the `default` ServiceAccount gets
 * `automountServiceAccountToken: false`; each workload without evidence of API use gets `false` on its pod template;
 * each workload with evidence that runs as `default` gets an explicit `true`, so nothing that works today loses its
 * token. The decisions and their evidence come from src/policy/sa/ (tokens.ts, evidence.ts); every change's reason
 * names the evidence, and a finding per workload shows it for the decisions that change nothing. The operator flips
 * a decision with `--sa-token-override KIND/NS/NAME=keep|remove` (the wizard's evidence column sets it and plans again). Helm/Argo CD/Flux workloads get their change exported as a patch, as in migrate.
 *
 * `--audit-log FILE` (declared here, read by rbac-review too): the API server's audit log; the requests each
 * ServiceAccount made are the best evidence there is.
 */

import type { ObjectRule } from '../src/engine/targets.js';
import type {
  Change,
  SettingSpec,
  Step,
  StepContext,
  StepFinding,
  Verification,
} from '../src/engine/types.js';
import { inScope } from '../src/inventory/scope.js';
import type { ManagedBy, Snapshot, Workload, WorkloadKind } from '../src/inventory/types.js';
import { Kinds, resourceName } from '../src/k8s/kinds.js';
import type { AccessCheck, KubeObject, ObjectRef } from '../src/k8s/types.js';
import { type AuditSummary, auditLogOnce } from '../src/policy/sa/audit-log.js';
import { overridesMap, parseOverrides } from '../src/policy/sa/overrides.js';
import {
  evidenceMessage,
  type NamespaceTokenPlan,
  overrideKey,
  planTokens,
  type WorkloadTokenPlan,
} from '../src/policy/sa/tokens.js';
import { isSystemName, SYSTEM_NAMES } from '../src/policy/tiers.js';
import { finding } from './kit/findings.js';
import { readBack, templateKept } from './kit/read-back.js';
import { settingOf } from './kit/settings.js';
import { TEMPLATE_KINDS, templateOf, templatePath, workloadConfig } from './kit/workloads.js';

/** `--audit-log FILE`: one declaration for both phase-4 steps (sa-tokens and rbac-review read this key). */
/** Access checks without duplicates, in the order first added. */
export function accessChecks(): { checks: AccessCheck[]; add(check: AccessCheck): void } {
  const checks: AccessCheck[] = [];
  const seen = new Set<string>();
  return {
    checks,
    add(check) {
      const key = JSON.stringify(check);
      if (seen.has(key)) return;
      seen.add(key);
      checks.push(check);
    },
  };
}

/** The namespace, or its ServiceAccounts, could not be read: no account or token decision is made there. */
export function accountsUnreadable(
  snapshot: Pick<Snapshot, 'unknown'>,
  posture: { name: string; unreadable?: boolean },
): boolean {
  const resource = resourceName(Kinds.ServiceAccount);
  return (
    posture.unreadable === true ||
    snapshot.unknown.some(
      (u) => u.resource === resource && (u.namespace === undefined || u.namespace === posture.name),
    )
  );
}

/**
 * The namespaces in scope whose accounts a phase-4 step may change: not terminating, not a system namespace (those
 * are listed in `system`), and readable. One that could not be read is a KH-UNKNOWN finding saying that `nothing`
 * ("no token change") is proposed there (unknown is not compliant).
 */
export function accountNamespaces(
  ctx: Pick<StepContext, 'assessment' | 'snapshot' | 'options'>,
  nothing: string,
): { namespaces: string[]; system: string[]; findings: StepFinding[] } {
  const out = { namespaces: [] as string[], system: [] as string[], findings: [] as StepFinding[] };
  for (const posture of ctx.assessment.namespaces) {
    if (!inScope(ctx.options, posture.name) || posture.terminating) continue;
    if (posture.tier === 'system') out.system.push(posture.name);
    else if (accountsUnreadable(ctx.snapshot, posture)) {
      out.findings.push(
        finding(
          'KH-UNKNOWN',
          { kind: 'Namespace', name: posture.name },
          `namespace ${posture.name}: it or its ServiceAccounts could not be read, so ${nothing} is proposed (unknown is not compliant)`,
        ),
      );
    } else out.namespaces.push(posture.name);
  }
  return out;
}

export const AUDIT_LOG: SettingSpec<string> = {
  key: 'sa-tokens.auditLog',
  flag: 'audit-log',
  type: 'FILE',
  description:
    "the API server's audit log (JSON lines, plain or gzipped): the requests each ServiceAccount made are evidence of API use, and the basis of narrowed roles (rbac-review)",
  parse: (text) =>
    text.trim() === ''
      ? {
          ok: false,
          error: 'is empty',
          hint: 'pass the path of the audit log (--audit-log-path of the API server)',
        }
      : { ok: true, value: text },
};

/** The audit log of the options, read once per plan (an unreadable file is an InputError, exit 6). */
export async function auditLogOf(
  options: Parameters<Step['permissions']>[0],
  signal: AbortSignal,
): Promise<AuditSummary | undefined> {
  const path = settingOf(AUDIT_LOG, options);
  return path ? auditLogOnce(path, signal) : undefined;
}

/**
 * `--sa-token-override KIND/NS/NAME=keep|remove` (repeatable): the operator's decision for a workload, over the
 * evidence. The wizard sets it when the operator flips a decision (phase 4, evidence screen), and plans again.
 */
export const TOKEN_OVERRIDE: SettingSpec<string[]> = {
  key: 'sa-tokens.overrides',
  flag: 'sa-token-override',
  type: 'KIND/NS/NAME=keep|remove',
  description:
    "the operator's token decision for one workload, over its evidence of API use (repeatable, or a comma list): keep its token, or remove it",
  multiple: true,
  parse: parseOverrides,
};

const TOOLS_WITH_SOURCE = new Set(['helm', 'argocd', 'flux']);

function tokenTargets(): ObjectRule[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      operations: ['create', 'update'],
      onlyNames: ['default'],
      neverNamespaces: SYSTEM_NAMES,
      fields: { automountServiceAccountToken: { equals: false } },
    },
    ...TEMPLATE_KINDS.map(([apiVersion, kind]): ObjectRule => {
      const spec = `${(templatePath(kind) ?? []).join('.')}.spec`;
      return {
        apiVersion,
        kind,
        operations: ['update'],
        neverNamespaces: SYSTEM_NAMES,
        fields: { [`${spec}.automountServiceAccountToken`]: { oneOf: [true, false] } },
      };
    }),
  ];
}

export interface SaTokensFacts {
  namespaces: NamespaceTokenPlan[];
  /** Namespaces in scope left out, and why. */
  skipped: Array<{ namespace: string; reason: string }>;
  audit?: { file: string; events: number; badLines: number; from?: string; to?: string };
}

export function changeIdOf(w: Pick<Workload, 'kind' | 'namespace' | 'name'>): string {
  return `sa-tokens/${w.kind.toLowerCase()}/${w.namespace}/${w.name}`;
}

function refOf(w: Workload): ObjectRef {
  return { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name };
}

function workloadNotes(r: WorkloadTokenPlan, source: ManagedBy | undefined): string[] {
  const notes: string[] = [];
  if (source)
    notes.push(
      `managed by ${source.detail}: change its source too (chart values or Git), or the next sync reverts this — the change is exported as a patch (patches/ in the plan directory)`,
    );
  notes.push(...r.evidence.notes);
  const kind = r.workload.kind;
  if (kind === 'ReplicaSet' || kind === 'ReplicationController')
    notes.push(
      `a ${kind} does not replace its pods when its template changes: delete them one at a time so that it re-creates them`,
    );
  if (kind === 'CronJob')
    notes.push('Jobs already started keep the old template; the next run uses the change');
  return notes;
}

export const saTokens: Step<SaTokensFacts> = {
  id: 'sa-tokens',
  phase: 4,
  title: 'ServiceAccount tokens only where the API is used',
  summary:
    'stop mounting ServiceAccount tokens into pods that show no API use (default accounts and pod templates), keeping them where the evidence shows use',
  risk: 'disruptive',
  settings: [AUDIT_LOG, TOKEN_OVERRIDE],
  targets: tokenTargets(),

  permissions(options, snapshot) {
    const { checks, add } = accessChecks();
    for (const n of snapshot.namespaces) {
      if (!inScope(options, n.name) || isSystemName(n.name)) continue;
      add({ verb: 'patch', group: '', resource: 'serviceaccounts', namespace: n.name });
    }
    for (const w of snapshot.workloads) {
      if (!inScope(options, w.namespace) || isSystemName(w.namespace) || w.kind === 'Pod' || w.kind === 'Job')
        continue;
      const info = Kinds[w.kind];
      add({ verb: 'patch', group: info.group, resource: info.resource, namespace: w.namespace });
    }
    return checks;
  },

  async detect(ctx) {
    const { snapshot, options } = ctx;
    const audit = await auditLogOf(options, ctx.signal);
    const { namespaces, system, findings } = accountNamespaces(ctx, 'no token change');
    const skipped: SaTokensFacts['skipped'] = system.map((namespace) => ({
      namespace,
      reason: 'system namespace: its accounts are never changed',
    }));
    const overrides = overridesMap(settingOf(TOKEN_OVERRIDE, options));
    const plans = planTokens({ snapshot, namespaces, overrides, ...(audit ? { audit } : {}) });
    const matched = new Set<string>();
    for (const ns of plans) {
      for (const r of ns.workloads) {
        const w = r.workload;
        if (r.override) matched.add(overrideKey(w));
        findings.push(
          finding(
            'KH-SA-TOKEN-EVIDENCE',
            { kind: w.kind, namespace: w.namespace, name: w.name },
            evidenceMessage(r),
          ),
        );
      }
      if (!ns.disableDefault && ns.defaultAccount?.automountServiceAccountToken !== false) {
        findings.push(
          finding(
            'KH-SA-TOKEN-EVIDENCE',
            { kind: 'ServiceAccount', namespace: ns.namespace, name: 'default' },
            ns.defaultWhy,
          ),
        );
      }
    }
    for (const key of overrides.keys()) {
      if (matched.has(key)) continue;
      const [kind, namespace, name] = key.split('/') as [string, string, string];
      findings.push(
        finding(
          'KH-SA-TOKEN-EVIDENCE',
          { kind, namespace, name },
          `--sa-token-override ${key}=${overrides.get(key)} names no workload in the namespaces planned: nothing to override`,
        ),
      );
    }
    if (audit && audit.badLines > 0) {
      findings.push(
        finding(
          'KH-SA-AUDIT-LOG',
          { kind: 'File', name: audit.file },
          `${audit.badLines} of ${audit.lines} line(s) of the audit log are not audit events and were skipped (line ${audit.badLineNumbers.join(', ')}${audit.badLines > audit.badLineNumbers.length ? ', …' : ''})`,
        ),
      );
    }
    const facts: SaTokensFacts = { namespaces: plans, skipped };
    if (audit) {
      facts.audit = { file: audit.file, events: audit.events, badLines: audit.badLines };
      if (audit.from) facts.audit.from = audit.from;
      if (audit.to) facts.audit.to = audit.to;
    }
    return { facts, findings };
  },

  propose(facts) {
    const changes: Change[] = [];
    for (const ns of facts.namespaces) {
      const explicit = ns.workloads.filter((r) => r.choice === 'keep-explicit');
      if (ns.disableDefault) {
        const asDefault = ns.workloads.filter((r) => r.evidence.serviceAccount === 'default');
        const notes = asDefault.map(
          (r) =>
            `${r.workload.kind} ${r.workload.name}: ${
              r.choice === 'keep-explicit'
                ? 'keeps its token (explicit true, its own change)'
                : r.podSetting !== undefined
                  ? `its pod template sets ${r.podSetting}: unaffected`
                  : 'loses its token as its pods are replaced'
            } — ${r.evidence.summary}`,
        );
        if (explicit.length)
          notes.unshift(
            `apply it together with the explicit true of ${explicit.map((r) => `${r.workload.kind} ${r.workload.name}`).join(', ')}: deselecting one of those alone takes the token from a workload that uses it`,
          );
        notes.push(
          'running pods keep their token until they are replaced: the admission plugin decides at pod creation',
        );
        changes.push({
          kind: 'apply',
          id: `sa-tokens/serviceaccount/${ns.namespace}/default`,
          target: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns.namespace, name: 'default' },
          desired: {
            apiVersion: 'v1',
            kind: 'ServiceAccount',
            metadata: { name: 'default', namespace: ns.namespace },
            automountServiceAccountToken: false,
          } as KubeObject,
          risk: 'disruptive',
          reason: `${ns.defaultWhy} (automountServiceAccountToken: false). ${asDefault.length} workload(s) run as it${
            explicit.length ? `; ${explicit.length} of them use the API and get an explicit true` : ''
          }.`,
          notes,
        });
      }
      for (const r of ns.workloads) {
        if (r.choice === 'none') continue;
        const w = r.workload;
        const source = w.managedBy.find((m) => TOOLS_WITH_SOURCE.has(m.tool));
        changes.push({
          kind: 'apply',
          id: changeIdOf(w),
          target: refOf(w),
          desired: workloadConfig(refOf(w), w.kind, {
            spec: { automountServiceAccountToken: r.choice !== 'disable' },
          }),
          risk: 'disruptive',
          reason: `${r.why}. Its pods are replaced with the new template.`,
          notes:
            r.choice === 'keep-explicit'
              ? [
                  `deselect it only together with the change of ServiceAccount ${ns.namespace}/default, or it loses its token`,
                  ...workloadNotes(r, source),
                ]
              : [
                  'if it does call the API after all (kubectl logs: 401/403, "no such file" for the token), deselect this change or set automountServiceAccountToken: true',
                  ...workloadNotes(r, source),
                ],
          ...(source ? { exportPatch: source.detail } : {}),
        });
      }
    }
    return changes;
  },

  explain(facts, changes) {
    let accounts = 0;
    let disable = 0;
    let explicit = 0;
    for (const c of changes) {
      if (c.kind !== 'apply') continue;
      if (c.target.kind === 'ServiceAccount') accounts++;
      else if (
        templateOf(c.target.kind as WorkloadKind, c.desired)?.spec.automountServiceAccountToken === false
      )
        disable++;
      else explicit++;
    }
    const audit = facts.audit
      ? ` The audit log ${facts.audit.file} (${facts.audit.events} event(s)${facts.audit.from ? `, ${facts.audit.from} → ${facts.audit.to}` : ''}) adds the requests each ServiceAccount made; no request in that window is not proof that none is ever made (yearly jobs, failure paths).`
      : ' No audit log was given (--audit-log FILE): evidence is bindings, known controllers and token volumes only.';
    return {
      why: `A mounted ServiceAccount token lets anyone who gets into a pod call the API as its account. Each workload's decision names its evidence of API use: bindings of its ServiceAccount (beyond the defaults), a known controller image or chart, a token volume of its own, requests in the audit log.${audit} Workloads with evidence keep their token; system namespaces are never changed.`,
      impact: `${accounts} default ServiceAccount(s) stop mounting tokens; ${disable} workload template(s) get automountServiceAccountToken: false and ${explicit} get an explicit true. Changed templates replace their pods; running pods keep their token until replaced. A workload that calls the API without evidence fails with 401 (no token): deselect its change, or set true.`,
      rollback:
        'kube-harden undo RUN_ID restores each ServiceAccount and workload template exactly (pods roll back with their token).',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    const messages: string[] = [];
    let ok = true;
    for (const r of await readBack(ctx.reader, applied, ctx.signal)) {
      const { ref } = r;
      if (!ref.namespace) continue;
      const kept =
        ref.kind === 'ServiceAccount' ? r.live?.automountServiceAccountToken === false : templateKept(r);
      if (!kept) {
        ok = false;
        messages.push(`${ref.kind} ${ref.namespace}/${ref.name}: the change is no longer there (reverted?)`);
      }
    }
    if (ok)
      messages.push(
        `${applied.length} change(s) in place; watch the rollouts (kubectl rollout status) and the logs of changed workloads for 401/403 from the API server`,
      );
    return { ok, messages };
  },
};
