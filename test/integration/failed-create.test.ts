/**
 * The FailedCreate verification (steps/kit/failed-create.ts) against the real control plane: given a namespace
 * that enforces restricted, when a root Deployment is created after the enforce change, then the ReplicaSet
 * controller's FailedCreate event is what psa-enforce's verify reports (object named); before the change, or for
 * other namespaces, nothing is reported.
 */
import { beforeAll, expect, it } from 'vitest';
import { connect, type LiveCluster, readOnly } from '../../src/cluster/live.js';
import type { AppliedChange, PlannedChange, StepContext } from '../../src/engine/types.js';
import { failedCreateSince } from '../../steps/kit/failed-create.js';
import { psaEnforce } from '../../steps/psa-enforce.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectlJson,
  waitFor,
} from '../cluster/harness.js';

const ROOT_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: rooty}
spec:
  replicas: 1
  selector: {matchLabels: {app: rooty}}
  template:
    metadata: {labels: {app: rooty}}
    spec:
      containers: [{name: c, image: registry.k8s.io/pause:3.10}]
`;

describeCluster('FailedCreate verification (live)', () => {
  let admin: LiveCluster;
  beforeAll(() => {
    admin = connect({ kubeconfig: clusterInfo().adminKubeconfig });
  });

  it('psa-enforce verify reports the ReplicaSet that cannot create pods since the enforce change', async () => {
    const ns = await freshNamespace('fc', { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } });
    const quiet = await freshNamespace('fc-quiet');
    const appliedAt = new Date(Date.now() - 2000).toISOString();
    await applyYaml(ROOT_DEPLOYMENT, ns);
    await waitFor(
      async () =>
        (await kubectlJson<{ items: Array<{ reason?: string }> }>(['get', 'events', '-n', ns])).items.some(
          (e) => e.reason === 'FailedCreate',
        ),
      { timeoutMs: 60_000, what: 'FailedCreate of the root deployment' },
    );
    const reader = readOnly(admin);
    const applied = (name: string): AppliedChange => ({
      change: { kind: 'apply', target: { apiVersion: 'v1', kind: 'Namespace', name } } as PlannedChange,
      appliedAt,
    });
    const ctx = { reader, signal: new AbortController().signal } as StepContext;
    const v = await psaEnforce.verify?.(ctx, [applied(ns), applied(quiet)]);
    expect(v?.ok).toBe(false);
    expect(v?.messages.length).toBeGreaterThan(0);
    for (const m of v?.messages ?? [])
      expect(m).toMatch(
        new RegExp(`^ReplicaSet ${ns}/rooty-[a-z0-9]+: FailedCreate: .*violates PodSecurity "restricted`),
      );
    // A change made after the failure is not blamed for it; a namespace without failures passes.
    const later = await failedCreateSince(reader, [
      { namespace: ns, since: new Date(Date.now() + 60_000).toISOString() },
      { namespace: quiet, since: appliedAt },
    ]);
    expect(later).toEqual({ ok: true, messages: [] });
  });
});
