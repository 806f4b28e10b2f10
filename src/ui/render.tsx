/**
 * `renderWizard`: run the wizard on the terminal and resolve with its exit code (cli-kit style: the command
 * awaits a promise and never touches React).
 */
import { render } from 'ink';
import type { HardenStore } from '../store/store.js';
import { App } from './App.js';
import { diffingStream } from './frame-diff.js';
import type { WizardOptions } from './wizard-context.js';

export interface WizardResult {
  code: number;
  /** The second Ctrl-C: exit now, without waiting for the request in flight. */
  immediate: boolean;
}

export async function renderWizard(
  store: HardenStore,
  options: WizardOptions,
  io: { stdout?: NodeJS.WriteStream; stdin?: NodeJS.ReadStream; stderr?: NodeJS.WriteStream } = {},
): Promise<WizardResult> {
  let result: WizardResult = { code: 0, immediate: false };
  const instance = render(
    <App
      store={store}
      options={options}
      onExit={(code, immediate) => {
        result = { code, immediate };
      }}
    />,
    {
      // Ctrl-C is the wizard's: the first stops after the change in flight, the second quits.
      exitOnCtrlC: false,
      ...io,
      // Only the lines that changed are rewritten (see frame-diff.ts); bench/tui measures the bytes per keypress.
      stdout: diffingStream(io.stdout ?? process.stdout),
    },
  );
  await instance.waitUntilExit();
  return result;
}
