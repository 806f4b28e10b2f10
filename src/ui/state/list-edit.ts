/**
 * Editing a list setting in the wizard (SettingSpec.multiple with `ask`, e.g. phase 5's allow-list), as a pure
 * reducer: move between the entries, add one, edit one, remove one. What is typed is checked with the setting's
 * own parser (the flag's: `--allow-registry`) when committed; an invalid entry stays in the input with the error
 * beside it — nothing typed is lost — until it is fixed or the edit is cancelled. Entries stay unique.
 */
import { type TextInputAction, textInputReducer } from './text-input.js';

/** The setting's parser: one typed value (a comma list is several entries) → the normalised entries. */
export type EntryParser = (
  text: string,
) => { ok: true; value: readonly string[] } | { ok: false; error: string; hint?: string };

export interface ListEditing {
  /** The entry being edited, or `new` for an added one. */
  index: number | 'new';
  text: string;
  error?: string;
  hint?: string;
}

export interface ListEditState {
  items: string[];
  cursor: number;
  editing?: ListEditing;
  /** Set when the list was changed from what was proposed. */
  edited: boolean;
}

export type ListEditAction =
  | { type: 'up' }
  | { type: 'down' }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'add' }
  | { type: 'edit' }
  | { type: 'remove' }
  | { type: 'text'; action: TextInputAction }
  | { type: 'commit' }
  | { type: 'cancel' };

export function listEditStart(items: readonly string[]): ListEditState {
  return { items: [...new Set(items)], cursor: 0, edited: false };
}

const clamp = (n: number, count: number) => Math.max(0, Math.min(n, Math.max(0, count - 1)));

export function listEditReducer(
  state: ListEditState,
  action: ListEditAction,
  parse: EntryParser,
): ListEditState {
  const { items } = state;
  if (state.editing) {
    const editing = state.editing;
    switch (action.type) {
      case 'text':
        // Typing clears the error: it is shown again on the next commit if still wrong.
        return {
          ...state,
          editing: { index: editing.index, text: textInputReducer(editing.text, action.action) },
        };
      case 'cancel':
        return { ...state, editing: undefined };
      case 'commit': {
        const r = parse(editing.text);
        if (!r.ok)
          return {
            ...state,
            editing: { ...editing, error: r.error, ...(r.hint ? { hint: r.hint } : { hint: undefined }) },
          };
        const others = editing.index === 'new' ? items : items.filter((_, i) => i !== editing.index);
        const added = r.value.filter((v) => !others.includes(v));
        const at = editing.index === 'new' ? items.length : editing.index;
        const next = [...others.slice(0, at), ...added, ...others.slice(at)];
        const unchanged = editing.index !== 'new' && added.length === 1 && added[0] === items[editing.index];
        return {
          items: next,
          cursor: clamp(added.length ? at : Math.min(at, next.length - 1), next.length),
          edited: state.edited || !unchanged,
        };
      }
      default:
        return state;
    }
  }
  switch (action.type) {
    case 'up':
      return { ...state, cursor: clamp(state.cursor - 1, items.length) };
    case 'down':
      return { ...state, cursor: clamp(state.cursor + 1, items.length) };
    case 'home':
      return { ...state, cursor: 0 };
    case 'end':
      return { ...state, cursor: clamp(items.length - 1, items.length) };
    case 'add':
      return { ...state, editing: { index: 'new', text: '' } };
    case 'edit': {
      const item = items[state.cursor];
      return item === undefined
        ? { ...state, editing: { index: 'new', text: '' } }
        : { ...state, editing: { index: state.cursor, text: item } };
    }
    case 'remove': {
      if (items[state.cursor] === undefined) return state;
      const next = items.filter((_, i) => i !== state.cursor);
      return { items: next, cursor: clamp(state.cursor, next.length), edited: true };
    }
    default:
      return state;
  }
}

/** The list to use, or why it cannot be (an entry still being typed, or none at all). */
export function listEditResult(
  state: ListEditState,
): { ok: true; value: string[] } | { ok: false; error: string } {
  if (state.editing)
    return { ok: false, error: 'an entry is still being edited: Enter keeps it, Esc drops it' };
  if (state.items.length === 0) return { ok: false, error: 'the list is empty: add at least one entry (a)' };
  return { ok: true, value: [...state.items] };
}
