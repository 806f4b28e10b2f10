/**
 * Saved plans: `DIR/plan.json` (the contract a reviewer approves; see docs/plan-schema.md), `DIR/manifests/NN-<step>/`
 * (one kubectl-apply-able object per file), `DIR/artifacts/<step>/` (the files of manual changes) and `DIR/PLAN.md`
 * (why, impact, rollback and the diffs per step, for a pull request), sealed by one digest (digest.ts).
 * `readPlanDir` validates a plan and `verifyPlanSeal` its digest before anything is applied from it.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../errors.js';
import type { KubeObject, ObjectRef, SourceInfo } from '../k8s/types.js';
import {
  blankDigestLine,
  computeSeal,
  DIGEST_LINE,
  type DigestEntry,
  digestLine,
  firstDifference,
} from './digest.js';
import { redact, toYaml } from './normalize.js';
import type { Plan, PlannedChange } from './types.js';

const MAX_PLAN_BYTES = 64 * 1024 * 1024;

/**
 * plan.json's object. `artifactFiles` (change id → path in DIR): a manual change's artifact is kept in that file
 * and plan.json names it instead of holding the content.
 */
export function planJson(
  plan: Plan,
  artifactFiles: ReadonlyMap<string, string> = new Map(),
): Record<string, unknown> {
  const source = plan.source;
  return {
    schemaVersion: plan.schemaVersion,
    id: plan.id,
    createdAt: plan.createdAt,
    context: source.kind === 'cluster' ? source.context : null,
    server: source.kind === 'cluster' ? source.server : null,
    serverVersion: plan.serverVersion?.gitVersion ?? null,
    source,
    steps: plan.steps,
    changes: plan.changes.map((c) => ({
      id: c.id,
      step: c.step,
      phase: c.phase,
      kind: c.kind,
      operation: c.operation,
      ...(c.target ? { target: c.target } : {}),
      baseResourceVersion: c.baseResourceVersion,
      ...(c.desired ? { desired: redact(c.desired) } : {}),
      risk: c.risk,
      reason: c.reason,
      notes: c.notes,
      preview: c.preview,
      ...(c.previewError ? { previewError: c.previewError } : {}),
      ...(c.conflicts ? { conflicts: c.conflicts } : {}),
      warnings: c.warnings,
      diff: c.diff,
      ...(c.artifact ? { artifact: artifactJson(c, artifactFiles.get(c.id)) } : {}),
      ...(c.instructions ? { instructions: c.instructions } : {}),
      ...(c.exportPatch ? { exportPatch: c.exportPatch } : {}),
      ...(c.optional ? { optional: true } : {}),
    })),
    unknown: plan.unknown,
  };
}

function artifactJson(c: PlannedChange, file: string | undefined): Record<string, string> {
  const artifact = c.artifact as NonNullable<PlannedChange['artifact']>;
  return file ? { path: artifact.path, file } : { path: artifact.path, content: artifact.content };
}

const cleanName = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[.-]+/, '') || 'x';

/** Where each manual change's artifact goes: `artifacts/<step>/<file>`, unique, never outside DIR. */
export function artifactFiles(plan: Plan): Map<string, string> {
  const files = new Map<string, string>();
  const taken = new Set<string>();
  for (const c of plan.changes) {
    if (c.kind !== 'manual' || !c.artifact) continue;
    const base = cleanName(basename(c.artifact.path));
    const dot = base.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
    let rel = `artifacts/${cleanName(c.step)}/${base}`;
    for (let i = 2; taken.has(rel); i++) rel = `artifacts/${cleanName(c.step)}/${stem}-${i}${ext}`;
    taken.add(rel);
    files.set(c.id, rel);
  }
  return files;
}

function fileName(ref: ObjectRef): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  return `${clean(ref.kind)}${ref.namespace ? `-${clean(ref.namespace)}` : ''}-${clean(ref.name)}.yaml`;
}

/** The object as `kubectl apply -f` would take it: the apply configuration, without kube-harden internals. */
function manifestOf(change: PlannedChange): KubeObject | undefined {
  if (!change.desired) return undefined;
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = change.desired.metadata;
  return redact({ ...change.desired, metadata: metadata as KubeObject['metadata'] });
}

export interface MarkdownOptions {
  /** The plan's digest, shown under the title (saved plans). */
  digest?: string;
  /** See planJson. */
  artifactFiles?: ReadonlyMap<string, string>;
}

export function renderPlanMarkdown(plan: Plan, opts: MarkdownOptions = {}): string {
  const lines: string[] = [];
  const src = plan.source;
  lines.push(`# kube-harden plan ${plan.id}`, '');
  if (opts.digest) {
    lines.push(
      digestLine(opts.digest),
      '',
      `Apply exactly this plan with \`kube-harden apply --plan DIR --expect-digest ${opts.digest.slice(7)}\`: it refuses if anything in plan.json, this file, manifests/, optional/, patches/ or artifacts/ changed.`,
      '',
    );
  }
  lines.push(
    src.kind === 'cluster'
      ? `Cluster: context \`${src.context}\`, server \`${src.server}\`${plan.serverVersion ? `, Kubernetes ${plan.serverVersion.gitVersion}` : ''}.`
      : `Manifests: \`${src.path}\` (offline; no server-side dry-run).${offlinePinNote(plan)}`,
  );
  lines.push(
    `Created ${plan.createdAt}. ${plan.changes.length} change(s) in ${plan.steps.length} step(s).`,
    '',
  );
  if (plan.unknown.length > 0) {
    lines.push('> **Incomplete inventory.** These could not be read and are not assumed compliant:');
    for (const u of plan.unknown)
      lines.push(
        `> - \`${u.resource}\`${u.namespace ? ` in \`${u.namespace}\`` : ''}: ${u.reason} — ${u.message}`,
      );
    lines.push('');
  }
  for (const step of plan.steps) {
    const changes = plan.changes.filter((c) => c.step === step.id);
    lines.push(`## Phase ${step.phase}: ${step.title} (\`${step.id}\`, risk: ${step.risk})`, '');
    lines.push(`**Why.** ${step.explanation.why}`, '');
    lines.push(`**Impact.** ${step.explanation.impact}`, '');
    lines.push(`**Rollback.** ${step.explanation.rollback}`, '');
    if (changes.length === 0) lines.push('No changes.', '');
    for (const c of changes) {
      const t = c.target;
      const name = t
        ? `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`
        : (c.artifact?.path ?? c.id);
      lines.push(
        c.kind === 'manual'
          ? `### manual (to do by hand): ${name}`
          : `### ${c.operation} ${name} (+${c.diff.added} −${c.diff.removed})`,
        '',
      );
      if (c.kind === 'delete') lines.push(`**Deletes** ${name} (risk: ${c.risk}).`, '');
      lines.push(c.reason, '');
      for (const n of c.notes) lines.push(`- ${n}`);
      if (c.notes.length) lines.push('');
      if (c.preview === 'unavailable')
        lines.push(`**Preview unavailable:** ${c.previewError ?? 'unknown reason'}`, '');
      if (c.preview === 'offline' && c.kind !== 'manual')
        lines.push('_Offline preview: diff of the manifest, not a server dry-run._', '');
      if (c.warnings.length) {
        lines.push('API server warnings:', '');
        for (const w of c.warnings) lines.push(`- ${w}`);
        lines.push('');
      }
      if (c.diff.text) lines.push('```diff', c.diff.text.trimEnd(), '```', '');
      if (c.kind === 'manual') {
        const file = opts.artifactFiles?.get(c.id);
        lines.push(
          file
            ? `Artifact: \`${file}\` (in this plan directory). kube-harden never applies it.`
            : 'Artifact (kube-harden never applies it):',
          '',
        );
        if (!file && c.artifact) lines.push('```', c.artifact.content.trimEnd(), '```', '');
        if (c.instructions) lines.push('**To do by hand.**', '', c.instructions, '');
      } else if (c.instructions) lines.push(c.instructions, '');
    }
    if (step.noops.length) {
      lines.push(
        `Already in place (no change needed): ${step.noops.map((n) => `\`${n.id}\``).join(', ')}`,
        '',
      );
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export interface WrittenPlan {
  dir: string;
  planFile: string;
  markdownFile: string;
  manifests: string[];
  /** Strategic-merge patches for objects whose source of truth is Helm, Argo CD or Flux. */
  patches: string[];
  /** The files of manual changes (`artifacts/<step>/<file>`). */
  artifacts: string[];
  /** The seal over plan.json, PLAN.md and every file under manifests/, optional/, patches/ and artifacts/. */
  digest: string;
}

export function writePlanDir(plan: Plan, dir: string): WrittenPlan {
  mkdirSync(dir, { recursive: true });
  const manifests: string[] = [];
  const order = [...new Set(plan.changes.map((c) => c.step))];
  for (const change of plan.changes) {
    const object = manifestOf(change);
    if (!object || !change.target || change.operation === 'delete') continue;
    const step = plan.steps.find((s) => s.id === change.step);
    // Optional changes stay out of manifests/: `kubectl apply -R -f manifests/` applies exactly the default plan.
    const folder = join(
      change.optional ? 'optional' : 'manifests',
      `${String(step?.phase ?? order.indexOf(change.step)).padStart(2, '0')}-${change.step}`,
    );
    mkdirSync(join(dir, folder), { recursive: true });
    const rel = join(folder, fileName(change.target));
    writeFileSync(join(dir, rel), toYaml(object));
    manifests.push(rel);
  }
  // Objects managed by Helm/Argo CD/Flux: the same apply configuration is a strategic-merge patch (kustomize
  // `patches:`), to carry into their source so the next sync does not revert the fix.
  const patches: string[] = [];
  for (const change of plan.changes) {
    const object = manifestOf(change);
    if (!change.exportPatch || !object || !change.target) continue;
    mkdirSync(join(dir, 'patches', ...(change.optional ? ['optional'] : [])), { recursive: true });
    const { metadata } = object;
    const patch = {
      ...object,
      metadata: { name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}) },
    };
    const rel = join('patches', ...(change.optional ? ['optional'] : []), fileName(change.target));
    writeFileSync(
      join(dir, rel),
      `# ${change.exportPatch}: apply this patch to the source, not only to the cluster\n${toYaml(patch)}`,
    );
    patches.push(rel);
  }
  // Manual changes: the artifact a person applies, next to its instructions in PLAN.md.
  const artifacts = artifactFiles(plan);
  for (const change of plan.changes) {
    const rel = artifacts.get(change.id);
    if (!rel || !change.artifact) continue;
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), change.artifact.content);
  }
  // The seal: computed over what is written, PLAN.md with its digest line blanked (it shows the digest).
  const object = JSON.parse(JSON.stringify(planJson(plan, artifacts))) as Record<string, unknown>;
  const blank = renderPlanMarkdown(plan, { digest: `sha256:${'0'.repeat(64)}`, artifactFiles: artifacts });
  const seal = computeSeal(dir, object, blankDigestLine(blank));
  const planFile = join(dir, 'plan.json');
  writeFileSync(
    planFile,
    `${JSON.stringify({ ...object, digest: seal.digest, digestEntries: seal.entries }, null, 2)}\n`,
  );
  const markdownFile = join(dir, 'PLAN.md');
  writeFileSync(markdownFile, renderPlanMarkdown(plan, { digest: seal.digest, artifactFiles: artifacts }));
  return {
    dir,
    planFile,
    markdownFile,
    manifests: manifests.sort(),
    patches: patches.sort(),
    artifacts: [...artifacts.values()].sort(),
    digest: seal.digest,
  };
}

function fail(file: string, message: string): never {
  throw new InputError(message, { file, hint: 'write the plan again with `kube-harden plan --out DIR`' });
}

/** Read and validate a saved plan. */
export function readPlanDir(dir: string): Plan {
  const file = join(dir, 'plan.json');
  if (!existsSync(file)) {
    throw new InputError(`no plan.json in ${dir}`, {
      hint: 'pass the directory written by `kube-harden plan --out DIR`',
    });
  }
  if (statSync(file).size > MAX_PLAN_BYTES) fail(file, 'plan.json is larger than 64 MiB');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(file, `not valid JSON: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== 'object') fail(file, 'not a plan object');
  if (raw.schemaVersion !== 1)
    fail(file, `unsupported schemaVersion ${JSON.stringify(raw.schemaVersion)} (this kube-harden reads 1)`);
  if (typeof raw.id !== 'string' || !/^[0-9A-Za-z-]+$/.test(raw.id)) fail(file, 'missing or invalid id');
  if (typeof raw.createdAt !== 'string') fail(file, 'missing createdAt');
  const source = raw.source as SourceInfo | undefined;
  if (!source || (source.kind !== 'cluster' && source.kind !== 'manifests')) fail(file, 'missing source');
  if (!Array.isArray(raw.changes)) fail(file, 'missing changes[]');
  const changes: PlannedChange[] = (raw.changes as Array<Record<string, unknown>>).map((c, i) => {
    const where = `changes[${i}]`;
    if (!c || typeof c !== 'object') fail(file, `${where} is not an object`);
    for (const key of ['id', 'step', 'kind', 'operation', 'risk'] as const) {
      if (typeof c[key] !== 'string') fail(file, `${where}.${key} is missing`);
    }
    if (!['apply', 'delete', 'manual'].includes(c.kind as string)) fail(file, `${where}.kind is invalid`);
    // The operation follows from the kind: an "apply" change that says "delete" would delete.
    const operations: Record<string, string[]> = {
      apply: ['create', 'update'],
      delete: ['delete'],
      manual: ['manual'],
    };
    if (!operations[c.kind as string]?.includes(c.operation as string))
      fail(file, `${where}.operation "${c.operation}" is not one of a ${c.kind} change's`);
    if (c.kind === 'manual') c.artifact = readArtifact(dir, file, where, c.artifact);
    if (c.kind !== 'manual') {
      const t = c.target as ObjectRef | undefined;
      if (
        !t ||
        typeof t.apiVersion !== 'string' ||
        typeof t.kind !== 'string' ||
        typeof t.name !== 'string'
      ) {
        fail(file, `${where}.target must have apiVersion, kind and name`);
      }
      if (c.baseResourceVersion !== null && typeof c.baseResourceVersion !== 'string') {
        fail(file, `${where}.baseResourceVersion must be a string or null`);
      }
    }
    if (c.kind === 'apply') {
      const d = c.desired as KubeObject | undefined;
      if (!d || typeof d !== 'object' || !d.metadata || typeof d.metadata.name !== 'string')
        fail(file, `${where}.desired is missing`);
      const t = c.target as ObjectRef;
      if (
        d.kind !== t.kind ||
        d.apiVersion !== t.apiVersion ||
        d.metadata.name !== t.name ||
        (d.metadata.namespace ?? undefined) !== (t.namespace ?? undefined)
      ) {
        fail(file, `${where}.desired does not match its target`);
      }
    }
    return {
      id: c.id as string,
      step: c.step as string,
      phase: typeof c.phase === 'number' ? c.phase : 0,
      kind: c.kind as PlannedChange['kind'],
      operation: c.operation as PlannedChange['operation'],
      ...(c.target ? { target: c.target as ObjectRef } : {}),
      risk: c.risk as PlannedChange['risk'],
      reason: typeof c.reason === 'string' ? c.reason : '',
      notes: Array.isArray(c.notes) ? (c.notes as string[]) : [],
      ...(c.desired ? { desired: c.desired as KubeObject } : {}),
      baseResourceVersion: (c.baseResourceVersion as string | null) ?? null,
      diff: (c.diff as PlannedChange['diff']) ?? { text: '', added: 0, removed: 0 },
      warnings: Array.isArray(c.warnings) ? (c.warnings as string[]) : [],
      preview: (c.preview as PlannedChange['preview']) ?? 'ok',
      ...(typeof c.previewError === 'string' ? { previewError: c.previewError } : {}),
      ...(c.artifact ? { artifact: c.artifact as { path: string; content: string } } : {}),
      ...(typeof c.instructions === 'string' ? { instructions: c.instructions } : {}),
      ...(typeof c.exportPatch === 'string' ? { exportPatch: c.exportPatch } : {}),
      ...(c.optional === true ? { optional: true } : {}),
    };
  });
  const ids = new Set<string>();
  for (const c of changes) {
    if (ids.has(c.id)) fail(file, `duplicate change id ${c.id}`);
    ids.add(c.id);
  }
  return {
    schemaVersion: 1,
    id: raw.id as string,
    createdAt: raw.createdAt as string,
    source: source as SourceInfo,
    ...(raw.serverVersion && typeof raw.serverVersion === 'string'
      ? { serverVersion: parseGitVersion(raw.serverVersion) }
      : {}),
    steps: Array.isArray(raw.steps) ? (raw.steps as Plan['steps']) : [],
    changes,
    unknown: Array.isArray(raw.unknown) ? (raw.unknown as Plan['unknown']) : [],
  };
}

const ARTIFACT_FILE = /^artifacts\/[a-z0-9][a-z0-9.-]*\/[a-z0-9][a-z0-9.-]*$/;

/** A manual change's artifact: its content from `artifacts/<step>/<file>` (plans written by `plan --out`). */
function readArtifact(dir: string, file: string, where: string, raw: unknown): PlannedChange['artifact'] {
  const a = raw as { path?: unknown; content?: unknown; file?: unknown } | undefined;
  if (!a || typeof a !== 'object' || typeof a.path !== 'string') fail(file, `${where}.artifact is missing`);
  if (typeof a.file !== 'string') {
    if (typeof a.content !== 'string') fail(file, `${where}.artifact has neither file nor content`);
    return { path: a.path, content: a.content };
  }
  if (!ARTIFACT_FILE.test(a.file) || a.file.includes('..'))
    fail(file, `${where}.artifact.file must be artifacts/<step>/<file>, got ${JSON.stringify(a.file)}`);
  const abs = join(dir, a.file);
  if (!existsSync(abs)) fail(file, `${where}.artifact.file ${a.file} is missing`);
  if (statSync(abs).size > MAX_PLAN_BYTES) fail(file, `${a.file} is larger than 64 MiB`);
  return { path: a.path, content: readFileSync(abs, 'utf8'), file: a.file };
}

/**
 * Check the plan's seal: the digest recorded in plan.json (and shown in PLAN.md) must be the digest of what is in
 * DIR now, and `expect` (the reviewed digest, `--expect-digest`) when given. Returns the digest; refuses (exit 6)
 * naming the first entry that differs.
 */
export function verifyPlanSeal(dir: string, expect?: string): string {
  const file = join(dir, 'plan.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const recorded = typeof raw.digest === 'string' ? raw.digest : undefined;
  const refuse = (message: string): never => {
    throw new InputError(`refusing plan ${dir}: ${message}`, {
      hint: 'apply only the plan that was reviewed: write it again with `kube-harden plan --out DIR` and review it',
    });
  };
  if (!recorded) refuse('plan.json has no digest (made by an older kube-harden, or edited)');
  const mdPath = join(dir, 'PLAN.md');
  const markdown = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : undefined;
  const seal = computeSeal(dir, raw, markdown === undefined ? undefined : blankDigestLine(markdown));
  if (seal.digest !== recorded) {
    const entries = Array.isArray(raw.digestEntries) ? (raw.digestEntries as DigestEntry[]) : [];
    refuse(`it changed after it was sealed: ${firstDifference(entries, seal.entries)}`);
  }
  const shown = markdown ? DIGEST_LINE.exec(markdown)?.[0] : undefined;
  if (shown !== digestLine(seal.digest)) refuse("PLAN.md does not show plan.json's digest");
  if (expect && expect !== seal.digest) {
    throw new InputError(`refusing plan ${dir}: its digest is ${seal.digest}, not the reviewed ${expect}`, {
      hint: 'apply the plan that was reviewed, or review this one',
    });
  }
  return seal.digest;
}

function parseGitVersion(v: string): { major: number; minor: number; gitVersion: string } {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return { major: Number(m?.[1] ?? 1), minor: Number(m?.[2] ?? 0), gitVersion: v };
}

/**
 * Offline, the cluster's Kubernetes version is unknown: say so, and which Pod Security version the labels pin
 * (`--psa-version`, else the newest version the evaluator implements), so a reviewer can check it against the
 * cluster the plan is for.
 */
function offlinePinNote(plan: Plan): string {
  const versions = new Set<string>();
  for (const c of plan.changes) {
    const labels = (c.desired?.metadata.labels ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(labels))
      if (k.startsWith('pod-security.kubernetes.io/') && k.endsWith('-version')) versions.add(v);
  }
  const pinned = [...versions].sort();
  return ` The cluster's Kubernetes version is unknown${
    pinned.length > 0
      ? `: Pod Security versions are pinned to ${pinned.map((v) => `\`${v}\``).join(', ')} (\`--psa-version\`, else the newest version this kube-harden implements); check the cluster runs at least that minor, or plan again with \`--psa-version\``
      : ''
  }.`;
}
