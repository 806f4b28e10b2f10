import { createContext, useCallback, useContext, useState } from 'react';

/** Per-screen view state (cursor, filters) that outlives the screen: Esc back finds the list where it was. */
export const ViewStateContext = createContext<Map<string, unknown>>(new Map());

/** `useState` kept in the wizard's view map under `key`; a new key starts from what the map holds for it. */
export function usePersistentState<T>(key: string, initial: T): [T, (next: T | ((prev: T) => T)) => void] {
  const views = useContext(ViewStateContext);
  const stored = (k: string): T => (views.has(k) ? (views.get(k) as T) : initial);
  const [entry, setEntry] = useState(() => ({ key, value: stored(key) }));
  const value = entry.key === key ? entry.value : stored(key);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `initial` only seeds a key never seen
  const set = useCallback(
    (next: T | ((prev: T) => T)) =>
      setEntry((prev) => {
        const base = prev.key === key ? prev.value : views.has(key) ? (views.get(key) as T) : initial;
        const v = typeof next === 'function' ? (next as (p: T) => T)(base) : next;
        views.set(key, v);
        return { key, value: v };
      }),
    [key, views],
  );
  return [value, set];
}
