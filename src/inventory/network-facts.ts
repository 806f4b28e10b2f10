/**
 * The network facts of the Snapshot (`Snapshot.network`): what the default-deny planner (phase 3,
 * src/policy/netpol) needs beyond workloads, NetworkPolicies and RBAC. Collected in the inventory's single pass
 * with a fixed handful of cluster-wide, paginated lists and named GETs, whatever the number of namespaces:
 * Services, Ingresses, IngressClasses, the `default` API server EndpointSlices, Nodes, APIServices and, when
 * served, Gateway API and Prometheus Operator kinds. DaemonSets and webhook configurations are not listed again:
 * the inventory's own lists feed them in. ConfigMaps are never listed, only two named ones are read (and only when
 * their CNI runs). Only the fields the planner reads are kept.
 *
 * A refused list leaves an entry in `unknown` (never an empty list taken as the truth); a kind the server does not
 * serve (404 on list: no Gateway API, no Prometheus Operator) is simply empty.
 */
import { parse as parseYaml } from 'yaml';
import { ClusterError, isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { type Json, map, objectItems, strMap } from '../k8s/json.js';
import { type KindInfo, Kinds, OptionalKinds, resourceName } from '../k8s/kinds.js';
import type { KubeObject, ServerVersion } from '../k8s/types.js';
import { containerArgs, redactArgs } from './project.js';
import type {
  CniHint,
  DaemonSetLite,
  LabelSelector,
  MonitorNamespaceSelector,
  NetpolContainer,
  NetworkFacts,
  OutsideWorkload,
  UnknownEntry,
  WebhookBackend,
} from './types.js';

type J = Json;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const portish = (v: unknown): number | string | undefined =>
  typeof v === 'number' || typeof v === 'string' ? v : undefined;

export function labelSelectorOf(v: unknown): LabelSelector {
  const s = map(v);
  const out: LabelSelector = {};
  const ml = strMap(s.matchLabels);
  if (Object.keys(ml).length) out.matchLabels = ml;
  const me = objectItems(s.matchExpressions).map((e) => ({
    key: String(e.key ?? ''),
    operator: String(e.operator ?? ''),
    ...(Array.isArray(e.values) ? { values: e.values.map(String) } : {}),
  }));
  if (me.length) out.matchExpressions = me;
  return out;
}

/** `null` stays `null` (matches nothing), `{}` stays `{}` (matches everything), absent stays absent. */
function nullableSelector(spec: J, key: string): { [k: string]: LabelSelector | null } {
  if (!(key in spec) || spec[key] === undefined) return {};
  return { [key]: spec[key] === null ? null : labelSelectorOf(spec[key]) };
}

/** A workload's `spec.selector`: a LabelSelector, or a ReplicationController's plain map. */
export function workloadSelector(kind: string, spec: J): LabelSelector | undefined {
  if (!spec.selector || typeof spec.selector !== 'object') return undefined;
  if (kind === 'ReplicationController') {
    const ml = strMap(spec.selector);
    return Object.keys(ml).length ? { matchLabels: ml } : undefined;
  }
  return labelSelectorOf(spec.selector);
}

function netpolContainer(c: J): NetpolContainer {
  const args = containerArgs(c);
  const ports = objectItems(c.ports).filter((p) => typeof p.containerPort === 'number');
  return {
    name: String(c.name ?? ''),
    ...(typeof c.image === 'string' ? { image: c.image } : {}),
    ...(args ? { args } : {}),
    ...(ports.length
      ? {
          ports: ports.map((p) => ({
            containerPort: p.containerPort as number,
            ...(typeof p.name === 'string' ? { name: p.name } : {}),
            ...(typeof p.protocol === 'string' ? { protocol: p.protocol } : {}),
          })),
        }
      : {}),
  };
}

function templateOf(item: KubeObject): { labels: Record<string, string>; spec: J } {
  const t = map(map(item.spec).template);
  return { labels: strMap(map(t.metadata).labels), spec: map(t.spec) };
}

export function daemonSetLite(item: KubeObject): DaemonSetLite {
  const { labels, spec } = templateOf(item);
  const init = objectItems(spec.initContainers);
  return {
    namespace: item.metadata.namespace ?? 'default',
    name: item.metadata.name,
    labels,
    ...(spec.hostNetwork === true ? { hostNetwork: true } : {}),
    containers: objectItems(spec.containers).map(netpolContainer),
    ...(init.length ? { initContainers: init.map(netpolContainer) } : {}),
  };
}

function outsideWorkload(kind: OutsideWorkload['kind'], item: KubeObject): OutsideWorkload {
  const { labels, spec } = templateOf(item);
  const sel = workloadSelector(kind, map(item.spec));
  return {
    namespace: item.metadata.namespace ?? 'default',
    kind,
    name: item.metadata.name,
    labels,
    ...(sel ? { selector: sel } : {}),
    serviceAccount: str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? 'default',
    ...(typeof spec.automountServiceAccountToken === 'boolean'
      ? { automountServiceAccountToken: spec.automountServiceAccountToken }
      : {}),
    ...(spec.hostNetwork === true ? { hostNetwork: true } : {}),
    containers: [...objectItems(spec.initContainers), ...objectItems(spec.containers)].map(netpolContainer),
  };
}

export interface NetworkFactsContext {
  reader: ClusterReader;
  /** The namespaces of a narrowed run (-n); empty: all. */
  only: ReadonlySet<string>;
  pageSize?: number;
  signal?: AbortSignal;
  /** The Snapshot's unknown list: refusals are recorded there. */
  unknown: UnknownEntry[];
  /** The Snapshot's object counts and page count. */
  objects: Record<string, number>;
  onPage: () => void;
  /** Each Node of the one Node list (phase 6 reads platform hints from it: src/inventory/control-plane-facts.ts). */
  onNode?: (item: KubeObject) => void;
}

const FATAL = ['Unauthorized', 'Connection', 'TLS'];

function unknownReason(error: ClusterError): UnknownEntry['reason'] {
  switch (error.reason) {
    case 'Forbidden':
      return 'Forbidden';
    case 'Timeout':
      return 'Timeout';
    case 'NotFound':
      return 'NotServed';
    case 'Unsupported':
      return 'Unsupported';
    default:
      return 'Error';
  }
}

/** Network facts with nothing in them: what the inventory starts from, and the base of test fixtures. */
export function emptyNetworkFacts(): NetworkFacts {
  return {
    services: [],
    apiServer: { endpointSlices: [] },
    daemonSets: [],
    cniConfig: {},
    ingresses: [],
    ingressClasses: [],
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    webhooks: [],
    prometheuses: [],
    serviceMonitors: [],
    podMonitors: [],
    outsideWorkloads: [],
  };
}

/**
 * Collects the network facts. `start()` issues the lists (run them beside the inventory's); the inventory feeds
 * its DaemonSets and webhook configurations in; `finish()` reads the CNI ConfigMaps its CNI hints call for.
 */
export class NetworkFactsCollector {
  readonly #ctx: NetworkFactsContext;
  readonly #facts: NetworkFacts = emptyNetworkFacts();
  readonly #daemonSetsSeen = new Set<string>();

  constructor(ctx: NetworkFactsContext) {
    this.#ctx = ctx;
  }

  /** A DaemonSet from the inventory's list (any namespace); each one is kept once. */
  readonly #webhooksSeen = new Set<string>();

  daemonSet(item: KubeObject): void {
    const key = `${item.metadata.namespace}/${item.metadata.name}`;
    if (this.#daemonSetsSeen.has(key)) return;
    this.#daemonSetsSeen.add(key);
    this.#facts.daemonSets.push(daemonSetLite(item));
  }

  /** DaemonSets could not be listed cluster-wide (CNI and NodeLocal DNS detection cannot be trusted). */
  daemonSetsUnreadable(): void {
    this.#facts.cniConfig.daemonSetsUnreadable = true;
  }

  /** A Validating/MutatingWebhookConfiguration from the inventory's list. */
  webhookConfiguration(
    kind: 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration',
    item: KubeObject,
  ) {
    for (const w of objectItems(item.webhooks)) {
      const svc = map(map(w.clientConfig).service);
      if (typeof svc.namespace !== 'string' || typeof svc.name !== 'string') continue;
      const b: WebhookBackend = {
        kind,
        configuration: item.metadata.name,
        webhook: String(w.name ?? ''),
        service: {
          namespace: svc.namespace,
          name: svc.name,
          ...(typeof svc.port === 'number' ? { port: svc.port } : {}),
        },
      };
      if (typeof w.failurePolicy === 'string') b.failurePolicy = w.failurePolicy;
      // A list restarted after 410 Gone feeds the same items again.
      const key = `${kind}/${item.metadata.name}/${b.webhook}`;
      if (this.#webhooksSeen.has(key)) continue;
      this.#webhooksSeen.add(key);
      this.#facts.webhooks.push(b);
    }
  }

  /**
   * One paginated list of a kind, cluster-wide (or in one namespace), items fed to `each`. A kind that is not
   * served is empty when `optional`; any other failure is recorded as unknown. Returns whether it was read.
   */
  async #objectItems(
    info: KindInfo,
    each: (item: KubeObject) => void,
    opts: {
      namespace?: string;
      labelSelector?: string;
      optional?: boolean;
      reset?: () => void;
      quiet?: boolean;
    } = {},
  ): Promise<boolean | 'notServed'> {
    const { reader, pageSize, signal } = this.#ctx;
    const resource = resourceName(info);
    let items = 0;
    try {
      for await (const page of reader.list(info, {
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
        ...(pageSize ? { limit: pageSize } : {}),
        ...(signal ? { signal } : {}),
      })) {
        if (page.restarted && page.index === 1) {
          opts.reset?.();
          items = 0;
        }
        this.#ctx.onPage();
        for (const item of page.items) {
          items++;
          each(item);
        }
      }
    } catch (error) {
      if (!(error instanceof ClusterError) || FATAL.includes(error.reason)) throw error;
      if (error.reason === 'NotFound' && opts.optional) return 'notServed';
      if (!opts.quiet) {
        this.#ctx.unknown.push({
          resource,
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
          reason: unknownReason(error),
          message: error.message,
        });
      }
      return error.reason === 'NotFound' ? 'notServed' : false;
    } finally {
      this.#ctx.objects[resource] = (this.#ctx.objects[resource] ?? 0) + items;
    }
    return true;
  }

  /**
   * A namespaced kind, cluster-wide. When refused in a narrowed run, it is listed again in each namespace of the
   * run, so a namespace-scoped user still gets its own namespaces' objects (the cluster-wide refusal stays unknown).
   */
  async #wide(info: KindInfo, each: (item: KubeObject) => void, reset: () => void, optional = false) {
    const ok = await this.#objectItems(info, each, { reset, optional });
    if (ok !== false || this.#ctx.only.size === 0) return;
    for (const namespace of [...this.#ctx.only].sort())
      await this.#objectItems(info, each, { namespace, optional });
  }

  /** Issue every list; resolves when all are done. */
  async start(): Promise<void> {
    const f = this.#facts;
    const tasks: Array<Promise<unknown>> = [
      this.#wide(
        Kinds.Service,
        (item) => {
          const spec = map(item.spec);
          const annotations: Record<string, string> = {};
          for (const [k, v] of Object.entries(strMap(item.metadata.annotations)))
            if (k.startsWith('prometheus.io/')) annotations[k] = v;
          const labels = strMap(item.metadata.labels);
          const selector = strMap(spec.selector);
          const clusterIPs = Array.isArray(spec.clusterIPs)
            ? spec.clusterIPs.map(String)
            : typeof spec.clusterIP === 'string'
              ? [spec.clusterIP]
              : [];
          f.services.push({
            namespace: item.metadata.namespace ?? 'default',
            name: item.metadata.name,
            ...(Object.keys(labels).length ? { labels } : {}),
            ...(Object.keys(annotations).length ? { annotations } : {}),
            ...(typeof spec.type === 'string' ? { type: spec.type } : {}),
            ...(Object.keys(selector).length ? { selector } : {}),
            ...(clusterIPs.length ? { clusterIPs } : {}),
            ports: objectItems(spec.ports).map((p) => ({
              ...(typeof p.name === 'string' ? { name: p.name } : {}),
              port: Number(p.port),
              ...(typeof p.protocol === 'string' ? { protocol: p.protocol } : {}),
              ...(portish(p.targetPort) !== undefined ? { targetPort: portish(p.targetPort) } : {}),
            })),
          });
        },
        () => {
          f.services.length = 0;
        },
      ),
      this.#wide(
        Kinds.Ingress,
        (item) => {
          const spec = map(item.spec);
          const backends: Array<{ service: string; port: number | string }> = [];
          const add = (b: unknown) => {
            const svc = map(map(b).service);
            const port = map(svc.port);
            const p = typeof port.number === 'number' ? port.number : str(port.name);
            if (typeof svc.name === 'string' && p !== undefined)
              backends.push({ service: svc.name, port: p });
          };
          if (spec.defaultBackend) add(spec.defaultBackend);
          for (const r of objectItems(spec.rules))
            for (const path of objectItems(map(r.http).paths)) add(path.backend);
          const cls = strMap(item.metadata.annotations)['kubernetes.io/ingress.class'];
          f.ingresses.push({
            namespace: item.metadata.namespace ?? 'default',
            name: item.metadata.name,
            ...(typeof spec.ingressClassName === 'string' ? { ingressClassName: spec.ingressClassName } : {}),
            ...(cls !== undefined ? { annotations: { 'kubernetes.io/ingress.class': cls } } : {}),
            backends,
          });
        },
        () => {
          f.ingresses.length = 0;
        },
      ),
      this.#objectItems(
        Kinds.IngressClass,
        (item) => {
          f.ingressClasses.push({
            name: item.metadata.name,
            controller: String(map(item.spec).controller ?? ''),
            ...(strMap(item.metadata.annotations)['ingressclass.kubernetes.io/is-default-class'] === 'true'
              ? { isDefault: true }
              : {}),
          });
        },
        {
          reset: () => {
            f.ingressClasses.length = 0;
          },
        },
      ),
      this.#apiServer(),
      this.#nodes(),
      this.#objectItems(
        Kinds.APIService,
        (item) => {
          const svc = map(map(item.spec).service);
          if (typeof svc.namespace !== 'string' || typeof svc.name !== 'string') return;
          f.webhooks.push({
            kind: 'APIService',
            configuration: item.metadata.name,
            webhook: '',
            service: {
              namespace: svc.namespace,
              name: svc.name,
              ...(typeof svc.port === 'number' ? { port: svc.port } : {}),
            },
          });
        },
        { optional: true },
      ),
      // Gateway API, when served.
      this.#objectItems(
        OptionalKinds.GatewayClass,
        (item) => {
          f.gatewayClasses.push({
            name: item.metadata.name,
            controllerName: String(map(item.spec).controllerName ?? ''),
          });
        },
        { optional: true },
      ),
      this.#wide(
        OptionalKinds.Gateway,
        (item) => {
          f.gateways.push({
            namespace: item.metadata.namespace ?? 'default',
            name: item.metadata.name,
            gatewayClassName: String(map(item.spec).gatewayClassName ?? ''),
          });
        },
        () => {
          f.gateways.length = 0;
        },
        true,
      ),
      this.#wide(
        OptionalKinds.HTTPRoute,
        (item) => {
          const spec = map(item.spec);
          const isCore = (r: J, kind: string) =>
            (r.kind === undefined || r.kind === kind) &&
            (r.group === undefined ||
              r.group === (kind === 'Gateway' ? 'gateway.networking.k8s.io' : '') ||
              (kind === 'Service' && r.group === 'core'));
          const backendRefs: Array<{ name: string; namespace?: string; port?: number }> = [];
          for (const rule of objectItems(spec.rules)) {
            for (const b of objectItems(rule.backendRefs)) {
              if (!isCore(b, 'Service') || typeof b.name !== 'string') continue;
              backendRefs.push({
                name: b.name,
                ...(typeof b.namespace === 'string' ? { namespace: b.namespace } : {}),
                ...(typeof b.port === 'number' ? { port: b.port } : {}),
              });
            }
          }
          f.httpRoutes.push({
            namespace: item.metadata.namespace ?? 'default',
            name: item.metadata.name,
            parentRefs: objectItems(spec.parentRefs)
              .filter((p) => isCore(p, 'Gateway') && typeof p.name === 'string')
              .map((p) => ({
                name: p.name as string,
                ...(typeof p.namespace === 'string' ? { namespace: p.namespace } : {}),
              })),
            backendRefs,
          });
        },
        () => {
          f.httpRoutes.length = 0;
        },
        true,
      ),
      // Prometheus Operator, when served.
      this.#wide(
        OptionalKinds.Prometheus,
        (item) => {
          const spec = map(item.spec);
          f.prometheuses.push({
            namespace: item.metadata.namespace ?? 'default',
            name: item.metadata.name,
            ...nullableSelector(spec, 'serviceMonitorSelector'),
            ...nullableSelector(spec, 'serviceMonitorNamespaceSelector'),
            ...nullableSelector(spec, 'podMonitorSelector'),
            ...nullableSelector(spec, 'podMonitorNamespaceSelector'),
          });
        },
        () => {
          f.prometheuses.length = 0;
        },
        true,
      ),
      this.#wide(
        OptionalKinds.ServiceMonitor,
        (item) => {
          const spec = map(item.spec);
          f.serviceMonitors.push({
            namespace: item.metadata.namespace ?? 'default',
            name: item.metadata.name,
            labels: strMap(item.metadata.labels),
            selector: labelSelectorOf(spec.selector),
            ...monitorNamespaces(spec),
            endpoints: objectItems(spec.endpoints).map((e) => ({
              ...(typeof e.port === 'string' ? { port: e.port } : {}),
              ...(portish(e.targetPort) !== undefined ? { targetPort: portish(e.targetPort) } : {}),
            })),
          });
        },
        () => {
          f.serviceMonitors.length = 0;
        },
        true,
      ),
      this.#wide(
        OptionalKinds.PodMonitor,
        (item) => {
          const spec = map(item.spec);
          f.podMonitors.push({
            namespace: item.metadata.namespace ?? 'default',
            name: item.metadata.name,
            labels: strMap(item.metadata.labels),
            selector: labelSelectorOf(spec.selector),
            ...monitorNamespaces(spec),
            podMetricsEndpoints: objectItems(spec.podMetricsEndpoints).map((e) => ({
              ...(typeof e.port === 'string' ? { port: e.port } : {}),
              ...(typeof e.portNumber === 'number' ? { portNumber: e.portNumber } : {}),
              ...(portish(e.targetPort) !== undefined ? { targetPort: portish(e.targetPort) } : {}),
            })),
          });
        },
        () => {
          f.podMonitors.length = 0;
        },
        true,
      ),
    ];
    if (this.#ctx.only.size > 0) tasks.push(this.#outsideWorkloads());
    await Promise.all(tasks);
  }

  /**
   * A narrowed run (-n) lists workloads in its namespaces only; the planner also selects pods elsewhere (DNS in
   * kube-system, ingress controllers, Prometheus). Deployments and StatefulSets are listed once cluster-wide and
   * those outside the run kept in a few fields (DaemonSets come from the inventory's cluster-wide CNI list). A
   * refusal is not an unknown of the run's scope (it would read as "workloads of every namespace unknown"); the
   * outside workloads are then simply not known, as `outsideWorkloadsUnreadable` says.
   */
  async #outsideWorkloads(): Promise<void> {
    const f = this.#facts;
    for (const [kind, info] of [
      ['Deployment', Kinds.Deployment],
      ['StatefulSet', Kinds.StatefulSet],
    ] as const) {
      const ok = await this.#objectItems(
        info,
        (item) => {
          if (!this.#ctx.only.has(item.metadata.namespace ?? 'default'))
            f.outsideWorkloads.push(outsideWorkload(kind, item));
        },
        {
          quiet: true,
          reset: () => {
            f.outsideWorkloads = f.outsideWorkloads.filter((w) => w.kind !== kind);
          },
        },
      );
      if (ok !== true) f.outsideWorkloadsUnreadable = true;
    }
  }

  /** DaemonSets of a narrowed run's cluster-wide CNI list that lie outside the run, as outside workloads. */
  outsideDaemonSet(item: KubeObject): void {
    if (this.#ctx.only.size > 0 && !this.#ctx.only.has(item.metadata.namespace ?? 'default'))
      this.#facts.outsideWorkloads.push(outsideWorkload('DaemonSet', item));
  }

  /** EndpointSlices of `default/kubernetes`, else its Endpoints; unknown when neither can be read. */
  async #apiServer(): Promise<void> {
    const api = this.#facts.apiServer;
    const ok = await this.#objectItems(
      Kinds.EndpointSlice,
      (item) => {
        api.endpointSlices.push({
          name: item.metadata.name,
          addressType: String(item.addressType ?? ''),
          endpoints: objectItems(item.endpoints).map((e) => {
            const ready = map(e.conditions).ready;
            return {
              addresses: Array.isArray(e.addresses) ? e.addresses.map(String) : [],
              ...(typeof ready === 'boolean' ? { conditions: { ready } } : {}),
            };
          }),
          ports: objectItems(item.ports).map((p) => ({
            ...(typeof p.name === 'string' ? { name: p.name } : {}),
            ...(typeof p.port === 'number' ? { port: p.port } : {}),
            ...(typeof p.protocol === 'string' ? { protocol: p.protocol } : {}),
          })),
        });
      },
      {
        namespace: 'default',
        labelSelector: 'kubernetes.io/service-name=kubernetes',
        optional: true,
        reset: () => {
          api.endpointSlices.length = 0;
        },
      },
    );
    if (ok === true && api.endpointSlices.length > 0) return;
    let refused = ok === false;
    try {
      const { value } = await this.#ctx.reader.get(
        { apiVersion: 'v1', kind: 'Endpoints', namespace: 'default', name: 'kubernetes' },
        this.#ctx.signal,
      );
      if (value) {
        api.endpoints = {
          subsets: objectItems(value.subsets).map((s) => ({
            addresses: objectItems(s.addresses)
              .filter((a) => typeof a.ip === 'string')
              .map((a) => ({ ip: a.ip as string })),
            ports: objectItems(s.ports).map((p) => ({
              ...(typeof p.name === 'string' ? { name: p.name } : {}),
              port: Number(p.port),
              ...(typeof p.protocol === 'string' ? { protocol: p.protocol } : {}),
            })),
          })),
        };
        return;
      }
    } catch (error) {
      if (!(error instanceof ClusterError) || FATAL.includes(error.reason)) throw error;
      if (error.reason !== 'Unsupported') {
        refused = true;
        this.#ctx.unknown.push({
          resource: 'endpoints',
          namespace: 'default',
          reason: unknownReason(error),
          message: error.message,
        });
      }
    }
    // Nothing readable (refused, or a manifests directory without them): the API server's addresses are unknown.
    if (refused || api.endpointSlices.length === 0) api.unknown = true;
  }

  /** Nodes, for two CNI hints: `k3s.io/node-args` and whether every node has `spec.podCIDR`. */
  async #nodes(): Promise<void> {
    const hints = this.#facts.cniConfig;
    let count = 0;
    let withCidr = 0;
    let k3s: string[] | undefined;
    const ok = await this.#objectItems(
      Kinds.Node,
      (item) => {
        count++;
        this.#ctx.onNode?.(item);
        if (typeof map(item.spec).podCIDR === 'string' && map(item.spec).podCIDR) withCidr++;
        const args = strMap(item.metadata.annotations)['k3s.io/node-args'];
        if (k3s === undefined && args !== undefined) {
          try {
            const parsed: unknown = JSON.parse(args);
            if (Array.isArray(parsed)) k3s = parsed.map(String);
          } catch {
            // Not JSON: no hint.
          }
        }
      },
      {
        reset: () => {
          count = 0;
          withCidr = 0;
        },
      },
    );
    if (ok !== true || count === 0) return;
    hints.nodesHavePodCidr = withCidr === count;
    if (k3s) hints.k3sNodeArgs = redactArgs(k3s);
  }

  /**
   * Read the CNI ConfigMap keys the detected CNI calls for (GET by name, never a ConfigMap list), add the server
   * version, and hand the facts over.
   */
  async finish(cni: readonly CniHint[], serverVersion: ServerVersion | undefined): Promise<NetworkFacts> {
    const f = this.#facts;
    if (serverVersion?.gitVersion) f.cniConfig.serverGitVersion = serverVersion.gitVersion;
    const wants = new Set(cni.map((c) => c.name));
    // The DaemonSet names the inventory's CNI hints miss (an operator-managed cilium, aws-node renamed) still show
    // in the DaemonSet facts' images.
    for (const ds of f.daemonSets) {
      for (const c of ds.containers) {
        if (/\bcilium\b/.test(c.image ?? '')) wants.add('cilium');
        if (/amazon-k8s-cni/.test(c.image ?? '')) wants.add('aws-vpc-cni');
      }
    }
    const reads: Array<Promise<void>> = [];
    if (wants.has('cilium')) {
      reads.push(
        this.#configMapKeys('kube-system', 'cilium-config', (data) => {
          if (data['enable-policy'] !== undefined) f.cniConfig.ciliumEnablePolicy = data['enable-policy'];
          if (data['policy-cidr-match-mode'] !== undefined)
            f.cniConfig.ciliumPolicyCidrMatchMode = data['policy-cidr-match-mode'];
        }),
      );
    }
    if (wants.has('aws-vpc-cni')) {
      reads.push(
        this.#configMapKeys('kube-system', 'amazon-vpc-cni', (data) => {
          const v = data['enable-network-policy-controller'];
          if (v !== undefined) f.cniConfig.awsEnableNetworkPolicyController = v;
        }),
      );
    }
    reads.push(this.#clusterDns());
    await Promise.all(reads);
    const byName = <T extends { name: string; namespace?: string }>(a: T, b: T) =>
      (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);
    f.services.sort(byName);
    f.daemonSets.sort(byName);
    f.ingresses.sort(byName);
    f.ingressClasses.sort(byName);
    f.gatewayClasses.sort(byName);
    f.gateways.sort(byName);
    f.httpRoutes.sort(byName);
    f.prometheuses.sort(byName);
    f.serviceMonitors.sort(byName);
    f.podMonitors.sort(byName);
    f.outsideWorkloads.sort((a, b) => byName(a, b) || a.kind.localeCompare(b.kind));
    f.apiServer.endpointSlices.sort((a, b) => a.name.localeCompare(b.name));
    f.webhooks.sort(
      (a, b) =>
        a.kind.localeCompare(b.kind) ||
        a.configuration.localeCompare(b.configuration) ||
        a.webhook.localeCompare(b.webhook),
    );
    return f;
  }

  /**
   * The kubelet's `clusterDNS` from kubeadm's `kube-system/kubelet-config` (key `kubelet`, a KubeletConfiguration).
   * Optional: without it (another distribution, or refused) the planner goes by the DNS Service alone, so a
   * refusal is not recorded as unknown.
   */
  async #clusterDns(): Promise<void> {
    try {
      const { value } = await this.#ctx.reader.get(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'kubelet-config' },
        this.#ctx.signal,
      );
      const text = strMap(value?.data).kubelet;
      if (text === undefined || text.length > 65_536) return;
      const dns = map(parseYaml(text)).clusterDNS;
      if (Array.isArray(dns) && dns.every((x) => typeof x === 'string')) this.#facts.clusterDnsIPs = dns;
    } catch (error) {
      if (isClusterError(error) && FATAL.includes(error.reason)) throw error;
      // Not readable or not YAML: not known.
    }
  }

  /** One named ConfigMap, of which only the string values are handed to `take` (which keeps the keys it wants). */
  async #configMapKeys(namespace: string, name: string, take: (data: Record<string, string>) => void) {
    try {
      const { value } = await this.#ctx.reader.get(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace, name },
        this.#ctx.signal,
      );
      if (value) take(strMap(value.data));
    } catch (error) {
      if (!isClusterError(error) || FATAL.includes(error.reason)) throw error;
      if (error.reason === 'Unsupported') return;
      this.#ctx.unknown.push({
        resource: 'configmaps',
        namespace,
        reason: unknownReason(error),
        message: `${name}: ${error.message}`,
      });
    }
  }
}

function monitorNamespaces(spec: J): { namespaceSelector?: MonitorNamespaceSelector } {
  if (!spec.namespaceSelector) return {};
  const ns = map(spec.namespaceSelector);
  const out: MonitorNamespaceSelector = {};
  if (ns.any === true) out.any = true;
  if (Array.isArray(ns.matchNames)) out.matchNames = ns.matchNames.map(String);
  return { namespaceSelector: out };
}
