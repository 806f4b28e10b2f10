import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ClusterError } from '../../../src/cluster/errors.js';
import { ManifestSource, SYNTHESIZED_ANNOTATION } from '../../../src/cluster/manifests.js';
import type { ClusterReader, ListOptions, Page } from '../../../src/cluster/types.js';
import { AbortError, InputError } from '../../../src/errors.js';
import { Kinds } from '../../../src/k8s/kinds.js';
import type { KindRef, KubeObject } from '../../../src/k8s/types.js';
import { doc, FIXTURES, rejection, tree } from './helpers.js';

const BASIC = path.join(FIXTURES, 'basic');

async function pages(reader: ClusterReader, kind: KindRef, options?: ListOptions): Promise<Page[]> {
  const result: Page[] = [];
  for await (const page of reader.list(kind, options)) result.push(page);
  return result;
}

async function names(reader: ClusterReader, kind: KindRef, options?: ListOptions): Promise<string[]> {
  return (await pages(reader, kind, options)).flatMap((p) =>
    Array.from(p.items, (o) =>
      o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name,
    ),
  );
}

describe('ManifestSource over a tree of manifests', () => {
  test('reads nested folders, multi-document files, JSON and Lists as one source', async () => {
    // Given the committed fixture tree
    const source = await ManifestSource.load(BASIC);

    // Then it is a manifest source that cannot do server-side work
    expect(source.source).toEqual({ kind: 'manifests', path: BASIC });
    expect(source.capabilities).toEqual({ dryRun: false, reviews: false });
    expect(await source.serverVersion()).toBeUndefined();

    // And every kind is read, from every file
    expect(await names(source, Kinds.Deployment)).toEqual(['payments/web', 'default/worker']);
    expect(await names(source, Kinds.Service)).toEqual(['payments/web']);
    expect(await names(source, Kinds.ConfigMap)).toEqual(['payments/web-config', 'batch/settings']);
    expect(await names(source, Kinds.ServiceAccount)).toEqual(['batch/runner']);
    expect(await names(source, Kinds.ClusterRole)).toEqual(['reader']);
  });

  test('objects without a namespace land in "default", like kubectl apply without -n', async () => {
    const source = await ManifestSource.load(BASIC);
    const worker = await source.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'default',
      name: 'worker',
    });
    expect(worker.value?.metadata.namespace).toBe('default');
    expect(worker.warnings).toEqual([]);
  });

  test('namespaces that objects live in but no manifest declares are synthesized and marked', async () => {
    const source = await ManifestSource.load(BASIC);
    const namespaces = (await pages(source, Kinds.Namespace)).flatMap((p) => [...p.items]);
    expect(namespaces.map((n) => n.metadata.name)).toEqual(['payments', 'batch', 'default']);
    expect(namespaces[0]?.metadata.annotations).toBeUndefined();
    expect(namespaces[1]?.metadata.annotations).toEqual({ [SYNTHESIZED_ANNOTATION]: 'true' });
    expect(source.isSynthesized({ apiVersion: 'v1', kind: 'Namespace', name: 'batch' })).toBe(true);
    expect(source.origin({ apiVersion: 'v1', kind: 'Namespace', name: 'batch' })).toBeUndefined();
  });

  test('cluster-scoped objects keep no namespace', async () => {
    const dir = await tree({
      'crd.yaml': `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Widget, plural: widgets}
  versions: []
`,
      'objects.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb, namespace: ignored}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g}
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
`,
    });
    const source = await ManifestSource.load(dir);
    expect(await names(source, Kinds.ClusterRoleBinding)).toEqual(['crb']);
    expect(await names(source, { apiVersion: 'example.com/v1', kind: 'Widget' })).toEqual(['w']);
    expect(await names(source, { apiVersion: 'example.com/v1', kind: 'Gadget' })).toEqual(['default/g']);
    expect(await names(source, { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy' })).toEqual(['p']);
  });

  test('list filters by exact apiVersion and kind, namespace, labels and fields', async () => {
    const source = await ManifestSource.load(BASIC);
    expect(await names(source, { apiVersion: 'extensions/v1beta1', kind: 'Deployment' })).toEqual([]);
    expect(await names(source, { apiVersion: 'apps/v1', kind: 'deployment' })).toEqual([]);
    expect(await names(source, Kinds.Deployment, { namespace: 'payments' })).toEqual(['payments/web']);
    expect(await names(source, Kinds.Deployment, { labelSelector: 'tier in (backend)' })).toEqual([
      'default/worker',
    ]);
    expect(await names(source, Kinds.ConfigMap, { labelSelector: 'app,app!=web' })).toEqual([
      'batch/settings',
    ]);
    expect(await names(source, Kinds.Deployment, { fieldSelector: 'metadata.name=web' })).toEqual([
      'payments/web',
    ]);
    expect(await names(source, Kinds.ClusterRole, { namespace: 'payments' })).toEqual([]);
  });

  test('an empty result is one empty page', async () => {
    const source = await ManifestSource.load(BASIC);
    expect(await pages(source, Kinds.NetworkPolicy)).toEqual([
      { items: [], warnings: [], index: 1, restarted: false },
    ]);
  });

  test('pages hold at most `limit` items, numbered from 1', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 7; i++) files[`cm-${i}.yaml`] = doc('ConfigMap', `cm-${i}`, '  namespace: app\n');
    const source = await ManifestSource.load(await tree(files));

    const result = await pages(source, Kinds.ConfigMap, { limit: 3 });
    expect(result.map((p) => [p.index, p.items.length, p.restarted])).toEqual([
      [1, 3, false],
      [2, 3, false],
      [3, 1, false],
    ]);
    expect(result.flatMap((p) => Array.from(p.items, (o) => o.metadata.name))).toEqual(
      Array.from({ length: 7 }, (_, i) => `cm-${i}`),
    );
    expect((await pages(source, Kinds.ConfigMap)).map((p) => p.items.length)).toEqual([7]);
  });

  test('callers get copies: changing them does not change the source', async () => {
    const source = await ManifestSource.load(BASIC);
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'payments', name: 'web' };
    const first = (await source.get(ref)).value as KubeObject;
    first.metadata.name = 'changed';
    (first.metadata.labels as Record<string, string>).app = 'changed';
    const [page] = await pages(source, Kinds.Deployment);
    [...page!.items][0]!.metadata.labels!.tier = 'changed';

    const again = (await source.get(ref)).value;
    expect(again?.metadata.name).toBe('web');
    expect(again?.metadata.labels).toEqual({ app: 'web', tier: 'frontend' });
  });

  test('get finds objects by apiVersion, kind, namespace and name, and nothing else', async () => {
    const source = await ManifestSource.load(BASIC);
    const web = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'payments', name: 'web' };
    expect((await source.get(web)).value?.kind).toBe('Deployment');
    expect((await source.get({ ...web, namespace: 'other' })).value).toBeUndefined();
    expect((await source.get({ ...web, apiVersion: 'apps/v1beta1' })).value).toBeUndefined();
    expect(
      (await source.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'reader' }))
        .value,
    ).toBeDefined();
  });

  test('origin names the file, document and List item', async () => {
    const source = await ManifestSource.load(BASIC);
    expect(
      source.origin({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'payments', name: 'web-config' }),
    ).toEqual({
      file: path.join(BASIC, 'apps', 'web.yaml'),
      document: 3,
      line: 43,
    });
    expect(
      source.origin({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'batch', name: 'runner' }),
    ).toEqual({
      file: path.join(BASIC, 'lists', 'list.yaml'),
      document: 0,
      item: 1,
      line: 13,
    });
  });

  test('a single file can be the source', async () => {
    const file = path.join(BASIC, 'apps', 'web.yaml');
    const source = await ManifestSource.load(file);
    expect(source.source).toEqual({ kind: 'manifests', path: file });
    expect(await names(source, Kinds.Service)).toEqual(['payments/web']);
  });

  test('server-side operations are Unsupported, with a hint', async () => {
    const source = await ManifestSource.load(BASIC);
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'payments', name: 'web' };
    const object = (await source.get(ref)).value as KubeObject;
    const attempts = [
      source.dryRunApply(object, { fieldManager: 'kube-harden' }),
      source.dryRunMergePatch(ref, {}),
      source.dryRunDelete(ref),
      source.accessReview([{ verb: 'get', group: '', resource: 'pods' }]),
      source.whoAmI(),
    ];
    for (const attempt of attempts) {
      const error = await rejection(attempt);
      expect(error).toBeInstanceOf(ClusterError);
      expect((error as ClusterError).reason).toBe('Unsupported');
      expect((error as ClusterError).message).toMatch(/is not available on a manifest source/);
      expect((error as ClusterError).hint).toBeTruthy();
    }
    const apply = (await rejection(source.dryRunApply(object, { fieldManager: 'x' }))) as Error;
    expect(apply.message).toBe(
      'server-side dry-run is not available on a manifest source (deployment payments/web)',
    );
  });
});

describe('walking the tree', () => {
  test('skips hidden files and folders, node_modules and kustomization files; reads .yml/.yaml/.json only', async () => {
    const dir = await tree({
      'a.yaml': doc('ConfigMap', 'a'),
      'b.YML': doc('ConfigMap', 'b'),
      'c.json': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }),
      'notes.txt': 'not yaml: [',
      '.hidden.yaml': 'broken: [',
      '.git/config.yaml': 'broken: [',
      'node_modules/pkg/x.yaml': 'broken: [',
      'kustomization.yaml': 'resources: [a.yaml]\n',
      'deep/er/still/d.yaml': doc('ConfigMap', 'd'),
    });
    const source = await ManifestSource.load(dir);
    expect(await names(source, Kinds.ConfigMap)).toEqual([
      'default/a',
      'default/b',
      'default/c',
      'default/d',
    ]);
    expect(source.layout().otherFiles).toEqual(['kustomization.yaml', 'notes.txt']);
  });

  test('reads files in sorted order (code units, not locale)', async () => {
    const dir = await tree({
      'b.yaml': doc('ConfigMap', 'b'),
      'B.yaml': doc('ConfigMap', 'B'),
      'a/z.yaml': doc('ConfigMap', 'az'),
      'a.yaml': doc('ConfigMap', 'a'),
    });
    const source = await ManifestSource.load(dir);
    expect(source.layout().files.map((f) => f.relative)).toEqual(['B.yaml', 'a/z.yaml', 'a.yaml', 'b.yaml']);
  });

  test('symlink loops are followed once; a file reached twice is read once', async () => {
    const dir = await tree({ 'apps/web.yaml': doc('ConfigMap', 'web') });
    await fs.symlink(dir, path.join(dir, 'apps', 'loop'), 'dir');
    await fs.symlink(path.join(dir, 'apps', 'web.yaml'), path.join(dir, 'alias.yaml'));
    await fs.symlink(path.join(dir, 'missing.yaml'), path.join(dir, 'dangling.yaml'));
    const source = await ManifestSource.load(dir);
    expect(await names(source, Kinds.ConfigMap)).toEqual(['default/web']);
  });

  test('a missing path is an InputError with a hint', async () => {
    const missing = path.join(FIXTURES, 'does-not-exist');
    const error = (await rejection(ManifestSource.load(missing))) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(`${missing}: no such file or directory`);
    expect(error.hint).toMatch(/--manifests/);
  });

  test('a folder without manifests is an InputError', async () => {
    const error = await rejection(ManifestSource.load(await tree({ 'README.md': 'hi' })));
    expect((error as InputError).message).toMatch(/contains no manifests/);
  });

  test('a parse error names the file under the given path and the line', async () => {
    const dir = await tree({
      'ok.yaml': doc('ConfigMap', 'ok'),
      'sub/bad.yaml': 'apiVersion: v1\nkind: [\n',
    });
    const error = (await rejection(ManifestSource.load(dir))) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.file).toBe(path.join(dir, 'sub', 'bad.yaml'));
    expect(error.line).toBeGreaterThan(1);
  });

  test('a file over 3 MiB is refused from its size, before it is read', async () => {
    const dir = await tree({ 'big.yaml': Buffer.alloc(3 * 1024 * 1024 + 1, 0x20) });
    const error = (await rejection(ManifestSource.load(dir))) as InputError;
    expect(error.message).toContain('big.yaml: is 3,145,729 bytes, over the 3 MiB (3,145,728 bytes) limit');
  });

  test('the same object defined twice is an InputError naming both files', async () => {
    const dir = await tree({
      'a.yaml': doc('ConfigMap', 'app', '  namespace: default\n'),
      'b.yaml': `# again\n${doc('ConfigMap', 'app')}`, // defaulted to "default": the same object
    });
    const error = (await rejection(ManifestSource.load(dir))) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `${path.join(dir, 'b.yaml')}:2: configmap default/app is defined twice: in ${path.join(dir, 'a.yaml')}:1 and here`,
    );
  });

  test('objects in another API version of the same group count as duplicates; other groups do not', async () => {
    const deployment = (apiVersion: string) =>
      `apiVersion: ${apiVersion}\nkind: Deployment\nmetadata: {name: web, namespace: x}\n`;
    await expect(
      ManifestSource.load(
        await tree({ 'a.yaml': deployment('apps/v1'), 'b.yaml': deployment('apps/v1beta1') }),
      ),
    ).rejects.toThrow(/defined twice/);
    const source = await ManifestSource.load(
      await tree({ 'a.yaml': deployment('apps/v1'), 'b.yaml': deployment('extensions/v1beta1') }),
    );
    expect(await names(source, Kinds.Deployment)).toEqual(['x/web']);
  });

  test('an aborted signal stops loading with an AbortError', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(ManifestSource.load(BASIC, { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortError);
  });
});
