/**
 * Normalization before diffing or printing: server-owned fields stripped, keys sorted, Secret values masked
 * (kubectl diff's `***`, `*** (before)`, `*** (after)` so a change stays visible — kubernetes/kubernetes#96084).
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { KubeObject } from '../k8s/types.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SERVER_OWNED_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
] as const;

export function isSecret(object: { apiVersion?: string; kind?: string } | undefined): boolean {
  return object?.kind === 'Secret' && (object.apiVersion === 'v1' || object.apiVersion === undefined);
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortDeep((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** A copy without server-owned fields, keys sorted. Secrets are NOT masked here: see `maskSecretPair`. */
export function normalize(object: KubeObject | undefined): Record<string, unknown> | undefined {
  if (!object) return undefined;
  const { status: _status, metadata, ...rest } = object;
  const meta: Record<string, unknown> = { ...metadata };
  for (const key of SERVER_OWNED_METADATA) delete meta[key];
  if (meta.annotations && typeof meta.annotations === 'object') {
    const annotations = { ...(meta.annotations as Record<string, string>) };
    delete annotations[LAST_APPLIED];
    if (Object.keys(annotations).length === 0) delete meta.annotations;
    else meta.annotations = annotations;
  }
  return sortDeep({ ...rest, metadata: meta }) as Record<string, unknown>;
}

function maskMap(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): [Record<string, string> | undefined, Record<string, string> | undefined] {
  if (!before && !after) return [undefined, undefined];
  const b: Record<string, string> = {};
  const a: Record<string, string> = {};
  for (const key of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
    const inB = before !== undefined && key in before;
    const inA = after !== undefined && key in after;
    if (inB && inA) {
      const same = before?.[key] === after?.[key];
      b[key] = same ? '***' : '*** (before)';
      a[key] = same ? '***' : '*** (after)';
    } else if (inB) {
      b[key] = '***';
    } else {
      a[key] = '***';
    }
  }
  return [before ? b : undefined, after ? a : undefined];
}

/** Mask a (before, after) pair of normalized objects when they are Secrets. Other kinds pass through. */
export function maskSecretPair(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): [Record<string, unknown> | undefined, Record<string, unknown> | undefined] {
  if (!isSecret(before as KubeObject) && !isSecret(after as KubeObject)) return [before, after];
  const b = before ? { ...before } : undefined;
  const a = after ? { ...after } : undefined;
  for (const field of ['data', 'stringData'] as const) {
    const [mb, ma] = maskMap(
      before?.[field] as Record<string, unknown>,
      after?.[field] as Record<string, unknown>,
    );
    if (b && mb) b[field] = mb;
    if (a && ma) a[field] = ma;
  }
  return [b, a];
}

/** Any object made safe to print or store: Secrets lose their values and last-applied annotation. */
export function redact(object: KubeObject): KubeObject {
  if (!isSecret(object)) return object;
  const [masked] = maskSecretPair(normalize(object), undefined);
  // Keep the identity fields normalize drops (resourceVersion, uid…), but never the last-applied annotation.
  const { annotations, ...meta } = object.metadata;
  const kept = { ...(annotations ?? {}) };
  delete kept[LAST_APPLIED];
  return {
    ...(masked as KubeObject),
    metadata: {
      ...meta,
      ...(Object.keys(kept).length ? { annotations: kept } : {}),
    } as KubeObject['metadata'],
  };
}

/** The hash journals keep instead of a Secret's before-image. */
export function secretHash(object: KubeObject): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(sortDeep(object)))
    .digest('hex')}`;
}

/** Deterministic YAML (sorted keys; no line folding). */
export function toYaml(value: unknown): string {
  return stringify(sortDeep(value), { lineWidth: 0, sortMapEntries: true });
}
