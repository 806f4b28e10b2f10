/** Mirrors `policy/check_windowsHostProcess.go` (baseline, v1.0). */
import { append, containerName, containersPhrase, item, rec } from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

function hostProcess(securityContext: unknown): boolean {
  return rec(rec(securityContext)?.windowsOptions)?.hostProcess === true;
}

/** `windowsHostProcess_1_0`: pod and containers must not set windowsOptions.hostProcess=true. */
export const windowsHostProcess_1_0: CheckPodFn = (_meta, spec, containers) => {
  let badContainers: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    if (hostProcess(c.securityContext)) badContainers = append(badContainers, containerName(c));
  }
  const podForbidden = hostProcess(spec.securityContext);
  if (!podForbidden && !badContainers) return undefined;
  const setters: string[] = [];
  if (podForbidden) setters.push('pod');
  if (badContainers) setters.push(containersPhrase(badContainers));
  return {
    reason: 'hostProcess',
    detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
  };
};

export const checkWindowsHostProcess: Check = {
  id: 'windowsHostProcess',
  level: 'baseline',
  versions: [{ minimumVersion: 0, checkPod: windowsHostProcess_1_0 }],
};
