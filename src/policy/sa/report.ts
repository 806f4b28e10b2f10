/**
 * Phase 4 in the report (`kube-harden report`, src/policy/assess.ts): one source of truth with the `sa-tokens` and
 * `rbac-review` steps. Pure.
 *
 * - A workload that mounts a ServiceAccount token (or may: unknown) is judged by the same evidence of API use as
 *   `sa-tokens` (evidence.ts): without evidence it is `KH-SA-TOKEN-AUTOMOUNT` (medium: phase 4 removes it); with
 *   evidence it is `KH-SA-TOKEN-EVIDENCE` (info: the token is kept, and the finding names why); unknown evidence is
 *   not compliant (`KH-SA-TOKEN-AUTOMOUNT`, saying so). The report has no audit log: its evidence is bindings, known
 *   controllers and token volumes.
 * - Long-lived token Secrets (legacy tokens, metadata only) are `KH-SA-LEGACY-TOKEN`, with the last use the API
 *   server records (label `kubernetes.io/legacy-token-last-used`); Secrets that could not be listed are
 *   `KH-SA-LEGACY-TOKEN-UNKNOWN` (reading Secrets is a right a reviewer may lack: not an inventory unknown).
 */
import type { ServiceAccountFacts } from '../../inventory/sa-facts.js';
import type { BindingInfo, Snapshot, Workload } from '../../inventory/types.js';
import { type Finding, makeFinding, type Target } from '../findings.js';
import type { TokenDecision } from '../workloads.js';
import { isDefaultBinding, type WorkloadEvidence, workloadEvidence } from './evidence.js';

const SA_GROUPS = new Set(['system:serviceaccounts', 'system:authenticated']);

/**
 * Evidence for many workloads at once: the bindings are indexed by the ServiceAccount they name, so each workload
 * sees only its own (and the group bindings every account shares) — the same answer as `workloadEvidence` over all
 * bindings, without reading every binding per workload.
 */
export class EvidenceIndex {
  private readonly byAccount = new Map<string, BindingInfo[]>();
  private readonly groupBound: BindingInfo[] = [];

  constructor(private readonly snapshot: Pick<Snapshot, 'workloads' | 'bindings' | 'unknown'>) {
    for (const b of snapshot.bindings) {
      if (isDefaultBinding(b)) continue;
      let group = false;
      const seen = new Set<string>();
      for (const s of b.subjects) {
        if (s.kind === 'ServiceAccount') {
          const key = `${s.namespace ?? b.namespace ?? ''}/${s.name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const list = this.byAccount.get(key);
          if (list) list.push(b);
          else this.byAccount.set(key, [b]);
        } else if (
          s.kind === 'Group' &&
          (SA_GROUPS.has(s.name) || s.name.startsWith('system:serviceaccounts:'))
        )
          group = true;
      }
      if (group) this.groupBound.push(b);
    }
  }

  evidence(w: Workload, serviceAccount: string): WorkloadEvidence {
    const own = this.byAccount.get(`${w.namespace}/${serviceAccount}`) ?? [];
    const bindings =
      this.groupBound.length === 0
        ? own
        : this.snapshot.bindings.filter((b) => own.includes(b) || this.groupBound.includes(b));
    return workloadEvidence(w, {
      snapshot: { workloads: this.snapshot.workloads, bindings, unknown: this.snapshot.unknown },
    });
  }
}

/**
 * The token finding of one workload, or none (it mounts no token). `serviceAccount` and `token` as the report
 * computed them (`tokenDecision`, the admission plugin's precedence).
 */
export function workloadTokenFinding(
  target: Target,
  serviceAccount: string,
  token: TokenDecision,
  evidence: Pick<WorkloadEvidence, 'use' | 'summary'>,
): Finding | undefined {
  if (token.value === false) return undefined;
  const account = `ServiceAccount ${target.namespace ?? '?'}/${serviceAccount}`;
  const mounts =
    token.value === true
      ? `mounts the token of ${account}: ${token.reason}`
      : `may mount the token of ${account} (unknown): ${token.reason}`;
  if (evidence.use === 'yes')
    return makeFinding(
      'KH-SA-TOKEN-EVIDENCE',
      target,
      `${mounts}; it uses the API, so the token is kept — evidence: ${evidence.summary}`,
    );
  return makeFinding(
    'KH-SA-TOKEN-AUTOMOUNT',
    target,
    evidence.use === 'no'
      ? `${mounts}; no evidence of API use (${evidence.summary})`
      : `${mounts}; API use is unknown (${evidence.summary})`,
  );
}

/** Long-lived token Secrets as findings (metadata only), in the namespaces `inScope` accepts. */
export function legacyTokenFindings(
  facts: ServiceAccountFacts | undefined,
  inScope: (namespace: string) => boolean = () => true,
): Finding[] {
  if (!facts) return [];
  const out: Finding[] = [];
  if (facts.unreadable) {
    const where = facts.unreadable.namespaces.length
      ? `in ${facts.unreadable.namespaces.join(', ')}`
      : 'cluster-wide';
    const target: Target = { kind: 'Resource', name: 'secrets' };
    if (facts.unreadable.namespaces.length === 1) target.namespace = facts.unreadable.namespaces[0] as string;
    out.push(
      makeFinding(
        'KH-SA-LEGACY-TOKEN-UNKNOWN',
        target,
        `ServiceAccount token Secrets could not be listed ${where} (${facts.unreadable.reason}): long-lived tokens there are unknown (unknown is not compliant)`,
      ),
    );
  }
  for (const t of facts.legacyTokens) {
    if (!inScope(t.namespace)) continue;
    const use = t.invalidSince
      ? `invalidated as unused since ${t.invalidSince} (the controller-manager deletes it after another period)`
      : t.lastUsed
        ? `last used ${t.lastUsed}`
        : 'no use recorded (the API server labels a legacy token when it is used, since Kubernetes 1.28)';
    out.push(
      makeFinding(
        'KH-SA-LEGACY-TOKEN',
        { kind: 'Secret', namespace: t.namespace, name: t.name },
        `a long-lived token of ServiceAccount ${t.namespace}/${t.serviceAccount ?? '?'}${t.created ? `, created ${t.created.slice(0, 10)}` : ''}: ${use} — it never expires; move its users to short-lived tokens (kubectl create token, projected volumes; outside the cluster, one requested for its own audience) and delete it`,
      ),
    );
  }
  return out;
}
