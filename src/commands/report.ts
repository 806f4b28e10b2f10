/** `kube-harden report`: the read-only inventory (phase 0), as text, Markdown, JSON or SARIF. */
import { open, writeFile } from 'node:fs/promises';
import type { FlagValues } from '../cli/args.js';
import type { Output } from '../cli/output.js';
import { ExitCode } from '../errors.js';
import { type FleetEntry, postureOf, unknownReason } from '../fleet/posture.js';
import { renderFleetJson, renderFleetMarkdown, renderFleetSarif, renderFleetText } from '../report/fleet.js';
import { REPORT_FORMATS, type ReportFormat, renderReport, toReportJson, toSarif } from '../report/index.js';
import { renderJsonChunks } from '../report/json.js';
import { version } from '../version.js';
import { checkManifestsPath, headlessStore, readFlags, sessionOptions } from './common.js';
import { fleetContexts, fleetExitCode, parallelOf, runFleet, withFleetFlags } from './fleet.js';
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
      ...withFleetFlags(readFlags, 'a fleet report with one row'),
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
      'kube-harden report --context staging --context prod -o md',
      'kube-harden report --all-contexts -o json --out fleet.json',
    ],
  },
  async run({ parsed, output, signal }) {
    const contexts = fleetContexts(parsed.flags);
    if (contexts) return reportFleet(contexts, parsed.flags, output, signal);
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

/**
 * The fleet report: each cluster read as `report --context C` would read it, summarised as it completes (its
 * assessment is not kept: only the posture and, for JSON and SARIF, its own report object).
 */
async function reportFleet(
  contexts: readonly string[],
  flags: FlagValues,
  output: Output,
  signal: AbortSignal,
): Promise<number> {
  const format = (flags.format as ReportFormat | undefined) ?? 'text';
  const out = typeof flags.out === 'string' ? flags.out : undefined;
  const toolVersion = version();
  const generatedAt = new Date().toISOString();
  const entries = await runFleet(contexts, parallelOf(flags), output, signal, async (context, scoped) => {
    const options = sessionOptions({ ...flags, context }, { readOnly: true });
    const store = headlessStore(options, scoped);
    try {
      await store.getState().inventory(signal);
      const { assessment: a } = store.getState();
      if (!a) throw new Error('the inventory produced no assessment');
      const reason = unknownReason(a);
      const entry: FleetEntry = {
        context,
        status: reason ? 'incomplete' : 'ok',
        exitCode: reason ? ExitCode.incomplete : ExitCode.ok,
        ...(reason ? { reason } : {}),
        ...(a.source.kind === 'cluster' ? { server: a.source.server } : {}),
        ...(a.serverVersion ? { serverVersion: a.serverVersion.gitVersion } : {}),
        posture: postureOf(a),
      };
      if (format === 'json') entry.result = toReportJson(a);
      if (format === 'sarif') entry.result = (toSarif(a, { toolVersion }).runs as unknown[])[0];
      scoped.err.write(`read: ${a.summary.open} open finding(s)${reason ? `; ${reason}` : ''}\n`);
      return entry;
    } finally {
      store.getState().close();
    }
  });
  const options = {
    generatedAt,
    toolVersion,
    color: !out && format === 'text' && output.color,
    width: Math.max(60, (process.stdout as { columns?: number }).columns ?? 100),
  };
  const text =
    format === 'json'
      ? renderFleetJson(entries, options)
      : format === 'sarif'
        ? renderFleetSarif(entries, options)
        : format === 'md'
          ? renderFleetMarkdown(entries, options)
          : renderFleetText(entries, options);
  if (out) {
    await writeFile(out, text);
    output.err.write(`fleet report written to ${out}\n`);
  } else output.out.write(text);
  const code = fleetExitCode(entries);
  if (code !== ExitCode.ok)
    output.err.write(
      `incomplete: ${entries.filter((e) => e.status !== 'ok').length} of ${entries.length} cluster(s) not fully read (exit ${code})\n`,
    );
  return code;
}
