/**
 * Where cluster DNS really is, as an egress allow must name it (reference phases-3-6 §2, k8s-semantics §3):
 * - the Service: `kube-system/kube-dns` (kubeadm `cmd/kubeadm/app/phases/addons/dns/manifests.go`; EKS, GKE, AKS,
 *   k3s keep the name), or the Service whose ClusterIP is the kubelet's `clusterDNS` when that differs
 *   (OpenShift `openshift-dns/dns-default`);
 * - the pods: its selector, in its namespace;
 * - the ports: the pod ports behind the Service's port 53 (NetworkPolicy sees traffic after DNAT), resolved by
 *   number or by the DNS containers' named ports — OpenShift's Service on 53 targets `dns` = 5353;
 * - NodeLocal DNSCache (`cluster/addons/dns/nodelocaldns/nodelocaldns.yaml`): a hostNetwork DaemonSet that answers
 *   on the `-localip` addresses (169.254.20.10, and in kube-proxy iptables mode the kube-dns ClusterIP, without
 *   DNAT), so it needs `ipBlock` allows on 53.
 */

import type { DnsTarget } from '../network.js';
import { flagValue, imageRepo } from './cni.js';
import { describePorts, type PodPort, protocolOf, selectedBy, targetPorts, uniquePorts } from './ports.js';
import type { DaemonSetLite, Labels, PodGroup, ServiceLite } from './types.js';

export interface NodeLocalDns {
  addresses: string[];
  ports: PodPort[];
  evidence: string;
}

export type DnsResolution =
  | {
      ok: true;
      service: { namespace: string; name: string };
      /** The Service's selector: the DNS pods' labels. */
      selector: Labels;
      /** Pod ports, UDP and TCP. */
      ports: PodPort[];
      nodeLocal?: NodeLocalDns;
      evidence: string[];
      notes: string[];
    }
  | { ok: false; reason: string; nodeLocal?: NodeLocalDns };

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIp = (s: string) => IPV4.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
const isLinkLocal = (ip: string) => ip.startsWith('169.254.') || ip.toLowerCase().startsWith('fe80:');

/** NodeLocal DNSCache from its DaemonSet's `-localip` flag, or a link-local kubelet `clusterDNS`. */
export function nodeLocalDns(
  daemonSets: readonly DaemonSetLite[],
  clusterDnsIPs: readonly string[] = [],
): NodeLocalDns | undefined {
  const ports: PodPort[] = [
    { protocol: 'TCP', port: 53 },
    { protocol: 'UDP', port: 53 },
  ];
  for (const ds of [...daemonSets].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  )) {
    const cache = ds.containers.find(
      (c) => c.name === 'node-cache' || imageRepo(c.image).endsWith('dns/k8s-dns-node-cache'),
    );
    if (!cache) continue;
    const local = flagValue(cache.args, 'localip');
    const addresses = (local ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(isIp);
    for (const ip of clusterDnsIPs) if (isLinkLocal(ip) && !addresses.includes(ip)) addresses.push(ip);
    if (addresses.length === 0) continue;
    return {
      addresses: addresses.sort(),
      ports,
      evidence: `${ds.namespace}/DaemonSet ${ds.name} listens on ${addresses.join(', ')} (-localip)`,
    };
  }
  const linkLocal = clusterDnsIPs.filter(isLinkLocal);
  if (linkLocal.length > 0)
    return {
      addresses: [...linkLocal].sort(),
      ports,
      evidence: `the kubelet's clusterDNS is link-local (${linkLocal.join(', ')}): NodeLocal DNSCache`,
    };
  return undefined;
}

export function resolveDns(input: {
  services: readonly ServiceLite[];
  pods: readonly PodGroup[];
  daemonSets: readonly DaemonSetLite[];
  clusterDnsIPs?: readonly string[];
}): DnsResolution {
  const clusterDns = input.clusterDnsIPs ?? [];
  const nodeLocal = nodeLocalDns(input.daemonSets, clusterDns);
  const evidence: string[] = [];
  const notes: string[] = [];
  const kubeDns = input.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
  let service = kubeDns;
  const pointed = clusterDns.filter((ip) => !isLinkLocal(ip));
  if (pointed.length > 0) {
    const byIp = input.services.find((s) => (s.clusterIPs ?? []).some((ip) => pointed.includes(ip)));
    if (byIp && byIp !== kubeDns) {
      service = byIp;
      evidence.push(
        `the kubelet's clusterDNS ${pointed.join(', ')} is the ClusterIP of Service ${byIp.namespace}/${byIp.name}`,
      );
    } else if (!byIp && kubeDns)
      notes.push(
        `no Service has the kubelet's clusterDNS address ${pointed.join(', ')}; using kube-system/kube-dns`,
      );
  }
  if (!service)
    return {
      ok: false,
      reason:
        'no cluster DNS Service found (kube-system/kube-dns does not exist and no Service has the kubelet clusterDNS address)',
      ...(nodeLocal ? { nodeLocal } : {}),
    };
  const ref = `${service.namespace}/${service.name}`;
  const selector = service.selector ?? {};
  if (Object.keys(selector).length === 0)
    return {
      ok: false,
      reason: `the DNS Service ${ref} has no selector: its pods (and so their ports) cannot be known`,
      ...(nodeLocal ? { nodeLocal } : {}),
    };
  evidence.push(
    `DNS Service ${ref} selects ${Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  // Clients send queries to the Service on 53 (resolv.conf has no port); other ports (metrics 9153) are not DNS.
  const dnsPorts = service.ports.filter(
    (p) => p.port === 53 && ['UDP', 'TCP'].includes(protocolOf(p.protocol)),
  );
  if (dnsPorts.length === 0)
    return {
      ok: false,
      reason: `the DNS Service ${ref} has no port 53`,
      ...(nodeLocal ? { nodeLocal } : {}),
    };
  const ports: PodPort[] = [];
  for (const sp of dnsPorts) {
    const r = targetPorts(service, sp, input.pods);
    if (!r.ok) return { ok: false, reason: r.reason, ...(nodeLocal ? { nodeLocal } : {}) };
    ports.push(...r.ports);
  }
  const unique = uniquePorts(ports);
  for (const protocol of ['UDP', 'TCP'] as const)
    if (!unique.some((p) => p.protocol === protocol))
      notes.push(
        `the DNS Service ${ref} has no ${protocol} port 53: only ${describePorts(unique)} is allowed`,
      );
  if (selectedBy(service, input.pods).length === 0)
    notes.push(`no DNS pods matching Service ${ref} were seen; the allow follows the Service's selector`);
  evidence.push(`DNS pod ports: ${describePorts(unique)}`);
  if (nodeLocal) evidence.push(nodeLocal.evidence);
  return {
    ok: true,
    service: { namespace: service.namespace, name: service.name },
    selector: { ...selector },
    ports: unique,
    ...(nodeLocal ? { nodeLocal } : {}),
    evidence,
    notes,
  };
}

/**
 * The resolved DNS as the coverage check of `../network.ts` takes it (the report's `dnsEgress`): the labels of a
 * DNS pod actually seen (else the Service's selector), and the pod ports with their container port names.
 */
export function dnsTargetOf(
  dns: Extract<DnsResolution, { ok: true }>,
  pods: readonly PodGroup[],
  namespaceLabels: Labels = {},
): DnsTarget {
  const seen = pods.filter(
    (p) =>
      p.namespace === dns.service.namespace &&
      Object.entries(dns.selector).every(([k, v]) => p.labels[k] === v),
  );
  return {
    namespace: dns.service.namespace,
    namespaceLabels: { ...namespaceLabels, 'kubernetes.io/metadata.name': dns.service.namespace },
    podLabels: { ...(seen[0]?.labels ?? dns.selector) },
    ports: dns.ports.map((p) => ({
      protocol: p.protocol,
      port: p.port,
      names: [
        ...new Set(
          seen.flatMap((g) =>
            g.containers.flatMap((c) =>
              (c.ports ?? [])
                .filter(
                  (cp) => cp.containerPort === p.port && protocolOf(cp.protocol) === p.protocol && cp.name,
                )
                .map((cp) => cp.name as string),
            ),
          ),
        ),
      ].sort(),
    })),
  };
}
