/**
 * The fleet report (`kube-harden report --context A --context B` / `--all-contexts`): one row per cluster, worst
 * first, and totals. JSON (docs/report-schema.md, "Fleet report") holds each cluster's own report under `report`;
 * SARIF holds one run per cluster. Deterministic like the single-cluster report: rows sorted, the only clock
 * value is `generatedAt`.
 */
import {
  FLEET_PHASES,
  type FleetEntry,
  fleetTotals,
  type PhaseState,
  sortWorstFirst,
} from '../fleet/posture.js';
import { SEVERITIES } from '../policy/controls.js';
import { clean, paint } from './format.js';
import { SCHEMA_VERSION } from './json.js';
import { table as mdTable } from './markdown.js';
import { SARIF_SCHEMA } from './sarif.js';
import { table as textTable } from './text.js';

export const FLEET_SCHEMA_VERSION = 1;

export interface FleetRenderOptions {
  timestamps?: boolean;
  generatedAt: string;
  color?: boolean;
  width?: number;
  toolVersion?: string;
}

const PHASE_MARK: Record<PhaseState, string> = { done: '✓', open: '✗', unknown: '?' };
const TIER_COLUMNS = [
  ['system', 'SYSTEM'],
  ['infrastructure', 'INFRA'],
  ['application', 'APP'],
] as const;

const phaseMarks = (e: FleetEntry) =>
  e.posture ? FLEET_PHASES.map((p) => PHASE_MARK[e.posture?.phases[p] ?? 'unknown']).join('') : '-';

function rows(entries: readonly FleetEntry[]): string[][] {
  return entries.map((e) => [
    e.context,
    e.status,
    ...SEVERITIES.map((s) => (e.posture ? String(e.posture.bySeverity[s]) : '-')),
    phaseMarks(e),
    ...TIER_COLUMNS.map(([tier]) => e.posture?.strictestEnforceable[tier] ?? '-'),
  ]);
}

const HEADER = [
  'CONTEXT',
  'STATUS',
  'CRIT',
  'HIGH',
  'MED',
  'LOW',
  'INFO',
  'PHASES 1-7',
  ...TIER_COLUMNS.map((t) => t[1]),
];

function totalsLine(entries: readonly FleetEntry[]): string {
  const t = fleetTotals(entries);
  return `${t.clusters} cluster(s): ${t.ok} ok, ${t.incomplete} incomplete, ${t.failed} failed · ${t.open} open finding(s) (${SEVERITIES.map((s) => `${s} ${t.bySeverity[s]}`).join(', ')})`;
}

const LEGEND =
  'PHASES: one mark per rollout phase 1-7: ✓ done (nothing open, nothing unknown), ✗ open findings, ? unknown. SYSTEM/INFRA/APP: the strictest Pod Security level every namespace of that tier could enforce today.';

export function renderFleetText(input: readonly FleetEntry[], options: FleetRenderOptions): string {
  const entries = sortWorstFirst(input);
  const color = options.color ?? false;
  const out = ['kube-harden fleet report'];
  if (options.timestamps !== false) out.push(`generated ${options.generatedAt}`);
  out.push(totalsLine(entries), '');
  out.push(...textTable(HEADER, rows(entries), options.width ?? 100));
  const notes = entries.filter((e) => e.reason);
  if (notes.length) {
    out.push('');
    for (const e of notes) {
      const style = e.status === 'failed' ? 'red' : 'yellow';
      out.push(`${paint(color, style, `${e.context}:`)} ${clean(e.reason ?? '')} (exit ${e.exitCode})`);
      if (e.hint) out.push(`  hint: ${clean(e.hint)}`);
    }
  }
  out.push('', LEGEND);
  return `${out.join('\n')}\n`;
}

export function renderFleetMarkdown(input: readonly FleetEntry[], options: FleetRenderOptions): string {
  const entries = sortWorstFirst(input);
  const out = ['# kube-harden fleet report', ''];
  if (options.timestamps !== false) out.push(`- **Generated:** ${options.generatedAt}`);
  out.push(`- **Clusters:** ${totalsLine(entries)}`, '');
  out.push(...mdTable(HEADER, rows(entries)), '');
  const notes = entries.filter((e) => e.reason);
  if (notes.length) {
    out.push('## Clusters not fully read', '');
    out.push(
      ...mdTable(
        ['CONTEXT', 'STATUS', 'EXIT', 'REASON', 'HINT'],
        notes.map((e) => [e.context, e.status, String(e.exitCode), e.reason ?? '', e.hint ?? '']),
      ),
    );
    out.push('');
  }
  out.push(LEGEND, '');
  return out.join('\n');
}

/** The fleet JSON: `result` of each entry is that cluster's own report object (`toReportJson`). */
export function toFleetJson(
  input: readonly FleetEntry[],
  options: FleetRenderOptions,
): Record<string, unknown> {
  const entries = sortWorstFirst(input);
  return {
    schemaVersion: FLEET_SCHEMA_VERSION,
    kind: 'fleet',
    ...(options.timestamps === false ? {} : { generatedAt: options.generatedAt }),
    totals: fleetTotals(entries),
    clusters: entries.map((e) => ({
      context: e.context,
      status: e.status,
      exitCode: e.exitCode,
      ...(e.reason ? { reason: e.reason } : {}),
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.server ? { server: e.server } : {}),
      ...(e.serverVersion ? { serverVersion: e.serverVersion } : {}),
      ...(e.posture
        ? {
            posture: {
              phases: Object.fromEntries(FLEET_PHASES.map((p) => [String(p), e.posture?.phases[p]])),
              open: e.posture.open,
              bySeverity: { ...e.posture.bySeverity },
              unknown: e.posture.unknown,
              strictestEnforceable: { ...e.posture.strictestEnforceable },
              namespaces: e.posture.namespaces,
              workloads: e.posture.workloads,
            },
          }
        : {}),
      ...(e.result ? { report: e.result } : {}),
    })),
    reportSchemaVersion: SCHEMA_VERSION,
  };
}

export function renderFleetJson(input: readonly FleetEntry[], options: FleetRenderOptions): string {
  return `${JSON.stringify(toFleetJson(input, options), null, 2)}\n`;
}

/**
 * SARIF: one run per cluster (`result` of each entry is that cluster's SARIF run), told apart by
 * `automationDetails.id` = `kube-harden/<context>/`; a failed cluster is a run without results whose invocation
 * failed, with the reason as a notification.
 */
export function renderFleetSarif(input: readonly FleetEntry[], options: FleetRenderOptions): string {
  const entries = sortWorstFirst(input);
  const runs = entries.map((e) => {
    const automationDetails = { id: `kube-harden/${e.context}/` };
    if (e.result) return { ...(e.result as Record<string, unknown>), automationDetails };
    return {
      tool: {
        driver: { name: 'kube-harden', ...(options.toolVersion ? { version: options.toolVersion } : {}) },
      },
      automationDetails,
      invocations: [
        {
          executionSuccessful: false,
          exitCode: e.exitCode,
          toolExecutionNotifications: [
            { level: 'error', message: { text: `${e.reason ?? 'failed'}${e.hint ? ` (${e.hint})` : ''}` } },
          ],
        },
      ],
      results: [],
    };
  });
  return `${JSON.stringify({ $schema: SARIF_SCHEMA, version: '2.1.0', runs }, null, 2)}\n`;
}
