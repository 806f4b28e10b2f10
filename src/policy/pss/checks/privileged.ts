/** Mirrors `policy/check_privileged.go` (baseline, v1.0). */
import { append, containerName, containersPhrase, item, rec } from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

/** `privileged_1_0`: securityContext.privileged must be unset or false. */
export const privileged_1_0: CheckPodFn = (_meta, _spec, containers) => {
  let bad: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    if (rec(c.securityContext)?.privileged === true) bad = append(bad, containerName(c));
  }
  if (!bad) return undefined;
  return {
    reason: 'privileged',
    detail: `${containersPhrase(bad)} must not set securityContext.privileged=true`,
  };
};

export const checkPrivileged: Check = {
  id: 'privileged',
  level: 'baseline',
  versions: [{ minimumVersion: 0, checkPod: privileged_1_0 }],
};
