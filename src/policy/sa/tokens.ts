/**
 * The token planner of phase 4 (`sa-tokens`): for each chosen namespace, whether its `default` ServiceAccount
 * stops mounting tokens, and for each workload whether its pod template says `automountServiceAccountToken: false`
 * (no evidence of API use), `true` (evidence of use, and its ServiceAccount is about to stop mounting), or nothing.
 * Pure; the evidence comes from evidence.ts and every decision carries it.
 *
 * Precedence (upstream `plugin/pkg/admission/serviceaccount/admission.go` shouldAutomount): the pod's
 * `automountServiceAccountToken` wins if set, else the ServiceAccount's, else true. The plugin acts on Pod CREATE
 * only: a changed template takes effect as its pods are replaced.
 *
 * Nothing that works today loses its token: a workload with evidence of use (or whose evidence is unknown) that
 * runs as `default` and does not set the field gets an explicit `true` before `default` changes; when such a
 * workload cannot change in place (a bare Pod, a Job: immutable template), `default` is left as it is.
 */
import type { ServiceAccountInfo, Snapshot, Workload } from '../../inventory/types.js';
import { tokenDecision } from '../workloads.js';
import type { AuditSummary } from './audit-log.js';
import { type WorkloadEvidence, workloadEvidence } from './evidence.js';

export type TokenChoice = 'disable' | 'keep-explicit' | 'none';

/** The operator's decision for one workload, overriding the evidence (`--sa-token-override KIND/NS/NAME=…`). */
export type TokenOverride = 'keep' | 'remove';

/** The key of a workload in the overrides: `Deployment/shop/cart`. */
export function overrideKey(w: Pick<Workload, 'kind' | 'namespace' | 'name'>): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

export interface WorkloadTokenPlan {
  workload: Workload;
  evidence: WorkloadEvidence;
  /** The template's (else first pod's) own `automountServiceAccountToken`. */
  podSetting?: boolean;
  /** Whether its pods get a token today, and why. */
  mountsToday: boolean | 'unknown';
  /** Whether its pod template can change in place (not a bare Pod or a Job, and the template was read). */
  inPlace: boolean;
  choice: TokenChoice;
  /** Why this choice, for people (for `none`: why nothing changes). */
  why: string;
  /** The operator's override for it, when one was given (ignored, with a note in `why`, when it cannot apply). */
  override?: TokenOverride;
  /** The override changed the choice the evidence alone leads to. */
  flipped: boolean;
  /** Whether its next pods mount a token once the plan is applied. */
  mountsAfter: boolean | 'unknown';
}

export interface NamespaceTokenPlan {
  namespace: string;
  /** The `default` ServiceAccount as read (undefined: not found — it is created by the controller-manager). */
  defaultAccount?: ServiceAccountInfo;
  /** Set `automountServiceAccountToken: false` on `default`. */
  disableDefault: boolean;
  /** Why (for people), e.g. "already false", or which workloads keep it from changing. */
  defaultWhy: string;
  workloads: WorkloadTokenPlan[];
}

export interface TokenPlanInput {
  snapshot: Pick<Snapshot, 'workloads' | 'bindings' | 'unknown' | 'serviceAccounts'>;
  /** The namespaces to plan (already filtered by scope and tier). */
  namespaces: readonly string[];
  audit?: AuditSummary;
  /** The operator's decisions by `overrideKey` (workloads that can change in place only). */
  overrides?: ReadonlyMap<string, TokenOverride>;
}

const IMMUTABLE: ReadonlySet<string> = new Set(['Pod', 'Job']);

function describe(w: Workload): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

export function planTokens(input: TokenPlanInput): NamespaceTokenPlan[] {
  const accounts = new Map<string, ServiceAccountInfo>();
  for (const sa of input.snapshot.serviceAccounts) accounts.set(`${sa.namespace}/${sa.name}`, sa);
  const out: NamespaceTokenPlan[] = [];
  for (const namespace of input.namespaces) {
    const defaultAccount = accounts.get(`${namespace}/default`);
    const defaultMounts = defaultAccount?.automountServiceAccountToken !== false;
    const rows: WorkloadTokenPlan[] = [];
    for (const w of input.snapshot.workloads) {
      if (w.namespace !== namespace) continue;
      const pod = w.template ?? w.pods[0]?.pod;
      if (!pod) continue;
      const evidence = workloadEvidence(w, {
        snapshot: input.snapshot,
        ...(input.audit ? { audit: input.audit } : {}),
      });
      const podSetting = pod.spec.automountServiceAccountToken;
      const account = accounts.get(`${namespace}/${evidence.serviceAccount}`);
      // The report's answer (the admission plugin's precedence): one source for "does it mount a token today".
      const mountsToday = tokenDecision(
        {
          serviceAccount: evidence.serviceAccount,
          ...(podSetting !== undefined ? { automount: podSetting } : {}),
        },
        account,
        false,
      ).value;
      const inPlace = !IMMUTABLE.has(w.kind) && w.template !== undefined;
      rows.push({
        workload: w,
        evidence,
        ...(podSetting !== undefined ? { podSetting } : {}),
        mountsToday,
        inPlace,
        choice: 'none',
        why: '',
        flipped: false,
        mountsAfter: mountsToday,
      });
      const override = input.overrides?.get(overrideKey(w));
      if (override) (rows[rows.length - 1] as WorkloadTokenPlan).override = override;
    }
    // Workloads that need `default`'s token and cannot be given an explicit true keep `default` as it is.
    const wantsToken = (r: WorkloadTokenPlan) =>
      r.override && r.inPlace ? r.override === 'keep' : r.evidence.use !== 'no';
    const needsDefault = (r: WorkloadTokenPlan) =>
      wantsToken(r) && r.evidence.serviceAccount === 'default' && r.podSetting === undefined;
    const blockers = defaultMounts ? rows.filter((r) => needsDefault(r) && !r.inPlace) : [];
    const disableDefault = defaultMounts && blockers.length === 0;
    const defaultWhy = !defaultMounts
      ? `ServiceAccount ${namespace}/default already sets automountServiceAccountToken: false`
      : blockers.length
        ? `left as it is: ${blockers
            .map((b) => `${describe(b.workload)} (${b.evidence.summary})`)
            .join(
              '; ',
            )} ${blockers.length === 1 ? 'uses' : 'use'} its token and cannot be changed in place (${
            blockers.length === 1 ? 'its' : 'their'
          } pod template is immutable): give ${blockers.length === 1 ? 'it' : 'them'} automountServiceAccountToken: true in the manifest and re-create, then run sa-tokens again`
        : `ServiceAccount ${namespace}/default stops mounting tokens into pods that do not ask for one`;

    const decide = (r: WorkloadTokenPlan, use: WorkloadEvidence['use'], kept?: string): void => {
      const w = r.workload;
      const ev = r.evidence;
      r.choice = 'none';
      if (use === 'no') {
        if (r.podSetting === true) {
          r.why = `${describe(w)} shows no API use (${ev.summary}) but its pod template asks for a token explicitly (automountServiceAccountToken: true): left as it is — set false at its source if it does not call the API`;
        } else if (r.mountsToday === false) {
          r.why = `${describe(w)} mounts no token already (${r.podSetting === false ? 'its pod template' : `ServiceAccount ${w.namespace}/${ev.serviceAccount}`} sets automountServiceAccountToken: false); evidence: ${ev.summary}`;
        } else if (!r.inPlace) {
          r.why = `${describe(w)} shows no API use (${ev.summary}) but ${
            w.template === undefined
              ? 'its pod template could not be read'
              : `a ${w.kind}'s pod template is immutable`
          }: set automountServiceAccountToken: false in its manifest${
            ev.serviceAccount === 'default' && disableDefault
              ? ` (its next pods get no token anyway: ${namespace}/default stops mounting)`
              : ''
          }`;
        } else {
          r.choice = 'disable';
          r.why = `${describe(w)} shows no API use (${ev.summary}): automountServiceAccountToken: false on its pod template`;
        }
        return;
      }
      const what =
        kept ?? (use === 'yes' ? `uses the API (${ev.summary})` : `may use the API (${ev.summary})`);
      if (r.podSetting === true) {
        r.why = `${describe(w)} ${what} and its pod template sets automountServiceAccountToken: true: it keeps its token`;
      } else if (r.podSetting === false) {
        r.why = `${describe(w)} ${what} but its pod template sets automountServiceAccountToken: false: it has no automounted token today (a token volume of its own, or a broken feature?) — left as it is`;
      } else if (ev.serviceAccount === 'default' && disableDefault && r.inPlace) {
        r.choice = 'keep-explicit';
        r.why = `${describe(w)} ${what} and runs as ServiceAccount ${namespace}/default, which stops mounting tokens: automountServiceAccountToken: true on its pod template keeps its token`;
      } else if (r.mountsToday === false) {
        r.why = `${describe(w)} ${what}; ServiceAccount ${w.namespace}/${ev.serviceAccount} sets automountServiceAccountToken: false, so it mounts no automounted token today — left as it is`;
      } else {
        r.why = `${describe(w)} ${what}: it keeps its token (ServiceAccount ${w.namespace}/${ev.serviceAccount} is not changed)`;
      }
    };

    for (const r of rows) {
      decide(r, r.evidence.use);
      if (r.override) {
        const byEvidence = r.choice;
        const word = `the operator's choice (--sa-token-override ${overrideKey(r.workload)}=${r.override})`;
        if (!r.inPlace) {
          r.why = `${r.why}; ${word} is ignored: its pod template cannot change in place`;
        } else if (r.override === 'remove' && (r.podSetting === true || r.mountsToday !== false)) {
          r.choice = 'disable';
          r.why = `${describe(r.workload)}: ${word} removes its token (evidence: ${r.evidence.summary}): automountServiceAccountToken: false on its pod template`;
        } else if (r.override === 'keep') {
          decide(r, 'yes', `keeps its token by ${word} (evidence: ${r.evidence.summary})`);
        }
        r.flipped = r.choice !== byEvidence;
      }
      const accountChanges = r.evidence.serviceAccount === 'default' && disableDefault;
      r.mountsAfter =
        r.choice === 'disable'
          ? false
          : r.choice === 'keep-explicit'
            ? true
            : (r.podSetting ?? (accountChanges ? false : r.mountsToday));
    }
    out.push({
      namespace,
      ...(defaultAccount ? { defaultAccount } : {}),
      disableDefault,
      defaultWhy,
      workloads: rows,
    });
  }
  return out;
}

/** The decisions a `KH-SA-TOKEN-EVIDENCE` finding starts with (what its next pods get once the plan applies). */
export const DECISIONS = {
  remove: 'token removed',
  keepExplicit: 'token kept (explicit true)',
  keep: 'token kept',
  none: 'no change',
} as const;
export const FLIPPED = ' (flipped by the operator)';

/**
 * The message of a workload's `KH-SA-TOKEN-EVIDENCE` finding: `<decision>[ (flipped by the operator)] — evidence:
 * <summary>[ — <why nothing changes>]`. The evidence summary never holds " — " (evidence.ts), so the wizard reads
 * the decision and the evidence back with `readEvidenceMessage`.
 */
export function evidenceMessage(r: WorkloadTokenPlan): string {
  const decision =
    r.choice === 'disable'
      ? DECISIONS.remove
      : r.choice === 'keep-explicit'
        ? DECISIONS.keepExplicit
        : r.mountsAfter === false
          ? DECISIONS.none
          : DECISIONS.keep;
  const summary = r.evidence.summary.replaceAll(' — ', ' - ');
  return `${decision}${r.flipped ? FLIPPED : ''} — evidence: ${summary}${r.choice === 'none' ? ` — ${r.why}` : ''}`;
}

export interface EvidenceMessage {
  decision: (typeof DECISIONS)[keyof typeof DECISIONS];
  flipped: boolean;
  evidence: string;
  /** Why nothing changes (decisions without a change of their own). */
  why?: string;
}

/** `evidenceMessage` read back; undefined for other messages (a default ServiceAccount's, an unmatched override). */
export function readEvidenceMessage(message: string): EvidenceMessage | undefined {
  const decision = [DECISIONS.keepExplicit, DECISIONS.remove, DECISIONS.keep, DECISIONS.none].find(
    (d) => message.startsWith(`${d} — evidence: `) || message.startsWith(`${d}${FLIPPED} — evidence: `),
  );
  if (!decision) return undefined;
  const flipped = message.startsWith(`${decision}${FLIPPED}`);
  const rest = message.slice(message.indexOf(' — evidence: ') + ' — evidence: '.length);
  const cut = rest.indexOf(' — ');
  return {
    decision,
    flipped,
    evidence: cut < 0 ? rest : rest.slice(0, cut),
    ...(cut < 0 ? {} : { why: rest.slice(cut + 3) }),
  };
}
