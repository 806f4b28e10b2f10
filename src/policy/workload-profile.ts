/**
 * What the assessment derives from a workload's pod specs alone: Pod Security results at both levels (merged over
 * the template and its live pods), container facts, images, and the texts of the findings they give. Pod specs in
 * a snapshot are interned, so `assess` builds one profile per distinct combination of spec objects and
 * annotations (`profileKey`) and shares it: 10,000 bare pods of a few templates are a few profiles. Everything
 * that depends on the workload itself (its name, namespace, ServiceAccount, exceptions) stays in `assess`. Pure.
 */
import type { PodTemplateLite, Workload } from '../inventory/types.js';
import { cmp } from './findings.js';
import { mutableTagReason, parseImage } from './images.js';
import { type CheckViolation, evaluatePod, type PolicyVersionString, type PssResult } from './pss/index.js';
import { type ContainerRef, type SpecFacts, specFacts } from './workloads.js';

export type ProfileLevel = 'baseline' | 'restricted';

// Results per (pod spec object, annotations, policy): specs are interned apart from labels (which PSS does not
// read), so pods that differ only in labels are evaluated once.
const pssCache = new WeakMap<object, Map<string, PssResult>>();

export function evaluateCached(
  pod: PodTemplateLite,
  level: ProfileLevel,
  version: PolicyVersionString,
  serverMinor?: number,
  podTemplate = false,
): PssResult {
  const annotations = pod.metadata.annotations ? JSON.stringify(pod.metadata.annotations) : '';
  const key = `${level}|${version}|${serverMinor ?? ''}|${podTemplate ? 't' : 'p'}|${annotations}`;
  let perPod = pssCache.get(pod.spec);
  if (!perPod) {
    perPod = new Map();
    pssCache.set(pod.spec, perPod);
  }
  let result = perPod.get(key);
  if (!result) {
    result = evaluatePod({ level, version }, pod, {
      ...(serverMinor === undefined ? {} : { serverMinor }),
      ...(podTemplate ? { podTemplate } : {}),
    });
    perPod.set(key, result);
  }
  return result;
}

/** Violations of several pod specs, merged by check (first seen wins), in upstream order of the first. */
export function mergeResults(results: readonly PssResult[]): PssResult {
  const first = results[0];
  if (!first) return { allowed: true, violations: [] };
  if (results.every((r) => r === first)) return { allowed: first.allowed, violations: [...first.violations] };
  const seen = new Set<string>();
  const violations: CheckViolation[] = [];
  for (const r of results) {
    for (const v of r.violations) {
      if (seen.has(v.check)) continue;
      seen.add(v.check);
      violations.push(v);
    }
  }
  return { allowed: violations.length === 0, violations };
}

export const describeViolations = (violations: readonly CheckViolation[]) =>
  violations.map((v) => (v.detail ? `${v.check} (${v.detail})` : v.check)).join(', ');

/** The template's own violations, then, as a note, those only its Pods will show (see `podOnlyChecks`). */
export function describeSplit(violations: readonly CheckViolation[], podOnly: ReadonlySet<string>): string {
  const own = violations.filter((v) => !podOnly.has(v.check));
  const pods = violations.filter((v) => podOnly.has(v.check));
  if (pods.length === 0) return describeViolations(own);
  const note = `its Pods will show ${describeViolations(pods)}: the API server sets each hostPort to the containerPort on Pods with hostNetwork, not on templates, so it warns on the Pods`;
  return own.length > 0 ? `${describeViolations(own)} (note: ${note})` : `not the template itself; ${note}`;
}

export function containerPrefix(list: ContainerRef['list']): string {
  if (list === 'initContainers') return 'init container ';
  return list === 'ephemeralContainers' ? 'ephemeral container ' : '';
}

/**
 * Whether a workload's Pods can fail checks its template does not: only templates with hostNetwork differ
 * (hostPort defaulting, see `podOnlyChecks`); Pods and the others are not evaluated twice.
 */
export function podOnlyDiffers(w: Pick<Workload, 'kind' | 'template'>): boolean {
  return w.template !== undefined && w.kind !== 'Pod' && w.template.spec.hostNetwork === true;
}

const NO_CHECKS: ReadonlySet<string> = new Set();

/**
 * Checks that a workload's Pods fail but its template does not, as the API server sees them: the server defaults
 * Pods, not templates (with hostNetwork, each hostPort := containerPort), so Pod Security warns about hostPorts on
 * the Pods of a DaemonSet, not on the DaemonSet. Empty unless `podOnlyDiffers`.
 */
export function podOnlyChecks(
  template: PodTemplateLite,
  version: PolicyVersionString,
  serverMinor: number | undefined,
): Set<string> {
  const asTemplate = evaluateCached(template, 'baseline', version, serverMinor, true);
  const asPod = evaluateCached(template, 'baseline', version, serverMinor);
  const own = new Set(asTemplate.violations.map((v) => v.check));
  return new Set(asPod.violations.filter((v) => !own.has(v.check)).map((v) => v.check));
}

/** The unique subjects of a workload, template first, then its pods' specs, by identity. */
export function subjectsOf(w: Pick<Workload, 'template' | 'pods'>): PodTemplateLite[] {
  const first = w.template ?? w.pods[0]?.pod;
  if (!first) return [];
  const out = [first];
  // A bare pod is its own template: one subject.
  if (w.pods.length === 0 || (w.pods.length === 1 && w.pods[0]?.pod === first)) return out;
  const seen = new Set<PodTemplateLite>(out);
  for (const p of w.pods) {
    if (seen.has(p.pod)) continue;
    seen.add(p.pod);
    out.push(p.pod);
  }
  return out;
}

// A small number per spec object, for profile keys (the objects themselves are the identity).
const specIds = new WeakMap<object, number>();
let nextSpecId = 0;

export function specId(spec: object): number {
  let id = specIds.get(spec);
  if (id === undefined) {
    id = ++nextSpecId;
    specIds.set(spec, id);
  }
  return id;
}

/**
 * The annotations Pod Security reads (`container.apparmor.security.beta.kubernetes.io/<container>`,
 * `seccomp.security.alpha.kubernetes.io/pod`, `container.seccomp.security.alpha.kubernetes.io/<container>`; see
 * src/policy/pss/checks/app-armor-profile.ts, seccomp-profile-baseline.ts and defaults.ts), as a key: '' when there
 * are none. Others (`prometheus.io/*`) cannot change a result, so pods that differ only there share a profile.
 */
export function pssAnnotationKey(annotations: Readonly<Record<string, string>> | undefined): string {
  if (!annotations) return '';
  let kept: string[] | undefined;
  for (const key in annotations) {
    if (
      key.startsWith('container.apparmor.security.beta.kubernetes.io/') ||
      key.startsWith('seccomp.security.alpha.kubernetes.io/') ||
      key.startsWith('container.seccomp.security.alpha.kubernetes.io/')
    ) {
      kept ??= [];
      kept.push(key, annotations[key] as string);
    }
  }
  return kept ? JSON.stringify(kept) : '';
}

/**
 * The key of a profile, and the subjects it is built from: the identity of each subject's spec and the
 * annotations Pod Security reads (`pssAnnotationKey`), in order, each (spec, annotations) once (a repeat changes
 * neither the merged results nor the merged facts), and whether the template's Pods are judged apart
 * (`podOnlyDiffers`). Labels, names, namespaces and other annotations are not part of it: nothing in a profile
 * depends on them.
 */
export function profileKey(
  subjects: readonly PodTemplateLite[],
  podOnly: boolean,
): { key: string; unique: PodTemplateLite[] } {
  let key = podOnly ? 'T' : 'P';
  if (subjects.length === 1) {
    const s = subjects[0] as PodTemplateLite;
    key += `${specId(s.spec)}|${pssAnnotationKey(s.metadata.annotations)}`;
    return { key, unique: subjects as PodTemplateLite[] };
  }
  const unique: PodTemplateLite[] = [];
  const seen = new Set<string>();
  for (const s of subjects) {
    const part = `${specId(s.spec)}|${pssAnnotationKey(s.metadata.annotations)}`;
    if (seen.has(part)) continue;
    seen.add(part);
    unique.push(s);
    key += `\n${part}`;
  }
  return { key, unique };
}

export interface RegistryTally {
  images: Set<string>;
  workloads: Set<string>;
}

export interface PssText {
  message: string;
  checks: string[];
}

export interface WorkloadProfile {
  results: Record<ProfileLevel, PssResult>;
  /** Facts per subject, and the first subject's. */
  facts: SpecFacts[];
  primary: SpecFacts;
  /** Distinct images as written, sorted. */
  images: string[];
  baselineChecks: ReadonlySet<string>;
  /** Restricted's violations beyond baseline's. */
  restrictedOnly: CheckViolation[];
  /** See `podOnlyChecks`. */
  podOnly: ReadonlySet<string>;
  /** The Pod Security findings' message and checks when no exception covers any check (absent: it passes). */
  pssText: { baseline?: PssText; restricted?: PssText };
  /** Containers that have findings, in order of their first; a finding names its container by index here. */
  containers: string[];
  /** Container findings (root, no limits, writable root filesystem, mutable image tag), merged over subjects. */
  containerFindings: Array<{ control: string; container: number; message: string }>;
  /** What each distinct (container, image) adds to the registries. */
  registries: Array<{ reg: RegistryTally; normalized: string }>;
}

/** Everything `assess` derives from these subjects alone (see the module comment). */
export function buildProfile(
  subjects: readonly PodTemplateLite[],
  version: PolicyVersionString,
  serverMinor: number | undefined,
  podOnlyApplies: boolean,
  registryOf: (registry: string) => RegistryTally,
): WorkloadProfile {
  const results = {
    baseline: mergeResults(subjects.map((s) => evaluateCached(s, 'baseline', version, serverMinor))),
    restricted: mergeResults(subjects.map((s) => evaluateCached(s, 'restricted', version, serverMinor))),
  };
  const facts = subjects.map(specFacts);
  const images = [...new Set(facts.flatMap((f) => f.images.map((i) => i.image)))].sort(cmp);
  const baselineChecks = new Set(results.baseline.violations.map((v) => v.check));
  const restrictedOnly = results.restricted.violations.filter((v) => !baselineChecks.has(v.check));
  const podOnly = podOnlyApplies
    ? podOnlyChecks(subjects[0] as PodTemplateLite, version, serverMinor)
    : NO_CHECKS;
  const pssText: WorkloadProfile['pssText'] = {};
  if (results.baseline.violations.length > 0) {
    pssText.baseline = {
      message: `fails baseline: ${describeSplit(results.baseline.violations, podOnly)}`,
      checks: results.baseline.violations.map((v) => v.check),
    };
  }
  if (restrictedOnly.length > 0) {
    pssText.restricted = {
      message: `${baselineChecks.size > 0 ? 'also fails restricted' : 'fails restricted'}: ${describeSplit(restrictedOnly, NO_CHECKS)}`,
      checks: restrictedOnly.map((v) => v.check),
    };
  }

  const containerFindings: WorkloadProfile['containerFindings'] = [];
  const containers: string[] = [];
  const slot = (name: string) => {
    const i = containers.indexOf(name);
    return i >= 0 ? i : containers.push(name) - 1;
  };
  const registries: WorkloadProfile['registries'] = [];
  const rootSeen = new Set<string>();
  const limitsSeen = new Set<string>();
  const rootfsSeen = new Set<string>();
  const imageSeen = new Set<string>();
  for (const f of facts) {
    for (const r of f.root) {
      if (rootSeen.has(r.name)) continue;
      rootSeen.add(r.name);
      containerFindings.push({
        control: 'KH-POD-ROOT',
        container: slot(r.name),
        message: `${containerPrefix(r.list)}may run as root: ${r.reason}`,
      });
    }
    for (const r of f.noLimits) {
      if (limitsSeen.has(r.name)) continue;
      limitsSeen.add(r.name);
      containerFindings.push({
        control: 'KH-POD-NO-LIMITS',
        container: slot(r.name),
        message: `${containerPrefix(r.list)}has no resources.limits`,
      });
    }
    for (const r of f.writableRoot) {
      if (rootfsSeen.has(r.name)) continue;
      rootfsSeen.add(r.name);
      containerFindings.push({
        control: 'KH-POD-WRITABLE-ROOTFS',
        container: slot(r.name),
        message: `${containerPrefix(r.list)}has a writable root filesystem (readOnlyRootFilesystem is not true)`,
      });
    }
    for (const { container, image } of f.images) {
      const key = `${container}\0${image}`;
      if (imageSeen.has(key)) continue;
      imageSeen.add(key);
      const ref = parseImage(image);
      registries.push({ reg: registryOf(ref.registry), normalized: ref.normalized });
      const mutable = mutableTagReason(ref);
      if (mutable)
        containerFindings.push({
          control: 'KH-IMAGE-LATEST',
          container: slot(container),
          message: `image ${image} ${mutable}`,
        });
    }
  }
  return {
    results,
    facts,
    primary: facts[0] as SpecFacts,
    images,
    baselineChecks,
    restrictedOnly,
    podOnly,
    pssText,
    containers,
    containerFindings,
    registries,
  };
}
