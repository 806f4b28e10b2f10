/** `kube-harden report`: the read-only inventory (phase 0), as text, Markdown, JSON or SARIF. */
import { open, writeFile } from 'node:fs/promises';
import { ExitCode } from '../errors.js';
import { REPORT_FORMATS, type ReportFormat, renderReport } from '../report/index.js';
import { renderJsonChunks } from '../report/json.js';
import { version } from '../version.js';
import { checkManifestsPath, headlessStore, readFlags, sessionOptions } from './common.js';
import type { Command } from './types.js';

export const report: Command = {
  spec: {
    name: 'report',
    summary: 'Inventory privilege exceptions and report findings (read-only)',
    usage: '[flags]',
    description: `Phase 0. Lists the cluster (or reads --manifests) once, evaluates every pod AND workload template against the
Pod Security Standards, and reports namespace posture, RBAC, ServiceAccount-token, network and image findings, with
exceptions applied. Nothing is changed. What could not be read is reported as unknown (exit code 7).`,
    flags: [
      ...readFlags,
      {
        name: 'format',
        short: 'o',
        type: 'string',
        arg: 'FORMAT',
        choices: REPORT_FORMATS,
        description: 'output format',
        default: 'text',
      },
      { name: 'out', type: 'string', arg: 'FILE', description: 'write the report to FILE instead of stdout' },
    ],
    maxPositionals: 0,
    examples: [
      'kube-harden report --manifests examples/legacy-cluster --exceptions examples/legacy-cluster-exceptions.yaml',
      'kube-harden report --context prod -o json --out report.json',
      'kube-harden report -n payments -n shop -o md',
    ],
  },
  async run({ parsed, output, signal }) {
    const options = sessionOptions(parsed.flags, { readOnly: true });
    await checkManifestsPath(options.manifests);
    const store = headlessStore(options, output);
    try {
      await store.getState().inventory(signal);
      const { assessment } = store.getState();
      if (!assessment) return ExitCode.error;
      const format = (parsed.flags.format as ReportFormat | undefined) ?? 'text';
      const out = typeof parsed.flags.out === 'string' ? parsed.flags.out : undefined;
      if (format === 'json') {
        // Streamed: a big cluster's JSON report is tens of MB; as one string (plus its encoded copy) it doubles
        // the peak memory of the run.
        const chunks = renderJsonChunks(assessment);
        if (out) {
          const fh = await open(out, 'w');
          try {
            for (const chunk of chunks) await fh.write(chunk);
          } finally {
            await fh.close();
          }
          output.err.write(`report written to ${out}\n`);
        } else {
          for (const chunk of chunks) {
            if (!output.out.write(chunk)) await new Promise((r) => output.out.once('drain', r));
          }
        }
      } else {
        const text = renderReport(assessment, format, {
          color: !out && format === 'text' && output.color,
          width: Math.max(60, (process.stdout as { columns?: number }).columns ?? 100),
          toolVersion: version(),
        });
        if (out) {
          await writeFile(out, text);
          output.err.write(`report written to ${out}\n`);
        } else {
          output.out.write(text);
        }
      }
      if (assessment.unknown.length > 0) {
        output.err.write(
          `incomplete: ${assessment.unknown.length} resource type(s) could not be read and are reported as unknown (exit ${ExitCode.incomplete})\n`,
        );
        return ExitCode.incomplete;
      }
      return ExitCode.ok;
    } finally {
      store.getState().close();
    }
  },
};
