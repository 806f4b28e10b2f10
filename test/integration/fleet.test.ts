/**
 * A fleet in one run (issue 16): two real control planes at once — the shared one and a second, light one started
 * here — plus an unreachable context, in one merged kubeconfig. `report` and `plan` read every context with
 * bounded concurrency; the unreachable and the limited ones are reported with their reasons (exit 7) and never
 * fail the others; each cluster's plan is sealed on its own and applies on its own.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ExitCode } from '../../src/errors.js';
import { type ControlPlane, freePort, startControlPlane } from '../cluster/control-plane.js';
import { applyYaml, clusterInfo, describeCluster, kubectlJson } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

interface KubeconfigDoc {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
}

/** The single context of `file`, renamed to `name` (its cluster and user too). */
function entry(file: string, name: string) {
  const kc = parse(readFileSync(file, 'utf8')) as KubeconfigDoc;
  const cluster = kc.clusters[0]?.cluster ?? {};
  const user = kc.users.find((u) => u.name === kc.contexts[0]?.context.user)?.user ?? {};
  return {
    cluster: { name, cluster },
    user: { name, user },
    context: { name, context: { cluster: name, user: name } },
  };
}

interface FleetJson {
  kind: string;
  totals: { clusters: number; ok: number; incomplete: number; failed: number };
  clusters: Array<{
    context: string;
    status: string;
    exitCode: number;
    reason?: string;
    server?: string;
    posture?: { unknown: number; phases: Record<string, string>; open: number };
    report?: { source: { context: string; server: string }; summary: { unknown: number } };
  }>;
}

describeCluster('fleet: report and plan over several clusters', () => {
  let second: ControlPlane | undefined;
  let work = '';
  let kubeconfig = '';

  beforeAll(async () => {
    second = await startControlPlane({ controllerManager: false, audit: false });
    work = mkdtempSync(join(tmpdir(), 'kube-harden-fleet-'));
    const down = `https://127.0.0.1:${await freePort()}`;
    const parts = [
      entry(clusterInfo().adminKubeconfig, 'alpha'),
      entry(second.adminKubeconfig, 'beta'),
      entry(second.limitedKubeconfig, 'beta-limited'),
      {
        cluster: { name: 'down', cluster: { server: down, 'insecure-skip-tls-verify': true } },
        user: { name: 'down', user: { token: 'nobody' } },
        context: { name: 'down', context: { cluster: 'down', user: 'down' } },
      },
    ];
    kubeconfig = join(work, 'fleet.kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: parts.map((p) => p.cluster),
        users: parts.map((p) => p.user),
        contexts: parts.map((p) => p.context),
        'current-context': 'alpha',
      }),
      { mode: 0o600 },
    );
    // Something to find on the second plane: an application namespace with a privileged Deployment.
    await applyYaml(
      `apiVersion: v1
kind: Namespace
metadata:
  name: beta-app
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  namespace: beta-app
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
        - name: agent
          image: registry.k8s.io/pause:3.10
          securityContext: {privileged: true}
`,
      undefined,
      { kubeconfig: second.adminKubeconfig },
    );
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('report --all-contexts -o json: every cluster, worst first; the unreachable and the limited one say why (exit 7)', async () => {
    const r = await runCli([
      'report',
      '--all-contexts',
      '--kubeconfig',
      kubeconfig,
      '-o',
      'json',
      '--request-timeout',
      '5s',
    ]);
    expect(r.code, r.stderr).toBe(ExitCode.incomplete);
    const fleet = JSON.parse(r.stdout) as FleetJson;
    expect(fleet.kind).toBe('fleet');
    expect(fleet.clusters.map((c) => [c.context, c.status, c.exitCode])).toEqual([
      ['down', 'failed', ExitCode.unreachable],
      ['beta-limited', 'incomplete', ExitCode.incomplete],
      // alpha and beta are both read completely; their order is by open findings, so only the set is fixed.
      ...fleet.clusters.slice(2).map((c) => [c.context, 'ok', ExitCode.ok]),
    ]);
    expect(
      fleet.clusters
        .slice(2)
        .map((c) => c.context)
        .sort(),
    ).toEqual(['alpha', 'beta']);
    expect(fleet.totals).toMatchObject({ clusters: 4, ok: 2, incomplete: 1, failed: 1 });
    const by = new Map(fleet.clusters.map((c) => [c.context, c]));
    expect(by.get('down')?.reason).toMatch(/127\.0\.0\.1/);
    expect(by.get('down')?.report).toBeUndefined();
    // Two different API servers, each report about its own.
    expect(by.get('alpha')?.report?.source).toMatchObject({ context: 'alpha', server: clusterInfo().server });
    expect(by.get('beta')?.report?.source).toMatchObject({ context: 'beta', server: second?.server });
    // The limited user's unknowns are its own; the same cluster read as admin has none.
    expect(by.get('beta-limited')?.posture?.unknown).toBeGreaterThan(0);
    expect(by.get('beta-limited')?.reason).toMatch(/could not be read: .*\(Forbidden\)/);
    expect(Object.values(by.get('beta-limited')?.posture?.phases ?? {})).not.toContain('done');
    expect(by.get('beta')?.report?.summary.unknown).toBe(0);
    expect(by.get('beta')?.posture?.phases['1']).toBe('open');
    expect(r.stderr).toContain('[down] error:');
  }, 120_000);

  it("report --context A --context B (text, one at a time): a row per cluster and the limited one's reason", async () => {
    const r = await runCli([
      'report',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'beta',
      '--context',
      'beta-limited',
      '--parallel',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(ExitCode.incomplete);
    expect(r.stdout).toMatch(/^kube-harden fleet report\n/);
    expect(r.stdout).toMatch(/\nbeta-limited +incomplete /);
    expect(r.stdout).toMatch(/\nbeta +ok /);
    expect(r.stdout).toMatch(/\nbeta-limited: \d+ resource type\(s\) could not be read/);
    expect(r.stderr).toContain('fleet: 2 context(s), 1 at a time');
    // One cluster alone is the ordinary report, as before.
    const one = await runCli(['report', '--kubeconfig', kubeconfig, '--context', 'beta']);
    expect(one.code, one.stderr).toBe(ExitCode.ok);
    expect(one.stdout).toMatch(/^kube-harden report\n/);
  }, 120_000);

  it('plan --all-contexts --out DIR: a sealed plan per reachable cluster and an index; a plan applies on its own cluster', async () => {
    const dir = join(work, 'plans');
    const r = await runCli([
      'plan',
      '--all-contexts',
      '--kubeconfig',
      kubeconfig,
      '--step',
      'psa-warn-audit',
      '-n',
      'beta-app',
      '--out',
      dir,
      '--request-timeout',
      '5s',
    ]);
    expect(r.code, r.stderr).toBe(ExitCode.incomplete);
    for (const c of ['alpha', 'beta', 'beta-limited'])
      expect(existsSync(join(dir, c, 'plan.json')), c).toBe(true);
    expect(existsSync(join(dir, 'down'))).toBe(false);
    const index = readFileSync(join(dir, 'PLAN.md'), 'utf8');
    const rows = index.split('\n').filter((l) => /^\| (alpha|beta|beta-limited|down) \|/.test(l));
    expect(rows.map((l) => l.split(' | ')[0]?.slice(2))).toEqual(['alpha', 'beta', 'beta-limited', 'down']);
    expect(rows[1]).toMatch(/^\| beta \| ok \| beta\/ \| 1 \| 0 \| sha256:[0-9a-f]{64} \|/);
    expect(rows[3]).toMatch(/^\| down \| failed \| - \|/);
    // The beta plan is an ordinary sealed plan: it applies on beta, after which beta has nothing left to do.
    const apply = await runCli([
      'apply',
      '--plan',
      join(dir, 'beta'),
      '--kubeconfig',
      kubeconfig,
      '--context',
      'beta',
      '--yes',
    ]);
    expect(apply.code, apply.stderr).toBe(ExitCode.ok);
    const ns = await kubectlJson<{ metadata: { labels: Record<string, string> } }>(
      ['get', 'namespace', 'beta-app'],
      {
        kubeconfig: second?.adminKubeconfig ?? '',
      },
    );
    expect(ns.metadata.labels['pod-security.kubernetes.io/warn']).toBeDefined();
    const again = await runCli([
      'plan',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'beta',
      '--step',
      'psa-warn-audit',
      '-n',
      'beta-app',
      '--detailed-exitcode',
    ]);
    expect(again.code, again.stderr).toBe(ExitCode.ok);
  }, 180_000);

  it('bad combinations are usage errors (exit 2) before anything is read', async () => {
    const cases = [
      ['report', '--all-contexts', '--context', 'alpha'],
      ['plan', '--context', 'alpha', '--context', 'beta'],
      ['plan', '--all-contexts', '--out', join(work, 'x'), '--detailed-exitcode'],
      ['report', '--manifests', 'examples/legacy-cluster', '--context', 'alpha', '--context', 'beta'],
      ['report', '--all-contexts', '--parallel', '0'],
    ];
    for (const args of cases) {
      const r = await runCli([...args, '--kubeconfig', kubeconfig]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(ExitCode.usage);
      expect(r.stderr).toMatch(/^error: /);
    }
  });
});
