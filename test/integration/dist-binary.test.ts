/**
 * The single executable (`npm run dist` → dist-bin/kube-harden-linux-x64) as a user runs it: copied alone into an
 * empty folder, with no node_modules anywhere near and no Node.js on PATH; offline on a copy of
 * examples/legacy-cluster (report, plan --out) and against the real control plane (report, plan, apply --plan,
 * undo); `--version` start-up measured against `node -e 0` of the same Node (issue 16's goal: ≤ 2×).
 * Without dist-bin/ the file is skipped, saying how to build it — except in CI (.ci/run builds it first), where
 * that is a failure.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterContext, clusterInfo, freshNamespace, kubectlJson } from '../cluster/harness.js';
import { repoRoot } from '../support/cli.js';

const built = join(repoRoot, 'dist-bin', 'kube-harden-linux-x64');
const have = existsSync(built);
const inCi = process.env.CI === 'true';
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

let home = '';
let exe = '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: home,
      // No Node.js, no npm, nothing of the repository: an empty PATH and a fresh HOME.
      env: {
        PATH: join(home, 'empty'),
        HOME: home,
        NO_COLOR: '1',
        XDG_STATE_HOME: join(home, 'state'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe.skipIf(!have && !inCi)(
  `the single executable${have || inCi ? '' : ' [skipped: no dist-bin/kube-harden-linux-x64; run `npm run dist`]'}`,
  () => {
    beforeAll(() => {
      if (!have)
        throw new Error('dist-bin/kube-harden-linux-x64 is missing: .ci/run builds it with `npm run dist`');
      home = mkdtempSync(join(tmpdir(), 'kube-harden-binary-'));
      mkdirSync(join(home, 'bin'));
      mkdirSync(join(home, 'empty'));
      exe = join(home, 'bin', 'kube-harden');
      cpSync(built, exe);
      symlinkSync(exe, join(home, 'bin', 'kubectl-harden'));
      cpSync(join(repoRoot, 'examples', 'legacy-cluster'), join(home, 'legacy-cluster'), { recursive: true });
    });
    afterAll(() => {
      if (home) rmSync(home, { recursive: true, force: true });
    });

    it('--version, and its start-up against `node -e 0` of the same Node', async () => {
      const first = await run(exe, ['--version']);
      expect(first.stderr).toBe('');
      expect(first.stdout).toBe(`kube-harden ${pkg.version}\n`);
      expect(first.code).toBe(0);
      const node = await import('node:child_process').then(({ execFileSync }) =>
        execFileSync(join(repoRoot, 'scripts', 'node24.sh'), { encoding: 'utf8' }).trim(),
      );
      const bin: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < 5; i++) {
        bin.push((await run(exe, ['--version'])).ms);
        bare.push((await run(node, ['-e', '0'])).ms);
      }
      const ratio = median(bin) / median(bare);
      console.log(
        `[binary] --version median ${median(bin).toFixed(0)} ms; node -e 0 median ${median(bare).toFixed(0)} ms; ratio ${ratio.toFixed(1)}× (goal ≤ 2×)`,
      );
      // A regression guard, not the goal: the goal is reported above and in README.
      expect(median(bin)).toBeLessThan(3_000);
    });

    it('as kubectl-harden it says `kubectl harden`', async () => {
      const r = await run(join(home, 'bin', 'kubectl-harden'), ['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('kubectl harden COMMAND [flags]');
    });

    it('offline: report and plan --out on examples/legacy-cluster (templates embedded)', async () => {
      const report = await run(exe, ['report', '--manifests', 'legacy-cluster']);
      expect(report.stderr).not.toMatch(/\n\s+at /);
      expect(report.code).toBe(0);
      expect(report.stdout).toMatch(/^kube-harden report\n/);
      const plan = await run(exe, ['plan', '--manifests', 'legacy-cluster', '--out', 'plan']);
      expect(plan.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(plan.code).toBe(0);
      const saved = JSON.parse(readFileSync(join(home, 'plan', 'plan.json'), 'utf8')) as {
        changes: { step: string }[];
      };
      expect(new Set(saved.changes.map((c) => c.step))).toContain('network-default-deny');
    });

    it('unpacks once per build into ~/.cache/kube-harden/sea/, and into a removed temp folder when that cannot be written', async () => {
      const { readdirSync, writeFileSync } = await import('node:fs');
      const seaCache = join(home, '.cache', 'kube-harden', 'sea');
      const builds = readdirSync(seaCache);
      expect(builds).toHaveLength(1);
      expect(readdirSync(join(seaCache, builds[0]!))).toEqual(
        expect.arrayContaining(['.complete', 'app.mjs', 'package.json', 'templates']),
      );
      // A cache "folder" that is a file cannot be written, even by root (tests may run as root).
      const xdg = join(home, 'not-a-folder');
      const tmp = join(home, 'tmp');
      writeFileSync(xdg, '');
      mkdirSync(tmp);
      const r = await run(exe, ['plan', '--manifests', 'legacy-cluster', '--out', 'plan-ro'], {
        XDG_CACHE_HOME: xdg,
        TMPDIR: tmp,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(tmp)).toEqual([]);
    });

    const live = clusterContext().available ? it : it.skip;
    live('against the control plane: report, plan, apply --plan, undo', async () => {
      const kubeconfig = clusterInfo().adminKubeconfig;
      const ns = await freshNamespace('binary');
      const report = await run(exe, ['report', '--kubeconfig', kubeconfig, '-n', ns, '-o', 'json']);
      expect(report.code, report.stderr).toBe(0);
      expect((JSON.parse(report.stdout) as { source: { kind: string } }).source.kind).toBe('cluster');

      const plan = await run(exe, [
        'plan',
        '--kubeconfig',
        kubeconfig,
        '-n',
        ns,
        '--step',
        'psa-warn-audit',
        '--out',
        'live',
      ]);
      expect(plan.code, plan.stderr).toBe(0);
      const saved = JSON.parse(readFileSync(join(home, 'live', 'plan.json'), 'utf8')) as { id: string };

      const applied = await run(exe, ['apply', '--plan', 'live', '--yes', '--kubeconfig', kubeconfig]);
      expect(applied.code, applied.stderr).toBe(0);
      type Ns = { metadata: { labels?: Record<string, string> } };
      const labelled = await kubectlJson<Ns>(['get', 'namespace', ns]);
      expect(labelled.metadata.labels?.['pod-security.kubernetes.io/warn']).toBeDefined();

      const undone = await run(exe, ['undo', saved.id, '--yes', '--kubeconfig', kubeconfig]);
      expect(undone.code, undone.stderr).toBe(0);
      const restored = await kubectlJson<Ns>(['get', 'namespace', ns]);
      expect(restored.metadata.labels?.['pod-security.kubernetes.io/warn']).toBeUndefined();
    });
  },
);
