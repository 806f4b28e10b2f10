/**
 * The Snapshot side of phase 5: which registries the namespaces in scope pull from, and which of their pods and
 * workload templates the allow-list would deny if they were created today — with the same decision the policy's
 * CEL makes (allow-list.ts). A namespace whose workloads could not all be read is unknown, never clean.
 */
import type { ContainerLite, PodSpecLite, Snapshot, Workload } from '../../inventory/types.js';
import { WORKLOAD_RESOURCES } from '../../k8s/kinds.js';
import { parseImage } from '../images.js';
import { allowListOfExpression, imageVerdict, POLICY_NAME } from './allow-list.js';

export type ContainerKind = 'container' | 'initContainer' | 'ephemeralContainer';

export interface ImageUse {
  namespace: string;
  /** The workload (a bare Pod is its own workload). */
  kind: Workload['kind'];
  name: string;
  /** Set when the image comes from a live pod rather than the workload's template. */
  pod?: string;
  containerKind: ContainerKind;
  container: string;
  image: string;
}

export interface DeniedImage extends ImageUse {
  normalised: string;
  reason: string;
}

/** The containers of a pod spec with their kind, in the order the policy lists them. */
export function containersOf(spec: PodSpecLite): Array<{ containerKind: ContainerKind; c: ContainerLite }> {
  return [
    ...spec.containers.map((c) => ({ containerKind: 'container' as const, c })),
    ...(spec.initContainers ?? []).map((c) => ({ containerKind: 'initContainer' as const, c })),
    ...(spec.ephemeralContainers ?? []).map((c) => ({ containerKind: 'ephemeralContainer' as const, c })),
  ];
}

/**
 * Every image of the workloads in `namespaces`: each template's containers, and each live pod's containers
 * that differ from its template (old ReplicaSets, ephemeral containers). Deduplicated per workload.
 */
export function imageUses(snapshot: Snapshot, namespaces: ReadonlySet<string>): ImageUse[] {
  const out: ImageUse[] = [];
  for (const w of snapshot.workloads) {
    if (!namespaces.has(w.namespace)) continue;
    const seen = new Set<string>();
    const add = (spec: PodSpecLite, pod?: string) => {
      for (const { containerKind, c } of containersOf(spec)) {
        const image = c.image ?? '';
        const key = `${containerKind}\0${c.name}\0${image}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          namespace: w.namespace,
          kind: w.kind,
          name: w.name,
          ...(pod !== undefined ? { pod } : {}),
          containerKind,
          container: c.name,
          image,
        });
      }
    };
    if (w.template) add(w.template.spec);
    if (w.kind !== 'Pod' || !w.template)
      for (const p of w.pods) add(p.pod.spec, w.kind === 'Pod' ? undefined : p.name);
  }
  return out;
}

/** The registry hosts (normalised, e.g. `docker.io`) the workloads in `namespaces` use, sorted. */
export function registriesInUse(snapshot: Snapshot, namespaces: ReadonlySet<string>): string[] {
  const hosts = new Set<string>();
  for (const u of imageUses(snapshot, namespaces))
    if (u.image !== '') hosts.add(parseImage(u.image).registry);
  return [...hosts].sort();
}

/** What the allow-list would deny if it were created today, in `namespaces`. */
export function deniedImages(
  snapshot: Snapshot,
  namespaces: ReadonlySet<string>,
  entries: readonly string[],
): DeniedImage[] {
  const out: DeniedImage[] = [];
  for (const u of imageUses(snapshot, namespaces)) {
    const v = imageVerdict(u.image, entries);
    if (!v.allowed) out.push({ ...u, normalised: v.normalised, reason: v.reason });
  }
  return out;
}

/**
 * Why the images of namespace `ns` are not all known: it could not be read, a workload resource could not be
 * listed there, or a workload's template is missing. Undefined when everything was read.
 */
export function unknownImagesIn(snapshot: Snapshot, ns: string): string | undefined {
  const info = snapshot.namespaces.find((n) => n.name === ns);
  if (info?.unreadable) return `namespace ${ns} could not be read`;
  const u = snapshot.unknown.find(
    (x) => WORKLOAD_RESOURCES.includes(x.resource) && (x.namespace === undefined || x.namespace === ns),
  );
  if (u) return `${u.resource} in ${ns} could not be read (${u.reason})`;
  const w = snapshot.workloads.find((x) => x.namespace === ns && !x.template);
  if (w) return `${w.kind} ${ns}/${w.name} could not be read`;
  return undefined;
}

/** One line per denied image: `Deployment shop/api: initContainer migrate uses evil.example/x (registry … )`. */
export function describeDenied(d: DeniedImage): string {
  return `${d.kind} ${d.namespace}/${d.name}${d.pod ? ` (pod ${d.pod})` : ''}: ${d.containerKind} ${d.container} uses ${d.image || '(no image)'} — ${d.reason}`;
}

/** The allow-list of kube-harden's registries policy in the snapshot (live, or written by a plan), if any. */
export function policyAllowList(snapshot: Snapshot): string[] | undefined {
  const p = snapshot.admissionPolicies.find(
    (x) => x.kind === 'ValidatingAdmissionPolicy' && x.name === POLICY_NAME,
  );
  return p?.allowedExpression !== undefined ? allowListOfExpression(p.allowedExpression) : undefined;
}
