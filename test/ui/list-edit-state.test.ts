/**
 * The wizard's list editor as a pure reducer (src/ui/state/list-edit.ts), with phase 5's allow-list parser (the
 * one `--allow-registry` uses): add, edit, remove; an invalid entry stays typed with the error beside it; entries
 * stay unique; nothing is lost on a bad commit; the result refuses an empty list or an edit in progress.
 */
import { describe, expect, it } from 'vitest';
import { parseAllowList } from '../../src/policy/registries/index.js';
import {
  type EntryParser,
  type ListEditAction,
  type ListEditState,
  listEditReducer,
  listEditResult,
  listEditStart,
} from '../../src/ui/state/list-edit.js';

const parse: EntryParser = (text) => parseAllowList(text);
const run = (state: ListEditState, ...actions: ListEditAction[]) =>
  actions.reduce((s, a) => listEditReducer(s, a, parse), state);
const type = (text: string): ListEditAction => ({ type: 'text', action: { type: 'insert', text } });

describe('list editing', () => {
  const start = listEditStart(['docker.io', 'ghcr.io', 'quay.io']);

  it('starts on the first entry, unedited, duplicates dropped', () => {
    expect(listEditStart(['a.io', 'a.io', 'b.io']).items).toEqual(['a.io', 'b.io']);
    expect(start).toEqual({ items: ['docker.io', 'ghcr.io', 'quay.io'], cursor: 0, edited: false });
  });

  it('moves within the list', () => {
    expect(run(start, { type: 'down' }, { type: 'down' }, { type: 'down' }).cursor).toBe(2);
    expect(run(start, { type: 'up' }).cursor).toBe(0);
    expect(run(start, { type: 'end' }).cursor).toBe(2);
    expect(run(start, { type: 'end' }, { type: 'home' }).cursor).toBe(0);
  });

  it('adds an entry, normalised by the flag parser, at the end', () => {
    const s = run(start, { type: 'add' }, type('index.docker.io/library/'), { type: 'commit' });
    expect(s.items).toEqual(['docker.io', 'ghcr.io', 'quay.io', 'docker.io/library']);
    expect(s.cursor).toBe(3);
    expect(s.edited).toBe(true);
    expect(s.editing).toBeUndefined();
  });

  it('a comma list adds several; one already there is not added twice', () => {
    const s = run(start, { type: 'add' }, type('ghcr.io, registry.example.com:5000/team'), {
      type: 'commit',
    });
    expect(s.items).toEqual(['docker.io', 'ghcr.io', 'quay.io', 'registry.example.com:5000/team']);
  });

  it('an invalid entry stays in the input with the error and hint; fixing it commits', () => {
    let s = run(start, { type: 'add' }, type('nginx'), { type: 'commit' });
    expect(s.items).toEqual(start.items);
    expect(s.editing).toMatchObject({
      index: 'new',
      text: 'nginx',
      error: expect.stringMatching(/does not start with a registry host/),
      hint: expect.stringMatching(/docker.io\/library\/nginx/),
    });
    // Typing clears the error (shown again on the next commit if still wrong); nothing typed is lost.
    s = run(s, type('.example.com'));
    expect(s.editing).toEqual({ index: 'new', text: 'nginx.example.com' });
    s = run(s, { type: 'commit' });
    expect(s.items.at(-1)).toBe('nginx.example.com');
    for (const bad of ['https://ghcr.io', 'ghcr.io/*', 'ghcr.io/acme@sha256:00', ''])
      expect(run(start, { type: 'add' }, type(bad), { type: 'commit' }).editing?.error, bad).toBeDefined();
  });

  it('edits the entry under the cursor in place; unchanged is not an edit', () => {
    let s = run(start, { type: 'down' }, { type: 'edit' });
    expect(s.editing).toEqual({ index: 1, text: 'ghcr.io' });
    s = run(s, type('/acme'), { type: 'commit' });
    expect(s.items).toEqual(['docker.io', 'ghcr.io/acme', 'quay.io']);
    expect(s.cursor).toBe(1);
    expect(run(start, { type: 'edit' }, { type: 'commit' }).edited).toBe(false);
    // Edited into one that exists elsewhere: merged.
    expect(
      run(start, { type: 'edit' }, { type: 'text', action: { type: 'clear' } }, type('quay.io'), {
        type: 'commit',
      }).items,
    ).toEqual(['ghcr.io', 'quay.io']);
  });

  it('cancel drops the edit and keeps the list', () => {
    const s = run(start, { type: 'edit' }, type('x'), { type: 'cancel' });
    expect(s).toEqual(start);
  });

  it('removes the entry under the cursor', () => {
    const s = run(start, { type: 'end' }, { type: 'remove' });
    expect(s.items).toEqual(['docker.io', 'ghcr.io']);
    expect(s.cursor).toBe(1);
    expect(run(s, { type: 'remove' }, { type: 'remove' }, { type: 'remove' }).items).toEqual([]);
  });

  it('the result: the list, or why not (empty, or an entry still being typed)', () => {
    expect(listEditResult(start)).toEqual({ ok: true, value: start.items });
    expect(listEditResult(run(start, { type: 'add' }))).toEqual({
      ok: false,
      error: expect.stringMatching(/still being edited/),
    });
    const empty = run(start, { type: 'remove' }, { type: 'remove' }, { type: 'remove' });
    expect(listEditResult(empty)).toEqual({ ok: false, error: expect.stringMatching(/empty/) });
    // Editing on an empty list adds.
    expect(run(empty, { type: 'edit' }).editing).toEqual({ index: 'new', text: '' });
  });
});
