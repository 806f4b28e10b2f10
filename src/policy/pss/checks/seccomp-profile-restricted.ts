/**
 * Mirrors `policy/check_seccompProfile_restricted.go` (restricted, v1.19; v1.25 exempts Windows pods). Overrides
 * seccompProfile_baseline.
 */
import {
  append,
  appendUnique,
  containerName,
  containersPhrase,
  isWindowsPod,
  item,
  joinQuote,
  sortedSet,
} from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';
import { CHECK_SECCOMP_BASELINE_ID, seccompType, validSeccomp } from './seccomp-profile-baseline.js';

/** `seccompProfileRestricted_1_19`: RuntimeDefault or Localhost at pod level (covering unset containers) or on each container. */
export const seccompProfileRestricted_1_19: CheckPodFn = (_meta, spec, containers) => {
  let badSetters: string[] | undefined;
  let badValues: string[] | undefined;
  let podSeccompSet = false;
  const podType = seccompType(spec.securityContext);
  if (podType !== undefined) {
    if (!validSeccomp(podType)) {
      badSetters = ['pod'];
      badValues = [podType];
    } else {
      podSeccompSet = true;
    }
  }

  let explicitlyBad: string[] | undefined;
  let implicitlyBad: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    const type = seccompType(c.securityContext);
    if (type !== undefined) {
      if (!validSeccomp(type)) {
        explicitlyBad = append(explicitlyBad, containerName(c));
        badValues = appendUnique(badValues, type);
      }
    } else if (!podSeccompSet) {
      implicitlyBad = append(implicitlyBad, containerName(c));
    }
  }
  if (explicitlyBad) badSetters = append(badSetters, containersPhrase(explicitlyBad));

  if (badSetters) {
    return {
      reason: 'seccompProfile',
      detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues ?? []))}`,
    };
  }
  if (implicitlyBad) {
    return {
      reason: 'seccompProfile',
      detail: `pod or ${containersPhrase(implicitlyBad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    };
  }
  return undefined;
};

/** `seccompProfileRestricted_1_25`: Windows pods are admitted without the check. */
export const seccompProfileRestricted_1_25: CheckPodFn = (meta, spec, containers) =>
  isWindowsPod(spec) ? undefined : seccompProfileRestricted_1_19(meta, spec, containers);

export const checkSeccompProfileRestricted: Check = {
  id: 'seccompProfile_restricted',
  level: 'restricted',
  versions: [
    {
      minimumVersion: 19,
      checkPod: seccompProfileRestricted_1_19,
      overrideCheckIds: [CHECK_SECCOMP_BASELINE_ID],
    },
    {
      minimumVersion: 25,
      checkPod: seccompProfileRestricted_1_25,
      overrideCheckIds: [CHECK_SECCOMP_BASELINE_ID],
    },
  ],
};
