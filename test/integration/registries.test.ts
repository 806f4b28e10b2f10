/**
 * Phase 5 (trusted registries) with the API server as the oracle: the generated ValidatingAdmissionPolicy is
 * applied with a [Deny, Audit] binding on one fresh namespace and a [Warn, Audit] binding on another (never
 * wider: the control plane is shared with the test files that run after this one), then Pods, every workload
 * kind and an ephemeral container (through pods/ephemeralcontainers) are dry-run created with a table of
 * images. kube-harden's own evaluator must agree with the server on every row. Then the CLI: plan, apply and
 * undo of registries-warn on a loaded namespace, and the enforce gate.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ClusterError, isClusterError } from '../../src/cluster/errors.js';
import { connect, type LiveCluster } from '../../src/cluster/live.js';
import { readPlanDir } from '../../src/engine/plan-file.js';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { imageVerdict } from '../../src/policy/registries/index.js';
import { POLICY_NAME, registryBinding, registryPolicy } from '../../steps/kit/registries.js';
import {
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';
import { cliSession } from '../support/cli-session.js';
import { bindingActions } from '../support/registry-binding.js';
import { IMAGE_TABLE, TABLE_ALLOW } from '../support/registry-images.js';

const NAME = 'kh-test-allowed-registries';
const WARN_BINDING = `${NAME}-warn`;
const FM = { fieldManager: 'kube-harden-test' };

type Outcome = { admitted: true; warnings: string[] } | { admitted: false; message: string };

const pod = (namespace: string, name: string, spec: Record<string, unknown>) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec }) as unknown as KubeObject;

const template = (image: string, init?: string) => ({
  metadata: { labels: { app: 'x' } },
  spec: {
    ...(init ? { initContainers: [{ name: 'init', image: init }] } : {}),
    containers: [{ name: 'app', image }],
    restartPolicy: 'Always',
  },
});

/** One object of each kind that carries a pod template, with `image` (and an init container's). */
function workloads(namespace: string, image: string, init?: string, prefix = 'w'): KubeObject[] {
  const meta = (kind: string) => ({ name: `${prefix}-${kind.toLowerCase()}`, namespace });
  const selector = { matchLabels: { app: 'x' } };
  const t = template(image, init);
  const job = { ...t, spec: { ...t.spec, restartPolicy: 'Never' } };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('Deployment'),
      spec: { selector, template: t },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta('StatefulSet'),
      spec: { selector, serviceName: 'x', template: t },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta('DaemonSet'),
      spec: { selector, template: t },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: meta('ReplicaSet'),
      spec: { selector, template: t },
    },
    {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: meta('ReplicationController'),
      spec: { selector: { app: 'x' }, template: t },
    },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('Job'), spec: { template: job } },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta('CronJob'),
      spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: job } } },
    },
  ] as unknown as KubeObject[];
}

describeCluster('registries policy against the API server (oracle)', () => {
  let admin: LiveCluster;
  let deny: string;
  let warn: string;

  async function dryRun(object: KubeObject): Promise<Outcome> {
    try {
      const r = await admin.dryRunApply(object, FM);
      return { admitted: true, warnings: r.warnings };
    } catch (e) {
      if (isClusterError(e)) return { admitted: false, message: e.serverMessage ?? e.message };
      throw e;
    }
  }

  const deniedByPolicy = (o: Outcome) =>
    !o.admitted &&
    o.message.includes(`ValidatingAdmissionPolicy '${NAME}' with binding '${NAME}' denied request`);

  beforeAll(async () => {
    admin = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    deny = await freshNamespace('reg-deny');
    warn = await freshNamespace('reg-warn');
    // Admitted before the policy: an object whose untrusted image predates it (updates must keep working).
    await kubectl(['create', '-f', '-'], {
      input: JSON.stringify(workloads(deny, 'evil.example/legacy:1')[0]),
    });
    await admin.apply(registryPolicy(TABLE_ALLOW, NAME), FM);
    await admin.apply(
      registryBinding(
        'Deny',
        { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [deny] }] },
        NAME,
      ),
      FM,
    );
    await admin.apply(
      registryBinding(
        'Warn',
        { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [warn] }] },
        WARN_BINDING,
        NAME,
      ),
      FM,
    );
    // The policy and bindings reach admission through informers: wait until both act.
    await waitFor(
      async () =>
        deniedByPolicy(
          await dryRun(pod(deny, 'probe', { containers: [{ name: 'c', image: 'evil.example/x' }] })),
        ),
      {
        what: 'the deny binding to act',
      },
    );
    await waitFor(
      async () => {
        const o = await dryRun(pod(warn, 'probe', { containers: [{ name: 'c', image: 'evil.example/x' }] }));
        return o.admitted && o.warnings.some((w) => w.includes(WARN_BINDING));
      },
      { what: 'the warn binding to act' },
    );
  }, 120_000);

  afterAll(async () => {
    await kubectlRaw([
      'delete',
      'validatingadmissionpolicybinding',
      NAME,
      WARN_BINDING,
      '--ignore-not-found',
    ]);
    await kubectlRaw(['delete', 'validatingadmissionpolicy', NAME, '--ignore-not-found']);
  });

  it('the API server type-checks every CEL expression of the policy against every kind it matches, without a warning', async () => {
    const status = await waitFor(
      async () => {
        const p = await kubectlJson<{ status?: { typeChecking?: { expressionWarnings?: unknown[] } } }>([
          'get',
          'validatingadmissionpolicy',
          NAME,
        ]);
        return p.status?.typeChecking;
      },
      { what: 'status.typeChecking of the policy', timeoutMs: 60_000 },
    );
    expect(status.expressionWarnings ?? []).toEqual([]);
  }, 90_000);

  it('Pods: the server and kube-harden agree on every image of the table (deny binding, then warn binding)', async () => {
    const rows: string[] = [];
    for (const [i, [image, expected, why]] of IMAGE_TABLE.entries()) {
      const ours = imageVerdict(image, TABLE_ALLOW);
      const denied = await dryRun(pod(deny, `t${i}`, { containers: [{ name: 'app', image }] }));
      const warned = await dryRun(pod(warn, `t${i}`, { containers: [{ name: 'app', image }] }));
      rows.push(
        `${JSON.stringify(image)} ${why}: server ${denied.admitted ? 'admits' : 'denies'}, ours ${ours.allowed}`,
      );
      expect(ours.allowed, `${image} (${why}): kube-harden`).toBe(expected);
      expect(denied.admitted, `${image} (${why}): API server ${JSON.stringify(denied)}`).toBe(expected);
      if (!expected) {
        expect(deniedByPolicy(denied), JSON.stringify(denied)).toBe(true);
        expect(!denied.admitted && denied.message).toContain(`container app uses ${image}`);
        // Warn + Audit: admitted, with a Warning naming the policy and the binding.
        expect(warned.admitted, JSON.stringify(warned)).toBe(true);
        expect(warned.admitted && warned.warnings.join('\n')).toContain(
          `Validation failed for ValidatingAdmissionPolicy '${NAME}' with binding '${WARN_BINDING}'`,
        );
      } else {
        expect(warned.admitted && warned.warnings.filter((w) => w.includes(NAME))).toEqual([]);
      }
    }
    console.log(`[registries] ${rows.length} images: server and kube-harden agree`);
  }, 120_000);

  it('an untrusted init container is denied even when the container is trusted; the message says which and why', async () => {
    const o = await dryRun(
      pod(deny, 'init', {
        initContainers: [{ name: 'setup', image: 'bitnami/kubectl' }],
        containers: [{ name: 'app', image: 'ghcr.io/acme/api:1' }],
      }),
    );
    expect(deniedByPolicy(o)).toBe(true);
    expect(!o.admitted && o.message).toContain(
      'initContainer setup uses bitnami/kubectl (docker.io/bitnami/kubectl)',
    );
  });

  it("a denial is the policy's refusal (exit 8 territory: rejected), not a missing permission (exit 5)", async () => {
    const error = await admin
      .dryRunApply(pod(deny, 'refused', { containers: [{ name: 'app', image: 'evil.example/x' }] }), FM)
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(isClusterError(error)).toBe(true);
    const e = error as ClusterError;
    expect(e.reason).toBe('Forbidden');
    // The engine maps a Forbidden with `webhook` to the outcome `rejected` (exit 8); without it, to `forbidden`.
    expect(e.webhook).toBe(`ValidatingAdmissionPolicy ${NAME}`);
    expect(e.message).toContain(`ValidatingAdmissionPolicy "${NAME}" (binding "${NAME}") denied`);
    expect(e.hint).toContain('the admission policy refuses this change');
  });

  it('every workload kind: an untrusted template (or init container) is denied at once, a trusted one admitted', async () => {
    for (const w of workloads(deny, 'ghcr.io/acme/api:1', undefined, 'ok')) {
      const o = await dryRun(w);
      expect(o.admitted, `${w.kind}: ${JSON.stringify(o)}`).toBe(true);
    }
    for (const w of [
      ...workloads(deny, 'ghcr.io.evil.example/acme/api:1', undefined, 'bad'),
      ...workloads(deny, 'nginx', 'quay/tool', 'badinit'),
    ]) {
      const o = await dryRun(w);
      expect(deniedByPolicy(o), `${w.kind}: ${JSON.stringify(o)}`).toBe(true);
    }
  });

  it('an ephemeral container added through pods/ephemeralcontainers (kubectl debug) is checked too', async () => {
    await kubectl(['create', '-f', '-'], {
      input: JSON.stringify(
        pod(deny, 'target', { containers: [{ name: 'app', image: 'ghcr.io/acme/api:1' }] }),
      ),
    });
    const current = await kubectlJson<Record<string, unknown>>(['get', 'pod', 'target', '-n', deny]);
    const withDebugger = (image: string) =>
      JSON.stringify({
        ...current,
        spec: {
          ...(current.spec as object),
          ephemeralContainers: [{ name: 'debugger', image, targetContainerName: 'app' }],
        },
      });
    const path = `/api/v1/namespaces/${deny}/pods/target/ephemeralcontainers?dryRun=All`;
    const bad = await kubectlRaw(['replace', '--raw', path, '-f', '-'], {
      input: withDebugger('busybox-evil.example/sh'),
    });
    expect(bad.exitCode).not.toBe(0);
    // busybox-evil.example/sh: a registry host of its own.
    expect(bad.stderr).toContain(`ValidatingAdmissionPolicy '${NAME}' with binding '${NAME}' denied request`);
    expect(bad.stderr).toContain('ephemeralContainer debugger uses busybox-evil.example/sh');
    const good = await kubectlRaw(['replace', '--raw', path, '-f', '-'], {
      input: withDebugger('busybox:1.36'),
    });
    expect(good.exitCode, good.stderr).toBe(0);
  });

  it('updates: an image the object already had is not checked again (scaling works); a new untrusted one is denied', async () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: deny, name: 'w-deployment' };
    const scaled = await admin.dryRunMergePatch(ref, { spec: { replicas: 3 } });
    expect(scaled.object.metadata.name).toBe('w-deployment');
    const swapped = await admin
      .dryRunMergePatch(ref, {
        spec: { template: { spec: { containers: [{ name: 'app', image: 'evil.example/other:2' }] } } },
      })
      .then(() => 'admitted')
      .catch((e: Error) => (isClusterError(e) ? (e.serverMessage ?? e.message) : String(e)));
    expect(swapped).toContain('container app uses evil.example/other:2');
    const fixed = await admin.dryRunMergePatch(ref, {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/api:2' }] } } },
    });
    expect(fixed.object.kind).toBe('Deployment');
  });
});

describeCluster('registries-warn and registries-enforce through the CLI (live)', () => {
  const cli = cliSession();
  let ns: string;

  beforeAll(async () => {
    ns = await freshNamespace('reg-cli');
    const [deployment] = workloads(ns, 'ghcr.io/acme/api:1', 'busybox:1.36');
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(deployment) });
    await kubectl(['create', '-f', '-'], {
      input: JSON.stringify(
        pod(ns, 'tool', { containers: [{ name: 'tool', image: 'quay.io/acme/tool:3' }] }),
      ),
    });
  }, 60_000);

  afterAll(async () => {
    await kubectlRaw(['delete', 'validatingadmissionpolicybinding', POLICY_NAME, '--ignore-not-found']);
    await kubectlRaw(['delete', 'validatingadmissionpolicy', POLICY_NAME, '--ignore-not-found']);
  });

  it('plan → the policy and a [Warn, Audit] binding on the namespace; apply; enforce gated; undo removes both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await runCli(
      ['plan', '-n', ns, '--step', 'registries-warn', '--out', dir, '--kubeconfig', cli.kubeconfig],
      {
        env: cli.env(),
      },
    );
    expect([ExitCode.ok, ExitCode.incomplete], planned.stderr).toContain(planned.code);
    const saved = readPlanDir(dir);
    expect(saved.changes.map((c) => [c.id, c.operation, c.preview])).toEqual([
      ['registries-warn/policy', 'create', 'ok'],
      ['registries-warn/binding', 'create', 'ok'],
    ]);
    const policy = saved.changes[0]?.desired as unknown as {
      spec: { variables: Array<{ expression: string }> };
    };
    // The default allow-list: the registry hosts in use in the namespace.
    expect(policy.spec.variables[0]?.expression).toBe("['docker.io', 'ghcr.io', 'quay.io']");

    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 120_000,
    });
    expect(applied.code, applied.stderr + applied.stdout).toBe(ExitCode.ok);
    const binding = await kubectlJson<{ spec: Record<string, unknown> }>([
      'get',
      'validatingadmissionpolicybinding',
      POLICY_NAME,
    ]);
    expect(binding.spec.validationActions).toEqual(['Warn', 'Audit']);
    expect(binding.spec.matchResources).toMatchObject({
      namespaceSelector: {
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [ns] }],
      },
    });
    // It acts: an untrusted pod in the namespace is admitted with a warning.
    const warned = await waitFor(
      async () => {
        const r = await kubectlRaw(['run', 'x', '-n', ns, '--image=evil.example/x', '--dry-run=server']);
        return r.exitCode === 0 && r.stderr.includes(POLICY_NAME) ? r.stderr : undefined;
      },
      { what: 'the warning of the applied policy' },
    );
    expect(warned).toContain('images from registries that are not allowed: container x uses evil.example/x');

    // Enforce with a narrower list: blocked, with what would be denied.
    const blocked = await runCli(
      [
        'plan',
        '-n',
        ns,
        '--step',
        'registries-enforce',
        '--allow-registry',
        'ghcr.io/acme',
        '--allow-registry',
        'docker.io/library',
        '--format',
        'json',
        '--kubeconfig',
        cli.kubeconfig,
      ],
      { env: cli.env() },
    );
    const blockedPlan = JSON.parse(blocked.stdout) as {
      changes: unknown[];
      steps: Array<{ findings: Array<{ control: string; message: string }> }>;
    };
    expect(blockedPlan.changes).toEqual([]);
    const finding = blockedPlan.steps[0]?.findings.find(
      (f) => f.control === 'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
    );
    expect(finding?.message).toContain(
      `Pod ${ns}/tool: container tool uses quay.io/acme/tool:3 — registry quay.io is not allowed`,
    );

    // Without --allow-registry: the live policy's list, which everything passes → [Deny, Audit] proposed.
    const enforcing = await runCli(
      // Right after warn: no soak (test/integration/registries-soak.test.ts).
      [
        'plan',
        '-n',
        ns,
        '--step',
        'registries-enforce',
        '--registries-soak',
        '0',
        '--format',
        'json',
        '--kubeconfig',
        cli.kubeconfig,
      ],
      {
        env: cli.env(),
      },
    );
    const enforcePlan = JSON.parse(enforcing.stdout) as {
      changes: Array<{ id: string; desired?: { spec: Record<string, unknown> } }>;
      steps: Array<{ noops: Array<{ id: string }> }>;
    };
    // The policy is unchanged (a no-op, kept out of the changes); only the binding turns to deny.
    expect(enforcePlan.changes.map((c) => c.id)).toEqual(['registries-enforce/binding']);
    expect(enforcePlan.steps[0]?.noops.map((n) => n.id)).toEqual(['registries-enforce/policy']);
    expect(enforcePlan.changes[0]?.desired?.spec.validationActions).toEqual(['Deny', 'Audit']);

    // Apply the enforce step: an untrusted pod is now refused; undoing it turns the binding back to warn.
    const dir2 = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned2 = await runCli(
      [
        'plan',
        '-n',
        ns,
        '--step',
        'registries-enforce',
        '--registries-soak',
        '0',
        '--out',
        dir2,
        '--kubeconfig',
        cli.kubeconfig,
      ],
      { env: cli.env() },
    );
    expect([ExitCode.ok, ExitCode.incomplete], planned2.stderr).toContain(planned2.code);
    const enforceRun = readPlanDir(dir2).id;
    const applied2 = await runCli(['apply', '--plan', dir2, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 120_000,
    });
    expect(applied2.code, applied2.stderr + applied2.stdout).toBe(ExitCode.ok);
    const refused = await waitFor(
      async () => {
        const r = await kubectlRaw(['run', 'x', '-n', ns, '--image=evil.example/x', '--dry-run=server']);
        return r.exitCode !== 0 ? r.stderr : undefined;
      },
      { what: 'the deny binding to act' },
    );
    expect(refused).toContain(
      `ValidatingAdmissionPolicy '${POLICY_NAME}' with binding '${POLICY_NAME}' denied request`,
    );
    const trusted = await kubectlRaw([
      'run',
      'y',
      '-n',
      ns,
      '--image=ghcr.io/acme/other:1',
      '--dry-run=server',
    ]);
    expect(trusted.exitCode, trusted.stderr).toBe(0);
    const undone2 = await runCli(['undo', enforceRun, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 120_000,
    });
    expect(undone2.code, undone2.stderr).toBe(ExitCode.ok);
    expect(await bindingActions()).toEqual(['Warn', 'Audit']);

    const undone = await runCli(['undo', saved.id, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 120_000,
    });
    expect(undone.code, undone.stderr).toBe(ExitCode.ok);
    const left = await kubectlRaw([
      'get',
      'validatingadmissionpolicy,validatingadmissionpolicybinding',
      POLICY_NAME,
      '-o',
      'name',
    ]);
    expect(left.stdout.trim()).toBe('');
  }, 300_000);
});

describe('registries offline', () => {
  it('plan --manifests --step registries-warn --step registries-enforce --out writes the policy objects; the report of the result marks the registries allowed', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kh-off-')), 'out');
    const r = await runCli([
      'plan',
      '--manifests',
      'examples/legacy-cluster',
      '--step',
      'registries-warn',
      '--step',
      'registries-enforce',
      '--allow-registry',
      'docker.io,ghcr.io,quay.io,registry.example.com:5000,registry.k8s.io/ingress-nginx',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const saved = readPlanDir(out);
    expect(saved.changes.map((c) => c.id)).toEqual([
      'registries-warn/policy',
      'registries-warn/binding',
      'registries-enforce/policy',
      'registries-enforce/binding',
    ]);
    for (const c of saved.changes) expect(c.target?.name).toBe(POLICY_NAME);
    // The objects, cluster-scoped, as files a GitOps repository can take; the later step's binding wins.
    const dir = join(out, 'remediated', 'kube-harden');
    const policy = parse(
      readFileSync(join(dir, `validatingadmissionpolicy-${POLICY_NAME}.yaml`), 'utf8'),
    ) as KubeObject;
    const binding = parse(
      readFileSync(join(dir, `validatingadmissionpolicybinding-${POLICY_NAME}.yaml`), 'utf8'),
    ) as { spec: { validationActions: string[] } };
    expect(policy.kind).toBe('ValidatingAdmissionPolicy');
    expect(binding.spec.validationActions).toEqual(['Deny', 'Audit']);
    // The report of the remediated manifests: which registries the planned policy admits.
    const report = await runCli(['report', '--manifests', join(out, 'remediated'), '-o', 'json']);
    const registries = (
      JSON.parse(report.stdout) as { registries: Array<{ registry: string; allowedBy?: string[] }> }
    ).registries;
    expect(Object.fromEntries(registries.map((x) => [x.registry, x.allowedBy]))).toMatchObject({
      'docker.io': ['docker.io'],
      'registry.k8s.io': ['registry.k8s.io/ingress-nginx'],
    });
  });
});
