import { createContext, useContext, useLayoutEffect } from 'react';
import type { ActionId, KeyBinding } from '../keymap.js';
import type { TextInputAction } from '../state/text-input.js';

export interface ScreenKeys {
  bindings: readonly KeyBinding[];
  handlers: Partial<Record<ActionId, () => void>>;
  /** A text input has the focus: other keys are typed into it; only the screen's keys and Ctrl-C act. */
  onText?: (action: TextInputAction) => void;
}

export const KeyRegistryContext = createContext<{ current: ScreenKeys | undefined }>({ current: undefined });

/** Register the keys of the screen on top; the wizard's one input handler dispatches to them. */
export function useScreenKeys(keys: ScreenKeys): void {
  const registry = useContext(KeyRegistryContext);
  useLayoutEffect(() => {
    registry.current = keys;
    return () => {
      if (registry.current === keys) registry.current = undefined;
    };
  });
}
