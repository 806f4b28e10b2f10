/**
 * The server-side defaulting that runs before admission and changes what PSA sees (k8s.io/kubernetes
 * `pkg/apis/core/v1/defaults.go`):
 * - `SetDefaults_Pod` → `defaultHostNetworkPorts`: with `hostNetwork: true`, every containers[*]/initContainers[*]
 *   `ports[*].hostPort` that is 0 or unset becomes the `containerPort`. Since 1.28 this runs for Pods only; pod
 *   templates get it only with the deprecated feature gate DefaultHostNetworkHostPortsInPodTemplates (off).
 * - `SetDefaults_Volume`: a volume with no source (every VolumeSource pointer nil) becomes `emptyDir: {}`.
 */
import { rec } from './helpers.js';
import type { JsonObject, PodLike } from './types.js';

export interface ServerDefaultsOptions {
  /**
   * The object is a workload's pod template (Deployment, Job, …), not a Pod: hostPort defaulting is skipped unless
   * `serverMinor` is below 28.
   * @default false
   */
  podTemplate?: boolean;
  /** Minor version of the target API server; only consulted for pod templates. */
  serverMinor?: number;
}

/** The fields of `corev1.VolumeSource` in k8s.io/api v0.37.2. */
const VOLUME_SOURCE_FIELDS = [
  // The common ones first: the scan stops at the first source found.
  'configMap',
  'secret',
  'projected',
  'emptyDir',
  'persistentVolumeClaim',
  'hostPath',
  'downwardAPI',
  'csi',
  'ephemeral',
  'image',
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

/** True when `applyServerDefaults` would change the pod. Allocation-free; used by `evaluatePod`. */
export function needsServerDefaults(pod: PodLike, options?: ServerDefaultsOptions): boolean {
  const spec = rec(pod.spec);
  if (!spec) return false;
  const volumes = spec.volumes;
  if (Array.isArray(volumes) && volumes.some(hasNoSource)) return true;
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
 * Applies the server-side defaulting that admission sees and that matters for PSS: with hostNetwork,
 * containers'/initContainers' `ports[].hostPort` 0/unset := containerPort (Pods only since 1.28, see
 * `ServerDefaultsOptions.podTemplate`); a volume with no source := emptyDir. Returns a new object and never
 * mutates the input; unchanged parts are shared with it.
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

  return { ...pod, spec: next ?? spec };
}
