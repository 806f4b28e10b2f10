/**
 * The server-side defaulting that runs before admission and changes what PSA sees (k8s.io/kubernetes
 * `pkg/apis/core/v1/defaults.go`):
 * - `SetDefaults_Pod` → `defaultHostNetworkPorts`: with `hostNetwork: true`, every containers[*]/initContainers[*]
 *   `ports[*].hostPort` that is 0 or unset becomes the `containerPort`. Since 1.28 this runs for Pods only; pod
 *   templates get it only with the deprecated feature gate DefaultHostNetworkHostPortsInPodTemplates (off).
 * - `SetDefaults_Volume`: a volume with no source (every VolumeSource pointer nil) becomes `emptyDir: {}`.
 *
 * and the part of Pod create preparation that PSA sees (`pkg/registry/core/pod/strategy.go` PrepareForCreate; PSA
 * is a validating admission plugin, so it runs after it):
 * - `applyAppArmorVersionSkew` (Pods only, servers since 1.30, not Windows pods): a container without
 *   `securityContext.appArmorProfile` that has a deprecated `container.apparmor.security.beta.kubernetes.io/<name>`
 *   annotation gets the equivalent field, unless it equals the pod-level profile. So an `unconfined` annotation is
 *   reported by PSA twice: as the annotation and as the container's `Unconfined` field. (Servers 1.30–1.3x also
 *   copied fields into missing annotations; that is not modelled: it only adds an annotation with the same value
 *   as a field that already fails, so the verdict is unchanged.)
 */
import { ALLOWED_SOURCES, RESTRICTED_SOURCES } from './checks/restricted-volumes.js';
import { rec } from './helpers.js';
import type { JsonObject, PodLike } from './types.js';

export interface ServerDefaultsOptions {
  /**
   * The object is a workload's pod template (Deployment, Job, …), not a Pod: hostPort defaulting is skipped unless
   * `serverMinor` is below 28, and the AppArmor annotation sync (Pod create preparation) never happens.
   * @default false
   */
  podTemplate?: boolean;
  /**
   * Minor version of the target API server: pod templates get hostPort defaulting below 28, Pods get the AppArmor
   * annotation sync from 30. Absent: a current server.
   */
  serverMinor?: number;
}

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const MAX_LOCALHOST_PROFILE_BYTES = 4095; // PATH_MAX - 1 (ValidateAppArmorProfileField)

/**
 * The fields of `corev1.VolumeSource` in k8s.io/api v0.37.2: every source is either allowed or restricted by
 * check_restrictedVolumes.go, so the two lists of that check are the whole set.
 */
const VOLUME_SOURCE_FIELDS: readonly string[] = [...ALLOWED_SOURCES, ...RESTRICTED_SOURCES];

// Port of ptr.AllPtrFieldsNil(&volume.VolumeSource).
function hasNoSource(volume: unknown): boolean {
  const v = rec(volume);
  if (!v) return true;
  for (const field of VOLUME_SOURCE_FIELDS) if (rec(v[field])) return false;
  return true;
}

function hostPortDefaulting(spec: JsonObject, options: ServerDefaultsOptions | undefined): boolean {
  if (spec.hostNetwork !== true) return false;
  if (!options?.podTemplate) return true;
  return options.serverMinor !== undefined && options.serverMinor < 28;
}

// A port that defaultHostNetworkPorts changes: hostPort 0/unset and a non-zero containerPort.
function portNeedsDefault(port: unknown): boolean {
  const p = rec(port);
  if (!p) return false;
  const hostPort = p.hostPort;
  return (hostPort == null || hostPort === 0) && typeof p.containerPort === 'number' && p.containerPort !== 0;
}

function containerNeedsDefault(container: unknown): boolean {
  const ports = rec(container)?.ports;
  return Array.isArray(ports) && ports.some(portNeedsDefault);
}

// Go's unicode.IsSpace (strings.TrimSpace): unlike String.prototype.trim, U+0085 is a space and U+FEFF is not.
const GO_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;

function utf8Length(value: string): number {
  let bytes = 0;
  for (const ch of value) {
    const cp = ch.codePointAt(0) as number;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/**
 * Port of `podutil.ApparmorFieldForAnnotation` followed by `ValidateAppArmorProfileField` (an invalid field is not
 * copied): the field for an annotation value, or undefined.
 */
function appArmorFieldForAnnotation(annotation: string): JsonObject | undefined {
  if (annotation === 'unconfined') return { type: 'Unconfined' };
  if (annotation === 'runtime/default') return { type: 'RuntimeDefault' };
  if (annotation.startsWith('localhost/')) {
    const localhostProfile = annotation.slice('localhost/'.length);
    if (localhostProfile === '' || GO_SPACE.test(localhostProfile)) return undefined;
    if (utf8Length(localhostProfile) > MAX_LOCALHOST_PROFILE_BYTES) return undefined;
    return { type: 'Localhost', localhostProfile };
  }
  return undefined;
}

// apiequality.Semantic.DeepEqual of two *AppArmorProfile (type, *localhostProfile); null is Go's nil.
function sameAppArmorProfile(a: JsonObject, b: JsonObject | undefined): boolean {
  if (!b) return false;
  const pa = a.localhostProfile ?? undefined;
  const pb = b.localhostProfile ?? undefined;
  return (a.type ?? '') === (b.type ?? '') && pa === pb;
}

function appArmorSync(pod: PodLike, spec: JsonObject, options: ServerDefaultsOptions | undefined): boolean {
  if (options?.podTemplate) return false;
  if (options?.serverMinor !== undefined && options.serverMinor < 30) return false;
  return rec(spec.os)?.name !== 'windows' && rec(pod.metadata?.annotations) !== undefined;
}

// The field the annotation sync gives the container, or undefined when it leaves the container alone.
function syncedAppArmorField(
  annotations: JsonObject,
  container: unknown,
  podProfile: JsonObject | undefined,
): JsonObject | undefined {
  const c = rec(container);
  if (!c) return undefined;
  const key = APPARMOR_ANNOTATION_PREFIX + (typeof c.name === 'string' ? c.name : '');
  if (!Object.hasOwn(annotations, key)) return undefined;
  const annotation = annotations[key];
  if (typeof annotation !== 'string') return undefined;
  if (rec(rec(c.securityContext)?.appArmorProfile)) return undefined;
  const field = appArmorFieldForAnnotation(annotation);
  return field && !sameAppArmorProfile(field, podProfile) ? field : undefined;
}

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

function needsAppArmorSync(
  pod: PodLike,
  spec: JsonObject,
  options: ServerDefaultsOptions | undefined,
): boolean {
  if (!appArmorSync(pod, spec, options)) return false;
  const annotations = rec(pod.metadata?.annotations) as JsonObject;
  let any = false;
  for (const key in annotations) {
    if (key.startsWith(APPARMOR_ANNOTATION_PREFIX)) {
      any = true;
      break;
    }
  }
  if (!any) return false;
  const podProfile = rec(rec(spec.securityContext)?.appArmorProfile);
  for (const list of CONTAINER_LISTS) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    for (const c of containers) if (syncedAppArmorField(annotations, c, podProfile)) return true;
  }
  return false;
}

/** True when `applyServerDefaults` would change the pod. Allocation-free; used by `evaluatePod`. */
export function needsServerDefaults(pod: PodLike, options?: ServerDefaultsOptions): boolean {
  const spec = rec(pod.spec);
  if (!spec) return false;
  const volumes = spec.volumes;
  if (Array.isArray(volumes) && volumes.some(hasNoSource)) return true;
  if (needsAppArmorSync(pod, spec, options)) return true;
  if (!hostPortDefaulting(spec, options)) return false;
  for (const key of ['containers', 'initContainers'] as const) {
    const list = spec[key];
    if (Array.isArray(list) && list.some(containerNeedsDefault)) return true;
  }
  return false;
}

// Port of defaultHostNetworkPorts; copy-on-write, returns the same list when nothing changes.
function defaultHostNetworkPorts(containers: readonly unknown[]): readonly unknown[] {
  if (!containers.some(containerNeedsDefault)) return containers;
  return containers.map((container) => {
    if (!containerNeedsDefault(container)) return container;
    const c = container as JsonObject;
    const ports = (c.ports as unknown[]).map((port) =>
      portNeedsDefault(port)
        ? { ...(port as JsonObject), hostPort: (port as JsonObject).containerPort }
        : port,
    );
    return { ...c, ports };
  });
}

/**
 * Applies the server-side defaulting and create preparation that admission sees and that matter for PSS: with
 * hostNetwork, containers'/initContainers' `ports[].hostPort` 0/unset := containerPort (Pods only since 1.28, see
 * `ServerDefaultsOptions.podTemplate`); a volume with no source := emptyDir; deprecated AppArmor annotations :=
 * container `appArmorProfile` fields (Pods only, see the module comment). Returns a new object and never mutates
 * the input; unchanged parts are shared with it.
 */
export function applyServerDefaults(pod: PodLike, options?: ServerDefaultsOptions): PodLike {
  const spec = rec(pod.spec);
  if (!spec) return { ...pod };
  let next: JsonObject | undefined;

  if (hostPortDefaulting(spec, options)) {
    for (const key of ['containers', 'initContainers'] as const) {
      const list = spec[key];
      if (!Array.isArray(list)) continue;
      const defaulted = defaultHostNetworkPorts(list);
      if (defaulted !== list) {
        next ??= { ...spec };
        next[key] = defaulted;
      }
    }
  }

  const volumes = spec.volumes;
  if (Array.isArray(volumes) && volumes.some(hasNoSource)) {
    next ??= { ...spec };
    next.volumes = volumes.map((volume) =>
      hasNoSource(volume) ? { ...(rec(volume) ?? {}), emptyDir: {} } : volume,
    );
  }

  // Port of applyAppArmorVersionSkew (after defaulting, as in the request flow; it reads no defaulted field).
  if (needsAppArmorSync(pod, spec, options)) {
    const annotations = rec(pod.metadata?.annotations) as JsonObject;
    const podProfile = rec(rec(spec.securityContext)?.appArmorProfile);
    next ??= { ...spec };
    for (const list of CONTAINER_LISTS) {
      const containers = next[list];
      if (!Array.isArray(containers)) continue;
      if (!containers.some((c) => syncedAppArmorField(annotations, c, podProfile))) continue;
      next[list] = containers.map((c) => {
        const field = syncedAppArmorField(annotations, c, podProfile);
        if (!field) return c;
        const container = c as JsonObject;
        return {
          ...container,
          securityContext: { ...(rec(container.securityContext) ?? {}), appArmorProfile: field },
        };
      });
    }
  }

  return { ...pod, spec: next ?? spec };
}
