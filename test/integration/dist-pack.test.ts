/**
 * The npm package as users get it: `npm pack` of this checkout (dist/ must be built: `npm test` builds), installed
 * into an empty folder from the registry (with the npm cache `npm ci` filled: `--prefer-offline`), then run through
 * npx: `--version`, the offline report and a plan (which reads templates/ at run time). A file the program needs
 * but package.json `files` leaves out fails here. No cluster needed; it lives in the integration project because
 * it is slow (~20-30 s, mostly `npm install`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
let work = '';
let app = '';
let packed: string[] = [];

async function npx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('npx', ['--no-install', ...args], {
      cwd: app,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}

describe('npm pack → npm install → npx', () => {
  beforeAll(async () => {
    if (!existsSync(join(repoRoot, 'dist', 'src', 'cli.js')))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    work = mkdtempSync(join(tmpdir(), 'kube-harden-pack-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
    const info = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    packed = info[0]!.files.map((f) => f.path);
    app = join(work, 'app');
    await run('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), '{ "private": true }\n');
    await run(
      'npm',
      [
        'install',
        join(work, info[0]!.filename),
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { cwd: app, timeout: 240_000 },
    );
  }, 300_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs the program, its templates and docs, and nothing from tests or sources', () => {
    for (const f of [
      'bin/kube-harden.js',
      'bin/kubectl-harden.js',
      'dist/src/cli.js',
      'package.json',
      'README.md',
    ])
      expect(packed).toContain(f);
    expect(packed.some((f) => f.startsWith('templates/') && f.endsWith('.yaml'))).toBe(true);
    expect(packed.filter((f) => /^(test|src|steps|dist\/test|dist\/bench|node_modules)\//.test(f))).toEqual(
      [],
    );
  });

  it('installs both executables', () => {
    const bins = readdirSync(join(app, 'node_modules', '.bin'));
    expect(bins).toEqual(
      expect.arrayContaining(['kube-harden', 'kubectl-harden', 'kubectl_complete-harden']),
    );
  });

  it('`npx kube-harden --version`', async () => {
    const r = await npx(['kube-harden', '--version']);
    expect(r.stdout).toBe(`${pkg.name} ${pkg.version}\n`);
    expect(r.code).toBe(0);
  });

  it('the offline report and a plan on examples/legacy-cluster', async () => {
    const example = join(repoRoot, 'examples', 'legacy-cluster');
    const report = await npx(['kube-harden', 'report', '--manifests', example]);
    expect(report.stderr).not.toMatch(/\n\s+at /);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/^kube-harden report\n/);
    const out = join(work, 'plan');
    const plan = await npx(['kube-harden', 'plan', '--manifests', example, '--out', out]);
    expect(plan.stderr).not.toMatch(/unexpected error|\n\s+at /);
    expect(plan.code).toBe(0);
    expect(readdirSync(join(out, 'manifests')).length).toBeGreaterThan(0);
  });

  it('`npx kubectl-harden --help` says kubectl harden', async () => {
    const r = await npx(['kubectl-harden', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kubectl harden COMMAND [flags]');
  });
});
