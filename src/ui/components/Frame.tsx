import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { type ActionId, GLOBAL_KEYS, type KeyBinding, keymap } from '../keymap.js';
import { clip, count, wrapText } from '../model/format.js';
import { currentScreen, type Screen } from '../state/wizard.js';
import { useHardenShallow } from '../store-context.js';
import { useColor, useWizard } from '../wizard-context.js';
import { HelpBar } from './HelpBar.js';
import { HelpOverlay } from './HelpOverlay.js';
import { Spinner } from './Spinner.js';

/** Lines the frame itself takes: header, two status lines, help bar. */
export const FRAME_LINES = 4;

export function screenTitle(screen: Screen): string {
  switch (screen.id) {
    case 'connect':
      return 'Connect';
    case 'phases':
      return 'Phases';
    case 'phase':
      return `Phase ${screen.phase}`;
    case 'changes':
      return 'Changes';
    case 'evidence':
      return 'Evidence';
    case 'setting':
      return `Phase ${screen.phase} · choose`;
    case 'diff':
    case 'undo-diff':
      return 'Diff';
    case 'save-artifact':
      return 'Save artifact';
    case 'confirm':
      return 'Confirm';
    case 'applying':
      return 'Applying';
    case 'summary':
      return 'Summary';
    case 'runs':
      return 'Runs';
    case 'undo':
      return `Undo ${screen.runId}`;
  }
}

export interface FrameProps {
  /** The screen's bindings: drawn in the help bar and the `?` overlay. */
  bindings: readonly KeyBinding[];
  /**
   * Which global keys the help bar shows: all, none, or these actions (e.g. no `esc back` while applying).
   * @default true
   */
  globalKeys?: boolean | readonly ActionId[];
  children: ReactNode;
}

/** Header, the screen's body (exactly `bodyHeight` rows), two status lines and the help bar. */
export function Frame({ bindings, globalKeys = true, children }: FrameProps) {
  const { state, layout, options, caps } = useWizard();
  const c = useColor();
  const { source, serverVersion, progress } = useHardenShallow((s) => ({
    source: s.source,
    serverVersion: s.serverVersion,
    progress: s.progress,
  }));
  const { width, bodyHeight } = layout;
  const crumbs = state.stack.map(screenTitle).join(' › ');
  const where =
    source?.kind === 'cluster'
      ? `context ${source.context}${serverVersion ? ` · ${serverVersion.gitVersion}` : ''}`
      : source
        ? `manifests ${source.path}`
        : '';
  const mode =
    source === undefined
      ? ''
      : options.readOnly
        ? 'read-only'
        : source.kind === 'manifests'
          ? options.outDir !== undefined
            ? `offline → ${options.outDir}`
            : 'offline, read-only'
          : caps.canApply
            ? 'read-write'
            : 'read-only';
  const right = [where, mode].filter(Boolean).join(' · ');
  const left = `kube-harden › ${crumbs}`;
  const room = width - left.length - 2;
  const header = room >= 12 ? `${left}  ${clip(right, room).padStart(room)}` : clip(left, width);

  // Status: progress while busy, then the notice (wrapped to what is left of two lines).
  const status: ReactNode[] = [];
  if (state.overlay === 'quit') {
    status.push(
      <Text key="q" color={c('yellow')}>
        {clip('A run is in progress. Quit after the change in flight? [y/N]', width)}
      </Text>,
    );
  } else if (state.busy) {
    const counts =
      progress?.done !== undefined && progress.total !== undefined
        ? ` (${count(progress.done)}/${count(progress.total)})`
        : '';
    status.push(
      <Text key="p">
        <Spinner color={c('cyan')} /> {clip(`${progress?.label ?? state.busy.label}${counts}`, width - 2)}
      </Text>,
    );
  }
  if (state.notice && status.length < 2) {
    const color = state.notice.kind === 'error' ? 'red' : state.notice.kind === 'warn' ? 'yellow' : 'cyan';
    const text = `${state.notice.text}${state.notice.hint ? ` — ${state.notice.hint}` : ''}`;
    for (const [i, line] of wrapText(text, width, 2 - status.length).entries()) {
      status.push(
        <Text key={`n${i}`} color={c(color)}>
          {line}
        </Text>,
      );
    }
  }
  while (status.length < 2) status.push(<Text key={`e${status.length}`}> </Text>);

  const overlayKeys =
    state.overlay === 'help'
      ? keymap('help', caps)
      : state.overlay === 'quit'
        ? keymap('quit-prompt', caps)
        : null;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={c('cyan')}>
        {header}
      </Text>
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {state.overlay === 'help' ? (
          <HelpOverlay
            title={screenTitle(currentScreen(state))}
            bindings={bindings}
            width={width}
            height={bodyHeight}
          />
        ) : (
          children
        )}
      </Box>
      {status}
      <HelpBar
        bindings={overlayKeys ?? bindings}
        global={
          overlayKeys || globalKeys === false
            ? []
            : globalKeys === true
              ? GLOBAL_KEYS
              : GLOBAL_KEYS.filter((g) => globalKeys.includes(g.action))
        }
        width={width}
      />
    </Box>
  );
}
