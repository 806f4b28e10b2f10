/**
 * psa-migrate: the fix of a pod template (only what the failing checks need, never loosening, never an object the
 * API server rejects) and the step's detect → propose on fixture snapshots (kinds, GitOps exports, optional
 * changes, exceptions, the target override).
 */
import { describe, expect, test } from 'vitest';
import type { ClusterReader } from '../../../src/cluster/types.js';
import { mergeApply } from '../../../src/engine/fields.js';
import type { Change, StepOptions } from '../../../src/engine/types.js';
import type { PodSpecLite, Snapshot, Workload } from '../../../src/inventory/types.js';
import type { KubeObject, ObjectRef } from '../../../src/k8s/types.js';
import { assess } from '../../../src/policy/assess.js';
import { control } from '../../../src/policy/controls.js';
import { type ExceptionRegister, parseExceptions } from '../../../src/policy/exceptions.js';
import { evaluatePod } from '../../../src/policy/pss/index.js';
import { knownNonRootUid } from '../../../steps/kit/nonroot-images.js';
import { fixTemplate } from '../../../steps/kit/pod-security-fix.js';
import { type MigrateFacts, parseRunAsUser, psaMigrate, TARGET_SETTING } from '../../../steps/psa-migrate.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { generatePodVariants } from '../../support/pod-variants.js';

type J = Record<string, unknown>;
const specOf = (fragment: J | undefined): J => (fragment?.spec ?? {}) as J;
const RESTRICTED = { level: 'restricted', version: 'v1.36', serverMinor: 36 } as const;
const BASELINE = { level: 'baseline', version: 'v1.36', serverMinor: 36 } as const;

/** A legacy template: nothing set at all (root implicitly). */
const bare = (extra: J = {}): { metadata: J; spec: J } => ({
  metadata: {},
  spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1.0' }], ...extra },
});

const checks = (t: { metadata?: J; spec: J }, policy: { level: 'baseline' | 'restricted' } = RESTRICTED) =>
  evaluatePod({ level: policy.level, version: 'v1.36' }, t, { serverMinor: 36 }).violations.map(
    (v) => v.check,
  );

describe('fixTemplate', () => {
  test('a bare template gets exactly the four restricted fixes and then passes restricted', () => {
    const t = bare({
      initContainers: [{ name: 'init', image: 'registry.example.com/init:1.0' }],
    });
    const tf = fixTemplate(t, RESTRICTED);
    expect(tf.fix).toEqual({
      spec: {
        securityContext: { seccompProfile: { type: 'RuntimeDefault' }, runAsNonRoot: true },
        initContainers: [
          {
            name: 'init',
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
        containers: [
          {
            name: 'app',
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    });
    expect(tf.remaining).toEqual([]);
    expect(checks(mergeApply(t, tf.fix) as { spec: J })).toEqual([]);
    expect(tf.fixedChecks.sort()).toEqual([
      'allowPrivilegeEscalation',
      'capabilities_restricted',
      'runAsNonRoot',
      'seccompProfile_restricted',
    ]);
    // The images are not known to run as non-root: no runAsUser, and the operator is told why it matters.
    expect(JSON.stringify(tf.fix)).not.toContain('runAsUser');
    expect(tf.notes).toEqual([
      'the images registry.example.com/init:1.0 (container "init"), registry.example.com/app:1.0 (container "app") must run as a non-root user (numeric USER); otherwise the kubelet refuses to start it (CreateContainerConfigError: "container has runAsNonRoot and image will run as root" or "… has non-numeric user") — or choose --run-as-user UID (65532, 10001, …) or keep-root',
    ]);
  });

  test('runAsUser only for images known to run as a non-root UID', () => {
    expect(knownNonRootUid('nginxinc/nginx-unprivileged:1.27')?.uid).toBe(101);
    expect(knownNonRootUid('docker.io/nginxinc/nginx-unprivileged:1.27-alpine')?.uid).toBe(101);
    expect(knownNonRootUid('gcr.io/distroless/static-debian12:nonroot')?.uid).toBe(65532);
    expect(knownNonRootUid('gcr.io/distroless/base:debug-nonroot')?.uid).toBe(65532);
    expect(knownNonRootUid('gcr.io/distroless/static-debian12:latest')).toBeUndefined();
    expect(knownNonRootUid('bitnami/redis:7.2')?.uid).toBe(1001);
    expect(knownNonRootUid('nginx:1.27')).toBeUndefined();
    expect(knownNonRootUid('evil.io/nginxinc/nginx-unprivileged:1')).toBeUndefined();
    const tf = fixTemplate(
      {
        spec: {
          containers: [
            { name: 'web', image: 'nginxinc/nginx-unprivileged:1.27' },
            { name: 'side', image: 'registry.example.com/side:1.36' },
          ],
        },
      },
      RESTRICTED,
    );
    const containers = specOf(tf.fix).containers as J[];
    expect(containers.find((c) => c.name === 'web')?.securityContext).toMatchObject({ runAsUser: 101 });
    expect(containers.find((c) => c.name === 'side')?.securityContext).not.toHaveProperty('runAsUser');
    expect(tf.notes.join('\n')).toContain(
      'registry.example.com/side:1.36 (container "side") must run as a non-root user',
    );
    expect(tf.notes.join('\n')).not.toContain('nginx-unprivileged');
  });

  test('a pod-level or container runAsUser that is not 0 needs no image note', () => {
    const tf = fixTemplate(bare({ securityContext: { runAsUser: 1000 } }), RESTRICTED);
    expect(tf.notes).toEqual([]);
    expect(tf.remaining).toEqual([]);
  });

  test('never loosens: existing drops are kept, explicit good values are left alone', () => {
    const t = {
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 1000 },
        containers: [
          {
            name: 'a',
            image: 'x:1',
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['NET_RAW'], add: ['NET_BIND_SERVICE'] },
              seccompProfile: { type: 'Localhost', localhostProfile: 'a.json' },
            },
          },
          { name: 'b', image: 'x:1' },
        ],
      },
    };
    const tf = fixTemplate(t, RESTRICTED);
    expect(tf.fix).toEqual({
      spec: {
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          { name: 'a', securityContext: { capabilities: { drop: ['NET_RAW', 'ALL'] } } },
          {
            name: 'b',
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    });
    // Container a keeps its Localhost profile (it overrides the pod's); nothing in the fix says otherwise.
    const merged = mergeApply(t, tf.fix) as typeof t;
    expect(merged.spec.containers[0]?.securityContext?.seccompProfile).toEqual({
      type: 'Localhost',
      localhostProfile: 'a.json',
    });
    expect(tf.remaining).toEqual([]);
  });

  test('explicit Unconfined and runAsNonRoot=false are tightened, and said so', () => {
    const tf = fixTemplate(
      bare({
        securityContext: { runAsNonRoot: false, runAsUser: 1000, seccompProfile: { type: 'Unconfined' } },
      }),
      RESTRICTED,
    );
    expect(specOf(tf.fix).securityContext).toEqual({
      seccompProfile: { type: 'RuntimeDefault' },
      runAsNonRoot: true,
    });
    expect(tf.fixed).toContain('pod seccompProfile.type: RuntimeDefault (was Unconfined)');
    expect(tf.fixed).toContain('pod runAsNonRoot: true (was false)');
  });

  test('privileged containers: neither allowPrivilegeEscalation=false (invalid) nor drop ALL; what remains is named', () => {
    const t = {
      spec: {
        containers: [
          { name: 'priv', image: 'x:1', securityContext: { privileged: true } },
          { name: 'ok', image: 'x:1' },
        ],
      },
    };
    const tf = fixTemplate(t, RESTRICTED);
    const containers = specOf(tf.fix).containers as J[];
    expect(containers.map((c) => c.name)).toEqual(['ok']);
    expect(tf.remaining.map((r) => r.check)).toEqual([
      'privileged',
      'allowPrivilegeEscalation',
      'capabilities_restricted',
    ]);
    expect(tf.notes).toContain(
      'container "priv" is privileged: allowPrivilegeEscalation: false (the API server rejects it together with privileged: true) and capabilities.drop: [ALL] are not set there — remove privileged: true first, then run migrate again',
    );
    expect(tf.notes.some((n) => n.startsWith('still fails privileged (container "priv"'))).toBe(true);
  });

  test('CAP_SYS_ADMIN: no allowPrivilegeEscalation=false (the API server rejects the pair), drop ALL is fine', () => {
    const tf = fixTemplate(
      {
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            { name: 'c', image: 'x:1', securityContext: { capabilities: { add: ['CAP_SYS_ADMIN'] } } },
          ],
        },
      },
      RESTRICTED,
    );
    expect(tf.fix).toEqual({
      spec: { containers: [{ name: 'c', securityContext: { capabilities: { drop: ['ALL'] } } }] },
    });
    expect(tf.notes[0]).toMatch(/^container "c": allowPrivilegeEscalation: false is not set.*CAP_SYS_ADMIN/);
    expect(tf.notes[1]).toMatch(/^not changed: container "c" adds CAP_SYS_ADMIN/);
  });

  test('runAsUser: 0 and no choice → no runAsNonRoot (the kubelet would refuse the pod), capabilities kept (root needs them); the rest is fixed', () => {
    const tf = fixTemplate(bare({ securityContext: { runAsUser: 0 } }), RESTRICTED);
    expect(specOf(tf.fix).securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(specOf(tf.fix).containers).toEqual([
      { name: 'app', securityContext: { allowPrivilegeEscalation: false } },
    ]);
    expect(tf.remaining.map((r) => r.check)).toEqual([
      'capabilities_restricted',
      'runAsNonRoot',
      'runAsUser',
    ]);
    expect(tf.notes).toEqual([
      'capabilities.drop: [ALL] is not set on container "app": it runs as root, and a root process without its default capabilities cannot change user, change file ownership or bind ports below 1024 — run it as non-root first',
      'not setting runAsNonRoot: container "app" runs as UID 0 (pod runAsUser: 0): not changed — runAsNonRoot would stop it from starting; choose --run-as-user UID (the image must support running as that user) or --run-as-user NS/NAME=keep-root (recorded as an exception)',
    ]);
    expect(tf.keptRoot).toEqual([]);
  });

  test('--run-as-user UID: runAsUser 0 (pod) is replaced, root and unknown images get it; the template then passes', () => {
    const t = bare({
      securityContext: { runAsUser: 0 },
      initContainers: [{ name: 'init', image: 'busybox:1.36' }],
    });
    const tf = fixTemplate(t, { ...RESTRICTED, user: { uid: 65532 } });
    expect(specOf(tf.fix).securityContext).toEqual({
      runAsUser: 65532,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(tf.remaining).toEqual([]);
    expect(tf.fixed.join('\n')).toContain(
      'pod runAsUser: 65532 (was 0; --run-as-user: the image must support',
    );
    // No pod-level 0: each root or unknown container gets the UID, a known non-root image keeps its own.
    const t2 = bare({
      containers: [
        { name: 'app', image: 'registry.example.com/app:1.0' },
        { name: 'redis', image: 'redis:7' },
        { name: 'web', image: 'nginxinc/nginx-unprivileged:1.27' },
      ],
    });
    const tf2 = fixTemplate(t2, { ...RESTRICTED, user: { uid: 10001 } });
    const users = (specOf(tf2.fix).containers as J[]).map((c) => [
      c.name,
      (c.securityContext as J).runAsUser,
    ]);
    expect(users).toEqual([
      ['app', 10001],
      ['redis', 10001],
      ['web', 101],
    ]);
    expect(tf2.remaining).toEqual([]);
  });

  test('--run-as-user is not applied where it cannot work: port < 1024 (unless the choice names the workload), added capabilities, hostPath', () => {
    const web = bare({
      containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }],
    });
    const tf = fixTemplate(web, { ...RESTRICTED, user: { uid: 65532 } });
    expect(JSON.stringify(tf.fix)).not.toContain('runAsUser');
    expect(JSON.stringify(tf.fix)).not.toContain('runAsNonRoot');
    expect(tf.notes.join('\n')).toContain(
      '--run-as-user 65532 is not applied because it binds port 80, which a non-root process cannot',
    );
    const named = fixTemplate(web, { ...RESTRICTED, user: { uid: 101 }, userForWorkload: true });
    expect(named.remaining).toEqual([]);
    const chown = bare({
      initContainers: [
        {
          name: 'init',
          image: 'busybox:1.36',
          securityContext: { runAsUser: 0, capabilities: { add: ['CHOWN'] } },
        },
      ],
      securityContext: { runAsUser: 999 },
    });
    const tf3 = fixTemplate(chown, { ...RESTRICTED, user: { uid: 65532 } });
    expect(tf3.notes.join('\n')).toContain(
      'it adds CHOWN (root work such as chown: do it with fsGroup instead)',
    );
    expect(tf3.remaining.map((r) => r.check)).toContain('runAsUser');
    const host = bare({ volumes: [{ name: 'h', hostPath: { path: '/var/log' } }] });
    const tf4 = fixTemplate(host, { ...RESTRICTED, user: { uid: 65532 } });
    expect(JSON.stringify(tf4.fix)).not.toContain('runAsUser');
  });

  test('--run-as-user keep-root: no runAsNonRoot, capabilities kept, the containers are returned for an exception', () => {
    const t = bare({ containers: [{ name: 'nginx', image: 'nginx:1.27' }] });
    const tf = fixTemplate(t, { ...RESTRICTED, user: 'keep-root' });
    expect(tf.keptRoot).toEqual([{ container: 'nginx', controls: ['runAsNonRoot'] }]);
    expect(specOf(tf.fix).securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(tf.notes.join('\n')).toContain('kept as root (--run-as-user keep-root), recorded as an exception');
  });

  test('a system or infrastructure agent: users and capabilities are left alone', () => {
    const tf = fixTemplate(bare(), { ...RESTRICTED, user: { uid: 65532 }, agent: 'a node agent' });
    // Not even runAsNonRoot: its image's user is unknown, and a root agent would no longer start.
    expect(JSON.stringify(tf.fix)).not.toMatch(/runAsUser|runAsNonRoot|capabilities/);
    expect(tf.notes.join('\n')).toContain(
      'container "app" image registry.example.com/app:1.0: its user is unknown: not changed — a node agent: its user is left as it is',
    );
    expect(JSON.stringify(fixTemplate(bare(), { ...RESTRICTED, agent: 'a node agent' }).fix)).not.toMatch(
      /runAsNonRoot/,
    );
    expect(tf.notes.join('\n')).toContain(
      'capabilities of container "app" are left as they are: a node agent',
    );
  });

  test('an agent that runs as a non-root UID and adds no capability holds none: it gets drop ALL and passes restricted', () => {
    const t = bare({ securityContext: { runAsNonRoot: true, runAsUser: 65534 } });
    const tf = fixTemplate(t, { ...RESTRICTED, agent: 'an infrastructure agent' });
    expect(specOf(tf.fix).containers).toEqual([
      { name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
    ]);
    expect(tf.remaining).toEqual([]);
    // One that adds a capability, or runs as root, keeps its capabilities.
    const adds = bare({ securityContext: { runAsNonRoot: true, runAsUser: 65534 } });
    (adds.spec.containers as J[])[0] = {
      name: 'app',
      image: 'registry.example.com/app:1.0',
      securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } },
    };
    for (const x of [adds, bare({ securityContext: { runAsUser: 0 } })])
      expect(JSON.stringify(fixTemplate(x, { ...RESTRICTED, agent: 'an agent' }).fix ?? {})).not.toMatch(
        /capabilities/,
      );
  });

  test('allowPrivilegeEscalation: true on a non-root container that adds capabilities (file capabilities) is left as it is, and said so', () => {
    const t = bare({ securityContext: { runAsNonRoot: true, runAsUser: 101 } });
    (t.spec.containers as J[])[0] = {
      name: 'controller',
      image: 'registry.k8s.io/ingress-nginx/controller:v1.8.1',
      securityContext: {
        allowPrivilegeEscalation: true,
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    };
    const tf = fixTemplate(t, RESTRICTED);
    expect(tf.fix).toBeUndefined();
    expect(tf.notes.join('\n')).toContain(
      'container "controller": allowPrivilegeEscalation: true is left as it is',
    );
    // Running as root, the capabilities are its own: allowPrivilegeEscalation: false takes nothing.
    const root = JSON.parse(JSON.stringify(t)) as typeof t;
    (root.spec.securityContext as J).runAsUser = 0;
    expect(JSON.stringify(fixTemplate(root, RESTRICTED).fix)).toContain('"allowPrivilegeEscalation":false');
  });

  test('a conflicting deprecated seccomp annotation keeps the field unset (the API server requires them to match)', () => {
    const t = {
      ...bare(),
      metadata: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } },
    };
    const tf = fixTemplate(t, RESTRICTED);
    expect(specOf(tf.fix).securityContext).toEqual({ runAsNonRoot: true });
    expect(tf.notes.join('\n')).toContain('seccomp.security.alpha.kubernetes.io/pod: "unconfined"');
    const ok = fixTemplate(
      {
        ...bare(),
        metadata: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default' } },
      },
      RESTRICTED,
    );
    expect(specOf(ok.fix).securityContext).toMatchObject({ seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('Windows pods get no Linux-only field: only runAsNonRoot', () => {
    const tf = fixTemplate(bare({ os: { name: 'windows' } }), RESTRICTED);
    expect(tf.fix).toEqual({ spec: { securityContext: { runAsNonRoot: true } } });
    expect(tf.optional).toBeUndefined();
    expect(tf.remaining).toEqual([]);
  });

  test('baseline: only what baseline needs (Unconfined seccomp); hostPath is named with the next action', () => {
    const t = bare({
      securityContext: { seccompProfile: { type: 'Unconfined' } },
      volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }],
    });
    const tf = fixTemplate(t, BASELINE);
    expect(tf.fix).toEqual({ spec: { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } } });
    expect(tf.remaining.map((r) => r.check)).toEqual(['hostPathVolumes']);
    expect(tf.notes).toEqual([
      'still fails hostPath volumes (volume "logs"): not fixed automatically — replace the hostPath volume with a PersistentVolumeClaim, emptyDir, configMap/secret or CSI volume, or move the workload to a namespace of its own with a lower level',
    ]);
  });

  test('a check covered by a valid exception is left alone and named as blocking the namespace anyway', () => {
    const tf = fixTemplate(
      bare({ securityContext: { runAsUser: 1000 } }),
      RESTRICTED,
      new Map([['capabilities_restricted', ['needs-net-raw']]]),
    );
    expect(JSON.stringify(tf.fix)).not.toContain('capabilities');
    expect(tf.notes).toEqual([
      'still fails unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]): excepted by needs-net-raw, but Pod Security cannot exempt one workload — move it to a namespace of its own to enforce restricted here',
    ]);
  });

  test('nothing to fix: no fix, no notes', () => {
    const tf = fixTemplate({ spec: restrictedSpec() as unknown as J }, RESTRICTED);
    expect(tf.fix).toBeUndefined();
    expect(tf.remaining).toEqual([]);
    expect(tf.notes).toEqual([]);
  });

  test('optional: readOnlyRootFilesystem + an emptyDir at /tmp, on top of the fix; /tmp already mounted is left alone', () => {
    const t = bare({
      containers: [
        { name: 'app', image: 'x:1' },
        { name: 'side', image: 'x:1', volumeMounts: [{ name: 'scratch', mountPath: '/tmp/' }] },
      ],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'tmp', configMap: { name: 'x' } },
      ],
    });
    const tf = fixTemplate(t, RESTRICTED);
    expect(tf.fix).toBeDefined();
    // It contains the fix: applying it alone (or after the fix, in the same run) keeps the fix.
    expect(mergeApply(tf.optional, tf.fix)).toEqual(tf.optional);
    const spec = tf.optional?.spec as J;
    expect(spec.volumes).toEqual([{ name: 'kube-harden-tmp', emptyDir: {} }]);
    expect(spec.containers).toEqual([
      {
        name: 'app',
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          readOnlyRootFilesystem: true,
        },
        volumeMounts: [{ name: 'kube-harden-tmp', mountPath: '/tmp' }],
      },
      {
        name: 'side',
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          readOnlyRootFilesystem: true,
        },
      },
    ]);
    const already = fixTemplate(
      {
        spec: restrictedSpec({
          containers: [
            container('app', {
              securityContext: { ...container().securityContext, readOnlyRootFilesystem: true },
            }),
          ],
        }) as unknown as J,
      },
      RESTRICTED,
    );
    expect(already.optional).toBeUndefined();
  });

  test('over 500 generated API-valid pods: fixed checks pass, no invalid pair is produced, nothing is loosened', () => {
    const variants = generatePodVariants();
    expect(variants.length).toBeGreaterThan(300);
    let fixedSome = 0;
    for (const v of variants) {
      const template = { metadata: v.pod.metadata as J, spec: v.pod.spec };
      for (const policy of [RESTRICTED, BASELINE]) {
        const tf = fixTemplate(template, policy);
        if (!tf.fix) continue;
        fixedSome++;
        const after = mergeApply(template, tf.fix) as { metadata: J; spec: J };
        const remaining = checks(after, policy);
        // A fixed check passes afterwards — unless something the fix must not touch keeps it failing (a
        // privileged container, CAP_SYS_ADMIN, runAsUser 0, a conflicting seccomp annotation), which a note names.
        const blocked = /privileged|CAP_SYS_ADMIN|runAsUser: 0|deprecated annotation|capabilities.add/.test(
          tf.notes.join('\n'),
        );
        for (const c of tf.fixedChecks) {
          if (!blocked) expect(remaining, `${v.description} ${c}`).not.toContain(c);
        }
        // Every violation after the fix was there before (a fix never introduces one).
        for (const c of remaining) expect(checks(template, policy), v.description).toContain(c);
        for (const key of ['initContainers', 'containers'] as const) {
          for (const c of (after.spec[key] as J[] | undefined) ?? []) {
            const sc = (c.securityContext ?? {}) as J;
            const add = ((sc.capabilities as J | undefined)?.add as string[] | undefined) ?? [];
            if (sc.allowPrivilegeEscalation === false) {
              expect(sc.privileged, v.description).not.toBe(true);
              expect(add, v.description).not.toContain('CAP_SYS_ADMIN');
            }
          }
        }
        if (after.spec.os && (after.spec.os as J).name === 'windows') {
          expect(JSON.stringify(tf.fix), v.description).not.toMatch(
            /seccomp|capabilities|allowPrivilege|runAsUser/,
          );
        }
        // Never loosened: every value the fix sets is stricter than, or equal to, the one it replaces.
        assertTightens(template.spec, tf.fix.spec as J, v.description);
      }
    }
    expect(fixedSome).toBeGreaterThan(100);
  });
});

/** Compare each field the fix sets with the template's value: only tightening moves are allowed. */
function assertTightens(before: J, fix: J, what: string): void {
  const podSc = (before.securityContext ?? {}) as J;
  const fixSc = (fix.securityContext ?? {}) as J;
  if ('runAsNonRoot' in fixSc) expect(fixSc.runAsNonRoot, what).toBe(true);
  if ('seccompProfile' in fixSc) {
    expect(fixSc.seccompProfile, what).toEqual({ type: 'RuntimeDefault' });
    expect(['RuntimeDefault', 'Localhost'], what).not.toContain(
      (podSc.seccompProfile as J | undefined)?.type,
    );
  }
  for (const key of ['initContainers', 'containers'] as const) {
    for (const c of (fix[key] as J[] | undefined) ?? []) {
      const orig = ((before[key] as J[] | undefined) ?? []).find((x) => x.name === c.name);
      expect(orig, what).toBeDefined();
      const o = ((orig?.securityContext ?? {}) as J) ?? {};
      const s = c.securityContext as J;
      if ('allowPrivilegeEscalation' in s) expect(s.allowPrivilegeEscalation, what).toBe(false);
      if ('runAsNonRoot' in s) expect(s.runAsNonRoot, what).toBe(true);
      if ('runAsUser' in s) {
        expect(s.runAsUser, what).not.toBe(0);
        expect(o.runAsUser, what).toBeUndefined();
      }
      if ('capabilities' in s) {
        const drop = (s.capabilities as J).drop as string[];
        const had = (((o.capabilities as J | undefined)?.drop as string[] | undefined) ?? []) as string[];
        expect(drop.slice(0, had.length), what).toEqual(had);
        expect(drop, what).toContain('ALL');
        expect(Object.keys(s.capabilities as J), what).toEqual(['drop']);
      }
      expect(
        Object.keys(s).every((k) =>
          [
            'allowPrivilegeEscalation',
            'capabilities',
            'seccompProfile',
            'runAsNonRoot',
            'runAsUser',
          ].includes(k),
        ),
        what,
      ).toBe(true);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The step on fixture snapshots

/** A reader that answers targeted reads from the given objects (and nothing else). */
function readerOf(objects: KubeObject[]): ClusterReader {
  const key = (r: ObjectRef) => `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
  const byKey = new Map(objects.map((o) => [key({ ...o, ...o.metadata }), o]));
  const no = () => {
    throw new Error('steps only read targets');
  };
  return {
    source: { kind: 'manifests', path: 'fixture' },
    capabilities: { dryRun: false, reviews: false },
    serverVersion: async () => undefined,
    get: async (ref) => ({ value: byKey.get(key(ref)), warnings: [] }),
    list: no,
    dryRunApply: no,
    dryRunMergePatch: no,
    dryRunDelete: no,
    accessReview: no,
    whoAmI: no,
  } as ClusterReader;
}

/** The live object of a fixture workload (template under its kind's path). */
function liveOf(w: Workload, extraSpec: J = {}): KubeObject {
  const template = { metadata: w.template?.metadata ?? {}, spec: w.template?.spec };
  const spec =
    w.kind === 'CronJob'
      ? { schedule: '0 2 * * *', jobTemplate: { spec: { template } } }
      : w.kind === 'Pod'
        ? w.template?.spec
        : { template };
  return {
    apiVersion: w.apiVersion,
    kind: w.kind,
    metadata: { name: w.name, namespace: w.namespace, resourceVersion: '7' },
    spec: { ...(spec as J), ...extraSpec },
  };
}

const legacySpec = (extra: Partial<PodSpecLite> = {}): PodSpecLite => ({
  containers: [{ name: 'app', image: 'registry.example.com/app:1.0' }],
  ...extra,
});

async function run(
  snap: Snapshot,
  live: KubeObject[],
  opts: { namespaces?: string[]; settings?: J; exceptions?: ExceptionRegister } = {},
) {
  const assessment = assess(snap, { now: NOW, ...(opts.exceptions ? { exceptions: opts.exceptions } : {}) });
  const options: StepOptions = {
    namespaces: opts.namespaces ?? [],
    exclude: [],
    settings: opts.settings ?? {},
    now: NOW,
  };
  const ctx = {
    snapshot: snap,
    assessment,
    reader: readerOf(live),
    options,
    signal: new AbortController().signal,
  };
  const { facts, findings } = await psaMigrate.detect(ctx);
  const changes = psaMigrate.propose(facts, options);
  return { facts, findings, changes, explanation: psaMigrate.explain(facts, changes) };
}

const CLUSTER = { kind: 'cluster', context: 'test', server: 'https://127.0.0.1:6443' } as const;

describe('psa-migrate step', () => {
  const deploy = workload('Deployment', 'shop', 'web', legacySpec(), { replicas: 2, pods: 2 });
  const cron = workload('CronJob', 'shop', 'report', legacySpec());
  const pod = workload('Pod', 'shop', 'debug', legacySpec());
  const job = workload('Job', 'shop', 'once', legacySpec());
  const fine = workload('Deployment', 'shop', 'fine');
  const helm: Workload = {
    ...workload('Deployment', 'shop', 'chart', legacySpec()),
    managedBy: [{ tool: 'helm', detail: 'Helm release shop/chart' }],
  };
  const other = workload('Deployment', 'other', 'web', legacySpec());
  const snap = snapshot({
    source: CLUSTER,
    namespaces: [ns('shop'), ns('other')],
    workloads: [deploy, cron, pod, job, fine, helm, other],
  });
  const live = [deploy, cron, job, helm, other].map((w) => liveOf(w));

  test('one fix (+ one optional change) per blocking workload that can change in place; others get a finding', async () => {
    const { changes, findings, facts } = await run(snap, live, { namespaces: ['shop'] });
    expect(changes.map((c) => `${c.id}${c.optional ? ' (optional)' : ''}`)).toEqual([
      'psa-migrate/cronjob/shop/report',
      'psa-migrate/cronjob/shop/report/read-only-root (optional)',
      'psa-migrate/deployment/shop/chart',
      'psa-migrate/deployment/shop/chart/read-only-root (optional)',
      'psa-migrate/deployment/shop/web',
      'psa-migrate/deployment/shop/web/read-only-root (optional)',
      // Live, a bare Pod and a Job are re-created by hand (their pod spec is immutable).
      'psa-migrate/job/shop/once/recreate',
      'psa-migrate/pod/shop/debug/recreate',
    ]);
    expect(changes.every((c) => c.risk === 'disruptive')).toBe(true);
    const recreate = changes.find((c) => c.id === 'psa-migrate/pod/shop/debug/recreate') as Extract<
      Change,
      { kind: 'manual' }
    >;
    expect(recreate.kind).toBe('manual');
    expect(recreate.artifact.path).toBe('pod-shop-debug.patch.yaml');
    expect(recreate.artifact.content).toContain('allowPrivilegeEscalation: false');
    expect(recreate.instructions).toContain('kubectl get pod debug -n shop -o yaml > debug.yaml');
    expect(recreate.instructions).toContain(
      'kubectl patch --local -f debug.yaml --type strategic --patch-file pod-shop-debug.patch.yaml -o yaml > debug-fixed.yaml',
    );
    expect(recreate.instructions).toContain('kubectl replace --force -f debug-fixed.yaml');
    expect(recreate.reason).toContain('Disruptive: the Pod is deleted and created again');
    expect(facts.namespaces.map((n) => [n.name, n.target, n.current])).toEqual([
      ['shop', 'restricted', null],
    ]);
    const blocker = (name: string) =>
      findings.find((f) => f.control === 'KH-PSA-MIGRATE-BLOCKER' && f.target.name === name)?.message;
    expect(blocker('debug')).toMatch(
      /^Pod shop\/debug blocks restricted \(allowPrivilegeEscalation, capabilities_restricted, runAsNonRoot, seccompProfile_restricted\) — a bare Pod cannot be changed in place/,
    );
    expect(blocker('debug')).toContain('(manual, disruptive: psa-migrate/pod/shop/debug/recreate)');
    expect(blocker('once')).toContain("a Job's pod template is immutable");
    expect(blocker('fine')).toBeUndefined();
    expect(blocker('web')).toContain('fix proposed: psa-migrate/deployment/shop/web');
    expect(findings.find((f) => f.control === 'KH-PSA-MIGRATE-SUMMARY')?.message).toBe(
      'namespace shop: 2 of 5 blocking workload(s) still fail restricted after the proposed fixes: Job once (allowPrivilegeEscalation, capabilities_restricted, runAsNonRoot, seccompProfile_restricted); Pod debug (allowPrivilegeEscalation, capabilities_restricted, runAsNonRoot, seccompProfile_restricted) — fix them by hand (see the notes), then run migrate again',
    );
  });

  test('the apply configuration holds only the template fragment, under the kind’s template path', async () => {
    const { changes } = await run(snap, live, { namespaces: ['shop'] });
    const byId = (id: string) => changes.find((c) => c.id === id) as Extract<Change, { kind: 'apply' }>;
    const web = byId('psa-migrate/deployment/shop/web');
    expect(web.target).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' });
    expect(web.desired).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        template: {
          spec: {
            securityContext: { seccompProfile: { type: 'RuntimeDefault' }, runAsNonRoot: true },
            containers: [
              {
                name: 'app',
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      },
    });
    const cronFix = byId('psa-migrate/cronjob/shop/report');
    expect(Object.keys(cronFix.desired.spec as J)).toEqual(['jobTemplate']);
    expect((((cronFix.desired.spec as J).jobTemplate as J).spec as J).template).toEqual(
      (web.desired.spec as J).template,
    );
    expect(cronFix.notes).toContain('Jobs already started keep the old template; the next run uses the fix');
    expect(web.reason).toContain('With it, the template passes restricted:v1.37.');
  });

  test('Helm, Argo CD and Flux workloads: exportPatch names the source, and a note says it must change too', async () => {
    const { changes } = await run(snap, live, { namespaces: ['shop'] });
    const chart = changes.filter((c) => c.id.startsWith('psa-migrate/deployment/shop/chart'));
    expect(chart.map((c) => c.exportPatch)).toEqual(['Helm release shop/chart', 'Helm release shop/chart']);
    expect(chart[0]?.notes?.[0]).toBe(
      'managed by Helm release shop/chart: change its source too (chart values or Git), or the next sync reverts this fix — the fix is exported as a patch (patches/ in the plan directory)',
    );
    expect(changes.find((c) => c.id === 'psa-migrate/deployment/shop/web')?.exportPatch).toBeUndefined();
  });

  test('the live object is read: its template wins over the snapshot, and its strategy is noted', async () => {
    const fixedLive = liveOf(deploy, { strategy: { type: 'Recreate' } });
    ((fixedLive.spec as J).template as J).spec = {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'app', image: 'x:1' }],
    };
    const { changes } = await run(snap, [fixedLive], { namespaces: ['shop'] });
    const web = changes.find((c) => c.id === 'psa-migrate/deployment/shop/web') as Extract<
      Change,
      { kind: 'apply' }
    >;
    expect(((web.desired.spec as J).template as J).spec).toEqual({
      containers: [
        {
          name: 'app',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    });
    expect(web.notes).toContain(
      'strategy Recreate: all pods stop before the new ones start (a short outage)',
    );
    // Not readable (no live object): the snapshot's template, said so.
    const fromSnapshot = changes.find((c) => c.id === 'psa-migrate/deployment/shop/chart');
    expect(fromSnapshot?.notes).toContain(
      'computed from the inventory (the live object could not be read): preview before applying',
    );
  });

  test('facts keep only what the evaluator reads of the live template: no env values, args or commands', async () => {
    const withEnv = liveOf(deploy);
    ((withEnv.spec as J).template as J).spec = {
      containers: [
        {
          name: 'app',
          image: 'x:1',
          env: [{ name: 'TOKEN', value: 'kh-canary-env-3141' }],
          args: ['--password=kh-canary-arg-2718'],
        },
      ],
    };
    const { facts, findings, changes } = await run(snap, [withEnv], { namespaces: ['shop'] });
    for (const text of [JSON.stringify(facts), JSON.stringify(findings), JSON.stringify(changes)]) {
      expect(text).not.toContain('kh-canary');
    }
    expect(facts.namespaces[0]?.workloads.find((w) => w.ref.name === 'web')?.templateSource).toBe('live');
  });

  test('--target baseline: only baseline blockers, and restricted-only checks are left alone', async () => {
    const hostPath = workload(
      'Deployment',
      'shop',
      'logs',
      legacySpec({ volumes: [{ name: 'h', hostPath: { path: '/var/log' } }] }),
    );
    const unconfined = workload(
      'Deployment',
      'shop',
      'unconfined',
      legacySpec({ securityContext: { seccompProfile: { type: 'Unconfined' } } }),
    );
    const s = snapshot({ namespaces: [ns('shop')], workloads: [deploy, hostPath, unconfined] });
    const { changes, findings, facts } = await run(
      s,
      [deploy, hostPath, unconfined].map((w) => liveOf(w)),
      {
        settings: { [TARGET_SETTING]: 'baseline' },
      },
    );
    expect(facts.namespaces[0]).toMatchObject({ target: 'baseline', targetFrom: 'option' });
    expect(changes.filter((c) => !c.optional).map((c) => c.id)).toEqual([
      'psa-migrate/deployment/shop/unconfined',
      'psa-migrate/left-non-compliant',
    ]);
    const fix = changes.find((c) => c.id === 'psa-migrate/deployment/shop/unconfined') as Extract<
      Change,
      { kind: 'apply' }
    >;
    expect(((fix.desired.spec as J).template as J).spec).toEqual({
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(findings.find((f) => f.target.name === 'logs')?.message).toContain(
      'nothing can be fixed automatically: still fails hostPath volumes (volume "h")',
    );
    expect(findings.some((f) => f.target.name === 'web')).toBe(false);
  });

  test('a valid exception: the excepted check is not fixed, and the note says PSA cannot exempt one workload', async () => {
    const exceptions: ExceptionRegister = {
      file: 'x.yaml',
      exceptions: [
        {
          id: 'web-root',
          scope: { namespace: 'shop', kind: 'Deployment', name: 'web' },
          controls: ['runAsNonRoot'],
          reason: 'legacy image',
          owner: 'team',
          expires: '2027-01-01',
          line: 1,
        },
      ],
    };
    const s = snapshot({ namespaces: [ns('shop')], workloads: [deploy] });
    const { changes } = await run(s, [liveOf(deploy)], { exceptions });
    const web = changes[0] as Extract<Change, { kind: 'apply' }>;
    expect(JSON.stringify(web.desired)).not.toContain('runAsNonRoot');
    expect(web.notes?.join('\n')).toContain(
      'excepted by web-root, but Pod Security cannot exempt one workload — move it to a namespace of its own to enforce restricted here',
    );
  });

  test('system tier: nothing to migrate; a namespace whose workloads pass: no change, and enforce is next', async () => {
    const s = snapshot({
      namespaces: [ns('kube-system'), ns('shop')],
      workloads: [workload('DaemonSet', 'kube-system', 'cni', legacySpec({ hostNetwork: true })), fine],
    });
    const { changes, findings } = await run(s, []);
    // The CNI agent passes its tier's level (privileged) but not restricted: named in PLAN.md's table, not fixed.
    expect(changes.map((c) => c.id)).toEqual(['psa-migrate/left-non-compliant']);
    const left = changes[0] as Extract<Change, { kind: 'manual' }>;
    expect(left.instructions).toContain(
      "| DaemonSet kube-system/cni | system (privileged) | passes | hostNamespaces, allowPrivilegeEscalation, capabilities_restricted, runAsNonRoot, seccompProfile_restricted | the system tier's target is privileged, which it passes: restricted is not attempted (a system-tier workload (namespace kube-system): host namespaces, hostPath and capabilities are never removed) |",
    );
    expect(findings.map((f) => f.message)).toEqual([
      'namespace kube-system: system tier, target level privileged — nothing to migrate',
      'namespace shop: every workload template and pod passes restricted already — enforce it: kube-harden plan --step psa-enforce -n shop',
    ]);
  });

  test('explain: why, impact (pods roll), rollback (undo)', async () => {
    const { explanation } = await run(snap, live, { namespaces: ['shop'] });
    expect(explanation.impact).toMatch(
      /^3 workload fix\(es\) and 3 optional change\(s\), 2 re-create\(s\) by hand \(bare Pods, Jobs\)\. A changed pod template replaces/,
    );
    expect(explanation.rollback).toMatch(/^kube-harden undo RUN_ID restores each workload template/);
    expect(explanation.why).toContain('shop → restricted');
  });

  test('is opt-in, phase 2, disruptive; asks patch on the kinds it changes in the namespaces in scope', () => {
    expect(psaMigrate).toMatchObject({ optIn: true, phase: 2, risk: 'disruptive' });
    const perms = psaMigrate.permissions({ namespaces: ['shop'], exclude: [], settings: {}, now: NOW }, snap);
    expect(perms).toEqual([
      { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop' },
      { verb: 'patch', group: 'batch', resource: 'cronjobs', namespace: 'shop' },
    ]);
  });

  test('facts are plain data: propose on a JSON copy gives the same changes', async () => {
    const { facts } = await run(snap, live, { namespaces: ['shop'] });
    const copy = JSON.parse(JSON.stringify(facts)) as MigrateFacts;
    expect(psaMigrate.propose(copy, { namespaces: [], exclude: [], settings: {}, now: NOW })).toEqual(
      psaMigrate.propose(facts, { namespaces: [], exclude: [], settings: {}, now: NOW }),
    );
  });
});

describe('KH-POD-WRITABLE-ROOTFS (the finding the optional read-only root change fixes)', () => {
  test('low severity, phase 2; one finding per container without readOnlyRootFilesystem: true; Windows pods are not counted', () => {
    expect(control('KH-POD-WRITABLE-ROOTFS')).toMatchObject({ severity: 'low', phase: 2 });
    const ro = { name: 'ro', image: 'x:1', securityContext: { readOnlyRootFilesystem: true } };
    const s = snapshot({
      namespaces: [ns('shop')],
      workloads: [
        workload('Deployment', 'shop', 'mixed', {
          ...restrictedSpec(),
          initContainers: [{ name: 'init', image: 'x:1' }],
          containers: [ro, { name: 'rw', image: 'x:1', securityContext: { readOnlyRootFilesystem: false } }],
        } as PodSpecLite),
        workload('Deployment', 'shop', 'win', {
          ...restrictedSpec(),
          os: { name: 'windows' },
        } as PodSpecLite),
      ],
    });
    const found = assess(s, { now: NOW })
      .findings.filter((f) => f.control === 'KH-POD-WRITABLE-ROOTFS')
      .map((f) => `${f.target.name}/${f.target.container}: ${f.message}`);
    expect(found).toEqual([
      'mixed/init: init container has a writable root filesystem (readOnlyRootFilesystem is not true)',
      'mixed/rw: has a writable root filesystem (readOnlyRootFilesystem is not true)',
    ]);
  });
});

describe('--run-as-user', () => {
  test('parses a UID, keep-root and NS/NAME=… per workload; rejects the rest', () => {
    expect(parseRunAsUser('65532,shop/redis=999,data/postgres=keep-root')).toEqual({
      ok: true,
      value: { all: { uid: 65532 }, workloads: { 'shop/redis': { uid: 999 }, 'data/postgres': 'keep-root' } },
    });
    expect(parseRunAsUser('keep-root')).toEqual({ ok: true, value: { all: 'keep-root', workloads: {} } });
    for (const bad of ['0', 'root', '-1', '99999999999', '65532,10001', 'shop=1', 'Shop/x=1'])
      expect(parseRunAsUser(bad).ok, bad).toBe(false);
  });

  test('offline: per-workload choices, keep-root drafts exceptions, a bare Pod and a Job get manifest fixes, agents are left alone', async () => {
    const s = snapshot({
      namespaces: [ns('shop'), ns('kube-system')],
      workloads: [
        workload(
          'Deployment',
          'shop',
          'web',
          legacySpec({ containers: [container('nginx', { image: 'nginx:1.27' })] }),
        ),
        workload(
          'Pod',
          'shop',
          'debug',
          legacySpec({ containers: [container('sh', { image: 'ubuntu:22.04' })] }),
        ),
        workload('Job', 'shop', 'once', legacySpec()),
        workload('DaemonSet', 'kube-system', 'proxy', legacySpec({ hostNetwork: true })),
      ],
    });
    const all = [...s.workloads].map((w) => liveOf(w));
    const { changes, facts } = await run(s, all, {
      settings: { 'psa-migrate.runAsUser': '10001,shop/web=keep-root' },
    });
    expect(changes.filter((c) => !c.optional).map((c) => `${c.kind} ${c.id}`)).toEqual([
      'apply psa-migrate/deployment/shop/web',
      'apply psa-migrate/job/shop/once',
      'apply psa-migrate/pod/shop/debug',
      'manual psa-migrate/left-non-compliant',
      'manual psa-migrate/keep-root-exceptions',
    ]);
    const pod = changes.find((c) => c.id === 'psa-migrate/pod/shop/debug') as Extract<
      Change,
      { kind: 'apply' }
    >;
    expect(JSON.stringify(pod.desired)).toContain('"runAsUser":10001');
    expect(pod.reason).toContain('Offline, the manifest is fixed');
    expect(facts.keptRoot).toEqual([
      { namespace: 'shop', kind: 'Deployment', name: 'web', container: 'nginx', controls: ['runAsNonRoot'] },
    ]);
    expect(facts.left?.map((l) => `${l.kind} ${l.namespace}/${l.name}`)).toEqual([
      'DaemonSet kube-system/proxy',
      'Deployment shop/web',
    ]);
    const draft = changes.find((c) => c.id === 'psa-migrate/keep-root-exceptions') as Extract<
      Change,
      { kind: 'manual' }
    >;
    const register = parseExceptions(draft.artifact.content, 'keep-root-exceptions.yaml');
    expect(register.exceptions[0]).toMatchObject({
      id: 'shop-web-nginx-runs-as-root',
      scope: { namespace: 'shop', kind: 'Deployment', name: 'web', container: 'nginx' },
      controls: ['runAsNonRoot'],
      expires: '2026-08-30',
    });
  });
});
