/**
 * Port of `policy/registry.go`: validates the checks, inflates each versioned implementation over the minor
 * versions it covers, folds the non-overridden baseline checks into the restricted level, and orders every list by
 * check ID (baseline IDs sorted, then restricted IDs sorted). The tables are computed once; evaluation only indexes.
 */
import { compareGoStrings } from './helpers.js';
import type { Check, CheckPodFn, Level, VersionedCheck } from './types.js';

/** One check implementation in force at a given level and version. */
export interface CompiledCheck {
  readonly id: string;
  /** `MinimumVersion` of the implementation in force. */
  readonly minimumVersion: number;
  readonly checkPod: CheckPodFn;
}

export interface CheckRegistry {
  /**
   * Highest policy minor the registry evaluates: the max `MinimumVersion` of all checks, lowered to the emulation
   * version when one is given. -1 when no checks are registered.
   */
  readonly maxMinor: number;
  /** Checks for a level at a minor in [0, maxMinor]; use `clampMinor` first. Privileged: always empty. */
  checksAt(level: Level, minor: number): readonly CompiledCheck[];
}

/** Port of `validateChecks`; throws with upstream's messages. */
export function validateChecks(checks: readonly Check[]): void {
  const ids = new Map<string, Check['level']>();
  for (const check of checks) {
    if (ids.has(check.id)) throw new Error(`multiple checks registered for ID ${check.id}`);
    ids.set(check.id, check.level);
    if (check.level !== 'baseline' && check.level !== 'restricted') {
      throw new Error(`check ${check.id}: invalid level ${String(check.level)}`);
    }
    if (check.versions.length === 0) throw new Error(`check ${check.id}: empty`);
    let maxVersion = -1;
    for (const v of check.versions) {
      if (!Number.isInteger(v.minimumVersion) || v.minimumVersion < 0) {
        throw new Error(`check ${check.id}: undefined version found`);
      }
      if (maxVersion === v.minimumVersion)
        throw new Error(`check ${check.id}: duplicate version v1.${maxVersion}`);
      if (!(maxVersion < v.minimumVersion))
        throw new Error(`check ${check.id}: versions must be strictly increasing`);
      maxVersion = v.minimumVersion;
    }
  }
  for (const check of checks) {
    for (const v of check.versions) {
      if (!v.overrideCheckIds || v.overrideCheckIds.length === 0) continue;
      if (check.level !== 'restricted')
        throw new Error(`check ${check.id}: only restricted checks may set overrides`);
      for (const override of v.overrideCheckIds) {
        const overriddenLevel = ids.get(override);
        if (overriddenLevel !== undefined && overriddenLevel !== 'baseline') {
          throw new Error(`check ${check.id}: overrides ${overriddenLevel} check ${override}`);
        }
      }
    }
  }
}

type VersionedMap = Map<string, VersionedCheck>[];

// Port of `inflateVersions`: each implementation covers [its MinimumVersion, next MinimumVersion or max+1).
function inflateVersions(check: Check, versions: VersionedMap, maxMinor: number): void {
  check.versions.forEach((current, i) => {
    const next = check.versions[i + 1];
    const end = next ? next.minimumVersion : maxMinor + 1;
    for (let v = current.minimumVersion; v < end; v++) {
      let atVersion = versions[v];
      if (!atVersion) {
        atVersion = new Map();
        versions[v] = atVersion;
      }
      atVersion.set(check.id, current);
    }
  });
}

function ordered(
  checks: Map<string, VersionedCheck> | undefined,
  orderedIds: readonly string[],
): CompiledCheck[] {
  const out: CompiledCheck[] = [];
  if (!checks) return out;
  for (const id of orderedIds) {
    const c = checks.get(id);
    if (c) out.push(Object.freeze({ id, minimumVersion: c.minimumVersion, checkPod: c.checkPod }));
  }
  return out;
}

/**
 * Port of `NewEvaluator` + `populate`. `emulationMinor` lowers the newest evaluated version like kube-apiserver's
 * `--emulated-version` does (registry.go NewEvaluator).
 */
export function createRegistry(checks: readonly Check[], emulationMinor?: number): CheckRegistry {
  validateChecks(checks);

  let maxMinor = -1;
  for (const c of checks) {
    const last = c.versions[c.versions.length - 1] as VersionedCheck;
    if (maxMinor < last.minimumVersion) maxMinor = last.minimumVersion;
  }

  const restrictedVersioned: VersionedMap = [];
  const baselineVersioned: VersionedMap = [];
  const baselineIds: string[] = [];
  const restrictedIds: string[] = [];
  for (const c of checks) {
    if (c.level === 'restricted') {
      restrictedIds.push(c.id);
      inflateVersions(c, restrictedVersioned, maxMinor);
    } else {
      baselineIds.push(c.id);
      inflateVersions(c, baselineVersioned, maxMinor);
    }
  }
  // Sort the IDs to maintain consistent error messages: baseline checks first, then restricted.
  baselineIds.sort(compareGoStrings);
  restrictedIds.sort(compareGoStrings);
  const orderedIds = [...baselineIds, ...restrictedIds];

  const baselineTable: (readonly CompiledCheck[])[] = [];
  const restrictedTable: (readonly CompiledCheck[])[] = [];
  for (let v = 0; v <= maxMinor; v++) {
    const overrides = new Set<string>();
    for (const c of restrictedVersioned[v]?.values() ?? []) {
      for (const id of c.overrideCheckIds ?? []) overrides.add(id);
    }
    const restrictedAtV = new Map(restrictedVersioned[v] ?? []);
    for (const [id, c] of baselineVersioned[v] ?? []) {
      if (!overrides.has(id)) restrictedAtV.set(id, c);
    }
    restrictedTable[v] = Object.freeze(ordered(restrictedAtV, orderedIds));
    baselineTable[v] = Object.freeze(ordered(baselineVersioned[v], orderedIds));
  }

  if (emulationMinor !== undefined && emulationMinor < maxMinor) maxMinor = emulationMinor;

  const none: readonly CompiledCheck[] = Object.freeze([]);
  return {
    maxMinor,
    checksAt(level, minor) {
      if (level === 'baseline') return baselineTable[minor] ?? none;
      if (level === 'restricted') return restrictedTable[minor] ?? none;
      return none;
    },
  };
}
