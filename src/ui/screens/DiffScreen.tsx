import { Box, Text } from 'ink';
import { useMemo } from 'react';
import type { PlannedChange } from '../../engine/types.js';
import type { UndoItem } from '../../engine/undo.js';
import { describeRef } from '../../k8s/types.js';
import { DiffView, type ViewLine } from '../components/DiffView.js';
import { Frame } from '../components/Frame.js';
import { usePersistentState } from '../hooks/use-persistent-state.js';
import { usePhaseStepIds } from '../hooks/use-phase-steps.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { diffLines } from '../model/diff.js';
import { clip, count, wrapText } from '../model/format.js';
import { scrollReducer } from '../state/list.js';
import { useHardenShallow, useHardenStore } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';
import { changeTarget, phaseChanges } from './ChangesScreen.js';

/** What the diff view shows, from a planned change or an undo item. */
export interface DiffSubject {
  title: string;
  subtitle: string;
  warnings: string[];
  notes: string[];
  error?: string;
  diff: string;
  /** A manual change's artifact: shown as it is (its `- ` lines are YAML, not removed lines). */
  artifact?: { path: string; content: string };
  /** A delete: said above the diff, whose lines are all removed ones. */
  deletes?: string;
}

export function changeSubject(ch: PlannedChange, takenOver: boolean): DiffSubject {
  const notes = [...ch.notes];
  if (ch.conflicts?.length) {
    notes.push(
      `conflicting fields${takenOver ? ' (will be taken over)' : ' (apply reports a conflict unless taken over with t)'}: ${ch.conflicts
        .map((x) => `${x.field} owned by "${x.manager}"`)
        .join(', ')}`,
    );
  }
  if (ch.instructions) notes.push(`to do by hand: ${ch.instructions}`);
  return {
    title: `${changeTarget(ch)} · ${ch.operation} · risk ${ch.risk} · ${ch.step}`,
    subtitle: ch.reason,
    warnings: ch.warnings,
    notes,
    ...(ch.preview === 'unavailable'
      ? { error: `preview unavailable: ${ch.previewError ?? 'unknown'}` }
      : {}),
    diff: ch.diff.text,
    ...(ch.artifact ? { artifact: ch.artifact } : {}),
    ...(ch.operation === 'delete' ? { deletes: changeTarget(ch) } : {}),
  };
}

export function undoSubject(item: UndoItem): DiffSubject {
  return {
    title: `${describeRef(item.target)} · undo: ${item.action}`,
    subtitle: item.message,
    warnings: item.warnings,
    notes: [],
    ...(item.previewError ? { error: `preview unavailable: ${item.previewError}` } : {}),
    diff: item.diff.text,
  };
}

/** Warnings (the API server's own words) above the diff, then the coloured unified diff. */
export function subjectLines(subject: DiffSubject, width: number): ViewLine[] {
  const lines: ViewLine[] = [];
  for (const w of subject.warnings) {
    for (const [i, l] of wrapText(`warning: ${w}`, width - 2).entries()) {
      lines.push({ kind: 'warning', text: `${i === 0 ? '⚠ ' : '  '}${l}` });
    }
  }
  if (subject.error) for (const l of wrapText(subject.error, width)) lines.push({ kind: 'error', text: l });
  for (const n of subject.notes) {
    for (const [i, l] of wrapText(`note: ${n}`, width - 2).entries()) {
      lines.push({ kind: 'note', text: `${i === 0 ? '• ' : '  '}${l}` });
    }
  }
  if (subject.deletes) {
    for (const l of wrapText(`DELETE: ${subject.deletes} is removed (all of it: every line below)`, width)) {
      lines.push({ kind: 'del', text: l });
    }
  }
  if (lines.length) lines.push({ kind: 'blank', text: '' });
  if (subject.artifact) {
    lines.push({
      kind: 'title',
      text: clip(`artifact ${subject.artifact.path} (s saves it to a file):`, width),
    });
    for (const l of subject.artifact.content.replace(/\n$/, '').split('\n'))
      lines.push({ kind: 'ctx', text: l });
    if (subject.diff) lines.push({ kind: 'blank', text: '' });
  }
  if (subject.diff) lines.push(...diffLines(subject.diff));
  else if (!subject.artifact) lines.push({ kind: 'note', text: 'no difference to show' });
  return lines;
}

function DiffBody({
  subject,
  scrollKey,
  position,
  bindings,
  extra,
}: {
  subject: DiffSubject;
  scrollKey: string;
  position: string;
  bindings: ReturnType<typeof keymap>;
  extra: Record<string, () => void>;
}) {
  const { layout } = useWizard();
  const c = useColor();
  const { width, bodyHeight } = layout;
  const lines = useMemo(() => subjectLines(subject, width), [subject, width]);
  const subtitle = wrapText(subject.subtitle, width, 2);
  const height = Math.max(1, bodyHeight - 2 - subtitle.length);
  const [offset, setOffset] = usePersistentState(scrollKey, 0);
  const view = { count: lines.length, height };
  const clamped = Math.min(offset, Math.max(0, lines.length - height));
  const scroll = (type: 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end') => () =>
    setOffset((o) => scrollReducer(o, { type }, view));
  useScreenKeys({
    bindings,
    handlers: {
      up: scroll('up'),
      down: scroll('down'),
      pageUp: scroll('pageUp'),
      pageDown: scroll('pageDown'),
      home: scroll('home'),
      end: scroll('end'),
      ...extra,
    },
  });
  const last = Math.min(lines.length, clamped + height);
  return (
    <Frame bindings={bindings}>
      <Text bold wrap="truncate-end">
        {clip(subject.title, width)}
      </Text>
      {subtitle.length ? <Text color={c('gray')}>{subtitle.join('\n')}</Text> : null}
      <Box height={height} flexDirection="column">
        <DiffView lines={lines} offset={clamped} height={height} width={width} />
      </Box>
      <Text color={c('gray')} wrap="truncate-end">
        {clip(
          `lines ${count(lines.length ? clamped + 1 : 0)}–${count(last)} of ${count(lines.length)} · ${position}`,
          width,
        )}
      </Text>
    </Frame>
  );
}

/** The diff of one planned change; ←→ walk the phase's changes. */
export function DiffScreen({ phase, changeId }: { phase: number; changeId: string }) {
  const { caps, dispatch, intents } = useWizard();
  const store = useHardenStore();
  const s = useHardenShallow((st) => ({ plan: st.plan, selected: st.selected, takeOver: st.takeOver }));
  const stepIds = usePhaseStepIds(phase);
  const changes = useMemo(() => phaseChanges(s.plan?.changes ?? [], stepIds), [s.plan, stepIds]);
  const index = changes.findIndex((ch) => ch.id === changeId);
  const change = changes[index];
  const subject = useMemo(
    () =>
      change
        ? changeSubject(change, s.takeOver.includes(change.id))
        : { title: 'the change is no longer in the plan', subtitle: '', warnings: [], notes: [], diff: '' },
    [change, s.takeOver],
  );
  const go = (delta: number) => () => {
    const next = changes[index + delta];
    if (next) dispatch({ type: 'replace', screen: { id: 'diff', phase, changeId: next.id } });
  };
  const selected = change ? s.selected.includes(change.id) : false;
  return (
    <DiffBody
      subject={subject}
      scrollKey={`diff:${changeId}`}
      position={`change ${index + 1} of ${changes.length}${change?.kind === 'manual' ? ' · manual: not applied by kube-harden' : caps.canApply ? (selected ? ' · selected' : ' · not selected') : ''}`}
      bindings={keymap('diff', caps)}
      extra={{
        prevChange: go(-1),
        nextChange: go(1),
        toggle: () => change && change.kind !== 'manual' && store.getState().toggle(change.id),
        saveArtifact: () => change && intents.openSaveArtifact(phase, change.id),
      }}
    />
  );
}

/** The diff of one item of an undo preview. */
export function UndoDiffScreen({ runId, index }: { runId: string; index: number }) {
  const { caps } = useWizard();
  const undo = useHardenShallow((st) => ({ plan: st.undo?.plan }));
  const item = undo.plan?.runId === runId ? undo.plan.items[index] : undefined;
  const subject = useMemo(
    () =>
      item
        ? undoSubject(item)
        : { title: 'no undo preview', subtitle: '', warnings: [], notes: [], diff: '' },
    [item],
  );
  return (
    <DiffBody
      subject={subject}
      scrollKey={`undo-diff:${runId}:${index}`}
      position={`item ${index + 1} of ${count(undo.plan?.items.length ?? 0)}`}
      bindings={keymap('diff-undo', caps)}
      extra={{}}
    />
  );
}
