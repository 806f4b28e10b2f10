/**
 * The Step contract and the Plan. Steps are read-only: they get a `ClusterReader` and the Snapshot, and return
 * proposed changes; only the engine's apply path writes.
 */
import type { ClusterReader } from '../cluster/types.js';
import type { Snapshot, UnknownEntry } from '../inventory/types.js';
import type { AccessCheck, KubeObject, ObjectRef, ServerVersion, SourceInfo } from '../k8s/types.js';
import type { Assessment } from '../policy/assess.js';
import type { TargetRule } from './targets.js';

export type Risk = 'none' | 'low' | 'disruptive' | 'manual';

/** What a step shows the operator about a thing it found. */
export interface StepFinding {
  control: string;
  severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  target: { kind: string; namespace?: string; name: string };
  message: string;
  excepted?: boolean;
}

export interface StepOptions {
  /** Namespaces in scope (empty = all), and those excluded. */
  namespaces: string[];
  exclude: string[];
  /** PSA policy version to pin: `v1.N` or `latest`; default the server's minor version. */
  psaVersion?: string;
  /**
   * Step-specific settings by `SettingSpec.key` (e.g. `psa-enforce.staleAfterDays`), already parsed by the step's
   * `settings` declarations; a key that is absent takes the declared default.
   */
  settings: Record<string, unknown>;
  now: Date;
}

/** The outcome of parsing one setting value: the typed value, or what is wrong with the text. */
export type SettingParse<T> = { ok: true; value: T } | { ok: false; error: string; hint?: string };

/**
 * A setting a step declares: one declaration drives its command-line flag, the validation of its value (a bad
 * value is a usage error naming the flag), `--help` and the wizard.
 */
export interface SettingSpec<T = unknown> {
  /** The key in `StepOptions.settings`: `<step id>.<name>`, e.g. `psa-enforce.staleAfterDays`. */
  key: string;
  /** The flag that sets it, without `--`, e.g. `audit-only-max-age`. */
  flag: string;
  /** What the value is, for help: its placeholder (e.g. `DAYS`, `LEVEL`). */
  type: string;
  /** One line for `--help` and the wizard. */
  description: string;
  /** The default as typed on the command line (parsed like any value); absent: the step decides (see description). */
  default?: string;
  /** Allowed values, when the setting is a choice (checked, and listed in help). */
  choices?: readonly string[];
  /** The flag may be repeated: the values are joined with `,` before `parse` (which then takes a comma list). */
  multiple?: boolean;
  /** Parse a value as typed on the command line. */
  parse(text: string): SettingParse<T>;
  /**
   * Asked in the wizard before its phase is previewed (an explicit choice, e.g. same-namespace traffic): the
   * question, and one line per choice on what it means. The phase is planned again with the answer.
   * A `multiple` setting without choices is a list the operator edits (add, edit, remove; each entry checked with
   * `parse`), starting from `proposed` (what the step uses when the setting is not given); `annotate` says what
   * an entry covers (e.g. the images and workloads of a registry) and `outside` what no entry covers.
   */
  ask?: {
    title: string;
    choices?: Readonly<Record<string, string>>;
    proposed?(input: SettingInput): string[];
    annotate?(entry: string, input: SettingInput): string;
    outside?(entries: readonly string[], input: SettingInput): string | undefined;
  };
}

/** What a setting's wizard helpers may read: the inventory and the options in effect. */
export interface SettingInput {
  snapshot: Snapshot;
  assessment: Assessment;
  options: StepOptions;
}

export interface StepContext {
  snapshot: Snapshot;
  /** The assessment of the snapshot (posture, findings, exceptions), computed once per plan. */
  assessment: Assessment;
  reader: ClusterReader;
  options: StepOptions;
  signal: AbortSignal;
  /** Verification only, on an explicit opt-in (`apply --probe`): runs a short-lived Pod (see PodProbe). */
  probe?: PodProbe;
}

/** What became of a probe Pod: its last phase (or `NotCreated`), in words, and whether it was deleted. */
export interface PodProbeResult {
  phase: 'Succeeded' | 'Failed' | 'Pending' | 'Running' | 'Unknown' | 'NotCreated';
  /** For people: why it failed (the container's termination message), or why it did not run. */
  detail: string;
  deleted: boolean;
}

/**
 * Runs one short-lived Pod to completion within a deadline and always deletes it afterwards (`apply --probe`).
 * The step renders the Pod (from templates/); `image` is the one the operator chose (`--probe-image`).
 */
export interface PodProbe {
  image: string;
  timeoutMs: number;
  run(pod: KubeObject, signal: AbortSignal): Promise<PodProbeResult>;
}

interface ChangeBase {
  id: string;
  risk: Risk;
  reason: string;
  /** Extra lines the operator must read (e.g. "managed by Helm: change the chart too"). */
  notes?: string[];
  /**
   * The object's source of truth lives elsewhere (Helm, Argo CD, Flux): the plan also exports the change as a
   * patch (`DIR/patches/`) to carry into that source. The value says where, e.g. "Helm release monitoring/prom".
   */
  exportPatch?: string;
  /** Offered, but not selected unless the operator opts in (e.g. readOnlyRootFilesystem). */
  optional?: boolean;
}

export type Change =
  | (ChangeBase & { kind: 'apply'; target: ObjectRef; desired: KubeObject })
  | (ChangeBase & { kind: 'delete'; target: ObjectRef })
  | (ChangeBase & { kind: 'manual'; artifact: { path: string; content: string }; instructions: string });

export interface Explanation {
  why: string;
  impact: string;
  rollback: string;
}

export interface AppliedChange {
  change: PlannedChange;
  /** The object as the API server returned it after the write. */
  result?: KubeObject;
  appliedAt: string;
}

export interface Verification {
  ok: boolean;
  messages: string[];
  /**
   * The check could not be made (e.g. a probe Pod never ran): neither verified nor a problem; `ok` is false
   * (unknown is not compliant) and `apply` says UNKNOWN and exits 7.
   */
  unknown?: boolean;
}

export interface DetectResult<Facts> {
  facts: Facts;
  findings: StepFinding[];
  /** What the step needed and could not see (e.g. the API server's flags): joins the plan's unknowns (exit 7). */
  unknown?: UnknownEntry[];
}

export interface Step<Facts = unknown> {
  id: string;
  phase: number;
  title: string;
  /** One line for lists. */
  summary: string;
  risk: Risk;
  /** Not part of "all steps": planned only when named (`--step`), e.g. workload fixes of `migrate`. */
  optIn?: boolean;
  /** The step ids this one builds on (applied first in the rollout), for `kube-harden steps`; absent: none. */
  needs?: readonly string[];
  /** The step's settings (see `SettingSpec`); read them with `settingOf` (steps/kit/settings.ts). */
  settings?: readonly SettingSpec[];
  /** What applying this step needs (SelfSubjectAccessReview attributes), for the permission preflight. */
  permissions(options: StepOptions, snapshot: Snapshot): AccessCheck[];
  /**
   * Everything this step's changes can touch (kinds, operations, label keys and fields, with their values).
   * `apply --plan` refuses a saved change outside them: a plan can only contain what its steps can produce.
   */
  targets: readonly TargetRule[];
  detect(ctx: StepContext): Promise<DetectResult<Facts>>;
  propose(facts: Facts, options: StepOptions): Change[];
  explain(facts: Facts, changes: Change[]): Explanation;
  verify?(ctx: StepContext, applied: AppliedChange[]): Promise<Verification>;
  /**
   * Why the step's changes cannot take effect on this cluster yet (e.g. the CNI does not enforce NetworkPolicy),
   * or undefined. While it says so, the wizard never shows the phase done (status `no effect`) and shows why.
   */
  noEffect?(assessment: Assessment): string | undefined;
}

export type PreviewStatus = 'ok' | 'unavailable' | 'offline';
export type Operation = 'create' | 'update' | 'delete' | 'manual';

export interface DiffSummary {
  /** Unified diff of the normalized objects (Secret values masked). */
  text: string;
  added: number;
  removed: number;
}

/** A change after preview: what would happen, as the API server says. */
export interface PlannedChange {
  id: string;
  step: string;
  phase: number;
  kind: Change['kind'];
  operation: Operation;
  target?: ObjectRef;
  risk: Risk;
  reason: string;
  notes: string[];
  /** The apply configuration that would be sent (apply changes). */
  desired?: KubeObject;
  /** resourceVersion of the live object when previewed; null = it did not exist (a create). */
  baseResourceVersion: string | null;
  diff: DiffSummary;
  /** `Warning` headers of the dry-run (Pod Security "would violate …", "existing pods … violate …"). */
  warnings: string[];
  preview: PreviewStatus;
  /** Why the preview is unavailable, when it is. */
  previewError?: string;
  /** Fields owned by other field managers: applying needs the operator to take them over explicitly. */
  conflicts?: Array<{ manager: string; field: string }>;
  /** For manual changes: the artifact and what to do with it (`file`: where a saved plan keeps it, in DIR). */
  artifact?: { path: string; content: string; file?: string };
  instructions?: string;
  /** See Change.exportPatch. */
  exportPatch?: string;
  /** See Change.optional. */
  optional?: boolean;
}

export interface PlannedStep {
  id: string;
  phase: number;
  title: string;
  risk: Risk;
  explanation: Explanation;
  findings: StepFinding[];
  /** Changes proposed but dropped because the dry-run result equals the live object. */
  noops: Array<{ id: string; target?: ObjectRef; reason: string }>;
}

export interface Plan {
  schemaVersion: 1;
  /** Also the run id when this plan is applied. */
  id: string;
  createdAt: string;
  source: SourceInfo;
  serverVersion?: ServerVersion;
  steps: PlannedStep[];
  changes: PlannedChange[];
  /** What the inventory could not read (never treated as compliant). */
  unknown: Array<{ resource: string; namespace?: string; reason: string; message: string }>;
}
