/**
 * Token canary (failure-modes.md "Tokens", test 22): a static-token kubeconfig whose token is unique (a fresh
 * ServiceAccount token, bound to cluster-admin so every phase runs), used by preflight, report, plan, apply,
 * runs and undo with the most verbose logging there is (DEBUG=* and Node's NODE_DEBUG=http,https,tls,net,…),
 * by runs that crash on purpose in the middle (KUBE_HARDEN_FAULT, an unexpected error with a stack trace), and by
 * the 401 path (an unknown token, from a kubeconfig and from an exec plugin). The token must appear in no output
 * and in no file the CLI could write: its HOME, state dir, temp dir, working dir and plan dir. Same for a client
 * key handed out by an exec plugin.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ExitCode } from '../../src/errors.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  waitFor,
} from '../cluster/harness.js';
import { type CliResult, runCli } from '../support/cli.js';
import { execKubeconfig, serviceAccountToken, tokenKubeconfig } from '../support/identities.js';

/** Every form the token could leak in: itself, its JWT segments (payload, signature) and base64 of it. */
function needles(token: string): string[] {
  const forms = [token, Buffer.from(token).toString('base64')];
  const parts = token.split('.');
  if (parts.length === 3) forms.push(parts[1] as string, parts[2] as string);
  return forms.filter((f) => f.length >= 16);
}

/** Files under `dir` (recursively) that contain any needle, as `path: needle-index`. */
function filesContaining(dir: string, forms: string[]): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path).toString('latin1');
    forms.forEach((f, i) => {
      if (text.includes(f)) hits.push(`${path}: form ${i}`);
    });
  }
  return hits;
}

describeCluster('token canary (live)', () => {
  let ns: string;
  let token: string;
  let cleanup: (() => Promise<void>) | undefined;
  let kubeconfig: string;
  let sandbox: string;
  let dirs: { home: string; state: string; tmp: string; cwd: string; plan: string };
  const outputs: Array<{ what: string; r: CliResult }> = [];

  beforeAll(async () => {
    ns = await freshNamespace('token-canary');
    const sa = await serviceAccountToken(ns, 'canary-admin', { clusterRole: 'cluster-admin' });
    token = sa.token;
    cleanup = sa.cleanup;
    // The kubeconfig holds the token by design; it lives outside the directories searched below.
    kubeconfig = tokenKubeconfig(token);
    sandbox = mkdtempSync(join(tmpdir(), 'kh-token-canary-'));
    dirs = {
      home: join(sandbox, 'home'),
      state: join(sandbox, 'state'),
      tmp: join(sandbox, 'tmp'),
      cwd: join(sandbox, 'cwd'),
      plan: join(sandbox, 'plan'),
    };
    for (const d of [dirs.home, dirs.state, dirs.tmp, dirs.cwd]) mkdirSync(d, { recursive: true });
  });

  afterAll(async () => {
    await cleanup?.();
  });

  async function run(what: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const r = await runCli(args, {
      cwd: dirs.cwd,
      timeoutMs: 90_000,
      env: {
        HOME: dirs.home,
        XDG_STATE_HOME: dirs.state,
        XDG_CACHE_HOME: join(dirs.home, '.cache'),
        XDG_CONFIG_HOME: join(dirs.home, '.config'),
        TMPDIR: dirs.tmp,
        // The most verbose logging there is: kube-harden's own, every dependency's using `debug`, and Node's
        // own HTTP/TLS/socket debugging (which prints request options: CVE-2019-11250 in client-go's terms).
        DEBUG: '*,kube-harden',
        NODE_DEBUG: 'http,https,http2,tls,net,stream,child_process,fetch,undici',
        ...env,
      },
    });
    outputs.push({ what, r });
    return r;
  }

  it('every command at DEBUG=*, and forced crashes in the middle of an inventory and of an apply: the token is in no output and no file', async () => {
    const k = ['--kubeconfig', kubeconfig];
    expect((await run('preflight', ['preflight', ...k])).code).toBe(0);
    expect([0, 7]).toContain((await run('report', ['report', '-A', ...k, '-o', 'json'])).code);

    const crash = await run('report crash', ['report', '-A', ...k], {
      KUBE_HARDEN_FAULT: 'crash-after-requests:8',
    });
    expect(crash.code).toBe(ExitCode.error);
    expect(crash.stderr).toContain('unexpected error: injected crash (KUBE_HARDEN_FAULT');
    expect(crash.stderr).toMatch(/\n\s+at /); // DEBUG shows the stack: the verbose crash path really ran

    const plan = await run('plan', ['plan', '-n', ns, '--step', 'psa-warn-audit', '--out', dirs.plan, ...k]);
    expect(plan.code).toBe(0);
    expect(readdirSync(dirs.plan)).toContain('plan.json');

    // Crash during apply, right after the write reached the server: the journal holds its intent only.
    const applyCrash = await run('apply crash', ['apply', '--plan', dirs.plan, '--yes', ...k], {
      KUBE_HARDEN_FAULT: 'crash-after-writes:0',
    });
    expect(applyCrash.code).toBe(ExitCode.error);
    expect(applyCrash.stderr).toContain('injected crash');
    const apply = await run('apply', ['apply', '--plan', dirs.plan, '--yes', ...k]);
    expect([0, 8]).toContain(apply.code);
    expect((await run('runs', ['runs', ...k])).code).toBe(0);
    const undo = await run('undo', ['undo', '--yes', ...k]);
    expect(undo.code).toBe(0);
    // Something was written where the search looks, so an empty search cannot pass for a clean one.
    expect(readdirSync(dirs.state, { recursive: true }).length).toBeGreaterThan(0);

    const forms = needles(token);
    for (const { what, r } of outputs) {
      for (const f of forms) {
        expect(r.stdout, `${what}: stdout`).not.toContain(f);
        expect(r.stderr, `${what}: stderr`).not.toContain(f);
      }
    }
    expect(filesContaining(sandbox, forms)).toEqual([]);
  }, 300_000);

  it('the 401 path at DEBUG=*: an unknown canary token, static or from an exec plugin, is in no output and no file', async () => {
    const canary = `kh-token-canary-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const statics = tokenKubeconfig(canary);
    const r1 = await run('401 static', ['report', '-A', '--kubeconfig', statics]);
    expect(r1.code).toBe(ExitCode.auth);
    expect(r1.stderr).toContain('401 Unauthorized');
    // The canary exists only in the plugin's output (its ExecCredential), not in the kubeconfig.
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'kh-canary-plugin-')), 'tokens');
    writeFileSync(tokensFile, canary);
    const plugin = execKubeconfig({ KH_PLUGIN_TOKENS_FILE: tokensFile, KH_PLUGIN_EXPIRY: 'none' });
    const r2 = await run('401 exec', ['preflight', '--kubeconfig', plugin]);
    expect(r2.code).toBe(ExitCode.auth);
    const r3 = await run('401 crash', ['preflight', '--kubeconfig', statics], {
      KUBE_HARDEN_FAULT: 'crash-after-requests:0',
    });
    expect(r3.code).toBe(ExitCode.error);
    for (const r of [r1, r2, r3]) {
      expect(r.stdout + r.stderr).not.toContain(canary);
      expect(r.stdout + r.stderr).not.toContain(Buffer.from(canary).toString('base64'));
    }
    expect(filesContaining(sandbox, [canary])).toEqual([]);
  });

  it('a client key from an exec plugin (clientKeyData) is not printed by NODE_DEBUG either', async () => {
    // The admin's certificate and key, handed out by the plugin as PEM text.
    const admin = parse(readFileSync(clusterInfo().adminKubeconfig, 'utf8')) as {
      users: Array<{ user: Record<string, string> }>;
    };
    const user = admin.users[0]?.user ?? {};
    const pem = (field: string) => Buffer.from(user[field] ?? '', 'base64').toString('utf8');
    const keyPem = pem('client-key-data');
    const dir = mkdtempSync(join(tmpdir(), 'kh-canary-cert-'));
    writeFileSync(join(dir, 'cert.pem'), pem('client-certificate-data'));
    writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
    // Needles: every line of the key's body except the first (whose start is the public ASN.1 prefix).
    const body = keyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
    expect(body.length).toBeGreaterThan(5);
    const forms = body.slice(1, -1);
    const kubeconfig = execKubeconfig({
      KH_PLUGIN_CERT_FILE: join(dir, 'cert.pem'),
      KH_PLUGIN_KEY_FILE: join(dir, 'key.pem'),
    });
    const r = await run('exec client key', ['preflight', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('user:     admin');
    for (const f of forms) expect(r.stdout + r.stderr).not.toContain(f);
    expect(filesContaining(sandbox, forms)).toEqual([]);
  });

  it('a legacy ServiceAccount token Secret: listed for rbac-review (metadata only), its token in no output and no file', async () => {
    // The controller-manager's token controller fills the Secret with a long-lived token of `legacy`.
    await kubectl(['create', 'serviceaccount', 'legacy', '-n', ns]);
    await applyYaml(
      `apiVersion: v1
kind: Secret
metadata:
  name: legacy-token
  annotations: {kubernetes.io/service-account.name: legacy}
type: kubernetes.io/service-account-token
`,
      ns,
    );
    const filled = await waitFor(
      async () =>
        (await kubectlJson<{ data?: { token?: string } }>(['get', 'secret', 'legacy-token', '-n', ns])).data
          ?.token,
      { what: 'the legacy token filled by the controller-manager', timeoutMs: 60_000 },
    );
    const legacy = Buffer.from(filled, 'base64').toString('utf8');
    const k = ['--kubeconfig', kubeconfig];
    const plan = join(sandbox, 'plan-rbac');
    const r = await run('plan rbac-review', ['plan', '-n', ns, '--step', 'rbac-review', '--out', plan, ...k]);
    expect(r.code, r.stderr).toBe(0);
    const report = await run('report legacy', ['report', '-n', ns, '-o', 'json', ...k]);
    expect([0, 7]).toContain(report.code);
    // The finding is there (the list really ran and saw the Secret).
    expect(readFileSync(join(plan, 'plan.json'), 'utf8')).toContain(
      `a long-lived token of ServiceAccount ${ns}/legacy`,
    );
    const forms = [...needles(legacy), filled];
    for (const out of [r, report]) for (const f of forms) expect(out.stdout + out.stderr).not.toContain(f);
    expect(filesContaining(sandbox, forms)).toEqual([]);
  }, 120_000);
});
