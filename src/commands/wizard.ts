/**
 * `kube-harden` with no command: the interactive wizard (Ink). Without a terminal (or with CI set) it does not
 * start: it exits 2 with a one-line hint toward the headless commands, so a pipeline never hangs on a prompt.
 */
import { stat } from 'node:fs/promises';
import { stepSettings } from '../../steps/index.js';
import { type FlagSpec, parseSettingFlags, settingFlags } from '../cli/args.js';
import { refuseOutInsideManifests } from '../engine/remediate.js';
import { ExitCode, UsageError } from '../errors.js';
import { createHardenStore } from '../store/store.js';
import { checkManifestsPath, readFlags, sessionOptions } from './common.js';
import type { CommandRun } from './types.js';

export const wizardFlags: readonly FlagSpec[] = [
  ...readFlags,
  // The steps' settings (e.g. --audit-tier for phase 6), as `plan` takes them.
  ...settingFlags(stepSettings()),
  { name: 'read-only', type: 'boolean', description: 'wizard: preview only; no apply or undo action exists' },
  {
    name: 'out',
    type: 'string',
    arg: 'DIR',
    description: 'wizard with --manifests: "apply" writes remediated manifests to DIR (new or empty)',
  },
];

export const NO_TERMINAL_HINT =
  'kube-harden: the wizard needs an interactive terminal (and CI unset); without one use "kube-harden report", "kube-harden plan --out DIR" and "kube-harden apply --plan DIR"\n';

/** CI detection as Ink does it (is-in-ci): a live TUI in CI would print a frame per update. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = (k: string) => k in env && env[k] !== '0' && env[k] !== 'false';
  return set('CI') || set('CONTINUOUS_INTEGRATION');
}

/**
 * Whether argv is the wizard (no command word): every word is a flag or the value of a flag that takes one.
 * `kube-harden --context prod report` is still the report command, `kube-harden frob` an unknown command.
 */
export function isWizardInvocation(argv: readonly string[]): boolean {
  const valued = new Set<string>();
  for (const f of wizardFlags) {
    if (f.type !== 'string') continue;
    valued.add(`--${f.name}`);
    if (f.short) valued.add(`-${f.short}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return false;
    if (a.startsWith('-')) {
      if (valued.has(a)) i++;
      continue;
    }
    return false;
  }
  return true;
}

export async function runWizard({ parsed, output }: CommandRun): Promise<number> {
  const flags = parsed.flags;
  const out = typeof flags.out === 'string' ? flags.out : undefined;
  const options = sessionOptions(flags, {
    interactive: true,
    settings: parseSettingFlags(flags, stepSettings()),
  });
  if (out !== undefined) {
    if (!options.manifests) {
      throw new UsageError(
        '--out works with --manifests: on a cluster, the wizard applies changes after confirmation',
        'drop --out, or add --manifests DIR',
      );
    }
    if (options.readOnly) throw new UsageError('--out writes files; it cannot be combined with --read-only');
  }
  await checkManifestsPath(options.manifests);
  if (out !== undefined && options.manifests) {
    refuseOutInsideManifests(options.manifests, out);
    const st = await stat(out).catch(() => undefined);
    if (st && !st.isDirectory()) throw new UsageError(`--out ${out} exists and is not a directory`);
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY || isCi()) {
    output.err.write(NO_TERMINAL_HINT);
    return ExitCode.usage;
  }
  const store = createHardenStore({ options });
  try {
    // React's production build (its development build checks and profiles every render: about twice the work
    // per keypress). Loaded only here, so the headless commands never pay for React and Ink.
    process.env.NODE_ENV ??= 'production';
    const { renderWizard } = await import('../ui/render.js');
    const result = await renderWizard(store, {
      readOnly: options.readOnly,
      color: output.color,
      ...(out !== undefined ? { outDir: out } : {}),
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    });
    // The second Ctrl-C: a request may still be in flight; its journal entry is already on disk.
    if (result.immediate) process.exit(result.code);
    return result.code;
  } finally {
    store.getState().close();
  }
}
