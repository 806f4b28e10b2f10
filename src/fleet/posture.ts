/**
 * A fleet of clusters in one run (`report`/`plan` with several `--context` or `--all-contexts`): each cluster's
 * outcome, its posture in a few figures, and the order a fleet report lists them in (worst first). Pure: the
 * commands run the clusters, this only summarises what they returned.
 */
import type { Assessment } from '../policy/assess.js';
import type { Tier } from '../policy/config.js';
import { control, SEVERITIES, type Severity } from '../policy/controls.js';
import type { Level } from '../policy/pss/types.js';

/** The rollout phases a fleet report shows (DESIGN.md: 1 warn/audit … 7 exception review). */
export const FLEET_PHASES = [1, 2, 3, 4, 5, 6, 7] as const;

/**
 * done: no open finding of a control this phase fixes, and nothing unknown; open: such a finding is open;
 * unknown: no open finding, but part of the cluster could not be read (unknown is never done).
 */
export type PhaseState = 'done' | 'open' | 'unknown';

export interface ClusterPosture {
  phases: Record<(typeof FLEET_PHASES)[number], PhaseState>;
  open: number;
  bySeverity: Record<Severity, number>;
  unknown: number;
  /** Per tier present: the strictest level every namespace of that tier could enforce today (the weakest wins). */
  strictestEnforceable: Partial<Record<Tier, Level | 'unknown'>>;
  namespaces: number;
  workloads: number;
}

/**
 * ok: read completely; incomplete: read, with unknowns (exit 7); failed: could not be read at all (unreachable,
 * broken kubeconfig entry, rejected credentials) — the run goes on with the other clusters.
 */
export type ClusterStatus = 'ok' | 'incomplete' | 'failed';

export interface FleetEntry<T = unknown> {
  context: string;
  status: ClusterStatus;
  /** The exit code this cluster alone would have given (`kube-harden report --context C`). */
  exitCode: number;
  /** Why the cluster failed or is incomplete, one line. */
  reason?: string;
  /** What to try, for a failed cluster. */
  hint?: string;
  server?: string;
  serverVersion?: string;
  posture?: ClusterPosture;
  /** What the command produced for this cluster (the assessment's JSON, a plan directory, …). */
  result?: T;
}

const LEVEL_RANK: Record<Level, number> = { privileged: 0, baseline: 1, restricted: 2 };
const TIERS: readonly Tier[] = ['system', 'infrastructure', 'application'];

export function postureOf(a: Assessment): ClusterPosture {
  const unknown = a.summary.unknown;
  const openPhases = new Set<number>();
  for (const f of a.findings) {
    if (f.excepted) continue;
    const phase = control(f.control).phase;
    if (phase !== null) openPhases.add(phase);
  }
  // Phase 1 has no finding of its own (a namespace without warn/audit labels is not a violation): it is open while
  // a namespace lacks either label, as psa-warn-audit would propose.
  let unreadable = false;
  for (const n of a.namespaces) {
    if (n.psa === null) unreadable = true;
    else if (!n.psa.warn || !n.psa.audit) openPhases.add(1);
  }
  const phases = Object.fromEntries(
    FLEET_PHASES.map((p) => [
      p,
      openPhases.has(p) ? 'open' : unknown > 0 || (p === 1 && unreadable) ? 'unknown' : 'done',
    ]),
  ) as ClusterPosture['phases'];
  const strictestEnforceable: ClusterPosture['strictestEnforceable'] = {};
  for (const tier of TIERS) {
    const levels = a.namespaces.filter((n) => n.tier === tier).map((n) => n.strictestEnforceable);
    if (levels.length === 0) continue;
    strictestEnforceable[tier] = levels.includes('unknown')
      ? 'unknown'
      : (levels as Level[]).reduce((weakest, l) => (LEVEL_RANK[l] < LEVEL_RANK[weakest] ? l : weakest));
  }
  return {
    phases,
    open: a.summary.open,
    bySeverity: { ...a.summary.bySeverity },
    unknown,
    strictestEnforceable,
    namespaces: a.summary.namespaces,
    workloads: a.summary.workloads,
  };
}

/** One line naming what could not be read, for an incomplete cluster. */
export function unknownReason(a: Assessment): string | undefined {
  if (a.unknown.length === 0) return undefined;
  const first = a.unknown
    .slice(0, 3)
    .map((u) => `${u.resource}${u.namespace ? ` in ${u.namespace}` : ''} (${u.reason})`);
  const more = a.unknown.length > 3 ? ` and ${a.unknown.length - 3} more` : '';
  return `${a.unknown.length} resource type(s) could not be read: ${first.join(', ')}${more}`;
}

const STATUS_RANK: Record<ClusterStatus, number> = { failed: 0, incomplete: 1, ok: 2 };

/** Worst first: failed, then incomplete, then by open findings from critical down; ties by context name. */
export function sortWorstFirst<T>(entries: readonly FleetEntry<T>[]): FleetEntry<T>[] {
  const sev = (e: FleetEntry<T>) => SEVERITIES.map((s) => e.posture?.bySeverity[s] ?? 0);
  return [...entries].sort((a, b) => {
    const byStatus = STATUS_RANK[a.status] - STATUS_RANK[b.status];
    if (byStatus) return byStatus;
    const sa = sev(a);
    const sb = sev(b);
    for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return (sb[i] ?? 0) - (sa[i] ?? 0);
    return a.context < b.context ? -1 : a.context > b.context ? 1 : 0;
  });
}

export interface FleetTotals {
  clusters: number;
  ok: number;
  incomplete: number;
  failed: number;
  open: number;
  bySeverity: Record<Severity, number>;
}

export function fleetTotals(entries: readonly FleetEntry[]): FleetTotals {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let open = 0;
  for (const e of entries) {
    open += e.posture?.open ?? 0;
    for (const s of SEVERITIES) bySeverity[s] += e.posture?.bySeverity[s] ?? 0;
  }
  const count = (s: ClusterStatus) => entries.filter((e) => e.status === s).length;
  return {
    clusters: entries.length,
    ok: count('ok'),
    incomplete: count('incomplete'),
    failed: count('failed'),
    open,
    bySeverity,
  };
}

/**
 * A directory name per context (`plan --all-contexts --out DIR` → DIR/<name>/): context names can hold `/` and
 * `:` (EKS ARNs), so everything but letters, digits, `.`, `_` and `-` becomes `_`; names that collide after that
 * get `-2`, `-3`, … in context-name order, so the mapping is deterministic.
 */
export function contextDirNames(contexts: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const c of [...contexts].sort()) {
    let base = c.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
    if (base.length > 100) base = base.slice(0, 100);
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    out.set(c, name);
  }
  return out;
}
