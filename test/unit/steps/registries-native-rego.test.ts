/**
 * The Rego of the Gatekeeper ConstraintTemplate (templates/registries/gatekeeper-template.yaml) against the same
 * image table as the ValidatingAdmissionPolicy and kube-harden's evaluator: every row must agree. OPA does not
 * ship with kube-harden and there is no Gatekeeper on the test control plane, so this runs only where an
 * evaluator is built (test/support/rego-eval/build.sh, OPA at its go.mod version, cached under ~/.cache):
 * KUBE_HARDEN_REGO_EVAL=$(test/support/rego-eval/build.sh). Without it the file is skipped locally, and the Rego is
 * verified by the API server's schema check only; in CI (CI=true, .ci/run builds it) it is required.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { imageVerdict } from '../../../src/policy/registries/index.js';
import { gatekeeperTemplate } from '../../../steps/kit/registries-native.js';
import { IMAGE_TABLE, TABLE_ALLOW } from '../../support/registry-images.js';

const evaluator = process.env.KUBE_HARDEN_REGO_EVAL;
const rego = (gatekeeperTemplate() as unknown as { spec: { targets: Array<{ rego: string }> } }).spec
  .targets[0]?.rego as string;

type Review = { operation?: string; object: unknown; oldObject?: unknown };

/** The violations Gatekeeper's Rego finds for each review (the Constraint's parameters: the table's allow-list). */
function violations(reviews: Review[]): string[][] {
  const out = execFileSync(evaluator as string, {
    input: JSON.stringify({
      rego,
      inputs: reviews.map((review) => ({ review, parameters: { repos: TABLE_ALLOW } })),
    }),
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[][];
}

const pod = (spec: Record<string, unknown>) => ({ kind: 'Pod', spec });
const templated = (kind: string, spec: Record<string, unknown>) =>
  kind === 'CronJob'
    ? { kind, spec: { jobTemplate: { spec: { template: { spec } } } } }
    : { kind, spec: { template: { spec } } };

if (!evaluator && process.env.CI === 'true')
  throw new Error('KUBE_HARDEN_REGO_EVAL is not set: .ci/run builds it with test/support/rego-eval/build.sh');

describe.skipIf(!evaluator)('the Gatekeeper Rego (OPA)', () => {
  it('agrees with kube-harden (and so with the VAP on the API server) on every image of the table', () => {
    const got = violations(
      IMAGE_TABLE.map(([image]) => ({
        operation: 'CREATE',
        object: pod({ containers: [{ name: 'app', image }] }),
      })),
    );
    for (const [i, [image, expected, why]] of IMAGE_TABLE.entries()) {
      expect(imageVerdict(image, TABLE_ALLOW).allowed, `${image} (${why}): kube-harden`).toBe(expected);
      expect(got[i]?.length === 0, `${image} (${why}): Rego says ${JSON.stringify(got[i])}`).toBe(expected);
      if (!expected)
        expect(got[i]?.[0]).toContain(`container app uses ${image === '' ? '(no image)' : image}`);
    }
  });

  it('init and ephemeral containers, every workload kind, and updates that keep an image', () => {
    const bad = 'ghcr.io.evil.example/acme/api:1';
    const [init, ephemeral, ...rest] = violations([
      {
        operation: 'CREATE',
        object: pod({
          initContainers: [{ name: 'i', image: 'bitnami/kubectl' }],
          containers: [{ name: 'app', image: 'nginx' }],
        }),
      },
      {
        operation: 'UPDATE',
        object: pod({
          containers: [{ name: 'app', image: 'nginx' }],
          ephemeralContainers: [{ name: 'd', image: bad }],
        }),
        oldObject: pod({ containers: [{ name: 'app', image: 'nginx' }] }),
      },
      ...[
        'Deployment',
        'StatefulSet',
        'DaemonSet',
        'ReplicaSet',
        'ReplicationController',
        'Job',
        'CronJob',
      ].map((kind) => ({
        operation: 'CREATE',
        object: templated(kind, { containers: [{ name: 'app', image: bad }] }),
      })),
      // Kept on update (scaling an object admitted before the policy), refused when new.
      {
        operation: 'UPDATE',
        object: templated('Deployment', { containers: [{ name: 'app', image: bad }] }),
        oldObject: templated('Deployment', { containers: [{ name: 'app', image: bad }] }),
      },
      {
        operation: 'UPDATE',
        object: templated('Deployment', { containers: [{ name: 'app', image: 'evil.example/x' }] }),
        oldObject: templated('Deployment', { containers: [{ name: 'app', image: bad }] }),
      },
    ]);
    expect(init).toEqual([
      'images from registries that are not allowed: initContainer i uses bitnami/kubectl (docker.io/bitnami/kubectl); allowed: ghcr.io/acme, registry.example.com:5000, docker.io/library, localhost:5000/team, quay.io',
    ]);
    expect(ephemeral?.[0]).toContain(`ephemeralContainer d uses ${bad}`);
    const kept = rest.at(-2);
    const swapped = rest.at(-1);
    for (const v of rest.slice(0, -2)) expect(v?.[0]).toContain(`container app uses ${bad}`);
    expect(kept).toEqual([]);
    expect(swapped?.[0]).toContain('container app uses evil.example/x');
  });
});
