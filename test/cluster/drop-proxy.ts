/**
 * A test-only HTTPS proxy in front of the local API server that can lose the response of a write: the request
 * reaches the API server and is carried out, then the client's connection is cut before any byte of the response
 * comes back — the "dropped connection after the write reached the server" of failure-modes.md.
 *
 * It terminates TLS with the API server's own certificate (its SANs include 127.0.0.1) and talks to the API server
 * as the admin client certificate, both from the local control plane's PKI: point a kubeconfig at `url` with the
 * cluster CA. Local clusters only (the PKI of an external cluster is not available).
 *
 *   const proxy = await startDropProxy(clusterInfo());
 *   proxy.dropResponseOf('PATCH', 2);   // the 2nd PATCH from now on: done upstream, response never delivered
 *   proxy.answer('/metrics', 503, '<html>…</html>');  // the proxy answers that path itself (a proxy that serves
 *                                                     // only /api and /apis); undefined: forward it again
 *   … proxy.dropped                     // requests whose response was dropped, e.g. ['PATCH /api/v1/namespaces/x']
 *   await proxy.close();
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { AvailableCluster } from './types.js';

export interface DropProxy {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** A kubeconfig (context `via-proxy`) whose server is the proxy. */
  kubeconfig: string;
  /** Lose the response of the `nth` request with this method, counted from now. */
  dropResponseOf(method: string, nth: number): void;
  /** Answer requests for `path` (no query) here, with `status` and an HTML `body`; `undefined` forwards it again. */
  answer(path: string, status?: number, body?: string): void;
  /** Requests seen, as `METHOD path`. */
  readonly requests: string[];
  /** Requests whose response was dropped. */
  readonly dropped: string[];
  close(): Promise<void>;
}

export async function startDropProxy(cluster: AvailableCluster, dir: string): Promise<DropProxy> {
  if (cluster.kind !== 'local') throw new Error('the drop proxy needs the local control plane (its PKI)');
  const pki = join(dirname(cluster.adminKubeconfig), 'pki');
  const ca = readFileSync(join(pki, 'ca.crt'));
  const upstream = new URL(cluster.server);
  const agent = new https.Agent({
    ca,
    cert: readFileSync(join(pki, 'admin.crt')),
    key: readFileSync(join(pki, 'admin.key')),
    keepAlive: true,
  });
  const requests: string[] = [];
  const dropped: string[] = [];
  let armed: { method: string; remaining: number } | undefined;
  const answers = new Map<string, { status: number; body: string }>();

  const server = https.createServer(
    { cert: readFileSync(join(pki, 'apiserver.crt')), key: readFileSync(join(pki, 'apiserver.key')) },
    (req, res) => {
      const line = `${req.method} ${req.url}`;
      requests.push(line);
      const own = answers.get((req.url ?? '').replace(/\?.*$/, ''));
      if (own) {
        req.resume();
        res.writeHead(own.status, { 'content-type': 'text/html' });
        res.end(own.body);
        return;
      }
      let drop = false;
      if (armed && req.method === armed.method) {
        armed.remaining -= 1;
        if (armed.remaining === 0) {
          drop = true;
          armed = undefined;
        }
      }
      const headers = { ...req.headers };
      delete headers.host;
      delete headers.authorization; // the proxy authenticates upstream with its own client certificate
      const out = https.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () => {
            if (drop) {
              // The API server has answered: the write happened. The client never hears of it.
              dropped.push(line);
              req.socket.destroy();
              return;
            }
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(Buffer.concat(chunks));
          });
        },
      );
      out.on('error', () => req.socket.destroy());
      req.pipe(out);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'via-proxy.kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: via-proxy
  cluster:
    server: ${url}
    certificate-authority-data: ${ca.toString('base64')}
users:
- name: via-proxy
  user:
    token: unused-the-proxy-authenticates-upstream
contexts:
- name: via-proxy
  context: {cluster: via-proxy, user: via-proxy}
current-context: via-proxy
`,
    { mode: 0o600 },
  );
  return {
    url,
    kubeconfig,
    requests,
    dropped,
    dropResponseOf(method, nth) {
      armed = { method, remaining: nth };
    },
    answer(path, status, body = '') {
      if (status === undefined) answers.delete(path);
      else answers.set(path, { status, body });
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
