/**
 * The change engine over a whole rollout, against the real control plane: the documented workflow on the legacy
 * example (several steps writing one Namespace in one run; undo restores every Namespace exactly), a third
 * party's write between two steps' writes, the same through the wizard store; a dropped connection after a
 * write reached the server; a full disk; concurrent undos; journals kept by cluster identity; an unwritable
 * state directory.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { connect, type LiveCluster } from '../../src/cluster/live.js';
import { applyPlan } from '../../src/engine/apply.js';
import {
  clusterKey,
  type JournalEntry,
  type JournalIO,
  listRuns,
  readJournal,
  StateError,
  summarize,
  verificationsOf,
  writeStates,
} from '../../src/engine/journal.js';
import { readPlanDir } from '../../src/engine/plan-file.js';
import type { Plan } from '../../src/engine/types.js';
import { applyUndo, planUndo } from '../../src/engine/undo.js';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import type { SessionOptions } from '../../src/store/session.js';
import { createHardenStore } from '../../src/store/store.js';
import { type DropProxy, startDropProxy } from '../cluster/drop-proxy.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  waitFor,
} from '../cluster/harness.js';
import { cliWithTestSteps, repoRoot, runCli } from '../support/cli.js';
import { applyExample, EXAMPLE, noneTerminating } from '../support/example.js';
import { planWith } from '../support/plan-with.js';
import { fixedStep, labelChange } from '../support/test-steps.js';

type Meta = { labels: Record<string, string>; annotations: Record<string, string> };

/** Labels and annotations of every Namespace, by name. */
async function namespaceMeta(): Promise<Record<string, Meta>> {
  const list = await kubectlJson<{ items: KubeObject[] }>(['get', 'namespaces']);
  const out: Record<string, Meta> = {};
  for (const ns of list.items) {
    out[ns.metadata.name] = { labels: ns.metadata.labels ?? {}, annotations: ns.metadata.annotations ?? {} };
  }
  return out;
}

/** The example's Namespaces as first loaded in this file: each test starts from them. */
let pristine: Record<string, Meta> | undefined;

/**
 * Load examples/legacy-cluster once no namespace is terminating (other files delete theirs without waiting), and
 * put every Namespace's labels and annotations back to how the first load left them, so a test that failed
 * half-way does not change what the next one plans.
 */
async function loadExample(): Promise<void> {
  await noneTerminating();
  await applyExample();
  const now = await namespaceMeta();
  if (!pristine) {
    pristine = now;
    return;
  }
  for (const [name, meta] of Object.entries(pristine)) {
    const current = now[name];
    if (!current || JSON.stringify(current) === JSON.stringify(meta)) continue;
    const reset = (was: Record<string, string>, is: Record<string, string>) => ({
      ...Object.fromEntries(Object.keys(is).map((k) => [k, null])),
      ...was,
    });
    const patch = {
      metadata: {
        labels: reset(meta.labels, current.labels),
        annotations: reset(meta.annotations, current.annotations),
      },
    };
    await kubectl(['patch', 'namespace', name, '--type', 'merge', '-p', JSON.stringify(patch)]);
  }
}

function findJournal(state: string, runId: string): string | undefined {
  const root = join(state, 'kube-harden');
  if (!existsSync(root)) return undefined;
  for (const dir of readdirSync(root)) {
    const path = join(root, dir, `${runId}.jsonl`);
    if (existsSync(path)) return path;
  }
  return undefined;
}

const all = (plan: Plan) => new Set(plan.changes.map((c) => c.id));

/** Targets changed by more than one step of a plan: the case this file is about. */
function sharedTargets(plan: Plan): string[] {
  const steps = new Map<string, Set<string>>();
  for (const c of plan.changes) {
    if (!c.target) continue;
    const key = `${c.target.kind}/${c.target.name}`;
    steps.set(key, (steps.get(key) ?? new Set()).add(c.step));
  }
  return [...steps].filter(([, s]) => s.size > 1).map(([k]) => k);
}

describeCluster('the engine over a whole rollout (live)', () => {
  let state: string;
  let kubeconfig: string;
  const env = () => ({ XDG_STATE_HOME: state });

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    kubeconfig = clusterInfo().adminKubeconfig;
  });

  afterAll(async () => {
    // Leave the example to the files that load it themselves (they wait for termination).
    await kubectl(['delete', '-R', '-f', EXAMPLE, '--wait=false', '--ignore-not-found'], {
      timeoutMs: 120_000,
    });
    // Cluster-wide objects a failed workflow may leave (undo not reached): phase 5's policy would deny the images
    // of the files after this one.
    await kubectl([
      'delete',
      'validatingadmissionpolicybinding,validatingadmissionpolicy',
      'kube-harden-allowed-registries',
      '--ignore-not-found',
    ]);
  });

  it('the documented workflow on the legacy example: plan -A --out, apply --plan --yes applies every change (two steps write one Namespace), plan again: none (registries-enforce waits for its soak; with --registries-soak 0 it is next), undo restores every Namespace byte for byte', async () => {
    await loadExample();
    const before = await namespaceMeta();
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await runCli(['plan', '-A', '--out', dir, '--kubeconfig', kubeconfig], { env: env() });
    expect([ExitCode.ok, ExitCode.incomplete], planned.stderr).toContain(planned.code);
    const saved = readPlanDir(dir);
    const changes = saved.changes.filter((c) => c.kind !== 'manual' && !c.optional);
    expect(new Set(changes.map((c) => c.step))).toEqual(
      new Set([
        'psa-warn-audit',
        'psa-enforce',
        'network-default-deny',
        'sa-tokens',
        'registries-warn',
        // Not registries-enforce: its gate is cross-checked by the API server through the warn binding, which is
        // not in place before this plan is applied (unknown is not compliant); it is proposed by the next plan.
      ]),
    );
    expect(sharedTargets(saved).length).toBeGreaterThan(0);

    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], {
      env: env(),
      timeoutMs: 180_000,
    });
    expect(applied.code, applied.stderr).toBe(ExitCode.ok);
    expect(applied.stderr).toContain(`${changes.length} of ${changes.length} change(s) applied (complete)`);
    console.log(
      `[workflow] plan -A: ${changes.length} changes (${sharedTargets(saved).length} Namespaces written by two steps), exit ${planned.code}; apply --plan --yes: exit ${applied.code}`,
    );

    // One before-image per object per run, in the first intent for it.
    const journal = findJournal(state, saved.id) as string;
    const intents = readJournal(journal).filter((e) => e.type === 'intent');
    const byTarget = new Map<string, number>();
    for (const i of intents) {
      if (i.type !== 'intent') continue;
      // Per object: several steps write Namespaces, and sa-tokens writes every namespace's `default` account.
      const key = `${i.target.kind}/${i.target.namespace ?? ''}/${i.target.name}`;
      if (i.before) byTarget.set(key, (byTarget.get(key) ?? 0) + 1);
    }
    expect([...byTarget.values()].every((n) => n === 1)).toBe(true);
    // Each step's check after the writes, as printed, is recorded in the journal after them.
    const printed = Object.fromEntries(
      [...applied.stderr.matchAll(/^verify ([a-z-]+): (ok|PROBLEM|UNKNOWN)$/gm)].map((m) => [
        m[1],
        (m[2] as string).toLowerCase(),
      ]),
    );
    expect(Object.keys(printed).length).toBeGreaterThan(0);
    expect(
      Object.fromEntries(
        Object.entries(verificationsOf(readJournal(journal))).map(([step, v]) => [step, v.result]),
      ),
    ).toEqual(printed);
    for (const i of intents) {
      // Creates (network-default-deny's NetworkPolicies) have no before-image: there was nothing.
      if (i.type === 'intent' && !i.before && i.operation !== 'create')
        expect(i.beforeSeq, i.changeId).toBeDefined();
    }

    const again = await runCli(
      ['plan', '-A', '--detailed-exitcode', '--format', 'json', '--kubeconfig', kubeconfig],
      { env: env() },
    );
    // Nothing left to apply (exit 0): registries-enforce follows the warn binding only after its soak
    // (--registries-soak, 7 days of warnings by default), which a finding says (findings are not changes); the
    // manual changes of phase 6 (files for the control-plane nodes) stay listed until done by hand, and are not
    // counted by --detailed-exitcode.
    const second = JSON.parse(again.stdout) as {
      changes: Array<{ kind: string; id: string }>;
      steps: Array<{ id: string; findings: Array<{ control: string; message: string }> }>;
    };
    expect(second.changes.filter((c) => c.kind !== 'manual').map((c) => c.id)).toEqual([]);
    expect(
      second.steps
        .find((s) => s.id === 'registries-enforce')
        ?.findings.filter((f) => f.control === 'KH-IMAGE-REGISTRY-SOAKING')
        .map((f) => f.message),
    ).toEqual([
      expect.stringMatching(
        /^warn has been in place for 0 day\(s\) \(since .*\): deny is proposed after 7 days/,
      ),
    ]);
    expect(again.code, again.stdout + again.stderr).toBe(ExitCode.ok);
    // Without the soak, enforce is next: the warn binding is in place and the API server's cross-check agrees
    // (exit 2: changes).
    const noSoak = await runCli(
      [
        'plan',
        '-A',
        '--step',
        'registries-enforce',
        '--registries-soak',
        '0',
        '--detailed-exitcode',
        '--format',
        'json',
        '--kubeconfig',
        kubeconfig,
      ],
      { env: env() },
    );
    expect(
      (JSON.parse(noSoak.stdout) as { changes: Array<{ kind: string; id: string }> }).changes
        .filter((c) => c.kind !== 'manual')
        .map((c) => c.id),
    ).toEqual(['registries-enforce/binding']);
    expect(noSoak.code, noSoak.stdout + noSoak.stderr).toBe(ExitCode.usage);

    const undone = await runCli(['undo', saved.id, '--yes', '--kubeconfig', kubeconfig], {
      env: env(),
      timeoutMs: 180_000,
    });
    expect(undone.code, undone.stderr).toBe(ExitCode.ok);
    const after = await namespaceMeta();
    for (const name of Object.keys(before)) expect(after[name], name).toEqual(before[name]);
    console.log(
      `[workflow] plan --detailed-exitcode after apply: exit ${again.code} (--registries-soak 0: exit ${noSoak.code}); undo: exit ${undone.code}; ${Object.keys(before).length} Namespaces compared`,
    );
  });

  it("a third party's write between two steps' writes to one Namespace is refused as stale (exit 8); every other change is applied and undo loses nothing", async () => {
    await loadExample();
    const before = await namespaceMeta();
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    // The two steps that write one Namespace (the slowed-down apply below would take minutes over every step).
    await runCli(
      [
        'plan',
        '-A',
        '--step',
        'psa-warn-audit',
        '--step',
        'psa-enforce',
        '--out',
        dir,
        '--kubeconfig',
        kubeconfig,
      ],
      { env: env() },
    );
    const saved = readPlanDir(dir);
    const changes = saved.changes.filter((c) => c.kind !== 'manual' && !c.optional);
    // The Namespace whose first change comes earliest among those two steps write.
    const shared = new Set(sharedTargets(saved).map((k) => k.split('/')[1]));
    const victim = changes.find((c) => shared.has(c.target?.name as string))?.target?.name as string;
    expect(victim).toBeDefined();
    const enforce = changes.find((c) => c.step === 'psa-enforce' && c.target?.name === victim);

    // Slowed down (4 requests/s; apply --plan's checks before the writes take ~80 requests), so the third party's write lands between the two steps' writes.
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'kube-harden.js'),
        'apply',
        '--plan',
        dir,
        '--yes',
        '--kubeconfig',
        kubeconfig,
        '--qps',
        '4',
        '--burst',
        '1',
      ],
      { env: { ...process.env, ...env(), NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await waitFor(
      () => {
        const path = findJournal(state, saved.id);
        if (!path) return false;
        const entries = readJournal(path);
        const first = entries.find((e) => e.type === 'intent' && e.target.name === victim);
        return first?.type === 'intent' && writeStates(entries).get(first.seq) === 'confirmed';
      },
      { what: `the first write to ${victim} confirmed`, timeoutMs: 90_000, intervalMs: 20 },
    );
    await kubectl(['label', 'namespace', victim, 'third=party']);
    const code = await exited;
    expect(code, stderr).toBe(ExitCode.refused);
    expect(stderr).toMatch(
      new RegExp(`stale +namespace/${victim}: the object changed since this run's own write`),
    );
    expect(stderr).toContain(`${changes.length - 1} of ${changes.length} change(s) applied`);
    const entries = readJournal(findJournal(state, saved.id) as string);
    const refused = entries.find((e) => e.type === 'intent' && e.changeId === enforce?.id);
    expect(refused).toBeUndefined(); // refused before anything was journaled or sent

    const undone = await runCli(['undo', saved.id, '--yes', '--kubeconfig', kubeconfig], {
      env: env(),
      timeoutMs: 180_000,
    });
    expect(undone.code, undone.stderr).toBe(ExitCode.ok);
    const after = await namespaceMeta();
    for (const name of Object.keys(before)) {
      const expected =
        name === victim
          ? { ...before[name], labels: { ...before[name]?.labels, third: 'party' } }
          : before[name];
      expect(after[name], name).toEqual(expected);
    }
    await kubectl(['label', 'namespace', victim, 'third-']);
  }, 300_000);

  it('the same through the wizard store: apply all, then undo from the store', async () => {
    await loadExample();
    const before = await namespaceMeta();
    const options: SessionOptions = {
      kubeconfig,
      scope: { namespaces: [], exclude: [] },
      readOnly: false,
      now: () => new Date(),
      env: { ...process.env, ...env() },
    };
    const store = createHardenStore({ options });
    try {
      await store.getState().connect();
      await store.getState().inventory();
      const plan = await store.getState().planSteps(['psa-warn-audit', 'psa-enforce']);
      expect(sharedTargets(plan).length).toBeGreaterThan(0);
      store.getState().selectAll();
      const selected = store.getState().selected.length;
      const report = await store.getState().apply();
      expect(report.state).toBe('complete');
      expect(report.outcomes.filter((o) => o.outcome !== 'applied')).toEqual([]);
      expect(report.outcomes).toHaveLength(selected);
      await store.getState().planUndo(report.runId);
      const undone = await store.getState().applyUndo();
      expect(undone.filter((o) => o.outcome !== 'restored')).toEqual([]);
    } finally {
      store.getState().close();
    }
    const after = await namespaceMeta();
    for (const name of Object.keys(before)) expect(after[name], name).toEqual(before[name]);
  });

  describeDropProxy();

  it('a full disk while journaling a change: stops before sending it, with a clear error; nothing written to the cluster', async () => {
    const a = await freshNamespace('enospc-a');
    const b = await freshNamespace('enospc-b');
    const admin = connect({ kubeconfig });
    try {
      const plan = await planWith(
        admin,
        [fixedStep('t', 1, [labelChange('a', a, { tier: 'gold' }), labelChange('b', b, { tier: 'gold' })])],
        [a, b],
      );
      // The disk fills up after 40 bytes of the second change's intent entry.
      let intents = 0;
      const io: JournalIO = {
        openSync: (p, f, m) => fs.openSync(p, f, m),
        writeSync: (fd, buf, off, len) => {
          const text = Buffer.from(buf)
            .subarray(off, off + len)
            .toString();
          if (text.includes('"type":"intent"')) intents++;
          if (intents === 2 && text.includes('"type":"intent"')) {
            fs.writeSync(fd, buf, off, 40);
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          }
          return fs.writeSync(fd, buf, off, len);
        },
        fsyncSync: (fd) => fs.fsyncSync(fd),
        ftruncateSync: (fd, l) => fs.ftruncateSync(fd, l),
        closeSync: (fd) => fs.closeSync(fd),
      };
      const error = await applyPlan(admin, plan, {
        confirmed: all(plan),
        env: { ...process.env, ...env() },
        journalIO: io,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateError);
      expect((error as StateError).exitCode).toBe(ExitCode.error);
      expect((error as StateError).message).toMatch(
        /cannot write the run journal .*\.jsonl \(no space left on device\); nothing was sent/,
      );
      expect((error as StateError).message).toContain(
        `1 change(s) applied before it are journaled (undo with: kube-harden undo ${plan.id})`,
      );
      const liveB = await kubectlJson<KubeObject>(['get', 'ns', b]);
      expect(liveB.metadata.labels?.tier).toBeUndefined();
      expect((await kubectlJson<KubeObject>(['get', 'ns', a])).metadata.labels?.tier).toBe('gold');
      // The partial entry was cut off: the journal reads cleanly and undo restores the first change.
      const journal = findJournal(state, plan.id) as string;
      const text = readFileSync(journal, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      expect(readJournal(journal).filter((e) => e.type === 'intent')).toHaveLength(1);
      const undo = await planUndo(admin, journal);
      await applyUndo(admin, undo);
      expect((await kubectlJson<KubeObject>(['get', 'ns', a])).metadata.labels?.tier).toBeUndefined();
    } finally {
      admin.close();
    }
  });

  it('a write sent without a known outcome (the run died): undo asks the object — untouched since means it never landed; changed means undo it', async () => {
    const never = await freshNamespace('sent-never');
    const landed = await freshNamespace('sent-landed');
    const admin = connect({ kubeconfig });
    try {
      const live = async (n: string) =>
        (await admin.get({ apiVersion: 'v1', kind: 'Namespace', name: n })).value as KubeObject;
      const beforeNever = await live(never);
      const beforeLanded = await live(landed);
      // The second write reached the server (as kube-harden's field manager) before the run died.
      await kubectl(['apply', '--server-side', '--field-manager=kube-harden', '-f', '-'], {
        input: `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${landed}, labels: {sent: 'yes'}}\n`,
      });
      const runId = '20261201T000000Z-sent00';
      const intentFor = (seq: number, ns: KubeObject): JournalEntry[] => [
        {
          type: 'intent',
          seq,
          at: '2026-12-01T00:00:00.000Z',
          changeId: `c${seq}`,
          step: 't',
          target: { apiVersion: 'v1', kind: 'Namespace', name: ns.metadata.name },
          operation: 'update',
          baseResourceVersion: ns.metadata.resourceVersion as string,
          precondition: ns.metadata.resourceVersion as string,
          before: ns,
          desired: {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: ns.metadata.name, labels: { sent: 'yes' } },
          },
        },
        { type: 'sent', seq, at: '2026-12-01T00:00:00.000Z' },
      ];
      const entries: JournalEntry[] = [
        {
          type: 'run',
          runId,
          startedAt: '2026-12-01T00:00:00.000Z',
          context: 'admin',
          server: clusterInfo().server,
          steps: ['t'],
          planId: runId,
          tool: 'kube-harden test',
          format: 2,
        },
        ...intentFor(1, beforeNever),
        ...intentFor(2, beforeLanded),
      ];
      const uid = (await kubectlJson<KubeObject>(['get', 'ns', 'kube-system'])).metadata.uid as string;
      const dir = join(state, 'kube-harden', `cluster-${uid}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, `${runId}.jsonl`);
      writeFileSync(path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
      const undo = await planUndo(admin, path);
      const byName = Object.fromEntries(undo.items.map((i) => [i.target.name, i]));
      expect(byName[never]?.action).toBe('nothing');
      expect(byName[never]?.message).toBe('already back to its before-image');
      expect(byName[landed]?.action).toBe('restore');
      const outcomes = await applyUndo(admin, undo);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['restored', 'unchanged']);
      expect((await live(landed)).metadata.labels?.sent).toBeUndefined();
      expect(summarize(path, readJournal(path))?.state).toBe('undone');
    } finally {
      admin.close();
    }
  });

  it('two concurrent undos of one run: one refuses (the lock names the holder), no duplicate sequence numbers', async () => {
    const names = [
      await freshNamespace('lock-a'),
      await freshNamespace('lock-b'),
      await freshNamespace('lock-c'),
    ];
    const admin = connect({ kubeconfig });
    let plan: Plan;
    try {
      plan = await planWith(
        admin,
        [
          fixedStep(
            't',
            1,
            names.map((n, i) => labelChange(`l${i}`, n, { locked: 'yes' })),
          ),
        ],
        names,
      );
      const report = await applyPlan(admin, plan, {
        confirmed: all(plan),
        env: { ...process.env, ...env() },
      });
      expect(report.state).toBe('complete');
    } finally {
      admin.close();
    }
    const undo = () =>
      runCli(['undo', plan.id, '--yes', '--kubeconfig', kubeconfig, '--qps', '2', '--burst', '1'], {
        env: env(),
        timeoutMs: 120_000,
      });
    const [one, two] = await Promise.all([undo(), undo()]);
    const codes = [one.code, two.code].sort();
    expect(codes, one.stderr + two.stderr).toEqual([ExitCode.ok, ExitCode.refused]);
    const refused = one.code === ExitCode.refused ? one : two;
    expect(refused.stderr).toMatch(/locked by pid \d+ \(undo of run journal .*\) since \d{4}-/);
    expect(refused.stderr).toMatch(/if that process is gone, remove .*\.lock/);
    const entries = readJournal(findJournal(state, plan.id) as string);
    const seqs = entries
      .filter((e) => 'seq' in e && e.type.startsWith('undo'))
      .map((e) => `${e.type}:${(e as { seq: number }).seq}`);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(entries.filter((e) => e.type === 'undone')).toHaveLength(1);
    for (const n of names)
      expect((await kubectlJson<KubeObject>(['get', 'ns', n])).metadata.labels?.locked).toBeUndefined();
  });

  it('two concurrent applies on one cluster: the second refuses (the lock names the holder) and records no run; it applies once the first is done', async () => {
    const names = [
      await freshNamespace('alock-a'),
      await freshNamespace('alock-b'),
      await freshNamespace('alock-c'),
    ];
    const admin = connect({ kubeconfig });
    const first = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const second = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    let secondId: string;
    let firstId: string;
    try {
      const { writePlanDir } = await import('../../src/engine/plan-file.js');
      const a = await planWith(
        admin,
        [
          fixedStep('t', 1, [
            labelChange('a', names[0] as string, { one: 'yes' }),
            labelChange('b', names[1] as string, { one: 'yes' }),
          ]),
        ],
        names.slice(0, 2),
      );
      const b = await planWith(
        admin,
        [fixedStep('t', 1, [labelChange('c', names[2] as string, { two: 'yes' })])],
        [names[2] as string],
      );
      writePlanDir(a, first);
      writePlanDir(b, second);
      firstId = a.id;
      secondId = b.id;
    } finally {
      admin.close();
    }
    const child = spawn(
      process.execPath,
      [
        cliWithTestSteps,
        'apply',
        '--plan',
        first,
        '--yes',
        '--kubeconfig',
        kubeconfig,
        '--qps',
        '1',
        '--burst',
        '1',
      ],
      { env: { ...process.env, ...env() }, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await waitFor(
      () => {
        const path = findJournal(state, firstId);
        return path !== undefined && readJournal(path).some((e) => e.type === 'run');
      },
      { what: 'the first apply under way', timeoutMs: 60_000, intervalMs: 20 },
    );
    const refused = await runCli(['apply', '--plan', second, '--yes', '--kubeconfig', kubeconfig], {
      env: env(),
      testSteps: true,
    });
    expect(refused.code, refused.stderr).toBe(ExitCode.refused);
    expect(refused.stderr).toMatch(
      /apply on context "admin": locked by pid \d+ \(apply on context "admin"\) since \d{4}-/,
    );
    expect(refused.stderr).toMatch(/if that process is gone, remove .*apply\.lock/);
    expect(findJournal(state, secondId)).toBeUndefined();
    expect(await exited).toBe(ExitCode.ok);
    const later = await runCli(['apply', '--plan', second, '--yes', '--kubeconfig', kubeconfig], {
      env: env(),
      testSteps: true,
    });
    expect(later.code, later.stderr).toBe(ExitCode.ok);
  });

  it("a later step's change already put in place by this run's earlier write is not sent again, even after the object moved (a controller's status update, here a third party's annotation)", async () => {
    const ns = await freshNamespace('same-twice');
    const admin = connect({ kubeconfig });
    const { kubectl: kubectlBin } = clusterInfo();
    try {
      // Two steps carry the same label (as registries-warn and registries-enforce carry the same policy).
      const plan = await planWith(
        admin,
        [
          fixedStep('a', 1, [labelChange('first', ns, { shared: 'yes' })]),
          fixedStep('b', 2, [labelChange('second', ns, { shared: 'yes' })]),
        ],
        [ns],
      );
      const report = await applyPlan(admin, plan, {
        confirmed: all(plan),
        env: { ...process.env, ...env() },
        onEvent: (e) => {
          // Between the two writes the object moves, as a policy's type-checking status update moves it.
          if (e.type === 'done' && e.change.id === 'first')
            execFileSync(kubectlBin, ['--kubeconfig', kubeconfig, 'annotate', 'ns', ns, 'moved=by-someone']);
        },
      });
      expect(report.outcomes.map((o) => [o.id, o.outcome, o.message])).toEqual([
        ['first', 'applied', undefined],
        ['second', 'applied', 'already in place: written earlier in this run'],
      ]);
      expect(report.state).toBe('complete');
      // One write was sent and journaled; undo restores the Namespace as it was before the run.
      const intents = readJournal(report.journalPath).filter((j) => j.type === 'intent');
      expect(intents).toHaveLength(1);
    } finally {
      admin.close();
    }
  });

  it("a controller's status update between the read and the write of a later change to an object this run already wrote is not someone else's change: the write is sent again on the new version", async () => {
    const ns = await freshNamespace('status-race');
    await applyYaml(
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.k8s.io/pause:3.10}]
`,
      ns,
    );
    const admin = connect({ kubeconfig });
    const { kubectl: kubectlBin } = clusterInfo();
    const deployment = (id: string, labels: Record<string, string>) => ({
      kind: 'apply' as const,
      id,
      target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns },
      desired: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns, labels },
      },
      risk: 'low' as const,
      reason: 'test',
    });
    try {
      // Two steps change the same Deployment (as sa-tokens and sa-dedicated change one pod template).
      const plan = await planWith(
        admin,
        [
          fixedStep('a', 1, [deployment('first', { first: 'yes' })]),
          fixedStep('b', 2, [deployment('second', { second: 'yes' })]),
        ],
        [ns],
      );
      // The deployment controller's status update, landing between the engine's read and its write of the second
      // change (made to happen there every time): a status-only change, same generation, same labels.
      let writes = 0;
      const racing = new Proxy(admin, {
        get(target, prop, receiver) {
          if (prop !== 'apply') return Reflect.get(target, prop, receiver);
          return async (...args: Parameters<typeof admin.apply>) => {
            if (++writes === 2)
              execFileSync(kubectlBin, [
                '--kubeconfig',
                kubeconfig,
                '-n',
                ns,
                'patch',
                'deployment',
                'web',
                '--subresource=status',
                '--type=merge',
                '-p',
                '{"status":{"collisionCount":7}}',
              ]);
            return target.apply(...args);
          };
        },
      });
      const report = await applyPlan(racing, plan, {
        confirmed: all(plan),
        env: { ...process.env, ...env() },
      });
      expect(report.outcomes.map((o) => [o.id, o.outcome])).toEqual([
        ['first', 'applied'],
        ['second', 'applied'],
      ]);
      // The status write really came in between: the second change needed a third write.
      expect(writes).toBe(3);
      const live = await kubectlJson<KubeObject>(['-n', ns, 'get', 'deployment', 'web']);
      expect(live.metadata.labels).toMatchObject({ first: 'yes', second: 'yes' });
    } finally {
      admin.close();
    }
  });

  it('journals are kept by cluster identity: runs made through another URL or a renamed context are listed and undone; journals of the earlier layout are migrated', async () => {
    const ns = await freshNamespace('identity');
    const own = mkdtempSync(join(tmpdir(), 'kh-state-id-'));
    const ownEnv = { XDG_STATE_HOME: own };
    const admin = connect({ kubeconfig });
    let runId: string;
    try {
      const plan = await planWith(admin, [fixedStep('t', 1, [labelChange('x', ns, { ident: 'yes' })])], [ns]);
      runId = plan.id;
      await applyPlan(admin, plan, { confirmed: all(plan), env: { ...process.env, ...ownEnv } });
    } finally {
      admin.close();
    }
    // A journal of the earlier layout (one directory per server and context).
    const source = { kind: 'cluster' as const, context: 'admin', server: clusterInfo().server };
    const legacyDir = join(own, 'kube-harden', clusterKey(source));
    mkdirSync(legacyDir, { recursive: true, mode: 0o700 });
    const legacyRun: JournalEntry = {
      type: 'run',
      runId: '20200101T000000Z-legacy',
      startedAt: '2020-01-01T00:00:00.000Z',
      context: 'admin',
      server: clusterInfo().server,
      steps: ['t'],
      planId: '20200101T000000Z-legacy',
      tool: 'kube-harden 0.0.1',
    };
    writeFileSync(join(legacyDir, '20200101T000000Z-legacy.jsonl'), `${JSON.stringify(legacyRun)}\n`, {
      mode: 0o600,
    });

    // The same cluster through another URL (localhost instead of 127.0.0.1) and a renamed context.
    const other = join(own, 'renamed.kubeconfig');
    const config = parse(readFileSync(kubeconfig, 'utf8')) as {
      clusters: Array<{ cluster: { server: string } }>;
      contexts: Array<{ name: string }>;
      'current-context': string;
    };
    for (const c of config.clusters) c.cluster.server = c.cluster.server.replace('127.0.0.1', 'localhost');
    for (const c of config.contexts) if (c.name === 'admin') c.name = 'renamed-admin';
    config['current-context'] = 'renamed-admin';
    writeFileSync(other, stringify(config), { mode: 0o600 });
    const listed = await runCli(['runs', '--kubeconfig', other, '-o', 'json'], { env: ownEnv });
    expect(listed.code, listed.stderr).toBe(ExitCode.ok);
    const runs = JSON.parse(listed.stdout) as Array<{ runId: string; context: string; server: string }>;
    expect(
      runs.map((r) => r.runId),
      listed.stderr,
    ).toEqual([runId, '20200101T000000Z-legacy']);
    expect(runs[0]?.context).toBe('admin');
    // Migrated: the earlier layout's directory is gone, its journal lives with the cluster's identity.
    expect(existsSync(legacyDir)).toBe(false);
    const uid = (await kubectlJson<KubeObject>(['get', 'ns', 'kube-system'])).metadata.uid as string;
    expect(existsSync(join(own, 'kube-harden', `cluster-${uid}`, '20200101T000000Z-legacy.jsonl'))).toBe(
      true,
    );
    const labels = JSON.parse(
      readFileSync(join(own, 'kube-harden', `cluster-${uid}`, 'cluster.json'), 'utf8'),
    );
    expect(labels.labels.map((l: { context: string }) => l.context).sort()).toEqual([
      'admin',
      'renamed-admin',
    ]);

    const undone = await runCli(['undo', runId, '--yes', '--kubeconfig', other], { env: ownEnv });
    expect(undone.code, undone.stderr).toBe(ExitCode.ok);
    expect((await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.ident).toBeUndefined();
    // The store's listing (sync, offline) finds them by the recorded label too.
    expect(
      listRuns(
        {
          kind: 'cluster',
          context: 'renamed-admin',
          server: clusterInfo().server.replace('127.0.0.1', 'localhost'),
        },
        ownEnv,
      ).map((r) => r.runId),
    ).toContain(runId);
  });

  it('an unwritable state directory: a clear error naming the path and XDG_STATE_HOME, before anything is written', async () => {
    const ns = await freshNamespace('rostate');
    const admin = connect({ kubeconfig });
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    try {
      const plan = await planWith(admin, [fixedStep('t', 1, [labelChange('x', ns, { ro: 'yes' })])], [ns]);
      const { writePlanDir } = await import('../../src/engine/plan-file.js');
      writePlanDir(plan, dir);
    } finally {
      admin.close();
    }
    // Unwritable: a directory without write permission — or, for root (who may write anyway), a file where the
    // state directory should be.
    const root = process.getuid?.() === 0;
    const parent = mkdtempSync(join(tmpdir(), 'kh-ro-'));
    const ro = root ? join(parent, 'state-file') : parent;
    if (root) writeFileSync(ro, 'not a directory\n');
    else chmodSync(ro, 0o500);
    try {
      const r = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], {
        env: { XDG_STATE_HOME: ro },
        testSteps: true,
      });
      expect(r.code, r.stderr).toBe(ExitCode.error);
      expect(r.stderr).toContain(`cannot use the journal directory ${join(ro, 'kube-harden')}`);
      expect(r.stderr).toContain(root ? 'a file is in the way' : 'permission denied');
      expect(r.stderr).toContain('nothing was sent to the cluster');
      expect(r.stderr).toContain(`XDG_STATE_HOME (now "${ro}")`);
      expect(r.stderr).not.toContain('this is a bug');
      expect((await kubectlJson<KubeObject>(['get', 'ns', ns])).metadata.labels?.ro).toBeUndefined();
    } finally {
      if (!root) chmodSync(ro, 0o700);
    }
  });
});

/** The dropped-connection tests need the local control plane's PKI (the proxy terminates TLS). */
function describeDropProxy(): void {
  let proxy: DropProxy;
  let via: LiveCluster;

  it('a dropped connection after a write reached the server: the change is confirmed by re-reading, the run goes on, and undo really undoes it', async () => {
    if (clusterInfo().kind !== 'local') return;
    const dir = mkdtempSync(join(tmpdir(), 'kh-proxy-'));
    proxy = await startDropProxy(clusterInfo(), dir);
    via = connect({ kubeconfig: proxy.kubeconfig });
    const state = mkdtempSync(join(tmpdir(), 'kh-state-drop-'));
    const env = { ...process.env, XDG_STATE_HOME: state };
    try {
      const names = [
        await freshNamespace('drop-a'),
        await freshNamespace('drop-b'),
        await freshNamespace('drop-c'),
      ];
      await kubectl(['label', 'ns', names[1] as string, 'keep=me']);
      const plan = await planWith(
        via,
        [
          fixedStep(
            't',
            1,
            names.map((n, i) => labelChange(`d${i}`, n, { dropped: 'maybe' })),
          ),
        ],
        names,
      );
      proxy.dropResponseOf('PATCH', 2);
      const report = await applyPlan(via, plan, { confirmed: all(plan), env });
      expect(proxy.dropped).toEqual([
        expect.stringMatching(new RegExp(`^PATCH /api/v1/namespaces/${names[1]}\\?`)),
      ]);
      expect(report.outcomes.map((o) => o.outcome)).toEqual(['applied', 'applied', 'applied']);
      expect(report.outcomes[1]?.message).toContain('re-reading the object shows the change');
      expect(report.state).toBe('complete');
      const entries = readJournal(report.journalPath);
      const result = entries.find((e) => e.type === 'result' && e.seq === 2);
      expect(result).toMatchObject({ outcome: 'applied', confirmedBy: 'reread' });
      // intent → sent → result, each before the next.
      expect(entries.filter((e) => 'seq' in e && e.seq === 2).map((e) => e.type)).toEqual([
        'intent',
        'sent',
        'result',
      ]);
      expect(
        (await kubectlJson<KubeObject>(['get', 'ns', names[1] as string])).metadata.labels?.dropped,
      ).toBe('maybe');

      const undo = await planUndo(via, report.journalPath);
      const outcomes = await applyUndo(via, undo);
      expect(outcomes.map((o) => o.outcome)).toEqual(['restored', 'restored', 'restored']);
      for (const n of names) {
        expect((await kubectlJson<KubeObject>(['get', 'ns', n])).metadata.labels?.dropped, n).toBeUndefined();
      }
      expect((await kubectlJson<KubeObject>(['get', 'ns', names[1] as string])).metadata.labels?.keep).toBe(
        'me',
      );
    } finally {
      via.close();
      await proxy.close();
    }
  });
}
