/**
 * registries-enforce's gate cross-checked by the real API server (issue 13): the Snapshot's evaluation and a
 * dry-run of the policy in place over each workload's images must agree before deny is proposed.
 *
 * On one fresh namespace: before registries-warn is in place the cross-check is not run and enforce is not
 * proposed; warn applied; a Deployment with an untrusted image created while warn is live (admitted with the
 * policy's Warning); enforce is blocked by both verdicts; the policy edited by hand to let that registry through
 * makes the two disagree (both verdicts named); restored and the image fixed, enforce is proposed — its reason
 * says it was cross-checked; a bad workload added after that plan makes apply --plan refuse it (the gate runs
 * again); removed, the plan applies; planned again under the deny binding, the server's refusals are read the
 * same way.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readPlanDir } from '../../src/engine/plan-file.js';
import { ExitCode } from '../../src/errors.js';
import { POLICY_NAME } from '../../steps/kit/registries.js';
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
import { bindingActions } from '../support/registry-binding.js';

interface PlanJson {
  changes: Array<{ id: string; reason: string; desired?: { spec: Record<string, unknown> } }>;
  steps: Array<{
    id: string;
    findings: Array<{ control: string; target: { kind: string }; message: string }>;
  }>;
}

const deployment = (namespace: string, name: string, image: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 1,
      // Recreate: without a kubelet a new pod never becomes ready, and a rolling update would keep the old one.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
    },
  });

describeCluster('registries-enforce: the Snapshot cross-checked by the API server (live)', () => {
  const cli = cliSession();
  let ns: string;
  const ALLOW = ['--allow-registry', 'ghcr.io/acme'];

  const planEnforce = async (): Promise<PlanJson> => {
    const r = await runCli(
      [
        'plan',
        '-n',
        ns,
        '--step',
        'registries-enforce',
        ...ALLOW,
        // Right after warn: no soak (test/integration/registries-soak.test.ts).
        '--registries-soak',
        '0',
        '--format',
        'json',
        '--kubeconfig',
        cli.kubeconfig,
      ],
      { env: cli.env() },
    );
    return JSON.parse(r.stdout) as PlanJson;
  };
  const findingsOf = (p: PlanJson) => p.steps.find((s) => s.id === 'registries-enforce')?.findings ?? [];

  beforeAll(async () => {
    ns = await freshNamespace('reg-xcheck');
    await kubectl(['create', '-f', '-'], { input: deployment(ns, 'api', 'ghcr.io/acme/api:1') });
  }, 60_000);

  afterAll(async () => {
    await kubectlRaw(['delete', 'validatingadmissionpolicybinding', POLICY_NAME, '--ignore-not-found']);
    await kubectlRaw(['delete', 'validatingadmissionpolicy', POLICY_NAME, '--ignore-not-found']);
  });

  it('not run before warn; blocked by both; a disagreement named; fixed, proposed and applied', async () => {
    // 1. No warn binding in place: the server cannot judge a policy it does not run — not run, not proposed.
    const before = await planEnforce();
    expect(before.changes).toEqual([]);
    expect(findingsOf(before).map((f) => [f.control, f.target.kind, f.message])).toEqual([
      [
        'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
        'ValidatingAdmissionPolicyBinding',
        expect.stringContaining(
          "the API server's cross-check was not run: registries-warn's binding is not in place",
        ),
      ],
    ]);

    // 2. registries-warn applied with the allow-list; wait until the policy acts.
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

    // 3. A Deployment with an untrusted image, created while warn is live: admitted, with the policy's Warning.
    const created = await kubectlRaw(['create', '-f', '-'], {
      input: deployment(ns, 'bad', 'evil.example/x:1'),
    });
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stderr).toContain('container app uses evil.example/x:1');

    // 4. Enforce: blocked by the Snapshot, and the server's dry-run denies the same.
    const blocked = await planEnforce();
    expect(blocked.changes).toEqual([]);
    const nsFinding = findingsOf(blocked).find((f) => f.target.kind === 'Namespace');
    expect(nsFinding?.message).toContain(
      `Deployment ${ns}/bad: container app uses evil.example/x:1 — registry evil.example is not allowed`,
    );
    expect(nsFinding?.message).toContain("(the API server's dry-run of the policy in place denies the same)");
    expect(findingsOf(blocked).filter((f) => f.control === 'KH-UNKNOWN')).toEqual([]);

    // 5. Someone edits the policy in place to let evil.example through (its allow-list unchanged): the server now
    //    admits what kube-harden's evaluation denies — a disagreement, with both verdicts.
    const policy = await kubectlJson<{ spec: { variables: Array<{ name: string; expression: string }> } }>([
      'get',
      'validatingadmissionpolicy',
      POLICY_NAME,
    ]);
    const index = policy.spec.variables.findIndex((v) => v.name === 'violations');
    const original = policy.spec.variables[index]?.expression as string;
    const bypass = original.replace('.filter(c, ', ".filter(c, !c[7].startsWith('evil.example/') && ");
    expect(bypass).not.toBe(original);
    const patch = (expression: string) =>
      kubectl([
        'patch',
        'validatingadmissionpolicy',
        POLICY_NAME,
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'replace', path: `/spec/variables/${index}/expression`, value: expression }]),
      ]);
    await patch(bypass);
    const disagreeing = await waitFor(
      async () => {
        const p = await planEnforce();
        return findingsOf(p).some((f) => f.target.kind === 'Deployment') ? p : undefined;
      },
      { what: 'the edited policy to act', timeoutMs: 60_000 },
    );
    expect(disagreeing.changes).toEqual([]);
    expect(findingsOf(disagreeing).find((f) => f.target.kind === 'Deployment')?.message).toContain(
      `Deployment ${ns}/bad: container app uses evil.example/x:1 — kube-harden's evaluation: denied (registry evil.example is not allowed); the API server's dry-run of the policy in place: admitted`,
    );

    // 6. The policy restored and the image fixed: enforce is proposed, cross-checked, and applies.
    await patch(original);
    await kubectl(['set', 'image', '-n', ns, 'deployment/bad', 'app=ghcr.io/acme/bad:2']);
    const proposed = await waitFor(
      async () => {
        const p = await planEnforce();
        return p.changes.length ? p : undefined;
      },
      { what: 'enforce to be proposed', timeoutMs: 60_000 },
    );
    expect(proposed.changes.map((c) => c.id)).toEqual(['registries-enforce/binding']);
    expect(proposed.changes[0]?.reason).toMatch(
      /cross-checked by the API server: a dry-run of the policy in place over 2 workload\(s\) \(2 request\(s\)\) denies nothing/,
    );
    const dir2 = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    await runCli(
      [
        'plan',
        '-n',
        ns,
        '--step',
        'registries-enforce',
        ...ALLOW,
        '--registries-soak',
        '0',
        '--out',
        dir2,
        '--kubeconfig',
        cli.kubeconfig,
      ],
      {
        env: cli.env(),
      },
    );
    expect(readPlanDir(dir2).changes.map((c) => c.id)).toEqual(['registries-enforce/binding']);
    // A bad workload added after the plan was made: apply --plan re-runs the gate and refuses the deny binding.
    await kubectlRaw(['create', '-f', '-'], { input: deployment(ns, 'late', 'evil.example/late:1') });
    const refused = await runCli(['apply', '--plan', dir2, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 120_000,
    });
    expect(refused.code, refused.stderr + refused.stdout).toBe(ExitCode.refused);
    expect(refused.stderr).toContain(`Deployment ${ns}/late: container app uses evil.example/late:1`);
    expect(refused.stderr).toContain("the API server's dry-run would deny");
    expect(await bindingActions()).toEqual(['Warn', 'Audit']);
    await kubectl(['delete', 'deployment', 'late', '-n', ns, '--cascade=foreground']);
    const enforced = await runCli(['apply', '--plan', dir2, '--yes', '--kubeconfig', cli.kubeconfig], {
      env: cli.env(),
      timeoutMs: 120_000,
    });
    expect(enforced.code, enforced.stderr + enforced.stdout).toBe(ExitCode.ok);
    expect(await bindingActions()).toEqual(['Deny', 'Audit']);
    await waitFor(
      async () =>
        (await kubectlRaw(['run', 'x', '-n', ns, '--image=evil.example/x', '--dry-run=server'])).exitCode !==
        0,
      { what: 'the deny binding to act' },
    );

    // 7. Planned again under the deny binding: the server's refusals are read like its warnings — nothing unjudged.
    const again = await planEnforce();
    expect(again.changes).toEqual([]);
    expect(findingsOf(again)).toEqual([]);
  }, 300_000);
});
