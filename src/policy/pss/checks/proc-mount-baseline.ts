/**
 * Mirrors `policy/check_procMount_baseline.go` (baseline, v1.0; v1.35 allows any value for pods with
 * hostUsers=false). At restricted from v1.35 it is overridden by procMount_restricted.
 */
import {
  append,
  appendUnique,
  containerName,
  containersPhrase,
  item,
  joinQuote,
  rec,
  relaxPolicyForUserNamespacePod,
  sortedSet,
} from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

export const CHECK_PROC_MOUNT_ID = 'procMount';

/** `procMount_1_0`: securityContext.procMount must be unset or "Default", unconditionally. */
export const procMount_1_0: CheckPodFn = (_meta, _spec, containers) => {
  let badContainers: string[] | undefined;
  let forbiddenTypes: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    const sc = rec(c.securityContext);
    if (!sc) continue;
    const procMount = sc.procMount;
    if (procMount == null) continue;
    if (procMount !== 'Default') {
      badContainers = append(badContainers, containerName(c));
      forbiddenTypes = appendUnique(
        forbiddenTypes,
        typeof procMount === 'string' ? procMount : String(procMount),
      );
    }
  }
  if (!badContainers) return undefined;
  return {
    reason: 'procMount',
    detail: `${containersPhrase(badContainers)} must not set securityContext.procMount to ${joinQuote(sortedSet(forbiddenTypes ?? []))}`,
  };
};

/** `procMount1_35baseline`: allowed for pods in a user namespace (hostUsers=false), else as procMount_1_0. */
export const procMount1_35baseline: CheckPodFn = (meta, spec, containers) =>
  relaxPolicyForUserNamespacePod(spec) ? undefined : procMount_1_0(meta, spec, containers);

export const checkProcMountBaseline: Check = {
  id: CHECK_PROC_MOUNT_ID,
  level: 'baseline',
  versions: [
    { minimumVersion: 0, checkPod: procMount_1_0 },
    { minimumVersion: 35, checkPod: procMount1_35baseline },
  ],
};
