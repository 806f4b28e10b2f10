/**
 * The server's side of registries-enforce's gate: a cross-check of kube-harden's evaluation (snapshot.ts) with
 * the admission policy actually in place.
 *
 * A ValidatingAdmissionPolicy has no "evaluate existing objects" API, and a dry-run no-op update of a workload
 * proves nothing: the policy does not check again an image the object already had (so controllers can scale and
 * clean up what was admitted before it). What the server does judge in full is a create. So for each top-level
 * workload in scope (one per controller, never per Pod; identical ones share a probe) kube-harden dry-run-creates
 * a probe: a Deployment (replicas 0, a generated name) in the workload's namespace with the workload's labels and,
 * as its containers and init containers, every image the Snapshot found for it (template and live pods; ephemeral
 * containers of live pods as containers, which a template cannot hold) — plus one control container whose image
 * no allow-list admits. Nothing is persisted. The policy in place answers with a Warning (binding [Warn, Audit])
 * or a refusal (binding [Deny, Audit]) naming every container it would deny:
 * - the control container must be named, else the policy did not act on the probe (the binding does not cover
 *   the namespace or the workload's labels, or the policy is not active yet): that workload is not cross-checked;
 * - every other container is compared with kube-harden's verdict for its image under the same allow-list: any
 *   difference is a disagreement, reported with both verdicts.
 */
import type { Snapshot, Workload } from '../../inventory/types.js';
import type { KubeObject } from '../../k8s/types.js';
import { imageVerdict, POLICY_NAME } from './allow-list.js';
import { type ContainerKind, type ImageUse, imageUses } from './snapshot.js';

/** The control container's image: a reserved (RFC 2606) host no allow-list can sensibly hold. */
export const CONTROL_IMAGE = 'kube-harden.invalid/xcheck-control:0';
export const CONTROL_CONTAINER = 'kh-control';
const PROBE_LABEL = 'kube-harden.io/registries-xcheck';

export interface ProbeSlot {
  /** The probe's container name (`c0`, `c1`, …). */
  container: string;
  /** Where the image sits in the probe: a template holds no ephemeral containers. */
  slot: 'containers' | 'initContainers';
  image: string;
  /** The workloads' uses of this image (kind of container and name as found). */
  uses: ImageUse[];
}

export interface Probe {
  namespace: string;
  /** The workloads this probe stands for (same namespace, labels and images). */
  workloads: Array<Pick<Workload, 'kind' | 'name'>>;
  slots: ProbeSlot[];
  object: KubeObject;
}

/** FNV-1a, 32 bits, as 8 hex digits: a stable probe name (nothing is persisted, so collisions are harmless). */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

const slotOf = (k: ContainerKind): ProbeSlot['slot'] =>
  k === 'initContainer' ? 'initContainers' : 'containers';

/** One probe per top-level workload with images in `namespaces` (identical workloads share one). */
export function registryProbes(snapshot: Snapshot, namespaces: ReadonlySet<string>): Probe[] {
  const byWorkload = new Map<string, ImageUse[]>();
  for (const u of imageUses(snapshot, namespaces)) {
    const key = `${u.namespace}\0${u.kind}\0${u.name}`;
    byWorkload.set(key, [...(byWorkload.get(key) ?? []), u]);
  }
  const probes = new Map<string, Probe>();
  for (const [key, uses] of byWorkload) {
    const [namespace, kind, name] = key.split('\0') as [string, Workload['kind'], string];
    const w = snapshot.workloads.find((x) => x.namespace === namespace && x.kind === kind && x.name === name);
    const labels = w?.labels ?? {};
    const slots: ProbeSlot[] = [];
    for (const u of uses) {
      const slot = slotOf(u.containerKind);
      const found = slots.find((s) => s.slot === slot && s.image === u.image);
      if (found) found.uses.push(u);
      else slots.push({ container: '', slot, image: u.image, uses: [u] });
    }
    slots.sort((a, b) => (a.slot + a.image < b.slot + b.image ? -1 : 1));
    const identity = JSON.stringify([
      namespace,
      Object.entries(labels).sort(),
      slots.map((s) => [s.slot, s.image]),
    ]);
    const existing = probes.get(identity);
    if (existing) {
      existing.workloads.push({ kind, name });
      for (const [i, s] of slots.entries()) existing.slots[i]?.uses.push(...s.uses);
      continue;
    }
    slots.forEach((s, i) => {
      s.container = `c${i}`;
    });
    const id = hash(identity);
    const containers = (which: ProbeSlot['slot']) =>
      slots.filter((s) => s.slot === which).map((s) => ({ name: s.container, image: s.image }));
    const object = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `kh-xcheck-${id}`, namespace, labels: { ...labels } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { [PROBE_LABEL]: id } },
        template: {
          metadata: { labels: { [PROBE_LABEL]: id } },
          spec: {
            ...(containers('initContainers').length ? { initContainers: containers('initContainers') } : {}),
            containers: [...containers('containers'), { name: CONTROL_CONTAINER, image: CONTROL_IMAGE }],
          },
        },
      },
    } as unknown as KubeObject;
    probes.set(identity, { namespace, workloads: [{ kind, name }], slots, object });
  }
  return [...probes.values()];
}

/** The probe containers kube-harden's policy names in a Warning or refusal (only this policy's messages). */
export function namedByPolicy(texts: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const text of texts) {
    if (!text.includes(`'${POLICY_NAME}'`)) continue;
    const at = text.indexOf('images from registries that are not allowed: ');
    if (at < 0) continue;
    for (const m of text
      .slice(at)
      .matchAll(/(?:container|initContainer|ephemeralContainer) (c\d+|kh-control) uses /g))
      out.add(m[1] as string);
  }
  return out;
}

export type Verdict = 'denied' | 'admitted';

export interface Disagreement {
  use: ImageUse;
  /** kube-harden's evaluation of the Snapshot, and why. */
  snapshot: Verdict;
  reason: string;
  /** The API server's answer for the probe. */
  server: Verdict;
}

export interface Unchecked {
  namespace: string;
  workloads: Array<Pick<Workload, 'kind' | 'name'>>;
  reason: string;
}

export interface CrossCheck {
  /** Workloads the server judged (their probes carried the control container's denial). */
  checked: number;
  /** Of which the server would deny at least one image. */
  deniedByServer: ImageUse[];
  disagreements: Disagreement[];
  unchecked: Unchecked[];
  /** Dry-run requests sent. */
  requests: number;
}

/** What the server answered for one probe, as texts: its Warning headers, and a refusal's message. */
export interface ProbeAnswer {
  texts: string[];
  /** Set when the request failed for a reason other than this policy's refusal. */
  error?: string;
}

/** Compare the server's answers with kube-harden's verdicts under `entries` (the allow-list in place). */
export function compareProbes(
  probes: readonly Probe[],
  answers: readonly ProbeAnswer[],
  entries: readonly string[],
): CrossCheck {
  const out: CrossCheck = {
    checked: 0,
    deniedByServer: [],
    disagreements: [],
    unchecked: [],
    requests: probes.length,
  };
  probes.forEach((probe, i) => {
    const answer = answers[i];
    const named = namedByPolicy(answer?.texts ?? []);
    if (!answer || !named.has(CONTROL_CONTAINER)) {
      out.unchecked.push({
        namespace: probe.namespace,
        workloads: probe.workloads,
        reason: answer?.error
          ? `the API server's dry-run failed: ${answer.error}`
          : `the policy in place did not act on a probe in ${probe.namespace} (no ${POLICY_NAME} warning for the control image): its binding does not cover this namespace or these labels, or it is not active yet`,
      });
      return;
    }
    out.checked += probe.workloads.length;
    for (const s of probe.slots) {
      const v = imageVerdict(s.image, entries);
      const server: Verdict = named.has(s.container) ? 'denied' : 'admitted';
      const mine: Verdict = v.allowed ? 'admitted' : 'denied';
      if (server === 'denied') out.deniedByServer.push(...s.uses);
      if (server !== mine)
        for (const use of s.uses) out.disagreements.push({ use, snapshot: mine, reason: v.reason, server });
    }
  });
  return out;
}

/** `Deployment shop/api: container app uses x — kube-harden: denied (…); the API server: admitted`. */
export function describeDisagreement(d: Disagreement): string {
  const u = d.use;
  return `${u.kind} ${u.namespace}/${u.name}${u.pod ? ` (pod ${u.pod})` : ''}: ${u.containerKind} ${u.container} uses ${u.image || '(no image)'} — kube-harden's evaluation: ${d.snapshot} (${d.reason}); the API server's dry-run of the policy in place: ${d.server}`;
}
