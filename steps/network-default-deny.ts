/**
 * Phase 3: default-deny networking (issue 11). Every application namespace (infrastructure only when chosen,
 * system never unless forced) gets a default deny for each direction not already denied, plus the allows that keep
 * DNS, the API server, ingress backends, admission webhooks, monitoring and (by choice) same-namespace traffic
 * working. The planner (src/policy/netpol/) decides everything; this step picks the namespaces, turns each desired
 * policy into one change and says loudly when the CNI does not enforce NetworkPolicy (the policies then have no
 * effect, and the phase is not done). Existing policies are never changed or deleted: kube-harden only adds.
 */

import type { Change, SettingSpec, Step, StepFinding, Verification } from '../src/engine/types.js';
import { inScope } from '../src/inventory/scope.js';
import {
  NAME_PREFIX,
  type NamespacePlan,
  type NetpolPlan,
  netpolInputFromSnapshot,
  noEffectWarning,
  type PolicyPurpose,
  planNetworkPolicies,
  type SameNamespace,
} from '../src/policy/netpol/index.js';
import { SYSTEM_NAMES, type Tier } from '../src/policy/tiers.js';
import { NETPOL_PURPOSE } from './kit/annotations.js';
import { finding } from './kit/findings.js';
import { parseChoice, settingOf } from './kit/settings.js';
import { renderObjectTemplate } from './kit/templates.js';

const YES_NO = ['yes', 'no'] as const;

export const SAME_NAMESPACE: SettingSpec<SameNamespace> = {
  key: 'network-default-deny.sameNamespace',
  flag: 'netpol-same-namespace',
  type: 'MODE',
  description:
    'traffic between pods of one namespace: namespace (all allowed) or isolated (only the Services found in it)',
  default: 'namespace',
  choices: ['namespace', 'isolated'],
  parse: parseChoice(['namespace', 'isolated'] as const),
  ask: {
    title: 'Traffic between pods of the same namespace',
    choices: {
      namespace: 'every pod may reach every pod of its namespace (default, safer)',
      isolated: 'only the Service edges found in it, besides DNS, API, ingress…',
    },
  },
};

export const INCLUDE_INFRASTRUCTURE: SettingSpec<'yes' | 'no'> = {
  key: 'network-default-deny.includeInfrastructure',
  flag: 'netpol-include-infrastructure',
  type: 'YES|NO',
  description: 'also default-deny infrastructure namespaces (ingress controllers, monitoring, …)',
  default: 'no',
  choices: YES_NO,
  parse: parseChoice(YES_NO),
};

export const FORCE_SYSTEM: SettingSpec<'yes' | 'no'> = {
  key: 'network-default-deny.forceSystemNamespaces',
  flag: 'netpol-force-system-namespaces',
  type: 'YES|NO',
  description:
    'also default-deny system namespaces (kube-system, the CNI): can break the cluster; a saved plan refuses these changes',
  default: 'no',
  choices: YES_NO,
  parse: parseChoice(YES_NO),
};

/** The note every change carries while the CNI does not enforce NetworkPolicy. */
export const NO_EFFECT_NOTE = 'has no effect until the CNI enforces NetworkPolicy';

export interface NetworkDenyFacts {
  plan: NetpolPlan;
  sameNamespace: SameNamespace;
  /** Namespaces in scope left out, and why (their tier). */
  skipped: Array<{ namespace: string; tier: Tier; reason: string }>;
}

const PURPOSES: readonly PolicyPurpose[] = [
  'default-deny',
  'dns',
  'apiserver',
  'same-namespace',
  'service',
  'ingress',
  'ingress-egress',
  'external',
  'webhook',
  'monitoring',
  'monitoring-egress',
];

function cniNote(plan: NetpolPlan): string | undefined {
  const e = plan.cni.enforcesNetworkPolicy;
  if (e === true) return undefined;
  return `${NO_EFFECT_NOTE}: the CNI (${plan.cni.cni}) ${e === false ? 'does not enforce it' : 'is not known to enforce it'}`;
}

export const networkDefaultDeny: Step<NetworkDenyFacts> = {
  id: 'network-default-deny',
  phase: 3,
  title: 'Default-deny NetworkPolicies',
  summary:
    'deny ingress and egress by default in application namespaces, keeping DNS, the API server, ingress, webhooks and monitoring working',
  risk: 'disruptive',
  settings: [SAME_NAMESPACE, INCLUDE_INFRASTRUCTURE, FORCE_SYSTEM],
  targets: [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      operations: ['create', 'update'],
      onlyNames: [`${NAME_PREFIX}*`],
      // Static rules cannot follow --netpol-force-system-namespaces: forced changes apply from the wizard only.
      neverNamespaces: SYSTEM_NAMES,
      labels: {},
      annotations: { [NETPOL_PURPOSE]: { oneOf: PURPOSES } },
      subtrees: ['spec.podSelector', 'spec.policyTypes', 'spec.ingress', 'spec.egress'],
    },
  ],

  permissions(options, snapshot) {
    const names = snapshot.namespaces.map((n) => n.name).filter((n) => inScope(options, n));
    return names.flatMap((namespace) => [
      { verb: 'create', group: 'networking.k8s.io', resource: 'networkpolicies', namespace },
      { verb: 'patch', group: 'networking.k8s.io', resource: 'networkpolicies', namespace },
    ]);
  },

  async detect(ctx) {
    const { assessment, snapshot, options } = ctx;
    const sameNamespace = settingOf(SAME_NAMESPACE, options) as SameNamespace;
    const infra = settingOf(INCLUDE_INFRASTRUCTURE, options) === 'yes';
    const system = settingOf(FORCE_SYSTEM, options) === 'yes';
    const findings: StepFinding[] = [];
    const skipped: NetworkDenyFacts['skipped'] = [];
    const namespaces: string[] = [];
    for (const posture of assessment.namespaces) {
      if (!inScope(options, posture.name) || posture.terminating) continue;
      if (posture.tier === 'system' && !system) {
        skipped.push({
          namespace: posture.name,
          tier: posture.tier,
          reason: 'system namespace: never default-denied unless --netpol-force-system-namespaces yes',
        });
        continue;
      }
      if (posture.tier === 'infrastructure' && !infra) {
        skipped.push({
          namespace: posture.name,
          tier: posture.tier,
          reason: 'infrastructure namespace: included with --netpol-include-infrastructure yes',
        });
        continue;
      }
      if (posture.unreadable) {
        findings.push(
          finding(
            'KH-UNKNOWN',
            { kind: 'Namespace', name: posture.name },
            `namespace ${posture.name} could not be read, so no NetworkPolicy is proposed (unknown is not compliant)`,
          ),
        );
        continue;
      }
      namespaces.push(posture.name);
    }
    const plan = planNetworkPolicies(netpolInputFromSnapshot(snapshot), { namespaces, sameNamespace });

    const cni = plan.cni;
    const cniTarget = { kind: 'Cluster', name: cni.cni };
    const evidence = cni.evidence.length ? ` (${cni.evidence.join('; ')})` : '';
    const [control, verdict] =
      cni.enforcesNetworkPolicy === true
        ? (['KH-NET-CNI', 'enforces NetworkPolicy'] as const)
        : cni.enforcesNetworkPolicy === false
          ? ([
              'KH-NET-CNI-NO-NETPOL',
              `does not enforce NetworkPolicy: the policies of this step ${NO_EFFECT_NOTE}`,
            ] as const)
          : ([
              'KH-NET-CNI-UNKNOWN',
              `is not known to enforce NetworkPolicy: the policies of this step may have no effect (they ${NO_EFFECT_NOTE})`,
            ] as const);
    findings.push(finding(control, cniTarget, `the CNI ${cni.cni} ${verdict}${evidence}`));

    for (const ns of plan.namespaces) {
      const target = { kind: 'Namespace', name: ns.namespace };
      if (ns.existing.ingress === 'unknown' || ns.existing.egress === 'unknown') {
        findings.push(
          finding(
            'KH-UNKNOWN',
            target,
            `namespace ${ns.namespace}: ${ns.refusals.join('; ') || 'its NetworkPolicies could not be read'} (unknown is not compliant)`,
          ),
        );
        continue;
      }
      for (const d of ['ingress', 'egress'] as const) {
        if (ns.existing[d] === 'denied') continue;
        const refused = ns.refusals.filter((r) => r.startsWith(`${d} not denied`));
        findings.push(
          finding(
            d === 'ingress' ? 'KH-NET-NO-DEFAULT-DENY-INGRESS' : 'KH-NET-NO-DEFAULT-DENY-EGRESS',
            target,
            `namespace ${ns.namespace} has no default-deny ${d}${ns.existing[d] === 'open' ? ' (an all-pods policy allows all of it)' : ''}${
              refused.length ? `; not proposed: ${refused.join('; ')}` : ns.denied[d] ? '; proposed' : ''
            }`,
          ),
        );
      }
    }
    return { facts: { plan, sameNamespace, skipped }, findings };
  },

  propose(facts) {
    const changes: Change[] = [];
    const loud = cniNote(facts.plan);
    for (const ns of facts.plan.namespaces) {
      ns.policies.forEach((p, i) => {
        const envelope = renderObjectTemplate('netpol/network-policy.yaml', {
          name: p.name,
          namespace: p.namespace,
          purpose: p.purpose,
        });
        const desired = { ...envelope, spec: structuredClone(p.object.spec) };
        const notes: string[] = [];
        if (loud) notes.push(loud);
        // The namespace's own notes and refusals once, on its first change (the default deny when there is one).
        if (i === 0) notes.push(...namespaceNotes(ns));
        changes.push({
          kind: 'apply',
          id: `network-default-deny/${p.namespace}/${p.name}`,
          target: {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            namespace: p.namespace,
            name: p.name,
          },
          desired,
          risk: 'disruptive',
          reason: p.explanation,
          notes,
        });
      });
    }
    return changes;
  },

  explain(facts, changes) {
    const namespaces = new Set(changes.map((c) => (c.kind === 'apply' ? c.target.namespace : undefined)));
    const loud = cniNote(facts.plan);
    const warnings = facts.plan.warnings.length ? ` ${facts.plan.warnings.join(' ')}` : '';
    const warning = noEffectWarning(facts.plan.cni);
    return {
      why: `${warning ? `WARNING: ${warning}. ` : ''}Without a default deny every pod accepts traffic from and sends traffic to anywhere. Each namespace in scope gets a deny for every direction no existing all-pods policy denies, plus allows for DNS (the pods behind the cluster DNS Service, on their real ports), the API server (for workloads that use it), ingress controllers, admission webhooks, monitoring and same-namespace traffic (${facts.sameNamespace}). Existing policies are never changed.${warnings}`,
      impact: `${changes.length} NetworkPolicy object(s) in ${namespaces.size} namespace(s). Traffic not allowed above is dropped${loud ? ' once the CNI enforces NetworkPolicy' : ''}: calls to Services in other namespaces and to the internet stop unless allowed. Infrastructure namespaces are ${facts.skipped.some((s) => s.tier === 'infrastructure') ? 'left out (--netpol-include-infrastructure yes)' : 'included when in scope'}; system namespaces are never denied unless forced.`,
      rollback:
        'kube-harden undo RUN_ID deletes the NetworkPolicies this run created (and restores any it updated); traffic flows as before at once.',
    };
  },

  noEffect: (assessment) => assessment.cni.noEffect,

  /**
   * Without `--probe`: says plainly that DNS was not probed. With it: one short-lived probe Pod per namespace the
   * run changed (templates/netpol/dns-probe-pod.yaml) resolves a name over UDP and TCP. Succeeded → ok; Failed →
   * a problem (apply prints the undo command); never ran (Pending: no scheduler or node, image pull, …), refused
   * or unreadable → unknown, neither ok nor a failure. The probe Pod is always deleted.
   */
  async verify(ctx, applied): Promise<Verification> {
    const policies = applied.filter((a) => a.change.kind === 'apply');
    const namespaces = [
      ...new Set(policies.map((a) => a.change.target?.namespace).filter((n): n is string => !!n)),
    ].sort();
    const inPlace = `${policies.length} NetworkPolicy object(s) in place in ${namespaces.join(', ')}.`;
    const probe = ctx.probe;
    if (!probe)
      return {
        ok: true,
        messages: [
          `${inPlace} DNS was not probed (use --probe): check that pods still resolve names (e.g. kubectl exec … -- nslookup kubernetes.default), or undo this run.`,
        ],
      };
    const messages = [inPlace];
    let failed = false;
    let unknown = false;
    const stamp = Date.now().toString(36);
    for (const namespace of namespaces) {
      const name = `${NAME_PREFIX}dns-probe-${stamp}`;
      const pod = renderObjectTemplate('netpol/dns-probe-pod.yaml', {
        name,
        namespace,
        image: probe.image,
        lookup: PROBE_LOOKUP,
        deadlineSeconds: Math.max(1, Math.ceil(probe.timeoutMs / 1000)),
      });
      const r = await probe.run(pod, ctx.signal);
      const where = `${namespace}: probe Pod ${name} (${probe.image})`;
      if (r.phase === 'Succeeded') messages.push(`${where}: ${PROBE_LOOKUP} resolves over UDP and TCP.`);
      else if (r.phase === 'Failed') {
        failed = true;
        messages.push(`${where}: DNS FAILED: ${r.detail}`);
      } else {
        unknown = true;
        messages.push(
          `${where}: probe could not run (${r.phase === 'NotCreated' ? 'not created' : r.phase}: ${r.detail}): DNS is unknown here.`,
        );
      }
      if (!r.deleted) {
        failed = true;
        messages.push(
          `${where}: could not be deleted; delete it: kubectl delete pod --namespace ${namespace} ${name}`,
        );
      }
      if (ctx.signal.aborted) break;
    }
    return { ok: !failed && !unknown, messages, ...(unknown && !failed ? { unknown: true } : {}) };
  },
};

/** The name the DNS probe resolves (through the pod's search path: `kubernetes.default.svc.<cluster domain>`). */
export const PROBE_LOOKUP = 'kubernetes.default';

function namespaceNotes(ns: NamespacePlan): string[] {
  return [...ns.refusals.map((r) => `not proposed: ${r}`), ...ns.notes];
}
