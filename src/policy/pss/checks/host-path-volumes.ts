/** Mirrors `policy/check_hostPathVolumes.go` (baseline, v1.0; overridden at restricted by restrictedVolumes). */
import { append, arr, item, joinQuote, pluralize, rec, str } from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

export const CHECK_HOST_PATH_VOLUMES_ID = 'hostPathVolumes';

/** `hostPathVolumes_1_0`: no volume may set hostPath. */
export const hostPathVolumes_1_0: CheckPodFn = (_meta, spec) => {
  let hostVolumes: string[] | undefined;
  for (const raw of arr(spec.volumes)) {
    const volume = item(raw);
    if (rec(volume.hostPath)) hostVolumes = append(hostVolumes, str(volume.name));
  }
  if (!hostVolumes) return undefined;
  return {
    reason: 'hostPath volumes',
    detail: `${pluralize('volume', 'volumes', hostVolumes.length)} ${joinQuote(hostVolumes)}`,
  };
};

export const checkHostPathVolumes: Check = {
  id: CHECK_HOST_PATH_VOLUMES_ID,
  level: 'baseline',
  versions: [{ minimumVersion: 0, checkPod: hostPathVolumes_1_0 }],
};
