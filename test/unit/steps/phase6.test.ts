/**
 * Phase 6 steps offline (issue 14): `plan --manifests DIR --step audit-logging --step secrets-encryption --out DIR`
 * on kubeadm-shaped control-plane manifests writes the manual artifacts under DIR/artifacts/, the tier follows the
 * step setting, nothing is proposed once the flags are in place, managed platforms get the provider's commands,
 * and no key is ever written anywhere.
 */
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../../src/cli.js';
import { readPlanDir } from '../../../src/engine/plan-file.js';
import type { StepContext } from '../../../src/engine/types.js';
import { ExitCode } from '../../../src/errors.js';
import { assess } from '../../../src/policy/assess.js';
import { KEY_PLACEHOLDER } from '../../../src/policy/control-plane/index.js';
import { auditLogging, auditPolicy } from '../../../steps/audit-logging.js';
import { secretsEncryption } from '../../../steps/secrets-encryption.js';
import { NOW, snapshot } from '../../fixtures/snapshots/builder.js';
import { CONTROL_PLANE_FIXTURES, networkWith } from '../../support/control-plane.js';

afterEach(() => vi.restoreAllMocks());

async function plan(dir: string, extra: string[] = []) {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const target = await fs.mkdtemp(path.join(tmpdir(), 'kh-p6-plan-'));
  const code = await main([
    'plan',
    '--manifests',
    path.join(CONTROL_PLANE_FIXTURES, dir),
    '--step',
    'audit-logging',
    '--step',
    'secrets-encryption',
    ...extra,
    '--out',
    path.join(target, 'plan'),
  ]);
  vi.restoreAllMocks();
  return { code, out, dir: path.join(target, 'plan') };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** 32 random bytes in base64 (what a key looks like): 43 characters of the alphabet and one `=`. */
const KEY_LIKE = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=/;

describe('plan --manifests --step audit-logging --step secrets-encryption --out', () => {
  test('kubeadm defaults: the artifacts under DIR/artifacts/<step>/, listed in PLAN.md as to do by hand; no key anywhere', async () => {
    const r = await plan('kubeadm-default');
    expect(r.code, r.out).toBe(ExitCode.ok);
    const files = await filesUnder(r.dir);
    expect(files.filter((f) => f.startsWith('artifacts/'))).toEqual([
      'artifacts/audit-logging/audit-alerts-loki.txt',
      'artifacts/audit-logging/audit-policy.yaml',
      'artifacts/audit-logging/fluent-bit-audit-loki.conf',
      'artifacts/audit-logging/kube-apiserver-audit-flags.txt',
      'artifacts/audit-logging/kubeadm-audit-patch.yaml',
      'artifacts/secrets-encryption/encryption-config.yaml',
      'artifacts/secrets-encryption/encryption-kubeadm-patch.yaml',
      'artifacts/secrets-encryption/encryption-runbook.md',
    ]);
    expect(await fs.readFile(path.join(r.dir, 'artifacts/audit-logging/audit-policy.yaml'), 'utf8')).toBe(
      auditPolicy('standard'),
    );
    const planMd = await fs.readFile(path.join(r.dir, 'PLAN.md'), 'utf8');
    expect(planMd).toContain('### manual (to do by hand): audit-policy.yaml');
    expect(planMd).toContain('### manual (to do by hand): encryption-config.yaml');
    expect(planMd).toContain('Platform: kubeadm');
    const saved = readPlanDir(r.dir);
    expect(saved.unknown).toEqual([]);
    const controls = saved.steps.flatMap((s) => s.findings.map((f) => f.control)).sort();
    expect(controls).toEqual([
      'KH-APISERVER-ANONYMOUS',
      'KH-APISERVER-PROFILING',
      'KH-APISERVER-PUBLIC',
      'KH-APISERVER-PUBLIC',
      'KH-AUDIT-OFF',
      'KH-ENCRYPTION-OFF',
    ]);
    // The key: a placeholder and the command to make one on the node, never a key.
    const config = await fs.readFile(
      path.join(r.dir, 'artifacts/secrets-encryption/encryption-config.yaml'),
      'utf8',
    );
    expect(config).toContain(KEY_PLACEHOLDER);
    expect(config).toContain('head -c 32 /dev/urandom | base64');
    for (const f of files) {
      const text = await fs.readFile(path.join(r.dir, f), 'utf8');
      expect(KEY_LIKE.test(text), f).toBe(false);
    }
    expect(KEY_LIKE.test(r.out)).toBe(false);
    // A key-like string would be found (the scan can fail).
    expect(KEY_LIKE.test(`secret: ${Buffer.alloc(32, 7).toString('base64')}`)).toBe(true);
  });

  test('the tier and the backend follow the step settings', async () => {
    const r = await plan('kubeadm-default', ['--audit-tier', 'forensic', '--audit-sink', 'splunk']);
    expect(r.code, r.out).toBe(ExitCode.ok);
    const dir = path.join(r.dir, 'artifacts/audit-logging');
    expect(await fs.readFile(path.join(dir, 'audit-policy.yaml'), 'utf8')).toBe(auditPolicy('forensic'));
    expect(await fs.readdir(dir)).toEqual(
      expect.arrayContaining(['fluent-bit-audit-splunk.conf', 'audit-alerts-splunk.txt']),
    );
    const vector = await plan('kubeadm-default', [
      '--audit-shipper',
      'vector',
      '--audit-sink',
      'elasticsearch',
    ]);
    expect(vector.code, vector.out).toBe(ExitCode.ok);
    const vdir = path.join(vector.dir, 'artifacts/audit-logging');
    expect((await fs.readdir(vdir)).filter((f) => /^(vector|fluent-bit)-/.test(f))).toEqual([
      'vector-audit-elasticsearch.yaml',
    ]);
    expect(await fs.readFile(path.join(vector.dir, 'PLAN.md'), 'utf8')).toContain(
      '--dangerously-allow-env-var-interpolation',
    );
    const bad = await plan('kubeadm-default', ['--audit-tier', 'everything']);
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.out).toContain('--audit-tier');
  });

  test('kubeadm after phase 6 (flags in place, a Fluent Bit DaemonSet): nothing to do, no unknown', async () => {
    const r = await plan('kubeadm-hardened');
    expect(r.code, r.out).toBe(ExitCode.ok);
    const saved = readPlanDir(r.dir);
    expect(saved.changes).toEqual([]);
    expect(saved.unknown).toEqual([]);
    expect(saved.steps.flatMap((s) => s.findings.map((f) => f.control))).toEqual([]);
  });
});

describe('the steps on other platforms', () => {
  const ctx = (snap: ReturnType<typeof snapshot>, settings: Record<string, unknown> = {}): StepContext => ({
    snapshot: snap,
    assessment: assess(snap, { now: NOW }),
    reader: {} as StepContext['reader'],
    options: { namespaces: [], exclude: [], settings, now: NOW },
    signal: new AbortController().signal,
  });

  test('EKS: unknown (exit 7), and the provider commands instead of node files', async () => {
    const snap = snapshot({
      source: { kind: 'cluster', context: 'eks', server: 'https://eks.example:443' },
      network: networkWith(),
      serverVersion: { major: 1, minor: 31, gitVersion: 'v1.31.2-eks-7f9249a' },
      controlPlaneFacts: { apiServers: [], nodes: [], loadBalancers: [] },
    });
    const audit = await auditLogging.detect(ctx(snap));
    expect(audit.unknown?.map((u) => u.resource)).toEqual(['kube-apiserver flags (audit logging)']);
    expect(audit.findings.map((f) => f.control)).toEqual(['KH-AUDIT-UNKNOWN']);
    const changes = auditLogging.propose(audit.facts, ctx(snap).options);
    expect(changes.map((c) => (c.kind === 'manual' ? c.artifact.path : ''))).toEqual([
      'managed-audit-eks.md',
      'audit-alerts-loki.txt',
    ]);
    const provider = changes[0];
    expect(provider?.kind === 'manual' && provider.artifact.content).toContain(
      'aws eks update-cluster-config',
    );
    // Offline, manifests never hold the running control plane: the finding still says unknown, the plan is not
    // incomplete for it.
    const offline = await auditLogging.detect(ctx({ ...snap, source: { kind: 'manifests', path: 'k8s' } }));
    expect(offline.unknown).toBeUndefined();
    expect(offline.findings.map((f) => f.control)).toEqual(['KH-AUDIT-UNKNOWN']);
    const enc = await secretsEncryption.detect(ctx(snap));
    expect(enc.findings.map((f) => f.control)).toEqual(['KH-ENCRYPTION-UNKNOWN']);
    expect(enc.unknown?.map((u) => u.resource)).toEqual(['kube-apiserver flags (encryption at rest)']);
    const encChanges = secretsEncryption.propose(enc.facts, ctx(snap).options);
    expect(encChanges.map((c) => (c.kind === 'manual' ? c.artifact.content : '')).join()).toContain(
      'aws eks associate-encryption-config',
    );
  });

  test('a KMS v2 plugin named: the configuration uses it, with no key placeholder', async () => {
    const snap = snapshot({
      network: networkWith(),
      controlPlaneFacts: { apiServers: [], nodes: [], loadBalancers: [] },
    });
    const c = ctx(snap, { 'secrets-encryption.kmsEndpoint': 'unix:///var/run/kmsplugin/socket.sock' });
    const enc = await secretsEncryption.detect(c);
    const config = secretsEncryption
      .propose(enc.facts, c.options)
      .find((x) => x.id === 'secrets-encryption/config');
    const text = config?.kind === 'manual' ? config.artifact.content : '';
    expect(text).toContain('endpoint: unix:///var/run/kmsplugin/socket.sock');
    expect(text).not.toContain(KEY_PLACEHOLDER);
  });
});
