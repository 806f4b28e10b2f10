/** The fleet summary (src/fleet/posture.ts) and the fleet report renderers (src/report/fleet.ts), on fixtures. */
import { describe, expect, test } from 'vitest';
import { mapBounded } from '../../../src/concurrency.js';
import {
  contextDirNames,
  type FleetEntry,
  fleetTotals,
  postureOf,
  sortWorstFirst,
} from '../../../src/fleet/posture.js';
import { assess } from '../../../src/policy/assess.js';
import {
  renderFleetMarkdown,
  renderFleetSarif,
  renderFleetText,
  toFleetJson,
} from '../../../src/report/fleet.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';

const WARN_AUDIT = {
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};

const privileged = restrictedSpec({
  containers: [container('app', { securityContext: { privileged: true } })],
});

describe('postureOf', () => {
  test('phase 1 is open while a namespace lacks warn or audit; phases with open findings are open', () => {
    const a = assess(
      snapshot({
        namespaces: [ns('shop', WARN_AUDIT), ns('legacy', { 'pod-security.kubernetes.io/warn': 'baseline' })],
        workloads: [workload('Deployment', 'legacy', 'agent', privileged)],
      }),
      { now: NOW },
    );
    const p = postureOf(a);
    expect(p.phases[1]).toBe('open');
    expect(p.phases[2]).toBe('open');
    expect(p.open).toBe(a.summary.open);
    // The weakest namespace of the tier decides: legacy runs a privileged pod.
    expect(p.strictestEnforceable.application).toBe('privileged');
    expect(p.strictestEnforceable.system).toBeUndefined();
  });

  test('labels everywhere: phase 1 done; anything unknown makes every phase without open findings unknown', () => {
    const base = snapshot({
      namespaces: [ns('shop', WARN_AUDIT)],
      workloads: [workload('Deployment', 'shop', 'web')],
    });
    expect(postureOf(assess(base, { now: NOW })).phases[1]).toBe('done');
    const partial = assess(
      {
        ...base,
        unknown: [
          { resource: 'rolebindings.rbac.authorization.k8s.io', reason: 'Forbidden', message: 'forbidden' },
        ],
      },
      { now: NOW },
    );
    const p = postureOf(partial);
    expect(p.unknown).toBeGreaterThan(0);
    expect(Object.values(p.phases)).not.toContain('done');
    expect(p.phases[1]).toBe('unknown');
  });

  test('an unreadable namespace leaves phase 1 unknown, never done', () => {
    const a = assess(
      snapshot({ namespaces: [ns('shop', WARN_AUDIT), ns('dark', {}, { unreadable: true })] }),
      {
        now: NOW,
      },
    );
    expect(a.namespaces.find((n) => n.name === 'dark')?.psa).toBeNull();
    expect(postureOf(a).phases[1]).not.toBe('done');
  });
});

const entry = (context: string, status: FleetEntry['status'], high = 0, critical = 0): FleetEntry => ({
  context,
  status,
  exitCode: status === 'ok' ? 0 : status === 'incomplete' ? 7 : 4,
  ...(status === 'failed' ? { reason: 'connection refused', hint: 'check the server' } : {}),
  ...(status !== 'failed'
    ? {
        posture: {
          phases: { 1: 'done', 2: 'open', 3: 'open', 4: 'done', 5: 'unknown', 6: 'unknown', 7: 'done' },
          open: high + critical,
          bySeverity: { critical, high, medium: 0, low: 0, info: 0 },
          unknown: status === 'incomplete' ? 1 : 0,
          strictestEnforceable: { application: 'baseline' },
          namespaces: 2,
          workloads: 3,
        },
      }
    : {}),
});

describe('fleet order and totals', () => {
  test('worst first: failed, incomplete, then by severity from critical down, then by name', () => {
    const entries = [
      entry('b-ok', 'ok', 5),
      entry('a-ok', 'ok', 5),
      entry('crit', 'ok', 0, 1),
      entry('part', 'incomplete'),
      entry('gone', 'failed'),
    ];
    expect(sortWorstFirst(entries).map((e) => e.context)).toEqual(['gone', 'part', 'crit', 'a-ok', 'b-ok']);
    expect(fleetTotals(entries)).toEqual({
      clusters: 5,
      ok: 3,
      incomplete: 1,
      failed: 1,
      open: 11,
      bySeverity: { critical: 1, high: 10, medium: 0, low: 0, info: 0 },
    });
  });

  test('context names become safe, distinct, deterministic directory names', () => {
    const names = contextDirNames([
      'arn:aws:eks:eu-west-1:123:cluster/prod',
      'prod',
      'a/b',
      'a:b',
      '..',
      'kind-dev',
    ]);
    expect(Object.fromEntries(names)).toEqual({
      '..': '_',
      'a/b': 'a_b',
      'a:b': 'a_b-2',
      'arn:aws:eks:eu-west-1:123:cluster/prod': 'arn_aws_eks_eu-west-1_123_cluster_prod',
      'kind-dev': 'kind-dev',
      prod: 'prod',
    });
  });

  test('mapBounded keeps the order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});

describe('fleet renderers', () => {
  const entries = [entry('prod', 'ok', 2), entry('gone', 'failed')];
  const options = { generatedAt: '2026-06-01T12:00:00.000Z', timestamps: false };

  test('text: totals, a row per cluster worst first, the failed cluster with its reason and hint', () => {
    const text = renderFleetText(entries, options);
    const lines = text.split('\n');
    expect(lines[0]).toBe('kube-harden fleet report');
    expect(lines[1]).toBe(
      '2 cluster(s): 1 ok, 0 incomplete, 1 failed · 2 open finding(s) (critical 0, high 2, medium 0, low 0, info 0)',
    );
    const rows = lines.filter((l) => /^(gone|prod) /.test(l));
    expect(rows[0]).toMatch(/^gone +failed +- +- /);
    expect(rows[1]).toMatch(/^prod +ok +0 +2 +0 +0 +0 +✓✗✗✓\?\?✓ +- +- +baseline$/);
    expect(text).toContain('gone: connection refused (exit 4)\n  hint: check the server');
    expect(text).not.toContain('generated');
  });

  test('markdown: the table and the clusters not fully read', () => {
    const md = renderFleetMarkdown(entries, options);
    expect(md).toContain('| gone | failed | - | - | - | - | - | - | - | - | - |');
    expect(md).toContain('| prod | ok | 0 | 2 | 0 | 0 | 0 | ✓✗✗✓??✓ | - | - | baseline |');
    expect(md).toContain('| gone | failed | 4 | connection refused | check the server |');
  });

  test('JSON: totals and clusters worst first, each with its exit code; no generatedAt without timestamps', () => {
    const json = toFleetJson(entries, options) as {
      kind: string;
      clusters: Array<{ context: string; exitCode: number; posture?: { phases: Record<string, string> } }>;
    };
    expect(json.kind).toBe('fleet');
    expect(json).not.toHaveProperty('generatedAt');
    expect(json.clusters.map((c) => [c.context, c.exitCode])).toEqual([
      ['gone', 4],
      ['prod', 0],
    ]);
    expect(json.clusters[1]?.posture?.phases).toEqual({
      1: 'done',
      2: 'open',
      3: 'open',
      4: 'done',
      5: 'unknown',
      6: 'unknown',
      7: 'done',
    });
  });

  test('SARIF: one run per cluster told apart by automationDetails; a failed cluster is a failed invocation', () => {
    const withRun: FleetEntry[] = [
      { ...entry('prod', 'ok', 2), result: { tool: { driver: { name: 'kube-harden' } }, results: [{}] } },
      entry('gone', 'failed'),
    ];
    const sarif = JSON.parse(renderFleetSarif(withRun, options)) as {
      runs: Array<{
        automationDetails: { id: string };
        invocations?: Array<{ executionSuccessful: boolean }>;
        results: unknown[];
      }>;
    };
    expect(sarif.runs.map((r) => r.automationDetails.id)).toEqual(['kube-harden/gone/', 'kube-harden/prod/']);
    expect(sarif.runs[0]?.invocations?.[0]?.executionSuccessful).toBe(false);
    expect(sarif.runs[1]?.results).toHaveLength(1);
  });
});
