/**
 * The caches behind assess()'s speed (src/policy/workload-profile.ts, EvidenceIndex.apiUse, sortFindings): what
 * they share must be what cannot differ, and what can differ must not be merged. Each case compares a workload
 * assessed among others with the same workload assessed alone.
 */
import { describe, expect, test, vi } from 'vitest';
import type { PodSpecLite, Workload } from '../../../src/inventory/types.js';
import { type Assessment, assess } from '../../../src/policy/assess.js';
import { compareFindings, type Finding, makeFinding, sortFindings } from '../../../src/policy/findings.js';
import * as pss from '../../../src/policy/pss/index.js';
import { EvidenceIndex } from '../../../src/policy/sa/report.js';
import { profileKey, pssAnnotationKey, subjectsOf } from '../../../src/policy/workload-profile.js';
import {
  binding,
  container,
  NOW,
  ns,
  restrictedSpec,
  snapshot,
  workload,
} from '../../fixtures/snapshots/builder.js';

vi.mock('../../../src/policy/pss/index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/policy/pss/index.js')>();
  return { ...actual, evaluatePod: vi.fn(actual.evaluatePod) };
});

/** A bare pod: its own template, one pod of that template. */
function bare(
  namespace: string,
  name: string,
  spec: PodSpecLite,
  annotations?: Record<string, string>,
): Workload {
  const w = workload('Pod', namespace, name, spec, { pods: 1 });
  if (annotations && w.template) w.template.metadata.annotations = annotations;
  return w;
}

/** What the report says of one workload alone: its Pod Security results, findings and token evidence. */
function about(a: Assessment, name: string) {
  const w = a.workloads.find((x) => x.name === name);
  return {
    pss: w?.pss,
    apiUse: w?.apiUse,
    images: w?.images,
    findings: a.findings
      // (not the finding that names its neighbours: it depends on them)
      .filter((f) => f.target.name === name && f.control !== 'KH-PSS-PRIVILEGED-IN-APP-NS')
      .map((f) => ({ ...f, target: { ...f.target } }))
      .sort(compareFindings),
  };
}

function alone(w: Workload, namespaces = [ns(w.namespace)], extra = {}): Assessment {
  return assess(snapshot({ namespaces, workloads: [w], ...extra }), { now: NOW });
}

const APPARMOR = 'container.apparmor.security.beta.kubernetes.io/app';

describe('one profile per distinct spec and Pod Security annotations', () => {
  test('pods sharing a spec object but not their AppArmor or seccomp annotation are judged apart', () => {
    const spec = restrictedSpec();
    const ws = [
      bare('shop', 'unconfined', spec, { [APPARMOR]: 'unconfined' }),
      bare('shop', 'scraped', spec, { 'prometheus.io/scrape': 'true' }),
      bare('shop', 'runtime', spec, { [APPARMOR]: 'runtime/default' }),
      bare('shop', 'seccomp', spec, { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' }),
      bare('shop', 'plain', spec),
    ];
    const a = assess(snapshot({ namespaces: [ns('shop')], workloads: ws }), { now: NOW });
    expect(
      a.findings
        .filter((f) => f.control === 'KH-PSS-BASELINE')
        .map((f) => f.target.name)
        .sort(),
    ).toEqual(['unconfined']); // at latest, baseline reads seccomp fields, not the annotation (v1.0 did)
    for (const w of ws) expect(about(a, w.name)).toEqual(about(alone(w), w.name));
  });

  test('pods that differ only in annotations Pod Security does not read are evaluated once', () => {
    const spec = restrictedSpec({
      containers: [container('app', { securityContext: { privileged: true } })],
    });
    const calls = vi.mocked(pss.evaluatePod);
    calls.mockClear();
    const a = assess(
      snapshot({
        namespaces: [ns('shop')],
        workloads: [
          bare('shop', 'one', spec, { 'prometheus.io/port': '9090' }),
          bare('shop', 'two', spec, { 'prometheus.io/port': '8080' }),
        ],
      }),
      { now: NOW },
    );
    expect(calls).toHaveBeenCalledTimes(2); // baseline and restricted, once
    expect(about(a, 'two').pss).toEqual(about(a, 'one').pss);
    expect(about(a, 'two').findings.map((f) => f.message)).toEqual(
      about(a, 'one').findings.map((f) => f.message),
    );
  });

  test('specs equal in content but not interned still give the same answer; specs that differ never share', () => {
    const root = restrictedSpec({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } });
    const ws = [
      bare('shop', 'a', restrictedSpec()),
      bare('shop', 'b', restrictedSpec()),
      bare('shop', 'root', root),
      bare('shop', 'latest', restrictedSpec({ containers: [container('app', { image: 'nginx' })] })),
    ];
    const a = assess(snapshot({ namespaces: [ns('shop')], workloads: ws }), { now: NOW });
    for (const w of ws) expect(about(a, w.name)).toEqual(about(alone(w), w.name));
    expect(a.findings.filter((f) => f.control === 'KH-IMAGE-LATEST').map((f) => f.target.name)).toEqual([
      'latest',
    ]);
  });

  test('a hostNetwork template and a bare pod of the same spec are separate profiles (hostPort defaulting)', () => {
    const spec = restrictedSpec({
      hostNetwork: true,
      containers: [container('app', { ports: [{ containerPort: 8080 }] })],
    });
    const ds = workload('DaemonSet', 'node', 'agent', spec);
    const pod = bare('node', 'solo', spec);
    expect(profileKey(subjectsOf(ds), true).key).not.toEqual(profileKey(subjectsOf(pod), false).key);
    const a = assess(snapshot({ namespaces: [ns('node')], workloads: [ds, pod] }), { now: NOW });
    expect(about(a, 'agent')).toEqual(about(alone(ds), 'agent'));
    expect(about(a, 'solo')).toEqual(about(alone(pod), 'solo'));
    expect(about(a, 'agent').findings.find((f) => f.control === 'KH-PSS-BASELINE')?.message).toContain(
      'its Pods will show',
    );
  });

  test('the annotation key keeps exactly the AppArmor and seccomp annotations', () => {
    expect(pssAnnotationKey(undefined)).toBe('');
    expect(pssAnnotationKey({ 'prometheus.io/scrape': 'true' })).toBe('');
    const k1 = pssAnnotationKey({ [APPARMOR]: 'unconfined', 'prometheus.io/scrape': 'true' });
    expect(k1).not.toBe('');
    expect(k1).toBe(pssAnnotationKey({ [APPARMOR]: 'unconfined' }));
    expect(k1).not.toBe(pssAnnotationKey({ [APPARMOR]: 'runtime/default' }));
    expect(pssAnnotationKey({ 'container.seccomp.security.alpha.kubernetes.io/app': 'unconfined' })).not.toBe(
      '',
    );
  });
});

describe('API-use evidence, cached per namespace/account and per spec/chart', () => {
  test('the same spec in two namespaces, only one with a binding of its account: not merged', () => {
    const spec = restrictedSpec({ automountServiceAccountToken: true });
    const ws = [bare('a', 'web', spec), bare('b', 'web', spec), bare('b', 'web2', spec)];
    const bindings = [
      binding(
        'RoleBinding',
        'reader',
        { kind: 'Role', name: 'reader' },
        [{ kind: 'ServiceAccount', name: 'app' }],
        'a',
      ),
    ];
    const snap = snapshot({ namespaces: [ns('a'), ns('b')], workloads: ws, bindings });
    const index = new EvidenceIndex(snap);
    for (const w of ws) {
      const full = index.evidence(w, 'app');
      expect(index.apiUse(w, 'app')).toEqual({ use: full.use, summary: full.summary });
    }
    expect(index.apiUse(ws[0] as Workload, 'app').use).toBe('yes');
    expect(index.apiUse(ws[1] as Workload, 'app').use).toBe('no');
  });

  test('the same spec with and without a known controller chart label: not merged', () => {
    const spec = restrictedSpec({ automountServiceAccountToken: true });
    const charted = bare('ops', 'x', spec);
    charted.labels = { 'helm.sh/chart': 'external-dns-1.14.0' };
    const plain = bare('ops', 'y', spec);
    const index = new EvidenceIndex(snapshot({ namespaces: [ns('ops')], workloads: [charted, plain] }));
    expect(index.apiUse(charted, 'app').use).toBe('yes');
    expect(index.apiUse(plain, 'app').use).toBe('no');
    for (const w of [charted, plain]) {
      const full = index.evidence(w, 'app');
      expect(index.apiUse(w, 'app')).toEqual({ use: full.use, summary: full.summary });
    }
  });
});

test('sortFindings orders as compareFindings does', () => {
  const controls = ['KH-POD-ROOT', 'KH-SA-DEFAULT', 'KH-IMAGE-LATEST', 'KH-PSS-BASELINE'];
  const findings: Finding[] = [];
  let seed = 7;
  const pick = <T>(xs: readonly T[]) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return xs[seed % xs.length] as T;
  };
  for (let i = 0; i < 400; i++) {
    const kind = pick(['Pod', 'Deployment', 'Namespace']);
    const f = makeFinding(
      pick(controls),
      {
        kind,
        name: pick(['a', 'b', 'c']),
        ...(kind === 'Namespace' ? {} : { namespace: pick(['x', 'y', 'a']) }),
        ...(pick([true, false]) ? { container: pick(['c1', 'c2']) } : {}),
      },
      pick(['m1', 'm2']),
    );
    if (pick([true, false, false])) f.excepted = true;
    if (pick([true, false, false])) f.severity = 'info';
    findings.push(f);
  }
  const expected = [...findings].sort(compareFindings);
  sortFindings(findings);
  expect(findings).toEqual(expected);
  for (let i = 0; i < findings.length; i++) expect(findings[i]).toBe(expected[i]);
});
