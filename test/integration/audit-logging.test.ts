/**
 * Phase 6 (issue 14) proven on a real kube-apiserver, one extra API server at a time (2-core machine):
 * - each generated audit policy tier, with the generated flags: the API server starts; a Secret created and updated
 *   with a canary, `kubectl create token`, a TokenReview of that token, a Secret get, a ConfigMap get, a RoleBinding
 *   change, a Deployment create and an exec attempt produce events at the levels the tier promises; neither the
 *   canary (plain or base64) nor the issued token appears anywhere in the log; no RequestReceived stage;
 * - the generated EncryptionConfiguration (the test fills the placeholder with a fresh random key): a Secret written
 *   afterwards is stored in etcd with the `k8s:enc:<provider>:v1:<key>:` prefix, not the canary; with the placeholder
 *   left in place the API server refuses to start;
 * - detection: on the shared plane (no static pods) the API server's flags are unknown (the plan exits 7, never
 *   "off"; the report says unknown too, and exits 7 only for a user who may not list kube-system's pods); with a
 *   kubeadm-shaped kube-apiserver pod and kubeadm-config in kube-system (test/fixtures/control-plane/) the flags
 *   are read and judged off, by the plan and the report alike.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readPlanDir } from '../../src/engine/plan-file.js';
import { ExitCode } from '../../src/errors.js';
import {
  AUDIT_TIERS,
  type AuditLevel,
  type AuditRequest,
  type AuditTier,
  KEY_PLACEHOLDER,
  PROMISED_REQUESTS,
  type PromisedRequest,
  TIER_LEVELS,
} from '../../src/policy/control-plane/index.js';
import { auditPolicy } from '../../steps/audit-logging.js';
import { renderTemplate } from '../../steps/kit/templates.js';
import { encryptionConfig } from '../../steps/secrets-encryption.js';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.js';
import { clusterInfo, describeCluster, kubectlRaw } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';
import { CONTROL_PLANE_FIXTURES } from '../support/control-plane.js';

const CANARY = `kh-canary-${randomBytes(6).toString('hex')}`;
const CANARY2 = `kh-canary2-${randomBytes(6).toString('hex')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface AuditEvent {
  level: AuditLevel;
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: {
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
  };
  requestObject?: unknown;
  responseObject?: unknown;
}

const work = mkdtempSync(join(tmpdir(), 'kh-phase6-'));

interface ReportJson {
  findings: Array<{ control: string }>;
  unknown: Array<{ resource: string; namespace?: string; reason: string }>;
  controlPlane?: Record<string, unknown>;
}
/** The report's phase-6 controls, sorted and without repeats. */
const phase6Of = (r: ReportJson) =>
  [
    ...new Set(r.findings.map((f) => f.control).filter((c) => /^KH-(AUDIT|ENCRYPTION|APISERVER)-/.test(c))),
  ].sort();
let plane: ControlPlane | undefined;

/** The value etcd holds at `key`, as stored (no API server in between). */
async function etcdValue(cp: ControlPlane, key: string): Promise<Buffer> {
  const res = await fetch(`${cp.etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(key) }),
  });
  const body = (await res.json()) as { kvs?: Array<{ value: string }> };
  return Buffer.from(body.kvs?.[0]?.value ?? '', 'base64');
}

/** Namespace `enc` and Secret `enc/canary` holding the canary (after the API server's encryption is set). */
async function createCanarySecret(cp: ControlPlane): Promise<void> {
  await k(cp, ['create', 'namespace', 'enc']);
  await k(cp, ['-n', 'enc', 'create', 'secret', 'generic', 'canary', `--from-literal=password=${CANARY}`]);
}

/** `report -o json` as a user of `kubeconfig` would run it. */
async function reportOf(kubeconfig: string, env = { XDG_STATE_HOME: mkdtempSync(join(work, 'state-')) }) {
  const r = await runCli(['report', '-o', 'json', '--kubeconfig', kubeconfig], { env });
  return { r, json: JSON.parse(r.stdout) as ReportJson };
}
afterAll(async () => {
  await plane?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function start(apiserverArgs: string[], readyTimeoutMs?: number): Promise<ControlPlane> {
  plane = await startControlPlane({
    controllerManager: false,
    audit: false,
    apiserverArgs,
    ...(readyTimeoutMs ? { readyTimeoutMs } : {}),
  });
  return plane;
}

async function stop(): Promise<void> {
  const p = plane;
  plane = undefined;
  await p?.stop();
}

/** kubectl against the test's own plane; fails the test on a non-zero exit unless `allowFail`. */
async function k(cp: ControlPlane, args: string[], opts: { input?: string; allowFail?: boolean } = {}) {
  const r = await kubectlRaw(args, {
    kubeconfig: cp.adminKubeconfig,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  if (!opts.allowFail && r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** The requests whose levels the tiers promise, made as the admin user; returns the issued token. */
async function exercise(cp: ControlPlane, ns: string): Promise<string> {
  await k(cp, ['create', 'namespace', ns]);
  await k(cp, ['-n', ns, 'create', 'secret', 'generic', 'canary', `--from-literal=password=${CANARY}`]);
  await k(cp, [
    '-n',
    ns,
    'patch',
    'secret',
    'canary',
    '-p',
    JSON.stringify({ data: { password: b64(CANARY2) } }),
  ]);
  await k(cp, ['-n', ns, 'get', 'secret', 'canary', '-o', 'name']);
  await k(cp, ['-n', ns, 'create', 'configmap', 'plain', '--from-literal=k=v']);
  await k(cp, ['-n', ns, 'get', 'configmap', 'plain', '-o', 'name']);
  await k(cp, ['-n', ns, 'create', 'serviceaccount', 'robot']);
  const token = (await k(cp, ['-n', ns, 'create', 'token', 'robot'])).stdout.trim();
  expect(token.length).toBeGreaterThan(100);
  const review = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token },
  };
  const reviewed = await k(cp, ['create', '-o', 'json', '-f', '-'], { input: JSON.stringify(review) });
  expect(JSON.parse(reviewed.stdout).status.authenticated).toBe(true);
  await k(cp, [
    '-n',
    ns,
    'create',
    'rolebinding',
    'robot-view',
    '--clusterrole=view',
    `--serviceaccount=${ns}:robot`,
  ]);
  await k(cp, ['-n', ns, 'create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.10']);
  // An exec attempt on a pod that does not exist: the request reaches the exec subresource (404), and is audited.
  const empty = join(work, 'empty.json');
  writeFileSync(empty, '{}');
  await k(
    cp,
    ['create', '--raw', `/api/v1/namespaces/${ns}/pods/nope/exec?command=true&stdout=true`, '-f', empty],
    {
      allowFail: true,
    },
  );
  return token;
}

function events(file: string): { text: string; events: AuditEvent[] } {
  const text = readFileSync(file, 'utf8');
  return {
    text,
    events: text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as AuditEvent),
  };
}

function matching(all: AuditEvent[], user: string, ns: string, req: AuditRequest) {
  return all.filter(
    (e) =>
      e.user.username === user &&
      e.verb === req.verb &&
      e.objectRef?.resource === req.resource &&
      e.objectRef?.subresource === req.subresource &&
      (e.objectRef?.apiGroup ?? '') === req.group &&
      (req.resource === 'tokenreviews' || e.objectRef?.namespace === ns),
  );
}

describeCluster('phase 6 on a real API server', () => {
  it.each(AUDIT_TIERS)(
    'audit policy tier %s: the API server starts with the generated policy and flags; events at the promised levels; no secret value, token or RequestReceived in the log',
    async (tier: AuditTier) => {
      const dir = mkdtempSync(join(work, `${tier}-`));
      const policyPath = join(dir, 'audit-policy.yaml');
      const logPath = join(dir, 'audit.log');
      writeFileSync(policyPath, auditPolicy(tier), { mode: 0o600 });
      // The flags artifact as generated, with this test's paths.
      const flags = renderTemplate('audit/apiserver-flags.txt', { policyPath, logPath, logDir: dir })
        .split('\n')
        .filter((l) => l.startsWith('--'));
      expect(flags).toContain(`--audit-policy-file=${policyPath}`);
      const cp = await start(flags);
      try {
        const ns = `audit-${tier}`;
        const token = await exercise(cp, ns);
        // The ResponseComplete event is written as the handler returns, possibly just after the reply: wait for the last.
        const deadline = Date.now() + 10_000;
        while (
          matching(events(logPath).events, cp.users.admin, ns, PROMISED_REQUESTS.exec).length === 0 &&
          Date.now() < deadline
        )
          await new Promise((r) => setTimeout(r, 200));
        const { text, events: all } = events(logPath);
        expect(all.length).toBeGreaterThan(0);
        const problems: string[] = [];
        for (const [name, req] of Object.entries(PROMISED_REQUESTS) as Array<
          [PromisedRequest, (typeof PROMISED_REQUESTS)[PromisedRequest]]
        >) {
          const found = matching(all, cp.users.admin, ns, req);
          if (found.length === 0) problems.push(`${name}: no event`);
          for (const e of found)
            if (e.level !== TIER_LEVELS[tier][name])
              problems.push(`${name}: ${e.level}, promised ${TIER_LEVELS[tier][name]}`);
        }
        expect(problems).toEqual([]);
        expect(all.filter((e) => e.stage === 'RequestReceived')).toEqual([]);
        for (const secret of [CANARY, CANARY2, b64(CANARY), b64(CANARY2), token])
          expect(text).not.toContain(secret);
        // The token's signature alone (a JWT split differently) is not there either.
        expect(text).not.toContain(token.split('.')[2] ?? token);
        console.log(
          `[audit ${tier}] ${all.length} events, ${Buffer.byteLength(text)} bytes; levels: ${Object.keys(
            PROMISED_REQUESTS,
          )
            .map((n) => `${n}=${TIER_LEVELS[tier][n as PromisedRequest]}`)
            .join(' ')}`,
        );
      } finally {
        await stop();
      }
    },
    240_000,
  );

  it.each(['secretbox', 'aesgcm'] as const)(
    'EncryptionConfiguration (%s, key filled by the test): a Secret written afterwards is encrypted in etcd',
    async (provider) => {
      const dir = mkdtempSync(join(work, `enc-${provider}-`));
      const file = join(dir, 'encryption-config.yaml');
      const generated = encryptionConfig({ provider, configmaps: true, keyName: 'key-test' });
      expect(generated).toContain(KEY_PLACEHOLDER);
      writeFileSync(file, generated.replace(KEY_PLACEHOLDER, randomBytes(32).toString('base64')), {
        mode: 0o600,
      });
      const cp = await start([
        `--encryption-provider-config=${file}`,
        '--encryption-provider-config-automatic-reload=true',
      ]);
      try {
        await createCanarySecret(cp);
        await k(cp, ['-n', 'enc', 'create', 'configmap', 'canary', `--from-literal=value=${CANARY}`]);
        for (const key of ['/registry/secrets/enc/canary', '/registry/configmaps/enc/canary']) {
          const raw = await etcdValue(cp, key);
          expect(raw.length, key).toBeGreaterThan(0);
          expect(raw.subarray(0, 40).toString('latin1'), key).toMatch(
            new RegExp(`^k8s:enc:${provider}:v1:key-test:`),
          );
          expect(raw.includes(Buffer.from(CANARY)), key).toBe(false);
          expect(raw.includes(Buffer.from(b64(CANARY))), key).toBe(false);
        }
        // Still readable through the API.
        const back = await k(cp, ['-n', 'enc', 'get', 'secret', 'canary', '-o', 'jsonpath={.data.password}']);
        expect(Buffer.from(back.stdout, 'base64').toString()).toBe(CANARY);
        // The API server's metrics show the Secret written with the provider: the report says encryption is on
        // (its flags are not visible here), and raises nothing about it.
        const report = await reportOf(cp.adminKubeconfig);
        expect(report.r.code, report.r.stderr).toBe(ExitCode.ok);
        expect(phase6Of(report.json).filter((c) => c.startsWith('KH-ENCRYPTION-'))).toEqual([]);
        expect(report.r.stdout).not.toContain(CANARY);
      } finally {
        await stop();
      }
    },
    180_000,
  );

  it('identity first: Secrets go to etcd in plaintext, the metrics say so, report and plan raise KH-ENCRYPTION-IDENTITY-FIRST; a user who may not read /metrics gets unknown', async () => {
    const dir = mkdtempSync(join(work, 'enc-identity-first-'));
    const file = join(dir, 'encryption-config.yaml');
    // The first half of the runbook's rollback (identity first, the real provider after it), left in place.
    writeFileSync(
      file,
      [
        'apiVersion: apiserver.config.k8s.io/v1',
        'kind: EncryptionConfiguration',
        'resources:',
        '  - resources: [secrets]',
        '    providers:',
        '      - identity: {}',
        '      - secretbox:',
        '          keys:',
        `            - { name: key-test, secret: ${randomBytes(32).toString('base64')} }`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const cp = await start([`--encryption-provider-config=${file}`]);
    try {
      await createCanarySecret(cp);
      // What the finding claims: the Secret is in etcd as plain protobuf, the canary readable.
      const raw = await etcdValue(cp, '/registry/secrets/enc/canary');
      expect(raw.subarray(0, 4).toString('latin1')).toBe('k8s\0');
      expect(raw.includes(Buffer.from(CANARY))).toBe(true);

      const admin = await reportOf(cp.adminKubeconfig);
      expect(admin.r.code, admin.r.stderr).toBe(ExitCode.ok);
      expect(phase6Of(admin.json).filter((c) => c.startsWith('KH-ENCRYPTION-'))).toEqual([
        'KH-ENCRYPTION-IDENTITY-FIRST',
      ]);
      expect(admin.r.stdout).not.toContain(CANARY);

      const out = mkdtempSync(join(work, 'plan-identity-first-'));
      const planned = await runCli(
        ['plan', '--step', 'secrets-encryption', '--out', out, '--kubeconfig', cp.adminKubeconfig],
        { env: { XDG_STATE_HOME: mkdtempSync(join(work, 'state-')) } },
      );
      expect(planned.code, planned.stderr).toBe(ExitCode.ok);
      const saved = readPlanDir(out);
      expect(saved.changes.map((c) => c.id)).toContain('secrets-encryption/config');
      expect(saved.steps.flatMap((x) => x.findings.map((f) => f.control))).toEqual([
        'KH-ENCRYPTION-IDENTITY-FIRST',
      ]);

      // Without `get` on /metrics nothing is claimed either way.
      const limited = await reportOf(cp.limitedKubeconfig);
      expect(phase6Of(limited.json)).toContain('KH-ENCRYPTION-UNKNOWN');
      expect(phase6Of(limited.json)).not.toContain('KH-ENCRYPTION-IDENTITY-FIRST');
    } finally {
      await stop();
    }
  }, 180_000);

  it('with the key placeholder left in place the API server refuses to start (never a known key)', async () => {
    const dir = mkdtempSync(join(work, 'enc-placeholder-'));
    const file = join(dir, 'encryption-config.yaml');
    writeFileSync(file, encryptionConfig({ provider: 'secretbox', configmaps: false, keyName: 'key-test' }), {
      mode: 0o600,
    });
    await expect(start([`--encryption-provider-config=${file}`], 30_000)).rejects.toThrow(
      /kube-apiserver exited/,
    );
    await stop();
  }, 120_000);

  it('detection: a kubeadm-shaped kube-apiserver pod and kubeadm-config in kube-system are read (off, kubeadm); the shared plane without them is unknown (exit 7), never off', async () => {
    const state = mkdtempSync(join(work, 'state-'));
    const env = { XDG_STATE_HOME: state };
    const plan = async (kubeconfig: string) => {
      const out = mkdtempSync(join(work, 'plan-'));
      const r = await runCli(
        [
          'plan',
          '--step',
          'audit-logging',
          '--step',
          'secrets-encryption',
          '--out',
          out,
          '--kubeconfig',
          kubeconfig,
        ],
        { env },
      );
      return { r, saved: readPlanDir(out) };
    };

    // The shared plane runs its API server outside Kubernetes: nothing to see.
    const shared = await plan(clusterInfo().adminKubeconfig);
    expect(shared.r.code, shared.r.stderr).toBe(ExitCode.incomplete);
    expect(shared.saved.unknown.map((u) => u.resource)).toEqual(
      expect.arrayContaining([
        'kube-apiserver flags (audit logging)',
        'kube-apiserver flags (encryption at rest)',
      ]),
    );
    const controls = (s: typeof shared.saved) => s.steps.flatMap((x) => x.findings.map((f) => f.control));
    expect(controls(shared.saved)).toEqual(
      expect.arrayContaining(['KH-AUDIT-UNKNOWN', 'KH-ENCRYPTION-UNKNOWN']),
    );
    expect(controls(shared.saved)).not.toContain('KH-AUDIT-OFF');
    expect(controls(shared.saved)).not.toContain('KH-ENCRYPTION-OFF');

    // The report says the same from the same function: unknown, not off. Every read succeeded (there is just no
    // API server to see), so the report is complete.
    const report = (kubeconfig: string) => reportOf(kubeconfig, env);
    const sharedReport = await report(clusterInfo().adminKubeconfig);
    expect(sharedReport.r.code, sharedReport.r.stderr).toBe(ExitCode.ok);
    expect(phase6Of(sharedReport.json)).toEqual(['KH-AUDIT-UNKNOWN', 'KH-ENCRYPTION-UNKNOWN']);
    expect(sharedReport.json.controlPlane).toMatchObject({ visible: false, audit: { state: 'unknown' } });
    // A user who may not list kube-system's pods: the flags are unknown because a read failed (exit 7).
    const limited = await report(clusterInfo().limitedKubeconfig);
    expect(limited.r.code).toBe(ExitCode.incomplete);
    expect(limited.json.unknown.some((u) => u.resource === 'pods')).toBe(true);
    expect(phase6Of(limited.json)).toEqual(['KH-AUDIT-UNKNOWN', 'KH-ENCRYPTION-UNKNOWN']);

    // A plane of its own, with what kubeadm leaves in kube-system.
    const cp = await start([]);
    try {
      await k(cp, ['-n', 'kube-system', 'create', 'serviceaccount', 'default'], { allowFail: true });
      for (const f of ['kube-apiserver.yaml', 'kubeadm-config.yaml'])
        await k(cp, ['apply', '-f', join(CONTROL_PLANE_FIXTURES, 'kubeadm-default', f)]);
      const seen = await plan(cp.adminKubeconfig);
      expect(seen.saved.unknown.filter((u) => u.resource.startsWith('kube-apiserver flags'))).toEqual([]);
      expect(controls(seen.saved)).toEqual(
        expect.arrayContaining([
          'KH-AUDIT-OFF',
          'KH-ENCRYPTION-OFF',
          'KH-APISERVER-PUBLIC',
          'KH-APISERVER-PROFILING',
        ]),
      );
      expect(seen.saved.steps.find((s) => s.id === 'audit-logging')?.explanation.why).toContain('kubeadm');
      expect(seen.saved.changes.map((c) => c.artifact?.path)).toEqual(
        expect.arrayContaining(['audit-policy.yaml', 'kubeadm-audit-patch.yaml', 'encryption-config.yaml']),
      );
      // The live report on the same plane: the same findings, and the section names the platform.
      const seenReport = await report(cp.adminKubeconfig);
      expect(seenReport.json.controlPlane).toMatchObject({
        platform: 'kubeadm',
        visible: true,
        audit: { state: 'off' },
        encryption: { state: 'off' },
      });
      expect(phase6Of(seenReport.json)).toEqual(
        [...new Set(controls(seen.saved).filter((c) => /^KH-(AUDIT|ENCRYPTION|APISERVER)-/.test(c)))].sort(),
      );
    } finally {
      await stop();
    }
  }, 240_000);
});
