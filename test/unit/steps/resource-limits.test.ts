/**
 * resource-limits (phase 2, opt-in) on a fixture: a LimitRange and a ResourceQuota per application namespace,
 * the quota sized from requests and memory limits × replicas (containers without them at the defaults), with the
 * headroom shown; only what its targets allow.
 */
import { describe, expect, test } from 'vitest';
import type { ClusterReader } from '../../../src/cluster/types.js';
import { outsideTargets } from '../../../src/engine/targets.js';
import type { Change, PlannedChange, StepContext } from '../../../src/engine/types.js';
import { assess } from '../../../src/policy/assess.js';
import { STEPS } from '../../../steps/index.js';
import { formatCpu, formatMemory, parseQuantity } from '../../../steps/kit/quantity.js';
import { resourceLimits } from '../../../steps/resource-limits.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';

const offline = {
  source: { kind: 'manifests', path: 'fixture' },
  capabilities: { dryRun: false, reviews: false },
} as ClusterReader;

const sized = container('web', {
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
});
const bare = container('worker', { resources: {} });

const snap = snapshot({
  namespaces: [ns('kube-system'), ns('monitoring'), ns('shop'), ns('empty')],
  workloads: [
    workload('Deployment', 'shop', 'web', restrictedSpec({ containers: [sized] }), { replicas: 2 }),
    workload('Deployment', 'shop', 'worker', restrictedSpec({ containers: [bare] }), { replicas: 1 }),
    workload('Deployment', 'monitoring', 'prom', restrictedSpec(), { replicas: 1 }),
    workload('DaemonSet', 'kube-system', 'agent', restrictedSpec(), {}),
  ],
});

const ctx: StepContext = {
  snapshot: snap,
  assessment: assess(snap, { now: NOW }),
  reader: offline,
  options: { namespaces: [], exclude: [], settings: {}, now: NOW },
  signal: new AbortController().signal,
};

const planned = (c: Change): PlannedChange =>
  ({
    ...c,
    step: 'resource-limits',
    phase: 2,
    operation: 'create',
    notes: [],
    baseResourceVersion: null,
    diff: { text: '', added: 0, removed: 0 },
    warnings: [],
    preview: 'ok',
  }) as PlannedChange;

describe('resource-limits', () => {
  test('is opt-in in phase 2', () => {
    expect(STEPS.find((s) => s.id === 'resource-limits')).toMatchObject({ phase: 2, optIn: true });
  });

  test('quantities', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('1.5')).toBe(1.5);
    expect(parseQuantity('256Mi')).toBe(256 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('2e3')).toBe(2000);
    expect(parseQuantity('lots')).toBeUndefined();
    expect(formatCpu(0.45)).toBe('450m');
    expect(formatMemory(576 * 2 ** 20)).toBe('576Mi');
  });

  test('one LimitRange and one quota per application namespace with workloads, sized with 50% headroom', async () => {
    const { facts } = await resourceLimits.detect(ctx);
    expect(facts.namespaces.map((n) => n.name)).toEqual(['shop']);
    const changes = resourceLimits.propose(facts, ctx.options);
    expect(changes.map((c) => c.id)).toEqual([
      'resource-limits/limitrange/shop',
      'resource-limits/resourcequota/shop',
    ]);
    const quota = changes[1];
    // requests: 2 × 100m + 1 × 100m (default) = 300m; memory 2 × 128Mi + 128Mi = 384Mi; limits 2 × 256Mi + 512Mi.
    expect(quota?.kind === 'apply' && quota.desired).toMatchObject({
      kind: 'ResourceQuota',
      metadata: { name: 'kube-harden-quota', namespace: 'shop' },
      spec: {
        hard: { 'requests.cpu': '450m', 'requests.memory': '576Mi', 'limits.memory': '1536Mi', pods: '5' },
      },
    });
    expect(quota?.reason).toContain(
      'requests 300m CPU / 384Mi memory, memory limits 1024Mi; with 50% headroom',
    );
    const lr = changes[0];
    expect(lr?.kind === 'apply' && lr.desired).toMatchObject({
      kind: 'LimitRange',
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: '100m', memory: '128Mi' },
            default: { memory: '512Mi' },
          },
        ],
      },
    });
    expect(lr?.reason).toContain('(1 running container replica(s) set none today)');
    for (const c of changes)
      expect(outsideTargets(planned(c), resourceLimits.targets, undefined)).toBeUndefined();
    // Not in a system namespace, not under another name.
    const other = {
      ...changes[1],
      target: {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        namespace: 'kube-system',
        name: 'kube-harden-quota',
      },
    } as Change;
    if (other.kind === 'apply')
      other.desired = { ...other.desired, metadata: { ...other.desired.metadata, namespace: 'kube-system' } };
    expect(outsideTargets(planned(other), resourceLimits.targets, undefined)).toBeDefined();
  });
});
