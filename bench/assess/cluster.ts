/**
 * The inventory benchmark's cluster, in memory: the objects a fresh local control plane serves
 * (fresh-control-plane.yaml, captured once from test/cluster's v1.36.3), plus N namespaces with their `default`
 * ServiceAccount and M bare pods built by bench/inventory/seed.ts's `benchPod`, as the API server stores them:
 * `admit` applies what the ServiceAccount admission plugin, DefaultTolerationSeconds and the API defaulting add
 * (the `kube-api-access-<random>` token volume and its mounts, `serviceAccountName`, an empty pod
 * `securityContext`, port protocols, hostPort = containerPort under hostNetwork, probe and volume defaults,
 * status). Served through the `ClusterReader` contract, so `buildSnapshot` (the real projection and interning)
 * builds the snapshot exactly as it does from the live API server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ClusterError } from '../../src/cluster/errors.js';
import { matchesLabelSelector, parseLabelSelector } from '../../src/cluster/manifests.js';
import type {
  ApplyResult,
  ClusterReader,
  ListOptions,
  Page,
  Result,
  SourceCapabilities,
} from '../../src/cluster/types.js';
import type {
  AccessCheck,
  AccessDecision,
  Identity,
  KindRef,
  KubeObject,
  ObjectRef,
  ServerVersion,
  SourceInfo,
} from '../../src/k8s/types.js';
import { repoRoot } from '../../test/cluster/control-plane.js';
import { BENCH_LABEL, benchPod, namespaceName } from '../inventory/seed.js';

type J = Record<string, unknown>;

const FIXTURE = join(repoRoot(), 'bench/assess/fresh-control-plane.yaml');

/** The fresh control plane's own objects (bootstrap RBAC, kube-system, APIServices, …). */
export function freshControlPlaneObjects(file = FIXTURE): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const v = doc.toJSON() as { kind?: string; items?: KubeObject[] } | null;
    if (!v) continue;
    if (v.kind === 'List') out.push(...(v.items ?? []));
    else out.push(v as KubeObject);
  }
  return out;
}

const TOKEN_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A seeded generator (mulberry32): the same cluster, token suffixes and UIDs on every run. */
let seed = 0x6b68;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function randomSuffix(n: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
}

function randomUUID(): string {
  const hex = () =>
    Math.floor(random() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  return `${hex()}${hex()}-${hex()}-4${hex().slice(1)}-a${hex().slice(1)}-${hex()}${hex()}${hex()}`;
}

function defaultProbe(p: unknown): void {
  if (!p || typeof p !== 'object') return;
  const probe = p as J;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  const http = probe.httpGet as J | undefined;
  if (http) http.scheme ??= 'HTTP';
}

/** What the API server stores for a created pod: admission and defaulting as in test/cluster's v1.36.3. */
export function admit(pod: KubeObject, serial: number): KubeObject {
  const spec = pod.spec as J;
  const meta = pod.metadata;
  meta.uid = randomUUID();
  meta.resourceVersion = String(1000 + serial);
  meta.creationTimestamp = '2026-12-05T00:00:00Z';
  (meta as unknown as J).generation = 1;
  (meta as unknown as J).managedFields = [
    {
      manager: 'kube-harden-bench',
      operation: 'Apply',
      apiVersion: 'v1',
      time: '2026-12-05T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': {}, 'f:annotations': {} }, 'f:spec': { 'f:containers': {} } },
    },
  ];
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount = spec.serviceAccountName;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.tolerations ??= ['not-ready', 'unreachable'].map((t) => ({
    effect: 'NoExecute',
    key: `node.kubernetes.io/${t}`,
    operator: 'Exists',
    tolerationSeconds: 300,
  }));
  spec.volumes ??= [];
  const volumes = spec.volumes as J[];
  for (const v of volumes) {
    for (const key of ['configMap', 'secret'] as const) {
      const src = v[key] as J | undefined;
      if (src) src.defaultMode ??= 420;
    }
    const hp = v.hostPath as J | undefined;
    if (hp) hp.type ??= '';
  }
  const token =
    spec.automountServiceAccountToken === false ? undefined : `kube-api-access-${randomSuffix(5)}`;
  if (token) {
    volumes.push({
      name: token,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' } },
          {
            downwardAPI: {
              items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }],
            },
          },
        ],
      },
    });
  }
  for (const list of ['initContainers', 'containers'] as const) {
    for (const c of (spec[list] as J[] | undefined) ?? []) {
      const image = String(c.image ?? '');
      const last = image.slice(image.lastIndexOf('/') + 1);
      c.imagePullPolicy ??= !last.includes(':') || last.endsWith(':latest') ? 'Always' : 'IfNotPresent';
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      for (const p of (c.ports as J[] | undefined) ?? []) {
        p.protocol ??= 'TCP';
        if (spec.hostNetwork === true) p.hostPort ??= p.containerPort;
      }
      for (const e of (c.env as J[] | undefined) ?? []) {
        const ref = (e.valueFrom as J | undefined)?.fieldRef as J | undefined;
        if (ref) ref.apiVersion ??= 'v1';
      }
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[probe]);
      if (token) {
        c.volumeMounts ??= [];
        const mounts = c.volumeMounts as J[];
        mounts.push({ mountPath: TOKEN_MOUNT, name: token, readOnly: true });
      }
    }
  }
  (pod as J).status = { phase: 'Pending', qosClass: 'Burstable' };
  return pod;
}

export interface BenchClusterOptions {
  namespaces: number;
  pods: number;
}

/** Every object of the benchmark cluster, as listed from the API server (kind → objects). */
export function benchClusterObjects(options: BenchClusterOptions): KubeObject[] {
  seed = 0x6b68;
  const perNs = options.pods / options.namespaces;
  const out = freshControlPlaneObjects();
  for (let n = 0; n < options.namespaces; n++) {
    const name = namespaceName(n);
    out.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: { [BENCH_LABEL]: 'true', 'kubernetes.io/metadata.name': name },
        uid: randomUUID(),
        resourceVersion: String(200 + n),
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    } as KubeObject);
    out.push({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace: name, uid: randomUUID(), resourceVersion: String(400 + n) },
    });
    for (let i = 0; i < perNs; i++) {
      const index = n * perNs + i;
      out.push(admit(benchPod(name, index), index));
    }
  }
  return out;
}

const SERVED_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'rbac.authorization.k8s.io',
  'networking.k8s.io',
  'admissionregistration.k8s.io',
  'apiregistration.k8s.io',
  'discovery.k8s.io',
  'apiextensions.k8s.io',
  'coordination.k8s.io',
  'policy',
]);

/**
 * A read-only `ClusterReader` over objects in memory: lists in pages of `limit` (default 500), namespace, label and
 * (`type=`, `metadata.name=`, `metadata.namespace=`) field selectors; kinds of groups a bare control plane does not
 * serve (Gateway API, Prometheus operator) fail as the live client does (`NotFound`). Each list hands out fresh
 * copies, as a parsed response would.
 */
export class MemoryCluster implements ClusterReader {
  readonly source: SourceInfo = { kind: 'cluster', context: 'bench-memory', server: 'memory://bench' };
  readonly capabilities: SourceCapabilities = { dryRun: false, reviews: false };
  private readonly byKind = new Map<string, KubeObject[]>();

  constructor(
    objects: readonly KubeObject[],
    private readonly version: ServerVersion = { major: 1, minor: 36, gitVersion: 'v1.36.3' },
  ) {
    for (const o of objects) {
      const key = `${o.apiVersion}/${o.kind}`;
      const list = this.byKind.get(key);
      if (list) list.push(o);
      else this.byKind.set(key, [o]);
    }
  }

  private served(kind: KindRef): void {
    const slash = kind.apiVersion.indexOf('/');
    const group = slash < 0 ? '' : kind.apiVersion.slice(0, slash);
    if (!SERVED_GROUPS.has(group)) {
      throw new ClusterError(`the API server does not serve ${kind.apiVersion}`, { reason: 'NotFound' });
    }
  }

  async serverVersion(): Promise<ServerVersion | undefined> {
    return this.version;
  }

  async get(ref: ObjectRef): Promise<Result<KubeObject | undefined>> {
    this.served(ref);
    const found = (this.byKind.get(`${ref.apiVersion}/${ref.kind}`) ?? []).find(
      (o) =>
        o.metadata.name === ref.name &&
        (ref.namespace === undefined || o.metadata.namespace === ref.namespace),
    );
    return { value: found ? structuredClone(found) : undefined, warnings: [] };
  }

  async *list(kind: KindRef, options: ListOptions = {}): AsyncIterable<Page> {
    this.served(kind);
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : [];
    const fields = (options.fieldSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((f) => {
        const [k, v] = f.split('=') as [string, string];
        return { k, v };
      });
    const matches = (o: KubeObject) =>
      (options.namespace === undefined || o.metadata.namespace === options.namespace) &&
      matchesLabelSelector(labels, o.metadata.labels) &&
      fields.every(({ k, v }) => {
        if (k === 'type') return (o as J).type === v;
        if (k === 'metadata.name') return o.metadata.name === v;
        if (k === 'metadata.namespace') return o.metadata.namespace === v;
        throw new ClusterError(`field selector ${k} is not supported by the bench`, { reason: 'BadRequest' });
      });
    const items = (this.byKind.get(`${kind.apiVersion}/${kind.kind}`) ?? []).filter(matches);
    const limit = options.limit ?? 500;
    let index = 0;
    for (let i = 0; i === 0 || i < items.length; i += limit) {
      index++;
      yield {
        items: structuredClone(items.slice(i, i + limit)),
        warnings: [],
        index,
        restarted: false,
      };
    }
  }

  dryRunApply(): Promise<ApplyResult> {
    return Promise.reject(new Error('read-only bench cluster'));
  }
  dryRunMergePatch(): Promise<ApplyResult> {
    return Promise.reject(new Error('read-only bench cluster'));
  }
  dryRunDelete(): Promise<Result<KubeObject | undefined>> {
    return Promise.reject(new Error('read-only bench cluster'));
  }
  async accessReview(checks: AccessCheck[]): Promise<AccessDecision[]> {
    return checks.map((c) => ({ ...c, allowed: true }));
  }
  async whoAmI(): Promise<Identity | undefined> {
    return undefined;
  }
}
