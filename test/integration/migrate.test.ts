/**
 * `kube-harden migrate -n NS` against the real control plane: the fix of a blocking Deployment, applied through
 * the engine, makes it pass — the API server then accepts enforce=restricted without a warning and the new
 * ReplicaSet creates pods without FailedCreate; the dry-run warnings name what a fix cannot fix; fields owned by
 * someone else are a conflict, not overwritten; nothing is applied without --yes off a terminal; undo restores the
 * template. Offline: GitOps-managed workloads get a note and an exported patch.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { evaluatePod } from '../../src/policy/pss/index.js';
import type { SessionOptions } from '../../src/store/session.js';
import { createHardenStore } from '../../src/store/store.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

const PSA = 'pod-security.kubernetes.io/';

interface Pod {
  metadata: { name: string; ownerReferences?: Array<{ name: string }> };
}
interface Event {
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}
type Deployment = KubeObject & {
  spec: { template: { metadata?: Record<string, unknown>; spec: Record<string, unknown> } };
  status?: { observedGeneration?: number };
};

/**
 * A legacy Deployment: no securityContext at all (`sidecar`: extra fields of the sidecar container, `pod`: extra
 * lines of the pod spec). Recreate, so that no old (violating) pod outlives the rollout: without a kubelet, new
 * pods never become ready.
 */
function legacyDeployment(name: string, extra: { sidecar?: string; pod?: string } = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - {name: web, image: nginxinc/nginx-unprivileged:1.27}
      - {name: sidecar, image: registry.example.com/tools/sidecar:1.36${extra.sidecar ? `, ${extra.sidecar}` : ''}}
${extra.pod ?? ''}`;
}

async function podsOf(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(['get', 'pods', '-n', ns])).items;
}

async function failedCreates(ns: string): Promise<Event[]> {
  const list = await kubectlJson<{ items: Event[] }>(['get', 'events', '-n', ns]);
  return list.items.filter((e) => e.reason === 'FailedCreate');
}

describeCluster('kube-harden migrate (live)', () => {
  let kubeconfig: string;
  let state: string;

  beforeAll(() => {
    kubeconfig = clusterInfo().adminKubeconfig;
    state = mkdtempSync(join(tmpdir(), 'kh-state-'));
  });

  const cli = (args: string[]) =>
    runCli([...args, '--kubeconfig', kubeconfig], { env: { XDG_STATE_HOME: state } });

  it('a fix from migrate, applied through the engine, makes the workload pass: enforce=restricted is accepted without warnings and the new ReplicaSet creates pods without FailedCreate', async () => {
    const ns = await freshNamespace('migrate-fix');
    // Phase 1 done: the API server's warn mode reports on every dry-run of a workload.
    await kubectl(['label', 'namespace', ns, `${PSA}warn=restricted`, `${PSA}warn-version=v1.36`]);
    await applyYaml(legacyDeployment('web'), ns);
    const oldPods = await waitFor(async () => ((await podsOf(ns)).length === 1 ? podsOf(ns) : undefined), {
      what: 'the first pod of deployment web',
    });
    // Before the fix the API server's own check flags the running pod.
    const before = await kubectlRaw([
      'label',
      '--dry-run=server',
      'namespace',
      ns,
      `${PSA}enforce=restricted`,
    ]);
    expect(before.stderr).toContain(
      `existing pods in namespace "${ns}" violate the new PodSecurity enforce level`,
    );

    const r = await cli(['migrate', '-n', ns, '--yes']);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stdout).toContain(`namespace ${ns} (application tier`);
    expect(r.stdout).toContain(
      'current: enforce not set (the cluster default: privileged unless configured otherwise); warn restricted:v1.36; audit not set',
    );
    expect(r.stdout).toContain('target:  restricted');
    expect(r.stdout).toContain('1 workload(s) block restricted:');
    expect(r.stdout).toContain(
      '- allowPrivilegeEscalation != false (containers "web", "sidecar" must set securityContext.allowPrivilegeEscalation=false)',
    );
    // The fix, previewed against the live Deployment: the API server's warn mode has nothing left to say.
    expect(r.stdout).toContain(
      'runAsUser: 101 (container "web": nginxinc/docker-nginx-unprivileged: USER 101)',
    );
    expect(r.stdout).toContain('With it, the template passes restricted:v1.36.');
    expect(r.stdout).toContain('API server: no warnings (dry-run)');
    expect(r.stdout).toContain(
      'the image registry.example.com/tools/sidecar:1.36 (container "sidecar") must run as a non-root user (numeric USER)',
    );
    expect(r.stdout).toContain('optional (--include-optional)');
    expect(r.stderr).toMatch(new RegExp(`applied +deployment ${ns}/web`));
    expect(r.stderr).toContain('verify psa-migrate: ok');
    // The verification is in the run's journal: `runs` shows it (and the wizard's phases, in later sessions).
    const runId = /run (\d{8}T\d{6}Z-[0-9a-f]+)/.exec(r.stderr)?.[1];
    const runs = JSON.parse((await cli(['runs', '-o', 'json'])).stdout) as Array<{
      runId: string;
      verified: Record<string, string>;
    }>;
    expect(runs.find((x) => x.runId === runId)?.verified).toEqual({ 'psa-migrate': 'ok' });
    expect((await cli(['runs'])).stdout).toMatch(new RegExp(`${runId}.* ok +complete`));

    const live = await kubectlJson<Deployment>(['get', 'deployment', 'web', '-n', ns]);
    const template = live.spec.template;
    expect(template.spec.securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(
      evaluatePod({ level: 'restricted', version: 'v1.36' }, template as never, { serverMinor: 36 })
        .violations,
    ).toEqual([]);
    // The optional change was not applied (not asked for).
    expect(JSON.stringify(template)).not.toContain('readOnlyRootFilesystem');

    // Recreate: the old ReplicaSet's pod goes away, the new one's comes.
    await waitFor(
      async () => {
        const pods = await podsOf(ns);
        return pods.length === 1 && !pods.some((p) => p.metadata.name === oldPods[0]?.metadata.name);
      },
      { what: 'the rollout to the fixed template', timeoutMs: 60_000 },
    );
    const enforce = await kubectlRaw([
      'label',
      'namespace',
      ns,
      `${PSA}enforce=restricted`,
      `${PSA}enforce-version=v1.36`,
    ]);
    expect(enforce.exitCode, enforce.stderr).toBe(0);
    expect(enforce.stderr).not.toContain('Warning');

    // Under enforce, the fixed template's ReplicaSet still creates pods.
    await kubectl(['scale', 'deployment', 'web', '-n', ns, '--replicas=3']);
    await waitFor(async () => (await podsOf(ns)).length === 3, { what: '3 pods of the fixed deployment' });
    expect(await failedCreates(ns)).toEqual([]);

    // The check above can fail: an unfixed Deployment in the same namespace is refused by the same API server.
    await applyYaml(legacyDeployment('unfixed'), ns);
    const refused = await waitFor(
      async () => (await failedCreates(ns)).filter((e) => /unfixed/.test(e.involvedObject?.name ?? '')),
      {
        what: 'FailedCreate of the unfixed deployment',
      },
    );
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.message).toContain('violates PodSecurity "restricted:v1.36"');
  });

  it('what a fix cannot fix is named in the notes and by the API server’s own dry-run warning', async () => {
    const ns = await freshNamespace('migrate-hostpath');
    await kubectl(['label', 'namespace', ns, `${PSA}warn=restricted`]);
    await applyYaml(
      legacyDeployment('logs', {
        sidecar: 'volumeMounts: [{name: host, mountPath: /host}]',
        pod: '      volumes: [{name: host, hostPath: {path: /var/log}}]\n',
      }),
      ns,
    );
    const r = await cli(['migrate', '-n', ns]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stdout).toContain('It still fails restrictedVolumes (see notes).');
    expect(r.stdout).toContain(
      '- still fails restricted volume types (volume "host" uses restricted volume type "hostPath"): not fixed automatically',
    );
    expect(r.stdout).toContain(
      '! would violate PodSecurity "restricted:latest": restricted volume types (volume "host" uses restricted volume type "hostPath")',
    );
    expect(r.stdout).toContain(
      `namespace ${ns}: 1 of 1 blocking workload(s) still fail restricted after the proposed fixes`,
    );
    // Not a terminal and no --yes: printed, nothing applied.
    expect(r.stderr).toContain('not a terminal: nothing applied');
    const live = await kubectlJson<Deployment>(['get', 'deployment', 'logs', '-n', ns]);
    expect(live.spec.template.spec.securityContext).toEqual({});
  });

  it('a field another manager owns is a conflict: shown, skipped with --yes, taken over only with --force-conflicts', async () => {
    const ns = await freshNamespace('migrate-conflict');
    await applyYaml(
      legacyDeployment('web', { sidecar: 'securityContext: {allowPrivilegeEscalation: true}' }),
      ns,
    );
    const skipped = await cli(['migrate', '-n', ns, '--yes']);
    expect(skipped.code, skipped.stderr).toBe(ExitCode.refused);
    expect(skipped.stdout).toContain('preview unavailable:');
    expect(skipped.stdout).toContain('is owned by "kube-harden-test-fixture"');
    expect(skipped.stderr).toContain('pass --force-conflicts to take the fields over');
    const untouched = await kubectlJson<Deployment>(['get', 'deployment', 'web', '-n', ns]);
    expect(JSON.stringify(untouched.spec.template.spec.securityContext)).toBe('{}');

    // With the optional change too: it includes the fix, so it is the one write to the Deployment.
    const forced = await cli(['migrate', '-n', ns, '--yes', '--force-conflicts', '--include-optional']);
    expect(forced.code, forced.stderr).toBe(ExitCode.ok);
    expect(forced.stderr).toContain(`psa-migrate/deployment/${ns}/web: included in its optional change`);
    const live = await kubectlJson<Deployment>(['get', 'deployment', 'web', '-n', ns]);
    const sidecar = (
      live.spec.template.spec.containers as Array<{ name: string; securityContext?: unknown }>
    ).find((c) => c.name === 'sidecar');
    expect(sidecar?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
  });

  it('the same flow in-process through the store; undo restores the template exactly (its pods roll back)', async () => {
    const ns = await freshNamespace('migrate-undo');
    await applyYaml(legacyDeployment('web'), ns);
    const before = await kubectlJson<Deployment>(['get', 'deployment', 'web', '-n', ns]);
    const options: SessionOptions = {
      kubeconfig,
      scope: { namespaces: [ns], exclude: [] },
      readOnly: false,
      now: () => new Date(),
      env: { ...process.env, XDG_STATE_HOME: state },
    };
    const store = createHardenStore({ options });
    try {
      await store.getState().connect();
      await store.getState().inventory();
      const plan = await store.getState().planSteps(['psa-migrate']);
      expect(plan.changes.map((c) => `${c.id}${c.optional ? ' (optional)' : ''}`)).toEqual([
        `psa-migrate/deployment/${ns}/web`,
        `psa-migrate/deployment/${ns}/web/read-only-root (optional)`,
      ]);
      // The optional change includes the fix: choosing it alone gives both.
      store.getState().toggle(`psa-migrate/deployment/${ns}/web/read-only-root`);
      const report = await store.getState().apply();
      expect(report.outcomes.map((o) => o.outcome)).toEqual(['applied']);
      const fixed = await kubectlJson<Deployment>(['get', 'deployment', 'web', '-n', ns]);
      expect(fixed.spec.template.spec.securityContext).toEqual({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(fixed.spec.template.spec.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
      const containers = fixed.spec.template.spec.containers as Array<{
        securityContext?: Record<string, unknown>;
      }>;
      for (const c of containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        });
      }
      expect(
        evaluatePod({ level: 'restricted', version: 'v1.36' }, fixed.spec.template as never, {
          serverMinor: 36,
        }).allowed,
      ).toBe(true);

      await store.getState().planUndo(report.runId);
      const undone = await store.getState().applyUndo();
      expect(undone.map((o) => o.outcome)).toEqual(['restored']);
      const after = await kubectlJson<Deployment>(['get', 'deployment', 'web', '-n', ns]);
      expect(after.spec.template).toEqual(before.spec.template);
    } finally {
      store.getState().close();
    }
  });
});

describe('kube-harden migrate (offline and usage)', () => {
  it('needs exactly one namespace', async () => {
    const none = await runCli(['migrate', '--manifests', 'examples/legacy-cluster']);
    expect(none.code).toBe(ExitCode.usage);
    expect(none.stderr).toContain('migrate needs the namespace to migrate: -n NS');
    const two = await runCli(['migrate', '--manifests', 'examples/legacy-cluster', '-n', 'shop', '-n', 'ci']);
    expect(two.code).toBe(ExitCode.usage);
    expect(two.stderr).toContain('one namespace at a time (got shop, ci)');
    const all = await runCli([
      'migrate',
      '--manifests',
      'examples/legacy-cluster',
      '-n',
      'shop',
      '--out',
      'x',
      '--yes',
    ]);
    expect(all.code).toBe(ExitCode.usage);
  });

  it('on the example: the Argo CD frontend and the Helm ingress controller get a note and an exported patch; --out writes the plan and the fixed manifests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-migrate-'));
    const shop = await runCli([
      'migrate',
      '--manifests',
      'examples/legacy-cluster/shop',
      '--exceptions',
      'examples/legacy-cluster-exceptions.yaml',
      '-n',
      'shop',
      '--out',
      dir,
    ]);
    expect(shop.code, shop.stderr).toBe(ExitCode.ok);
    expect(shop.stdout).toContain('3 workload(s) block restricted:');
    expect(shop.stdout).toContain(
      'managed by Argo CD application shop: change its source too (chart values or Git), or the next sync reverts this fix',
    );
    expect(shop.stdout).toContain('offline: diffs of the manifests, no server dry-run');
    const patch = readFileSync(join(dir, 'patches', 'deployment-shop-frontend.yaml'), 'utf8');
    expect(patch.split('\n')[0]).toBe(
      '# Argo CD application shop: apply this patch to the source, not only to the cluster',
    );
    expect(patch).toContain('allowPrivilegeEscalation: false');
    expect(existsSync(join(dir, 'patches', 'deployment-shop-cart.yaml'))).toBe(false);
    // The fixed manifests: the fixes, not the optional changes.
    const frontend = readFileSync(join(dir, 'remediated', '20-frontend.yaml'), 'utf8');
    expect(frontend).toContain('allowPrivilegeEscalation: false');
    expect(frontend).toContain('type: RuntimeDefault');
    expect(frontend).not.toContain('readOnlyRootFilesystem');
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as {
      changes: Array<{ id: string; optional?: boolean; exportPatch?: string }>;
    };
    expect(plan.changes.filter((c) => !c.optional).map((c) => [c.id, c.exportPatch ?? null])).toEqual([
      ['psa-migrate/deployment/shop/cart', null],
      ['psa-migrate/deployment/shop/frontend', 'Argo CD application shop'],
      ['psa-migrate/deployment/shop/redis', null],
      // frontend (nginx:1.27 on port 80) and redis run as root: named with why, and the choices.
      ['psa-migrate/left-non-compliant', null],
    ]);

    const ingress = await runCli([
      'migrate',
      '--manifests',
      'examples/legacy-cluster/ingress-nginx',
      '-n',
      'ingress-nginx',
      '--target',
      'restricted',
    ]);
    expect(ingress.code, ingress.stderr).toBe(ExitCode.ok);
    expect(ingress.stdout).toContain('target:  restricted (--target)');
    expect(ingress.stdout).toContain('exported as a patch for Helm release ingress-nginx/ingress-nginx');
    // allowPrivilegeEscalation is the one restricted check it fails, and the one it needs: the non-root nginx binds
    // ports 80/443 through file capabilities, which allowPrivilegeEscalation: false blocks. Left as it is, and said so.
    expect(ingress.stdout).not.toContain('set allowPrivilegeEscalation: false');
    expect(ingress.stdout).toContain(
      'container "controller": allowPrivilegeEscalation: true is left as it is — it adds capabilities without running as root',
    );
  });

  it('on the example: a bare Pod gets a manifest fix offline; a privileged Deployment gets the exact next action', async () => {
    // -n reads as in kubectl apply -f: the manifests of that namespace (another namespace in them is an error)
    const r = await runCli([
      'migrate',
      '--manifests',
      'examples/legacy-cluster/legacy-batch',
      '-n',
      'legacy-batch',
    ]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stdout).toContain(
      'Offline, the manifest is fixed; a running Pod cannot take it in place (its spec is immutable): re-create it from the fixed manifest',
    );
    expect(r.stdout).toContain('| Pod legacy-batch/disk-cleanup | application (restricted) | **fails** |');
    expect(r.stdout).toContain(
      'container "importer" is privileged: allowPrivilegeEscalation: false (the API server rejects it together with privileged: true)',
    );
    expect(r.stdout).toContain('not setting runAsNonRoot: container "report" runs as UID 0');
  });
});
