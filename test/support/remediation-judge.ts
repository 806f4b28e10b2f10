/**
 * The judge of a remediation's output (kube-harden's `remediated/`, or another tool's autofix), shared by
 * test/integration/remediation-coverage.test.ts and test/integration/peer-remediation.test.ts: load the workloads of
 * a manifest folder, diff each one structurally against its source, tell which changed paths a Pod Security fix may
 * touch (securityContexts, the /tmp emptyDir and its mounts), and ask the real API server whether it admits the
 * result at a level.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubectl, kubectlRaw } from '../cluster/harness.js';

export type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};

/** Where each workload kind keeps its pod template (the Pod itself: ''). */
export const TEMPLATE: Record<string, string> = {
  Deployment: 'spec.template',
  StatefulSet: 'spec.template',
  DaemonSet: 'spec.template',
  ReplicaSet: 'spec.template',
  ReplicationController: 'spec.template',
  Job: 'spec.template',
  CronJob: 'spec.jobTemplate.spec.template',
  Pod: '',
};

export function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) return yamlFiles(p);
      return /\.ya?ml$/.test(f) ? [p] : [];
    });
}

export function load(dir: string): Obj[] {
  return yamlFiles(dir).flatMap((f) =>
    parseAllDocuments(readFileSync(f, 'utf8'))
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => !!o && typeof o === 'object' && typeof o.kind === 'string'),
  );
}

export const keyOf = (o: Obj) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;

/**
 * The paths where two JSON values differ; list items with a `name` are matched by name (`containers[web]`). With
 * `leaves`, a map that appears or disappears is reported key by key (`metadata.annotations.KEY`), not as one path.
 */
export function structuralDiff(a: unknown, b: unknown, path = '', leaves = false): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (x: unknown): x is Record<string, unknown> =>
    !!x && typeof x === 'object' && !Array.isArray(x);
  if (leaves && a === undefined && isObj(b)) return structuralDiff({}, b, path, leaves);
  if (leaves && isObj(a) && b === undefined) return structuralDiff(a, {}, path, leaves);
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => structuralDiff(a[k], b[k], path ? `${path}.${k}` : k, leaves));
  }
  // An absent list and a new one (e.g. the first volumeMount) compare item by item.
  if (Array.isArray(a) && b === undefined) return structuralDiff(a, [], path, leaves);
  if (a === undefined && Array.isArray(b)) return structuralDiff([], b, path, leaves);
  if (Array.isArray(a) && Array.isArray(b)) {
    const named = [...a, ...b].every((x) => isObj(x) && typeof x.name === 'string');
    if (named) {
      const byName = (l: unknown[]) => new Map(l.map((x) => [String((x as { name: string }).name), x]));
      const ma = byName(a);
      const mb = byName(b);
      const order = [...a, ...b].map((x) => String((x as { name: string }).name));
      const orderA = a.map((x) => String((x as { name: string }).name));
      const orderB = b.map((x) => String((x as { name: string }).name)).filter((n) => ma.has(n));
      // Items kept must keep their order (a reordered list is a change too).
      const moved = JSON.stringify(orderA.filter((n) => mb.has(n))) !== JSON.stringify(orderB) ? [path] : [];
      return [
        ...moved,
        ...[...new Set(order)].flatMap((n) => structuralDiff(ma.get(n), mb.get(n), `${path}[${n}]`, leaves)),
      ];
    }
    if (a.length !== b.length) return [path];
    return a.flatMap((x, i) => structuralDiff(x, b[i], `${path}[${i}]`, leaves));
  }
  return [path];
}

/**
 * The same object without what means nothing to the API server when it is created: empty maps and lists
 * (`resources: {}`, `strategy: {}`), null values (`metadata:` with nothing, `creationTimestamp: null`), `minReadySeconds: 0` (the default) and `status`,
 * which some tools write where the source had nothing, or drop.
 */
export function semantic(x: unknown, top = true): unknown {
  if (Array.isArray(x)) return x.map((v) => semantic(v, false));
  if (!x || typeof x !== 'object') return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    if (v === null) continue;
    if (v === 0 && k === 'minReadySeconds') continue;
    if (top && k === 'status') continue;
    const s = semantic(v, false);
    if (s && typeof s === 'object' && !Array.isArray(s) && Object.keys(s).length === 0) continue;
    if (Array.isArray(s) && s.length === 0) continue;
    out[k] = s;
  }
  return out;
}

/** Whether a changed path is one the fix may change: securityContexts, the /tmp emptyDir and its mounts. */
export function allowedPath(kind: string, path: string): boolean {
  const t = TEMPLATE[kind];
  const spec = `${t ? `${t}.` : ''}spec`.replace(/\./g, '\\.');
  const tmp = '(tmp|kube-harden-tmp(-\\d+)?)';
  return [
    new RegExp(`^${spec}\\.securityContext(\\.|$)`),
    new RegExp(`^${spec}\\.(initContainers|containers)\\[[^\\]]+\\]\\.securityContext(\\.|$)`),
    new RegExp(`^${spec}\\.volumes\\[${tmp}\\]`),
    new RegExp(`^${spec}\\.(initContainers|containers)\\[[^\\]]+\\]\\.volumeMounts\\[${tmp}\\]`),
  ].some((r) => r.test(path));
}

/** The pod template's AppArmor/seccomp annotations: the older spelling of securityContext fields. */
export function securityAnnotationPath(kind: string, path: string): boolean {
  const t = TEMPLATE[kind];
  const meta = `${t ? `${t}.` : ''}metadata.annotations`.replace(/\./g, '\\.');
  return new RegExp(
    `^${meta}\\.(container\\.apparmor\\.security\\.beta\\.kubernetes\\.io|container\\.seccomp\\.security\\.alpha\\.kubernetes\\.io|seccomp\\.security\\.alpha\\.kubernetes\\.io)/`,
  ).test(path);
}

/** Namespaces enforcing each level (latest), where `admitted` dry-runs objects. */
export async function judgeNamespaces(
  freshNamespace: (prefix: string) => Promise<string>,
): Promise<Record<'restricted' | 'baseline', string>> {
  const out: Partial<Record<'restricted' | 'baseline', string>> = {};
  for (const level of ['restricted', 'baseline'] as const) {
    const ns = await freshNamespace(`cov-${level}`);
    await kubectl([
      'label',
      'namespace',
      ns,
      `pod-security.kubernetes.io/enforce=${level}`,
      'pod-security.kubernetes.io/enforce-version=latest',
    ]);
    out[level] = ns;
  }
  return out as Record<'restricted' | 'baseline', string>;
}

/**
 * Whether the API server admits the object at `level` (server-side dry-run create in the judge namespace): a Pod
 * is created, a workload resource gets no "would violate PodSecurity" warning. The refusal or warning otherwise.
 */
export async function admitted(
  judges: Record<'restricted' | 'baseline', string>,
  o: Obj,
  level: 'restricted' | 'baseline' | 'privileged',
): Promise<string | true> {
  if (level === 'privileged') return true;
  const ns = judges[level];
  const copy = { ...o, metadata: { ...o.metadata, namespace: ns } };
  const sa = o.kind === 'Pod' ? (o.spec as { serviceAccountName?: string }).serviceAccountName : undefined;
  if (sa) await kubectlRaw(['create', 'serviceaccount', sa, '-n', ns]);
  const r = await kubectlRaw(['create', '--dry-run=server', '-o', 'name', '-f', '-'], {
    input: JSON.stringify(copy),
  });
  if (r.exitCode !== 0) return r.stderr.trim();
  const warning = r.stderr.split('\n').find((l) => l.includes('would violate PodSecurity'));
  return warning ?? true;
}
