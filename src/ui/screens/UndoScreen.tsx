import { Box, Text } from 'ink';
import type { UndoItem, UndoOutcome } from '../../engine/undo.js';
import { describeRef } from '../../k8s/types.js';
import { Frame } from '../components/Frame.js';
import { VirtualList } from '../components/VirtualList.js';
import { useList } from '../hooks/use-list.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { cell, clip, plural } from '../model/format.js';
import { useHardenShallow } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

const actionable = (i: UndoItem) => i.action !== 'nothing' && i.action !== 'conflict';
const good = (o: UndoOutcome) => ['restored', 'deleted', 'recreated', 'unchanged'].includes(o.outcome);

/** Undo a run: the preview (server-side dry-run per object), y/N, then each object's outcome. */
export function UndoScreen({ runId }: { runId: string }) {
  const { layout, caps, intents, state, dispatch } = useWizard();
  const c = useColor();
  const s = useHardenShallow((st) => ({ undo: st.undo, source: st.source }));
  const undo = s.undo?.plan.runId === runId ? s.undo : undefined;
  const items = undo?.plan.items ?? [];
  const outcomes = undo?.outcomes;
  const todo = items.filter(actionable).length;
  const { width, bodyHeight } = layout;
  const listHeight = Math.max(1, bodyHeight - 5);
  const list = useList(`undo:${runId}`, items.length, listHeight);
  const item = items[list.state.cursor];
  const phase = outcomes ? 'done' : undo && todo > 0 ? 'preview' : 'other';
  const bindings =
    phase === 'preview' && !state.busy
      ? keymap('undo-preview', caps)
      : phase === 'done'
        ? keymap('undo-done', caps)
        : [];
  useScreenKeys({
    bindings,
    handlers: {
      ...list.moves,
      diff: () =>
        item && dispatch({ type: 'push', screen: { id: 'undo-diff', runId, index: list.state.cursor } }),
      confirm: () => intents.confirmUndo(runId),
      decline: intents.decline,
      phases: intents.continueToPhases,
      ...(phase === 'done' ? { back: intents.continueToPhases } : {}),
    },
  });
  const context = s.source?.kind === 'cluster' ? s.source.context : '';
  const conflicts = items.filter((i) => i.action === 'conflict').length;
  const title = !undo
    ? state.busy
      ? `Previewing the undo of run ${runId}…`
      : `No undo preview for run ${runId}`
    : outcomes
      ? `Run ${runId}: ${outcomes.every(good) ? 'undone' : `partially undone (${plural(outcomes.filter((o) => !good(o)).length, 'item')} left)`}`
      : `Undo run ${runId} on context ${context}: ${plural(todo, 'object')} to change${conflicts ? `, ${plural(conflicts, 'conflict')} left alone` : ''}`;
  const outcomeOf = (it: UndoItem) =>
    outcomes?.find((o) => o.item === it || o.item.seqs.join() === it.seqs.join());
  return (
    <Frame bindings={bindings}>
      <Text bold wrap="truncate-end">
        {clip(title, width)}
      </Text>
      <Text> </Text>
      <Box height={listHeight} flexDirection="column">
        <VirtualList
          items={items}
          start={list.start}
          end={list.end}
          cursor={list.state.cursor}
          empty={undo ? 'the run changed nothing that could be undone' : ' '}
          renderRow={(it, _i, sel) => {
            const o = outcomeOf(it);
            const label = o ? o.outcome : it.action;
            const ok = o ? good(o) : actionable(it);
            const bad = o ? !good(o) : it.action === 'conflict';
            const message = o?.message ?? it.message;
            const diff = !o && it.diff.text ? `  +${it.diff.added} -${it.diff.removed}` : '';
            return (
              <Text wrap="truncate-end" bold={sel}>
                {sel ? '› ' : '  '}
                <Text color={bad ? c('red') : ok && o ? c('green') : ok ? c('yellow') : c('gray')}>
                  {cell(label, 10)}
                </Text>{' '}
                <Text color={sel ? c('cyan') : undefined}>
                  {clip(
                    `${describeRef(it.target)}: ${message}${it.previewError ? ` (preview unavailable: ${it.previewError})` : ''}${diff}`,
                    width - 14,
                  )}
                </Text>
              </Text>
            );
          }}
        />
      </Box>
      {phase === 'preview' ? (
        <>
          <Text bold wrap="truncate-end">
            {clip(`Undo ${plural(todo, 'change')} of run ${runId} on context "${context}"?`, width)}
          </Text>
          <Text bold>
            [y/N] <Text color={c('gray')}>(Enter shows the diff; it never confirms)</Text>
          </Text>
        </>
      ) : (
        <>
          <Text> </Text>
          <Text> </Text>
        </>
      )}
      <Text> </Text>
    </Frame>
  );
}
