/**
 * registries-enforce's cross-check with the API server (issue 13): the probes (one per top-level workload,
 * identical ones shared, a control container whose denial proves the policy acted), how the server's words are
 * read, and the gate: disagreement, an unjudged workload, or no warn binding in place blocks enforce; offline the
 * cross-check is not run and the change says so. The server itself answers in
 * test/integration/registries-xcheck.test.ts; here a stand-in (test/support/registries-xcheck-server.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ClusterReader } from '../../../src/cluster/types.js';
import type { Step } from '../../../src/engine/types.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import {
  CONTROL_CONTAINER,
  CONTROL_IMAGE,
  compareProbes,
  imageVerdict,
  namedByPolicy,
  POLICY_NAME,
  registryProbes,
} from '../../../src/policy/registries/index.js';
import { registriesEnforce } from '../../../steps/registries-enforce.js';
import { container, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { fakePolicyServer } from '../../support/registries-xcheck-server.js';
import { OFFLINE_READER, runStep } from '../../support/step-run.js';

const img = (name: string, image: string) => container(name, { image });
const LIST = ['ghcr.io/acme'];

function cluster(): Snapshot {
  return snapshot({
    namespaces: [ns('kube-system'), ns('shop')],
    workloads: [
      workload(
        'Deployment',
        'shop',
        'api',
        restrictedSpec({ containers: [img('api', 'ghcr.io/acme/api:1')] }),
        {
          pods: 2,
          labels: { team: 'a' },
        },
      ),
      workload(
        'Deployment',
        'shop',
        'api2',
        restrictedSpec({ containers: [img('api', 'ghcr.io/acme/api:1')] }),
        {
          labels: { team: 'a' },
        },
      ),
      workload(
        'StatefulSet',
        'shop',
        'db',
        restrictedSpec({
          initContainers: [img('init', 'ghcr.io/acme/init:1')],
          containers: [img('db', 'ghcr.io/acme/db:16')],
        }),
      ),
    ],
  });
}

const run = (snap: Snapshot, reader: ClusterReader, settings: Record<string, unknown> = {}) =>
  runStep(registriesEnforce as unknown as Step<never>, snap, { settings, reader });

describe('registryProbes', () => {
  it('one dry-run Deployment per top-level workload (identical ones share it), never per pod, with a control container', () => {
    const probes = registryProbes(cluster(), new Set(['shop']));
    // api (2 pods) and api2 have the same namespace, labels and images: one probe; db its own.
    expect(probes.map((p) => p.workloads.map((w) => w.name))).toEqual([['api', 'api2'], ['db']]);
    const db = probes[1]?.object as unknown as {
      kind: string;
      metadata: { name: string; namespace: string };
      spec: { replicas: number; template: { spec: { containers: unknown[]; initContainers: unknown[] } } };
    };
    expect(db.kind).toBe('Deployment');
    expect(db.metadata.namespace).toBe('shop');
    expect(db.metadata.name).toMatch(/^kh-xcheck-[0-9a-f]{8}$/);
    expect(db.spec.replicas).toBe(0);
    expect(db.spec.template.spec.initContainers).toEqual([{ name: 'c1', image: 'ghcr.io/acme/init:1' }]);
    expect(db.spec.template.spec.containers).toEqual([
      { name: 'c0', image: 'ghcr.io/acme/db:16' },
      { name: CONTROL_CONTAINER, image: CONTROL_IMAGE },
    ]);
    // The workloads' labels, so that a binding's objectSelector acts on the probe as on the workload.
    expect(probes[0]?.object.metadata.labels?.team).toBe('a');
    expect(imageVerdict(CONTROL_IMAGE, ['ghcr.io', 'docker.io', 'quay.io']).allowed).toBe(false);
  });

  it('an ephemeral container of a live pod goes in as a container (a template holds none)', () => {
    const snap = cluster();
    snap.workloads.push(
      workload(
        'Pod',
        'shop',
        'debug',
        restrictedSpec({
          containers: [img('app', 'ghcr.io/acme/app:1')],
          ephemeralContainers: [img('dbg', 'evil.example/tools')],
        }),
        { pods: 1 },
      ),
    );
    const probe = registryProbes(snap, new Set(['shop'])).find((p) => p.workloads[0]?.name === 'debug');
    expect(probe?.slots.map((s) => [s.slot, s.image, s.uses[0]?.containerKind])).toEqual([
      ['containers', 'evil.example/tools', 'ephemeralContainer'],
      ['containers', 'ghcr.io/acme/app:1', 'container'],
    ]);
  });
});

describe('namedByPolicy', () => {
  const warn = (list: string) =>
    `Validation failed for ValidatingAdmissionPolicy '${POLICY_NAME}' with binding '${POLICY_NAME}': images from registries that are not allowed: ${list}; allowed: ghcr.io/acme`;

  it("reads the containers kube-harden's policy names, in a Warning or a refusal, and nothing else", () => {
    expect(
      namedByPolicy([
        warn(
          'container c0 uses evil.example/x (evil.example/x), initContainer c2 uses busybox (docker.io/library/busybox), container kh-control uses kube-harden.invalid/xcheck-control:0',
        ),
      ]),
    ).toEqual(new Set(['c0', 'c2', 'kh-control']));
    expect(
      namedByPolicy([
        `ValidatingAdmissionPolicy '${POLICY_NAME}' with binding '${POLICY_NAME}' denied request: images from registries that are not allowed: container kh-control uses x`,
      ]),
    ).toEqual(new Set(['kh-control']));
    // Another policy's words, or Pod Security's, are not this policy's verdict.
    expect(
      namedByPolicy([
        "Validation failed for ValidatingAdmissionPolicy 'other' with binding 'other': images from registries that are not allowed: container c0 uses x",
        'would violate PodSecurity "restricted:latest": container c0 uses x',
      ]),
    ).toEqual(new Set());
  });
});

describe('compareProbes', () => {
  const probes = registryProbes(cluster(), new Set(['shop']));
  const control = `Validation failed for ValidatingAdmissionPolicy '${POLICY_NAME}' with binding '${POLICY_NAME}': images from registries that are not allowed: container kh-control uses ${CONTROL_IMAGE}`;

  it('agreement: every workload judged, nothing denied', () => {
    const r = compareProbes(probes, [{ texts: [control] }, { texts: [control] }], LIST);
    expect(r).toMatchObject({
      checked: 3,
      requests: 2,
      disagreements: [],
      unchecked: [],
      deniedByServer: [],
    });
  });

  it('the server denies what kube-harden admits: a disagreement naming both verdicts', () => {
    const r = compareProbes(
      probes,
      [
        { texts: [control.replace('container kh-control', 'container c0 uses x, container kh-control')] },
        { texts: [control] },
      ],
      LIST,
    );
    expect(r.disagreements.map((d) => [d.use.name, d.snapshot, d.server])).toEqual([
      ['api', 'admitted', 'denied'],
      ['api2', 'admitted', 'denied'],
    ]);
  });

  it('no control denial (binding does not cover it, not active yet) or a failed request: not judged', () => {
    const r = compareProbes(probes, [{ texts: [] }, { texts: ['x'], error: 'Forbidden: no' }], LIST);
    expect(r.checked).toBe(0);
    expect(r.unchecked.map((u) => u.reason)).toEqual([
      expect.stringMatching(/did not act on a probe in shop/),
      "the API server's dry-run failed: Forbidden: no",
    ]);
  });
});

describe('registries-enforce with the cross-check', () => {
  // No soak here (test/unit/steps/registries-soak.test.ts): the fake server's objects carry no times.
  const settings = { 'registries-warn.allow': LIST, 'registries-enforce.soak': 0 };

  it('warn in place with the same list and the server agreeing: proposed, the reason says cross-checked', async () => {
    const server = fakePolicyServer(LIST, 'Warn');
    const { changes, findings } = await run(cluster(), server.reader, settings);
    expect(server.probes).toHaveLength(2);
    expect(changes.map((c) => c.id)).toEqual(['registries-enforce/policy', 'registries-enforce/binding']);
    expect(changes[1]?.kind === 'apply' && changes[1].reason).toMatch(
      /cross-checked by the API server: a dry-run of the policy in place over 3 workload\(s\) \(2 request\(s\)\) denies nothing/,
    );
    expect(findings).toEqual([]);
  });

  it('no warn binding in place: not run, and enforce is not proposed (unknown is not compliant)', async () => {
    const server = fakePolicyServer(undefined, undefined);
    const { changes, findings, explanation } = await run(cluster(), server.reader, settings);
    expect(server.probes).toHaveLength(0);
    expect(changes).toEqual([]);
    expect(explanation.why).toMatch(
      /Not proposed: the API server's cross-check was not run: registries-warn's binding is not in place/,
    );
    expect(findings.map((f) => [f.control, f.target.kind])).toEqual([
      ['KH-IMAGE-REGISTRY-ENFORCE-BLOCKED', 'ValidatingAdmissionPolicyBinding'],
    ]);
  });

  it('the policy in place holds another list: not run, blocked, with the way forward', async () => {
    const server = fakePolicyServer(['ghcr.io'], 'Warn');
    const { changes, explanation } = await run(cluster(), server.reader, settings);
    expect(changes).toEqual([]);
    expect(explanation.why).toMatch(
      /allows ghcr.io, not ghcr.io\/acme: .*apply registries-warn with this allow-list first/,
    );
  });

  it('offline: not run, not blocking; the change says so', async () => {
    const { changes } = await run(cluster(), OFFLINE_READER, settings);
    expect(changes[1]?.kind === 'apply' && changes[1].reason).toMatch(/cross-check was not run: offline/);
  });

  it('both deny: blocked by both, the finding says the server denies the same', async () => {
    const snap = cluster();
    snap.workloads.push(
      workload('Deployment', 'shop', 'bad', restrictedSpec({ containers: [img('app', 'evil.example/x:1')] })),
    );
    const { changes, findings, explanation } = await run(
      snap,
      fakePolicyServer(LIST, 'Warn').reader,
      settings,
    );
    expect(changes).toEqual([]);
    expect(findings[0]?.message).toMatch(
      /evil.example\/x:1 — registry evil.example is not allowed \(the API server's dry-run of the policy in place denies the same\)/,
    );
    expect(explanation.why).toMatch(
      /1 image use\(s\) running today would be denied; the API server's dry-run would deny 1 image use\(s\) too/,
    );
  });

  it('disagreement either way blocks, naming both verdicts', async () => {
    // The server admits evil.example (its policy was edited by hand) and denies ghcr.io/acme/db.
    const server = fakePolicyServer(LIST, 'Warn', {
      override: (image) =>
        image.startsWith('evil.example/') ? true : image.startsWith('ghcr.io/acme/db') ? false : undefined,
    });
    const snap = cluster();
    snap.workloads.push(
      workload('Deployment', 'shop', 'bad', restrictedSpec({ containers: [img('app', 'evil.example/x:1')] })),
    );
    const { changes, findings } = await run(snap, server.reader, settings);
    expect(changes).toEqual([]);
    const lines = findings
      .filter((f) => f.target.kind !== 'Namespace')
      .map((f) => f.message)
      .sort();
    expect(lines).toEqual([
      expect.stringContaining(
        "Deployment shop/bad: container app uses evil.example/x:1 — kube-harden's evaluation: denied (registry evil.example is not allowed); the API server's dry-run of the policy in place: admitted",
      ),
      expect.stringContaining(
        "StatefulSet shop/db: container db uses ghcr.io/acme/db:16 — kube-harden's evaluation: admitted (allowed by ghcr.io/acme); the API server's dry-run of the policy in place: denied",
      ),
    ]);
  });

  it('the server does not act on a probe (the binding left the namespace out): KH-UNKNOWN, blocked', async () => {
    const server = fakePolicyServer(LIST, 'Warn', { override: () => true });
    const { changes, findings } = await run(cluster(), server.reader, settings);
    expect(changes).toEqual([]);
    expect(findings.map((f) => f.control)).toEqual(['KH-UNKNOWN', 'KH-UNKNOWN']);
  });
});
