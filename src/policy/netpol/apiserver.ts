/**
 * Egress to the API server (reference phases-3-6 §3).
 *
 * Where: `default/kubernetes` has no selector; the API server itself writes its EndpointSlice(s) (`kubernetes`,
 * and `kubernetes-v4`/`-v6` in dual-stack; label `kubernetes.io/service-name=kubernetes`) and the Endpoints, one
 * address per live API server, on the port it really listens on (`https`, the advertised secure port: 6443 on
 * kubeadm) — not the Service's 443 (`pkg/controlplane/controller/kubernetesservice/controller.go`,
 * `pkg/controlplane/reconcilers/endpointsadapter.go`). Policy sees the DNATed address, so the allow is an
 * `ipBlock` per endpoint address on that port.
 *
 * Who: pods that get an API token (automount, `plugin/pkg/admission/serviceaccount/admission.go`) and whose
 * ServiceAccount is granted something by RBAC beyond what every authenticated user has (`system:discovery`,
 * `system:basic-user`, `system:public-info-viewer`, bound to `system:authenticated`).
 */
import type { BindingInfo, RoleInfo } from '../../inventory/types.js';
import { type PodPort, protocolOf } from './ports.js';
import { hostCidr } from './shapes.js';
import type { ApiServerEndpoints, PodGroup, RbacLite } from './types.js';

export interface ApiTarget {
  cidr: string;
  ports: PodPort[];
}

export type ApiResolution =
  | { ok: true; targets: ApiTarget[]; evidence: string }
  | { ok: false; reason: string };

export function apiServerTargets(api: ApiServerEndpoints): ApiResolution {
  if (api.unknown)
    return { ok: false, reason: 'the API server endpoints (default/kubernetes) could not be read' };
  const byIp = new Map<string, Map<string, PodPort>>();
  const add = (ip: string, port: number, protocol: string | undefined) => {
    const p: PodPort = { protocol: protocolOf(protocol), port };
    const m = byIp.get(ip) ?? new Map<string, PodPort>();
    m.set(`${p.protocol}/${p.port}`, p);
    byIp.set(ip, m);
  };
  let from = '';
  const slices = [...api.endpointSlices]
    .filter((s) => s.addressType === 'IPv4' || s.addressType === 'IPv6')
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const slice of slices) {
    const ports = slice.ports.filter((p) => typeof p.port === 'number');
    const https = ports.filter((p) => p.name === 'https');
    const use = https.length > 0 ? https : ports;
    for (const ep of slice.endpoints) {
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses) for (const p of use) add(ip, p.port as number, p.protocol);
    }
    from = 'EndpointSlice';
  }
  if (byIp.size === 0 && api.endpoints) {
    for (const subset of api.endpoints.subsets) {
      const ports = subset.ports ?? [];
      const https = ports.filter((p) => p.name === 'https');
      const use = https.length > 0 ? https : ports;
      for (const a of subset.addresses ?? []) for (const p of use) add(a.ip, p.port, p.protocol);
    }
    from = 'Endpoints';
  }
  if (byIp.size === 0)
    return {
      ok: false,
      reason: 'the API server has no ready endpoint in default/kubernetes (EndpointSlice or Endpoints)',
    };
  const targets = [...byIp.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ip, ports]) => ({
      cidr: hostCidr(ip),
      ports: [...ports.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port),
    }));
  return {
    ok: true,
    targets,
    evidence: `default/kubernetes ${from}: ${targets.map((t) => `${t.cidr} port ${t.ports.map((p) => p.port).join(',')}`).join('; ')}`,
  };
}

/** Cluster roles every authenticated user has (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`). */
const DISCOVERY_ROLES = new Set(['system:discovery', 'system:basic-user', 'system:public-info-viewer']);

function bindsServiceAccount(b: BindingInfo, namespace: string, name: string): boolean {
  return b.subjects.some((s) => {
    if (s.kind === 'ServiceAccount') return s.name === name && (s.namespace ?? b.namespace) === namespace;
    if (s.kind === 'Group')
      return s.name === 'system:serviceaccounts' || s.name === `system:serviceaccounts:${namespace}`;
    return false;
  });
}

function roleOf(b: BindingInfo, roles: readonly RoleInfo[]): RoleInfo | undefined {
  if (b.roleRef.kind === 'ClusterRole')
    return roles.find((r) => r.kind === 'ClusterRole' && r.name === b.roleRef.name);
  return roles.find((r) => r.kind === 'Role' && r.namespace === b.namespace && r.name === b.roleRef.name);
}

export interface ApiUse {
  uses: boolean | 'unknown';
  /** `ClusterRoleBinding x → ClusterRole y`, the grants that make it a client. */
  grants: string[];
}

/**
 * Whether a ServiceAccount is granted API access beyond discovery. A binding whose role cannot be found still
 * counts (it states an intent to use the API); a role with only `nonResourceURLs` rules does not.
 */
export function serviceAccountUsesApi(namespace: string, name: string, rbac: RbacLite): ApiUse {
  const grants: string[] = [];
  for (const b of rbac.bindings) {
    if (!bindsServiceAccount(b, namespace, name)) continue;
    if (b.roleRef.kind === 'ClusterRole' && DISCOVERY_ROLES.has(b.roleRef.name)) continue;
    const role = roleOf(b, rbac.roles);
    if (role && !role.aggregated && role.rules.every((r) => (r.resources ?? []).length === 0)) continue;
    grants.push(
      `${b.kind} ${b.namespace ? `${b.namespace}/` : ''}${b.name} → ${b.roleRef.kind} ${b.roleRef.name}`,
    );
  }
  grants.sort();
  if (grants.length > 0) return { uses: true, grants };
  return { uses: rbac.unknown ? 'unknown' : false, grants };
}

export interface ApiClient {
  pod: PodGroup;
  reason: string;
}

/** Pod groups of a namespace that need egress to the API server, with why. hostNetwork pods are not subject to policy. */
export function apiClients(pods: readonly PodGroup[], rbac: RbacLite): ApiClient[] {
  const out: ApiClient[] = [];
  for (const pod of pods) {
    if (pod.hostNetwork || pod.apiToken === false) continue;
    const use = serviceAccountUsesApi(pod.namespace, pod.serviceAccount, rbac);
    if (use.uses === false) continue;
    const token = pod.apiToken === true ? 'mounts an API token' : 'may mount an API token (unknown)';
    const grants =
      use.uses === true
        ? `ServiceAccount ${pod.serviceAccount} is bound by ${use.grants.join(', ')}`
        : `the RBAC bindings of ServiceAccount ${pod.serviceAccount} could not be read`;
    out.push({ pod, reason: `${token} and ${grants}` });
  }
  return out;
}
