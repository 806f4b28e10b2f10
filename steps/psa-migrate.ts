/**
 * Phase 2, opt-in (`kube-harden migrate -n NS`): fix the workloads that keep a namespace from enforcing its target
 * Pod Security level. For each blocking workload the fix is a server-side apply configuration of its pod template
 * that sets only what the failing checks need — `allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]`,
 * seccomp `RuntimeDefault`, `runAsNonRoot: true` (+ `runAsUser` for images known to run as a non-root UID) — and
 * never loosens anything. The patched template is evaluated again; what still fails (hostPath, privileged, …) is
 * named in the change's notes with the next action. `readOnlyRootFilesystem: true` + an `emptyDir` at `/tmp` is a
 * separate, optional change. Workloads whose source of truth is Helm, Argo CD or Flux get their fix exported as a
 * patch, with a note that the source must change too.
 *
 * Checks and messages mirror k8s.io/pod-security-admission `policy/check_*.go` (see src/policy/pss). Validation
 * rules mirror kubernetes `pkg/apis/core/validation/validation.go` (ValidateSecurityContext: allowPrivilegeEscalation
 * false is invalid with privileged true or with capabilities.add CAP_SYS_ADMIN; Windows pods may not set
 * Linux-only fields) and `pkg/apis/batch/validation` (a Job's pod template is immutable).
 */

import { contains, mergeApply } from '../src/engine/fields.js';
import type { ObjectRule, ValueRule } from '../src/engine/targets.js';
import type { Change, Step, StepFinding, Verification } from '../src/engine/types.js';
import { projectPodSpec, securityAnnotations } from '../src/inventory/project.js';
import { inScope } from '../src/inventory/scope.js';
import type { ManagedBy, WorkloadKind } from '../src/inventory/types.js';
import { Kinds } from '../src/k8s/kinds.js';
import type { AccessCheck, KubeObject, ObjectRef } from '../src/k8s/types.js';
import type { NamespacePosture, PsaLabel } from '../src/policy/assess.js';
import { parseImage } from '../src/policy/images.js';
import {
  type CheckViolation,
  compareLevels,
  evaluatePod,
  type Level,
  type PolicyVersionString,
} from '../src/policy/pss/index.js';
import { pinnedVersion } from './psa-labels.js';

type J = Record<string, unknown>;
type FixLevel = 'baseline' | 'restricted';

const isMap = (v: unknown): v is J => v !== null && typeof v === 'object' && !Array.isArray(v);
const map = (v: unknown): J => (isMap(v) ? v : {});
const list = (v: unknown): J[] => (Array.isArray(v) ? v.filter(isMap) : []);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

export const TARGET_SETTING = 'psa-migrate.target';

/**
 * Images known to run as a non-root numeric UID by default (their Dockerfile's `USER`). Only for these is
 * `runAsUser` set; any other image must itself run as a non-root numeric user for `runAsNonRoot: true` to let it
 * start. Keep the list short and sourced: a wrong entry makes a container run as a user its image never expected.
 */
export const KNOWN_NONROOT_IMAGES: ReadonlyArray<{
  registry: string;
  repository: RegExp;
  tag?: RegExp;
  uid: number;
  source: string;
}> = [
  {
    registry: 'docker.io',
    repository: /^nginxinc\/nginx-unprivileged$/,
    uid: 101,
    source: 'nginxinc/docker-nginx-unprivileged: USER 101',
  },
  {
    registry: 'ghcr.io',
    repository: /^nginxinc\/nginx-unprivileged$/,
    uid: 101,
    source: 'nginxinc/docker-nginx-unprivileged: USER 101',
  },
  {
    registry: 'registry.k8s.io',
    repository: /^ingress-nginx\/controller$/,
    uid: 101,
    source: 'ingress-nginx controller image: www-data, UID 101',
  },
  {
    registry: 'gcr.io',
    repository: /^distroless\//,
    tag: /^(.*-)?nonroot$/,
    uid: 65532,
    source: 'distroless :nonroot tags: USER 65532',
  },
  {
    registry: 'docker.io',
    repository: /^bitnami\//,
    uid: 1001,
    source: 'Bitnami non-root images: USER 1001',
  },
  {
    registry: 'quay.io',
    repository: /^prometheus\/(prometheus|alertmanager|node-exporter|blackbox-exporter)$/,
    uid: 65534,
    source: 'Prometheus images: USER nobody (65534), a name the kubelet cannot verify as non-root',
  },
];

/** The UID an image is known to run as, if it is in KNOWN_NONROOT_IMAGES. */
export function knownNonRootUid(image: string | undefined): { uid: number; source: string } | undefined {
  if (!image) return undefined;
  const ref = parseImage(image);
  const hit = KNOWN_NONROOT_IMAGES.find(
    (k) =>
      k.registry === ref.registry &&
      k.repository.test(ref.repository) &&
      (!k.tag || (ref.tag !== undefined && k.tag.test(ref.tag))),
  );
  return hit ? { uid: hit.uid, source: hit.source } : undefined;
}

const KUBELET_NONROOT =
  'otherwise the kubelet refuses to start it (CreateContainerConfigError: "container has runAsNonRoot and image will run as root" or "… has non-numeric user")';

/** What to do about a check kube-harden does not fix by itself. */
const NEXT_ACTION: Record<string, string> = {
  privileged:
    'remove securityContext.privileged (grant only the capabilities the container needs), or move the workload to a namespace of its own with a lower level',
  hostNamespaces:
    'remove hostNetwork/hostPID/hostIPC (expose the app through a Service), or move the workload to a namespace of its own with a lower level',
  hostPathVolumes:
    'replace the hostPath volume with a PersistentVolumeClaim, emptyDir, configMap/secret or CSI volume, or move the workload to a namespace of its own with a lower level',
  restrictedVolumes:
    'use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volumes (a hostPath or network volume can be reached through a PersistentVolumeClaim)',
  hostPorts: 'remove the hostPort (reach the container through a Service)',
  capabilities_baseline:
    'remove the non-default capabilities from securityContext.capabilities.add (fix the app so that it does not need them)',
  appArmorProfile: 'remove the Unconfined AppArmor profile (use RuntimeDefault or a Localhost profile)',
  seLinuxOptions: 'remove the custom SELinux type, user and role',
  procMount: 'remove securityContext.procMount (Default)',
  procMount_restricted: 'remove securityContext.procMount (Default)',
  sysctls: 'remove the unsafe sysctls from spec.securityContext.sysctls',
  windowsHostProcess:
    'remove windowsOptions.hostProcess (HostProcess containers need a privileged namespace)',
  hostProbesAndHostLifecycle:
    'remove the host from the probe and lifecycle handlers (they target the pod IP)',
  runAsUser:
    'remove runAsUser: 0; build the image with a numeric non-root USER and set runAsUser to it if the image does not',
  runAsNonRoot: `make the image run as a non-root numeric user and set runAsNonRoot: true; ${KUBELET_NONROOT}`,
  allowPrivilegeEscalation: 'set securityContext.allowPrivilegeEscalation: false on every container',
  capabilities_restricted:
    'set securityContext.capabilities.drop: ["ALL"] and add back at most NET_BIND_SERVICE (fix the app so that it does not need the others)',
  seccompProfile_baseline: 'remove the Unconfined seccomp profile (RuntimeDefault)',
  seccompProfile_restricted: 'set securityContext.seccompProfile.type: RuntimeDefault',
};

interface ContainerView {
  list: 'initContainers' | 'containers';
  name: string;
  image?: string;
  sc: J;
  mounts: J[];
}

function views(spec: J): ContainerView[] {
  const out: ContainerView[] = [];
  for (const key of ['initContainers', 'containers'] as const) {
    for (const c of list(spec[key])) {
      out.push({
        list: key,
        name: String(c.name ?? ''),
        ...(typeof c.image === 'string' ? { image: c.image } : {}),
        sc: map(c.securityContext),
        mounts: list(c.volumeMounts),
      });
    }
  }
  return out;
}

function quoteNames(names: readonly string[]): string {
  const q = names.map((n) => `"${n}"`).join(', ');
  return `${names.length === 1 ? 'container' : 'containers'} ${q}`;
}

const SECCOMP_OK = new Set(['RuntimeDefault', 'Localhost']);

export interface TemplateFix {
  /** Apply-configuration fragment of the pod template (`{spec: …}`); absent when nothing can be fixed here. */
  fix?: J;
  /** `fix` plus readOnlyRootFilesystem and an emptyDir at /tmp; absent when already in place (or Windows). */
  optional?: J;
  /** What the fix sets, for people. */
  fixed: string[];
  /** What the optional change sets, for people. */
  optionalFixed: string[];
  /** Checks the fix addresses. */
  fixedChecks: string[];
  /** The exact next actions: skipped fixes, images that must run as non-root, what still fails. */
  notes: string[];
  /** Violations of the template with the fix applied (evaluated with the same evaluator). */
  remaining: CheckViolation[];
  /** Violations of the template as it is. */
  before: CheckViolation[];
}

export interface FixPolicy {
  level: FixLevel;
  version: PolicyVersionString;
  serverMinor?: number;
}

/**
 * The fix of one pod template (`{metadata, spec}` of a workload, as JSON) for one level. Pure. Checks covered by
 * a valid exception (`excepted`: check → exception ids) are left alone.
 */
export function fixTemplate(
  template: { metadata?: J; spec: J },
  policy: FixPolicy,
  excepted: ReadonlyMap<string, readonly string[]> = new Map(),
): TemplateFix {
  const evalOpts = policy.serverMinor === undefined ? undefined : { serverMinor: policy.serverMinor };
  const lv = { level: policy.level, version: policy.version };
  const before = evaluatePod(lv, template, evalOpts).violations;
  const failing = new Set(before.map((v) => v.check).filter((c) => !excepted.has(c)));
  const spec = template.spec;
  const podSc = map(spec.securityContext);
  const windows = map(spec.os).name === 'windows';
  const all = views(spec);
  const podPatch: J = {};
  const ctrPatch = new Map<string, { view: ContainerView; sc: J }>();
  const setC = (v: ContainerView, patch: J) => {
    const key = `${v.list}/${v.name}`;
    const entry = ctrPatch.get(key) ?? { view: v, sc: {} };
    entry.sc = mergeApply(entry.sc, patch) as J;
    ctrPatch.set(key, entry);
  };
  const fixed: string[] = [];
  const fixedChecks = new Set<string>();
  const notes: string[] = [];
  // Checks with a specific note already (the generic "still fails" line would repeat it).
  const explained = new Set<string>();

  const privileged = (v: ContainerView) => v.sc.privileged === true;
  const addsSysAdmin = (v: ContainerView) => strings(map(v.sc.capabilities).add).includes('CAP_SYS_ADMIN');

  // A privileged container gets neither field: allowPrivilegeEscalation=false is invalid with privileged=true, and
  // dropping capabilities means nothing while privileged.
  const privilegedNames = all.filter(privileged).map((v) => v.name);
  if (
    !windows &&
    privilegedNames.length &&
    (failing.has('allowPrivilegeEscalation') || failing.has('capabilities_restricted'))
  ) {
    explained.add('allowPrivilegeEscalation');
    explained.add('capabilities_restricted');
    notes.push(
      `${quoteNames(privilegedNames)} ${privilegedNames.length === 1 ? 'is' : 'are'} privileged: allowPrivilegeEscalation: false (the API server rejects it together with privileged: true) and capabilities.drop: [ALL] are not set there — remove privileged: true first, then run migrate again`,
    );
  }

  if (!windows && failing.has('allowPrivilegeEscalation')) {
    const done: string[] = [];
    const sysAdmin: string[] = [];
    for (const v of all) {
      if (v.sc.allowPrivilegeEscalation === false || privileged(v)) continue;
      if (addsSysAdmin(v)) sysAdmin.push(v.name);
      else {
        setC(v, { allowPrivilegeEscalation: false });
        done.push(v.name);
      }
    }
    if (done.length) {
      fixed.push(`allowPrivilegeEscalation: false (${quoteNames(done)})`);
      fixedChecks.add('allowPrivilegeEscalation');
    }
    if (sysAdmin.length) {
      explained.add('allowPrivilegeEscalation');
      notes.push(
        `${quoteNames(sysAdmin)}: allowPrivilegeEscalation: false is not set, because the API server rejects it together with capabilities.add CAP_SYS_ADMIN — remove that capability first, then run migrate again`,
      );
    }
  }

  if (!windows && failing.has('capabilities_restricted')) {
    const done: string[] = [];
    const adds: string[] = [];
    for (const v of all) {
      if (privileged(v)) continue;
      const caps = map(v.sc.capabilities);
      const drop = strings(caps.drop);
      if (!drop.includes('ALL')) {
        // capabilities.drop is an atomic list: keep what it had, add ALL.
        setC(v, { capabilities: { drop: [...drop, 'ALL'] } });
        done.push(v.name);
      }
      const extra = strings(caps.add).filter((c) => c !== 'NET_BIND_SERVICE');
      if (extra.length) adds.push(`"${v.name}" adds ${extra.join(', ')}`);
    }
    if (done.length) {
      fixed.push(`capabilities.drop: [ALL] (${quoteNames(done)})`);
      fixedChecks.add('capabilities_restricted');
    }
    if (adds.length) {
      explained.add('capabilities_restricted');
      notes.push(
        `not changed: container ${adds.join('; ')} in securityContext.capabilities.add — restricted allows only NET_BIND_SERVICE: remove the others if the app does not need them`,
      );
    }
  }

  const seccompCheck =
    policy.level === 'restricted' ? 'seccompProfile_restricted' : 'seccompProfile_baseline';
  if (!windows && failing.has(seccompCheck)) {
    // A deprecated seccomp annotation must match the field the API server sees (validation: "seccomp type in
    // annotation and field must match"): where it says otherwise, the field is left to the operator.
    const annotations = map(template.metadata?.annotations);
    const blockedBy = (key: string) => {
      const a = annotations[key];
      return a !== undefined && a !== 'runtime/default' && a !== 'docker/default'
        ? `${key}: "${String(a)}"`
        : undefined;
    };
    const annotated: string[] = [];
    const podType = map(podSc.seccompProfile).type;
    const explicitBad = (t: unknown) => t !== undefined && !SECCOMP_OK.has(String(t));
    const podNeeds =
      explicitBad(podType) ||
      (policy.level === 'restricted' &&
        podType === undefined &&
        all.some((v) => map(v.sc.seccompProfile).type === undefined));
    const podBlocked = podNeeds ? blockedBy('seccomp.security.alpha.kubernetes.io/pod') : undefined;
    if (podBlocked) annotated.push(podBlocked);
    else if (podNeeds) {
      podPatch.seccompProfile = { type: 'RuntimeDefault' };
      fixed.push(
        `pod seccompProfile.type: RuntimeDefault${explicitBad(podType) ? ` (was ${String(podType)})` : ''}`,
      );
    }
    const ctr = all.filter((v) => {
      if (!explicitBad(map(v.sc.seccompProfile).type)) return false;
      const blocked = blockedBy(`container.seccomp.security.alpha.kubernetes.io/${v.name}`);
      if (blocked) annotated.push(blocked);
      return !blocked;
    });
    for (const v of ctr) setC(v, { seccompProfile: { type: 'RuntimeDefault' } });
    if (ctr.length) fixed.push(`seccompProfile.type: RuntimeDefault (${quoteNames(ctr.map((v) => v.name))})`);
    if ((podNeeds && !podBlocked) || ctr.length) fixedChecks.add(seccompCheck);
    if (annotated.length) {
      explained.add(seccompCheck);
      notes.push(
        `seccompProfile RuntimeDefault is not set where the deprecated annotation ${annotated.join(', ')} says otherwise (the API server requires annotation and field to match): remove the annotation from the pod template, then run migrate again`,
      );
    }
  }

  if (failing.has('runAsNonRoot')) {
    const uidOf = (v: ContainerView) => v.sc.runAsUser ?? podSc.runAsUser;
    const root = all.filter((v) => uidOf(v) === 0);
    if (root.length) {
      // runAsNonRoot with runAsUser 0 is a pod the kubelet refuses: leave both to the operator.
      explained.add('runAsNonRoot');
      explained.add('runAsUser');
      notes.push(
        `not setting runAsNonRoot: ${quoteNames(root.map((v) => v.name))} run${root.length === 1 ? 's' : ''} as UID 0 (runAsUser: 0), so the kubelet would refuse to start ${root.length === 1 ? 'it' : 'them'}; build the image with a numeric non-root USER, set runAsUser to it, then run migrate again`,
      );
    } else {
      if (podSc.runAsNonRoot !== true) {
        podPatch.runAsNonRoot = true;
        fixed.push(`pod runAsNonRoot: true${podSc.runAsNonRoot === false ? ' (was false)' : ''}`);
      }
      const explicitFalse = all.filter((v) => v.sc.runAsNonRoot === false);
      for (const v of explicitFalse) setC(v, { runAsNonRoot: true });
      if (explicitFalse.length)
        fixed.push(`runAsNonRoot: true (${quoteNames(explicitFalse.map((v) => v.name))}; was false)`);
      fixedChecks.add('runAsNonRoot');
      const unknown: string[] = [];
      for (const v of all) {
        if (uidOf(v) !== undefined) continue;
        const known = windows ? undefined : knownNonRootUid(v.image);
        if (known) {
          setC(v, { runAsUser: known.uid });
          fixed.push(`runAsUser: ${known.uid} (container "${v.name}": ${known.source})`);
        } else unknown.push(v.image ? `${v.image} (container "${v.name}")` : `container "${v.name}"`);
      }
      if (unknown.length) {
        notes.push(
          `the image${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} must run as a non-root user (numeric USER); ${KUBELET_NONROOT}`,
        );
      }
    }
  }

  const fixSpec: J = {};
  if (Object.keys(podPatch).length) fixSpec.securityContext = podPatch;
  for (const key of ['initContainers', 'containers'] as const) {
    // In the template's order, whatever fixer touched a container first.
    const items = all
      .filter((v) => v.list === key)
      .flatMap((v) => {
        const e = ctrPatch.get(`${v.list}/${v.name}`);
        return e ? [{ name: v.name, securityContext: e.sc }] : [];
      });
    if (items.length) fixSpec[key] = items;
  }
  const fix = Object.keys(fixSpec).length ? { spec: fixSpec } : undefined;
  const patched = fix ? (mergeApply(template, fix) as { metadata?: J; spec: J }) : template;
  const remaining = fix ? evaluatePod(lv, patched, evalOpts).violations : before;
  const describe = (r: CheckViolation) => `${r.reason}${r.detail ? ` (${r.detail})` : ''}`;
  const exceptedRemaining = remaining.filter((r) => !explained.has(r.check) && excepted.has(r.check));
  for (const r of remaining) {
    if (explained.has(r.check) || excepted.has(r.check)) continue;
    notes.push(
      `still fails ${describe(r)}: not fixed automatically — ${NEXT_ACTION[r.check] ?? 'fix it in the pod template'}`,
    );
  }
  if (exceptedRemaining.length) {
    const ids = [...new Set(exceptedRemaining.flatMap((r) => excepted.get(r.check) ?? []))];
    notes.push(
      `still fails ${exceptedRemaining.map(describe).join(', ')}: excepted by ${ids.join(', ')}, but Pod Security cannot exempt one workload — move it to a namespace of its own to enforce ${policy.level} here`,
    );
  }

  // Optional: a read-only root filesystem, with an emptyDir at /tmp where nothing is mounted there yet.
  let optional: J | undefined;
  const optionalFixed: string[] = [];
  if (!windows) {
    const patchedSpec = patched.spec;
    const pv = views(patchedSpec).filter((v) => v.sc.readOnlyRootFilesystem !== true);
    if (pv.length) {
      const taken = new Set([
        ...list(patchedSpec.volumes).map((v) => String(v.name)),
        ...views(patchedSpec).flatMap((v) => v.mounts.map((m) => String(m.name))),
      ]);
      let volName = 'tmp';
      for (let i = 2; taken.has(volName); i++) volName = i === 2 ? 'kube-harden-tmp' : `kube-harden-tmp-${i}`;
      const mountsTmp = (v: ContainerView) =>
        v.mounts.some((m) => String(m.mountPath).replace(/\/+$/, '') === '/tmp');
      const spec2: J = {};
      let needVolume = false;
      for (const key of ['initContainers', 'containers'] as const) {
        const items = pv
          .filter((v) => v.list === key)
          .map((v) => {
            const item: J = { name: v.name, securityContext: { readOnlyRootFilesystem: true } };
            if (!mountsTmp(v)) {
              item.volumeMounts = [{ name: volName, mountPath: '/tmp' }];
              needVolume = true;
            }
            return item;
          });
        if (items.length) spec2[key] = items;
      }
      if (needVolume) spec2.volumes = [{ name: volName, emptyDir: {} }];
      optional = mergeApply(fix ?? {}, { spec: spec2 }) as J;
      optionalFixed.push(`readOnlyRootFilesystem: true (${quoteNames(pv.map((v) => v.name))})`);
      if (needVolume) optionalFixed.push(`an emptyDir volume "${volName}" mounted at /tmp`);
    }
  }

  return {
    ...(fix ? { fix } : {}),
    ...(optional ? { optional } : {}),
    fixed,
    optionalFixed,
    fixedChecks: [...fixedChecks],
    notes,
    remaining,
    before,
  };
}

/** Where each kind keeps its pod template. */
function templatePath(kind: WorkloadKind): string[] | undefined {
  switch (kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
      return ['spec', 'template'];
    case 'CronJob':
      return ['spec', 'jobTemplate', 'spec', 'template'];
    case 'Pod':
      return [];
    default:
      return undefined;
  }
}

function templateOf(kind: WorkloadKind, object: KubeObject): { metadata?: J; spec: J } | undefined {
  const path = templatePath(kind);
  if (!path) return undefined;
  let t: unknown = object;
  for (const p of path) t = map(t)[p];
  const spec = map(t).spec;
  if (!isMap(spec)) return undefined;
  return { metadata: map(map(t).metadata), spec };
}

/** An apply configuration of the workload holding only the template fragment. */
function workloadConfig(ref: ObjectRef, kind: WorkloadKind, fragment: J): KubeObject {
  const path = templatePath(kind) ?? ['spec', 'template'];
  let inner: J = fragment;
  for (const p of [...path].reverse()) inner = { [p]: inner };
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    ...inner,
  } as KubeObject;
}

/**
 * What the fixes may write (`Step.targets`): only the securityContext fields `fixTemplate` sets, with the values
 * it sets (never a loosening one), and the optional read-only root's emptyDir at /tmp, on the pod template of the
 * workload kinds whose template can change in place.
 */
function migrateTargets(): ObjectRule[] {
  const kinds: Array<[string, WorkloadKind]> = [
    ['apps/v1', 'Deployment'],
    ['apps/v1', 'StatefulSet'],
    ['apps/v1', 'DaemonSet'],
    ['apps/v1', 'ReplicaSet'],
    ['v1', 'ReplicationController'],
    ['batch/v1', 'CronJob'],
  ];
  const container: Record<string, ValueRule> = {
    name: 'any',
    'securityContext.allowPrivilegeEscalation': { equals: false },
    'securityContext.capabilities.drop': { every: /^[A-Za-z_]+$/ },
    'securityContext.seccompProfile.type': { equals: 'RuntimeDefault' },
    'securityContext.runAsNonRoot': { equals: true },
    'securityContext.runAsUser': { matches: /^[1-9]\d{0,9}$/ },
    'securityContext.readOnlyRootFilesystem': { equals: true },
    'volumeMounts[].name': { matches: /^(tmp|kube-harden-tmp(-\d+)?)$/ },
    'volumeMounts[].mountPath': { equals: '/tmp' },
  };
  return kinds.map(([apiVersion, kind]) => {
    const spec = `${(templatePath(kind) ?? []).join('.')}.spec`;
    const fields: Record<string, ValueRule> = {
      [`${spec}.securityContext.runAsNonRoot`]: { equals: true },
      [`${spec}.securityContext.seccompProfile.type`]: { equals: 'RuntimeDefault' },
      [`${spec}.volumes[].name`]: { matches: /^(tmp|kube-harden-tmp(-\d+)?)$/ },
      [`${spec}.volumes[].emptyDir`]: { equals: {} },
    };
    for (const list of ['initContainers', 'containers'])
      for (const [path, rule] of Object.entries(container)) fields[`${spec}.${list}[].${path}`] = rule;
    return { apiVersion, kind, operations: ['update'], fields };
  });
}

export interface MigrateWorkload {
  ref: ObjectRef;
  kind: WorkloadKind;
  /** Violations at the target level (template and live pods; from the assessment), upstream order. */
  violations: CheckViolation[];
  /** The pod template, from a targeted read of the live object (or the snapshot when it could not be read). */
  template?: { metadata?: J; spec: J };
  templateSource: 'live' | 'snapshot' | 'none';
  /** Check → ids of the valid exceptions that cover it. */
  excepted: Record<string, string[]>;
  /** Checks only live pods fail (not the template): they come from an older template. */
  podsOnly: string[];
  managedBy: ManagedBy[];
  pods: number;
  /** `OnDelete` (StatefulSet/DaemonSet), `Recreate` (Deployment); absent = rolling. */
  strategy?: string;
  paused?: boolean;
}

export interface MigrateNamespace {
  name: string;
  tier: NamespacePosture['tier'];
  /** The enforced level today (null: no enforce label, i.e. privileged unless the cluster default differs). */
  current: Level | null;
  target: Level;
  targetFrom: 'tier' | 'option';
  warn: PsaLabel | null;
  workloads: MigrateWorkload[];
}

export interface MigrateFacts {
  version: PolicyVersionString;
  serverMinor?: number;
  namespaces: MigrateNamespace[];
}

const TOOLS_WITH_SOURCE = new Set(['helm', 'argocd', 'flux']);

function targetSetting(value: unknown): FixLevel | undefined {
  return value === 'baseline' || value === 'restricted' ? value : undefined;
}

function describeWorkload(w: { kind: string; ref: ObjectRef }): string {
  return `${w.kind} ${w.ref.namespace}/${w.ref.name}`;
}

function changeId(w: MigrateWorkload): string {
  return `psa-migrate/${w.kind.toLowerCase()}/${w.ref.namespace}/${w.ref.name}`;
}

/** Why a workload cannot get a fix in place, or undefined when it can. */
function notInPlace(w: MigrateWorkload): string | undefined {
  if (w.kind === 'Pod')
    return 'a bare Pod cannot be changed in place: fix its manifest and re-create it (or run it from a Deployment)';
  if (w.kind === 'Job')
    return "a Job's pod template is immutable: fix its manifest (or the CronJob that creates it) and re-create it";
  if (!w.template)
    return 'its pod template could not be read (only its pods were): fix it at its source, then run migrate again';
  return undefined;
}

/** The fix of one workload of the facts (pure; detect and propose both use it). */
function analyse(w: MigrateWorkload, level: FixLevel, facts: Pick<MigrateFacts, 'version' | 'serverMinor'>) {
  if (!w.template) return undefined;
  return fixTemplate(
    w.template,
    {
      level,
      version: facts.version,
      ...(facts.serverMinor !== undefined ? { serverMinor: facts.serverMinor } : {}),
    },
    new Map(Object.entries(w.excepted)),
  );
}

function workloadNotes(w: MigrateWorkload, tf: TemplateFix, source: ManagedBy | undefined): string[] {
  const notes: string[] = [];
  if (source) {
    notes.push(
      `managed by ${source.detail}: change its source too (chart values or Git), or the next sync reverts this fix — the fix is exported as a patch (patches/ in the plan directory)`,
    );
  }
  notes.push(...tf.notes);
  if (w.podsOnly.length) {
    notes.push(
      `live pods also fail ${w.podsOnly.join(', ')} although the template does not: they come from an older template or were changed after creation — they are replaced when the pods roll`,
    );
  }
  if (w.kind === 'ReplicaSet' || w.kind === 'ReplicationController') {
    notes.push(
      `a ${w.kind} does not replace its pods when its template changes: delete them one at a time so that it re-creates them with the fix`,
    );
  }
  if (w.kind === 'CronJob')
    notes.push('Jobs already started keep the old template; the next run uses the fix');
  if (w.strategy === 'OnDelete')
    notes.push(
      'updateStrategy OnDelete: the pods keep the old template until you delete them (one at a time)',
    );
  if (w.strategy === 'Recreate')
    notes.push('strategy Recreate: all pods stop before the new ones start (a short outage)');
  if (w.paused) notes.push('the Deployment is paused: the fix rolls out when it is resumed');
  if (w.templateSource === 'snapshot')
    notes.push('computed from the inventory (the live object could not be read): preview before applying');
  return notes;
}

/** What enforcing the target takes once the proposed fixes are in, for one namespace. */
function summaryOf(ns: MigrateNamespace, level: FixLevel, facts: MigrateFacts): string {
  if (ns.workloads.length === 0) {
    const enforced = ns.current !== null && compareLevels(ns.current, level) >= 0;
    return `namespace ${ns.name}: every workload template and pod passes ${level} already — ${enforced ? `and it enforces ${ns.current}` : `enforce it: kube-harden plan --step psa-enforce -n ${ns.name}`}`;
  }
  const still = ns.workloads.flatMap((w) => {
    const tf = analyse(w, level, facts);
    const checks = notInPlace(w) || !tf ? w.violations.map((v) => v.check) : tf.remaining.map((r) => r.check);
    return checks.length ? [`${w.kind} ${w.ref.name} (${checks.join(', ')})`] : [];
  });
  if (still.length === 0) {
    return `namespace ${ns.name}: with the proposed fixes every workload template passes ${level} — once the pods have rolled, enforce it: kube-harden plan --step psa-enforce -n ${ns.name}`;
  }
  return `namespace ${ns.name}: ${still.length} of ${ns.workloads.length} blocking workload(s) still fail ${level} after the proposed fixes: ${still.join('; ')} — fix them by hand (see the notes), then run migrate again`;
}

export const psaMigrate: Step<MigrateFacts> = {
  id: 'psa-migrate',
  phase: 2,
  title: 'Pod Security migration: workload fixes',
  summary:
    'fix the workloads that block a namespace from enforcing its target level (securityContext changes; pods roll)',
  risk: 'disruptive',
  optIn: true,
  targets: migrateTargets(),

  permissions(options, snapshot) {
    const checks: AccessCheck[] = [];
    const seen = new Set<string>();
    for (const w of snapshot.workloads) {
      if (!inScope(options, w.namespace) || w.kind === 'Pod' || w.kind === 'Job') continue;
      const info = Kinds[w.kind];
      const key = `${info.resource}/${w.namespace}`;
      if (seen.has(key)) continue;
      seen.add(key);
      checks.push({ verb: 'patch', group: info.group, resource: info.resource, namespace: w.namespace });
    }
    return checks;
  },

  async detect(ctx) {
    const { assessment, snapshot, options, reader } = ctx;
    const version = pinnedVersion(options.psaVersion, snapshot.serverVersion) as PolicyVersionString;
    const override = targetSetting(options.settings[TARGET_SETTING]);
    const facts: MigrateFacts = { version, namespaces: [] };
    if (snapshot.serverVersion) facts.serverMinor = snapshot.serverVersion.minor;
    const evalOpts = facts.serverMinor === undefined ? undefined : { serverMinor: facts.serverMinor };
    const findings: StepFinding[] = [];
    for (const posture of assessment.namespaces) {
      if (!inScope(options, posture.name)) continue;
      const nsTarget = { kind: 'Namespace', name: posture.name };
      if (posture.unreadable || !posture.psa || posture.strictestWithoutExceptions === 'unknown') {
        findings.push({
          control: 'KH-UNKNOWN',
          severity: 'high',
          target: nsTarget,
          message: `namespace ${posture.name}: its workloads or labels could not all be read, so no fixes are proposed (unknown is not compliant)`,
        });
        continue;
      }
      const target = override ?? posture.targetLevel;
      const enforce = posture.psa.enforce;
      const ns: MigrateNamespace = {
        name: posture.name,
        tier: posture.tier,
        current: enforce && !enforce.invalid ? enforce.level : null,
        target,
        targetFrom: override ? 'option' : 'tier',
        warn: posture.psa.warn,
        workloads: [],
      };
      facts.namespaces.push(ns);
      if (target === 'privileged') {
        findings.push({
          control: 'KH-PSA-MIGRATE-SUMMARY',
          severity: 'info',
          target: nsTarget,
          message: `namespace ${posture.name}: ${posture.tier} tier, target level privileged — nothing to migrate`,
        });
        continue;
      }
      const level = target as FixLevel;
      for (const wa of assessment.workloads) {
        if (wa.namespace !== posture.name || wa.pss[level].allowed) continue;
        const w = snapshot.workloads.find(
          (x) => x.namespace === wa.namespace && x.kind === wa.kind && x.name === wa.name,
        );
        if (!w) continue;
        const ref: ObjectRef = {
          apiVersion: w.apiVersion,
          kind: w.kind,
          namespace: w.namespace,
          name: w.name,
        };
        const excepted: Record<string, string[]> = {};
        for (const f of assessment.findings) {
          if (!f.excepted || !f.checks || f.target.container !== undefined) continue;
          if (f.target.kind !== w.kind || f.target.namespace !== w.namespace || f.target.name !== w.name)
            continue;
          for (const c of f.checks)
            excepted[c] = [...new Set([...(excepted[c] ?? []), ...(f.exceptedBy ?? [])])];
        }
        const mw: MigrateWorkload = {
          ref,
          kind: w.kind,
          violations: wa.pss[level].violations,
          templateSource: 'none',
          excepted,
          podsOnly: [],
          managedBy: w.managedBy,
          pods: w.pods.length,
        };
        // A targeted read: fix what is live now, with every field (the snapshot keeps only what evaluators read).
        let live: KubeObject | undefined;
        try {
          live = (await reader.get(ref, ctx.signal)).value;
        } catch {
          live = undefined;
        }
        const t = live ? templateOf(w.kind, live) : undefined;
        if (t) {
          // Only what the evaluator and the fix read (the projection the inventory uses): no env values, no args.
          const annotations = securityAnnotations(t.metadata?.annotations);
          mw.template = {
            metadata: annotations ? { annotations } : {},
            spec: projectPodSpec(t.spec) as unknown as J,
          };
          mw.templateSource = 'live';
          const spec = map(live?.spec);
          const strategy = map(spec.strategy).type ?? map(spec.updateStrategy).type;
          if (strategy === 'OnDelete' || strategy === 'Recreate') mw.strategy = strategy;
          if (spec.paused === true) mw.paused = true;
        } else if (w.template) {
          mw.template = w.template as unknown as { metadata?: J; spec: J };
          mw.templateSource = 'snapshot';
        }
        if (mw.template) {
          const own = new Set(
            evaluatePod({ level, version }, mw.template, evalOpts).violations.map((v) => v.check),
          );
          mw.podsOnly = mw.violations.map((v) => v.check).filter((c) => !own.has(c));
        }
        ns.workloads.push(mw);
        const tf = analyse(mw, level, facts);
        const why = notInPlace(mw);
        const checks = mw.violations.map((v) => v.check).join(', ');
        let message = `${w.kind} ${w.namespace}/${w.name} blocks ${target} (${checks})`;
        if (why) {
          message += ` — ${why}`;
          if (tf?.fixed.length) message += `; set ${tf.fixed.join('; ')}`;
          if (tf?.notes.length) message += `; ${tf.notes.join('; ')}`;
        } else if (tf && !tf.fix && tf.remaining.length === 0) {
          message += ` — its template passes; only pods from an older template fail (${mw.podsOnly.join(', ')}): they are replaced when the pods roll (kubectl rollout restart)`;
        } else if (tf && !tf.fix) {
          message += ` — nothing can be fixed automatically: ${tf.notes.join('; ')}`;
        } else {
          message += ` — fix proposed: ${changeId(mw)}`;
        }
        findings.push({
          control: 'KH-PSA-MIGRATE-BLOCKER',
          severity: 'medium',
          target: { kind: w.kind, namespace: w.namespace, name: w.name },
          message,
        });
      }
      ns.workloads.sort((a, b) =>
        a.kind === b.kind ? (a.ref.name < b.ref.name ? -1 : 1) : a.kind < b.kind ? -1 : 1,
      );
      findings.push({
        control: 'KH-PSA-MIGRATE-SUMMARY',
        severity: 'info',
        target: nsTarget,
        message: summaryOf(ns, level, facts),
      });
    }
    return { facts, findings };
  },

  propose(facts) {
    const changes: Change[] = [];
    for (const ns of facts.namespaces) {
      if (ns.target === 'privileged') continue;
      const level = ns.target as FixLevel;
      for (const w of ns.workloads) {
        if (notInPlace(w)) continue;
        const tf = analyse(w, level, facts);
        if (!tf) continue;
        const source = w.managedBy.find((m) => TOOLS_WITH_SOURCE.has(m.tool));
        const notes = workloadNotes(w, tf, source);
        const exportPatch = source ? { exportPatch: source.detail } : {};
        if (tf.fix) {
          const outcome =
            tf.remaining.length === 0
              ? `With it, the template passes ${level}:${facts.version}.`
              : `It still fails ${tf.remaining.map((r) => r.check).join(', ')} (see notes).`;
          changes.push({
            kind: 'apply',
            id: changeId(w),
            target: w.ref,
            desired: workloadConfig(w.ref, w.kind, tf.fix),
            risk: 'disruptive',
            reason: `${describeWorkload(w)} fails ${level} (${w.violations.map((v) => v.check).join(', ')}): set ${tf.fixed.join('; ')}. ${outcome} Its pods are replaced with the new template.`,
            notes,
            ...exportPatch,
          });
        }
        if (tf.optional) {
          changes.push({
            kind: 'apply',
            id: `${changeId(w)}/read-only-root`,
            target: w.ref,
            desired: workloadConfig(w.ref, w.kind, tf.optional),
            risk: 'disruptive',
            reason: `optional for ${describeWorkload(w)}: ${tf.optionalFixed.join('; ')}${tf.fix ? ', on top of the fix above (it includes it)' : ''}. Not needed for ${level}; it stops writes outside /tmp and mounted volumes.`,
            notes: [
              'the app must write only to /tmp and its volumes: anything else now fails with "Read-only file system" — try it in a test environment first',
              ...(tf.fix ? (source ? [notes[0] as string] : []) : notes),
            ],
            optional: true,
            ...exportPatch,
          });
        }
      }
    }
    return changes;
  },

  explain(facts, changes) {
    const fixes = changes.filter((c) => !c.optional).length;
    const optional = changes.length - fixes;
    const targets = facts.namespaces.map((n) => `${n.name} → ${n.target}`).join(', ');
    return {
      why: `A namespace can enforce its target Pod Security level (${targets || 'none in scope'}) only when every workload template passes it; the API server checks only new pods, never templates, so a violating template fails later with FailedCreate. Each fix sets only the securityContext fields the failing checks need and never loosens anything; what cannot be fixed automatically is named with the next action.`,
      impact: `${fixes} workload fix(es)${optional ? ` and ${optional} optional change(s)` : ''}. A changed pod template replaces the workload's pods (rolling update, or as its strategy says). A container whose image runs as root, or as a non-numeric user, does not start under runAsNonRoot (CreateContainerConfigError): read the notes about images first.`,
      rollback:
        'kube-harden undo RUN_ID restores each workload template exactly (its pods roll back); or kubectl rollout undo deployment/NAME. For Helm, Argo CD and Flux workloads change the source (chart values, Git) too.',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    const messages: string[] = [];
    let ok = true;
    const namespaces = new Set<string>();
    for (const a of applied) {
      const ref = a.change.target;
      if (!ref?.namespace) continue;
      namespaces.add(ref.namespace);
      const kind = ref.kind as WorkloadKind;
      const live = (await ctx.reader.get(ref, ctx.signal)).value;
      const t = live ? templateOf(kind, live) : undefined;
      const desired = a.change.desired ? templateOf(kind, a.change.desired) : undefined;
      if (!t || !desired) {
        ok = false;
        messages.push(`${ref.kind} ${ref.namespace}/${ref.name}: could not be read back`);
      } else if (!contains(t, desired)) {
        ok = false;
        messages.push(
          `${ref.kind} ${ref.namespace}/${ref.name}: the fix is no longer in its template (reverted?)`,
        );
      }
    }
    // Pods the API server refused since the fix (e.g. an enforce label applied meanwhile).
    const since = Math.min(...applied.map((a) => Date.parse(a.appliedAt)));
    for (const ns of namespaces) {
      try {
        for await (const page of ctx.reader.list(Kinds.Event, {
          namespace: ns,
          fieldSelector: 'reason=FailedCreate',
          signal: ctx.signal,
        })) {
          for (const ev of page.items) {
            const e = ev as unknown as { message?: string; lastTimestamp?: string; eventTime?: string };
            const when = Date.parse(e.lastTimestamp ?? e.eventTime ?? '');
            if (!(when >= since - 1000)) continue;
            ok = false;
            messages.push(`FailedCreate in ${ns}: ${e.message ?? ''}`);
          }
        }
      } catch (error) {
        ok = false;
        messages.push(`namespace ${ns}: could not read events (${(error as Error).message})`);
      }
    }
    if (ok) {
      messages.push(
        `${applied.length} fix(es) in place, no FailedCreate since; watch the rollout (kubectl rollout status) for containers that do not start (CreateContainerConfigError)`,
      );
    }
    return { ok, messages };
  },
};
