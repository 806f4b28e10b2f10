import { describe, expect, test } from 'vitest';
import { netpolInputFromSnapshot, planNetworkPolicies } from '../../../../src/policy/netpol/index.js';
import {
  binding,
  container,
  ns,
  restrictedSpec,
  role,
  sa,
  snapshot,
  workload,
} from '../../../fixtures/snapshots/builder.js';
import { KUBE_DNS_SERVICE } from './cluster-fixture.js';

const extras = {
  services: [KUBE_DNS_SERVICE],
  daemonSets: [],
  apiServer: {
    endpointSlices: [
      {
        name: 'kubernetes',
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'] }],
        ports: [{ name: 'https', port: 6443 }],
      },
    ],
  },
};

describe('netpolInputFromSnapshot', () => {
  const snap = snapshot({
    namespaces: [ns('shop'), ns('kube-system')],
    workloads: [
      workload(
        'Deployment',
        'shop',
        'operator',
        restrictedSpec({
          serviceAccountName: 'operator',
          automountServiceAccountToken: true,
          containers: [container('op', { ports: [{ name: 'http', containerPort: 8080 }] })],
        }),
      ),
      workload(
        'Deployment',
        'shop',
        'quiet',
        restrictedSpec({ serviceAccountName: 'operator', automountServiceAccountToken: false }),
      ),
      workload(
        'Deployment',
        'shop',
        'projected',
        restrictedSpec({
          serviceAccountName: 'operator',
          automountServiceAccountToken: false,
          volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
        }),
      ),
      workload(
        'Deployment',
        'shop',
        'vault-only',
        restrictedSpec({
          serviceAccountName: 'operator',
          automountServiceAccountToken: false,
          volumes: [
            {
              name: 't',
              projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault' } }] },
            },
          ],
        }),
      ),
    ],
    serviceAccounts: [sa('shop', 'operator')],
    roles: [role('Role', 'reader', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }], 'shop')],
    bindings: [
      binding(
        'RoleBinding',
        'reader',
        { kind: 'Role', name: 'reader' },
        [{ kind: 'ServiceAccount', name: 'operator', namespace: 'shop' }],
        'shop',
      ),
    ],
  });

  test('workloads become pod groups with the token decision (automount, projected API token, other audiences)', () => {
    const input = netpolInputFromSnapshot(snap, extras);
    const tokens = Object.fromEntries(input.pods.map((p) => [p.workload.name, p.apiToken]));
    expect(tokens).toEqual({ operator: true, quiet: false, projected: true, 'vault-only': false });
    expect(input.pods[0]!.containers[0]!.ports).toEqual([{ containerPort: 8080, name: 'http' }]);
    const plan = planNetworkPolicies(input, { namespaces: ['shop'] });
    const api = plan.namespaces[0]!.policies.filter((p) => p.purpose === 'apiserver').map((p) => p.name);
    expect(api).toEqual([
      'kube-harden-allow-apiserver-deployment-operator',
      'kube-harden-allow-apiserver-deployment-projected',
    ]);
  });

  test('unreadable NetworkPolicies and RBAC are carried as unknown', () => {
    const input = netpolInputFromSnapshot(
      {
        ...snap,
        unknown: [
          {
            resource: 'networkpolicies.networking.k8s.io',
            namespace: 'shop',
            reason: 'Forbidden',
            message: 'no',
          },
          { resource: 'rolebindings.rbac.authorization.k8s.io', reason: 'Forbidden', message: 'no' },
        ],
      },
      extras,
    );
    expect(input.networkPoliciesUnknown).toEqual(['shop']);
    expect(input.rbac.unknown).toBe(true);
  });
});
