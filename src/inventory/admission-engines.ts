/**
 * Admission engines (phase 5, issue 13): whether Kyverno or Gatekeeper is installed, so that the registries steps
 * can offer the engine's native policy instead of a ValidatingAdmissionPolicy. Installed = its policy CRD is served
 * AND its controller (the admission webhook) runs; either alone is not enough (a CRD left behind by an uninstall
 * accepts policies that nothing enforces).
 *
 * Reads (targeted, cluster-wide, whatever the run's namespaces):
 * - the CRDs by name: `clusterpolicies.kyverno.io`, `constrainttemplates.templates.gatekeeper.sh` (a 404 is absent;
 *   a refusal or error is unknown — never absent);
 * - only when a CRD is there: the Deployments cluster-wide, projected at once to the few whose image is the
 *   engine's admission controller (`kyverno/kyverno`, `openpolicyagent/gatekeeper`, any registry), with their ready
 *   replicas. A refused list leaves the controller unknown.
 */
import { ClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { map, objectItems } from '../k8s/json.js';
import { Kinds } from '../k8s/kinds.js';
import { parseImage } from '../policy/images.js';

export type EngineName = 'kyverno' | 'gatekeeper';

export interface EngineFacts {
  /** The engine's policy CRD: served, not there, or could not be read. */
  crd: 'present' | 'absent' | 'unknown';
  /** The versions the CRD serves (e.g. `v1`, `v2beta1`), when present. */
  crdVersions?: string[];
  /** Its admission controller: a Deployment with a ready replica, one with none, none at all, or not read. */
  controller: 'ready' | 'not-ready' | 'absent' | 'unknown';
  /** `Deployment kyverno/kyverno-admission-controller (1/1 ready, image …)`. */
  controllerDetail?: string;
  /** Why something is unknown. */
  reason?: string;
}

export interface AdmissionEngineFacts {
  kyverno: EngineFacts;
  gatekeeper: EngineFacts;
}

export const ENGINE_CRDS: Readonly<Record<EngineName, string>> = {
  kyverno: 'clusterpolicies.kyverno.io',
  gatekeeper: 'constrainttemplates.templates.gatekeeper.sh',
};

/** The repository (registry dropped) of each engine's admission controller image. */
const CONTROLLER_IMAGE: Readonly<Record<EngineName, RegExp>> = {
  kyverno: /^kyverno\/kyverno$/,
  gatekeeper: /^openpolicyagent\/gatekeeper$/,
};

export const ENGINE_TITLES: Readonly<Record<EngineName, string>> = {
  kyverno: 'Kyverno',
  gatekeeper: 'Gatekeeper',
};

/** Installed: the CRD is served and the controller has a ready replica. */
export function engineInstalled(f: EngineFacts | undefined): boolean {
  return f?.crd === 'present' && f.controller === 'ready';
}

/** Not known to be installed or not: something needed could not be read (and nothing read says absent). */
export function engineUnknown(f: EngineFacts | undefined): boolean {
  if (!f) return true;
  if (f.crd === 'absent' || f.controller === 'absent' || f.controller === 'not-ready') return false;
  return f.crd === 'unknown' || f.controller === 'unknown';
}

/** One line: `Kyverno: installed (Deployment kyverno/… 1/1 ready)`. */
export function describeEngine(name: EngineName, f: EngineFacts | undefined): string {
  const title = ENGINE_TITLES[name];
  if (!f) return `${title}: not read (a snapshot from before admission engines were read)`;
  if (engineInstalled(f)) return `${title}: installed (${f.controllerDetail ?? ENGINE_CRDS[name]})`;
  if (f.crd === 'absent') return `${title}: not installed (no CRD ${ENGINE_CRDS[name]})`;
  if (f.crd === 'unknown')
    return `${title}: unknown (CRD ${ENGINE_CRDS[name]} could not be read: ${f.reason})`;
  if (f.controller === 'absent')
    return `${title}: CRD ${ENGINE_CRDS[name]} present but no controller runs (nothing would enforce its policies)`;
  if (f.controller === 'not-ready') return `${title}: controller not ready (${f.controllerDetail})`;
  return `${title}: CRD present, controller unknown (${f.reason})`;
}

const FATAL = ['Unauthorized', 'Connection', 'TLS', 'NotKubernetes'];

async function crdOf(
  reader: ClusterReader,
  name: string,
  signal: AbortSignal | undefined,
): Promise<Pick<EngineFacts, 'crd' | 'crdVersions' | 'reason'>> {
  try {
    const { value } = await reader.get(
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name },
      signal,
    );
    if (!value) return { crd: 'absent' };
    const versions = objectItems(map(value.spec).versions)
      .filter((v) => v.served !== false)
      .map((v) => String(v.name ?? ''))
      .filter(Boolean);
    return { crd: 'present', crdVersions: versions };
  } catch (error) {
    if (!(error instanceof ClusterError) || FATAL.includes(error.reason)) throw error;
    // The manifests source knows no CRD unless it is among the files: it answers NotFound-like `undefined`.
    return { crd: 'unknown', reason: `${error.reason}: ${error.message}` };
  }
}

/** Reads what decides whether Kyverno and Gatekeeper are installed (see the file comment). */
export async function collectAdmissionEngines(
  reader: ClusterReader,
  signal?: AbortSignal,
): Promise<AdmissionEngineFacts> {
  const [kyverno, gatekeeper] = await Promise.all([
    crdOf(reader, ENGINE_CRDS.kyverno, signal),
    crdOf(reader, ENGINE_CRDS.gatekeeper, signal),
  ]);
  const out: AdmissionEngineFacts = {
    kyverno: { ...kyverno, controller: 'unknown' },
    gatekeeper: { ...gatekeeper, controller: 'unknown' },
  };
  const wanted = (['kyverno', 'gatekeeper'] as const).filter((e) => out[e].crd === 'present');
  if (wanted.length === 0) {
    // No CRD (or unreadable): the controller is not looked for; absent when the CRD is.
    for (const e of ['kyverno', 'gatekeeper'] as const)
      if (out[e].crd === 'absent') out[e].controller = 'absent';
    return out;
  }
  const found: Record<EngineName, string[]> = { kyverno: [], gatekeeper: [] };
  const ready: Record<EngineName, boolean> = { kyverno: false, gatekeeper: false };
  try {
    for await (const page of reader.list(Kinds.Deployment, signal ? { signal } : {})) {
      if (page.restarted && page.index === 1)
        for (const e of wanted) {
          found[e] = [];
          ready[e] = false;
        }
      for (const item of page.items) {
        const spec = map(map(map(item.spec).template).spec);
        const images = objectItems(spec.containers).map((c) => String(c.image ?? ''));
        for (const e of wanted) {
          const image = images.find((i) => CONTROLLER_IMAGE[e].test(parseImage(i).repository));
          if (!image) continue;
          const status = map(item.status);
          const readyReplicas = Number(status.readyReplicas ?? 0);
          const replicas = Number(map(item.spec).replicas ?? 1);
          if (readyReplicas > 0) ready[e] = true;
          found[e].push(
            `Deployment ${item.metadata.namespace}/${item.metadata.name} (${readyReplicas}/${replicas} ready, image ${image})`,
          );
        }
      }
    }
    for (const e of wanted) {
      out[e].controller = found[e].length === 0 ? 'absent' : ready[e] ? 'ready' : 'not-ready';
      if (found[e].length) out[e].controllerDetail = found[e].sort().join('; ');
    }
  } catch (error) {
    if (!(error instanceof ClusterError) || FATAL.includes(error.reason)) throw error;
    for (const e of wanted) out[e].reason = `deployments could not be listed (${error.reason})`;
  }
  for (const e of ['kyverno', 'gatekeeper'] as const)
    if (out[e].crd === 'absent') out[e].controller = 'absent';
  return out;
}
