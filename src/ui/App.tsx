/**
 * The wizard: one input handler dispatches keys to the bindings of the screen on top (keys are data, see
 * keymap.ts); screens render the store's state and the wizard's, and dispatch intents.
 */
import { useApp, useInput } from 'ink';
import { useEffect, useMemo, useReducer, useRef } from 'react';
import { STEPS } from '../../steps/index.js';
import type { HardenStore } from '../store/store.js';
import { FRAME_LINES } from './components/Frame.js';
import { useIntents } from './hooks/use-intents.js';
import { ViewStateContext } from './hooks/use-persistent-state.js';
import { KeyRegistryContext, type ScreenKeys } from './hooks/use-screen-keys.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import { type KeyContext, keymap, keyName, resolveKey } from './keymap.js';
import { ApplyingScreen } from './screens/ApplyingScreen.js';
import { ChangesScreen } from './screens/ChangesScreen.js';
import { ConfirmScreen } from './screens/ConfirmScreen.js';
import { ConnectScreen } from './screens/ConnectScreen.js';
import { DiffScreen, UndoDiffScreen } from './screens/DiffScreen.js';
import { EvidenceScreen } from './screens/EvidenceScreen.js';
import { PhaseScreen } from './screens/PhaseScreen.js';
import { PhasesScreen } from './screens/PhasesScreen.js';
import { RunsScreen } from './screens/RunsScreen.js';
import { SaveArtifactScreen } from './screens/SaveArtifactScreen.js';
import { SettingScreen } from './screens/SettingScreen.js';
import { SummaryScreen } from './screens/SummaryScreen.js';
import { UndoScreen } from './screens/UndoScreen.js';
import { currentScreen, initialWizardState, type Screen, wizardReducer } from './state/wizard.js';
import { StoreProvider, useHarden, useHardenStore } from './store-context.js';
import { WizardContext, type WizardContextValue, type WizardOptions } from './wizard-context.js';

export interface AppProps {
  store: HardenStore;
  options: WizardOptions;
  /**
   * Called once when the wizard ends, with the exit code; `immediate`: the second Ctrl-C, quit now even though
   * a request may be in flight.
   */
  onExit?: (code: number, immediate: boolean) => void;
}

export function App({ store, options, onExit }: AppProps) {
  return (
    <StoreProvider store={store}>
      <Wizard options={options} {...(onExit ? { onExit } : {})} />
    </StoreProvider>
  );
}

function screenKey(screen: Screen): string {
  return JSON.stringify(screen);
}

function Router({ screen }: { screen: Screen }) {
  const key = screenKey(screen);
  switch (screen.id) {
    case 'connect':
      return <ConnectScreen key={key} />;
    case 'phases':
      return <PhasesScreen key={key} />;
    case 'phase':
      return <PhaseScreen key={key} phase={screen.phase} />;
    case 'changes':
      return <ChangesScreen key={key} phase={screen.phase} />;
    case 'setting':
      return <SettingScreen key={key} phase={screen.phase} index={screen.index ?? 0} />;
    case 'evidence':
      return <EvidenceScreen key={key} phase={screen.phase} />;
    case 'diff':
      return <DiffScreen key={key} phase={screen.phase} changeId={screen.changeId} />;
    case 'save-artifact':
      return <SaveArtifactScreen key={key} changeId={screen.changeId} />;
    case 'confirm':
      return <ConfirmScreen key={key} phase={screen.phase} />;
    case 'applying':
      return <ApplyingScreen key={key} phase={screen.phase} />;
    case 'summary':
      return <SummaryScreen key={key} />;
    case 'runs':
      return <RunsScreen key={key} />;
    case 'undo':
      return <UndoScreen key={key} runId={screen.runId} />;
    case 'undo-diff':
      return <UndoDiffScreen key={key} runId={screen.runId} index={screen.index} />;
  }
}

function Wizard({ options, onExit }: { options: WizardOptions; onExit?: AppProps['onExit'] }) {
  const store = useHardenStore();
  const app = useApp();
  const [state, dispatch] = useReducer(wizardReducer, undefined, initialWizardState);
  const stateRef = useRef(state);
  stateRef.current = state;
  const ended = useRef(false);
  const exitRef = useRef((code: number, immediate: boolean) => {
    if (ended.current) return;
    ended.current = true;
    onExit?.(code, immediate);
    app.exit();
  });
  const steps = options.steps ?? STEPS;
  const intents = useIntents({
    store,
    dispatch,
    current: () => stateRef.current,
    steps,
    ...(options.outDir !== undefined ? { outDir: options.outDir } : {}),
    exit: (code, immediate) => exitRef.current(code, immediate),
  });
  const size = useTerminalSize(options.size);
  const canWrite = useHarden((s) => s.canWrite);
  const sourceKind = useHarden((s) => s.source?.kind);
  const caps = useMemo<KeyContext>(
    () => ({
      canApply:
        !options.readOnly && (canWrite || (sourceKind === 'manifests' && options.outDir !== undefined)),
      canUndo: !options.readOnly && canWrite,
      live: sourceKind === 'cluster',
    }),
    [options.readOnly, options.outDir, canWrite, sourceKind],
  );
  // One row short of the terminal: a frame as tall as the terminal makes Ink clear the screen on every update.
  const layout = { width: size.columns, bodyHeight: Math.max(3, size.rows - 1 - FRAME_LINES) };
  const registry = useRef<ScreenKeys | undefined>(undefined);
  const views = useRef(new Map<string, unknown>()).current;

  // biome-ignore lint/correctness/useExhaustiveDependencies: start once
  useEffect(() => {
    if (options.autoStart !== false) intents.start();
  }, []);
  useEffect(() => {
    if (state.quitWhenIdle && !state.busy) exitRef.current(130, false);
  }, [state.quitWhenIdle, state.busy]);

  useInput((input, key) => {
    const name = keyName(input, key);
    if (name === 'ctrl+c') {
      intents.interrupt();
      return;
    }
    const w = stateRef.current;
    if (w.overlay === 'quit') {
      const b = resolveKey(name, keymap('quit-prompt', caps), []);
      if (b?.action === 'confirm') intents.confirmQuit();
      else if (b?.action === 'decline') dispatch({ type: 'overlay', overlay: null });
      return;
    }
    if (w.overlay === 'help') {
      if (resolveKey(name, keymap('help', caps), [])) dispatch({ type: 'overlay', overlay: null });
      return;
    }
    const screen = registry.current;
    if (screen?.onText) {
      const b = screen.bindings.find((x) => x.key === name);
      if (b) screen.handlers[b.action]?.();
      else if (name === 'backspace') screen.onText({ type: 'backspace' });
      else if (input && !key.ctrl && !key.meta) screen.onText({ type: 'insert', text: input });
      return;
    }
    const b = resolveKey(name, screen?.bindings ?? []);
    if (!b) return;
    const handler = screen?.handlers[b.action];
    if (handler) {
      handler();
      return;
    }
    if (b.action === 'help') dispatch({ type: 'overlay', overlay: 'help' });
    else if (b.action === 'back') intents.back();
    else if (b.action === 'quit') intents.quit();
  });

  const value: WizardContextValue = { state, dispatch, options, steps, caps, layout, intents };
  return (
    <WizardContext.Provider value={value}>
      <KeyRegistryContext.Provider value={registry}>
        <ViewStateContext.Provider value={views}>
          <Router screen={currentScreen(state)} />
        </ViewStateContext.Provider>
      </KeyRegistryContext.Provider>
    </WizardContext.Provider>
  );
}
