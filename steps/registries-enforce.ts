/**
 * Phase 5, second half (issue 13): trusted image sources, enforced. The same policy as registries-warn with its
 * binding turned to [Deny, Audit] — proposed only when nothing in the namespaces covered would be denied today:
 * every live pod and every workload template is evaluated with the same rules as the policy's CEL
 * (src/policy/registries/). Otherwise it lists what would be denied and why.
 */

import type { Step, StepFinding, Verification } from '../src/engine/types.js';
import { describeDenied } from '../src/policy/registries/index.js';
import { finding } from './kit/findings.js';
import {
  detectRegistries,
  type RegistryFacts,
  registryChanges,
  registryPermissions,
  registryTargets,
} from './kit/registries.js';
import { typeChecked } from './registries-warn.js';

/** Why enforcing is not proposed, or undefined when it is. */
export function enforceBlocked(facts: RegistryFacts): string | undefined {
  if (facts.engine.blocked) return facts.engine.blocked;
  if (facts.scope.namespaces.length === 0) return 'no namespace is covered';
  if (facts.allow.entries.length === 0)
    return 'the allow-list is empty (name registries with --allow-registry)';
  if (facts.scope.wider)
    return `${facts.scope.wider}, which this run did not evaluate: plan registries-enforce over all of them`;
  if (facts.unknown.length)
    return `the images of ${facts.unknown.map((u) => u.namespace).join(', ')} are not all known (unknown is not compliant)`;
  if (facts.denied.length) return `${facts.denied.length} image use(s) running today would be denied`;
  return undefined;
}

export const registriesEnforce: Step<RegistryFacts> = {
  id: 'registries-enforce',
  phase: 5,
  title: 'Trusted registries: enforce',
  summary:
    'deny Pods and workloads whose images come from outside the allowed registries, once nothing running would be',
  risk: 'disruptive',
  // Lazy: the rules are derived from the rendered template, which is read on first use, not at import.
  get targets() {
    return registryTargets();
  },

  permissions(options, snapshot) {
    return registryPermissions(options, snapshot);
  },

  async detect(ctx) {
    const facts = await detectRegistries(ctx);
    const findings: StepFinding[] = [];
    const byNamespace = new Map<string, string[]>();
    for (const d of facts.denied)
      byNamespace.set(d.namespace, [...(byNamespace.get(d.namespace) ?? []), describeDenied(d)]);
    for (const [namespace, lines] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : 1)))
      findings.push(
        finding(
          'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
          { kind: 'Namespace', name: namespace },
          `namespace ${namespace} cannot deny images outside ${facts.allow.entries.join(', ')}: ${lines.join('; ')}`,
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
    return registryChanges('registries-enforce', facts, 'Deny', 'disruptive');
  },

  explain(facts, changes) {
    const blocked = enforceBlocked(facts);
    return {
      why: `Warnings do not stop an untrusted image. Deny mode refuses any Pod or workload whose containers, init or ephemeral containers use an image outside ${facts.allow.entries.join(', ') || 'the allow-list'}. It is proposed only when every running pod and every workload template in the namespaces covered passes, evaluated with the same rules as the policy.${
        blocked ? ` Not proposed: ${blocked}.` : ''
      }`,
      impact: changes.length
        ? 'New Pods, workloads and image changes outside the allow-list are refused (HTTP 403 naming the policy), so kubectl apply of such a workload fails at once. Running pods are not touched; updates that keep an image the object already had are still admitted, so rollouts away from an old image and scale-downs keep working.'
        : blocked
          ? `Nothing changes. What would be denied: ${facts.denied.slice(0, 20).map(describeDenied).join('; ')}${facts.denied.length > 20 ? `; … (${facts.denied.length - 20} more, see the findings)` : ''}`
          : 'No change.',
      rollback:
        'kube-harden undo RUN_ID restores the binding to [Warn, Audit] (or removes what this run created): images are admitted again at once.',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    return typeChecked(ctx, applied.length);
  },
};
