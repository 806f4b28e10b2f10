/**
 * The report's registry table marks which registries kube-harden's registries policy (phase 5) admits, when that
 * policy is in the snapshot (live, or in the manifests a plan wrote); without it the table is as before.
 */
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { celStringList } from '../../../src/policy/registries/index.js';
import { renderReport } from '../../../src/report/index.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';

const img = (image: string) => restrictedSpec({ containers: [container('app', { image })] });

function cluster(allowedExpression?: string): Snapshot {
  return snapshot({
    namespaces: [ns('shop')],
    workloads: [
      workload('Deployment', 'shop', 'a', img('ghcr.io/acme/a:1')),
      workload('Deployment', 'shop', 'b', img('nginx:1.27')),
      workload('Deployment', 'shop', 'c', img('quay.io/x/c:1')),
    ],
    admissionPolicies:
      allowedExpression === undefined
        ? []
        : [
            {
              kind: 'ValidatingAdmissionPolicy',
              name: 'kube-harden-allowed-registries',
              labels: {},
              allowedExpression,
            },
          ],
  });
}

describe('registry table: allowed by the registries policy', () => {
  it('marks each registry: yes, only some repositories, no', () => {
    const a = assess(cluster(celStringList(['docker.io/library', 'ghcr.io'])), { now: NOW });
    expect(a.registries.map((r) => [r.registry, r.allowedBy])).toEqual([
      ['docker.io', ['docker.io/library']],
      ['ghcr.io', ['ghcr.io']],
      ['quay.io', []],
    ]);
    const text = renderReport(a, 'text', { timestamps: false, width: 100 });
    expect(text).toMatch(/REGISTRY +IMAGES +WORKLOADS +ALLOWED/);
    expect(text).toMatch(/docker\.io +1 image +1 workload +only docker\.io\/library/);
    expect(text).toMatch(/ghcr\.io +1 image +1 workload +yes/);
    expect(text).toMatch(/quay\.io +1 image +1 workload +no/);
    const md = renderReport(a, 'md', { timestamps: false });
    expect(md).toContain('| registry | images | workloads | allowed |');
    expect(md).toContain('| quay.io | 1 | 1 | no |');
    expect(JSON.parse(renderReport(a, 'json', { timestamps: false })).registries[1]).toEqual({
      registry: 'ghcr.io',
      images: 1,
      workloads: 1,
      allowedBy: ['ghcr.io'],
    });
  });

  it('no policy, or one whose list was edited into another expression: no marks, no column', () => {
    for (const snap of [cluster(), cluster("['ghcr.io'] + ['quay.io']")]) {
      const a = assess(snap, { now: NOW });
      expect(a.registries.every((r) => r.allowedBy === undefined)).toBe(true);
      expect(renderReport(a, 'text', { timestamps: false })).not.toContain('ALLOWED');
    }
  });
});
