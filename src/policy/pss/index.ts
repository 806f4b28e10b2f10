/**
 * Pod Security Standards evaluator: a pure TypeScript port of the policy engine of Kubernetes Pod Security
 * Admission, mirroring k8s.io/pod-security-admission v0.37.2 (Kubernetes 1.37; newest policy version v1.37):
 * `policy/` (checks, registry, messages), `api/helpers.go` (labels, versions) and the message format of
 * `admission/admission.go`. Every check file names the upstream file it mirrors. The unit tests replay upstream's
 * `test/testdata` vectors (test/support/psa-vectors.ts pins the module version).
 *
 * Results of allowed pods are a shared frozen object: treat results as read-only.
 */
export { DEFAULT_CHECKS } from './checks/index.js';
export { applyServerDefaults, needsServerDefaults, type ServerDefaultsOptions } from './defaults.js';
export {
  checksFor,
  type EvaluateOptions,
  evaluatePod,
  forbiddenDetail,
  forbiddenReason,
  formatForbidden,
  formatWouldViolate,
  levelVersionString,
  NEWEST_POLICY_MINOR,
  resolveVersion,
  UNKNOWN_FORBIDDEN_REASON,
} from './evaluate.js';
export {
  AUDIT_LEVEL_LABEL,
  AUDIT_VERSION_LABEL,
  compareLevels,
  ENFORCE_LEVEL_LABEL,
  ENFORCE_VERSION_LABEL,
  LABEL_PREFIX,
  type ParsedLevel,
  type ParsedVersion,
  type PsaDefaults,
  type PsaMode,
  type PsaModePolicy,
  type PsaPolicy,
  parseLevel,
  parsePsaLabels,
  parseVersion,
  WARN_LEVEL_LABEL,
  WARN_VERSION_LABEL,
} from './labels.js';
export { type CheckRegistry, type CompiledCheck, createRegistry } from './registry.js';
export type {
  Check,
  CheckPodFn,
  CheckResult,
  CheckViolation,
  Level,
  LevelVersion,
  PodLike,
  PolicyVersion,
  PolicyVersionString,
  PssResult,
  VersionedCheck,
} from './types.js';
