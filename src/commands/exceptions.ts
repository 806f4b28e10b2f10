/** `kube-harden exceptions review`: expired, expiring and unused exceptions (phase 7). */
import { writeFile } from 'node:fs/promises';
import { WITHIN } from '../../steps/exceptions-review.js';
import { type CommandSpec, parseSettingFlags, settingFlags } from '../cli/args.js';
import { ExitCode, UsageError } from '../errors.js';
import type { ExceptionReview } from '../policy/exceptions.js';
import { renderExceptionsReview } from '../report/review.js';
import { checkManifestsPath, headlessStore, readFlags, sessionOptions } from './common.js';
import type { Command } from './types.js';

const review: CommandSpec = {
  name: 'review',
  summary: 'List expired, expiring and unused exceptions',
  usage: `[--within ${WITHIN.default}] [-o text|md|json] [flags]`,
  description: `Reads the exceptions register and the cluster (or --manifests) to tell which exceptions have expired (they
cover nothing any more), which expire within the window, and which cover nothing in this cluster (unused). For CI
(kube-harden schedule writes the jobs):
  exit 0  nothing expired and nothing unused (expiring ones are listed, and do not fail)
  exit ${ExitCode.reviewDue}  an exception has expired, or one is unused
  exit ${ExitCode.incomplete}  part of the cluster could not be read, and nothing has expired (an exception may look
          unused only because what it covers could not be read)`,
  flags: [
    ...readFlags,
    // The step's declaration (steps/exceptions-review.ts): one parser and one default for the window.
    ...settingFlags([WITHIN]).map((f) => ({ ...f, description: WITHIN.description })),
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
    const within = parseSettingFlags(parsed.flags, [WITHIN])[WITHIN.key] as number;
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
      const code = reviewExitCode(assessment.exceptions, assessment.unknown.length > 0);
      if (code === ExitCode.reviewDue) {
        output.err.write(
          `exceptions need review: ${assessment.exceptions.expired.length} expired, ${assessment.exceptions.unused.length} unused (exit ${code})\n`,
        );
      } else if (code === ExitCode.incomplete) {
        output.err.write(
          `incomplete: ${assessment.unknown.length} resource type(s) could not be read; an exception may look unused because of it (exit ${code})\n`,
        );
      }
      return code;
    } finally {
      store.getState().close();
    }
  },
};

/**
 * The review's exit code: an expired exception is certain whatever could not be read (9); an unused one only when
 * everything was read (else 7: it may cover what could not be read); otherwise 7 for unknowns, 0 when clean.
 */
export function reviewExitCode(review: ExceptionReview, incomplete: boolean): number {
  if (review.expired.length > 0) return ExitCode.reviewDue;
  if (incomplete) return ExitCode.incomplete;
  return review.unused.length > 0 ? ExitCode.reviewDue : ExitCode.ok;
}
