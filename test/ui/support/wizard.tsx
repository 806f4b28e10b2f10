/**
 * Render the wizard with ink-testing-library on a store built for the test, and drive it with keys.
 * Frames are plain text (FORCE_COLOR=0, colour off in the options).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import type { Step } from '../../../src/engine/types.js';
import type { SessionOptions } from '../../../src/store/session.js';
import { createHardenStore, type HardenStore, type StoreDeps } from '../../../src/store/store.js';
import { App } from '../../../src/ui/App.js';
import type { WizardOptions } from '../../../src/ui/wizard-context.js';
import { psaEnforce } from '../../../steps/psa-enforce.js';
import { psaWarnAudit } from '../../../steps/psa-warn-audit.js';
import { NOW } from '../../fixtures/snapshots/builder.js';
import { FakeCluster, type FakeClusterOptions } from './fake-cluster.js';

/** The two Pod Security phases (pinned here, so that steps added to the registry do not move these tests). */
export const PSA_STEPS = [psaWarnAudit, psaEnforce] as unknown as readonly Step<never>[];

export const LEGACY = join(import.meta.dirname, '..', '..', '..', 'examples', 'legacy-cluster');

const KEYS: Record<string, string> = {
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  pgup: '\u001B[5~',
  pgdn: '\u001B[6~',
  home: '\u001B[H',
  end: '\u001B[F',
  enter: '\r',
  esc: '\u001B',
  space: ' ',
  tab: '\t',
  backspace: '\u007F',
  'ctrl+c': '\u0003',
  'ctrl+u': '\u0015',
};

export function sessionOptions(extra: Partial<SessionOptions> = {}): SessionOptions {
  return {
    scope: { namespaces: [], exclude: [] },
    readOnly: false,
    now: () => NOW,
    env: { ...process.env, XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'kh-ui-state-')) },
    ...extra,
  };
}

/** A store over a fake cluster (live source with a writer unless read-only). */
export async function clusterStore(
  opts: FakeClusterOptions & { readOnly?: boolean; steps?: readonly Step<never>[]; seed?: string } = {},
): Promise<{ store: HardenStore; cluster: FakeCluster }> {
  const cluster = await FakeCluster.fromManifests(opts.seed ?? LEGACY, opts);
  const readOnly = opts.readOnly ?? false;
  const store = createHardenStore({
    options: sessionOptions({ readOnly }),
    steps: opts.steps ?? PSA_STEPS,
    open: async () => ({ reader: cluster, ...(readOnly ? {} : { writer: cluster }), close() {} }),
  });
  return { store, cluster };
}

/** A store over a manifests directory (the offline source). */
export function manifestStore(dir = LEGACY, extra: Partial<StoreDeps> = {}): HardenStore {
  return createHardenStore({
    options: sessionOptions({ manifests: dir }),
    steps: PSA_STEPS,
    ...extra,
  });
}

export interface Driven {
  lastFrame(): string;
  frames: string[];
  exits: Array<{ code: number; immediate: boolean }>;
  stdin: { write(data: string): void };
  unmount(): void;
  /** Press keys one at a time (names from KEYS, or literal text), each after a macrotask. */
  press(...keys: string[]): Promise<void>;
  /** Type text one character at a time. */
  type(text: string): Promise<void>;
  /** Wait until the frame contains every string (or matches), else throw with the last frame. */
  waitFor(...expected: Array<string | RegExp>): Promise<string>;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

export function renderWizard(store: HardenStore, options: Partial<WizardOptions> = {}): Driven {
  const exits: Array<{ code: number; immediate: boolean }> = [];
  const instance = render(
    <App
      store={store}
      options={{
        readOnly: false,
        color: false,
        size: { columns: 100, rows: 30 },
        steps: PSA_STEPS,
        ...options,
      }}
      onExit={(code, immediate) => exits.push({ code, immediate })}
    />,
  );
  // React 19 may flush an empty frame between two: the last non-empty one is the screen.
  const lastFrame = () => {
    for (let i = instance.frames.length - 1; i >= 0; i--) {
      const f = instance.frames[i] as string;
      if (f.trim() !== '') return f;
    }
    return '';
  };
  const driven: Driven = {
    lastFrame,
    frames: instance.frames,
    exits,
    stdin: instance.stdin,
    unmount: instance.unmount,
    async press(...keys) {
      for (const k of keys) {
        await tick();
        const before = instance.frames.length;
        instance.stdin.write(KEYS[k] ?? k);
        // Escape is flushed by Ink on the next macrotask; then wait (briefly) for the frame it causes.
        for (let i = 0; i < 20 && instance.frames.length === before; i++)
          await new Promise((r) => setTimeout(r, 5));
      }
    },
    async type(text) {
      for (const ch of text) await driven.press(ch);
    },
    async waitFor(...expected) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const frame = lastFrame();
        if (expected.every((e) => (typeof e === 'string' ? frame.includes(e) : e.test(frame)))) return frame;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${expected.map(String).join(', ')}; last frame:\n${frame}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
  return driven;
}
