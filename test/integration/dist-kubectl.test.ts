/**
 * kube-harden as a kubectl plugin: with a directory holding `kubectl-harden` on PATH, the real kubectl (built with
 * the test control plane) dispatches `kubectl harden …` to it; help and hints then say `kubectl harden`, and
 * kubectl's own flags (`--kubeconfig`, `--context`, `-n`) reach the plugin as its arguments.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterInfo, describeCluster } from '../cluster/harness.js';
import { repoRoot } from '../support/cli.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let pluginDir = '';

/** kubectl with PATH = the plugin dir + node's dir only (no other kube-harden, no other kubectl plugins). */
function kubectl(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(clusterInfo().kubectl, args, {
      cwd: repoRoot,
      env: {
        HOME: process.env.HOME ?? tmpdir(),
        PATH: [pluginDir, dirname(process.execPath)].join(':'),
        NO_COLOR: '1',
        KUBECONFIG: join(pluginDir, 'no-such-kubeconfig'),
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
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describeCluster('kubectl harden (plugin)', () => {
  beforeAll(() => {
    pluginDir = mkdtempSync(join(tmpdir(), 'kube-harden-plugin-'));
    // As npm installs it: node_modules/.bin/kubectl-harden → the package's bin/kubectl-harden.js.
    symlinkSync(join(repoRoot, 'bin', 'kubectl-harden.js'), join(pluginDir, 'kubectl-harden'));
    symlinkSync(
      join(repoRoot, 'bin', 'kubectl_complete-harden.js'),
      join(pluginDir, 'kubectl_complete-harden'),
    );
  });
  afterAll(() => rmSync(pluginDir, { recursive: true, force: true }));

  it('kubectl finds the plugin', async () => {
    const r = await kubectl(['plugin', 'list']);
    expect(r.stdout).toContain(join(pluginDir, 'kubectl-harden'));
  });

  it('`kubectl harden --help` names the program as the user typed it', async () => {
    const r = await kubectl(['harden', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  kubectl harden COMMAND [flags]');
    expect(r.stdout).toContain('  kubectl harden report --manifests examples/legacy-cluster');
    expect(r.stdout).not.toMatch(/kube-harden (report|COMMAND)/);
    const plan = await kubectl(['harden', 'plan', '--help']);
    expect(plan.stdout).toContain('kubectl harden plan [--step ID]');
    const bad = await kubectl(['harden', 'report', '--frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown flag --frobnicate for "kubectl harden report"');
  });

  it("kubectl's own completion completes the plugin (kubectl_complete-harden): step ids, commands", async () => {
    const steps = await kubectl(['__complete', 'harden', 'plan', '--step', '']);
    const lines = steps.stdout.split('\n').filter(Boolean);
    expect(lines).toEqual(expect.arrayContaining(['psa-warn-audit', 'psa-enforce', 'network-default-deny']));
    expect(lines.at(-1)).toBe(':4');
    const commands = await kubectl(['__complete', 'harden', 'pl']);
    expect(commands.stdout.split('\n').filter(Boolean)).toEqual(['plan', ':4']);
  });

  it('`kubectl harden report --manifests examples/legacy-cluster` runs offline', async () => {
    const r = await kubectl(['harden', 'report', '--manifests', 'examples/legacy-cluster']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kube-harden report\n/);
  });

  it('kubectl flags reach the plugin: `kubectl harden report --kubeconfig … -n default` reads the live cluster', async () => {
    const c = clusterInfo();
    const r = await kubectl([
      'harden',
      'report',
      '--kubeconfig',
      c.adminKubeconfig,
      '-n',
      'default',
      '-o',
      'json',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { source: { kind: string } };
    expect(doc.source.kind).not.toBe('manifests');
  });
});
