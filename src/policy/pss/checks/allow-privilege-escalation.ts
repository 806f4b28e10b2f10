/** Mirrors `policy/check_allowPrivilegeEscalation.go` (restricted, v1.8; v1.25 exempts Windows pods). */
import { append, containerName, containersPhrase, isWindowsPod, item, rec } from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

/** `allowPrivilegeEscalation_1_8`: every container must set securityContext.allowPrivilegeEscalation=false. */
export const allowPrivilegeEscalation_1_8: CheckPodFn = (_meta, _spec, containers) => {
  let bad: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    if (rec(c.securityContext)?.allowPrivilegeEscalation !== false) bad = append(bad, containerName(c));
  }
  if (!bad) return undefined;
  return {
    reason: 'allowPrivilegeEscalation != false',
    detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`,
  };
};

/** `allowPrivilegeEscalation_1_25`: Windows pods (spec.os.name=windows) are admitted without the check. */
export const allowPrivilegeEscalation_1_25: CheckPodFn = (meta, spec, containers) =>
  isWindowsPod(spec) ? undefined : allowPrivilegeEscalation_1_8(meta, spec, containers);

export const checkAllowPrivilegeEscalation: Check = {
  id: 'allowPrivilegeEscalation',
  level: 'restricted',
  versions: [
    { minimumVersion: 8, checkPod: allowPrivilegeEscalation_1_8 },
    { minimumVersion: 25, checkPod: allowPrivilegeEscalation_1_25 },
  ],
};
