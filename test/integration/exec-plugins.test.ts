/**
 * Credential (exec) plugins against the real control plane (failure-modes.md F8, tests 18 and 19): a device-code
 * prompt on stderr while the plugin waits for the login, a wrong apiVersion or garbage output, and a rejected
 * (expired) token with at most one re-authentication on 401. The plugin (test/support/scripted-exec-plugin.mjs)
 * counts its invocations in a file; its good token is a ServiceAccount token, its bad one a string the API server
 * does not know (401).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ClusterError } from '../../src/cluster/errors.js';
import { connect } from '../../src/cluster/live.js';
import { ExitCode } from '../../src/errors.js';
import { describeCluster, freshNamespace, waitFor } from '../cluster/harness.js';
import { repoRoot, runCli } from '../support/cli.js';
import { execKubeconfig, serviceAccountToken } from '../support/identities.js';

const BAD_TOKEN = 'kh-revoked-token-0000';

function invocations(countFile: string): number {
  return existsSync(countFile) ? readFileSync(countFile, 'utf8').split('\n').filter(Boolean).length : 0;
}

describeCluster('exec credential plugins (live)', () => {
  let good: string;
  let username: string;
  let dir: string;

  beforeAll(async () => {
    const ns = await freshNamespace('exec');
    ({ token: good, username } = await serviceAccountToken(ns, 'plugin-user'));
  });

  const fresh = () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-exec-'));
    return join(dir, 'count');
  };

  it('a device-code prompt on the plugin stderr reaches the user while the plugin waits; the command continues once the login is done', async () => {
    const count = fresh();
    const loggedIn = join(dir, 'logged-in');
    const kubeconfig = execKubeconfig({
      KH_PLUGIN_COUNT_FILE: count,
      KH_PLUGIN_TOKENS: good,
      KH_PLUGIN_WAIT_FOR: loggedIn,
      KH_PLUGIN_PROMPT: 'To sign in, open https://login.example.test/device and enter the code KHDV-4821',
    });
    // Not a terminal (stdin and stderr are pipes): a device-code flow needs no input, only the prompt.
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin', 'kube-harden.js'), 'preflight', '--kubeconfig', kubeconfig],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let exitCode: number | null | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => {
        exitCode = code;
        resolve(code);
      }),
    );
    try {
      await waitFor(() => stderr.includes('enter the code KHDV-4821'), {
        what: 'the device-code prompt on the CLI stderr',
        timeoutMs: 20_000,
      });
      // The prompt is there while the plugin still waits: nothing has finished, nothing was printed yet.
      await new Promise((r) => setTimeout(r, 500));
      expect(exitCode).toBeUndefined();
      expect(stdout).toBe('');
      expect(invocations(count)).toBe(1);
      writeFileSync(loggedIn, '');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stdout).toContain(`user:     ${username}`);
    expect(stderr).toContain('Signed in.');
    expect(invocations(count)).toBe(1);
  });

  it('a plugin returning another apiVersion than the kubeconfig asks for: exit 3 naming the plugin and both versions', async () => {
    const count = fresh();
    const kubeconfig = execKubeconfig({
      KH_PLUGIN_COUNT_FILE: count,
      KH_PLUGIN_TOKENS: good,
      KH_PLUGIN_API_VERSION: 'client.authentication.k8s.io/v1beta1',
    });
    const r = await runCli(['preflight', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(ExitCode.config);
    expect(r.stderr).toMatch(
      /^error: credential plugin "node scripted-exec-plugin\.mjs" of user "tester" returned apiVersion "client\.authentication\.k8s\.io\/v1beta1", but the kubeconfig asks for "client\.authentication\.k8s\.io\/v1"\n {2}hint: set exec\.apiVersion of user "tester" in the kubeconfig to "client\.authentication\.k8s\.io\/v1beta1", or update the plugin\n$/,
    );
    expect(r.stdout).toBe('');
    expect(r.stderr + r.stdout).not.toContain(good);
  });

  it('a plugin printing something that is not an ExecCredential: exit 3, the output is not quoted', async () => {
    const kubeconfig = execKubeconfig({ KH_PLUGIN_TOKENS: good, KH_PLUGIN_API_VERSION: 'garbage' });
    const r = await runCli(['report', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(ExitCode.config);
    expect(r.stderr).toMatch(
      /^error: credential plugin "node scripted-exec-plugin\.mjs" of user "tester" printed something that is not an ExecCredential \(the kubeconfig asks for apiVersion "client\.authentication\.k8s\.io\/v1"\)\n {2}hint: run the plugin by hand/m,
    );
    expect(r.stderr).not.toContain('<html>');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a kubeconfig asking for an apiVersion kube-harden does not know: exit 3 listing the supported ones', async () => {
    const kubeconfig = execKubeconfig(
      { KH_PLUGIN_TOKENS: good },
      { apiVersion: 'client.authentication.k8s.io/v2' },
    );
    const r = await runCli(['preflight', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(ExitCode.config);
    expect(r.stderr).toContain(
      'the kubeconfig asks for apiVersion "client.authentication.k8s.io/v2", which kube-harden does not support (it supports client.authentication.k8s.io/v1, ',
    );
  });

  for (const expiry of ['past', 'none'] as const) {
    it(`an expired token (${expiry === 'past' ? 'expirationTimestamp in the past' : 'no expirationTimestamp'}) rejected with 401: exactly one re-authentication, then the command succeeds`, async () => {
      const count = fresh();
      const kubeconfig = execKubeconfig({
        KH_PLUGIN_COUNT_FILE: count,
        KH_PLUGIN_TOKENS: `${BAD_TOKEN},${good}`,
        KH_PLUGIN_EXPIRY: expiry,
      });
      const r = await runCli(['preflight', '--kubeconfig', kubeconfig]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`user:     ${username}`);
      // Once for the rejected token, once after the 401; the good token (no expiry: valid until a 401) is kept.
      expect(invocations(count)).toBe(2);
    });
  }

  it('a plugin that keeps returning a rejected token: exit 5 after one re-authentication, no loop', async () => {
    const count = fresh();
    const kubeconfig = execKubeconfig({
      KH_PLUGIN_COUNT_FILE: count,
      KH_PLUGIN_TOKENS: BAD_TOKEN,
      KH_PLUGIN_EXPIRY: 'none',
    });
    const r = await runCli(['report', '-A', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(ExitCode.auth);
    expect(r.stderr).toMatch(
      /^error: the API server rejected the credentials of context "test" \(401 Unauthorized\)$/m,
    );
    expect(r.stderr).toContain(
      'hint: the credential plugin "node scripted-exec-plugin.mjs" was run again and its new credential was rejected too',
    );
    expect(r.stderr).not.toContain(BAD_TOKEN);
    expect(invocations(count)).toBe(2);
  });

  it('many requests in flight with a rejected token share one re-authentication (library level)', async () => {
    const count = fresh();
    const kubeconfig = execKubeconfig({
      KH_PLUGIN_COUNT_FILE: count,
      KH_PLUGIN_TOKENS: BAD_TOKEN,
      KH_PLUGIN_EXPIRY: 'none',
    });
    const cluster = connect({ kubeconfig });
    try {
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => cluster.serverVersion()));
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const e = (r as PromiseRejectedResult).reason;
        expect(e).toBeInstanceOf(ClusterError);
        expect((e as ClusterError).reason).toBe('Unauthorized');
      }
      expect(invocations(count)).toBe(2);
      // Later requests do not start another round: the replacement credential was rejected as well.
      await expect(cluster.serverVersion()).rejects.toThrow(/401 Unauthorized/);
      expect(invocations(count)).toBe(2);
    } finally {
      cluster.close();
    }
    // With a good token after the bad one, the 12 requests all succeed after one re-authentication.
    const count2 = fresh();
    const recovering = connect({
      kubeconfig: execKubeconfig({
        KH_PLUGIN_COUNT_FILE: count2,
        KH_PLUGIN_TOKENS: `${BAD_TOKEN},${good}`,
        KH_PLUGIN_EXPIRY: 'none',
      }),
    });
    try {
      const versions = await Promise.all(Array.from({ length: 12 }, () => recovering.serverVersion()));
      expect(versions.every((v) => typeof v?.gitVersion === 'string')).toBe(true);
      expect(invocations(count2)).toBe(2);
    } finally {
      recovering.close();
    }
  });
});
