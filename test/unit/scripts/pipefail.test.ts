/**
 * Shell scripts run under `set -o pipefail`: a pipe into `head` or `grep -q` closes early, the writer dies of
 * SIGPIPE (exit 141) and the script stops at random (it broke the first CI run: `etcd --version | head -n1`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const scripts = execFileSync('git', ['ls-files', '*.sh', '.ci/run'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);

describe('shell scripts under pipefail', () => {
  it('finds the scripts', () => {
    expect(scripts).toContain('test/cluster/k8s/build.sh');
    expect(scripts).toContain('.ci/run');
  });

  it.each(scripts)('%s pipes into no early-closing reader', (file) => {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    const offending = lines
      .map((line, i) => ({ line, n: i + 1 }))
      .filter(({ line }) => !line.trimStart().startsWith('#'))
      .filter(({ line }) => /\|\s*(head\b|grep\s+(-\w*q|--quiet)|sed\s+-n\s+[^|]*q\b)/.test(line));
    expect(offending, offending.map((o) => `${file}:${o.n}: ${o.line}`).join('\n')).toEqual([]);
  });

  it("build.sh's version checks survive a chatty binary, 50 times in a row", () => {
    // The lines of build.sh between the kube-apiserver version and "built in", run against a fake etcd that
    // prints far more than a pipe buffer, as the real one may.
    const build = readFileSync(join(root, 'test/cluster/k8s/build.sh'), 'utf8').split('\n');
    const from = build.findIndex((l) => l.includes('"$OUT/kube-apiserver" --version'));
    const to = build.findIndex((l) => l.startsWith('echo "built in'));
    expect(from).toBeGreaterThan(0);
    expect(to).toBeGreaterThan(from);
    const dir = mkdtempSync(join(tmpdir(), 'kh-pipefail-'));
    const chatty = '#!/usr/bin/env bash\necho "v1 first line"\nseq 1 50000 | sed "s/^/noise line /"\n';
    for (const bin of ['etcd', 'kube-apiserver']) {
      writeFileSync(join(dir, bin), chatty);
      chmodSync(join(dir, bin), 0o755);
    }
    const snippet = ['set -euo pipefail', `OUT=${dir}`, ...build.slice(from, to), 'echo OK'].join('\n');
    writeFileSync(join(dir, 'check.sh'), snippet);
    const loop = `for i in $(seq 1 50); do bash "${join(dir, 'check.sh')}" 2>/dev/null >/dev/null || exit $?; done; echo ALL`;
    const out = execFileSync('bash', ['-c', loop], { encoding: 'utf8' });
    expect(out.trim().split('\n').at(-1)).toBe('ALL');
  }, 120_000);
});
