/** Running a credential plugin (a local script; no API server involved): output handling and messages. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pluginName, runExecPlugin } from '../../../src/cluster/exec-credential.js';
import { ConfigError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kh-exec-unit-'));
function plugin(body: string): { command: string; args: string[]; apiVersion: string } {
  const file = join(dir, `plugin-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, body);
  return { command: process.execPath, args: [file], apiVersion: 'client.authentication.k8s.io/v1' };
}
const credential = (status: Record<string, unknown>, apiVersion = 'client.authentication.k8s.io/v1') =>
  `process.stdout.write(${JSON.stringify(JSON.stringify({ apiVersion, kind: 'ExecCredential', status }))});`;
const failure = (p: Promise<unknown>): Promise<ConfigError> =>
  p.then(
    () => {
      throw new Error('expected the plugin run to fail');
    },
    (e: unknown) => e as ConfigError,
  );
const opts = { timeoutMs: 10_000, server: 'https://k.example', interactive: false };

describe('exec credential plugins', () => {
  it('names a plugin by its command, and by its script when the command is an interpreter, never by other arguments', () => {
    expect(
      pluginName({ command: '/usr/local/bin/aws', args: ['eks', 'get-token', '--cluster-name', 'x'] }),
    ).toBe('aws');
    expect(pluginName({ command: '/usr/bin/node', args: ['/opt/login/plugin.mjs', '--secret', 's'] })).toBe(
      'node plugin.mjs',
    );
    expect(pluginName({ command: 'python3', args: ['-m', 'login'] })).toBe('python3');
  });

  it('passes the plugin stderr on while it runs (a device-code prompt comes before the credential)', async () => {
    const seen: Array<{ at: 'stderr' | 'done'; text: string }> = [];
    const p = plugin(
      `process.stderr.write('open https://login.example/device, code AB-12\\n');
       setTimeout(() => { ${credential({ token: 't' })} }, 300);`,
    );
    const cred = await runExecPlugin('u', p, {
      ...opts,
      onStderr: (text) => seen.push({ at: 'stderr', text }),
    });
    seen.push({ at: 'done', text: '' });
    expect(cred.token).toBe('t');
    expect(seen[0]).toEqual({ at: 'stderr', text: 'open https://login.example/device, code AB-12\n' });
    expect(seen.at(-1)?.at).toBe('done');
  });

  it('tries a credential that is already past its expirationTimestamp (the server decides; a 401 re-runs the plugin)', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const cred = await runExecPlugin(
      'u',
      plugin(credential({ token: 't', expirationTimestamp: past })),
      opts,
    );
    expect(cred.token).toBe('t');
    expect(cred.expiresAt).toBeUndefined();
    const future = new Date(Date.now() + 600_000).toISOString();
    const fresh = await runExecPlugin(
      'u',
      plugin(credential({ token: 't', expirationTimestamp: future })),
      opts,
    );
    expect(fresh.expiresAt).toBe(Date.parse(future));
  });

  it('a failing plugin: exit code and the last stderr line in the message, exit 3', async () => {
    const p = plugin(
      `process.stderr.write('token cache locked\\nlogin expired: run "login"\\n'); process.exit(4);`,
    );
    const error = await runExecPlugin('u', p, { ...opts, onStderr: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `credential plugin "node ${p.args[0]?.split('/').at(-1)}" of user "u" failed with exit code 4: login expired: run "login"`,
    );
  });

  it('an apiVersion other than the kubeconfig asks for, or a JSON that is no ExecCredential: exit 3, output not quoted', async () => {
    const v1beta1 = await failure(
      runExecPlugin('u', plugin(credential({ token: 't' }, 'client.authentication.k8s.io/v1beta1')), opts),
    );
    expect(v1beta1).toBeInstanceOf(ConfigError);
    expect(v1beta1.message).toContain(
      'returned apiVersion "client.authentication.k8s.io/v1beta1", but the kubeconfig asks for "client.authentication.k8s.io/v1"',
    );
    expect(v1beta1.hint).toContain(
      'set exec.apiVersion of user "u" in the kubeconfig to "client.authentication.k8s.io/v1beta1"',
    );
    const other = await failure(
      runExecPlugin('u', plugin(`process.stdout.write('{"token":"s3cr3t"}')`), opts),
    );
    expect(other).toBeInstanceOf(ConfigError);
    expect(other.message).toContain('printed something that is not an ExecCredential');
    expect(`${other.message} ${other.hint}`).not.toContain('s3cr3t');
  });
});
