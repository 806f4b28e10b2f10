/**
 * Saved plans on disk: manual changes keep their artifact in DIR/artifacts/<step>/<file> with the instructions in
 * PLAN.md and read back; delete changes read as deletes; the seal (digest) covers plan.json, PLAN.md and every
 * file the reviewer reads, and any edit is refused naming what differs.
 */
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeList, exitCodeOf, printReport } from '../../../src/commands/apply.js';
import { parseDigest } from '../../../src/engine/digest.js';
import { readPlanDir, verifyPlanSeal, writePlanDir } from '../../../src/engine/plan-file.js';
import type { Plan, PlannedChange } from '../../../src/engine/types.js';
import { ExitCode, InputError } from '../../../src/errors.js';

const empty = { text: '', added: 0, removed: 0 };

function change(
  over: Partial<PlannedChange> & Pick<PlannedChange, 'id' | 'kind' | 'operation'>,
): PlannedChange {
  return {
    step: 'demo',
    phase: 1,
    risk: 'low',
    reason: 'because',
    notes: [],
    baseResourceVersion: null,
    diff: empty,
    warnings: [],
    preview: 'ok',
    ...over,
  };
}

const labelled: PlannedChange = change({
  id: 'demo/namespace/shop',
  kind: 'apply',
  operation: 'update',
  target: { apiVersion: 'v1', kind: 'Namespace', name: 'shop' },
  desired: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { a: 'b' } } },
  baseResourceVersion: '41',
  diff: { text: '+  a: b\n', added: 1, removed: 0 },
});

const manual: PlannedChange = change({
  id: 'demo/audit-policy',
  kind: 'manual',
  operation: 'manual',
  risk: 'manual',
  preview: 'offline',
  // A step's suggested name; a path with folders (even `..`) lands inside artifacts/<step>/.
  artifact: { path: '../../etc/audit-policy.yaml', content: 'apiVersion: audit.k8s.io/v1\nkind: Policy\n' },
  instructions: 'Copy the file to /etc/kubernetes/audit-policy.yaml on every control-plane node.',
});

const deletion: PlannedChange = change({
  id: 'demo/delete/old-binding',
  kind: 'delete',
  operation: 'delete',
  risk: 'disruptive',
  target: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    name: 'old-binding',
  },
  baseResourceVersion: '7',
  diff: { text: '-kind: ClusterRoleBinding\n', added: 0, removed: 1 },
});

function plan(changes: PlannedChange[]): Plan {
  return {
    schemaVersion: 1,
    id: '20260101T000000Z-abc123',
    createdAt: '2026-01-01T00:00:00.000Z',
    source: { kind: 'cluster', context: 'prod', server: 'https://10.0.0.1:6443' },
    steps: [
      {
        id: 'demo',
        phase: 1,
        title: 'Demo step',
        risk: 'low',
        explanation: { why: 'w', impact: 'i', rollback: 'r' },
        findings: [],
        noops: [],
      },
    ],
    changes,
    unknown: [],
  };
}

function saved(changes: PlannedChange[] = [labelled, manual, deletion]): { dir: string; digest: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kh-planfile-'));
  const written = writePlanDir(plan(changes), dir);
  return { dir, digest: written.digest };
}

function refusal(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(ExitCode.input);
    return error as InputError;
  }
  throw new Error('expected a refusal');
}

describe('manual changes in a saved plan', () => {
  it('writes the artifact to artifacts/<step>/<file>, the instructions to PLAN.md, and reads it back', () => {
    const { dir } = saved();
    expect(readFileSync(join(dir, 'artifacts/demo/audit-policy.yaml'), 'utf8')).toBe(
      manual.artifact?.content,
    );
    const md = readFileSync(join(dir, 'PLAN.md'), 'utf8');
    expect(md).toContain('### manual (to do by hand): ../../etc/audit-policy.yaml');
    expect(md).toContain('Artifact: `artifacts/demo/audit-policy.yaml`');
    expect(md).toContain(manual.instructions);
    // plan.json names the file instead of repeating its content (the digest covers the file).
    const json = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
    expect(json.changes[1].artifact).toEqual({
      path: '../../etc/audit-policy.yaml',
      file: 'artifacts/demo/audit-policy.yaml',
    });
    const back = readPlanDir(dir).changes.find((c) => c.id === manual.id);
    expect(back?.kind).toBe('manual');
    expect(back?.artifact).toEqual({
      path: '../../etc/audit-policy.yaml',
      content: manual.artifact?.content,
      file: 'artifacts/demo/audit-policy.yaml',
    });
    expect(back?.instructions).toBe(manual.instructions);
  });

  it('gives two artifacts of one step with the same name two files', () => {
    const second = {
      ...manual,
      id: 'demo/audit-policy-2',
      artifact: { path: 'audit-policy.yaml', content: 'x' },
    };
    const { dir } = saved([manual, second]);
    expect(readFileSync(join(dir, 'artifacts/demo/audit-policy-2.yaml'), 'utf8')).toBe('x');
    expect(readPlanDir(dir).changes.map((c) => c.artifact?.content)).toEqual([manual.artifact?.content, 'x']);
  });

  it('refuses an artifact file outside artifacts/ (a plan never makes apply read elsewhere)', () => {
    const { dir } = saved([manual]);
    const file = join(dir, 'plan.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.changes[0].artifact.file = 'artifacts/demo/../../../../etc/passwd';
    writeFileSync(file, JSON.stringify(json));
    expect(refusal(() => readPlanDir(dir)).message).toContain(
      'artifact.file must be artifacts/<step>/<file>',
    );
  });
});

describe('delete changes in a saved plan', () => {
  it('are shown as deletes in PLAN.md, have no manifest, and read back as deletes', () => {
    const { dir } = saved();
    const md = readFileSync(join(dir, 'PLAN.md'), 'utf8');
    expect(md).toContain('### delete ClusterRoleBinding old-binding (+0 −1)');
    expect(md).toContain('**Deletes** ClusterRoleBinding old-binding (risk: disruptive).');
    const back = readPlanDir(dir).changes.find((c) => c.id === deletion.id);
    expect([back?.kind, back?.operation, back?.target?.name]).toEqual(['delete', 'delete', 'old-binding']);
  });

  it('an apply change whose operation says delete is refused (it would delete)', () => {
    const { dir } = saved([labelled]);
    const file = join(dir, 'plan.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.changes[0].operation = 'delete';
    writeFileSync(file, JSON.stringify(json));
    expect(refusal(() => readPlanDir(dir)).message).toContain(
      'changes[0].operation "delete" is not one of a apply change\'s',
    );
  });

  it('the confirmation lists each target with its operation and risk, and counts what is beyond the limit', () => {
    expect(describeList([labelled, deletion])).toBe(
      '  update  namespace/shop  (risk low)\n  delete  clusterrolebinding/old-binding  (risk disruptive)\n',
    );
    const many = Array.from({ length: 35 }, (_, i) => ({
      ...labelled,
      id: `x${i}`,
      target: { apiVersion: 'v1', kind: 'Namespace', name: `ns-${i}` },
    }));
    const text = describeList(many);
    expect(text.split('\n').filter(Boolean)).toHaveLength(31);
    expect(text).toContain('  … and 5 more: 5 of demo (every one is in PLAN.md)');
  });
});

describe('the report of an applied plan', () => {
  it('reports a delete as deleted, never as applied', () => {
    let text = '';
    const err = {
      write: (s: string) => {
        text += s;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    printReport(
      {
        runId: 'r1',
        journalPath: '/j',
        state: 'complete',
        outcomes: [
          { id: labelled.id, step: 'demo', outcome: 'applied' },
          { id: deletion.id, step: 'demo', outcome: 'applied' },
        ],
      },
      plan([labelled, deletion]),
      err,
      false,
    );
    expect(text).toContain('applied  namespace/shop\n');
    expect(text).toContain('deleted  clusterrolebinding/old-binding\n');
  });

  it('a change the API server forbade is exit 5 (README), a stale or conflicting one exit 8', () => {
    const report = (outcome: 'forbidden' | 'stale' | 'applied') => ({
      runId: 'r',
      journalPath: '/j',
      state: 'complete' as const,
      outcomes: [{ id: 'a', step: 'demo', outcome }],
    });
    expect(exitCodeOf(report('forbidden'))).toBe(ExitCode.auth);
    expect(exitCodeOf(report('stale'))).toBe(ExitCode.refused);
    expect(exitCodeOf(report('applied'))).toBe(ExitCode.ok);
  });
});

describe('the seal of a saved plan', () => {
  it('is printed in PLAN.md and plan.json, and verifies on an untouched plan', () => {
    const { dir, digest } = saved();
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')).digest).toBe(digest);
    expect(readFileSync(join(dir, 'PLAN.md'), 'utf8')).toContain(`Digest: \`${digest}\``);
    expect(verifyPlanSeal(dir)).toBe(digest);
    expect(verifyPlanSeal(dir, digest)).toBe(digest);
    // The same plan written again has the same digest (canonical, no time or randomness in it).
    expect(saved().digest).toBe(digest);
  });

  it('refuses an edited change in plan.json, naming it', () => {
    const { dir } = saved();
    const file = join(dir, 'plan.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.changes[0].desired.metadata.labels.a = 'c';
    writeFileSync(file, JSON.stringify(json, null, 2));
    expect(refusal(() => verifyPlanSeal(dir)).message).toContain(
      'changed after it was sealed: plan.json changes[0] demo/namespace/shop was changed',
    );
  });

  it('refuses an added change, naming the first differing entry', () => {
    const { dir } = saved([labelled]);
    const file = join(dir, 'plan.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.changes.push({ ...json.changes[0], id: 'demo/namespace/kube-system' });
    writeFileSync(file, JSON.stringify(json, null, 2));
    expect(refusal(() => verifyPlanSeal(dir)).message).toContain(
      'plan.json changes[1] demo/namespace/kube-system was added',
    );
  });

  it('refuses an edited, added or removed file under manifests/ or artifacts/, naming it', () => {
    const a = saved();
    appendFileSync(join(a.dir, 'manifests/01-demo/namespace-shop.yaml'), '  extra: true\n');
    expect(refusal(() => verifyPlanSeal(a.dir)).message).toContain(
      'manifests/01-demo/namespace-shop.yaml was changed',
    );
    const b = saved();
    mkdirSync(join(b.dir, 'manifests/02-other'));
    writeFileSync(join(b.dir, 'manifests/02-other/crb.yaml'), 'kind: ClusterRoleBinding\n');
    expect(refusal(() => verifyPlanSeal(b.dir)).message).toContain('manifests/02-other/crb.yaml was added');
    const c = saved();
    rmSync(join(c.dir, 'artifacts/demo/audit-policy.yaml'));
    expect(refusal(() => verifyPlanSeal(c.dir)).message).toContain(
      'artifacts/demo/audit-policy.yaml was removed',
    );
  });

  it('refuses an edited PLAN.md, and a PLAN.md that shows another digest', () => {
    const a = saved();
    const md = join(a.dir, 'PLAN.md');
    writeFileSync(md, readFileSync(md, 'utf8').replace('because', 'harmless'));
    expect(refusal(() => verifyPlanSeal(a.dir)).message).toContain('PLAN.md was changed');
    const b = saved();
    const other = `sha256:${'a'.repeat(64)}`;
    const md2 = join(b.dir, 'PLAN.md');
    writeFileSync(md2, readFileSync(md2, 'utf8').replaceAll(b.digest.slice(7), other.slice(7)));
    expect(refusal(() => verifyPlanSeal(b.dir)).message).toContain(
      "PLAN.md does not show plan.json's digest",
    );
  });

  it('refuses a plan resealed after an edit when the reviewed digest is pinned', () => {
    const { dir, digest } = saved([labelled]);
    // An editor who rewrites the digest too: the plan is self-consistent, but not the reviewed one.
    const edited = { ...labelled, reason: 'something else' };
    writePlanDir(plan([edited]), dir);
    expect(() => verifyPlanSeal(dir)).not.toThrow();
    expect(refusal(() => verifyPlanSeal(dir, digest)).message).toContain(`not the reviewed ${digest}`);
  });

  it('refuses a plan without a digest, and links inside it', () => {
    const a = saved();
    const file = join(a.dir, 'plan.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    delete json.digest;
    writeFileSync(file, JSON.stringify(json));
    expect(refusal(() => verifyPlanSeal(a.dir)).message).toContain('plan.json has no digest');
    const b = saved();
    symlinkSync('/etc/hostname', join(b.dir, 'manifests/01-demo/link.yaml'));
    expect(refusal(() => verifyPlanSeal(b.dir)).message).toContain('links are refused');
  });

  it('--expect-digest takes the hex digits with or without "sha256:"', () => {
    const hex = 'AB'.repeat(32);
    expect(parseDigest(hex)).toBe(`sha256:${hex.toLowerCase()}`);
    expect(parseDigest(`sha256:${hex}`)).toBe(`sha256:${hex.toLowerCase()}`);
    expect(parseDigest('abc')).toBeUndefined();
  });
});
