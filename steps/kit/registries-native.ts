/**
 * Phase 5 with an admission engine installed (issue 13 item 3): which engine carries the allow-list
 * (`--registry-engine vap|kyverno|gatekeeper`, default the installed engine, else vap) and the engine's own
 * objects, from templates/registries/: a Kyverno ClusterPolicy (validationFailureAction Audit, then Enforce), or a
 * Gatekeeper ConstraintTemplate and its Constraint (enforcementAction warn, then deny). Both apply exactly the
 * matching rules of the ValidatingAdmissionPolicy (see the templates' comments); the Snapshot-side evaluation
 * (src/policy/registries/) is the same for every engine.
 */
import { leafValues, type ObjectRule, type ValueRule } from '../../src/engine/targets.js';
import type { SettingSpec, StepOptions } from '../../src/engine/types.js';
import {
  type AdmissionEngineFacts,
  describeEngine,
  ENGINE_CRDS,
  ENGINE_TITLES,
  type EngineName,
  engineInstalled,
  engineUnknown,
} from '../../src/inventory/admission-engines.js';
import { isMap } from '../../src/k8s/json.js';
import type { KubeObject } from '../../src/k8s/types.js';
import {
  allowListOfExpression,
  celStringList,
  POLICY_NAME,
  parseAllowEntry,
} from '../../src/policy/registries/index.js';
import { parseChoice, settingOf } from './settings.js';
import { renderObjectTemplate } from './templates.js';

export type RegistryEngine = 'vap' | EngineName;
export type Action = 'Warn' | 'Deny';

const ENGINES = ['vap', 'kyverno', 'gatekeeper'] as const;

export const REGISTRY_ENGINE: SettingSpec<RegistryEngine> = {
  key: 'registries-warn.engine',
  flag: 'registry-engine',
  type: 'ENGINE',
  description:
    'which admission engine carries the allow-list: vap (a ValidatingAdmissionPolicy), kyverno (a ClusterPolicy) or gatekeeper (a ConstraintTemplate and Constraint); default: the installed engine, else vap',
  choices: ENGINES,
  parse: parseChoice(ENGINES),
};

export const KYVERNO_POLICY = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy' } as const;
export const GK_TEMPLATE = {
  apiVersion: 'templates.gatekeeper.sh/v1',
  kind: 'ConstraintTemplate',
  name: 'kubehardenallowedrepos',
} as const;
export const GK_CONSTRAINT = {
  apiVersion: 'constraints.gatekeeper.sh/v1beta1',
  kind: 'KubeHardenAllowedRepos',
} as const;
/** The CRD Gatekeeper's controller creates from the template (`spec.crd`): the Constraint's kind is served then. */
export const GK_CONSTRAINT_CRD = 'kubehardenallowedrepos.constraints.gatekeeper.sh';

export interface EngineChoice {
  engine: RegistryEngine;
  /** Chosen with --registry-engine, or the default (the installed engine, else vap). */
  source: 'setting' | 'default';
  /** Why the chosen engine's objects cannot be proposed (e.g. Kyverno is not installed). */
  blocked?: string;
  /** Lines the operator reads with the changes (an engine whose presence is unknown, a second engine). */
  notes: string[];
}

/** The engine that carries the policy (`live`: the source is a cluster, so an absent CRD is known absent). */
export function chooseEngine(
  options: Pick<StepOptions, 'settings'>,
  engines: AdmissionEngineFacts | undefined,
  live: boolean,
): EngineChoice {
  const given = settingOf(REGISTRY_ENGINE, options);
  const notes: string[] = [];
  if (given !== undefined) {
    if (given === 'vap') return { engine: 'vap', source: 'setting', notes };
    const f = engines?.[given];
    if (live && f?.crd === 'absent')
      return {
        engine: given,
        source: 'setting',
        notes,
        blocked: `${ENGINE_TITLES[given]} is not installed (no CRD ${ENGINE_CRDS[given]}): its policy cannot be created; use --registry-engine vap, or install ${ENGINE_TITLES[given]} first`,
      };
    if (!engineInstalled(f))
      notes.push(
        `${describeEngine(given, f)}: until its controller runs, nothing enforces the ${ENGINE_TITLES[given]} policy`,
      );
    return { engine: given, source: 'setting', notes };
  }
  const installed = (['kyverno', 'gatekeeper'] as const).filter((e) => engineInstalled(engines?.[e]));
  for (const e of ['kyverno', 'gatekeeper'] as const)
    if (engines && engineUnknown(engines[e]))
      notes.push(
        `${describeEngine(e, engines[e])}; --registry-engine ${e} to use its policy instead of the ValidatingAdmissionPolicy`,
      );
  const engine = installed[0] ?? 'vap';
  if (installed.length > 1)
    notes.push(
      `Kyverno and Gatekeeper are both installed: Kyverno's ClusterPolicy is proposed (--registry-engine gatekeeper or vap to choose another)`,
    );
  else if (engine !== 'vap')
    notes.push(
      `${describeEngine(engine, engines?.[engine])}: its native policy is proposed (--registry-engine vap for a ValidatingAdmissionPolicy instead)`,
    );
  return { engine, source: 'default', notes };
}

// ---- Rendering ----------------------------------------------------------------------------------------------

type J = Record<string, unknown>;

const KYVERNO_ACTION: Record<Action, string> = { Warn: 'Audit', Deny: 'Enforce' };
const GK_ACTION: Record<Action, string> = { Warn: 'warn', Deny: 'deny' };

/** The Kyverno ClusterPolicy (templates/registries/kyverno-clusterpolicy.yaml). */
export function kyvernoPolicy(
  entries: readonly string[],
  action: Action,
  selector: Record<string, unknown>,
  name = POLICY_NAME,
): KubeObject {
  const policy = renderObjectTemplate('registries/kyverno-clusterpolicy.yaml', {
    name,
    action: KYVERNO_ACTION[action],
    allowed: celStringList(entries),
  });
  const rule = kyvernoRule(policy);
  const any = (rule.match as { any: Array<{ resources: J }> }).any;
  for (const m of any) m.resources.namespaceSelector = structuredClone(selector);
  return policy;
}

function kyvernoRule(policy: KubeObject): J {
  return (policy as unknown as { spec: { rules: J[] } }).spec.rules[0] as J;
}

/** The Gatekeeper ConstraintTemplate (templates/registries/gatekeeper-template.yaml): fixed, no parameters. */
export function gatekeeperTemplate(): KubeObject {
  return renderObjectTemplate('registries/gatekeeper-template.yaml', {});
}

/** The Gatekeeper Constraint (templates/registries/gatekeeper-constraint.yaml). */
export function gatekeeperConstraint(
  entries: readonly string[],
  action: Action,
  selector: Record<string, unknown>,
  name = POLICY_NAME,
): KubeObject {
  const c = renderObjectTemplate('registries/gatekeeper-constraint.yaml', {
    name,
    action: GK_ACTION[action],
  });
  const spec = (c as unknown as { spec: { match: J; parameters: J } }).spec;
  spec.match.namespaceSelector = structuredClone(selector);
  spec.parameters.repos = [...entries];
  return c;
}

// ---- Signatures (registries-signatures) ---------------------------------------------------------------------

/** The Kyverno ClusterPolicy of registries-signatures. */
export const VERIFY_POLICY_NAME = 'kube-harden-verify-images';

/**
 * Kyverno image reference patterns for allow-list style entries: `ENTRY:*` and `ENTRY@*` (the repository itself,
 * with a tag or a digest) and `ENTRY/*` (everything under it) — never `ENTRY*`, which would take in
 * `ENTRY-other`. Docker Hub entries are written as Kyverno normalises images (`docker.io/...`).
 */
export function imageReferencePatterns(entries: readonly string[]): string[] {
  return entries.flatMap((e) => (e.includes('/') ? [`${e}:*`, `${e}@*`, `${e}/*`] : [`${e}/*`]));
}

/** The verifyImages ClusterPolicy (templates/registries/kyverno-verify-images.yaml), Audit. */
export function signaturePolicy(
  entries: readonly string[],
  subject: string,
  issuer: string,
  selector: Record<string, unknown>,
  name = VERIFY_POLICY_NAME,
): KubeObject {
  const policy = renderObjectTemplate('registries/kyverno-verify-images.yaml', { name, subject, issuer });
  const rule = kyvernoRule(policy);
  for (const m of (rule.match as { any: Array<{ resources: J }> }).any)
    m.resources.namespaceSelector = structuredClone(selector);
  (rule.verifyImages as J[])[0] = {
    ...((rule.verifyImages as J[])[0] as J),
    imageReferences: imageReferencePatterns(entries),
  };
  return policy;
}

let signatureCache: Array<ObjectRule | { manual: true }> | undefined;

/** What registries-signatures may write: its ClusterPolicy (only references, identity and selector vary), or a manual change. */
export function signatureTargets(): Array<ObjectRule | { manual: true }> {
  if (signatureCache) return signatureCache;
  const sample = signaturePolicy(['registry.example.com'], 'subject', 'https://issuer.example', {});
  const annotations = Object.fromEntries(
    Object.entries(sample.metadata.annotations ?? {}).map(([k, v]) => [k, { equals: v } as ValueRule]),
  );
  const entries = 'spec.rules[].verifyImages[].attestors[].entries[].keyless';
  signatureCache = [
    {
      ...KYVERNO_POLICY,
      operations: ['create', 'update'],
      onlyNames: [VERIFY_POLICY_NAME],
      labels: {},
      annotations,
      fields: fieldsOf(sample, {
        'spec.rules[].verifyImages[].imageReferences': { every: /^[a-z0-9.:[\]/_-]+(?::\*|@\*|\/\*)$/ },
        [`${entries}.subject`]: { matches: /^[^\u0000-\u001f\u007f]{1,1024}$/ },
        [`${entries}.issuer`]: { matches: /^https:\/\/[^\s]{1,1016}$/ },
        ...selectorRules('spec.rules[].match.any[].resources.namespaceSelector'),
      }),
    },
    { manual: true },
  ];
  return signatureCache;
}

// ---- What a live native object says ----------------------------------------------------------------------

export interface NativeState {
  action?: Action;
  selector?: Record<string, unknown>;
  /** The allow-list it holds, when it is one kube-harden would write. */
  entries?: string[];
}

/** How kube-harden's Kyverno ClusterPolicy or Gatekeeper Constraint acts, what it covers and allows. */
export function nativeState(engine: EngineName, object: KubeObject | undefined): NativeState {
  if (!object) return {};
  const raw = (object as unknown as { spec?: unknown }).spec;
  const spec: J = isMap(raw) ? raw : {};
  if (engine === 'kyverno') {
    const a = String(spec.validationFailureAction ?? 'Audit').toLowerCase();
    const rule = Array.isArray(spec.rules) && isMap(spec.rules[0]) ? (spec.rules[0] as J) : {};
    const any = isMap(rule.match) && Array.isArray(rule.match.any) ? rule.match.any : [];
    const resources = isMap(any[0]) && isMap(any[0].resources) ? any[0].resources : {};
    const cel = isMap(rule.validate) && isMap(rule.validate.cel) ? rule.validate.cel : {};
    const variables = Array.isArray(cel.variables) ? cel.variables : [];
    const allowed = variables.find((v) => isMap(v) && v.name === 'allowed') as
      | { expression?: unknown }
      | undefined;
    const entries =
      typeof allowed?.expression === 'string' ? allowListOfExpression(allowed.expression) : undefined;
    return {
      action: a === 'enforce' ? 'Deny' : 'Warn',
      ...(isMap(resources.namespaceSelector) ? { selector: resources.namespaceSelector } : {}),
      ...(entries ? { entries } : {}),
    };
  }
  const a = String(spec.enforcementAction ?? 'deny').toLowerCase();
  const match = isMap(spec.match) ? spec.match : {};
  const repos = isMap(spec.parameters) && Array.isArray(spec.parameters.repos) ? spec.parameters.repos : [];
  const valid = repos.every((r) => {
    const p = typeof r === 'string' ? parseAllowEntry(r) : undefined;
    return p?.ok === true && p.value === r;
  });
  return {
    // dryrun and warn never refuse anything; anything else (deny, scoped) may.
    action: a === 'warn' || a === 'dryrun' ? 'Warn' : 'Deny',
    ...(isMap(match.namespaceSelector) ? { selector: match.namespaceSelector } : {}),
    ...(valid && repos.length ? { entries: repos as string[] } : {}),
  };
}

// ---- Targets and permissions --------------------------------------------------------------------------------

/** The rules for the fields of `sample`: each leaf one of the values it has there, unless `overrides` says. */
function fieldsOf(sample: KubeObject, overrides: Record<string, ValueRule>): Record<string, ValueRule> {
  const values = leafValues(sample);
  const fields: Record<string, ValueRule> = { ...overrides };
  for (const [pattern, seen] of values) {
    if (pattern.startsWith('metadata.') || pattern === 'apiVersion' || pattern === 'kind') continue;
    if (pattern in overrides) continue;
    fields[pattern] = { oneOf: [...new Set(seen.map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v)) };
  }
  return fields;
}

export const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** The allow-list variable's expression: a CEL list of entries (hosts, ports, IPv6, lower-case paths). */
export const ALLOWED_LIST = String.raw`\[(?:'[a-z0-9.:\[\]/_-]+'(?:, )?)*\]`;
const ENTRY = /^[a-z0-9.:[\]/_-]+$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A namespaceSelector on namespace names, as kube-harden writes it, under `at`. */
function selectorRules(at: string): Record<string, ValueRule> {
  return {
    [at]: { equals: {} },
    [`${at}.matchExpressions[].key`]: { equals: 'kubernetes.io/metadata.name' },
    [`${at}.matchExpressions[].operator`]: { oneOf: ['In', 'NotIn'] },
    [`${at}.matchExpressions[].values`]: { every: NAMESPACE },
  };
}

let cache: ObjectRule[] | undefined;

/** What the native objects of both steps may hold: the templates as they are, only the allow-list, action and selector vary. */
export function nativeTargets(): ObjectRule[] {
  if (cache) return cache;
  const sampleEntries = ['registry.example.com'];
  const kyverno = kyvernoPolicy(sampleEntries, 'Warn', {});
  const sampleList = celStringList(sampleEntries);
  const kyvernoVariables = leafValues(kyverno);
  const fixed = (kyvernoVariables.get('spec.rules[].validate.cel.variables[].expression') ?? [])
    .filter((v) => v !== sampleList)
    .map((v) => escapeRegex(String(v)));
  const labels = {};
  const annotations = (o: KubeObject): Record<string, ValueRule> =>
    Object.fromEntries(Object.entries(o.metadata.annotations ?? {}).map(([k, v]) => [k, { equals: v }]));
  cache = [
    {
      ...KYVERNO_POLICY,
      operations: ['create', 'update'],
      onlyNames: [POLICY_NAME],
      labels,
      annotations: annotations(kyverno),
      fields: fieldsOf(kyverno, {
        'spec.validationFailureAction': { oneOf: ['Audit', 'Enforce'] },
        'spec.rules[].validate.cel.variables[].expression': {
          matches: new RegExp(`^(?:${[...fixed, ALLOWED_LIST].join('|')})$`),
        },
        ...selectorRules('spec.rules[].match.any[].resources.namespaceSelector'),
      }),
    },
    {
      apiVersion: GK_TEMPLATE.apiVersion,
      kind: GK_TEMPLATE.kind,
      operations: ['create', 'update'],
      onlyNames: [GK_TEMPLATE.name],
      labels,
      annotations: annotations(gatekeeperTemplate()),
      fields: fieldsOf(gatekeeperTemplate(), {}),
    },
    {
      ...GK_CONSTRAINT,
      operations: ['create', 'update'],
      onlyNames: [POLICY_NAME],
      labels,
      fields: fieldsOf(gatekeeperConstraint(sampleEntries, 'Warn', {}), {
        'spec.enforcementAction': { oneOf: ['warn', 'deny'] },
        'spec.parameters.repos': { every: ENTRY },
        ...selectorRules('spec.match.namespaceSelector'),
      }),
    },
  ];
  return cache;
}

/** What applying a step with `engine` needs. */
export function nativePermissions(
  engine: EngineName,
): Array<{ verb: string; group: string; resource: string }> {
  const objects =
    engine === 'kyverno'
      ? [{ group: 'kyverno.io', resource: 'clusterpolicies' }]
      : [
          { group: 'templates.gatekeeper.sh', resource: 'constrainttemplates' },
          { group: 'constraints.gatekeeper.sh', resource: 'kubehardenallowedrepos' },
        ];
  return objects.flatMap((o) => [
    { verb: 'create', ...o },
    { verb: 'patch', ...o },
  ]);
}
