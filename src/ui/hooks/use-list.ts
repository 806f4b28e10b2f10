import { useCallback, useRef } from 'react';
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
  /**
   * The cursor and window as of the last move, even before the screen re-rendered: keys that arrive together
   * (typed ahead while the wizard was busy) act on the row the earlier ones moved to, not on the rendered one.
   */
  current(): ListState;
  /** Handlers for the move bindings (up, down, pageUp, pageDown, home, end). */
  moves: Record<'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end', () => void>;
}

/** A virtualized list's cursor and window, kept across visits under `key`. */
export function useList(key: string, count: number, height: number): ListHandle {
  const [raw, setRaw] = usePersistentState<ListState>(key, LIST_START);
  const view = { count, height };
  const state = clampList(raw, view);
  const { start, end } = visibleRange(state, view);
  const latest = useRef(state);
  latest.current = state;
  const act = useCallback(
    (action: ListAction) => {
      const next = listReducer(latest.current, action, { count, height });
      latest.current = next;
      setRaw(next);
    },
    [count, height, setRaw],
  );
  return {
    state,
    start,
    end,
    act,
    current: () => latest.current,
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
