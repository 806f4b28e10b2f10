/**
 * Pod spec projection and interning: live pods of one template must share one projected spec (one Pod Security
 * evaluation), even though the ServiceAccount admission plugin gives every pod its own token volume name.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterReader, Page } from '../../../src/cluster/types.js';
import { buildSnapshot } from '../../../src/inventory/build.js';
import { projectPodSpec, TemplateInterner, TOKEN_VOLUME_NAME } from '../../../src/inventory/project.js';
import type { KindRef, KubeObject } from '../../../src/k8s/types.js';
import { assess } from '../../../src/policy/assess.js';

/** A reader that serves `objects` by kind (one page each) and nothing else. */
function fakeReader(objects: Record<string, KubeObject[]>): ClusterReader {
  const unsupported = () => Promise.reject(new Error('not in this fake'));
  return {
    source: { kind: 'cluster', context: 'fake', server: 'https://fake.invalid' },
    capabilities: { dryRun: false, reviews: false },
    serverVersion: async () => ({ major: 1, minor: 36, gitVersion: 'v1.36.3' }),
    get: async () => ({ value: undefined, warnings: [] }),
    async *list(kind: KindRef): AsyncIterable<Page> {
      yield { items: objects[kind.kind] ?? [], warnings: [], index: 1, restarted: false };
    },
    dryRunApply: unsupported,
    dryRunMergePatch: unsupported,
    dryRunDelete: unsupported,
    accessReview: unsupported,
    whoAmI: unsupported,
  };
}

/** A pod as the API server stores it after ServiceAccount admission (token volume `kube-api-access-<suffix>`). */
function livePod(name: string, suffix: string, extra: Record<string, unknown> = {}): KubeObject {
  const token = `kube-api-access-${suffix}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { app: 'web', 'pod-template-hash': name.slice(-5) } },
    spec: {
      serviceAccountName: 'default',
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          volumeMounts: [
            { name: 'cache', mountPath: '/cache' },
            { name: token, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'cache', emptyDir: {} },
        {
          name: token,
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
                },
              },
            ],
          },
        },
      ],
      ...extra,
    },
  };
}

describe('projectPodSpec: the admission-injected token volume', () => {
  it('gets one fixed name, in the volume and in every mount of it', () => {
    const spec = projectPodSpec(livePod('web-1', 'x7k2q').spec);
    expect(spec.volumes?.map((v) => v.name)).toEqual(['cache', TOKEN_VOLUME_NAME]);
    expect(spec.containers[0]?.volumeMounts?.map((m) => m.name)).toEqual(['cache', TOKEN_VOLUME_NAME]);
  });

  it('leaves look-alike volumes alone: not a projected ServiceAccount token, or a name taken', () => {
    const notToken = projectPodSpec({
      containers: [{ name: 'c', volumeMounts: [{ name: 'kube-api-access-abcde', mountPath: '/x' }] }],
      volumes: [{ name: 'kube-api-access-abcde', emptyDir: {} }],
    });
    expect(notToken.volumes?.[0]?.name).toBe('kube-api-access-abcde');
    expect(notToken.containers[0]?.volumeMounts?.[0]?.name).toBe('kube-api-access-abcde');

    const taken = livePod('web-1', 'x7k2q');
    (taken.spec as { volumes: unknown[] }).volumes.push({ name: TOKEN_VOLUME_NAME, emptyDir: {} });
    expect(projectPodSpec(taken.spec).volumes?.map((v) => v.name)).toEqual([
      'cache',
      'kube-api-access-x7k2q',
      TOKEN_VOLUME_NAME,
    ]);
  });

  it('lets replicas intern to one spec, while real differences stay apart', () => {
    const interner = new TemplateInterner();
    const tpl = (pod: KubeObject) =>
      interner.intern({ metadata: { labels: pod.metadata.labels ?? {} }, spec: projectPodSpec(pod.spec) });
    const a = tpl(livePod('web-aaaaa', 'x7k2q'));
    const b = tpl(livePod('web-bbbbb', 'p9m4z'));
    expect(a).not.toBe(b); // labels differ
    expect(a.spec).toBe(b.spec);
    const root = tpl(livePod('web-ccccc', 'r2d2c', { securityContext: { runAsUser: 0 } }));
    expect(root.spec).not.toBe(a.spec);
    expect(tpl(livePod('web-aaaaa', 'zzzzz'))).toBe(a); // same labels, same spec: the same template
  });
});

describe('buildSnapshot + assess over live replicas', () => {
  it('interns the replicas of a template to one spec (one Pod Security evaluation)', async () => {
    const owner = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'web-5d8f',
      uid: 'rs-1',
      controller: true,
    };
    const pods = ['q1w2e', 'r4t5y', 'u7i8o'].map((s, i) => {
      const p = livePod(`web-5d8f-${s}`, s);
      p.metadata.ownerReferences = [owner];
      p.metadata.uid = `pod-${i}`;
      return p;
    });
    const snapshot = await buildSnapshot(fakeReader({ Pod: pods }));
    const w = snapshot.workloads.find((x) => x.name === 'web-5d8f');
    expect(w?.pods).toHaveLength(3);
    const specs = new Set(w?.pods.map((p) => p.pod.spec));
    expect(specs.size).toBe(1);
    const a = assess(snapshot, { now: new Date('2026-01-01T00:00:00Z') });
    expect(a.workloads.find((x) => x.name === 'web-5d8f')?.pss.restricted.allowed).toBe(false);
  });

  it('projects a bare pod once: its workload template is its pod', async () => {
    const snapshot = await buildSnapshot(fakeReader({ Pod: [livePod('debug', 'abcde')] }));
    const w = snapshot.workloads.find((x) => x.kind === 'Pod' && x.name === 'debug');
    expect(w?.template).toBeDefined();
    expect(w?.pods[0]?.pod).toBe(w?.template);
  });
});
