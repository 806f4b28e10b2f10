/**
 * Namespace tiers. The tier decides the Pod Security level phase 2 enforces (system=privileged,
 * infrastructure=baseline, application=restricted) and whether phase 3 adds default-deny.
 *
 * Decided by, first match wins:
 * 1. the config file (`tiers:`) — the operator's file is authoritative;
 * 2. the namespace label `kube-harden.io/tier` (an invalid value is ignored, and said so);
 * 3. well-known system names, and namespaces running the CNI or control-plane components;
 * 4. well-known infrastructure names (ingress controllers, monitoring, logging, cert-manager, service meshes,
 *    storage drivers, policy engines, GitOps, …), then `app.kubernetes.io/{name,instance,part-of}` labels naming
 *    such a product;
 * 5. otherwise application.
 */
import type { NamespaceInfo } from '../inventory/types.js';
import { configuredTier, type KubeHardenConfig, matchesGlob, TIERS, type Tier } from './config.js';
import type { Finding } from './findings.js';
import type { Level } from './pss/index.js';

export type { Tier } from './config.js';

export const TIER_LABEL = 'kube-harden.io/tier';

/** The Pod Security level phase 2 enforces per tier. */
export const TIER_TARGET_LEVEL: Readonly<Record<Tier, Level>> = Object.freeze({
  system: 'privileged',
  infrastructure: 'baseline',
  application: 'restricted',
});

export type TierSource = 'config' | 'label' | 'builtin' | 'default';

export interface TierDecision {
  tier: Tier;
  source: TierSource;
  /** Why, for people: `config kube-harden.yaml:7 (monitoring)`, `well-known name`, … */
  reason: string;
}

export const SYSTEM_NAMES: readonly string[] = [
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'calico-system',
  'calico-apiserver',
  'tigera-operator',
  'cilium',
  'cilium-system',
  'kube-flannel',
  'antrea-system',
  'weave',
  'gke-managed-*',
  'openshift-*',
];

export const INFRASTRUCTURE_NAMES: readonly string[] = [
  // ingress and gateways
  'ingress-nginx',
  'nginx-ingress',
  'ingress',
  'ingress-controller',
  'traefik',
  'kong',
  'haproxy-controller',
  'projectcontour',
  'contour',
  'envoy-gateway-system',
  'gateway-system',
  // monitoring, logging, tracing
  'monitoring',
  'prometheus',
  'kube-prometheus-stack',
  'observability',
  'grafana',
  'loki',
  'tempo',
  'jaeger',
  'logging',
  'elastic-system',
  'fluent-bit',
  'fluentd',
  'opentelemetry-operator-system',
  'metrics-server',
  // certificates, secrets, DNS, load balancers
  'cert-manager',
  'external-secrets',
  'sealed-secrets',
  'vault',
  'external-dns',
  'metallb-system',
  // service meshes
  'istio-system',
  'istio-ingress',
  'istio-gateway',
  'linkerd',
  'linkerd-viz',
  'linkerd-cni',
  'kuma-system',
  'consul',
  // storage drivers
  'longhorn-system',
  'rook-ceph',
  'openebs',
  'local-path-storage',
  'ceph-csi',
  'portworx',
  // policy engines and security
  'gatekeeper-system',
  'kyverno',
  'falco',
  'trivy-system',
  // delivery, backup, scaling
  'argocd',
  'flux-system',
  'velero',
  'keda',
];

/** Products whose name in `app.kubernetes.io/*` namespace labels marks an infrastructure namespace. */
const INFRASTRUCTURE_PRODUCTS: ReadonlySet<string> = new Set([
  'ingress-nginx',
  'traefik',
  'kong',
  'contour',
  'envoy-gateway',
  'prometheus',
  'kube-prometheus-stack',
  'grafana',
  'loki',
  'tempo',
  'jaeger',
  'fluent-bit',
  'fluentd',
  'opentelemetry-operator',
  'cert-manager',
  'external-secrets',
  'sealed-secrets',
  'vault',
  'external-dns',
  'metallb',
  'istio',
  'linkerd',
  'kuma',
  'consul',
  'longhorn',
  'rook-ceph',
  'openebs',
  'gatekeeper',
  'kyverno',
  'falco',
  'trivy-operator',
  'argocd',
  'argo-cd',
  'flux',
  'velero',
  'keda',
]);

const PRODUCT_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/part-of'];

export interface TierContext {
  config?: KubeHardenConfig;
  /** Namespaces where the CNI or control-plane components run (system by nature). */
  systemNamespaces?: ReadonlySet<string>;
}

/** The namespace name is one of the system namespaces (SYSTEM_NAMES, globs allowed). */
export function isSystemName(name: string): boolean {
  return SYSTEM_NAMES.some((p) => matchesGlob(p, name));
}

export function classifyNamespace(
  ns: Pick<NamespaceInfo, 'name' | 'labels'>,
  ctx: TierContext = {},
): TierDecision {
  const { name } = ns;
  if (ctx.config) {
    const hit = configuredTier(ctx.config, name);
    if (hit) {
      return { tier: hit.tier, source: 'config', reason: `${ctx.config.file}:${hit.line} (${hit.pattern})` };
    }
  }
  const label = ns.labels[TIER_LABEL];
  let invalid = '';
  if (label !== undefined) {
    if ((TIERS as readonly string[]).includes(label)) {
      return { tier: label as Tier, source: 'label', reason: `label ${TIER_LABEL}=${label}` };
    }
    invalid = ` (label ${TIER_LABEL}=${JSON.stringify(label)} ignored: not one of ${TIERS.join(', ')})`;
  }
  if (isSystemName(name)) {
    return { tier: 'system', source: 'builtin', reason: `well-known system namespace${invalid}` };
  }
  if (ctx.systemNamespaces?.has(name)) {
    return {
      tier: 'system',
      source: 'builtin',
      reason: `runs the CNI or control-plane components${invalid}`,
    };
  }
  if (INFRASTRUCTURE_NAMES.some((p) => matchesGlob(p, name))) {
    return {
      tier: 'infrastructure',
      source: 'builtin',
      reason: `well-known infrastructure namespace${invalid}`,
    };
  }
  for (const key of PRODUCT_LABELS) {
    const value = ns.labels[key];
    if (value !== undefined && INFRASTRUCTURE_PRODUCTS.has(value)) {
      return { tier: 'infrastructure', source: 'builtin', reason: `label ${key}=${value}${invalid}` };
    }
  }
  return {
    tier: 'application',
    source: 'default',
    reason: `not recognised as system or infrastructure${invalid}`,
  };
}

/** What a Pod Security finding in a namespace whose tier targets privileged says. */
export const EXPECTED_FOR_SYSTEM = 'expected for a system namespace';

/**
 * Pod Security findings ranked by what the namespace is for: in a namespace whose tier targets privileged (system:
 * the CNI, kube-proxy, CSI node plugins need host access), a violation is what the namespace is for, so it is info,
 * "expected for a system namespace"; the same workload in an application or infrastructure namespace stays a
 * finding at its control's severity. In place.
 */
export function rankPodSecurityByTier(findings: Finding[], tiers: ReadonlyMap<string, Tier>): void {
  for (const f of findings) {
    if (f.control !== 'KH-PSS-BASELINE' && f.control !== 'KH-PSS-RESTRICTED') continue;
    const tier = f.target.namespace === undefined ? undefined : tiers.get(f.target.namespace);
    if (tier === undefined || TIER_TARGET_LEVEL[tier] !== 'privileged') continue;
    f.severity = 'info';
    f.message = `${f.message} — ${EXPECTED_FOR_SYSTEM} (tier ${tier} targets privileged)`;
  }
}

/**
 * Whether a namespace exists only because an object names it: no manifest or API object declares it
 * (synthesized from a RoleBinding's or a List item's namespace) and no workload runs in it.
 */
export function onlyNamed(ns: NamespaceInfo, workloads: readonly unknown[] | undefined): boolean {
  return ns.synthesized === true && (workloads?.length ?? 0) === 0;
}
