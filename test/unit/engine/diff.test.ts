import { describe, expect, it } from 'vitest';
import { diffObjects } from '../../../src/engine/diff.js';
import { normalize, redact, toYaml } from '../../../src/engine/normalize.js';
import type { KubeObject } from '../../../src/k8s/types.js';

const ref = { apiVersion: 'v1', kind: 'Namespace', name: 'a' };

function ns(labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'a',
      labels,
      resourceVersion: '42',
      uid: 'u',
      creationTimestamp: '2026-01-01T00:00:00Z',
      managedFields: [{ manager: 'x' }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}' },
      ...extra,
    },
    status: { phase: 'Active' },
  };
}

describe('normalize and diff', () => {
  it('strips server-owned fields and sorts keys, so equal objects give no diff', () => {
    const a = ns({ b: '2', a: '1' });
    const b = ns({ a: '1', b: '2' }, { resourceVersion: '43', uid: 'other' });
    expect(diffObjects(ref, a, b)).toEqual({ text: '', added: 0, removed: 0 });
    const n = normalize(a) as { metadata: Record<string, unknown> };
    expect(Object.keys(n.metadata)).toEqual(['labels', 'name']);
    expect('status' in n).toBe(false);
  });

  it('shows exactly the changed lines with +/- counts and clean headers', () => {
    const d = diffObjects(
      ref,
      ns({ a: '1' }),
      ns({ a: '1', 'pod-security.kubernetes.io/warn': 'restricted' }),
    );
    expect(d.added).toBe(1);
    expect(d.removed).toBe(0);
    expect(d.text).toContain('+    pod-security.kubernetes.io/warn: restricted');
    expect(d.text).toMatch(/^--- live\/v1\/Namespace\/a$/m);
    expect(d.text).toMatch(/^\+\+\+ proposed\/v1\/Namespace\/a$/m);
  });

  it('marks creates and deletes against /dev/null', () => {
    expect(diffObjects(ref, undefined, ns({})).text).toMatch(/^--- \/dev\/null$/m);
    expect(diffObjects(ref, ns({}), undefined).text).toMatch(/^\+\+\+ \/dev\/null$/m);
  });

  it('masks Secret values like kubectl diff: ***, *** (before), *** (after)', () => {
    const secret = (data: Record<string, string>, extra: Record<string, string> = {}): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 's',
        namespace: 'n',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
            stringData: { p: 'canary-1' },
          }),
        },
      },
      data,
      stringData: extra,
    });
    const d = diffObjects(
      { apiVersion: 'v1', kind: 'Secret', namespace: 'n', name: 's' },
      secret({ same: 'c2FtZQ==', changed: 'b2xk', gone: 'eA==' }),
      secret({ same: 'c2FtZQ==', changed: 'bmV3', added: 'eQ==' }),
    );
    expect(d.text).not.toMatch(/c2FtZQ|b2xk|bmV3|eA==|eQ==|canary-1/);
    expect(d.text).toContain('-  changed: "*** (before)"');
    expect(d.text).toContain('+  changed: "*** (after)"');
    expect(d.text).toContain('   same: "***"');
    expect(d.text).toContain('-  gone: "***"');
    expect(d.text).toContain('+  added: "***"');
    const r = redact(secret({ k: 'dmFsdWU=' }, { p: 'canary-2' }));
    expect(JSON.stringify(r)).not.toMatch(/dmFsdWU=|canary-1|canary-2/);
  });

  it('YAML output is deterministic', () => {
    expect(toYaml({ b: 1, a: { d: 2, c: 3 } })).toBe('a:\n  c: 3\n  d: 2\nb: 1\n');
  });
});
