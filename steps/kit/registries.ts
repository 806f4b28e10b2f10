/**
 * Phase 5 (registries-warn, registries-enforce): the settings both steps read, which namespaces the binding
 * covers, the allow-list in effect and the two objects (the policy and its binding) rendered from
 * templates/registries/. The decisions themselves are src/policy/registries/ (pure, shared with the report).
 */
import type { ClusterReader } from '../../src/cluster/types.js';
import { leafValues, type ObjectRule, type ValueRule } from '../../src/engine/targets.js';
import type { Change, SettingSpec, StepContext, StepOptions, Verification } from '../../src/engine/types.js';
import { type WarnState, warnSinceOf } from '../../src/engine/warnings-xcheck.js';
import { inScope } from '../../src/inventory/scope.js';
import type { Snapshot } from '../../src/inventory/types.js';
import { isMap } from '../../src/k8s/json.js';
import { Kinds, resourceName } from '../../src/k8s/kinds.js';
import type { KubeObject } from '../../src/k8s/types.js';
import type { Assessment } from '../../src/policy/assess.js';
import {
  allowListOfExpression,
  celStringList,
  type DeniedImage,
  deniedImages,
  entriesFor,
  POLICY_NAME,
  parseAllowList,
  policyAllowList,
  registriesInUse,
  unknownImagesIn,
} from '../../src/policy/registries/index.js';
import { SYSTEM_NAMES } from '../../src/policy/tiers.js';
import {
  type Action,
  ALLOWED_LIST,
  chooseEngine,
  type EngineChoice,
  escapeRegex,
  GK_CONSTRAINT,
  GK_CONSTRAINT_CRD,
  GK_TEMPLATE,
  gatekeeperConstraint,
  gatekeeperTemplate,
  KYVERNO_POLICY,
  kyvernoPolicy,
  nativePermissions,
  nativeState,
  nativeTargets,
  type RegistryEngine,
} from './registries-native.js';
import { parseChoice, parseDays, settingOf } from './settings.js';
import { renderObjectTemplate } from './templates.js';

export {
  type Action,
  chooseEngine,
  type EngineChoice,
  GK_CONSTRAINT,
  KYVERNO_POLICY,
  REGISTRY_ENGINE,
  type RegistryEngine,
  signaturePolicy,
  signatureTargets,
  VERIFY_POLICY_NAME,
} from './registries-native.js';
export { POLICY_NAME };

export const ALLOW_REGISTRY: SettingSpec<string[]> = {
  key: 'registries-warn.allow',
  flag: 'allow-registry',
  type: 'HOST[/PATH]',
  description:
    'a trusted registry host (port included), or a repository prefix under it (repeatable, or a comma list); default: the registries in use in the namespaces in scope',
  multiple: true,
  parse: parseAllowList,
  // The wizard's allow-list editor (SettingScreen), before phase 5 is previewed.
  ask: {
    title: 'Registries allowed (HOST or HOST/PATH; a path narrows to the repositories under it)',
    proposed: ({ snapshot, assessment, options }) =>
      policyAllowList(snapshot) ??
      registriesInUse(snapshot, new Set(registryScope(assessment, options).namespaces)),
    annotate: (entry, { assessment }) => {
      const host = entry.split('/')[0] as string;
      const r = assessment.registries.find((x) => x.registry === host);
      if (!r) return 'not in use';
      const used = `${r.images} image(s), ${r.workloads} workload(s)`;
      return entry === host ? used : `only this path of ${host} (${used} from ${host})`;
    },
    outside: (entries, { assessment }) => {
      const out = assessment.registries.filter((r) => entriesFor(r.registry, entries).length === 0);
      return out.length
        ? `not allowed: ${out.map((r) => `${r.registry} (${r.images} image(s), ${r.workloads} workload(s))`).join(', ')}`
        : undefined;
    },
  },
};

/**
 * registries-enforce's soak: how long the policy must have been warning with this allow-list before deny is
 * proposed, so that the warnings of real traffic (weekly CronJobs, Helm upgrades, operators creating pods) have
 * been seen first. Since when is read from the live objects (src/engine/warnings-xcheck.ts warnSinceOf).
 */
export const REGISTRIES_SOAK: SettingSpec<number> = {
  key: 'registries-enforce.soak',
  flag: 'registries-soak',
  type: 'DAYS',
  description:
    'days the registries policy must have been warning with this allow-list before deny is proposed (0: as soon as the API server agrees)',
  default: '7d',
  parse: parseDays,
  // Asked in the wizard after the allow-list, before phase 5 is previewed. The recommended value first (the
  // picker's cursor starts on the first choice), the one without warnings last; `7d` rather than `7` keeps this
  // order (integer-like keys of an object are listed first, in ascending order).
  ask: {
    title: 'Deny images outside the allow-list after how many days of warnings?',
    choices: {
      '7d': 'after a week of warnings (recommended: weekly CronJobs, upgrades and operators show up)',
      '30d': 'after a month of warnings (monthly jobs too)',
      '0d': 'as soon as the API server agrees (no time of warnings from real traffic)',
    },
  },
};

const YES_NO = ['yes', 'no'] as const;

export const INCLUDE_SYSTEM: SettingSpec<'yes' | 'no'> = {
  key: 'registries-warn.includeSystemNamespaces',
  flag: 'registries-include-system',
  type: 'YES|NO',
  description: 'also restrict images in system namespaces (kube-system, the CNI, …)',
  default: 'no',
  choices: YES_NO,
  parse: parseChoice(YES_NO),
};

export interface RegistryScope {
  /** The namespaces the binding covers (in scope, not terminating; system ones only when chosen). */
  namespaces: string[];
  /** System namespaces in scope left out. */
  skipped: string[];
  /** The binding's namespaceSelector. */
  selector: Record<string, unknown>;
  /** Set when the selector (kept from the live binding) covers namespaces this run did not evaluate. */
  wider?: string;
}

/** Which namespaces the policy acts in, and the selector that says so. */
export function registryScope(assessment: Assessment, options: StepOptions): RegistryScope {
  const system = settingOf(INCLUDE_SYSTEM, options) === 'yes';
  const namespaces: string[] = [];
  const skipped: string[] = [];
  const systemNames = new Set<string>(system ? [] : SYSTEM_NAMES.filter((n) => !n.includes('*')));
  for (const p of assessment.namespaces) {
    if (p.tier === 'system' && !system) {
      systemNames.add(p.name);
      if (inScope(options, p.name)) skipped.push(p.name);
      continue;
    }
    if (!inScope(options, p.name) || p.terminating) continue;
    namespaces.push(p.name);
  }
  namespaces.sort();
  skipped.sort();
  let selector: Record<string, unknown>;
  if (options.namespaces.length > 0) {
    // Only the namespaces named: new namespaces are not covered until a later run names them.
    selector = { matchExpressions: [{ key: NAME_LABEL, operator: 'In', values: namespaces }] };
  } else {
    // Every namespace but the system and excluded ones: new namespaces are covered from their first pod.
    const out = [...new Set([...systemNames, ...options.exclude])].sort();
    selector = out.length ? { matchExpressions: [{ key: NAME_LABEL, operator: 'NotIn', values: out }] } : {};
  }
  return { namespaces, skipped, selector };
}

const NAME_LABEL = 'kubernetes.io/metadata.name';

export interface AllowList {
  entries: string[];
  /** Where the list comes from. */
  source: 'setting' | 'live-policy' | 'in-use';
}

/** The allow-list in a live policy written by kube-harden (its `allowed` variable), if it holds a valid one. */
export function allowListOfPolicy(policy: KubeObject | undefined): string[] | undefined {
  const spec = (policy as { spec?: unknown } | undefined)?.spec;
  const variables = isMap(spec) && Array.isArray(spec.variables) ? spec.variables : [];
  const v = variables.find((x) => isMap(x) && x.name === 'allowed') as { expression?: unknown } | undefined;
  return typeof v?.expression === 'string' ? allowListOfExpression(v.expression) : undefined;
}

/**
 * The allow-list in effect: `--allow-registry`, else the one of the live policy kube-harden wrote (a later run
 * never widens it silently), else the registry hosts in use in the covered namespaces.
 */
export async function allowListFor(
  ctx: Pick<StepContext, 'options' | 'snapshot' | 'reader' | 'signal'>,
  namespaces: readonly string[],
  engine: RegistryEngine = 'vap',
): Promise<AllowList> {
  const given = settingOf(ALLOW_REGISTRY, ctx.options);
  if (given?.length) return { entries: given, source: 'setting' };
  const kept =
    engine === 'vap'
      ? allowListOfPolicy(await livePolicy(ctx.reader, ctx.signal))
      : (await liveNative(ctx.reader, engine, ctx.signal)).state?.entries;
  if (kept) return { entries: kept, source: 'live-policy' };
  return { entries: registriesInUse(ctx.snapshot, new Set(namespaces)), source: 'in-use' };
}

async function livePolicy(reader: ClusterReader, signal: AbortSignal): Promise<KubeObject | undefined> {
  const live = await liveObject(reader, 'ValidatingAdmissionPolicy', signal);
  return live === 'unreadable' ? undefined : live;
}

/**
 * kube-harden's Kyverno ClusterPolicy or Gatekeeper Constraint as it is now (read from manifests too: a plan
 * directory may hold them). A kind that is not served means there is none; any other failure is unknown.
 */
async function liveNative(
  reader: ClusterReader,
  engine: 'kyverno' | 'gatekeeper',
  signal: AbortSignal,
): Promise<{ state?: ReturnType<typeof nativeState>; unknown?: string }> {
  const kind = engine === 'kyverno' ? KYVERNO_POLICY : GK_CONSTRAINT;
  try {
    const { value } = await reader.get({ ...kind, name: POLICY_NAME }, signal);
    return { state: nativeState(engine, value) };
  } catch (error) {
    // The reader's errors carry a `reason` (src/cluster/errors.ts; steps do not import it).
    if ((error as { reason?: unknown }).reason === 'NotFound') return { state: {} };
    return { unknown: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * How kube-harden's Kyverno ClusterPolicy or Gatekeeper Constraint acts and since when its objects (the
 * ClusterPolicy; the ConstraintTemplate and the Constraint) have been as they are (warnSinceOf): the soak of
 * registries-enforce with a native engine. `unknown`: they could not be read. Offline: nothing (not read).
 */
export async function nativeWarnState(
  reader: ClusterReader,
  engine: 'kyverno' | 'gatekeeper',
  signal: AbortSignal,
): Promise<WarnState & { unknown?: string }> {
  if (!reader.capabilities.dryRun) return {};
  const read = async (ref: { apiVersion: string; kind: string; name: string }) => {
    try {
      return { value: (await reader.get(ref, signal)).value };
    } catch (error) {
      if ((error as { reason?: unknown }).reason === 'NotFound') return { value: undefined };
      return { unknown: error instanceof Error ? error.message : String(error) };
    }
  };
  const main = await read(
    engine === 'kyverno' ? { ...KYVERNO_POLICY, name: POLICY_NAME } : { ...GK_CONSTRAINT, name: POLICY_NAME },
  );
  if (main.unknown !== undefined) return { unknown: main.unknown };
  const action = main.value ? nativeState(engine, main.value).action : undefined;
  const objects = [main.value];
  if (engine === 'gatekeeper' && main.value) {
    const template = await read({ ...GK_TEMPLATE });
    if (template.unknown !== undefined) return { unknown: template.unknown };
    objects.push(template.value);
  }
  const warnSince = warnSinceOf(objects);
  return { ...(action ? { action } : {}), ...(warnSince ? { warnSince } : {}) };
}

/** kube-harden's policy or binding as it is now; `unreadable` offline or when it cannot be read. */
async function liveObject(
  reader: ClusterReader,
  kind: 'ValidatingAdmissionPolicy' | 'ValidatingAdmissionPolicyBinding',
  signal: AbortSignal,
): Promise<KubeObject | undefined | 'unreadable'> {
  if (!reader.capabilities.dryRun) return 'unreadable';
  try {
    return (await reader.get({ apiVersion: Kinds[kind].apiVersion, kind, name: POLICY_NAME }, signal)).value;
  } catch {
    return 'unreadable';
  }
}

/** The action of a binding's validationActions (Deny before Warn). */
function actionOf(actions: readonly string[] | undefined): Action | undefined {
  if (actions?.includes('Deny')) return 'Deny';
  if (actions?.includes('Warn')) return 'Warn';
  return undefined;
}

/**
 * How kube-harden's binding acts now: read live (a binding changed since the inventory counts), else from the
 * Snapshot; `unknown` when neither could read it (then warn must not risk loosening a deny).
 */
async function currentBinding(
  ctx: Pick<StepContext, 'snapshot' | 'reader' | 'signal'>,
  engine: RegistryEngine = 'vap',
): Promise<{ action: Action | 'unknown' | undefined; selector?: Record<string, unknown> }> {
  if (engine !== 'vap') {
    const { state, unknown } = await liveNative(ctx.reader, engine, ctx.signal);
    if (unknown !== undefined || !state) return { action: 'unknown' };
    return {
      action: state.action,
      ...(state.selector ? { selector: state.selector } : {}),
    };
  }
  const live = await liveObject(ctx.reader, 'ValidatingAdmissionPolicyBinding', ctx.signal);
  if (live !== 'unreadable') {
    const spec = (live as { spec?: { validationActions?: unknown; matchResources?: unknown } } | undefined)
      ?.spec;
    const actions = spec?.validationActions;
    const selector = isMap(spec?.matchResources) ? spec.matchResources.namespaceSelector : undefined;
    return {
      action: actionOf(Array.isArray(actions) ? actions.map(String) : undefined),
      ...(isMap(selector) ? { selector } : {}),
    };
  }
  const unread = ctx.snapshot.unknown.some(
    (u) => u.resource === resourceName(Kinds.ValidatingAdmissionPolicyBinding),
  );
  return { action: unread ? 'unknown' : bindingAction(ctx.snapshot) };
}

type NameSelector = { matchExpressions?: Array<{ key?: string; operator?: string; values?: string[] }> };

/** `In` names of a selector kube-harden wrote, `all` for `{}`/`NotIn`, undefined for anything else. */
function coverage(selector: Record<string, unknown>): string[] | 'all' | undefined {
  const exprs = (selector as NameSelector).matchExpressions;
  if (Object.keys(selector).length === 0) return 'all';
  if (Object.keys(selector).length !== 1 || exprs?.length !== 1 || exprs[0]?.key !== NAME_LABEL)
    return undefined;
  if (exprs[0].operator === 'NotIn') return 'all';
  return exprs[0].operator === 'In' ? (exprs[0].values ?? []) : undefined;
}

/**
 * The selector to write, given this run's and the live binding's: a run limited by `-n` never narrows a binding
 * that covers more (named namespaces are added to the live ones; a binding over all namespaces is kept); a run
 * over all namespaces decides. `wider`: the result covers namespaces this run did not evaluate.
 */
export function mergeSelector(
  computed: Record<string, unknown>,
  live: Record<string, unknown> | undefined,
): { selector: Record<string, unknown>; wider: string | undefined } {
  const mine = coverage(computed);
  if (!live || mine === 'all') return { selector: computed, wider: undefined };
  const theirs = coverage(live);
  if (theirs === undefined || theirs === 'all')
    return { selector: live, wider: 'the binding in place covers all namespaces but the system ones' };
  const extra = theirs.filter((n) => !(mine ?? []).includes(n));
  if (extra.length === 0) return { selector: computed, wider: undefined };
  const values = [...new Set([...(mine ?? []), ...theirs])].sort();
  return {
    selector: { matchExpressions: [{ key: NAME_LABEL, operator: 'In', values }] },
    wider: `the binding in place also covers ${extra.join(', ')}`,
  };
}

/** The ValidatingAdmissionPolicy (templates/registries/policy.yaml) for an allow-list. */
export function registryPolicy(entries: readonly string[], name = POLICY_NAME): KubeObject {
  return renderObjectTemplate('registries/policy.yaml', { name, allowed: celStringList(entries) });
}

/** The binding (templates/registries/binding.yaml): `[action, Audit]` in the namespaces of `selector`. */
export function registryBinding(
  action: Action,
  selector: Record<string, unknown>,
  name = POLICY_NAME,
  policyName = name,
): KubeObject {
  const binding = renderObjectTemplate('registries/binding.yaml', { name, policyName, action });
  const spec = (binding as unknown as { spec: { matchResources: Record<string, unknown> } }).spec;
  spec.matchResources.namespaceSelector = structuredClone(selector);
  return binding;
}

/** How kube-harden's binding acts according to the Snapshot. */
export function bindingAction(snapshot: Snapshot): Action | undefined {
  const b = snapshot.admissionPolicies.find(
    (p) => p.kind === 'ValidatingAdmissionPolicyBinding' && p.name === POLICY_NAME,
  );
  return actionOf(b?.validationActions);
}

// ---- What a saved plan may hold (apply --plan) --------------------------------------------------------------

/**
 * The targets of both steps: the policy exactly as the template makes it (only the allow-list varies) and the
 * binding with one of the two action pairs and a selector on namespace names.
 */
let targetsCache: ObjectRule[] | undefined;

export function registryTargets(): ObjectRule[] {
  targetsCache ??= [...buildTargets(), ...nativeTargets()];
  return targetsCache;
}

function buildTargets(): ObjectRule[] {
  const sample = leafValues(registryPolicy(['registry.example.com']));
  const fields: Record<string, ValueRule> = {};
  for (const [pattern, values] of sample) {
    if (pattern.startsWith('metadata.') || pattern === 'apiVersion' || pattern === 'kind') continue;
    if (pattern === 'spec.variables[].expression') {
      const fixed = values
        .filter((v) => v !== celStringList(['registry.example.com']))
        .map((v) => escapeRegex(String(v)));
      fields[pattern] = { matches: new RegExp(`^(?:${[...fixed, ALLOWED_LIST].join('|')})$`) };
    } else
      fields[pattern] = {
        oneOf: [...new Set(values.map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v)),
      };
  }
  return [
    {
      apiVersion: Kinds.ValidatingAdmissionPolicy.apiVersion,
      kind: 'ValidatingAdmissionPolicy',
      operations: ['create', 'update'],
      onlyNames: [POLICY_NAME],
      labels: {},
      fields,
    },
    {
      apiVersion: Kinds.ValidatingAdmissionPolicyBinding.apiVersion,
      kind: 'ValidatingAdmissionPolicyBinding',
      operations: ['create', 'update'],
      onlyNames: [POLICY_NAME],
      labels: {},
      fields: {
        'spec.policyName': { equals: POLICY_NAME },
        'spec.validationActions': {
          oneOf: [
            ['Warn', 'Audit'],
            ['Deny', 'Audit'],
          ],
        },
        'spec.matchResources.namespaceSelector': { equals: {} },
        'spec.matchResources.namespaceSelector.matchExpressions[].key': { equals: NAME_LABEL },
        'spec.matchResources.namespaceSelector.matchExpressions[].operator': { oneOf: ['In', 'NotIn'] },
        'spec.matchResources.namespaceSelector.matchExpressions[].values': {
          every: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
        },
      },
    },
  ];
}

/** What applying either step needs. */
export function registryPermissions(
  options?: Pick<StepOptions, 'settings'>,
  snapshot?: Pick<Snapshot, 'admissionEngines'>,
): Array<{ verb: string; group: string; resource: string }> {
  const engine = options ? chooseEngine(options, snapshot?.admissionEngines, true).engine : 'vap';
  if (engine !== 'vap') return nativePermissions(engine);
  const group = 'admissionregistration.k8s.io';
  return ['validatingadmissionpolicies', 'validatingadmissionpolicybindings'].flatMap((resource) => [
    { verb: 'create', group, resource },
    { verb: 'patch', group, resource },
  ]);
}

// ---- What both steps detect ---------------------------------------------------------------------------------

export interface RegistryFacts {
  scope: RegistryScope;
  allow: AllowList;
  /** What the allow-list would deny if created today in the covered namespaces. */
  denied: DeniedImage[];
  /** Namespaces whose images are not all known, and why. */
  unknown: Array<{ namespace: string; reason: string }>;
  /** How kube-harden's binding acts today (absent: no binding; `unknown`: it could not be read). */
  current?: Action | 'unknown';
  /** The registry hosts in use in the covered namespaces. */
  inUse: string[];
  /** The admission engine that carries the policy (--registry-engine, default the installed one, else vap). */
  engine: EngineChoice;
  /** Gatekeeper only: whether the Constraint's kind is served yet (its controller creates it from the template). */
  constraintServed?: boolean | 'unknown';
}

export async function detectRegistries(ctx: StepContext): Promise<RegistryFacts> {
  const engine = chooseEngine(ctx.options, ctx.snapshot.admissionEngines, ctx.reader.capabilities.dryRun);
  const scope = registryScope(ctx.assessment, ctx.options);
  const allow = await allowListFor(ctx, scope.namespaces, engine.engine);
  const covered = new Set(scope.namespaces);
  const denied = allow.entries.length ? deniedImages(ctx.snapshot, covered, allow.entries) : [];
  const unknown = scope.namespaces.flatMap((namespace) => {
    const reason = unknownImagesIn(ctx.snapshot, namespace);
    return reason ? [{ namespace, reason }] : [];
  });
  const { action: current, selector: live } = await currentBinding(ctx, engine.engine);
  const merged = mergeSelector(scope.selector, live);
  scope.selector = merged.selector;
  if (merged.wider) scope.wider = merged.wider;
  const inUse = registriesInUse(ctx.snapshot, covered);
  const constraintServed =
    engine.engine === 'gatekeeper' ? await crdServed(ctx.reader, GK_CONSTRAINT_CRD, ctx.signal) : undefined;
  return {
    scope,
    allow,
    denied,
    unknown,
    inUse,
    engine,
    ...(current ? { current } : {}),
    ...(constraintServed !== undefined ? { constraintServed } : {}),
  };
}

async function crdServed(
  reader: ClusterReader,
  name: string,
  signal: AbortSignal,
): Promise<boolean | 'unknown'> {
  try {
    const { value } = await reader.get(
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name },
      signal,
    );
    return value !== undefined;
  } catch {
    return 'unknown';
  }
}

/** The lines every registries change carries: where the list comes from, and what Docker Hub entries mean. */
export function allowListNotes(facts: RegistryFacts): string[] {
  const notes: string[] = [];
  const list = facts.allow.entries.join(', ');
  if (facts.allow.source === 'in-use')
    notes.push(
      `allow-list = the registries in use today in the namespaces covered (${list}); narrow it with --allow-registry HOST[/PATH] (repeatable)`,
    );
  if (facts.allow.source === 'live-policy')
    notes.push(
      `allow-list kept from the policy in place (${list}); change it with --allow-registry HOST[/PATH]`,
    );
  if (facts.allow.entries.includes('docker.io'))
    notes.push(
      'docker.io allows every Docker Hub image, short names included (nginx = docker.io/library/nginx); narrow it to docker.io/library or docker.io/ORG',
    );
  if (facts.scope.wider) notes.push(`${facts.scope.wider}: kept (a run limited with -n never narrows it)`);
  if (facts.scope.skipped.length)
    notes.push(
      `system namespaces left out: ${facts.scope.skipped.join(', ')} (--registries-include-system yes to cover them)`,
    );
  return notes;
}

/** The policy and binding changes of a step (`action` decides the binding's validationActions). */
export function registryChanges(
  step: string,
  facts: RegistryFacts,
  action: Action,
  risk: 'low' | 'disruptive',
): Change[] {
  const notes = [...facts.engine.notes, ...allowListNotes(facts)];
  const where =
    facts.scope.selector && Object.keys(facts.scope.selector).length === 0
      ? 'every namespace'
      : `namespaces ${describeSelector(facts.scope.selector)}`;
  if (facts.engine.blocked) return [];
  const images = `images from: ${facts.allow.entries.join(', ')} (containers, init and ephemeral containers)`;
  const acts =
    action === 'Warn'
      ? `warn and audit (never deny) on images outside the allow-list in ${where}`
      : `deny (and audit) images outside the allow-list in ${where}: nothing running there today would be denied`;
  if (facts.engine.engine === 'kyverno')
    return [
      {
        kind: 'apply',
        id: `${step}/kyverno-policy`,
        target: { ...KYVERNO_POLICY, name: POLICY_NAME },
        desired: kyvernoPolicy(facts.allow.entries, action, facts.scope.selector),
        risk,
        reason: `Kyverno ClusterPolicy (validationFailureAction ${action === 'Warn' ? 'Audit, with warnings' : 'Enforce'}): admit Pods and, through Kyverno's autogen, pod templates only with ${images}; ${acts}`,
        notes: [
          ...notes,
          'needs Kyverno 1.13 or later (validate.cel with variables since 1.11, emitWarning since 1.13): an older Kyverno refuses the policy',
        ],
      },
    ];
  if (facts.engine.engine === 'gatekeeper') {
    const changes: Change[] = [
      {
        kind: 'apply',
        id: `${step}/constraint-template`,
        target: { ...GK_TEMPLATE },
        desired: gatekeeperTemplate(),
        risk,
        reason:
          'Gatekeeper ConstraintTemplate kubehardenallowedrepos: exact registry matching (host and port, paths at a / boundary, Docker Hub short names normalised) instead of the prefix matching of the library K8sAllowedRepos',
        notes: [
          ...notes,
          "Gatekeeper's webhook fails open by default (failurePolicy Ignore in its chart): while Gatekeeper is down, images are not checked",
        ],
      },
    ];
    if (facts.constraintServed === true)
      changes.push({
        kind: 'apply',
        id: `${step}/constraint`,
        target: { ...GK_CONSTRAINT, name: POLICY_NAME },
        desired: gatekeeperConstraint(facts.allow.entries, action, facts.scope.selector),
        risk,
        reason: `Gatekeeper Constraint (enforcementAction ${action === 'Warn' ? 'warn' : 'deny'}): admit Pods and pod templates only with ${images}; ${acts}`,
        notes: [],
      });
    else
      (changes[0] as { notes: string[] }).notes.push(
        `the Constraint follows once Gatekeeper has created its kind from the template (CRD ${GK_CONSTRAINT_CRD}, seconds after the template is applied): plan ${step} again then`,
      );
    return changes;
  }
  const policy = registryPolicy(facts.allow.entries);
  const binding = registryBinding(action, facts.scope.selector);
  return [
    {
      kind: 'apply' as const,
      id: `${step}/policy`,
      target: {
        apiVersion: Kinds.ValidatingAdmissionPolicy.apiVersion,
        kind: 'ValidatingAdmissionPolicy',
        name: POLICY_NAME,
      },
      desired: policy,
      risk,
      reason: `admit Pods and pod templates only with images from: ${facts.allow.entries.join(', ')} (containers, init and ephemeral containers)`,
      notes,
    },
    {
      kind: 'apply' as const,
      id: `${step}/binding`,
      target: {
        apiVersion: Kinds.ValidatingAdmissionPolicyBinding.apiVersion,
        kind: 'ValidatingAdmissionPolicyBinding',
        name: POLICY_NAME,
      },
      desired: binding,
      risk,
      reason:
        action === 'Warn'
          ? `warn and audit (never deny) on images outside the allow-list in ${where}`
          : `deny (and audit) images outside the allow-list in ${where}: nothing running there today would be denied`,
      notes: [],
    },
  ];
}

function describeSelector(selector: Record<string, unknown>): string {
  const e = (selector.matchExpressions as Array<{ operator: string; values: string[] }> | undefined)?.[0];
  if (!e) return 'all';
  return e.operator === 'In' ? e.values.join(', ') : `all but ${e.values.join(', ')}`;
}

/** The registries in use and what the allow-list does with each: `docker.io (only docker.io/library)`. */
export function describeInUse(facts: RegistryFacts): string {
  return facts.inUse
    .map((r) => {
      const by = entriesFor(r, facts.allow.entries);
      return `${r} (${by.includes(r) ? 'allowed' : by.length ? `only ${by.join(', ')}` : 'not allowed'})`;
    })
    .join(', ');
}

// ---- Verification with a native engine ----------------------------------------------------------------------

type Condition = { type?: string; status?: string; reason?: string; message?: string };

/**
 * What the engine reports of kube-harden's objects after an apply (Kyverno: the ClusterPolicy's Ready condition;
 * Gatekeeper: the ConstraintTemplate's per-pod errors and `created`); undefined when the engine is vap.
 */
export async function nativeVerify(
  ctx: Pick<StepContext, 'options' | 'snapshot' | 'reader' | 'signal'>,
): Promise<Verification | undefined> {
  const { engine } = chooseEngine(ctx.options, ctx.snapshot.admissionEngines, ctx.reader.capabilities.dryRun);
  if (engine === 'vap') return undefined;
  if (engine === 'kyverno') {
    const { value } = await ctx.reader.get({ ...KYVERNO_POLICY, name: POLICY_NAME }, ctx.signal);
    if (!value) return { ok: false, messages: [`Kyverno ClusterPolicy ${POLICY_NAME} is not there`] };
    const status = (value as unknown as { status?: { conditions?: Condition[] } }).status;
    const ready = status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'False')
      return {
        ok: false,
        messages: [
          `Kyverno reports ClusterPolicy ${POLICY_NAME} not ready: ${ready.message ?? ready.reason ?? ''}`,
        ],
      };
    return {
      ok: true,
      messages: [
        ready?.status === 'True'
          ? `Kyverno reports ClusterPolicy ${POLICY_NAME} ready`
          : `ClusterPolicy ${POLICY_NAME} is in place (Kyverno has not reported it ready yet)`,
      ],
    };
  }
  const { value } = await ctx.reader.get({ ...GK_TEMPLATE }, ctx.signal);
  if (!value)
    return { ok: false, messages: [`Gatekeeper ConstraintTemplate ${GK_TEMPLATE.name} is not there`] };
  const status = (
    value as unknown as {
      status?: { created?: boolean; byPod?: Array<{ id?: string; errors?: Array<{ message?: string }> }> };
    }
  ).status;
  const errors = (status?.byPod ?? []).flatMap((p) =>
    (p.errors ?? []).map(
      (e) => `Gatekeeper (${p.id ?? 'pod'}) refuses ${GK_TEMPLATE.name}: ${e.message ?? ''}`,
    ),
  );
  if (errors.length) return { ok: false, messages: errors };
  return {
    ok: true,
    messages: [
      status?.created
        ? `Gatekeeper reports ConstraintTemplate ${GK_TEMPLATE.name} created`
        : `ConstraintTemplate ${GK_TEMPLATE.name} is in place (Gatekeeper has not reported it created yet)`,
    ],
  };
}
