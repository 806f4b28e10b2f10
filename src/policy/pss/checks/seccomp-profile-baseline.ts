/**
 * Mirrors `policy/check_seccompProfile_baseline.go` (baseline; v1.0 checks the alpha annotations only, v1.19 the
 * securityContext fields only). Overridden at restricted from v1.19 by seccompProfile_restricted.
 */
import {
  append,
  appendUnique,
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

const ANNOTATION_KEY_POD = 'seccomp.security.alpha.kubernetes.io/pod';
const ANNOTATION_KEY_CONTAINER_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

export const CHECK_SECCOMP_BASELINE_ID = 'seccompProfile_baseline';

/** Port of `validSeccomp`. */
export function validSeccomp(type: string): boolean {
  return type === 'Localhost' || type === 'RuntimeDefault';
}

function validSeccompAnnotationValue(value: string): boolean {
  return value === 'runtime/default' || value === 'docker/default' || value.startsWith('localhost/');
}

/** `seccompProfileBaseline_1_0`: the pod and container seccomp annotations, when present, must be allowed values. */
export const seccompProfileBaseline_1_0: CheckPodFn = (meta, _spec, containers) => {
  const annotations = rec(meta?.annotations);
  if (!annotations) return undefined;
  let forbidden: string[] | undefined;
  const podValue = annotations[ANNOTATION_KEY_POD];
  if (typeof podValue === 'string' && !validSeccompAnnotationValue(podValue)) {
    forbidden = [`${ANNOTATION_KEY_POD}=${goQuote(podValue)}`];
  }
  for (const raw of containers) {
    const key = ANNOTATION_KEY_CONTAINER_PREFIX + containerName(item(raw));
    const value = annotations[key];
    if (typeof value === 'string' && !validSeccompAnnotationValue(value)) {
      forbidden = appendUnique(forbidden, `${key}=${goQuote(value)}`);
    }
  }
  if (!forbidden) return undefined;
  return {
    reason: 'seccompProfile',
    detail: `forbidden ${pluralize('annotation', 'annotations', forbidden.length)} ${sortedSet(forbidden).join(', ')}`,
  };
};

/** The explicitly set `seccompProfile.type` of a security context, or undefined when seccompProfile is unset. */
export function seccompType(securityContext: unknown): string | undefined {
  const profile = rec(rec(securityContext)?.seccompProfile);
  return profile ? str(profile.type) : undefined;
}

/** `seccompProfileBaseline_1_19`: pod and containers must not set a seccompProfile.type other than allowed ones. */
export const seccompProfileBaseline_1_19: CheckPodFn = (_meta, spec, containers) => {
  let badSetters: string[] | undefined;
  let badValues: string[] | undefined;
  const podType = seccompType(spec.securityContext);
  if (podType !== undefined && !validSeccomp(podType)) {
    badSetters = ['pod'];
    badValues = [podType];
  }
  let explicitlyBad: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    const type = seccompType(c.securityContext);
    if (type !== undefined && !validSeccomp(type)) {
      explicitlyBad = append(explicitlyBad, containerName(c));
      badValues = appendUnique(badValues, type);
    }
  }
  if (explicitlyBad) badSetters = append(badSetters, containersPhrase(explicitlyBad));
  if (!badSetters) return undefined;
  return {
    reason: 'seccompProfile',
    detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues ?? []))}`,
  };
};

export const checkSeccompBaseline: Check = {
  id: CHECK_SECCOMP_BASELINE_ID,
  level: 'baseline',
  versions: [
    { minimumVersion: 0, checkPod: seccompProfileBaseline_1_0 },
    { minimumVersion: 19, checkPod: seccompProfileBaseline_1_19 },
  ],
};
