/**
 * `apply --plan` reads each target once before confirmation (src/engine/live-reads.ts), on the real control plane:
 * a target touched by several changes is read once, many targets of one kind in one namespace are one paginated
 * LIST (only the targets kept), a LIST that is forbidden falls back to GETs by name, and the CLI's whole
 * `apply --plan` reads each target twice (the checks' shared read, and the write path's own read), not three times.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type LiveCluster, readOnly } from '../../src/cluster/live.js';
import type { ClusterReader, ListOptions, Page } from '../../src/cluster/types.js';
import { LIST_FROM, readLive } from '../../src/engine/live-reads.js';
import type { KindRef, ObjectRef } from '../../src/k8s/types.js';
import { refKey } from '../../src/k8s/types.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  isNotFound,
  kubectl,
  waitFor,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

/** A reader that counts what it is asked (the requests themselves go to the real API server). */
function counting(inner: ClusterReader): ClusterReader & { gets: string[]; lists: string[] } {
  const gets: string[] = [];
  const lists: string[] = [];
  return {
    ...inner,
    source: inner.source,
    capabilities: inner.capabilities,
    gets,
    lists,
    get(ref: ObjectRef, signal?: AbortSignal) {
      gets.push(refKey(ref));
      return inner.get(ref, signal);
    },
    list(kind: KindRef, options?: ListOptions): AsyncIterable<Page> {
      lists.push(`${kind.kind}${options?.namespace ? ` -n ${options.namespace}` : ''}`);
      return inner.list(kind, options);
    },
  };
}

const cm = (namespace: string, name: string): ObjectRef => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace,
  name,
});

describeCluster('live reads of plan targets', () => {
  let admin: LiveCluster;
  let ns: string;
  beforeAll(async () => {
    admin = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    ns = await freshNamespace('reads');
    const docs = Array.from(
      { length: LIST_FROM + 4 },
      (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\ndata: {i: "${i}"}\n`,
    );
    await applyYaml(docs.join('---\n'), ns);
  });
  afterAll(() => admin?.close());

  it('few targets: one GET each, a target named twice read once, a missing one is undefined', async () => {
    const reader = counting(readOnly(admin));
    const refs = [cm(ns, 'c0'), cm(ns, 'c1'), cm(ns, 'c0'), cm(ns, 'absent')];
    const live = await readLive(reader, refs);
    expect(reader.lists).toEqual([]);
    expect([...reader.gets].sort()).toEqual(
      [cm(ns, 'absent'), cm(ns, 'c0'), cm(ns, 'c1')].map(refKey).sort(),
    );
    const c0 = live.get(refKey(cm(ns, 'c0')));
    expect(c0 && 'value' in c0 ? c0.value?.data : undefined).toEqual({ i: '0' });
    expect(live.get(refKey(cm(ns, 'absent')))).toEqual({ value: undefined });
  });

  it(`${LIST_FROM} or more targets of one kind in one namespace: one LIST, only the targets kept, same objects as GET`, async () => {
    const reader = counting(readOnly(admin));
    const refs = [...Array.from({ length: LIST_FROM }, (_, i) => cm(ns, `c${i}`)), cm(ns, 'absent')];
    const live = await readLive(reader, refs);
    expect(reader.gets).toEqual([]);
    expect(reader.lists).toEqual([`ConfigMap -n ${ns}`]);
    expect(live.size).toBe(LIST_FROM + 1);
    expect(live.has(refKey(cm(ns, `c${LIST_FROM}`)))).toBe(false);
    const got = (await admin.get(cm(ns, 'c3'))).value;
    const listed = live.get(refKey(cm(ns, 'c3')));
    expect(listed && 'value' in listed ? listed.value : undefined).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c3', resourceVersion: got?.metadata.resourceVersion, uid: got?.metadata.uid },
      data: { i: '3' },
    });
    expect(live.get(refKey(cm(ns, 'absent')))).toEqual({ value: undefined });
  });

  it('a forbidden LIST falls back to GETs by name; a forbidden GET is reported, not thrown', async () => {
    const { limitedKubeconfig, users } = clusterInfo();
    const name = `kh-reads-${ns}`;
    await applyYaml(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ${name}, namespace: ${ns}}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get], resourceNames: [${Array.from({ length: LIST_FROM }, (_, i) => `c${i}`).join(', ')}]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${name}, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${name}}
subjects: [{kind: User, name: ${users.limited}, apiGroup: rbac.authorization.k8s.io}]
`);
    const limited = connect({ kubeconfig: limitedKubeconfig });
    try {
      const refs = [...Array.from({ length: LIST_FROM }, (_, i) => cm(ns, `c${i}`)), cm(ns, `c${LIST_FROM}`)];
      const reader = counting(readOnly(limited));
      const live = await waitFor(
        async () => {
          const r = await readLive(reader, refs);
          const first = r.get(refKey(cm(ns, 'c0')));
          return first && 'value' in first ? r : undefined;
        },
        { what: 'the Role in effect' },
      );
      expect(reader.lists.at(-1)).toBe(`ConfigMap -n ${ns}`);
      expect(reader.gets.length).toBeGreaterThanOrEqual(LIST_FROM + 1);
      const c5 = live.get(refKey(cm(ns, 'c5')));
      expect(c5 && 'value' in c5 ? c5.value?.data : undefined).toEqual({ i: '5' });
      const denied = live.get(refKey(cm(ns, `c${LIST_FROM}`)));
      expect(denied && 'forbidden' in denied ? denied.forbidden.message : '').toMatch(/forbidden/i);
    } finally {
      limited.close();
      await kubectl(['delete', '-n', ns, 'rolebinding,role', name]).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
  });

  it('apply --plan: two GETs per target namespace (one shared by the checks, one by the write path), not three', async () => {
    const { adminKubeconfig, auditLog } = clusterInfo();
    if (!auditLog) return;
    const a = await freshNamespace('reads-a');
    const b = await freshNamespace('reads-b');
    const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'kh-reads-')) };
    const dir = `${env.XDG_STATE_HOME}/plan`;
    const common = ['--kubeconfig', adminKubeconfig];
    const planned = await runCli(
      ['plan', '--step', 'psa-warn-audit', '-n', a, '-n', b, '--out', dir, ...common],
      { env },
    );
    expect(planned.code, planned.stderr).toBe(0);
    const since = Date.now();
    const applied = await runCli(['apply', '--plan', dir, '--yes', ...common], { env });
    expect(applied.code, applied.stderr).toBe(0);
    const gets = readFileSync(auditLog, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"verb":"get"') && l.includes('"resource":"namespaces"'))
      .map(
        (l) =>
          JSON.parse(l) as {
            stage: string;
            requestReceivedTimestamp: string;
            userAgent?: string;
            objectRef?: { name?: string };
          },
      )
      .filter(
        (e) =>
          e.stage === 'ResponseComplete' &&
          (e.userAgent ?? '').startsWith('kube-harden') &&
          Date.parse(e.requestReceivedTimestamp) >= since,
      );
    const per = (n: string) => gets.filter((e) => e.objectRef?.name === n).length;
    // The shared read before confirmation, and the write path's read right before its write. Before the shared
    // read, the target rules, the drift check and the write path each read every target (3 per namespace).
    expect(per(a)).toBe(2);
    expect(per(b)).toBe(2);
  });
});
