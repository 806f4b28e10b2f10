/**
 * The one store of a session (zustand vanilla): state plus the async actions that do the long work (connect,
 * inventory, plan, apply, undo). The Ink wizard and the headless commands both drive it; components only
 * dispatch intents and render.
 */
import { resolve } from 'node:path';
import { createStore, type StoreApi } from 'zustand/vanilla';
// The steps and the engine's plan/apply/undo/verify are loaded when an action needs them (dynamic imports below):
// `report` never plans, and loading them costs a start-up a hundred modules.
import type { ApplyEvent, ApplyReport } from '../engine/apply.js';
import type { SaveArtifactResult } from '../engine/artifact.js';
import {
  listRunRecords,
  listRuns,
  type RunRecord,
  type RunSummary,
  readClusterIdentity,
  recordVerifications,
} from '../engine/journal.js';
import type { LiveReads } from '../engine/live-reads.js';
import type { PlanProgress } from '../engine/plan.js';
import type { Plan, PlannedChange, Step, StepOptions, Verification } from '../engine/types.js';
import type { UndoOutcome, UndoPlan } from '../engine/undo.js';
import { AbortError, UsageError } from '../errors.js';
import type { InventoryProgress } from '../inventory/build.js';
import type { Snapshot } from '../inventory/types.js';
import { grouped } from '../k8s/numbers.js';
import type { AccessDecision, Identity, ServerVersion, SourceInfo } from '../k8s/types.js';
import type { Assessment } from '../policy/assess.js';
import {
  type Inputs,
  loadInputs,
  type OpenedSource,
  openSource,
  runInventory,
  type SessionOptions,
} from './session.js';

export type Status =
  | 'idle'
  | 'connecting'
  | 'inventory'
  | 'ready'
  | 'planning'
  | 'planned'
  | 'applying'
  | 'applied'
  | 'undoing'
  | 'error';

export interface Progress {
  label: string;
  done?: number;
  total?: number;
}

/** What the offline "apply" wrote: a remediated copy of the manifests (the source is never modified). */
export interface ManifestWrite {
  outDir: string;
  /** Every change written so far in this session, in order (later writes layer on earlier ones). */
  changes: PlannedChange[];
  /** Ids of the changes the last write added. */
  added: string[];
  /** Paths relative to `outDir`, sorted. */
  rewritten: string[];
  created: string[];
}

export interface HardenState {
  status: Status;
  error?: Error;
  progress?: Progress;
  source?: SourceInfo;
  serverVersion?: ServerVersion;
  identity?: Identity;
  /** Permission preflight per step id (what applying it needs). */
  permissions: Record<string, AccessDecision[]>;
  snapshot?: Snapshot;
  assessment?: Assessment;
  plan?: Plan;
  /** Change ids the operator selected to apply. */
  selected: string[];
  /** Change ids whose conflicting fields the operator chose to take over. */
  takeOver: string[];
  applyEvents: ApplyEvent[];
  report?: ApplyReport;
  verifications: Record<string, Verification>;
  runs: RunSummary[];
  /**
   * Every run recorded for this cluster, with what each left in place per step (the phases' status): read at
   * connect, and again after each apply and undo (`loadRuns`). Matched like `runs` and `undo`: by the cluster's
   * identity (read at connect), plus journals of the earlier per-context layout.
   */
  journal: RunRecord[];
  /** The cluster's identity (UID of kube-system), when it could be read at connect. */
  clusterId?: string;
  /** The session's clock (SessionOptions.now): ages such as "applied 3 days ago" are counted from it. */
  now: () => Date;
  undo?: { plan: UndoPlan; outcomes?: UndoOutcome[] };
  /** Whether any write path exists (false offline and with --read-only). */
  canWrite: boolean;
  /** The wizard's long operations take their signal from here; Ctrl-C aborts it (see `interrupt`). */
  abortController: AbortController;
  /** Offline: what `writeManifests` wrote in this session. */
  manifestWrite?: ManifestWrite;
  /** Step settings in effect: the flags', then what the operator chose in the wizard (`setSetting`). */
  settings: Record<string, unknown>;

  connect(signal?: AbortSignal): Promise<void>;
  inventory(signal?: AbortSignal): Promise<void>;
  planSteps(stepIds: string[], signal?: AbortSignal): Promise<Plan>;
  toggle(changeId: string): void;
  /** A step setting chosen in the wizard (a parsed value); the next plan uses it. */
  setSetting(key: string, value: unknown): void;
  /** The step options the next plan uses (scope, settings in effect). */
  stepOptions(): StepOptions;
  selectAll(stepId?: string): void;
  selectNone(stepId?: string): void;
  setTakeOver(changeId: string, on: boolean): void;
  apply(signal?: AbortSignal): Promise<ApplyReport>;
  /** Targets of a (saved) plan whose resourceVersion moved since it was made, described for people. */
  drift(plan: Plan, signal?: AbortSignal, live?: LiveReads): Promise<string[]>;
  loadRuns(): void;
  planUndo(runId?: string, options?: { force?: boolean; signal?: AbortSignal }): Promise<UndoPlan>;
  applyUndo(signal?: AbortSignal): Promise<UndoOutcome[]>;
  /** The signal for the next long operation: a fresh AbortController once the previous one was aborted. */
  operationSignal(): AbortSignal;
  /** Abort the operation in flight (the wizard's first Ctrl-C): apply stops after the change in flight. */
  interrupt(): void;
  /**
   * Offline (`--manifests` with `--out DIR`): write the selected changes, layered on the ones written before in
   * this session, as a remediated copy of the manifests to `outDir` (new or empty; replaced as a whole by later
   * writes of the same session).
   */
  writeManifests(outDir: string, signal?: AbortSignal): Promise<ManifestWrite>;
  /**
   * Save the artifact of a manual change of the plan to `path` (relative to the current directory). An existing
   * file is only replaced with `overwrite` (the operator confirmed); otherwise the result says it exists.
   */
  saveArtifact(
    changeId: string,
    path: string,
    options?: { overwrite?: boolean },
  ): Promise<SaveArtifactResult>;
  close(): void;
}

export interface StoreDeps {
  options: SessionOptions;
  steps?: readonly Step<never>[];
  /** Inject a source (tests); default: open what the options name. */
  open?: () => Promise<OpenedSource>;
  /**
   * Check, after the inventory, which permissions each step's changes would need (the wizard's phase rows show
   * what is denied). Default true; the headless commands turn it off: they do not show it, and `apply` checks
   * the permissions of exactly the changes it writes (src/engine/gate.ts).
   */
  stepPermissions?: boolean;
  /** Preload state (UI tests on fixture snapshots). */
  initial?: Partial<
    Pick<
      HardenState,
      | 'snapshot'
      | 'assessment'
      | 'plan'
      | 'source'
      | 'serverVersion'
      | 'identity'
      | 'permissions'
      | 'status'
      | 'runs'
      | 'journal'
    >
  >;
}

export type HardenStore = StoreApi<HardenState>;

export { grouped };

/** Progress of a long inventory: objects and pods listed, pages read, elapsed time, and the list in flight. */
export function describeProgress(
  p: InventoryProgress,
  counts: Map<string, { items: number; pages: number }>,
  startedAt: number,
  now = Date.now(),
): Progress {
  counts.set(p.resource, { items: p.items, pages: p.pages });
  let total = 0;
  let pages = 0;
  for (const c of counts.values()) {
    total += c.items;
    pages += c.pages;
  }
  const pods = counts.get('pods')?.items ?? 0;
  const elapsed = ((now - startedAt) / 1000).toFixed(1);
  return {
    label: `listed ${grouped(total)} objects (${grouped(pods)} pods) in ${grouped(pages)} page(s), ${elapsed} s; ${p.resource}…`,
    done: total,
  };
}

/** What "select all" selects: changes kube-harden applies, neither optional nor of an opt-in step. */
export function selectedByAll(
  change: Pick<PlannedChange, 'kind' | 'optional' | 'step'>,
  steps: readonly Pick<Step, 'id' | 'optIn'>[],
): boolean {
  return change.kind !== 'manual' && !change.optional && !steps.some((s) => s.id === change.step && s.optIn);
}

export function createHardenStore(deps: StoreDeps): HardenStore {
  const { options } = deps;
  const loadSteps = async (): Promise<readonly Step<never>[]> =>
    deps.steps ?? (await import('../../steps/index.js')).STEPS;
  let applying:
    | Promise<[typeof import('../engine/apply.js'), typeof import('../engine/verify.js')]>
    | undefined;
  const loadApplying = () =>
    (applying ??= Promise.all([import('../engine/apply.js'), import('../engine/verify.js')]));
  let opened: OpenedSource | undefined;
  let inputs: Inputs | undefined;
  /** The steps of the current plan (for "select all", which leaves opt-in steps to the operator). */
  let plannedSteps: readonly Pick<Step, 'id' | 'optIn'>[] = [];

  const ensureOpen = async (signal?: AbortSignal) => {
    opened ??= deps.open ? await deps.open() : await openSource(options, signal);
    return opened;
  };

  let settings: Record<string, unknown> = { ...(options.settings ?? {}) };
  const stepOptions = (): StepOptions => ({
    namespaces: options.scope.namespaces,
    exclude: options.scope.exclude,
    ...(options.psaVersion ? { psaVersion: options.psaVersion } : {}),
    settings,
    now: options.now(),
  });

  return createStore<HardenState>()((set, get) => {
    const fail = (error: unknown): never => {
      set({ status: 'error', error: error as Error, progress: undefined });
      throw error;
    };
    return {
      status: deps.initial?.status ?? 'idle',
      permissions: {},
      selected: [],
      takeOver: [],
      applyEvents: [],
      verifications: {},
      settings,
      runs: [],
      journal: [],
      now: options.now,
      canWrite: false,
      abortController: new AbortController(),
      ...deps.initial,

      async connect(signal) {
        set({ status: 'connecting', progress: { label: 'connecting' }, error: undefined });
        try {
          const src = await ensureOpen(signal);
          const reader = src.reader;
          const update: Partial<HardenState> = {
            source: reader.source,
            canWrite: !!src.writer && !options.readOnly,
          };
          const version = await reader.serverVersion(signal);
          if (version) update.serverVersion = version;
          if (reader.capabilities.reviews) {
            const identity = await reader.whoAmI(signal);
            if (identity) update.identity = identity;
          }
          // The cluster's identity finds its runs under any server URL or context (as `runs` and `undo` do);
          // unreadable (forbidden, or any error reading it): the identity recorded for this context is used.
          if (reader.source.kind === 'cluster') {
            try {
              const clusterId = await readClusterIdentity(reader, signal);
              if (clusterId) update.clusterId = clusterId;
            } catch (error) {
              if (signal?.aborted) throw error;
            }
          }
          set(update);
          get().loadRuns();
        } catch (error) {
          fail(error);
        }
      },

      async inventory(signal) {
        const counts = new Map<string, { items: number; pages: number }>();
        const startedAt = Date.now();
        set({
          status: 'inventory',
          progress: {
            label: options.manifests ? `reading manifests in ${options.manifests}` : 'listing the cluster',
          },
          error: undefined,
        });
        try {
          const src = await ensureOpen(signal);
          inputs ??= await loadInputs(options);
          const result = await runInventory(src.reader, options, inputs, {
            ...(signal ? { signal } : {}),
            onProgress: (p) => set({ progress: describeProgress(p, counts, startedAt) }),
          });
          const permissions: Record<string, AccessDecision[]> = {};
          if (src.reader.capabilities.reviews && deps.stepPermissions !== false) {
            const steps = await loadSteps();
            const so = stepOptions();
            await Promise.all(
              steps.map(async (s) => {
                const checks = s.permissions(so, result.snapshot);
                permissions[s.id] = checks.length ? await src.reader.accessReview(checks, signal) : [];
              }),
            );
          }
          set({ ...result, permissions, status: 'ready', progress: undefined, source: src.reader.source });
        } catch (error) {
          fail(error);
        }
      },

      async planSteps(stepIds, signal) {
        const { snapshot, assessment } = get();
        if (!snapshot || !assessment) throw new Error('inventory first');
        const [steps, { buildPlan }] = await Promise.all([loadSteps(), import('../engine/plan.js')]);
        const chosen = steps.filter((s) => stepIds.includes(s.id));
        set({ status: 'planning', progress: { label: 'planning' }, error: undefined });
        try {
          const src = await ensureOpen(signal);
          const plan = await buildPlan(src.reader, snapshot, {
            steps: chosen as Step[],
            options: stepOptions(),
            assessment,
            ...(signal ? { signal } : {}),
            onProgress: (p: PlanProgress) =>
              set({ progress: { label: `${p.step}: ${p.stage}`, done: p.done, total: p.total } }),
          });
          // An apply may follow: its modules load now, while the operator reviews the plan.
          if (src.writer && !options.readOnly) loadApplying().catch(() => {});
          plannedSteps = chosen;
          // Nothing is selected by default: the operator opts in (no destructive default).
          set({
            plan,
            status: 'planned',
            progress: undefined,
            selected: [],
            takeOver: [],
            report: undefined,
            applyEvents: [],
          });
          return plan;
        } catch (error) {
          return fail(error);
        }
      },

      stepOptions,
      setSetting(key, value) {
        settings = { ...settings, [key]: value };
        set({ settings });
      },
      toggle(changeId) {
        const selected = new Set(get().selected);
        if (selected.has(changeId)) selected.delete(changeId);
        else selected.add(changeId);
        set({ selected: [...selected] });
      },
      selectAll(stepId) {
        const plan = get().plan;
        if (!plan) return;
        // Optional changes and those of opt-in steps are never part of "all": the operator picks them one by one.
        const ids = plan.changes
          .filter((c) => selectedByAll(c, plannedSteps) && (!stepId || c.step === stepId))
          .map((c) => c.id);
        set({ selected: [...new Set([...get().selected, ...ids])] });
      },
      selectNone(stepId) {
        const plan = get().plan;
        if (!stepId || !plan) return set({ selected: [] });
        const drop = new Set(plan.changes.filter((c) => c.step === stepId).map((c) => c.id));
        set({ selected: get().selected.filter((id) => !drop.has(id)) });
      },
      setTakeOver(changeId, on) {
        const t = new Set(get().takeOver);
        if (on) t.add(changeId);
        else t.delete(changeId);
        set({ takeOver: [...t] });
      },

      async apply(signal) {
        const { plan, selected, takeOver } = get();
        if (!plan) throw new Error('plan first');
        const src = await ensureOpen(signal);
        if (!src.writer || options.readOnly) {
          return fail(
            new UsageError(
              'this session cannot write (offline source or --read-only)',
              'run against a cluster without --read-only',
            ),
          );
        }
        // Loaded before the state changes (already with the plan, see planSteps): the first event follows
        // 'applying' at once.
        const [[{ applyPlan }, { verifyRun }], steps] = await Promise.all([loadApplying(), loadSteps()]);
        set({ status: 'applying', applyEvents: [], error: undefined });
        try {
          const report = await applyPlan(src.writer, plan, {
            confirmed: new Set(selected),
            takeOver: new Set(takeOver),
            ...(signal ? { signal } : {}),
            ...(options.env ? { env: options.env } : {}),
            onEvent: (e) =>
              set({
                applyEvents: [...get().applyEvents, e],
                progress: { label: 'applying', done: e.index + (e.type === 'done' ? 1 : 0), total: e.total },
              }),
          });
          set({ report, status: 'applied', progress: undefined });
          // Verify each step that changed something (read-only checks, e.g. FailedCreate after enforce), and
          // record the result in the run's journal (the phases show it in later sessions too).
          const { snapshot, assessment } = get();
          const verifications =
            snapshot && assessment
              ? await verifyRun(steps, plan, report.outcomes, {
                  snapshot,
                  assessment,
                  reader: src.reader,
                  options: stepOptions(),
                  ...(signal ? { signal } : {}),
                })
              : {};
          set({ verifications });
          recordVerifications(report.journalPath, verifications, options.env);
          // The journal once, with the run and its verification (the catch below reads it if verifying fails).
          get().loadRuns();
          return report;
        } catch (error) {
          // A run that stopped part-way journaled what it wrote: the phases count it.
          try {
            get().loadRuns();
          } catch {
            // the journal is read again after the next apply or undo
          }
          return fail(error);
        }
      },

      async drift(plan, signal, live) {
        const src = await ensureOpen(signal);
        const { planDrift } = await import('../engine/drift.js');
        return planDrift(src.reader, plan, signal, live);
      },

      loadRuns() {
        const { source, clusterId } = get();
        if (source?.kind !== 'cluster') return;
        const journal = listRunRecords(source, options.env, clusterId);
        set({ runs: journal.map(({ byStep: _b, ...run }) => run), journal });
      },

      async planUndo(runId, opts = {}) {
        const src = await ensureOpen(opts.signal);
        if (!src.writer) return fail(new UsageError('undo needs a live cluster without --read-only'));
        const runs = listRuns(src.reader.source, options.env, get().clusterId);
        const run = runId ? runs.find((r) => r.runId === runId) : runs[0];
        if (!run) {
          return fail(
            new UsageError(
              runId
                ? `no run ${runId} on this cluster and context`
                : 'no runs recorded on this cluster and context',
              'list them with: kube-harden runs',
            ),
          );
        }
        const { planUndo } = await import('../engine/undo.js');
        set({ status: 'undoing', progress: { label: `previewing undo of ${run.runId}` } });
        try {
          const plan = await planUndo(src.writer, run.path, opts);
          set({ undo: { plan }, progress: undefined });
          return plan;
        } catch (error) {
          return fail(error);
        }
      },

      async applyUndo(signal) {
        const undo = get().undo;
        const src = await ensureOpen(signal);
        if (!undo || !src.writer) throw new Error('plan the undo first');
        try {
          const { applyUndo } = await import('../engine/undo.js');
          const outcomes = await applyUndo(src.writer, undo.plan, signal ? { signal } : {});
          set({ undo: { ...undo, outcomes }, status: 'ready', progress: undefined });
          get().loadRuns();
          return outcomes;
        } catch (error) {
          return fail(error);
        }
      },

      operationSignal() {
        let controller = get().abortController;
        if (controller.signal.aborted) {
          controller = new AbortController();
          set({ abortController: controller });
        }
        return controller.signal;
      },

      interrupt() {
        const controller = get().abortController;
        if (!controller.signal.aborted) controller.abort(new AbortError('interrupted by the operator'));
      },

      async writeManifests(outDir, signal) {
        const { plan, selected, manifestWrite } = get();
        if (!plan) throw new Error('plan first');
        const src = await ensureOpen(signal);
        const source = src.manifests;
        if (!source || options.readOnly) {
          return fail(
            new UsageError(
              'writing remediated manifests needs a manifest source (--manifests) without --read-only',
            ),
          );
        }
        const { writeRemediated } = await import('../engine/remediate.js');
        const chosen = plan.changes.filter((c) => selected.includes(c.id) && c.kind !== 'manual');
        const out = resolve(outDir);
        const earlier = manifestWrite?.outDir === out ? manifestWrite.changes : [];
        const all = [...earlier.filter((c) => !chosen.some((n) => n.id === c.id)), ...chosen];
        set({
          status: 'applying',
          progress: { label: `writing remediated manifests to ${outDir}`, done: 0, total: chosen.length },
          error: undefined,
        });
        try {
          const copy = await writeRemediated(source, all, out, {
            replace: manifestWrite?.outDir === out,
            display: `--out ${outDir}`,
            ...(signal ? { signal } : {}),
          });
          const result: ManifestWrite = {
            outDir: out,
            changes: all,
            added: chosen.map((c) => c.id),
            rewritten: copy.rewritten,
            created: copy.created,
          };
          set({ manifestWrite: result, status: 'applied', progress: undefined });
          return result;
        } catch (error) {
          return fail(error);
        }
      },

      async saveArtifact(changeId, path, opts = {}) {
        const change = get().plan?.changes.find((c) => c.id === changeId);
        if (!change?.artifact) {
          throw new UsageError(
            `${changeId} has no artifact to save`,
            'only manual changes carry an artifact',
          );
        }
        const { saveArtifact } = await import('../engine/artifact.js');
        return saveArtifact(change.artifact.content, path, { overwrite: opts.overwrite === true });
      },

      close() {
        opened?.close();
      },
    };
  });
}
