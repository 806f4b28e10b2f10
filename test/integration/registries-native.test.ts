/**
 * Phase 5 with Kyverno or Gatekeeper (issue 13 items 3 and 4) on the real control plane. The engines themselves
 * do not run here (no controller, no webhook), so:
 * - schema: the upstream CRDs (test/fixtures/crds/, Kyverno v1.19.0 ClusterPolicy, Gatekeeper v3.23.0
 *   ConstraintTemplate) are installed and the API server must accept every generated object — the Kyverno
 *   ClusterPolicies (registries Audit/Enforce, verifyImages), the ConstraintTemplate, and the Constraint, whose CRD
 *   is built here from the template's `spec.crd` exactly as Gatekeeper's controller builds it;
 * - the Kyverno rule's CEL: it IS the ValidatingAdmissionPolicy library (Kyverno evaluates validate.cel with it),
 *   so its variables and expressions, unchanged, are run by the API server as a VAP on Pods against the image
 *   table, and with Kyverno's autogen rewrite (kyverno pkg/autogen/v1/autogen.go `updateFields`) on every
 *   workload kind;
 * - detection reads the CRDs and a controller Deployment; the CLI plans, applies and undoes the Kyverno policy.
 * The Gatekeeper Rego is not run here (no OPA): see test/unit/steps/registries-native-rego.test.ts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { isClusterError } from '../../src/cluster/errors.js';
import { connect, type LiveCluster } from '../../src/cluster/live.js';
import { readPlanDir } from '../../src/engine/plan-file.js';
import { ExitCode } from '../../src/errors.js';
import { collectAdmissionEngines } from '../../src/inventory/admission-engines.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { imageVerdict } from '../../src/policy/registries/index.js';
import {
  GK_CONSTRAINT_CRD,
  gatekeeperConstraint,
  gatekeeperTemplate,
  kyvernoPolicy,
  signaturePolicy,
} from '../../steps/kit/registries-native.js';
import {
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';
import { IMAGE_TABLE, TABLE_ALLOW } from '../support/registry-images.js';

const FM = { fieldManager: 'kube-harden' };
const CRDS = 'test/fixtures/crds';
const KYVERNO_CRD = 'clusterpolicies.kyverno.io';
const GK_CRD = 'constrainttemplates.templates.gatekeeper.sh';
type J = Record<string, unknown>;

/** The paths of `sent` that `stored` does not hold with the same value (for a readable failure). */
function missing(stored: unknown, sent: unknown, path = ''): string[] {
  if (sent !== null && typeof sent === 'object') {
    if (stored === null || typeof stored !== 'object') return [`${path}: ${JSON.stringify(stored)}`];
    return Object.entries(sent as J).flatMap(([k, v]) => missing((stored as J)[k], v, `${path}.${k}`));
  }
  return stored === sent ? [] : [`${path}: sent ${JSON.stringify(sent)}, stored ${JSON.stringify(stored)}`];
}

const byName = (ns: string) => ({
  matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [ns] }],
});

async function established(name: string): Promise<void> {
  await waitFor(
    async () => {
      const r = await kubectlRaw([
        'get',
        'crd',
        name,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ]);
      return r.stdout.trim() === 'True';
    },
    { what: `CRD ${name} established` },
  );
}

/**
 * The CRD Gatekeeper's controller creates for a ConstraintTemplate: open-policy-agent/frameworks
 * constraint/pkg/client/crds/crds.go `CreateCRD` and schema.go `CreateSchema` (the frameworks commit gatekeeper
 * v3.23.0 pins, e1eaa1bf6d62), with the match schema of gatekeeper pkg/target/matchcrd_constant.go.
 */
function constraintCrd(template: KubeObject): KubeObject {
  const crd = (
    template as unknown as {
      spec: { crd: { spec: { names: { kind: string }; validation?: { openAPIV3Schema?: J } } } };
    }
  ).spec.crd.spec;
  const kind = crd.names.kind;
  const plural = kind.toLowerCase();
  const [matchDoc] = parseAllDocuments(readFileSync(join(CRDS, 'gatekeeper-match-schema.yaml'), 'utf8')).map(
    (d) => d.toJS() as { spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: J } } }> } },
  );
  const match = matchDoc?.spec.versions[0]?.schema.openAPIV3Schema.properties.embeddedMatch;
  const schema = {
    type: 'object',
    properties: {
      metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 63 } } },
      spec: {
        type: 'object',
        properties: {
          match,
          enforcementAction: { type: 'string', default: 'deny' },
          scopedEnforcementActions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                action: { type: 'string' },
                enforcementPoints: {
                  type: 'array',
                  items: { type: 'object', properties: { name: { type: 'string' } } },
                },
              },
            },
          },
          ...(crd.validation?.openAPIV3Schema ? { parameters: crd.validation.openAPIV3Schema } : {}),
        },
      },
      status: { 'x-kubernetes-preserve-unknown-fields': true },
    },
  };
  const version = (name: string, storage: boolean) => ({
    name,
    served: true,
    storage,
    schema: { openAPIV3Schema: schema },
    subresources: { status: {} },
    additionalPrinterColumns: [
      {
        name: 'enforcement-action',
        description: 'Type of enforcement action',
        jsonPath: '.spec.enforcementAction',
        type: 'string',
      },
      {
        name: 'total-violations',
        description: 'Total number of violations',
        jsonPath: '.status.totalViolations',
        type: 'integer',
      },
    ],
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.constraints.gatekeeper.sh`,
      labels: { ...(template.metadata.labels ?? {}), 'gatekeeper.sh/constraint': 'yes' },
    },
    spec: {
      group: 'constraints.gatekeeper.sh',
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: plural,
        categories: ['constraint', 'constraints'],
      },
      scope: 'Cluster',
      versions: [version('v1beta1', true), version('v1alpha1', false)],
    },
  } as unknown as KubeObject;
}

/** Kyverno's autogen rewrite of a CEL rule for pod controllers (`Pod`) and CronJobs (`Cronjob`), as upstream. */
function autogen(text: string, kind: 'Pod' | 'Cronjob'): string {
  const rules: Array<[string, string]> =
    kind === 'Pod'
      ? [
          ['object.spec', 'object.spec.template.spec'],
          ['oldObject.spec', 'oldObject.spec.template.spec'],
          ['object.metadata', 'object.spec.template.metadata'],
          ['oldObject.metadata', 'oldObject.spec.template.metadata'],
        ]
      : [
          ['object.spec', 'object.spec.jobTemplate.spec.template.spec'],
          ['oldObject.spec', 'oldObject.spec.jobTemplate.spec.template.spec'],
          ['object.metadata', 'object.spec.jobTemplate.spec.template.metadata'],
          ['oldObject.metadata', 'oldObject.spec.jobTemplate.spec.template.metadata'],
        ];
  // bytes.ReplaceAll on the rule's JSON, one rule after the other (a later rule sees the earlier output).
  let out = text;
  for (const [from, to] of rules) out = out.split(from).join(to);
  return out;
}

/** A VAP whose variables and validations are the Kyverno rule's CEL, verbatim (after `rewrite`). */
function vapOfKyvernoRule(
  policy: KubeObject,
  name: string,
  resourceRules: J[],
  rewrite: (s: string) => string = (s) => s,
): KubeObject {
  const rule = (
    policy as unknown as {
      spec: { rules: Array<{ validate: { cel: { variables: J[]; expressions: J[] } } }> };
    }
  ).spec.rules[0];
  const cel = JSON.parse(rewrite(JSON.stringify(rule?.validate.cel))) as { variables: J[]; expressions: J[] };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules },
      variables: cel.variables,
      validations: cel.expressions,
    },
  } as unknown as KubeObject;
}

const rule = (group: string, resources: string[]) => ({
  operations: ['CREATE', 'UPDATE'],
  apiGroups: [group],
  apiVersions: ['v1'],
  resources,
  scope: '*',
});

describeCluster(
  'Kyverno and Gatekeeper policies on the real API server (schema) and the Kyverno CEL (as a VAP)',
  () => {
    let admin: LiveCluster;
    let ns: string;
    const vaps = ['kh-test-kyverno-pod', 'kh-test-kyverno-controllers', 'kh-test-kyverno-cronjob'];

    beforeAll(async () => {
      admin = connect({ kubeconfig: clusterInfo().adminKubeconfig });
      ns = await freshNamespace('reg-native');
      // Before the CRDs: nothing installed, known absent.
      const before = await collectAdmissionEngines(admin);
      expect(before.kyverno).toEqual({ crd: 'absent', controller: 'absent' });
      expect(before.gatekeeper).toEqual({ crd: 'absent', controller: 'absent' });
      // Server-side: the Kyverno CRD is too large for kubectl's client-side last-applied annotation.
      for (const file of [
        'kyverno.io_clusterpolicies.yaml',
        'templates.gatekeeper.sh_constrainttemplates.yaml',
      ])
        await kubectl([
          'apply',
          '--server-side',
          '--field-manager',
          'kube-harden-test',
          '-f',
          join(CRDS, file),
        ]);
      await established(KYVERNO_CRD);
      await established(GK_CRD);
    }, 180_000);

    afterAll(async () => {
      await kubectlRaw(['delete', 'validatingadmissionpolicybinding', ...vaps, '--ignore-not-found']);
      await kubectlRaw(['delete', 'validatingadmissionpolicy', ...vaps, '--ignore-not-found']);
      await kubectlRaw(['delete', 'crd', KYVERNO_CRD, GK_CRD, GK_CONSTRAINT_CRD, '--ignore-not-found']);
    }, 120_000);

    async function accepted(object: KubeObject): Promise<void> {
      const res = await admin.dryRunApply(object, FM);
      expect(res.object.kind).toBe(object.kind);
      // Nothing pruned or changed by the CRD's structural schema: every field sent is stored as sent (compared
      // field by field: server-side apply may order keys otherwise).
      expect(missing(res.object, object), `${object.kind} ${object.metadata.name}`).toEqual([]);
    }

    it('detection: the CRDs present, no controller → not installed; a controller Deployment (not ready) is found by its image', async () => {
      const crdsOnly = await collectAdmissionEngines(admin);
      expect(crdsOnly.kyverno).toMatchObject({ crd: 'present', controller: 'absent' });
      expect(crdsOnly.kyverno.crdVersions).toEqual(['v1', 'v2beta1']);
      expect(crdsOnly.gatekeeper).toMatchObject({ crd: 'present', controller: 'absent' });
      await kubectl([
        'create',
        'deployment',
        'kyverno-admission-controller',
        '-n',
        ns,
        '--image=reg.kyverno.io/kyverno/kyverno:v1.19.0',
      ]);
      const withController = await collectAdmissionEngines(admin);
      // No kubelet here: the Deployment never gets a ready replica.
      expect(withController.kyverno).toMatchObject({ crd: 'present', controller: 'not-ready' });
      expect(withController.kyverno.controllerDetail).toContain(
        `Deployment ${ns}/kyverno-admission-controller (0/1 ready`,
      );
      expect(withController.gatekeeper.controller).toBe('absent');
      await kubectl(['delete', 'deployment', 'kyverno-admission-controller', '-n', ns]);
    });

    it('the Kyverno ClusterPolicies (Audit, Enforce, verifyImages) are accepted by the v1.19.0 CRD as generated', async () => {
      await accepted(kyvernoPolicy(TABLE_ALLOW, 'Warn', byName(ns)));
      await accepted(
        kyvernoPolicy(TABLE_ALLOW, 'Deny', {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
          ],
        }),
      );
      await accepted(
        signaturePolicy(
          ['ghcr.io/acme', 'registry.example.com:5000'],
          'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
          'https://token.actions.githubusercontent.com',
          byName(ns),
        ),
      );
      // The schema really checks: a wrong type under validate.cel is refused (the test could fail).
      const bad = kyvernoPolicy(TABLE_ALLOW, 'Warn', {}) as unknown as {
        spec: { rules: Array<{ validate: { cel: J } }> };
      };
      (bad.spec.rules[0] as { validate: { cel: J } }).validate.cel.expressions = 'size(x) == 0';
      const refused = await admin.dryRunApply(bad as unknown as KubeObject, FM).then(
        () => 'accepted',
        (e: unknown) => (isClusterError(e) ? e.message : String(e)),
      );
      expect(refused).toMatch(/expressions/);
    });

    it('the Gatekeeper ConstraintTemplate is accepted; the Constraint too, once its CRD exists as the controller would create it', async () => {
      const template = gatekeeperTemplate();
      await accepted(template);
      await admin.apply(constraintCrd(template), { fieldManager: 'kube-harden-test' });
      await established(GK_CONSTRAINT_CRD);
      await waitFor(
        async () =>
          admin
            .dryRunApply(gatekeeperConstraint(TABLE_ALLOW, 'Warn', byName(ns)), FM)
            .then(() => true)
            .catch(() => false),
        { what: 'the Constraint kind to be served' },
      );
      await accepted(gatekeeperConstraint(TABLE_ALLOW, 'Warn', byName(ns)));
      await accepted(gatekeeperConstraint(TABLE_ALLOW, 'Deny', {}));
    });

    it("the Kyverno rule's CEL, run by the API server as a VAP on Pods, agrees with kube-harden on the whole image table", async () => {
      const policy = kyvernoPolicy(TABLE_ALLOW, 'Deny', {});
      const [pods] = vaps as [string, string, string];
      await admin.apply(vapOfKyvernoRule(policy, pods, [rule('', ['pods', 'pods/ephemeralcontainers'])]), FM);
      await admin.apply(
        {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicyBinding',
          metadata: { name: pods },
          spec: {
            policyName: pods,
            validationActions: ['Deny'],
            matchResources: { namespaceSelector: byName(ns) },
          },
        } as unknown as KubeObject,
        FM,
      );
      const pod = (name: string, image: string) =>
        ({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: ns },
          spec: { containers: [{ name: 'app', image }] },
        }) as unknown as KubeObject;
      const admitted = (o: KubeObject) =>
        admin.dryRunApply(o, FM).then(
          () => ({ ok: true, message: '' }),
          (e: unknown) => ({
            ok: false,
            message: isClusterError(e) ? (e.serverMessage ?? e.message) : String(e),
          }),
        );
      await waitFor(async () => !(await admitted(pod('probe', 'evil.example/x'))).ok, {
        what: 'the VAP to act',
      });
      for (const [i, [image, expected, why]] of IMAGE_TABLE.entries()) {
        expect(imageVerdict(image, TABLE_ALLOW).allowed, `${image} (${why}): kube-harden`).toBe(expected);
        const got = await admitted(pod(`t${i}`, image));
        expect(got.ok, `${image} (${why}): the Kyverno CEL on the API server: ${got.message}`).toBe(expected);
        if (!expected) expect(got.message).toContain(`container app uses ${image}`);
      }
    }, 180_000);

    it("with Kyverno's autogen rewrite, the same CEL denies untrusted templates of every pod controller and CronJob", async () => {
      const policy = kyvernoPolicy(TABLE_ALLOW, 'Deny', {});
      const [, controllers, cronjobs] = vaps as [string, string, string];
      await admin.apply(
        vapOfKyvernoRule(
          policy,
          controllers,
          [
            rule('', ['replicationcontrollers']),
            rule('apps', ['deployments', 'statefulsets', 'daemonsets', 'replicasets']),
            rule('batch', ['jobs']),
          ],
          (s) => autogen(s, 'Pod'),
        ),
        FM,
      );
      await admin.apply(
        vapOfKyvernoRule(policy, cronjobs, [rule('batch', ['cronjobs'])], (s) => autogen(s, 'Cronjob')),
        FM,
      );
      for (const name of [controllers, cronjobs])
        await admin.apply(
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicyBinding',
            metadata: { name },
            spec: {
              policyName: name,
              validationActions: ['Deny'],
              matchResources: { namespaceSelector: byName(ns) },
            },
          } as unknown as KubeObject,
          FM,
        );
      const t = (image: string, init: string) => ({
        metadata: { labels: { app: 'x' } },
        spec: {
          initContainers: [{ name: 'init', image: init }],
          containers: [{ name: 'app', image }],
          restartPolicy: 'Never',
        },
      });
      const objects = (image: string, init: string): KubeObject[] =>
        [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            spec: {
              selector: { matchLabels: { app: 'x' } },
              template: { ...t(image, init), spec: { ...t(image, init).spec, restartPolicy: 'Always' } },
            },
          },
          {
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            spec: {
              selector: { matchLabels: { app: 'x' } },
              template: { ...t(image, init), spec: { ...t(image, init).spec, restartPolicy: 'Always' } },
            },
          },
          {
            apiVersion: 'v1',
            kind: 'ReplicationController',
            spec: {
              selector: { app: 'x' },
              template: { ...t(image, init), spec: { ...t(image, init).spec, restartPolicy: 'Always' } },
            },
          },
          { apiVersion: 'batch/v1', kind: 'Job', spec: { template: t(image, init) } },
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: t(image, init) } } },
          },
        ].map(
          (o, i) =>
            ({
              ...o,
              metadata: { name: `w${i}-${image.length}-${init.length}`, namespace: ns },
            }) as unknown as KubeObject,
        );
      const outcome = (o: KubeObject) =>
        admin.dryRunApply(o, FM).then(
          () => 'admitted',
          (e: unknown) => (isClusterError(e) ? (e.serverMessage ?? e.message) : String(e)),
        );
      await waitFor(
        async () => (await outcome(objects('evil.example/x', 'nginx')[4] as KubeObject)) !== 'admitted',
        {
          what: 'the autogen VAPs to act',
        },
      );
      for (const o of objects('ghcr.io/acme/api:1', 'nginx:1.27'))
        expect(await outcome(o), o.kind).toBe('admitted');
      for (const o of objects('ghcr.io.evil.example/acme/api:1', 'nginx'))
        expect(await outcome(o), o.kind).toContain('container app uses ghcr.io.evil.example/acme/api:1');
      for (const o of objects('ghcr.io/acme/api:1', 'bitnami/kubectl'))
        expect(await outcome(o), o.kind).toContain(
          'initContainer init uses bitnami/kubectl (docker.io/bitnami/kubectl)',
        );
    }, 180_000);

    it('the CLI: registries-warn with --registry-engine kyverno plans, applies and undoes the ClusterPolicy (previewed against the CRD)', async () => {
      const state = mkdtempSync(join(tmpdir(), 'kh-state-'));
      const kubeconfig = clusterInfo().adminKubeconfig;
      await kubectl(['create', 'deployment', 'api', '-n', ns, '--image=ghcr.io/acme/api:1']);
      const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
      const planned = await runCli(
        [
          'plan',
          '-n',
          ns,
          '--step',
          'registries-warn',
          '--registry-engine',
          'kyverno',
          '--out',
          dir,
          '--kubeconfig',
          kubeconfig,
        ],
        { env: { XDG_STATE_HOME: state } },
      );
      expect([ExitCode.ok, ExitCode.incomplete], planned.stderr).toContain(planned.code);
      const saved = readPlanDir(dir);
      expect(saved.changes.map((c) => [c.id, c.operation, c.preview])).toEqual([
        ['registries-warn/kyverno-policy', 'create', 'ok'],
      ]);
      const desired = saved.changes[0]?.desired as unknown as { spec: { validationFailureAction: string } };
      expect(desired.spec.validationFailureAction).toBe('Audit');
      // Kyverno is not running here: the plan says so.
      expect(saved.changes[0]?.notes.join('\n')).toContain('nothing enforces the Kyverno policy');
      const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], {
        env: { XDG_STATE_HOME: state },
        timeoutMs: 120_000,
      });
      expect(applied.code, applied.stderr + applied.stdout).toBe(ExitCode.ok);
      const live = parse(
        await kubectl(['get', 'clusterpolicies.kyverno.io', 'kube-harden-allowed-registries', '-o', 'yaml']),
      ) as {
        spec: { rules: Array<{ match: { any: Array<{ resources: { namespaceSelector: unknown } }> } }> };
      };
      expect(live.spec.rules[0]?.match.any[0]?.resources.namespaceSelector).toEqual(byName(ns));
      const undone = await runCli(['undo', saved.id, '--yes', '--kubeconfig', kubeconfig], {
        env: { XDG_STATE_HOME: state },
        timeoutMs: 120_000,
      });
      expect(undone.code, undone.stderr).toBe(ExitCode.ok);
      const left = await kubectlRaw(['get', 'clusterpolicies.kyverno.io', '-o', 'name']);
      expect(left.stdout.trim()).toBe('');

      // Gatekeeper (its Constraint CRD was created above, as the controller would): the template and the
      // Constraint, both previewed by the API server against their CRDs.
      const gk = await runCli(
        [
          'plan',
          '-n',
          ns,
          '--step',
          'registries-enforce',
          '--registry-engine',
          'gatekeeper',
          // No Constraint in warn is in place here: no soak.
          '--registries-soak',
          '0',
          '--format',
          'json',
          '--kubeconfig',
          kubeconfig,
        ],
        { env: { XDG_STATE_HOME: state } },
      );
      const gkPlan = JSON.parse(gk.stdout) as {
        changes: Array<{ id: string; preview: string; desired: { spec: Record<string, unknown> } }>;
      };
      expect(gkPlan.changes.map((c) => [c.id, c.preview])).toEqual([
        ['registries-enforce/constraint-template', 'ok'],
        ['registries-enforce/constraint', 'ok'],
      ]);
      expect(gkPlan.changes[1]?.desired.spec.enforcementAction).toBe('deny');
    }, 300_000);
  },
);
