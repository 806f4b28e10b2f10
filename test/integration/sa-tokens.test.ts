/**
 * sa-tokens (phase 4) against the real control plane. The ServiceAccount admission plugin is the oracle: the
 * controller-manager creates Pods (Pending: there is no scheduler or kubelet) that went through admission, so a
 * Pod's `kube-api-access-*` volume says whether it got a token. After `apply`: the new Pods of a changed
 * Deployment carry no token volume, a workload with evidence (its ServiceAccount bound to a Role) still does, a new
 * bare Pod under the `default` account gets none, and `kubectl auth can-i` answers as before (no binding is touched).
 * Plan again: no change. `undo` restores the objects field for field and new Pods get the volume again.
 * `--audit-log`: the control plane's own audit log, after a client made requests as a ServiceAccount.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { readPlanDir } from '../../src/engine/plan-file.js';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
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
import { cliSession } from '../support/cli-session.js';
import { tokenKubeconfig } from '../support/identities.js';
import { patchedBackShape } from '../support/objects.js';
import { accountCan, hasTokenVolume, podsOf, podWhere } from '../support/service-accounts.js';

const STEP = 'sa-tokens';

interface PodJson {
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  spec: { automountServiceAccountToken?: boolean; volumes?: Array<{ name: string }> };
}

function deployment(name: string, serviceAccount?: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
${serviceAccount ? `      serviceAccountName: ${serviceAccount}\n` : ''}      containers:
        - name: app
          image: registry.example.com/team/${name}:1.0.0
`;
}

describeCluster('sa-tokens on the real control plane', () => {
  const cli = cliSession();

  it('plan → apply: tokens gone where no evidence, kept where the account is bound; plan again: none; undo restores', async () => {
    const ns = await freshNamespace('sat');
    // `operator` runs as `default`, which is bound to a Role: evidence. `web` runs as its own unbound account.
    await applyYaml(
      `apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: operator-reads-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
  - {kind: ServiceAccount, name: default, namespace: ${ns}}
---
${deployment('operator')}---
${deployment('web', 'web')}`,
      ns,
    );
    for (const app of ['operator', 'web'])
      expect(hasTokenVolume(await podWhere<PodJson>(ns, app, () => true, `a pod of ${app}`))).toBe(true);
    const canBefore = [
      await accountCan(ns, 'default', 'list', 'pods'),
      await accountCan(ns, 'web', 'list', 'pods'),
    ];
    expect(canBefore).toEqual(['yes', 'no']);
    const before = {
      sa: await kubectlJson<KubeObject>(['get', 'serviceaccount', 'default', '-n', ns]),
      operator: await kubectlJson<KubeObject>(['get', 'deployment', 'operator', '-n', ns]),
      web: await kubectlJson<KubeObject>(['get', 'deployment', 'web', '-n', ns]),
    };

    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await runCli(
      ['plan', '-n', ns, '--step', STEP, '--out', dir, '--kubeconfig', cli.kubeconfig],
      {
        env: cli.env(),
      },
    );
    expect(planned.code, planned.stderr).toBe(ExitCode.ok);
    const saved = readPlanDir(dir);
    expect(saved.changes.map((c) => c.id).sort()).toEqual(
      [
        `sa-tokens/deployment/${ns}/operator`,
        `sa-tokens/deployment/${ns}/web`,
        `sa-tokens/serviceaccount/${ns}/default`,
      ].sort(),
    );
    for (const c of saved.changes) {
      expect(c.preview, `${c.id}: ${c.previewError}`).toBe('ok');
      expect(c.operation).toBe('update');
    }
    const op = saved.changes.find((c) => c.id.endsWith('/operator'));
    expect(op?.reason).toContain(`bound to Role ${ns}/pod-reader (RoleBinding ${ns}/operator-reads-pods)`);
    const webChange = saved.changes.find((c) => c.id.endsWith('/web'));
    expect(webChange?.reason).toContain('shows no API use (no binding');

    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 180_000,
    });
    expect(applied.code, applied.stdout + applied.stderr).toBe(ExitCode.ok);

    // The admission plugin decides at Pod creation: the new Pods show the result.
    const webPod = await podWhere<PodJson>(
      ns,
      'web',
      (p) => p.spec.automountServiceAccountToken === false,
      'a new pod of web (automount false)',
    );
    expect(hasTokenVolume(webPod)).toBe(false);
    const opPod = await podWhere<PodJson>(
      ns,
      'operator',
      (p) => p.spec.automountServiceAccountToken === true,
      'a new pod of operator (automount true)',
    );
    expect(hasTokenVolume(opPod)).toBe(true);
    // A new bare Pod under `default` (no opinion of its own) gets no token now.
    await kubectl(['run', 'probe', '-n', ns, '--image=registry.example.com/probe:1', '--labels=app=probe']);
    expect(hasTokenVolume(await podWhere<PodJson>(ns, 'probe', () => true, 'the probe pod'))).toBe(false);
    // No binding was touched.
    expect([
      await accountCan(ns, 'default', 'list', 'pods'),
      await accountCan(ns, 'web', 'list', 'pods'),
    ]).toEqual(canBefore);

    const again = await runCli(
      ['plan', '-n', ns, '--step', STEP, '--detailed-exitcode', '--kubeconfig', cli.kubeconfig],
      { env: cli.env() },
    );
    expect(again.code, again.stdout + again.stderr).toBe(ExitCode.ok);

    const undone = await runCli(['undo', saved.id, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 180_000,
    });
    expect(undone.code, undone.stdout + undone.stderr).toBe(ExitCode.ok);
    const after = {
      sa: await kubectlJson<KubeObject>(['get', 'serviceaccount', 'default', '-n', ns]),
      operator: await kubectlJson<KubeObject>(['get', 'deployment', 'operator', '-n', ns]),
      web: await kubectlJson<KubeObject>(['get', 'deployment', 'web', '-n', ns]),
    };
    expect(patchedBackShape(after.sa)).toEqual(patchedBackShape(before.sa));
    expect(patchedBackShape(after.operator)).toEqual(patchedBackShape(before.operator));
    expect(patchedBackShape(after.web)).toEqual(patchedBackShape(before.web));

    // New Pods get the token volume again (the ReplicaSet re-creates a deleted Pod; a new bare Pod).
    await kubectl(['delete', 'pods', '-n', ns, '-l', 'app in (web,probe)', '--wait=false']);
    const since = Date.now() - 1000;
    const back = await podWhere<PodJson>(
      ns,
      'web',
      (p) =>
        p.spec.automountServiceAccountToken === undefined &&
        Date.parse(p.metadata.creationTimestamp) >= since,
      'a re-created pod of web',
    );
    expect(hasTokenVolume(back)).toBe(true);
    await waitFor(async () => (await podsOf<PodJson>(ns, 'probe')).length === 0, {
      what: 'the probe pod gone',
    });
    await kubectl(['run', 'probe', '-n', ns, '--image=registry.example.com/probe:1', '--labels=app=probe']);
    expect(hasTokenVolume(await podWhere<PodJson>(ns, 'probe', () => true, 'the new probe pod'))).toBe(true);
    expect([
      await accountCan(ns, 'default', 'list', 'pods'),
      await accountCan(ns, 'web', 'list', 'pods'),
    ]).toEqual(canBefore);
  }, 600_000);

  it('--audit-log: requests a ServiceAccount made (the control plane audit log) keep its token', async () => {
    const auditLog = clusterInfo().auditLog;
    expect(auditLog, 'the test control plane writes an audit log').toBeTruthy();
    const ns = await freshNamespace('sat-audit');
    await kubectl(['create', 'serviceaccount', 'talker', '-n', ns]);
    await kubectl(['create', 'serviceaccount', 'quiet', '-n', ns]);
    await applyYaml(`${deployment('talker', 'talker')}---\n${deployment('quiet', 'quiet')}`, ns);

    const plan = async (extra: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
      const r = await runCli(
        ['plan', '-n', ns, '--step', STEP, '--out', dir, '--kubeconfig', cli.kubeconfig, ...extra],
        { env: cli.env() },
      );
      expect(r.code, r.stderr).toBe(ExitCode.ok);
      return readPlanDir(dir);
    };
    // Without the log: no evidence for either.
    const blind = await plan([]);
    expect(blind.changes.map((c) => c.id)).toContain(`sa-tokens/deployment/${ns}/talker`);

    // Requests as talker (forbidden ones count too: they are requests).
    const token = (await kubectl(['create', 'token', 'talker', '-n', ns, '--duration=10m'])).trim();
    const asTalker = tokenKubeconfig(token);
    for (let i = 0; i < 3; i++) await kubectlRaw(['get', 'configmaps', '-n', ns], { kubeconfig: asTalker });

    const seen = await plan(['--audit-log', auditLog as string]);
    const ids = seen.changes.map((c) => c.id);
    expect(ids).not.toContain(`sa-tokens/deployment/${ns}/talker`);
    expect(ids).toContain(`sa-tokens/deployment/${ns}/quiet`);
    const step = seen.steps.find((s) => s.id === STEP);
    const talker = step?.findings.find((f) => f.target.name === 'talker');
    expect(talker?.message).toMatch(/uses the API \(made [3-9]\d* requests? in the audit log/);
    expect(seen.changes.find((c) => c.id.endsWith('/quiet'))?.reason).toContain(
      'no binding, no requests in the audit log',
    );

    // rbac-review: talker is bound to `edit`; its narrowed Role allows what it did (list configmaps) and no more,
    // and the API server accepts the artifact.
    await kubectl([
      'create',
      'rolebinding',
      'talker-edit',
      '-n',
      ns,
      '--clusterrole=edit',
      `--serviceaccount=${ns}:talker`,
    ]);
    const reviewDir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const reviewed = await runCli(
      [
        'plan',
        '-n',
        ns,
        '--step',
        'rbac-review',
        '--audit-log',
        auditLog as string,
        '--out',
        reviewDir,
        '--kubeconfig',
        cli.kubeconfig,
      ],
      { env: cli.env() },
    );
    expect(reviewed.code, reviewed.stderr).toBe(ExitCode.ok);
    const review = readPlanDir(reviewDir);
    const proposal = review.changes.find((c) => c.id === `rbac-review/narrowed/${ns}/talker`);
    expect(proposal?.kind).toBe('manual');
    expect(proposal?.reason).toContain(`RoleBinding ${ns}/talker-edit`);
    const artifact = join(reviewDir, proposal?.artifact?.file as string);
    await kubectl(['apply', '--dry-run=server', '-f', artifact]);
    await kubectl(['apply', '-f', artifact]);
    await kubectl(['delete', 'rolebinding', 'talker-edit', '-n', ns]);
    expect(await accountCan(ns, 'talker', 'list', 'configmaps')).toBe('yes');
    expect(await accountCan(ns, 'talker', 'get', 'secrets')).toBe('no');
    // Nothing was written by kube-harden: the only binding of talker is the one applied by hand above.
    expect(review.changes.every((c) => c.kind === 'manual')).toBe(true);

    // A file that is not an audit log: a clear input error, exit 6.
    const bad = await runCli(
      [
        'plan',
        '-n',
        ns,
        '--step',
        STEP,
        '--audit-log',
        join(cli.state, 'missing.log'),
        '--kubeconfig',
        cli.kubeconfig,
      ],
      { env: cli.env() },
    );
    expect(bad.code, bad.stderr).toBe(ExitCode.input);
    expect(bad.stderr).toContain('missing.log: does not exist');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);
});

describe('sa-tokens offline', () => {
  it('plan --manifests --step sa-tokens --out writes the ServiceAccount and template changes into remediated/', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kh-off-')), 'out');
    const r = await runCli(['plan', '--manifests', 'examples/legacy-cluster', '--step', STEP, '--out', out]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const saved = readPlanDir(out);
    // shop's workloads run as `default` with no evidence; the other namespaces' accounts already opt out or are bound.
    expect(saved.changes.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        'sa-tokens/serviceaccount/shop/default',
        'sa-tokens/deployment/shop/cart',
        'sa-tokens/deployment/shop/frontend',
        'sa-tokens/deployment/shop/redis',
      ]),
    );
    expect(saved.changes.some((c) => c.target?.namespace === 'kube-system')).toBe(false);
    // The bound and known ones keep their token: no change proposed for them.
    for (const kept of ['ci/ci-runner', 'legacy-batch/legacy-importer', 'monitoring/prometheus-server'])
      expect(saved.changes.some((c) => c.id.endsWith(kept))).toBe(false);
    const account = parse(
      readFileSync(join(out, 'remediated', 'shop', 'serviceaccount-default.yaml'), 'utf8'),
    );
    expect(account).toMatchObject({
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace: 'shop' },
      automountServiceAccountToken: false,
    });
    const cart = parseAllDocuments(readFileSync(join(out, 'remediated', 'shop', '30-cart.yaml'), 'utf8'))
      .map((d) => d.toJS() as KubeObject)
      .find((o) => o?.kind === 'Deployment');
    const cartSpec = (cart?.spec ?? {}) as { template?: { spec?: Record<string, unknown> } };
    expect(cartSpec.template?.spec?.automountServiceAccountToken).toBe(false);
  });
});
