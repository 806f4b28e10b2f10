/** Mirrors `policy/check_runAsNonRoot.go` (restricted, v1.0; v1.35 allows pods with hostUsers=false). */
import {
  append,
  containerName,
  containersPhrase,
  item,
  rec,
  relaxPolicyForUserNamespacePod,
} from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

/** `runAsNonRoot1_0`: explicit false anywhere fails; otherwise pod-level true or every container true. */
export const runAsNonRoot1_0: CheckPodFn = (_meta, spec, containers) => {
  let badSetters: string[] | undefined;
  let podRunAsNonRoot = false;
  const podSc = rec(spec.securityContext);
  if (podSc && podSc.runAsNonRoot != null) {
    if (podSc.runAsNonRoot !== true) badSetters = ['pod'];
    else podRunAsNonRoot = true;
  }

  let explicitlyBad: string[] | undefined;
  let implicitlyBad: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    const sc = rec(c.securityContext);
    if (sc && sc.runAsNonRoot != null) {
      if (sc.runAsNonRoot !== true) explicitlyBad = append(explicitlyBad, containerName(c));
    } else if (!podRunAsNonRoot) {
      implicitlyBad = append(implicitlyBad, containerName(c));
    }
  }
  if (explicitlyBad) badSetters = append(badSetters, containersPhrase(explicitlyBad));

  if (badSetters) {
    return {
      reason: 'runAsNonRoot != true',
      detail: `${badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false`,
    };
  }
  if (implicitlyBad) {
    return {
      reason: 'runAsNonRoot != true',
      detail: `pod or ${containersPhrase(implicitlyBad)} must set securityContext.runAsNonRoot=true`,
    };
  }
  return undefined;
};

/** `runAsNonRoot1_35`: allowed for pods in a user namespace (hostUsers=false). */
export const runAsNonRoot1_35: CheckPodFn = (meta, spec, containers) =>
  relaxPolicyForUserNamespacePod(spec) ? undefined : runAsNonRoot1_0(meta, spec, containers);

export const checkRunAsNonRoot: Check = {
  id: 'runAsNonRoot',
  level: 'restricted',
  versions: [
    { minimumVersion: 0, checkPod: runAsNonRoot1_0 },
    { minimumVersion: 35, checkPod: runAsNonRoot1_35 },
  ],
};
