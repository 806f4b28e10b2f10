/**
 * Mirrors `policy/check_restrictedVolumes.go` (restricted, v1.0; overrides hostPathVolumes). `image` volumes were
 * added to the allowed list inside the v1.0 implementation (1.33 release), so they pass at every pinned version.
 */
import { append, appendUnique, arr, item, joinQuote, pluralize, sortedSet, str } from '../helpers.js';
import type { Check, CheckPodFn, JsonObject } from '../types.js';
import { CHECK_HOST_PATH_VOLUMES_ID } from './host-path-volumes.js';

// Allowed inline volume sources, in upstream's order.
export const ALLOWED_SOURCES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
] as const;

// Restricted sources in upstream's switch order; the field name is the reported type.
export const RESTRICTED_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
] as const;

// Go: a non-nil pointer field. JSON null decodes to nil; any other value (here: an object) is set.
function isSet(volume: JsonObject, field: string): boolean {
  const v = volume[field];
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function restrictedType(volume: JsonObject): string {
  for (const field of RESTRICTED_SOURCES) if (isSet(volume, field)) return field;
  return 'unknown';
}

/** `restrictedVolumes_1_0`: inline volumes must use one of the allowed sources. */
export const restrictedVolumes_1_0: CheckPodFn = (_meta, spec) => {
  let badVolumes: string[] | undefined;
  let badTypes: string[] | undefined;
  for (const raw of arr(spec.volumes)) {
    const volume = item(raw);
    let allowed = false;
    for (const field of ALLOWED_SOURCES) {
      if (isSet(volume, field)) {
        allowed = true;
        break;
      }
    }
    if (allowed) continue;
    badVolumes = append(badVolumes, str(volume.name));
    badTypes = appendUnique(badTypes, restrictedType(volume));
  }
  if (!badVolumes) return undefined;
  const types = sortedSet(badTypes ?? []);
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', badVolumes.length)} ${joinQuote(badVolumes)} ${pluralize('uses', 'use', badVolumes.length)} ${pluralize('restricted volume type', 'restricted volume types', types.length)} ${joinQuote(types)}`,
  };
};

export const checkRestrictedVolumes: Check = {
  id: 'restrictedVolumes',
  level: 'restricted',
  versions: [
    { minimumVersion: 0, checkPod: restrictedVolumes_1_0, overrideCheckIds: [CHECK_HOST_PATH_VOLUMES_ID] },
  ],
};
