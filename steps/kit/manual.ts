/** Manual changes: what kube-harden cannot write through the API, offered as an artifact with instructions. */
import type { Change } from '../../src/engine/types.js';

/**
 * The manual-change builder of a step: `id` is prefixed with the step's id, the risk is `manual`, and the artifact
 * (`path`, `content`) goes with the instructions for putting it in place by hand (kube-harden never applies it).
 */
export function manualChanges(step: string) {
  return (
    id: string,
    path: string,
    content: string,
    reason: string,
    instructions: string,
    notes: string[] = [],
  ): Change => ({
    kind: 'manual',
    id: `${step}/${id}`,
    risk: 'manual',
    reason,
    notes,
    artifact: { path, content },
    instructions,
  });
}
