import { Box, Text } from 'ink';
import { useMemo } from 'react';
import type { ApplyReport } from '../../engine/apply.js';
import type { Plan } from '../../engine/types.js';
import type { ManifestWrite } from '../../store/store.js';
import { DiffView, type ViewLine } from '../components/DiffView.js';
import { Frame } from '../components/Frame.js';
import { usePersistentState } from '../hooks/use-persistent-state.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { count, plural, shellWord, undoCommand, wrapText } from '../model/format.js';
import { scrollReducer } from '../state/list.js';
import { useHardenShallow } from '../store-context.js';
import { useWizard } from '../wizard-context.js';
import { changeTarget } from './ChangesScreen.js';

function label(outcome: string): string {
  return outcome === 'not-attempted' ? 'skipped' : outcome;
}

/** What a live run did: the run id and the exact undo command first, then each change, its verification. */
export function runLines(
  report: ApplyReport,
  plan: Plan | undefined,
  verifications: Record<string, { ok: boolean; messages: string[] }>,
  undo: string,
  width: number,
): ViewLine[] {
  const applied = report.outcomes.filter((o) => o.outcome === 'applied').length;
  const lines: ViewLine[] = wrapText(
    `Run ${report.runId}: ${report.state} — ${count(applied)} of ${plural(report.outcomes.length, 'change')} applied`,
    width,
  ).map((text) => ({ kind: 'title', text }));
  if (applied > 0) {
    lines.push({ kind: 'ctx', text: 'undo     press u, or from a shell:' });
    // Wrapped, never cut: the command must be complete to be copied.
    for (const l of wrapText(undo, width - 9)) lines.push({ kind: 'hunk', text: `         ${l}` });
  } else {
    lines.push({ kind: 'ctx', text: 'nothing was applied: nothing to undo' });
  }
  for (const [i, l] of wrapText(report.journalPath, width - 9).entries()) {
    lines.push({ kind: 'ctx', text: `${i === 0 ? 'journal  ' : '         '}${l}` });
  }
  lines.push({ kind: 'blank', text: '' });
  for (const o of report.outcomes) {
    const ch = plan?.changes.find((c) => c.id === o.id);
    const target = ch ? changeTarget(ch) : o.id;
    const ok = o.outcome === 'applied';
    const muted = o.outcome === 'not-attempted' || o.outcome === 'skipped';
    lines.push({
      kind: ok ? 'add' : muted ? 'note' : 'error',
      text: `${ok ? '✓' : muted ? '·' : '✗'} ${(ok && ch?.operation === 'delete' ? 'deleted' : label(o.outcome)).padEnd(10)} ${target}${o.message ? `: ${o.message}` : ''}`,
    });
    if (o.conflicts?.length) {
      lines.push({
        kind: 'note',
        text: `    fields owned by: ${o.conflicts.map((c) => `${c.field} (${c.manager})`).join(', ')}`,
      });
    }
  }
  const checks = Object.entries(verifications);
  if (checks.length) {
    lines.push({ kind: 'blank', text: '' }, { kind: 'title', text: 'Verification' });
    for (const [step, v] of checks) {
      lines.push({
        kind: v.ok ? 'add' : 'error',
        text: `${v.ok ? '✓' : '✗'} ${step}: ${v.ok ? 'ok' : 'PROBLEM'}`,
      });
      for (const m of v.messages) {
        for (const l of wrapText(m, width - 4)) lines.push({ kind: 'note', text: `    ${l}` });
      }
    }
  }
  return lines;
}

/** What the offline write did: how to undo it, then the changes and files. */
export function writeLines(write: ManifestWrite, plan: Plan | undefined, width: number): ViewLine[] {
  const lines: ViewLine[] = wrapText(
    `Wrote ${plural(write.added.length, 'change')}${plan ? ` (plan ${plan.id})` : ''} to ${write.outDir}: ${plural(write.rewritten.length, 'file')} rewritten, ${count(write.created.length)} created`,
    width,
  ).map((text) => ({ kind: 'title', text }));
  lines.push({ kind: 'ctx', text: 'The source manifests were not modified. To undo, remove the copy:' });
  for (const l of wrapText(`rm -r -- ${shellWord(write.outDir)}`, width - 9)) {
    lines.push({ kind: 'hunk', text: `         ${l}` });
  }
  lines.push({ kind: 'blank', text: '' });
  for (const id of write.added) {
    const ch = write.changes.find((c) => c.id === id);
    const removed = ch?.operation === 'delete';
    lines.push({
      kind: removed ? 'del' : 'add',
      text: `✓ ${removed ? 'removed' : 'written'}    ${ch ? changeTarget(ch) : id}`,
    });
  }
  if (write.changes.length > write.added.length) {
    lines.push({
      kind: 'note',
      text: `  (with the ${plural(write.changes.length - write.added.length, 'change')} written before in this session)`,
    });
  }
  lines.push({ kind: 'blank', text: '' });
  for (const f of write.rewritten) lines.push({ kind: 'ctx', text: `rewritten  ${f}` });
  for (const f of write.created) lines.push({ kind: 'ctx', text: `created    ${f}` });
  return lines;
}

/** Summary: what changed, the run id, and the exact undo command. */
export function SummaryScreen() {
  const { layout, caps, options, intents } = useWizard();
  const s = useHardenShallow((st) => ({
    report: st.report,
    plan: st.plan,
    verifications: st.verifications,
    source: st.source,
    manifestWrite: st.manifestWrite,
  }));
  const { width, bodyHeight } = layout;
  const offline = s.source?.kind === 'manifests';
  const lines = useMemo((): ViewLine[] => {
    if (offline) return s.manifestWrite ? writeLines(s.manifestWrite, s.plan, width) : [];
    if (!s.report) return [{ kind: 'note', text: 'nothing was applied' }];
    return runLines(
      s.report,
      s.plan,
      s.verifications,
      undoCommand(s.report.runId, s.source, options.kubeconfig),
      width,
    );
  }, [offline, s.manifestWrite, s.plan, s.report, s.verifications, s.source, options.kubeconfig, width]);
  const [offset, setOffset] = usePersistentState(`summary:${s.report?.runId ?? 'offline'}`, 0);
  const view = { count: lines.length, height: bodyHeight };
  const scroll = (type: 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end') => () =>
    setOffset((o) => scrollReducer(o, { type }, view));
  const applied = s.report?.outcomes.some((o) => o.outcome === 'applied') ?? false;
  const bindings = keymap('summary', { ...caps, canUndo: caps.canUndo && !offline && applied });
  const home = () => intents.continueToPhases();
  useScreenKeys({
    bindings,
    handlers: {
      up: scroll('up'),
      down: scroll('down'),
      pageUp: scroll('pageUp'),
      pageDown: scroll('pageDown'),
      home: scroll('home'),
      end: scroll('end'),
      phases: home,
      back: home,
      undo: () => s.report && intents.previewUndo(s.report.runId),
    },
  });
  return (
    <Frame bindings={bindings}>
      <Box flexDirection="column">
        <DiffView
          lines={lines}
          offset={Math.min(offset, Math.max(0, lines.length - bodyHeight))}
          height={bodyHeight}
          width={width}
        />
      </Box>
      {lines.length === 0 ? <Text>nothing was written</Text> : null}
    </Frame>
  );
}
