import { useMemo } from 'react';
import { useWizard } from '../wizard-context.js';

/** The ids of the steps of one phase, in rollout order. */
export function usePhaseStepIds(phase: number): string[] {
  const { steps } = useWizard();
  return useMemo(() => steps.filter((st) => st.phase === phase).map((st) => st.id), [steps, phase]);
}
