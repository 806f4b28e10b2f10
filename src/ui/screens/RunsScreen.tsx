import { Box, Text } from 'ink';
import { Frame } from '../components/Frame.js';
import { VirtualList } from '../components/VirtualList.js';
import { useList } from '../hooks/use-list.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { cell, clip } from '../model/format.js';
import { useHarden } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

/** The runs recorded for this cluster and context (journals), newest first; `u` previews the undo of one. */
export function RunsScreen() {
  const { layout, caps, intents } = useWizard();
  const c = useColor();
  const runs = useHarden((s) => s.runs);
  const { width, bodyHeight } = layout;
  const list = useList('runs', runs.length, Math.max(1, bodyHeight - 2));
  const run = runs[list.state.cursor];
  const bindings = keymap('runs', caps);
  useScreenKeys({
    bindings,
    // The run under the cursor as of the last key, not the last frame (keys typed ahead arrive together).
    handlers: {
      ...list.moves,
      undo: () => {
        const at = runs[list.current().cursor];
        if (at) intents.previewUndo(at.runId);
      },
    },
  });
  const stepsWidth = Math.max(8, width - 2 - 26 - 12 - 8 - 17);
  return (
    <Frame bindings={bindings}>
      <Text bold wrap="truncate-end">
        {clip(
          `  ${'RUN'.padEnd(26)}${'STARTED'.padEnd(12)}${'STEPS'.padEnd(stepsWidth)}${'APPLIED'.padEnd(8)}STATE`,
          width,
        )}
      </Text>
      <Box height={bodyHeight - 2} flexDirection="column">
        <VirtualList
          items={runs}
          start={list.start}
          end={list.end}
          cursor={list.state.cursor}
          empty="no runs recorded for this cluster and context"
          renderRow={(r, _i, sel) => (
            <Text wrap="truncate-end" bold={sel} color={sel ? c('cyan') : undefined}>
              {sel ? '› ' : '  '}
              {cell(r.runId, 25)} {cell(`${r.startedAt.slice(5, 16).replace('T', ' ')}`, 11)}{' '}
              {cell(r.steps.join(','), stepsWidth - 1)} {cell(`${r.applied}/${r.changes}`, 7)}{' '}
              <Text
                color={r.state === 'complete' ? c('green') : r.state === 'undone' ? c('gray') : c('yellow')}
              >
                {r.state}
              </Text>
            </Text>
          )}
        />
      </Box>
      <Text color={c('gray')} wrap="truncate-end">
        {clip(run ? `journal ${run.path}` : ' ', width)}
      </Text>
    </Frame>
  );
}
