/** Small text helpers shared by the renderers: colour, wrapping, grouping. No terminal access here. */
import type { Assessment } from '../policy/assess.js';
import { type Control, control, type Severity, severityRank } from '../policy/controls.js';
import { cmp, type Finding } from '../policy/findings.js';

const CODES = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const;
export type Style = keyof typeof CODES;

export function paint(enabled: boolean, style: Style | Style[], text: string): string {
  if (!enabled || text === '') return text;
  const styles = Array.isArray(style) ? style : [style];
  return `${styles.map((s) => `\x1b[${CODES[s]}m`).join('')}${text}\x1b[0m`;
}

/**
 * Control characters in cluster data (an image string, an error message, a file name) would drive the terminal
 * (ANSI escapes, carriage returns): they are shown escaped, as `\x1b`. Whitespace is left for wrapping.
 */
export function clean(text: string): string {
  return text.replace(
    /[\x00-\x08\x0E-\x1F\x7F-\x9F]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export const SEVERITY_STYLE: Readonly<Record<Severity, Style[]>> = {
  critical: ['red', 'bold'],
  high: ['red'],
  medium: ['yellow'],
  low: ['blue'],
  info: ['gray'],
};

/**
 * Greedy word wrap to `width` columns. Leading spaces of `text` are kept; `printed` columns are already used on
 * the first line; continuation lines are indented by `indent`. Words longer than a line are hard-split.
 */
export function wrap(text: string, width: number, indent: number, printed = 0): string {
  const lead = /^ */.exec(text)?.[0] ?? '';
  const words = clean(text)
    .slice(lead.length)
    .split(/\s+/)
    .filter((w) => w !== '');
  const lines: string[] = [];
  const rest = Math.max(20, width - indent);
  let room = Math.max(20, width - printed - lead.length);
  let line = '';
  for (let word of words) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = '';
      room = rest;
    }
    while (line === '' && word.length > room) {
      lines.push(word.slice(0, room));
      word = word.slice(room);
      room = rest;
    }
    line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lead + lines.join(`\n${' '.repeat(indent)}`);
}

export interface FindingGroup {
  control: Control;
  findings: Finding[];
}

/** Findings grouped by control, most severe group first, then by control ID; findings keep their order. */
export function groupFindings(findings: readonly Finding[]): FindingGroup[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = groups.get(f.control);
    if (list) list.push(f);
    else groups.set(f.control, [f]);
  }
  return [...groups.entries()]
    .map(([id, list]) => ({ control: control(id), findings: list }))
    .sort(
      (a, b) =>
        severityRank(a.control.severity) - severityRank(b.control.severity) ||
        cmp(a.control.id, b.control.id),
    );
}

/** Controls shown in their own section of the text and Markdown reports, not in the findings list. */
export const OWN_SECTION: ReadonlySet<string> = new Set(['KH-IMAGE-REGISTRY', 'KH-NET-CNI']);

/** `cluster prod (https://…)` / `manifests ./dir`. */
export function describeSource(a: Assessment): string {
  const s = a.source;
  const base = s.kind === 'cluster' ? `cluster context ${s.context} (${s.server})` : `manifests ${s.path}`;
  return a.serverVersion ? `${base}, Kubernetes ${a.serverVersion.gitVersion}` : base;
}

export function describePolicy(a: Assessment): string {
  const p = a.policyVersion;
  const how = p.offline
    ? 'newest implemented, no server version'
    : `server ${a.serverVersion?.gitVersion ?? ''}`.trim();
  return p.requested === p.resolved
    ? `Pod Security ${p.resolved}`
    : `Pod Security ${p.requested} = ${p.resolved} (${how})`;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `72 open (2 critical, 8 high, …), 6 informational, 2 excepted`: open findings per severity, zeros left out. */
export function findingCounts(a: Assessment): string {
  const by = a.summary.bySeverity;
  const parts = (['critical', 'high', 'medium', 'low'] as const)
    .filter((s) => by[s] > 0)
    .map((s) => `${by[s]} ${s}`);
  const problems = a.summary.open - by.info;
  return `${plural(problems, 'open finding')}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}, ${by.info} informational, ${a.summary.excepted} excepted`;
}

/** A PSA label as `restricted:v1.30`, `-` when absent, `?` when the namespace could not be read. */
export function psaText(ns: Assessment['namespaces'][number], mode: 'enforce' | 'audit' | 'warn'): string {
  if (!ns.psa) return '?';
  const l = ns.psa[mode];
  if (!l) return '-';
  return `${l.level}:${l.version}${l.invalid ? ' (invalid)' : ''}`;
}

export function coverageText(ns: Assessment['namespaces'][number], dir: 'ingress' | 'egress'): string {
  const c = ns.defaultDeny[dir];
  if (dir === 'egress' && c === 'denied')
    return ns.defaultDeny.dnsEgress ? 'denied, DNS ok' : 'denied, no DNS';
  return c;
}
