/**
 * Completion's namespaces come from the real cluster: one bounded LIST, cached per kubeconfig/context for a minute,
 * and never more than the time budget — a server that accepts the connection and never answers costs the budget,
 * then the stale cache (or nothing) is the answer.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterNamespaces } from '../../src/commands/completion.js';
import { clusterInfo, describeCluster, freshNamespace } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

let dir = '';

describeCluster('completion: namespaces from the cluster', () => {
  let ns = '';
  let silent: Server;
  const sockets: Socket[] = [];
  let silentKubeconfig = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-harden-complete-'));
    ns = await freshNamespace('complete');
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    silentKubeconfig = join(dir, 'silent.kubeconfig');
    writeFileSync(
      silentKubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: silent, context: {cluster: c, user: u}}]
current-context: silent
`,
    );
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    silent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the namespaces, then answers from the cache within the TTL', async () => {
    const given = { kubeconfig: clusterInfo().adminKubeconfig };
    const cache = join(dir, 'cache');
    const names = await clusterNamespaces(given, { dir: cache, budgetMs: 5_000 });
    expect(names).toContain(ns);
    expect(names).toContain('kube-system');
    // A namespace made after the first answer is not seen until the entry is stale.
    const later = await freshNamespace('complete-later');
    expect(await clusterNamespaces(given, { dir: cache, budgetMs: 5_000 })).not.toContain(later);
    expect(await clusterNamespaces(given, { dir: cache, budgetMs: 5_000, ttlMs: 0 })).toContain(later);
  });

  it('a server that never answers costs the budget, then the stale cache is the answer', async () => {
    const cache = join(dir, 'cache-silent');
    const given = { kubeconfig: silentKubeconfig };
    let started = performance.now();
    expect(await clusterNamespaces(given, { dir: cache, budgetMs: 300 })).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1_000);
    // seed a stale entry: it is returned when the server does not answer in time
    const key = (await import('node:crypto'))
      .createHash('sha256')
      .update(JSON.stringify([silentKubeconfig, '']))
      .digest('hex')
      .slice(0, 32);
    mkdirSync(cache, { recursive: true });
    writeFileSync(join(cache, `namespaces-${key}.json`), JSON.stringify({ at: 0, names: ['old'] }));
    started = performance.now();
    expect(await clusterNamespaces(given, { dir: cache, budgetMs: 300 })).toEqual(['old']);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('`kube-harden __complete report -n …` answers from the live cluster in well under a second', async () => {
    const r = await runCli(
      ['__complete', 'report', '--kubeconfig', clusterInfo().adminKubeconfig, '-n', ns.slice(0, 12)],
      {
        env: { XDG_CACHE_HOME: join(dir, 'xdg') },
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toContain(ns);
    expect(r.durationMs).toBeLessThan(2_000);
  });
});
