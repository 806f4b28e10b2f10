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
import { knownControllersOf } from './controllers.js';
import {
  bindingsOf,
  bindingsUnknown,
  bindingText,
  imagesOf,
  isDefaultBinding,
  serviceAccountOfWorkload,
  tokenVolumes,
  type WorkloadEvidence,
  workloadEvidence,
} from './evidence.js';

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

  // The two halves of `evidence`'s verdict, each cached on what it depends on: the bindings of a ServiceAccount
  // (and whether they could all be read) per namespace and account; the known controllers and token volumes per pod
  // spec object and Helm chart label. 10,000 bare pods of a few specs in 200 namespaces are a few hundred of each.
  private readonly byAccountEvidence = new Map<string, { bound: string[]; unknown: boolean }>();
  private readonly bySpecEvidence = new WeakMap<
    object,
    Map<string, { evidence: string[]; summary: string }>
  >();

  /**
   * `evidence(w, serviceAccount)`'s `use` and `summary` (the report has no audit log), from the cached halves: the
   * same words in the same order as `workloadEvidence`.
   */
  apiUse(w: Workload, serviceAccount: string): Pick<WorkloadEvidence, 'use' | 'summary'> {
    const spec = (w.template ?? w.pods[0]?.pod)?.spec;
    const account = serviceAccountOfWorkload(w) ?? 'default';
    if (!spec || account !== serviceAccount) return this.evidence(w, serviceAccount);
    const accountKey = `${w.namespace}/${account}`;
    let byAccount = this.byAccountEvidence.get(accountKey);
    if (!byAccount) {
      const { direct } = bindingsOf(this.bindingsOf(w.namespace, serviceAccount), w.namespace, account);
      byAccount = {
        bound: direct.map((b) => `bound to ${bindingText(b)}`),
        unknown: bindingsUnknown(this.snapshot.unknown, w.namespace),
      };
      this.byAccountEvidence.set(accountKey, byAccount);
    }
    let perSpec = this.bySpecEvidence.get(spec);
    if (!perSpec) {
      perSpec = new Map();
      this.bySpecEvidence.set(spec, perSpec);
    }
    const chart = w.labels['helm.sh/chart'];
    const chartKey = chart === undefined ? '' : `=${chart}`;
    let own = perSpec.get(chartKey);
    if (!own) {
      const evidence = [...knownControllersOf(imagesOf(w), chart), ...tokenVolumes(w).evidence];
      own = { evidence, summary: evidence.join('; ') };
      perSpec.set(chartKey, own);
    }
    if (byAccount.bound.length === 0 && own.evidence.length > 0) return { use: 'yes', summary: own.summary };
    if (byAccount.bound.length > 0)
      return { use: 'yes', summary: [...byAccount.bound, ...own.evidence].join('; ') };
    if (byAccount.unknown)
      return {
        use: 'unknown',
        summary: `ServiceAccount ${w.namespace}/${account}: its bindings could not be read, so API use is unknown`,
      };
    return { use: 'no', summary: 'no binding, no known controller, no projected token' };
  }

  /** The bindings `evidence` reads for an account: its own, and those of the groups every account is in. */
  private bindingsOf(namespace: string, serviceAccount: string): BindingInfo[] {
    const own = this.byAccount.get(`${namespace}/${serviceAccount}`) ?? [];
    return this.groupBound.length === 0
      ? own
      : this.snapshot.bindings.filter((b) => own.includes(b) || this.groupBound.includes(b));
  }

  evidence(w: Workload, serviceAccount: string): WorkloadEvidence {
    const bindings = this.bindingsOf(w.namespace, serviceAccount);
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
