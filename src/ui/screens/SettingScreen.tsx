import { Box, Text } from 'ink';
import { useMemo, useReducer } from 'react';
import type { SettingInput, SettingSpec } from '../../engine/types.js';
import { Frame } from '../components/Frame.js';
import { Picker } from '../components/Picker.js';
import { TextInput } from '../components/TextInput.js';
import { useList } from '../hooks/use-list.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import type { Choice } from '../model/findings.js';
import { clip, plural, wrapText } from '../model/format.js';
import {
  type EntryParser,
  type ListEditAction,
  type ListEditState,
  listEditReducer,
  listEditResult,
  listEditStart,
} from '../state/list-edit.js';
import { useHarden, useHardenStore } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

/**
 * A setting the phase asks before its preview (SettingSpec.ask). A choice (e.g. phase 3's same-namespace
 * traffic, phase 6's audit tier): one line per value on what it means, the value in effect marked •. A list (a
 * `multiple` setting without choices, e.g. phase 5's allow-list): the entries in effect (the setting, else what the
 * step proposes), each with what it covers; add, edit, remove, each entry checked with the flag's own parser (an
 * invalid one stays in the input with the error). A phase may ask several, one screen each (`index`): Enter on the
 * last previews the phase with the chosen values, on the others asks the next.
 */
export function SettingScreen({ phase, index = 0 }: { phase: number; index?: number }) {
  const { steps } = useWizard();
  const asks = useMemo(
    () => steps.filter((s) => s.phase === phase).flatMap((s) => (s.settings ?? []).filter((x) => x.ask)),
    [steps, phase],
  );
  const at: Position = { index, count: asks.length };
  const spec = asks[index];
  if (spec?.multiple && !spec.ask?.choices) return <ListSetting phase={phase} spec={spec} at={at} />;
  return <ChoiceSetting phase={phase} spec={spec} at={at} />;
}

/** Which of the phase's questions this is. */
interface Position {
  index: number;
  count: number;
}

const isLast = (at: Position) => at.index >= at.count - 1;
const ofCount = (at: Position) => (at.count > 1 ? ` (${at.index + 1}/${at.count})` : '');

/** Set the value and ask the next question, or (on the last) preview the phase with the values chosen. */
function useAnswer(phase: number, at: Position) {
  const { intents, dispatch } = useWizard();
  const store = useHardenStore();
  return {
    set(key: string, value: unknown) {
      if (isLast(at)) intents.chooseSetting(phase, key, value);
      else {
        store.getState().setSetting(key, value);
        dispatch({ type: 'push', screen: { id: 'setting', phase, index: at.index + 1 } });
      }
    },
    /** Nothing chosen: the step's own proposal. */
    skip() {
      if (isLast(at)) intents.planPhase(phase, { chosen: true });
      else dispatch({ type: 'push', screen: { id: 'setting', phase, index: at.index + 1 } });
    },
  };
}

function ChoiceSetting({ phase, spec, at }: { phase: number; spec: SettingSpec | undefined; at: Position }) {
  const { layout, caps, intents } = useWizard();
  const answer = useAnswer(phase, at);
  const c = useColor();
  const settings = useHarden((s) => s.settings);
  const parsed = (text: string) => {
    const r = spec?.parse(text);
    return r?.ok ? r.value : text;
  };
  const choices = useMemo(
    (): Choice[] =>
      Object.entries(spec?.ask?.choices ?? {}).map(([value, line]) => ({
        value,
        label: `${value.padEnd(10)} ${line}`,
      })),
    [spec],
  );
  // The value in effect is held parsed (`--registries-soak 7d` is 7): the marked choice is the one that parses to it.
  const effective = spec
    ? Object.hasOwn(settings, spec.key)
      ? settings[spec.key]
      : spec.default !== undefined
        ? parsed(String(spec.default))
        : undefined
    : undefined;
  const current =
    effective === undefined
      ? undefined
      : (choices.find((ch) => JSON.stringify(parsed(ch.value ?? '')) === JSON.stringify(effective))?.value ??
        String(effective));
  const list = useList(`setting:${phase}:${at.index}`, choices.length, Math.max(1, layout.bodyHeight - 4));
  const bindings = keymap('picker', caps);
  useScreenKeys({
    bindings,
    handlers: {
      ...list.moves,
      pick: () => {
        const choice = choices[list.state.cursor];
        if (spec && choice?.value !== undefined) answer.set(spec.key, parsed(choice.value));
      },
      back: intents.back,
    },
  });
  const { width } = layout;
  return (
    <Frame bindings={bindings}>
      <Text color={c('gray')} wrap="truncate-end">
        {clip(
          spec
            ? `Before the preview of phase ${phase}${ofCount(at)}: --${spec.flag} (${spec.key.split('.')[0]}). Enter ${isLast(at) ? 'previews with the choice' : 'asks the next'}.`
            : `phase ${phase} has nothing to choose`,
          width,
        )}
      </Text>
      <Text> </Text>
      {spec?.ask ? (
        <Picker title={spec.ask.title} choices={choices} list={list} value={current} width={width} />
      ) : null}
    </Frame>
  );
}

function ListSetting({ phase, spec, at }: { phase: number; spec: SettingSpec; at: Position }) {
  const { layout, caps, intents, dispatch } = useWizard();
  const answer = useAnswer(phase, at);
  const c = useColor();
  const store = useHardenStore();
  const settings = useHarden((s) => s.settings);
  const snapshot = useHarden((s) => s.snapshot);
  const assessment = useHarden((s) => s.assessment);
  const input = useMemo(
    (): SettingInput | undefined =>
      snapshot && assessment ? { snapshot, assessment, options: store.getState().stepOptions() } : undefined,
    [snapshot, assessment, store],
  );
  const given = Object.hasOwn(settings, spec.key) ? settings[spec.key] : undefined;
  const parse: EntryParser = (text) => {
    const r = spec.parse(text);
    return r.ok ? { ok: true, value: Array.isArray(r.value) ? r.value.map(String) : [String(r.value)] } : r;
  };
  const [state, act] = useReducer(
    (s: ListEditState, a: ListEditAction) => listEditReducer(s, a, parse),
    undefined,
    () =>
      listEditStart(
        Array.isArray(given) && given.length
          ? given.map(String)
          : input && spec.ask?.proposed
            ? spec.ask.proposed(input)
            : [],
      ),
  );
  const editing = state.editing;
  const bindings = keymap(editing ? 'list-edit-input' : 'list-edit', caps);
  useScreenKeys({
    bindings,
    handlers: editing
      ? {
          keepEntry: () => act({ type: 'commit' }),
          clearText: () => act({ type: 'text', action: { type: 'clear' } }),
          back: () => act({ type: 'cancel' }),
        }
      : {
          up: () => act({ type: 'up' }),
          down: () => act({ type: 'down' }),
          home: () => act({ type: 'home' }),
          end: () => act({ type: 'end' }),
          pageUp: () => act({ type: 'home' }),
          pageDown: () => act({ type: 'end' }),
          addEntry: () => act({ type: 'add' }),
          editEntry: () => act({ type: 'edit' }),
          removeEntry: () => act({ type: 'remove' }),
          pick: () => {
            const r = listEditResult(state);
            if (!r.ok) {
              dispatch({ type: 'notice', notice: { kind: 'error', text: r.error } });
              return;
            }
            // Unchanged and not given: preview with the step's own proposal (the setting stays unset).
            if (!state.edited && given === undefined) answer.skip();
            // Sorted, as the flag's parser gives it: the same entries make the same policy either way.
            else answer.set(spec.key, [...r.value].sort());
          },
          back: intents.back,
        },
    ...(editing ? { onText: (action) => act({ type: 'text', action }) } : {}),
  });
  const { width } = layout;
  const room = Math.max(1, layout.bodyHeight - (editing ? 9 : 6));
  const start = Math.max(0, Math.min(state.cursor - Math.floor(room / 2), state.items.length - room));
  const shown = state.items.slice(start, start + room);
  const outside = input && spec.ask?.outside?.(state.items, input);
  const source = state.edited ? 'edited here' : given !== undefined ? 'in effect' : 'proposed by the step';
  return (
    <Frame bindings={bindings} globalKeys={!editing}>
      <Text color={c('gray')} wrap="truncate-end">
        {clip(
          `Before the preview of phase ${phase}${ofCount(at)}: --${spec.flag}, ${plural(state.items.length, 'entry', 'entries')} ${source}. Enter ${isLast(at) ? 'previews with them' : 'asks the next'}.`,
          width,
        )}
      </Text>
      <Text> </Text>
      <Text bold>{clip(spec.ask?.title ?? spec.description, width)}</Text>
      {state.items.length === 0 ? (
        <Text color={c('yellow')}>{clip('  (empty: a adds an entry)', width)}</Text>
      ) : null}
      {shown.map((item, i) => {
        const at = start + i;
        const selected = at === state.cursor && !editing;
        const note = input && spec.ask?.annotate ? spec.ask.annotate(item, input) : '';
        return (
          <Text key={item} color={selected ? c('cyan') : undefined} bold={selected}>
            {clip(`${selected ? '›' : ' '} ${item.padEnd(28)} ${note}`, width)}
          </Text>
        );
      })}
      <Text> </Text>
      {outside ? <Text color={c('yellow')}>{clip(outside, width)}</Text> : <Text> </Text>}
      {editing ? (
        <Box flexDirection="column">
          <Text bold>
            {clip(
              editing.index === 'new'
                ? `New entry (${spec.type}):`
                : `Edit ${state.items[editing.index] ?? ''} (${spec.type}):`,
              width,
            )}
          </Text>
          <TextInput value={editing.text} width={width} />
          {editing.error ? (
            <Text color={c('red')}>
              {wrapText(`${editing.error}${editing.hint ? ` — ${editing.hint}` : ''}`, width, 3).join('\n')}
            </Text>
          ) : (
            <Text> </Text>
          )}
        </Box>
      ) : null}
    </Frame>
  );
}
