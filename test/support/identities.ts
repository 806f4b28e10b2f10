/**
 * Throwaway identities on the test control plane for the auth tests: ServiceAccount tokens (a dedicated user the
 * audit log can be filtered by, and a unique string to use as a canary), and kubeconfigs that present them as a
 * static token or through a scripted exec credential plugin.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { clusterInfo, kubectl } from '../cluster/harness.js';

export const scriptedPluginPath = join(import.meta.dirname, 'scripted-exec-plugin.mjs');

/** The cluster entry (server, CA) of the admin kubeconfig. */
function clusterEntry(): Record<string, unknown> {
  const doc = parse(readFileSync(clusterInfo().adminKubeconfig, 'utf8')) as {
    clusters: Array<{ cluster: Record<string, unknown> }>;
  };
  const cluster = doc.clusters[0]?.cluster;
  if (!cluster) throw new Error('the admin kubeconfig has no cluster');
  return cluster;
}

function writeKubeconfig(user: Record<string, unknown>, dir?: string): string {
  const file = join(dir ?? mkdtempSync(join(tmpdir(), 'kh-auth-')), 'kubeconfig');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: clusterEntry() }],
      users: [{ name: 'tester', user }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'tester' } }],
      'current-context': 'test',
    }),
    { mode: 0o600 },
  );
  return file;
}

/** A kubeconfig whose user is a static bearer token. */
export function tokenKubeconfig(token: string, dir?: string): string {
  return writeKubeconfig({ token }, dir);
}

/** A kubeconfig whose user runs scripted-exec-plugin.mjs with `env` (see that file for the variables). */
export function execKubeconfig(
  env: Record<string, string>,
  options: { apiVersion?: string; dir?: string } = {},
): string {
  return writeKubeconfig(
    {
      exec: {
        apiVersion: options.apiVersion ?? 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: [scriptedPluginPath],
        env: Object.entries(env).map(([name, value]) => ({ name, value })),
        interactiveMode: 'Never',
        provideClusterInfo: false,
      },
    },
    options.dir,
  );
}

/**
 * A ServiceAccount `name` in `namespace` (created if needed), optionally bound to a ClusterRole, and a fresh
 * token for it. The username the API server sees is `system:serviceaccount:<namespace>:<name>`.
 * Returns a cleanup that removes the ClusterRoleBinding (the namespace takes the rest).
 */
export async function serviceAccountToken(
  namespace: string,
  name: string,
  options: { clusterRole?: string } = {},
): Promise<{ token: string; username: string; cleanup: () => Promise<void> }> {
  await kubectl(['create', 'serviceaccount', name, '-n', namespace]);
  const binding = `${namespace}-${name}`;
  if (options.clusterRole) {
    await kubectl([
      'create',
      'clusterrolebinding',
      binding,
      `--clusterrole=${options.clusterRole}`,
      `--serviceaccount=${namespace}:${name}`,
    ]);
  }
  const token = (await kubectl(['create', 'token', name, '-n', namespace, '--duration=1h'])).trim();
  return {
    token,
    username: `system:serviceaccount:${namespace}:${name}`,
    cleanup: async () => {
      if (options.clusterRole) await kubectl(['delete', 'clusterrolebinding', binding, '--ignore-not-found']);
    },
  };
}
