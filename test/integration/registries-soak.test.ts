/**
 * registries-enforce's soak on the real API server: deny follows `--registries-soak` days (7 by default) of
 * warnings with this allow-list, counted from the time the API server kept in kube-harden's managedFields entries
 * of the policy and its binding (not from the journal).
 *
 * On one fresh namespace: registries-warn applied; the server's objects carry kube-harden's managedFields time;
 * right after, enforce with the default is not proposed and the finding says 0 days (plan --detailed-exitcode
 * exits 0: findings are not changes); with --registries-soak 0 it is proposed; planned in-process 8 days later
 * (options.now) it is proposed, its reason saying since when.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type LiveCluster, readOnly } from '../../src/cluster/live.js';
import { buildPlan } from '../../src/engine/plan.js';
import type { Step, StepOptions } from '../../src/engine/types.js';
import { warnSinceOf } from '../../src/engine/warnings-xcheck.js';
import { ExitCode } from '../../src/errors.js';
import { buildSnapshot } from '../../src/inventory/build.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { assess } from '../../src/policy/assess.js';
import { POLICY_NAME } from '../../steps/kit/registries.js';
import { registriesEnforce } from '../../steps/registries-enforce.js';
import {
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';
import { cliSession } from '../support/cli-session.js';

interface PlanJson {
  changes: Array<{ id: string; kind: string; reason: string }>;
  steps: Array<{
    id: string;
    findings: Array<{ control: string; target: { kind: string; name: string }; message: string }>;
  }>;
}

const DAY = 86_400_000;

describeCluster('registries-enforce: the soak, timed by the API server (live)', () => {
  const cli = cliSession();
  let ns: string;
  let admin: LiveCluster;
  const ALLOW = ['--allow-registry', 'ghcr.io/acme'];

  const planEnforce = async (extra: string[] = []) => {
    const r = await runCli(
      [
        'plan',
        '-n',
        ns,
        '--step',
        'registries-enforce',
        ...ALLOW,
        ...extra,
        '--detailed-exitcode',
        '--format',
        'json',
        '--kubeconfig',
        cli.kubeconfig,
      ],
      { env: cli.env() },
    );
    return { code: r.code, plan: JSON.parse(r.stdout) as PlanJson, stderr: r.stderr };
  };

  beforeAll(async () => {
    admin = connect({ kubeconfig: cli.kubeconfig });
    ns = await freshNamespace('reg-soak');
    await kubectl(['create', 'deployment', 'api', '-n', ns, '--image=ghcr.io/acme/api:1']);
  }, 60_000);

  afterAll(async () => {
    await kubectlRaw(['delete', 'validatingadmissionpolicybinding', POLICY_NAME, '--ignore-not-found']);
    await kubectlRaw(['delete', 'validatingadmissionpolicy', POLICY_NAME, '--ignore-not-found']);
  });

  it('right after warn: not proposed, the finding says 0 days (exit 0); --registries-soak 0 or 8 days later: proposed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await runCli(
      ['plan', '-n', ns, '--step', 'registries-warn', ...ALLOW, '--out', dir, '--kubeconfig', cli.kubeconfig],
      { env: cli.env() },
    );
    expect([ExitCode.ok, ExitCode.incomplete], planned.stderr).toContain(planned.code);
    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 120_000,
    });
    expect(applied.code, applied.stderr + applied.stdout).toBe(ExitCode.ok);
    await waitFor(
      async () => {
        const r = await kubectlRaw(['run', 'x', '-n', ns, '--image=evil.example/x', '--dry-run=server']);
        return r.exitCode === 0 && r.stderr.includes(POLICY_NAME);
      },
      { what: 'the warn binding to act' },
    );

    // The API server keeps the time of kube-harden's apply in its managedFields entry: that is the start.
    const live = await Promise.all(
      ['validatingadmissionpolicy', 'validatingadmissionpolicybinding'].map(
        (kind) =>
          kubectlJson([
            'get',
            kind,
            POLICY_NAME,
            '--show-managed-fields',
            '-o',
            'json',
          ]) as Promise<KubeObject>,
      ),
    );
    for (const o of live)
      expect(o.metadata.managedFields?.some((e) => e.manager === 'kube-harden' && e.time)).toBe(true);
    const since = warnSinceOf(live) as string;
    expect(Math.abs(Date.now() - Date.parse(since))).toBeLessThan(10 * 60_000);

    // Default soak (7 days): not proposed; the finding on the binding says 0 days; no change, so exit 0.
    const early = await planEnforce();
    expect(early.plan.changes.filter((c) => c.kind !== 'manual')).toEqual([]);
    expect(
      early.plan.steps
        .find((s) => s.id === 'registries-enforce')
        ?.findings.map((f) => [f.control, f.target.kind, f.target.name, f.message]),
    ).toEqual([
      [
        'KH-IMAGE-REGISTRY-SOAKING',
        'ValidatingAdmissionPolicyBinding',
        POLICY_NAME,
        `warn has been in place for 0 day(s) (since ${since}): deny is proposed after 7 days of warnings (--registries-soak; 0 to skip)`,
      ],
    ]);
    expect(early.code, early.stderr).toBe(ExitCode.ok);

    // --registries-soak 0: proposed at once (the API server's cross-check agreeing); exit 2, changes.
    const now = await planEnforce(['--registries-soak', '0']);
    expect(now.plan.changes.map((c) => c.id)).toEqual(['registries-enforce/binding']);
    expect(now.plan.changes[0]?.reason).toMatch(
      /cross-checked by the API server.*no soak \(--registries-soak 0\)/,
    );
    expect(now.code, now.stderr).toBe(ExitCode.usage);

    // The same live objects, planned 8 days later (the CLI has no clock to set: the engine in-process).
    const later = new Date(Date.parse(since) + 8 * DAY);
    const reader = readOnly(admin);
    const snapshot = await buildSnapshot(reader, { namespaces: [ns] });
    const options: StepOptions = {
      namespaces: [ns],
      exclude: [],
      settings: { 'registries-warn.allow': ['ghcr.io/acme'] },
      now: later,
    };
    const plan = await buildPlan(reader, snapshot, {
      steps: [registriesEnforce as unknown as Step],
      options,
      assessment: assess(snapshot, { now: later }),
    });
    expect(plan.changes.map((c) => c.id)).toEqual(['registries-enforce/binding']);
    expect(plan.changes[0]?.reason).toContain(
      `warn has been in place for 8 day(s) (since ${since}), past the soak of 7 days`,
    );
    expect(plan.steps.flatMap((s) => s.findings)).toEqual([]);
  });
});
