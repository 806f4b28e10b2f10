/**
 * The built CLI, offline (no cluster): the tests `.ci/run` repeats on Node 24 (scripts/node24.sh) after the full
 * suite on the machine's Node, so that a break on one runtime fails CI. The CLI runs on the same Node as vitest
 * (`process.execPath`); with KUBE_HARDEN_EXPECT_NODE=<major> the first test also checks that runtime's major.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../../support/cli.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
let work = '';

beforeAll(() => {
  if (!existsSync(join(repoRoot, 'dist', 'src', 'cli.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  work = mkdtempSync(join(tmpdir(), 'kube-harden-offline-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe(`the built CLI, offline, on Node ${process.versions.node}`, () => {
  it('runs on the expected Node major and prints its version', async () => {
    const expected = process.env.KUBE_HARDEN_EXPECT_NODE;
    if (expected) expect(process.versions.node.split('.')[0]).toBe(expected);
    const r = await runCli(['--version']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`kube-harden ${pkg.version}\n`);
    expect(r.code).toBe(0);
  });

  it('reports on examples/legacy-cluster (text and JSON)', async () => {
    const text = await runCli(['report', '--manifests', 'examples/legacy-cluster']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^kube-harden report\n/);
    expect(text.stdout).toContain('payments');
    const json = await runCli(['report', '--manifests', 'examples/legacy-cluster', '-o', 'json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { schemaVersion: number; summary: { namespaces: number } };
    expect(doc.schemaVersion).toBe(1);
    expect(doc.summary.namespaces).toBeGreaterThan(0);
  });

  it('plans examples/legacy-cluster into a folder (templates are read at run time)', async () => {
    const out = join(work, 'plan');
    const r = await runCli(['plan', '--manifests', 'examples/legacy-cluster', '--out', out]);
    expect(r.stderr).not.toMatch(/unexpected error|at .*\.js:\d+/);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'PLAN.md',
      'artifacts',
      'manifests',
      'patches',
      'plan.json',
      'remediated',
    ]);
    expect(readdirSync(join(out, 'manifests')).length).toBeGreaterThan(0);
  });

  it('bad input is a usage error, not a stack trace', async () => {
    const r = await runCli(['report', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown flag --frobnicate');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
