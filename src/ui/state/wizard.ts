import type { PhaseReview } from '../model/phases.js';

/**
 * The wizard's own state, apart from the domain store: where the operator is (a stack of screens; Esc pops),
 * which overlay is open, the notice line, the operation in flight, and what this session applied. Pure.
 */

export type Screen =
  | { id: 'connect' }
  | { id: 'phases' }
  | { id: 'phase'; phase: number }
  | { id: 'changes'; phase: number }
  /**
   * A step setting the wizard asks before previewing the phase (SettingSpec.ask); `index`: which of the phase's
   * questions, in step and setting order (default 0).
   */
  | { id: 'setting'; phase: number; index?: number }
  /** Phase 4: each workload's token decision and its evidence; the operator flips decisions here. */
  | { id: 'evidence'; phase: number }
  | { id: 'diff'; phase: number; changeId: string }
  /** Save the artifact of a manual change to a file. */
  | { id: 'save-artifact'; phase: number; changeId: string }
  | { id: 'confirm'; phase: number }
  | { id: 'applying'; phase: number }
  | { id: 'summary'; phase: number }
  | { id: 'runs' }
  | { id: 'undo'; runId: string }
  | { id: 'undo-diff'; runId: string; index: number };

export interface Notice {
  kind: 'info' | 'warn' | 'error';
  text: string;
  hint?: string;
}

/** A long operation in flight. `run`: it writes (apply, undo) — quitting asks first. */
export interface Busy {
  kind: 'work' | 'run';
  label: string;
  /** Nobody waits for it (the inventory refresh after a write): the next intent runs when it is done. */
  background?: boolean;
}

/** A run applied (or manifests written) in this session: drives the phases' applied / verified status. */
export interface SessionRun {
  runId: string;
  target: 'cluster' | 'manifests';
  state: 'complete' | 'interrupted' | 'failed' | 'written';
  /** Changes applied, per step id. */
  appliedByStep: Record<string, number>;
  /** Verification result per step id (steps that have a verify). */
  verified: Record<string, boolean>;
  undone: boolean;
}

export interface WizardState {
  stack: Screen[];
  overlay: 'help' | 'quit' | null;
  notice?: Notice;
  busy?: Busy;
  /** The first Ctrl-C was pressed during the operation in flight. */
  interrupted: boolean;
  /** Quit as soon as the operation in flight settles (confirmed `q` during a run). */
  quitWhenIdle: boolean;
  history: SessionRun[];
  skipped: number[];
  /** The cluster changed since the plan in the store was made (this session wrote): preview again. */
  planStale: boolean;
  /** Per phase that writes nothing (manual or review steps): what its last preview found. */
  reviews: Record<number, PhaseReview>;
}

export type WizardAction =
  | { type: 'push'; screen: Screen }
  | { type: 'back' }
  | { type: 'replace'; screen: Screen }
  | { type: 'reset'; stack: Screen[] }
  | { type: 'overlay'; overlay: WizardState['overlay'] }
  | { type: 'notice'; notice?: Notice }
  | { type: 'busy'; busy?: Busy }
  | { type: 'interrupted' }
  | { type: 'quitWhenIdle' }
  | { type: 'ran'; run: SessionRun }
  | { type: 'undone'; runId: string }
  | { type: 'skip'; phase: number }
  | { type: 'planStale'; stale: boolean }
  | { type: 'reviewed'; phase: number; review: PhaseReview };

export function initialWizardState(): WizardState {
  return {
    stack: [{ id: 'connect' }],
    overlay: null,
    interrupted: false,
    quitWhenIdle: false,
    history: [],
    skipped: [],
    planStale: false,
    reviews: {},
  };
}

export function currentScreen(state: WizardState): Screen {
  return state.stack[state.stack.length - 1] ?? { id: 'connect' };
}

export function wizardReducer(state: WizardState, action: WizardAction): WizardState {
  switch (action.type) {
    case 'push':
      return { ...state, stack: [...state.stack, action.screen], notice: undefined, overlay: null };
    case 'back':
      return state.stack.length <= 1
        ? state
        : { ...state, stack: state.stack.slice(0, -1), notice: undefined, overlay: null };
    case 'replace':
      return {
        ...state,
        stack: [...state.stack.slice(0, -1), action.screen],
        notice: undefined,
        overlay: null,
      };
    case 'reset':
      return { ...state, stack: action.stack, notice: undefined, overlay: null };
    case 'overlay':
      return { ...state, overlay: action.overlay };
    case 'notice':
      return { ...state, notice: action.notice };
    case 'busy':
      return action.busy
        ? { ...state, busy: action.busy, interrupted: false }
        : { ...state, busy: undefined, interrupted: false };
    case 'interrupted':
      return { ...state, interrupted: true };
    case 'quitWhenIdle':
      return { ...state, quitWhenIdle: true, overlay: null };
    case 'ran':
      return {
        ...state,
        history: [...state.history, action.run],
        planStale: action.run.target === 'cluster',
      };
    case 'undone':
      return {
        ...state,
        history: state.history.map((r) => (r.runId === action.runId ? { ...r, undone: true } : r)),
        planStale: true,
      };
    case 'skip':
      return {
        ...state,
        skipped: state.skipped.includes(action.phase)
          ? state.skipped.filter((p) => p !== action.phase)
          : [...state.skipped, action.phase],
      };
    case 'planStale':
      return { ...state, planStale: action.stale };
    case 'reviewed':
      return { ...state, reviews: { ...state.reviews, [action.phase]: action.review } };
  }
}
