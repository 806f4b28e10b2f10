/**
 * Each check's ForbiddenReason / ForbiddenDetail, ported from upstream's policy/check_*_test.go (same pods, same
 * expected strings), plus a few cases for Go semantics the ports must keep (sorting, quoting, duplicates).
 */
import { describe, expect, it } from 'vitest';
import {
  allowPrivilegeEscalation_1_8,
  allowPrivilegeEscalation_1_25,
} from '../../../src/policy/pss/checks/allow-privilege-escalation.js';
import { appArmorProfile_1_0 } from '../../../src/policy/pss/checks/app-armor-profile.js';
import { capabilitiesBaseline_1_0 } from '../../../src/policy/pss/checks/capabilities-baseline.js';
import {
  capabilitiesRestricted_1_22,
  capabilitiesRestricted_1_25,
} from '../../../src/policy/pss/checks/capabilities-restricted.js';
import { hostNamespaces_1_0 } from '../../../src/policy/pss/checks/host-namespaces.js';
import { hostPathVolumes_1_0 } from '../../../src/policy/pss/checks/host-path-volumes.js';
import { hostPorts_1_0 } from '../../../src/policy/pss/checks/host-ports.js';
import { hostProbesAndHostLifecycleV1Dot34 } from '../../../src/policy/pss/checks/host-probes-and-host-lifecycle.js';
import { privileged_1_0 } from '../../../src/policy/pss/checks/privileged.js';
import { procMount_1_0, procMount1_35baseline } from '../../../src/policy/pss/checks/proc-mount-baseline.js';
import { restrictedVolumes_1_0 } from '../../../src/policy/pss/checks/restricted-volumes.js';
import { runAsNonRoot1_0, runAsNonRoot1_35 } from '../../../src/policy/pss/checks/run-as-non-root.js';
import { runAsUser1_23, runAsUser1_35 } from '../../../src/policy/pss/checks/run-as-user.js';
import { seLinuxOptions1_0, seLinuxOptions1_31 } from '../../../src/policy/pss/checks/se-linux-options.js';
import {
  seccompProfileBaseline_1_0,
  seccompProfileBaseline_1_19,
} from '../../../src/policy/pss/checks/seccomp-profile-baseline.js';
import {
  seccompProfileRestricted_1_19,
  seccompProfileRestricted_1_25,
} from '../../../src/policy/pss/checks/seccomp-profile-restricted.js';
import { checkSysctls } from '../../../src/policy/pss/checks/sysctls.js';
import { windowsHostProcess_1_0 } from '../../../src/policy/pss/checks/windows-host-process.js';
import { collectContainers, rec } from '../../../src/policy/pss/helpers.js';
import type { CheckPodFn, CheckResult, JsonObject } from '../../../src/policy/pss/types.js';

interface TestPod {
  metadata?: { annotations?: Record<string, string> };
  spec?: JsonObject;
}

/** Calls a check function the way the evaluator does (no server defaulting). */
function run(check: CheckPodFn, pod: TestPod): CheckResult | undefined {
  const spec = pod.spec ?? {};
  return check(rec(pod.metadata), spec, collectContainers(spec));
}

function forbidden(reason: string, detail: string): CheckResult {
  return { reason, detail };
}

const sc = (securityContext: JsonObject) => ({ securityContext });

describe('allowPrivilegeEscalation (check_allowPrivilegeEscalation_test.go)', () => {
  const multiple: TestPod = {
    spec: {
      containers: [
        { name: 'a' },
        { name: 'b', securityContext: { allowPrivilegeEscalation: null } },
        { name: 'c', securityContext: { allowPrivilegeEscalation: true } },
        { name: 'd', securityContext: { allowPrivilegeEscalation: false } },
      ],
    },
  };

  it('lists every container that does not set false explicitly', () => {
    const expected = forbidden(
      'allowPrivilegeEscalation != false',
      'containers "a", "b", "c" must set securityContext.allowPrivilegeEscalation=false',
    );
    expect(run(allowPrivilegeEscalation_1_8, multiple)).toEqual(expected);
    expect(run(allowPrivilegeEscalation_1_25, multiple)).toEqual(expected);
  });

  it('admits Windows pods from v1.25 but not Linux pods', () => {
    const windows = { spec: { os: { name: 'windows' }, containers: [{ name: 'a' }] } };
    const linux = { spec: { os: { name: 'linux' }, containers: [{ name: 'a' }] } };
    expect(run(allowPrivilegeEscalation_1_25, windows)).toBeUndefined();
    expect(run(allowPrivilegeEscalation_1_8, windows)?.reason).toBe('allowPrivilegeEscalation != false');
    expect(run(allowPrivilegeEscalation_1_25, linux)).toEqual(
      forbidden(
        'allowPrivilegeEscalation != false',
        'container "a" must set securityContext.allowPrivilegeEscalation=false',
      ),
    );
  });
});

describe('appArmorProfile (check_appArmorProfile_test.go)', () => {
  const prefix = 'container.apparmor.security.beta.kubernetes.io/';

  it.each([
    ['default annotation + extra annotations', { [`${prefix}test`]: 'runtime/default', env: 'prod' }, {}],
    [
      'localhost annotation + extra annotations',
      { [`${prefix}test`]: 'localhost/sec-profile01', env: 'dev' },
      {},
    ],
    ['no AppArmor annotations', { env: 'dev' }, {}],
    ['no annotations', undefined, {}],
    [
      'pod with runtime default',
      undefined,
      { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } },
    ],
    [
      'container with localhost profile',
      undefined,
      { containers: [{ name: 'foo', ...sc({ appArmorProfile: { type: 'RuntimeDefault' } }) }] },
    ],
  ])('allows %s', (_name, annotations, spec) => {
    expect(run(appArmorProfile_1_0, { metadata: { annotations }, spec })).toBeUndefined();
  });

  it('names the pod, container or init container that sets Unconfined', () => {
    const unconfined = { appArmorProfile: { type: 'Unconfined' } };
    const runtimeDefault = { appArmorProfile: { type: 'RuntimeDefault' } };
    expect(run(appArmorProfile_1_0, { spec: { securityContext: unconfined } })).toEqual(
      forbidden('forbidden AppArmor profile', 'pod must not set AppArmor profile type to "Unconfined"'),
    );
    expect(
      run(appArmorProfile_1_0, {
        spec: { securityContext: runtimeDefault, containers: [{ name: 'foo', ...sc(unconfined) }] },
      }),
    ).toEqual(
      forbidden(
        'forbidden AppArmor profile',
        'container "foo" must not set AppArmor profile type to "Unconfined"',
      ),
    );
    expect(
      run(appArmorProfile_1_0, {
        spec: {
          securityContext: runtimeDefault,
          containers: [{ name: 'foo' }],
          initContainers: [{ name: 'bar', ...sc(unconfined) }],
        },
      }),
    ).toEqual(
      forbidden(
        'forbidden AppArmor profile',
        'container "bar" must not set AppArmor profile type to "Unconfined"',
      ),
    );
  });

  it('renders forbidden annotations as sorted key="value" entries', () => {
    const annotations = {
      [prefix]: 'bogus',
      [`${prefix}a`]: '',
      [`${prefix}b`]: 'runtime/default',
      [`${prefix}c`]: 'localhost/',
      [`${prefix}d`]: 'localhost/foo',
      [`${prefix}e`]: 'unconfined',
      [`${prefix}f`]: 'unknown',
    };
    expect(run(appArmorProfile_1_0, { metadata: { annotations } })).toEqual(
      forbidden(
        'forbidden AppArmor profiles',
        'annotations must not set AppArmor profile type to ' +
          [
            `"container.apparmor.security.beta.kubernetes.io/="bogus""`,
            `"container.apparmor.security.beta.kubernetes.io/e="unconfined""`,
            `"container.apparmor.security.beta.kubernetes.io/f="unknown""`,
          ].join(', '),
      ),
    );
  });

  it('joins pod, containers and annotation with " and ", values sorted and unique, Go-quoted annotation values', () => {
    const result = run(appArmorProfile_1_0, {
      metadata: { annotations: { [`${prefix}x`]: 'un"conf\n' } },
      spec: {
        securityContext: { appArmorProfile: { type: 'Unconfined' } },
        initContainers: [{ name: 'i', ...sc({ appArmorProfile: { type: 'Bogus' } }) }],
        containers: [{ name: 'c', ...sc({ appArmorProfile: { type: 'Unconfined' } }) }],
      },
    });
    expect(result).toEqual(
      forbidden(
        'forbidden AppArmor profiles',
        'pod and containers "i", "c" and annotation must not set AppArmor profile type to ' +
          '"Bogus", "Unconfined", "container.apparmor.security.beta.kubernetes.io/x="un\\"conf\\n""',
      ),
    );
  });
});

describe('capabilities_baseline (check_capabilities_baseline_test.go)', () => {
  it('lists containers and the sorted non-default capabilities', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'a', ...sc({ capabilities: { add: ['FOO', 'BAR'] } }) },
          { name: 'b', ...sc({ capabilities: { add: ['BAR', 'BAZ'] } }) },
        ],
      },
    };
    expect(run(capabilitiesBaseline_1_0, pod)).toEqual(
      forbidden(
        'non-default capabilities',
        'containers "a", "b" must not include "BAR", "BAZ", "FOO" in securityContext.capabilities.add',
      ),
    );
  });

  it('allows the default set only, case-sensitive and without the CAP_ prefix', () => {
    const add = [
      'AUDIT_WRITE',
      'CHOWN',
      'DAC_OVERRIDE',
      'FOWNER',
      'FSETID',
      'KILL',
      'MKNOD',
      'NET_BIND_SERVICE',
    ];
    const more = ['SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
    expect(
      run(capabilitiesBaseline_1_0, {
        spec: { containers: [sc({ capabilities: { add: [...add, ...more] } })] },
      }),
    ).toBeUndefined();
    expect(
      run(capabilitiesBaseline_1_0, {
        spec: { containers: [{ name: 'x', ...sc({ capabilities: { add: ['CAP_CHOWN', 'chown'] } }) }] },
      })?.detail,
    ).toBe('container "x" must not include "CAP_CHOWN", "chown" in securityContext.capabilities.add');
  });
});

describe('capabilities_restricted (check_capabilities_restricted_test.go)', () => {
  const multiple = {
    spec: {
      containers: [
        { name: 'a', ...sc({ capabilities: { add: ['FOO', 'BAR'] } }) },
        { name: 'b', ...sc({ capabilities: { add: ['BAR', 'BAZ'] } }) },
        { name: 'c', ...sc({ capabilities: { add: ['NET_BIND_SERVICE', 'CHOWN'], drop: ['ALL', 'FOO'] } }) },
      ],
    },
  };

  it('reports missing drop ALL and forbidden adds, joined by "; "', () => {
    const expected = forbidden(
      'unrestricted capabilities',
      'containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; ' +
        'containers "a", "b", "c" must not include "BAR", "BAZ", "CHOWN", "FOO" in securityContext.capabilities.add',
    );
    expect(run(capabilitiesRestricted_1_22, multiple)).toEqual(expected);
    expect(run(capabilitiesRestricted_1_25, multiple)).toEqual(expected);
  });

  it('admits Windows pods from v1.25; Linux pods without securityContext fail', () => {
    expect(
      run(capabilitiesRestricted_1_25, { spec: { os: { name: 'windows' }, containers: [{ name: 'a' }] } }),
    ).toBeUndefined();
    expect(
      run(capabilitiesRestricted_1_25, { spec: { os: { name: 'linux' }, containers: [{ name: 'a' }] } }),
    ).toEqual(
      forbidden(
        'unrestricted capabilities',
        'container "a" must set securityContext.capabilities.drop=["ALL"]',
      ),
    );
  });

  it('requires the literal "ALL" (case-sensitive)', () => {
    const pod = { spec: { containers: [{ name: 'a', ...sc({ capabilities: { drop: ['all'] } }) }] } };
    expect(run(capabilitiesRestricted_1_25, pod)?.detail).toBe(
      'container "a" must set securityContext.capabilities.drop=["ALL"]',
    );
  });
});

describe('hostNamespaces (check_hostNamespaces_test.go)', () => {
  it('lists the host namespaces in order network, PID, IPC', () => {
    expect(run(hostNamespaces_1_0, { spec: { hostNetwork: true, hostIPC: true, hostPID: true } })).toEqual(
      forbidden('host namespaces', 'hostNetwork=true, hostPID=true, hostIPC=true'),
    );
    expect(run(hostNamespaces_1_0, { spec: { hostNetwork: false, hostIPC: true } })?.detail).toBe(
      'hostIPC=true',
    );
  });
});

describe('hostPathVolumes (check_hostPathVolumes_test.go)', () => {
  it('lists hostPath volumes', () => {
    const pod = {
      spec: {
        volumes: [
          { name: 'a', hostPath: {} },
          { name: 'b', hostPath: {} },
          { name: 'c', emptyDir: {} },
        ],
      },
    };
    expect(run(hostPathVolumes_1_0, pod)).toEqual(forbidden('hostPath volumes', 'volumes "a", "b"'));
    expect(
      run(hostPathVolumes_1_0, { spec: { volumes: [{ name: 'a', hostPath: { path: '/' } }] } })?.detail,
    ).toBe('volume "a"');
  });
});

describe('hostPorts (check_hostPorts_test.go)', () => {
  it('one container, one host port', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'a', ports: [{ hostPort: 0 }] },
          { name: 'b', ports: [{ hostPort: 0 }, { hostPort: 20 }] },
        ],
      },
    };
    expect(run(hostPorts_1_0, pod)).toEqual(forbidden('hostPort', 'container "b" uses hostPort 20'));
  });

  it('multiple containers, multiple host ports', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'a', ports: [{ hostPort: 0 }] },
          { name: 'b', ports: [{ hostPort: 0 }, { hostPort: 10 }, { hostPort: 20 }] },
          { name: 'c', ports: [{ hostPort: 0 }, { hostPort: 10 }, { hostPort: 30 }] },
        ],
      },
    };
    expect(run(hostPorts_1_0, pod)).toEqual(
      forbidden('hostPort', 'containers "b", "c" use hostPorts 10, 20, 30'),
    );
  });

  it('sorts ports as strings, like sets.String', () => {
    const pod = {
      spec: { containers: [{ name: 'a', ports: [{ hostPort: 9 }, { hostPort: 443 }, { hostPort: 10 }] }] },
    };
    expect(run(hostPorts_1_0, pod)?.detail).toBe('container "a" uses hostPorts 10, 443, 9');
  });
});

describe('hostProbesAndHostLifecycle (check_hostProbesAndhostLifecycle_test.go)', () => {
  const probe = (handler: JsonObject) => handler;

  it('allows handlers without a host', () => {
    const pod = {
      spec: {
        containers: [
          {
            name: 'a',
            livenessProbe: probe({ httpGet: {} }),
            readinessProbe: probe({ tcpSocket: {} }),
            lifecycle: { postStart: { httpGet: {} } },
          },
        ],
      },
    };
    expect(run(hostProbesAndHostLifecycleV1Dot34, pod)).toBeUndefined();
  });

  it.each<[string, JsonObject, string]>([
    [
      'local host IPs as probe hosts',
      {
        name: 'a',
        livenessProbe: { httpGet: { host: '127.0.0.1' } },
        readinessProbe: { tcpSocket: { host: '::1' } },
        startupProbe: { httpGet: { host: 'localhost' } },
      },
      'container "a" uses probe or lifecycle hosts "127.0.0.1", "::1", "localhost"',
    ],
    [
      'httpGet host in liveness probe',
      { name: 'a', livenessProbe: { httpGet: { host: 'invalid.host' } } },
      'container "a" uses probe or lifecycle host "invalid.host"',
    ],
    [
      'tcpSocket host in readiness probe',
      { name: 'b', readinessProbe: { tcpSocket: { host: 'invalid.host' } } },
      'container "b" uses probe or lifecycle host "invalid.host"',
    ],
    [
      'httpGet host in startup probe',
      { name: 'c', startupProbe: { httpGet: { host: 'invalid.host' } } },
      'container "c" uses probe or lifecycle host "invalid.host"',
    ],
    [
      'postStart tcpSocket host',
      { name: 'd', lifecycle: { postStart: { tcpSocket: { host: 'invalid.host' } } } },
      'container "d" uses probe or lifecycle host "invalid.host"',
    ],
    [
      'preStop httpGet host',
      { name: 'e', lifecycle: { preStop: { httpGet: { host: 'another.invalid.host' } } } },
      'container "e" uses probe or lifecycle host "another.invalid.host"',
    ],
    [
      'IPv4 host',
      { name: 'a', livenessProbe: { httpGet: { host: '8.8.8.8' } } },
      'container "a" uses probe or lifecycle host "8.8.8.8"',
    ],
    [
      'IPv6 host',
      { name: 'a', livenessProbe: { tcpSocket: { host: '2001:4860:4860::8888' } } },
      'container "a" uses probe or lifecycle host "2001:4860:4860::8888"',
    ],
  ])('forbids %s', (_name, container, detail) => {
    expect(run(hostProbesAndHostLifecycleV1Dot34, { spec: { containers: [container] } })).toEqual(
      forbidden('probe or lifecycle host', detail),
    );
  });

  it('multiple containers with multiple hosts: names and hosts as sorted sets', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'valid' },
          { name: 'invalid1', livenessProbe: { httpGet: { host: 'a.com' } } },
          {
            name: 'invalid2',
            lifecycle: { preStop: { tcpSocket: { host: 'b.com' } } },
            startupProbe: { httpGet: { host: 'a.com' } },
          },
        ],
      },
    };
    expect(run(hostProbesAndHostLifecycleV1Dot34, pod)?.detail).toBe(
      'containers "invalid1", "invalid2" use probe or lifecycle hosts "a.com", "b.com"',
    );
    const unsorted = {
      spec: {
        initContainers: [{ name: 'z', livenessProbe: { httpGet: { host: 'h' } } }],
        containers: [{ name: 'a', livenessProbe: { httpGet: { host: 'h' } } }],
      },
    };
    expect(run(hostProbesAndHostLifecycleV1Dot34, unsorted)?.detail).toBe(
      'containers "a", "z" use probe or lifecycle host "h"',
    );
  });

  it('checks init containers', () => {
    const pod = {
      spec: { initContainers: [{ name: 'init', livenessProbe: { httpGet: { host: 'invalid.init.host' } } }] },
    };
    expect(run(hostProbesAndHostLifecycleV1Dot34, pod)?.detail).toBe(
      'container "init" uses probe or lifecycle host "invalid.init.host"',
    );
  });
});

describe('privileged (check_privileged_test.go)', () => {
  it('lists containers with privileged=true', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'a', securityContext: null },
          { name: 'b', ...sc({}) },
          { name: 'c', ...sc({ privileged: false }) },
          { name: 'd', ...sc({ privileged: true }) },
          { name: 'e', ...sc({ privileged: true }) },
        ],
      },
    };
    expect(run(privileged_1_0, pod)).toEqual(
      forbidden('privileged', 'containers "d", "e" must not set securityContext.privileged=true'),
    );
  });
});

describe('procMount (check_procMount_baseline_test.go, check_procMount_restricted_test.go)', () => {
  const containers = [
    { name: 'a', securityContext: null },
    { name: 'b', ...sc({}) },
    { name: 'c', ...sc({ procMount: 'Default' }) },
    { name: 'd', ...sc({ procMount: 'Unmasked' }) },
    { name: 'e', ...sc({ procMount: 'other' }) },
  ];
  const expected = forbidden(
    'procMount',
    'containers "d", "e" must not set securityContext.procMount to "Unmasked", "other"',
  );

  it('baseline v1.35 forbids non-default procMount unless hostUsers=false', () => {
    expect(run(procMount1_35baseline, { spec: { containers, hostUsers: true } })).toEqual(expected);
    expect(run(procMount1_35baseline, { spec: { containers } })).toEqual(expected);
    expect(run(procMount1_35baseline, { spec: { containers, hostUsers: false } })).toBeUndefined();
  });

  it('procMount_1_0 (baseline before v1.35, procMount_restricted) ignores hostUsers', () => {
    for (const hostUsers of [true, false]) {
      expect(run(procMount_1_0, { spec: { containers, hostUsers } })).toEqual(expected);
    }
  });
});

describe('restrictedVolumes (check_restrictedVolumes_test.go)', () => {
  it('lists restricted volumes and their sorted types; a source-less volume is "unknown" when not defaulted', () => {
    const allowed = [
      'emptyDir',
      'secret',
      'persistentVolumeClaim',
      'downwardAPI',
      'configMap',
      'projected',
      'csi',
    ];
    const restricted = [
      'hostPath',
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
    ];
    const volumes = [
      ...[...allowed, 'ephemeral', 'image'].map((source, i) => ({ name: `a${i + 1}`, [source]: {} })),
      ...restricted.map((source, i) => ({ name: `b${i + 1}`, [source]: {} })),
      { name: 'c1' },
    ];
    expect(run(restrictedVolumes_1_0, { spec: { volumes } })).toEqual(
      forbidden(
        'restricted volume types',
        'volumes ' +
          '"b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11", "b12", "b13", "b14", "b15", "b16", "b17", "b18", "b19", "b20", "b21", "c1"' +
          ' use restricted volume types ' +
          '"awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", ' +
          '"hostPath", "iscsi", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "unknown", "vsphereVolume"',
      ),
    );
  });

  it('uses singular forms for one volume of one type', () => {
    expect(
      run(restrictedVolumes_1_0, { spec: { volumes: [{ name: 'v', nfs: { server: 's', path: '/' } }] } }),
    ).toEqual(forbidden('restricted volume types', 'volume "v" uses restricted volume type "nfs"'));
  });
});

describe('runAsNonRoot (check_runAsNonRoot_test.go)', () => {
  it.each<[string, JsonObject, string]>([
    [
      'no explicit runAsNonRoot',
      { containers: [{ name: 'a' }] },
      'pod or container "a" must set securityContext.runAsNonRoot=true',
    ],
    [
      'pod runAsNonRoot=false',
      { securityContext: { runAsNonRoot: false }, containers: [{ name: 'a', securityContext: null }] },
      'pod must not set securityContext.runAsNonRoot=false',
    ],
    [
      'containers runAsNonRoot=false',
      {
        securityContext: { runAsNonRoot: true },
        containers: [
          { name: 'a', securityContext: null },
          { name: 'b', ...sc({}) },
          { name: 'c', ...sc({ runAsNonRoot: false }) },
          { name: 'd', ...sc({ runAsNonRoot: false }) },
          { name: 'e', ...sc({ runAsNonRoot: true }) },
          { name: 'f', ...sc({ runAsNonRoot: true }) },
        ],
      },
      'containers "c", "d" must not set securityContext.runAsNonRoot=false',
    ],
    [
      'pod nil, container fallthrough',
      {
        containers: [
          { name: 'a', securityContext: null },
          { name: 'b', ...sc({}) },
          { name: 'd', ...sc({ runAsNonRoot: true }) },
          { name: 'e', ...sc({ runAsNonRoot: true }) },
        ],
      },
      'pod or containers "a", "b" must set securityContext.runAsNonRoot=true',
    ],
    [
      'explicit false is reported before implicit, pod first',
      {
        securityContext: { runAsNonRoot: false },
        containers: [{ name: 'a', ...sc({ runAsNonRoot: false }) }],
      },
      'pod and container "a" must not set securityContext.runAsNonRoot=false',
    ],
  ])('%s', (_name, spec, detail) => {
    expect(run(runAsNonRoot1_35, { spec })).toEqual(forbidden('runAsNonRoot != true', detail));
    expect(run(runAsNonRoot1_0, { spec })).toEqual(forbidden('runAsNonRoot != true', detail));
  });

  it('hostUsers=false is allowed from v1.35 only', () => {
    const spec = { hostUsers: false, containers: [{ name: 'a' }] };
    expect(run(runAsNonRoot1_35, { spec })).toBeUndefined();
    expect(run(runAsNonRoot1_0, { spec })?.reason).toBe('runAsNonRoot != true');
  });
});

describe('runAsUser (check_runAsUser_test.go)', () => {
  it('forbids runAsUser=0 on the pod', () => {
    expect(
      run(runAsUser1_35, { spec: { securityContext: { runAsUser: 0 }, containers: [{ name: 'a' }] } }),
    ).toEqual(forbidden('runAsUser=0', 'pod must not set runAsUser=0'));
  });

  it('forbids runAsUser=0 on containers', () => {
    const spec = {
      securityContext: { runAsUser: 1000 },
      containers: [
        { name: 'a', securityContext: null },
        { name: 'b', ...sc({}) },
        { name: 'c', ...sc({ runAsUser: 0 }) },
        { name: 'd', ...sc({ runAsUser: 0 }) },
        { name: 'e', ...sc({ runAsUser: 1 }) },
        { name: 'f', ...sc({ runAsUser: 1 }) },
      ],
    };
    expect(run(runAsUser1_35, { spec })).toEqual(
      forbidden('runAsUser=0', 'containers "c", "d" must not set runAsUser=0'),
    );
  });

  it.each<[string, JsonObject]>([
    ['pod runAsUser=non-zero', { securityContext: { runAsUser: 1000 }, containers: [{ name: 'a' }] }],
    ['pod runAsUser=nil', { securityContext: { runAsUser: null }, containers: [{ name: 'a' }] }],
    ['containers runAsUser=non-zero', { containers: [1, 2, 3, 4].map((u) => sc({ runAsUser: u })) }],
    ['host users false', { hostUsers: false }],
  ])('allows %s', (_name, spec) => {
    expect(run(runAsUser1_35, { spec })).toBeUndefined();
  });

  it('hostUsers=false is allowed from v1.35 only', () => {
    const spec = { hostUsers: false, securityContext: { runAsUser: 0 } };
    expect(run(runAsUser1_35, { spec })).toBeUndefined();
    expect(run(runAsUser1_23, { spec })?.detail).toBe('pod must not set runAsUser=0');
  });
});

describe('seLinuxOptions (check_seLinuxOptions_test.go)', () => {
  const allowedContainers = [
    { name: 'a', ...sc({ seLinuxOptions: { type: 'container_t' } }) },
    { name: 'b', ...sc({ seLinuxOptions: { type: 'container_init_t' } }) },
    { name: 'c', ...sc({ seLinuxOptions: { type: 'container_kvm_t' } }) },
    { name: 'd', ...sc({ seLinuxOptions: { type: 'container_engine_t' } }) },
  ];
  const badContainers = [
    { name: 'e', ...sc({ seLinuxOptions: { type: 'bar' } }) },
    { name: 'f', ...sc({ seLinuxOptions: { user: 'bar' } }) },
    { name: 'g', ...sc({ seLinuxOptions: { role: 'baz' } }) },
  ];
  const badPod = { seLinuxOptions: { type: 'foo', user: 'bar', role: 'baz' } };

  it.each<[string, JsonObject, string]>([
    [
      'invalid pod and containers',
      { securityContext: badPod, containers: [...allowedContainers, ...badContainers] },
      'pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set',
    ],
    [
      'invalid pod',
      { securityContext: badPod, containers: allowedContainers },
      'pod set forbidden securityContext.seLinuxOptions: type "foo"; user may not be set; role may not be set',
    ],
    [
      'invalid containers',
      { securityContext: { seLinuxOptions: {} }, containers: [...allowedContainers, ...badContainers] },
      'containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: type "bar"; user may not be set; role may not be set',
    ],
    [
      'bad type',
      { securityContext: { seLinuxOptions: { type: 'bad' } } },
      'pod set forbidden securityContext.seLinuxOptions: type "bad"',
    ],
    [
      'bad user',
      { securityContext: { seLinuxOptions: { user: 'bad' } } },
      'pod set forbidden securityContext.seLinuxOptions: user may not be set',
    ],
    [
      'bad role',
      { securityContext: { seLinuxOptions: { role: 'bad' } } },
      'pod set forbidden securityContext.seLinuxOptions: role may not be set',
    ],
  ])('%s (v1.31)', (_name, spec, detail) => {
    expect(run(seLinuxOptions1_31, { spec })).toEqual(forbidden('seLinuxOptions', detail));
  });

  it('container_engine_t is allowed from v1.31; level is never restricted', () => {
    const spec = {
      containers: [{ name: 'd', ...sc({ seLinuxOptions: { type: 'container_engine_t', level: 's0:c1' } }) }],
    };
    expect(run(seLinuxOptions1_31, { spec })).toBeUndefined();
    expect(run(seLinuxOptions1_0, { spec })?.detail).toBe(
      'container "d" set forbidden securityContext.seLinuxOptions: type "container_engine_t"',
    );
  });
});

describe('seccompProfile_baseline (check_seccompProfile_baseline_test.go)', () => {
  it.each<[string, Record<string, string>, string]>([
    [
      'pod seccomp invalid',
      { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' },
      'forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined"',
    ],
    [
      'containers seccomp invalid',
      {
        'container.seccomp.security.alpha.kubernetes.io/a': 'unconfined',
        'container.seccomp.security.alpha.kubernetes.io/b': 'unknown',
      },
      'forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", container.seccomp.security.alpha.kubernetes.io/b="unknown"',
    ],
    [
      'pod and containers seccomp invalid',
      {
        'seccomp.security.alpha.kubernetes.io/pod': 'unconfined',
        'container.seccomp.security.alpha.kubernetes.io/a': 'unconfined',
        'container.seccomp.security.alpha.kubernetes.io/b': 'unknown',
      },
      'forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", container.seccomp.security.alpha.kubernetes.io/b="unknown", seccomp.security.alpha.kubernetes.io/pod="unconfined"',
    ],
  ])('v1.0 annotations: %s', (_name, annotations, detail) => {
    const pod = {
      metadata: { annotations },
      spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
    };
    expect(run(seccompProfileBaseline_1_0, pod)).toEqual(forbidden('seccompProfile', detail));
  });

  it('v1.0 allows runtime/default, docker/default and localhost/*, and ignores annotations of absent containers', () => {
    const pod = {
      metadata: {
        annotations: {
          'seccomp.security.alpha.kubernetes.io/pod': 'docker/default',
          'container.seccomp.security.alpha.kubernetes.io/a': 'runtime/default',
          'container.seccomp.security.alpha.kubernetes.io/b': 'localhost/p.json',
          'container.seccomp.security.alpha.kubernetes.io/gone': 'unconfined',
        },
      },
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
    };
    expect(run(seccompProfileBaseline_1_0, pod)).toBeUndefined();
  });

  const unconfined = { seccompProfile: { type: 'Unconfined' } };
  const runtimeDefault = { seccompProfile: { type: 'RuntimeDefault' } };
  const containers = [
    { name: 'a', securityContext: null },
    { name: 'b', ...sc({}) },
    { name: 'c', ...sc(unconfined) },
    { name: 'd', ...sc(unconfined) },
    { name: 'e', ...sc(runtimeDefault) },
    { name: 'f', ...sc(runtimeDefault) },
  ];
  it.each<[string, JsonObject, string]>([
    [
      'pod seccomp invalid',
      { securityContext: unconfined, containers: [{ name: 'a', securityContext: null }] },
      'pod must not set securityContext.seccompProfile.type to "Unconfined"',
    ],
    [
      'containers seccomp invalid',
      { securityContext: runtimeDefault, containers },
      'containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined"',
    ],
    [
      'pod and containers seccomp invalid',
      { securityContext: unconfined, containers },
      'pod and containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined"',
    ],
  ])('v1.19 fields: %s', (_name, spec, detail) => {
    expect(run(seccompProfileBaseline_1_19, { spec })).toEqual(forbidden('seccompProfile', detail));
  });
});

describe('seccompProfile_restricted (check_seccompProfile_restricted_test.go)', () => {
  const unconfined = { seccompProfile: { type: 'Unconfined' } };
  const runtimeDefault = { seccompProfile: { type: 'RuntimeDefault' } };

  it.each<[string, JsonObject, string]>([
    [
      'no explicit seccomp',
      { containers: [{ name: 'a' }] },
      'pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
    ],
    [
      'pod seccomp invalid',
      { securityContext: unconfined, containers: [{ name: 'a', securityContext: null }] },
      'pod must not set securityContext.seccompProfile.type to "Unconfined"',
    ],
    [
      'containers seccomp invalid',
      {
        securityContext: runtimeDefault,
        containers: [
          { name: 'a', securityContext: null },
          { name: 'b', ...sc({}) },
          { name: 'c', ...sc(unconfined) },
          { name: 'd', ...sc(unconfined) },
          { name: 'e', ...sc(runtimeDefault) },
          { name: 'f', ...sc(runtimeDefault) },
        ],
      },
      'containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined"',
    ],
    [
      'pod nil, container fallthrough',
      {
        containers: [
          { name: 'a', securityContext: null },
          { name: 'b', ...sc({}) },
          { name: 'd', ...sc(runtimeDefault) },
          { name: 'e', ...sc(runtimeDefault) },
        ],
      },
      'pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
    ],
  ])('%s', (_name, spec, detail) => {
    expect(run(seccompProfileRestricted_1_19, { spec })).toEqual(forbidden('seccompProfile', detail));
    expect(run(seccompProfileRestricted_1_25, { spec })).toEqual(forbidden('seccompProfile', detail));
  });

  it('admits Windows pods from v1.25 only', () => {
    const windows = { spec: { os: { name: 'windows' }, containers: [{ name: 'a' }] } };
    expect(run(seccompProfileRestricted_1_25, windows)).toBeUndefined();
    expect(run(seccompProfileRestricted_1_19, windows)?.reason).toBe('seccompProfile');
    expect(
      run(seccompProfileRestricted_1_25, { spec: { os: { name: 'linux' }, containers: [{ name: 'a' }] } }),
    ).toEqual(
      forbidden(
        'seccompProfile',
        'pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
      ),
    );
  });
});

describe('sysctls (check_sysctls_test.go)', () => {
  const at = (minor: number) => {
    const versions = checkSysctls.versions.filter((v) => v.minimumVersion <= minor);
    return versions[versions.length - 1]?.checkPod as CheckPodFn;
  };
  const pod = (...names: string[]) => ({
    spec: { securityContext: { sysctls: names.map((name) => ({ name, value: '0' })) } },
  });

  it('lists forbidden sysctls in spec order, unsorted', () => {
    expect(run(at(0), pod('b', 'a'))).toEqual(forbidden('forbidden sysctls', 'b, a'));
  });

  it.each<[number, string]>([
    [27, 'net.ipv4.ip_local_reserved_ports'],
    [29, 'net.ipv4.tcp_keepalive_time'],
    [29, 'net.ipv4.tcp_fin_timeout'],
    [29, 'net.ipv4.tcp_keepalive_intvl'],
    [29, 'net.ipv4.tcp_keepalive_probes'],
    [32, 'net.ipv4.tcp_rmem'],
    [32, 'net.ipv4.tcp_wmem'],
    [37, 'net.ipv4.tcp_slow_start_after_idle'],
    [37, 'net.ipv4.tcp_notsent_lowat'],
  ])('allows from v1.%i: %s', (minor, name) => {
    expect(run(at(minor - 1), pod(name))).toEqual(forbidden('forbidden sysctls', name));
    expect(run(at(minor), pod(name))).toBeUndefined();
  });

  it('allows the v1.0 set at every version, exact names only', () => {
    const v1_0 = [
      'kernel.shm_rmid_forced',
      'net.ipv4.ip_local_port_range',
      'net.ipv4.tcp_syncookies',
      'net.ipv4.ping_group_range',
      'net.ipv4.ip_unprivileged_port_start',
    ];
    expect(run(at(0), pod(...v1_0))).toBeUndefined();
    expect(run(at(37), pod('net/ipv4/tcp_syncookies'))?.detail).toBe('net/ipv4/tcp_syncookies');
  });
});

describe('windowsHostProcess (check_windowsHostProcess_test.go)', () => {
  it('names pod and containers with hostProcess=true', () => {
    const spec = {
      securityContext: { windowsOptions: { hostProcess: true } },
      containers: [
        { name: 'a', securityContext: null },
        { name: 'b', ...sc({}) },
        { name: 'c', ...sc({ windowsOptions: {} }) },
        { name: 'd', ...sc({ windowsOptions: { hostProcess: false } }) },
        { name: 'e', ...sc({ windowsOptions: { hostProcess: true } }) },
        { name: 'f', ...sc({ windowsOptions: { hostProcess: true } }) },
      ],
    };
    expect(run(windowsHostProcess_1_0, { spec })).toEqual(
      forbidden(
        'hostProcess',
        'pod and containers "e", "f" must not set securityContext.windowsOptions.hostProcess=true',
      ),
    );
  });
});

describe('container visiting order (visitor.go)', () => {
  it('visits init containers, then containers, then ephemeral containers', () => {
    const spec = {
      containers: [{ name: 'app', ...sc({ privileged: true }) }],
      ephemeralContainers: [{ name: 'debug', ...sc({ privileged: true }) }],
      initContainers: [{ name: 'init', ...sc({ privileged: true }) }],
    };
    expect(run(privileged_1_0, { spec })?.detail).toBe(
      'containers "init", "app", "debug" must not set securityContext.privileged=true',
    );
  });

  it('keeps duplicate container names (lists, not sets)', () => {
    const spec = { containers: [{ name: 'x' }, { name: 'x' }] };
    expect(run(allowPrivilegeEscalation_1_8, { spec })?.detail).toBe(
      'containers "x", "x" must set securityContext.allowPrivilegeEscalation=false',
    );
  });
});
