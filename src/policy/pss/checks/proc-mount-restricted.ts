/**
 * Mirrors `policy/check_procMount_restricted.go` (restricted, v1.35): keeps the unconditional procMount_1_0 at
 * restricted and overrides the relaxed baseline `procMount` check.
 */
import type { Check } from '../types.js';
import { CHECK_PROC_MOUNT_ID, procMount_1_0 } from './proc-mount-baseline.js';

export const checkProcMountRestricted: Check = {
  id: 'procMount_restricted',
  level: 'restricted',
  versions: [{ minimumVersion: 35, checkPod: procMount_1_0, overrideCheckIds: [CHECK_PROC_MOUNT_ID] }],
};
