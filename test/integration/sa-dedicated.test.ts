/**
 * sa-dedicated (phase 4, opt-in) against the real control plane. A Deployment runs as its namespace's `default`
 * ServiceAccount, which is bound to two Roles; the workload (as `default`) lists pods, and the control plane's own
 * audit log records it. Without `--audit-log` both bindings would be duplicated; with it, only the one that allowed
 * the requests. After `apply`: the Pods the controller-manager creates run as the new account (the ServiceAccount
 * admission plugin refuses a Pod whose account does not exist, and mounts its token: the oracle), `auth can-i` for
 * the new account equals default's for the verbs it used (and not for the binding left out), the old bindings are
 * still there. Plan again: nothing. `undo` removes the created objects and restores the template field for field.
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

const STEP = 'sa-dedicated';

interface PodJson {
  metadata: { name: string; creationTimestamp: string };
  spec: { serviceAccountName?: string; volumes?: Array<{ name: string }> };
}

async function exists(args: string[]): Promise<boolean> {
  const r = await kubectlRaw(['get', ...args, '-o', 'name', '--ignore-not-found']);
  return r.stdout.trim() !== '';
}

describeCluster('sa-dedicated on the real control plane', () => {
  const cli = cliSession();

  it('plan → apply: the new pods run as the workload’s own account with the permissions it used; old bindings stay; undo restores', async () => {
    const auditLog = clusterInfo().auditLog;
    expect(auditLog, 'the test control plane writes an audit log').toBeTruthy();
    const ns = await freshNamespace('sad');
    await applyYaml(
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader}
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: operator-reads-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
  - {kind: ServiceAccount, name: default, namespace: ${ns}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-reads-secrets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
  - {kind: ServiceAccount, name: default, namespace: ${ns}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: operator
spec:
  replicas: 1
  # Pods never become ready here (no scheduler, no kubelet): replace them without waiting, so that a rollout and
  # its undo leave only pods of the current template.
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}
  selector: {matchLabels: {app: operator}}
  template:
    metadata: {labels: {app: operator}}
    spec:
      containers:
        - name: app
          image: registry.example.com/team/operator:1.0.0
`,
      ns,
    );
    const first = await podWhere<PodJson>(ns, 'operator', () => true, 'a pod of operator');
    expect(first.spec.serviceAccountName).toBe('default');
    const before = await kubectlJson<KubeObject>(['get', 'deployment', 'operator', '-n', ns]);

    const plan = async (extra: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
      const r = await runCli(
        ['plan', '-n', ns, '--step', STEP, '--out', dir, '--kubeconfig', cli.kubeconfig, ...extra],
        { env: cli.env() },
      );
      expect(r.code, r.stdout + r.stderr).toBe(ExitCode.ok);
      return { dir, saved: readPlanDir(dir) };
    };
    const group = `sa-dedicated/deployment/${ns}/operator`;

    // Without the audit log: every binding of default is duplicated.
    const { saved: blind } = await plan([]);
    expect(blind.changes.map((c) => c.id)).toEqual([
      `${group}/serviceaccount`,
      `${group}/rolebinding/default-reads-secrets-operator`,
      `${group}/rolebinding/operator-reads-pods-operator`,
      `${group}/template`,
    ]);
    expect(blind.changes[1]?.reason).toContain('Rule: no audit log');

    // The workload's requests as default (the same token a pod of it would get), in the control plane's audit log.
    const token = (await kubectl(['create', 'token', 'default', '-n', ns, '--duration=10m'])).trim();
    const asDefault = tokenKubeconfig(token);
    for (let i = 0; i < 3; i++) await kubectl(['get', 'pods', '-n', ns], { kubeconfig: asDefault });
    const canBefore = {
      list: await accountCan(ns, 'default', 'list', 'pods'),
      get: await accountCan(ns, 'default', 'get', 'pods'),
      secrets: await accountCan(ns, 'default', 'get', 'secrets'),
    };
    expect(canBefore).toEqual({ list: 'yes', get: 'yes', secrets: 'yes' });

    const { dir, saved } = await waitFor(
      async () => {
        const p = await plan(['--audit-log', auditLog as string]);
        return p.saved.changes.length === 3 ? p : undefined;
      },
      { what: 'the requests of default in the audit log', timeoutMs: 30_000 },
    );
    expect(saved.changes.map((c) => c.id)).toEqual([
      `${group}/serviceaccount`,
      `${group}/rolebinding/operator-reads-pods-operator`,
      `${group}/template`,
    ]);
    for (const c of saved.changes) expect(c.preview, `${c.id}: ${c.previewError}`).toBe('ok');
    expect(saved.changes.map((c) => c.operation)).toEqual(['create', 'create', 'update']);
    const title = `Dedicated ServiceAccount for Deployment ${ns}/operator (group ${group}, 3 changes: apply them together): `;
    for (const c of saved.changes) expect(c.reason.startsWith(title), c.reason).toBe(true);
    expect(saved.changes[0]?.reason).toContain(
      `uses the API (bound to Role ${ns}/secret-reader (RoleBinding ${ns}/default-reads-secrets); bound to Role ${ns}/pod-reader (RoleBinding ${ns}/operator-reads-pods); made `,
    );
    expect(saved.changes[0]?.reason).toContain('automountServiceAccountToken: true');
    expect(saved.changes[1]?.reason).toMatch(
      new RegExp(
        `RoleBinding ${ns}/operator-reads-pods \\(Role ${ns}/pod-reader\\) allowed [3-9]\\d* requests`,
      ),
    );
    expect(saved.changes[2]?.notes.join('\n')).toContain(
      `RoleBinding ${ns}/default-reads-secrets (Role ${ns}/secret-reader) allowed none of the requests`,
    );

    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 180_000,
    });
    expect(applied.code, applied.stdout + applied.stderr).toBe(ExitCode.ok);

    // The admission plugin: the new pods run as the new account (which exists) and mount its token.
    const pod = await podWhere<PodJson>(
      ns,
      'operator',
      (p) => p.spec.serviceAccountName === 'operator',
      'a new pod of operator (own account)',
    );
    expect(hasTokenVolume(pod)).toBe(true);
    await waitFor(
      async () =>
        (await podsOf<PodJson>(ns, 'operator')).every((p) => p.spec.serviceAccountName === 'operator'),
      { what: 'every pod of operator on its own account', timeoutMs: 60_000 },
    );
    const account = await kubectlJson<KubeObject>(['get', 'serviceaccount', 'operator', '-n', ns]);
    expect(account.automountServiceAccountToken).toBe(true);
    expect(account.metadata.annotations?.['kube-harden.io/dedicated-for']).toBe('Deployment/operator');
    // auth can-i: the new account may do what default did (list/get pods), not what default could but did not.
    expect({
      list: await accountCan(ns, 'operator', 'list', 'pods'),
      get: await accountCan(ns, 'operator', 'get', 'pods'),
      secrets: await accountCan(ns, 'operator', 'get', 'secrets'),
    }).toEqual({ list: canBefore.list, get: canBefore.get, secrets: 'no' });
    // The old bindings are still there, and default keeps what it had.
    for (const b of ['operator-reads-pods', 'default-reads-secrets'])
      expect(await exists(['rolebinding', b, '-n', ns])).toBe(true);
    expect({
      list: await accountCan(ns, 'default', 'list', 'pods'),
      get: await accountCan(ns, 'default', 'get', 'pods'),
      secrets: await accountCan(ns, 'default', 'get', 'secrets'),
    }).toEqual(canBefore);

    // Plan again: the workload runs as its own account now, nothing to do.
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
    expect(
      patchedBackShape(await kubectlJson<KubeObject>(['get', 'deployment', 'operator', '-n', ns])),
    ).toEqual(patchedBackShape(before));
    expect(await exists(['serviceaccount', 'operator', '-n', ns])).toBe(false);
    expect(await exists(['rolebinding', 'operator-reads-pods-operator', '-n', ns])).toBe(false);
    for (const b of ['operator-reads-pods', 'default-reads-secrets'])
      expect(await exists(['rolebinding', b, '-n', ns])).toBe(true);
    // The pods roll back to default: the new ReplicaSet is scaled down, its pod (never scheduled) is gone.
    await waitFor(
      async () =>
        (await podsOf<PodJson>(ns, 'operator')).every((p) => p.spec.serviceAccountName === 'default'),
      {
        what: 'every pod of operator back on default',
        timeoutMs: 60_000,
      },
    );
  }, 600_000);
});

describe('sa-dedicated offline', () => {
  it('plan --manifests --step sa-dedicated --out writes the new accounts and the changed templates into remediated/', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kh-off-')), 'out');
    const r = await runCli(['plan', '--manifests', 'examples/legacy-cluster', '--step', STEP, '--out', out]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const saved = readPlanDir(out);
    // shop's three Deployments run as default (no binding): an account each, no token, no copies.
    expect(saved.changes.map((c) => c.id)).toEqual(
      ['cart', 'frontend', 'redis'].flatMap((n) => [
        `sa-dedicated/deployment/shop/${n}/serviceaccount`,
        `sa-dedicated/deployment/shop/${n}/template`,
      ]),
    );
    // frontend is an Argo CD application's: its template change is also a patch for the source.
    expect(saved.changes.find((c) => c.id.endsWith('frontend/template'))?.exportPatch).toContain('Argo CD');
    const account = parse(readFileSync(join(out, 'remediated', 'shop', 'serviceaccount-cart.yaml'), 'utf8'));
    expect(account).toMatchObject({
      kind: 'ServiceAccount',
      metadata: {
        name: 'cart',
        namespace: 'shop',
        annotations: { 'kube-harden.io/dedicated-for': 'Deployment/cart' },
      },
      automountServiceAccountToken: false,
    });
    const cart = parseAllDocuments(readFileSync(join(out, 'remediated', 'shop', '30-cart.yaml'), 'utf8'))
      .map((d) => d.toJS() as KubeObject)
      .find((o) => o?.kind === 'Deployment');
    const spec = (cart?.spec ?? {}) as { template?: { spec?: Record<string, unknown> } };
    expect(spec.template?.spec?.serviceAccountName).toBe('cart');
    // Accounts already dedicated (monitoring, ci, …) and system namespaces are left alone.
    expect(saved.changes.every((c) => c.target?.namespace === 'shop')).toBe(true);
  });
});
