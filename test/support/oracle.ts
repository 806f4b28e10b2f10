/**
 * An independent oracle for the inventory: widely used checklist one-liners (`kubectl … -o json | jq …`), run for
 * real with the real kubectl and jq, and pod → top-level owner folding computed from kubectl's own output. Nothing
 * here uses kube-harden code.
 */
import { spawn } from 'node:child_process';
import { kubectl, kubectlJson } from '../cluster/harness.js';

/**
 * Pods where neither the pod nor a container sets `runAsNonRoot: true`. The `[]` inside `select` makes the
 * condition a generator: `select` emits the pod once per container whose value is not `true` (while the pod-level
 * value is not `true`), so a pod can be printed several times. Only `.spec.containers` is read: not init or
 * ephemeral containers, and not `runAsUser`.
 */
export const CHECKLIST_ROOT =
  '.items[] | select((.spec.securityContext.runAsNonRoot != true) and (.spec.containers[].securityContext.runAsNonRoot != true)) | "\\(.metadata.namespace)/\\(.metadata.name)"';

/** Pods with a container whose `resources.limits` is null or absent: once per such container; regular containers only. */
export const CHECKLIST_NO_LIMITS =
  '.items[] | select(.spec.containers[].resources.limits == null) | "\\(.metadata.namespace)/\\(.metadata.name)"';

/** ClusterRoleBindings whose roleRef is named `cluster-admin`, whoever the subjects are. */
export const CHECKLIST_CLUSTER_ADMIN = '.items[] | select(.roleRef.name == "cluster-admin") | .metadata.name';

/**
 * The checklist's default-deny question, as it is usually asked: namespaces that have an all-pods NetworkPolicy
 * for a direction. It can only ever name namespaces that have some NetworkPolicy.
 */
export function checklistDefaultDeny(direction: 'Ingress' | 'Egress'): string {
  return `.items[] | select(.spec.podSelector == {} and ((.spec.policyTypes // []) | index("${direction}") != null)) | .metadata.namespace`;
}

/** `jq -r FILTER` over `input`; the output lines (blank ones dropped). */
export function jq(filter: string, input: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('jq', ['-r', filter], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', (e) =>
      reject(
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error('jq is not installed (the checklist oracle needs it: apt install jq)')
          : e,
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`jq ${filter} failed (exit ${code}): ${err.trim()}`));
      else resolve(out.split('\n').filter((l) => l.length > 0));
    });
    child.stdin.on('error', () => {
      // jq exited early; its exit code tells the story
    });
    child.stdin.end(input);
  });
}

/** `kubectl ARGS | jq -r FILTER`, as the checklist runs it (admin kubeconfig unless given). */
export async function checklist(args: string[], filter: string, kubeconfig?: string): Promise<string[]> {
  const out = await kubectl(args, kubeconfig ? { kubeconfig } : {});
  return jq(filter, out);
}

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }>;
}
interface Obj {
  metadata: Meta;
}
export interface PodJson extends Obj {
  spec: {
    containers: Array<{ name: string }>;
    initContainers?: Array<{ name: string }>;
  };
}
interface ListJson<T> {
  items: T[];
}

/**
 * Pod `namespace/name` → its top-level workload `Kind/namespace/name`: a ReplicaSet owned by a Deployment folds
 * into the Deployment, a Job owned by a CronJob into the CronJob; a pod without a controller (or with one of a kind
 * no workload controller has) is its own `Pod/…`.
 */
export interface Cluster {
  pods: PodJson[];
  /** `namespace/name` → `Kind/namespace/name`. */
  ownerOf: Map<string, string>;
}

const WORKLOAD_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicaSet',
  'ReplicationController',
]);

export async function readCluster(kubeconfig?: string): Promise<Cluster> {
  const opts = kubeconfig ? { kubeconfig } : {};
  const [pods, replicaSets, jobs] = await Promise.all([
    kubectlJson<ListJson<PodJson>>(['get', 'pods', '-A'], opts),
    kubectlJson<ListJson<Obj>>(['get', 'replicasets', '-A'], opts),
    kubectlJson<ListJson<Obj>>(['get', 'jobs', '-A'], opts),
  ]);
  const parents = new Map<string, { kind: string; name: string }>();
  for (const o of [...replicaSets.items, ...jobs.items]) {
    const c = o.metadata.ownerReferences?.find((r) => r.controller === true);
    if (o.metadata.uid && c) parents.set(o.metadata.uid, { kind: c.kind, name: c.name });
  }
  const ownerOf = new Map<string, string>();
  for (const p of pods.items) {
    const ns = p.metadata.namespace ?? 'default';
    const c = p.metadata.ownerReferences?.find((r) => r.controller === true);
    let top = `Pod/${ns}/${p.metadata.name}`;
    if (c && WORKLOAD_KINDS.has(c.kind)) {
      const parent = parents.get(c.uid);
      const folds =
        parent &&
        ((c.kind === 'ReplicaSet' && parent.kind === 'Deployment') ||
          (c.kind === 'Job' && parent.kind === 'CronJob'));
      top = folds ? `${parent.kind}/${ns}/${parent.name}` : `${c.kind}/${ns}/${c.name}`;
    }
    ownerOf.set(`${ns}/${p.metadata.name}`, top);
  }
  return { pods: pods.items, ownerOf };
}

/** Checklist output lines (`namespace/pod`) → the set of their top-level owners. */
export function owners(cluster: Cluster, lines: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const line of lines) {
    const owner = cluster.ownerOf.get(line);
    if (!owner) throw new Error(`the checklist printed ${line}, which is not a pod read by kubectl`);
    out.add(owner);
  }
  return out;
}
