/** `kube-harden schedule`: the files it writes, their commands, and bad input as usage errors. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { main } from '../../../src/cli.js';
import { cronJobArgs } from '../../../src/commands/schedule.js';
import { inventoryAccessChecks, inventoryReadRules } from '../../../src/inventory/access.js';

const dir = mkdtempSync(join(tmpdir(), 'kh-schedule-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { err: () => err };
}

describe('kube-harden schedule', () => {
  it('writes the GitHub workflow, the GitLab job, the CronJob manifests and a README', async () => {
    capture();
    const out = join(dir, 'all');
    const code = await main([
      'schedule',
      '--out',
      out,
      '--image',
      'ghcr.io/example/kube-harden:0.1.0',
      '-n',
      'sec-review',
      '--exceptions',
      'examples/legacy-cluster-exceptions.yaml',
      '--within',
      '2w',
      '--schedule',
      '30 5 * * *',
    ]);
    expect(code).toBe(0);
    const gh = parse(readFileSync(join(out, '.github/workflows/kube-harden-exceptions-review.yml'), 'utf8'));
    expect(gh.on.schedule).toEqual([{ cron: '30 5 * * *' }]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
    expect(gh.jobs.review.env.KUBE_HARDEN_KUBECONFIG).toBe('${{ secrets.KUBE_HARDEN_KUBECONFIG }}');
    const runs = gh.jobs.review.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(runs).toMatch(
      /kube-harden@\d+\.\d+\.\d+ exceptions review -A --exceptions examples\/legacy-cluster-exceptions\.yaml --within 14d -o md/,
    );
    expect(runs).toMatch(/kube-harden@\d+\.\d+\.\d+ report -A -o md/);
    const gl = parse(readFileSync(join(out, 'gitlab/kube-harden-exceptions-review.gitlab-ci.yml'), 'utf8'));
    expect(gl['kube-harden-exceptions-review'].script.join('\n')).toContain('exceptions review -A');
    const docs = parseAllDocuments(readFileSync(join(out, 'kubernetes/kube-harden-review.yaml'), 'utf8')).map(
      (d) => d.toJS(),
    );
    expect(docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`)).toEqual([
      'Namespace//sec-review',
      'ServiceAccount/sec-review/kube-harden-review',
      'ClusterRole//kube-harden-review',
      'ClusterRoleBinding//kube-harden-review',
      'ConfigMap/sec-review/kube-harden-review-kubeconfig',
      'ConfigMap/sec-review/kube-harden-review-exceptions',
      'CronJob/sec-review/kube-harden-review',
    ]);
    const cron = docs[6];
    expect(cron.spec.schedule).toBe('30 5 * * *');
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.image).toBe('ghcr.io/example/kube-harden:0.1.0');
    expect(container.args).toEqual(cronJobArgs({ within: 14, exceptionsText: 'x' }));
    expect(container.args).toContain('/etc/kube-harden/exceptions.yaml');
    expect(docs[5].data['exceptions.yaml']).toBe(
      readFileSync('examples/legacy-cluster-exceptions.yaml', 'utf8'),
    );
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('exits 0 when clean, 9 when');
  });

  it('without --image: CI files only, and it says so', async () => {
    const io = capture();
    const out = join(dir, 'ci-only');
    expect(
      await main(['schedule', '--out', out, '--exceptions', 'examples/legacy-cluster-exceptions.yaml']),
    ).toBe(0);
    expect(existsSync(join(out, 'kubernetes'))).toBe(false);
    expect(io.err()).toContain('no CronJob: pass --image IMAGE');
  });

  it('bad input: usage errors (exit 2) and a broken register (exit 6)', async () => {
    const io = capture();
    const out = join(dir, 'bad');
    expect(await main(['schedule'])).toBe(2);
    expect(io.err()).toContain('needs --out DIR');
    expect(await main(['schedule', '--out', out, '--schedule', 'weekly'])).toBe(2);
    expect(await main(['schedule', '--out', out, '-n', 'Bad_NS'])).toBe(2);
    expect(await main(['schedule', '--out', out, '--image', 'x; rm -rf /'])).toBe(2);
    expect(await main(['schedule', '--out', out, '--exceptions', 'a b.yaml'])).toBe(2);
    expect(await main(['schedule', '--out', out, '--exceptions', 'missing.yaml'])).toBe(6);
    expect(await main(['schedule', '--out', out, '--within', 'soon'])).toBe(2);
  });

  it('the ClusterRole is the inventory access checks as rules: list the kinds, get the named objects, no more', () => {
    const rules = inventoryReadRules();
    const granted = rules.flatMap((r) =>
      r.resources.flatMap((res) =>
        (r.resourceNames ?? ['*']).map((n) => `${r.verbs.join(',')} ${r.apiGroups[0]}/${res} ${n}`),
      ),
    );
    const checks = inventoryAccessChecks().map(
      (c) => `${c.verb} ${c.group}/${c.resource} ${'name' in c ? (c as { name: string }).name : '*'}`,
    );
    expect(new Set(granted)).toEqual(new Set(checks));
    expect(granted).toHaveLength(checks.length);
    expect(rules.flatMap((r) => r.verbs).every((v) => v === 'list' || v === 'get')).toBe(true);
    expect(granted.some((g) => g.includes('secrets'))).toBe(false);
  });
});
