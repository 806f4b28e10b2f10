import { Box, Text } from 'ink';
import { memo, useMemo } from 'react';
import { describeSettings } from '../../../steps/kit/settings.js';
import { control, isControlId, type Severity } from '../../policy/controls.js';
import { describeTarget } from '../../policy/findings.js';
import { Frame } from '../components/Frame.js';
import { Picker } from '../components/Picker.js';
import { VirtualList } from '../components/VirtualList.js';
import { useList } from '../hooks/use-list.js';
import { usePersistentState } from '../hooks/use-persistent-state.js';
import { usePhaseRows } from '../hooks/use-phase-rows.js';
import { usePhaseStepIds } from '../hooks/use-phase-steps.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import {
  type Choice,
  controlChoices,
  controlWidth,
  describeFilter,
  type FindingFilter,
  type FindingRow,
  filterFindings,
  formatFinding,
  NO_FILTER,
  namespaceChoices,
  phaseFindings,
  SEVERITY_LABEL,
  severityChoices,
} from '../model/findings.js';
import { clip, count, wrapText } from '../model/format.js';
import { describePhaseState, INVENTORY_PHASE } from '../model/phases.js';
import { useHardenShallow } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

type PickerKind = 'namespace' | 'severity' | 'control';

export const SEVERITY_COLOR: Record<Severity, string> = {
  critical: 'magenta',
  high: 'red',
  medium: 'yellow',
  low: 'blue',
  info: 'gray',
};

const PICKER_TITLE: Record<PickerKind, string> = {
  namespace: 'Filter by namespace',
  severity: 'Filter by minimum severity',
  control: 'Filter by control',
};

/**
 * One row of the list. Memoized on its props: a keypress that moves the cursor re-renders the two rows it moves
 * between (and a scroll the row that comes into view), not the screenful.
 */
const FindingLine = memo(function FindingLine({
  row,
  selected,
  width,
  ctlWidth,
}: {
  row: FindingRow;
  selected: boolean;
  width: number;
  ctlWidth: number;
}) {
  const c = useColor();
  return (
    <Text wrap="truncate-end" bold={selected} dimColor={row.excepted && !selected}>
      {selected ? '› ' : '  '}
      <Text color={c(SEVERITY_COLOR[row.severity])}>{SEVERITY_LABEL[row.severity]}</Text>{' '}
      <Text color={selected ? c('cyan') : undefined}>{formatFinding(row, width - 7, ctlWidth)}</Text>
    </Text>
  );
});

/** Phase detail: the phase's findings (excepted ones marked), filterable, virtualized. */
export function PhaseScreen({ phase }: { phase: number }) {
  const { layout, caps, steps, state, intents } = useWizard();
  const c = useColor();
  const s = useHardenShallow((st) => ({ assessment: st.assessment, plan: st.plan }));
  const stepIds = usePhaseStepIds(phase);
  const rows = useMemo(
    () => phaseFindings(s.assessment, state.planStale ? undefined : s.plan, phase, stepIds),
    [s.assessment, s.plan, state.planStale, phase, stepIds],
  );
  const [filter, setFilter] = usePersistentState<FindingFilter>(`phase:${phase}:filter`, NO_FILTER);
  const [picker, setPicker] = usePersistentState<PickerKind | null>(`phase:${phase}:picker`, null);
  const shown = useMemo(() => filterFindings(rows, filter), [rows, filter]);
  const choices = useMemo((): Choice[] => {
    if (picker === 'namespace') return namespaceChoices(rows);
    if (picker === 'severity') return severityChoices(rows);
    if (picker === 'control') return controlChoices(rows);
    return [];
  }, [picker, rows]);
  const ctlWidth = useMemo(() => controlWidth(rows, layout.width), [rows, layout.width]);

  // The phase's step settings and the values in effect (declared by the steps: Step.settings).
  const settingsLine = useMemo(
    () => (phase === 0 ? '' : describeSettings(steps.filter((st) => st.phase === phase))),
    [steps, phase],
  );
  const info = usePhaseRows().find((r) => r.phase === phase);
  const { width, bodyHeight } = layout;
  // Said loudly, under the title: the phase's changes have no effect yet, so it is not done.
  const noEffectLines = info?.noEffect ? wrapText(`! ${info.noEffect}`, width, 2) : [];
  const detailLines = 4;
  const listHeight = Math.max(
    1,
    bodyHeight - 4 - detailLines - (settingsLine ? 1 : 0) - noEffectLines.length,
  );
  const list = useList(`phase:${phase}:list`, shown.length, listHeight);
  const pickList = useList(
    `phase:${phase}:picker:${picker ?? ''}`,
    choices.length,
    Math.max(1, bodyHeight - 4),
  );

  const current = picker
    ? picker === 'namespace'
      ? filter.namespace
      : picker === 'severity'
        ? filter.minSeverity
        : filter.control
    : undefined;
  const openPicker = (kind: PickerKind) => () => setPicker(kind);
  const bindings = picker
    ? keymap('picker', caps)
    : keymap(phase === 0 ? 'phase-inventory' : 'phase-step', caps);
  useScreenKeys({
    bindings,
    handlers: picker
      ? {
          ...pickList.moves,
          pick: () => {
            const choice = choices[pickList.state.cursor];
            if (!choice) return;
            const v = choice.value;
            setFilter((f) => {
              const next: FindingFilter = { ...f };
              if (picker === 'namespace') {
                if (v === undefined) delete next.namespace;
                else next.namespace = v;
              } else if (picker === 'severity') {
                if (v === undefined) delete next.minSeverity;
                else next.minSeverity = v as Severity;
              } else if (v === undefined) delete next.control;
              else next.control = v;
              return next;
            });
            list.act({ type: 'home' });
            setPicker(null);
          },
          back: () => setPicker(null),
        }
      : {
          ...list.moves,
          filterNamespace: openPicker('namespace'),
          filterSeverity: openPicker('severity'),
          filterControl: openPicker('control'),
          toggleExcepted: () => setFilter((f) => ({ ...f, hideExcepted: !f.hideExcepted })),
          clearFilters: () => setFilter(NO_FILTER),
          plan: () => intents.planPhase(phase),
        },
  });

  const title =
    phase === 0
      ? `Phase 0 · ${INVENTORY_PHASE.title} · read-only`
      : `Phase ${phase} · ${info?.title ?? ''} · risk ${info?.risk ?? ''}${info?.denied.length ? ` · ✗ cannot apply: you may not ${info.denied.join(', ')}` : ''}`;
  // What is in place and when ("done: applied 3 days ago"), in front of the summary.
  const stateLine = info ? describePhaseState(info) : undefined;
  const summary = phase === 0 ? INVENTORY_PHASE.summary : (info?.summary ?? '');
  const selected = shown[list.state.cursor];
  const detail: string[] = [];
  if (selected) {
    detail.push(`${selected.severity} ${selected.control}: ${describeTarget(selected.target)}`);
    detail.push(...wrapText(selected.message, width - 2, 2).map((l) => `  ${l}`));
    detail.push(
      selected.excepted
        ? `  excepted by ${selected.exceptedBy?.join(', ') ?? 'an exception'}: reported, not counted as open`
        : isControlId(selected.control)
          ? `  next: ${control(selected.control).nextStep}`
          : '',
    );
  }

  return (
    <Frame bindings={bindings}>
      <Text bold wrap="truncate-end" color={info?.denied.length ? c('red') : undefined}>
        {clip(title, width)}
      </Text>
      <Text color={c('gray')} wrap="truncate-end">
        {clip(stateLine ? `${stateLine} · ${summary}` : summary, width)}
      </Text>
      {noEffectLines.length ? (
        <Text color={c('red')} bold>
          {noEffectLines.map((l) => clip(l, width)).join('\n')}
        </Text>
      ) : null}
      {settingsLine ? (
        <Text color={c('gray')} wrap="truncate-end">
          {clip(`${settingsLine} (flags of plan/migrate)`, width)}
        </Text>
      ) : null}
      <Text wrap="truncate-end">
        {clip(`${describeFilter(filter)}   ${count(shown.length)} of ${count(rows.length)}`, width)}
      </Text>
      {picker ? (
        <Picker
          title={PICKER_TITLE[picker]}
          choices={choices}
          list={pickList}
          value={current}
          width={width}
        />
      ) : (
        <>
          <Text bold wrap="truncate-end">
            {clip(`  SEV  ${'CONTROL'.padEnd(ctlWidth)} TARGET: MESSAGE`, width)}
          </Text>
          <Box height={listHeight} flexDirection="column">
            <VirtualList
              items={shown}
              start={list.start}
              end={list.end}
              cursor={list.state.cursor}
              empty={
                rows.length === 0
                  ? 'no findings in this phase'
                  : 'no finding matches the filter (0 clears it)'
              }
              renderRow={(r, _i, sel) => (
                <FindingLine row={r} selected={sel} width={width} ctlWidth={ctlWidth} />
              )}
            />
          </Box>
          <Text>{clip(detail[0] ?? '', width) || ' '}</Text>
          <Text color={c('gray')}>
            {detail
              .slice(1, detailLines)
              .map((line) => clip(line, width) || ' ')
              .join('\n')}
          </Text>
        </>
      )}
    </Frame>
  );
}
