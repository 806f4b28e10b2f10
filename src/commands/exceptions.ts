/** `kube-harden exceptions review`: expired, expiring and unused exceptions (phase 7). */
import { writeFile } from 'node:fs/promises';
import type { CommandSpec } from '../cli/args.js';
import { ExitCode, UsageError } from '../errors.js';
import { parseWithin } from '../policy/exceptions.js';
import { renderExceptionsReview } from '../report/review.js';
import { checkManifestsPath, headlessStore, readFlags, sessionOptions } from './common.js';
import type { Command } from './types.js';

const review: CommandSpec = {
  name: 'review',
  summary: 'List expired, expiring and unused exceptions',
  usage: '[--within 14d] [flags]',
  description: `Reads the exceptions register and the cluster (or --manifests) to tell which exceptions have expired (they
cover nothing any more), which expire within the window, and which cover nothing in this cluster (unused).
Exit code 0, or 7 when part of the cluster could not be read (an exception may look unused then).`,
  flags: [
    ...readFlags,
    {
      name: 'within',
      type: 'string',
      arg: 'DAYS',
      description: 'the "expiring" window, e.g. 14d or 2w',
      default: '14d',
    },
    {
      name: 'format',
      short: 'o',
      type: 'string',
      arg: 'FORMAT',
      choices: ['text', 'md', 'json'],
      description: 'output format',
      default: 'text',
    },
    { name: 'out', type: 'string', arg: 'FILE', description: 'write to FILE instead of stdout' },
  ],
  maxPositionals: 0,
  examples: [
    'kube-harden exceptions review --within 30d',
    'kube-harden exceptions review --manifests examples/legacy-cluster --exceptions examples/legacy-cluster-exceptions.yaml',
  ],
};

export const exceptions: Command = {
  spec: {
    name: 'exceptions',
    summary: 'Work with the exceptions register',
    usage: 'review [flags]',
    flags: [],
    maxPositionals: 0,
    subcommands: [review],
  },
  async run({ parsed, output, signal }) {
    if (parsed.path[1] !== 'review') {
      throw new UsageError(
        'missing command: kube-harden exceptions review',
        'run "kube-harden exceptions --help"',
      );
    }
    const within = parseWithin(typeof parsed.flags.within === 'string' ? parsed.flags.within : '14d');
    const options = sessionOptions(parsed.flags, { readOnly: true, within });
    await checkManifestsPath(options.manifests);
    const store = headlessStore(options, output);
    try {
      await store.getState().inventory(signal);
      const assessment = store.getState().assessment;
      if (!assessment) return ExitCode.error;
      const format = (parsed.flags.format as 'text' | 'md' | 'json' | undefined) ?? 'text';
      const out = typeof parsed.flags.out === 'string' ? parsed.flags.out : undefined;
      const text = renderExceptionsReview(assessment.exceptions, format, {
        color: !out && format === 'text' && output.color,
      });
      if (out) await writeFile(out, text);
      else output.out.write(text);
      return assessment.unknown.length > 0 ? ExitCode.incomplete : ExitCode.ok;
    } finally {
      store.getState().close();
    }
  },
};
