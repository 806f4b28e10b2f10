/**
 * Default-deny networking (phase 3, issue 11): the pure core. `planNetworkPolicies` is the entry point; the other
 * exports are its parts, for the step, the report and tests.
 */
export {
  type ApiClient,
  type ApiResolution,
  apiClients,
  apiServerTargets,
  serviceAccountUsesApi,
} from './apiserver.js';
export { type CniMatch, type CniVerdict, detectCni, type Enforcement, noEffectWarning } from './cni.js';
export { type DnsResolution, dnsTargetOf, type NodeLocalDns, nodeLocalDns, resolveDns } from './dns.js';
export { isOwnPolicy, type NetpolPlan, planNetworkPolicies } from './plan.js';
export { type PodPort, targetPorts, workloadSelector } from './ports.js';
export { MANAGED_BY, NAME_PREFIX, policyName } from './shapes.js';
export {
  clusterDnsOf,
  type NetpolExtras,
  netpolInputFromSnapshot,
  podGroupsFromWorkloads,
} from './snapshot.js';
export type * from './types.js';
