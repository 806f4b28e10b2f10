/**
 * The ordered registry of steps (the rollout order of DESIGN.md). Later phases join as they land; test-only steps
 * live under test/, never here.
 */
import type { SettingSpec, Step } from '../src/engine/types.js';
import { auditLogging } from './audit-logging.js';
import { exceptionsReview } from './exceptions-review.js';
import { networkDefaultDeny } from './network-default-deny.js';
import { privilegedIsolate } from './privileged-isolate.js';
import { psaEnforce } from './psa-enforce.js';
import { psaMigrate } from './psa-migrate.js';
import { psaWarnAudit } from './psa-warn-audit.js';
import { rbacReview } from './rbac-review.js';
import { registriesEnforce } from './registries-enforce.js';
import { registriesSignatures } from './registries-signatures.js';
import { registriesWarn } from './registries-warn.js';
import { resourceLimits } from './resource-limits.js';
import { saDedicated } from './sa-dedicated.js';
import { saTokens } from './sa-tokens.js';
import { secretsEncryption } from './secrets-encryption.js';

export const STEPS: readonly Step<never>[] = [
  psaWarnAudit,
  psaEnforce,
  privilegedIsolate,
  networkDefaultDeny,
  saTokens,
  rbacReview,
  registriesWarn,
  registriesEnforce,
  registriesSignatures,
  auditLogging,
  secretsEncryption,
  exceptionsReview,
  psaMigrate,
  resourceLimits,
  saDedicated,
] as unknown as Step<never>[];

export function stepById(id: string): Step<never> | undefined {
  return STEPS.find((s) => s.id === id);
}

/**
 * The settings the steps declare (those of `ids` only, when given), in rollout order: what the command line
 * offers as flags and the wizard shows. Two steps may not declare the same flag or key (a bug: it throws).
 */
export function stepSettings(ids?: readonly string[], steps: readonly Step<never>[] = STEPS): SettingSpec[] {
  const out: SettingSpec[] = [];
  for (const step of steps) {
    if (ids && !ids.includes(step.id)) continue;
    for (const spec of step.settings ?? []) {
      if (out.some((o) => o.flag === spec.flag || o.key === spec.key))
        throw new Error(`bug: step setting --${spec.flag} (${spec.key}) is declared twice`);
      out.push(spec);
    }
  }
  return out;
}
