/** Mirrors `policy/check_seLinuxOptions.go` (baseline, v1.0; v1.31 also allows container_engine_t). */
import {
  addUnique,
  append,
  containerName,
  containersPhrase,
  item,
  joinQuote,
  pluralize,
  rec,
  sortedSet,
  str,
} from '../helpers.js';
import type { Check, CheckPodFn, JsonObject } from '../types.js';

const SELINUX_ALLOWED_TYPES_1_0: ReadonlySet<string> = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
]);
const SELINUX_ALLOWED_TYPES_1_31: ReadonlySet<string> = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

// What was wrong, across pod and containers, during one call. Evaluation is synchronous, so calls never
// interleave; reusing one object keeps the allowed path free of allocations.
const findings = { badTypes: [] as string[], setUser: false, setRole: false };

// Port of the validSELinuxOptions closure: records what is wrong and returns whether the options are valid.
function validSeLinuxOptions(opts: JsonObject, allowed: ReadonlySet<string>): boolean {
  let valid = true;
  const type = str(opts.type);
  if (!allowed.has(type)) {
    valid = false;
    addUnique(findings.badTypes, type);
  }
  if (str(opts.user).length > 0) {
    valid = false;
    findings.setUser = true;
  }
  if (str(opts.role).length > 0) {
    valid = false;
    findings.setRole = true;
  }
  return valid;
}

function seLinuxOptions(spec: JsonObject, containers: readonly unknown[], allowed: ReadonlySet<string>) {
  findings.badTypes.length = 0;
  findings.setUser = false;
  findings.setRole = false;
  let badSetters: string[] | undefined;

  const podOpts = rec(rec(spec.securityContext)?.seLinuxOptions);
  if (podOpts && !validSeLinuxOptions(podOpts, allowed)) badSetters = ['pod'];

  let badContainers: string[] | undefined;
  for (const raw of containers) {
    const c = item(raw);
    const opts = rec(rec(c.securityContext)?.seLinuxOptions);
    if (opts && !validSeLinuxOptions(opts, allowed)) badContainers = append(badContainers, containerName(c));
  }
  if (badContainers) badSetters = append(badSetters, containersPhrase(badContainers));

  if (!badSetters) return undefined;
  const badData: string[] = [];
  if (findings.badTypes.length > 0) {
    badData.push(
      `${pluralize('type', 'types', findings.badTypes.length)} ${joinQuote(sortedSet(findings.badTypes))}`,
    );
  }
  if (findings.setUser) badData.push('user may not be set');
  if (findings.setRole) badData.push('role may not be set');
  findings.badTypes.length = 0;
  return {
    reason: 'seLinuxOptions',
    detail: `${badSetters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${badData.join('; ')}`,
  };
}

/** `seLinuxOptions1_0`. */
export const seLinuxOptions1_0: CheckPodFn = (_meta, spec, containers) =>
  seLinuxOptions(spec, containers, SELINUX_ALLOWED_TYPES_1_0);

/** `seLinuxOptions1_31`: adds container_engine_t. */
export const seLinuxOptions1_31: CheckPodFn = (_meta, spec, containers) =>
  seLinuxOptions(spec, containers, SELINUX_ALLOWED_TYPES_1_31);

export const checkSeLinuxOptions: Check = {
  id: 'seLinuxOptions',
  level: 'baseline',
  versions: [
    { minimumVersion: 0, checkPod: seLinuxOptions1_0 },
    { minimumVersion: 31, checkPod: seLinuxOptions1_31 },
  ],
};
