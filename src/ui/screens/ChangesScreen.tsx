import { Text } from 'ink';
import { useMemo } from 'react';
import type { PlannedChange } from '../../engine/types.js';
import { describeRef } from '../../k8s/types.js';
import { Frame } from '../components/Frame.js';
import { ListPane } from '../components/ListPane.js';
import { useList } from '../hooks/use-list.js';
import { usePhaseStepIds } from '../hooks/use-phase-steps.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { cell, clip, count, plural, wrapText } from '../model/format.js';
import { evidenceRows } from '../model/sa-evidence.js';
import { useHardenShallow, useHardenStore } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

export function changeTarget(change: PlannedChange): string {
  return change.target ? describeRef(change.target) : (change.artifact?.path ?? change.id);
}

/** The changes of a phase's plan, in plan order. */
export function phaseChanges(changes: readonly PlannedChange[], stepIds: readonly string[]): PlannedChange[] {
  return changes.filter((c) => stepIds.includes(c.step));
}

/** The changes of a phase the operator selected to apply (manual changes are never applied). */
export function chosenChanges(
  changes: readonly PlannedChange[],
  stepIds: readonly string[],
  selected: readonly string[],
): PlannedChange[] {
  return phaseChanges(changes, stepIds).filter((ch) => selected.includes(ch.id) && ch.kind !== 'manual');
}

/** The proposed changes of a phase: select them (all / none), with risk, reason, preview and warnings. */
export function ChangesScreen({ phase }: { phase: number }) {
  const { layout, caps, intents, dispatch } = useWizard();
  const c = useColor();
  const store = useHardenStore();
  const s = useHardenShallow((st) => ({
    plan: st.plan,
    selected: st.selected,
    takeOver: st.takeOver,
    source: st.source,
  }));
  const stepIds = usePhaseStepIds(phase);
  const changes = useMemo(() => phaseChanges(s.plan?.changes ?? [], stepIds), [s.plan, stepIds]);
  const plannedSteps = (s.plan?.steps ?? []).filter((st) => stepIds.includes(st.id));
  const noops = plannedSteps.reduce((n, st) => n + st.noops.length, 0);
  const selectedHere = changes.filter((ch) => s.selected.includes(ch.id)).length;
  const { width, bodyHeight } = layout;
  const why = plannedSteps.map((st) => st.explanation.why).join(' ');
  const whyLines = wrapText(why, width, 2);
  const detailLines = 4;
  const listHeight = Math.max(1, bodyHeight - 2 - whyLines.length - detailLines);
  const list = useList(`changes:${phase}`, changes.length, listHeight);
  const change = changes[list.state.cursor];
  const bindings = keymap('changes', caps);
  useScreenKeys({
    bindings,
    handlers: {
      ...list.moves,
      diff: () => change && dispatch({ type: 'push', screen: { id: 'diff', phase, changeId: change.id } }),
      toggle: () => {
        if (!change) return;
        if (change.kind === 'manual') {
          dispatch({
            type: 'notice',
            notice: {
              kind: 'info',
              text: 'a manual change is not applied by kube-harden: follow its instructions',
            },
          });
          return;
        }
        store.getState().toggle(change.id);
        list.act({ type: 'down' });
      },
      // All, except optional changes and those of opt-in steps: picked one at a time with space.
      selectAll: () => {
        for (const id of stepIds) store.getState().selectAll(id);
      },
      selectNone: () => {
        for (const id of stepIds) store.getState().selectNone(id);
      },
      takeOver: () => {
        if (!change?.conflicts?.length) {
          dispatch({
            type: 'notice',
            notice: { kind: 'info', text: 'this change has no conflicting fields' },
          });
          return;
        }
        const on = !s.takeOver.includes(change.id);
        store.getState().setTakeOver(change.id, on);
        dispatch({
          type: 'notice',
          notice: on
            ? {
                kind: 'warn',
                text: `will take over ${plural(change.conflicts.length, 'field')} from ${[...new Set(change.conflicts.map((x) => x.manager))].join(', ')} (force)`,
              }
            : { kind: 'info', text: 'will not take over: the conflict is reported instead' },
        });
      },
      saveArtifact: () => change && intents.openSaveArtifact(phase, change.id),
      apply: () => intents.requestApply(phase),
      replan: () => intents.planPhase(phase, { again: true }),
      evidence: () =>
        evidenceRows(s.plan).length
          ? dispatch({ type: 'push', screen: { id: 'evidence', phase } })
          : dispatch({
              type: 'notice',
              notice: {
                kind: 'info',
                text: 'no token decisions in this phase (the evidence column is phase 4)',
              },
            }),
    },
  });

  const selectable = caps.canApply;
  const prefix = selectable ? 6 : 2;
  const noteWidth = 12;
  const targetWidth = Math.max(12, width - prefix - 11 - 7 - 13 - noteWidth);
  const head = `${' '.repeat(prefix)}${'RISK'.padEnd(11)}${'OP'.padEnd(7)}${'TARGET'.padEnd(targetWidth)} ${'DIFF'.padEnd(12)}NOTE`;
  const detail: string[] = [];
  if (change) {
    detail.push(...wrapText(change.reason, width - 2, 2).map((l) => `  ${l}`));
    const bits = [
      change.kind === 'manual'
        ? `manual: kube-harden does not apply it; s saves the artifact ${change.artifact?.path ?? ''}, enter shows it`
        : '',
      change.operation === 'delete'
        ? `deletes ${changeTarget(change)}${s.source?.kind === 'manifests' ? ' (removed from the copy)' : ' (undo re-creates it)'}`
        : '',
      change.conflicts?.length
        ? `${plural(change.conflicts.length, 'conflicting field')}${s.takeOver.includes(change.id) ? ' (taken over)' : ''}`
        : '',
      change.warnings.length ? plural(change.warnings.length, 'API server warning') : '',
      change.notes.length ? plural(change.notes.length, 'note') : '',
      change.optional ? 'optional: a selects it only with space' : '',
      change.exportPatch ? `source of truth: ${change.exportPatch} (change it there too)` : '',
      change.kind === 'manual'
        ? ''
        : change.preview === 'ok'
          ? 'preview: server-side dry-run'
          : change.preview === 'offline'
            ? 'preview: offline (no API server)'
            : `preview unavailable: ${change.previewError ?? 'unknown'}`,
    ].filter(Boolean);
    for (const l of wrapText(bits.join(' · '), width - 2, Math.max(1, detailLines - detail.length))) {
      detail.push(`  ${l}`);
    }
  }
  const summary = s.plan
    ? `${plural(changes.length, 'change')}${noops ? ` (${count(noops)} already in place)` : ''}${selectable ? ` · ${count(selectedHere)} selected` : ''} · plan ${s.plan.id}`
    : 'not previewed yet';

  return (
    <Frame bindings={bindings}>
      <Text bold wrap="truncate-end">
        {clip(`Phase ${phase} changes · ${summary}`, width)}
      </Text>
      {whyLines.length ? <Text color={c('gray')}>{whyLines.join('\n')}</Text> : null}
      <ListPane
        head={head}
        items={changes}
        list={list}
        height={listHeight}
        empty={
          s.plan
            ? `nothing to change in this phase${noops ? `: ${plural(noops, 'change')} already in place` : ''}`
            : 'not previewed yet'
        }
        renderRow={(ch, sel) => {
          const on = s.selected.includes(ch.id);
          const note = [
            ch.warnings.length ? `⚠${ch.warnings.length}` : '',
            ch.conflicts?.length ? 'conflict' : ch.preview === 'unavailable' ? 'no preview' : '',
            ch.optional ? 'optional' : '',
          ]
            .filter(Boolean)
            .join(' ');
          return (
            <>
              {selectable ? (
                <Text color={on ? c('green') : undefined}>
                  {ch.kind === 'manual' ? '[-] ' : on ? '[x] ' : '[ ] '}
                </Text>
              ) : null}
              <Text color={ch.risk === 'disruptive' ? c('red') : ch.risk === 'low' ? c('green') : undefined}>
                {cell(ch.risk, 10)}
              </Text>{' '}
              <Text color={ch.operation === 'delete' ? c('red') : undefined}>{cell(ch.operation, 6)}</Text>{' '}
              <Text color={sel ? c('cyan') : undefined}>{cell(changeTarget(ch), targetWidth)}</Text>{' '}
              {cell(ch.kind === 'manual' ? 'artifact' : `+${ch.diff.added} -${ch.diff.removed}`, 11)}{' '}
              <Text color={c('yellow')}>{note}</Text>
            </>
          );
        }}
        detail={detail}
        detailLines={detailLines}
        width={width}
      />
    </Frame>
  );
}
