/**
 * `kube-harden exceptions review` through the CLI, offline on examples/legacy-cluster: CI-friendly exit codes
 * (0 clean, 9 when an exception has expired or is unused; expiring ones are listed but do not fail), `-o md|json`,
 * and the `--within` window from the phase 7 step's declaration.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli.js';
import { reviewExitCode } from '../../../src/commands/exceptions.js';
import { ExitCode } from '../../../src/errors.js';

const EXAMPLE = 'examples/legacy-cluster';
const REGISTER = 'examples/legacy-cluster-exceptions.yaml';
const dir = mkdtempSync(join(tmpdir(), 'kh-review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

/** The example register's two used exceptions, with these expiry dates. */
function register(name: string, nodeExporterExpires: string, calicoExpires: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `apiVersion: kube-harden.io/v1alpha1
kind: ExceptionList
exceptions:
  - id: node-exporter-host-access
    scope: { namespace: monitoring, kind: DaemonSet, name: node-exporter }
    controls: [hostNamespaces, hostPathVolumes, hostPorts]
    reason: node-exporter reads host metrics
    owner: team-observability
    expires: ${nodeExporterExpires}
  - id: calico-node-cni
    scope: { namespace: kube-system, kind: DaemonSet, name: calico-node }
    controls: [privileged, hostNamespaces, hostPathVolumes]
    reason: Calico programs routes on the node
    owner: team-platform-network
    expires: ${calicoExpires}
`,
  );
  return file;
}

const review = (...args: string[]) => main(['exceptions', 'review', '--manifests', EXAMPLE, ...args]);

describe('kube-harden exceptions review', () => {
  it('the example register (one expired, one unused): exit 9, each named, in JSON', async () => {
    const io = capture();
    expect(await review('--exceptions', REGISTER, '-o', 'json')).toBe(ExitCode.reviewDue);
    expect(ExitCode.reviewDue).toBe(9);
    const json = JSON.parse(io.out());
    expect(json).toMatchObject({
      schemaVersion: 1,
      within: 30,
      expired: ['shop-frontend-runs-as-root'],
      unused: ['reporting-etl-hostpath'],
    });
    expect(io.err()).toContain('exceptions need review: 1 expired, 1 unused (exit 9)');
  });

  it('-o md writes Markdown (to --out too)', async () => {
    const io = capture();
    const out = join(dir, 'review.md');
    expect(await review('--exceptions', REGISTER, '-o', 'md', '--out', out)).toBe(9);
    const md = readFileSync(out, 'utf8');
    expect(md).toMatch(/^# Exceptions review \(examples\/legacy-cluster-exceptions\.yaml\)/);
    expect(md).toContain('## Expired');
    expect(md).toContain('## Unused');
    expect(io.out()).toBe('');
  });

  it('every exception valid and used: exit 0; expiring soon is listed, not a failure', async () => {
    const clean = register('clean.yaml', inDays(400), inDays(500));
    let io = capture();
    expect(await review('--exceptions', clean)).toBe(ExitCode.ok);
    expect(io.out()).toContain('0 expired, 0 expiring within 30 days, 0 unused');
    expect(io.err()).not.toContain('exceptions need review');

    const soon = register('soon.yaml', inDays(10), inDays(500));
    io = capture();
    expect(await review('--exceptions', soon, '-o', 'json')).toBe(ExitCode.ok);
    expect(JSON.parse(io.out()).expiring).toEqual(['node-exporter-host-access']);
    // The window is --within: 7 days leaves it out.
    io = capture();
    expect(await review('--exceptions', soon, '-o', 'json', '--within', '1w')).toBe(ExitCode.ok);
    expect(JSON.parse(io.out())).toMatchObject({ within: 7, expiring: [] });
  });

  it('an expired exception alone fails the review', async () => {
    const expired = register('expired.yaml', inDays(-1), inDays(500));
    const io = capture();
    expect(await review('--exceptions', expired, '-o', 'json')).toBe(9);
    expect(JSON.parse(io.out()).expired).toEqual(['node-exporter-host-access']);
  });

  it('a bad --within is a usage error naming the flag (exit 2); --help documents the exit codes', async () => {
    const io = capture();
    expect(await review('--exceptions', REGISTER, '--within', 'soon')).toBe(ExitCode.usage);
    expect(io.err()).toContain('invalid value "soon" for --within: is not a number of days');
    expect(await main(['exceptions', 'review', '--help'])).toBe(0);
    expect(io.out()).toContain('exit 9  an exception has expired, or one is unused');
    expect(io.out()).toMatch(/--within DAYS .*\(default 30d\)/);
    expect(io.out()).toMatch(/-o, --format FORMAT .*one of: text, md, json/);
  });

  it('unknowns: 7, unless something has expired (certain whatever could not be read)', () => {
    const r = { within: 30, entries: [], expired: [] as string[], expiring: [], unused: [] as string[] };
    expect(reviewExitCode(r, false)).toBe(0);
    expect(reviewExitCode(r, true)).toBe(7);
    expect(reviewExitCode({ ...r, unused: ['u'] }, false)).toBe(9);
    expect(reviewExitCode({ ...r, unused: ['u'] }, true)).toBe(7);
    expect(reviewExitCode({ ...r, expired: ['e'] }, true)).toBe(9);
  });
});
