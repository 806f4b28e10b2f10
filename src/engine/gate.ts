/**
 * The gate a saved plan passes before anything is written (`apply --plan`), each check read-only:
 * - targets: every change is one its step can produce (targets.ts), judged against the object as it is now;
 * - access: the permission preflight for the writes (one SelfSubjectAccessReview per verb × resource ×
 *   namespace × name): a change the user may not make is dropped up front, the missing permission named;
 * - enforce: a Pod Security enforce label is re-checked against the namespace's pods and templates as they are
 *   now, and against the API server's own dry-run (a violating workload added since the plan is refused); phase
 *   5's deny binding likewise, over the namespaces it covers now and the API server's cross-check
 *   (warnings-xcheck.ts).
 * And after the writes, each step's `verify` (e.g. FailedCreate after enforce), as the wizard does.
 */
import { isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { buildSnapshot } from '../inventory/build.js';
import { type Snapshot, WORKLOAD_KINDS } from '../inventory/types.js';
import { Kinds, kindInfo, resourceName } from '../k8s/kinds.js';
import type { AccessCheck, KubeObject } from '../k8s/types.js';
import { assess } from '../policy/assess.js';
import { evaluatePod, type Level, type PolicyVersionString, parseVersion } from '../policy/pss/index.js';
import type { ApplyReport } from './apply.js';
import { type LiveReads, liveOf } from './live-reads.js';
import { outsideTargets } from './targets.js';
import type { Plan, PlannedChange, PodProbe, Step, StepOptions, Verification } from './types.js';
import { verifyRun } from './verify.js';
import { recheckRegistryDeny } from './warnings-xcheck.js';

export interface Refusal {
  change: PlannedChange;
  reason: string;
}

/**
 * A saved plan never holds Secret values: plan.json masks them (`***`), so applying such a change from a plan
 * would write the mask. The reason to refuse it, or undefined.
 */
export function carriesSecretValues(change: PlannedChange): string | undefined {
  const d = change.desired;
  if (d?.kind !== 'Secret' || d.apiVersion !== 'v1') return undefined;
  if (d.data === undefined && d.stringData === undefined) return undefined;
  return 'it writes Secret values, which a saved plan never holds (they are masked in plan.json); apply it from the wizard, which previews and writes in one session';
}

/** Changes of `plan` outside their step's declared targets (unknown steps included), or carrying Secret values. */
export async function checkTargets(
  reader: ClusterReader,
  plan: Plan,
  steps: readonly Pick<Step, 'id' | 'targets'>[],
  signal?: AbortSignal,
  live?: LiveReads,
): Promise<Refusal[]> {
  const out: Refusal[] = [];
  for (const change of plan.changes) {
    const secret = carriesSecretValues(change);
    if (secret) {
      out.push({ change, reason: secret });
      continue;
    }
    const rules = steps.find((s) => s.id === change.step)?.targets;
    let now: KubeObject | undefined | 'unreadable';
    if (rules && change.target) {
      const read = await liveOf(reader, change.target, live, signal);
      // Unreadable: the access preflight names it; the change is judged as planned.
      now = 'value' in read ? read.value : 'unreadable';
    }
    const reason = outsideTargets(change, rules, now);
    if (reason) out.push({ change, reason });
  }
  return out;
}

/** What writing a change needs: read it, then patch (server-side apply) or delete it. */
export function accessChecks(change: PlannedChange): AccessCheck[] {
  const t = change.target;
  if (!t || change.kind === 'manual') return [];
  const info = kindInfo(t);
  if (!info) return [];
  const base = {
    group: info.group,
    resource: info.resource,
    ...(t.namespace ? { namespace: t.namespace } : {}),
    name: t.name,
  };
  return [
    { verb: 'get', ...base },
    { verb: change.kind === 'delete' ? 'delete' : 'patch', ...base },
  ];
}

export interface Denied {
  change: PlannedChange;
  /** `patch namespaces/shop`, `delete configmaps/x in namespace y`. */
  missing: string[];
}

function describeCheck(c: AccessCheck): string {
  return `${c.verb} ${resourceName(c)}${c.name ? `/${c.name}` : ''}${c.namespace ? ` in namespace ${c.namespace}` : ''}`;
}

/** The changes the current user may not make, with what is missing (one review per distinct check). */
export async function accessPreflight(
  reader: ClusterReader,
  changes: readonly PlannedChange[],
  signal?: AbortSignal,
): Promise<Denied[]> {
  if (!reader.capabilities.reviews) return [];
  const key = (c: AccessCheck) => JSON.stringify([c.verb, c.group, c.resource, c.namespace, c.name]);
  const unique = new Map<string, AccessCheck>();
  for (const change of changes) for (const c of accessChecks(change)) unique.set(key(c), c);
  if (unique.size === 0) return [];
  const decisions = await reader.accessReview([...unique.values()], signal);
  const allowed = new Map(decisions.map((d) => [key(d), d.allowed]));
  const out: Denied[] = [];
  for (const change of changes) {
    const missing = accessChecks(change)
      .filter((c) => allowed.get(key(c)) !== true)
      .map(describeCheck);
    if (missing.length) out.push({ change, missing });
  }
  return out;
}

/** Above this many namespaces one cluster-wide list per kind is cheaper than a list per kind and namespace. */
const SCOPED_LIST_MAX = 10;

/** A snapshot covering `namespaces` (a superset when there are many; callers filter by namespace). */
function snapshotOf(reader: ClusterReader, namespaces: string[], signal?: AbortSignal): Promise<Snapshot> {
  return buildSnapshot(reader, {
    namespaces: namespaces.length > SCOPED_LIST_MAX ? [] : namespaces,
    ...(signal ? { signal } : {}),
  });
}

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const ENFORCE_VERSION = 'pod-security.kubernetes.io/enforce-version';
const SERVER_VIOLATION = /violate the new PodSecurity enforce level/;
const WORKLOAD_RESOURCES = new Set(WORKLOAD_KINDS.map((k) => resourceName(Kinds[k])));

/** The enforce level a change sets on a namespace, if it is a Pod Security enforce change. */
export function enforceOf(
  change: PlannedChange,
): { namespace: string; level: Level; version: PolicyVersionString } | undefined {
  const labels = change.desired?.metadata.labels;
  if (change.kind !== 'apply' || change.target?.kind !== 'Namespace' || !labels?.[ENFORCE]) return undefined;
  const level = labels[ENFORCE] as Level;
  const raw = labels[ENFORCE_VERSION] ?? 'latest';
  const version = (parseVersion(raw).error ? 'latest' : raw) as PolicyVersionString;
  return { namespace: change.target.name, level, version };
}

/**
 * Re-check each enforce change against the namespace as it is now: every pod and workload template must pass the
 * level under kube-harden's evaluator, nothing in the namespace may be unreadable (unknown is not compliant), and
 * the API server's dry-run of the label must not report existing pods that violate it. Returns the refusals.
 */
export async function recheckEnforce(
  reader: ClusterReader,
  changes: readonly PlannedChange[],
  signal?: AbortSignal,
): Promise<Refusal[]> {
  // Phase 5's deny binding: registries-enforce's gate again, on the namespaces as they are now.
  const registries: Refusal[] = [];
  for (const change of changes) {
    const reason = await recheckRegistryDeny(reader, change, changes, signal);
    if (reason) registries.push({ change, reason });
  }
  const enforce = changes.flatMap((change) => {
    const e = enforceOf(change);
    return e && e.level !== 'privileged' ? [{ change, ...e }] : [];
  });
  if (enforce.length === 0) return registries;
  const snapshot = await snapshotOf(reader, [...new Set(enforce.map((e) => e.namespace))], signal);
  const serverMinor = snapshot.serverVersion?.minor;
  const out: Refusal[] = [...registries];
  for (const e of enforce) {
    const violators: string[] = [];
    const unknown = snapshot.unknown.filter(
      (u) => WORKLOAD_RESOURCES.has(u.resource) && (u.namespace === e.namespace || u.namespace === undefined),
    );
    for (const u of unknown) violators.push(`${u.resource} could not be read (${u.reason})`);
    for (const w of snapshot.workloads) {
      if (w.namespace !== e.namespace) continue;
      const policy = { level: e.level, version: e.version };
      const opts = serverMinor === undefined ? undefined : { serverMinor };
      const checks = new Set<string>();
      if (w.template) for (const v of evaluatePod(policy, w.template, opts).violations) checks.add(v.check);
      for (const p of w.pods)
        for (const v of evaluatePod(policy, p.pod, opts).violations) checks.add(v.check);
      if (checks.size) violators.push(`${w.kind} ${w.namespace}/${w.name} (${[...checks].join(', ')})`);
    }
    if (reader.capabilities.dryRun) {
      try {
        const res = await reader.dryRunMergePatch(
          { apiVersion: 'v1', kind: 'Namespace', name: e.namespace },
          { metadata: { labels: { [ENFORCE]: e.level, [ENFORCE_VERSION]: e.version } } },
          signal,
        );
        for (const w of res.warnings) if (SERVER_VIOLATION.test(w)) violators.push(`API server: ${w}`);
      } catch (error) {
        if (!isClusterError(error)) throw error;
        violators.push(`the API server's check could not run: ${error.message}`);
      }
    }
    if (violators.length) {
      out.push({
        change: e.change,
        reason: `enforcing ${e.level}:${e.version} on namespace ${e.namespace} would reject pods of: ${violators.join('; ')}`,
      });
    }
  }
  return out;
}

/** The namespaces a plan's changes touch (a Namespace's own name, or the target's namespace). */
function touchedNamespaces(plan: Plan): string[] {
  const names = new Set<string>();
  for (const c of plan.changes) {
    if (!c.target) continue;
    if (c.target.kind === 'Namespace' && !c.target.namespace) names.add(c.target.name);
    else if (c.target.namespace) names.add(c.target.namespace);
  }
  return [...names].sort();
}

/**
 * Run each step's `verify` over its applied changes (read-only: e.g. FailedCreate after enforce), as the wizard
 * does after applying. The context's snapshot covers the namespaces the plan touched, read after the writes.
 */
export async function verifyApplied(
  reader: ClusterReader,
  plan: Plan,
  report: ApplyReport,
  steps: readonly Step<never>[],
  options: StepOptions,
  signal: AbortSignal,
  probe?: PodProbe,
): Promise<Record<string, Verification>> {
  return verifyRun(steps, plan, report.outcomes, async () => {
    const snapshot = await snapshotOf(reader, touchedNamespaces(plan), signal);
    return {
      snapshot,
      assessment: assess(snapshot, { now: options.now }),
      reader,
      options,
      signal,
      ...(probe ? { probe } : {}),
    };
  });
}
