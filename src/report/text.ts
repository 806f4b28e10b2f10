/**
 * The report for people, on a terminal: unknowns first, then the summary, the checklist (open findings by the phase
 * that fixes them), namespace posture, findings grouped by control (most severe first) with the next step for each
 * group, excepted findings, exceptions, registries, CNI.
 * Readable at 80 columns; colour only when asked.
 */
import type { Assessment } from '../policy/assess.js';
import { SEVERITIES } from '../policy/controls.js';
import { describeTarget } from '../policy/findings.js';
import { checklistRows } from './checklist.js';
import { controlPlaneLines } from './control-plane.js';
import {
  clean,
  coverageText,
  describePolicy,
  describeSource,
  findingCounts,
  groupFindings,
  OWN_SECTION,
  paint,
  plural,
  psaText,
  SEVERITY_STYLE,
  wrap,
} from './format.js';

export interface TextOptions {
  /** ANSI colours. @default false */
  color?: boolean;
  /** Columns. @default 80 */
  width?: number;
  /** Findings listed per group before "… and N more". @default 25 */
  limit?: number;
  /** Print the generation time. @default true */
  timestamps?: boolean;
}

export function renderText(a: Assessment, options: TextOptions = {}): string {
  const color = options.color ?? false;
  const width = Math.max(60, options.width ?? 80);
  const limit = options.limit ?? 25;
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  const heading = (s: string) => {
    line();
    line(paint(color, 'bold', s));
  };

  line(paint(color, 'bold', 'kube-harden report'));
  line(wrap(`Source: ${describeSource(a)}`, width, 8));
  line(wrap(`Policy: ${describePolicy(a)}`, width, 8));
  if (options.timestamps !== false) line(`Generated: ${a.generatedAt}`);

  if (a.unknown.length > 0) {
    line();
    line(
      paint(
        color,
        ['red', 'bold'],
        wrap(
          `INCOMPLETE: ${plural(a.unknown.length, 'resource')} could not be read. Unknown is never compliant: nothing below vouches for them.`,
          width,
          0,
        ),
      ),
    );
    for (const u of a.unknown) {
      const where = u.namespace ? ` in namespace ${u.namespace}` : ' (all namespaces)';
      line(wrap(`  ! ${u.resource}${where}: ${u.reason}: ${u.message}`, width, 4));
    }
  }

  heading('Summary');
  line(
    wrap(
      `  ${findingCounts(a)}; ${plural(a.summary.namespaces, 'namespace')}, ${plural(a.summary.workloads, 'workload')}, ${plural(a.summary.pods, 'pod')}`,
      width,
      2,
    ),
  );

  heading('Checklist: open findings by the phase that fixes them');
  const checklist = checklistRows(a)
    .filter((r) => r.phase !== null || r.open > 0)
    .map((r) => [
      r.phase === null ? '-' : String(r.phase),
      r.name,
      r.open === 0
        ? 'none'
        : `${r.open}: ${SEVERITIES.filter((s) => r.bySeverity[s] > 0)
            .map((s) => `${r.bySeverity[s]} ${s}`)
            .join(', ')}`,
    ]);
  const nameWidth = Math.max(...checklist.map((r) => (r[1] ?? '').length));
  for (const [n, name, counts] of checklist) {
    const head = `  ${n}  ${(name ?? '').padEnd(nameWidth)}  `;
    line(`${head}${wrap(counts ?? '', width, head.length, head.length)}`);
  }
  line(
    paint(
      color,
      'dim',
      wrap(
        '  Informational and excepted findings are not counted. The report is phase 0: later phases check more in their steps (kube-harden plan --phase N). Controls and their phases: docs/controls.md.',
        width,
        2,
      ),
    ),
  );

  heading('Namespaces');
  const rows = a.namespaces.map((n) => [
    n.name,
    n.tier === 'infrastructure' ? 'infra' : n.tier === 'application' ? 'app' : 'system',
    psaText(n, 'enforce'),
    n.strictestEnforceable === 'unknown' ? 'UNKNOWN' : n.strictestEnforceable,
    coverageText(n, 'ingress'),
    coverageText(n, 'egress'),
  ]);
  for (const r of table(['NAMESPACE', 'TIER', 'ENFORCE', 'CAN ENFORCE', 'INGRESS', 'EGRESS'], rows, width))
    line(`  ${r}`);
  if (a.cni.noEffect) line(paint(color, ['red', 'bold'], wrap(`  ! ${a.cni.noEffect}.`, width, 4)));
  line(
    wrap(
      '  CAN ENFORCE: the strictest Pod Security level every pod and template passes today (valid exceptions counted). INGRESS/EGRESS: default-deny coverage (denied, open = all allowed by a policy, none = no all-pods policy).',
      width,
      2,
    ),
  );

  const open = a.findings.filter((f) => !f.excepted && !OWN_SECTION.has(f.control));
  heading(`Findings (${open.length} open)`);
  if (open.length === 0) line('  none');
  for (const g of groupFindings(open)) {
    const c = g.control;
    line();
    const sev = paint(color, SEVERITY_STYLE[c.severity], c.severity.toUpperCase().padEnd(8));
    line(`${sev} ${wrap(`${c.id}: ${c.title} (${g.findings.length})`, width, 9, 9)}`);
    line(
      paint(
        color,
        'dim',
        wrap(`  next: ${c.nextStep}${c.phase !== null ? ` [phase ${c.phase}]` : ''}`, width, 8),
      ),
    );
    // Pod Security findings list check IDs here; the upstream detail is in the Markdown and JSON reports.
    for (const f of g.findings.slice(0, limit)) {
      line(wrap(`  - ${describeTarget(f.target)}: ${f.checks ? f.checks.join(', ') : f.message}`, width, 4));
    }
    if (g.findings.length > limit)
      line(`  … and ${g.findings.length - limit} more (--format json lists all)`);
  }

  const excepted = a.findings.filter((f) => f.excepted);
  if (excepted.length > 0) {
    heading(`Excepted (${excepted.length}): reported, not counted as open`);
    for (const f of excepted) {
      line(
        wrap(
          `  - ${f.control} ${describeTarget(f.target)}${f.checks ? ` [${f.checks.join(', ')}]` : ''}: by ${(f.exceptedBy ?? []).join(', ')}`,
          width,
          4,
        ),
      );
    }
  }

  const ex = a.exceptions;
  if (ex.entries.length > 0) {
    heading(wrap(`Exceptions${ex.file ? ` (${ex.file})` : ''}`, width, 2));
    line(
      wrap(
        `  ${ex.expired.length} expired, ${ex.expiring.length} expiring within ${ex.within} days, ${ex.unused.length} unused`,
        width,
        2,
      ),
    );
    for (const e of ex.entries) {
      const state =
        e.state === 'expired'
          ? paint(color, 'red', 'expired ')
          : e.state === 'expiring'
            ? paint(color, 'yellow', 'expiring')
            : 'active  ';
      const unused = e.state !== 'expired' && e.covers === 0 ? ', unused' : '';
      line(
        `  ${state} ${wrap(
          `${e.id} (${e.owner}${e.ticket ? `, ${e.ticket}` : ''}) expires ${e.expires}, covers ${plural(e.covers, 'finding')}${unused}`,
          width,
          11,
          11,
        )}`,
      );
    }
  }

  heading('Registries');
  if (a.registries.length === 0) line('  none');
  // With kube-harden's registries policy in place (or planned): which of them it admits.
  const marked = a.registries.some((r) => r.allowedBy);
  const regRows = a.registries.map((r) => [
    r.registry,
    plural(r.images, 'image'),
    plural(r.workloads, 'workload'),
    ...(marked ? [allowedText(r.registry, r.allowedBy)] : []),
  ]);
  const regHeader = ['REGISTRY', 'IMAGES', 'WORKLOADS', ...(marked ? ['ALLOWED'] : [])];
  for (const r of table(regHeader, regRows, width)) line(`  ${r}`);

  heading('CNI');
  const cniStyle =
    a.cni.status === 'enforcing' ? 'green' : a.cni.status === 'not-enforcing' ? 'red' : 'yellow';
  line(`  ${paint(color, cniStyle, a.cni.status)}: ${wrap(a.cni.reason, width, 4, a.cni.status.length + 4)}`);
  if (a.cni.noEffect) line(paint(color, ['red', 'bold'], wrap(`  ! ${a.cni.noEffect}.`, width, 4)));
  if (a.controlPlane) {
    heading('CONTROL PLANE (phase 6)');
    for (const [k, v] of controlPlaneLines(a.controlPlane))
      line(`  ${k}: ${wrap(v, width, 4, k.length + 4)}`);
  }
  return `${out.join('\n')}\n`;
}

/** Left-aligned columns; the last column takes what is left and is not padded. */
export function table(header: string[], rows: string[][], width: number): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const total = widths.reduce((n, w) => n + w, 0) + 2 * (widths.length - 1);
  if (total > width - 2 && widths.length > 0) {
    // Narrow the first column (names) to fit; long names are cut with an ellipsis.
    const over = total - (width - 2);
    widths[0] = Math.max(12, (widths[0] ?? 0) - over);
  }
  return all.map((r) =>
    r
      .map((raw, i) => {
        const cell = clean(raw).replace(/\s/g, ' ');
        const w = widths[i] ?? 0;
        const text = cell.length > w ? `${cell.slice(0, w - 1)}…` : cell;
        return i === r.length - 1 ? text : text.padEnd(w);
      })
      .join('  ')
      .trimEnd(),
  );
}

/** `yes`, `no`, or the repository prefixes allowed (`only ghcr.io/acme`): kube-harden's registries policy. */
export function allowedText(registry: string, allowedBy: readonly string[] | undefined): string {
  if (!allowedBy) return '';
  if (allowedBy.includes(registry)) return 'yes';
  return allowedBy.length ? `only ${allowedBy.join(', ')}` : 'no';
}
