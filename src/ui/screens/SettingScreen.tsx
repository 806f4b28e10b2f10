import { Text } from 'ink';
import { useMemo } from 'react';
import { Frame } from '../components/Frame.js';
import { Picker } from '../components/Picker.js';
import { useList } from '../hooks/use-list.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import type { Choice } from '../model/findings.js';
import { clip } from '../model/format.js';
import { useHarden, useHardenStore } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

/**
 * A choice the phase asks before its preview (SettingSpec.ask, e.g. phase 3's same-namespace traffic, phase 6's
 * audit tier): one line per value on what it means, the value in effect marked •. A phase may ask several, one
 * screen each (`index`): Enter on the last previews the phase with the chosen values, on the others asks the next.
 */
export function SettingScreen({ phase, index = 0 }: { phase: number; index?: number }) {
  const { layout, caps, steps, intents, dispatch } = useWizard();
  const store = useHardenStore();
  const c = useColor();
  const settings = useHarden((s) => s.settings);
  const asks = useMemo(
    () => steps.filter((s) => s.phase === phase).flatMap((s) => (s.settings ?? []).filter((x) => x.ask)),
    [steps, phase],
  );
  const spec = asks[index];
  const last = index >= asks.length - 1;
  const parsed = (text: string) => {
    const r = spec?.parse(text);
    return r?.ok ? r.value : text;
  };
  const current = spec
    ? String(Object.hasOwn(settings, spec.key) ? settings[spec.key] : (spec.default ?? ''))
    : undefined;
  const choices = useMemo(
    (): Choice[] =>
      Object.entries(spec?.ask?.choices ?? {}).map(([value, line]) => ({
        value,
        label: `${value.padEnd(10)} ${line}`,
      })),
    [spec],
  );
  const list = useList(`setting:${phase}:${index}`, choices.length, Math.max(1, layout.bodyHeight - 4));
  const bindings = keymap('picker', caps);
  useScreenKeys({
    bindings,
    handlers: {
      ...list.moves,
      pick: () => {
        const choice = choices[list.state.cursor];
        if (!spec || choice?.value === undefined) return;
        if (last) intents.chooseSetting(phase, spec.key, parsed(choice.value));
        else {
          store.getState().setSetting(spec.key, parsed(choice.value));
          dispatch({ type: 'push', screen: { id: 'setting', phase, index: index + 1 } });
        }
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
            ? `Before the preview of phase ${phase}${asks.length > 1 ? ` (${index + 1}/${asks.length})` : ''}: --${spec.flag} (${spec.key.split('.')[0]}). Enter ${last ? 'previews with the choice' : 'asks the next'}.`
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
