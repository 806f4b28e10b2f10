/**
 * A deterministic generator of API-valid Pods that exercise every Pod Security Standards check, alone and in
 * combination, for the differential test against a real API server (test/integration/pss-differential.test.ts).
 *
 * A variant is a base (restricted-compliant or bare, Linux or Windows), a container layout (regular containers,
 * plain init containers, restartable "sidecar" init containers) and a list of traits. A trait changes one thing:
 * a pod-level field (host namespaces, sysctls, volumes, pod securityContext, annotations) or a field of one target
 * container. Generation has two phases:
 *
 *   1. systematic: every trait alone on a compliant base (regular container), alone on a compliant base but only in
 *      an init container, and on a bare base; plus every base × layout without traits;
 *   2. combinations: seeded random picks of 2–5 traits on random bases, layouts and targets.
 *
 * Every candidate passes `apiProblems` — a mirror of the pod validation rules of k8s.io/kubernetes v1.36
 * (`pkg/apis/core/validation`) that the traits can run into — and is deduplicated by content. A variant the API
 * server still rejects as invalid (422) is a bug here, not a Pod Security result.
 *
 * Not generated: ephemeral containers (the API forbids them on create: `spec.ephemeralContainers: Forbidden:
 * cannot be set on create`; they are added with the `ephemeralcontainers` subresource, which PSA evaluates as an
 * UPDATE), and `procMount`/`hostUsers` on Windows pods (forbidden there).
 */

export type Os = 'linux' | 'windows';
type Role = 'app' | 'init' | 'sidecar';

export interface PodVariant {
  /** Pod name: `v<index>-<base>-<traits>`, a valid DNS subdomain of at most 63 characters. */
  name: string;
  /** Readable summary, e.g. `linux strict-c/init: cap-add-sys-admin@init, host-pid`. */
  description: string;
  os: Os;
  base: string;
  layout: string;
  /** Trait IDs with their target container (`id@container`) for container traits. */
  traits: string[];
  pod: GeneratedPod;
}

export interface GeneratedPod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface GenerateOptions {
  /** PRNG seed of the combination phase. Default 0x5eed. */
  seed?: number;
  /** Number of combination variants added after the systematic phase. Default 160. */
  combinations?: number;
}

type Json = Record<string, unknown>;

interface ContainerDraft {
  role: Role;
  name: string;
  c: Json;
}

interface Draft {
  os: Os;
  annotations: Record<string, string>;
  spec: Json;
  containers: ContainerDraft[];
}

interface Trait {
  id: string;
  os: Os | 'any';
  scope: 'pod' | 'container';
  /** Container roles the trait may target (container traits). Default: all. */
  roles?: readonly Role[];
  apply(d: Draft, target: ContainerDraft | undefined): void;
}

const IMAGE = 'registry.k8s.io/pause:3.10';

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function obj(parent: Json, key: string): Json {
  let v = parent[key] as Json | undefined;
  if (!v || typeof v !== 'object') {
    v = {};
    parent[key] = v;
  }
  return v;
}

function list<T>(parent: Json, key: string): T[] {
  let v = parent[key] as T[] | undefined;
  if (!Array.isArray(v)) {
    v = [];
    parent[key] = v;
  }
  return v;
}

const podSc = (d: Draft): Json => obj(d.spec, 'securityContext');
const sc = (c: ContainerDraft): Json => obj(c.c, 'securityContext');

function addVolume(d: Draft, volume: Json): void {
  const volumes = list<Json>(d.spec, 'volumes');
  if (!volumes.some((v) => v.name === volume.name)) volumes.push(volume);
}

function addSysctls(d: Draft, names: readonly string[]): void {
  const sysctls = list<Json>(podSc(d), 'sysctls');
  for (const name of names) if (!sysctls.some((s) => s.name === name)) sysctls.push({ name, value: '1' });
}

function addCaps(c: ContainerDraft, caps: readonly string[]): void {
  const add = list<string>(obj(sc(c), 'capabilities'), 'add');
  for (const cap of caps) if (!add.includes(cap)) add.push(cap);
}

/** A container port unique in the pod (validation rejects duplicate hostPort/protocol pairs). */
function portOf(d: Draft, c: ContainerDraft): number {
  return 8080 + d.containers.indexOf(c);
}

function addPort(d: Draft, c: ContainerDraft, hostPort: boolean | 0): void {
  const containerPort = portOf(d, c);
  const ports = list<Json>(c.c, 'ports');
  if (ports.some((p) => p.containerPort === containerPort)) {
    if (hostPort === true)
      for (const p of ports) if (p.containerPort === containerPort) p.hostPort = containerPort;
    return;
  }
  ports.push(
    hostPort === true
      ? { containerPort, hostPort: containerPort }
      : hostPort === 0
        ? { containerPort, hostPort: 0 }
        : { containerPort },
  );
}

function deleteIn(parent: Json | undefined, key: string): void {
  if (parent) delete parent[key];
}

function deepClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** JSON with sorted object keys: the identity of a variant's content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** mulberry32: a small, fast, seedable PRNG (deterministic across platforms). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Bases and layouts

const LAYOUTS: Record<string, readonly [Role, string][]> = {
  one: [['app', 'app']],
  two: [
    ['app', 'app'],
    ['app', 'web'],
  ],
  init: [
    ['init', 'init'],
    ['app', 'app'],
  ],
  side: [
    ['sidecar', 'side'],
    ['app', 'app'],
  ],
  full: [
    ['init', 'init'],
    ['sidecar', 'side'],
    ['app', 'app'],
    ['app', 'web'],
  ],
};

/** Bases: a restricted-compliant pod (per container or at pod level) or one without any securityContext. */
const BASES: Record<string, { os: Os; apply(d: Draft): void }> = {
  // Linux, restricted-compliant, everything set per container.
  'strict-c': {
    os: 'linux',
    apply(d) {
      for (const c of d.containers) {
        Object.assign(sc(c), {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
    },
  },
  // Linux, restricted-compliant, runAsNonRoot and seccomp at pod level.
  'strict-p': {
    os: 'linux',
    apply(d) {
      Object.assign(podSc(d), { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of d.containers) {
        Object.assign(sc(c), { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      }
    },
  },
  bare: { os: 'linux', apply() {} },
  // Windows, restricted-compliant from v1.25 (only runAsNonRoot is still checked for Windows pods).
  'win-strict': {
    os: 'windows',
    apply(d) {
      Object.assign(podSc(d), { runAsNonRoot: true, windowsOptions: { runAsUserName: 'ContainerUser' } });
    },
  },
  'win-bare': { os: 'windows', apply() {} },
};

function newDraft(base: string, layout: string): Draft {
  const b = BASES[base];
  const l = LAYOUTS[layout];
  if (!b || !l) throw new Error(`unknown base ${base} or layout ${layout}`);
  const d: Draft = {
    os: b.os,
    annotations: {},
    spec: b.os === 'windows' ? { os: { name: 'windows' } } : {},
    containers: l.map(([role, name]) => ({
      role,
      name,
      c: { name, image: IMAGE, ...(role === 'sidecar' ? { restartPolicy: 'Always' } : {}) },
    })),
  };
  b.apply(d);
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// Traits

const PROBE_ROLES: readonly Role[] = ['app', 'sidecar'];

function podTrait(id: string, os: Trait['os'], apply: (d: Draft) => void): Trait {
  return { id, os, scope: 'pod', apply: (d) => apply(d) };
}

function ctrTrait(
  id: string,
  os: Trait['os'],
  apply: (c: ContainerDraft, d: Draft) => void,
  roles?: readonly Role[],
): Trait {
  return {
    id,
    os,
    scope: 'container',
    ...(roles ? { roles } : {}),
    apply: (d, c) => {
      if (!c) throw new Error(`trait ${id} needs a target container`);
      apply(c, d);
    },
  };
}

const RESTRICTED_VOLUMES: Record<string, Json> = {
  nfs: { nfs: { server: 'nfs.example.com', path: '/exports' } },
  iscsi: { iscsi: { targetPortal: '10.0.0.2:3260', iqn: 'iqn.2001-04.com.example:storage', lun: 0 } },
  'git-repo': { gitRepo: { repository: 'https://example.com/repo.git' } },
  rbd: { rbd: { monitors: ['10.0.0.3:6789'], image: 'disk' } },
  'flex-volume': { flexVolume: { driver: 'example.com/flex' } },
  cephfs: { cephfs: { monitors: ['10.0.0.3:6789'] } },
  fc: { fc: { targetWWNs: ['500a0982991b8dc5'], lun: 1 } },
  'aws-ebs': { awsElasticBlockStore: { volumeID: 'vol-0123' } },
  'gce-pd': { gcePersistentDisk: { pdName: 'disk-1' } },
  'azure-file': { azureFile: { secretName: 'azure', shareName: 'share' } },
};

const TRAITS: readonly Trait[] = [
  // hostNamespaces
  podTrait('host-network', 'any', (d) => {
    d.spec.hostNetwork = true;
  }),
  // hostNetwork with container ports and no hostPort: server defaulting turns them into hostPorts.
  podTrait('host-network-ports', 'any', (d) => {
    d.spec.hostNetwork = true;
    for (const c of d.containers) addPort(d, c, false);
  }),
  podTrait('host-pid', 'linux', (d) => {
    d.spec.hostPID = true;
  }),
  podTrait('host-ipc', 'linux', (d) => {
    d.spec.hostIPC = true;
  }),
  podTrait('host-ns-false', 'linux', (d) => {
    Object.assign(d.spec, { hostNetwork: false, hostPID: false, hostIPC: false });
  }),

  // hostPathVolumes / restrictedVolumes
  podTrait('vol-host-path', 'any', (d) => {
    addVolume(d, { name: 'host', hostPath: { path: '/var/run' } });
  }),
  podTrait('vol-host-path-2', 'any', (d) => {
    addVolume(d, { name: 'host-etc', hostPath: { path: '/etc', type: 'Directory' } });
    addVolume(d, { name: 'host-log', hostPath: { path: '/var/log' } });
  }),
  ...Object.entries(RESTRICTED_VOLUMES).map(([id, source]) =>
    podTrait(`vol-${id}`, 'any', (d) => addVolume(d, { name: `v-${id}`, ...deepClone(source) })),
  ),
  podTrait('vol-allowed', 'any', (d) => {
    addVolume(d, { name: 'cm', configMap: { name: 'cm' } });
    addVolume(d, { name: 'sec', secret: { secretName: 'sec' } });
    addVolume(d, { name: 'tmp', emptyDir: {} });
    addVolume(d, { name: 'proj', projected: { sources: [{ configMap: { name: 'cm' } }] } });
    addVolume(d, {
      name: 'dapi',
      downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
    });
    addVolume(d, { name: 'claim', persistentVolumeClaim: { claimName: 'data' } });
  }),
  podTrait('vol-allowed-2', 'linux', (d) => {
    addVolume(d, { name: 'inline-csi', csi: { driver: 'csi.example.com' } });
    addVolume(d, {
      name: 'eph',
      ephemeral: {
        volumeClaimTemplate: {
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      },
    });
    addVolume(d, { name: 'img', image: { reference: IMAGE, pullPolicy: 'IfNotPresent' } });
  }),
  // A volume without a source: the server defaults it to emptyDir before admission.
  podTrait('vol-no-source', 'any', (d) => addVolume(d, { name: 'nosrc' })),

  // sysctls (baseline allow-lists per version)
  podTrait('sysctl-v1.0', 'linux', (d) => addSysctls(d, ['kernel.shm_rmid_forced'])),
  podTrait('sysctl-v1.0-net', 'linux', (d) => addSysctls(d, ['net.ipv4.ip_local_port_range'])),
  podTrait('sysctl-v1.27', 'linux', (d) => addSysctls(d, ['net.ipv4.ip_local_reserved_ports'])),
  podTrait('sysctl-v1.29', 'linux', (d) => addSysctls(d, ['net.ipv4.tcp_keepalive_time'])),
  podTrait('sysctl-v1.32', 'linux', (d) => addSysctls(d, ['net.ipv4.tcp_rmem'])),
  podTrait('sysctl-v1.37', 'linux', (d) => addSysctls(d, ['net.ipv4.tcp_slow_start_after_idle'])),
  podTrait('sysctl-unsafe', 'linux', (d) => addSysctls(d, ['vm.swappiness'])),
  podTrait('sysctl-mixed', 'linux', (d) =>
    addSysctls(d, [
      'kernel.msgmax',
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_wmem',
      'kernel.shm_rmid_forced',
    ]),
  ),

  // pod securityContext
  podTrait('pod-run-as-non-root-false', 'any', (d) => {
    podSc(d).runAsNonRoot = false;
  }),
  podTrait('pod-run-as-non-root-true', 'any', (d) => {
    podSc(d).runAsNonRoot = true;
  }),
  podTrait('pod-run-as-non-root-unset', 'any', (d) =>
    deleteIn(d.spec.securityContext as Json, 'runAsNonRoot'),
  ),
  podTrait('pod-run-as-user-0', 'linux', (d) => {
    podSc(d).runAsUser = 0;
  }),
  podTrait('pod-run-as-user-1000', 'linux', (d) => {
    podSc(d).runAsUser = 1000;
  }),
  podTrait('pod-seccomp-unconfined', 'linux', (d) => {
    podSc(d).seccompProfile = { type: 'Unconfined' };
  }),
  podTrait('pod-seccomp-runtime-default', 'linux', (d) => {
    podSc(d).seccompProfile = { type: 'RuntimeDefault' };
  }),
  podTrait('pod-seccomp-localhost', 'linux', (d) => {
    podSc(d).seccompProfile = { type: 'Localhost', localhostProfile: 'profiles/audit.json' };
  }),
  podTrait('pod-seccomp-unset', 'linux', (d) => deleteIn(d.spec.securityContext as Json, 'seccompProfile')),
  podTrait('pod-selinux-spc', 'linux', (d) => {
    podSc(d).seLinuxOptions = { type: 'spc_t' };
  }),
  podTrait('pod-selinux-user-role', 'linux', (d) => {
    podSc(d).seLinuxOptions = { user: 'system_u', role: 'system_r', type: 'container_t' };
  }),
  podTrait('pod-selinux-engine', 'linux', (d) => {
    podSc(d).seLinuxOptions = { type: 'container_engine_t', level: 's0:c1,c2' };
  }),
  podTrait('pod-selinux-level', 'linux', (d) => {
    podSc(d).seLinuxOptions = { level: 's0:c123,c456' };
  }),
  podTrait('pod-apparmor-unconfined', 'linux', (d) => {
    podSc(d).appArmorProfile = { type: 'Unconfined' };
  }),
  podTrait('pod-apparmor-runtime-default', 'linux', (d) => {
    podSc(d).appArmorProfile = { type: 'RuntimeDefault' };
  }),
  podTrait('pod-apparmor-localhost', 'linux', (d) => {
    podSc(d).appArmorProfile = { type: 'Localhost', localhostProfile: 'k8s-nginx' };
  }),
  podTrait('host-users-false', 'linux', (d) => {
    d.spec.hostUsers = false;
  }),

  // seccomp annotations (checked by baseline before v1.19 only)
  podTrait('ann-seccomp-pod-unconfined', 'any', (d) => {
    d.annotations['seccomp.security.alpha.kubernetes.io/pod'] = 'unconfined';
  }),
  podTrait('ann-seccomp-pod-docker-default', 'any', (d) => {
    d.annotations['seccomp.security.alpha.kubernetes.io/pod'] = 'docker/default';
  }),
  // An annotation for a container the pod does not have: PSA only looks at the pod's containers.
  podTrait('ann-seccomp-ghost', 'any', (d) => {
    d.annotations['container.seccomp.security.alpha.kubernetes.io/ghost'] = 'unconfined';
  }),

  // Windows host process: every container must be a host process container, and hostNetwork is required.
  podTrait('win-host-process-pod', 'windows', (d) => {
    d.spec.hostNetwork = true;
    obj(podSc(d), 'windowsOptions').hostProcess = true;
  }),
  podTrait('win-host-process-containers', 'windows', (d) => {
    d.spec.hostNetwork = true;
    for (const c of d.containers) obj(sc(c), 'windowsOptions').hostProcess = true;
  }),
  podTrait('win-host-process-false', 'windows', (d) => {
    obj(podSc(d), 'windowsOptions').hostProcess = false;
  }),

  // privileged (allowPrivilegeEscalation=false cannot be combined with privileged=true: drop it)
  ctrTrait('privileged', 'linux', (c) => {
    sc(c).privileged = true;
    if (sc(c).allowPrivilegeEscalation === false) delete sc(c).allowPrivilegeEscalation;
  }),
  ctrTrait('privileged-false', 'linux', (c) => {
    sc(c).privileged = false;
  }),

  // capabilities
  ctrTrait('cap-add-net-bind-service', 'linux', (c) => addCaps(c, ['NET_BIND_SERVICE'])),
  ctrTrait('cap-add-chown', 'linux', (c) => addCaps(c, ['CHOWN'])),
  ctrTrait('cap-add-sys-admin', 'linux', (c) => addCaps(c, ['SYS_ADMIN'])),
  ctrTrait('cap-add-all', 'linux', (c) => addCaps(c, ['ALL'])),
  ctrTrait('cap-add-mixed', 'linux', (c) =>
    addCaps(c, ['SYS_TIME', 'NET_ADMIN', 'KILL', 'NET_BIND_SERVICE']),
  ),
  ctrTrait('cap-drop-none', 'linux', (c) => deleteIn(sc(c).capabilities as Json, 'drop')),
  ctrTrait('cap-drop-net-raw', 'linux', (c) => {
    obj(sc(c), 'capabilities').drop = ['NET_RAW'];
  }),
  ctrTrait('cap-drop-all-lowercase', 'linux', (c) => {
    obj(sc(c), 'capabilities').drop = ['all'];
  }),
  ctrTrait('cap-empty', 'linux', (c) => {
    sc(c).capabilities = {};
  }),

  // allowPrivilegeEscalation
  ctrTrait('ape-true', 'linux', (c) => {
    sc(c).allowPrivilegeEscalation = true;
  }),
  ctrTrait('ape-unset', 'linux', (c) => deleteIn(c.c.securityContext as Json, 'allowPrivilegeEscalation')),
  ctrTrait('ape-false', 'linux', (c) => {
    sc(c).allowPrivilegeEscalation = false;
  }),

  // runAsNonRoot / runAsUser
  ctrTrait('run-as-non-root-false', 'any', (c) => {
    sc(c).runAsNonRoot = false;
  }),
  ctrTrait('run-as-non-root-true', 'any', (c) => {
    sc(c).runAsNonRoot = true;
  }),
  ctrTrait('run-as-non-root-unset', 'any', (c) => deleteIn(c.c.securityContext as Json, 'runAsNonRoot')),
  ctrTrait('run-as-user-0', 'linux', (c) => {
    sc(c).runAsUser = 0;
  }),
  ctrTrait('run-as-user-1000', 'linux', (c) => {
    sc(c).runAsUser = 1000;
  }),

  // seccomp
  ctrTrait('seccomp-unconfined', 'linux', (c) => {
    sc(c).seccompProfile = { type: 'Unconfined' };
  }),
  ctrTrait('seccomp-runtime-default', 'linux', (c) => {
    sc(c).seccompProfile = { type: 'RuntimeDefault' };
  }),
  ctrTrait('seccomp-localhost', 'linux', (c) => {
    sc(c).seccompProfile = { type: 'Localhost', localhostProfile: 'profiles/strict.json' };
  }),
  ctrTrait('seccomp-unset', 'linux', (c) => deleteIn(c.c.securityContext as Json, 'seccompProfile')),
  ctrTrait('ann-seccomp-unconfined', 'any', (c, d) => {
    d.annotations[`container.seccomp.security.alpha.kubernetes.io/${c.name}`] = 'unconfined';
  }),
  ctrTrait('ann-seccomp-localhost', 'any', (c, d) => {
    d.annotations[`container.seccomp.security.alpha.kubernetes.io/${c.name}`] =
      'localhost/profiles/strict.json';
  }),

  // SELinux
  ctrTrait('selinux-spc', 'linux', (c) => {
    sc(c).seLinuxOptions = { type: 'spc_t' };
  }),
  ctrTrait('selinux-unconfined', 'linux', (c) => {
    sc(c).seLinuxOptions = { type: 'unconfined_t', level: 's0' };
  }),
  ctrTrait('selinux-user', 'linux', (c) => {
    sc(c).seLinuxOptions = { user: 'system_u' };
  }),
  ctrTrait('selinux-role', 'linux', (c) => {
    sc(c).seLinuxOptions = { role: 'system_r', type: 'container_init_t' };
  }),
  ctrTrait('selinux-engine', 'linux', (c) => {
    sc(c).seLinuxOptions = { type: 'container_engine_t' };
  }),
  ctrTrait('selinux-kvm', 'linux', (c) => {
    sc(c).seLinuxOptions = { type: 'container_kvm_t' };
  }),

  // AppArmor: fields and the deprecated annotation (which the server copies into the field before admission)
  ctrTrait('apparmor-unconfined', 'linux', (c) => {
    sc(c).appArmorProfile = { type: 'Unconfined' };
  }),
  ctrTrait('apparmor-runtime-default', 'linux', (c) => {
    sc(c).appArmorProfile = { type: 'RuntimeDefault' };
  }),
  ctrTrait('apparmor-localhost', 'linux', (c) => {
    sc(c).appArmorProfile = { type: 'Localhost', localhostProfile: 'k8s-apparmor-example' };
  }),
  ctrTrait('ann-apparmor-unconfined', 'any', (c, d) => {
    d.annotations[`container.apparmor.security.beta.kubernetes.io/${c.name}`] = 'unconfined';
  }),
  ctrTrait('ann-apparmor-runtime-default', 'any', (c, d) => {
    d.annotations[`container.apparmor.security.beta.kubernetes.io/${c.name}`] = 'runtime/default';
  }),
  ctrTrait('ann-apparmor-localhost', 'any', (c, d) => {
    d.annotations[`container.apparmor.security.beta.kubernetes.io/${c.name}`] =
      'localhost/k8s-apparmor-example';
  }),
  ctrTrait('ann-apparmor-empty', 'any', (c, d) => {
    d.annotations[`container.apparmor.security.beta.kubernetes.io/${c.name}`] = '';
  }),

  // procMount (Unmasked requires a user namespace: hostUsers=false)
  ctrTrait('proc-mount-unmasked', 'linux', (c, d) => {
    d.spec.hostUsers = false;
    sc(c).procMount = 'Unmasked';
  }),
  ctrTrait('proc-mount-default', 'linux', (c) => {
    sc(c).procMount = 'Default';
  }),

  // hostPorts
  ctrTrait('host-port', 'any', (c, d) => addPort(d, c, true)),
  ctrTrait('host-port-zero', 'any', (c, d) => addPort(d, c, 0)),
  ctrTrait('port', 'any', (c, d) => addPort(d, c, false)),

  // probe or lifecycle host (v1.34+); probes and lifecycle only exist on regular and sidecar containers
  ctrTrait(
    'probe-http-host',
    'any',
    (c) => {
      c.c.livenessProbe = { httpGet: { host: '169.254.169.254', path: '/healthz', port: 8080 } };
    },
    PROBE_ROLES,
  ),
  ctrTrait(
    'probe-tcp-host',
    'any',
    (c) => {
      c.c.readinessProbe = { tcpSocket: { host: 'metadata.internal', port: 8080 } };
    },
    PROBE_ROLES,
  ),
  ctrTrait(
    'probe-startup-host',
    'any',
    (c) => {
      c.c.startupProbe = { httpGet: { host: '10.0.0.1', port: 80 } };
    },
    PROBE_ROLES,
  ),
  ctrTrait(
    'lifecycle-host',
    'any',
    (c) => {
      c.c.lifecycle = {
        postStart: { httpGet: { host: '10.0.0.1', path: '/start', port: 80 } },
        preStop: { tcpSocket: { host: 'a.example.com', port: 81 } },
      };
    },
    PROBE_ROLES,
  ),
  ctrTrait(
    'probe-no-host',
    'any',
    (c) => {
      c.c.livenessProbe = { httpGet: { path: '/healthz', port: 8080 } };
      c.c.readinessProbe = { tcpSocket: { port: 8080 } };
    },
    PROBE_ROLES,
  ),
];

// ---------------------------------------------------------------------------------------------------------------
// Validity: the API validation rules (k8s.io/kubernetes v1.36 pkg/apis/core/validation) that traits can break

function effectiveAppArmor(d: Draft, c: ContainerDraft): Json | undefined {
  const own = (c.c.securityContext as Json | undefined)?.appArmorProfile as Json | undefined;
  return own ?? ((d.spec.securityContext as Json | undefined)?.appArmorProfile as Json | undefined);
}

function annotationMatchesAppArmor(annotation: string, profile: Json): boolean {
  switch (profile.type) {
    case 'Unconfined':
      return annotation === 'unconfined';
    case 'RuntimeDefault':
      return annotation === 'runtime/default';
    case 'Localhost':
      return annotation === `localhost/${String(profile.localhostProfile)}`;
    default:
      return true;
  }
}

function annotationMatchesSeccomp(annotation: string, profile: Json): boolean {
  switch (profile.type) {
    case 'Unconfined':
      return annotation === 'unconfined';
    case 'RuntimeDefault':
      return annotation === 'runtime/default' || annotation === 'docker/default';
    case 'Localhost':
      return annotation === `localhost/${String(profile.localhostProfile)}`;
    default:
      return true;
  }
}

const NET_SYSCTL = /^net\./;
const IPC_SYSCTL = /^(kernel\.(shm|msg|sem)|fs\.mqueue\.)/;

/** Why the API server would reject the draft as invalid (empty: valid as far as the traits can tell). */
function apiProblems(d: Draft): string[] {
  const problems: string[] = [];
  const spec = d.spec;
  const psc = (spec.securityContext as Json | undefined) ?? {};
  const hostUsersFalse = spec.hostUsers === false;

  if (hostUsersFalse && (spec.hostNetwork === true || spec.hostPID === true || spec.hostIPC === true)) {
    problems.push('host namespaces with hostUsers=false');
  }
  for (const s of (psc.sysctls as Json[] | undefined) ?? []) {
    const name = String(s.name);
    if (spec.hostNetwork === true && NET_SYSCTL.test(name)) problems.push(`sysctl ${name} with hostNetwork`);
    if (spec.hostIPC === true && IPC_SYSCTL.test(name)) problems.push(`sysctl ${name} with hostIPC`);
  }

  const podSeccomp = psc.seccompProfile as Json | undefined;
  const podSeccompAnnotation = d.annotations['seccomp.security.alpha.kubernetes.io/pod'];
  if (
    podSeccomp &&
    podSeccompAnnotation !== undefined &&
    !annotationMatchesSeccomp(podSeccompAnnotation, podSeccomp)
  ) {
    problems.push('pod seccomp annotation and field differ');
  }

  let hostProcessContainers = 0;
  const podHostProcess =
    ((psc.windowsOptions as Json | undefined)?.hostProcess as boolean | undefined) ?? undefined;
  for (const c of d.containers) {
    const csc = (c.c.securityContext as Json | undefined) ?? {};
    if (csc.privileged === true && csc.allowPrivilegeEscalation === false) {
      problems.push(`${c.name}: privileged with allowPrivilegeEscalation=false`);
    }
    const add = ((csc.capabilities as Json | undefined)?.add as string[] | undefined) ?? [];
    if (add.includes('CAP_SYS_ADMIN') && csc.allowPrivilegeEscalation === false) {
      problems.push(`${c.name}: CAP_SYS_ADMIN with allowPrivilegeEscalation=false`);
    }
    if (csc.procMount === 'Unmasked' && !hostUsersFalse)
      problems.push(`${c.name}: Unmasked without user namespace`);

    const apparmorAnnotation = d.annotations[`container.apparmor.security.beta.kubernetes.io/${c.name}`];
    const apparmor = effectiveAppArmor(d, c);
    if (d.os === 'linux' && apparmor && apparmorAnnotation !== undefined) {
      if (!annotationMatchesAppArmor(apparmorAnnotation, apparmor)) {
        problems.push(`${c.name}: AppArmor annotation and field differ`);
      }
    }
    const seccomp = csc.seccompProfile as Json | undefined;
    const seccompAnnotation = d.annotations[`container.seccomp.security.alpha.kubernetes.io/${c.name}`];
    if (seccomp && seccompAnnotation !== undefined && !annotationMatchesSeccomp(seccompAnnotation, seccomp)) {
      problems.push(`${c.name}: seccomp annotation and field differ`);
    }

    const ownHostProcess = (csc.windowsOptions as Json | undefined)?.hostProcess as boolean | undefined;
    if (podHostProcess !== undefined && ownHostProcess !== undefined && podHostProcess !== ownHostProcess) {
      problems.push(`${c.name}: hostProcess differs from the pod's`);
    }
    if (ownHostProcess === true || (ownHostProcess === undefined && podHostProcess === true))
      hostProcessContainers++;

    for (const p of (c.c.ports as Json[] | undefined) ?? []) {
      if (
        spec.hostNetwork === true &&
        p.hostPort !== undefined &&
        p.hostPort !== 0 &&
        p.hostPort !== p.containerPort
      ) {
        problems.push(`${c.name}: hostPort != containerPort with hostNetwork`);
      }
    }
  }
  if (hostProcessContainers > 0) {
    if (hostProcessContainers !== d.containers.length) problems.push('not all containers are hostProcess');
    if (spec.hostNetwork !== true) problems.push('hostProcess without hostNetwork');
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Assembly

function build(d: Draft, name: string): GeneratedPod {
  const spec = deepClone(d.spec);
  const init = d.containers.filter((c) => c.role !== 'app').map((c) => deepClone(c.c));
  const main = d.containers.filter((c) => c.role === 'app').map((c) => deepClone(c.c));
  for (const c of [...init, ...main]) {
    if (c.securityContext && Object.keys(c.securityContext as Json).length === 0) delete c.securityContext;
  }
  if (spec.securityContext && Object.keys(spec.securityContext as Json).length === 0)
    delete spec.securityContext;
  if (init.length > 0) spec.initContainers = init;
  spec.containers = main;
  const metadata: GeneratedPod['metadata'] = { name };
  if (Object.keys(d.annotations).length > 0) metadata.annotations = { ...d.annotations };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

function podName(index: number, base: string, traits: readonly string[]): string {
  const slug = [base, ...traits]
    .join('-')
    .toLowerCase()
    .replace(/@/g, '-at-')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-');
  return `v${String(index).padStart(3, '0')}-${slug}`.slice(0, 63).replace(/-+$/, '');
}

interface Pick {
  trait: Trait;
  /** Target container name for container traits. */
  target?: string;
}

function targetsFor(trait: Trait, d: Draft): ContainerDraft[] {
  return d.containers.filter((c) => !trait.roles || trait.roles.includes(c.role));
}

function compatible(trait: Trait, os: Os): boolean {
  return trait.os === 'any' || trait.os === os;
}

/** Generates the variants: systematic single-trait pods, then seeded combinations up to `count`. */
export function generatePodVariants(options: GenerateOptions = {}): PodVariant[] {
  const seed = options.seed ?? 0x5eed;
  const combinations = options.combinations ?? 160;
  const variants: PodVariant[] = [];
  const seen = new Set<string>();
  const rejected: string[] = [];

  const tryAdd = (base: string, layout: string, picks: readonly Pick[]): boolean => {
    const d = newDraft(base, layout);
    const labels: string[] = [];
    for (const { trait, target } of picks) {
      if (!compatible(trait, d.os)) return false;
      if (trait.scope === 'container') {
        const c = d.containers.find((x) => x.name === target);
        if (!c || (trait.roles && !trait.roles.includes(c.role))) return false;
        trait.apply(d, c);
        labels.push(`${trait.id}@${c.name}`);
      } else {
        trait.apply(d, undefined);
        labels.push(trait.id);
      }
    }
    const problems = apiProblems(d);
    if (problems.length > 0) {
      rejected.push(`${base}/${layout}: ${labels.join(', ')}: ${problems.join('; ')}`);
      return false;
    }
    const identity = canonical({ a: d.annotations, s: build(d, 'x').spec });
    if (seen.has(identity)) return false;
    seen.add(identity);
    const name = podName(variants.length, base, labels);
    variants.push({
      name,
      description: `${d.os} ${base}/${layout}${labels.length ? `: ${labels.join(', ')}` : ''}`,
      os: d.os,
      base,
      layout,
      traits: labels,
      pod: build(d, name),
    });
    return true;
  };

  // Phase 1: bases and layouts alone.
  for (const base of Object.keys(BASES)) {
    for (const layout of Object.keys(LAYOUTS)) tryAdd(base, layout, []);
  }

  // Phase 1: every trait alone — on a compliant base, only in an init container, and on a bare base.
  TRAITS.forEach((trait, i) => {
    for (const os of ['linux', 'windows'] as const) {
      if (!compatible(trait, os)) continue;
      const strict = os === 'windows' ? 'win-strict' : i % 2 === 0 ? 'strict-c' : 'strict-p';
      const bare = os === 'windows' ? 'win-bare' : 'bare';
      if (trait.scope === 'pod') {
        tryAdd(strict, 'one', [{ trait }]);
        tryAdd(bare, 'full', [{ trait }]);
        continue;
      }
      tryAdd(strict, 'one', [{ trait, target: 'app' }]);
      // The violation only in an init container (a sidecar for probes and lifecycle).
      const initTarget = trait.roles && !trait.roles.includes('init') ? 'side' : 'init';
      tryAdd(strict, initTarget === 'side' ? 'side' : 'init', [{ trait, target: initTarget }]);
      tryAdd(bare, 'two', [{ trait, target: 'web' }]);
    }
  });

  // Phase 2: seeded combinations.
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const bases = Object.keys(BASES);
  const layouts = Object.keys(LAYOUTS);
  const count = variants.length + combinations;
  for (let attempt = 0; variants.length < count && attempt < combinations * 50; attempt++) {
    const os: Os = random() < 0.2 ? 'windows' : 'linux';
    const base = pick(bases.filter((b) => BASES[b]?.os === os));
    const layout = pick(layouts);
    const d = newDraft(base, layout);
    const k = 2 + Math.floor(random() * 4);
    const candidates = TRAITS.filter((t) => compatible(t, os));
    const picks: Pick[] = [];
    const used = new Set<string>();
    while (picks.length < k && used.size < candidates.length) {
      const trait = pick(candidates);
      if (used.has(trait.id)) continue;
      used.add(trait.id);
      if (trait.scope === 'pod') {
        picks.push({ trait });
        continue;
      }
      const targets = targetsFor(trait, d);
      if (targets.length === 0) continue;
      picks.push({ trait, target: pick(targets).name });
    }
    tryAdd(base, layout, picks);
  }
  if (variants.length < count) {
    throw new Error(
      `generated only ${variants.length} of ${count} variants (${rejected.length} combinations rejected as invalid)`,
    );
  }
  return variants;
}
