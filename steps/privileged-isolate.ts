/**
 * Phase 2, a manual change: move the workloads that need Pod Security privileged out of a shared application
 * namespace into one of their own (`<ns>-privileged`), so that the workloads left behind can be enforced. PSA is
 * per namespace and cannot exempt one workload (KH-PSS-PRIVILEGED-IN-APP-NS, src/policy/privileged-namespaces.ts).
 *
 * Moving a workload changes its identity (namespace, DNS names, RBAC subjects, what NetworkPolicies select), and
 * what it references must exist in the new namespace first, so kube-harden never does it: each shared namespace gets
 * one artifact — the new Namespace (templates/psa/namespace-privileged.yaml: enforce privileged, warn and audit
 * baseline) and each moved workload (its own spec, read from the source, namespace changed, server-owned fields left
 * out) — and exact instructions naming the ServiceAccount, ConfigMaps, Secrets, volume claims, Services and
 * bindings to carry over. Secret values are never read: Secrets are named, to be re-created from their source;
 * literal env values and flags named like credentials are left out of the copy (rule 3).
 *
 * Default, not opt-in: it writes nothing to the cluster (risk manual), and a plan that shows the finding should
 * carry its remedy for review. Excepting KH-PSS-PRIVILEGED-IN-APP-NS for a workload drops its move.
 */

import { stringify } from 'yaml';
import { LAST_APPLIED } from '../src/engine/normalize.js';
import type { Change, Step, StepFinding } from '../src/engine/types.js';
import { redactArgs } from '../src/inventory/project.js';
import { inScope } from '../src/inventory/scope.js';
import type { BindingInfo, ManagedBy, ServiceLite, WorkloadKind } from '../src/inventory/types.js';
import { isMap, type Json, list, map } from '../src/k8s/json.js';
import type { KubeObject, ObjectRef } from '../src/k8s/types.js';
import { matchesSelector } from '../src/policy/network.js';
import { sharedPrivileged } from '../src/policy/privileged-namespaces.js';
import { finding } from './kit/findings.js';
import { pinnedVersion } from './kit/psa.js';
import { renderObjectTemplate } from './kit/templates.js';
import { templatePath } from './kit/workloads.js';

export const CONTROL = 'KH-PSS-PRIVILEGED-IN-APP-NS';

/** Something the moved workload names that must exist in the new namespace before it starts. */
export interface Reference {
  kind: 'ServiceAccount' | 'ConfigMap' | 'Secret' | 'PersistentVolumeClaim' | 'Service';
  name: string;
  /** Where it is named, for people: `volume config`, `env DB_URL of container app`, `imagePullSecrets`. */
  via: string[];
}

export interface MovedWorkload {
  kind: WorkloadKind;
  name: string;
  /** The baseline checks it fails. */
  checks: string[];
  /** Its manifest for the new namespace; absent when it could not be read (then the change says so). */
  manifest?: KubeObject;
  references: Reference[];
  /** Literal values left out of the copy (credential-like env values and flags): copy them from the source. */
  redacted: string[];
  /** RoleBindings and ClusterRoleBindings that name its ServiceAccount. */
  bindings: string[];
  managedBy: ManagedBy[];
}

export interface IsolateNamespace {
  name: string;
  isolated: string;
  /** Workloads that stay and can be enforced once the moved ones are gone. */
  others: Array<{ kind: WorkloadKind; name: string }>;
  /** NetworkPolicies of the source namespace (they do not follow the workloads). */
  networkPolicies: number;
  workloads: MovedWorkload[];
}

export interface IsolateFacts {
  version: string;
  enforcedAt: string;
  namespaces: IsolateNamespace[];
}

const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'ownerReferences',
  'finalizers',
];
/** Annotations controllers write on the objects they manage. */
const SERVER_ANNOTATIONS = [LAST_APPLIED, 'deployment.kubernetes.io/revision'];
/** Labels (and selector keys) the Job controller generates; a Job created with them is refused. */
const JOB_GENERATED = [
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'job-name',
  'batch.kubernetes.io/job-name',
];
/** An env var named like a credential: its literal value is not copied. */
const CREDENTIAL_NAME = /(token|passw(or)?d|secret|credential|api[-_]?key|private[-_]?key)/i;
export const REDACTED = '<redacted by kube-harden: copy this value from the source workload>';

const clone = <T>(v: T): T => structuredClone(v);

function addRef(refs: Reference[], kind: Reference['kind'], name: unknown, via: string): void {
  if (typeof name !== 'string' || name === '') return;
  const found = refs.find((r) => r.kind === kind && r.name === name);
  if (found) {
    if (!found.via.includes(via)) found.via.push(via);
  } else refs.push({ kind, name, via: [via] });
}

/** What a pod spec names that lives in its namespace (ServiceAccount, ConfigMaps, Secrets, claims). */
export function podReferences(spec: Json): Reference[] {
  const refs: Reference[] = [];
  const sa = spec.serviceAccountName ?? spec.serviceAccount;
  addRef(refs, 'ServiceAccount', typeof sa === 'string' && sa !== '' ? sa : 'default', 'serviceAccountName');
  for (const s of list(spec.imagePullSecrets)) addRef(refs, 'Secret', s.name, 'imagePullSecrets');
  for (const v of list(spec.volumes)) {
    const via = `volume ${String(v.name)}`;
    addRef(refs, 'ConfigMap', map(v.configMap).name, via);
    addRef(refs, 'Secret', map(v.secret).secretName, via);
    addRef(refs, 'PersistentVolumeClaim', map(v.persistentVolumeClaim).claimName, via);
    for (const src of list(map(v.projected).sources)) {
      addRef(refs, 'ConfigMap', map(src.configMap).name, via);
      addRef(refs, 'Secret', map(src.secret).name, via);
    }
    for (const key of ['csi', 'cephfs', 'rbd', 'iscsi', 'flexVolume', 'azureFile', 'scaleIO', 'storageos']) {
      const ref = map(map(v[key]).secretRef ?? map(v[key]).nodePublishSecretRef);
      addRef(refs, 'Secret', ref.name, via);
    }
  }
  for (const listName of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of list(spec[listName])) {
      const of = `container ${String(c.name)}`;
      for (const e of list(c.env)) {
        const from = map(e.valueFrom);
        addRef(refs, 'ConfigMap', map(from.configMapKeyRef).name, `env ${String(e.name)} of ${of}`);
        addRef(refs, 'Secret', map(from.secretKeyRef).name, `env ${String(e.name)} of ${of}`);
      }
      for (const e of list(c.envFrom)) {
        addRef(refs, 'ConfigMap', map(e.configMapRef).name, `envFrom of ${of}`);
        addRef(refs, 'Secret', map(e.secretRef).name, `envFrom of ${of}`);
      }
    }
  }
  const order: Reference['kind'][] = [
    'ServiceAccount',
    'ConfigMap',
    'Secret',
    'PersistentVolumeClaim',
    'Service',
  ];
  return refs.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.name < b.name ? -1 : 1));
}

function podSpecOf(kind: WorkloadKind, object: Json): { template: Json; spec: Json } | undefined {
  let t: unknown = object;
  for (const p of templatePath(kind) ?? ['spec', 'template']) t = map(t)[p];
  if (!isMap(t) || !isMap(t.spec)) return undefined;
  return { template: t, spec: t.spec };
}

/** Literal credential-like values in a pod spec replaced by REDACTED (in place); returns what was replaced. */
function redactSpec(spec: Json): string[] {
  const out: string[] = [];
  for (const listName of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of list(spec[listName])) {
      const of = `container ${String(c.name)}`;
      for (const e of list(c.env)) {
        if (typeof e.value === 'string' && e.value !== '' && CREDENTIAL_NAME.test(String(e.name))) {
          e.value = REDACTED;
          out.push(`env ${String(e.name)} of ${of}`);
        }
      }
      for (const key of ['command', 'args'] as const) {
        if (!Array.isArray(c[key])) continue;
        const before = (c[key] as unknown[]).map(String);
        const after = redactArgs(before).map((a) => a.replaceAll('<redacted>', REDACTED));
        if (after.some((a, i) => a !== before[i])) {
          c[key] = after;
          out.push(`${key} of ${of}`);
        }
      }
    }
  }
  return out;
}

/**
 * The workload's manifest for `namespace`: the same spec, with what the API server and its controllers own left out
 * (status, uid, resourceVersion, managedFields, owner references, the last-applied annotation; a live bare Pod's
 * node and its injected token volume; a Job's generated selector and labels), and credential-like literals replaced.
 */
export function movedManifest(
  kind: WorkloadKind,
  source: KubeObject,
  namespace: string,
): { manifest: KubeObject; redacted: string[] } {
  const object = clone(source) as unknown as Json;
  delete object.status;
  const meta = map(object.metadata);
  for (const key of SERVER_METADATA) delete meta[key];
  meta.namespace = namespace;
  if (isMap(meta.annotations)) {
    for (const key of SERVER_ANNOTATIONS) delete meta.annotations[key];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
  object.metadata = meta;
  const pod = podSpecOf(kind, object);
  if (pod && kind === 'Pod') {
    delete pod.spec.nodeName;
    // The ServiceAccount admission plugin's projected token volume (kube-api-access-*): it adds its own again.
    const injected = new Set(
      list(pod.spec.volumes)
        .filter((v) => /^kube-api-access-[a-z0-9]+$/.test(String(v.name)) && isMap(v.projected))
        .map((v) => String(v.name)),
    );
    if (injected.size > 0) {
      pod.spec.volumes = list(pod.spec.volumes).filter((v) => !injected.has(String(v.name)));
      if ((pod.spec.volumes as Json[]).length === 0) delete pod.spec.volumes;
      for (const listName of ['initContainers', 'containers', 'ephemeralContainers']) {
        for (const c of list(pod.spec[listName])) {
          if (!Array.isArray(c.volumeMounts)) continue;
          c.volumeMounts = list(c.volumeMounts).filter((m) => !injected.has(String(m.name)));
          if ((c.volumeMounts as Json[]).length === 0) delete c.volumeMounts;
        }
      }
    }
  }
  if (pod && kind === 'Job' && map(object.spec).manualSelector !== true) {
    delete map(object.spec).selector;
    const labels = map(map(pod.template.metadata).labels);
    for (const key of JOB_GENERATED) delete labels[key];
  }
  const redacted = pod ? redactSpec(pod.spec) : [];
  return { manifest: object as unknown as KubeObject, redacted };
}

/** Services of the namespace whose selector picks the workload's pods (they must move with it). */
function servicesOf(
  services: readonly ServiceLite[],
  namespace: string,
  podLabels: Record<string, string>,
): string[] {
  return services
    .filter(
      (s) =>
        s.namespace === namespace &&
        s.selector !== undefined &&
        Object.keys(s.selector).length > 0 &&
        matchesSelector({ matchLabels: s.selector }, podLabels),
    )
    .map((s) => s.name)
    .sort();
}

function bindingsOf(bindings: readonly BindingInfo[], namespace: string, sa: string): string[] {
  return bindings
    .filter((b) =>
      b.subjects.some(
        (s) => s.kind === 'ServiceAccount' && s.name === sa && (s.namespace ?? b.namespace) === namespace,
      ),
    )
    .map(
      (b) =>
        `${b.kind} ${b.namespace ? `${b.namespace}/` : ''}${b.name} (${b.roleRef.kind} ${b.roleRef.name})`,
    )
    .sort();
}

function describeRefs(refs: readonly Reference[], kind: Reference['kind']): string {
  return refs
    .filter((r) => r.kind === kind)
    .map((r) => `${r.name} (${r.via.join('; ')})`)
    .join(', ');
}

/** The Namespace artifact (templates/psa/namespace-privileged.yaml). */
function namespaceArtifact(ns: IsolateNamespace, facts: IsolateFacts): string {
  const namespace = renderObjectTemplate('psa/namespace-privileged.yaml', {
    name: ns.isolated,
    version: facts.version,
    enforcedAt: facts.enforcedAt,
    source: ns.name,
  });
  return `# kube-harden privileged-isolate: the namespace of its own for the privileged workloads of ${ns.name}.\n${stringify(namespace, { lineWidth: 0 })}`;
}

/** The workloads artifact: each moved workload, one YAML document each. */
function workloadsArtifact(ns: IsolateNamespace): string {
  const moved = ns.workloads.filter((w) => w.manifest);
  const header = [
    `# kube-harden privileged-isolate: ${moved.map((w) => `${w.kind} ${w.name}`).join(', ')}, moved from ${ns.name} to ${ns.isolated}.`,
    `# Each is its own spec with the namespace changed and server-owned fields left out${moved.some((w) => w.redacted.length) ? `; literal values named like credentials are replaced by "${REDACTED}"` : ''}.`,
    '# Create what they reference first (the instructions of this change, in PLAN.md).',
  ];
  return `${header.join('\n')}\n${moved.map((w) => `---\n${stringify(w.manifest, { lineWidth: 0 })}`).join('')}`;
}

function instructionsOf(ns: IsolateNamespace, nsFile: string, file: string): string {
  const moved = ns.workloads.filter((w) => w.manifest);
  const refs = moved.flatMap((w) => w.references);
  const lines: string[] = [];
  let n = 0;
  const step = (s: string) => lines.push(`${++n}. ${s}`);
  step(
    `Create the namespace first: \`kubectl create -f ${nsFile}\` (change privileged-isolate/${ns.name}/namespace).`,
  );
  step(`Carry over what the workloads reference, into ${ns.isolated}:`);
  const sas = [...new Set(refs.filter((r) => r.kind === 'ServiceAccount').map((r) => r.name))].filter(
    (n) => n !== 'default',
  );
  if (sas.length)
    lines.push(
      `   - ServiceAccount ${sas.join(', ')}: \`kubectl get serviceaccount NAME -n ${ns.name} -o yaml\`, change metadata.namespace to ${ns.isolated}, drop uid/resourceVersion/creationTimestamp, create it.`,
    );
  const cms = describeRefs(refs, 'ConfigMap');
  if (cms)
    lines.push(`   - ConfigMaps ${cms}: copy them the same way (kubectl get -o yaml, namespace changed).`);
  const secrets = describeRefs(refs, 'Secret');
  if (secrets)
    lines.push(
      `   - Secrets ${secrets}: re-create them in ${ns.isolated} from their source of truth (secret manager, SealedSecret, ExternalSecret, CI variables). kube-harden does not read or copy Secret values.`,
    );
  const pvcs = describeRefs(refs, 'PersistentVolumeClaim');
  if (pvcs)
    lines.push(
      `   - PersistentVolumeClaims ${pvcs}: a claim and its data stay in ${ns.name}; create new claims in ${ns.isolated} and move the data (backup/restore, or re-bind the PersistentVolume: set persistentVolumeReclaimPolicy Retain, delete the old claim, clear the volume's claimRef, bind a new claim by volumeName).`,
    );
  if (moved.some((w) => w.kind === 'StatefulSet'))
    lines.push(
      `   - StatefulSet volumeClaimTemplates create new, empty claims in ${ns.isolated}: move the data first.`,
    );
  const services = moved.flatMap((w) =>
    w.references.filter((r) => r.kind === 'Service').map((r) => `${r.name} (selects ${w.kind} ${w.name})`),
  );
  if (services.length)
    lines.push(
      `   - Services ${[...new Set(services)].join(', ')}: a Service only routes to pods of its own namespace: re-create them in ${ns.isolated}, and point clients at NAME.${ns.isolated}.svc.`,
    );
  const bindings = [...new Set(moved.flatMap((w) => w.bindings))];
  if (bindings.length)
    lines.push(
      `   - RBAC: ${bindings.join('; ')} bind the ServiceAccount of ${ns.name}: add the ServiceAccount of ${ns.isolated} as a subject (a RoleBinding grants only in its own namespace: re-create it in ${ns.isolated}, subject namespace changed).`,
    );
  if (ns.networkPolicies > 0)
    lines.push(
      `   - NetworkPolicies: ${ns.networkPolicies} in ${ns.name} do not apply in ${ns.isolated}; add them there (phase 3: kube-harden plan --step network-default-deny -n ${ns.isolated}), and allow traffic between the two namespaces where the workloads talk.`,
    );
  const redacted = moved.flatMap((w) => w.redacted.map((r) => `${w.kind} ${w.name}: ${r}`));
  if (redacted.length)
    lines.push(
      `   - Literal values left out of the copy (${redacted.join('; ')}): copy them from the source workload (better: move them into a Secret).`,
    );
  step(
    `Check the workloads against the API server: \`kubectl create -f ${file} --dry-run=server\`; then create them (\`kubectl create -f ${file}\`) and wait until they are ready: ${moved
      .map((w) =>
        w.kind === 'Deployment' || w.kind === 'StatefulSet' || w.kind === 'DaemonSet'
          ? `\`kubectl rollout status ${w.kind.toLowerCase()}/${w.name} -n ${ns.isolated}\``
          : `\`kubectl get ${w.kind.toLowerCase()} ${w.name} -n ${ns.isolated}\``,
      )
      .join(', ')}.`,
  );
  step(
    `Delete the originals: ${moved.map((w) => `\`kubectl delete ${w.kind.toLowerCase()} ${w.name} -n ${ns.name}\``).join(', ')}.`,
  );
  const sources = [...new Set(moved.flatMap((w) => w.managedBy.map((m) => m.detail)))];
  step(
    `Change the source of truth (manifests in Git${sources.length ? `, ${sources.join(', ')}` : ', Helm values, Argo CD or Flux'}) to the new namespace, or the next sync brings them back to ${ns.name}.`,
  );
  step(
    `Record an exception for each moved workload in ${ns.isolated} (controls KH-PSS-BASELINE, an owner, an expiry date): the namespace is an exemption, reviewed in phase 7.`,
  );
  step(
    `Then ${ns.name} can be enforced: kube-harden plan --step psa-enforce -n ${ns.name} (after kube-harden migrate -n ${ns.name} for what still fails restricted).`,
  );
  return lines.join('\n');
}

export const privilegedIsolate: Step<IsolateFacts> = {
  id: 'privileged-isolate',
  phase: 2,
  title: 'Privileged workloads to a namespace of their own',
  summary:
    'manifests that move workloads needing privileged out of shared application namespaces (a manual change)',
  risk: 'manual',
  targets: [{ manual: true }],

  permissions() {
    return [];
  },

  async detect(ctx) {
    const { assessment, snapshot, options, reader } = ctx;
    const findings: StepFinding[] = [];
    const excepted = new Set(
      assessment.findings
        .filter((f) => f.control === CONTROL && f.excepted)
        .map((f) => `${f.target.kind}/${f.target.namespace}/${f.target.name}`),
    );
    const facts: IsolateFacts = {
      version: pinnedVersion(options.psaVersion, snapshot.serverVersion),
      enforcedAt: options.now.toISOString().slice(0, 10),
      namespaces: [],
    };
    const services = snapshot.network?.services ?? [];
    for (const s of sharedPrivileged(assessment.namespaces, assessment.workloads)) {
      if (!inScope(options, s.namespace) || excepted.has(`${s.kind}/${s.namespace}/${s.name}`)) continue;
      const w = snapshot.workloads.find(
        (x) => x.namespace === s.namespace && x.kind === s.kind && x.name === s.name,
      );
      if (!w) continue;
      let ns = facts.namespaces.find((n) => n.name === s.namespace);
      if (!ns) {
        ns = {
          name: s.namespace,
          isolated: s.isolated,
          others: s.others,
          networkPolicies: snapshot.networkPolicies.filter((p) => p.namespace === s.namespace).length,
          workloads: [],
        };
        facts.namespaces.push(ns);
      }
      const moved: MovedWorkload = {
        kind: s.kind,
        name: s.name,
        checks: s.checks,
        references: [],
        redacted: [],
        bindings: [],
        managedBy: w.managedBy,
      };
      ns.workloads.push(moved);
      const ref: ObjectRef = { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name };
      // A targeted read: the whole object (the snapshot keeps only what the evaluators read).
      let source: KubeObject | undefined;
      let why = 'it was not found';
      try {
        source = (await reader.get(ref, ctx.signal)).value;
      } catch (error) {
        why = (error as Error).message;
      }
      const pod = source ? podSpecOf(w.kind, source as unknown as Json) : undefined;
      if (!source || !pod) {
        findings.push(
          finding(
            'KH-UNKNOWN',
            { kind: w.kind, namespace: w.namespace, name: w.name },
            `${w.kind} ${w.namespace}/${w.name} could not be read (${source ? 'it has no pod template' : why}): no manifest to move it (unknown is not compliant)`,
          ),
        );
        continue;
      }
      const { manifest, redacted } = movedManifest(w.kind, source, s.isolated);
      moved.manifest = manifest;
      moved.redacted = redacted;
      moved.references = podReferences(pod.spec);
      const labels = Object.fromEntries(
        Object.entries(map(map(pod.template.metadata).labels)).map(([k, v]) => [k, String(v)]),
      );
      for (const svc of servicesOf(services, w.namespace, labels))
        addRef(moved.references, 'Service', svc, 'selects its pods');
      const sa = moved.references.find((r) => r.kind === 'ServiceAccount')?.name ?? 'default';
      moved.bindings = bindingsOf(snapshot.bindings, w.namespace, sa);
    }
    return { facts, findings };
  },

  propose(facts) {
    const changes: Change[] = [];
    for (const ns of facts.namespaces) {
      const moved = ns.workloads.filter((w) => w.manifest);
      if (moved.length === 0) continue;
      const notes: string[] = [];
      const managed = moved.filter((w) => w.managedBy.length);
      if (managed.length)
        notes.push(
          `${managed.map((w) => `${w.kind} ${w.name} is managed by ${w.managedBy.map((m) => m.detail).join(', ')}`).join('; ')}: move it there, or the next sync re-creates it in ${ns.name}`,
        );
      const unread = ns.workloads.filter((w) => !w.manifest);
      if (unread.length)
        notes.push(
          `${unread.map((w) => `${w.kind} ${w.name}`).join(', ')} could not be read: export ${unread.length === 1 ? 'it' : 'them'} by hand (kubectl get -o yaml) and move ${unread.length === 1 ? 'it' : 'them'} the same way`,
        );
      const nsFile = `${ns.isolated}-namespace.yaml`;
      const file = `${ns.isolated}-workloads.yaml`;
      const reason = `${ns.name} cannot enforce baseline or restricted while ${moved.map((w) => `${w.kind} ${w.name} (${w.checks.join(', ')})`).join(', ')} ${moved.length === 1 ? 'runs' : 'run'} there`;
      changes.push({
        kind: 'manual',
        id: `privileged-isolate/${ns.name}/namespace`,
        risk: 'manual',
        reason: `${reason}: a namespace of their own, ${ns.isolated}, enforces privileged (warn and audit baseline keep each privileged pod visible).`,
        notes: [],
        artifact: { path: nsFile, content: namespaceArtifact(ns, facts) },
        instructions: `1. \`kubectl create -f ${nsFile}\` (check first with --dry-run=server).\n2. Then move the workloads: change privileged-isolate/${ns.name}/workloads.`,
      });
      changes.push({
        kind: 'manual',
        id: `privileged-isolate/${ns.name}/workloads`,
        risk: 'manual',
        reason: `${reason}: move ${moved.length === 1 ? 'it' : 'them'} to ${ns.isolated}; then ${ns.others.length} workload(s) left in ${ns.name} can be enforced.`,
        notes,
        artifact: { path: file, content: workloadsArtifact(ns) },
        instructions: instructionsOf(ns, nsFile, file),
      });
    }
    return changes;
  },

  explain(facts, changes) {
    const names = facts.namespaces.map((n) => n.name).join(', ');
    return {
      why: `Pod Security is enforced per namespace and cannot exempt one workload: a workload that needs privileged in a shared application namespace keeps every other workload there unprotected.${names ? ` Shared: ${names}.` : ''} A namespace of its own makes the exemption explicit and narrow.`,
      impact: `${changes.length} manual change(s): kube-harden writes nothing. Moving a workload changes its namespace: its DNS names, what its RBAC bindings and NetworkPolicies select, and the Services that reach it; its pods restart in the new namespace.`,
      rollback:
        'Before deleting the originals, delete the new namespace (kubectl delete namespace NAME-privileged). After: create the originals again from their source of truth.',
    };
  },
};
