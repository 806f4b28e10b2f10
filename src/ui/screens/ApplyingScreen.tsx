import { Box, Text } from 'ink';
import { useMemo } from 'react';
import type { ApplyEvent } from '../../engine/apply.js';
import { Frame } from '../components/Frame.js';
import { Spinner } from '../components/Spinner.js';
import { VirtualList } from '../components/VirtualList.js';
import { usePhaseStepIds } from '../hooks/use-phase-steps.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { cell, clip, count, plural } from '../model/format.js';
import { useHardenShallow } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';
import { changeTarget, chosenChanges } from './ChangesScreen.js';

/** Per change: pending, in flight, or its outcome, from the store's apply events. */
export function itemStates(events: readonly ApplyEvent[]): Map<string, { state: string; message?: string }> {
  const m = new Map<string, { state: string; message?: string }>();
  for (const e of events) {
    if (e.type === 'start') m.set(e.change.id, { state: 'in flight' });
    else
      m.set(e.change.id, {
        state: e.outcome.outcome,
        ...(e.outcome.message ? { message: e.outcome.message } : {}),
      });
  }
  return m;
}

const MARK: Record<string, string> = {
  applied: '✓',
  'in flight': '›',
  pending: '·',
  skipped: '·',
  'not-attempted': '·',
};

/** Applying: each selected change, pending → in flight → outcome; Ctrl-C stops after the one in flight. */
export function ApplyingScreen({ phase }: { phase: number }) {
  const { layout, caps, state, options } = useWizard();
  const c = useColor();
  const s = useHardenShallow((st) => ({
    plan: st.plan,
    selected: st.selected,
    events: st.applyEvents,
    source: st.source,
    progress: st.progress,
  }));
  const stepIds = usePhaseStepIds(phase);
  const chosen = useMemo(
    () => chosenChanges(s.plan?.changes ?? [], stepIds, s.selected),
    [s.plan, stepIds, s.selected],
  );
  const states = useMemo(() => itemStates(s.events), [s.events]);
  const { width, bodyHeight } = layout;
  const listHeight = Math.max(1, bodyHeight - 2);
  const done = [...states.values()].filter((x) => x.state !== 'in flight').length;
  const inFlight = chosen.findIndex((ch) => states.get(ch.id)?.state === 'in flight');
  // The window follows the change in flight (or the last outcome).
  const focus = inFlight >= 0 ? inFlight : Math.max(0, done - 1);
  const start = Math.max(0, Math.min(focus - Math.floor(listHeight / 2), chosen.length - listHeight));
  const end = Math.min(chosen.length, start + listHeight);
  const bindings = keymap('applying', caps);
  useScreenKeys({ bindings, handlers: {} });
  const live = s.source?.kind === 'cluster';
  const title = live
    ? `Applying ${plural(chosen.length, 'change')} to context ${s.source?.kind === 'cluster' ? s.source.context : ''}: ${count(done)} of ${count(chosen.length)} done`
    : `Writing ${plural(chosen.length, 'change')} as remediated manifests to ${options.outDir}`;
  const hint = !live
    ? ' '
    : state.interrupted
      ? 'stopping after the change in flight; nothing more is sent'
      : state.busy
        ? 'Ctrl-C stops after the change in flight (twice: quit now)'
        : ' ';
  return (
    <Frame bindings={bindings} globalKeys={['help', 'quit']}>
      <Text bold wrap="truncate-end">
        {clip(title, width)}
      </Text>
      <Text color={c('gray')} wrap="truncate-end">
        {clip(hint, width)}
      </Text>
      <Box height={listHeight} flexDirection="column">
        <VirtualList
          items={chosen}
          start={start}
          end={end}
          cursor={-1}
          renderRow={(ch) => {
            const st = states.get(ch.id) ?? { state: live ? 'pending' : state.busy ? 'writing' : 'pending' };
            const ok = st.state === 'applied';
            const bad = !['applied', 'in flight', 'pending', 'writing', 'not-attempted', 'skipped'].includes(
              st.state,
            );
            return (
              <Text wrap="truncate-end">
                {'  '}
                {st.state === 'in flight' || st.state === 'writing' ? (
                  <Spinner color={c('cyan')} />
                ) : (
                  <Text color={ok ? c('green') : bad ? c('red') : c('gray')}>{MARK[st.state] ?? '✗'}</Text>
                )}{' '}
                <Text color={ok ? c('green') : bad ? c('red') : undefined}>
                  {cell(ok && ch.operation === 'delete' ? 'deleted' : st.state, 13)}
                </Text>
                {clip(`${changeTarget(ch)}${st.message ? `: ${st.message}` : ''}`, width - 18)}
              </Text>
            );
          }}
        />
      </Box>
    </Frame>
  );
}
