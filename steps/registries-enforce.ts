/**
 * Phase 5, second half (issue 13): trusted image sources, enforced. The same policy as registries-warn with its
 * binding turned to [Deny, Audit] — proposed only when nothing in the namespaces covered would be denied today:
 * every live pod and every workload template is evaluated with the same rules as the policy's CEL
 * (src/policy/registries/), and cross-checked by the API server: each workload's images are dry-run through the
 * policy in place (src/policy/registries/xcheck.ts, src/engine/warnings-xcheck.ts), which must deny exactly what
 * kube-harden's evaluation denies. Otherwise it lists what would be denied, or where the two disagree, and why.
 *
 * The server can only answer for the policy it runs: the cross-check needs registries-warn's binding in place
 * (or the deny binding, when re-planning) with the same allow-list. Without it the cross-check is not run and
 * enforce is not proposed (unknown is not compliant) — enforce follows a live warn binding, as `needs` says.
 * Offline (--manifests) there is no server to ask: the change is proposed and its reason says it was not run.
 *
 * Deny follows a time of warnings from real traffic (weekly CronJobs, Helm upgrades, operators creating pods),
 * as Kyverno's and Gatekeeper's practice is to audit before enforcing: the soak (`--registries-soak DAYS`, 7 by
 * default, 0 to skip). Since when the policy has been warning with this allow-list is read from the live objects
 * (the latest time of kube-harden's managedFields entries, else their creationTimestamp: warnSinceOf), against
 * `options.now`; until the soak has passed, enforce is not proposed and a finding says when it will be.
 */

import type { Step, StepContext, StepFinding, Verification } from '../src/engine/types.js';
import {
  crossCheckRegistries,
  type RegistryServerCheck,
  serverBlocks,
  type WarnState,
} from '../src/engine/warnings-xcheck.js';
import { describeDenied, describeDisagreement } from '../src/policy/registries/index.js';
import { finding } from './kit/findings.js';
import { daysSince } from './kit/psa-age.js';
import {
  detectRegistries,
  GK_CONSTRAINT,
  KYVERNO_POLICY,
  nativeWarnState,
  POLICY_NAME,
  REGISTRIES_SOAK,
  type RegistryFacts,
  registryChanges,
  registryPermissions,
  registryTargets,
} from './kit/registries.js';
import { settingOf } from './kit/settings.js';
import { typeChecked } from './registries-warn.js';

/** The API server's cross-check: what it answered, or why it was not run (and whether that blocks enforce). */
export type ServerCheck = RegistryServerCheck;

export interface EnforceFacts extends RegistryFacts {
  server: ServerCheck;
  /** The soak: how long warn has been in place against --registries-soak. */
  soak: Soak;
}

/** registries-enforce's soak: deny follows `days` of warnings with this allow-list. */
export interface Soak {
  /** --registries-soak (0: no soak). */
  days: number;
  /** Whether the policy in place was read (not offline, not blocked before). */
  checked: boolean;
  /** Since when the policy has been warning with this allow-list, and for how many whole days. */
  since?: string;
  age?: number;
  /** Why deny is not proposed yet, and the control of its finding. */
  blocked?: { control: string; message: string };
}

const SOAK_HINT = '(--registries-soak; 0 to skip)';

/**
 * The soak gate: `warn` is how the policy in place acts and since when (undefined: not read, e.g. offline or the
 * cross-check was not run, whose own reason then decides). A binding already in Deny is not gated; `days` 0
 * never gates; otherwise deny is proposed once `days` whole days have passed since `warnSince` at `now`.
 */
export function soakGate(
  days: number,
  warn: (WarnState & { unknown?: string }) | undefined,
  now: Date,
): Soak {
  if (!warn) return { days, checked: false };
  const soak: Soak = { days, checked: true };
  if (warn.unknown !== undefined) {
    if (days > 0)
      soak.blocked = {
        control: 'KH-UNKNOWN',
        message: `since when registries-warn's policy has been in place could not be read (${warn.unknown}): deny is proposed after ${days} days of warnings ${SOAK_HINT}`,
      };
    return soak;
  }
  if (warn.action === 'Deny') return soak;
  const age = daysSince(warn.warnSince, now);
  if (warn.warnSince && age !== undefined) {
    soak.since = warn.warnSince;
    soak.age = Math.max(0, age);
  }
  if (days === 0) return soak;
  if (warn.action !== 'Warn')
    soak.blocked = {
      control: 'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
      message: `registries-warn's policy is not in place: apply registries-warn first; deny is proposed after ${days} days of warnings ${SOAK_HINT}`,
    };
  else if (soak.age === undefined)
    soak.blocked = {
      control: 'KH-UNKNOWN',
      message: `since when warn has been in place is not known (kube-harden's objects carry neither a managedFields time nor a creationTimestamp): deny is proposed after ${days} days of warnings ${SOAK_HINT}`,
    };
  else if (soak.age < days)
    soak.blocked = {
      control: 'KH-IMAGE-REGISTRY-SOAKING',
      message: `warn has been in place for ${soak.age} day(s) (since ${soak.since}): deny is proposed after ${days} days of warnings ${SOAK_HINT}`,
    };
  return soak;
}

/** The object that carries the action for the engine: the binding, the ClusterPolicy or the Constraint. */
function actionTarget(facts: RegistryFacts): { kind: string; name: string } {
  if (facts.engine.engine === 'kyverno') return { kind: KYVERNO_POLICY.kind, name: POLICY_NAME };
  if (facts.engine.engine === 'gatekeeper') return { kind: GK_CONSTRAINT.kind, name: POLICY_NAME };
  return { kind: 'ValidatingAdmissionPolicyBinding', name: POLICY_NAME };
}

/** What the change's reason says about the soak. */
function soakNote(soak: Soak): string | undefined {
  if (soak.days === 0) return 'no soak (--registries-soak 0): proposed as soon as nothing would be denied';
  if (!soak.checked)
    return `the soak of ${soak.days} days was not checked (offline: the policy in place was not read); it is when registries-enforce is planned against the cluster`;
  if (soak.since !== undefined)
    return `warn has been in place for ${soak.age} day(s) (since ${soak.since}), past the soak of ${soak.days} days`;
  return undefined;
}

/**
 * Cross-check the Snapshot's evaluation with the policy in place: one dry-run probe per top-level workload
 * (src/engine/warnings-xcheck.ts, src/policy/registries/xcheck.ts). Not run offline (not blocking: there is no
 * server), nor when the policy in place is missing, unreadable or holds another allow-list (blocking: the server
 * cannot vouch for this one).
 */
export async function serverCheck(ctx: StepContext, facts: RegistryFacts): Promise<ServerCheck> {
  // The probes read the ValidatingAdmissionPolicy's answer; Kyverno's and Gatekeeper's policies answer through
  // their own webhooks, which this check does not read: their gate is kube-harden's evaluation alone, and says so.
  if (facts.engine.engine !== 'vap')
    return {
      ran: false,
      blocks: false,
      reason: `the ${facts.engine.engine} policy is judged by kube-harden's evaluation only (the server's cross-check reads the ValidatingAdmissionPolicy's answers)`,
    };
  return crossCheckRegistries(
    ctx.reader,
    ctx.snapshot,
    facts.scope.namespaces,
    facts.allow.entries,
    ctx.signal,
  );
}

/** Why enforcing is not proposed, or undefined when it is. */
export function enforceBlocked(
  facts: RegistryFacts & { server?: ServerCheck; soak?: Soak },
): string | undefined {
  if (facts.engine.blocked) return facts.engine.blocked;
  if (facts.scope.namespaces.length === 0) return 'no namespace is covered';
  if (facts.allow.entries.length === 0)
    return 'the allow-list is empty (name registries with --allow-registry)';
  const reasons: string[] = [];
  if (facts.scope.wider)
    reasons.push(
      `${facts.scope.wider}, which this run did not evaluate: plan registries-enforce over all of them`,
    );
  else if (facts.unknown.length)
    reasons.push(
      `the images of ${facts.unknown.map((u) => u.namespace).join(', ')} are not all known (unknown is not compliant)`,
    );
  else if (facts.denied.length)
    reasons.push(`${facts.denied.length} image use(s) running today would be denied`);
  const server = facts.server ? serverBlocks(facts.server) : undefined;
  if (server) reasons.push(server);
  if (facts.soak?.blocked) reasons.push(facts.soak.blocked.message);
  return reasons.length ? reasons.join('; ') : undefined;
}

/** What the change's reason says about the server's cross-check. */
function serverNote(server: ServerCheck): string {
  if (!server.ran) return `the API server's cross-check was not run: ${server.reason}`;
  return `cross-checked by the API server: a dry-run of the policy in place over ${server.checked} workload(s) (${server.requests} request(s)) denies nothing, as kube-harden's evaluation`;
}

export const registriesEnforce: Step<EnforceFacts> = {
  id: 'registries-enforce',
  phase: 5,
  title: 'Trusted registries: enforce',
  summary:
    'deny Pods and workloads whose images come from outside the allowed registries, once nothing running would be',
  risk: 'disruptive',
  needs: ['registries-warn'],
  // Lazy: the rules are derived from the rendered template, which is read on first use, not at import.
  get targets() {
    return registryTargets();
  },

  settings: [REGISTRIES_SOAK],

  permissions(options, snapshot) {
    return registryPermissions(options, snapshot);
  },

  async detect(ctx) {
    const registry = await detectRegistries(ctx);
    const server = await serverCheck(ctx, registry);
    // How the policy in place acts, and since when: read with the cross-check (the ValidatingAdmissionPolicy and
    // its binding), or from the engine's own objects; not when the cross-check was not run (its reason decides).
    const warn = server.ran
      ? server
      : registry.engine.engine !== 'vap' && !registry.engine.blocked
        ? await nativeWarnState(ctx.reader, registry.engine.engine, ctx.signal)
        : undefined;
    const soak = soakGate(settingOf(REGISTRIES_SOAK, ctx.options) ?? 0, warn, ctx.options.now);
    const facts: EnforceFacts = { ...registry, server, soak };
    const findings: StepFinding[] = [];
    if (soak.blocked) findings.push(finding(soak.blocked.control, actionTarget(facts), soak.blocked.message));
    const confirmed = new Set(server.ran ? server.deniedByServer : []);
    const byNamespace = new Map<string, string[]>();
    for (const d of facts.denied)
      byNamespace.set(d.namespace, [...(byNamespace.get(d.namespace) ?? []), describeDenied(d)]);
    for (const [namespace, lines] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const mine = facts.denied.filter((d) => d.namespace === namespace);
      const agreed = mine.filter((d) =>
        [...confirmed].some(
          (u) =>
            u.namespace === d.namespace &&
            u.kind === d.kind &&
            u.name === d.name &&
            u.containerKind === d.containerKind &&
            u.container === d.container &&
            u.image === d.image,
        ),
      ).length;
      const verdict = server.ran
        ? agreed === mine.length
          ? " (the API server's dry-run of the policy in place denies the same)"
          : ` (the API server's dry-run of the policy in place denies ${agreed} of these ${mine.length})`
        : '';
      findings.push(
        finding(
          'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
          { kind: 'Namespace', name: namespace },
          `namespace ${namespace} cannot deny images outside ${facts.allow.entries.join(', ')}: ${lines.join('; ')}${verdict}`,
        ),
      );
    }
    if (server.ran) {
      for (const d of server.disagreements)
        findings.push(
          finding(
            'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
            { kind: d.use.kind, namespace: d.use.namespace, name: d.use.name },
            `${describeDisagreement(d)}. The two must agree before deny is proposed: was the policy or its binding changed by hand?`,
          ),
        );
      for (const u of server.unchecked)
        findings.push(
          finding(
            'KH-UNKNOWN',
            { kind: 'Namespace', name: u.namespace },
            `${u.workloads.map((w) => `${w.kind} ${u.namespace}/${w.name}`).join(', ')}: ${u.reason} (unknown is not compliant)`,
          ),
        );
    } else if (server.blocks)
      findings.push(
        finding(
          'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
          { kind: 'ValidatingAdmissionPolicyBinding', name: POLICY_NAME },
          `the API server's cross-check was not run: ${server.reason}`,
        ),
      );
    for (const u of facts.unknown)
      findings.push(
        finding(
          'KH-UNKNOWN',
          { kind: 'Namespace', name: u.namespace },
          `${u.reason}: registries cannot be enforced there (unknown is not compliant)`,
        ),
      );
    return { facts, findings };
  },

  propose(facts) {
    if (enforceBlocked(facts)) return [];
    const soak = soakNote(facts.soak);
    return registryChanges('registries-enforce', facts, 'Deny', 'disruptive').map((c) => {
      if (c.id.endsWith('/binding'))
        return { ...c, reason: [c.reason, serverNote(facts.server), soak].filter(Boolean).join('; ') };
      if (c.id.endsWith('/kyverno-policy') || c.id.endsWith('/constraint'))
        return soak ? { ...c, reason: `${c.reason}; ${soak}` } : c;
      return c;
    });
  },

  explain(facts, changes) {
    const blocked = enforceBlocked(facts);
    return {
      why: `Warnings do not stop an untrusted image. Deny mode refuses any Pod or workload whose containers, init or ephemeral containers use an image outside ${facts.allow.entries.join(', ') || 'the allow-list'}. It is proposed only when every running pod and every workload template in the namespaces covered passes, evaluated with the same rules as the policy, and the API server's dry-run of the policy in place (registries-warn's) over each workload's images agrees, and once the policy has been warning with this allow-list for ${facts.soak.days} day(s) (--registries-soak), so that the warnings of real traffic (weekly CronJobs, upgrades, operators creating pods) are seen before anything is refused.${
        blocked ? ` Not proposed: ${blocked}.` : ''
      }`,
      impact: changes.length
        ? 'New Pods, workloads and image changes outside the allow-list are refused (HTTP 403 naming the policy), so kubectl apply of such a workload fails at once. Running pods are not touched; updates that keep an image the object already had are still admitted, so rollouts away from an old image and scale-downs keep working.'
        : blocked
          ? facts.denied.length === 0
            ? 'Nothing changes: images outside the allow-list keep being admitted with a warning (and audited).'
            : `Nothing changes. What would be denied: ${facts.denied.slice(0, 20).map(describeDenied).join('; ')}${facts.denied.length > 20 ? `; … (${facts.denied.length - 20} more, see the findings)` : ''}`
          : 'No change.',
      rollback:
        'kube-harden undo RUN_ID restores the binding to [Warn, Audit] (or removes what this run created): images are admitted again at once.',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    return typeChecked(ctx, applied.length);
  },
};
