/**
 * A small admission webhook server on loopback for integration tests, with a serving certificate signed by the
 * test control plane's own CA (so webhook configurations use `caBundle` and the API server verifies it).
 *
 *   const hooks = await startWebhookServer(pkiDir);
 *   hooks.url('/deny/a,b')         // denies objects named a or b (no status code: the API server answers 400)
 *                                  // (webhook URLs may not carry a query)
 *   hooks.url('/hang')             // accepts the connection and never answers (a webhook timing out)
 *   hooks.url('/allow')            // allows everything
 *   hooks.requests                 // what the API server sent: path, operation, name, dryRun
 *
 * Only for a local control plane: the API server must reach 127.0.0.1 of this machine.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface WebhookRequest {
  path: string;
  operation: string;
  kind: string;
  name: string;
  dryRun: boolean;
  at: number;
}

export interface WebhookServer {
  /** `https://127.0.0.1:<port><path>` for a webhook's `clientConfig.url`. */
  url(path: string): string;
  /** base64 of the CA certificate, for `clientConfig.caBundle`. */
  caBundle: string;
  requests: WebhookRequest[];
  close(): Promise<void>;
}

interface AdmissionReview {
  request?: {
    uid?: string;
    operation?: string;
    kind?: { kind?: string };
    name?: string;
    dryRun?: boolean;
    object?: { metadata?: { name?: string } };
  };
}

/** Start the server; `pkiDir` holds the control plane's `ca.crt` and `ca.key`. */
export async function startWebhookServer(pkiDir: string): Promise<WebhookServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-webhook-'));
  const ossl = (args: string[]) => execFileP('openssl', args, { cwd: dir });
  try {
    writeFileSync(
      join(dir, 'ext'),
      'subjectAltName=IP:127.0.0.1\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n',
    );
    await ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'tls.key']);
    await ossl([
      'req',
      '-new',
      '-key',
      'tls.key',
      '-out',
      'tls.csr',
      '-subj',
      '/CN=kube-harden-test-webhook',
    ]);
    await ossl([
      'x509',
      '-req',
      '-in',
      'tls.csr',
      '-CA',
      join(pkiDir, 'ca.crt'),
      '-CAkey',
      join(pkiDir, 'ca.key'),
      '-set_serial',
      String(1000 + Math.floor(Math.random() * 1e6)),
      '-days',
      '1',
      '-extfile',
      'ext',
      '-out',
      'tls.crt',
    ]);
    const tls = { key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.crt')) };
    const caBundle = readFileSync(join(pkiDir, 'ca.crt')).toString('base64');
    const requests: WebhookRequest[] = [];
    const sockets = new Set<Socket>();
    const server: Server = createServer(tls, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let review: AdmissionReview = {};
        try {
          review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
        } catch {
          // answered below as allowed: an unreadable review is the API server's problem, not the test's
        }
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        const r = review.request ?? {};
        const name = r.name ?? r.object?.metadata?.name ?? '';
        requests.push({
          path: url.pathname,
          operation: r.operation ?? '',
          kind: r.kind?.kind ?? '',
          name,
          dryRun: r.dryRun === true,
          at: Date.now(),
        });
        if (url.pathname === '/hang') return; // never answer: the API server's webhook timeout fires
        const names = url.pathname.startsWith('/deny/')
          ? decodeURIComponent(url.pathname.slice('/deny/'.length)).split(',')
          : [];
        const deny = names.includes(name);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: {
              uid: r.uid ?? '',
              allowed: !deny,
              ...(deny ? { status: { message: `namespace ${name} is frozen by the change board` } } : {}),
            },
          }),
        );
      });
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      url: (path) => `https://127.0.0.1:${port}${path}`,
      caBundle,
      requests,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => {
            rmSync(dir, { recursive: true, force: true });
            resolve();
          });
        }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
