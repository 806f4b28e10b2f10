/**
 * Replays upstream's Pod Security Admission test vectors (k8s.io/pod-security-admission test/testdata) through the
 * evaluator: every `pass` pod must be allowed and every `fail` pod denied by the check its fixture generator made
 * it for, at its level and version, with upstream's expected error substring in the admission message.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  evaluatePod,
  formatForbidden,
  type Level,
  type LevelVersion,
  NEWEST_POLICY_MINOR,
  type PodLike,
} from '../../../src/policy/pss/index.js';
import {
  listPsaVectors,
  locatePsaModule,
  PSA_MODULE,
  PSA_MODULE_VERSION,
  type PsaVector,
} from '../../support/psa-vectors.js';

// Check IDs of upstream's DefaultChecks(); fixture file names are `strings.ToLower(checkID)` + index.
const UPSTREAM_CHECK_IDS = [
  'allowPrivilegeEscalation',
  'appArmorProfile',
  'capabilities_baseline',
  'capabilities_restricted',
  'hostNamespaces',
  'hostPathVolumes',
  'hostPorts',
  'hostProbesAndHostLifecycle',
  'privileged',
  'procMount',
  'procMount_restricted',
  'restrictedVolumes',
  'runAsNonRoot',
  'runAsUser',
  'seLinuxOptions',
  'seccompProfile_baseline',
  'seccompProfile_restricted',
  'sysctls',
  'windowsHostProcess',
];
const CHECK_ID_BY_FILE_KEY = new Map(UPSTREAM_CHECK_IDS.map((id) => [id.toLowerCase(), id]));

// Restricted fixtures include the baseline checks' fail pods; where a restricted check overrides the baseline one
// (OverrideCheckIDs), that restricted check is the one that must fail. [overriding check, from minor].
const RESTRICTED_OVERRIDES: Record<string, readonly [string, number]> = {
  capabilities_baseline: ['capabilities_restricted', 22],
  hostPathVolumes: ['restrictedVolumes', 0],
  procMount: ['procMount_restricted', 35],
  seccompProfile_baseline: ['seccompProfile_restricted', 19],
};

// fixtureGenerator.expectErrorSubstring per check (test/fixtures_*.go); the check ID when unset.
const EXPECT_ERROR_SUBSTRING: Record<string, string> = {
  appArmorProfile: 'forbidden AppArmor profile',
  capabilities_baseline: 'capabilities',
  capabilities_restricted: 'unrestricted capabilities',
  hostNamespaces: 'host namespaces',
  hostPathVolumes: 'hostPath',
  hostPorts: 'hostPort',
  hostProbesAndHostLifecycle: 'probe or lifecycle host',
  procMount: 'procMount',
  procMount_restricted: 'procMount',
  restrictedVolumes: 'restricted volume types',
  seLinuxOptions: 'seLinuxOptions',
  seccompProfile_baseline: 'seccompProfile',
  seccompProfile_restricted: 'seccompProfile',
  sysctls: 'forbidden sysctl',
  windowsHostProcess: 'hostProcess',
};

function expectedFailingCheck(vector: PsaVector): string {
  const fixtureCheck = CHECK_ID_BY_FILE_KEY.get(vector.checkKey ?? '');
  if (!fixtureCheck) throw new Error(`${vector.path}: no upstream check for file key ${vector.checkKey}`);
  const override = RESTRICTED_OVERRIDES[fixtureCheck];
  if (vector.level === 'restricted' && override && vector.minor >= override[1]) return override[0];
  return fixtureCheck;
}

/** Evaluates one vector; returns what disagrees with upstream, or undefined. */
function disagreement(vector: PsaVector, serverMinor: number): string | undefined {
  const pod = parse(readFileSync(vector.absolutePath, 'utf8')) as PodLike;
  const policy: LevelVersion = { level: vector.level as Level, version: `v1.${vector.minor}` };
  const result = evaluatePod(policy, pod, { serverMinor });
  if (vector.expect === 'pass') {
    return result.allowed
      ? undefined
      : `${vector.path}: expected allowed, got ${formatForbidden(policy, result)}`;
  }
  if (result.allowed) return `${vector.path}: expected denied, got allowed`;
  if (!vector.checkKey) return undefined;
  const check = expectedFailingCheck(vector);
  if (!result.violations.some((v) => v.check === check)) {
    return `${vector.path}: expected check ${check} to fail, got ${result.violations.map((v) => v.check).join(', ')}`;
  }
  const substring = EXPECT_ERROR_SUBSTRING[check] ?? check;
  const message = formatForbidden(policy, result);
  if (!message.includes(substring))
    return `${vector.path}: expected ${JSON.stringify(substring)} in ${message}`;
  return undefined;
}

const moduleStatus = locatePsaModule();

if (moduleStatus.dir === undefined) {
  const why = `upstream PSA vectors unavailable (${moduleStatus.reason}); install Go (https://go.dev/dl) with access to the Go module proxy to run them`;
  if (process.env.CI === 'true') {
    describe('upstream PSA vectors', () => {
      it('are required in CI', () => {
        throw new Error(why);
      });
    });
  } else {
    console.log(`[pss] skipping ${why}`);
    describe.skip('upstream PSA vectors', () => {
      it('skipped', () => {});
    });
  }
} else {
  const vectors = listPsaVectors(moduleStatus.dir);
  const newestVectorMinor = Math.max(...vectors.map((v) => v.minor));
  const groups = new Map<string, PsaVector[]>();
  for (const v of vectors) {
    const key = `${v.level} v1.${v.minor}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }

  describe(`upstream PSA vectors (${PSA_MODULE}@${PSA_MODULE_VERSION})`, () => {
    it('covers every policy version up to the evaluator’s newest', () => {
      // Given the module's vectors, then they exist for v1.0 … v1.<newest> at both levels,
      // and the evaluator implements at least the newest version upstream tests.
      expect(vectors.length).toBeGreaterThan(4000);
      expect(groups.size).toBe(2 * (newestVectorMinor + 1));
      expect(NEWEST_POLICY_MINOR).toBeGreaterThanOrEqual(newestVectorMinor);
      console.log(
        `[pss] ${vectors.length} upstream vectors (${vectors.filter((v) => v.expect === 'pass').length} pass, ` +
          `${vectors.filter((v) => v.expect === 'fail').length} fail), v1.0–v1.${newestVectorMinor}`,
      );
    });

    for (const [key, group] of groups) {
      it(`${key}: ${group.length} vectors agree`, () => {
        // When each vector is evaluated offline at its level and version (newest = the module's newest),
        // then pass pods are allowed and fail pods are denied by the expected check.
        const disagreements = group
          .map((v) => disagreement(v, newestVectorMinor))
          .filter((d) => d !== undefined);
        expect(disagreements).toEqual([]);
      });
    }
  });
}
