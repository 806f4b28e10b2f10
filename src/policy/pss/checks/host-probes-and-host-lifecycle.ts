/**
 * Mirrors `policy/check_hostProbesAndhostLifecycle.go` (baseline, v1.34). Unlike the other container checks, the
 * container names are reported as a sorted set, not in visiting order.
 */
import { append, containerName, item, joinQuote, pluralize, rec, sortedSet, str } from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

// Hosts found during one call. Evaluation is synchronous, so calls never interleave; reusing the array keeps the
// allowed path free of allocations.
const scratchHosts: string[] = [];

// Port of getForbiddenHostProbes / getForbiddenHostLifecycle: both read httpGet.host and tcpSocket.host.
function collectHosts(handler: unknown): boolean {
  const h = rec(handler);
  if (!h) return false;
  const httpHost = str(rec(h.httpGet)?.host);
  const tcpHost = str(rec(h.tcpSocket)?.host);
  if (httpHost !== '') scratchHosts.push(httpHost);
  if (tcpHost !== '') scratchHosts.push(tcpHost);
  return httpHost !== '' || tcpHost !== '';
}

/** `hostProbesAndHostLifecycleV1Dot34`: probes and lifecycle handlers must not set a host. */
export const hostProbesAndHostLifecycleV1Dot34: CheckPodFn = (_meta, _spec, containers) => {
  scratchHosts.length = 0;
  let badContainers: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    let bad = collectHosts(c.livenessProbe);
    bad = collectHosts(c.readinessProbe) || bad;
    bad = collectHosts(c.startupProbe) || bad;
    const lifecycle = rec(c.lifecycle);
    if (lifecycle) {
      bad = collectHosts(lifecycle.postStart) || bad;
      bad = collectHosts(lifecycle.preStop) || bad;
    }
    if (bad) badContainers = append(badContainers, containerName(c));
  }
  if (!badContainers) return undefined;
  const names = sortedSet(badContainers);
  const hosts = sortedSet(scratchHosts);
  scratchHosts.length = 0;
  return {
    reason: 'probe or lifecycle host',
    detail: `${pluralize('container', 'containers', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', hosts.length)} ${joinQuote(hosts)}`,
  };
};

export const checkHostProbesAndHostLifecycle: Check = {
  id: 'hostProbesAndHostLifecycle',
  level: 'baseline',
  versions: [{ minimumVersion: 34, checkPod: hostProbesAndHostLifecycleV1Dot34 }],
};
