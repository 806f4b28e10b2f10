/** What every evaluator returns: findings against a target, each naming its control. */
import { SharedStrings } from '../k8s/strings.js';
import { control, type Severity, severityRank } from './controls.js';

/** What a finding is about. Workload findings name kind/namespace/name and, where relevant, the container. */
export interface Target {
  /** `Deployment`, `Pod`, `Namespace`, `ClusterRoleBinding`, `Registry`, `Resource`, `Exception`, … */
  kind: string;
  /** Absent for cluster-scoped targets (and for a `Namespace`, whose name is the namespace). */
  namespace?: string;
  name: string;
  container?: string;
}

export interface Finding {
  control: string;
  severity: Severity;
  target: Target;
  /** One line for people. Never carries env values, annotations or Secret data. */
  message: string;
  /** Covered by an exception: reported, but not counted as open. */
  excepted: boolean;
  /** IDs of the exceptions that cover it. */
  exceptedBy?: string[];
  /** Pod Security check IDs (KH-PSS-*). */
  checks?: string[];
}

/**
 * One string per distinct message: messages are built per workload (`fails baseline: …`), but workloads of one
 * template say the same thing (~3 MB of copies at 10,000 pods, ~50 MB at 160,000). Process-wide, so bounded.
 */
const messages = new SharedStrings(50_000);

export function makeFinding(
  id: string,
  target: Target,
  message: string,
  extra: { checks?: string[] } = {},
): Finding {
  const f: Finding = {
    control: id,
    severity: control(id).severity,
    target,
    message: messages.share(message),
    excepted: false,
  };
  if (extra.checks) f.checks = extra.checks;
  return f;
}

/** The namespace a target lives in, for scope matching: a Namespace's own name, else its namespace. */
export function targetNamespace(target: Target): string | undefined {
  return target.kind === 'Namespace' ? target.name : target.namespace;
}

/** `Deployment shop/frontend`, `ClusterRoleBinding admin`, `Deployment shop/frontend (container nginx)`. */
export function describeTarget(target: Target): string {
  const base =
    target.namespace && target.kind !== 'Namespace'
      ? `${target.kind} ${target.namespace}/${target.name}`
      : `${target.kind} ${target.name}`;
  return target.container ? `${base} (container ${target.container})` : base;
}

/** Byte order, like Go's sort.Strings: the same everywhere, whatever the locale. */
export function cmp(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

export function compareTargets(a: Target, b: Target): number {
  return (
    cmp(targetNamespace(a), targetNamespace(b)) ||
    cmp(a.kind, b.kind) ||
    cmp(a.name, b.name) ||
    cmp(a.container, b.container)
  );
}

/** Severity (most severe first), control, target, open before excepted, then message. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    cmp(a.control, b.control) ||
    compareTargets(a.target, b.target) ||
    Number(a.excepted) - Number(b.excepted) ||
    cmp(a.message, b.message)
  );
}

/**
 * Sorts in place by `compareFindings`, with each finding's severity rank and scope namespace computed once rather
 * than in every comparison (the same order: the same comparisons, and a stable sort).
 */
export function sortFindings(findings: Finding[]): void {
  const keyed = findings.map((f) => ({
    f,
    rank: severityRank(f.severity),
    ns: targetNamespace(f.target) ?? '',
  }));
  keyed.sort((x, y) => {
    const a = x.f;
    const b = y.f;
    return (
      x.rank - y.rank ||
      cmp(a.control, b.control) ||
      cmp(x.ns, y.ns) ||
      cmp(a.target.kind, b.target.kind) ||
      cmp(a.target.name, b.target.name) ||
      cmp(a.target.container, b.target.container) ||
      Number(a.excepted) - Number(b.excepted) ||
      cmp(a.message, b.message)
    );
  });
  for (let i = 0; i < keyed.length; i++) findings[i] = (keyed[i] as { f: Finding }).f;
}
