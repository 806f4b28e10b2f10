import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { type ManifestChange, toYaml, writeRemediatedCopy } from '../../../src/cluster/manifest-writer.js';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { InputError } from '../../../src/errors.js';
import { Kinds } from '../../../src/k8s/kinds.js';
import type { KubeObject, ObjectRef } from '../../../src/k8s/types.js';
import { doc, fixtureCopy, rejection, snapshot, tempDir, tree } from './helpers.js';

const WEB: ObjectRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'payments', name: 'web' };
const SERVICE: ObjectRef = { apiVersion: 'v1', kind: 'Service', namespace: 'payments', name: 'web' };
const WORKER: ObjectRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'worker' };
const SETTINGS: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'batch', name: 'settings' };
const BATCH: ObjectRef = { apiVersion: 'v1', kind: 'Namespace', name: 'batch' };

async function object(source: ManifestSource, ref: ObjectRef): Promise<KubeObject> {
  const found = (await source.get(ref)).value;
  if (!found) throw new Error(`no ${ref.name}`);
  return found;
}

async function outDir(): Promise<string> {
  return path.join(await tempDir(), 'hardened');
}

async function read(dir: string, rel: string): Promise<string> {
  return fs.readFile(path.join(dir, rel), 'utf8');
}

describe('writeRemediatedCopy', () => {
  test('rewrites only the changed documents; everything else is byte-identical and the source is untouched', async () => {
    // Given the fixture tree
    const dir = await fixtureCopy('basic');
    const before = await snapshot(dir);
    const source = await ManifestSource.load(dir);

    // When the operator hardens the web deployment, drops its service, edits a List item, labels a worker
    // that had no namespace, labels a namespace no manifest declares, and adds a network policy
    const web = await object(source, WEB);
    (web.spec as { template: { spec: Record<string, unknown> } }).template.spec.securityContext = {
      runAsNonRoot: true,
    };
    const settings = await object(source, SETTINGS);
    settings.data = { mode: 'on' };
    const worker = await object(source, WORKER);
    worker.metadata.labels = { ...worker.metadata.labels, hardened: 'true' };
    const batch = await object(source, BATCH);
    batch.metadata.labels = { 'pod-security.kubernetes.io/enforce': 'restricted' };
    const policy: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny', namespace: 'payments' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    };
    const out = await outDir();
    const result = await writeRemediatedCopy(source, out, [
      { ref: WEB, object: web },
      { ref: SERVICE, object: null },
      { ref: SETTINGS, object: settings },
      { ref: WORKER, object: worker },
      { ref: BATCH, object: batch },
      { create: policy },
    ]);

    // Then the source is exactly as it was
    expect(await snapshot(dir)).toEqual(before);

    // And untouched files are copies
    expect(result).toEqual({
      outDir: out,
      copied: ['README.md', 'namespaces.yaml', 'rbac/cluster.json'],
      rewritten: ['apps/web.yaml', 'apps/worker.yml', 'lists/list.yaml'],
      created: ['kube-harden/namespace-batch.yaml', 'kube-harden/networkpolicy-payments-default-deny.yaml'],
      removed: [],
    });
    const after = await snapshot(out);
    for (const rel of result.copied) expect(after.get(rel)).toEqual(before.get(rel));

    // And in the multi-document file, the changed document gets only the new field (its comments and key order
    // stay), the deleted one is gone, and the others keep their text, comments included
    const webYaml = await read(out, 'apps/web.yaml');
    const original = before.get('apps/web.yaml')!.toString('utf8');
    const configMapDoc = original.slice(original.indexOf('---\n# an empty document'));
    const webDoc = original.slice(0, original.indexOf('# --- the service ---'));
    expect(webYaml).toBe(`${webDoc}      securityContext:
        runAsNonRoot: true
# --- the service ---
${configMapDoc}`);

    // And the object that had no namespace still has none in its manifest
    expect(await read(out, 'apps/worker.yml')).not.toMatch(/^\s*namespace:/m);

    // And the List keeps its other items, objects first in their envelope order
    expect(await read(out, 'lists/list.yaml')).toBe(`apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: batch
      labels:
        app: batch
    data:
      mode: "on"
  - apiVersion: v1
    kind: ServiceAccount
    metadata:
      name: runner
      namespace: batch
`);

    // And the synthesized namespace is now declared, without the synthesized mark
    expect(await read(out, 'kube-harden/namespace-batch.yaml')).toBe(`apiVersion: v1
kind: Namespace
metadata:
  name: batch
  labels:
    pod-security.kubernetes.io/enforce: restricted
`);

    // And reading the copy back gives exactly the changed objects
    const copy = await ManifestSource.load(out);
    expect(await object(copy, WEB)).toEqual(web);
    expect(await object(copy, SETTINGS)).toEqual(settings);
    expect(await object(copy, WORKER)).toEqual(worker);
    expect(await object(copy, { ...policy, namespace: 'payments', name: 'default-deny' })).toEqual(policy);
    expect((await copy.get(SERVICE)).value).toBeUndefined();
    expect(copy.isSynthesized(BATCH)).toBe(false);
    expect((await object(copy, BATCH)).metadata.labels).toEqual(batch.metadata.labels);
  });

  test('a change that changes nothing leaves the file byte-identical', async () => {
    const dir = await fixtureCopy('basic');
    const source = await ManifestSource.load(dir);
    const out = await outDir();
    const result = await writeRemediatedCopy(source, out, [{ ref: WEB, object: await object(source, WEB) }]);
    expect(result.rewritten).toEqual([]);
    expect(await snapshot(out)).toEqual(await snapshot(dir));
  });

  test('a file whose every object is deleted is not written', async () => {
    const dir = await tree({
      'a.yaml': `${doc('ConfigMap', 'a')}---\n${doc('ConfigMap', 'b')}`,
      'keep.yaml': doc('Pod', 'p'),
    });
    const source = await ManifestSource.load(dir);
    const cm = (name: string): ObjectRef => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'default',
      name,
    });
    const out = await outDir();
    const result = await writeRemediatedCopy(source, out, [
      { ref: cm('a'), object: null },
      { ref: cm('b'), object: null },
    ]);
    expect(result.removed).toEqual(['a.yaml']);
    expect((await snapshot(out)).has('a.yaml')).toBe(false);
  });

  test('deleting the first document keeps the rest byte-identical', async () => {
    const second = `---\n# about b\n${doc('ConfigMap', 'b')}`;
    const dir = await tree({ 'a.yaml': `${doc('ConfigMap', 'a')}${second}` });
    const source = await ManifestSource.load(dir);
    const out = await outDir();
    await writeRemediatedCopy(source, out, [
      { ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'a' }, object: null },
    ]);
    expect(await read(out, 'a.yaml')).toBe(second);
  });

  test('JSON files stay JSON; Windows line ends and a byte-order mark are kept', async () => {
    const crlf = `\uFEFF${doc('ConfigMap', 'a', 'data:\n  k: v\n')}---\n${doc('ConfigMap', 'b')}`.replaceAll(
      '\n',
      '\r\n',
    );
    const dir = await tree({
      'a.json': JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque' }),
      'crlf.yaml': crlf,
    });
    const source = await ManifestSource.load(dir);
    const secret = await object(source, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'default',
      name: 's',
    });
    secret.immutable = true;
    const cm = await object(source, { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'a' });
    cm.data = { k: 'w' };
    const out = await outDir();
    await writeRemediatedCopy(source, out, [
      { ref: { apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 's' }, object: secret },
      { ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'a' }, object: cm },
    ]);
    expect(JSON.parse(await read(out, 'a.json'))).toEqual({ ...secret, metadata: { name: 's' } });
    const rewritten = await read(out, 'crlf.yaml');
    expect(rewritten.startsWith('\uFEFFapiVersion: v1\r\nkind: ConfigMap\r\n')).toBe(true);
    expect(rewritten).toContain('  k: w\r\n---\r\n');
    expect(rewritten.endsWith(crlf.slice(crlf.indexOf('---')))).toBe(true);
    expect(rewritten.replaceAll('\r\n', '')).not.toContain('\n');
  });

  test('created objects can go to a named file, or be appended to an existing manifest', async () => {
    const dir = await tree({ 'app.yaml': `${doc('ConfigMap', 'a')}# end\n` });
    const source = await ManifestSource.load(dir);
    const pdb = (name: string): KubeObject => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name, namespace: 'default' },
      spec: { maxUnavailable: 1 },
    });
    const out = await outDir();
    const result = await writeRemediatedCopy(source, out, [
      { create: pdb('one'), file: 'app.yaml' },
      { create: pdb('two'), file: 'policies/pdb.yaml' },
      { create: pdb('three'), file: 'policies/pdb.yaml' },
    ]);
    expect(result.rewritten).toEqual(['app.yaml']);
    expect(result.created).toEqual(['policies/pdb.yaml']);
    expect(await read(out, 'app.yaml')).toBe(`${doc('ConfigMap', 'a')}# end\n---\n${toYaml(pdb('one'))}`);
    const copy = await ManifestSource.load(out);
    const names = [];
    for await (const page of copy.list({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' })) {
      names.push(...Array.from(page.items, (o) => o.metadata.name));
    }
    expect(names).toEqual(['one', 'two', 'three']);
  });

  test('refuses an output directory inside the source, equal to it, or containing it', async () => {
    const dir = await fixtureCopy('basic');
    const source = await ManifestSource.load(dir);
    for (const out of [dir, path.join(dir, 'hardened'), path.join(dir, 'apps', 'out'), path.dirname(dir)]) {
      const error = await rejection(writeRemediatedCopy(source, out, []));
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toContain('the output directory overlaps the source directory');
    }
  });

  test('refuses a non-empty output directory, so nothing is overwritten', async () => {
    const source = await ManifestSource.load(await fixtureCopy('basic'));
    const out = await tree({ 'existing.txt': 'keep me' });
    const error = await rejection(writeRemediatedCopy(source, out, []));
    expect((error as InputError).message).toContain('not empty');
    expect(await read(out, 'existing.txt')).toBe('keep me');
  });

  test('refuses to copy a file that changed since it was loaded', async () => {
    const dir = await fixtureCopy('basic');
    const source = await ManifestSource.load(dir);
    await fs.appendFile(path.join(dir, 'namespaces.yaml'), '# edited\n');
    const error = await rejection(writeRemediatedCopy(source, await outDir(), []));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(
      /namespaces\.yaml: changed since the manifests were loaded/,
    );
  });

  test('a change to an object the manifests do not hold is an InputError', async () => {
    const source = await ManifestSource.load(await fixtureCopy('basic'));
    const ghost: ManifestChange = { ref: { ...WEB, name: 'ghost' }, object: null };
    const error = await rejection(writeRemediatedCopy(source, await outDir(), [ghost]));
    expect((error as InputError).message).toBe('deployment payments/ghost is not defined in the manifests');
  });

  test('a single-file source is copied into the output directory', async () => {
    const dir = await fixtureCopy('basic');
    const file = path.join(dir, 'apps', 'worker.yml');
    const source = await ManifestSource.load(file);
    const out = await outDir();
    const result = await writeRemediatedCopy(source, out, []);
    expect(result.copied).toEqual(['worker.yml']);
    expect(await read(out, 'worker.yml')).toBe(await fs.readFile(file, 'utf8'));
    await expect(writeRemediatedCopy(source, path.dirname(file), [])).rejects.toThrow(
      /directory of the source file/,
    );
  });

  test('re-serialized YAML quotes strings that YAML 1.1 readers would take for booleans or numbers', () => {
    const yaml = toYaml({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { a: 'yes', b: 'on', c: '010', d: '1:20', e: 'plain' },
    });
    expect(yaml).toContain('a: "yes"\n  b: "on"\n  c: "010"\n  d: "1:20"\n  e: plain\n');
    expect(Kinds.ConfigMap.kind).toBe('ConfigMap');
  });
});
