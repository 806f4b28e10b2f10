import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { buildSnapshot } from '../../../src/inventory/build.js';
import { assess } from '../../../src/policy/assess.js';

const example = join(import.meta.dirname, '..', '..', '..', 'examples', 'legacy-cluster');

describe('a narrowed inventory (-n)', () => {
  it('keeps only the namespaces in scope, but still finds the CNI running elsewhere', async () => {
    const source = await ManifestSource.load(example);
    const snapshot = await buildSnapshot(source, { namespaces: ['shop'] });
    expect([...new Set(snapshot.workloads.map((w) => w.namespace))]).toEqual(['shop']);
    expect(snapshot.namespaces.map((n) => n.name)).toEqual(['shop']);
    expect(snapshot.controlPlane.cni.map((c) => `${c.namespace}/${c.workload}`)).toEqual([
      'kube-system/calico-node',
    ]);
    const a = assess(snapshot, { now: new Date('2026-11-25T00:00:00Z') });
    expect(a.cni.status).toBe('enforcing');
  });
});
