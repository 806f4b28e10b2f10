/**
 * Ask the API server what its admission chain says about objects, without writing anything: each probe is sent
 * as a server-side apply with `dryRun=All` (ClusterReader.dryRunApply), and what comes back — the `Warning`
 * headers of an admitted request, or the message of a refused one — is returned as text for the caller to read.
 * The same mechanism psa-enforce uses with the namespace label (the Pod Security "existing pods … violate"
 * warnings): here generalised to a list of probes, at most `concurrency` in flight (the transport's rate limit
 * and concurrency gate still apply to each request).
 *
 * Used by registries-enforce to cross-check kube-harden's evaluation with the admission policy in place
 * (src/policy/registries/xcheck.ts). A request that fails for any other reason is returned as `error`: the
 * caller decides (unknown is not compliant).
 */
import { isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { buildSnapshot } from '../inventory/build.js';
import type { Snapshot } from '../inventory/types.js';
import { Kinds } from '../k8s/kinds.js';
import type { KubeObject } from '../k8s/types.js';
import {
  allowListOfExpression,
  type CrossCheck,
  compareProbes,
  deniedImages,
  describeDenied,
  describeDisagreement,
  POLICY_NAME,
  registryProbes,
  unknownImagesIn,
} from '../policy/registries/index.js';
import type { PlannedChange } from './types.js';

export type DryRunAnswer =
  /** Admitted: the `Warning` headers. */
  | { admitted: true; warnings: string[] }
  /** Refused by admission (403/422 with a message) or failed: the server's message and any warnings. */
  | { admitted: false; message: string; warnings: string[]; reason: string };

/** Default in-flight probes: a cross-check must not crowd out the rest of a run on a shared API server. */
export const PROBE_CONCURRENCY = 4;

/** Dry-run each probe (field manager kube-harden, never forced); answers in the order of `probes`. */
export async function dryRunProbes(
  reader: ClusterReader,
  probes: readonly KubeObject[],
  options: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<DryRunAnswer[]> {
  const answers: DryRunAnswer[] = new Array(probes.length);
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const i = next++;
      const probe = probes[i] as KubeObject;
      try {
        const res = await reader.dryRunApply(probe, {
          fieldManager: 'kube-harden',
          ...(options.signal ? { signal: options.signal } : {}),
        });
        answers[i] = { admitted: true, warnings: res.warnings };
      } catch (error) {
        if (!isClusterError(error)) throw error;
        answers[i] = {
          admitted: false,
          message: error.serverMessage ?? error.message,
          warnings: error.warnings,
          reason: error.reason,
        };
      }
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? PROBE_CONCURRENCY, probes.length));
  await Promise.all(Array.from({ length: n }, worker));
  return answers;
}

// ---- Phase 5: the registries policy in place, asked about each workload's images -----------------------------

/**
 * How the policy in place acts, and since when it has been acting so with this allow-list (registries-enforce's
 * soak: deny follows a time of warnings from real traffic). Absent when the policy in place was not read.
 */
export interface WarnState {
  /** How kube-harden's binding (or the engine's policy) acts now. */
  action?: 'Warn' | 'Deny';
  /** Since when (RFC 3339) kube-harden's objects have been as they are (warnSinceOf); absent when not known. */
  warnSince?: string;
}

/** The cross-check with the API server: what it answered, or why it was not run (and whether that blocks). */
export type RegistryServerCheck = (
  | ({ ran: true } & CrossCheck)
  | { ran: false; reason: string; blocks: boolean }
) &
  WarnState;

/** The field manager whose writes start the soak (src/engine/apply.ts writes as it). */
const MANAGER = 'kube-harden';

/**
 * Since when the objects kube-harden wrote have been as they are, read from the live objects (not the journal,
 * which another machine may hold): for each object, the latest `time` of kube-harden's managedFields entries
 * (the server moves it only when kube-harden's apply changes something: a no-op apply keeps it), else its
 * creationTimestamp; then the latest over the objects. Undefined when none of them says.
 */
export function warnSinceOf(objects: readonly (KubeObject | undefined)[]): string | undefined {
  let latest: { at: number; text: string } | undefined;
  for (const o of objects) {
    if (!o) continue;
    const times = (o.metadata.managedFields ?? [])
      .filter((e) => e.manager === MANAGER && !e.subresource && typeof e.time === 'string')
      .map((e) => e.time as string);
    const candidates = times.length
      ? times
      : o.metadata.creationTimestamp
        ? [o.metadata.creationTimestamp]
        : [];
    for (const text of candidates) {
      const at = Date.parse(text);
      if (Number.isFinite(at) && (!latest || at > latest.at)) latest = { at, text };
    }
  }
  return latest?.text;
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** The allow-list held by a ValidatingAdmissionPolicy kube-harden wrote (its `allowed` variable), if any. */
export function allowListOf(policy: KubeObject | undefined): string[] | undefined {
  const variables = (
    policy as { spec?: { variables?: Array<{ name?: string; expression?: unknown }> } } | undefined
  )?.spec?.variables;
  const v = Array.isArray(variables) ? variables.find((x) => x?.name === 'allowed') : undefined;
  return typeof v?.expression === 'string' ? allowListOfExpression(v.expression) : undefined;
}

/** How a binding acts: `Deny` before `Warn`; undefined when absent or neither. */
function actionOf(binding: KubeObject | undefined): 'Warn' | 'Deny' | undefined {
  const actions = (binding as { spec?: { validationActions?: unknown } } | undefined)?.spec
    ?.validationActions;
  if (!Array.isArray(actions)) return undefined;
  return actions.includes('Deny') ? 'Deny' : actions.includes('Warn') ? 'Warn' : undefined;
}

/**
 * Cross-check kube-harden's verdicts under `entries` over the workloads of `namespaces` in `snapshot` with the
 * registries policy in place (src/policy/registries/xcheck.ts): one dry-run probe per top-level workload. Not
 * run offline (not blocking: there is no server), nor when the policy or its binding is missing, unreadable or
 * holds another allow-list (blocking: the server can only judge the list it runs).
 */
export async function crossCheckRegistries(
  reader: ClusterReader,
  snapshot: Snapshot,
  namespaces: readonly string[],
  entries: readonly string[],
  signal?: AbortSignal,
): Promise<RegistryServerCheck> {
  if (!reader.capabilities.dryRun)
    return {
      ran: false,
      blocks: false,
      reason:
        'offline (no API server to ask); it runs when registries-enforce is planned against the cluster',
    };
  if (namespaces.length === 0 || entries.length === 0)
    return { ran: false, blocks: false, reason: 'nothing to check' };
  const read = async (kind: 'ValidatingAdmissionPolicy' | 'ValidatingAdmissionPolicyBinding') =>
    (await reader.get({ apiVersion: Kinds[kind].apiVersion, kind, name: POLICY_NAME }, signal)).value;
  let binding: KubeObject | undefined;
  let policy: KubeObject | undefined;
  try {
    binding = await read('ValidatingAdmissionPolicyBinding');
    policy = await read('ValidatingAdmissionPolicy');
  } catch (error) {
    if (!isClusterError(error)) throw error;
    return {
      ran: false,
      blocks: true,
      reason: `the policy ${POLICY_NAME} or its binding could not be read (${error.message})`,
    };
  }
  const action = actionOf(binding);
  if (!action)
    return {
      ran: false,
      blocks: true,
      reason: `registries-warn's binding is not in place: the API server can only judge the policy it runs, so apply registries-warn first (then plan registries-enforce)`,
    };
  const live = allowListOf(policy);
  if (!live)
    return {
      ran: false,
      blocks: true,
      reason: `the policy ${POLICY_NAME} in place holds no allow-list kube-harden wrote`,
    };
  if (!sameList(live, entries))
    return {
      ran: false,
      blocks: true,
      reason: `the policy in place allows ${live.join(', ')}, not ${entries.join(', ')}: the API server can only judge the list it runs, so ${
        action === 'Warn'
          ? 'apply registries-warn with this allow-list first'
          : 'put the new list in place in warn mode first (undo the enforce run, then apply registries-warn with it)'
      }`,
    };
  const warnSince = warnSinceOf([policy, binding]);
  const probes = registryProbes(snapshot, new Set(namespaces));
  const answers = await dryRunProbes(
    reader,
    probes.map((p) => p.object),
    signal ? { signal } : {},
  );
  return {
    ran: true,
    action,
    ...(warnSince ? { warnSince } : {}),
    ...compareProbes(
      probes,
      answers.map((a) =>
        a.admitted
          ? { texts: a.warnings }
          : {
              texts: [...a.warnings, a.message],
              ...(a.message.includes(`'${POLICY_NAME}'`) ? {} : { error: `${a.reason}: ${a.message}` }),
            },
      ),
      live,
    ),
  };
}

/** Why the server's cross-check blocks deny, or undefined. */
export function serverBlocks(server: RegistryServerCheck): string | undefined {
  if (!server.ran)
    return server.blocks ? `the API server's cross-check was not run: ${server.reason}` : undefined;
  const out: string[] = [];
  if (server.disagreements.length)
    out.push(
      `kube-harden's evaluation and the API server's dry-run of the policy in place disagree on ${server.disagreements.length} image use(s) (see the findings)`,
    );
  if (server.unchecked.length)
    out.push(
      `the API server's cross-check could not judge ${server.unchecked.reduce((n, u) => n + u.workloads.length, 0)} workload(s) (unknown is not compliant)`,
    );
  if (server.deniedByServer.length && !server.disagreements.length)
    out.push(`the API server's dry-run would deny ${server.deniedByServer.length} image use(s) too`);
  return out.length ? out.join('; ') : undefined;
}

/** The namespaces a binding kube-harden wrote covers among `names` (undefined: a selector it did not write). */
function coveredBy(binding: KubeObject, names: readonly string[]): string[] | undefined {
  const selector = (
    binding as { spec?: { matchResources?: { namespaceSelector?: Record<string, unknown> } } }
  ).spec?.matchResources?.namespaceSelector;
  if (!selector || Object.keys(selector).length === 0) return [...names];
  const exprs = selector.matchExpressions as
    | Array<{ key?: string; operator?: string; values?: string[] }>
    | undefined;
  const e = exprs?.[0];
  if (Object.keys(selector).length !== 1 || exprs?.length !== 1 || e?.key !== 'kubernetes.io/metadata.name')
    return undefined;
  if (e.operator === 'In') return names.filter((n) => e.values?.includes(n));
  if (e.operator === 'NotIn') return names.filter((n) => !e.values?.includes(n));
  return undefined;
}

/**
 * At apply time (`apply --plan`), a registries deny binding is only as safe as the namespaces are now: re-run
 * registries-enforce's gate — kube-harden's evaluation of a fresh inventory of the namespaces it covers, and the
 * API server's cross-check — and return why it must be refused, or undefined.
 */
export async function recheckRegistryDeny(
  reader: ClusterReader,
  change: PlannedChange,
  changes: readonly PlannedChange[],
  signal?: AbortSignal,
): Promise<string | undefined> {
  const binding = change.desired;
  if (
    change.kind !== 'apply' ||
    binding?.kind !== 'ValidatingAdmissionPolicyBinding' ||
    binding.metadata.name !== POLICY_NAME ||
    actionOf(binding) !== 'Deny'
  )
    return undefined;
  const planned = changes.find(
    (c) =>
      c.kind === 'apply' &&
      c.desired?.kind === 'ValidatingAdmissionPolicy' &&
      c.desired.metadata.name === POLICY_NAME,
  )?.desired;
  let entries = allowListOf(planned);
  if (!entries) {
    try {
      entries = allowListOf(
        (
          await reader.get(
            {
              apiVersion: Kinds.ValidatingAdmissionPolicy.apiVersion,
              kind: 'ValidatingAdmissionPolicy',
              name: POLICY_NAME,
            },
            signal,
          )
        ).value,
      );
    } catch (error) {
      if (!isClusterError(error)) throw error;
    }
  }
  if (!entries) return `the allow-list of ${POLICY_NAME} is not known (unknown is not compliant)`;
  // A binding on named namespaces: only those are read; otherwise every namespace.
  const spec = (binding as { spec?: { matchResources?: { namespaceSelector?: Record<string, unknown> } } })
    .spec;
  const exprs = spec?.matchResources?.namespaceSelector?.matchExpressions as
    | Array<{ operator?: string; values?: string[] }>
    | undefined;
  const only = exprs?.length === 1 && exprs[0]?.operator === 'In' ? (exprs[0].values ?? []) : [];
  const snapshot = await buildSnapshot(reader, { namespaces: only, ...(signal ? { signal } : {}) });
  const namespaces = coveredBy(
    binding,
    snapshot.namespaces.filter((n) => !n.terminating).map((n) => n.name),
  );
  if (!namespaces)
    return 'its namespaceSelector is not one kube-harden writes: the namespaces it covers are unknown';
  const reasons: string[] = [];
  for (const ns of namespaces) {
    const why = unknownImagesIn(snapshot, ns);
    if (why) reasons.push(why);
  }
  const denied = deniedImages(snapshot, new Set(namespaces), entries);
  if (denied.length) reasons.push(`would deny: ${denied.map(describeDenied).join('; ')}`);
  const server = await crossCheckRegistries(reader, snapshot, namespaces, entries, signal);
  const blocked = serverBlocks(server);
  if (blocked) reasons.push(blocked);
  if (server.ran) for (const d of server.disagreements) reasons.push(describeDisagreement(d));
  return reasons.length
    ? `denying images outside ${entries.join(', ')} now: ${reasons.join('; ')}`
    : undefined;
}
