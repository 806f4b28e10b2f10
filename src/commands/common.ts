/** Flags and helpers shared by the commands that read a source (live cluster or manifests). */
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import {
  connectionFlags,
  type FlagSpec,
  type FlagValues,
  parseDuration,
  parsePositiveNumber,
  scopeFlags,
  stringList,
} from '../cli/args.js';
import { type Output, paint } from '../cli/output.js';
import { AbortError, UsageError } from '../errors.js';
import type { Scope } from '../inventory/scope.js';
import { type PolicyVersionString, parseVersion } from '../policy/pss/index.js';
import type { SessionOptions } from '../store/session.js';
import { createHardenStore, type HardenStore } from '../store/store.js';

export const sourceFlags: readonly FlagSpec[] = [
  {
    name: 'manifests',
    type: 'string',
    arg: 'DIR',
    description: 'work offline on a directory (or file) of manifests instead of a cluster',
  },
  {
    name: 'exceptions',
    type: 'string',
    arg: 'FILE',
    description: 'exceptions register (default: ./kube-harden-exceptions.yaml if present)',
  },
  { name: 'config', type: 'string', arg: 'FILE', description: 'kube-harden config file (namespace tiers)' },
  {
    name: 'psa-version',
    type: 'string',
    arg: 'VERSION',
    description:
      'Pod Security version to evaluate and pin: v1.N or latest (default: the server minor version)',
  },
];

export const readFlags: readonly FlagSpec[] = [...connectionFlags, ...scopeFlags, ...sourceFlags];

export function scopeFrom(flags: FlagValues): Scope {
  const namespaces = stringList(flags, 'namespace');
  if (flags['all-namespaces'] && namespaces.length > 0) {
    throw new UsageError('-n/--namespace and -A/--all-namespaces cannot be used together', 'pick one');
  }
  return { namespaces, exclude: stringList(flags, 'exclude-namespace') };
}

export function sessionOptions(flags: FlagValues, extra: Partial<SessionOptions> = {}): SessionOptions {
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const manifests = str('manifests');
  if (manifests && (str('kubeconfig') || str('context'))) {
    throw new UsageError(
      '--manifests works offline; it cannot be combined with --kubeconfig or --context',
      'drop one of them',
    );
  }
  const psaVersion = str('psa-version');
  if (psaVersion !== undefined && parseVersion(psaVersion).error) {
    throw new UsageError(`invalid --psa-version "${psaVersion}"`, 'use "latest" or v1.N, e.g. v1.36');
  }
  const options: SessionOptions = {
    scope: scopeFrom(flags),
    readOnly: flags['read-only'] === true,
    now: () => new Date(),
    ...extra,
  };
  const k = str('kubeconfig');
  const c = str('context');
  const e = str('exceptions');
  const cfg = str('config');
  if (manifests) options.manifests = manifests;
  if (k) options.kubeconfig = k;
  if (c) options.context = c;
  if (e) options.exceptionsFile = e;
  if (cfg) options.configFile = cfg;
  if (psaVersion) options.psaVersion = psaVersion as PolicyVersionString;
  if (str('request-timeout'))
    options.requestTimeoutMs = parseDuration(str('request-timeout') as string, 'request-timeout');
  if (str('qps')) options.qps = parsePositiveNumber(str('qps') as string, 'qps');
  if (str('burst')) options.burst = parsePositiveNumber(str('burst') as string, 'burst');
  return options;
}

export async function checkManifestsPath(path: string | undefined): Promise<void> {
  if (!path) return;
  try {
    await stat(path);
  } catch {
    throw new UsageError(`--manifests ${path} does not exist`, 'pass a directory or file of Kubernetes YAML');
  }
}

/** A store whose progress is printed as lines on stderr. */
export function headlessStore(options: SessionOptions, output: Output): HardenStore {
  const notice = (message: string) => {
    output.endProgress();
    output.err.write(`${paint(output.color, 'yellow', 'warning:')} ${message}\n`);
  };
  const store = createHardenStore({ options: { notice, ...options }, stepPermissions: false });
  let last = '';
  store.subscribe((state) => {
    const label = state.progress?.label;
    if (label && label !== last) {
      last = label;
      output.progress(label);
    } else if (!label && last) {
      last = '';
      output.endProgress();
    }
  });
  return store;
}

/** Ask on the terminal. `expect`: the exact answer that confirms (e.g. the context name); default y/N. */
export async function confirm(question: string, expect?: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError(
      'confirmation needs a terminal',
      'pass --yes to apply without asking (non-interactive use)',
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (
      await rl.question(expect ? `${question}\nType "${expect}" to confirm: ` : `${question} [y/N] `)
    ).trim();
    return expect ? answer === expect : /^(y|yes)$/i.test(answer);
  } catch {
    throw new AbortError('not confirmed');
  } finally {
    rl.close();
  }
}
