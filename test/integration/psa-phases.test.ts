/**
 * The Pod Security phases against the real control plane: phase 1 (warn + audit) on the bundled legacy example,
 * phase 2 (enforce) where the API server's own check is blind (a Deployment scaled to zero), undo of phase 2, and
 * the offline plan of both phases checked field by field against docs/plan-schema.md.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPlanDir } from '../../src/engine/plan-file.js';
import type { Plan } from '../../src/engine/types.js';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import type { SessionOptions } from '../../src/store/session.js';
import { createHardenStore, type HardenStore } from '../../src/store/store.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { repoRoot, runCli } from '../support/cli.js';
import { applyExample } from '../support/example.js';

const APPLICATION = ['ci', 'data', 'legacy-batch', 'payments', 'shop'];
const INFRASTRUCTURE = ['cert-manager', 'ingress-nginx', 'monitoring'];
const SYSTEM = ['kube-system', 'kube-public', 'kube-node-lease'];
const PSA = 'pod-security.kubernetes.io/';

type Meta = { labels: Record<string, string>; annotations: Record<string, string> };

async function metaOf(names: string[]): Promise<Record<string, Meta>> {
  const out: Record<string, Meta> = {};
  for (const n of names) {
    const ns = await kubectlJson<KubeObject>(['get', 'namespace', n]);
    out[n] = { labels: ns.metadata.labels ?? {}, annotations: ns.metadata.annotations ?? {} };
  }
  return out;
}

function storeFor(namespaces: string[], env: NodeJS.ProcessEnv): HardenStore {
  const options: SessionOptions = {
    kubeconfig: clusterInfo().adminKubeconfig,
    scope: { namespaces, exclude: [] },
    readOnly: false,
    now: () => new Date(),
    env,
  };
  return createHardenStore({ options });
}

async function plan(store: HardenStore, steps: string[]): Promise<Plan> {
  await store.getState().connect();
  await store.getState().inventory();
  return store.getState().planSteps(steps);
}

describeCluster('Pod Security phases (live)', () => {
  let env: NodeJS.ProcessEnv;
  let version: string;

  beforeAll(() => {
    env = { ...process.env, XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'kh-state-')) };
    const m = /^v1\.(\d+)\./.exec(clusterInfo().version);
    version = `v1.${m?.[1]}`;
  });

  it('phase 1 on the legacy example labels exactly the application and infrastructure namespaces at their targets, pinned; apply, then plan again: no changes', async () => {
    const all = [...APPLICATION, ...INFRASTRUCTURE, ...SYSTEM];
    // The inventory tests load the example too, and delete it afterwards (without waiting): apply only once its
    // namespaces are not terminating. The apply is idempotent (server-side, the same field manager).
    await waitFor(
      async () => {
        const list = await kubectlJson<{
          items: Array<{ metadata: { name: string }; status?: { phase?: string } }>;
        }>(['get', 'namespaces']);
        return !list.items.some((n) => all.includes(n.metadata.name) && n.status?.phase === 'Terminating');
      },
      { what: 'the example namespaces to finish terminating', timeoutMs: 150_000, intervalMs: 1000 },
    );
    await applyExample();
    const before = await metaOf(all);
    const store = storeFor(all, env);
    try {
      const first = await plan(store, ['psa-warn-audit']);
      expect(first.changes.map((c) => c.target?.name).sort()).toEqual(
        [...APPLICATION, ...INFRASTRUCTURE].sort(),
      );
      for (const c of first.changes) {
        const name = c.target?.name as string;
        const level = APPLICATION.includes(name) ? 'restricted' : 'baseline';
        expect(c.preview, name).toBe('ok');
        expect(c.desired?.metadata.labels, name).toMatchObject({
          [`${PSA}warn`]: level,
          [`${PSA}warn-version`]: version,
          [`${PSA}audit`]: level,
          [`${PSA}audit-version`]: version,
        });
        // Never an enforce label in phase 1.
        expect(
          Object.keys(c.desired?.metadata.labels ?? {}).filter((k) => k.startsWith(`${PSA}enforce`)),
        ).toEqual([]);
      }
      // The API server was asked what enforcing would say about today's pods (shop has running, violating pods).
      expect(first.changes.find((c) => c.target?.name === 'shop')?.notes.join('\n')).toContain(
        'existing pods in namespace "shop" violate the new PodSecurity enforce level',
      );

      store.getState().selectAll();
      const report = await store.getState().apply();
      expect(report.outcomes.map((o) => o.outcome)).toEqual(first.changes.map(() => 'applied'));
      const after = await metaOf(all);
      for (const n of SYSTEM) expect(after[n], n).toEqual(before[n]);
      for (const n of [...APPLICATION, ...INFRASTRUCTURE]) {
        const level = APPLICATION.includes(n) ? 'restricted' : 'baseline';
        expect(after[n]?.labels[`${PSA}warn`], n).toBe(level);
        expect(after[n]?.labels[`${PSA}audit-version`], n).toBe(version);
      }
      // payments already enforced restricted:v1.30: untouched.
      expect(after.payments?.labels[`${PSA}enforce`]).toBe('restricted');
      expect(after.payments?.labels[`${PSA}enforce-version`]).toBe('v1.30');

      const again = await plan(storeFor(all, env), ['psa-warn-audit']);
      expect(again.changes).toEqual([]);

      // Leave the example as it was for the other test files.
      await store.getState().planUndo(report.runId);
      const undone = await store.getState().applyUndo();
      expect(undone.map((o) => o.outcome).filter((o) => o !== 'restored')).toEqual([]);
      expect(await metaOf(all)).toEqual(before);
    } finally {
      store.getState().close();
    }
  });

  it('phase 2 refuses restricted for a namespace whose only violating Deployment is scaled to zero — which the server misses — and proposes baseline', async () => {
    const ns = await freshNamespace('enforce-zero');
    await applyYaml(scaledToZero('legacy'), ns);
    // The API server's own check sees no pods, so it has nothing to say about restricted.
    const server = await kubectlRaw([
      'label',
      '--dry-run=server',
      '--overwrite',
      'namespace',
      ns,
      `${PSA}enforce=restricted`,
    ]);
    expect(server.exitCode).toBe(0);
    expect(server.stderr).not.toContain('violate');
    const store = storeFor([ns], env);
    try {
      const p = await plan(store, ['psa-enforce']);
      expect(p.changes).toHaveLength(1);
      const change = p.changes[0];
      expect(change?.desired?.metadata.labels).toMatchObject({
        [`${PSA}enforce`]: 'baseline',
        [`${PSA}enforce-version`]: version,
      });
      expect(change?.reason).toContain('restricted is blocked; proposing baseline');
      expect(change?.notes.join('\n')).toContain(
        'target restricted is blocked by: Deployment legacy (allowPrivilegeEscalation, capabilities_restricted, runAsNonRoot, seccompProfile_restricted)',
      );
      expect(p.steps[0]?.findings.map((f) => f.control)).toContain('KH-PSA-ENFORCE-BLOCKED');
      // The preview is the real server's dry-run of the label: baseline has no complaint either.
      expect(change?.preview).toBe('ok');
      expect(change?.warnings.filter((w) => w.includes('violate'))).toEqual([]);
    } finally {
      store.getState().close();
    }
  });

  it('undo of phase 2 restores the previous labels exactly (including a looser enforce label someone else set)', async () => {
    const ns = await freshNamespace('enforce-undo');
    await applyYaml(scaledToZero('legacy'), ns);
    await kubectl([
      'label',
      'namespace',
      ns,
      `${PSA}enforce=privileged`,
      `${PSA}warn=restricted`,
      'team=payments',
    ]);
    await kubectl(['annotate', 'namespace', ns, 'owner=team-a']);
    const before = (await metaOf([ns]))[ns];
    const store = storeFor([ns], env);
    try {
      const p = await plan(store, ['psa-enforce']);
      const change = p.changes[0];
      // enforce=privileged belongs to kubectl-label: a conflict to take over explicitly, never forced silently.
      expect(change?.conflicts).toEqual([
        { manager: 'kubectl-label', field: `.metadata.labels.${PSA}enforce` },
      ]);
      store.getState().selectAll();
      store.getState().setTakeOver(change?.id as string, true);
      const report = await store.getState().apply();
      expect(report.outcomes.map((o) => o.outcome)).toEqual(['applied']);
      const applied = (await metaOf([ns]))[ns];
      expect(applied?.labels[`${PSA}enforce`]).toBe('baseline');
      expect(applied?.labels[`${PSA}enforce-version`]).toBe(version);
      expect(store.getState().verifications['psa-enforce']?.ok).toBe(true);

      await store.getState().planUndo(report.runId);
      const undone = await store.getState().applyUndo();
      expect(undone.map((o) => o.outcome)).toEqual(['restored']);
      expect((await metaOf([ns]))[ns]).toEqual(before);
    } finally {
      store.getState().close();
    }
  });
});

function scaledToZero(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 0
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: app, image: registry.example.com/legacy/app:1.0}]
`;
}

// ---------------------------------------------------------------------------------------------------------------
// The plan contract, offline (no cluster needed)

interface FieldDoc {
  type: string;
  presence: 'always' | 'optional';
}

/** The field tables of docs/plan-schema.md, by section heading (`plan.json` top level, `changes[]`, …). */
function documentedFields(): Record<string, Record<string, FieldDoc>> {
  const text = readFileSync(join(repoRoot, 'docs', 'plan-schema.md'), 'utf8');
  const out: Record<string, Record<string, FieldDoc>> = {};
  let section: string | undefined;
  for (const line of text.split('\n')) {
    const h = /^#{2,3} `([^`]+)`/.exec(line);
    if (h) {
      section = h[1];
      continue;
    }
    if (/^#{1,3} /.test(line)) section = undefined;
    const row = /^\| `([A-Za-z]+)` \| (.+?) \| (always|optional) \|/.exec(line);
    if (section && row) {
      out[section] ??= {};
      (out[section] as Record<string, FieldDoc>)[row[1] as string] = {
        type: (row[2] as string).replace(/\\\|/g, '|').trim(),
        presence: row[3] as FieldDoc['presence'],
      };
    }
  }
  return out;
}

function typeOk(type: string, value: unknown): boolean {
  return type.split('|').some((t) => {
    switch (t.trim()) {
      case '`1`':
        return value === 1;
      case 'string':
        return typeof value === 'string';
      case 'null':
        return value === null;
      case 'integer':
        return Number.isInteger(value);
      case 'boolean':
        return typeof value === 'boolean';
      case 'array':
        return Array.isArray(value);
      case 'object':
        return value !== null && typeof value === 'object' && !Array.isArray(value);
      default:
        throw new Error(`docs/plan-schema.md: unknown type "${t}"`);
    }
  });
}

/** Every key documented (and of its type), every "always" key present. Returns the problems. */
function conform(value: Record<string, unknown>, fields: Record<string, FieldDoc>, where: string): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const doc = fields[k];
    if (!doc) problems.push(`${where}.${k} is not documented`);
    else if (!typeOk(doc.type, v)) problems.push(`${where}.${k} is not ${doc.type}: ${JSON.stringify(v)}`);
  }
  for (const [k, doc] of Object.entries(fields)) {
    if (doc.presence === 'always' && !(k in value)) problems.push(`${where}.${k} is missing`);
  }
  return problems;
}

function checkPlan(json: Record<string, unknown>): string[] {
  const docs = documentedFields();
  const problems = conform(json, docs['plan.json'] ?? {}, 'plan');
  for (const [i, s] of (json.steps as Array<Record<string, unknown>>).entries()) {
    problems.push(...conform(s, docs['steps[]'] ?? {}, `steps[${i}]`));
  }
  for (const [i, c] of (json.changes as Array<Record<string, unknown>>).entries()) {
    problems.push(...conform(c, docs['changes[]'] ?? {}, `changes[${i}]`));
    if (c.target)
      problems.push(...conform(c.target as never, docs['changes[].target'] ?? {}, `changes[${i}].target`));
    problems.push(...conform(c.diff as never, docs['changes[].diff'] ?? {}, `changes[${i}].diff`));
  }
  return problems;
}

describe('plan contract (offline)', () => {
  it('docs/plan-schema.md documents the fields the plan contract names', () => {
    const docs = documentedFields();
    for (const k of ['schemaVersion', 'createdAt', 'context', 'server', 'serverVersion', 'changes']) {
      expect(docs['plan.json']?.[k], k).toBeDefined();
    }
    for (const k of ['id', 'step', 'target', 'baseResourceVersion', 'desired', 'risk']) {
      expect(docs['changes[]']?.[k], k).toBeDefined();
    }
    expect(Object.keys(docs['changes[].target'] ?? {})).toEqual(['apiVersion', 'kind', 'namespace', 'name']);
    // The checker can fail: an undocumented or mistyped field is reported.
    expect(conform({ schemaVersion: 2, extra: true }, docs['plan.json'] ?? {}, 'plan')).toEqual(
      expect.arrayContaining([
        'plan.schemaVersion is not `1`: 2',
        'plan.extra is not documented',
        'plan.id is missing',
      ]),
    );
  });

  it('kube-harden plan --step psa-warn-audit --step psa-enforce works offline on the example and its JSON matches the contract', async () => {
    const r = await runCli([
      'plan',
      '--manifests',
      'examples/legacy-cluster',
      '--step',
      'psa-warn-audit',
      '--step',
      'psa-enforce',
      '-o',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const json = JSON.parse(r.stdout) as Record<string, unknown> & {
      changes: Array<Record<string, unknown>>;
    };
    expect(checkPlan(json)).toEqual([]);
    expect(json).toMatchObject({
      schemaVersion: 1,
      context: null,
      server: null,
      serverVersion: null,
      source: { kind: 'manifests', path: 'examples/legacy-cluster' },
    });
    expect(Number.isNaN(Date.parse(json.createdAt as string))).toBe(false);
    expect(json.changes.map((c) => c.id)).toEqual([
      ...[...INFRASTRUCTURE, ...APPLICATION].sort().map((n) => `psa-warn-audit/namespace/${n}`),
      // legacy-batch: even baseline is blocked (a privileged Deployment scaled to zero, a hostPath pod);
      // payments already enforces restricted.
      ...['cert-manager', 'ci', 'data', 'ingress-nginx', 'shop'].map((n) => `psa-enforce/namespace/${n}`),
    ]);
    for (const c of json.changes) {
      const target = c.target as { apiVersion: string; kind: string; name: string; namespace?: string };
      const desired = c.desired as KubeObject;
      expect(target).toEqual({ apiVersion: 'v1', kind: 'Namespace', name: target.name });
      expect([desired.apiVersion, desired.kind, desired.metadata.name]).toEqual([
        'v1',
        'Namespace',
        target.name,
      ]);
      expect(c.baseResourceVersion).toBeNull();
      expect(c.risk).toBe(c.step === 'psa-enforce' ? 'disruptive' : 'low');
      expect(c.preview).toBe('offline');
    }
    const shop = json.changes.find((c) => c.id === 'psa-enforce/namespace/shop');
    expect((shop?.desired as KubeObject | undefined)?.metadata.labels?.[`${PSA}enforce`]).toBe('baseline');

    // The same plan written with --out reads back through apply's validation.
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const written = await runCli([
      'plan',
      '--manifests',
      'examples/legacy-cluster',
      '--step',
      'psa-warn-audit',
      '--step',
      'psa-enforce',
      '--out',
      dir,
    ]);
    expect(written.code, written.stderr).toBe(ExitCode.ok);
    const file = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Record<string, unknown>;
    expect(checkPlan(file)).toEqual([]);
    expect(readPlanDir(dir).changes.map((c) => c.id)).toEqual(json.changes.map((c) => c.id));
    // An offline plan cannot be applied to a cluster.
    const refused = await runCli(['apply', '--plan', dir, '--yes']);
    expect(refused.code).toBe(ExitCode.usage);
    expect(refused.stderr).toContain('was made offline from manifests');
  });
});
