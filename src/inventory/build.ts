/**
 * Build the Snapshot in one pass: every kind is listed concurrently (the transport bounds concurrency and rate),
 * pages are projected as they arrive, then pods are folded into their top-level owners. Whatever cannot be read is
 * recorded in `unknown` — never silently treated as empty.
 */
import { ClusterError, isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { type Json, map, objectItems, strMap } from '../k8s/json.js';
import { type KindInfo, Kinds, resourceName } from '../k8s/kinds.js';
import type { KubeObject, OwnerReference } from '../k8s/types.js';
import { collectAdmissionEngines } from './admission-engines.js';
import { collectControlPlaneFacts, NODE_HINTS, type NodeHint, nodeHint } from './control-plane-facts.js';
import { labelSelectorOf, NetworkFactsCollector, workloadSelector } from './network-facts.js';
import { projectPodSpec, securityAnnotations, TemplateInterner } from './project.js';
import { collectServiceAccountFacts, type ServiceAccountFacts } from './sa-facts.js';
import {
  type AdmissionPolicyInfo,
  type BindingInfo,
  type CniHint,
  type DnsServiceInfo,
  isWorkloadKind,
  type ManagedBy,
  type NamespaceInfo,
  type NetworkPolicyInfo,
  type NetworkPolicyRule,
  type PodLite,
  type PodTemplateLite,
  type RoleInfo,
  type ServiceAccountInfo,
  type Snapshot,
  type UnknownEntry,
  type Workload,
  type WorkloadKind,
} from './types.js';

export interface InventoryProgress {
  /** `pods`, `deployments.apps`. */
  resource: string;
  items: number;
  pages: number;
  done: boolean;
}

export interface InventoryOptions {
  /** Only these namespaces (namespaced kinds are then listed per namespace). Empty = all. */
  namespaces?: string[];
  exclude?: string[];
  pageSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: InventoryProgress) => void;
}

type J = Json;

const CNI: Array<{ pattern: RegExp; name: string; enforces: boolean | 'unknown' }> = [
  { pattern: /^calico-node$/, name: 'calico', enforces: true },
  { pattern: /^canal$/, name: 'canal', enforces: true },
  { pattern: /^cilium$/, name: 'cilium', enforces: true },
  { pattern: /^(kube-)?flannel(-ds)?/, name: 'flannel', enforces: false },
  { pattern: /^weave-net$/, name: 'weave', enforces: true },
  { pattern: /^antrea-agent$/, name: 'antrea', enforces: true },
  { pattern: /^kube-router$/, name: 'kube-router', enforces: true },
  { pattern: /^aws-node$/, name: 'aws-vpc-cni', enforces: 'unknown' },
  { pattern: /^kindnet$/, name: 'kindnet', enforces: 'unknown' },
  { pattern: /^azure-cns$|^azure-npm$/, name: 'azure', enforces: true },
];

interface OwnerLink {
  kind: string;
  name: string;
  uid: string;
}

interface RawPod {
  namespace: string;
  pod: PodLite;
  owner?: OwnerReference;
}

/** Longer annotation values are not kept in the snapshot (a page of objects must not pin their payloads). */
const MAX_ANNOTATION_VALUE = 4096;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Annotations as the snapshot keeps them: without kubectl's last-applied copy of the whole object, and with
 * payload-sized values (up to 256 KiB each) replaced by their size. The steps only read short, known keys.
 */
export function keptAnnotations(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(strMap(v))) {
    if (k === LAST_APPLIED) continue;
    out[k] = x.length > MAX_ANNOTATION_VALUE ? `(${x.length} bytes, not kept by the inventory)` : x;
  }
  return out;
}

/** Remove, in place, the entries `drop` matches. */
function dropFrom<T>(items: T[], drop: (item: T) => boolean): void {
  let kept = 0;
  for (const item of items) if (!drop(item)) items[kept++] = item;
  items.length = kept;
}

function controllerOf(meta: J): OwnerReference | undefined {
  return (objectItems(meta.ownerReferences) as unknown as OwnerReference[]).find(
    (r) => r.controller === true,
  );
}

function managedByOf(meta: J): { managedBy: ManagedBy[]; fieldManagers: string[] } {
  const labels = strMap(meta.labels);
  const annotations = strMap(meta.annotations);
  const fieldManagers = [
    ...new Set(
      objectItems(meta.managedFields)
        .map((f) => String(f.manager ?? ''))
        .filter(Boolean),
    ),
  ].sort();
  const out: ManagedBy[] = [];
  const add = (tool: ManagedBy['tool'], detail: string) => {
    if (!out.some((m) => m.tool === tool)) out.push({ tool, detail });
  };
  if (labels['app.kubernetes.io/managed-by'] === 'Helm' || annotations['meta.helm.sh/release-name']) {
    add(
      'helm',
      `Helm release ${annotations['meta.helm.sh/release-namespace'] ?? meta.namespace ?? ''}/${annotations['meta.helm.sh/release-name'] ?? labels['app.kubernetes.io/instance'] ?? '?'}`,
    );
  }
  if (annotations['argocd.argoproj.io/tracking-id'] || labels['argocd.argoproj.io/instance']) {
    add(
      'argocd',
      `Argo CD application ${(annotations['argocd.argoproj.io/tracking-id'] ?? labels['argocd.argoproj.io/instance'] ?? '').split(':')[0]}`,
    );
  }
  const flux = labels['kustomize.toolkit.fluxcd.io/name'] ?? labels['helm.toolkit.fluxcd.io/name'];
  if (flux)
    add(
      'flux',
      `Flux ${labels['kustomize.toolkit.fluxcd.io/name'] ? 'Kustomization' : 'HelmRelease'} ${labels['kustomize.toolkit.fluxcd.io/namespace'] ?? labels['helm.toolkit.fluxcd.io/namespace'] ?? ''}/${flux}`,
    );
  for (const m of fieldManagers) {
    if (/^helm/.test(m)) add('helm', `field manager ${m}`);
    else if (/argocd/.test(m)) add('argocd', `field manager ${m}`);
    else if (/^(kustomize|helm)-controller$/.test(m)) add('flux', `field manager ${m}`);
  }
  return { managedBy: out, fieldManagers };
}

function npRules(rules: unknown, peerKey: 'from' | 'to'): NetworkPolicyRule[] {
  return objectItems(rules).map((r) => {
    const rule: NetworkPolicyRule = {};
    if (Array.isArray(r.ports)) {
      rule.ports = objectItems(r.ports).map((p) => ({
        ...(typeof p.protocol === 'string' ? { protocol: p.protocol } : {}),
        ...(typeof p.port === 'number' || typeof p.port === 'string' ? { port: p.port } : {}),
        ...(typeof p.endPort === 'number' ? { endPort: p.endPort } : {}),
      }));
    }
    if (Array.isArray(r[peerKey])) {
      rule.peers = objectItems(r[peerKey]).map((p) => ({
        ...(p.podSelector ? { podSelector: labelSelectorOf(p.podSelector) } : {}),
        ...(p.namespaceSelector ? { namespaceSelector: labelSelectorOf(p.namespaceSelector) } : {}),
        ...(p.ipBlock
          ? {
              ipBlock: {
                cidr: String(map(p.ipBlock).cidr ?? ''),
                ...(Array.isArray(map(p.ipBlock).except)
                  ? { except: (map(p.ipBlock).except as unknown[]).map(String) }
                  : {}),
              },
            }
          : {}),
      }));
    }
    return rule;
  });
}

/** policyTypes as stored, or upstream's defaulting for manifests (pkg/apis/networking/v1/defaults.go). */
export function effectivePolicyTypes(spec: J): Array<'Ingress' | 'Egress'> {
  const given = Array.isArray(spec.policyTypes)
    ? spec.policyTypes.filter((t): t is 'Ingress' | 'Egress' => t === 'Ingress' || t === 'Egress')
    : [];
  if (given.length > 0) return given;
  const types: Array<'Ingress' | 'Egress'> = ['Ingress'];
  if (Array.isArray(spec.egress) && spec.egress.length > 0) types.push('Egress');
  return types;
}

function templateOf(
  kind: WorkloadKind,
  obj: KubeObject,
  interner: TemplateInterner,
): PodTemplateLite | undefined {
  const spec = map(obj.spec);
  let t: J;
  if (kind === 'CronJob') t = map(map(map(spec.jobTemplate).spec).template);
  else if (kind === 'Pod') t = { metadata: obj.metadata, spec };
  else t = map(spec.template);
  if (!t.spec) return undefined;
  const meta = map(t.metadata);
  const tpl: PodTemplateLite = { metadata: {}, spec: projectPodSpec(t.spec) };
  const labels = interner.strings.shareValues(strMap(meta.labels));
  if (Object.keys(labels).length) tpl.metadata.labels = labels;
  const ann = securityAnnotations(meta.annotations);
  if (ann) tpl.metadata.annotations = ann;
  return interner.intern(tpl);
}

const OWNER_KINDS: Array<[WorkloadKind, KindInfo]> = [
  ['Deployment', Kinds.Deployment],
  ['StatefulSet', Kinds.StatefulSet],
  ['DaemonSet', Kinds.DaemonSet],
  ['ReplicaSet', Kinds.ReplicaSet],
  ['Job', Kinds.Job],
  ['CronJob', Kinds.CronJob],
  ['ReplicationController', Kinds.ReplicationController],
];

export async function buildSnapshot(
  reader: ClusterReader,
  options: InventoryOptions = {},
): Promise<Snapshot> {
  const started = performance.now();
  const only = new Set(options.namespaces ?? []);
  const exclude = new Set(options.exclude ?? []);
  const wanted = (ns: string | undefined) =>
    ns === undefined || (!exclude.has(ns) && (only.size === 0 || only.has(ns)));
  const unknown: UnknownEntry[] = [];
  const objects: Record<string, number> = {};
  let pages = 0;
  const interner = new TemplateInterner();

  // The server version first: it fails fast (and typed) when the server is unreachable or credentials are bad.
  const serverVersion = await reader.serverVersion(options.signal);

  /**
   * List one kind (per namespace when scoped) and feed items to `each`; failures become unknown entries. When a
   * list restarts (410 Gone), `reset` must drop what `each` kept from that list (that namespace, or all).
   */
  async function collect(
    info: KindInfo,
    each: (item: KubeObject) => void,
    reset: (namespace: string | undefined) => void,
  ): Promise<boolean> {
    const resource = resourceName(info);
    const scopes: Array<string | undefined> =
      info.namespaced && only.size > 0 ? [...only].sort() : [undefined];
    let ok = true;
    let items = 0;
    let kindPages = 0;
    for (const namespace of scopes) {
      const itemsBefore = items;
      try {
        for await (const page of reader.list(info, {
          ...(namespace ? { namespace } : {}),
          // Only the managers' names are read (managedByOf), not their field sets.
          omitFieldsV1: true,
          ...(options.pageSize ? { limit: options.pageSize } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        })) {
          if (page.restarted && page.index === 1) {
            // The list restarted after 410 Gone: forget what the earlier pages of this list gave.
            reset(namespace);
            items = itemsBefore;
          }
          pages++;
          kindPages++;
          for (const item of page.items) {
            if (info.namespaced && !wanted(item.metadata?.namespace)) continue;
            items++;
            each(item);
          }
          options.onProgress?.({ resource, items, pages: kindPages, done: false });
        }
      } catch (error) {
        ok = false;
        if (!(error instanceof ClusterError)) throw error;
        if (['Unauthorized', 'Connection', 'TLS', 'NotKubernetes'].includes(error.reason)) throw error;
        unknown.push({
          resource,
          ...(namespace ? { namespace } : {}),
          reason:
            error.reason === 'Forbidden'
              ? 'Forbidden'
              : error.reason === 'Timeout'
                ? 'Timeout'
                : error.reason === 'NotFound'
                  ? 'NotServed'
                  : error.reason === 'Unsupported'
                    ? 'Unsupported'
                    : 'Error',
          message: error.message,
        });
      }
    }
    objects[resource] = (objects[resource] ?? 0) + items;
    options.onProgress?.({ resource, items, pages: kindPages, done: true });
    return ok;
  }

  const namespaces = new Map<string, NamespaceInfo>();
  const rawPods: RawPod[] = [];
  const owners = new Map<string, OwnerLink | null>(); // uid of RS/Job → its controller (Deployment/CronJob) or null
  const workloads = new Map<string, Workload>();
  const serviceAccounts: ServiceAccountInfo[] = [];
  const roles: RoleInfo[] = [];
  const bindings: BindingInfo[] = [];
  const networkPolicies: NetworkPolicyInfo[] = [];
  const admissionPolicies: AdmissionPolicyInfo[] = [];
  const cni: CniHint[] = [];
  const webhookNamespaces = new Set<string>();
  let apiServerFlags: string[] | undefined;
  let dns: DnsServiceInfo | undefined;
  let cniUnreadable = false;
  // Phase 3's network facts (Snapshot.network): their own lists, plus the DaemonSets and webhooks listed here.
  const nodeHints = new Map<string, NodeHint>();
  const facts = new NetworkFactsCollector({
    onNode: (item) => {
      if (nodeHints.size < NODE_HINTS) nodeHints.set(item.metadata.name, nodeHint(item));
    },
    reader,
    only,
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    unknown,
    objects,
    onPage: () => {
      pages++;
    },
  });

  const addWorkload = (kind: WorkloadKind, item: KubeObject, template = templateOf(kind, item, interner)) => {
    const meta = item.metadata as unknown as J;
    const ns = String(meta.namespace ?? 'default');
    const spec = map(item.spec);
    const w: Workload = {
      apiVersion: item.apiVersion,
      kind,
      namespace: ns,
      name: item.metadata.name,
      labels: interner.strings.shareValues(strMap(meta.labels)),
      annotations: interner.strings.shareValues(keptAnnotations(meta.annotations)),
      pods: [],
      ...managedByOf(meta),
    };
    if (item.metadata.uid) w.uid = item.metadata.uid;
    if (item.metadata.resourceVersion) w.resourceVersion = item.metadata.resourceVersion;
    if (typeof spec.replicas === 'number') w.replicas = spec.replicas;
    else if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'ReplicaSet') w.replicas = 1;
    if (template) w.template = template;
    const sel = workloadSelector(kind, spec);
    if (sel) w.selector = sel;
    if (kind === 'DaemonSet') facts.daemonSet(item);
    workloads.set(`${kind}/${ns}/${w.name}`, w);
    if (kind === 'DaemonSet' && only.size === 0) noteCni(ns, w.name);
  };
  const dropWorkloads = (kind: WorkloadKind, namespace: string | undefined) => {
    for (const [k, w] of workloads) {
      if (w.kind === kind && (namespace === undefined || w.namespace === namespace)) workloads.delete(k);
    }
  };
  const cniSeen = new Set<string>();
  const noteCni = (namespace: string, name: string) => {
    if (cniSeen.has(`${namespace}/${name}`)) return;
    cniSeen.add(`${namespace}/${name}`);
    for (const c of CNI) {
      if (c.pattern.test(name))
        cni.push({ name: c.name, namespace, workload: name, enforcesNetworkPolicy: c.enforces });
    }
  };

  const tasks: Array<Promise<unknown>> = [facts.start()];
  // Phase 4's token facts (Snapshot.serviceAccountFacts): legacy token Secrets, metadata only.
  let saFacts: ServiceAccountFacts | undefined;
  tasks.push(
    collectServiceAccountFacts({
      reader,
      only,
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onPage: () => {
        pages++;
      },
    }).then((f) => {
      saFacts = f;
    }),
  );
  const controlPlaneFacts = collectControlPlaneFacts(reader, options.signal);
  tasks.push(controlPlaneFacts);
  const admissionEngines = collectAdmissionEngines(reader, options.signal);
  tasks.push(admissionEngines);
  const nsOk = collect(
    Kinds.Namespace,
    (item) => {
      if (!wanted(item.metadata.name)) return;
      const meta = item.metadata as unknown as J;
      const info: NamespaceInfo = {
        name: item.metadata.name,
        labels: strMap(meta.labels),
        annotations: keptAnnotations(meta.annotations),
      };
      if (item.metadata.resourceVersion) info.resourceVersion = item.metadata.resourceVersion;
      if (info.annotations['kube-harden.io/synthesized'] === 'true') info.synthesized = true;
      if (map(item.status).phase === 'Terminating' || item.metadata.deletionTimestamp)
        info.terminating = true;
      namespaces.set(info.name, info);
    },
    () => namespaces.clear(),
  );
  tasks.push(nsOk);

  tasks.push(
    collect(
      Kinds.Pod,
      (item) => {
        const meta = item.metadata as unknown as J;
        const ns = String(meta.namespace ?? 'default');
        const owner = controllerOf(meta);
        // Projected once: a bare pod is its own workload's template.
        const template = templateOf('Pod', item, interner) as PodTemplateLite;
        if (!owner) addWorkload('Pod', item, template);
        const pod: PodLite = { name: item.metadata.name, pod: template };
        const phase = map(item.status).phase;
        if (typeof phase === 'string') pod.phase = interner.strings.share(phase);
        const raw: RawPod = { namespace: ns, pod };
        if (owner) raw.owner = owner;
        rawPods.push(raw);
        if (ns === 'kube-system' && strMap(meta.labels).component === 'kube-apiserver') {
          const c = objectItems(map(item.spec).containers)[0] ?? {};
          apiServerFlags = [
            ...(Array.isArray(c.command) ? c.command : []),
            ...(Array.isArray(c.args) ? c.args : []),
          ].map(String);
        }
      },
      (namespace) => {
        dropFrom(rawPods, (p) => namespace === undefined || p.namespace === namespace);
        dropWorkloads('Pod', namespace);
      },
    ),
  );

  // The CNI runs outside the namespaces of a narrowed run (-n): look for it cluster-wide, for the hint only. A
  // refusal here is not an unknown of the run's scope; the CNI then stays unknown, and says so.
  if (only.size > 0) {
    tasks.push(
      (async () => {
        try {
          for await (const page of reader.list(
            Kinds.DaemonSet,
            options.signal ? { signal: options.signal } : {},
          )) {
            for (const item of page.items) {
              noteCni(item.metadata.namespace ?? 'default', item.metadata.name);
              facts.daemonSet(item);
              facts.outsideDaemonSet(item);
            }
          }
        } catch (error) {
          if (
            !isClusterError(error) ||
            ['Unauthorized', 'Connection', 'TLS', 'NotKubernetes'].includes(error.reason)
          )
            throw error;
          cniUnreadable = true;
          facts.daemonSetsUnreadable();
        }
      })(),
    );
  }

  for (const [kind, info] of OWNER_KINDS) {
    tasks.push(
      collect(
        info,
        (item) => {
          const owner = controllerOf(item.metadata as unknown as J);
          if ((kind === 'ReplicaSet' || kind === 'Job') && item.metadata.uid) {
            const top =
              owner &&
              ((kind === 'ReplicaSet' && owner.kind === 'Deployment') ||
                (kind === 'Job' && owner.kind === 'CronJob'));
            owners.set(
              item.metadata.uid,
              top ? { kind: owner.kind, name: owner.name, uid: owner.uid } : null,
            );
            if (top) return; // folded into the Deployment / CronJob
          }
          addWorkload(kind, item);
        },
        // Owner links are keyed by uid: a repeated item sets the same entry again.
        (namespace) => dropWorkloads(kind, namespace),
      ),
    );
  }

  tasks.push(
    collect(
      Kinds.ServiceAccount,
      (item) => {
        const sa: ServiceAccountInfo = {
          namespace: item.metadata.namespace ?? 'default',
          name: item.metadata.name,
        };
        if (typeof item.automountServiceAccountToken === 'boolean')
          sa.automountServiceAccountToken = item.automountServiceAccountToken;
        if (item.metadata.resourceVersion) sa.resourceVersion = item.metadata.resourceVersion;
        serviceAccounts.push(sa);
      },
      (namespace) => dropFrom(serviceAccounts, (x) => namespace === undefined || x.namespace === namespace),
    ),
  );

  for (const info of [Kinds.Role, Kinds.ClusterRole]) {
    tasks.push(
      collect(
        info,
        (item) => {
          const r: RoleInfo = {
            kind: info.kind as RoleInfo['kind'],
            name: item.metadata.name,
            rules: objectItems(item.rules).map((rule) => ({
              verbs: Array.isArray(rule.verbs) ? rule.verbs.map(String) : [],
              ...(Array.isArray(rule.apiGroups) ? { apiGroups: rule.apiGroups.map(String) } : {}),
              ...(Array.isArray(rule.resources) ? { resources: rule.resources.map(String) } : {}),
              ...(Array.isArray(rule.resourceNames) ? { resourceNames: rule.resourceNames.map(String) } : {}),
              ...(Array.isArray(rule.nonResourceURLs)
                ? { nonResourceURLs: rule.nonResourceURLs.map(String) }
                : {}),
            })),
            aggregated: Boolean(item.aggregationRule),
            labels: strMap(item.metadata.labels),
          };
          if (item.metadata.namespace) r.namespace = item.metadata.namespace;
          roles.push(r);
        },
        (namespace) =>
          dropFrom(
            roles,
            (x) => x.kind === info.kind && (namespace === undefined || x.namespace === namespace),
          ),
      ),
    );
  }
  for (const info of [Kinds.RoleBinding, Kinds.ClusterRoleBinding]) {
    tasks.push(
      collect(
        info,
        (item) => {
          const ref = map(item.roleRef);
          const b: BindingInfo = {
            kind: info.kind as BindingInfo['kind'],
            name: item.metadata.name,
            roleRef: {
              kind: String(ref.kind ?? ''),
              name: String(ref.name ?? ''),
              ...(ref.apiGroup ? { apiGroup: String(ref.apiGroup) } : {}),
            },
            subjects: objectItems(item.subjects).map((s) => ({
              kind: String(s.kind ?? ''),
              name: String(s.name ?? ''),
              ...(s.namespace ? { namespace: String(s.namespace) } : {}),
              ...(s.apiGroup !== undefined ? { apiGroup: String(s.apiGroup) } : {}),
            })),
            labels: strMap(item.metadata.labels),
          };
          if (item.metadata.namespace) b.namespace = item.metadata.namespace;
          bindings.push(b);
        },
        (namespace) =>
          dropFrom(
            bindings,
            (x) => x.kind === info.kind && (namespace === undefined || x.namespace === namespace),
          ),
      ),
    );
  }

  tasks.push(
    collect(
      Kinds.NetworkPolicy,
      (item) => {
        const spec = map(item.spec);
        networkPolicies.push({
          namespace: item.metadata.namespace ?? 'default',
          name: item.metadata.name,
          podSelector: labelSelectorOf(spec.podSelector),
          policyTypes: effectivePolicyTypes(spec),
          ingress: npRules(spec.ingress, 'from'),
          egress: npRules(spec.egress, 'to'),
          labels: strMap(item.metadata.labels),
        });
      },
      (namespace) => dropFrom(networkPolicies, (x) => namespace === undefined || x.namespace === namespace),
    ),
  );

  for (const info of [Kinds.ValidatingAdmissionPolicy, Kinds.ValidatingAdmissionPolicyBinding]) {
    tasks.push(
      collect(
        info,
        (item) => {
          const spec = map(item.spec);
          const p: AdmissionPolicyInfo = {
            kind: info.kind as AdmissionPolicyInfo['kind'],
            name: item.metadata.name,
            labels: strMap(item.metadata.labels),
          };
          if (typeof spec.policyName === 'string') p.policyName = spec.policyName;
          if (Array.isArray(spec.validationActions)) p.validationActions = spec.validationActions.map(String);
          if (typeof spec.failurePolicy === 'string') p.failurePolicy = spec.failurePolicy;
          const allowed = objectItems(spec.variables).find((v) => v.name === 'allowed')?.expression;
          if (typeof allowed === 'string') p.allowedExpression = allowed;
          if (item.metadata.resourceVersion) p.resourceVersion = item.metadata.resourceVersion;
          admissionPolicies.push(p);
        },
        () => dropFrom(admissionPolicies, (x) => x.kind === info.kind),
      ),
    );
  }

  for (const info of [Kinds.ValidatingWebhookConfiguration, Kinds.MutatingWebhookConfiguration]) {
    tasks.push(
      collect(
        info,
        (item) => {
          for (const w of objectItems(item.webhooks)) {
            const ns = map(map(w.clientConfig).service).namespace;
            if (typeof ns === 'string') webhookNamespaces.add(ns);
          }
          facts.webhookConfiguration(info.kind as 'ValidatingWebhookConfiguration', item);
        },
        // Sets: a repeated item adds nothing.
        () => undefined,
      ),
    );
  }

  // The cluster DNS Service (its selector and ports shape the DNS egress allow policy); read even when the scope
  // excludes kube-system, since every namespace's DNS egress depends on it.
  tasks.push(
    (async () => {
      try {
        const { value } = await reader.get(
          { apiVersion: 'v1', kind: 'Service', namespace: 'kube-system', name: 'kube-dns' },
          options.signal,
        );
        if (value) dns = dnsInfo(value);
      } catch (error) {
        if (!isClusterError(error)) throw error;
        if (error.reason === 'Unsupported') return;
        if (['Unauthorized', 'Connection', 'TLS', 'NotKubernetes'].includes(error.reason)) throw error;
        unknown.push({
          resource: 'services',
          namespace: 'kube-system',
          reason: error.reason === 'Forbidden' ? 'Forbidden' : 'Error',
          message: error.message,
        });
      }
    })(),
  );

  await Promise.all(tasks);
  const namespacesListed = await nsOk;
  if (only.size === 0 && unknown.some((u) => u.resource === 'daemonsets.apps')) facts.daemonSetsUnreadable();
  const network = await facts.finish(cni, serverVersion);

  // Fold pods into their top-level owners.
  for (const raw of rawPods) {
    const { owner } = raw;
    if (!owner) {
      workloads.get(`Pod/${raw.namespace}/${raw.pod.name}`)?.pods.push(raw.pod);
      continue;
    }
    let kind = owner.kind;
    let name = owner.name;
    const link = owners.get(owner.uid);
    if (link) {
      kind = link.kind;
      name = link.name;
    }
    if (!isWorkloadKind(kind)) {
      // A custom controller we do not model: keep the pod as its own workload, so it is still evaluated.
      kind = 'Pod';
      name = raw.pod.name;
    }
    const key = `${kind}/${raw.namespace}/${name}`;
    let w = workloads.get(key);
    if (!w) {
      // The owner could not be listed (or vanished): keep the pods under its name, without a template.
      w = {
        apiVersion: apiVersionOf(kind),
        kind: kind as WorkloadKind,
        namespace: raw.namespace,
        name,
        labels: {},
        annotations: {},
        pods: [],
        managedBy: [],
        fieldManagers: [],
      };
      workloads.set(key, w);
    }
    w.pods.push(raw.pod);
  }

  // Namespaces: when the list was refused, fall back to the names we saw (labels unknown).
  if (!namespacesListed) {
    const seen = new Set<string>([...only]);
    for (const w of workloads.values()) seen.add(w.namespace);
    for (const sa of serviceAccounts) seen.add(sa.namespace);
    for (const name of seen) {
      if (!wanted(name)) continue;
      if (!namespaces.has(name)) {
        // A targeted get may still be allowed (namespace-scoped users).
        let info: NamespaceInfo = { name, labels: {}, annotations: {}, unreadable: true };
        try {
          const { value } = await reader.get({ apiVersion: 'v1', kind: 'Namespace', name }, options.signal);
          if (value) {
            info = {
              name,
              labels: strMap(value.metadata.labels),
              annotations: keptAnnotations(value.metadata.annotations),
            };
            if (value.metadata.resourceVersion) info.resourceVersion = value.metadata.resourceVersion;
          }
        } catch (error) {
          if (!isClusterError(error)) throw error;
        }
        namespaces.set(name, info);
      }
    }
  }

  const byName = <T extends { name: string; namespace?: string }>(a: T, b: T) =>
    (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);
  for (const w of workloads.values()) w.pods.sort((a, b) => a.name.localeCompare(b.name));
  const snapshot: Snapshot = {
    source: reader.source,
    takenAt: new Date().toISOString(),
    namespaces: [...namespaces.values()].sort((a, b) => a.name.localeCompare(b.name)),
    workloads: [...workloads.values()].sort((a, b) => byName(a, b) || a.kind.localeCompare(b.kind)),
    serviceAccounts: serviceAccounts.sort(byName),
    roles: roles.sort((a, b) => a.kind.localeCompare(b.kind) || byName(a, b)),
    bindings: bindings.sort((a, b) => a.kind.localeCompare(b.kind) || byName(a, b)),
    networkPolicies: networkPolicies.sort(byName),
    admissionPolicies: admissionPolicies.sort(
      (a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
    ),
    controlPlane: {
      cni: cni.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.workload.localeCompare(b.workload)),
      webhookNamespaces: [...webhookNamespaces].sort(),
      ...(cniUnreadable ? { cniUnreadable: true } : {}),
      ...(apiServerFlags ? { apiServerFlags } : {}),
    },
    unknown: unknown.sort(
      (a, b) => a.resource.localeCompare(b.resource) || (a.namespace ?? '').localeCompare(b.namespace ?? ''),
    ),
    stats: { objects, pages, durationMs: Math.round(performance.now() - started) },
  };
  if (serverVersion) snapshot.serverVersion = serverVersion;
  if (dns) snapshot.dns = dns;
  snapshot.network = network;
  if (saFacts) snapshot.serviceAccountFacts = saFacts;
  snapshot.admissionEngines = await admissionEngines;
  snapshot.controlPlaneFacts = {
    ...(await controlPlaneFacts),
    nodes: [...nodeHints.values()].sort((a, b) => a.name.localeCompare(b.name)),
    ...(unknown.some((u) => u.resource === 'nodes') ? { nodesUnreadable: true } : {}),
  };
  return snapshot;
}

function dnsInfo(svc: KubeObject): DnsServiceInfo {
  const spec = map(svc.spec);
  return {
    namespace: svc.metadata.namespace ?? 'kube-system',
    name: svc.metadata.name,
    selector: strMap(spec.selector),
    ports: objectItems(spec.ports).map((p) => ({
      ...(typeof p.name === 'string' ? { name: p.name } : {}),
      port: Number(p.port),
      protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP',
      ...(typeof p.targetPort === 'number' || typeof p.targetPort === 'string'
        ? { targetPort: p.targetPort }
        : {}),
    })),
  };
}

function apiVersionOf(kind: string): string {
  switch (kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
      return 'apps/v1';
    case 'Job':
    case 'CronJob':
      return 'batch/v1';
    default:
      return 'v1';
  }
}
