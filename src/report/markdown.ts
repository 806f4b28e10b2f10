/** The report as GitHub-flavoured Markdown, for pull requests and issues. */
import type { Assessment } from '../policy/assess.js';
import { describeTarget } from '../policy/findings.js';
import { controlPlaneLines } from './control-plane.js';
import {
  clean,
  coverageText,
  describePolicy,
  describeSource,
  findingCounts,
  groupFindings,
  OWN_SECTION,
  plural,
  psaText,
} from './format.js';
import { allowedText } from './text.js';

export interface MarkdownOptions {
  /** Findings listed per group before "… and N more". @default 50 */
  limit?: number;
  /** Print the generation time. @default true */
  timestamps?: boolean;
}

/** A table cell: no pipes, no line breaks, no HTML. */
function cell(text: string): string {
  return clean(text)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\*/g, '\\*')
    .replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return `\`${clean(text).replace(/`/g, "'")}\``;
}

export function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

export function renderMarkdown(a: Assessment, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? 50;
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);

  push('# kube-harden report', '');
  push(`- **Source:** ${cell(describeSource(a))}`);
  push(`- **Policy:** ${cell(describePolicy(a))}`);
  if (options.timestamps !== false) push(`- **Generated:** ${a.generatedAt}`);
  push(
    `- **Findings:** ${findingCounts(a)}`,
    `- **Scope:** ${plural(a.summary.namespaces, 'namespace')}, ${plural(a.summary.workloads, 'workload')}, ${plural(a.summary.pods, 'pod')}`,
    '',
  );

  if (a.unknown.length > 0) {
    push('> [!WARNING]');
    push(
      `> **Incomplete:** ${plural(a.unknown.length, 'resource')} could not be read. Unknown is never compliant: nothing below vouches for them.`,
      '>',
    );
    for (const u of a.unknown) {
      push(
        `> - ${code(u.resource)}${u.namespace ? ` in namespace ${code(u.namespace)}` : ' (all namespaces)'}: ${u.reason}: ${cell(u.message)}`,
      );
    }
    push('');
  }

  push('## Namespaces', '');
  push(
    ...table(
      ['namespace', 'tier', 'enforce', 'audit', 'warn', 'can enforce', 'target', 'ingress', 'egress'],
      a.namespaces.map((n) => [
        n.name,
        n.tier,
        psaText(n, 'enforce'),
        psaText(n, 'audit'),
        psaText(n, 'warn'),
        n.strictestEnforceable,
        n.targetLevel,
        coverageText(n, 'ingress'),
        coverageText(n, 'egress'),
      ]),
    ),
    '',
  );
  if (a.cni.noEffect) push(`> **${cell(a.cni.noEffect)}.**`, '');

  const open = a.findings.filter((f) => !f.excepted && !OWN_SECTION.has(f.control));
  push(`## Findings (${open.length} open)`, '');
  if (open.length === 0) push('None.', '');
  for (const g of groupFindings(open)) {
    const c = g.control;
    push(`### ${c.severity.toUpperCase()} · ${c.id}: ${cell(c.title)} (${g.findings.length})`, '');
    push(`**Next step:** ${cell(c.nextStep)}${c.phase !== null ? ` (phase ${c.phase})` : ''}`, '');
    push(
      ...table(
        ['target', 'finding'],
        g.findings.slice(0, limit).map((f) => [describeTarget(f.target), f.message]),
      ),
    );
    if (g.findings.length > limit)
      push('', `… and ${g.findings.length - limit} more (the JSON report lists all).`);
    push('');
  }

  const excepted = a.findings.filter((f) => f.excepted);
  if (excepted.length > 0) {
    push(`## Excepted findings (${excepted.length})`, '');
    push(
      ...table(
        ['control', 'target', 'checks', 'exception'],
        excepted.map((f) => [
          f.control,
          describeTarget(f.target),
          (f.checks ?? []).join(', '),
          (f.exceptedBy ?? []).join(', '),
        ]),
      ),
      '',
    );
  }

  const ex = a.exceptions;
  if (ex.entries.length > 0) {
    push(`## Exceptions${ex.file ? ` (${code(ex.file)})` : ''}`, '');
    push(
      `${ex.expired.length} expired, ${ex.expiring.length} expiring within ${ex.within} days, ${ex.unused.length} unused.`,
      '',
    );
    push(
      ...table(
        ['id', 'state', 'owner', 'ticket', 'expires', 'covers'],
        ex.entries.map((e) => [
          e.id,
          e.state === 'active' && e.covers === 0
            ? 'unused'
            : e.state !== 'expired' && e.covers === 0
              ? `${e.state}, unused`
              : e.state,
          e.owner,
          e.ticket ?? '',
          e.expires,
          String(e.covers),
        ]),
      ),
      '',
    );
  }

  push('## Registries', '');
  const marked = a.registries.some((r) => r.allowedBy);
  if (a.registries.length === 0) push('None.', '');
  else {
    push(
      ...table(
        ['registry', 'images', 'workloads', ...(marked ? ['allowed'] : [])],
        a.registries.map((r) => [
          r.registry,
          String(r.images),
          String(r.workloads),
          ...(marked ? [allowedText(r.registry, r.allowedBy)] : []),
        ]),
      ),
      '',
    );
  }

  push('## CNI', '', `**${a.cni.status}**: ${cell(a.cni.reason)}`);
  if (a.cni.noEffect) push('', `> **${cell(a.cni.noEffect)}.**`);
  if (a.controlPlane) {
    push('', '## Control plane (phase 6)', '');
    for (const [k, v] of controlPlaneLines(a.controlPlane)) push(`- **${k}**: ${cell(v)}`);
  }
  return `${out.join('\n')}\n`;
}
