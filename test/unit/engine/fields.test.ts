import { describe, expect, it } from 'vitest';
import {
  contains,
  extractFields,
  extractOwned,
  isRestored,
  mergeApply,
  restorePatch,
} from '../../../src/engine/fields.js';
import { mergePatch } from '../../../src/engine/undo.js';
import type { KubeObject } from '../../../src/k8s/types.js';

const live: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    labels: { app: 'web', team: 'a' },
    managedFields: [
      {
        manager: 'kube-harden',
        operation: 'Apply',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:team': {} } },
          'f:spec': {
            'f:template': {
              'f:spec': {
                'f:containers': {
                  'k:{"name":"app"}': {
                    '.': {},
                    'f:name': {},
                    'f:securityContext': { 'f:allowPrivilegeEscalation': {} },
                  },
                },
              },
            },
          },
        },
      },
      {
        manager: 'kubectl',
        operation: 'Update',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } },
      },
    ],
  },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'nginx', securityContext: { allowPrivilegeEscalation: false } },
          { name: 'side', image: 'busybox' },
        ],
      },
    },
  },
};

describe('server-side apply field helpers', () => {
  it('extracts what one manager owns (Apply only), keeping list-item keys', () => {
    expect(extractOwned(live, 'kube-harden')).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', labels: { team: 'a' } },
      spec: {
        template: {
          spec: { containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: false } }] },
        },
      },
    });
    expect(extractOwned(live, 'kubectl')).toBeUndefined();
    expect(extractFields(['a', 'b'], { 'v:"b"': {} })).toEqual(['b']);
  });

  it('merges apply configurations: maps deep, named items by name, other values replaced', () => {
    const merged = mergeApply(
      {
        spec: { template: { spec: { containers: [{ name: 'app', securityContext: { a: 1 } }] } } },
        list: [1, 2],
      },
      {
        spec: {
          template: { spec: { containers: [{ name: 'app', securityContext: { b: 2 } }, { name: 'new' }] } },
        },
        list: [3],
      },
    );
    expect(merged).toEqual({
      spec: {
        template: {
          spec: { containers: [{ name: 'app', securityContext: { a: 1, b: 2 } }, { name: 'new' }] },
        },
      },
      list: [3],
    });
  });

  it('contains: every named field has the value; named list items matched by name', () => {
    expect(contains(live, { metadata: { labels: { team: 'a' } } })).toBe(true);
    expect(contains(live, { metadata: { labels: { team: 'b' } } })).toBe(false);
    expect(
      contains(live, {
        spec: {
          template: {
            spec: { containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: false } }] },
          },
        },
      }),
    ).toBe(true);
  });

  it('restorePatch puts touched fields back (removing what did not exist), and isRestored sees it', () => {
    const before: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'a', labels: { keep: '1', tier: 'bronze' } },
    };
    const applied: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'a',
        labels: { tier: 'gold', added: 'x' },
        annotations: { 'kube-harden.io/run-id': 'r1' },
      },
    };
    const after: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'a',
        labels: { keep: '1', tier: 'gold', added: 'x', other: 'y' },
        annotations: { 'kube-harden.io/run-id': 'r1' },
      },
    };
    const patch = restorePatch(before, applied, after);
    expect(patch).toEqual({ metadata: { labels: { tier: 'bronze', added: null }, annotations: null } });
    const restored = mergePatch(after, patch) as KubeObject;
    expect(restored.metadata.labels).toEqual({ keep: '1', tier: 'bronze', other: 'y' });
    expect(isRestored(restored, before, applied)).toBe(true);
    expect(isRestored(after, before, applied)).toBe(false);
  });

  it('restorePatch removes only our keys from a map that others added to since', () => {
    const before: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } };
    const applied: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'a', annotations: { ours: '1' } },
    };
    const now: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'a', annotations: { ours: '1', theirs: '2' } },
    };
    expect(restorePatch(before, applied, now)).toEqual({ metadata: { annotations: { ours: null } } });
  });
});
