/**
 * registries-warn / registries-enforce (phase 5): the allow-list in effect, the namespaces the binding covers,
 * the enforce gate (nothing running would be denied, nothing unknown), and what a saved plan may hold.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterReader } from '../../../src/cluster/types.js';
import { outsideTargets } from '../../../src/engine/targets.js';
import type { Change, PlannedChange, Step, StepOptions } from '../../../src/engine/types.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import type { KubeObject } from '../../../src/k8s/types.js';
import {
  allowListOfPolicy,
  mergeSelector,
  POLICY_NAME,
  registryBinding,
  registryPolicy,
} from '../../../steps/kit/registries.js';
import { registriesEnforce } from '../../../steps/registries-enforce.js';
import { registriesWarn } from '../../../steps/registries-warn.js';
import { container, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { fakePolicyServer } from '../../support/registries-xcheck-server.js';
import { offlinePlanned, runStep } from '../../support/step-run.js';

// biome-ignore lint/suspicious/noExplicitAny: generated objects, read by path in assertions
type Obj = Record<string, any>;

/** A reader whose live objects are `objects` (by kind). */
const liveReader = (objects: Record<string, KubeObject | undefined>) =>
  ({
    capabilities: { dryRun: true, reviews: true },
    get: async (ref: { kind: string }) => ({ value: objects[ref.kind], warnings: [] }),
  }) as unknown as ClusterReader;

const run = (step: Step<never>, snap: Snapshot, opts: Partial<StepOptions> = {}, reader?: ClusterReader) =>
  runStep(step, snap, { ...opts, ...(reader ? { reader } : {}) });

const warn = registriesWarn as unknown as Step<never>;
const enforce = registriesEnforce as unknown as Step<never>;

const img = (name: string, image: string) => container(name, { image });

function cluster(extra: Partial<Snapshot> = {}): Snapshot {
  return snapshot({
    namespaces: [ns('kube-system'), ns('shop'), ns('blog')],
    workloads: [
      workload(
        'Deployment',
        'shop',
        'api',
        restrictedSpec({ containers: [img('api', 'ghcr.io/acme/api:1')] }),
        {
          pods: 1,
        },
      ),
      workload(
        'StatefulSet',
        'blog',
        'db',
        restrictedSpec({
          initContainers: [img('init', 'busybox:1.36')],
          containers: [img('db', 'registry.example.com:5000/db/postgres:16')],
        }),
      ),
      workload(
        'DaemonSet',
        'kube-system',
        'agent',
        restrictedSpec({ containers: [img('a', 'evil.example/a')] }),
      ),
    ],
    ...extra,
  });
}

const applies = (changes: Change[]) =>
  changes.map((c) => (c.kind === 'apply' ? c.desired : undefined)) as unknown as Array<Obj>;

const planned = (step: string, change: Change, operation: 'create' | 'update' = 'create') =>
  offlinePlanned(change, { step, phase: 5, operation });

describe('registries-warn', () => {
  it('defaults the allow-list to the registry hosts in use outside system namespaces; binds [Warn, Audit] everywhere but system namespaces', async () => {
    const { facts, changes, findings } = await run(warn, cluster());
    const f = facts as unknown as { allow: { entries: string[]; source: string } };
    expect(f.allow).toEqual({
      entries: ['docker.io', 'ghcr.io', 'registry.example.com:5000'],
      source: 'in-use',
    });
    expect(changes.map((c) => c.id)).toEqual(['registries-warn/policy', 'registries-warn/binding']);
    const [policy, binding] = applies(changes);
    expect(policy?.metadata.name).toBe(POLICY_NAME);
    expect(policy?.spec.variables[0]).toEqual({
      name: 'allowed',
      expression: "['docker.io', 'ghcr.io', 'registry.example.com:5000']",
    });
    expect(binding?.spec.validationActions).toEqual(['Warn', 'Audit']);
    const sel = binding?.spec.matchResources.namespaceSelector;
    expect(sel.matchExpressions[0]).toMatchObject({ key: 'kubernetes.io/metadata.name', operator: 'NotIn' });
    expect(sel.matchExpressions[0].values).toEqual(expect.arrayContaining(['kube-system', 'kube-public']));
    expect(sel.matchExpressions[0].values).not.toContain('shop');
    expect(changes.every((c) => c.risk === 'low')).toBe(true);
    expect(changes[0]?.notes?.join('\n')).toMatch(/docker.io allows every Docker Hub image/);
    expect(findings.map((x) => x.control)).toEqual(['KH-IMAGE-REGISTRY-UNRESTRICTED']);
  });

  it('-n: the binding names exactly the namespaces in scope; --exclude-namespace is left out of an all-namespaces binding', async () => {
    const named = await run(warn, cluster(), { namespaces: ['shop'] });
    expect(applies(named.changes)[1]?.spec.matchResources.namespaceSelector).toEqual({
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop'] }],
    });
    expect((named.facts as unknown as { allow: { entries: string[] } }).allow.entries).toEqual(['ghcr.io']);
    const excluded = await run(warn, cluster(), { exclude: ['blog'] });
    expect(
      applies(excluded.changes)[1]?.spec.matchResources.namespaceSelector.matchExpressions[0].values,
    ).toContain('blog');
  });

  it('system namespaces only when chosen: then their registries join the default list', async () => {
    const { changes, facts } = await run(warn, cluster(), {
      settings: { 'registries-warn.includeSystemNamespaces': 'yes' },
    });
    expect((facts as unknown as { allow: { entries: string[] } }).allow.entries).toContain('evil.example');
    expect(applies(changes)[1]?.spec.matchResources.namespaceSelector).toEqual({});
  });

  it('--allow-registry: reports each image use it would warn about, init containers and old pods included', async () => {
    const snap = cluster();
    snap.workloads.push(
      workload(
        'Deployment',
        'shop',
        'web',
        restrictedSpec({ containers: [img('web', 'ghcr.io/acme/web:2')] }),
        {
          podSpecs: [restrictedSpec({ containers: [img('web', 'ghcr.io/acme-old/web:1')] })],
        },
      ),
    );
    const { findings, changes } = await run(warn, snap, {
      settings: { 'registries-warn.allow': ['ghcr.io/acme'] },
    });
    expect(findings.filter((f) => f.control === 'KH-IMAGE-UNTRUSTED-REGISTRY').map((f) => f.message)).toEqual(
      [
        'StatefulSet blog/db: container db uses registry.example.com:5000/db/postgres:16 — registry registry.example.com:5000 is not allowed',
        'StatefulSet blog/db: initContainer init uses busybox:1.36 — registry docker.io is not allowed',
        'Deployment shop/web (pod web-old-0): container web uses ghcr.io/acme-old/web:1 — ghcr.io/acme-old/web is not under an allowed path of ghcr.io (ghcr.io/acme)',
      ],
    );
    expect(changes).toHaveLength(2);
  });

  it('never loosens a denying binding', async () => {
    const snap = cluster({
      admissionPolicies: [
        {
          kind: 'ValidatingAdmissionPolicyBinding',
          name: POLICY_NAME,
          labels: {},
          policyName: POLICY_NAME,
          validationActions: ['Deny', 'Audit'],
        },
      ],
    });
    const { changes, findings } = await run(warn, snap);
    expect(changes).toEqual([]);
    expect(findings.map((f) => f.control)).not.toContain('KH-IMAGE-REGISTRY-UNRESTRICTED');
  });

  it('reads the binding live: one that denies since the inventory is never loosened', async () => {
    const live = registryBinding('Deny', {});
    const { changes } = await run(
      warn,
      cluster(),
      {},
      liveReader({ ValidatingAdmissionPolicyBinding: live }),
    );
    expect(changes).toEqual([]);
  });

  it('a binding that could not be read: no warn binding (unknown is not compliant), said as a finding', async () => {
    const snap = cluster({
      unknown: [
        {
          resource: 'validatingadmissionpolicybindings.admissionregistration.k8s.io',
          reason: 'Forbidden',
          message: 'no',
        },
      ],
    });
    const { changes, findings } = await run(warn, snap);
    expect(changes).toEqual([]);
    expect(findings.map((f) => [f.control, f.target.kind])).toContainEqual([
      'KH-UNKNOWN',
      'ValidatingAdmissionPolicyBinding',
    ]);
  });

  it('keeps the allow-list of the live policy rather than widening it to what is in use', async () => {
    const live = registryPolicy(['ghcr.io/acme']);
    expect(allowListOfPolicy(live)).toEqual(['ghcr.io/acme']);
    const { facts } = await run(warn, cluster(), {}, liveReader({ ValidatingAdmissionPolicy: live }));
    expect((facts as unknown as { allow: unknown }).allow).toEqual({
      entries: ['ghcr.io/acme'],
      source: 'live-policy',
    });
    // A policy someone edited by hand into something else is not trusted as a list.
    const edited = registryPolicy(['ghcr.io']) as unknown as {
      spec: { variables: Array<{ expression: string }> };
    };
    (edited.spec.variables[0] as { expression: string }).expression = "['ghcr.io'] + ['x']";
    expect(allowListOfPolicy(edited as unknown as KubeObject)).toBeUndefined();
  });

  it('nothing in use and no --allow-registry: no policy (an empty list would deny everything)', async () => {
    const { changes, explanation } = await run(warn, snapshot({ namespaces: [ns('empty')] }));
    expect(changes).toEqual([]);
    expect(explanation.why).toMatch(/--allow-registry/);
  });
});

describe('registries-enforce', () => {
  it('is proposed when nothing covered would be denied: the same policy, binding [Deny, Audit]', async () => {
    const { changes } = await run(enforce, cluster());
    const [policy, binding] = applies(changes);
    const warned = applies((await run(warn, cluster())).changes);
    expect(policy).toEqual(warned[0]);
    expect(binding?.spec.validationActions).toEqual(['Deny', 'Audit']);
    expect(binding?.spec.matchResources).toEqual(warned[1]?.spec.matchResources);
    expect(changes.every((c) => c.risk === 'disruptive')).toBe(true);
  });

  it('is not proposed while anything covered would be denied, and lists what and why', async () => {
    const { changes, findings, explanation } = await run(enforce, cluster(), {
      settings: { 'registries-warn.allow': ['ghcr.io/acme', 'registry.example.com:5000'] },
    });
    expect(changes).toEqual([]);
    expect(findings.map((f) => [f.control, f.target.name])).toEqual([
      ['KH-IMAGE-REGISTRY-ENFORCE-BLOCKED', 'blog'],
    ]);
    expect(findings[0]?.message).toMatch(
      /initContainer init uses busybox:1.36 — registry docker.io is not allowed/,
    );
    expect(explanation.why).toMatch(/Not proposed: 1 image use\(s\) running today would be denied/);
    expect(explanation.impact).toMatch(/busybox/);
  });

  it('an ephemeral container of a live pod blocks it too', async () => {
    const snap = cluster();
    snap.workloads.push(
      workload(
        'Pod',
        'shop',
        'debug',
        restrictedSpec({
          containers: [img('app', 'ghcr.io/acme/app:1')],
          ephemeralContainers: [img('debugger', 'evil.example/tools')],
        }),
        { pods: 1 },
      ),
    );
    const { changes, findings } = await run(enforce, snap, {
      settings: { 'registries-warn.allow': ['ghcr.io', 'docker.io', 'registry.example.com:5000'] },
    });
    expect(changes).toEqual([]);
    expect(findings[0]?.message).toMatch(
      /Pod shop\/debug: ephemeralContainer debugger uses evil.example\/tools/,
    );
  });

  it('unknown is not compliant: a namespace whose workloads could not be read blocks it', async () => {
    const snap = cluster({
      unknown: [{ resource: 'deployments.apps', namespace: 'blog', reason: 'Forbidden', message: 'no' }],
    });
    const { changes, findings } = await run(enforce, snap);
    expect(changes).toEqual([]);
    expect(findings.map((f) => f.control)).toContain('KH-UNKNOWN');
  });
});

describe('a run limited with -n never narrows the binding in place', () => {
  const inNs = (...values: string[]) => ({
    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values }],
  });
  const notIn = {
    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }],
  };

  it('mergeSelector: named namespaces join the live ones; all-namespace bindings are kept; an -A run decides', () => {
    expect(mergeSelector(inNs('shop'), undefined)).toEqual({ selector: inNs('shop'), wider: undefined });
    expect(mergeSelector(inNs('shop'), inNs('blog'))).toEqual({
      selector: inNs('blog', 'shop'),
      wider: 'the binding in place also covers blog',
    });
    expect(mergeSelector(inNs('blog', 'shop'), inNs('shop'))).toEqual({
      selector: inNs('blog', 'shop'),
      wider: undefined,
    });
    expect(mergeSelector(inNs('shop'), notIn).selector).toEqual(notIn);
    expect(mergeSelector(inNs('shop'), {}).selector).toEqual({});
    expect(mergeSelector(notIn, inNs('shop'))).toEqual({ selector: notIn, wider: undefined });
  });

  it('warn keeps the wider binding (with a note); enforce refuses what this run did not evaluate', async () => {
    const live = registryBinding('Warn', notIn);
    const reader = liveReader({ ValidatingAdmissionPolicyBinding: live });
    const w = await run(warn, cluster(), { namespaces: ['shop'] }, reader);
    expect(applies(w.changes)[1]?.spec.matchResources.namespaceSelector).toEqual(notIn);
    expect(w.changes[0]?.notes?.join('\n')).toContain('covers all namespaces but the system ones: kept');
    const e = await run(enforce, cluster(), { namespaces: ['shop'] }, reader);
    expect(e.changes).toEqual([]);
    expect(e.explanation.why).toMatch(/which this run did not evaluate/);
    // Over the namespaces it covers, enforce is proposed again (the server's cross-check agreeing).
    const inUse = ((await run(warn, cluster())).facts as { allow: { entries: string[] } }).allow.entries;
    const server = fakePolicyServer(inUse, 'Warn', { selector: notIn });
    const noSoak = { settings: { 'registries-enforce.soak': 0 } };
    expect((await run(enforce, cluster(), noSoak, server.reader)).changes).toHaveLength(2);
  });
});

describe('targets (what apply --plan accepts)', () => {
  it('accepts what the steps propose', async () => {
    for (const [step, s] of [
      ['registries-warn', warn],
      ['registries-enforce', enforce],
    ] as const) {
      const { changes } = await run(s, cluster(), { namespaces: ['shop', 'blog'] });
      for (const c of changes) expect(outsideTargets(planned(step, c), s.targets, undefined)).toBeUndefined();
    }
  });

  it('refuses a saved policy whose CEL was changed, another name, or a binding with other actions', async () => {
    const { changes } = await run(warn, cluster());
    const [policyChange, bindingChange] = changes.map((c) => planned('registries-warn', c));
    const tamper = (c: PlannedChange | undefined, edit: (d: Obj) => void) => {
      const copy = structuredClone(c) as PlannedChange;
      edit(copy.desired as unknown as Obj);
      return outsideTargets(copy, warn.targets, undefined);
    };
    expect(tamper(policyChange, (d) => (d.spec.variables[0].expression = 'true ? [] : []'))).toMatch(
      /never sets field spec.variables\[\].expression/,
    );
    expect(tamper(policyChange, (d) => (d.spec.validations[0].expression = 'true'))).toMatch(/never sets/);
    expect(tamper(policyChange, (d) => (d.spec.failurePolicy = 'Ignore'))).toMatch(/never sets/);
    expect(
      tamper(policyChange, (d) => (d.spec.variables[0].expression = "['ghcr.io', 'quay.io']")),
    ).toBeUndefined();
    expect(tamper(bindingChange, (d) => (d.spec.validationActions = ['Deny', 'Warn']))).toMatch(/never sets/);
    const renamed = structuredClone(policyChange) as PlannedChange;
    (renamed.target as { name: string }).name = 'other';
    expect(outsideTargets(renamed, warn.targets, undefined)).toMatch(/never touches/);
  });
});
