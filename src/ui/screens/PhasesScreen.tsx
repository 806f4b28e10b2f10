import { Box, Text } from 'ink';
import { Frame } from '../components/Frame.js';
import { VirtualList } from '../components/VirtualList.js';
import { useList } from '../hooks/use-list.js';
import { usePhaseRows } from '../hooks/use-phase-rows.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { cell, clip, count, wrapText } from '../model/format.js';
import { describePhaseState, type PhaseRow, type PhaseStatus } from '../model/phases.js';
import { useColor, useWizard } from '../wizard-context.js';

const STATUS_COLOR: Record<PhaseStatus, string> = {
  'not started': 'gray',
  findings: 'yellow',
  planned: 'cyan',
  'in progress': 'cyan',
  blocked: 'red',
  'not applicable': 'gray',
  verified: 'green',
  'no effect': 'red',
  skipped: 'gray',
  done: 'green',
  unknown: 'red',
};

/** The STATUS column (11 wide): "not applicable" reads n/a there, in full in the detail below. */
export const statusLabel = (status: PhaseStatus): string => (status === 'not applicable' ? 'n/a' : status);

export function phaseCounts(row: PhaseRow): string {
  return `${count(row.open)} open${row.excepted ? ` +${count(row.excepted)} exc` : ''}`;
}

export function phaseChanges(row: PhaseRow): string {
  if (row.applied !== undefined) return `${count(row.applied)} applied`;
  if (row.changes !== undefined) return `${count(row.changes)} planned`;
  return row.phase === 0 ? 'read-only' : '-';
}

/** The rollout in order: status and counts per phase, the recommended next one marked ★. */
export function PhasesScreen() {
  const { layout, caps, intents } = useWizard();
  const c = useColor();
  const rows = usePhaseRows();
  const detailLines = 5;
  const listHeight = Math.max(1, layout.bodyHeight - 2 - detailLines);
  const list = useList('phases', rows.length, listHeight);
  const row = rows[list.state.cursor];
  const at = (fn: (r: PhaseRow) => void) => {
    const r = rows[list.current().cursor];
    if (r) fn(r);
  };
  const bindings = keymap('phases', caps);
  useScreenKeys({
    bindings,
    // The row under the cursor as of the last key, not the last frame (keys typed ahead arrive together).
    handlers: {
      ...list.moves,
      open: () => at((r) => intents.openPhase(r.phase)),
      plan: () => at((r) => intents.planPhase(r.phase)),
      skip: () => at((r) => intents.toggleSkip(r.phase)),
      runs: intents.openRuns,
    },
  });
  const { width } = layout;
  // Marker, star, number (6) + status, findings, changes (+ risk from 100 columns).
  const showRisk = width >= 100;
  const fixed = 6 + 12 + 17 + 12 + (showRisk ? 12 : 0);
  const titleWidth = Math.max(10, width - fixed);
  const head = `    # ${'PHASE'.padEnd(titleWidth)} ${'STATUS'.padEnd(11)} ${'FINDINGS'.padEnd(16)} ${'CHANGES'.padEnd(11)}${showRisk ? ' RISK' : ''}`;
  const detail: string[] = [];
  // Said loudly, in red, above the rest: the phase's changes have no effect yet (and so it is not done).
  const warn = row?.noEffect ? wrapText(`! ${row.noEffect}`, width - 2, 2).map((l) => `  ${l}`) : [];
  if (row) {
    detail.push(
      `phase ${row.phase}: ${row.title} · risk ${row.risk}${row.recommended ? ' · ★ recommended next' : ''}${row.status === 'skipped' ? ' (skipped)' : ''}`,
    );
    const said = describePhaseState(row);
    if (said) detail.push(...wrapText(said, width - 2, 2).map((l) => `  ${l}`));
    if (row.denied.length) detail.push(`  ✗ cannot apply: you may not ${row.denied.join(', ')}`);
    else if (row.phase !== 0 && !caps.canApply)
      detail.push('  read-only session: changes can be previewed, not applied');
    detail.push(...wrapText(row.summary, width - 2, 2).map((l) => `  ${l}`));
  }
  return (
    <Frame bindings={bindings}>
      <Text bold wrap="truncate-end">
        {clip(head, width)}
      </Text>
      <Box height={listHeight} flexDirection="column">
        <VirtualList
          items={rows}
          start={list.start}
          end={list.end}
          cursor={list.state.cursor}
          renderRow={(r, _i, selected) => (
            <Text wrap="truncate-end" bold={selected} color={selected ? c('cyan') : undefined}>
              {selected ? '› ' : '  '}
              <Text color={r.recommended ? c('yellow') : undefined}>{r.recommended ? '★' : ' '}</Text>
              {` ${r.phase} `}
              {cell(r.title, titleWidth)}{' '}
              <Text color={c(STATUS_COLOR[r.status])}>{cell(statusLabel(r.status), 11)}</Text>{' '}
              {cell(phaseCounts(r), 16)} {cell(phaseChanges(r), 10)}
              {r.denied.length ? <Text color={c('red')}>✗</Text> : ' '}
              {showRisk ? (
                <Text color={r.risk === 'disruptive' ? c('red') : undefined}> {cell(r.risk, 10)}</Text>
              ) : null}
            </Text>
          )}
        />
      </Box>
      <Text> </Text>
      <Text>{clip(detail[0] ?? '', width) || ' '}</Text>
      {warn.length ? (
        <Text color={c('red')} bold>
          {warn.map((l) => clip(l, width)).join('\n')}
        </Text>
      ) : null}
      <Text color={c('gray')}>
        {detail
          .slice(1, detailLines - warn.length)
          .map((line) => clip(line, width) || ' ')
          .join('\n')}
      </Text>
    </Frame>
  );
}
