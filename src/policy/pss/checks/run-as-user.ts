/** Mirrors `policy/check_runAsUser.go` (restricted, v1.23; v1.35 allows pods with hostUsers=false). */
import {
  append,
  containerName,
  containersPhrase,
  item,
  rec,
  relaxPolicyForUserNamespacePod,
} from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

/** `runAsUser1_23`: pod and containers must not set runAsUser=0. */
export const runAsUser1_23: CheckPodFn = (_meta, spec, containers) => {
  let badSetters: string[] | undefined;
  if (rec(spec.securityContext)?.runAsUser === 0) badSetters = ['pod'];
  let explicitlyBad: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    if (rec(c.securityContext)?.runAsUser === 0) explicitlyBad = append(explicitlyBad, containerName(c));
  }
  if (explicitlyBad) badSetters = append(badSetters, containersPhrase(explicitlyBad));
  if (!badSetters) return undefined;
  return { reason: 'runAsUser=0', detail: `${badSetters.join(' and ')} must not set runAsUser=0` };
};

/** `runAsUser1_35`: allowed for pods in a user namespace (hostUsers=false). */
export const runAsUser1_35: CheckPodFn = (meta, spec, containers) =>
  relaxPolicyForUserNamespacePod(spec) ? undefined : runAsUser1_23(meta, spec, containers);

export const checkRunAsUser: Check = {
  id: 'runAsUser',
  level: 'restricted',
  versions: [
    { minimumVersion: 23, checkPod: runAsUser1_23 },
    { minimumVersion: 35, checkPod: runAsUser1_35 },
  ],
};
