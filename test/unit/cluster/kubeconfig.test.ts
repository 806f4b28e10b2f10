import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveKubeconfig } from '../../../src/cluster/kubeconfig.js';
import { ConfigError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kh-kubeconfig-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const a = file(
  'a.yaml',
  `apiVersion: v1
kind: Config
clusters: [{name: shared, cluster: {server: "https://a.example:6443"}}]
users: [{name: ua, user: {token: t-a}}]
contexts: [{name: ctx-a, context: {cluster: shared, user: ua, namespace: team-a}}]
current-context: ctx-a
`,
);
const b = file(
  'b.yaml',
  `apiVersion: v1
kind: Config
clusters:
- {name: shared, cluster: {server: "https://b.example:6443"}}
- {name: other, cluster: {server: "https://other.example:6443", certificate-authority: ca.crt}}
users: [{name: ub, user: {token: t-b}}]
contexts: [{name: ctx-b, context: {cluster: other, user: ub}}]
current-context: ctx-b
`,
);

describe('kubeconfig resolution (kubectl rules)', () => {
  it('merges $KUBECONFIG paths: the first definition and the first current-context win', () => {
    const r = resolveKubeconfig({ env: { KUBECONFIG: [a, b].join(delimiter) } });
    expect(r.contextName).toBe('ctx-a');
    expect(r.cluster.server).toBe('https://a.example:6443');
    expect(r.namespace).toBe('team-a');
    const other = resolveKubeconfig({ env: { KUBECONFIG: [a, b].join(delimiter) }, context: 'ctx-b' });
    expect(other.cluster.name).toBe('other');
    // Relative file paths are relative to the kubeconfig that names them.
    expect(other.cluster.caFile).toBe(join(dir, 'ca.crt'));
  });

  it('--kubeconfig takes exactly one file and ignores $KUBECONFIG', () => {
    const r = resolveKubeconfig({ kubeconfig: b, env: { KUBECONFIG: a } });
    expect(r.contextName).toBe('ctx-b');
    expect(r.files).toEqual([b]);
  });

  it('names the missing context and lists the available ones', () => {
    expect(() => resolveKubeconfig({ kubeconfig: a, context: 'prod' })).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('context "prod" not found'),
        hint: 'use one of: ctx-a',
      }),
    );
  });

  it('gives ConfigError (exit 3) for missing files, broken YAML and alias bombs, naming the file', () => {
    expect(() => resolveKubeconfig({ kubeconfig: join(dir, 'nope') })).toThrow(ConfigError);
    const broken = file('broken.yaml', 'clusters: [\n  - {name: c\n');
    expect(() => resolveKubeconfig({ kubeconfig: broken })).toThrow(/broken\.yaml is not valid YAML/);
    const bomb = file(
      'bomb.yaml',
      `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`,
    );
    const started = performance.now();
    expect(() => resolveKubeconfig({ kubeconfig: bomb })).toThrow(ConfigError);
    expect(performance.now() - started).toBeLessThan(200);
    expect(() => resolveKubeconfig({ env: { KUBECONFIG: join(dir, 'x') } })).toThrow(
      /none of the files in \$KUBECONFIG exist/,
    );
  });

  it('refuses a context whose cluster is missing or has no usable server', () => {
    const bad = file(
      'bad.yaml',
      `contexts: [{name: c, context: {cluster: ghost, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {}}]\nclusters: []\n`,
    );
    expect(() => resolveKubeconfig({ kubeconfig: bad })).toThrow(
      /refers to cluster "ghost", which is not defined/,
    );
  });
});
