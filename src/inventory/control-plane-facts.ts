/**
 * Control-plane facts (phase 6, issue 14): what the API shows of the kube-apiserver's own configuration. Plain
 * data, read here and judged by the pure evaluation in src/policy/control-plane/.
 *
 * Reads (all optional: a refusal or an absent object leaves the fact unknown, never "off"):
 * - the kube-apiserver mirror pods of static pods (`kube-system`, label `component=kube-apiserver`): the
 *   command line of each instance (credential-like values redacted);
 * - kubeadm's `kube-system/kubeadm-config` ConfigMap, key `ClusterConfiguration`: `apiServer.extraArgs` (a map in
 *   v1beta3, a list of `{name, value}` in v1beta4), `apiServer.extraVolumes`, `controlPlaneEndpoint`;
 * - from the inventory's one Node list (`nodeHint`, fed by build.ts): provider IDs and the labels that name a
 *   managed platform (the first 100 nodes);
 * - LoadBalancer Services in `kube-system` and their ingress addresses;
 * - the API server's `/metrics`: `apiserver_storage_transformation_operations_total` for `secrets`, which names the
 *   provider each Secret was written and read with since that API server started (k8s.io/apiserver
 *   pkg/storage/value/transformer.go: a write uses the first provider and records its prefix, `""` for identity; a
 *   read records the prefix that matched, `identity` for plaintext). Only an API server with an
 *   EncryptionConfiguration records them.
 */
import { parse as parseYaml } from 'yaml';
import { ClusterError, isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { type Json, map, objectItems, strMap } from '../k8s/json.js';
import { Kinds } from '../k8s/kinds.js';
import type { KubeObject } from '../k8s/types.js';
import { containerArgs } from './project.js';

/** One kube-apiserver instance seen as a (mirror) pod. */
export interface ApiServerInstance {
  /** Pod name (`kube-apiserver-<node>`). */
  name: string;
  node?: string;
  /** `command` + `args` of its first container, credential-like values redacted. */
  flags: string[];
  /** Host paths it mounts (`volumes[].hostPath.path`), to tell whether a policy file is mounted. */
  hostPaths: string[];
}

/** The parts of kubeadm's ClusterConfiguration phase 6 reads. */
export interface KubeadmApiServerConfig {
  /** `kubeadm.k8s.io/v1beta3`, `…/v1beta4`. */
  apiVersion?: string;
  /** `apiServer.extraArgs`, as name → value (both shapes). */
  extraArgs: Record<string, string>;
  extraVolumes: Array<{ name: string; hostPath?: string; mountPath?: string }>;
  controlPlaneEndpoint?: string;
}

export interface NodeHint {
  name: string;
  providerID?: string;
  /** Only the labels that name a platform (eks.amazonaws.com/*, cloud.google.com/gke-*, kubernetes.azure.com/*, …). */
  labels: Record<string, string>;
}

export interface ControlPlaneFacts {
  apiServers: ApiServerInstance[];
  /** The kube-system pods could not be listed: whether static pods exist is unknown. */
  apiServersUnreadable?: boolean;
  /** Why they could not be listed (a refusal, a timeout, …), for the report's unknown entry. */
  apiServersError?: { reason: 'Forbidden' | 'Timeout' | 'Error'; message: string };
  kubeadm?: KubeadmApiServerConfig;
  /** kubeadm-config exists but could not be read (refused), or did not parse. */
  kubeadmUnreadable?: boolean;
  nodes: NodeHint[];
  nodesUnreadable?: boolean;
  loadBalancers: Array<{ namespace: string; name: string; addresses: string[] }>;
  loadBalancersUnreadable?: boolean;
  /**
   * Successful Secret transformations counted by the API server that answered `/metrics`, since it started;
   * absent when the metrics were not read (a file source, or refused: see `metricsError`).
   */
  secretTransformations?: SecretTransformation[];
  metricsError?: ControlPlaneFacts['apiServersError'];
}

export interface SecretTransformation {
  type: 'to_storage' | 'from_storage';
  /** `transformer_prefix`: `k8s:enc:<provider>:v<n>:<key>:`, `""` (a write by identity), `identity` (a plaintext read). */
  prefix: string;
  count: number;
}

export const TRANSFORMATIONS_METRIC = 'apiserver_storage_transformation_operations_total';

/** Prometheus label values: `name="value"` pairs, `\\`, `\"` and `\n` escaped. */
function metricLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}

/** The successful `secrets` samples of `apiserver_storage_transformation_operations_total`, summed by type and prefix. */
export function secretTransformations(lines: readonly string[]): SecretTransformation[] {
  const sums = new Map<string, SecretTransformation>();
  for (const line of lines) {
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    if (!line.startsWith(`${TRANSFORMATIONS_METRIC}{`) || close < open) continue;
    const labels = metricLabels(line.slice(open + 1, close));
    const count = Number(
      line
        .slice(close + 1)
        .trim()
        .split(/\s+/)[0],
    );
    const type = labels.transformation_type;
    if (labels.resource !== 'secrets' || labels.status !== 'OK' || !(count > 0)) continue;
    if (type !== 'to_storage' && type !== 'from_storage') continue;
    const prefix = labels.transformer_prefix ?? '';
    // The providers' own prefixes only: a provider with keys is itself a prefix transformer, and records each
    // operation a second time under the key's name (`key1:`).
    if (prefix !== '' && prefix !== 'identity' && !prefix.startsWith('k8s:enc:')) continue;
    const key = `${type}\0${prefix}`;
    const sum = sums.get(key) ?? { type, prefix, count: 0 };
    sum.count += count;
    sums.set(key, sum);
  }
  return [...sums.values()].sort((a, b) => a.type.localeCompare(b.type) || a.prefix.localeCompare(b.prefix));
}

const PLATFORM_LABEL =
  /^(eks\.amazonaws\.com\/|alpha\.eksctl\.io\/|karpenter\.sh\/|cloud\.google\.com\/gke-|kubernetes\.azure\.com\/|minikube\.k8s\.io\/|node\.openshift\.io\/|node-role\.kubernetes\.io\/)/;

const FATAL = ['Unauthorized', 'Connection', 'TLS', 'NotKubernetes'];

/** A fact that could not be read: rethrow what ends the run, otherwise say it was not readable. */
function tolerated(error: unknown): boolean {
  if (!isClusterError(error) || FATAL.includes(error.reason)) throw error;
  return true;
}

type FactError = NonNullable<ControlPlaneFacts['apiServersError']>;

/** Why a tolerated read failed, for the report's unknown entries and notes. */
function factError(error: ClusterError): FactError {
  const reason = error.reason === 'Forbidden' || error.reason === 'Timeout' ? error.reason : 'Error';
  return { reason, message: error.message };
}

/** `apiServer.extraArgs` in both shapes: a map (v1beta3) or a list of `{name, value}` (v1beta4). */
export function kubeadmExtraArgs(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of objectItems(value))
      if (typeof item.name === 'string') out[item.name] = String(item.value ?? '');
    return out;
  }
  for (const [k, v] of Object.entries(map(value))) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

/** The phase-6 parts of a ClusterConfiguration document (YAML text), or undefined when it does not parse. */
export function parseClusterConfiguration(text: string): KubeadmApiServerConfig | undefined {
  if (text.length > 262_144) return undefined;
  let doc: Json;
  try {
    doc = map(parseYaml(text));
  } catch {
    return undefined;
  }
  const api = map(doc.apiServer);
  const out: KubeadmApiServerConfig = {
    extraArgs: kubeadmExtraArgs(api.extraArgs),
    extraVolumes: objectItems(api.extraVolumes).map((v) => ({
      name: String(v.name ?? ''),
      ...(typeof v.hostPath === 'string' ? { hostPath: v.hostPath } : {}),
      ...(typeof v.mountPath === 'string' ? { mountPath: v.mountPath } : {}),
    })),
  };
  if (typeof doc.apiVersion === 'string') out.apiVersion = doc.apiVersion;
  if (typeof doc.controlPlaneEndpoint === 'string' && doc.controlPlaneEndpoint)
    out.controlPlaneEndpoint = doc.controlPlaneEndpoint;
  return out;
}

/** A kube-apiserver (mirror) pod as an instance. */
export function apiServerInstance(pod: KubeObject): ApiServerInstance {
  const spec = map(pod.spec);
  const c = objectItems(spec.containers)[0] ?? {};
  return {
    name: pod.metadata.name,
    ...(typeof spec.nodeName === 'string' ? { node: spec.nodeName } : {}),
    flags: containerArgs(c) ?? [],
    hostPaths: objectItems(spec.volumes)
      .map((v) => map(v.hostPath).path)
      .filter((p): p is string => typeof p === 'string'),
  };
}

/** A Node's platform hints: its provider ID and the labels that name a platform. */
export function nodeHint(item: KubeObject): NodeHint {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(strMap(item.metadata.labels)))
    if (PLATFORM_LABEL.test(k)) labels[k] = v;
  const providerID = map(item.spec).providerID;
  return {
    name: item.metadata.name,
    ...(typeof providerID === 'string' && providerID ? { providerID } : {}),
    labels,
  };
}

/** At most this many nodes are kept: a few say enough about the platform. */
export const NODE_HINTS = 100;

/**
 * Read the control-plane facts (`nodes` stays empty: build.ts adds the hints of its Node list). Never records
 * unknowns itself: the phase-6 steps say what stays unknown.
 */
export async function collectControlPlaneFacts(
  reader: ClusterReader,
  signal?: AbortSignal,
): Promise<ControlPlaneFacts> {
  const facts: ControlPlaneFacts = { apiServers: [], nodes: [], loadBalancers: [] };
  const sig = signal ? { signal } : {};
  const pods = async () => {
    try {
      for await (const page of reader.list(Kinds.Pod, {
        namespace: 'kube-system',
        labelSelector: 'component=kube-apiserver',
        ...sig,
      })) {
        if (page.restarted && page.index === 1) facts.apiServers.length = 0;
        for (const item of page.items) facts.apiServers.push(apiServerInstance(item));
      }
    } catch (error) {
      if (tolerated(error)) {
        facts.apiServersUnreadable = true;
        facts.apiServersError = factError(error as ClusterError);
      }
    }
  };
  const kubeadm = async () => {
    try {
      const { value } = await reader.get(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'kubeadm-config' },
        signal,
      );
      if (!value) return;
      const text = strMap(value.data).ClusterConfiguration;
      const parsed = text === undefined ? undefined : parseClusterConfiguration(text);
      if (parsed) facts.kubeadm = parsed;
      else facts.kubeadmUnreadable = true;
    } catch (error) {
      if (error instanceof ClusterError && error.reason === 'Unsupported') return;
      if (tolerated(error)) facts.kubeadmUnreadable = true;
    }
  };
  const services = async () => {
    try {
      for await (const page of reader.list(Kinds.Service, { namespace: 'kube-system', ...sig })) {
        if (page.restarted && page.index === 1) facts.loadBalancers.length = 0;
        for (const item of page.items) {
          if (map(item.spec).type !== 'LoadBalancer') continue;
          const addresses = objectItems(map(map(item.status).loadBalancer).ingress).flatMap((i) =>
            [i.ip, i.hostname].filter((a): a is string => typeof a === 'string' && a !== ''),
          );
          facts.loadBalancers.push({
            namespace: item.metadata.namespace ?? 'kube-system',
            name: item.metadata.name,
            addresses,
          });
        }
      }
    } catch (error) {
      if (tolerated(error)) facts.loadBalancersUnreadable = true;
    }
  };
  const metrics = async () => {
    if (!reader.apiServerMetrics) return;
    try {
      facts.secretTransformations = secretTransformations(
        await reader.apiServerMetrics([TRANSFORMATIONS_METRIC], signal),
      );
    } catch (error) {
      // Never fatal: a proxy in front of the API server may serve only /api and /apis (an HTML page, a 404 for
      // /metrics), and what the metrics would add is a note or a finding, never what the rest of the run needs.
      if (!isClusterError(error)) throw error;
      facts.metricsError = factError(error);
    }
  };
  await Promise.all([pods(), kubeadm(), services(), metrics()]);
  facts.apiServers.sort((a, b) => a.name.localeCompare(b.name));
  facts.loadBalancers.sort((a, b) => a.name.localeCompare(b.name));
  return facts;
}
