/**
 * Phase 2 (opt-in): resource protection. For each application namespace, a LimitRange (default requests, and a
 * default memory limit, for containers that set none) and a ResourceQuota sized from what runs there: the sum of
 * requests and memory limits over every replica (containers without them counted at the LimitRange defaults they
 * would get), plus headroom for rollouts and growth, shown in the reason. Opt-in (`--step resource-limits`): a
 * quota refuses pods beyond it, so its numbers deserve a look.
 *
 * The inventory does not read existing LimitRanges and ResourceQuotas: the change's notes say to check them
 * (several quotas all apply; the strictest wins).
 */
import type { Change, Step } from '../src/engine/types.js';
import { inScope } from '../src/inventory/scope.js';
import type { Workload } from '../src/inventory/types.js';
import { Kinds } from '../src/k8s/kinds.js';
import { SYSTEM_NAMES } from '../src/policy/tiers.js';
import { formatCpu, formatMemory, parseQuantity } from './kit/quantity.js';
import { renderObjectTemplate } from './kit/templates.js';

export const LIMIT_RANGE_NAME = 'kube-harden-defaults';
export const QUOTA_NAME = 'kube-harden-quota';
/** What the quota adds on top of today's sums (rollouts surge, growth). */
export const HEADROOM = 0.5;
/** The LimitRange defaults (and what a container without requests/limits counts as). */
export const DEFAULTS = {
  requestCpu: 0.1,
  requestMemory: 128 * 2 ** 20,
  limitMemory: 512 * 2 ** 20,
} as const;

export interface NamespaceSizing {
  name: string;
  workloads: number;
  /** Pods at full scale (replicas summed; DaemonSets at their running pods, at least 1). */
  pods: number;
  requestsCpu: number;
  requestsMemory: number;
  limitsMemory: number;
  /** Containers that set no request or no memory limit (counted at the defaults). */
  defaulted: number;
}

export interface ResourceFacts {
  namespaces: NamespaceSizing[];
}

function replicasOf(w: Workload): number {
  if (w.kind === 'DaemonSet') return Math.max(1, w.pods.length);
  if (w.kind === 'Pod' || w.kind === 'Job' || w.kind === 'CronJob') return 1;
  return w.replicas ?? 1;
}

export function sizeNamespace(name: string, workloads: readonly Workload[]): NamespaceSizing {
  const s: NamespaceSizing = {
    name,
    workloads: 0,
    pods: 0,
    requestsCpu: 0,
    requestsMemory: 0,
    limitsMemory: 0,
    defaulted: 0,
  };
  for (const w of workloads) {
    if (w.namespace !== name || !w.template) continue;
    const n = replicasOf(w);
    s.workloads++;
    s.pods += n;
    for (const c of w.template.spec.containers) {
      const cpu = parseQuantity(c.resources?.requests?.cpu);
      const mem = parseQuantity(c.resources?.requests?.memory);
      const memLimit = parseQuantity(c.resources?.limits?.memory);
      if (cpu === undefined || mem === undefined || memLimit === undefined) s.defaulted += n;
      // Kubernetes defaults a missing request to the limit, when a limit is set.
      s.requestsCpu += n * (cpu ?? parseQuantity(c.resources?.limits?.cpu) ?? DEFAULTS.requestCpu);
      s.requestsMemory += n * (mem ?? memLimit ?? DEFAULTS.requestMemory);
      s.limitsMemory += n * (memLimit ?? DEFAULTS.limitMemory);
    }
  }
  return s;
}

const withHeadroom = (v: number) => v * (1 + HEADROOM);

export const resourceLimits: Step<ResourceFacts> = {
  id: 'resource-limits',
  phase: 2,
  title: 'Resource limits and quotas',
  summary: 'a LimitRange (default requests and memory limit) and a ResourceQuota per application namespace',
  risk: 'disruptive',
  optIn: true,
  targets: [
    {
      apiVersion: Kinds.LimitRange.apiVersion,
      kind: 'LimitRange',
      operations: ['create', 'update'],
      onlyNames: [LIMIT_RANGE_NAME],
      neverNamespaces: SYSTEM_NAMES,
      labels: {},
      subtrees: ['spec.limits'],
    },
    {
      apiVersion: Kinds.ResourceQuota.apiVersion,
      kind: 'ResourceQuota',
      operations: ['create', 'update'],
      onlyNames: [QUOTA_NAME],
      neverNamespaces: SYSTEM_NAMES,
      labels: {},
      subtrees: ['spec.hard'],
    },
  ],

  permissions(options, snapshot) {
    return snapshot.namespaces
      .filter((n) => inScope(options, n.name))
      .flatMap((n) =>
        ['limitranges', 'resourcequotas'].flatMap((resource) =>
          ['create', 'patch'].map((verb) => ({ verb, group: '', resource, namespace: n.name })),
        ),
      );
  },

  async detect(ctx) {
    const { assessment, snapshot, options } = ctx;
    const namespaces = assessment.namespaces
      .filter(
        (n) =>
          n.tier === 'application' &&
          inScope(options, n.name) &&
          !n.terminating &&
          !n.synthesized &&
          !n.unreadable,
      )
      .map((n) => sizeNamespace(n.name, snapshot.workloads))
      .filter((s) => s.workloads > 0);
    return { facts: { namespaces }, findings: [] };
  },

  propose(facts) {
    const changes: Change[] = [];
    for (const s of facts.namespaces) {
      const hard = {
        requestsCpu: formatCpu(withHeadroom(s.requestsCpu)),
        requestsMemory: formatMemory(withHeadroom(s.requestsMemory)),
        limitsMemory: formatMemory(withHeadroom(s.limitsMemory)),
        pods: String(Math.ceil(withHeadroom(s.pods))),
      };
      const notes = [
        `kube-harden does not read existing LimitRanges and ResourceQuotas: check kubectl get limitrange,resourcequota -n ${s.name} (every quota applies; the strictest wins)`,
      ];
      changes.push({
        kind: 'apply',
        id: `resource-limits/limitrange/${s.name}`,
        target: { apiVersion: 'v1', kind: 'LimitRange', namespace: s.name, name: LIMIT_RANGE_NAME },
        desired: renderObjectTemplate('resources/limitrange.yaml', {
          name: LIMIT_RANGE_NAME,
          namespace: s.name,
          defaultRequestCpu: formatCpu(DEFAULTS.requestCpu),
          defaultRequestMemory: formatMemory(DEFAULTS.requestMemory),
          defaultLimitMemory: formatMemory(DEFAULTS.limitMemory),
        }),
        risk: 'low',
        reason: `containers created without requests get ${formatCpu(DEFAULTS.requestCpu)} CPU and ${formatMemory(DEFAULTS.requestMemory)} memory, and a ${formatMemory(DEFAULTS.limitMemory)} memory limit (${s.defaulted} running container replica(s) set none today)`,
        notes,
      });
      changes.push({
        kind: 'apply',
        id: `resource-limits/resourcequota/${s.name}`,
        target: { apiVersion: 'v1', kind: 'ResourceQuota', namespace: s.name, name: QUOTA_NAME },
        desired: renderObjectTemplate('resources/resourcequota.yaml', {
          name: QUOTA_NAME,
          namespace: s.name,
          ...hard,
        }),
        risk: 'disruptive',
        reason: `sized from ${s.workloads} workload(s), ${s.pods} pod(s) at full scale: requests ${formatCpu(s.requestsCpu)} CPU / ${formatMemory(s.requestsMemory)} memory, memory limits ${formatMemory(s.limitsMemory)}; with ${HEADROOM * 100}% headroom: requests.cpu ${hard.requestsCpu}, requests.memory ${hard.requestsMemory}, limits.memory ${hard.limitsMemory}, pods ${hard.pods}. Pods beyond it are refused at creation.`,
        notes,
      });
    }
    return changes;
  },

  explain(facts, changes) {
    return {
      why: 'Without requests, limits and a quota, one workload can take a node’s memory or a namespace can take the cluster. A LimitRange gives containers that set nothing sane defaults; a ResourceQuota caps each application namespace near what it uses today.',
      impact: `${facts.namespaces.length} application namespace(s), ${changes.length} object(s). Running pods are not changed; new pods get the defaults, and pods beyond the quota are refused (FailedCreate) — including a rollout that needs more than the headroom.`,
      rollback:
        'kube-harden undo RUN_ID deletes the LimitRanges and ResourceQuotas it created (pods created meanwhile keep their defaulted resources).',
    };
  },
};
