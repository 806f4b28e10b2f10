/**
 * Failure modes from issue 10 and ../shared/reference/failure-modes.md, each through the real CLI or the real
 * control plane: a server URL that is not a Kubernetes API server (an HTML page, broken JSON, a login redirect);
 * large objects in scope (F9); the API server killed and restarted during an inventory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchPod, pool } from '../../bench/inventory/seed.js';
import { isClusterError } from '../../src/cluster/errors.js';
import { connect } from '../../src/cluster/live.js';
import { ExitCode } from '../../src/errors.js';
import { buildSnapshot } from '../../src/inventory/build.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { startControlPlane } from '../cluster/control-plane.js';
import { applyYaml, clusterInfo, describeCluster, freshNamespace, kubectlJson } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

const CANARY = 'kh-token-canary-0a7c';

function kubeconfigFor(dir: string, name: string, server: string): string {
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: web, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: ${CANARY}}}]
contexts: [{name: ${name}, context: {cluster: web, user: u}}]
current-context: ${name}
`,
  );
  return file;
}

describe('a server URL that is not a Kubernetes API server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-notk8s-'));
  const servers: Array<{ close(cb: () => void): void }> = [];
  const urls: Record<string, string> = {};

  const listen = async (
    name: string,
    make: (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
      listen(port: number, host: string, cb: () => void): void;
      address(): AddressInfo | string | null;
      close(cb: () => void): void;
    },
    scheme: 'http' | 'https',
    handler: (req: IncomingMessage, res: ServerResponse) => void,
  ) => {
    const server = make(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    urls[name] = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    // A self-signed certificate for the HTTPS one (the kubeconfig skips verification: this is about the answer).
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const tls = { key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.crt')) };
    // A web server: every path is a page.
    await listen(
      'html',
      (h) => createHttpServer(h),
      'http',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body>hi</body></html>\n',
        );
      },
    );
    // Something that speaks JSON, badly (a truncated or hand-rolled answer).
    await listen(
      'json',
      (h) => createHttpsServer(tls, h),
      'https',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"major": "1", "minor": "3');
      },
    );
    // A single sign-on proxy in front of something: every request is sent to a login page.
    await listen(
      'sso',
      (h) => createHttpsServer(tls, h),
      'https',
      (_req, res) => {
        res.writeHead(302, { location: 'https://login.example.com/authorize?state=secret-state-9f2' });
        res.end();
      },
    );
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  it.each([
    ['html', 'preflight', /with an HTML page \(HTTP 200, text\/html\)/],
    ['html', 'report', /with an HTML page/],
    ['json', 'preflight', /with a body that is not valid JSON \(HTTP 200, application\/json, 26 bytes\)/],
    ['json', 'report', /with a body that is not valid JSON/],
    ['sso', 'preflight', /with a redirect \(302\) to https:\/\/login\.example\.com\/authorize$/m],
  ])('%s server, %s: exit 4, "not a Kubernetes API server" and what to try', async (name, command, what) => {
    const kubeconfig = kubeconfigFor(dir, name, urls[name] as string);
    const r = await runCli([command, '--kubeconfig', kubeconfig], { timeoutMs: 60_000 });
    expect(r.stderr).not.toContain('Cannot read properties');
    expect(r.code, r.stderr).toBe(ExitCode.unreachable);
    // `report` prints progress lines first; the error is the last thing, two lines.
    const lines = r.stderr.split('\n').filter(Boolean);
    const at = lines.findIndex((l) => l.startsWith('error: '));
    const [message, hint, ...rest] = lines.slice(at);
    expect(message).toContain(
      `error: ${urls[name]} is not a Kubernetes API server: it answered GET /version`,
    );
    expect(message).toMatch(what);
    expect(hint).toMatch(/^ {2}hint: check the server URL of cluster "web" in the kubeconfig \(context "/);
    expect(hint).toContain(`kubectl --context ${name} get --raw /version`);
    expect(rest).toEqual([]);
    expect(r.stderr + r.stdout).not.toContain(CANARY);
    expect(r.stderr).not.toContain('secret-state');
  });
});

describeCluster('large objects in scope (live, F9)', () => {
  it('a 1 MB Deployment, a 200 KB annotation and a 1 MB ConfigMap: the inventory keeps none of the payload, and each patch carries only its own fields', async () => {
    const { adminKubeconfig } = clusterInfo();
    const ns = await freshNamespace('large');
    const blob = (n: number, c: string) => c.repeat(n);
    // Annotations may total 256 KiB; objects up to etcd's 1.5 MiB; requests up to 3 MiB.
    await applyYaml(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, annotations: { 'example.com/blob': blob(200_000, 'a') } },
      }),
    );
    await applyYaml(
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'big' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'big' } },
          template: {
            metadata: { labels: { app: 'big' } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'registry.example.com/big:1.0',
                  env: [{ name: 'BLOB', value: blob(1_000_000, 'b') }],
                },
              ],
            },
          },
        },
      }),
      ns,
    );
    await applyYaml(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'big' },
        data: { blob: blob(1_000_000, 'c') },
      }),
      ns,
    );

    // The inventory projects each page as it arrives: nothing of the payload stays in the snapshot.
    const live = connect({ kubeconfig: adminKubeconfig });
    try {
      const snapshot = await buildSnapshot(live, { namespaces: [ns] });
      expect(snapshot.unknown).toEqual([]);
      expect(snapshot.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Deployment/big']);
      const size = JSON.stringify(snapshot).length;
      expect(size).toBeLessThan(100_000);
      expect(JSON.stringify(snapshot)).not.toMatch(/aaaaaaaaaa|bbbbbbbbbb|cccccccccc/);
      expect(snapshot.namespaces.find((n) => n.name === ns)?.annotations['example.com/blob']).toBe(
        '(200000 bytes, not kept by the inventory)',
      );
      // ConfigMaps are not part of the inventory at all.
      expect(snapshot.stats.objects.configmaps).toBeUndefined();
    } finally {
      live.close();
    }

    const state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    const out = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const cli = (args: string[]) =>
      runCli([...args, '--kubeconfig', adminKubeconfig], {
        env: { XDG_STATE_HOME: state },
        timeoutMs: 90_000,
      });
    const planned = await cli([
      'plan',
      '--step',
      'psa-warn-audit',
      '--step',
      'psa-migrate',
      '-n',
      ns,
      '--out',
      out,
    ]);
    expect(planned.code, planned.stderr).toBe(ExitCode.ok);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as {
      changes: Array<{ id: string; desired?: KubeObject; preview: string }>;
    };
    expect(plan.changes.map((c) => c.id).sort()).toEqual(
      [
        `psa-migrate/deployment/${ns}/big`,
        `psa-migrate/deployment/${ns}/big/read-only-root`,
        `psa-warn-audit/namespace/${ns}`,
      ].sort(),
    );
    for (const c of plan.changes) {
      expect(c.preview, c.id).toBe('ok');
      // Server-side apply sends the fields the step owns, never the object it read: far below the 3 MiB limit.
      const sent = JSON.stringify(c.desired);
      expect(sent.length, c.id).toBeLessThan(8_000);
      expect(sent).not.toMatch(/aaaaaaaaaa|bbbbbbbbbb/);
    }
    const applied = await cli(['apply', '--plan', out, '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(ExitCode.ok);
    const after = await kubectlJson<KubeObject>(['get', 'namespace', ns]);
    expect(after.metadata.labels?.['pod-security.kubernetes.io/warn']).toBe('restricted');
    expect(after.metadata.annotations?.['example.com/blob']?.length).toBe(200_000);
    const deployment = await kubectlJson<{
      spec: {
        template: {
          spec: { containers: Array<{ env: Array<{ value: string }>; securityContext?: unknown }> };
        };
      };
    }>(['get', 'deployment', 'big', '-n', ns]);
    const container = deployment.spec.template.spec.containers[0];
    expect(container?.env[0]?.value.length).toBe(1_000_000);
    expect(container?.securityContext).toBeDefined();
  });
});

describeCluster('the API server killed and restarted during an inventory (live, own control plane)', () => {
  it('reads wait for it with backoff and the inventory is complete; when it stays down, the inventory fails (exit 4), never partial', async () => {
    // A second, light control plane (no controller-manager, no audit log): killing the shared one would break
    // the other test files.
    const cp = await startControlPlane({ controllerManager: false, audit: false });
    const seeder = connect({ kubeconfig: cp.adminKubeconfig, qps: 500, burst: 500 });
    try {
      const namespaces = ['r-0', 'r-1', 'r-2', 'r-3'];
      const perNamespace = 250;
      for (const name of namespaces) {
        await seeder.apply(
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
          { fieldManager: 'seed' },
        );
        // No controller-manager: the ServiceAccount admission plugin still needs `default`.
        await seeder.apply(
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } },
          { fieldManager: 'seed' },
        );
      }
      const pods = namespaces.flatMap((ns, n) =>
        Array.from({ length: perNamespace }, (_, i) => benchPod(ns, n * perNamespace + i)),
      );
      await pool(pods, 16, async (pod) => {
        await seeder.apply(pod, { fieldManager: 'seed' });
      });

      // Small pages, so the pod list is still running when the API server dies after its third page.
      const reader = connect({ kubeconfig: cp.adminKubeconfig });
      let restart: Promise<void> | undefined;
      let downAt = 0;
      let upAt = 0;
      try {
        const snapshot = await buildSnapshot(reader, {
          pageSize: 25,
          onProgress: (p) => {
            if (p.resource === 'pods' && p.pages === 3 && !restart) {
              restart = (async () => {
                await cp.killApiserver();
                downAt = Date.now();
                await new Promise((r) => setTimeout(r, 1500));
                await cp.startApiserver();
                upAt = Date.now();
              })();
            }
          },
        });
        await restart;
        expect(downAt).toBeGreaterThan(0);
        console.log(
          `[restart] API server down for ${((upAt - downAt) / 1000).toFixed(1)} s; ${reader.reconnectCount} read(s) retried; ${snapshot.stats.pages} pages`,
        );
        expect(reader.reconnectCount).toBeGreaterThan(0);
        expect(snapshot.unknown).toEqual([]);
        expect(snapshot.stats.objects.pods).toBe(pods.length);
        expect(snapshot.workloads.filter((w) => w.kind === 'Pod')).toHaveLength(pods.length);
        expect(new Set(snapshot.workloads.map((w) => `${w.namespace}/${w.name}`)).size).toBe(pods.length);
      } finally {
        await restart?.catch(() => undefined);
        reader.close();
      }

      // Down for good: the retries end within their budget, and the inventory fails as a whole.
      const impatient = connect({ kubeconfig: cp.adminKubeconfig, maxRetryWaitMs: 3000 });
      let killed: Promise<void> | undefined;
      try {
        const started = Date.now();
        const error = await buildSnapshot(impatient, {
          pageSize: 25,
          onProgress: (p) => {
            if (p.resource === 'pods' && p.pages === 3) killed ??= cp.killApiserver();
          },
        }).then(
          (snapshot) => snapshot,
          (e: unknown) => e,
        );
        await killed;
        expect(isClusterError(error, 'Connection'), String(error)).toBe(true);
        expect((error as { exitCode: number }).exitCode).toBe(ExitCode.unreachable);
        expect((error as Error).message).toMatch(
          /cannot reach the API server at https:\/\/127\.0\.0\.1:\d+: connection refused/,
        );
        expect(Date.now() - started).toBeLessThan(30_000);
      } finally {
        impatient.close();
      }
    } finally {
      seeder.close();
      await cp.stop();
    }
  });
});
