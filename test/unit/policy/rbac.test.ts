import { describe, expect, test } from 'vitest';
import { rbacFindings } from '../../../src/policy/rbac.js';
import { binding, role } from '../../fixtures/snapshots/builder.js';

const ALL = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];
const summary = (fs: ReturnType<typeof rbacFindings>) =>
  fs
    .map(
      (f) =>
        `${f.control} ${f.target.kind} ${f.target.namespace ? `${f.target.namespace}/` : ''}${f.target.name}`,
    )
    .sort();

describe('cluster-admin and equivalents', () => {
  test('the built-in binding to system:masters is not a finding; other subjects are', () => {
    const fs = rbacFindings({
      roles: [
        role('ClusterRole', 'cluster-admin', ALL, undefined, {
          'kubernetes.io/bootstrapping': 'rbac-defaults',
        }),
      ],
      bindings: [
        binding('ClusterRoleBinding', 'cluster-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [
          { kind: 'Group', name: 'system:masters', apiGroup: 'rbac.authorization.k8s.io' },
        ]),
        binding(
          'ClusterRoleBinding',
          'kubeadm:cluster-admins',
          { kind: 'ClusterRole', name: 'cluster-admin' },
          [{ kind: 'Group', name: 'kubeadm:cluster-admins' }],
        ),
        binding('ClusterRoleBinding', 'ci', { kind: 'ClusterRole', name: 'cluster-admin' }, [
          { kind: 'Group', name: 'system:masters' },
          { kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' },
        ]),
      ],
    });
    expect(summary(fs)).toEqual([
      'KH-RBAC-CLUSTER-ADMIN ClusterRoleBinding ci',
      'KH-RBAC-CLUSTER-ADMIN ClusterRoleBinding kubeadm:cluster-admins',
    ]);
    expect(fs.find((f) => f.target.name === 'ci')?.message).toBe(
      'grants cluster-admin cluster-wide to ServiceAccount ci/deployer',
    );
  });

  test('cluster-admin is recognised by name even when ClusterRoles could not be read', () => {
    const fs = rbacFindings({
      roles: [],
      bindings: [
        binding(
          'RoleBinding',
          'admin',
          { kind: 'ClusterRole', name: 'cluster-admin' },
          [{ kind: 'User', name: 'bob' }],
          'shop',
        ),
      ],
    });
    expect(summary(fs)).toEqual(['KH-RBAC-CLUSTER-ADMIN RoleBinding shop/admin']);
    expect(fs[0]?.message).toBe('grants cluster-admin in namespace shop to User bob');
  });

  test('a RoleBinding to a */*/* Role is admin of the namespace; only that finding, not secrets/escalate too', () => {
    const fs = rbacFindings({
      roles: [role('Role', 'batch-admin', ALL, 'batch')],
      bindings: [
        binding(
          'RoleBinding',
          'runner',
          { kind: 'Role', name: 'batch-admin' },
          [{ kind: 'ServiceAccount', name: 'runner' }],
          'batch',
        ),
      ],
    });
    expect(summary(fs)).toEqual([
      'KH-RBAC-CLUSTER-ADMIN RoleBinding batch/runner',
      'KH-RBAC-WILDCARD Role batch/batch-admin',
    ]);
    // A subject without namespace takes the binding's.
    expect(fs.find((f) => f.control === 'KH-RBAC-CLUSTER-ADMIN')?.message).toContain(
      'ServiceAccount batch/runner',
    );
  });

  test('a Role in another namespace with the same name does not resolve', () => {
    const fs = rbacFindings({
      roles: [role('Role', 'admin', ALL, 'other')],
      bindings: [
        binding('RoleBinding', 'b', { kind: 'Role', name: 'admin' }, [{ kind: 'User', name: 'u' }], 'shop'),
      ],
    });
    expect(summary(fs)).toEqual(['KH-RBAC-WILDCARD Role other/admin']);
  });
});

describe('escalation-relevant grants', () => {
  test('secrets read (get/list/watch or *), but not rules limited by resourceNames', () => {
    const fs = rbacFindings({
      roles: [
        role('ClusterRole', 'reader', [
          { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
        ]),
        role('ClusterRole', 'named', [
          { apiGroups: [''], resources: ['secrets'], resourceNames: ['tls'], verbs: ['get'] },
        ]),
        role('ClusterRole', 'all-core', [{ apiGroups: [''], resources: ['*'], verbs: ['*'] }]),
        role('ClusterRole', 'writer', [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }]),
      ],
      bindings: ['reader', 'named', 'all-core', 'writer'].map((r) =>
        binding('ClusterRoleBinding', r, { kind: 'ClusterRole', name: r }, [{ kind: 'Group', name: 'devs' }]),
      ),
    });
    const secrets = fs.filter((f) => f.control === 'KH-RBAC-SECRETS-READ').map((f) => f.message);
    expect(secrets).toEqual([
      'grants list, watch on secrets cluster-wide (ClusterRole reader) to Group devs',
      'grants * (all verbs) on secrets cluster-wide (ClusterRole all-core) to Group devs',
    ]);
    // Core "*" verbs also allow impersonating ServiceAccounts.
    expect(summary(fs)).toContain('KH-RBAC-IMPERSONATE ClusterRoleBinding all-core');
  });

  test('escalate, bind and impersonate', () => {
    const fs = rbacFindings({
      roles: [
        role(
          'Role',
          'release-manager',
          [
            {
              apiGroups: ['rbac.authorization.k8s.io'],
              resources: ['roles', 'clusterroles'],
              verbs: ['bind', 'escalate'],
            },
            { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
          ],
          'ci',
        ),
        role('ClusterRole', 'binder', [
          {
            apiGroups: ['rbac.authorization.k8s.io'],
            resources: ['clusterroles'],
            resourceNames: ['view'],
            verbs: ['bind'],
          },
        ]),
        role('ClusterRole', 'userextras', [
          { apiGroups: ['authentication.k8s.io'], resources: ['userextras/scopes'], verbs: ['impersonate'] },
        ]),
      ],
      bindings: [
        binding(
          'RoleBinding',
          'release-managers',
          { kind: 'Role', name: 'release-manager' },
          [{ kind: 'Group', name: 'rm' }],
          'ci',
        ),
        binding('ClusterRoleBinding', 'binder', { kind: 'ClusterRole', name: 'binder' }, [
          { kind: 'User', name: 'x' },
        ]),
        binding('ClusterRoleBinding', 'userextras', { kind: 'ClusterRole', name: 'userextras' }, [
          { kind: 'User', name: 'y' },
        ]),
      ],
    });
    expect(summary(fs)).toEqual([
      'KH-RBAC-BIND ClusterRoleBinding binder',
      'KH-RBAC-BIND RoleBinding ci/release-managers',
      'KH-RBAC-ESCALATE RoleBinding ci/release-managers',
      'KH-RBAC-IMPERSONATE ClusterRoleBinding userextras',
      'KH-RBAC-IMPERSONATE RoleBinding ci/release-managers',
    ]);
    expect(fs.find((f) => f.target.name === 'binder')?.message).toBe(
      'grants bind on clusterroles (limited to view) cluster-wide (ClusterRole binder) to User x',
    );
  });

  test('upstream default bindings (rbac-defaults) are not reported for secrets and the like', () => {
    const fs = rbacFindings({
      roles: [
        role(
          'ClusterRole',
          'system:controller:x',
          [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
          undefined,
          { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
        ),
      ],
      bindings: [
        binding(
          'ClusterRoleBinding',
          'system:controller:x',
          { kind: 'ClusterRole', name: 'system:controller:x' },
          [{ kind: 'ServiceAccount', name: 'x', namespace: 'kube-system' }],
          undefined,
          { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
        ),
      ],
    });
    expect(fs).toEqual([]);
  });
});

describe('wildcard rules', () => {
  test('any * in verbs, resources, apiGroups or nonResourceURLs; one finding per role listing the rules', () => {
    const fs = rbacFindings({
      roles: [
        role('ClusterRole', 'ops', [
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
          { apiGroups: ['apps'], resources: ['*'], verbs: ['get'] },
          { nonResourceURLs: ['*'], verbs: ['get'] },
        ]),
        role('ClusterRole', 'fine', [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }]),
      ],
      bindings: [],
    });
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({
      control: 'KH-RBAC-WILDCARD',
      severity: 'high',
      target: { kind: 'ClusterRole', name: 'ops' },
    });
    expect(fs[0]?.message).toBe(
      'has 2 wildcard rules: rule 2: apiGroups [apps] resources [*] verbs [get]; rule 3: nonResourceURLs [*] verbs [get]',
    );
  });
});
