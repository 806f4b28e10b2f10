/** Keys are data: the same bindings drive dispatch, the help bar and the `?` overlay; read-only has no writes. */
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import {
  barItems,
  GLOBAL_KEYS,
  KEYMAP_IDS,
  type KeyContext,
  keymap,
  keyName,
  resolveKey,
} from '../../src/ui/keymap.js';

const WRITE_ACTIONS = ['toggle', 'selectAll', 'selectNone', 'takeOver', 'apply', 'confirm', 'submit', 'undo'];
const READ_ONLY: KeyContext = { canApply: false, canUndo: false, live: true };
const READ_WRITE: KeyContext = { canApply: true, canUndo: true, live: true };

const key = (over: Partial<Key>): Key => ({
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
  ...over,
});

describe('keymap', () => {
  it('registers no apply, selection or undo action at all in a read-only session', () => {
    for (const id of KEYMAP_IDS.filter((k) => k !== 'quit-prompt')) {
      const actions = keymap(id, READ_ONLY).map((b) => b.action);
      for (const a of WRITE_ACTIONS) expect(actions, `${id} has ${a}`).not.toContain(a);
      expect(keymap(id, READ_ONLY).some((b) => b.dangerous)).toBe(false);
    }
  });

  it('registers them when the session can write, every one of them marked dangerous or harmless by data', () => {
    const changes = keymap('changes', READ_WRITE);
    expect(changes.find((b) => b.key === 'c')).toMatchObject({ action: 'apply', dangerous: true });
    expect(changes.find((b) => b.key === 't')).toMatchObject({ action: 'takeOver', dangerous: true });
    expect(changes.find((b) => b.key === 'space')).toMatchObject({ action: 'toggle' });
    expect(keymap('confirm-yes-no', READ_WRITE).find((b) => b.key === 'y')).toMatchObject({
      action: 'confirm',
      dangerous: true,
    });
    expect(keymap('summary', READ_WRITE).find((b) => b.key === 'u')).toMatchObject({ dangerous: true });
  });

  it('offline with --out can apply (write files) but never undo', () => {
    const ctx: KeyContext = { canApply: true, canUndo: false, live: false };
    expect(keymap('changes', ctx).map((b) => b.action)).toContain('apply');
    expect(keymap('summary', ctx).map((b) => b.action)).not.toContain('undo');
    expect(keymap('phases', ctx).map((b) => b.action)).not.toContain('runs');
  });

  it('never binds Enter to a confirmation: on y/N Enter answers no', () => {
    const yesNo = keymap('confirm-yes-no', READ_WRITE);
    expect(yesNo.find((b) => b.key === 'enter')?.action).toBe('decline');
    expect(keymap('undo-preview', READ_WRITE).find((b) => b.key === 'enter')?.action).toBe('diff');
  });

  it('draws the help bar from the same data, screen keys first, shadowed global keys left out', () => {
    const items = barItems(keymap('picker', READ_WRITE), GLOBAL_KEYS).map((i) => i.text);
    expect(items).toEqual(['↑↓ move', 'enter choose', 'esc cancel', '? help', 'q quit']);
    const apply = barItems(keymap('changes', READ_WRITE), GLOBAL_KEYS).find((i) => i.text === 'c apply…');
    expect(apply?.dangerous).toBe(true);
  });

  it('resolves a key against the screen first, then the global keys', () => {
    expect(resolveKey('esc', keymap('picker', READ_WRITE))?.description).toBe('cancel');
    expect(resolveKey('esc', keymap('phases', READ_WRITE))?.description).toBe('go back');
    expect(resolveKey('?', [])?.action).toBe('help');
    expect(resolveKey('z', keymap('phases', READ_WRITE))).toBeUndefined();
  });

  it('names keys from Ink input', () => {
    expect(keyName('', key({ upArrow: true }))).toBe('up');
    expect(keyName('', key({ pageDown: true }))).toBe('pgdn');
    expect(keyName('', key({ return: true }))).toBe('enter');
    expect(keyName('', key({ escape: true, meta: true }))).toBe('esc');
    expect(keyName('c', key({ ctrl: true }))).toBe('ctrl+c');
    expect(keyName(' ', key({}))).toBe('space');
    expect(keyName('G', key({ shift: true }))).toBe('G');
    expect(keyName('', key({ backspace: true }))).toBe('backspace');
  });
});
