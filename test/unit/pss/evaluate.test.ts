/**
 * evaluatePod as PSA runs it: version resolution and clamping, the check set per level and version (overrides),
 * result order and admission messages, Windows exemptions, user-namespace relaxations, server-side defaulting.
 */
import { describe, expect, it } from 'vitest';
import {
  applyServerDefaults,
  checksFor,
  evaluatePod,
  forbiddenReason,
  formatForbidden,
  formatWouldViolate,
  type LevelVersion,
  NEWEST_POLICY_MINOR,
  needsServerDefaults,
  type PodLike,
  resolveVersion,
} from '../../../src/policy/pss/index.js';

/** upstream test/fixtures.go: minimal valid restricted pod (v1.22+), the base of every restricted vector. */
function restrictedPod(): PodLike & { spec: Record<string, unknown> } {
  const containerSc = () => ({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  return {
    metadata: { name: 'web' },
    spec: {
      initContainers: [
        { name: 'initcontainer1', image: 'registry.k8s.io/pause', securityContext: containerSc() },
      ],
      containers: [{ name: 'container1', image: 'registry.k8s.io/pause', securityContext: containerSc() }],
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    },
  };
}

const nginx: PodLike = {
  metadata: { name: 'nginx' },
  spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
};
const restrictedLatest: LevelVersion = { level: 'restricted', version: 'latest' };

describe('check sets and result order (registry.go)', () => {
  it('orders baseline IDs sorted, then restricted IDs sorted', () => {
    expect(NEWEST_POLICY_MINOR).toBe(37);
    expect(checksFor('baseline', 'latest')).toEqual([
      'appArmorProfile',
      'capabilities_baseline',
      'hostNamespaces',
      'hostPathVolumes',
      'hostPorts',
      'hostProbesAndHostLifecycle',
      'privileged',
      'procMount',
      'seLinuxOptions',
      'seccompProfile_baseline',
      'sysctls',
      'windowsHostProcess',
    ]);
    // Given restricted at v1.35+, then capabilities_baseline, hostPathVolumes, procMount and seccompProfile_baseline
    // are overridden by their restricted counterparts.
    expect(checksFor('restricted', 'latest')).toEqual([
      'appArmorProfile',
      'hostNamespaces',
      'hostPorts',
      'hostProbesAndHostLifecycle',
      'privileged',
      'seLinuxOptions',
      'sysctls',
      'windowsHostProcess',
      'allowPrivilegeEscalation',
      'capabilities_restricted',
      'procMount_restricted',
      'restrictedVolumes',
      'runAsNonRoot',
      'runAsUser',
      'seccompProfile_restricted',
    ]);
    expect(checksFor('privileged', 'latest')).toEqual([]);
    expect(checksFor('restricted', 1000)).toEqual(checksFor('restricted', 'latest'));
  });

  it('runs only the checks whose MinimumVersion has been reached, with overrides per version', () => {
    expect(checksFor('restricted', 0)).toEqual([
      'appArmorProfile',
      'capabilities_baseline',
      'hostNamespaces',
      'hostPorts',
      'privileged',
      'procMount',
      'seLinuxOptions',
      'seccompProfile_baseline',
      'sysctls',
      'windowsHostProcess',
      'restrictedVolumes',
      'runAsNonRoot',
    ]);
    expect(checksFor('restricted', 8)).toContain('allowPrivilegeEscalation');
    expect(checksFor('restricted', 7)).not.toContain('allowPrivilegeEscalation');
    expect(checksFor('restricted', 18)).toContain('seccompProfile_baseline');
    expect(checksFor('restricted', 19)).toEqual(expect.arrayContaining(['seccompProfile_restricted']));
    expect(checksFor('restricted', 19)).not.toContain('seccompProfile_baseline');
    expect(checksFor('restricted', 21)).toContain('capabilities_baseline');
    expect(checksFor('restricted', 22)).not.toContain('capabilities_baseline');
    expect(checksFor('restricted', 22)).not.toContain('runAsUser');
    expect(checksFor('restricted', 23)).toContain('runAsUser');
    expect(checksFor('baseline', 33)).not.toContain('hostProbesAndHostLifecycle');
    expect(checksFor('baseline', 34)).toContain('hostProbesAndHostLifecycle');
    expect(checksFor('restricted', 34)).toEqual(expect.arrayContaining(['procMount']));
    expect(checksFor('restricted', 35)).not.toContain('procMount');
    expect(checksFor('baseline', 35)).toContain('procMount');
  });

  it('returns violations in that order with upstream’s aggregate messages', () => {
    // Given a plain nginx pod, when it is evaluated at restricted:latest,
    // then the four restricted violations come back in upstream order, as kubectl shows them.
    const result = evaluatePod(restrictedLatest, nginx);
    expect(result.allowed).toBe(false);
    expect(result.violations.map((v) => v.check)).toEqual([
      'allowPrivilegeEscalation',
      'capabilities_restricted',
      'runAsNonRoot',
      'seccompProfile_restricted',
    ]);
    expect(formatForbidden(restrictedLatest, result)).toBe(
      'violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    expect(formatWouldViolate({ level: 'restricted', version: 'v1.30' }, result)).toMatch(
      /^would violate PodSecurity "restricted:v1\.30": allowPrivilegeEscalation != false \(/,
    );
    expect(forbiddenReason(result)).toBe(
      'allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
    );
  });

  it('puts baseline violations before restricted ones', () => {
    const pod = restrictedPod();
    pod.spec.hostPID = true;
    pod.spec.securityContext = {
      runAsUser: 0,
      seccompProfile: { type: 'RuntimeDefault' },
      runAsNonRoot: true,
    };
    const result = evaluatePod(restrictedLatest, pod);
    expect(result.violations).toEqual([
      { check: 'hostNamespaces', reason: 'host namespaces', detail: 'hostPID=true' },
      { check: 'runAsUser', reason: 'runAsUser=0', detail: 'pod must not set runAsUser=0' },
    ]);
  });

  it('privileged allows everything', () => {
    const pod = restrictedPod();
    pod.spec.hostNetwork = true;
    pod.spec.volumes = [{ name: 'root', hostPath: { path: '/' } }];
    expect(evaluatePod({ level: 'privileged', version: 'latest' }, pod)).toEqual({
      allowed: true,
      violations: [],
    });
  });
});

describe('version resolution (registry.go EvaluatePod, NewEvaluator emulation)', () => {
  it('resolves latest and too-new versions to the newest policy offline', () => {
    expect(resolveVersion('latest')).toEqual({ minor: NEWEST_POLICY_MINOR });
    expect(resolveVersion('v1.10000')).toEqual({ minor: NEWEST_POLICY_MINOR });
    expect(resolveVersion('v1.22')).toEqual({ minor: 22 });
    expect(resolveVersion('v1.0')).toEqual({ minor: 0 });
  });

  it('clamps to min(serverMinor, newest) when the server version is known', () => {
    expect(resolveVersion('latest', 33)).toEqual({ minor: 33 });
    expect(resolveVersion('v1.35', 33)).toEqual({ minor: 33 });
    expect(resolveVersion('v1.30', 33)).toEqual({ minor: 30 });
    expect(resolveVersion('latest', 99)).toEqual({ minor: NEWEST_POLICY_MINOR });
  });

  it('rejects versions that are not "latest" or "v1.x"', () => {
    expect(() => resolveVersion('v1.05' as 'latest')).toThrow(TypeError);
    expect(() => resolveVersion('1.30' as 'latest')).toThrow('must be "latest" or "v1.x"');
    expect(() => resolveVersion('latest', -1)).toThrow(RangeError);
  });

  it('latest on a 1.33 server does not run the v1.34 host probe check; offline latest does', () => {
    // Given a pod whose startup probe targets localhost (upstream TestHostProbesAndHostLifecycleEmulation)
    const pod: PodLike = { spec: { containers: [{ startupProbe: { httpGet: { host: 'localhost' } } }] } };
    const baselineLatest: LevelVersion = { level: 'baseline', version: 'latest' };
    expect(evaluatePod(baselineLatest, pod, { serverMinor: 33 }).allowed).toBe(true);
    expect(evaluatePod(baselineLatest, pod, { serverMinor: 34 }).allowed).toBe(false);
    expect(evaluatePod(baselineLatest, pod).allowed).toBe(false);
    expect(evaluatePod({ level: 'baseline', version: 'v1.34' }, pod, { serverMinor: 33 }).allowed).toBe(true);
    expect(evaluatePod({ level: 'baseline', version: 'v1.33' }, pod).allowed).toBe(true);
  });

  it('a pinned old version skips newer requirements', () => {
    // restricted:v1.21 has no drop-ALL requirement; restricted:v1.7 no allowPrivilegeEscalation requirement.
    const pod = restrictedPod();
    for (const c of [...(pod.spec.containers as object[]), ...(pod.spec.initContainers as object[])]) {
      (c as { securityContext: unknown }).securityContext = { allowPrivilegeEscalation: false };
    }
    expect(evaluatePod({ level: 'restricted', version: 'v1.21' }, pod).allowed).toBe(true);
    expect(
      evaluatePod({ level: 'restricted', version: 'v1.22' }, pod).violations.map((v) => v.check),
    ).toEqual(['capabilities_restricted']);
    expect(
      evaluatePod({ level: 'restricted', version: 'v1.7' }, nginx).violations.map((v) => v.check),
    ).toEqual(['runAsNonRoot']);
  });

  it('prints the requested version, not the resolved one', () => {
    const policy: LevelVersion = { level: 'baseline', version: 'v1.99' };
    const result = evaluatePod(policy, { spec: { hostIPC: true } });
    expect(formatForbidden(policy, result)).toBe(
      'violates PodSecurity "baseline:v1.99": host namespaces (hostIPC=true)',
    );
  });
});

describe('overrides (OverrideCheckIDs)', () => {
  it('reports added capabilities once, by capabilities_restricted, at restricted v1.22+', () => {
    const pod = restrictedPod();
    (pod.spec.containers as { securityContext: unknown }[])[0] = {
      name: 'container1',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } },
    } as never;
    expect(evaluatePod(restrictedLatest, pod).violations).toEqual([
      {
        check: 'capabilities_restricted',
        reason: 'unrestricted capabilities',
        detail: 'container "container1" must not include "NET_RAW" in securityContext.capabilities.add',
      },
    ]);
    expect(
      evaluatePod({ level: 'restricted', version: 'v1.21' }, pod).violations.map((v) => v.check),
    ).toEqual(['capabilities_baseline']);
  });

  it('reports a hostPath volume once, by restrictedVolumes', () => {
    const pod = restrictedPod();
    pod.spec.volumes = [{ name: 'host', hostPath: { path: '/var/run' } }];
    expect(evaluatePod(restrictedLatest, pod).violations).toEqual([
      {
        check: 'restrictedVolumes',
        reason: 'restricted volume types',
        detail: 'volume "host" uses restricted volume type "hostPath"',
      },
    ]);
    expect(evaluatePod({ level: 'baseline', version: 'latest' }, pod).violations).toEqual([
      { check: 'hostPathVolumes', reason: 'hostPath volumes', detail: 'volume "host"' },
    ]);
  });

  it('reports Unconfined seccomp by seccompProfile_restricted from v1.19, by the annotation check before', () => {
    const pod = restrictedPod();
    pod.spec.securityContext = { runAsNonRoot: true, seccompProfile: { type: 'Unconfined' } };
    expect(evaluatePod(restrictedLatest, pod).violations.map((v) => v.check)).toEqual([
      'seccompProfile_restricted',
    ]);
    expect(evaluatePod({ level: 'baseline', version: 'latest' }, pod).violations.map((v) => v.check)).toEqual(
      ['seccompProfile_baseline'],
    );
    // Before v1.19, seccomp is judged by the alpha annotations only.
    const annotated: PodLike = {
      metadata: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } },
      spec: pod.spec,
    };
    expect(evaluatePod({ level: 'baseline', version: 'v1.18' }, annotated).violations).toEqual([
      {
        check: 'seccompProfile_baseline',
        reason: 'seccompProfile',
        detail: 'forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined"',
      },
    ]);
    expect(evaluatePod({ level: 'baseline', version: 'v1.19' }, annotated).allowed).toBe(false);
    expect(evaluatePod({ level: 'baseline', version: 'v1.19' }, { ...annotated, spec: {} }).allowed).toBe(
      true,
    );
  });
});

describe('Windows pods (spec.os.name=windows, v1.25+)', () => {
  const windowsPod = (): PodLike => ({
    spec: {
      os: { name: 'windows' },
      securityContext: { runAsNonRoot: true },
      initContainers: [{ name: 'initcontainer1' }],
      containers: [{ name: 'container1' }],
    },
  });

  it('skips allowPrivilegeEscalation, capabilities_restricted and seccompProfile_restricted, not runAsNonRoot', () => {
    expect(evaluatePod(restrictedLatest, windowsPod()).allowed).toBe(true);
    const noNonRoot = windowsPod();
    (noNonRoot.spec as { securityContext: unknown }).securityContext = undefined;
    expect(evaluatePod(restrictedLatest, noNonRoot).violations.map((v) => v.check)).toEqual(['runAsNonRoot']);
  });

  it('does not exempt before v1.25', () => {
    expect(
      evaluatePod({ level: 'restricted', version: 'v1.24' }, windowsPod()).violations.map((v) => v.check),
    ).toEqual(['allowPrivilegeEscalation', 'capabilities_restricted', 'seccompProfile_restricted']);
  });

  it('still applies baseline windowsHostProcess', () => {
    const pod = windowsPod();
    (pod.spec as { securityContext: unknown }).securityContext = {
      runAsNonRoot: true,
      windowsOptions: { hostProcess: true },
    };
    expect(evaluatePod(restrictedLatest, pod).violations).toEqual([
      {
        check: 'windowsHostProcess',
        reason: 'hostProcess',
        detail: 'pod must not set securityContext.windowsOptions.hostProcess=true',
      },
    ]);
  });
});

describe('user namespaces (spec.hostUsers=false)', () => {
  const rootPod = (hostUsers: boolean | undefined): PodLike => ({
    spec: {
      hostUsers,
      securityContext: { runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            procMount: 'Unmasked',
          },
        },
      ],
    },
  });

  it('from v1.35 relaxes runAsNonRoot, runAsUser and baseline procMount, but not procMount_restricted', () => {
    expect(evaluatePod(restrictedLatest, rootPod(false)).violations).toEqual([
      {
        check: 'procMount_restricted',
        reason: 'procMount',
        detail: 'container "app" must not set securityContext.procMount to "Unmasked"',
      },
    ]);
    expect(evaluatePod({ level: 'baseline', version: 'v1.35' }, rootPod(false)).allowed).toBe(true);
  });

  it('does not relax before v1.35 or with hostUsers unset/true', () => {
    const checks = (policy: LevelVersion, pod: PodLike) =>
      evaluatePod(policy, pod).violations.map((v) => v.check);
    expect(checks({ level: 'restricted', version: 'v1.34' }, rootPod(false))).toEqual([
      'procMount',
      'runAsNonRoot',
      'runAsUser',
    ]);
    expect(checks({ level: 'baseline', version: 'v1.34' }, rootPod(false))).toEqual(['procMount']);
    expect(checks(restrictedLatest, rootPod(true))).toEqual([
      'procMount_restricted',
      'runAsNonRoot',
      'runAsUser',
    ]);
    expect(checks({ level: 'baseline', version: 'latest' }, rootPod(undefined))).toEqual(['procMount']);
  });
});

describe('server-side defaulting before admission', () => {
  const hostNetworkPod = (): PodLike => ({
    spec: {
      hostNetwork: true,
      initContainers: [{ name: 'init', ports: [{ containerPort: 9000 }] }],
      containers: [
        {
          name: 'app',
          ports: [
            { containerPort: 8080 },
            { containerPort: 443, hostPort: 0 },
            { containerPort: 53, hostPort: 5353 },
          ],
        },
      ],
    },
  });

  it('with hostNetwork, a pod fails both host namespaces and hostPort (ports default to containerPort)', () => {
    const result = evaluatePod({ level: 'baseline', version: 'latest' }, hostNetworkPod());
    expect(result.violations).toEqual([
      { check: 'hostNamespaces', reason: 'host namespaces', detail: 'hostNetwork=true' },
      {
        check: 'hostPorts',
        reason: 'hostPort',
        detail: 'containers "init", "app" use hostPorts 443, 5353, 8080, 9000',
      },
    ]);
  });

  it('does not default pod templates (since 1.28), unless the server is older', () => {
    const policy: LevelVersion = { level: 'baseline', version: 'latest' };
    expect(evaluatePod(policy, hostNetworkPod(), { podTemplate: true }).violations.at(-1)?.detail).toBe(
      'container "app" uses hostPort 5353',
    );
    expect(
      evaluatePod(policy, hostNetworkPod(), { podTemplate: true, serverMinor: 27 }).violations.at(-1)?.detail,
    ).toBe('containers "init", "app" use hostPorts 443, 5353, 8080, 9000');
  });

  it('skips defaulting when told the pod is already defaulted', () => {
    expect(
      evaluatePod({ level: 'baseline', version: 'latest' }, hostNetworkPod(), {
        defaulted: true,
      }).violations.at(-1)?.detail,
    ).toBe('container "app" uses hostPort 5353');
  });

  it('applyServerDefaults returns a new object and leaves the input alone', () => {
    const pod = hostNetworkPod();
    const before = structuredClone(pod);
    const defaulted = applyServerDefaults(pod);
    expect(pod).toEqual(before);
    expect(defaulted).not.toBe(pod);
    expect(defaulted.spec).toEqual({
      hostNetwork: true,
      initContainers: [{ name: 'init', ports: [{ containerPort: 9000, hostPort: 9000 }] }],
      containers: [
        {
          name: 'app',
          ports: [
            { containerPort: 8080, hostPort: 8080 },
            { containerPort: 443, hostPort: 443 },
            { containerPort: 53, hostPort: 5353 },
          ],
        },
      ],
    });
    expect(applyServerDefaults(pod, { podTemplate: true }).spec).toBe(pod.spec);
  });

  it('does not touch ephemeral containers or pods without hostNetwork', () => {
    const pod: PodLike = { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }] } };
    expect(needsServerDefaults(pod)).toBe(false);
    expect(applyServerDefaults(pod).spec).toBe(pod.spec);
    const eph: PodLike = {
      spec: { hostNetwork: true, ephemeralContainers: [{ name: 'd', ports: [{ containerPort: 80 }] }] },
    };
    expect(needsServerDefaults(eph)).toBe(false);
  });

  it('a volume with no source becomes emptyDir, which restricted allows', () => {
    const pod = restrictedPod();
    pod.spec.volumes = [
      { name: 'scratch' },
      { name: 'cm', configMap: { name: 'x' } },
      { name: 'nulls', hostPath: null },
    ];
    expect(needsServerDefaults(pod)).toBe(true);
    expect(applyServerDefaults(pod).spec).toMatchObject({
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'cm', configMap: { name: 'x' } },
        { name: 'nulls', hostPath: null, emptyDir: {} },
      ],
    });
    expect(evaluatePod(restrictedLatest, pod).allowed).toBe(true);
    expect(evaluatePod(restrictedLatest, pod, { defaulted: true }).violations).toEqual([
      {
        check: 'restrictedVolumes',
        reason: 'restricted volume types',
        detail: 'volumes "scratch", "nulls" use restricted volume type "unknown"',
      },
    ]);
  });
});

describe('AppArmor annotations copied into fields on Pod create (strategy.go applyAppArmorVersionSkew)', () => {
  const key = (name: string) => `container.apparmor.security.beta.kubernetes.io/${name}`;
  const baselineLatest: LevelVersion = { level: 'baseline', version: 'latest' };
  const annotated = (annotations: Record<string, string>, spec: Record<string, unknown> = {}): PodLike => ({
    metadata: { name: 'aa', annotations },
    spec: {
      initContainers: [{ name: 'init', image: 'i' }],
      containers: [
        { name: 'app', image: 'i' },
        { name: 'web', image: 'i', securityContext: { runAsUser: 1 } },
      ],
      ...spec,
    },
  });

  it('an unconfined annotation fails as the annotation and as the container field it becomes (as the server reports)', () => {
    const result = evaluatePod(
      baselineLatest,
      annotated({ [key('init')]: 'unconfined', [key('web')]: 'unconfined' }),
    );
    expect(result.violations).toEqual([
      {
        check: 'appArmorProfile',
        reason: 'forbidden AppArmor profiles',
        detail:
          'containers "init", "web" and annotations must not set AppArmor profile type to "Unconfined", ' +
          '"container.apparmor.security.beta.kubernetes.io/init="unconfined"", ' +
          '"container.apparmor.security.beta.kubernetes.io/web="unconfined""',
      },
    ]);
    const pod = annotated({ [key('web')]: 'unconfined' });
    const before = structuredClone(pod);
    expect(needsServerDefaults(pod)).toBe(true);
    expect(applyServerDefaults(pod).spec).toMatchObject({
      containers: [
        { name: 'app', image: 'i' },
        { name: 'web', securityContext: { runAsUser: 1, appArmorProfile: { type: 'Unconfined' } } },
      ],
    });
    expect(pod).toEqual(before);
  });

  it('copies runtime/default and localhost/<profile>, which stay allowed', () => {
    const pod = annotated({ [key('app')]: 'runtime/default', [key('web')]: 'localhost/k8s-profile' });
    expect(applyServerDefaults(pod).spec).toMatchObject({
      containers: [
        { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } },
        { securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-profile' } } },
      ],
    });
    expect(evaluatePod(baselineLatest, pod).allowed).toBe(true);
  });

  it('leaves containers with a field, the pod-level profile, invalid values, Windows pods and templates alone', () => {
    const cases: [string, PodLike, object?][] = [
      [
        'container field set',
        annotated(
          { [key('app')]: 'unconfined' },
          { containers: [{ name: 'app', securityContext: { appArmorProfile: { type: 'Unconfined' } } }] },
        ),
      ],
      [
        'equal to the pod profile',
        annotated(
          { [key('app')]: 'unconfined' },
          { securityContext: { appArmorProfile: { type: 'Unconfined' } } },
        ),
      ],
      ['empty value', annotated({ [key('app')]: '' })],
      ['localhost without a profile', annotated({ [key('app')]: 'localhost/' })],
      ['padded localhost profile', annotated({ [key('app')]: 'localhost/ p' })],
      ['no such container', annotated({ [key('ghost')]: 'unconfined' })],
      ['Windows pod', annotated({ [key('app')]: 'unconfined' }, { os: { name: 'windows' } })],
      ['pod template', annotated({ [key('app')]: 'unconfined' }), { podTemplate: true }],
      ['server before 1.30', annotated({ [key('app')]: 'unconfined' }), { serverMinor: 29 }],
    ];
    for (const [what, pod, options] of cases) {
      expect(needsServerDefaults(pod, options), what).toBe(false);
      expect(applyServerDefaults(pod, options).spec, what).toBe(pod.spec);
    }
    // The pod-level profile differs: the annotation's field is copied.
    const differs = annotated(
      { [key('app')]: 'runtime/default' },
      { securityContext: { appArmorProfile: { type: 'Unconfined' } } },
    );
    expect(needsServerDefaults(differs)).toBe(true);
    expect(evaluatePod(baselineLatest, differs).violations[0]?.detail).toBe(
      'pod must not set AppArmor profile type to "Unconfined"',
    );
  });
});

describe('tolerant input', () => {
  it('accepts pods without metadata or spec, and workload templates', () => {
    expect(evaluatePod(restrictedLatest, {}).allowed).toBe(true);
    expect(evaluatePod(restrictedLatest, { spec: null }).allowed).toBe(true);
    const template = { metadata: { labels: { app: 'web' } }, spec: restrictedPod().spec };
    expect(evaluatePod(restrictedLatest, template).allowed).toBe(true);
  });

  it('treats a null list element as an empty container, as Go decoding does', () => {
    expect(evaluatePod(restrictedLatest, { spec: { containers: [null] } }).violations[0]?.detail).toBe(
      'container "" must set securityContext.allowPrivilegeEscalation=false',
    );
  });

  it('returns a shared frozen result for allowed pods', () => {
    const a = evaluatePod(restrictedLatest, restrictedPod());
    expect(a).toBe(evaluatePod(restrictedLatest, restrictedPod()));
    expect(Object.isFrozen(a.violations)).toBe(true);
  });
});
