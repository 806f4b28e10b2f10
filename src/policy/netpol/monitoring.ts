/**
 * Prometheus Operator scraping (`monitoring.coreos.com/v1`, `pkg/apis/monitoring/v1/prometheus_types.go`): a
 * Prometheus picks ServiceMonitors/PodMonitors by `serviceMonitorSelector`/`podMonitorSelector` ("An empty label
 * selector matches all objects. A null label selector matches no objects") in the namespaces of
 * `…NamespaceSelector` ("An empty label selector matches all namespaces. A null label selector (default value)
 * matches the current namespace only"). A monitor's `namespaceSelector` (`any`, `matchNames`, else its own
 * namespace) says where its targets are; a ServiceMonitor endpoint's `port` is a Service port name (→ its target
 * port), `targetPort` a pod port; a PodMonitor endpoint's `port` is a container port name, `portNumber` a number.
 * The scrape goes straight to the pod IP, so the allow is on the pod port, from the Prometheus pods.
 */
import { matchesSelector } from '../network.js';
import { imageRepo } from './cni.js';
import type { Edge, Endpoint, Finding } from './edges.js';
import {
  describePorts,
  type PodPort,
  selectedBy,
  targetPorts,
  uniquePorts,
  workloadName,
  workloadSelector,
} from './ports.js';
import { policyName } from './shapes.js';
import type {
  LabelSelector,
  MonitorNamespaceSelector,
  NetpolInput,
  PodGroup,
  PrometheusLite,
  ServiceLite,
} from './types.js';

function namespaceLabels(input: NetpolInput, ns: string): Record<string, string> {
  return {
    ...(input.namespaces.find((n) => n.name === ns)?.labels ?? {}),
    'kubernetes.io/metadata.name': ns,
  };
}

/** A Prometheus's own pods (the operator's StatefulSet `prometheus-<name>`, labelled `prometheus: <name>`). */
function prometheusPods(input: NetpolInput, p: PrometheusLite): PodGroup[] {
  return input.pods.filter(
    (g) =>
      g.namespace === p.namespace &&
      ((g.workload.kind === 'StatefulSet' && g.workload.name === `prometheus-${p.name}`) ||
        g.labels['operator.prometheus.io/name'] === p.name),
  );
}

function selects(
  input: NetpolInput,
  p: PrometheusLite,
  selector: LabelSelector | null | undefined,
  nsSelector: LabelSelector | null | undefined,
  monitor: { namespace: string; labels: Record<string, string> },
): boolean {
  if (selector === null || selector === undefined) return false;
  const nsOk =
    nsSelector === null || nsSelector === undefined
      ? monitor.namespace === p.namespace
      : matchesSelector(nsSelector, namespaceLabels(input, monitor.namespace));
  return nsOk && matchesSelector(selector, monitor.labels);
}

function targetNamespaces(sel: MonitorNamespaceSelector | undefined, own: string, all: string[]): string[] {
  if (sel?.any) return all;
  if (sel?.matchNames && sel.matchNames.length > 0) return sel.matchNames;
  return [own];
}

function serviceMonitorPorts(
  s: ServiceLite,
  endpoints: Array<{ port?: string; targetPort?: number | string }>,
  pods: readonly PodGroup[],
): { ports: PodPort[]; unresolved: string[] } {
  const ports: PodPort[] = [];
  const unresolved: string[] = [];
  for (const e of endpoints) {
    if (e.port !== undefined) {
      const sp = s.ports.find((p) => p.name === e.port);
      if (!sp) continue; // the operator skips a Service without that port name
      const r = targetPorts(s, sp, pods);
      if (r.ok) ports.push(...r.ports);
      else unresolved.push(r.reason);
    } else if (typeof e.targetPort === 'number') ports.push({ protocol: 'TCP', port: e.targetPort });
    else if (typeof e.targetPort === 'string') {
      const found = containerPorts(selectedBy(s, pods), e.targetPort);
      if (found.length > 0) ports.push(...found);
      else
        unresolved.push(`Service ${s.namespace}/${s.name}: no selected pod declares port "${e.targetPort}"`);
    }
  }
  return { ports: uniquePorts(ports), unresolved };
}

function containerPorts(pods: readonly PodGroup[], name: string): PodPort[] {
  const out: PodPort[] = [];
  for (const p of pods)
    for (const c of p.containers)
      for (const cp of c.ports ?? [])
        if (cp.name === name && (cp.protocol ?? 'TCP') === 'TCP')
          out.push({ protocol: 'TCP', port: cp.containerPort });
  return uniquePorts(out);
}

export function monitoringEdges(
  input: NetpolInput,
  scope: ReadonlySet<string>,
): { edges: Edge[]; findings: Finding[] } {
  const edges: Edge[] = [];
  const findings: Finding[] = [];
  const allNs = input.namespaces.map((n) => n.name).sort();
  const proms = [...(input.prometheuses ?? [])].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  for (const prom of proms) {
    const pods = prometheusPods(input, prom);
    const promRef = `Prometheus ${prom.namespace}/${prom.name}`;
    const sources: Endpoint[] =
      pods.length > 0
        ? pods.map((g) => ({
            kind: 'pods',
            namespace: g.namespace,
            selector: workloadSelector(g),
            label: workloadName(g),
          }))
        : [
            {
              kind: 'pods',
              namespace: prom.namespace,
              selector: { matchLabels: { prometheus: prom.name } },
              label: `${promRef} pods (prometheus=${prom.name})`,
            },
          ];
    const egress = {
      purpose: 'monitoring-egress' as const,
      name: policyName('allow-monitoring-targets', prom.name),
      title: `Lets ${promRef} scrape its targets`,
    };
    const push = (to: Endpoint, ports: PodPort[], ingressName: string, what: string) => {
      for (const from of sources)
        edges.push({
          from,
          to,
          ports,
          ingress: { purpose: 'monitoring', name: ingressName, title: `Lets Prometheus scrape ${to.label}` },
          egress,
          reason: `${what} scraped by ${promRef} on ${describePorts(ports)}`,
        });
    };
    const sms = [...(input.serviceMonitors ?? [])]
      .filter((m) =>
        selects(input, prom, prom.serviceMonitorSelector, prom.serviceMonitorNamespaceSelector, m),
      )
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    for (const sm of sms) {
      for (const ns of targetNamespaces(sm.namespaceSelector, sm.namespace, allNs)) {
        if (!scope.has(ns) && !scope.has(prom.namespace)) continue;
        const services = input.services
          .filter((s) => s.namespace === ns && matchesSelector(sm.selector, s.labels ?? {}))
          .sort((a, b) => a.name.localeCompare(b.name));
        for (const s of services) {
          if (Object.keys(s.selector ?? {}).length === 0) continue;
          const { ports, unresolved } = serviceMonitorPorts(s, sm.endpoints, input.pods);
          for (const u of unresolved)
            findings.push({ namespace: ns, message: `ServiceMonitor ${sm.namespace}/${sm.name}: ${u}` });
          if (ports.length === 0) continue;
          push(
            {
              kind: 'pods',
              namespace: ns,
              selector: { matchLabels: { ...(s.selector ?? {}) } },
              label: `pods of Service ${ns}/${s.name}`,
            },
            ports,
            policyName('allow-monitoring', s.name),
            `Service ${ns}/${s.name} (ServiceMonitor ${sm.namespace}/${sm.name})`,
          );
        }
      }
    }
    const pms = [...(input.podMonitors ?? [])]
      .filter((m) => selects(input, prom, prom.podMonitorSelector, prom.podMonitorNamespaceSelector, m))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    for (const pm of pms) {
      for (const ns of targetNamespaces(pm.namespaceSelector, pm.namespace, allNs)) {
        if (!scope.has(ns) && !scope.has(prom.namespace)) continue;
        const targets = input.pods.filter(
          (g) => g.namespace === ns && matchesSelector(pm.selector, g.labels),
        );
        if (targets.length === 0) continue;
        const ports: PodPort[] = [];
        for (const e of pm.podMetricsEndpoints) {
          if (e.portNumber !== undefined) ports.push({ protocol: 'TCP', port: e.portNumber });
          else if (e.port !== undefined) ports.push(...containerPorts(targets, e.port));
          else if (typeof e.targetPort === 'number') ports.push({ protocol: 'TCP', port: e.targetPort });
          else if (typeof e.targetPort === 'string') ports.push(...containerPorts(targets, e.targetPort));
        }
        if (ports.length === 0) {
          findings.push({
            namespace: ns,
            message: `PodMonitor ${pm.namespace}/${pm.name}: no port of its pods could be resolved`,
          });
          continue;
        }
        push(
          {
            kind: 'pods',
            namespace: ns,
            selector: pm.selector,
            label: `pods of PodMonitor ${pm.namespace}/${pm.name}`,
          },
          uniquePorts(ports),
          policyName('allow-monitoring-pods', pm.name),
          `pods of PodMonitor ${pm.namespace}/${pm.name} in ${ns}`,
        );
      }
    }
  }
  edges.push(...annotationEdges(input, scope));
  return { edges, findings };
}

/** Prometheus servers not run by the operator: pods running the `prometheus/prometheus` image. */
function prometheusServers(input: NetpolInput): PodGroup[] {
  return input.pods.filter(
    (g) =>
      !g.hostNetwork && g.containers.some((c) => /(^|\/)prometheus\/prometheus$/.test(imageRepo(c.image))),
  );
}

/**
 * The `prometheus.io/scrape` convention (the `kubernetes-pods` and `kubernetes-service-endpoints` jobs of the
 * Prometheus community chart's default configuration, `prometheus-community/helm-charts`
 * `charts/prometheus/values.yaml`): a pod or Service annotated `prometheus.io/scrape: "true"` is scraped on
 * `prometheus.io/port`, else on each declared container port (pods) or each Service target port (Services).
 */
function annotationEdges(input: NetpolInput, scope: ReadonlySet<string>): Edge[] {
  const servers = prometheusServers(input);
  if (servers.length === 0) return [];
  const edges: Edge[] = [];
  const add = (namespace: string, to: Endpoint, ports: PodPort[], name: string, what: string) => {
    for (const server of servers)
      edges.push({
        from: {
          kind: 'pods',
          namespace: server.namespace,
          selector: workloadSelector(server),
          label: workloadName(server),
        },
        to,
        ports,
        ingress: { purpose: 'monitoring', name, title: `Lets Prometheus scrape ${to.label}` },
        egress: {
          purpose: 'monitoring-egress',
          name: policyName('allow-monitoring-targets', server.workload.name),
          title: `Lets ${workloadName(server)} scrape its targets`,
        },
        reason: `${what} (prometheus.io/scrape) scraped by ${workloadName(server)} on ${describePorts(ports)} in ${namespace}`,
      });
  };
  const serverNs = new Set(servers.map((s) => s.namespace));
  const relevant = (ns: string) => scope.has(ns) || [...serverNs].some((s) => scope.has(s));
  const annotatedPort = (a: Record<string, string> | undefined) => {
    const v = a?.['prometheus.io/port'];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  for (const g of [...input.pods].sort((a, b) => workloadName(a).localeCompare(workloadName(b)))) {
    if (g.annotations?.['prometheus.io/scrape'] !== 'true' || !relevant(g.namespace) || g.hostNetwork)
      continue;
    const port = annotatedPort(g.annotations);
    const ports: PodPort[] =
      port !== undefined
        ? [{ protocol: 'TCP', port }]
        : uniquePorts(
            g.containers.flatMap((c) =>
              (c.ports ?? [])
                .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
                .map((p) => ({ protocol: 'TCP' as const, port: p.containerPort })),
            ),
          );
    if (ports.length === 0) continue;
    add(
      g.namespace,
      { kind: 'pods', namespace: g.namespace, selector: workloadSelector(g), label: workloadName(g) },
      ports,
      policyName('allow-monitoring', g.workload.kind, g.workload.name),
      workloadName(g),
    );
  }
  for (const s of [...input.services].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  )) {
    const annotations = s.annotations;
    if (annotations?.['prometheus.io/scrape'] !== 'true' || !relevant(s.namespace)) continue;
    if (Object.keys(s.selector ?? {}).length === 0) continue;
    // The annotation replaces the port of each endpoint address: it is the pod port. Without it, every target
    // port is scraped.
    const port = annotatedPort(annotations);
    const ports: PodPort[] = [];
    if (port !== undefined) ports.push({ protocol: 'TCP', port });
    else
      for (const sp of s.ports) {
        const r = targetPorts(s, sp, input.pods);
        if (r.ok) ports.push(...r.ports.filter((p) => p.protocol === 'TCP'));
      }
    if (ports.length === 0) continue;
    add(
      s.namespace,
      {
        kind: 'pods',
        namespace: s.namespace,
        selector: { matchLabels: { ...(s.selector ?? {}) } },
        label: `pods of Service ${s.namespace}/${s.name}`,
      },
      uniquePorts(ports),
      policyName('allow-monitoring', s.name),
      `Service ${s.namespace}/${s.name}`,
    );
  }
  return edges;
}
