/**
 * The engine's work around a run, apart from the store: the verify loop after apply, drift of a saved plan, and
 * staged directory writes (the remediated copy).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../../src/cluster/errors.js';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import type { ClusterReader } from '../../../src/cluster/types.js';
import { planDrift } from '../../../src/engine/drift.js';
import { writeRemediated } from '../../../src/engine/remediate.js';
import { writeStaged } from '../../../src/engine/staging.js';
import type {
  AppliedChange,
  Plan,
  PlannedChange,
  Step,
  StepContext,
  Verification,
} from '../../../src/engine/types.js';
import { appliedChanges, type VerifiableOutcome, verifyRun } from '../../../src/engine/verify.js';
import { UsageError } from '../../../src/errors.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import type { KubeObject, ObjectRef } from '../../../src/k8s/types.js';
import type { Assessment } from '../../../src/policy/assess.js';
import { tempDir, tree } from '../manifests/helpers.js';

const nsRef = (name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'Namespace', name });

function change(id: string, step: string, target: ObjectRef, base: string | null): PlannedChange {
  return {
    id,
    step,
    phase: 1,
    kind: 'apply',
    operation: base === null ? 'create' : 'update',
    target,
    risk: 'low',
    reason: 'test',
    notes: [],
    desired: {
      apiVersion: target.apiVersion,
      kind: target.kind,
      metadata: { name: target.name, labels: { hardened: 'yes' } },
    },
    baseResourceVersion: base,
    diff: { text: '', added: 0, removed: 0 },
    warnings: [],
    preview: 'ok',
  };
}

function plan(changes: PlannedChange[]): Plan {
  return {
    schemaVersion: 1,
    id: '20260101T000000Z-abcd',
    createdAt: '2026-01-01T00:00:00Z',
    source: { kind: 'cluster', context: 'test', server: 'https://127.0.0.1:6443' },
    steps: [],
    changes,
    unknown: [],
  };
}

/** A reader that answers `get` from a map (name → object or error); nothing else is called. */
function reader(objects: Record<string, KubeObject | Error | undefined>): ClusterReader {
  return {
    async get(ref: ObjectRef) {
      const o = objects[ref.name];
      if (o instanceof Error) throw o;
      return { value: o ? structuredClone(o) : undefined, warnings: [] };
    },
  } as unknown as ClusterReader;
}

const ns = (name: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, resourceVersion: rv },
});

describe('verifyRun', () => {
  const p = plan([
    change('a/1', 'a', nsRef('one'), '1'),
    change('a/2', 'a', nsRef('two'), '2'),
    change('b/1', 'b', nsRef('three'), '3'),
    change('c/1', 'c', nsRef('four'), '4'),
  ]);
  const outcomes: VerifiableOutcome[] = [
    { id: 'a/1', step: 'a', outcome: 'applied', object: ns('one', '10'), at: '2026-01-01T00:00:01Z' },
    { id: 'a/2', step: 'a', outcome: 'stale' },
    { id: 'b/1', step: 'b', outcome: 'applied' },
    { id: 'c/1', step: 'c', outcome: 'conflict' },
  ];
  const seen: Record<string, AppliedChange[]> = {};
  const step = (id: string, ok: boolean, withVerify = true): Step<never> =>
    ({
      id,
      ...(withVerify
        ? {
            async verify(ctx: StepContext, applied: AppliedChange[]): Promise<Verification> {
              expect(ctx.signal).toBeInstanceOf(AbortSignal);
              seen[id] = applied;
              return { ok, messages: [`${id} checked ${applied.length}`] };
            },
          }
        : {}),
    }) as unknown as Step<never>;
  const ctx = {
    snapshot: {} as Snapshot,
    assessment: {} as Assessment,
    reader: reader({}),
    options: { namespaces: [], exclude: [], settings: {}, now: new Date() },
  };

  it('verifies each step that applied something, with only its applied changes and their results', async () => {
    const result = await verifyRun(
      [step('a', true), step('b', false), step('c', true), step('d', true, false)],
      p,
      outcomes,
      ctx,
    );
    // c applied nothing (a conflict), d has no verify: neither is verified
    expect(result).toEqual({
      a: { ok: true, messages: ['a checked 1'] },
      b: { ok: false, messages: ['b checked 1'] },
    });
    expect(seen.a?.map((x) => [x.change.id, x.result?.metadata.resourceVersion, x.appliedAt])).toEqual([
      ['a/1', '10', '2026-01-01T00:00:01Z'],
    ]);
    expect(seen.b?.[0]?.result).toBeUndefined();
  });

  it('appliedChanges skips outcomes whose change is not in the plan and stamps a missing time', () => {
    const at = new Date('2026-02-02T00:00:00Z');
    const got = appliedChanges(
      p,
      [
        ...outcomes,
        { id: 'a/ghost', step: 'a', outcome: 'applied' },
        { id: 'a/2', step: 'a', outcome: 'applied' },
      ],
      'a',
      () => at,
    );
    expect(got.map((x) => [x.change.id, x.appliedAt])).toEqual([
      ['a/1', '2026-01-01T00:00:01Z'],
      ['a/2', '2026-02-02T00:00:00.000Z'],
    ]);
  });
});

describe('planDrift', () => {
  it('names each target created, deleted or changed since the plan, and those it cannot read', async () => {
    const p = plan([
      change('s/same', 's', nsRef('same'), '5'),
      change('s/moved', 's', nsRef('moved'), '5'),
      change('s/gone', 's', nsRef('gone'), '5'),
      change('s/new', 's', nsRef('new'), null),
      change('s/still-absent', 's', nsRef('still-absent'), null),
      change('s/secret', 's', nsRef('secret'), '5'),
    ]);
    const forbidden = new ClusterError('namespaces "secret" is forbidden', { reason: 'Forbidden' });
    const moved = await planDrift(
      reader({ same: ns('same', '5'), moved: ns('moved', '9'), new: ns('new', '1'), secret: forbidden }),
      p,
    );
    expect(moved).toEqual([
      'namespace/moved: resourceVersion 5 → 9',
      'namespace/gone: deleted since the plan',
      'namespace/new: created since the plan',
      'namespace/secret: cannot be read (namespaces "secret" is forbidden)',
    ]);
  });

  it('lets any other error through (no plan is applied on a guess)', async () => {
    const p = plan([change('s/x', 's', nsRef('x'), '5')]);
    const down = new ClusterError('connection refused', { reason: 'Connection' });
    await expect(planDrift(reader({ x: down }), p)).rejects.toBe(down);
  });
});

describe('writeStaged', () => {
  it('moves a complete write into a new directory and leaves no staging sibling', async () => {
    const parent = await tempDir();
    const out = path.join(parent, 'out');
    const result = await writeStaged(out, async (staging) => {
      expect(path.dirname(staging)).toBe(parent);
      await fs.mkdir(staging);
      await fs.writeFile(path.join(staging, 'a.txt'), 'a');
      return 42;
    });
    expect(result).toBe(42);
    expect(await fs.readdir(parent)).toEqual(['out']);
    expect(await fs.readFile(path.join(out, 'a.txt'), 'utf8')).toBe('a');
  });

  it('takes an empty directory, refuses a non-empty one (nothing written), replaces one when told', async () => {
    const parent = await tempDir();
    const out = path.join(parent, 'out');
    await fs.mkdir(out);
    const write = (name: string) => async (staging: string) => {
      await fs.mkdir(staging);
      await fs.writeFile(path.join(staging, name), name);
    };
    await writeStaged(out, write('first'));
    const refused = await writeStaged(out, write('second'), { display: '--out out' }).catch((e) => e);
    expect(refused).toBeInstanceOf(UsageError);
    expect(refused.message).toBe('--out out is not empty');
    expect(await fs.readdir(parent)).toEqual(['out']);
    expect(await fs.readdir(out)).toEqual(['first']);
    await writeStaged(out, write('third'), { replace: true });
    expect(await fs.readdir(out)).toEqual(['third']);
  });

  it('on a failed write removes the staging directory and keeps the previous tree', async () => {
    const parent = await tempDir();
    const out = path.join(parent, 'out');
    await fs.mkdir(out);
    await fs.writeFile(path.join(out, 'keep.txt'), 'keep');
    const boom = new Error('disk full');
    const failed = writeStaged(
      out,
      async (staging) => {
        await fs.mkdir(staging);
        await fs.writeFile(path.join(staging, 'half.txt'), 'half');
        throw boom;
      },
      { replace: true },
    );
    await expect(failed).rejects.toBe(boom);
    expect(await fs.readdir(parent)).toEqual(['out']);
    expect(await fs.readdir(out)).toEqual(['keep.txt']);
  });
});

describe('writeRemediated', () => {
  it('layers the changes onto the source objects in a copy; the source stays as it was', async () => {
    const src = await tree({
      'ns.yaml': '# the shop\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n',
      'README.md': 'hello\n',
    });
    const source = await ManifestSource.load(src);
    const out = path.join(await tempDir(), 'hardened');
    const copy = await writeRemediated(source, [change('x/shop', 'x', nsRef('shop'), null)], out);
    expect(copy.rewritten).toEqual(['ns.yaml']);
    expect(copy.copied).toEqual(['README.md']);
    expect(await fs.readFile(path.join(out, 'ns.yaml'), 'utf8')).toContain('hardened: "yes"');
    expect(await fs.readFile(path.join(src, 'ns.yaml'), 'utf8')).not.toContain('hardened');
  });
});

describe('remediated copy of a delete', () => {
  it('drops the deleted object from the copy and keeps the rest of its file', async () => {
    const src = await tree({
      'ns.yaml': `${'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n'}---\n# keep me\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n`,
    });
    const source = await ManifestSource.load(src);
    const out = path.join(await tempDir(), 'hardened');
    const del: PlannedChange = {
      ...change('x/old', 'x', nsRef('old'), '1'),
      kind: 'delete',
      operation: 'delete',
    };
    delete del.desired;
    const copy = await writeRemediated(source, [del], out);
    expect(copy.rewritten).toEqual(['ns.yaml']);
    const text = await fs.readFile(path.join(out, 'ns.yaml'), 'utf8');
    expect(text).toContain('name: shop');
    expect(text).not.toContain('name: old');
  });
});
