/**
 * Saved plans: `DIR/plan.json` (the contract a reviewer approves; see docs/plan-schema.md), `DIR/manifests/NN-<step>/`
 * (one kubectl-apply-able object per file) and `DIR/PLAN.md` (why, impact, rollback and the diffs per step, for a
 * pull request). `readPlanDir` validates a plan before anything is applied from it.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { KubeObject, ObjectRef, SourceInfo } from '../k8s/types.js';
import { redact, toYaml } from './normalize.js';
import type { Plan, PlannedChange } from './types.js';

const MAX_PLAN_BYTES = 64 * 1024 * 1024;

export function planJson(plan: Plan): Record<string, unknown> {
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
      ...(c.artifact ? { artifact: c.artifact } : {}),
      ...(c.instructions ? { instructions: c.instructions } : {}),
      ...(c.exportPatch ? { exportPatch: c.exportPatch } : {}),
      ...(c.optional ? { optional: true } : {}),
    })),
    unknown: plan.unknown,
  };
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

export function renderPlanMarkdown(plan: Plan): string {
  const lines: string[] = [];
  const src = plan.source;
  lines.push(`# kube-harden plan ${plan.id}`, '');
  lines.push(
    src.kind === 'cluster'
      ? `Cluster: context \`${src.context}\`, server \`${src.server}\`${plan.serverVersion ? `, Kubernetes ${plan.serverVersion.gitVersion}` : ''}.`
      : `Manifests: \`${src.path}\` (offline; no server-side dry-run).`,
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
      lines.push(`### ${c.operation} ${name} (+${c.diff.added} −${c.diff.removed})`, '');
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
      if (c.instructions) lines.push(c.instructions, '');
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
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, `${JSON.stringify(planJson(plan), null, 2)}\n`);
  const markdownFile = join(dir, 'PLAN.md');
  writeFileSync(markdownFile, renderPlanMarkdown(plan));
  return { dir, planFile, markdownFile, manifests: manifests.sort(), patches: patches.sort() };
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

function parseGitVersion(v: string): { major: number; minor: number; gitVersion: string } {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return { major: Number(m?.[1] ?? 1), minor: Number(m?.[2] ?? 0), gitVersion: v };
}
