/**
 * A step's findings take their severity from the control catalog (src/policy/controls.ts), never from the step:
 * one control, one severity, whichever step or report shows it.
 */
import type { StepFinding } from '../../src/engine/types.js';
import { control } from '../../src/policy/controls.js';

/** A finding of `controlId` (a catalog ID: an unknown one is a bug and throws), with the catalog's severity. */
export function finding(controlId: string, target: StepFinding['target'], message: string): StepFinding {
  return { control: controlId, severity: control(controlId).severity, target, message };
}
