/**
 * Pod Security Admission namespace labels (kubernetes.io "Enforce Pod Security Standards with namespace labels"),
 * shared by the warn/audit, enforce and migrate steps.
 */
import type { ClusterReader } from '../../src/cluster/types.js';
import type { ObjectRule, ValueRule } from '../../src/engine/targets.js';
import type { ServerVersion } from '../../src/k8s/types.js';
import { compareLevels, type Level, NEWEST_POLICY_MINOR } from '../../src/policy/pss/index.js';
import { SYSTEM_NAMES } from '../../src/policy/tiers.js';

export const PSA_PREFIX = 'pod-security.kubernetes.io/';
export type PsaMode = 'enforce' | 'audit' | 'warn';

export function levelLabel(mode: PsaMode): string {
  return `${PSA_PREFIX}${mode}`;
}
export function versionLabel(mode: PsaMode): string {
  return `${PSA_PREFIX}${mode}-version`;
}

/** The version to pin: `--psa-version`, else the server's minor (`v1.36`), else the newest the evaluator knows. */
export function pinnedVersion(requested: string | undefined, server: ServerVersion | undefined): string {
  if (requested) return requested;
  if (server) return `v1.${server.minor}`;
  return `v1.${NEWEST_POLICY_MINOR}`;
}

/** The stricter of two levels. */
export function stricter(a: Level, b: Level): Level {
  return compareLevels(a, b) >= 0 ? a : b;
}

/**
 * Ask the API server what enforcing `level:version` on a namespace would say about its existing pods: a
 * server-side dry-run of the label change (nothing is persisted). Pod Security admission answers with `Warning`
 * headers ("existing pods in namespace … violate the new PodSecurity enforce level …"); it checks at most 3,000
 * pods in 1 s (pod-security-admission admission.go defaultNamespaceMaxPodsToCheck/defaultNamespacePodCheckTimeout).
 */
export async function dryRunEnforce(
  reader: ClusterReader,
  namespace: string,
  level: string,
  version: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const res = await reader.dryRunMergePatch(
    { apiVersion: 'v1', kind: 'Namespace', name: namespace },
    { metadata: { labels: { [levelLabel('enforce')]: level, [versionLabel('enforce')]: version } } },
    signal,
  );
  return res.warnings;
}

/** The warning of an enforce dry-run that means existing pods would be rejected. */
export const SERVER_VIOLATION = /violate the new PodSecurity enforce level/;

/**
 * What the Pod Security label steps may write (`Step.targets`): labels of the given modes on existing namespaces,
 * never on a system namespace, never `privileged` (they only ever tighten), plus the step's own annotations.
 */
export function psaNamespaceTargets(modes: PsaMode[], annotations: string[]): ObjectRule[] {
  const labels: Record<string, ValueRule> = {};
  for (const mode of modes) {
    labels[levelLabel(mode)] = { oneOf: ['baseline', 'restricted'] };
    labels[versionLabel(mode)] = { matches: /^(latest|v1\.\d{1,3})$/ };
  }
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      operations: ['update'],
      neverNames: SYSTEM_NAMES,
      labels,
      annotations: Object.fromEntries(annotations.map((a) => [a, { matches: /^[0-9T:.Z-]{1,40}$/ }])),
    },
  ];
}
