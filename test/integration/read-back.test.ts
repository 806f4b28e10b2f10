/**
 * Reading back what a run applied (steps/kit/read-back.ts), as the `verify` of psa-migrate, sa-tokens and
 * sa-dedicated do after an apply: one request per kind and namespace (a LIST, or a GET for a lone object), never
 * one GET per object; a change reverted or an object deleted since is reported, by the step's own verify.
 */
import { expect, it } from 'vitest';
import { connect, readOnly } from '../../src/cluster/live.js';
import type { AppliedChange, StepContext } from '../../src/engine/types.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { readBack, templateKept } from '../../steps/kit/read-back.js';
import { saTokens } from '../../steps/sa-tokens.js';
import { applyYaml, clusterInfo, describeCluster, freshNamespace, kubectl } from '../cluster/harness.js';
import { NOW } from '../fixtures/snapshots/builder.js';
import { offlinePlanned } from '../support/step-run.js';

const deployment = (ns: string, name: string, automount?: boolean): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
          containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
        },
      },
    },
  }) as KubeObject;

/** What sa-tokens applied: its desired objects, as an apply run records them. */
const appliedOf = (objects: KubeObject[]): AppliedChange[] =>
  objects.map((desired) => ({
    change: offlinePlanned(
      {
        kind: 'apply',
        id: `sa-tokens/${desired.kind}/${desired.metadata.name}`,
        risk: 'disruptive',
        reason: 'test',
        target: {
          apiVersion: desired.apiVersion,
          kind: desired.kind,
          namespace: desired.metadata.namespace as string,
          name: desired.metadata.name,
        },
        desired,
      },
      { step: 'sa-tokens', phase: 4, operation: 'update' },
    ),
    appliedAt: NOW.toISOString(),
  }));

describeCluster('reading back what a run applied', () => {
  it('one request per kind and namespace; a reverted template and a deleted object are reported by verify', async () => {
    const ns = await freshNamespace('read-back');
    const account: KubeObject = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace: ns },
      automountServiceAccountToken: false,
    } as KubeObject;
    const desired = [
      deployment(ns, 'kept', false),
      deployment(ns, 'reverted', false),
      deployment(ns, 'deleted', false),
      account,
    ];
    // What is live now: kept as applied; reverted (automount back to true); deleted; the account as applied.
    await applyYaml(
      [deployment(ns, 'kept', false), deployment(ns, 'reverted', true), deployment(ns, 'other')]
        .map((o) => JSON.stringify(o))
        .join('\n---\n'),
    );
    await kubectl([
      'patch',
      'serviceaccount',
      'default',
      '-n',
      ns,
      '-p',
      '{"automountServiceAccountToken":false}',
    ]);

    const cluster = connect({ kubeconfig: clusterInfo().adminKubeconfig });
    try {
      // Discovery warmed up, not counted.
      for await (const _ of cluster.list({ apiVersion: 'apps/v1', kind: 'Deployment' }, { namespace: ns }))
        break;
      const before = cluster.requestCount;
      const back = await readBack(readOnly(cluster), appliedOf(desired));
      // Deployments: one LIST of the namespace; the lone ServiceAccount: one GET.
      expect(cluster.requestCount - before).toBe(2);
      expect(back.map((r) => [r.ref.kind, r.ref.name, r.live !== undefined])).toEqual([
        ['Deployment', 'kept', true],
        ['Deployment', 'reverted', true],
        ['Deployment', 'deleted', false],
        ['ServiceAccount', 'default', true],
      ]);
      expect(back.slice(0, 3).map(templateKept)).toEqual([true, false, false]);

      const ctx = {
        reader: readOnly(cluster),
        signal: new AbortController().signal,
      } as unknown as StepContext;
      const verification = await saTokens.verify?.(ctx, appliedOf(desired));
      expect(verification).toEqual({
        ok: false,
        messages: [
          `Deployment ${ns}/reverted: the change is no longer there (reverted?)`,
          `Deployment ${ns}/deleted: the change is no longer there (reverted?)`,
        ],
      });
      // All in place: verified.
      const inPlace = await saTokens.verify?.(ctx, appliedOf([deployment(ns, 'kept', false), account]));
      expect(inPlace?.ok).toBe(true);
    } finally {
      cluster.close();
    }
  });
});
