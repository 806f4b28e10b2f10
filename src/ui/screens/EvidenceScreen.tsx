import { Text } from 'ink';
import { useMemo } from 'react';
import { Frame } from '../components/Frame.js';
import { ListPane } from '../components/ListPane.js';
import { useList } from '../hooks/use-list.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { cell, clip, plural, wrapText } from '../model/format.js';
import { decisionText, evidenceRows, flippedOverrides, OVERRIDES_KEY } from '../model/sa-evidence.js';
import { useHardenShallow } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

/**
 * Phase 4's evidence column: each workload's ServiceAccount token decision and the evidence it rests on ("bound to
 * Role payments/ledger-operator (…)", "no binding, no known controller, no projected token"). `f` flips the decision
 * (remove token ↔ keep token): the override goes into the `sa-tokens.overrides` setting and the phase is previewed
 * again, so the changes are the step's own, never edited by hand. A thin shell over model/sa-evidence.ts.
 */
export function EvidenceScreen({ phase }: { phase: number }) {
  const { layout, caps, intents, dispatch, state } = useWizard();
  const c = useColor();
  const s = useHardenShallow((st) => ({ plan: st.plan, settings: st.settings, selected: st.selected }));
  const rows = useMemo(() => evidenceRows(s.plan), [s.plan]);
  const { width, bodyHeight } = layout;
  const detailLines = 3;
  const listHeight = Math.max(1, bodyHeight - 3 - detailLines);
  const list = useList(`evidence:${phase}`, rows.length, listHeight);
  const row = rows[list.state.cursor];
  const bindings = keymap('evidence', caps);
  useScreenKeys({
    bindings,
    handlers: {
      ...list.moves,
      flip: () => {
        if (!row) return;
        if (state.busy) {
          dispatch({ type: 'notice', notice: { kind: 'info', text: `busy: ${state.busy.label}…` } });
          return;
        }
        const next = flippedOverrides(s.settings[OVERRIDES_KEY], row);
        if (!next) {
          dispatch({
            type: 'notice',
            notice: { kind: 'info', text: `${row.kind} ${row.namespace}/${row.name}: ${row.fixed ?? ''}` },
          });
          return;
        }
        intents.chooseSetting(phase, OVERRIDES_KEY, next, { keepSelection: true });
      },
      diff: () => {
        if (row?.changeId) dispatch({ type: 'push', screen: { id: 'diff', phase, changeId: row.changeId } });
        else
          dispatch({
            type: 'notice',
            notice: { kind: 'info', text: 'no change for this workload: its decision changes nothing' },
          });
      },
      back: intents.back,
    },
  });
  const flipped = rows.filter((r) => r.flipped).length;
  const removed = rows.filter((r) => !r.keeps).length;
  const nameWidth = Math.max(16, Math.min(40, Math.floor(width * 0.32)));
  const decisionWidth = 14;
  const evidenceWidth = Math.max(10, width - 2 - nameWidth - decisionWidth - 2);
  const head = `  ${'WORKLOAD'.padEnd(nameWidth)} ${'DECISION'.padEnd(decisionWidth)} EVIDENCE`;
  const detail: string[] = [];
  if (row) {
    const lines = [
      `${row.kind} ${row.namespace}/${row.name}: ${row.decision}${row.flipped ? ' — flipped by you (f flips it back)' : ''}. Evidence: ${row.evidence}.`,
      row.why ?? (row.changeId ? `Its change: ${row.changeId} (enter shows the diff)` : ''),
      row.fixed ? `cannot flip: ${row.fixed}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    detail.push(...wrapText(lines, width - 2, detailLines).map((l) => `  ${l}`));
  }
  return (
    <Frame bindings={bindings}>
      <Text bold wrap="truncate-end">
        {clip(
          `Phase ${phase} · token decisions and their evidence · ${plural(rows.length, 'workload')}, ${removed} without a token after the plan${flipped ? `, ${flipped} flipped` : ''}`,
          width,
        )}
      </Text>
      <Text color={c('gray')} wrap="truncate-end">
        {clip('f flips a decision (remove token ↔ keep token) and previews the phase again.', width)}
      </Text>
      <ListPane
        head={head}
        items={rows}
        list={list}
        height={listHeight}
        empty="no token decisions: preview phase 4 first"
        renderRow={(r, sel) => (
          <>
            <Text color={sel ? c('cyan') : undefined}>
              {cell(`${r.kind.toLowerCase()}/${r.namespace}/${r.name}`, nameWidth)}
            </Text>{' '}
            <Text color={r.keeps ? c('yellow') : c('green')}>{cell(decisionText(r), decisionWidth)}</Text>{' '}
            {clip(r.evidence, evidenceWidth)}
          </>
        )}
        detail={detail}
        detailLines={detailLines}
        width={width}
      />
    </Frame>
  );
}
