/** An offline plan pins Pod Security versions without knowing the cluster, and PLAN.md says so. */
import { describe, expect, test } from 'vitest';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { buildPlan } from '../../../src/engine/plan.js';
import { renderPlanMarkdown } from '../../../src/engine/plan-file.js';
import type { Step } from '../../../src/engine/types.js';
import { buildSnapshot } from '../../../src/inventory/build.js';
import { assess } from '../../../src/policy/assess.js';
import { NEWEST_POLICY_MINOR } from '../../../src/policy/pss/evaluate.js';
import { psaWarnAudit } from '../../../steps/psa-warn-audit.js';

async function offlinePlan(psaVersion?: string) {
  const source = await ManifestSource.load('examples/legacy-cluster/shop');
  const snapshot = await buildSnapshot(source, {});
  const now = new Date('2026-01-01T00:00:00Z');
  return buildPlan(source, snapshot, {
    steps: [psaWarnAudit as Step],
    options: { namespaces: [], exclude: [], settings: {}, now, ...(psaVersion ? { psaVersion } : {}) },
    assessment: assess(snapshot, { now }),
  });
}

const versionLabels = (plan: Awaited<ReturnType<typeof offlinePlan>>) =>
  plan.changes.flatMap((c) =>
    Object.entries(c.desired?.metadata.labels ?? {})
      .filter(([k]) => k.endsWith('-version'))
      .map(([, v]) => v),
  );

describe('offline PSA version pinning', () => {
  test('without --psa-version: the newest version the evaluator implements, and PLAN.md says the cluster version is unknown', async () => {
    const plan = await offlinePlan();
    const newest = `v1.${NEWEST_POLICY_MINOR}`;
    expect(versionLabels(plan).length).toBeGreaterThan(0);
    expect(new Set(versionLabels(plan))).toEqual(new Set([newest]));
    expect(renderPlanMarkdown(plan)).toContain(
      `(offline; no server-side dry-run). The cluster's Kubernetes version is unknown: Pod Security versions are pinned to \`${newest}\``,
    );
  });

  test('with --psa-version: that version, named in PLAN.md', async () => {
    const plan = await offlinePlan('v1.30');
    expect(new Set(versionLabels(plan))).toEqual(new Set(['v1.30']));
    expect(renderPlanMarkdown(plan)).toContain('pinned to `v1.30`');
  });
});
