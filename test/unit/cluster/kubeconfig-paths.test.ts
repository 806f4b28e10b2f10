import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveKubeconfig } from '../../../src/cluster/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'kh-kubeconfig-paths-'));
mkdirSync(join(dir, 'secrets'));
mkdirSync(join(dir, 'bin'));
writeFileSync(join(dir, 'secrets', 'token'), 'kh-file-token-1\n');

function kubeconfig(user: string): string {
  const p = join(dir, `k-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    p,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://k.example:6443"}}]
users: [{name: u, user: ${user}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
  );
  return p;
}

describe('kubeconfig paths and tokens (kubectl rules)', () => {
  it('reads a relative token-file from the kubeconfig directory, whatever the working directory, and drops its trailing newline', () => {
    const r = resolveKubeconfig({ kubeconfig: kubeconfig('{token-file: secrets/token}') });
    expect(r.user.token).toBe('kh-file-token-1');
  });

  it('trims an inline token', () => {
    const r = resolveKubeconfig({ kubeconfig: kubeconfig('{token: "  kh-inline \\n"}') });
    expect(r.user.token).toBe('kh-inline');
  });

  it('resolves an exec command with a path separator against the kubeconfig directory; a bare name stays for PATH', () => {
    const rel = resolveKubeconfig({
      kubeconfig: kubeconfig(
        '{exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/login, interactiveMode: Never}}',
      ),
    });
    expect(rel.user.exec?.command).toBe(join(dir, 'bin', 'login'));
    const bare = resolveKubeconfig({
      kubeconfig: kubeconfig(
        '{exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, interactiveMode: Never}}',
      ),
    });
    expect(bare.user.exec?.command).toBe('aws');
  });

  it('a missing token-file is a kubeconfig error naming the file', () => {
    expect(() => resolveKubeconfig({ kubeconfig: kubeconfig('{token-file: secrets/missing}') })).toThrow(
      /is invalid: .*secrets\/missing/,
    );
  });
});
