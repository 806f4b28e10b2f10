/**
 * Cursor and scroll position of a virtualized list: only rows `offset … offset+height-1` are mounted, so a list
 * of 10,000 findings costs what 20 rows cost. Pure: the count and the height come from the caller.
 */

export interface ListState {
  cursor: number;
  offset: number;
}

export interface ListView {
  /** Rows in the list. */
  count: number;
  /** Rows that fit on screen. */
  height: number;
}

export type ListAction =
  | { type: 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end' }
  | { type: 'select'; index: number };

export const LIST_START: ListState = Object.freeze({ cursor: 0, offset: 0 });

/** Keep the cursor inside the list and the window around the cursor. */
export function clampList(state: ListState, view: ListView): ListState {
  const height = Math.max(1, view.height);
  const last = Math.max(0, view.count - 1);
  const cursor = Math.min(Math.max(0, state.cursor), last);
  let offset = Math.min(Math.max(0, state.offset), Math.max(0, view.count - height));
  if (cursor < offset) offset = cursor;
  if (cursor >= offset + height) offset = cursor - height + 1;
  return cursor === state.cursor && offset === state.offset ? state : { cursor, offset };
}

export function listReducer(state: ListState, action: ListAction, view: ListView): ListState {
  const height = Math.max(1, view.height);
  const page = Math.max(1, height - 1);
  const s = clampList(state, view);
  switch (action.type) {
    case 'up':
      return clampList({ ...s, cursor: s.cursor - 1 }, view);
    case 'down':
      return clampList({ ...s, cursor: s.cursor + 1 }, view);
    case 'pageUp':
      return clampList({ cursor: s.cursor - page, offset: s.offset - page }, view);
    case 'pageDown':
      return clampList({ cursor: s.cursor + page, offset: s.offset + page }, view);
    case 'home':
      return clampList({ cursor: 0, offset: 0 }, view);
    case 'end':
      return clampList({ cursor: view.count - 1, offset: view.count - height }, view);
    case 'select':
      return clampList({ ...s, cursor: action.index }, view);
  }
}

/** The rows to mount: `[start, end)`. */
export function visibleRange(state: ListState, view: ListView): { start: number; end: number } {
  const s = clampList(state, view);
  return { start: s.offset, end: Math.min(view.count, s.offset + Math.max(1, view.height)) };
}

/** Scrolling without a cursor (the diff view): the offset only. */
export function scrollReducer(
  offset: number,
  action: Exclude<ListAction, { type: 'select' }>,
  view: ListView,
): number {
  const height = Math.max(1, view.height);
  const max = Math.max(0, view.count - height);
  const next =
    action.type === 'up'
      ? offset - 1
      : action.type === 'down'
        ? offset + 1
        : action.type === 'pageUp'
          ? offset - Math.max(1, height - 1)
          : action.type === 'pageDown'
            ? offset + Math.max(1, height - 1)
            : action.type === 'home'
              ? 0
              : max;
  return Math.min(Math.max(0, next), max);
}
