/**
 * The session's zustand vanilla store, handed to the components through React context (zustand's "store in
 * context" pattern): one store per wizard (and per test), no module-level singleton.
 */
import { createContext, type ReactNode, useContext } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { HardenState, HardenStore } from '../store/store.js';

const StoreContext = createContext<HardenStore | undefined>(undefined);

export function StoreProvider({ store, children }: { store: HardenStore; children: ReactNode }) {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

/** The store itself, to dispatch actions. Throws outside a StoreProvider. */
export function useHardenStore(): HardenStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useHardenStore must be used inside <StoreProvider>');
  return store;
}

/** One slice of the state; re-renders only when it changes (`Object.is`). */
export function useHarden<T>(selector: (state: HardenState) => T): T {
  return useStore(useHardenStore(), selector);
}

/** Several fields at once, compared shallowly (a fresh object per render would loop). */
export function useHardenShallow<T extends object>(selector: (state: HardenState) => T): T {
  return useStore(useHardenStore(), useShallow(selector));
}
