/**
 * The client-side rate limit measured end to end (failure-modes.md F4, test 4): the CLI reads a per-namespace
 * pattern (-n × 10, ~120 requests) with `--qps 5 --burst 10` as a dedicated ServiceAccount, and the API
 * server's own audit log (receive timestamps) shows at most `burst + qps × t` requests in any window of t
 * seconds and a sustained rate of at most qps after the burst.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterInfo, describeCluster, freshNamespace, waitFor } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';
import { serviceAccountToken, tokenKubeconfig } from '../support/identities.js';

interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  userAgent?: string;
  user: { username: string };
  requestReceivedTimestamp: string;
}

function auditEvents(file: string, username: string): AuditEvent[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes(username))
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.user.username === username && e.stage === 'ResponseComplete');
}

/** The largest number of requests whose receive times fall within `windowMs` of each other. */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) > windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

const QPS = 5;
const BURST = 10;
/**
 * Receive times at the server are send times plus a varying latency: a request sent on time may arrive up to
 * one tick late and bunch with the next one. One extra request per window absorbs that, no more.
 */
const JITTER = 1;

describeCluster('client rate limit (audit log)', () => {
  const namespaces: string[] = [];
  let kubeconfig: string;
  let username: string;
  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (!clusterInfo().auditLog) return;
    namespaces.push(...(await Promise.all(Array.from({ length: 10 }, () => freshNamespace('qps')))));
    const sa = await serviceAccountToken(namespaces[0] as string, 'rate-limited', { clusterRole: 'view' });
    ({ username, cleanup } = sa);
    kubeconfig = tokenKubeconfig(sa.token);
  }, 120_000);

  afterAll(async () => {
    await cleanup?.();
  });

  it('report -n ×10 with --qps 5 --burst 10: no window holds more than burst + qps·t requests, and the sustained rate stays ≤ qps', async (ctx) => {
    const { auditLog } = clusterInfo();
    if (!auditLog) return ctx.skip(); // an external cluster: no audit log to read
    const started = performance.now();
    const r = await runCli(
      [
        'report',
        ...namespaces.flatMap((n) => ['-n', n]),
        '--kubeconfig',
        kubeconfig,
        '--qps',
        String(QPS),
        '--burst',
        String(BURST),
        '-o',
        'json',
      ],
      { timeoutMs: 120_000 },
    );
    const elapsedMs = performance.now() - started;
    // `view` cannot read RBAC objects: those are unknowns (exit 7), which is fine here.
    expect([0, 7]).toContain(r.code);
    expect(r.stderr).not.toMatch(/error:/);

    // The audit log is written as requests complete; wait until this user's count stops growing.
    let events: AuditEvent[] = [];
    await waitFor(
      () => {
        const now = auditEvents(auditLog, username);
        const stable = now.length > 0 && now.length === events.length;
        events = now;
        return stable;
      },
      { what: 'the audit log to settle', intervalMs: 500 },
    );
    const times = events.map((e) => Date.parse(e.requestReceivedTimestamp)).sort((a, b) => a - b);
    const n = times.length;
    // Enough traffic that the limit matters: ~120 requests need ≥ (120 - 10) / 5 = 22 s at 5/s.
    expect(n).toBeGreaterThanOrEqual(100);
    const spanMs = (times[n - 1] as number) - (times[0] as number);
    const floorMs = ((n - BURST - JITTER) / QPS) * 1000;
    expect(spanMs).toBeGreaterThanOrEqual(floorMs);
    expect(elapsedMs).toBeGreaterThanOrEqual(floorMs);

    // Bursts: never more than `burst` requests at once (within 100 ms) …
    expect(maxInWindow(times, 100)).toBeLessThanOrEqual(BURST + JITTER);
    // … and in any window of t seconds at most burst + qps·t.
    const violations: string[] = [];
    for (const seconds of [0.5, 1, 2, 3, 5, 10, 20]) {
      const allowed = Math.floor(BURST + QPS * seconds) + JITTER;
      const seen = maxInWindow(times, seconds * 1000);
      if (seen > allowed) violations.push(`${seen} requests within ${seconds}s (allowed ${allowed})`);
    }
    expect(violations).toEqual([]);
    // After the initial burst the sustained rate is at most qps: requests burst+1 … n over their time span.
    const afterBurst = times.slice(BURST);
    const sustainedSpan = ((afterBurst[afterBurst.length - 1] as number) - (afterBurst[0] as number)) / 1000;
    const sustainedRate = (afterBurst.length - 1 - JITTER) / sustainedSpan;
    expect(sustainedRate).toBeLessThanOrEqual(QPS);
    // (No tighter per-second bound after the first burst: a token bucket refills while the client has nothing to
    // send, e.g. while it parses a page, so a window after such a pause may rightly hold more than qps; the
    // windows above are the bucket's real bound. CI on 2 loaded cores saw 7 in one such second with qps 5.)
  }, 180_000);
});
