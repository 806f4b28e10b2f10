/**
 * What a live inventory costs on the client side: client-node's KubeConfig is only built on demand (auth
 * providers), and many requests in flight on one abort signal do not trip Node's listener-leak warning.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveKubeconfig } from '../../../src/cluster/kubeconfig.js';
import { connect } from '../../../src/cluster/live.js';

const dir = mkdtempSync(join(tmpdir(), 'kh-client-'));
function kubeconfig(server: string): string {
  const p = join(dir, `kc-${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(
    p,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}"}}]
users: [{name: u, user: {token: t}}, {name: v, user: {token: w}}]
contexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: v, namespace: ns2}}]
current-context: one
`,
  );
  return p;
}

describe('kubeConfig(): client-node built on demand', () => {
  it('holds the selected context, cluster and user', async () => {
    const r = resolveKubeconfig({ kubeconfig: kubeconfig('https://k.example:6443'), context: 'two' });
    expect(r.contextName).toBe('two');
    expect(r.user.token).toBe('w');
    const kc = await r.kubeConfig();
    expect(kc.getCurrentContext()).toBe('two');
    expect(kc.getCurrentUser()?.name).toBe('v');
    expect(kc.getCurrentCluster()?.server).toBe('https://k.example:6443');
    expect(await r.kubeConfig()).toBe(kc);
  });
});

describe('many requests in flight on one abort signal', () => {
  let server: ReturnType<typeof createServer>;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        if (req.url?.startsWith('/version')) res.end(JSON.stringify({ major: '1', minor: '36' }));
        else res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }));
      }, 30);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('does not print MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const cluster = connect({ kubeconfig: kubeconfig(url), qps: 1000, burst: 1000 });
    try {
      const abort = new AbortController();
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: `ns-${i}` }, abort.signal),
        ),
      );
      expect(results).toHaveLength(30);
      await new Promise((r) => setTimeout(r, 20)); // warnings are emitted on a later tick
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      cluster.close();
    }
  });
});
