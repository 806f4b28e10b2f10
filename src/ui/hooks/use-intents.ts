/**
 * What the operator's keys mean, as sequences of store actions and navigation. The long work (inventory,
 * planning, applying, undo) runs in the store's actions; this only starts them with the store's abort signal,
 * marks the wizard busy, turns errors into the notice line and moves between screens.
 */
import { useMemo } from 'react';
import type { Step } from '../../engine/types.js';
import { AbortError, KubeHardenError } from '../../errors.js';
import type { HardenStore } from '../../store/store.js';
import { plural } from '../model/format.js';
import { reviewOf, writesNothing } from '../model/phases.js';
import { carrySelection } from '../model/sa-evidence.js';
import type { Busy, Notice, Screen, WizardAction, WizardState } from '../state/wizard.js';
import { currentScreen } from '../state/wizard.js';

export interface Intents {
  /** Connect, then take the inventory (and the permission preflight). */
  start(): void;
  continueToPhases(): void;
  openPhase(phase: number): void;
  /** Preview the changes of a phase (reuses a fresh plan unless `again`), then show them. */
  /**
   * Preview the phase's changes. A phase with a setting to ask (SettingSpec.ask) shows that choice first, unless
   * `chosen` (the choice was just made: plan again with it).
   */
  planPhase(phase: number, options?: { again?: boolean; chosen?: boolean; keepSelection?: boolean }): void;
  /**
   * The operator chose a setting's value (SettingScreen; a flipped token decision, EvidenceScreen): remember it,
   * and preview the phase with it. `keepSelection`: changes that stay the same stay selected.
   */
  chooseSetting(phase: number, key: string, value: unknown, options?: { keepSelection?: boolean }): void;
  toggleSkip(phase: number): void;
  openRuns(): void;
  /** From the changes or a diff: save the artifact of a manual change (asks for the path first). */
  openSaveArtifact(phase: number, changeId: string): void;
  /**
   * Save the artifact to `path`: `saved` (back, with a notice), `exists` (nothing written: ask before
   * overwriting), or `failed` (the notice says why).
   */
  saveArtifact(changeId: string, path: string, overwrite: boolean): Promise<'saved' | 'exists' | 'failed'>;
  /** From the changes: ask for confirmation of the selected ones. */
  requestApply(phase: number): void;
  /** Confirmed: apply the selected changes (offline: write the remediated manifests). */
  apply(phase: number): void;
  /** Not confirmed: back, nothing changed. */
  decline(): void;
  previewUndo(runId: string): void;
  confirmUndo(runId: string): void;
  back(): void;
  quit(): void;
  confirmQuit(): void;
  interrupt(): void;
}

export interface IntentDeps {
  store: HardenStore;
  dispatch: (action: WizardAction) => void;
  /** The wizard state as of now (a ref: intents outlive renders). */
  current: () => WizardState;
  steps: readonly Step<never>[];
  outDir?: string;
  exit: (code: number, immediate: boolean) => void;
}

function noticeOf(error: unknown, signal: AbortSignal): Notice {
  if (error instanceof AbortError || (signal.aborted && (error as Error)?.name === 'AbortError')) {
    return { kind: 'warn', text: 'stopped: interrupted by the operator; nothing more was sent' };
  }
  if (error instanceof KubeHardenError) {
    return { kind: 'error', text: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  }
  return {
    kind: 'error',
    text: `unexpected error: ${(error as Error)?.message ?? String(error)}`,
    hint: 'this is a bug in kube-harden; run with DEBUG=kube-harden and report it',
  };
}

type Outcome<T> = { ok: true; value: T } | { ok: false; notice: Notice };

export function createIntents(deps: IntentDeps): Intents {
  const { store, dispatch, current, steps, outDir } = deps;
  const stepIdsOf = (phase: number) => steps.filter((s) => s.phase === phase).map((s) => s.id);

  /** The operation in flight (a background refresh lets the next intent wait for it). */
  let inFlight: Promise<unknown> = Promise.resolve();

  function op<T>(busy: Busy, fn: (signal: AbortSignal) => Promise<T>): Promise<Outcome<T>> {
    const signal = store.getState().operationSignal();
    dispatch({ type: 'busy', busy });
    const run = (async (): Promise<Outcome<T>> => {
      try {
        return { ok: true, value: await fn(signal) };
      } catch (error) {
        return { ok: false, notice: noticeOf(error, signal) };
      } finally {
        dispatch({ type: 'busy' });
      }
    })();
    inFlight = run;
    return run;
  }

  /** Run `fn` when nothing is in flight: after a background refresh, or not at all (one operation at a time). */
  const idle = (fn: () => Promise<void>) => () => {
    const busy = current().busy;
    if (busy && !busy.background) {
      dispatch({ type: 'notice', notice: { kind: 'info', text: `busy: ${busy.label}…` } });
      return;
    }
    const go = () =>
      fn().catch((error: unknown) =>
        dispatch({ type: 'notice', notice: noticeOf(error, new AbortController().signal) }),
      );
    if (busy) void inFlight.then(go);
    else void go();
  };

  const refreshInventory = async () => {
    if (current().quitWhenIdle) return;
    const r = await op({ kind: 'work', label: 'refreshing the inventory', background: true }, (signal) =>
      store.getState().inventory(signal),
    );
    if (!r.ok) dispatch({ type: 'notice', notice: r.notice });
  };

  const exitCodeNow = () => {
    const s = store.getState();
    return !s.assessment && s.error instanceof KubeHardenError ? s.error.exitCode : 0;
  };

  const intents: Intents = {
    start: idle(async () => {
      const r = await op({ kind: 'work', label: 'connecting' }, async (signal) => {
        await store.getState().connect(signal);
        await store.getState().inventory(signal);
      });
      if (!r.ok) dispatch({ type: 'notice', notice: r.notice });
    }),

    continueToPhases() {
      if (!store.getState().assessment) return;
      dispatch({ type: 'reset', stack: [{ id: 'phases' }] });
    },

    openPhase(phase) {
      dispatch({ type: 'push', screen: { id: 'phase', phase } });
    },

    planPhase(phase, options = {}) {
      idle(async () => {
        const stepIds = stepIdsOf(phase);
        const asks = steps.some((s) => s.phase === phase && (s.settings ?? []).some((x) => x.ask));
        if (asks && !options.chosen && !options.again) {
          dispatch({ type: 'push', screen: { id: 'setting', phase } });
          return;
        }
        if (stepIds.length === 0) {
          dispatch({
            type: 'notice',
            notice: { kind: 'info', text: 'phase 0 is read-only: it changes nothing' },
          });
          return;
        }
        const from: Screen = currentScreen(current());
        const plan = store.getState().plan;
        const fresh =
          !options.again &&
          !current().planStale &&
          !!plan &&
          stepIds.every((id) => plan.steps.some((s) => s.id === id));
        const before = store.getState().plan?.changes ?? [];
        const wasSelected = store.getState().selected;
        if (!fresh) {
          const r = await op({ kind: 'work', label: `previewing the changes of phase ${phase}` }, (signal) =>
            store.getState().planSteps(stepIds, signal),
          );
          if (!r.ok) {
            dispatch({ type: 'notice', notice: r.notice });
            return;
          }
          dispatch({ type: 'planStale', stale: false });
          if (options.keepSelection) {
            const after = store.getState().plan?.changes ?? [];
            for (const id of carrySelection(before, wasSelected, after)) store.getState().toggle(id);
          }
        }
        // A phase that writes nothing is done (or unknown) by what its preview found: remember it for the phases.
        const planned = store.getState().plan;
        if (planned && writesNothing(steps.filter((s) => s.phase === phase)))
          dispatch({ type: 'reviewed', phase, review: reviewOf(planned, stepIds) });
        // Moved elsewhere meanwhile (Esc): stay there.
        if (currentScreen(current()) !== from) return;
        if (from.id !== 'changes' && from.id !== 'evidence')
          dispatch({ type: 'push', screen: { id: 'changes', phase } });
        else if (options.again) {
          const n = store.getState().plan?.changes.length ?? 0;
          dispatch({
            type: 'notice',
            notice: { kind: 'info', text: `previewed again: ${plural(n, 'change')}` },
          });
        }
      })();
    },

    chooseSetting(phase, key, value, options = {}) {
      store.getState().setSetting(key, value);
      intents.planPhase(phase, { again: true, chosen: true, ...options });
    },

    toggleSkip(phase) {
      if (phase === 0) return;
      dispatch({ type: 'skip', phase });
    },

    openRuns() {
      store.getState().loadRuns();
      dispatch({ type: 'push', screen: { id: 'runs' } });
    },

    openSaveArtifact(phase, changeId) {
      const change = store.getState().plan?.changes.find((c) => c.id === changeId);
      if (!change?.artifact) {
        dispatch({
          type: 'notice',
          notice: { kind: 'info', text: 'only manual changes have an artifact to save' },
        });
        return;
      }
      dispatch({ type: 'push', screen: { id: 'save-artifact', phase, changeId } });
    },

    async saveArtifact(changeId, path, overwrite) {
      try {
        const r = await store.getState().saveArtifact(changeId, path, { overwrite });
        if (!r.saved) return 'exists';
        dispatch({ type: 'back' });
        dispatch({
          type: 'notice',
          notice: { kind: 'info', text: `${r.overwritten ? 'overwrote' : 'saved'} ${r.path}` },
        });
        return 'saved';
      } catch (error) {
        dispatch({ type: 'notice', notice: noticeOf(error, new AbortController().signal) });
        return 'failed';
      }
    },

    requestApply(phase) {
      const { plan, selected } = store.getState();
      const ids = new Set(stepIdsOf(phase));
      const chosen = (plan?.changes ?? []).filter((c) => ids.has(c.step) && selected.includes(c.id));
      if (chosen.length === 0) {
        dispatch({
          type: 'notice',
          notice: { kind: 'info', text: 'no change selected: select with space, or all with a' },
        });
        return;
      }
      dispatch({ type: 'push', screen: { id: 'confirm', phase } });
    },

    apply(phase) {
      idle(async () => {
        const plan = store.getState().plan;
        if (!plan) return;
        dispatch({ type: 'replace', screen: { id: 'applying', phase } });
        if (outDir !== undefined) {
          const r = await op({ kind: 'run', label: `writing remediated manifests to ${outDir}` }, (signal) =>
            store.getState().writeManifests(outDir, signal),
          );
          if (!r.ok) {
            dispatch({ type: 'replace', screen: { id: 'changes', phase } });
            dispatch({ type: 'notice', notice: r.notice });
            return;
          }
          const appliedByStep: Record<string, number> = {};
          for (const id of r.value.added) {
            const step = plan.changes.find((c) => c.id === id)?.step;
            if (step) appliedByStep[step] = (appliedByStep[step] ?? 0) + 1;
          }
          dispatch({
            type: 'ran',
            run: {
              runId: plan.id,
              target: 'manifests',
              state: 'written',
              appliedByStep,
              verified: {},
              undone: false,
            },
          });
          if (!current().quitWhenIdle) dispatch({ type: 'replace', screen: { id: 'summary', phase } });
          return;
        }
        const before = store.getState().report;
        const attempt = await op({ kind: 'run', label: 'applying' }, (signal) =>
          store.getState().apply(signal),
        );
        // The writes can be done and the verification after them fail: the run happened, show it.
        const report = attempt.ok
          ? attempt.value
          : store.getState().report !== before
            ? store.getState().report
            : undefined;
        if (!report) {
          dispatch({ type: 'replace', screen: { id: 'changes', phase } });
          if (!attempt.ok) dispatch({ type: 'notice', notice: attempt.notice });
          return;
        }
        const appliedByStep: Record<string, number> = {};
        for (const o of report.outcomes) {
          if (o.outcome === 'applied') appliedByStep[o.step] = (appliedByStep[o.step] ?? 0) + 1;
        }
        const verified: Record<string, boolean> = {};
        for (const [id, v] of Object.entries(store.getState().verifications)) verified[id] = v.ok;
        dispatch({
          type: 'ran',
          run: {
            runId: report.runId,
            target: 'cluster',
            state: report.state,
            appliedByStep,
            verified,
            undone: false,
          },
        });
        if (current().quitWhenIdle) return;
        dispatch({ type: 'replace', screen: { id: 'summary', phase } });
        if (!attempt.ok)
          dispatch({
            type: 'notice',
            notice: { ...attempt.notice, text: `after the writes: ${attempt.notice.text}` },
          });
        await refreshInventory();
      })();
    },

    decline() {
      dispatch({ type: 'back' });
      dispatch({ type: 'notice', notice: { kind: 'info', text: 'not confirmed: nothing was changed' } });
    },

    previewUndo(runId) {
      idle(async () => {
        dispatch({ type: 'push', screen: { id: 'undo', runId } });
        const r = await op({ kind: 'work', label: `previewing the undo of run ${runId}` }, (signal) =>
          store.getState().planUndo(runId, { signal }),
        );
        if (!r.ok) dispatch({ type: 'notice', notice: r.notice });
      })();
    },

    confirmUndo(runId) {
      idle(async () => {
        const r = await op({ kind: 'run', label: `undoing run ${runId}` }, (signal) =>
          store.getState().applyUndo(signal),
        );
        if (!r.ok) {
          dispatch({ type: 'notice', notice: r.notice });
          return;
        }
        const bad = r.value.filter((o) =>
          ['conflict', 'failed', 'forbidden', 'rejected', 'skipped'].includes(o.outcome),
        );
        if (bad.length === 0) dispatch({ type: 'undone', runId });
        await refreshInventory();
        dispatch({
          type: 'notice',
          notice:
            bad.length === 0
              ? { kind: 'info', text: `run ${runId} undone` }
              : {
                  kind: 'warn',
                  text: `run ${runId} partially undone: ${plural(bad.length, 'item')} left`,
                  hint: 'see each item below; run the undo again to re-check',
                },
        });
      })();
    },

    back() {
      if (current().busy?.kind === 'run') {
        dispatch({
          type: 'notice',
          notice: { kind: 'info', text: 'a run is in progress: Ctrl-C stops it after the change in flight' },
        });
        return;
      }
      dispatch({ type: 'back' });
    },

    quit() {
      const busy = current().busy;
      if (busy?.kind === 'run') {
        dispatch({ type: 'overlay', overlay: 'quit' });
        return;
      }
      if (busy) store.getState().interrupt();
      deps.exit(exitCodeNow(), false);
    },

    confirmQuit() {
      store.getState().interrupt();
      dispatch({ type: 'quitWhenIdle' });
      dispatch({
        type: 'notice',
        notice: { kind: 'warn', text: 'quitting after the change in flight (Ctrl-C to quit now)' },
      });
    },

    interrupt() {
      const w = current();
      if (!w.busy) {
        deps.exit(130, false);
        return;
      }
      if (w.interrupted) {
        deps.exit(130, true);
        return;
      }
      store.getState().interrupt();
      dispatch({ type: 'interrupted' });
      dispatch({
        type: 'notice',
        notice: {
          kind: 'warn',
          text:
            w.busy.kind === 'run'
              ? 'stopping after the change in flight… (Ctrl-C again to quit now)'
              : 'stopping… (Ctrl-C again to quit now)',
        },
      });
    },
  };
  return intents;
}

export function useIntents(deps: IntentDeps): Intents {
  // biome-ignore lint/correctness/useExhaustiveDependencies: created once per wizard; deps are stable refs
  return useMemo(() => createIntents(deps), []);
}
