/**
 * Failure modes from issue 10 and ../shared/reference/failure-modes.md, each through the real CLI or the real
 * control plane: a server URL that is not a Kubernetes API server (an HTML page, broken JSON, a login redirect).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
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
