/**
 * Mirrors `policy/check_hostPorts.go` (baseline, v1.0). Note: with hostNetwork, the API server defaults every
 * hostPort to the containerPort before admission (see `applyServerDefaults`).
 */
import {
  append,
  appendUnique,
  arr,
  containerName,
  containersPhrase,
  item,
  pluralize,
  sortedSet,
} from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

/** `hostPorts_1_0`: ports[*].hostPort must be unset or 0. Ports are listed as strings in string order. */
export const hostPorts_1_0: CheckPodFn = (_meta, _spec, containers) => {
  let badContainers: string[] | undefined;
  let forbiddenHostPorts: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    let valid = true;
    for (const port of arr(c.ports)) {
      const hostPort = item(port).hostPort;
      if (typeof hostPort === 'number' && hostPort !== 0) {
        valid = false;
        forbiddenHostPorts = appendUnique(forbiddenHostPorts, String(hostPort));
      }
    }
    if (!valid) badContainers = append(badContainers, containerName(c));
  }
  if (!badContainers) return undefined;
  const ports = sortedSet(forbiddenHostPorts ?? []);
  return {
    reason: 'hostPort',
    detail: `${containersPhrase(badContainers)} ${pluralize('uses', 'use', badContainers.length)} ${pluralize('hostPort', 'hostPorts', ports.length)} ${ports.join(', ')}`,
  };
};

export const checkHostPorts: Check = {
  id: 'hostPorts',
  level: 'baseline',
  versions: [{ minimumVersion: 0, checkPod: hostPorts_1_0 }],
};
