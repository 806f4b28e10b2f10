/**
 * The bundled fresh cluster (examples/fresh-cluster, its README): workloads written with care, a cluster around
 * them wide open. Offline, the assessment finds what the walkthrough says phases 1–5 fix, and nothing that would
 * keep phase 2 from enforcing restricted; the one token the example needs is covered by its exceptions register.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { buildSnapshot } from '../../../src/inventory/build.js';
import { type Assessment, assess } from '../../../src/policy/assess.js';
import { loadExceptions } from '../../../src/policy/exceptions.js';

let a: Assessment;
// Before the exception's end date (2027-11-30), and not within 30 days of it.
const NOW = new Date('2026-12-05T00:00:00Z');

beforeAll(async () => {
  const snapshot = await buildSnapshot(await ManifestSource.load('examples/fresh-cluster'));
  const exceptions = await loadExceptions('examples/fresh-cluster-exceptions.yaml');
  a = assess(snapshot, { now: NOW, ...(exceptions ? { exceptions } : {}) });
});

const open = (control: string) =>
  a.findings
    .filter((f) => f.control === control && !f.excepted)
    .map((f) => `${f.target.namespace ? `${f.target.namespace}/` : ''}${f.target.kind}/${f.target.name}`)
    .sort();

describe('examples/fresh-cluster', () => {
  test('two application namespaces, five workloads, every one passing restricted', () => {
    expect(a.namespaces.map((n) => [n.name, n.tier])).toEqual([
      ['jobs', 'application'],
      ['shop', 'application'],
    ]);
    expect(a.workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}`).sort()).toEqual([
      'jobs/CronJob/pod-cleaner',
      'jobs/CronJob/sales-report',
      'shop/Deployment/api',
      'shop/Deployment/frontend',
      'shop/Deployment/redis',
    ]);
    expect(a.findings.filter((f) => /^KH-(PSS|POD-ROOT|PSA-ENFORCE-BLOCKED)/.test(f.control))).toEqual([]);
  });

  test('what phases 1–5 fix is there; the one token the example needs is excepted', () => {
    expect(open('KH-PSA-NOT-ENFORCED')).toEqual(['Namespace/jobs', 'Namespace/shop']);
    expect(open('KH-SA-TOKEN-AUTOMOUNT')).toEqual([
      'jobs/CronJob/sales-report',
      'shop/Deployment/api',
      'shop/Deployment/frontend',
      'shop/Deployment/redis',
    ]);
    // pod-cleaner keeps its token by evidence (its RoleBinding): not a token finding, but the evidence, excepted.
    expect(a.findings.filter((f) => f.control === 'KH-SA-TOKEN-AUTOMOUNT' && f.excepted)).toEqual([]);
    expect(
      a.findings
        .filter((f) => f.control === 'KH-SA-TOKEN-EVIDENCE')
        .map((f) => [`${f.target.namespace}/${f.target.kind}/${f.target.name}`, f.exceptedBy]),
    ).toEqual([['jobs/CronJob/pod-cleaner', ['pod-cleaner-api-token']]]);
    expect(a.registries?.map((r) => r.registry).sort()).toEqual(['docker.io', 'ghcr.io', 'registry.k8s.io']);
  });
});
