/**
 * The change engine against the real control plane: preview (label diff + API server warnings, nothing written),
 * stale and conflicting changes, forbidden items, saved plans that refuse when the world moved, crash safety with
 * SIGKILL and undo, Secret canary, idempotence.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect, type LiveCluster } from '../../src/cluster/live.js';
import { applyPlan } from '../../src/engine/apply.js';
import { identityKey, listRuns, readJournal } from '../../src/engine/journal.js';
import { readPlanDir, writePlanDir } from '../../src/engine/plan-file.js';
import type { Change, Plan, Step } from '../../src/engine/types.js';
import { applyUndo, planUndo } from '../../src/engine/undo.js';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { psaWarnAudit } from '../../steps/psa-warn-audit.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  waitFor,
} from '../cluster/harness.js';
import { cliWithTestSteps, runCli } from '../support/cli.js';
import { planWith } from '../support/plan-with.js';
import { fixedStep, labelChange } from '../support/test-steps.js';

const CANARY = 'kh-canary-secret-9b41e7';

function nsRef(name: string) {
  return { apiVersion: 'v1', kind: 'Namespace', name };
}

function configMap(ns: string, name: string, data: Record<string, string>): Change {
  return {
    kind: 'apply',
    id: `cm/${ns}/${name}`,
    target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name },
    desired: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data },
    risk: 'low',
    reason: 'test',
  };
}

/** The cluster's identity: journals are kept under it. */
async function clusterUid(): Promise<string> {
  return (await kubectlJson<KubeObject>(['get', 'namespace', 'kube-system'])).metadata.uid as string;
}

function all(plan: Plan): Set<string> {
  return new Set(plan.changes.map((c) => c.id));
}

describeCluster('change engine (live)', () => {
  let admin: LiveCluster;
  let env: NodeJS.ProcessEnv;
  let state: string;

  beforeAll(() => {
    admin = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    env = { ...process.env, XDG_STATE_HOME: state };
  });

  it('previews a namespace label change as exactly the label diff, with the API server warnings, and writes nothing', async () => {
    const ns = await freshNamespace('preview');
    await applyYaml(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: root}\nspec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}\n',
      ns,
    );
    const before = (await admin.get(nsRef(ns))).value as KubeObject;
    const step = fixedStep('t-enforce', 2, [
      labelChange('enforce', ns, { 'pod-security.kubernetes.io/enforce': 'restricted' }, 'disruptive'),
    ]);
    const plan = await planWith(admin, [step], [ns]);
    const change = plan.changes[0];
    expect(change?.preview).toBe('ok');
    expect(change?.operation).toBe('update');
    expect(change?.baseResourceVersion).toBe(before.metadata.resourceVersion);
    const added = (change?.diff.text ?? '')
      .split('\n')
      .filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    const removed = (change?.diff.text ?? '')
      .split('\n')
      .filter((l) => l.startsWith('-') && !l.startsWith('---'));
    expect(removed).toEqual([]);
    // The label plus kube-harden's own marks (managed-by label, run and step annotations), nothing else.
    expect(added.map((l) => l.replace(/^\+\s*/, '+')).sort()).toEqual(
      [
        '+annotations:',
        `+kube-harden.io/run-id: ${plan.id}`,
        '+kube-harden.io/step: t-enforce',
        '+app.kubernetes.io/managed-by: kube-harden',
        '+pod-security.kubernetes.io/enforce: restricted',
      ].sort(),
    );
    expect(change?.warnings).toContain(
      `existing pods in namespace "${ns}" violate the new PodSecurity enforce level "restricted:latest"`,
    );
    const after = (await admin.get(nsRef(ns))).value as KubeObject;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('refuses a stale change (modified between preview and apply) and says so; applies the others', async () => {
    const a = await freshNamespace('stale-a');
    const b = await freshNamespace('stale-b');
    const plan = await planWith(
      admin,
      [fixedStep('t', 1, [labelChange('a', a, { team: 'x' }), labelChange('b', b, { team: 'y' })])],
      [a, b],
    );
    await kubectl(['label', 'ns', a, 'someone=else']);
    const report = await applyPlan(admin, plan, { confirmed: all(plan), env });
    const byId = Object.fromEntries(report.outcomes.map((o) => [o.id, o]));
    expect(byId.a?.outcome).toBe('stale');
    expect(byId.a?.message).toMatch(/changed since the preview.*preview again/);
    expect(byId.b?.outcome).toBe('applied');
    const liveA = await kubectlJson<KubeObject>(['get', 'ns', a]);
    expect(liveA.metadata.labels?.team).toBeUndefined();
    expect(liveA.metadata.labels?.someone).toBe('else');
  });

  it('shows a field owned by another field manager as a conflict and does not force it', async () => {
    const ns = await freshNamespace('conflict');
    await kubectl(['label', 'ns', ns, 'pod-security.kubernetes.io/warn=baseline']);
    const plan = await planWith(
      admin,
      [fixedStep('t', 1, [labelChange('w', ns, { 'pod-security.kubernetes.io/warn': 'restricted' })])],
      [ns],
    );
    const change = plan.changes[0];
    expect(change?.preview).toBe('unavailable');
    expect(change?.conflicts).toEqual([
      { manager: 'kubectl-label', field: '.metadata.labels.pod-security.kubernetes.io/warn' },
    ]);
    expect(change?.diff.text).toContain('+    pod-security.kubernetes.io/warn: restricted');
    const report = await applyPlan(admin, plan, { confirmed: all(plan), env });
    expect(report.outcomes[0]?.outcome).toBe('conflict');
    expect(report.outcomes[0]?.conflicts?.[0]?.manager).toBe('kubectl-label');
    expect(
      (await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.['pod-security.kubernetes.io/warn'],
    ).toBe('baseline');
    // Only the operator's explicit choice takes the field over.
    const again = await planWith(
      admin,
      [fixedStep('t', 1, [labelChange('w', ns, { 'pod-security.kubernetes.io/warn': 'restricted' })])],
      [ns],
    );
    const forced = await applyPlan(admin, again, { confirmed: all(again), takeOver: all(again), env });
    expect(forced.outcomes[0]?.outcome).toBe('applied');
    expect(
      (await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.['pod-security.kubernetes.io/warn'],
    ).toBe('restricted');
  });

  it('reports forbidden changes per item with the missing permission; nothing else is affected', async () => {
    const ok = await freshNamespace('rbac-ok');
    const no = await freshNamespace('rbac-no');
    const { users, limitedKubeconfig } = clusterInfo();
    await applyYaml(
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-writer}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list, create, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: cm-writer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-writer}
subjects: [{kind: User, name: ${users.limited}, apiGroup: rbac.authorization.k8s.io}]
`,
      ok,
    );
    const limited = connect({ kubeconfig: limitedKubeconfig });
    const plan = await planWith(
      admin,
      [fixedStep('t', 1, [configMap(ok, 'a', { k: 'v' }), configMap(no, 'b', { k: 'v' })])],
      [ok, no],
    );
    const report = await applyPlan(limited, plan, { confirmed: all(plan), env });
    const byId = Object.fromEntries(report.outcomes.map((o) => [o.id, o]));
    expect(byId[`cm/${ok}/a`]?.outcome).toBe('applied');
    expect(byId[`cm/${no}/b`]?.outcome).toBe('forbidden');
    expect(byId[`cm/${no}/b`]?.message).toContain(`cannot get configmaps/b in namespace ${no}`);
    expect(report.state).toBe('complete');
    limited.close();
  });

  it('a preview that cannot be made says "preview unavailable" and why — never "no changes"', async () => {
    const ns = await freshNamespace('nopreview');
    const limited = connect({ kubeconfig: clusterInfo().limitedKubeconfig });
    try {
      // The limited user may not even read the target: the change is kept, unpreviewed, with the reason.
      const plan = await planWith(limited, [fixedStep('t', 1, [configMap(ns, 'x', { a: '1' })])], [ns]);
      const change = plan.changes[0];
      expect(change?.preview).toBe('unavailable');
      expect(change?.previewError).toMatch(/forbidden: cannot get configmaps\/x in namespace/);
      expect(change?.diff.text).toBe('');
      expect(plan.steps[0]?.noops).toEqual([]);
      expect(plan.unknown.length).toBeGreaterThan(0);
    } finally {
      limited.close();
    }
  });

  it('a preview the user may read but not write is kept as "preview unavailable", with the missing permission', async () => {
    const ns = await freshNamespace('readonly');
    const { users, limitedKubeconfig } = clusterInfo();
    await applyYaml(
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: cm-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
subjects: [{kind: User, name: ${users.limited}, apiGroup: rbac.authorization.k8s.io}]
`,
      ns,
    );
    const limited = connect({ kubeconfig: limitedKubeconfig });
    try {
      const plan = await planWith(limited, [fixedStep('t', 1, [configMap(ns, 'x', { a: '1' })])], [ns]);
      const change = plan.changes[0];
      expect(change?.preview).toBe('unavailable');
      expect(change?.previewError).toMatch(/forbidden: cannot patch \(dry-run\) configmaps\/x in namespace/);
      expect(change?.diff.text).toBe('');
      expect(plan.steps[0]?.noops).toEqual([]);
    } finally {
      limited.close();
    }
  });

  it('a saved plan applied after a target changed refuses and names the object; re-planning then applies cleanly', async () => {
    const ns = await freshNamespace('saved');
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const step = fixedStep('t', 1, [
      labelChange('l', ns, { tier: 'gold' }),
      configMap(ns, 'settings', { a: '1' }),
    ]);
    writePlanDir(await planWith(admin, [step], [ns]), dir);
    await kubectl(['label', 'ns', ns, 'moved=yes']);
    const kubeconfig = clusterInfo().adminKubeconfig;
    const refused = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], {
      env: { XDG_STATE_HOME: state },
      testSteps: true,
    });
    expect(refused.code).toBe(ExitCode.refused);
    expect(refused.stderr).toContain(`namespace/${ns}: resourceVersion`);
    expect(refused.stderr).toContain('plan again');
    expect((await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.tier).toBeUndefined();
    // Re-plan and apply.
    writePlanDir(await planWith(admin, [step], [ns]), dir);
    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], {
      env: { XDG_STATE_HOME: state },
      testSteps: true,
    });
    expect(applied.code, applied.stderr).toBe(ExitCode.ok);
    expect((await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.tier).toBe('gold');
    expect(
      readPlanDir(dir)
        .changes.map((c) => c.target?.kind)
        .sort(),
    ).toEqual(['ConfigMap', 'Namespace']);
  });

  it('crash safety: SIGKILL after the first change is journaled, then undo restores every touched field and deletes what was created', async () => {
    const ns = await freshNamespace('crash');
    await kubectl(['label', 'ns', ns, 'keep=me', 'tier=bronze']);
    await kubectl(['create', 'configmap', 'existing', '-n', ns, '--from-literal=a=1']);
    const before = await kubectlJson<KubeObject>(['get', 'ns', ns]);
    const beforeCm = await kubectlJson<KubeObject>(['get', 'configmap', 'existing', '-n', ns]);
    const step = fixedStep('t', 1, [
      labelChange('l', ns, { tier: 'gold', added: 'yes' }),
      configMap(ns, 'existing', { a: '2', b: '3' }),
      configMap(ns, 'created-1', { x: '1' }),
      configMap(ns, 'created-2', { x: '2' }),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    // tier=bronze is owned by kubectl-label: take it over (explicit) so the change is applied.
    const plan = await planWith(admin, [step], [ns]);
    writePlanDir(plan, dir);
    const kubeconfig = clusterInfo().adminKubeconfig;
    const journalDir = join(state, 'kube-harden', identityKey(await clusterUid()));
    const journal = join(journalDir, `${plan.id}.jsonl`);
    // One request per second: the kill lands between changes.
    const child = spawn(
      process.execPath,
      [
        cliWithTestSteps,
        'apply',
        '--plan',
        dir,
        '--yes',
        '--force-conflicts',
        '--kubeconfig',
        kubeconfig,
        '--qps',
        '1',
        '--burst',
        '1',
      ],
      {
        env: { ...process.env, XDG_STATE_HOME: state },
        stdio: 'ignore',
      },
    );
    await waitFor(
      () =>
        existsSync(journal) &&
        readJournal(journal).some((e) => e.type === 'result' && e.outcome === 'applied'),
      {
        what: 'the first applied change in the journal',
        timeoutMs: 30_000,
        intervalMs: 20,
      },
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const entries = readJournal(journal);
    expect(entries.some((e) => e.type === 'end')).toBe(false);
    expect(entries.filter((e) => e.type === 'intent').length).toBeLessThan(4);
    expect(
      listRuns(
        { kind: 'cluster', context: 'admin', server: clusterInfo().server },
        { XDG_STATE_HOME: state },
      ).find((r) => r.runId === plan.id)?.state,
    ).toBe('interrupted');

    const undone = await runCli(['undo', plan.id, '--yes', '--kubeconfig', kubeconfig], {
      env: { XDG_STATE_HOME: state },
    });
    expect(undone.code, undone.stderr).toBe(ExitCode.ok);
    const after = await kubectlJson<KubeObject>(['get', 'ns', ns]);
    expect(after.metadata.labels).toEqual(before.metadata.labels);
    expect(after.metadata.annotations ?? {}).toEqual(before.metadata.annotations ?? {});
    const afterCm = await kubectlJson<KubeObject>(['get', 'configmap', 'existing', '-n', ns]);
    expect(afterCm.data).toEqual(beforeCm.data);
    expect(afterCm.metadata.labels ?? {}).toEqual(beforeCm.metadata.labels ?? {});
    const cms = await kubectlJson<{ items: KubeObject[] }>(['get', 'configmaps', '-n', ns]);
    expect(cms.items.map((c) => c.metadata.name).filter((n) => n.startsWith('created-'))).toEqual([]);
    const runs = await runCli(['runs', '--kubeconfig', kubeconfig, '-o', 'json'], {
      env: { XDG_STATE_HOME: state },
    });
    expect(
      (JSON.parse(runs.stdout) as Array<{ runId: string; state: string }>).find((r) => r.runId === plan.id)
        ?.state,
    ).toBe('undone');
  });

  it('Ctrl-C: the first SIGINT finishes the request in flight and stops cleanly; the journal says interrupted', async () => {
    const ns = await freshNamespace('sigint');
    const step = fixedStep('t', 1, [
      configMap(ns, 'one', { a: '1' }),
      configMap(ns, 'two', { a: '2' }),
      configMap(ns, 'three', { a: '3' }),
      configMap(ns, 'four', { a: '4' }),
    ]);
    const plan = await planWith(admin, [step], [ns]);
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    writePlanDir(plan, dir);
    const journalDir = join(state, 'kube-harden', identityKey(await clusterUid()));
    const journal = join(journalDir, `${plan.id}.jsonl`);
    const child = spawn(
      process.execPath,
      [
        cliWithTestSteps,
        'apply',
        '--plan',
        dir,
        '--yes',
        '--kubeconfig',
        clusterInfo().adminKubeconfig,
        '--qps',
        '1',
        '--burst',
        '1',
      ],
      { env: { ...process.env, XDG_STATE_HOME: state }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    await waitFor(() => existsSync(journal) && readJournal(journal).some((e) => e.type === 'result'), {
      what: 'the first result in the journal',
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(ExitCode.interrupted);
    expect(stderr).toContain('interrupted: finishing the request in flight');
    const entries = readJournal(journal);
    const end = entries.find((e) => e.type === 'end');
    expect(end && end.type === 'end' ? end.state : undefined).toBe('interrupted');
    // Every intent has its result: nothing was left half-done.
    const intents = entries.filter((e) => e.type === 'intent').map((e) => (e as { seq: number }).seq);
    const results = entries.filter((e) => e.type === 'result').map((e) => (e as { seq: number }).seq);
    expect(results).toEqual(intents);
    expect(intents.length).toBeLessThan(4);
    const cms = await kubectlJson<{ items: KubeObject[] }>(['get', 'configmaps', '-n', ns]);
    expect(cms.items.filter((c) => c.metadata.name !== 'kube-root-ca.crt')).toHaveLength(intents.length);
    // Journals are private: directory 0700, file 0600.
    expect(statSync(journalDir).mode & 0o777).toBe(0o700);
    expect(statSync(journal).mode & 0o777).toBe(0o600);
  });

  it('never shows a Secret value: previews, plans, journals, outputs and errors stay free of the canary', async () => {
    const ns = await freshNamespace('canary');
    // A client-side apply puts stringData into the last-applied annotation, the classic leak.
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      input: `apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: ${CANARY}}\n`,
    });
    const secretRef = { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'db' };
    // The leak path is really there: the live object carries the canary in its last-applied annotation.
    const liveSecret = await kubectlJson<KubeObject>(['get', 'secret', 'db', '-n', ns]);
    expect(liveSecret.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      CANARY,
    );
    const change: Change = {
      kind: 'apply',
      id: 'secret-label',
      target: secretRef,
      desired: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: ns, labels: { rotated: 'no' } },
      },
      risk: 'low',
      reason: 'test',
    };
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const plan = await planWith(admin, [fixedStep('t', 1, [change])], [ns]);
    writePlanDir(plan, dir);
    const report = await applyPlan(admin, plan, { confirmed: all(plan), env });
    expect(report.outcomes[0]?.outcome).toBe('applied');
    const undo = await planUndo(admin, report.journalPath);
    const texts = [
      JSON.stringify(plan),
      ...readdirSync(dir, { recursive: true })
        .map((f) => join(dir, String(f)))
        .filter((f) => f.endsWith('.json') || f.endsWith('.md') || f.endsWith('.yaml'))
        .map((f) => readFileSync(f, 'utf8')),
      readFileSync(report.journalPath, 'utf8'),
      JSON.stringify(report),
      JSON.stringify(undo),
    ];
    for (const t of texts) expect(t).not.toContain(CANARY);
    expect(plan.changes[0]?.diff.text).toContain('password: "***"');
    // Undo of a Secret change: the before-image is a hash, so it is a conflict to resolve by hand, not a guess.
    expect(undo.items[0]?.action).toBe('conflict');
    const cli = await runCli(
      ['plan', '-n', ns, '--kubeconfig', clusterInfo().adminKubeconfig, '-o', 'json'],
      { env: { XDG_STATE_HOME: state } },
    );
    expect(cli.stdout + cli.stderr).not.toContain(CANARY);
  });

  it('never journals a Secret value: a label change on a Secret whose data kube-harden owns, and a plan that writes a Secret', async () => {
    const ns = await freshNamespace('canary-owned');
    const b64 = Buffer.from(CANARY).toString('base64');
    const leaks = (text: string) => text.includes(CANARY) || text.includes(b64);
    // kube-harden's field manager owns the data: every later apply starts from the fields it owns.
    await kubectl(['apply', '--server-side', '--field-manager=kube-harden', '-n', ns, '-f', '-'], {
      input: `apiVersion: v1\nkind: Secret\nmetadata: {name: owned}\ndata: {password: ${b64}}\n`,
    });
    const labelOwned: Change = {
      kind: 'apply',
      id: 'owned-label',
      target: { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'owned' },
      desired: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'owned', namespace: ns, labels: { rotated: 'no' } },
      },
      risk: 'low',
      reason: 'test',
    };
    const created: Change = {
      kind: 'apply',
      id: 'new-secret',
      target: { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'generated' },
      desired: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'generated', namespace: ns },
        data: { token: b64 },
      } as KubeObject,
      risk: 'low',
      reason: 'test',
    };
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const plan = await planWith(admin, [fixedStep('t', 1, [labelOwned, created])], [ns]);
    writePlanDir(plan, dir);
    const report = await applyPlan(admin, plan, { confirmed: all(plan), env });
    expect(report.outcomes.map((o) => o.outcome)).toEqual(['applied', 'applied']);
    // The writes really carried the values (the owned data kept, the new Secret's data written).
    const owned = await kubectlJson<KubeObject>(['get', 'secret', 'owned', '-n', ns]);
    expect((owned as unknown as { data: Record<string, string> }).data.password).toBe(b64);
    expect(owned.metadata.labels?.rotated).toBe('no');
    const generated = await kubectlJson<KubeObject>(['get', 'secret', 'generated', '-n', ns]);
    expect((generated as unknown as { data: Record<string, string> }).data.token).toBe(b64);
    const journal = readFileSync(report.journalPath, 'utf8');
    expect(leaks(journal)).toBe(false);
    const intents = readJournal(report.journalPath).filter((e) => e.type === 'intent');
    // Hashes stand in for the values, so undo can still tell which keys the run named.
    expect(JSON.stringify(intents)).toMatch(/"password":"sha256:[0-9a-f]{64}"/);
    expect(JSON.stringify(intents)).toMatch(/"token":"sha256:[0-9a-f]{64}"/);
    const undo = await planUndo(admin, report.journalPath);
    const texts = [
      JSON.stringify(report),
      JSON.stringify(undo),
      ...readdirSync(dir, { recursive: true })
        .map((f) => join(dir, String(f)))
        .filter((f) => statSync(f).isFile())
        .map((f) => readFileSync(f, 'utf8')),
    ];
    for (const t of texts) expect(leaks(t)).toBe(false);
    // The created Secret is deleted by undo; the owned one's before-image is a hash: a conflict, never a guess.
    const outcomes = await applyUndo(admin, undo);
    expect(outcomes.map((o) => `${o.item.target.name}:${o.outcome}`).sort()).toEqual([
      'generated:deleted',
      'owned:conflict',
    ]);
    expect(leaks(readFileSync(report.journalPath, 'utf8'))).toBe(false);
  });

  it('idempotence: applying a psa-warn-audit plan and planning again yields no changes', async () => {
    const ns = await freshNamespace('idem');
    const first = await planWith(admin, [psaWarnAudit as unknown as Step], [ns]);
    expect(first.changes).toHaveLength(1);
    const report = await applyPlan(admin, first, { confirmed: all(first), env });
    expect(report.outcomes.map((o) => o.outcome)).toEqual(['applied']);
    const second = await planWith(admin, [psaWarnAudit as unknown as Step], [ns]);
    expect(second.changes).toEqual([]);
    // Undo in-process restores exactly the labels from before.
    const undo = await planUndo(admin, report.journalPath);
    await applyUndo(admin, undo);
    const live = await kubectlJson<KubeObject>(['get', 'ns', ns]);
    expect(Object.keys(live.metadata.labels ?? {}).filter((k) => k.startsWith('pod-security'))).toEqual([]);
  });
});

describe('saved plan files', () => {
  it('reject malformed plan.json with a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-bad-plan-'));
    const r = await runCli(['apply', '--plan', dir, '--yes']);
    expect(r.code).toBe(ExitCode.input);
    expect(r.stderr).toMatch(/no plan.json in/);
  });
});
