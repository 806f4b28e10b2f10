/**
 * The wizard remembers, from the journal, what was applied on this cluster and when: phase 1 applied with the
 * built CLI; a fresh session three days later (its clock injected) reads the journal at connect and shows phase 1
 * done, applied 3 days ago, and phase 2 recommended next, under way (the warn it builds on is live). Once the run
 * is undone it no longer counts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import type { SessionOptions } from '../../src/store/session.js';
import { createHardenStore, type HardenStore } from '../../src/store/store.js';
import { derivePhases, type PhaseRow } from '../../src/ui/model/phases.js';
import { STEPS } from '../../steps/index.js';
import { clusterInfo, describeCluster, freshNamespace } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

const DAY = 24 * 60 * 60 * 1000;

describeCluster('phase status from the journal (live)', () => {
  let env: Record<string, string>;
  let kubeconfig: string;
  let ns: string;

  beforeAll(async () => {
    env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'kh-phase-status-')) };
    kubeconfig = clusterInfo().adminKubeconfig;
    ns = await freshNamespace('phase-status', { labels: { 'kube-harden.io/tier': 'application' } });
  });

  /** A new session (as the wizard opens one) on the same journal directory, its clock `later` ms ahead. */
  async function rowsOf(later: number): Promise<{ store: HardenStore; rows: PhaseRow[] }> {
    const options: SessionOptions = {
      kubeconfig,
      scope: { namespaces: [ns], exclude: [] },
      readOnly: false,
      now: () => new Date(Date.now() + later),
      env: { ...process.env, ...env },
    };
    const store = createHardenStore({ options });
    await store.getState().connect();
    await store.getState().inventory();
    const st = store.getState();
    const rows = derivePhases({
      steps: STEPS,
      ...(st.assessment ? { assessment: st.assessment } : {}),
      planStale: false,
      permissions: st.permissions,
      history: [],
      journal: st.journal,
      now: st.now(),
      skipped: [],
    });
    return { store, rows };
  }

  it('phase 1 applied with the CLI is done "3 days ago" in a later session; phase 2 is next; undone, it does not count', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kh-phase-status-plan-')), 'p1');
    const planned = await runCli(
      ['plan', '--step', 'psa-warn-audit', '-n', ns, '--out', dir, '--kubeconfig', kubeconfig],
      { env },
    );
    expect(planned.code, planned.stderr).toBe(ExitCode.ok);
    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], { env });
    expect(applied.code, applied.stderr).toBe(ExitCode.ok);
    const runId = /run (\S+):/.exec(applied.stderr)?.[1];
    expect(runId).toBeDefined();

    // Three days later, a fresh session: the journal is read at connect.
    const later = await rowsOf(3 * DAY + 60_000);
    try {
      const st = later.store.getState();
      expect(st.journal.map((r) => r.runId)).toEqual([runId]);
      expect(st.journal[0]?.byStep['psa-warn-audit']).toMatchObject({ applied: 1, namespaces: [ns] });
      const one = later.rows.find((r) => r.phase === 1);
      const two = later.rows.find((r) => r.phase === 2);
      expect(one).toMatchObject({
        status: 'done',
        applied: 1,
        when: 'applied 3 days ago',
        recommended: false,
      });
      expect(two).toMatchObject({ status: 'in progress', recommended: true });
      expect(two?.progress).toBe(
        'Pod Security warn + audit (phase 1) applied 3 days ago; Pod Security enforce by tier still to do',
      );
    } finally {
      later.store.getState().close();
    }

    const undone = await runCli(['undo', runId as string, '--yes', '--kubeconfig', kubeconfig], { env });
    expect(undone.code, undone.stderr).toBe(ExitCode.ok);
    const after = await rowsOf(3 * DAY + 60_000);
    try {
      expect(after.store.getState().journal[0]).toMatchObject({ runId, state: 'undone', byStep: {} });
      const one = after.rows.find((r) => r.phase === 1);
      expect(one).toMatchObject({ status: 'findings', recommended: true });
      expect(one?.applied).toBeUndefined();
      expect(one?.when).toBeUndefined();
      // Phase 2 waits for phase 1 again.
      expect(after.rows.find((r) => r.phase === 2)).toMatchObject({ status: 'blocked', recommended: false });
    } finally {
      after.store.getState().close();
    }
  });
});
