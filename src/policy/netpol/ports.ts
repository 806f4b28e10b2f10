/**
 * Services → pods and Service ports → pod ports. NetworkPolicy sees traffic after the Service's DNAT (the pod IP
 * and the container port): "Layer 4 policies apply to ports after service port mapping has been applied" (cilium
 * `Documentation/security/policy/language.rst`), so every allow names the pod port, never the Service port.
 */
import { matchesSelector } from '../network.js';
import type { LabelSelector, Labels, PodGroup, Protocol, ServiceLite } from './types.js';

export interface PodPort {
  protocol: Protocol;
  port: number;
}

export const protocolOf = (p: string | undefined): Protocol => (p === 'UDP' || p === 'SCTP' ? p : 'TCP');

/** Pod groups a Service selects (`core/v1` ServiceSpec.selector: equality on every key, same namespace). */
export function selectedBy(service: ServiceLite, pods: readonly PodGroup[]): PodGroup[] {
  const selector = service.selector ?? {};
  if (Object.keys(selector).length === 0) return [];
  return pods.filter(
    (p) => p.namespace === service.namespace && matchesSelector({ matchLabels: selector }, p.labels),
  );
}

export type PortResolution = { ok: true; ports: PodPort[] } | { ok: false; reason: string };

/**
 * A Service port's pod ports (`core/v1` ServicePort.targetPort): a number is the pod port; absent, it defaults to
 * `port` (`SetDefaults_Service`); a name is looked up in each selected pod's containers' ports of the same
 * protocol ("the named port in the target Pod's container ports", type comment), so it may differ per pod.
 */
export function targetPorts(
  service: ServiceLite,
  servicePort: ServiceLite['ports'][number],
  pods: readonly PodGroup[],
): PortResolution {
  const protocol = protocolOf(servicePort.protocol);
  const target = servicePort.targetPort;
  if (target === undefined || target === 0 || target === '')
    return { ok: true, ports: [{ protocol, port: servicePort.port }] };
  if (typeof target === 'number') return { ok: true, ports: [{ protocol, port: target }] };
  if (/^\d+$/.test(target)) return { ok: true, ports: [{ protocol, port: Number(target) }] };
  const found = new Set<number>();
  for (const pod of selectedBy(service, pods))
    for (const c of pod.containers)
      for (const p of c.ports ?? [])
        if (p.name === target && protocolOf(p.protocol) === protocol) found.add(p.containerPort);
  if (found.size === 0)
    return {
      ok: false,
      reason: `Service ${service.namespace}/${service.name} port ${servicePort.port}/${protocol} targets the named port "${target}", which no selected pod declares`,
    };
  return { ok: true, ports: [...found].sort((a, b) => a - b).map((port) => ({ protocol, port })) };
}

/** The Service port an Ingress/HTTPRoute/webhook names: by number, or by name (`ServiceBackendPort`). */
export function findServicePort(
  service: ServiceLite,
  port: number | string | undefined,
): ServiceLite['ports'][number] | undefined {
  if (port === undefined) return service.ports.length === 1 ? service.ports[0] : undefined;
  return service.ports.find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
}

/** Pod ports of every port of a Service, with the reasons of those that could not be resolved. */
export function allTargetPorts(
  service: ServiceLite,
  pods: readonly PodGroup[],
): { ports: PodPort[]; unresolved: string[] } {
  const ports: PodPort[] = [];
  const unresolved: string[] = [];
  for (const sp of service.ports) {
    const r = targetPorts(service, sp, pods);
    if (r.ok) ports.push(...r.ports);
    else unresolved.push(r.reason);
  }
  return { ports: uniquePorts(ports), unresolved };
}

export function uniquePorts(ports: readonly PodPort[]): PodPort[] {
  const seen = new Map<string, PodPort>();
  for (const p of ports) seen.set(`${p.protocol}/${p.port}`, p);
  return [...seen.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

export const describePorts = (ports: readonly PodPort[]): string =>
  ports.map((p) => `${p.protocol} ${p.port}`).join(', ');

/** Labels that change with every release and must not be part of a peer selector. */
const VOLATILE = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'helm.sh/chart',
  'chart',
  'app.kubernetes.io/version',
  'version',
  'heritage',
]);

/**
 * How to select a workload's pods as a peer or a policy's podSelector: its `spec.selector` when known (what the
 * controller itself uses), else its template labels without release-specific ones.
 */
export function workloadSelector(pod: PodGroup): LabelSelector {
  if (
    pod.selector &&
    (Object.keys(pod.selector.matchLabels ?? {}).length > 0 ||
      (pod.selector.matchExpressions ?? []).length > 0)
  )
    return pod.selector;
  const labels: Labels = {};
  for (const [k, v] of Object.entries(pod.labels)) if (!VOLATILE.has(k)) labels[k] = v;
  return { matchLabels: labels };
}

export const workloadName = (pod: PodGroup) => `${pod.namespace}/${pod.workload.kind} ${pod.workload.name}`;
