import { Box, Text } from 'ink';
import { useState } from 'react';
import { defaultArtifactPath } from '../../engine/artifact.js';
import { Frame } from '../components/Frame.js';
import { TextInput } from '../components/TextInput.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { clip, plural, wrapText } from '../model/format.js';
import { textInputReducer } from '../state/text-input.js';
import { useHardenShallow } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

/**
 * Save the artifact of a manual change: the path is proposed (under the current directory) and editable; an
 * existing file is replaced only after a y/N question whose default is no.
 */
export function SaveArtifactScreen({ changeId }: { changeId: string }) {
  const { layout, caps, intents, dispatch } = useWizard();
  const c = useColor();
  const s = useHardenShallow((st) => ({ plan: st.plan }));
  const change = s.plan?.changes.find((ch) => ch.id === changeId);
  const [path, setPath] = useState(() => (change ? defaultArtifactPath(change) : ''));
  const [mode, setMode] = useState<'edit' | 'overwrite' | 'saving'>('edit');
  const save = (overwrite: boolean) => {
    setMode('saving');
    void intents.saveArtifact(changeId, path, overwrite).then((r) => {
      if (r !== 'saved') setMode(r === 'exists' ? 'overwrite' : 'edit');
    });
  };
  const bindings = keymap(mode === 'overwrite' ? 'confirm-overwrite' : 'save-artifact', caps);
  useScreenKeys({
    bindings,
    handlers:
      mode === 'overwrite'
        ? {
            overwrite: () => save(true),
            decline: () => {
              setMode('edit');
              dispatch({ type: 'notice', notice: { kind: 'info', text: `${path} was not overwritten` } });
            },
          }
        : {
            saveToPath: () => mode === 'edit' && save(false),
            clearText: () => setPath(''),
            back: () => dispatch({ type: 'back' }),
          },
    ...(mode === 'edit' ? { onText: (action) => setPath((v) => textInputReducer(v, action)) } : {}),
  });
  const { width } = layout;
  if (!change?.artifact) {
    return (
      <Frame bindings={bindings}>
        <Text>the change is no longer in the plan</Text>
      </Frame>
    );
  }
  const lines = change.artifact.content.replace(/\n$/, '').split('\n').length;
  return (
    <Frame bindings={bindings} globalKeys={false}>
      <Text bold wrap="truncate-end">
        {clip(`Save the artifact ${change.artifact.path} (${plural(lines, 'line')}) of ${change.id}`, width)}
      </Text>
      {change.instructions ? (
        <Text color={c('gray')}>{wrapText(`then: ${change.instructions}`, width, 3).join('\n')}</Text>
      ) : null}
      <Text> </Text>
      <Box flexDirection="column">
        <Text bold>
          {clip('Save to (relative to the current directory; Enter saves, Esc cancels):', width)}
        </Text>
        <TextInput value={path} width={width} />
        {mode === 'overwrite' ? (
          <Text color={c('yellow')} bold>
            {clip(`${path} exists. Overwrite it? [y/N]`, width)}
          </Text>
        ) : (
          <Text> </Text>
        )}
      </Box>
    </Frame>
  );
}
