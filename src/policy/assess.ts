/**
 * Phase 0: the assessment. A pure, synchronous function of the Snapshot (plus the exceptions register, the
 * tier config and the time): namespace posture, per-workload Pod Security results, findings with exceptions
 * applied, registries, CNI, the exceptions review, and what could not be read.
 *
 * Pod specs in a snapshot are interned (one object per distinct projection), so Pod Security results are cached
 * per (object, policy): 10,000 replicas of one template are evaluated once.
 */

import type {
  NamespaceInfo,
  PodTemplateLite,
  ServiceAccountInfo,
  Snapshot,
  UnknownEntry,
  Workload,
  WorkloadKind,
} from '../inventory/types.js';
import { WORKLOAD_RESOURCES } from '../k8s/kinds.js';
import type { ServerVersion, SourceInfo } from '../k8s/types.js';
import type { KubeHardenConfig } from './config.js';
import { type ControlPlaneSummary, controlPlaneReport } from './control-plane/report.js';
import { control, SEVERITIES, type Severity } from './controls.js';
import {
  coversCheck,
  type ExceptionEntry,
  type ExceptionRegister,
  type ExceptionReview,
  isExpired,
  review,
  scopeMatches,
} from './exceptions.js';
import { cmp, type Finding, makeFinding, sortFindings, type Target, targetNamespace } from './findings.js';
import { parseImage } from './images.js';
import { detectCni, noEffectWarning } from './netpol/cni.js';
import { clusterDnsOf } from './netpol/snapshot.js';
import { type NetworkPosture, networkPosture } from './network.js';
import { sharedPrivileged, sharedPrivilegedMessage } from './privileged-namespaces.js';
import {
  type CheckViolation,
  compareLevels,
  evaluatePod,
  type Level,
  type PolicyVersionString,
  type PssResult,
  parsePsaLabels,
  resolveVersion,
} from './pss/index.js';
import { rbacAccessFindings, rbacFindings } from './rbac.js';
import { entriesFor, policyAllowList } from './registries/index.js';
import { EvidenceIndex, legacyTokenFindings, workloadTokenFinding } from './sa/report.js';
import {
  classifyNamespace,
  onlyNamed,
  rankPodSecurityByTier,
  TIER_TARGET_LEVEL,
  type Tier,
  type TierSource,
} from './tiers.js';
import {
  buildProfile,
  describeSplit,
  podOnlyDiffers,
  profileKey,
  type RegistryTally,
  subjectsOf,
  type WorkloadProfile,
} from './workload-profile.js';
import { tokenDecision } from './workloads.js';

export interface AssessOptions {
  /** The time exceptions are judged against (and `generatedAt`). */
  now: Date;
  exceptions?: ExceptionRegister;
  config?: KubeHardenConfig;
  /**
   * The policy version workloads are evaluated at.
   * @default 'latest' (resolved against the server's minor version; offline: the newest implemented)
   */
  psaVersion?: PolicyVersionString;
  /**
   * The "expiring" window of the exceptions review, in days.
   * @default 30 (DEFAULT_WITHIN_DAYS)
   */
  within?: number;
}

export type PssLevel = 'baseline' | 'restricted';

export interface PsaLabel {
  level: Level;
  version: PolicyVersionString;
  /** Upstream's error when a label value is invalid (the level/version shown is then what PSA evaluates). */
  invalid?: string;
}

export interface Blocker {
  kind: WorkloadKind;
  name: string;
  /** Pod Security checks not covered by a valid exception. */
  checks: string[];
}

export interface NamespacePosture {
  name: string;
  tier: Tier;
  tierSource: TierSource;
  tierReason: string;
  /** The level phase 2 enforces for this tier. */
  targetLevel: Level;
  /** Current PSA labels; each mode null when its level label is absent. null: the namespace could not be read. */
  psa: { enforce: PsaLabel | null; audit: PsaLabel | null; warn: PsaLabel | null } | null;
  /** The strictest level every pod and template would pass today, counting valid exceptions. */
  strictestEnforceable: Level | 'unknown';
  /** The same, ignoring exceptions. */
  strictestWithoutExceptions: Level | 'unknown';
  /** What keeps the namespace from each level (uncovered violations), per workload. */
  blockers: { baseline: Blocker[]; restricted: Blocker[] };
  defaultDeny: NetworkPosture;
  workloads: number;
  pods: number;
  /** The namespace object could not be read: its labels are unknown. */
  unreadable?: boolean;
  /** Declared nowhere in a manifests directory. */
  synthesized?: boolean;
  terminating?: boolean;
}

export interface WorkloadAssessment {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  serviceAccount: string;
  automountToken: boolean | 'unknown';
  automountReason: string;
  /**
   * Evidence of Kubernetes API use (phase 4, src/policy/sa/evidence.ts; no audit log in the report): `yes` keeps
   * the token, `no` is what `sa-tokens` removes, `unknown` keeps it (bindings unreadable). Absent: not judged.
   */
  apiUse?: { use: 'yes' | 'no' | 'unknown'; evidence: string };
  /** Distinct images as written, sorted. */
  images: string[];
  replicas?: number;
  /** Live pods folded into it. */
  pods: number;
  /** False when only its pods were read (the owner could not be). */
  hasTemplate: boolean;
  pss: { baseline: PssResult; restricted: PssResult };
}

export interface RegistryUse {
  registry: string;
  /** Distinct normalized image references. */
  images: number;
  workloads: number;
  /**
   * Set when kube-harden's registries policy (phase 5) is in the cluster or the manifests: the allow-list entries
   * that admit this registry's images (`[host]`: all of them; `host/path`: those under it; empty: none).
   */
  allowedBy?: string[];
}

export interface CniStatus {
  status: 'enforcing' | 'not-enforcing' | 'unknown';
  plugins: Array<{
    name: string;
    namespace: string;
    workload: string;
    enforcesNetworkPolicy: boolean | 'unknown';
  }>;
  reason: string;
  /**
   * While the CNI is not known to enforce NetworkPolicy (not enforcing, or unknown): the loud sentence that
   * NetworkPolicies have no effect yet and phase 3 is not done.
   */
  noEffect?: string;
}

export interface Assessment {
  source: SourceInfo;
  serverVersion?: ServerVersion;
  /** The Pod Security version workloads were evaluated at: as requested, and as resolved. */
  policyVersion: { requested: PolicyVersionString; resolved: PolicyVersionString; offline: boolean };
  generatedAt: string;
  namespaces: NamespacePosture[];
  workloads: WorkloadAssessment[];
  findings: Finding[];
  registries: RegistryUse[];
  cni: CniStatus;
  exceptions: ExceptionReview;
  /** Phase 6: the API server's audit logging, encryption at rest and exposure (absent: no control-plane facts). */
  controlPlane?: ControlPlaneSummary;
  unknown: UnknownEntry[];
  summary: {
    namespaces: number;
    workloads: number;
    pods: number;
    findings: number;
    open: number;
    excepted: number;
    /** Open findings per severity. */
    bySeverity: Record<Severity, number>;
    unknown: number;
  };
}

function withoutContainers(pod: PodTemplateLite, names: ReadonlySet<string>): PodTemplateLite {
  const keep = <T extends { name: string }>(list: T[] | undefined) => list?.filter((c) => !names.has(c.name));
  const spec = { ...pod.spec, containers: keep(pod.spec.containers) ?? [] };
  const init = keep(pod.spec.initContainers);
  const eph = keep(pod.spec.ephemeralContainers);
  if (init) spec.initContainers = init;
  if (eph) spec.ephemeralContainers = eph;
  return { metadata: pod.metadata, spec };
}

/** No valid exception in a namespace. */
const NO_EXCEPTIONS: readonly ExceptionEntry[] = [];
/** No check covered (shared: never written to). */
const NOT_COVERED: ReadonlyMap<string, string[]> = new Map();

/** `unknownFor(resources, namespace)` of assess, indexed once: whether any of them is unknown in a namespace. */
function unknownIndex(
  unknown: readonly UnknownEntry[],
  resources: readonly string[],
): (ns: string) => boolean {
  const hits = unknown.filter((u) => resources.includes(u.resource));
  if (hits.some((u) => u.namespace === undefined)) return () => true;
  const namespaces = new Set(hits.map((u) => u.namespace));
  return (ns) => namespaces.has(ns);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

interface WorkloadEval {
  w: Workload;
  target: Target;
  subjects: PodTemplateLite[];
  results: Record<PssLevel, PssResult>;
  /** Check → IDs of the valid exceptions that cover it, per level. */
  covered: Record<PssLevel, ReadonlyMap<string, string[]>>;
}

export function assess(snapshot: Snapshot, options: AssessOptions): Assessment {
  const { now } = options;
  const version: PolicyVersionString = options.psaVersion ?? 'latest';
  const serverMinor =
    snapshot.serverVersion &&
    Number.isInteger(snapshot.serverVersion.minor) &&
    snapshot.serverVersion.minor >= 0
      ? snapshot.serverVersion.minor
      : undefined;
  const resolved = resolveVersion(version, serverMinor);
  const allExceptions = options.exceptions?.exceptions ?? [];
  // Valid exceptions by the namespace of their scope ('' = cluster-scoped objects): a target sees only its own.
  const activeByNs = new Map<string, ExceptionEntry[]>();
  for (const e of allExceptions) {
    if (isExpired(e, now)) continue;
    const k = e.scope.namespace ?? '';
    const list = activeByNs.get(k);
    if (list) list.push(e);
    else activeByNs.set(k, [e]);
  }
  const exceptionsFor = (target: Target) => activeByNs.get(targetNamespace(target) ?? '') ?? [];

  const unknownFor = (resources: readonly string[], namespace: string) =>
    snapshot.unknown.some(
      (u) => resources.includes(u.resource) && (u.namespace === undefined || u.namespace === namespace),
    );

  const findings: Finding[] = [];

  // ---- Workloads -------------------------------------------------------------------------------------------
  const saIndex = new Map<string, ServiceAccountInfo>();
  for (const sa of snapshot.serviceAccounts) saIndex.set(`${sa.namespace}/${sa.name}`, sa);
  const evals: WorkloadEval[] = [];
  const workloads: WorkloadAssessment[] = [];
  const evidence = new EvidenceIndex(snapshot);
  const registries = new Map<string, RegistryTally>();

  // What a workload's pod specs alone decide (Pod Security, container facts, images, finding texts), once per
  // distinct combination of interned specs and annotations: 10,000 bare pods of a few templates share a few.
  const profiles = new Map<string, WorkloadProfile>();
  const profileOf = (w: Workload, subjects: readonly PodTemplateLite[]): WorkloadProfile => {
    const podOnlyApplies = podOnlyDiffers(w);
    const { key, unique } = profileKey(subjects, podOnlyApplies);
    let profile = profiles.get(key);
    if (!profile) {
      profile = buildProfile(unique, version, serverMinor, podOnlyApplies, registryOf);
      profiles.set(key, profile);
    }
    return profile;
  };
  const registryOf = (registry: string) => {
    let reg = registries.get(registry);
    if (!reg) {
      reg = { images: new Set(), workloads: new Set() };
      registries.set(registry, reg);
    }
    return reg;
  };
  const saUnknown = unknownIndex(snapshot.unknown, ['serviceaccounts']);
  const anyExceptions = activeByNs.size > 0;

  for (const w of snapshot.workloads) {
    const subjects = subjectsOf(w);
    const primary = subjects[0];
    if (!primary) continue;
    const target: Target = { kind: w.kind, namespace: w.namespace, name: w.name };
    const profile = profileOf(w, subjects);
    const { results } = profile;
    const active = anyExceptions ? exceptionsFor(target) : NO_EXCEPTIONS;
    const ev: WorkloadEval = {
      w,
      target,
      subjects,
      results,
      covered: {
        baseline: coverChecks(active, target, subjects, 'baseline', results.baseline, version, serverMinor),
        restricted: coverChecks(
          active,
          target,
          subjects,
          'restricted',
          results.restricted,
          version,
          serverMinor,
        ),
      },
    };
    evals.push(ev);

    const primaryFacts = profile.primary;
    const token = tokenDecision(
      primaryFacts,
      saIndex.get(`${w.namespace}/${primaryFacts.serviceAccount}`),
      saUnknown(w.namespace),
    );
    const wa: WorkloadAssessment = {
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
      serviceAccount: primaryFacts.serviceAccount,
      automountToken: token.value,
      automountReason: token.reason,
      images: [...profile.images],
      pods: w.pods.length,
      hasTemplate: w.template !== undefined,
      pss: results,
    };
    if (w.replicas !== undefined) wa.replicas = w.replicas;
    workloads.push(wa);

    // Pod Security: baseline, then what restricted adds.
    if (ev.covered.baseline.size === 0) {
      const t = profile.pssText.baseline;
      if (t) findings.push(makeFinding('KH-PSS-BASELINE', target, t.message, { checks: [...t.checks] }));
    } else {
      pssFindings(
        findings,
        'KH-PSS-BASELINE',
        'fails baseline',
        target,
        results.baseline.violations,
        ev.covered.baseline,
        profile.podOnly,
      );
    }
    if (ev.covered.restricted.size === 0) {
      const t = profile.pssText.restricted;
      if (t) findings.push(makeFinding('KH-PSS-RESTRICTED', target, t.message, { checks: [...t.checks] }));
    } else {
      pssFindings(
        findings,
        'KH-PSS-RESTRICTED',
        profile.baselineChecks.size > 0 ? 'also fails restricted' : 'fails restricted',
        target,
        profile.restrictedOnly,
        ev.covered.restricted,
      );
    }

    // Container facts, merged over the template and live pods (first seen wins).
    if (profile.containerFindings.length > 0) {
      const targets: Target[] = profile.containers.map((container) => ({
        kind: w.kind,
        namespace: w.namespace,
        name: w.name,
        container,
      }));
      for (const c of profile.containerFindings) {
        findings.push(makeFinding(c.control, targets[c.container] as Target, c.message));
      }
    }
    if (profile.registries.length > 0) {
      const key = `${w.kind}/${w.namespace}/${w.name}`;
      for (const r of profile.registries) {
        r.reg.images.add(r.normalized);
        r.reg.workloads.add(key);
      }
    }

    // Phase 4's evidence decides between "remove it" (KH-SA-TOKEN-AUTOMOUNT) and "kept: it uses the API".
    const apiUse = evidence.apiUse(w, primaryFacts.serviceAccount);
    wa.apiUse = { use: apiUse.use, evidence: apiUse.summary };
    const tokenFinding = workloadTokenFinding(target, primaryFacts.serviceAccount, token, apiUse);
    if (tokenFinding) findings.push(tokenFinding);
    if (primaryFacts.serviceAccount === 'default') {
      findings.push(makeFinding('KH-SA-DEFAULT', target, `runs as ServiceAccount ${w.namespace}/default`));
    }
  }

  // ---- Namespaces ------------------------------------------------------------------------------------------
  const nsInfos = new Map<string, NamespaceInfo>();
  for (const ns of snapshot.namespaces) nsInfos.set(ns.name, ns);
  for (const w of snapshot.workloads) {
    if (!nsInfos.has(w.namespace))
      nsInfos.set(w.namespace, { name: w.namespace, labels: {}, annotations: {}, unreadable: true });
  }
  const systemNamespaces = new Set(snapshot.controlPlane.cni.map((c) => c.namespace));
  for (const w of snapshot.workloads) {
    const labels = w.template?.metadata.labels ?? w.pods[0]?.pod.metadata.labels ?? {};
    if (labels.tier === 'control-plane' || w.labels.tier === 'control-plane')
      systemNamespaces.add(w.namespace);
  }
  // The cluster DNS as the default-deny planner resolves it: dnsEgress is judged against the pods and pod ports
  // its allow names.
  const { resolution: dnsResolution, target: dns } = clusterDnsOf(snapshot);
  const evalsByNs = new Map<string, WorkloadEval[]>();
  for (const ev of evals) {
    const list = evalsByNs.get(ev.w.namespace);
    if (list) list.push(ev);
    else evalsByNs.set(ev.w.namespace, [ev]);
  }
  const policiesByNs = new Map<string, Snapshot['networkPolicies']>();
  for (const np of snapshot.networkPolicies) {
    const list = policiesByNs.get(np.namespace);
    if (list) list.push(np);
    else policiesByNs.set(np.namespace, [np]);
  }

  const namespaces: NamespacePosture[] = [];
  for (const ns of [...nsInfos.values()].sort((a, b) => cmp(a.name, b.name))) {
    const tier = classifyNamespace(ns, {
      ...(options.config ? { config: options.config } : {}),
      systemNamespaces,
    });
    const nsEvals = evalsByNs.get(ns.name) ?? [];
    const unknownWorkloads = ns.unreadable === true || unknownFor(WORKLOAD_RESOURCES, ns.name);
    const blockers = {
      baseline: blockersAt(nsEvals, 'baseline', true),
      restricted: blockersAt(nsEvals, 'restricted', true),
    };
    // Without exceptions, the same unless one covers a check here.
    const anyCovered = nsEvals.some((ev) => ev.covered.baseline.size > 0 || ev.covered.restricted.size > 0);
    const strictest = (withExceptions: boolean): Level | 'unknown' => {
      if (unknownWorkloads) return 'unknown';
      const counted = withExceptions || !anyCovered;
      if ((counted ? blockers.restricted : blockersAt(nsEvals, 'restricted', false)).length === 0)
        return 'restricted';
      if ((counted ? blockers.baseline : blockersAt(nsEvals, 'baseline', false)).length === 0)
        return 'baseline';
      return 'privileged';
    };
    const posture: NamespacePosture = {
      name: ns.name,
      tier: tier.tier,
      tierSource: tier.source,
      tierReason: tier.reason,
      targetLevel: TIER_TARGET_LEVEL[tier.tier],
      psa: null,
      strictestEnforceable: strictest(true),
      strictestWithoutExceptions: strictest(false),
      blockers,
      defaultDeny: networkPosture(policiesByNs.get(ns.name) ?? [], {
        unknown: unknownFor(['networkpolicies.networking.k8s.io'], ns.name),
        dns,
      }),
      workloads: nsEvals.length,
      pods: nsEvals.reduce((n, ev) => n + ev.w.pods.length, 0),
    };
    if (ns.unreadable) posture.unreadable = true;
    if (ns.synthesized) posture.synthesized = true;
    if (ns.terminating) posture.terminating = true;
    namespaces.push(posture);
    const nsTarget: Target = { kind: 'Namespace', name: ns.name };

    if (!ns.unreadable) {
      const policy = parsePsaLabels(ns.labels);
      const label = (mode: 'enforce' | 'audit' | 'warn'): PsaLabel | null => {
        const p = policy[mode];
        if (!p.explicit) return null;
        const out: PsaLabel = { level: p.level, version: p.version };
        if (p.error) out.invalid = p.error;
        return out;
      };
      posture.psa = { enforce: label('enforce'), audit: label('audit'), warn: label('warn') };
      if (policy.errors.length > 0) {
        findings.push(
          makeFinding(
            'KH-PSA-INVALID-LABEL',
            nsTarget,
            `invalid Pod Security labels: ${policy.errors.join('; ')}`,
          ),
        );
      }
      if (compareLevels(policy.enforce.level, posture.targetLevel) < 0) {
        const current = policy.enforce.explicit
          ? `enforces ${policy.enforce.level}:${policy.enforce.version}`
          : ns.synthesized
            ? 'is not declared in the manifests (no enforce label assumed: privileged)'
            : 'has no enforce label (privileged)';
        const today =
          posture.strictestEnforceable === 'unknown'
            ? 'what it could enforce today is unknown'
            : `it could enforce ${posture.strictestEnforceable} today`;
        findings.push(
          makeFinding(
            'KH-PSA-NOT-ENFORCED',
            nsTarget,
            `${current}; tier ${tier.tier} targets ${posture.targetLevel}; ${today}`,
          ),
        );
        // Phase 1 of the checklist: warn and audit at the target before enforcing it.
        const unobserved = (['warn', 'audit'] as const).filter(
          (m) => compareLevels(policy[m].level, posture.targetLevel) < 0,
        );
        if (unobserved.length > 0 && !onlyNamed(ns, evalsByNs.get(ns.name))) {
          findings.push(
            makeFinding(
              'KH-PSA-NO-WARN-AUDIT',
              nsTarget,
              `${unobserved.map((m) => `${m} ${policy[m].explicit ? `is ${policy[m].level}` : 'is not set'}`).join(', ')}; tier ${tier.tier} targets ${posture.targetLevel}: violations are ${unobserved.length === 2 ? 'neither shown to those who deploy nor recorded in the audit log' : unobserved[0] === 'warn' ? 'not shown to those who deploy' : 'not recorded in the audit log'}`,
            ),
          );
        }
      }
    }

    // Phase 3 puts default-deny in application namespaces; other tiers' coverage is shown in the posture only.
    // A namespace that exists only because an object (a RoleBinding, a List item) names it has nothing to isolate.
    if (tier.tier === 'application' && !onlyNamed(ns, evalsByNs.get(ns.name))) {
      const net = posture.defaultDeny;
      for (const [dir, id] of [
        ['ingress', 'KH-NET-NO-DEFAULT-DENY-INGRESS'],
        ['egress', 'KH-NET-NO-DEFAULT-DENY-EGRESS'],
      ] as const) {
        const cov = net[dir];
        if (cov === 'none') {
          findings.push(
            makeFinding(
              id,
              nsTarget,
              net.policies === 0
                ? `has no NetworkPolicy: all ${dir} is allowed`
                : `no NetworkPolicy selects all pods with ${dir === 'ingress' ? 'Ingress' : 'Egress'} in policyTypes (${plural(net.policies, 'other policy', 'other policies')}): ${dir} is not denied by default`,
            ),
          );
        } else if (cov === 'open') {
          findings.push(
            makeFinding(
              id,
              nsTarget,
              `a NetworkPolicy selecting all pods allows all ${dir}: isolated, but not denied`,
            ),
          );
        }
      }
      if (net.dnsEgress === false) {
        findings.push(
          makeFinding(
            'KH-NET-NO-DNS-EGRESS',
            nsTarget,
            dns
              ? `egress is denied, but no policy allows DNS (UDP and TCP ${dns.ports
                  .map((p) => p.port)
                  .filter((p, i, a) => a.indexOf(p) === i)
                  .join('/')}) to the ${dns.namespace} DNS pods`
              : `egress is denied, and whether DNS is allowed is unknown: ${dnsResolution.ok ? 'the cluster DNS could not be resolved' : dnsResolution.reason}`,
          ),
        );
      }
    }
  }

  // ---- Cluster-wide ----------------------------------------------------------------------------------------
  findings.push(...rbacFindings(snapshot), ...rbacAccessFindings(snapshot));
  findings.push(...legacyTokenFindings(snapshot.serviceAccountFacts));
  const phase6 = controlPlaneReport(snapshot);
  findings.push(...phase6.findings);

  const cni = cniStatus(snapshot, unknownFor(['daemonsets.apps'], 'kube-system'));
  for (const p of cni.plugins) {
    const target: Target = p.workload
      ? { kind: 'DaemonSet', namespace: p.namespace, name: p.workload }
      : { kind: 'Cluster', name: 'cni' };
    if (p.enforcesNetworkPolicy === true) {
      findings.push(makeFinding('KH-NET-CNI', target, `CNI ${p.name} enforces NetworkPolicy`));
    } else if (p.enforcesNetworkPolicy === false && cni.status === 'not-enforcing') {
      findings.push(
        makeFinding(
          'KH-NET-CNI-NO-NETPOL',
          target,
          `CNI ${p.name} does not enforce NetworkPolicy${cni.noEffect ? `. ${cni.noEffect}` : ''}`,
        ),
      );
    }
  }
  if (cni.status === 'unknown')
    findings.push(
      makeFinding(
        'KH-NET-CNI-UNKNOWN',
        { kind: 'Cluster', name: 'cni' },
        `${cni.reason}${cni.noEffect ? `. ${cni.noEffect}` : ''}`,
      ),
    );

  const allowList = policyAllowList(snapshot);
  const registryUse: RegistryUse[] = [...registries.entries()]
    .sort(([a], [b]) => cmp(a, b))
    .map(([registry, r]) => ({
      registry,
      images: r.images.size,
      workloads: r.workloads.size,
      ...(allowList ? { allowedBy: entriesFor(registry, allowList) } : {}),
    }));
  for (const [registry, r] of [...registries.entries()].sort(([a], [b]) => cmp(a, b))) {
    const repos = [...new Set([...r.images].map((i) => parseImage(i).repository))].sort(cmp);
    const shown =
      repos.length > 5 ? `${repos.slice(0, 5).join(', ')}, … (${repos.length - 5} more)` : repos.join(', ');
    findings.push(
      makeFinding(
        'KH-IMAGE-REGISTRY',
        { kind: 'Registry', name: registry },
        `${plural(r.images.size, 'image')} in ${plural(r.workloads.size, 'workload')}: ${shown}`,
      ),
    );
  }

  for (const u of [...snapshot.unknown, ...phase6.unknown]) {
    const target: Target = { kind: 'Resource', name: u.resource };
    if (u.namespace) target.namespace = u.namespace;
    findings.push(
      makeFinding(
        'KH-UNKNOWN',
        target,
        `could not read ${u.resource}${u.namespace ? ` in namespace ${u.namespace}` : ''} (${u.reason}): ${u.message}`,
      ),
    );
  }

  for (const e of allExceptions) {
    if (!isExpired(e, now)) continue;
    const target: Target = { kind: 'Exception', name: e.id };
    if (e.scope.namespace) target.namespace = e.scope.namespace;
    findings.push(
      makeFinding(
        'KH-EXCEPTION-EXPIRED',
        target,
        `expired on ${e.expires} (owner ${e.owner}${e.ticket ? `, ticket ${e.ticket}` : ''}): it no longer covers ${e.controls.join(', ')}`,
      ),
    );
  }

  // The message depends on the namespace (its other workloads) and the checks: one per pair.
  const privilegedMessages = new Map<string, string>();
  for (const s of sharedPrivileged(namespaces, workloads)) {
    const target: Target = { kind: s.kind, namespace: s.namespace, name: s.name };
    const key = `${s.namespace}\0${s.checks.join('\0')}`;
    let message = privilegedMessages.get(key);
    if (message === undefined) {
      message = sharedPrivilegedMessage(s);
      privilegedMessages.set(key, message);
    }
    findings.push(makeFinding('KH-PSS-PRIVILEGED-IN-APP-NS', target, message));
  }
  rankPodSecurityByTier(findings, new Map(namespaces.map((n) => [n.name, n.tier])));

  // ---- Exceptions on everything but Pod Security (already split by coverage) -------------------------------
  if (anyExceptions) {
    for (const f of findings) {
      if (f.checks || f.excepted || !control(f.control).exceptable) continue;
      const ids = exceptionsFor(f.target)
        .filter((e) => e.controls.includes(f.control) && scopeMatches(e.scope, f.target))
        .map((e) => e.id);
      if (ids.length > 0) {
        f.excepted = true;
        f.exceptedBy = ids.sort(cmp);
      }
    }
  }
  sortFindings(findings);

  workloads.sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.kind, b.kind) || cmp(a.name, b.name));
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let open = 0;
  for (const f of findings) {
    if (f.excepted) continue;
    open++;
    bySeverity[f.severity]++;
  }

  const assessment: Assessment = {
    source: snapshot.source,
    policyVersion: {
      requested: version,
      resolved: `v1.${resolved.minor}` as PolicyVersionString,
      offline: serverMinor === undefined,
    },
    generatedAt: now.toISOString(),
    namespaces,
    workloads,
    findings,
    registries: registryUse,
    cni,
    exceptions: review(options.exceptions, findings, {
      now,
      ...(options.within !== undefined ? { within: options.within } : {}),
    }),
    unknown: [...snapshot.unknown, ...phase6.unknown].sort(
      (a, b) => cmp(a.resource, b.resource) || cmp(a.namespace, b.namespace) || cmp(a.reason, b.reason),
    ),
    summary: {
      namespaces: namespaces.length,
      workloads: workloads.length,
      pods: workloads.reduce((n, w) => n + w.pods, 0),
      findings: findings.length,
      open,
      excepted: findings.length - open,
      bySeverity,
      unknown: snapshot.unknown.length + phase6.unknown.length,
    },
  };
  if (snapshot.serverVersion) assessment.serverVersion = snapshot.serverVersion;
  if (phase6.summary) assessment.controlPlane = phase6.summary;
  return assessment;
}

/**
 * Which violated checks valid exceptions cover. An exception without a container covers a check for the whole
 * workload; container-scoped exceptions cover it when the check passes on every pod spec once their containers
 * are left out (the container alone causes it).
 */
function coverChecks(
  active: readonly ExceptionEntry[],
  target: Target,
  subjects: readonly PodTemplateLite[],
  level: PssLevel,
  result: PssResult,
  version: PolicyVersionString,
  serverMinor: number | undefined,
): ReadonlyMap<string, string[]> {
  if (active.length === 0 || result.allowed) return NOT_COVERED;
  const relevant = active.filter((e) => {
    const { container: _, ...scope } = e.scope;
    return scopeMatches(scope, target);
  });
  if (relevant.length === 0) return NOT_COVERED;
  const covered = new Map<string, string[]>();
  const without = new Map<string, PssResult[]>();
  for (const v of result.violations) {
    const direct = relevant.filter((e) => e.scope.container === undefined && coversCheck(e, v.check, level));
    if (direct.length > 0) {
      covered.set(v.check, direct.map((e) => e.id).sort(cmp));
      continue;
    }
    const byContainer = relevant.filter(
      (e) => e.scope.container !== undefined && coversCheck(e, v.check, level),
    );
    if (byContainer.length === 0) continue;
    const names = new Set(byContainer.map((e) => e.scope.container as string));
    const key = [...names].sort(cmp).join('\0');
    let results = without.get(key);
    if (!results) {
      results = subjects.map((s) =>
        evaluatePod(
          { level, version },
          withoutContainers(s, names),
          serverMinor === undefined ? undefined : { serverMinor },
        ),
      );
      without.set(key, results);
    }
    if (results.every((r) => !r.violations.some((x) => x.check === v.check))) {
      covered.set(v.check, byContainer.map((e) => e.id).sort(cmp));
    }
  }
  return covered;
}

/** One finding for the uncovered checks, one (excepted) for the covered ones. */
function pssFindings(
  out: Finding[],
  id: 'KH-PSS-BASELINE' | 'KH-PSS-RESTRICTED',
  verb: string,
  target: Target,
  violations: readonly CheckViolation[],
  covered: ReadonlyMap<string, string[]>,
  podOnly: ReadonlySet<string> = new Set(),
): void {
  if (violations.length === 0) return;
  const open = violations.filter((v) => !covered.has(v.check));
  const excepted = violations.filter((v) => covered.has(v.check));
  if (open.length > 0) {
    out.push(
      makeFinding(id, target, `${verb}: ${describeSplit(open, podOnly)}`, {
        checks: open.map((v) => v.check),
      }),
    );
  }
  if (excepted.length > 0) {
    const f = makeFinding(id, target, `${verb}: ${describeSplit(excepted, podOnly)}`, {
      checks: excepted.map((v) => v.check),
    });
    f.excepted = true;
    f.exceptedBy = [...new Set(excepted.flatMap((v) => covered.get(v.check) ?? []))].sort(cmp);
    out.push(f);
  }
}

function blockersAt(evals: readonly WorkloadEval[], level: PssLevel, withExceptions: boolean): Blocker[] {
  const out: Blocker[] = [];
  for (const ev of evals) {
    const { violations } = ev.results[level];
    if (violations.length === 0) continue;
    const covered = ev.covered[level];
    const checks =
      withExceptions && covered.size > 0
        ? violations.filter((v) => !covered.has(v.check)).map((v) => v.check)
        : violations.map((v) => v.check);
    if (checks.length > 0) out.push({ kind: ev.w.kind, name: ev.w.name, checks });
  }
  return out.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.name, b.name));
}

function cniStatus(snapshot: Snapshot, daemonSetsUnknown: boolean): CniStatus {
  const status = snapshot.network
    ? cniFromFacts(snapshot.network)
    : cniFromHints(snapshot, daemonSetsUnknown);
  const noEffect = noEffectWarning({
    cni: status.plugins.map((p) => p.name).join('+') || 'unknown',
    enforcesNetworkPolicy:
      status.status === 'enforcing' ? true : status.status === 'not-enforcing' ? false : 'unknown',
  });
  return noEffect ? { ...status, noEffect } : status;
}

/** The CNI as phase 3 detects it (`detectCni`: images, containers, flags, config hints): one verdict everywhere. */
function cniFromFacts(network: NonNullable<Snapshot['network']>): CniStatus {
  const v = detectCni(network.daemonSets, network.cniConfig);
  const plugins = v.matches
    .map((m) => ({
      name: m.cni,
      namespace: m.daemonSet?.namespace ?? '',
      workload: m.daemonSet?.name ?? '',
      enforcesNetworkPolicy: m.enforces,
    }))
    .sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.workload, b.workload) || cmp(a.name, b.name));
  const evidence = v.evidence.join('; ');
  const status =
    v.enforcesNetworkPolicy === true
      ? 'enforcing'
      : v.enforcesNetworkPolicy === false
        ? 'not-enforcing'
        : 'unknown';
  const verdict =
    status === 'enforcing'
      ? 'known to enforce NetworkPolicy'
      : status === 'not-enforcing'
        ? 'does not enforce NetworkPolicy'
        : v.matches.length === 0
          ? 'no known CNI found: NetworkPolicy enforcement is unknown'
          : 'NetworkPolicy enforcement depends on its configuration';
  return { status, plugins, reason: `${v.cni}: ${verdict} (${evidence})` };
}

/** Snapshots without network facts: the inventory's CNI hints (DaemonSet names). */
function cniFromHints(snapshot: Snapshot, daemonSetsUnknown: boolean): CniStatus {
  const plugins = snapshot.controlPlane.cni
    .map((c) => ({
      name: c.name,
      namespace: c.namespace,
      workload: c.workload,
      enforcesNetworkPolicy: c.enforcesNetworkPolicy,
    }))
    .sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.workload, b.workload) || cmp(a.name, b.name));
  const names = plugins.map((p) => p.name).join(', ');
  if (plugins.some((p) => p.enforcesNetworkPolicy === true)) {
    return { status: 'enforcing', plugins, reason: `${names}: known to enforce NetworkPolicy` };
  }
  if (plugins.length === 0) {
    return {
      status: 'unknown',
      plugins,
      reason: daemonSetsUnknown
        ? 'DaemonSets could not be read, so the CNI is unknown: NetworkPolicy enforcement is unknown'
        : snapshot.controlPlane.cniUnreadable
          ? 'DaemonSets outside the namespaces in scope could not be read, so the CNI is unknown: NetworkPolicy enforcement is unknown'
          : 'no known CNI DaemonSet found (managed or unrecognised CNI): NetworkPolicy enforcement is unknown',
    };
  }
  if (plugins.some((p) => p.enforcesNetworkPolicy === 'unknown')) {
    return {
      status: 'unknown',
      plugins,
      reason: `${names}: NetworkPolicy enforcement depends on its configuration`,
    };
  }
  return { status: 'not-enforcing', plugins, reason: `${names}: does not enforce NetworkPolicy` };
}
