/** The marks kube-harden leaves on every object it writes (DESIGN safety rule 5). */
import type { KubeObject } from '../k8s/types.js';

export const FIELD_MANAGER = 'kube-harden';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const RUN_ANNOTATION = 'kube-harden.io/run-id';
export const STEP_ANNOTATION = 'kube-harden.io/step';
const BOOKKEEPING_ANNOTATIONS = [RUN_ANNOTATION, STEP_ANNOTATION];

/**
 * Add the managed-by label and the run/step annotations to an apply configuration. The label is only claimed
 * when the live object does not already name another manager (overwriting `managed-by: Helm` would break Helm's
 * ownership checks); the annotations always record the run.
 */
export function withBookkeeping(
  desired: KubeObject,
  live: KubeObject | undefined,
  runId: string,
  step: string,
): KubeObject {
  const liveManager = live?.metadata.labels?.[MANAGED_BY_LABEL];
  const claimLabel = liveManager === undefined || liveManager === 'kube-harden';
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      labels: { ...desired.metadata.labels, ...(claimLabel ? { [MANAGED_BY_LABEL]: 'kube-harden' } : {}) },
      annotations: { ...desired.metadata.annotations, [RUN_ANNOTATION]: runId, [STEP_ANNOTATION]: step },
    },
  };
}

/** The object without kube-harden's own bookkeeping, to tell a real change from a re-stamp. */
export function withoutBookkeeping<T extends Record<string, unknown> | undefined>(object: T): T {
  if (!object) return object;
  const meta = { ...((object.metadata as Record<string, unknown>) ?? {}) };
  const labels = { ...((meta.labels as Record<string, string>) ?? {}) };
  if (labels[MANAGED_BY_LABEL] === 'kube-harden') delete labels[MANAGED_BY_LABEL];
  const annotations = { ...((meta.annotations as Record<string, string>) ?? {}) };
  for (const a of BOOKKEEPING_ANNOTATIONS) delete annotations[a];
  meta.labels = labels;
  meta.annotations = annotations;
  if (Object.keys(labels).length === 0) delete meta.labels;
  if (Object.keys(annotations).length === 0) delete meta.annotations;
  return { ...object, metadata: meta };
}
