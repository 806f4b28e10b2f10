/**
 * Admission webhooks in the way of a phase (failure-modes F5), on the real control plane with a real webhook
 * server (test/cluster/webhook-server.ts, TLS from the harness's own CA), through the real CLI:
 *   (a) a webhook that refuses one namespace of a PSA phase: a per-item error naming the webhook, the rest applied;
 *   (b) four webhooks that time out with failurePolicy Ignore: the timeout reported, one write, no retry loop, and
 *       nothing written after the tool gave up;
 *   (c) a webhook whose sideEffects is Unknown: the preview says "dry-run unavailable", never "no changes".
 * Every webhook matches only this file's namespaces (objectSelector on a label unique to the run) and is deleted
 * afterwards, so other test files never meet them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  waitFor,
} from '../cluster/harness.js';
import { startWebhookServer, type WebhookServer } from '../cluster/webhook-server.js';
import { runCli } from '../support/cli.js';

const PSA = 'pod-security.kubernetes.io/';
const RUN = randomBytes(4).toString('hex');
const SCOPE = 'kube-harden.test/webhooks';

interface PlanJson {
  changes: Array<{ id: string; target?: { name: string }; preview: string; previewError?: string }>;
}

interface AuditEvent {
  stage: string;
  verb: string;
  userAgent?: string;
  requestURI: string;
  objectRef?: { resource?: string; name?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}

describeCluster('admission webhooks in the way of a phase (live)', () => {
  let hooks: WebhookServer;
  let env: Record<string, string>;
  const configs: string[] = [];

  const cli = (args: string[]) =>
    runCli([...args, '--kubeconfig', clusterInfo().adminKubeconfig], { env, timeoutMs: 90_000 });

  /** A webhook configuration on namespace UPDATEs of the namespaces labelled `SCOPE=<value>`. */
  const webhookConfig = (
    kind: 'Validating' | 'Mutating',
    name: string,
    value: string,
    hooksSpec: Array<{ name: string; path: string; failurePolicy: string; timeoutSeconds: number }>,
  ) => {
    configs.push(`${kind.toLowerCase()}webhookconfiguration/${name}`);
    return {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: `${kind}WebhookConfiguration`,
      metadata: { name },
      webhooks: hooksSpec.map((h) => ({
        name: h.name,
        clientConfig: { url: hooks.url(h.path), caBundle: hooks.caBundle },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['namespaces'] }],
        objectSelector: { matchLabels: { [SCOPE]: value } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: h.failurePolicy,
        timeoutSeconds: h.timeoutSeconds,
        ...(kind === 'Mutating' ? { reinvocationPolicy: 'Never' } : {}),
      })),
    };
  };

  const labelsOf = async (ns: string) =>
    (await kubectlJson<KubeObject>(['get', 'namespace', ns])).metadata.labels ?? {};

  /** The API server takes a new webhook configuration into use asynchronously: wait until it is called. */
  const waitUntilCalled = async (ns: string, path: string) => {
    await waitFor(
      async () => {
        await kubectl([
          'label',
          '--dry-run=server',
          '--overwrite',
          'namespace',
          ns,
          `probe=${Date.now()}`,
        ]).catch(() => '');
        return hooks.requests.some((r) => r.name === ns && r.path.startsWith(path));
      },
      { what: `webhook ${path} called for ${ns}`, timeoutMs: 30_000, intervalMs: 500 },
    );
  };

  beforeAll(async () => {
    const c = clusterInfo();
    if (c.kind !== 'local') return;
    hooks = await startWebhookServer(join(dirname(c.adminKubeconfig), 'pki'));
    env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'kh-state-')) };
  });

  afterAll(async () => {
    if (configs.length > 0) await kubectl(['delete', '--ignore-not-found', ...configs]);
    await hooks?.close();
  });

  it('(a) a webhook that refuses one namespace: a per-item error naming the webhook, the others applied, exit 8', async (ctx) => {
    if (clusterInfo().kind !== 'local') ctx.skip();
    const value = `deny-${RUN}`;
    const names = await Promise.all(
      ['wh-a1', 'wh-a2', 'wh-a3'].map((p) => freshNamespace(p, { labels: { [SCOPE]: value } })),
    );
    const [first, refused, last] = names as [string, string, string];
    await applyYaml(
      JSON.stringify(
        webhookConfig('Validating', `kh-freeze-${RUN}`, value, [
          {
            name: 'freeze.kube-harden.test',
            path: `/deny/${refused}`,
            failurePolicy: 'Fail',
            timeoutSeconds: 5,
          },
        ]),
      ),
    );
    await waitUntilCalled(refused, '/deny/');
    const before = await labelsOf(refused);

    const out = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await cli([
      'plan',
      '--step',
      'psa-warn-audit',
      ...names.flatMap((n) => ['-n', n]),
      '--out',
      out,
    ]);
    // A change without a preview is an unknown: exit 7, naming it, never 0.
    expect(planned.code, planned.stderr).toBe(ExitCode.incomplete);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as PlanJson;
    expect(plan.changes.map((c) => c.target?.name).sort()).toEqual([...names].sort());
    // The webhook refuses the dry-run too: that change has no preview, and says why.
    const refusedChange = plan.changes.find((c) => c.target?.name === refused);
    expect(refusedChange?.preview).toBe('unavailable');
    expect(refusedChange?.previewError).toContain('admission webhook "freeze.kube-harden.test" denied');
    expect(planned.stderr).toContain(`preview unavailable: ${refusedChange?.id}: `);
    expect(planned.stderr.match(/preview unavailable: /g)).toHaveLength(1);

    const applied = await cli(['apply', '--plan', out, '--yes']);
    const all = applied.stdout + applied.stderr;
    // A refused object is a refusal of that item (exit 8), not a failure that stops the phase.
    expect(applied.code, all).toBe(ExitCode.refused);
    expect(all).toContain(
      `admission webhook "freeze.kube-harden.test" denied patch namespaces/${refused}: namespace ${refused} is frozen by the change board`,
    );
    for (const ns of [first, last]) expect((await labelsOf(ns))[`${PSA}warn`], ns).toBe('restricted');
    expect(await labelsOf(refused)).toEqual(before);
  });

  it('(b) four webhooks timing out with failurePolicy Ignore: the timeout reported, one write sent, none retried, nothing written after', async (ctx) => {
    if (clusterInfo().kind !== 'local') ctx.skip();
    const { auditLog } = clusterInfo();
    const value = `slow-${RUN}`;
    const ns = await freshNamespace('wh-slow', { labels: { [SCOPE]: value } });
    // Mutating webhooks are called one after another (validating ones in parallel), so each 2 s timeout is
    // harmless alone, and the four add up past the 5 s request timeout — although each fails open (Ignore).
    await applyYaml(
      JSON.stringify(
        webhookConfig(
          'Mutating',
          `kh-slow-${RUN}`,
          value,
          [0, 1, 2, 3].map((i) => ({
            name: `slow-${i}.kube-harden.test`,
            path: '/hang',
            failurePolicy: 'Ignore',
            timeoutSeconds: 2,
          })),
        ),
      ),
    );
    await waitUntilCalled(ns, '/hang');
    const before = await labelsOf(ns);

    const out = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await cli([
      'plan',
      '--step',
      'psa-warn-audit',
      '-n',
      ns,
      '--out',
      out,
      '--request-timeout',
      '5s',
    ]);
    expect(planned.code, planned.stderr).toBe(ExitCode.incomplete);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as PlanJson;
    expect(plan.changes).toHaveLength(1);
    expect(planned.stderr).toContain(`preview unavailable: ${plan.changes[0]?.id}: dry-run unavailable`);
    expect(plan.changes[0]?.preview).toBe('unavailable');
    expect(plan.changes[0]?.previewError).toMatch(
      new RegExp(
        `^dry-run unavailable: the API server did not complete patch \\(dry-run\\) namespaces/${ns} within 5s`,
      ),
    );

    const started = Date.now();
    const applied = await cli(['apply', '--plan', out, '--yes', '--request-timeout', '5s']);
    const elapsed = Date.now() - started;
    const all = applied.stdout + applied.stderr;
    expect(applied.code, all).toBe(ExitCode.error);
    // A 504, or (when the server was already answering as its timeout fired) a connection it closed.
    expect(all).toMatch(
      new RegExp(
        `the API server did not complete patch namespaces/${ns} within 5s \\((504: Timeout: request did not complete within|it closed the connection at the request timeout)`,
      ),
    );
    // One attempt, bounded by the request timeout (plus the CLI's own start and reads), not a retry loop.
    expect(elapsed).toBeLessThan(20_000);

    // The API server gave up with the client: nothing lands later, although every webhook failed open.
    await new Promise((r) => setTimeout(r, 6000));
    expect(await labelsOf(ns)).toEqual(before);

    // From the audit log: kube-harden sent exactly one real write to this namespace, and the server timed it out.
    if (auditLog) {
      const events = readFileSync(auditLog, 'utf8')
        .split('\n')
        .filter((l) => l.includes(`"name":"${ns}"`))
        .map((l) => JSON.parse(l) as AuditEvent)
        .filter(
          (e) =>
            e.stage === 'ResponseComplete' &&
            e.verb === 'patch' &&
            e.objectRef?.resource === 'namespaces' &&
            (e.userAgent ?? '').startsWith('kube-harden'),
        );
      const writes = events.filter((e) => !e.requestURI.includes('dryRun=All'));
      expect(writes).toHaveLength(1);
      expect(writes[0]?.responseStatus?.code).toBe(504);
      expect(writes[0]?.requestURI).toContain('timeout=5s');
      // (Which webhooks the server had called by then, in its failed-open audit annotations, depends on how busy
      // the machine is: not asserted.)
      // Dry-runs: the preview and the step's own enforce probe, each once per command.
      expect(events.length - writes.length).toBeLessThanOrEqual(4);
    }
  });

  it('(c) a webhook whose sideEffects is Unknown: preview "dry-run unavailable" naming it, never "no changes"', async (ctx) => {
    const c = clusterInfo();
    if (c.kind !== 'local' || !c.etcdUrl) ctx.skip();
    const value = `legacy-${RUN}`;
    const ns = await freshNamespace('wh-side', { labels: { [SCOPE]: value } });
    // admissionregistration/v1 refuses sideEffects Unknown and Some, but webhooks created through v1beta1 on older
    // clusters keep them after upgrades (and are served as v1). Recreate that state: write the object to etcd.
    const name = `kh-legacy-${RUN}`;
    const object = webhookConfig('Validating', name, value, [
      { name: 'legacy.kube-harden.test', path: '/allow', failurePolicy: 'Ignore', timeoutSeconds: 5 },
    ]);
    const stored = {
      ...object,
      metadata: {
        name,
        uid: crypto.randomUUID(),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      webhooks: object.webhooks.map((w) => ({
        ...w,
        sideEffects: 'Unknown',
        matchPolicy: 'Equivalent',
        namespaceSelector: {},
        rules: w.rules.map((r) => ({ ...r, scope: '*' })),
      })),
    };
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const put = await fetch(`${c.etcdUrl}/v3/kv/put`, {
      method: 'POST',
      body: JSON.stringify({
        key: b64(`/registry/validatingwebhookconfigurations/${name}`),
        value: b64(JSON.stringify(stored)),
      }),
    });
    expect(put.ok).toBe(true);
    const served = await waitFor(
      async () =>
        kubectlJson<{ webhooks: Array<{ sideEffects: string }> }>([
          'get',
          'validatingwebhookconfiguration',
          name,
        ]),
      { what: `${name} served by the API server` },
    );
    expect(served.webhooks[0]?.sideEffects).toBe('Unknown');
    await waitFor(
      async () => {
        const r = await kubectl([
          'label',
          '--dry-run=server',
          '--overwrite',
          'namespace',
          ns,
          'probe=1',
        ]).catch((e: Error) => e.message);
        return r.includes('does not support dry run');
      },
      {
        what: 'the API server to refuse dry-runs because of the legacy webhook',
        timeoutMs: 30_000,
        intervalMs: 500,
      },
    );

    const json = await cli(['plan', '--step', 'psa-warn-audit', '-n', ns, '-o', 'json']);
    // Without a preview the plan is incomplete: exit 7, the change named on stderr.
    expect(json.code, json.stderr).toBe(ExitCode.incomplete);
    expect(json.stderr).toContain(`preview unavailable: psa-warn-audit/namespace/${ns}: dry-run unavailable`);
    const plan = JSON.parse(json.stdout) as PlanJson;
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.preview).toBe('unavailable');
    expect(plan.changes[0]?.previewError).toMatch(
      /^dry-run unavailable: admission webhook "legacy\.kube-harden\.test" does not support dry run \(its sideEffects is not None or NoneOnDryRun/,
    );
    const text = await cli(['plan', '--step', 'psa-warn-audit', '-n', ns]);
    expect(text.code, text.stderr).toBe(ExitCode.incomplete);
    expect(text.stdout).toContain(
      '**Preview unavailable:** dry-run unavailable: admission webhook "legacy.kube-harden.test" does not support dry run',
    );
    expect(text.stdout + text.stderr).not.toMatch(/no changes/i);
  });
});
