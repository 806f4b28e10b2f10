/**
 * A plan can only contain what its steps can produce: each saved change is judged against its step's declared
 * targets (kinds, operations, names, label keys and values, fields), with the object as it is now.
 */
import { describe, expect, it } from 'vitest';
import { outsideTargets } from '../../../src/engine/targets.js';
import type { PlannedChange } from '../../../src/engine/types.js';
import type { KubeObject } from '../../../src/k8s/types.js';
import { STEPS } from '../../../steps/index.js';
import { psaEnforce } from '../../../steps/psa-enforce.js';
import { psaMigrate } from '../../../steps/psa-migrate.js';
import { psaWarnAudit } from '../../../steps/psa-warn-audit.js';

const PSA = 'pod-security.kubernetes.io/';

function ns(
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: { ...labels, 'app.kubernetes.io/managed-by': 'kube-harden' },
      annotations: {
        ...annotations,
        'kube-harden.io/run-id': '20260101T000000Z-abc123',
        'kube-harden.io/step': 'psa-enforce',
      },
    },
  };
}

function applyChange(
  step: string,
  desired: KubeObject,
  operation: 'create' | 'update' = 'update',
): PlannedChange {
  return {
    id: `${step}/x`,
    step,
    phase: 2,
    kind: 'apply',
    operation,
    target: {
      apiVersion: desired.apiVersion,
      kind: desired.kind,
      name: desired.metadata.name,
      ...(desired.metadata.namespace ? { namespace: desired.metadata.namespace } : {}),
    },
    desired,
    risk: 'disruptive',
    reason: 'r',
    notes: [],
    baseResourceVersion: '1',
    diff: { text: '', added: 0, removed: 0 },
    warnings: [],
    preview: 'ok',
  };
}

const live = (name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, resourceVersion: '1', ...extra },
});

const enforce = (name: string, level = 'restricted') =>
  applyChange(
    'psa-enforce',
    ns(
      name,
      { [`${PSA}enforce`]: level, [`${PSA}enforce-version`]: 'v1.36' },
      { 'kube-harden.io/psa-enforced-at': '2026-01-01' },
    ),
  );

describe('outsideTargets', () => {
  it('accepts what the PSA steps produce', () => {
    expect(outsideTargets(enforce('shop'), psaEnforce.targets, live('shop'))).toBeUndefined();
    const warn = applyChange(
      'psa-warn-audit',
      ns(
        'shop',
        {
          [`${PSA}warn`]: 'restricted',
          [`${PSA}warn-version`]: 'v1.36',
          [`${PSA}audit`]: 'baseline',
          [`${PSA}audit-version`]: 'latest',
        },
        { 'kube-harden.io/psa-warn-audit-since': '2026-01-01' },
      ),
    );
    warn.desired = {
      ...warn.desired,
      metadata: {
        ...warn.desired?.metadata,
        annotations: { ...warn.desired?.metadata.annotations, 'kube-harden.io/step': 'psa-warn-audit' },
      },
    } as KubeObject;
    expect(outsideTargets(warn, psaWarnAudit.targets, live('shop'))).toBeUndefined();
  });

  it('refuses enforce on a system namespace, a loosening level, and a label the step never sets', () => {
    expect(outsideTargets(enforce('kube-system'), psaEnforce.targets, live('kube-system'))).toBe(
      'step psa-enforce never touches Namespace kube-system',
    );
    expect(outsideTargets(enforce('shop', 'privileged'), psaEnforce.targets, live('shop'))).toBe(
      `step psa-enforce never sets label ${PSA}enforce to "privileged"`,
    );
    const extra = enforce('shop');
    (extra.desired as KubeObject).metadata.labels = { ...extra.desired?.metadata.labels, team: 'x' };
    expect(outsideTargets(extra, psaEnforce.targets, live('shop'))).toBe(
      'step psa-enforce never sets label team',
    );
    const finalizer = enforce('shop');
    (finalizer.desired as KubeObject).metadata.finalizers = ['x'];
    expect(outsideTargets(finalizer, psaEnforce.targets, live('shop'))).toBe(
      'step psa-enforce never sets field metadata.finalizers',
    );
  });

  it('passes fields kube-harden already owns with the same value (re-asserted by every apply), not others', () => {
    const owned = live('shop', {
      labels: { [`${PSA}warn`]: 'restricted' },
      managedFields: [
        {
          manager: 'kube-harden',
          operation: 'Apply',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:labels': { [`f:${PSA}warn`]: {} } } },
        },
      ],
    });
    const c = enforce('shop');
    (c.desired as KubeObject).metadata.labels = {
      ...c.desired?.metadata.labels,
      [`${PSA}warn`]: 'restricted',
    };
    expect(outsideTargets(c, psaEnforce.targets, owned)).toBeUndefined();
    (c.desired as KubeObject).metadata.labels = { ...c.desired?.metadata.labels, [`${PSA}warn`]: 'baseline' };
    expect(outsideTargets(c, psaEnforce.targets, owned)).toBe(`step psa-enforce never sets label ${PSA}warn`);
  });

  it('refuses a kind, an operation or a step the plan cannot have', () => {
    const crb = applyChange(
      'psa-enforce',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'pwned' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io' }],
      } as KubeObject,
      'create',
    );
    expect(outsideTargets(crb, psaEnforce.targets, undefined)).toBe(
      'step psa-enforce never does "create ClusterRoleBinding (rbac.authorization.k8s.io/v1)"',
    );
    const del: PlannedChange = { ...enforce('shop'), kind: 'delete', operation: 'delete' };
    expect(outsideTargets(del, psaEnforce.targets, live('shop'))).toBe(
      'step psa-enforce never does "delete Namespace"',
    );
    // An "update" of an object that does not exist would create it.
    expect(outsideTargets(enforce('new-ns'), psaEnforce.targets, undefined)).toBe(
      'it says update, but the object does not exist',
    );
    expect(outsideTargets({ ...enforce('shop'), step: 'nope' }, undefined, live('shop'))).toBe(
      'step "nope" is not a step of this kube-harden',
    );
    const manual: PlannedChange = { ...enforce('shop'), kind: 'manual', operation: 'manual' };
    expect(outsideTargets(manual, psaEnforce.targets, undefined)).toBe(
      'step psa-enforce makes no manual changes',
    );
    expect(outsideTargets(manual, [{ manual: true }], undefined)).toBeUndefined();
  });

  it('accepts a migrate fix and refuses a privileged container or a hostPath volume slipped into it', () => {
    const fix = (spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { template: { spec } },
    });
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', resourceVersion: '3' },
    } as KubeObject;
    const good = applyChange(
      'psa-migrate',
      fix({
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'app',
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['NET_RAW', 'ALL'] },
              readOnlyRootFilesystem: true,
            },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      }),
    );
    (good.desired as KubeObject).metadata.annotations = { 'kube-harden.io/step': 'psa-migrate' };
    expect(outsideTargets(good, psaMigrate.targets, deploy)).toBeUndefined();
    const privileged = applyChange(
      'psa-migrate',
      fix({ containers: [{ name: 'app', securityContext: { privileged: true } }] }),
    );
    expect(outsideTargets(privileged, psaMigrate.targets, deploy)).toBe(
      'step psa-migrate never sets field spec.template.spec.containers[].securityContext.privileged',
    );
    const hostPath = applyChange('psa-migrate', fix({ volumes: [{ name: 'tmp', hostPath: { path: '/' } }] }));
    expect(outsideTargets(hostPath, psaMigrate.targets, deploy)).toBe(
      'step psa-migrate never sets field spec.template.spec.volumes[].hostPath.path',
    );
  });

  it('every registered step declares its targets (a read-only step, risk none, declares none: it writes nothing)', () => {
    for (const s of STEPS) {
      if (s.risk === 'none') expect(s.targets, s.id).toEqual([]);
      else expect(s.targets.length, s.id).toBeGreaterThan(0);
    }
  });
});
