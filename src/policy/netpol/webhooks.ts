/**
 * Admission webhooks and aggregated APIs served from a namespace (reference phases-3-6 §2, failure-modes F5/F7).
 * The API server calls `clientConfig.service` (`admissionregistration/v1` ServiceReference: `port` defaults to
 * 443) or an APIService's `spec.service` (`apiregistration/v1`, same default) through the Service, so the pods
 * must accept ingress on the Service's target port. The caller is the control plane: a node address on
 * self-managed clusters, a konnectivity agent pod on GKE/AKS, ENIs on EKS — there is no portable peer, so the
 * allow is from anywhere on that pod port only. A webhook that cannot be resolved to pods and a port refuses the
 * ingress deny of its namespace: a broken webhook stalls every admission it handles, cluster-wide.
 */
import type { Edge, Finding } from './edges.js';
import { describePorts, findServicePort, selectedBy, targetPorts } from './ports.js';
import { policyName } from './shapes.js';
import type { NetpolInput } from './types.js';

export function webhookEdges(
  input: NetpolInput,
  scope: ReadonlySet<string>,
): { edges: Edge[]; findings: Finding[] } {
  const edges: Edge[] = [];
  const findings: Finding[] = [];
  const hooks = [...(input.webhooks ?? [])]
    .filter((w) => scope.has(w.service.namespace))
    .sort(
      (a, b) =>
        a.service.namespace.localeCompare(b.service.namespace) ||
        a.service.name.localeCompare(b.service.name) ||
        a.kind.localeCompare(b.kind) ||
        a.configuration.localeCompare(b.configuration) ||
        a.webhook.localeCompare(b.webhook),
    );
  for (const w of hooks) {
    const { namespace, name } = w.service;
    const port = w.service.port ?? 443;
    const via = `${w.kind} ${w.configuration}${w.webhook ? ` (webhook ${w.webhook})` : ''}`;
    const refuse = (why: string) =>
      findings.push({
        namespace,
        refuse: 'ingress',
        message: `${via} calls Service ${namespace}/${name}:${port}, but ${why}; denying ingress here could block admission cluster-wide`,
      });
    const service = input.services.find((s) => s.namespace === namespace && s.name === name);
    if (!service) {
      refuse('that Service was not found');
      continue;
    }
    if (Object.keys(service.selector ?? {}).length === 0) {
      refuse('that Service has no selector');
      continue;
    }
    const sp = findServicePort(service, port);
    if (!sp) {
      refuse(`that Service has no port ${port}`);
      continue;
    }
    const r = targetPorts(service, sp, input.pods);
    if (!r.ok) {
      refuse(r.reason);
      continue;
    }
    if (selectedBy(service, input.pods).length === 0)
      findings.push({
        namespace,
        message: `${via}: no pods of Service ${namespace}/${name} were seen; allowing by its selector`,
      });
    edges.push({
      from: { kind: 'any', label: 'the API server (any address)' },
      to: {
        kind: 'pods',
        namespace,
        selector: { matchLabels: { ...(service.selector ?? {}) } },
        label: `pods of Service ${namespace}/${name}`,
      },
      ports: r.ports,
      ingress: {
        purpose: 'webhook',
        name: policyName('allow-webhook', name),
        title: `Keeps the API server able to call Service ${namespace}/${name}`,
      },
      reason: `${via} → port ${port} = pod ${describePorts(r.ports)}${w.service.port === undefined ? ' (port defaults to 443)' : ''}`,
    });
  }
  return { edges, findings };
}
