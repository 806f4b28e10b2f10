/** Mirrors `policy/check_hostNamespaces.go` (baseline, v1.0). */
import type { Check, CheckPodFn } from '../types.js';

/** `hostNamespaces_1_0`: hostNetwork, hostPID and hostIPC must be unset or false. */
export const hostNamespaces_1_0: CheckPodFn = (_meta, spec) => {
  if (spec.hostNetwork !== true && spec.hostPID !== true && spec.hostIPC !== true) return undefined;
  const hostNamespaces: string[] = [];
  if (spec.hostNetwork === true) hostNamespaces.push('hostNetwork=true');
  if (spec.hostPID === true) hostNamespaces.push('hostPID=true');
  if (spec.hostIPC === true) hostNamespaces.push('hostIPC=true');
  return { reason: 'host namespaces', detail: hostNamespaces.join(', ') };
};

export const checkHostNamespaces: Check = {
  id: 'hostNamespaces',
  level: 'baseline',
  versions: [{ minimumVersion: 0, checkPod: hostNamespaces_1_0 }],
};
