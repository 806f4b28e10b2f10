/**
 * Phase 6 reads the API server's /metrics (Secret writes by encryption provider). A proxy in front of the API
 * server may serve only /api and /apis: its answer for /metrics (a 503 page, a login page) must cost the run one
 * request and nothing else — no retries, never the NotKubernetes error that ends a run. Through the test HTTPS proxy
 * (test/cluster/drop-proxy.ts) in front of the real API server.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { startDropProxy } from '../cluster/drop-proxy.js';
import { clusterInfo, describeCluster } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

describeCluster('/metrics behind a proxy that does not serve it', () => {
  it.each([
    [503, '<html><body><h1>503 Service Unavailable</h1></body></html>'],
    [200, '<!doctype html><html><body>Sign in to continue</body></html>'],
  ])(
    'an HTML %i for /metrics: one request, the report completes, encryption stays unknown',
    async (status, page) => {
      // The proxy terminates TLS with the local control plane's PKI.
      if (clusterInfo().kind !== 'local') return;
      const dir = mkdtempSync(join(tmpdir(), 'kh-metrics-proxy-'));
      const proxy = await startDropProxy(clusterInfo(), dir);
      try {
        proxy.answer('/metrics', status, page);
        const started = performance.now();
        const r = await runCli(['report', '-o', 'json', '--kubeconfig', proxy.kubeconfig], {
          env: { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'kh-state-')) },
        });
        const elapsed = performance.now() - started;
        expect(r.code, r.stderr).toBe(ExitCode.ok);
        expect(proxy.requests.filter((l) => l.startsWith('GET /metrics'))).toHaveLength(1);
        const report = JSON.parse(r.stdout) as {
          findings: Array<{ control: string }>;
          controlPlane: { encryption: Record<string, unknown> };
        };
        expect(report.findings.map((f) => f.control)).toContain('KH-ENCRYPTION-UNKNOWN');
        expect(report.controlPlane.encryption).toEqual({ state: 'unknown' });
        // No retry backoff (a 503 is otherwise retried for up to a minute).
        expect(elapsed).toBeLessThan(20_000);
      } finally {
        await proxy.close();
      }
    },
  );
});
