/**
 * The ordered registry of steps (the rollout order of DESIGN.md). Later phases join as they land; test-only steps
 * live under test/, never here.
 */
import type { Step } from '../src/engine/types.js';
import { psaEnforce } from './psa-enforce.js';
import { psaMigrate } from './psa-migrate.js';
import { psaWarnAudit } from './psa-warn-audit.js';

export const STEPS: readonly Step<never>[] = [
  psaWarnAudit,
  psaEnforce,
  psaMigrate,
] as unknown as Step<never>[];

export function stepById(id: string): Step<never> | undefined {
  return STEPS.find((s) => s.id === id);
}
