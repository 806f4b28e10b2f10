/** Public and internal types of the Pod Security Standards evaluator. */

/** A Pod Security Standards level (`api/constants.go`). */
export type Level = 'privileged' | 'baseline' | 'restricted';

/** A policy version as written in namespace labels: `latest` or `v1.<minor>` (`api/helpers.go` ParseVersion). */
export type PolicyVersionString = 'latest' | `v1.${number}`;

/** A concrete policy version v1.<minor>. `latest` is resolved by the caller via `resolveVersion`. */
export interface PolicyVersion {
  minor: number;
}

/** A level and the version of it to evaluate (`api.LevelVersion`). */
export interface LevelVersion {
  level: Level;
  version: PolicyVersionString;
}

/** One failed check, in upstream's words. */
export interface CheckViolation {
  /** Upstream check ID, e.g. `runAsNonRoot`. */
  check: string;
  /** `CheckResult.ForbiddenReason`, e.g. `runAsNonRoot != true`. */
  reason: string;
  /** `CheckResult.ForbiddenDetail`; may be empty. */
  detail: string;
}

export interface PssResult {
  allowed: boolean;
  /** Failed checks in upstream result order (baseline IDs sorted, then restricted IDs sorted). */
  violations: CheckViolation[];
}

/**
 * Pod-like input: a Pod, or a workload pod template (`{metadata, spec}`). Unknown or missing fields are tolerated
 * (plain JSON from the API).
 */
export interface PodLike {
  metadata?: { name?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: unknown;
}

/** Plain JSON object, as read from the API. */
export type JsonObject = Record<string, unknown>;

/** What a failing check returns; `undefined` means the check allowed the pod (`CheckResult{Allowed: true}`). */
export interface CheckResult {
  reason: string;
  detail: string;
}

/**
 * Port of `policy.CheckPodFn`. `containers` is the pod's containers in `visitContainers` order (init, regular,
 * ephemeral), computed once per evaluation so that each check does not have to concatenate the lists again.
 */
export type CheckPodFn = (
  meta: JsonObject | undefined,
  spec: JsonObject,
  containers: readonly unknown[],
) => CheckResult | undefined;

/** Port of `policy.VersionedCheck`. */
export interface VersionedCheck {
  /** First policy minor version (v1.<minor>) this implementation applies to. */
  minimumVersion: number;
  checkPod: CheckPodFn;
  /** Baseline checks skipped at the restricted level while this implementation is in force. */
  overrideCheckIds?: readonly string[];
}

/** Port of `policy.Check`. */
export interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** Strictly increasing by `minimumVersion`. */
  versions: readonly VersionedCheck[];
}
