/** Evidence of API use per workload: bindings (not defaults, not groups), controllers, projected tokens, audit. */
import { describe, expect, it } from 'vitest';
import { summarizeAuditLines } from '../../../../src/policy/sa/audit-log.js';
import { knownControllersOf } from '../../../../src/policy/sa/controllers.js';
import { workloadEvidence } from '../../../../src/policy/sa/evidence.js';
import {
  binding,
  container,
  restrictedSpec,
  snapshot,
  workload,
} from '../../../fixtures/snapshots/builder.js';

const RBAC = 'rbac.authorization.k8s.io';
const ledger = workload('Deployment', 'payments', 'ledger', restrictedSpec({ serviceAccountName: 'ledger' }));
/** A pod spec that runs as the namespace's default account and says nothing about the token. */
function asDefault() {
  const { serviceAccountName: _sa, automountServiceAccountToken: _t, ...spec } = restrictedSpec();
  return spec;
}
const web = workload('Deployment', 'payments', 'web', asDefault());

describe('workloadEvidence', () => {
  it('a RoleBinding of its ServiceAccount is evidence, named', () => {
    const s = snapshot({
      workloads: [ledger],
      bindings: [
        binding(
          'RoleBinding',
          'ledger',
          { kind: 'Role', name: 'ledger-operator' },
          [{ kind: 'ServiceAccount', name: 'ledger', namespace: 'payments' }],
          'payments',
        ),
      ],
    });
    const e = workloadEvidence(ledger, { snapshot: s });
    expect(e.use).toBe('yes');
    expect(e.serviceAccount).toBe('ledger');
    expect(e.summary).toBe('bound to Role payments/ledger-operator (RoleBinding payments/ledger)');
  });

  it('ClusterRoleBindings and RoleBindings to ClusterRoles are named with their scope', () => {
    const s = snapshot({
      bindings: [
        binding('ClusterRoleBinding', 'ledger-view', { kind: 'ClusterRole', name: 'view' }, [
          { kind: 'ServiceAccount', name: 'ledger', namespace: 'payments' },
        ]),
        binding(
          'RoleBinding',
          'edit',
          { kind: 'ClusterRole', name: 'edit' },
          [{ kind: 'ServiceAccount', name: 'ledger', namespace: 'payments' }],
          'shop',
        ),
      ],
    });
    expect(workloadEvidence(ledger, { snapshot: s }).evidence).toEqual([
      'bound to ClusterRole view cluster-wide (ClusterRoleBinding ledger-view)',
      'bound to ClusterRole edit in namespace shop (RoleBinding shop/edit)',
    ]);
  });

  it('defaults, other accounts and group bindings are not evidence; the default account of another namespace neither', () => {
    const s = snapshot({
      bindings: [
        binding(
          'ClusterRoleBinding',
          'system:discovery',
          { kind: 'ClusterRole', name: 'system:discovery' },
          [{ kind: 'Group', name: 'system:authenticated', apiGroup: RBAC }],
          undefined,
          { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
        ),
        binding('ClusterRoleBinding', 'all-sa-view', { kind: 'ClusterRole', name: 'view' }, [
          { kind: 'Group', name: 'system:serviceaccounts:payments', apiGroup: RBAC },
        ]),
        binding(
          'RoleBinding',
          'other',
          { kind: 'Role', name: 'r' },
          [{ kind: 'ServiceAccount', name: 'default', namespace: 'shop' }],
          'payments',
        ),
      ],
    });
    const e = workloadEvidence(web, { snapshot: s });
    expect(e.use).toBe('no');
    expect(e.evidence).toEqual([]);
    expect(e.notes.join(' ')).toContain('group system:serviceaccounts:payments is bound to ClusterRole view');
    expect(e.summary).toContain('no binding');
  });

  it('a subject without namespace in a RoleBinding is the binding namespace', () => {
    const s = snapshot({
      bindings: [
        binding(
          'RoleBinding',
          'rb',
          { kind: 'Role', name: 'r' },
          [{ kind: 'ServiceAccount', name: 'default' }],
          'payments',
        ),
      ],
    });
    expect(workloadEvidence(web, { snapshot: s }).use).toBe('yes');
  });

  it('audit requests are evidence; none in the window says so', () => {
    const audit = summarizeAuditLines(
      Array.from({ length: 1204 }, () =>
        JSON.stringify({
          kind: 'Event',
          stage: 'ResponseComplete',
          verb: 'list',
          user: { username: 'system:serviceaccount:payments:ledger' },
          objectRef: { resource: 'pods', namespace: 'payments' },
          requestReceivedTimestamp: '2026-06-01T10:00:00Z',
        }),
      ),
    );
    const s = snapshot({});
    const e = workloadEvidence(ledger, { snapshot: s, audit });
    expect(e.summary).toBe(
      'made 1,204 requests in the audit log (2026-06-01T10:00:00Z → 2026-06-01T10:00:00Z)',
    );
    const none = workloadEvidence(web, { snapshot: s, audit });
    expect(none.use).toBe('no');
    expect(none.summary).toBe(
      'no binding, no requests in the audit log (2026-06-01T10:00:00Z → 2026-06-01T10:00:00Z)',
    );
  });

  it('a known controller image or chart is evidence', () => {
    const w = workload(
      'Deployment',
      'ingress-nginx',
      'controller',
      restrictedSpec({
        containers: [container('c', { image: 'registry.k8s.io/ingress-nginx/controller:v1.8.1@sha256:abc' })],
      }),
    );
    expect(workloadEvidence(w, { snapshot: snapshot() }).summary).toBe(
      'runs ingress-nginx controller (image registry.k8s.io/ingress-nginx/controller:v1.8.1@sha256:abc)',
    );
    expect(knownControllersOf(['nginx:1.27'], 'cert-manager-v1.15.3')).toEqual([
      'is cert-manager (Helm chart cert-manager-v1.15.3)',
    ]);
    expect(knownControllersOf(['nginx:1.27', 'redis'], 'prometheus-node-exporter-4.39.0')).toEqual([]);
  });

  it('an explicit projected token for the API server is evidence; one for another audience or the automounted volume is not', () => {
    const projected = (audience?: string) => ({
      projected: { sources: [{ serviceAccountToken: { path: 'token', ...(audience ? { audience } : {}) } }] },
    });
    const own = workload(
      'Deployment',
      'payments',
      'own',
      restrictedSpec({ volumes: [{ name: 'api-token', ...projected() }] }),
    );
    expect(workloadEvidence(own, { snapshot: snapshot() }).evidence).toEqual([
      'projects a ServiceAccount token for the API server (volume api-token)',
    ]);
    const vault = workload(
      'Deployment',
      'payments',
      'vault',
      restrictedSpec({ volumes: [{ name: 'vault-token', ...projected('vault') }] }),
    );
    const v = workloadEvidence(vault, { snapshot: snapshot() });
    expect(v.use).toBe('no');
    expect(v.notes[0]).toContain('audience vault');
    const bare = workload(
      'Pod',
      'payments',
      'bare',
      restrictedSpec({
        volumes: [{ name: 'kube-api-access-x7k2p', ...projected() }],
        containers: [
          container('c', {
            volumeMounts: [
              { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
            ],
          }),
        ],
      }),
    );
    expect(workloadEvidence(bare, { snapshot: snapshot() }).use).toBe('no');
  });

  it('bindings that could not be read make it unknown, never "no"', () => {
    const s = snapshot({
      unknown: [
        {
          resource: 'rolebindings.rbac.authorization.k8s.io',
          namespace: 'payments',
          reason: 'Forbidden',
          message: 'x',
        },
      ],
    });
    expect(workloadEvidence(web, { snapshot: s }).use).toBe('unknown');
    const other = workload('Deployment', 'shop', 'web', asDefault());
    expect(workloadEvidence(other, { snapshot: s }).use).toBe('no');
    const crb = snapshot({
      unknown: [
        { resource: 'clusterrolebindings.rbac.authorization.k8s.io', reason: 'Forbidden', message: 'x' },
      ],
    });
    expect(workloadEvidence(other, { snapshot: crb }).use).toBe('unknown');
  });
});
