/**
 * `patches/` (issue 18): for an object whose source of truth is Helm, Argo CD or Flux, the plan exports the
 * smallest strategic-merge patch that carries the fix. Applied to the source object (maps merge, named list items
 * merge by name — kustomize's strategic merge for pod specs), it gives exactly the remediated object; and every
 * value in it is needed: leave any one out and the result is no longer the fix. Objects nobody else manages get
 * no patch. The fixture (test/fixtures/manifests/patches) holds Helm, Argo CD and Flux workloads that are partly
 * compliant already, so a patch that repeated the whole apply configuration would fail here.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { mergeApply } from '../../../src/engine/fields.js';
import { repoRoot, runCli } from '../../support/cli.js';

type J = Record<string, unknown>;
const FIXTURE = join('test', 'fixtures', 'manifests', 'patches');
let out = '';

const docs = (file: string): J[] =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as J | null)
    .filter((d): d is J => !!d);
const keyOf = (o: J): string => {
  const m = o.metadata as J;
  return `${o.kind}/${m.namespace ?? ''}/${m.name}`;
};

/** Every removable value of a patch: scalars and lists of scalars, never a list item's merge key `name`. */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) {
    if (!value.some((v) => v && typeof v === 'object')) return [path];
    return value.flatMap((v, i) => leaves(v, [...path, i]));
  }
  if (value && typeof value === 'object')
    return Object.entries(value as J).flatMap(([k, v]) =>
      k === 'name' && typeof path.at(-1) === 'number' ? [] : leaves(v, [...path, k]),
    );
  return [path];
}

function without(value: unknown, path: (string | number)[]): unknown {
  const copy = structuredClone(value) as J;
  let at: J = copy;
  for (const k of path.slice(0, -1)) at = at[k as string] as J;
  const last = path.at(-1) as string;
  if (Array.isArray(at)) at.splice(Number(last), 1);
  else delete at[last];
  return copy;
}

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'dist', 'src', 'cli.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  out = mkdtempSync(join(tmpdir(), 'kube-harden-patches-'));
  const r = await runCli(['migrate', '--manifests', FIXTURE, '-n', 'mon', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('patches/ for GitOps sources', () => {
  it('one patch per managed workload, none for the object nobody else manages', () => {
    expect(readdirSync(join(out, 'patches')).filter((f) => f.endsWith('.yaml'))).toEqual([
      'cronjob-mon-compact.yaml',
      'deployment-mon-exporter.yaml',
      'statefulset-mon-store.yaml',
    ]);
    const heads = ['cronjob-mon-compact', 'deployment-mon-exporter', 'statefulset-mon-store'].map(
      (f) => readFileSync(join(out, 'patches', `${f}.yaml`), 'utf8').split('\n')[0],
    );
    expect(heads).toEqual([
      '# Argo CD application mon: apply this patch to the source, not only to the cluster',
      '# Helm release mon/prom: apply this patch to the source, not only to the cluster',
      '# Flux Kustomization flux-system/monitoring: apply this patch to the source, not only to the cluster',
    ]);
  });

  it('merged into the source object, each patch gives exactly the remediated object; no value in it is spare', () => {
    const sources = new Map(docs(join(repoRoot, FIXTURE, 'managed.yaml')).map((o) => [keyOf(o), o]));
    const fixed = new Map(docs(join(out, 'remediated', 'managed.yaml')).map((o) => [keyOf(o), o]));
    const files = readdirSync(join(out, 'patches')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBe(3);
    for (const file of files) {
      const patch = parse(readFileSync(join(out, 'patches', file), 'utf8')) as J;
      // Identity only: no labels, annotations or other metadata to conflict with the chart's own.
      expect(Object.keys(patch.metadata as J).sort(), file).toEqual(['name', 'namespace']);
      const source = sources.get(keyOf(patch));
      const target = fixed.get(keyOf(patch));
      expect(source, file).toBeDefined();
      expect(target, file).not.toEqual(source);
      expect(mergeApply(source, patch), file).toEqual(target);
      const spec = leaves(patch.spec, ['spec']);
      expect(spec.length, file).toBeGreaterThan(0);
      for (const leaf of spec)
        expect(mergeApply(source, without(patch, leaf)), `${file}: ${leaf.join('.')} is needed`).not.toEqual(
          target,
        );
    }
  });

  it('the optional fixes (readOnlyRootFilesystem) are patches of their own, kept apart', () => {
    const optional = readdirSync(join(out, 'patches', 'optional')).sort();
    expect(optional).toEqual([
      'cronjob-mon-compact.yaml',
      'deployment-mon-exporter.yaml',
      'statefulset-mon-store.yaml',
    ]);
    for (const file of optional) {
      const text = readFileSync(join(out, 'patches', 'optional', file), 'utf8');
      expect(text).toContain('readOnlyRootFilesystem: true');
      expect(readFileSync(join(out, 'patches', file), 'utf8')).not.toContain('readOnlyRootFilesystem');
    }
  });
});
