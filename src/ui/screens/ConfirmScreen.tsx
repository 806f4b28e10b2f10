import { Box, Text } from 'ink';
import { useMemo, useState } from 'react';
import type { PlannedChange } from '../../engine/types.js';
import { Frame } from '../components/Frame.js';
import { TextInput } from '../components/TextInput.js';
import { usePhaseStepIds } from '../hooks/use-phase-steps.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { cell, clip, plural, wrapText } from '../model/format.js';
import { textInputReducer } from '../state/text-input.js';
import { useHardenShallow } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';
import { changeTarget, chosenChanges } from './ChangesScreen.js';

const RBAC_KINDS: ReadonlySet<string> = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/**
 * Whether a change decides who may do what (phase 4): a Role, ClusterRole or binding; a ServiceAccount created (an
 * identity bindings can name); or a pod template switched to another ServiceAccount (its pods take that account's
 * permissions). Setting `automountServiceAccountToken` alone is not: it grants nothing.
 */
export function touchesRbac(change: Pick<PlannedChange, 'target' | 'operation' | 'desired'>): boolean {
  const kind = change.target?.kind;
  if (!kind) return false;
  if (RBAC_KINDS.has(kind) && change.target?.apiVersion.startsWith('rbac.authorization.k8s.io/')) return true;
  if (kind === 'ServiceAccount') return change.operation === 'create';
  return JSON.stringify(change.desired ?? {}).includes('"serviceAccountName":');
}

/**
 * How the operator confirms (cli-kit's rule): a disruptive change on a cluster, or one that touches RBAC
 * (`touchesRbac`), needs the context name typed; anything else is y/N with N the default. Writing remediated
 * manifests touches no cluster: y/N.
 */
export function confirmKind(changes: readonly PlannedChange[], live: boolean): 'typed' | 'yes-no' {
  return live && changes.some((c) => c.risk === 'disruptive' || touchesRbac(c)) ? 'typed' : 'yes-no';
}

/** Confirm: y/N for low-risk changes, the context name typed for disruptive ones. */
export function ConfirmScreen({ phase }: { phase: number }) {
  const { layout, caps, intents, options } = useWizard();
  const c = useColor();
  const s = useHardenShallow((st) => ({
    plan: st.plan,
    selected: st.selected,
    takeOver: st.takeOver,
    source: st.source,
  }));
  const stepIds = usePhaseStepIds(phase);
  const chosen = useMemo(
    () => chosenChanges(s.plan?.changes ?? [], stepIds, s.selected),
    [s.plan, stepIds, s.selected],
  );
  const live = s.source?.kind === 'cluster';
  const context = s.source?.kind === 'cluster' ? s.source.context : '';
  const kind = confirmKind(chosen, live);
  const [typed, setTyped] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const bindings = keymap(kind === 'typed' ? 'confirm-typed' : 'confirm-yes-no', caps);
  useScreenKeys({
    bindings,
    handlers: {
      confirm: () => intents.apply(phase),
      decline: intents.decline,
      submit: () => {
        if (typed === context) intents.apply(phase);
        else setMismatch(true);
      },
      back: intents.decline,
    },
    ...(kind === 'typed'
      ? {
          onText: (action) => {
            setMismatch(false);
            setTyped((v) => textInputReducer(v, action));
          },
        }
      : {}),
  });
  const { width, bodyHeight } = layout;
  const disruptive = chosen.filter((ch) => ch.risk === 'disruptive');
  const taken = chosen.filter((ch) => s.takeOver.includes(ch.id) && ch.conflicts?.length);
  const question = live
    ? `Apply ${plural(chosen.length, 'change')} of phase ${phase} to context "${context}"${s.source?.kind === 'cluster' ? ` (${s.source.server})` : ''}?`
    : `Write ${plural(chosen.length, 'change')} of phase ${phase} as remediated manifests to ${options.outDir}? The source manifests are not modified.`;
  const warnings: string[] = [];
  if (live && disruptive.length) {
    const impact = s.plan?.steps
      .filter((st) => stepIds.includes(st.id) && st.risk === 'disruptive')
      .map((st) => st.explanation.impact)
      .join(' ');
    warnings.push(`${plural(disruptive.length, 'change is', 'changes are')} disruptive. ${impact ?? ''}`);
  }
  const rbac = chosen.filter(touchesRbac);
  if (rbac.length) {
    warnings.push(
      `${plural(rbac.length, 'change touches', 'changes touch')} RBAC (roles, bindings, the ServiceAccounts pods run as): who may do what in the cluster changes.`,
    );
  }
  if (taken.length) {
    warnings.push(
      `${plural(taken.length, 'change takes', 'changes take')} over fields owned by other field managers (force).`,
    );
  }
  const head = wrapText(question, width, 3);
  const warnLines = warnings.flatMap((w) => wrapText(`⚠ ${w}`, width, 3));
  const promptLines = kind === 'typed' ? 4 : 3;
  const room = Math.max(1, bodyHeight - head.length - warnLines.length - promptLines - 2);
  const listed = chosen.slice(0, chosen.length > room ? room - 1 : room);
  return (
    <Frame bindings={bindings} globalKeys={kind !== 'typed'}>
      <Text bold>{head.join('\n')}</Text>
      <Text> </Text>
      <Box flexDirection="column">
        {listed.map((ch) => (
          <Text key={ch.id} wrap="truncate-end">
            {'  '}
            <Text color={ch.risk === 'disruptive' ? c('red') : c('green')}>{cell(ch.risk, 10)}</Text>{' '}
            {clip(`${ch.operation} ${changeTarget(ch)}`, width - 13)}
          </Text>
        ))}
        {chosen.length > listed.length ? (
          <Text color={c('gray')}>{`  … and ${plural(chosen.length - listed.length, 'more change')}`}</Text>
        ) : null}
      </Box>
      <Text> </Text>
      {warnLines.length ? <Text color={c('yellow')}>{warnLines.join('\n')}</Text> : null}
      {kind === 'typed' ? (
        <>
          <Text bold>{clip(`Type the context name "${context}" to confirm (Esc cancels):`, width)}</Text>
          <TextInput value={typed} width={width} />
          <Text color={c('red')}>
            {mismatch ? clip(`"${typed}" is not "${context}": nothing was applied`, width) : ' '}
          </Text>
        </>
      ) : (
        <>
          <Text bold>
            {live ? 'Apply?' : 'Write?'} [y/N] <Text color={c('gray')}>(Enter alone answers no)</Text>
          </Text>
          <Text> </Text>
        </>
      )}
    </Frame>
  );
}
