/**
 * Evaluation entry points: version resolution and clamping (`policy/registry.go` EvaluatePod, NewEvaluator with an
 * emulation version), result aggregation (`policy/checks.go` AggregateCheckResults) and the admission messages
 * (`admission/admission.go`).
 */
import { DEFAULT_CHECKS } from './checks/index.js';
import { applyServerDefaults, needsServerDefaults, type ServerDefaultsOptions } from './defaults.js';
import { collectContainers, goQuote, rec } from './helpers.js';
import { parseVersion } from './labels.js';
import { createRegistry } from './registry.js';
import type {
  CheckViolation,
  JsonObject,
  Level,
  LevelVersion,
  PodLike,
  PolicyVersion,
  PolicyVersionString,
  PssResult,
} from './types.js';

const registry = createRegistry(DEFAULT_CHECKS);

/** Newest policy version this evaluator implements: v1.<NEWEST_POLICY_MINOR> (max MinimumVersion of all checks). */
export const NEWEST_POLICY_MINOR: number = registry.maxMinor;

/** `policy.UnknownForbiddenReason`: used when a failing check gives no reason. */
export const UNKNOWN_FORBIDDEN_REASON = 'unknown forbidden reason';

export interface EvaluateOptions extends ServerDefaultsOptions {
  /**
   * Minor version of the target API server. `latest` and versions newer than min(serverMinor, NEWEST_POLICY_MINOR)
   * are clamped to it. Absent: offline, clamp to NEWEST_POLICY_MINOR.
   */
  serverMinor?: number;
  /**
   * The pod is already server-defaulted (e.g. read back from the API or from a server-side dry-run), so
   * `applyServerDefaults` is skipped.
   * @default false
   */
  defaulted?: boolean;
}

const EMPTY_SPEC: JsonObject = Object.freeze({}) as JsonObject;

// Shared, frozen result for allowed pods: the allowed path allocates nothing.
const ALLOWED: PssResult = Object.freeze({
  allowed: true,
  violations: Object.freeze([]) as unknown as CheckViolation[],
});

function maxMinorFor(serverMinor: number | undefined): number {
  if (serverMinor === undefined) return NEWEST_POLICY_MINOR;
  if (!Number.isInteger(serverMinor) || serverMinor < 0) {
    throw new RangeError(`serverMinor must be a non-negative integer, got ${String(serverMinor)}`);
  }
  return Math.min(serverMinor, NEWEST_POLICY_MINOR);
}

const parsedVersions = new Map<string, number | 'latest'>();

function requestedMinor(version: PolicyVersionString): number | 'latest' {
  let minor = parsedVersions.get(version);
  if (minor === undefined) {
    const parsed = parseVersion(version);
    if (parsed.error !== undefined) {
      throw new TypeError(`invalid policy version ${JSON.stringify(version)}: ${parsed.error}`);
    }
    minor = parsed.minor ?? 'latest';
    if (parsedVersions.size < 1000) parsedVersions.set(version, minor);
  }
  return minor;
}

function resolveMinor(version: PolicyVersionString, serverMinor: number | undefined): number {
  const max = maxMinorFor(serverMinor);
  const minor = requestedMinor(version);
  return minor === 'latest' || minor > max ? max : minor;
}

/**
 * The policy version that is evaluated for `version` (registry.go EvaluatePod): `latest` and versions newer than
 * min(serverMinor, NEWEST_POLICY_MINOR) resolve to that minor. Without serverMinor: offline, NEWEST_POLICY_MINOR.
 */
export function resolveVersion(version: PolicyVersionString, serverMinor?: number): PolicyVersion {
  return { minor: resolveMinor(version, serverMinor) };
}

/**
 * IDs of the checks that run at `level` and policy version v1.<minor> (or latest), in upstream result order.
 * Versions newer than NEWEST_POLICY_MINOR are clamped to it.
 */
export function checksFor(level: Level, minor: number | 'latest'): string[] {
  const m = minor === 'latest' || minor > NEWEST_POLICY_MINOR ? NEWEST_POLICY_MINOR : minor;
  return registry.checksAt(level, m).map((c) => c.id);
}

/**
 * Evaluates a pod (or pod template) against a policy like PSA does: server-side defaulting (unless
 * `options.defaulted`), version resolution, then every check in force, in upstream order.
 */
export function evaluatePod(policy: LevelVersion, pod: PodLike, options?: EvaluateOptions): PssResult {
  if (policy.level === 'privileged') return ALLOWED;
  const checks = registry.checksAt(policy.level, resolveMinor(policy.version, options?.serverMinor));
  if (checks.length === 0) {
    if (policy.level !== 'baseline' && policy.level !== 'restricted') {
      throw new TypeError(`invalid level ${JSON.stringify(policy.level)}`);
    }
    return ALLOWED;
  }

  const subject =
    !options?.defaulted && needsServerDefaults(pod, options) ? applyServerDefaults(pod, options) : pod;
  const meta = rec(subject.metadata);
  const spec = rec(subject.spec) ?? EMPTY_SPEC;
  const containers = collectContainers(spec);

  let violations: CheckViolation[] | undefined;
  for (const check of checks) {
    const result = check.checkPod(meta, spec, containers);
    if (result) {
      const violation: CheckViolation = {
        check: check.id,
        reason: result.reason.length === 0 ? UNKNOWN_FORBIDDEN_REASON : result.reason,
        detail: result.detail,
      };
      if (violations) violations.push(violation);
      else violations = [violation];
    }
  }
  return violations ? { allowed: false, violations } : ALLOWED;
}

/** `AggregateCheckResult.ForbiddenReason()`: the reasons joined by `, `. */
export function forbiddenReason(result: PssResult): string {
  return result.violations.map((v) => v.reason).join(', ');
}

/** `AggregateCheckResult.ForbiddenDetail()`: `reason (detail), reason2, …` (parentheses only for a detail). */
export function forbiddenDetail(result: PssResult): string {
  return result.violations.map((v) => (v.detail === '' ? v.reason : `${v.reason} (${v.detail})`)).join(', ');
}

/** `api.LevelVersion.String()`: `<level>:<version>`. */
export function levelVersionString(policy: LevelVersion): string {
  return `${policy.level}:${policy.version}`;
}

/**
 * The enforce error text of admission/admission.go: `violates PodSecurity "restricted:latest": <ForbiddenDetail>`.
 * The version printed is the requested one (`latest`, `v1.N`), not the resolved one.
 */
export function formatForbidden(policy: LevelVersion, result: PssResult): string {
  return `violates PodSecurity ${goQuote(levelVersionString(policy))}: ${forbiddenDetail(result)}`;
}

/** The warn / audit text of admission/admission.go: `would violate PodSecurity "<level>:<version>": <detail>`. */
export function formatWouldViolate(policy: LevelVersion, result: PssResult): string {
  return `would violate PodSecurity ${goQuote(levelVersionString(policy))}: ${forbiddenDetail(result)}`;
}
