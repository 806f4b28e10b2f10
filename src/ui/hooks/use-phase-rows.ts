/**
 * The rollout's phase rows (src/ui/model/phases.ts `derivePhases`) from the store and the wizard's session state,
 * derived once per change of what they read: the phases list shows them all, a phase's detail its own row.
 */
import { useMemo } from 'react';
import { derivePhases, type PhaseRow } from '../model/phases.js';
import { useHardenShallow } from '../store-context.js';
import { useWizard } from '../wizard-context.js';

export function usePhaseRows(): PhaseRow[] {
  const { steps, state } = useWizard();
  const s = useHardenShallow((st) => ({
    assessment: st.assessment,
    plan: st.plan,
    permissions: st.permissions,
    journal: st.journal,
    now: st.now,
  }));
  return useMemo(
    () =>
      derivePhases({
        steps,
        ...(s.assessment ? { assessment: s.assessment } : {}),
        ...(s.plan ? { plan: s.plan } : {}),
        planStale: state.planStale,
        permissions: s.permissions,
        history: state.history,
        journal: s.journal,
        now: s.now(),
        skipped: state.skipped,
        reviews: state.reviews,
      }),
    [
      steps,
      s.assessment,
      s.plan,
      s.permissions,
      s.journal,
      s.now,
      state.planStale,
      state.history,
      state.skipped,
      state.reviews,
    ],
  );
}
