/**
 * Phase 5 with Kyverno or Gatekeeper (issue 13 items 3 and 4): detection of the engines, the engine choice, the
 * rendered native objects (the Kyverno CEL is the VAP's, word for word, but for the pod spec), what a saved plan
 * may hold, and registries-signatures.
 */
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../../src/cluster/errors.js';
import type { ClusterReader, Page } from '../../../src/cluster/types.js';
import { outsideTargets } from '../../../src/engine/targets.js';
import type { Change, Step } from '../../../src/engine/types.js';
import {
  type AdmissionEngineFacts,
  collectAdmissionEngines,
  engineInstalled,
  engineUnknown,
} from '../../../src/inventory/admission-engines.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import type { KubeObject } from '../../../src/k8s/types.js';
import { registryPolicy } from '../../../steps/kit/registries.js';
import {
  chooseEngine,
  GK_CONSTRAINT_CRD,
  gatekeeperConstraint,
  gatekeeperTemplate,
  imageReferencePatterns,
  kyvernoPolicy,
  nativeState,
  signaturePolicy,
} from '../../../steps/kit/registries-native.js';
import { registriesEnforce } from '../../../steps/registries-enforce.js';
import { registriesSignatures } from '../../../steps/registries-signatures.js';
import { registriesWarn } from '../../../steps/registries-warn.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { offlinePlanned, runStep } from '../../support/step-run.js';

// biome-ignore lint/suspicious/noExplicitAny: generated objects, read by path in assertions
type Obj = Record<string, any>;

const CRD = 'CustomResourceDefinition';

/** A reader: CRDs by name (`undefined` absent, an Error thrown), Deployments listed (or an Error thrown). */
function engineReader(
  crds: Record<string, KubeObject | Error | undefined>,
  deployments: KubeObject[] | Error = [],
) {
  return {
    capabilities: { dryRun: true, reviews: true },
    get: async (ref: { kind: string; name: string }) => {
      if (ref.kind !== CRD) return { value: undefined, warnings: [] };
      const v = crds[ref.name];
      if (v instanceof Error) throw v;
      return { value: v, warnings: [] };
    },
    list: (_kind: unknown) =>
      (async function* (): AsyncIterable<Page> {
        if (deployments instanceof Error) throw deployments;
        yield { items: deployments, warnings: [], index: 1, restarted: false };
      })(),
  } as unknown as ClusterReader;
}

const crd = (versions: string[]) =>
  ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: CRD,
    metadata: { name: 'x' },
    spec: { versions: versions.map((name) => ({ name, served: true })) },
  }) as unknown as KubeObject;

const deployment = (namespace: string, name: string, image: string, readyReplicas: number) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { namespace, name },
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image }] } } },
    status: { readyReplicas },
  }) as unknown as KubeObject;

const forbidden = () => new ClusterError('customresourcedefinitions is forbidden', { reason: 'Forbidden' });

describe('detecting Kyverno and Gatekeeper', () => {
  it('no CRD: both absent (nothing else read)', async () => {
    const f = await collectAdmissionEngines(engineReader({}));
    expect(f).toEqual({
      kyverno: { crd: 'absent', controller: 'absent' },
      gatekeeper: { crd: 'absent', controller: 'absent' },
    });
    expect(engineInstalled(f.kyverno) || engineUnknown(f.kyverno)).toBe(false);
  });

  it('CRD and a ready controller (any registry): installed; a CRD alone is not', async () => {
    const f = await collectAdmissionEngines(
      engineReader(
        {
          'clusterpolicies.kyverno.io': crd(['v1', 'v2beta1']),
          'constrainttemplates.templates.gatekeeper.sh': crd(['v1']),
        },
        [
          deployment('kyverno', 'kyverno-admission-controller', 'reg.kyverno.io/kyverno/kyverno:v1.19.0', 1),
          deployment(
            'kyverno',
            'kyverno-reports-controller',
            'reg.kyverno.io/kyverno/reports-controller:v1.19.0',
            1,
          ),
          deployment('shop', 'api', 'ghcr.io/acme/kyverno:1', 1),
        ],
      ),
    );
    expect(f.kyverno).toMatchObject({ crd: 'present', crdVersions: ['v1', 'v2beta1'], controller: 'ready' });
    expect(f.kyverno.controllerDetail).toBe(
      'Deployment kyverno/kyverno-admission-controller (1/1 ready, image reg.kyverno.io/kyverno/kyverno:v1.19.0)',
    );
    expect(engineInstalled(f.kyverno)).toBe(true);
    // ghcr.io/acme/kyverno is not Kyverno; Gatekeeper's CRD without its controller is not installed.
    expect(f.gatekeeper).toMatchObject({ crd: 'present', controller: 'absent' });
    expect(engineInstalled(f.gatekeeper)).toBe(false);
  });

  it('a controller with no ready replica is not-ready, not installed', async () => {
    const f = await collectAdmissionEngines(
      engineReader({ 'constrainttemplates.templates.gatekeeper.sh': crd(['v1']) }, [
        deployment(
          'gatekeeper-system',
          'gatekeeper-controller-manager',
          'openpolicyagent/gatekeeper:v3.23.0',
          0,
        ),
      ]),
    );
    expect(f.gatekeeper.controller).toBe('not-ready');
    expect(engineInstalled(f.gatekeeper)).toBe(false);
  });

  it('a CRD that cannot be read is unknown, never absent; so is a controller whose Deployments cannot be listed', async () => {
    const f = await collectAdmissionEngines(
      engineReader(
        {
          'clusterpolicies.kyverno.io': forbidden(),
          'constrainttemplates.templates.gatekeeper.sh': crd(['v1']),
        },
        forbidden(),
      ),
    );
    expect(f.kyverno).toMatchObject({ crd: 'unknown', controller: 'unknown' });
    expect(f.kyverno.reason).toContain('Forbidden');
    expect(engineUnknown(f.kyverno)).toBe(true);
    expect(f.gatekeeper).toMatchObject({
      crd: 'present',
      controller: 'unknown',
      reason: 'deployments could not be listed (Forbidden)',
    });
    expect(engineUnknown(f.gatekeeper)).toBe(true);
  });
});

const installed = {
  crd: 'present',
  controller: 'ready',
  controllerDetail: 'Deployment kyverno/k (1/1 ready)',
} as const;
const absent = { crd: 'absent', controller: 'absent' } as const;
const engines = (kyverno: object, gatekeeper: object) => ({ kyverno, gatekeeper }) as AdmissionEngineFacts;
const opts = (settings: Record<string, unknown> = {}) => ({ settings });

describe('choosing the engine (--registry-engine)', () => {
  it('default: the installed engine, else vap; both installed → Kyverno, saying so', () => {
    expect(chooseEngine(opts(), engines(absent, absent), true)).toEqual({
      engine: 'vap',
      source: 'default',
      notes: [],
    });
    expect(chooseEngine(opts(), undefined, true).engine).toBe('vap');
    expect(chooseEngine(opts(), engines(installed, absent), true).engine).toBe('kyverno');
    expect(chooseEngine(opts(), engines(absent, installed), true).engine).toBe('gatekeeper');
    const both = chooseEngine(opts(), engines(installed, installed), true);
    expect(both.engine).toBe('kyverno');
    expect(both.notes.join('\n')).toContain('both installed');
  });

  it('an engine whose presence is unknown: vap, with a note naming the flag (unknown is not assumed installed)', () => {
    const c = chooseEngine(
      opts(),
      engines({ crd: 'unknown', controller: 'unknown', reason: 'Forbidden: no' }, absent),
      true,
    );
    expect(c.engine).toBe('vap');
    expect(c.notes.join('\n')).toMatch(/Kyverno: unknown .*--registry-engine kyverno/);
  });

  it('chosen: an engine known absent on a live cluster is blocked; offline (manifests) it is written, with a note', () => {
    const live = chooseEngine(
      opts({ 'registries-warn.engine': 'gatekeeper' }),
      engines(absent, absent),
      true,
    );
    expect(live.blocked).toContain(
      'Gatekeeper is not installed (no CRD constrainttemplates.templates.gatekeeper.sh)',
    );
    const offline = chooseEngine(
      opts({ 'registries-warn.engine': 'gatekeeper' }),
      engines(absent, absent),
      false,
    );
    expect(offline.blocked).toBeUndefined();
    expect(offline.notes.join('\n')).toContain('nothing enforces the Gatekeeper policy');
    expect(
      chooseEngine(opts({ 'registries-warn.engine': 'vap' }), engines(installed, absent), true).engine,
    ).toBe('vap');
  });
});

describe('the native objects', () => {
  const entries = ['docker.io/library', 'ghcr.io/acme', 'registry.example.com:5000'];
  const selector = {
    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop'] }],
  };

  it("Kyverno: the rule's CEL is the ValidatingAdmissionPolicy's, word for word, except the pod spec (autogen writes the controllers')", () => {
    const vap = registryPolicy(entries) as unknown as Obj;
    const k = kyvernoPolicy(entries, 'Warn', selector) as unknown as Obj;
    const cel = k.spec.rules[0].validate.cel;
    const names = (vs: Obj[]) => vs.map((v) => v.name);
    expect(names(cel.variables)).toEqual(names(vap.spec.variables));
    for (const [i, v] of (cel.variables as Obj[]).entries()) {
      const theirs = vap.spec.variables[i];
      if (v.name === 'spec') {
        expect(v.expression).toBe('object.spec');
        // The VAP's own branches for the kinds autogen covers are exactly autogen's rewrites of `object.spec`.
        expect(theirs.expression).toContain("object.kind == 'Pod' ? object.spec");
        expect(theirs.expression).toContain('object.spec.jobTemplate.spec.template.spec');
        expect(theirs.expression).toContain('object.spec.template.spec');
      } else if (v.name === 'spec_old') {
        expect(v.expression).toBe(
          "request.operation != 'UPDATE' || oldObject == null ? null : oldObject.spec",
        );
      } else expect(v.expression, v.name).toBe(theirs.expression);
    }
    expect(cel.expressions).toEqual(vap.spec.validations);
    expect(k.spec.validationFailureAction).toBe('Audit');
    expect(k.spec.emitWarning).toBe(true);
    expect(k.spec.rules[0].match.any).toEqual([
      { resources: { kinds: ['Pod'], namespaceSelector: selector } },
    ]);
    expect((kyvernoPolicy(entries, 'Deny', {}) as unknown as Obj).spec.validationFailureAction).toBe(
      'Enforce',
    );
    // Autogen only runs for a rule that matches Pod alone, without a name or object selector (kyverno CanAutoGen).
    expect(Object.keys(k.spec.rules[0].match.any[0].resources).sort()).toEqual([
      'kinds',
      'namespaceSelector',
    ]);
  });

  it('Gatekeeper: a template of our own kind (never the library K8sAllowedRepos) and a Constraint warn, then deny', () => {
    const t = gatekeeperTemplate() as unknown as Obj;
    expect(t.metadata.name).toBe('kubehardenallowedrepos');
    expect(t.spec.crd.spec.names.kind).toBe('KubeHardenAllowedRepos');
    const rego: string = t.spec.targets[0].rego;
    expect(rego).not.toContain('any_prefix_match');
    expect(rego).toContain('startswith(normalised, concat("", [entry, "/"]))');
    const c = gatekeeperConstraint(entries, 'Warn', selector) as unknown as Obj;
    expect(c.kind).toBe('KubeHardenAllowedRepos');
    expect(c.spec.enforcementAction).toBe('warn');
    expect(c.spec.parameters.repos).toEqual(entries);
    expect(c.spec.match.namespaceSelector).toEqual(selector);
    expect((gatekeeperConstraint(entries, 'Deny', {}) as unknown as Obj).spec.enforcementAction).toBe('deny');
  });

  it('a live native object tells its action, selector and allow-list (a hand-edited list is not trusted)', () => {
    expect(nativeState('kyverno', kyvernoPolicy(entries, 'Deny', selector))).toEqual({
      action: 'Deny',
      selector,
      entries,
    });
    expect(nativeState('gatekeeper', gatekeeperConstraint(entries, 'Warn', selector))).toEqual({
      action: 'Warn',
      selector,
      entries,
    });
    const edited = gatekeeperConstraint(['ghcr.io'], 'Deny', {}) as unknown as Obj;
    edited.spec.parameters.repos = ['ghcr.io/'];
    expect(nativeState('gatekeeper', edited as unknown as KubeObject)).toEqual({
      action: 'Deny',
      selector: {},
    });
    expect(nativeState('kyverno', undefined)).toEqual({});
  });

  it('signatures: image references at a / boundary, the keyless identity, Audit without digest mutation', () => {
    expect(imageReferencePatterns(['ghcr.io/acme/api', 'quay.io'])).toEqual([
      'ghcr.io/acme/api:*',
      'ghcr.io/acme/api@*',
      'ghcr.io/acme/api/*',
      'quay.io/*',
    ]);
    const p = signaturePolicy(
      ['ghcr.io/acme'],
      'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
      'https://token.actions.githubusercontent.com',
      selector,
    ) as unknown as Obj;
    const vi = p.spec.rules[0].verifyImages[0];
    expect(p.spec.validationFailureAction).toBe('Audit');
    expect(vi.mutateDigest).toBe(false);
    expect(vi.attestors[0].entries[0].keyless).toEqual({
      subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
      rekor: { url: 'https://rekor.sigstore.dev' },
    });
  });
});

// ---- The steps -------------------------------------------------------------------------------------------

const img = (name: string, image: string) => container(name, { image });

function cluster(admissionEngines?: AdmissionEngineFacts): Snapshot {
  return snapshot({
    namespaces: [ns('kube-system'), ns('shop')],
    workloads: [
      workload(
        'Deployment',
        'shop',
        'api',
        restrictedSpec({ containers: [img('api', 'ghcr.io/acme/api:1.2')] }),
      ),
      workload('Deployment', 'shop', 'web', restrictedSpec({ containers: [img('web', 'nginx')] })),
      workload(
        'Deployment',
        'shop',
        'pinned',
        restrictedSpec({ containers: [img('p', `ghcr.io/acme/p:1@sha256:${'a'.repeat(64)}`)] }),
      ),
    ],
    ...(admissionEngines ? { admissionEngines } : {}),
  });
}

/** A live reader: CRDs by name present when listed in `crds`; every other object absent. */
const reader = (crds: string[] = []) =>
  ({
    capabilities: { dryRun: true, reviews: true },
    get: async (ref: { kind: string; name: string }) => ({
      value: ref.kind === CRD && crds.includes(ref.name) ? crd(['v1beta1']) : undefined,
      warnings: [],
    }),
  }) as unknown as ClusterReader;

const run = (step: Step<never>, snap: Snapshot, settings: Record<string, unknown> = {}, r = reader()) =>
  runStep(step, snap, { settings, reader: r });

const planned = (step: string, change: Change) => offlinePlanned(change, { step, phase: 5 });

const warn = registriesWarn as unknown as Step<never>;
const enforce = registriesEnforce as unknown as Step<never>;
const signatures = registriesSignatures as unknown as Step<never>;

describe('registries-warn and registries-enforce with an engine installed', () => {
  it('Kyverno installed: one ClusterPolicy, Audit then Enforce; within what a saved plan may hold', async () => {
    const snap = cluster(engines(installed, absent));
    const w = await run(warn, snap);
    expect(w.changes.map((c) => c.id)).toEqual(['registries-warn/kyverno-policy']);
    const policy = (w.changes[0] as { desired: Obj }).desired;
    expect(policy.spec.validationFailureAction).toBe('Audit');
    expect(policy.spec.rules[0].validate.cel.variables[0].expression).toBe("['docker.io', 'ghcr.io']");
    // No soak: no warn policy is in place here (the soak: test/unit/steps/registries-soak.test.ts).
    const e = await run(enforce, snap, { 'registries-enforce.soak': 0 });
    expect((e.changes[0] as { desired: Obj }).desired.spec.validationFailureAction).toBe('Enforce');
    for (const [id, step, changes] of [
      ['registries-warn', warn, w.changes],
      ['registries-enforce', enforce, e.changes],
    ] as const)
      for (const c of changes)
        expect(outsideTargets(planned(id, c), step.targets, undefined)).toBeUndefined();
    expect(warn.permissions({ namespaces: [], exclude: [], settings: {}, now: NOW }, snap)).toEqual([
      { verb: 'create', group: 'kyverno.io', resource: 'clusterpolicies' },
      { verb: 'patch', group: 'kyverno.io', resource: 'clusterpolicies' },
    ]);
  });

  it('a tampered native object in a saved plan is refused', async () => {
    const { changes } = await run(warn, cluster(engines(installed, absent)));
    const change = planned('registries-warn', changes[0] as Change);
    const tamper = (edit: (d: Obj) => void) => {
      const copy = structuredClone(change);
      edit(copy.desired as unknown as Obj);
      return outsideTargets(copy, warn.targets, undefined);
    };
    expect(
      tamper(
        (d) => (d.spec.rules[0].validate.cel.variables[0].expression = "['ghcr.io'] + ['evil.example']"),
      ),
    ).toMatch(/never sets/);
    expect(tamper((d) => (d.spec.rules[0].validate.cel.expressions[0].expression = 'true'))).toMatch(
      /never sets/,
    );
    expect(tamper((d) => (d.spec.failurePolicy = 'Ignore'))).toMatch(/never sets/);
    expect(tamper((d) => (d.metadata.name = 'other'))).toBeUndefined(); // the name is the target's; the target is checked
    const renamed = structuredClone(change);
    (renamed.target as { name: string }).name = 'other';
    expect(outsideTargets(renamed, warn.targets, undefined)).toMatch(/never touches ClusterPolicy other/);
  });

  it('Gatekeeper installed: the template, and the Constraint only once its kind is served', async () => {
    const snap = cluster(engines(absent, installed));
    const first = await run(warn, snap);
    expect(first.changes.map((c) => c.id)).toEqual(['registries-warn/constraint-template']);
    expect(first.changes[0]?.notes?.join('\n')).toContain(
      `the Constraint follows once Gatekeeper has created its kind from the template (CRD ${GK_CONSTRAINT_CRD}`,
    );
    const later = await run(warn, snap, {}, reader([GK_CONSTRAINT_CRD]));
    expect(later.changes.map((c) => c.id)).toEqual([
      'registries-warn/constraint-template',
      'registries-warn/constraint',
    ]);
    const constraint = (later.changes[1] as { desired: Obj }).desired;
    expect(constraint.spec.enforcementAction).toBe('warn');
    expect(constraint.spec.parameters.repos).toEqual(['docker.io', 'ghcr.io']);
    const e = await run(enforce, snap, { 'registries-enforce.soak': 0 }, reader([GK_CONSTRAINT_CRD]));
    expect((e.changes[1] as { desired: Obj }).desired.spec.enforcementAction).toBe('deny');
    for (const c of later.changes)
      expect(outsideTargets(planned('registries-warn', c), warn.targets, undefined)).toBeUndefined();
    const tampered = planned('registries-warn', later.changes[0] as Change);
    (tampered.desired as unknown as Obj).spec.targets[0].rego =
      'package x\nviolation[{"msg": "no"}] { false }';
    expect(outsideTargets(tampered, warn.targets, undefined)).toMatch(
      /never sets field spec.targets\[\].rego/,
    );
  });

  it('an engine chosen but not installed: nothing proposed, and why', async () => {
    const w = await run(warn, cluster(engines(absent, absent)), { 'registries-warn.engine': 'kyverno' });
    expect(w.changes).toEqual([]);
    expect(w.explanation.why).toContain('Not proposed: Kyverno is not installed');
    const e = await run(enforce, cluster(engines(absent, absent)), { 'registries-warn.engine': 'kyverno' });
    expect(e.changes).toEqual([]);
    expect(e.explanation.why).toContain('Kyverno is not installed');
  });

  it('no engine: the ValidatingAdmissionPolicy as before', async () => {
    const w = await run(warn, cluster(engines(absent, absent)));
    expect(w.changes.map((c) => c.id)).toEqual(['registries-warn/policy', 'registries-warn/binding']);
  });
});

describe('registries-signatures', () => {
  const identity = {
    'registries-signatures.subject':
      'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    'registries-signatures.issuer': 'https://token.actions.githubusercontent.com',
    'registries-signatures.images': ['ghcr.io/acme'],
  };

  it('findings: the moving-tag findings of the assessment, and a digest suggestion per other unpinned image', async () => {
    const { findings } = await run(signatures, cluster());
    expect(findings.map((f) => [f.control, f.target.name])).toEqual([
      ['KH-IMAGE-LATEST', 'web'],
      ['KH-IMAGE-NOT-PINNED', 'api'],
    ]);
    expect(findings[1]?.message).toContain('ghcr.io/acme/api:1.2 is not pinned by digest');
    expect(findings[1]?.severity).toBe('info');
  });

  it('without the identity and images: nothing proposed, naming the flags', async () => {
    const { changes, explanation } = await run(signatures, cluster(engines(installed, absent)));
    expect(changes).toEqual([]);
    expect(explanation.why).toContain('Not proposed: name --sign-subject, --sign-issuer, --sign-image');
  });

  it('with Kyverno: a verifyImages ClusterPolicy in Audit; without: the same as a manual file with install steps', async () => {
    const withKyverno = await run(signatures, cluster(engines(installed, absent)), identity);
    expect(withKyverno.changes.map((c) => [c.kind, c.id])).toEqual([
      ['apply', 'registries-signatures/kyverno-policy'],
    ]);
    const desired = (withKyverno.changes[0] as { desired: Obj }).desired;
    expect(desired.spec.rules[0].verifyImages[0].imageReferences).toEqual([
      'ghcr.io/acme:*',
      'ghcr.io/acme@*',
      'ghcr.io/acme/*',
    ]);
    expect(
      outsideTargets(
        planned('registries-signatures', withKyverno.changes[0] as Change),
        signatures.targets,
        undefined,
      ),
    ).toBeUndefined();
    const without = await run(signatures, cluster(engines(absent, absent)), identity);
    const manual = without.changes[0] as Extract<Change, { kind: 'manual' }>;
    expect(manual.kind).toBe('manual');
    expect(manual.artifact.path).toBe('kyverno-verify-images.yaml');
    expect(manual.artifact.content).toContain('validationFailureAction: Audit');
    expect(manual.artifact.content).toContain(
      'subject: https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    );
    expect(manual.instructions).toContain('Install Kyverno');
    expect(
      outsideTargets(planned('registries-signatures', manual), signatures.targets, undefined),
    ).toBeUndefined();
  });

  it('the settings refuse what is not an identity', () => {
    const [subject, issuer, images] = registriesSignatures.settings ?? [];
    expect(subject?.parse('').ok).toBe(false);
    expect(issuer?.parse('http://token.actions.githubusercontent.com').ok).toBe(false);
    expect(issuer?.parse('https://token.actions.githubusercontent.com').ok).toBe(true);
    expect(images?.parse('ghcr.io/acme,nginx').ok).toBe(false);
  });
});
