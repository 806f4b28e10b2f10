/**
 * Key bindings as data (k9s style): every screen's keys are a list of `{key, description, action, dangerous}`.
 * The same lists drive input dispatch, the one-line help bar and the `?` overlay. Bindings that write (or lead
 * straight to a write) are only registered when the session can write: with `--read-only`, or offline without
 * `--out`, they do not exist at all — there is nothing to press by mistake.
 */
import type { Key } from 'ink';

/** `up`, `down`, `pgup`, `pgdn`, `home`, `end`, `enter`, `esc`, `space`, `tab`, `backspace`, `ctrl+c`, or a character. */
export type KeyName = string;

export type ActionId =
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'home'
  | 'end'
  | 'continue'
  | 'retry'
  | 'open'
  | 'plan'
  | 'replan'
  | 'skip'
  | 'runs'
  | 'filterNamespace'
  | 'filterSeverity'
  | 'filterControl'
  | 'toggleExcepted'
  | 'clearFilters'
  | 'pick'
  | 'diff'
  | 'toggle'
  | 'selectAll'
  | 'selectNone'
  | 'takeOver'
  | 'saveArtifact'
  | 'evidence'
  | 'flip'
  | 'addEntry'
  | 'editEntry'
  | 'removeEntry'
  | 'keepEntry'
  | 'saveToPath'
  | 'overwrite'
  | 'clearText'
  | 'apply'
  | 'prevChange'
  | 'nextChange'
  | 'confirm'
  | 'decline'
  | 'submit'
  | 'undo'
  | 'phases'
  | 'help'
  | 'back'
  | 'quit'
  | 'interrupt';

export interface KeyBinding {
  key: KeyName;
  /** One line for the `?` overlay. */
  description: string;
  action: ActionId;
  /** Writes (to the cluster or `--out DIR`), or leads straight to a confirmation that does. */
  dangerous?: boolean;
  /** Text in the one-line help bar (`space toggle`); absent: only in the `?` overlay. */
  bar?: string;
}

/** What the session may do; decides which bindings exist. */
export interface KeyContext {
  /** Changes can be applied: a live writer without --read-only, or the manifest source with --out DIR. */
  canApply: boolean;
  /** Runs can be undone: a live writer without --read-only. */
  canUndo: boolean;
  /** Connected to a cluster (not a manifest source). */
  live: boolean;
}

export type KeymapId =
  | 'connect'
  | 'connect-failed'
  | 'phases'
  | 'phase-inventory'
  | 'phase-step'
  | 'picker'
  | 'list-edit'
  | 'list-edit-input'
  | 'changes'
  | 'evidence'
  | 'diff'
  | 'diff-undo'
  | 'confirm-yes-no'
  | 'confirm-typed'
  | 'save-artifact'
  | 'confirm-overwrite'
  | 'applying'
  | 'summary'
  | 'runs'
  | 'undo-preview'
  | 'undo-done'
  | 'help'
  | 'quit-prompt';

type Requires = 'apply' | 'undo' | 'live';
type Entry = KeyBinding & { requires?: Requires };

const MOVE: Entry[] = [
  { key: 'up', description: 'move up', action: 'up' },
  { key: 'k', description: 'move up', action: 'up' },
  { key: 'down', description: 'move down', action: 'down', bar: '↑↓ move' },
  { key: 'j', description: 'move down', action: 'down' },
  { key: 'pgup', description: 'page up', action: 'pageUp' },
  { key: 'pgdn', description: 'page down', action: 'pageDown' },
  { key: 'home', description: 'first row', action: 'home' },
  { key: 'g', description: 'first row', action: 'home' },
  { key: 'end', description: 'last row', action: 'end' },
  { key: 'G', description: 'last row', action: 'end' },
];

const SCROLL: Entry[] = [
  { key: 'up', description: 'scroll up', action: 'up' },
  { key: 'k', description: 'scroll up', action: 'up' },
  { key: 'down', description: 'scroll down', action: 'down', bar: '↑↓ scroll' },
  { key: 'j', description: 'scroll down', action: 'down' },
  { key: 'pgup', description: 'page up', action: 'pageUp' },
  { key: 'pgdn', description: 'page down', action: 'pageDown' },
  { key: 'home', description: 'top', action: 'home' },
  { key: 'g', description: 'top', action: 'home' },
  { key: 'end', description: 'bottom', action: 'end' },
  { key: 'G', description: 'bottom', action: 'end' },
];

const FILTERS: Entry[] = [
  { key: 'n', description: 'filter by namespace', action: 'filterNamespace', bar: 'n namespace' },
  { key: 'v', description: 'filter by minimum severity', action: 'filterSeverity', bar: 'v severity' },
  { key: 'c', description: 'filter by control', action: 'filterControl', bar: 'c control' },
  { key: 'x', description: 'hide / show excepted findings', action: 'toggleExcepted' },
  { key: '0', description: 'clear the filters', action: 'clearFilters' },
];

const KEYMAPS: Record<KeymapId, Entry[]> = {
  connect: [{ key: 'enter', description: 'continue to the phases', action: 'continue', bar: 'enter phases' }],
  'connect-failed': [{ key: 'r', description: 'try again', action: 'retry', bar: 'r retry' }],
  phases: [
    ...MOVE,
    { key: 'enter', description: 'open the phase: its findings', action: 'open', bar: 'enter open' },
    { key: 'p', description: 'preview the changes of the phase', action: 'plan', bar: 'p changes' },
    { key: 's', description: 'mark the phase skipped (again: not skipped)', action: 'skip', bar: 's skip' },
    {
      key: 'r',
      description: 'runs recorded for this context',
      action: 'runs',
      bar: 'r runs',
      requires: 'live',
    },
  ],
  'phase-inventory': [...MOVE, ...FILTERS],
  'phase-step': [
    ...MOVE,
    ...FILTERS,
    { key: 'p', description: 'preview the changes of the phase', action: 'plan', bar: 'p changes' },
  ],
  picker: [
    ...MOVE,
    { key: 'enter', description: 'choose', action: 'pick', bar: 'enter choose' },
    { key: 'esc', description: 'cancel', action: 'back', bar: 'esc cancel' },
  ],
  'list-edit': [
    ...MOVE,
    { key: 'a', description: 'add an entry', action: 'addEntry', bar: 'a add' },
    { key: 'e', description: 'edit the entry', action: 'editEntry', bar: 'e edit' },
    { key: 'd', description: 'remove the entry', action: 'removeEntry', bar: 'd remove' },
    { key: 'enter', description: 'preview the phase with this list', action: 'pick', bar: 'enter preview' },
    { key: 'esc', description: 'cancel: keep the list in effect', action: 'back', bar: 'esc cancel' },
  ],
  'list-edit-input': [
    { key: 'enter', description: 'keep the entry (checked first)', action: 'keepEntry', bar: 'enter keep' },
    { key: 'ctrl+u', description: 'clear the entry', action: 'clearText', bar: 'Ctrl-U clear' },
    { key: 'esc', description: 'drop the edit', action: 'back', bar: 'esc drop' },
  ],
  changes: [
    ...MOVE,
    { key: 'enter', description: 'show the diff of the change', action: 'diff', bar: 'enter diff' },
    {
      key: 'space',
      description: 'select / unselect the change',
      action: 'toggle',
      bar: 'space toggle',
      requires: 'apply',
    },
    {
      key: 'a',
      description: 'select all changes (optional ones only one by one)',
      action: 'selectAll',
      bar: 'a all',
      requires: 'apply',
    },
    { key: 'n', description: 'select no change', action: 'selectNone', bar: 'n none', requires: 'apply' },
    {
      key: 't',
      description: 'take over the fields another manager owns (force, on this change)',
      action: 'takeOver',
      dangerous: true,
      requires: 'apply',
    },
    {
      key: 'c',
      description: 'apply the selected changes (asks for confirmation)',
      action: 'apply',
      dangerous: true,
      bar: 'c apply…',
      requires: 'apply',
    },
    {
      key: 's',
      description: 'save the artifact of a manual change to a file (asks for the path)',
      action: 'saveArtifact',
    },
    { key: 'r', description: 'preview again', action: 'replan' },
    {
      key: 'e',
      description: 'the evidence behind each ServiceAccount token decision; flip decisions there (phase 4)',
      action: 'evidence',
    },
  ],
  evidence: [
    ...MOVE,
    {
      key: 'f',
      description: 'flip the decision (remove token ↔ keep token): the phase is previewed again',
      action: 'flip',
      bar: 'f flip',
    },
    { key: 'space', description: 'flip the decision', action: 'flip' },
    {
      key: 'enter',
      description: "show the diff of the workload's change",
      action: 'diff',
      bar: 'enter diff',
    },
  ],
  diff: [
    ...SCROLL,
    { key: 'left', description: 'previous change', action: 'prevChange' },
    { key: 'right', description: 'next change', action: 'nextChange', bar: '←→ change' },
    {
      key: 'space',
      description: 'select / unselect the change',
      action: 'toggle',
      bar: 'space toggle',
      requires: 'apply',
    },
    {
      key: 's',
      description: 'save the artifact of a manual change to a file (asks for the path)',
      action: 'saveArtifact',
    },
  ],
  'diff-undo': [...SCROLL],
  'save-artifact': [
    { key: 'enter', description: 'save to the path typed', action: 'saveToPath', bar: 'enter save' },
    { key: 'ctrl+u', description: 'clear the path', action: 'clearText', bar: 'Ctrl-U clear' },
    { key: 'esc', description: 'cancel: save nothing', action: 'back', bar: 'esc cancel' },
  ],
  'confirm-overwrite': [
    // A local file the operator named, not the cluster or --out: not "dangerous", and there in read-only too.
    { key: 'y', description: 'yes: replace the file', action: 'overwrite', bar: 'y overwrite' },
    { key: 'n', description: 'no: keep the file, change the path', action: 'decline', bar: 'n/enter/esc no' },
    { key: 'enter', description: 'no (the default)', action: 'decline' },
    { key: 'esc', description: 'no', action: 'decline' },
  ],
  'confirm-yes-no': [
    {
      key: 'y',
      description: 'yes: apply',
      action: 'confirm',
      dangerous: true,
      bar: 'y yes',
      requires: 'apply',
    },
    { key: 'n', description: 'no: change nothing', action: 'decline', bar: 'n/enter no' },
    { key: 'enter', description: 'no (the default)', action: 'decline' },
  ],
  'confirm-typed': [
    {
      key: 'enter',
      description: 'apply, if the text typed is the context name',
      action: 'submit',
      dangerous: true,
      bar: 'enter confirm',
      requires: 'apply',
    },
    { key: 'esc', description: 'cancel: change nothing', action: 'back', bar: 'esc cancel' },
  ],
  applying: [
    {
      key: 'ctrl+c',
      description: 'stop after the change in flight; press again to quit at once',
      action: 'interrupt',
      bar: 'Ctrl-C stop',
    },
  ],
  summary: [
    ...SCROLL,
    { key: 'enter', description: 'back to the phases', action: 'phases', bar: 'enter phases' },
    {
      key: 'u',
      description: 'undo this run (previewed, then confirmed)',
      action: 'undo',
      dangerous: true,
      bar: 'u undo',
      requires: 'undo',
    },
  ],
  runs: [
    ...MOVE,
    {
      key: 'u',
      description: 'undo the run (previewed, then confirmed)',
      action: 'undo',
      dangerous: true,
      bar: 'u undo',
      requires: 'undo',
    },
  ],
  'undo-preview': [
    ...MOVE,
    { key: 'enter', description: 'show the diff of the undo', action: 'diff', bar: 'enter diff' },
    {
      key: 'y',
      description: 'yes: undo the run',
      action: 'confirm',
      dangerous: true,
      bar: 'y undo',
      requires: 'undo',
    },
    { key: 'n', description: 'no: change nothing', action: 'decline', bar: 'n no' },
  ],
  'undo-done': [
    ...MOVE,
    { key: 'enter', description: 'back to the phases', action: 'phases', bar: 'enter phases' },
  ],
  help: [
    { key: '?', description: 'close the help', action: 'help', bar: '? close' },
    { key: 'esc', description: 'close the help', action: 'back', bar: 'esc close' },
  ],
  'quit-prompt': [
    { key: 'y', description: 'quit after the change in flight', action: 'confirm', bar: 'y quit' },
    { key: 'n', description: 'keep going', action: 'decline', bar: 'n/enter/esc no' },
    { key: 'enter', description: 'keep going (the default)', action: 'decline' },
    { key: 'esc', description: 'keep going', action: 'decline' },
  ],
};

/** Keys every screen has (the overlays have their own). */
export const GLOBAL_KEYS: readonly KeyBinding[] = Object.freeze([
  { key: '?', description: 'show every key of this screen', action: 'help', bar: '? help' },
  { key: 'esc', description: 'go back', action: 'back', bar: 'esc back' },
  { key: 'q', description: 'quit (asks first while a run is in progress)', action: 'quit', bar: 'q quit' },
  {
    key: 'ctrl+c',
    description: 'stop after the change in flight; press again to quit at once',
    action: 'interrupt',
  },
]);

function allowed(entry: Entry, ctx: KeyContext): boolean {
  if (entry.requires === 'apply') return ctx.canApply;
  if (entry.requires === 'undo') return ctx.canUndo;
  if (entry.requires === 'live') return ctx.live;
  return true;
}

/** The bindings of one screen in this session, without the global keys. */
export function keymap(id: KeymapId, ctx: KeyContext): KeyBinding[] {
  return KEYMAPS[id].filter((e) => allowed(e, ctx)).map(({ requires: _r, ...binding }) => binding);
}

/** Every keymap id (tests check them all). */
export const KEYMAP_IDS = Object.keys(KEYMAPS) as KeymapId[];

/** Ink's (input, key) → a key name as used in bindings. */
export function keyName(input: string, key: Key): KeyName {
  if (key.ctrl && input) return `ctrl+${input.toLowerCase()}`;
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pgup';
  if (key.pageDown) return 'pgdn';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape) return 'esc';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.backspace || key.delete) return 'backspace';
  if (input === ' ') return 'space';
  return input;
}

/** The binding a key triggers: the screen's first, then the global ones. */
export function resolveKey(
  name: KeyName,
  screen: readonly KeyBinding[],
  global: readonly KeyBinding[] = GLOBAL_KEYS,
): KeyBinding | undefined {
  return screen.find((b) => b.key === name) ?? global.find((b) => b.key === name);
}

const DISPLAY: Record<string, string> = {
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  pgup: 'PgUp',
  pgdn: 'PgDn',
  home: 'Home',
  end: 'End',
  enter: 'Enter',
  esc: 'Esc',
  space: 'Space',
  'ctrl+c': 'Ctrl-C',
  'ctrl+u': 'Ctrl-U',
};

export function displayKey(key: KeyName): string {
  return DISPLAY[key] ?? key;
}

/** The help bar's items, screen keys first, de-duplicated by text. */
export function barItems(
  screen: readonly KeyBinding[],
  global: readonly KeyBinding[],
): Array<{ text: string; dangerous: boolean }> {
  const seen = new Set<string>();
  const items: Array<{ text: string; dangerous: boolean }> = [];
  for (const b of [...screen, ...global]) {
    if (!b.bar || seen.has(b.bar)) continue;
    // A screen binding shadows a global one on the same key (e.g. esc = cancel).
    if (global.includes(b) && screen.some((s) => s.key === b.key)) continue;
    seen.add(b.bar);
    items.push({ text: b.bar, dangerous: b.dangerous === true });
  }
  return items;
}
