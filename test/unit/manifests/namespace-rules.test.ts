/**
 * `--manifests` reads namespaces as `kubectl apply -f` does: `-n NS` is the namespace of the objects that name none
 * (an object naming another one is kubectl's error); without `-n` they go to `default`, and the CLI says so once.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { writeRemediatedCopy } from '../../../src/cluster/manifest-writer.js';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { InputError, UsageError } from '../../../src/errors.js';
import { openSource, runInventory, type SessionOptions } from '../../../src/store/session.js';
import { tempDir, tree } from './helpers.js';

const INSTALL = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: server # no namespace, like the Argo CD install manifest
spec:
  selector: {matchLabels: {app: server}}
  template:
    metadata: {labels: {app: server}}
    spec:
      containers: [{name: server, image: "registry.example/server:1.0"}]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: server
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: server
rules: []
`;

const ELSEWHERE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: monitoring
`;

function session(manifests: string, namespaces: string[], notices: string[]): SessionOptions {
  return {
    manifests,
    scope: { namespaces, exclude: [] },
    readOnly: true,
    now: () => new Date('2026-01-01T00:00:00Z'),
    notice: (m) => notices.push(m),
  };
}

describe('kubectl namespace rules for --manifests', () => {
  test('-n NS places the namespaced objects that name none in NS; cluster-scoped kinds get none', async () => {
    const dir = await tree({ 'install.yaml': INSTALL });
    const source = await ManifestSource.load(dir, { namespace: 'argocd' });
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'server' };
    expect((await source.get({ ...deployment, namespace: 'argocd' })).value?.metadata.namespace).toBe(
      'argocd',
    );
    expect((await source.get({ ...deployment, namespace: 'default' })).value).toBeUndefined();
    const role = (
      await source.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'server' })
    ).value;
    expect(role?.metadata.namespace).toBeUndefined();
    expect(source.placedInDefault).toBe(0);
  });

  test('-n NS and an object naming another namespace: kubectl apply -f error, with file and line', async () => {
    const dir = await tree({ 'install.yaml': INSTALL, 'other.yaml': `---\n${ELSEWHERE}` });
    const error = await ManifestSource.load(dir, { namespace: 'argocd' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(
      `${path.join(dir, 'other.yaml')}:2: the namespace from the provided object "monitoring" does not match the namespace "argocd". You must pass '--namespace=monitoring' to perform this operation.`,
    );
    // The same namespace is fine
    await expect(ManifestSource.load(dir, { namespace: 'monitoring' })).resolves.toBeDefined();
  });

  test('without -n, namespace-less objects go to default and the session says once how many', async () => {
    const dir = await tree({ 'install.yaml': INSTALL, 'other.yaml': ELSEWHERE });
    const notices: string[] = [];
    const opened = await openSource(session(dir, [], notices));
    expect(opened.manifests?.placedInDefault).toBe(2);
    expect(notices).toEqual([
      '2 objects in the manifests name no namespace and were placed in "default", as kubectl apply -f does without -n (give -n NS to place them in NS)',
    ]);
    // With -n, nothing is said: the user chose the namespace
    const quiet: string[] = [];
    await openSource(session(await tree({ 'install.yaml': INSTALL }), ['argocd'], quiet));
    expect(quiet).toEqual([]);
  });

  test('-n given twice with --manifests is a usage error (kubectl takes one namespace)', async () => {
    const dir = await tree({ 'install.yaml': INSTALL });
    await expect(openSource(session(dir, ['a', 'b'], []))).rejects.toBeInstanceOf(UsageError);
  });

  test('a scope that matches nothing is a warning, not a silent success', async () => {
    const dir = await tree({ 'other.yaml': ELSEWHERE });
    const notices: string[] = [];
    const options = session(dir, ['monitoring'], notices);
    const opened = await openSource(options);
    await runInventory(
      opened.reader,
      { ...options, scope: { namespaces: ['monitoring', 'nope'], exclude: [] } },
      {},
    );
    expect(notices).toEqual(['no namespace nope in the manifests; the rest of the scope is read']);
    notices.length = 0;
    const cluster = await tree({ 'role.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n' });
    const only = session(cluster, ['nope'], notices);
    await runInventory((await openSource(only)).reader, only, {});
    expect(notices).toEqual(['the scope matches nothing: no namespace nope in the manifests']);
  });

  test('the remediated copy of an object placed by -n still names no namespace', async () => {
    const dir = await tree({ 'install.yaml': INSTALL });
    const source = await ManifestSource.load(dir, { namespace: 'argocd' });
    const ref = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'server', namespace: 'argocd' };
    const object = (await source.get(ref)).value!;
    object.automountServiceAccountToken = false;
    const out = path.join(await tempDir(), 'out');
    await writeRemediatedCopy(source, out, [{ ref, object }]);
    const text = await fs.readFile(path.join(out, 'install.yaml'), 'utf8');
    expect(text).not.toMatch(/namespace:/);
    expect(text).toContain('automountServiceAccountToken: false');
  });
});
