import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { SEVERITIES } from '../../policy/controls.js';
import { Frame } from '../components/Frame.js';
import { useScreenKeys } from '../hooks/use-screen-keys.js';
import { keymap } from '../keymap.js';
import { clip, count, plural } from '../model/format.js';
import { ago, describeAccess, stepPhases } from '../model/phases.js';
import { useHardenShallow } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';

/** Connect: where, who, which version; the inventory's progress and totals; the permission preflight per phase. */
export function ConnectScreen() {
  const { layout, caps, options, steps, intents, state } = useWizard();
  const c = useColor();
  const s = useHardenShallow((st) => ({
    source: st.source,
    serverVersion: st.serverVersion,
    identity: st.identity,
    assessment: st.assessment,
    snapshot: st.snapshot,
    permissions: st.permissions,
    status: st.status,
    journal: st.journal,
    now: st.now,
  }));
  // Failed (or stopped): nothing in flight, no assessment, and the store says why.
  const failed = !state.busy && !s.assessment && s.status === 'error';
  const bindings = s.assessment ? keymap('connect', caps) : failed ? keymap('connect-failed', caps) : [];
  useScreenKeys({
    bindings,
    handlers: { continue: intents.continueToPhases, retry: intents.start },
  });
  const { width } = layout;
  const field = (name: string, value: string) => (
    <Text key={name}>
      {'  '}
      <Text color={c('gray')}>{name.padEnd(9)}</Text>
      {clip(value, width - 11)}
    </Text>
  );
  const lines: ReactNode[] = [];
  lines.push(
    <Text key="h1" bold>
      Connection
    </Text>,
  );
  const src = s.source;
  if (!src) {
    lines.push(field('source', state.busy ? 'connecting…' : 'not connected'));
  } else if (src.kind === 'cluster') {
    lines.push(field('context', `${src.context}  (${src.server})`));
    lines.push(field('version', s.serverVersion?.gitVersion ?? 'unknown'));
    lines.push(
      field(
        'user',
        s.identity
          ? `${s.identity.username}${s.identity.groups.length ? `  (groups: ${s.identity.groups.join(', ')})` : ''}`
          : 'unknown (SelfSubjectReview not available)',
      ),
    );
  } else {
    lines.push(field('source', `manifests ${src.path} (offline: no API server, no dry-run)`));
  }
  // Runs recorded for this cluster (any session): the phases' status comes from them.
  const newest = s.journal[0];
  if (src?.kind === 'cluster' && newest) {
    const inPlace = s.journal.filter((r) => r.state !== 'undone').length;
    lines.push(
      field(
        'runs',
        `${plural(s.journal.length, 'run')} recorded on this cluster (${count(inPlace)} not undone), last ${ago(newest.startedAt, s.now())}`,
      ),
    );
  }
  if (src) {
    lines.push(
      field(
        'mode',
        options.readOnly
          ? 'read-only (--read-only): nothing can be applied'
          : src.kind === 'manifests'
            ? options.outDir !== undefined
              ? `offline: applying writes remediated manifests to ${options.outDir}`
              : 'offline, read-only: pass --out DIR to write remediated manifests'
            : caps.canApply
              ? 'read-write: changes are applied only after you confirm them'
              : 'read-only',
      ),
    );
  }
  lines.push(<Text key="b1"> </Text>);
  lines.push(
    <Text key="h2" bold>
      Inventory
    </Text>,
  );
  const a = s.assessment;
  if (a) {
    const sum = a.summary;
    const sev = SEVERITIES.filter((x) => sum.bySeverity[x] > 0)
      .map((x) => `${count(sum.bySeverity[x])} ${x}`)
      .join(', ');
    const secs = s.snapshot ? ` in ${(s.snapshot.stats.durationMs / 1000).toFixed(1)} s` : '';
    lines.push(
      <Text key="i1">
        {'  '}
        <Text color={c('green')}>✓</Text>
        {clip(
          ` listed ${plural(sum.pods, 'pod')} and ${plural(sum.workloads, 'workload')} in ${plural(sum.namespaces, 'namespace')}${secs}`,
          width - 3,
        )}
      </Text>,
    );
    lines.push(
      <Text key="i2">
        {clip(
          `    ${plural(sum.open, 'open finding')}${sev ? ` (${sev})` : ''}, ${count(sum.excepted)} excepted`,
          width,
        )}
      </Text>,
    );
    const ex = a.exceptions;
    const soonest = ex.entries
      .filter((e) => e.state === 'expiring')
      .sort((x, y) => x.daysLeft - y.daysLeft || (x.id < y.id ? -1 : 1))[0];
    if (soonest || ex.expired.length > 0) {
      const parts = [
        ...(soonest
          ? [
              `expiring: ${plural(ex.expiring.length, 'exception')} within ${ex.within}d, soonest ${soonest.id} ${
                soonest.daysLeft === 0 ? 'today' : `in ${plural(soonest.daysLeft, 'day')}`
              }`,
            ]
          : []),
        ...(ex.expired.length > 0 ? [`${plural(ex.expired.length, 'exception')} expired`] : []),
      ];
      lines.push(
        <Text key="ix" color={c('yellow')}>
          {clip(`  ! ${parts.join('; ')}`, width)}
        </Text>,
      );
    }
    if (a.unknown.length > 0) {
      lines.push(
        <Text key="i3" color={c('yellow')}>
          {clip(
            `  ! ${plural(a.unknown.length, 'resource type')} could not be read (unknown, never compliant): ${a.unknown
              .map((u) => `${u.resource}${u.namespace ? ` in ${u.namespace}` : ''}`)
              .join(', ')}`,
            width,
          )}
        </Text>,
      );
    }
  } else if (!failed) {
    lines.push(<Text key="i0">{clip('  in progress (see below)', width)}</Text>);
  } else {
    lines.push(
      <Text key="i0" color={c('red')}>
        {clip('  not taken: the connection or the inventory failed (see below); r tries again', width)}
      </Text>,
    );
  }
  lines.push(<Text key="b2"> </Text>);
  lines.push(
    <Text key="h3" bold>
      Permissions to apply each phase
    </Text>,
  );
  if (src?.kind === 'manifests') {
    lines.push(<Text key="p0">{clip('  none needed: a manifest source has no API server', width)}</Text>);
  } else if (!a) {
    lines.push(
      <Text key="p0">{clip('  checked after the inventory (SelfSubjectAccessReview)', width)}</Text>,
    );
  } else {
    for (const { phase, steps: list } of stepPhases(steps)) {
      // One entry per verb and resource (a step checks namespaced verbs in each namespace): denied if any is.
      const byAccess = new Map<string, { label: string; allowed: boolean }>();
      for (const d of list.flatMap((st) => s.permissions[st.id] ?? [])) {
        const label = describeAccess(d);
        byAccess.set(label, { label, allowed: (byAccess.get(label)?.allowed ?? true) && d.allowed });
      }
      const decisions = [...byAccess.values()];
      const title = list.map((st) => st.title).join(' + ');
      const denied = decisions.some((d) => !d.allowed);
      lines.push(
        <Text key={`p${phase}`} wrap="truncate-end">
          {`  phase ${phase}  `}
          {clip(title, 30).padEnd(30)}{' '}
          {decisions.length === 0 ? (
            <Text color={c('gray')}>nothing to check</Text>
          ) : (
            decisions.map((d, i) => (
              <Text key={d.label} color={d.allowed ? c('green') : c('red')}>
                {i > 0 ? '  ' : ''}
                {d.allowed ? '✓' : '✗'} {d.label}
              </Text>
            ))
          )}
          {denied ? <Text color={c('red')}> — cannot apply</Text> : null}
        </Text>,
      );
    }
  }
  if (a) {
    lines.push(<Text key="b3"> </Text>);
    lines.push(
      <Text key="go" color={c('cyan')}>
        {clip('Press Enter to continue to the phases.', width)}
      </Text>,
    );
  }
  return (
    <Frame bindings={bindings}>
      <Box flexDirection="column">{lines.slice(0, layout.bodyHeight)}</Box>
    </Frame>
  );
}
