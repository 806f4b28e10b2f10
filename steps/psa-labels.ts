/** Pod Security Admission namespace labels, shared by the warn/audit and enforce steps. */

import type { ObjectRule, ValueRule } from '../src/engine/targets.js';
import type { ServerVersion } from '../src/k8s/types.js';
import { compareLevels, type Level, NEWEST_POLICY_MINOR, parseVersion } from '../src/policy/pss/index.js';
import { SYSTEM_NAMES } from '../src/policy/tiers.js';

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

/** Validate a `--psa-version` value with upstream's rule (`latest` or `v1.N`). */
export function isValidPsaVersion(v: string): boolean {
  return parseVersion(v).error === undefined;
}

/** The stricter of two levels. */
export function stricter(a: Level, b: Level): Level {
  return compareLevels(a, b) >= 0 ? a : b;
}

/** Namespace apply configuration holding only the given labels and annotations. */
export function namespaceConfig(
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
  };
}

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
