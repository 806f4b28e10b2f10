/**
 * The Pod Security fix of one pod template: a server-side apply fragment that sets only what the failing checks
 * need — `allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]`, seccomp `RuntimeDefault`,
 * `runAsNonRoot: true` (+ `runAsUser` for images known to run as a non-root UID) — and never loosens anything; the
 * patched template is evaluated again and what still fails is named with the next action. Pure.
 *
 * Checks and messages mirror k8s.io/pod-security-admission `policy/check_*.go` (see src/policy/pss). Validation
 * rules mirror kubernetes `pkg/apis/core/validation/validation.go` (ValidateSecurityContext: allowPrivilegeEscalation
 * false is invalid with privileged true or with capabilities.add CAP_SYS_ADMIN; Windows pods may not set
 * Linux-only fields).
 */
import { mergeApply } from '../../src/engine/fields.js';
import { type Json as J, list, map, strings } from '../../src/k8s/json.js';
import { type CheckViolation, evaluatePod, type PolicyVersionString } from '../../src/policy/pss/index.js';
import { knownNonRootUid, knownRootImage } from './nonroot-images.js';
import type { PodTemplate } from './workloads.js';

export type FixLevel = 'baseline' | 'restricted';

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
  /** containerPort of each declared port. */
  ports: number[];
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
        ports: list(c.ports).map((p) => Number(p.containerPort)),
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

/** Checks the fix itself addresses (any other failing check leaves a workload non-compliant whatever its user). */
const USER_INDEPENDENT = new Set([
  'allowPrivilegeEscalation',
  'capabilities_restricted',
  'seccompProfile_restricted',
  'seccompProfile_baseline',
  'runAsNonRoot',
  'runAsUser',
]);

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
  /** Containers left running as root by the `keep-root` choice: the controls an exception must record. */
  keptRoot: Array<{ container: string; controls: string[] }>;
}

/**
 * What to do with a container that runs as root (runAsUser: 0, or an image known to run as root) or whose image
 * user is unknown (`--run-as-user`): run it as this UID (the image must support it), or keep root (recorded as an
 * exception).
 */
export type UserChoice = { uid: number } | 'keep-root';

export interface FixPolicy {
  level: FixLevel;
  version: PolicyVersionString;
  serverMinor?: number;
  /** The choice for containers that run as root or whose image user is unknown; absent: none made. */
  user?: UserChoice;
  /** The choice names this workload (`NS/NAME=…`): it then also applies to containers that bind a port below 1024. */
  userForWorkload?: boolean;
  /**
   * Why the workload is a system or infrastructure agent (CNI, CSI, node exporter, kube-proxy, …), if it is: its
   * users and capabilities are left exactly as they are (host namespaces and hostPath never change anyway).
   */
  agent?: string;
}

/**
 * The fix of one pod template (`{metadata, spec}` of a workload, as JSON) for one level. Pure. Checks covered by
 * a valid exception (`excepted`: check → exception ids) are left alone.
 */
export function fixTemplate(
  template: PodTemplate,
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
    const fileCaps: string[] = [];
    for (const v of all) {
      if (v.sc.allowPrivilegeEscalation === false || privileged(v)) continue;
      if (addsSysAdmin(v)) sysAdmin.push(v.name);
      else if (
        v.sc.allowPrivilegeEscalation === true &&
        strings(map(v.sc.capabilities).add).length > 0 &&
        (v.sc.runAsUser ?? podSc.runAsUser) !== 0
      )
        fileCaps.push(v.name);
      else {
        setC(v, { allowPrivilegeEscalation: false });
        done.push(v.name);
      }
    }
    if (done.length) {
      fixed.push(`allowPrivilegeEscalation: false (${quoteNames(done)})`);
      fixedChecks.add('allowPrivilegeEscalation');
    }
    if (fileCaps.length) {
      explained.add('allowPrivilegeEscalation');
      notes.push(
        `${quoteNames(fileCaps)}: allowPrivilegeEscalation: true is left as it is — ${fileCaps.length === 1 ? 'it adds' : 'they add'} capabilities without running as root, which a process gains only through file capabilities on its binary (e.g. nginx binding port 80 as UID 101), and allowPrivilegeEscalation: false blocks exactly that; set it to false once the image no longer needs them (e.g. the app listens on a port above 1023)`,
      );
    }
    if (sysAdmin.length) {
      explained.add('allowPrivilegeEscalation');
      notes.push(
        `${quoteNames(sysAdmin)}: allowPrivilegeEscalation: false is not set, because the API server rejects it together with capabilities.add CAP_SYS_ADMIN — remove that capability first, then run migrate again`,
      );
    }
  }

  // Who runs as root after the fix, decided before capabilities: a container that stays root keeps its default
  // capabilities (a root process without them cannot change user, change file ownership or bind ports < 1024).
  const uidOf = (v: ContainerView) => v.sc.runAsUser ?? podSc.runAsUser;
  const staysRoot = new Map<string, string>();
  const setUid = new Map<string, { uid: number; why: string }>();
  let podUid: number | undefined;
  const keptRoot: TemplateFix['keptRoot'] = [];
  const userFailing = failing.has('runAsNonRoot') || failing.has('runAsUser');
  if (userFailing && !windows) {
    const choice = policy.user;
    // What kube-harden never fixes (host access, privileged, volumes…): while the pod fails it, a new user would
    // risk breaking it without making it pass.
    const unfixable = [...new Set(before.map((v) => v.check).filter((c) => !USER_INDEPENDENT.has(c)))];
    const blocker = (v: ContainerView): string | undefined => {
      if (policy.agent) return `${policy.agent}: its user is left as it is`;
      if (unfixable.length)
        return `the pod still fails ${unfixable.join(', ')}, which kube-harden does not fix: its user is left as it is until then`;
      if (privileged(v)) return 'it is privileged';
      const extra = strings(map(v.sc.capabilities).add).filter((c) => c !== 'NET_BIND_SERVICE');
      if (extra.length)
        return `it adds ${extra.join(', ')} (root work such as chown: do it with fsGroup instead)`;
      const low = v.ports.filter((p) => p > 0 && p < 1024);
      if (low.length && !policy.userForWorkload)
        return `it binds port ${low.join(', ')}, which a non-root process cannot (capabilities added to a non-root container are not in effect): keep root, or move it to an unprivileged port and image; only a choice naming this workload (--run-as-user NS/NAME=UID) overrides this`;
      return undefined;
    };
    const pending: Array<{ v: ContainerView; state: 'explicit' | 'image' | 'unknown'; why: string }> = [];
    for (const v of all) {
      const uid = uidOf(v);
      if (uid === 0)
        pending.push({
          v,
          state: 'explicit',
          why: `runs as UID 0 (${v.sc.runAsUser === 0 ? '' : 'pod '}runAsUser: 0)`,
        });
      else if (uid !== undefined) continue;
      else if (knownNonRootUid(v.image)) continue;
      else {
        const root = knownRootImage(v.image);
        pending.push(
          root
            ? { v, state: 'image', why: `image ${v.image} runs as root (${root})` }
            : { v, state: 'unknown', why: `image ${v.image ?? '(none)'}: its user is unknown` },
        );
      }
    }
    for (const p of pending) {
      const name = `"${p.v.name}"`;
      const block = blocker(p.v);
      if (choice === 'keep-root') {
        staysRoot.set(
          p.v.name,
          `container ${name} ${p.why}: kept as root (--run-as-user keep-root), recorded as an exception`,
        );
        keptRoot.push({
          container: p.v.name,
          controls: p.state === 'explicit' ? ['runAsNonRoot', 'runAsUser'] : ['runAsNonRoot'],
        });
      } else if (choice && !block) {
        setUid.set(p.v.name, { uid: choice.uid, why: p.why });
      } else if (p.state === 'unknown' && policy.agent && block) {
        // An agent's user is left exactly as it is: runAsNonRoot would stop a root image from starting.
        staysRoot.set(p.v.name, `container ${name} ${p.why}: not changed — ${block}`);
      } else if (p.state === 'unknown') {
        // No choice: runAsNonRoot alone (as before); the image must run as a non-root numeric user.
      } else {
        staysRoot.set(
          p.v.name,
          `container ${name} ${p.why}: not changed — ${
            block && choice
              ? `--run-as-user ${choice.uid} is not applied because ${block}`
              : `runAsNonRoot would stop it from starting; choose --run-as-user UID (the image must support running as that user) or --run-as-user NS/NAME=keep-root (recorded as an exception)${block ? `; note: ${block}` : ''}`
          }`,
        );
      }
    }
    // A pod-level runAsUser: 0 is replaced only when every container that inherits it gets the chosen UID.
    if (podSc.runAsUser === 0) {
      const inheriting = all.filter((v) => v.sc.runAsUser === undefined);
      if (inheriting.every((v) => setUid.has(v.name)) && choice && choice !== 'keep-root') {
        podUid = choice.uid;
        for (const v of inheriting) setUid.delete(v.name);
      } else {
        for (const v of inheriting) {
          if (!setUid.has(v.name)) continue;
          setUid.delete(v.name);
          staysRoot.set(
            v.name,
            `container "${v.name}" inherits the pod's runAsUser: 0, which other containers keep: not changed`,
          );
        }
      }
    }
  }

  if (!windows && failing.has('capabilities_restricted')) {
    const done: string[] = [];
    const adds: string[] = [];
    const kept: string[] = [];
    // An agent's container that runs as a non-root UID and adds no capability holds none (a non-root process has no
    // effective capabilities without ambient ones): drop ALL takes nothing from it.
    const holdsNone = (v: ContainerView) => {
      const uid = uidOf(v);
      return (
        typeof uid === 'number' &&
        uid > 0 &&
        strings(map(v.sc.capabilities).add).length === 0 &&
        !staysRoot.has(v.name)
      );
    };
    for (const v of all) {
      if (privileged(v)) continue;
      if ((policy.agent && !holdsNone(v)) || staysRoot.has(v.name)) {
        kept.push(v.name);
        continue;
      }
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
    if (kept.length) {
      explained.add('capabilities_restricted');
      notes.push(
        policy.agent
          ? `capabilities of ${quoteNames(kept)} are left as they are: ${policy.agent}`
          : `capabilities.drop: [ALL] is not set on ${quoteNames(kept)}: ${kept.length === 1 ? 'it runs' : 'they run'} as root, and a root process without its default capabilities cannot change user, change file ownership or bind ports below 1024 — run ${kept.length === 1 ? 'it' : 'them'} as non-root first`,
      );
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

  if (userFailing && !windows && staysRoot.size) {
    explained.add('runAsNonRoot');
    explained.add('runAsUser');
    notes.push(`not setting runAsNonRoot: ${[...staysRoot.values()].join('; ')}`);
  } else if (userFailing) {
    if (podUid !== undefined) {
      podPatch.runAsUser = podUid;
      fixed.push(
        `pod runAsUser: ${podUid} (was 0; --run-as-user: the image must support running as this user)`,
      );
      fixedChecks.add('runAsUser');
    }
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
      const chosen = setUid.get(v.name);
      if (chosen) {
        setC(v, { runAsUser: chosen.uid });
        fixed.push(
          `runAsUser: ${chosen.uid} (container "${v.name}": ${chosen.why}; --run-as-user: the image must support running as this user)`,
        );
        if (v.sc.runAsUser === 0) fixedChecks.add('runAsUser');
        continue;
      }
      if (uidOf(v) !== undefined || podUid !== undefined) continue;
      const known = windows ? undefined : knownNonRootUid(v.image);
      if (known) {
        setC(v, { runAsUser: known.uid });
        fixed.push(`runAsUser: ${known.uid} (container "${v.name}": ${known.source})`);
      } else unknown.push(v.image ? `${v.image} (container "${v.name}")` : `container "${v.name}"`);
    }
    if (unknown.length) {
      notes.push(
        `the image${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} must run as a non-root user (numeric USER); ${KUBELET_NONROOT} — or choose --run-as-user UID (65532, 10001, …) or keep-root`,
      );
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
  const patched = fix ? (mergeApply(template, fix) as PodTemplate) : template;
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
    keptRoot,
  };
}
