/**
 * Mirrors `policy/check_appArmorProfile.go` (baseline, v1.0). The field checks (pod, containers) were added inside
 * the v1.0 implementation in the 1.30 release, so they apply to every pinned version, as upstream.
 */
import {
  append,
  appendUnique,
  compareGoStrings,
  containerName,
  containersPhrase,
  goQuote,
  item,
  joinQuote,
  pluralize,
  rec,
  sortedSet,
  str,
} from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

const ANNOTATION_KEY_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function allowedAnnotationValue(profile: string): boolean {
  return profile.length === 0 || profile === 'runtime/default' || profile.startsWith('localhost/');
}

function allowedProfileType(profile: string): boolean {
  return profile === 'RuntimeDefault' || profile === 'Localhost';
}

/** The bad `appArmorProfile.type` of a security context, or undefined when unset or allowed. */
function badProfileType(securityContext: unknown): string | undefined {
  const profile = rec(rec(securityContext)?.appArmorProfile);
  if (!profile) return undefined;
  const type = str(profile.type);
  return allowedProfileType(type) ? undefined : type;
}

/** `appArmorProfile_1_0`. */
export const appArmorProfile_1_0: CheckPodFn = (meta, spec, containers) => {
  let badSetters: string[] | undefined;
  let badValues: string[] | undefined;

  const podBad = badProfileType(spec.securityContext);
  if (podBad !== undefined) {
    badSetters = append(badSetters, 'pod');
    badValues = appendUnique(badValues, podBad);
  }

  let badContainers: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    const bad = badProfileType(c.securityContext);
    if (bad !== undefined) {
      badContainers = append(badContainers, containerName(c));
      badValues = appendUnique(badValues, bad);
    }
  }
  if (badContainers) badSetters = append(badSetters, containersPhrase(badContainers));

  let forbiddenAnnotations: string[] | undefined;
  const annotations = rec(meta?.annotations);
  if (annotations) {
    for (const key in annotations) {
      if (!key.startsWith(ANNOTATION_KEY_PREFIX)) continue;
      const value = annotations[key];
      if (typeof value === 'string' && !allowedAnnotationValue(value)) {
        forbiddenAnnotations = append(forbiddenAnnotations, `${key}=${goQuote(value)}`);
      }
    }
  }

  if (!badSetters && !forbiddenAnnotations) return undefined;
  const badValueList = sortedSet(badValues ?? []);
  if (forbiddenAnnotations) {
    forbiddenAnnotations.sort(compareGoStrings);
    badValueList.push(...forbiddenAnnotations);
    badSetters = append(badSetters, pluralize('annotation', 'annotations', forbiddenAnnotations.length));
  }
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', badValueList.length),
    detail: `${(badSetters as string[]).join(' and ')} must not set AppArmor profile type to ${joinQuote(badValueList)}`,
  };
};

export const checkAppArmorProfile: Check = {
  id: 'appArmorProfile',
  level: 'baseline',
  versions: [{ minimumVersion: 0, checkPod: appArmorProfile_1_0 }],
};
