/**
 * A reviewed plan is the plan that runs (issue 10), on the real control plane, through the built CLI:
 * - the attacks of the issue — plan.json edited after review to add a ClusterRoleBinding of cluster-admin,
 *   `enforce=restricted` on kube-system, the deletion of a Namespace — are refused with exit 6 and nothing is
 *   written, whether or not the editor also rewrites the digest;
 * - a plan made for another context is refused unless --context names the target and --allow-other-cluster is given;
 * - a violating Deployment added between `plan --step psa-enforce` and `apply --plan` makes apply refuse that
 *   enforce change (exit 8) naming it; each step's verify runs after apply --plan, and detects FailedCreate;
 * - a user without the permissions gets exit 5, the missing permission named, nothing sent for the forbidden
 *   changes, and no run recorded when nothing is left.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { connect, type LiveCluster, readOnly } from '../../src/cluster/live.js';
import { applyPlan } from '../../src/engine/apply.js';
import { blankDigestLine, computeSeal } from '../../src/engine/digest.js';
import { verifyApplied } from '../../src/engine/gate.js';
import { listRuns } from '../../src/engine/journal.js';
import { buildPlan } from '../../src/engine/plan.js';
import { writePlanDir } from '../../src/engine/plan-file.js';
import type { Step, StepOptions } from '../../src/engine/types.js';
import { ExitCode } from '../../src/errors.js';
import { buildSnapshot } from '../../src/inventory/build.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { assess } from '../../src/policy/assess.js';
import { STEPS } from '../../steps/index.js';
import { psaEnforce } from '../../steps/psa-enforce.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  isNotFound,
  kubectl,
  kubectlJson,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';
import { fixedStep } from '../support/test-steps.js';

const PSA = 'pod-security.kubernetes.io/';
type Json = Record<string, unknown> & { changes: Array<Record<string, unknown>>; digest: string };

const privilegedDeployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: app, image: nginx, securityContext: {privileged: true}}]
`;

describeCluster('sealed plans (live)', () => {
  let state: string;
  let admin: string;
  const env = () => ({ XDG_STATE_HOME: state });
  const runs = (context: string) =>
    listRuns({ kind: 'cluster', context, server: clusterInfo().server }, env()).map((r) => r.runId);

  beforeAll(() => {
    state = mkdtempSync(join(tmpdir(), 'kh-seal-state-'));
    admin = clusterInfo().adminKubeconfig;
  });

  async function planOut(args: string[]): Promise<{ dir: string; json: Json }> {
    const dir = mkdtempSync(join(tmpdir(), 'kh-seal-plan-'));
    const r = await runCli(['plan', ...args, '--out', dir, '--kubeconfig', admin], { env: env() });
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const json = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Json;
    expect(r.stderr).toContain(`digest ${json.digest}`);
    return { dir, json };
  }

  /** A copy of a plan directory with plan.json edited; `reseal`: the editor rewrites the digest too. */
  function edited(dir: string, edit: (json: Json) => void, reseal: boolean): string {
    const copy = mkdtempSync(join(tmpdir(), 'kh-seal-edit-'));
    cpSync(dir, copy, { recursive: true });
    const file = join(copy, 'plan.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as Json;
    edit(json);
    if (reseal) {
      const mdFile = join(copy, 'PLAN.md');
      const md = readFileSync(mdFile, 'utf8');
      const seal = computeSeal(copy, json, blankDigestLine(md));
      writeFileSync(mdFile, md.replaceAll(json.digest.slice(7), seal.digest.slice(7)));
      json.digest = seal.digest;
      json.digestEntries = seal.entries;
    }
    writeFileSync(file, JSON.stringify(json, null, 2));
    return copy;
  }

  const apply = (dir: string, extra: string[] = [], kubeconfig = admin) =>
    runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig, ...extra], { env: env() });

  it('refuses the attacks of the issue (exit 6, nothing written), and applies the reviewed plan', async () => {
    const ns = await freshNamespace('seal');
    const { dir, json } = await planOut(['--step', 'psa-warn-audit', '-n', ns]);
    const reviewed = json.digest;
    expect(json.changes.map((c) => c.id)).toEqual([`psa-warn-audit/namespace/${ns}`]);
    const base = json.changes[0] as Record<string, unknown>;
    const kubeSystem = await kubectlJson<KubeObject>(['get', 'ns', 'kube-system']);

    const attacks: Array<{ name: string; change: Record<string, unknown>; refusal: string }> = [
      {
        name: 'a ClusterRoleBinding of cluster-admin',
        change: {
          ...base,
          id: 'psa-warn-audit/crb',
          operation: 'create',
          target: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            name: 'kh-seal-pwned',
          },
          baseResourceVersion: null,
          desired: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: 'kh-seal-pwned' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io' }],
          },
        },
        refusal: 'step psa-warn-audit never does "create ClusterRoleBinding (rbac.authorization.k8s.io/v1)"',
      },
      {
        name: 'enforce=restricted on kube-system',
        change: {
          ...base,
          id: 'psa-enforce/namespace/kube-system',
          step: 'psa-enforce',
          target: { apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' },
          baseResourceVersion: kubeSystem.metadata.resourceVersion,
          desired: {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: {
              name: 'kube-system',
              labels: { [`${PSA}enforce`]: 'restricted', [`${PSA}enforce-version`]: 'latest' },
            },
          },
        },
        refusal: 'step psa-enforce never touches Namespace kube-system',
      },
      {
        name: 'the deletion of a Namespace',
        change: {
          ...base,
          id: 'psa-warn-audit/delete',
          kind: 'delete',
          operation: 'delete',
          desired: undefined,
        },
        refusal: 'step psa-warn-audit never does "delete Namespace"',
      },
    ];
    for (const attack of attacks) {
      const add = (j: Json) => j.changes.push(attack.change);
      // The editor leaves the digest alone: the seal names the change.
      const plain = await apply(edited(dir, add, false));
      expect(plain.code, `${attack.name}: ${plain.stderr}`).toBe(ExitCode.input);
      expect(plain.stderr).toContain(
        `changed after it was sealed: plan.json changes[1] ${attack.change.id} was added`,
      );
      // The editor rewrites the digest as well: the step's declared targets refuse it, and so does the pinned digest.
      const resealed = edited(dir, add, true);
      const forged = await apply(resealed);
      expect(forged.code, `${attack.name}: ${forged.stderr}`).toBe(ExitCode.input);
      expect(forged.stderr).toContain(attack.refusal);
      const pinned = await apply(resealed, ['--expect-digest', reviewed]);
      expect(pinned.code).toBe(ExitCode.input);
      expect(pinned.stderr).toContain(`not the reviewed ${reviewed}`);
    }
    // Nothing was written, and no run was recorded.
    const crb = await kubectlRaw(['get', 'clusterrolebinding', 'kh-seal-pwned']);
    expect(crb.exitCode).not.toBe(0);
    const after = await kubectlJson<KubeObject>(['get', 'ns', 'kube-system']);
    expect(after.metadata.labels).toEqual(kubeSystem.metadata.labels);
    const nsAfter = await kubectlJson<KubeObject>(['get', 'ns', ns]);
    expect(nsAfter.metadata.deletionTimestamp).toBeUndefined();
    expect(nsAfter.metadata.labels?.[`${PSA}warn`]).toBeUndefined();
    expect(runs('admin')).toEqual([]);

    // The reviewed plan, pinned, applies; the output names each change with its operation and risk.
    const ok = await apply(dir, ['--expect-digest', reviewed.slice(7)]);
    expect(ok.code, ok.stderr).toBe(ExitCode.ok);
    expect(ok.stderr).toContain(`digest ${reviewed} verified (the expected one)`);
    expect(ok.stderr).toContain(`  update  namespace/${ns}  (risk low)`);
    expect((await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.[`${PSA}warn`]).toBe(
      'restricted',
    );
  });

  it('refuses a plan made for another context unless --context names the target and --allow-other-cluster is given', async () => {
    const ns = await freshNamespace('ctx');
    const { dir } = await planOut(['--step', 'psa-warn-audit', '-n', ns]);
    const other = join(mkdtempSync(join(tmpdir(), 'kh-seal-kc-')), 'config');
    writeFileSync(other, readFileSync(admin, 'utf8'));
    await kubectl(['config', 'rename-context', 'admin', 'admin-2'], { kubeconfig: other });
    for (const extra of [[], ['--allow-other-cluster'], ['--context', 'admin-2']]) {
      const r = await apply(dir, extra, other);
      expect(r.code, r.stderr).toBe(ExitCode.input);
      expect(r.stderr).toContain('context is "admin-2", the plan was made for "admin"');
    }
    expect(
      (await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.[`${PSA}warn`],
    ).toBeUndefined();
    const r = await apply(dir, ['--context', 'admin-2', '--allow-other-cluster'], other);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stderr).toContain('(--allow-other-cluster)');
    expect((await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.[`${PSA}warn`]).toBe(
      'restricted',
    );
  });

  it('refuses an enforce change when a violating Deployment appeared since the plan (exit 8), and verifies after applying', async () => {
    const ns = await freshNamespace('recheck');
    const { dir, json } = await planOut(['--step', 'psa-enforce', '-n', ns]);
    expect(json.changes.map((c) => c.id)).toEqual([`psa-enforce/namespace/${ns}`]);
    // Added between plan and apply: the Namespace did not change, so its resourceVersion is the planned one.
    await applyYaml(privilegedDeployment('late'), ns);
    const r = await apply(dir);
    expect(r.code, r.stderr).toBe(ExitCode.refused);
    expect(r.stderr).toMatch(
      new RegExp(
        `refused .*namespace/${ns}: enforcing restricted:v1\\.\\d+ on namespace ${ns} would reject pods of: Deployment ${ns}/late \\(privileged`,
      ),
    );
    expect(r.stderr).toContain('nothing to apply');
    expect(
      (await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.[`${PSA}enforce`],
    ).toBeUndefined();
    expect(runs('admin')).not.toContain(json.id);

    // Once the workload is gone, a new plan applies, and the step's verify runs.
    await kubectl(['delete', 'deployment', 'late', '-n', ns, '--cascade=foreground', '--wait=true']);
    await waitFor(
      async () => (await kubectlJson<{ items: unknown[] }>(['get', 'pods,rs', '-n', ns])).items.length === 0,
      {
        what: 'the deployment, its ReplicaSet and pods gone',
      },
    );
    const again = await planOut(['--step', 'psa-enforce', '-n', ns]);
    const ok = await apply(again.dir);
    expect(ok.code, ok.stderr).toBe(ExitCode.ok);
    expect(ok.stderr).toContain('verify psa-enforce: ok');
    expect((await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.[`${PSA}enforce`]).toBe(
      'restricted',
    );
  });

  it('manual and delete changes end to end: the artifact is to do by hand, never applied; the delete is previewed, listed and reported as a delete', async () => {
    const ns = await freshNamespace('kinds');
    await kubectl(['create', 'configmap', 'old', '-n', ns, '--from-literal=a=1']);
    const live: LiveCluster = connect({ kubeconfig: admin });
    const dir = mkdtempSync(join(tmpdir(), 'kh-seal-kinds-'));
    try {
      const reader = readOnly(live);
      const snapshot = await buildSnapshot(reader, { namespaces: [ns] });
      const now = new Date();
      const step = fixedStep('t', 1, [
        {
          kind: 'delete',
          id: 't/delete/old',
          target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'old' },
          risk: 'low',
          reason: 'no longer used',
        },
        {
          kind: 'manual',
          id: 't/manual/policy',
          artifact: { path: 'audit/policy.yaml', content: 'apiVersion: audit.k8s.io/v1\nkind: Policy\n' },
          instructions: 'Copy it to every control-plane node.',
          risk: 'manual',
          reason: 'outside the API',
        },
      ]);
      const plan = await buildPlan(reader, snapshot, {
        steps: [step as unknown as Step],
        options: { namespaces: [ns], exclude: [], settings: {}, now },
        assessment: assess(snapshot, { now }),
      });
      expect(plan.changes.map((c) => [c.kind, c.operation, c.preview])).toEqual([
        ['delete', 'delete', 'ok'],
        ['manual', 'manual', 'offline'],
      ]);
      writePlanDir(plan, dir);
    } finally {
      live.close();
    }
    expect(readFileSync(join(dir, 'artifacts/t/policy.yaml'), 'utf8')).toContain('kind: Policy');
    const r = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', admin], {
      env: env(),
      testSteps: true,
    });
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stderr).toContain(`  delete  configmap ${ns}/old  (risk low)`);
    expect(r.stderr).toContain(`deleted  configmap ${ns}/old`);
    expect(r.stderr).toContain(`to do by hand: ${dir}/artifacts/t/policy.yaml (t)`);
    expect(r.stderr).toMatch(/: 1 of 1 change\(s\) applied/);
    expect(r.stderr).not.toMatch(/applied +.*policy/);
    expect((await kubectlRaw(['get', 'configmap', 'old', '-n', ns])).exitCode).not.toBe(0);
  });

  it('verify after apply --plan detects FailedCreate of a workload that violates the enforced level', async () => {
    const ns = await freshNamespace('failedcreate');
    const live: LiveCluster = connect({ kubeconfig: admin });
    try {
      const reader = readOnly(live);
      const snapshot = await buildSnapshot(reader, { namespaces: [ns] });
      const now = new Date();
      const options: StepOptions = { namespaces: [ns], exclude: [], settings: {}, now };
      const plan = await buildPlan(reader, snapshot, {
        steps: [psaEnforce as unknown as Step],
        options,
        assessment: assess(snapshot, { now }),
      });
      const report = await applyPlan(live, plan, {
        confirmed: new Set(plan.changes.map((c) => c.id)),
        env: env(),
      });
      expect(report.outcomes.map((o) => o.outcome)).toEqual(['applied']);
      const signal = new AbortController().signal;
      const before = await verifyApplied(reader, plan, report, STEPS, options, signal);
      expect(before['psa-enforce']?.ok).toBe(true);
      // A violating workload after enforce: its ReplicaSet cannot create pods.
      await applyYaml(privilegedDeployment('bad'), ns);
      await waitFor(
        async () =>
          (
            await kubectlJson<{ items: unknown[] }>([
              'get',
              'events',
              '-n',
              ns,
              '--field-selector',
              'reason=FailedCreate',
            ])
          ).items.length > 0,
        { what: 'a FailedCreate event' },
      );
      const after = await verifyApplied(reader, plan, report, STEPS, options, signal);
      expect(after['psa-enforce']?.ok).toBe(false);
      expect(after['psa-enforce']?.messages.join('\n')).toMatch(
        new RegExp(`ReplicaSet ${ns}/bad-\\w+: .*violates PodSecurity "restricted`),
      );
    } finally {
      live.close();
    }
  });

  it('a user without the permissions: forbidden changes are dropped up front, named, exit 5; no empty run', async () => {
    const { limitedKubeconfig, users, auditLog } = clusterInfo();
    const allowed = await freshNamespace('may');
    const denied = await freshNamespace('maynot');
    const { dir, json } = await planOut(['--step', 'psa-warn-audit', '-n', allowed, '-n', denied]);
    expect(json.changes).toHaveLength(2);
    const flags = ['--context', 'limited', '--allow-other-cluster'];
    // No grant at all: everything is dropped, nothing is sent, no run is recorded.
    const none = await apply(dir, flags, limitedKubeconfig);
    expect(none.code, none.stderr).toBe(ExitCode.auth);
    expect(none.stderr).toContain(
      `forbidden update namespace/${denied}: you may not get namespaces/${denied}, patch namespaces/${denied}`,
    );
    expect(none.stderr).toContain('nothing to apply');
    expect(runs('limited')).toEqual([]);
    // get + patch on one namespace only: that one is applied, the other dropped and named.
    await applyYaml(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kh-seal-${allowed}}
rules: [{apiGroups: [""], resources: [namespaces], verbs: [get, patch], resourceNames: [${allowed}]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kh-seal-${allowed}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kh-seal-${allowed}}
subjects: [{kind: User, name: ${users.limited}, apiGroup: rbac.authorization.k8s.io}]
`);
    try {
      const some = await waitFor(
        async () => {
          const r = await apply(dir, flags, limitedKubeconfig);
          return r.stderr.includes(`forbidden update namespace/${allowed}`) ? undefined : r;
        },
        { what: 'the RBAC grant in effect' },
      );
      expect(some.code, some.stderr).toBe(ExitCode.auth);
      expect(some.stderr).toContain(
        `forbidden update namespace/${denied}: you may not get namespaces/${denied}, patch namespaces/${denied}`,
      );
      expect(some.stderr).toContain(`applied  namespace/${allowed}`);
      expect((await kubectlJson<KubeObject>(['get', 'ns', allowed])).metadata.labels?.[`${PSA}warn`]).toBe(
        'restricted',
      );
      expect(
        (await kubectlJson<KubeObject>(['get', 'ns', denied])).metadata.labels?.[`${PSA}warn`],
      ).toBeUndefined();
      expect(runs('limited')).toEqual([json.id]);
      if (auditLog) {
        // The known-forbidden write was never sent.
        const patches = readFileSync(auditLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map(
            (l) =>
              JSON.parse(l) as {
                verb?: string;
                user?: { username?: string };
                objectRef?: { resource?: string; name?: string };
              },
          )
          .filter(
            (e) =>
              e.user?.username === users.limited &&
              e.verb === 'patch' &&
              e.objectRef?.resource === 'namespaces',
          );
        expect(patches.map((e) => e.objectRef?.name)).not.toContain(denied);
        expect(patches.map((e) => e.objectRef?.name)).toContain(allowed);
      }
    } finally {
      await kubectl(['delete', 'clusterrolebinding,clusterrole', `kh-seal-${allowed}`]).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
  });
});
