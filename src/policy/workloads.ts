/**
 * Per-pod-spec facts beyond Pod Security: containers that may run as root, containers without limits, images,
 * and the ServiceAccount token decision. Pod specs in a snapshot are interned, so facts are cached per object.
 */
import type { ContainerLite, PodTemplateLite, ServiceAccountInfo } from '../inventory/types.js';

type Ctx = Record<string, unknown> | undefined;

export interface ContainerRef {
  name: string;
  /** `initContainers`, `containers` or `ephemeralContainers`. */
  list: 'initContainers' | 'containers' | 'ephemeralContainers';
}

export interface RootContainer extends ContainerRef {
  reason: string;
}

export interface SpecFacts {
  /** Containers that may run as root (see `mayRunAsRoot`). */
  root: RootContainer[];
  /** Init and regular containers with no `resources.limits` (or an empty one). */
  noLimits: ContainerRef[];
  /** Init and regular containers without `readOnlyRootFilesystem: true` (Linux pods only). */
  writableRoot: ContainerRef[];
  /** Every container's image, in visiting order. */
  images: Array<{ container: string; image: string }>;
  serviceAccount: string;
  /** The pod's own `automountServiceAccountToken`, if set. */
  automount?: boolean;
}

/** Containers in `visitContainers` order (init, regular, ephemeral), like Pod Security. */
export function containersOf(pod: PodTemplateLite): Array<{ c: ContainerLite; list: ContainerRef['list'] }> {
  const out: Array<{ c: ContainerLite; list: ContainerRef['list'] }> = [];
  for (const c of pod.spec.initContainers ?? []) out.push({ c, list: 'initContainers' });
  for (const c of pod.spec.containers ?? []) out.push({ c, list: 'containers' });
  for (const c of pod.spec.ephemeralContainers ?? []) out.push({ c, list: 'ephemeralContainers' });
  return out;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/**
 * Whether a container may run as root (UID 0). The effective value of a field is the container's
 * `securityContext` value, else the pod's (`spec.securityContext`), as the kubelet resolves them:
 * - effective `runAsUser` is 0 → root, explicitly;
 * - effective `runAsUser` is unset and effective `runAsNonRoot` is not `true` → the image's USER decides, which
 *   may be root (the kubelet refuses to start a root image only when runAsNonRoot is true).
 * A non-zero effective `runAsUser` or `runAsNonRoot: true` (without runAsUser 0) is not root. Windows pods
 * (`spec.os.name: windows`) are skipped: UIDs do not apply.
 */
export function mayRunAsRoot(pod: PodTemplateLite, container: ContainerLite): boolean {
  return rootReason(pod, container) !== undefined;
}

/** Why a container may run as root (see `mayRunAsRoot`), or undefined when it cannot. */
export function rootReason(pod: PodTemplateLite, container: ContainerLite): string | undefined {
  if (pod.spec.os?.name === 'windows') return undefined;
  const podSc = pod.spec.securityContext as Ctx;
  const sc = container.securityContext as Ctx;
  const own = num(sc?.runAsUser);
  const user = own ?? num(podSc?.runAsUser);
  if (user !== undefined) {
    return user === 0 ? `runAsUser: 0${own === undefined ? ' (pod securityContext)' : ''}` : undefined;
  }
  if ((bool(sc?.runAsNonRoot) ?? bool(podSc?.runAsNonRoot)) === true) return undefined;
  return 'neither runAsNonRoot: true nor a non-zero runAsUser (the image decides)';
}

/** No `resources.limits` at all, or an empty map. Ephemeral containers cannot have resources: not counted. */
export function hasNoLimits(container: ContainerLite): boolean {
  const limits = container.resources?.limits;
  return !limits || Object.keys(limits).length === 0;
}

/** `readOnlyRootFilesystem` is not `true` (Windows containers cannot set it: not counted there). */
export function hasWritableRoot(container: ContainerLite): boolean {
  return container.securityContext?.readOnlyRootFilesystem !== true;
}

const factsCache = new WeakMap<PodTemplateLite, SpecFacts>();

export function specFacts(pod: PodTemplateLite): SpecFacts {
  const hit = factsCache.get(pod);
  if (hit) return hit;
  const facts: SpecFacts = {
    root: [],
    noLimits: [],
    writableRoot: [],
    images: [],
    serviceAccount: pod.spec.serviceAccountName || 'default',
  };
  if (typeof pod.spec.automountServiceAccountToken === 'boolean')
    facts.automount = pod.spec.automountServiceAccountToken;
  for (const { c, list } of containersOf(pod)) {
    const reason = rootReason(pod, c);
    if (reason !== undefined) facts.root.push({ name: c.name, list, reason });
    if (list !== 'ephemeralContainers' && hasNoLimits(c)) facts.noLimits.push({ name: c.name, list });
    if (list !== 'ephemeralContainers' && pod.spec.os?.name !== 'windows' && hasWritableRoot(c))
      facts.writableRoot.push({ name: c.name, list });
    if (typeof c.image === 'string' && c.image !== '')
      facts.images.push({ container: c.name, image: c.image });
  }
  factsCache.set(pod, facts);
  return facts;
}

export interface TokenDecision {
  value: boolean | 'unknown';
  reason: string;
}

/**
 * Whether pods get a ServiceAccount token (`plugin/pkg/admission/serviceaccount/admission.go` shouldAutomount):
 * the pod's `automountServiceAccountToken` wins if set, else the ServiceAccount's, else true. A ServiceAccount
 * that could not be read, or that is missing (other than `default`, which always exists), makes it unknown.
 */
export function tokenDecision(
  facts: Pick<SpecFacts, 'automount' | 'serviceAccount'>,
  sa: ServiceAccountInfo | undefined,
  serviceAccountsUnknown: boolean,
): TokenDecision {
  if (facts.automount !== undefined) {
    return {
      value: facts.automount,
      reason: `the pod sets automountServiceAccountToken: ${facts.automount}`,
    };
  }
  if (sa) {
    if (sa.automountServiceAccountToken !== undefined) {
      return {
        value: sa.automountServiceAccountToken,
        reason: `the ServiceAccount sets automountServiceAccountToken: ${sa.automountServiceAccountToken}`,
      };
    }
    return {
      value: true,
      reason: 'neither the pod nor the ServiceAccount sets automountServiceAccountToken (default true)',
    };
  }
  if (serviceAccountsUnknown) return { value: 'unknown', reason: 'the ServiceAccount could not be read' };
  if (facts.serviceAccount === 'default') {
    return {
      value: true,
      reason: 'neither the pod nor the ServiceAccount sets automountServiceAccountToken (default true)',
    };
  }
  return { value: 'unknown', reason: 'the ServiceAccount was not found' };
}
