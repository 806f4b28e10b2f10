/**
 * Traffic into the namespace from ingress controllers and from outside the cluster.
 *
 * - Ingress (`networking/v1` Ingress): its class is `spec.ingressClassName`, else the deprecated annotation
 *   `kubernetes.io/ingress.class`, else the IngressClass annotated `ingressclass.kubernetes.io/is-default-class`
 *   (docs `concepts/services-networking/ingress.md`). The class names a controller (`spec.controller`); the
 *   controller's proxy pods are found by the flag that ties them to it (`--controller-class`, `--ingress-class`),
 *   else by their image. Each backend (`service.name` + `port.number|name`) becomes the Service's pod ports.
 * - HTTPRoute (Gateway API): parentRefs → Gateway → its data-plane pods, labelled
 *   `gateway.networking.k8s.io/gateway-name` (GEP-1762 in-cluster deployments) or Envoy Gateway's
 *   `gateway.envoyproxy.io/owning-gateway-name`; backendRefs (Service, `port` required) → pod ports.
 * - Controllers whose proxy is outside the cluster (cloud load balancers), or whose pods cannot be found: the
 *   allow is from anywhere on the backend's pod ports, and the plan says why.
 * - Services of type LoadBalancer or NodePort receive traffic from outside the cluster (the node or the load
 *   balancer forwards it to the pod port): allow from anywhere on their pod ports.
 */
import { flagValue, imageRepo } from './cni.js';
import type { Edge, Endpoint, Finding } from './edges.js';
import {
  allTargetPorts,
  describePorts,
  findServicePort,
  targetPorts,
  workloadName,
  workloadSelector,
} from './ports.js';
import { policyName } from './shapes.js';
import type { NetpolInput, PodGroup, ServiceLite } from './types.js';

interface KnownController {
  controller: string;
  /** Image repositories (registry stripped) of the pods that proxy the traffic. */
  images: string[];
  /** The proxy is a cloud load balancer outside the cluster. */
  external?: boolean;
}

const KNOWN: KnownController[] = [
  {
    controller: 'k8s.io/ingress-nginx',
    images: ['ingress-nginx/controller', 'ingress-nginx/controller-chroot'],
  },
  { controller: 'nginx.org/ingress-controller', images: ['nginx/nginx-ingress', 'nginx/nginx-plus-ingress'] },
  { controller: 'traefik.io/ingress-controller', images: ['traefik', 'library/traefik'] },
  { controller: 'haproxy.org/ingress-controller/haproxy', images: ['haproxytech/kubernetes-ingress'] },
  {
    controller: 'ingress-controllers.konghq.com/kong',
    images: ['kong', 'library/kong', 'kong/kong-gateway'],
  },
  { controller: 'projectcontour.io/ingress-controller', images: ['envoyproxy/envoy'] },
  { controller: 'k8s.io/ingress-gce', images: [], external: true },
  { controller: 'ingress.k8s.aws/alb', images: [], external: true },
  { controller: 'azure/application-gateway', images: [], external: true },
];

const repoMatches = (image: string | undefined, repos: readonly string[]) => {
  const repo = imageRepo(image);
  return repos.some((r) => repo === r || repo.endsWith(`/${r}`));
};

/** The pods that proxy an IngressClass's traffic. */
function controllerPods(
  controller: string,
  className: string,
  pods: readonly PodGroup[],
): { pods: PodGroup[]; external: boolean } {
  const known = KNOWN.find((k) => k.controller === controller);
  if (known?.external) return { pods: [], external: true };
  const flag = (p: PodGroup, name: string) =>
    p.containers.map((c) => flagValue(c.args, name)).find((v) => v !== undefined);
  const byClass = pods.filter((p) => flag(p, 'controller-class') === controller);
  if (byClass.length > 0) return { pods: byClass, external: false };
  const byName = pods.filter(
    (p) => flag(p, 'ingress-class') === className && flag(p, 'controller-class') === undefined,
  );
  if (byName.length > 0) return { pods: byName, external: false };
  const byImage = pods.filter(
    (p) =>
      known !== undefined &&
      flag(p, 'controller-class') === undefined &&
      p.containers.some((c) => repoMatches(c.image, known.images)),
  );
  return { pods: byImage, external: false };
}

function ingressClassOf(
  ing: NonNullable<NetpolInput['ingresses']>[number],
  classes: NonNullable<NetpolInput['ingressClasses']>,
): string | undefined {
  return (
    ing.ingressClassName ??
    ing.annotations?.['kubernetes.io/ingress.class'] ??
    [...classes].sort((a, b) => a.name.localeCompare(b.name)).find((c) => c.isDefault)?.name
  );
}

const podsEndpoint = (p: PodGroup): Endpoint => ({
  kind: 'pods',
  namespace: p.namespace,
  selector: workloadSelector(p),
  label: workloadName(p),
});

function serviceEndpoint(s: ServiceLite): Endpoint {
  return {
    kind: 'pods',
    namespace: s.namespace,
    selector: { matchLabels: { ...(s.selector ?? {}) } },
    label: `pods of Service ${s.namespace}/${s.name}`,
  };
}

/** Edges from a set of proxies (or anywhere) to one backend Service port. */
function backendEdges(
  input: NetpolInput,
  namespace: string,
  serviceName: string,
  port: number | string | undefined,
  proxies: PodGroup[] | 'anywhere',
  via: string,
  findings: Finding[],
): Edge[] {
  const service = input.services.find((s) => s.namespace === namespace && s.name === serviceName);
  if (!service) {
    findings.push({
      namespace,
      message: `${via}: backend Service ${namespace}/${serviceName} not found; nothing to allow`,
    });
    return [];
  }
  if (Object.keys(service.selector ?? {}).length === 0) {
    findings.push({
      namespace,
      message: `${via}: backend Service ${namespace}/${serviceName} has no selector; its endpoints are not pods kube-harden can select`,
    });
    return [];
  }
  const sp = findServicePort(service, port);
  if (!sp) {
    findings.push({
      namespace,
      message: `${via}: Service ${namespace}/${serviceName} has no port ${port ?? '(unnamed)'}`,
    });
    return [];
  }
  const r = targetPorts(service, sp, input.pods);
  if (!r.ok) {
    findings.push({ namespace, message: `${via}: ${r.reason}` });
    return [];
  }
  const to = serviceEndpoint(service);
  const ingress = {
    purpose: 'ingress' as const,
    name: policyName('allow-ingress', serviceName),
    title: `Lets ingress traffic reach Service ${namespace}/${serviceName}`,
  };
  if (proxies === 'anywhere')
    return [
      {
        from: { kind: 'any', label: 'anywhere' },
        to,
        ports: r.ports,
        ingress,
        reason: `${via} → ${serviceName} on ${describePorts(r.ports)} from anywhere`,
      },
    ];
  return proxies.map((p) => ({
    from: podsEndpoint(p),
    to,
    ports: r.ports,
    ingress,
    egress: {
      purpose: 'ingress-egress' as const,
      name: policyName('allow-ingress-backends', p.workload.name),
      title: `Lets the ingress proxy ${workloadName(p)} reach its backends`,
    },
    reason: `${via} → ${namespace}/${serviceName} on ${describePorts(r.ports)} from ${workloadName(p)}`,
  }));
}

export function ingressEdges(
  input: NetpolInput,
  scope: ReadonlySet<string>,
): { edges: Edge[]; findings: Finding[] } {
  const edges: Edge[] = [];
  const findings: Finding[] = [];
  const classes = input.ingressClasses ?? [];
  const ingresses = [...(input.ingresses ?? [])].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  for (const ing of ingresses) {
    // Edges matter where either end is default-denied: the backend's namespace or the proxies'.
    const className = ingressClassOf(ing, classes);
    const cls = classes.find((c) => c.name === className);
    const via = `Ingress ${ing.namespace}/${ing.name}`;
    let proxies: PodGroup[] | 'anywhere';
    if (!cls) {
      proxies = 'anywhere';
      if (scope.has(ing.namespace))
        findings.push({
          namespace: ing.namespace,
          message: `${via}: IngressClass ${className ?? '(none, and no default)'} not found; its backends are allowed from anywhere`,
        });
    } else {
      const found = controllerPods(cls.controller, cls.name, input.pods);
      if (found.external) proxies = 'anywhere';
      else if (found.pods.length === 0) {
        proxies = 'anywhere';
        if (scope.has(ing.namespace))
          findings.push({
            namespace: ing.namespace,
            message: `${via}: no pods found for controller ${cls.controller} (IngressClass ${cls.name}); its backends are allowed from anywhere`,
          });
      } else if (found.pods.some((p) => p.hostNetwork)) {
        // A hostNetwork pod's traffic comes from its node's address: no pod selector matches it (docs
        // "NetworkPolicy and hostNetwork pods").
        proxies = 'anywhere';
        if (scope.has(ing.namespace))
          findings.push({
            namespace: ing.namespace,
            message: `${via}: the controller's pods use hostNetwork; its backends are allowed from anywhere`,
          });
      } else proxies = found.pods;
    }
    const detail = cls ? `${via} (IngressClass ${cls.name}, ${cls.controller})` : via;
    const seen = new Set<string>();
    for (const b of ing.backends) {
      const k = `${b.service}:${b.port}`;
      if (seen.has(k)) continue;
      seen.add(k);
      edges.push(...backendEdges(input, ing.namespace, b.service, b.port, proxies, detail, findings));
    }
  }
  edges.push(...routeEdges(input, scope, findings));
  edges.push(...externalServiceEdges(input, scope));
  return { edges, findings };
}

function gatewayPods(input: NetpolInput, ns: string, name: string): PodGroup[] {
  return input.pods.filter(
    (p) =>
      (p.namespace === ns && p.labels['gateway.networking.k8s.io/gateway-name'] === name) ||
      (p.labels['gateway.envoyproxy.io/owning-gateway-name'] === name &&
        p.labels['gateway.envoyproxy.io/owning-gateway-namespace'] === ns),
  );
}

function routeEdges(input: NetpolInput, scope: ReadonlySet<string>, findings: Finding[]): Edge[] {
  const edges: Edge[] = [];
  const routes = [...(input.httpRoutes ?? [])].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  for (const route of routes) {
    const via = `HTTPRoute ${route.namespace}/${route.name}`;
    let proxies: PodGroup[] = [];
    let anywhere = false;
    for (const parent of route.parentRefs) {
      const gwNs = parent.namespace ?? route.namespace;
      const gw = (input.gateways ?? []).find((g) => g.namespace === gwNs && g.name === parent.name);
      const pods = gatewayPods(input, gwNs, parent.name);
      if (pods.length > 0) proxies.push(...pods);
      else {
        anywhere = true;
        const gc = gw && (input.gatewayClasses ?? []).find((c) => c.name === gw.gatewayClassName);
        if (scope.has(route.namespace))
          findings.push({
            namespace: route.namespace,
            message: `${via}: no data-plane pods found for Gateway ${gwNs}/${parent.name}${gc ? ` (${gc.controllerName})` : ''}; its backends are allowed from anywhere`,
          });
      }
    }
    proxies = [...new Set(proxies)];
    for (const b of route.backendRefs) {
      const ns = b.namespace ?? route.namespace;
      if (anywhere) edges.push(...backendEdges(input, ns, b.name, b.port, 'anywhere', via, findings));
      if (proxies.length > 0) edges.push(...backendEdges(input, ns, b.name, b.port, proxies, via, findings));
    }
  }
  return edges;
}

function externalServiceEdges(input: NetpolInput, scope: ReadonlySet<string>): Edge[] {
  const edges: Edge[] = [];
  const services = input.services
    .filter((s) => scope.has(s.namespace) && (s.type === 'LoadBalancer' || s.type === 'NodePort'))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  for (const s of services) {
    if (Object.keys(s.selector ?? {}).length === 0) continue;
    const { ports } = allTargetPorts(s, input.pods);
    if (ports.length === 0) continue;
    edges.push({
      from: { kind: 'any', label: 'outside the cluster' },
      to: serviceEndpoint(s),
      ports,
      ingress: {
        purpose: 'external',
        name: policyName('allow-external', s.name),
        title: `Keeps ${s.type} Service ${s.namespace}/${s.name} reachable from outside the cluster`,
      },
      reason: `${s.type} Service ${s.namespace}/${s.name} on ${describePorts(ports)}`,
    });
  }
  return edges;
}
