import { useCallback } from 'react';
import {
  clampList,
  LIST_START,
  type ListAction,
  type ListState,
  listReducer,
  visibleRange,
} from '../state/list.js';
import { usePersistentState } from './use-persistent-state.js';

export interface ListHandle {
  state: ListState;
  start: number;
  end: number;
  act(action: ListAction): void;
  /** Handlers for the move bindings (up, down, pageUp, pageDown, home, end). */
  moves: Record<'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end', () => void>;
}

/** A virtualized list's cursor and window, kept across visits under `key`. */
export function useList(key: string, count: number, height: number): ListHandle {
  const [raw, setRaw] = usePersistentState<ListState>(key, LIST_START);
  const view = { count, height };
  const state = clampList(raw, view);
  const { start, end } = visibleRange(state, view);
  const act = useCallback(
    (action: ListAction) => setRaw((prev) => listReducer(prev, action, { count, height })),
    [count, height, setRaw],
  );
  return {
    state,
    start,
    end,
    act,
    moves: {
      up: () => act({ type: 'up' }),
      down: () => act({ type: 'down' }),
      pageUp: () => act({ type: 'pageUp' }),
      pageDown: () => act({ type: 'pageDown' }),
      home: () => act({ type: 'home' }),
      end: () => act({ type: 'end' }),
    },
  };
}
