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
      });
    }
    // Workloads that need `default`'s token and cannot be given an explicit true keep `default` as it is.
    const needsDefault = (r: WorkloadTokenPlan) =>
      r.evidence.use !== 'no' && r.evidence.serviceAccount === 'default' && r.podSetting === undefined;
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

    for (const r of rows) {
      const w = r.workload;
      const ev = r.evidence;
      if (ev.use === 'no') {
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
        continue;
      }
      const what = ev.use === 'yes' ? `uses the API (${ev.summary})` : `may use the API (${ev.summary})`;
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
