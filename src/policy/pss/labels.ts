/**
 * Mirrors `api/helpers.go` (ParseLevel, ParseVersion, PolicyToEvaluate, CompareLevels) and `api/constants.go`
 * (label names), with the field-error text of k8s.io/apimachinery `field.Invalid(...).Error()` and the aggregate
 * text of `ErrorList.ToAggregate().Error()`.
 */
import { goQuote } from './helpers.js';
import type { Level, LevelVersion, PolicyVersionString } from './types.js';

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const ENFORCE_LEVEL_LABEL = `${LABEL_PREFIX}enforce`;
export const ENFORCE_VERSION_LABEL = `${LABEL_PREFIX}enforce-version`;
export const AUDIT_LEVEL_LABEL = `${LABEL_PREFIX}audit`;
export const AUDIT_VERSION_LABEL = `${LABEL_PREFIX}audit-version`;
export const WARN_LEVEL_LABEL = `${LABEL_PREFIX}warn`;
export const WARN_VERSION_LABEL = `${LABEL_PREFIX}warn-version`;

const VALID_LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];
const LEVEL_ERROR = `must be one of ${VALID_LEVELS.join(', ')}`;
const VERSION_ERROR = 'must be "latest" or "v1.x"';
const VERSION_REGEXP = /^v1\.([0-9]|[1-9][0-9]*)$/;
const MAX_INT64 = 9223372036854775807n;

export type PsaMode = 'enforce' | 'audit' | 'warn';

export interface ParsedLevel {
  level: Level;
  /** Upstream's error detail when the value is invalid (the level is then `restricted`). */
  error?: string;
}

/** Port of `ParseLevel`: an invalid value yields `restricted` and an error. */
export function parseLevel(value: string): ParsedLevel {
  if ((VALID_LEVELS as readonly string[]).includes(value)) return { level: value as Level };
  return { level: 'restricted', error: LEVEL_ERROR };
}

export interface ParsedVersion {
  version: PolicyVersionString;
  /** Minor of v1.<minor>; undefined for `latest`. */
  minor?: number;
  /** Upstream's error detail when the value is invalid (the version is then `latest`). */
  error?: string;
}

/** Port of `ParseVersion`: `latest` or `v1.<minor>` (no leading zeros); anything else yields `latest` and an error. */
export function parseVersion(value: string): ParsedVersion {
  if (value === 'latest') return { version: 'latest' };
  const match = VERSION_REGEXP.exec(value);
  // strconv.Atoi fails beyond int64.
  if (!match || BigInt(match[1] as string) > MAX_INT64) return { version: 'latest', error: VERSION_ERROR };
  const minor = Number(match[1]);
  return { version: `v1.${minor}` as PolicyVersionString, minor };
}

/** Port of `CompareLevels`: <0 when `a` is less strict than `b`, 0 when equal, >0 when stricter. */
export function compareLevels(a: Level, b: Level): number {
  if (a === b) return 0;
  switch (a) {
    case 'privileged':
      return -1;
    case 'restricted':
      return 1;
    default:
      if (b === 'privileged') return 1;
      if (b === 'restricted') return -1;
  }
  return 0;
}

/** `field.Invalid(metadata.labels[<label>], value, detail).Error()`. */
export function labelError(label: string, value: string, detail: string): string {
  return `metadata.labels[${label}]: Invalid value: ${goQuote(value)}: ${detail}`;
}

/** `utilerrors.NewAggregate(errs).Error()`: one message as is; several deduplicated, joined and bracketed. */
export function aggregateErrors(messages: readonly string[]): string | undefined {
  const unique = [...new Set(messages)];
  if (unique.length === 0) return undefined;
  if (unique.length === 1) return unique[0];
  return `[${unique.join(', ')}]`;
}

export interface PsaModePolicy extends LevelVersion {
  /** True when this mode's level and version labels (those present) parsed without error. */
  valid: boolean;
  /** True when this mode's level label is present (even if invalid). */
  explicit: boolean;
  /** True when this mode's version label is present (even if invalid). */
  explicitVersion: boolean;
  /** warn only: the level (and, without a warn-version label, the version) was copied from enforce. */
  fromEnforce: boolean;
  /** This mode's label errors in upstream's words (aggregated like `ToAggregate().Error()`). */
  error?: string;
}

export interface PsaPolicy {
  enforce: PsaModePolicy;
  audit: PsaModePolicy;
  warn: PsaModePolicy;
  /** Every label error in upstream order (enforce, enforce-version, audit, audit-version, warn, warn-version). */
  errors: string[];
  /**
   * All errors aggregated as upstream does; PSA records `Failed to parse policy: <error>` in the
   * `pod-security.kubernetes.io/error` audit annotation.
   */
  error?: string;
}

/** Cluster defaults (`PodSecurityConfiguration.defaults`); unset fields default to privileged / latest. */
export type PsaDefaults = Partial<Record<PsaMode, Level> & Record<`${PsaMode}-version`, PolicyVersionString>>;

/**
 * Port of `PolicyToEvaluate`: resolves the namespace labels to the policy for each mode, falling back to the
 * defaults for missing labels. An invalid enforce level evaluates as `restricted` (fail closed), an invalid
 * audit/warn level as `privileged` (fail open), an invalid version as `latest`. When enforce is set validly, warn has
 * no label and enforce is stricter than the (default) warn level, warn takes the enforce level, and the enforce
 * version unless warn-version is set.
 */
export function parsePsaLabels(
  labels: Record<string, string> | undefined,
  defaults?: PsaDefaults,
): PsaPolicy {
  const mode = (m: PsaMode): PsaModePolicy => ({
    level: defaults?.[m] ?? 'privileged',
    version: defaults?.[`${m}-version`] ?? 'latest',
    valid: true,
    explicit: false,
    explicitVersion: false,
    fromEnforce: false,
  });
  const policy: PsaPolicy = {
    enforce: mode('enforce'),
    audit: mode('audit'),
    warn: mode('warn'),
    errors: [],
  };
  const modeErrors: Record<PsaMode, string[]> = { enforce: [], audit: [], warn: [] };
  const has = (label: string): boolean => labels !== undefined && Object.hasOwn(labels, label);

  let hasEnforceLevel = false;
  for (const m of ['enforce', 'audit', 'warn'] as const) {
    const p = policy[m];
    const levelLabel = `${LABEL_PREFIX}${m}`;
    const versionLabel = `${levelLabel}-version`;
    if (has(levelLabel)) {
      const value = String(labels?.[levelLabel]);
      const parsed = parseLevel(value);
      p.explicit = true;
      p.level = parsed.level;
      if (parsed.error !== undefined) {
        modeErrors[m].push(labelError(levelLabel, value, parsed.error));
        // Fail open for audit and warn.
        if (m !== 'enforce') p.level = 'privileged';
      } else if (m === 'enforce') {
        hasEnforceLevel = true; // Don't default warn in case of error.
      }
    }
    if (has(versionLabel)) {
      const value = String(labels?.[versionLabel]);
      const parsed = parseVersion(value);
      p.explicitVersion = true;
      p.version = parsed.version;
      if (parsed.error !== undefined) modeErrors[m].push(labelError(versionLabel, value, parsed.error));
    }
  }

  // Default warn to the enforce level when explicitly set to a more restrictive level.
  const { enforce, warn } = policy;
  if (!warn.explicit && hasEnforceLevel && compareLevels(enforce.level, warn.level) > 0) {
    warn.level = enforce.level;
    warn.fromEnforce = true;
    if (!warn.explicitVersion) warn.version = enforce.version;
  }

  for (const m of ['enforce', 'audit', 'warn'] as const) {
    const errs = modeErrors[m];
    policy.errors.push(...errs);
    policy[m].valid = errs.length === 0;
    const error = aggregateErrors(errs);
    if (error !== undefined) policy[m].error = error;
  }
  const error = aggregateErrors(policy.errors);
  if (error !== undefined) policy.error = error;
  return policy;
}
