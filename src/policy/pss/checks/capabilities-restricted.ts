/** Mirrors `policy/check_capabilities_restricted.go` (restricted, v1.22; v1.25 exempts Windows pods). */
import {
  append,
  appendUnique,
  containerName,
  containersPhrase,
  isWindowsPod,
  item,
  joinQuote,
  rec,
  sortedSet,
  str,
} from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';
import { CHECK_CAPABILITIES_BASELINE_ID } from './capabilities-baseline.js';

const CAPABILITY_ALL = 'ALL';
const CAPABILITY_NET_BIND_SERVICE = 'NET_BIND_SERVICE';

/** `capabilitiesRestricted_1_22`: drop must contain "ALL"; add may only contain NET_BIND_SERVICE. */
export const capabilitiesRestricted_1_22: CheckPodFn = (_meta, _spec, containers) => {
  let missingDropAll: string[] | undefined;
  let addingForbidden: string[] | undefined;
  let forbiddenCapabilities: string[] | undefined;

  for (const raw of containers) {
    const c = item(raw);
    const capabilities = rec(rec(c.securityContext)?.capabilities);
    if (!capabilities) {
      missingDropAll = append(missingDropAll, containerName(c));
      continue;
    }
    const drop = capabilities.drop;
    if (!Array.isArray(drop) || !drop.includes(CAPABILITY_ALL))
      missingDropAll = append(missingDropAll, containerName(c));

    let addedForbidden = false;
    const add = capabilities.add;
    if (Array.isArray(add)) {
      for (const cap of add) {
        const name = str(cap);
        if (name !== CAPABILITY_NET_BIND_SERVICE) {
          addedForbidden = true;
          forbiddenCapabilities = appendUnique(forbiddenCapabilities, name);
        }
      }
    }
    if (addedForbidden) addingForbidden = append(addingForbidden, containerName(c));
  }

  if (!missingDropAll && !addingForbidden) return undefined;
  const details: string[] = [];
  if (missingDropAll) {
    details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  }
  if (addingForbidden) {
    details.push(
      `${containersPhrase(addingForbidden)} must not include ${joinQuote(sortedSet(forbiddenCapabilities ?? []))} in securityContext.capabilities.add`,
    );
  }
  return { reason: 'unrestricted capabilities', detail: details.join('; ') };
};

/** `capabilitiesRestricted_1_25`: Windows pods are admitted without the check. */
export const capabilitiesRestricted_1_25: CheckPodFn = (meta, spec, containers) =>
  isWindowsPod(spec) ? undefined : capabilitiesRestricted_1_22(meta, spec, containers);

export const checkCapabilitiesRestricted: Check = {
  id: 'capabilities_restricted',
  level: 'restricted',
  versions: [
    {
      minimumVersion: 22,
      checkPod: capabilitiesRestricted_1_22,
      overrideCheckIds: [CHECK_CAPABILITIES_BASELINE_ID],
    },
    {
      minimumVersion: 25,
      checkPod: capabilitiesRestricted_1_25,
      overrideCheckIds: [CHECK_CAPABILITIES_BASELINE_ID],
    },
  ],
};
