/** The wizard's UI context: its state and dispatch, options, layout, key registry and intents. */
import { createContext, useContext } from 'react';
import type { Step } from '../engine/types.js';
import type { Intents } from './hooks/use-intents.js';
import type { KeyContext } from './keymap.js';
import type { WizardAction, WizardState } from './state/wizard.js';

export interface WizardOptions {
  /** `--out DIR` on the manifest source: "applying" writes remediated manifests there. */
  outDir?: string;
  /** `--read-only`: no apply or undo action is registered. */
  readOnly: boolean;
  /** Colour (off with --no-color, NO_COLOR or FORCE_COLOR=0). */
  color: boolean;
  /** `--kubeconfig`, repeated in the undo command shown after a run. */
  kubeconfig?: string;
  /** Fixed terminal size (tests, captures); default: the terminal's, following resizes. */
  size?: { columns: number; rows: number };
  /** The rollout's steps. @default STEPS */
  steps?: readonly Step<never>[];
  /** Connect and take the inventory on start. @default true */
  autoStart?: boolean;
}

export interface Layout {
  width: number;
  /** Rows available to a screen's body (the frame takes the rest). */
  bodyHeight: number;
}

export interface WizardContextValue {
  state: WizardState;
  dispatch: (action: WizardAction) => void;
  options: WizardOptions;
  steps: readonly Step<never>[];
  caps: KeyContext;
  layout: Layout;
  intents: Intents;
}

export const WizardContext = createContext<WizardContextValue | undefined>(undefined);

export function useWizard(): WizardContextValue {
  const value = useContext(WizardContext);
  if (!value) throw new Error('useWizard must be used inside the wizard <App>');
  return value;
}

/** `color` when colour is on, else undefined (Ink then writes no escape codes). */
export function useColor(): (color: string) => string | undefined {
  const { options } = useWizard();
  return (color: string) => (options.color ? color : undefined);
}
