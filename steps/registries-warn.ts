/**
 * Phase 5, first half (issue 13): trusted image sources, warned about. One ValidatingAdmissionPolicy
 * (templates/registries/policy.yaml) admits only images from the allow-list — exact host and port, a path only at a
 * `/` boundary, Docker Hub short names normalised — in Pods (containers, init and ephemeral containers, including
 * the pods/ephemeralcontainers subresource) and the pod templates of every workload kind; its binding acts with
 * [Warn, Audit]: nothing is refused, clients get a Warning and the audit log records it. The allow-list defaults
 * to the registries in use; registries-enforce later turns the same binding into [Deny, Audit].
 */

import type { Step, StepFinding, Verification } from '../src/engine/types.js';
import { Kinds } from '../src/k8s/kinds.js';
import { describeDenied } from '../src/policy/registries/index.js';
import { finding } from './kit/findings.js';
import {
  ALLOW_REGISTRY,
  describeInUse,
  detectRegistries,
  INCLUDE_SYSTEM,
  nativeVerify,
  POLICY_NAME,
  REGISTRY_ENGINE,
  type RegistryFacts,
  registryChanges,
  registryPermissions,
  registryTargets,
} from './kit/registries.js';

export const registriesWarn: Step<RegistryFacts> = {
  id: 'registries-warn',
  phase: 5,
  title: 'Trusted registries: warn',
  summary: 'warn and audit when a Pod or workload uses an image from outside the allowed registries',
  risk: 'low',
  settings: [ALLOW_REGISTRY, INCLUDE_SYSTEM, REGISTRY_ENGINE],
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
    if (facts.current === undefined)
      findings.push(
        finding(
          'KH-IMAGE-REGISTRY-UNRESTRICTED',
          { kind: 'Cluster', name: 'admission' },
          `no kube-harden admission policy restricts image registries${facts.allow.entries.length ? ` (proposed allow-list: ${facts.allow.entries.join(', ')})` : ''}`,
        ),
      );
    for (const d of facts.denied)
      findings.push(
        finding(
          'KH-IMAGE-UNTRUSTED-REGISTRY',
          { kind: d.kind, namespace: d.namespace, name: d.name },
          describeDenied(d),
        ),
      );
    if (facts.current === 'unknown')
      findings.push(
        finding(
          'KH-UNKNOWN',
          { kind: 'ValidatingAdmissionPolicyBinding', name: POLICY_NAME },
          "kube-harden's registries binding could not be read, so no warn binding is proposed (it could loosen a deny)",
        ),
      );
    for (const u of facts.unknown)
      findings.push(
        finding(
          'KH-UNKNOWN',
          { kind: 'Namespace', name: u.namespace },
          `${u.reason}: its images are unknown (unknown is not compliant)`,
        ),
      );
    return { facts, findings };
  },

  propose(facts) {
    // Never loosen: once the binding denies, warn proposes nothing (registries-enforce keeps the policy).
    if (
      facts.current === 'Deny' ||
      facts.current === 'unknown' ||
      facts.scope.namespaces.length === 0 ||
      facts.allow.entries.length === 0
    )
      return [];
    return registryChanges('registries-warn', facts, 'Warn', 'low');
  },

  explain(facts, changes) {
    const n = facts.denied.length;
    return {
      why: `Any image from any registry runs today: a typo-squatted or look-alike registry, a Docker Hub short name or an untrusted init or ephemeral container is admitted like the rest. The policy admits only images whose registry host (port included) and optional repository prefix are on the allow-list, normalised the way the container runtime does (nginx = docker.io/library/nginx), in Pods and every workload template. It starts in warn and audit mode.${
        facts.current === 'Deny'
          ? ' The binding already denies: nothing to do here (registries-enforce keeps the policy up to date).'
          : ''
      }${facts.allow.entries.length === 0 ? ' No registry is in use in the namespaces covered: name the trusted ones with --allow-registry HOST[/PATH].' : ''}${
        facts.engine.blocked ? ` Not proposed: ${facts.engine.blocked}.` : ''
      }`,
      impact: changes.length
        ? `Nothing is refused. Creating or updating a Pod or workload with an image outside ${facts.allow.entries.join(', ')} returns a Warning naming the policy and is recorded in the audit log. ${
            n
              ? `${n} image use(s) running today would be warned about (see the findings).`
              : 'Nothing running today would be warned about.'
          } Registries in use: ${describeInUse(facts) || 'none'}.`
        : 'No change.',
      rollback: 'kube-harden undo RUN_ID deletes the policy and its binding (or restores the previous ones).',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    return typeChecked(ctx, applied.length);
  },
};

/**
 * The API server type-checks a policy's CEL against every kind it matches and reports problems in
 * `status.typeChecking` (kube-controller-manager's policy status controller): any warning is reported.
 */
export async function typeChecked(
  ctx: Parameters<NonNullable<Step['verify']>>[0],
  applied: number,
): Promise<Verification> {
  if (applied === 0) return { ok: true, messages: [] };
  const native = await nativeVerify(ctx);
  if (native) return native;
  const got = await ctx.reader.get(
    {
      apiVersion: Kinds.ValidatingAdmissionPolicy.apiVersion,
      kind: 'ValidatingAdmissionPolicy',
      name: POLICY_NAME,
    },
    ctx.signal,
  );
  const status = (
    got.value as
      | { status?: { typeChecking?: { expressionWarnings?: Array<{ fieldRef: string; warning: string }> } } }
      | undefined
  )?.status;
  const warnings = status?.typeChecking?.expressionWarnings ?? [];
  if (warnings.length)
    return {
      ok: false,
      messages: warnings.map(
        (w) => `the API server's type check of ${POLICY_NAME} ${w.fieldRef}: ${w.warning}`,
      ),
    };
  return {
    ok: true,
    messages: [
      status?.typeChecking
        ? `${POLICY_NAME} is in place and its CEL type-checks`
        : `${POLICY_NAME} is in place (the API server has not reported its type check yet)`,
    ],
  };
}
