/** Mirrors `policy/check_capabilities_baseline.go` (baseline, v1.0; overridden at restricted by capabilities_restricted). */
import {
  append,
  appendUnique,
  containerName,
  containersPhrase,
  item,
  joinQuote,
  rec,
  sortedSet,
  str,
} from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

export const CHECK_CAPABILITIES_BASELINE_ID = 'capabilities_baseline';

const CAPABILITIES_ALLOWED_1_0 = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** `capabilitiesBaseline_1_0`: capabilities.add may only hold the default set. */
export const capabilitiesBaseline_1_0: CheckPodFn = (_meta, _spec, containers) => {
  let badContainers: string[] | undefined;
  let nonDefault: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    const capabilities = rec(rec(c.securityContext)?.capabilities);
    if (!capabilities) continue;
    const add = capabilities.add;
    if (!Array.isArray(add)) continue;
    let valid = true;
    for (const cap of add) {
      const name = str(cap);
      if (!CAPABILITIES_ALLOWED_1_0.has(name)) {
        valid = false;
        nonDefault = appendUnique(nonDefault, name);
      }
    }
    if (!valid) badContainers = append(badContainers, containerName(c));
  }
  if (!badContainers) return undefined;
  return {
    reason: 'non-default capabilities',
    detail: `${containersPhrase(badContainers)} must not include ${joinQuote(sortedSet(nonDefault ?? []))} in securityContext.capabilities.add`,
  };
};

export const checkCapabilitiesBaseline: Check = {
  id: CHECK_CAPABILITIES_BASELINE_ID,
  level: 'baseline',
  versions: [{ minimumVersion: 0, checkPod: capabilitiesBaseline_1_0 }],
};
