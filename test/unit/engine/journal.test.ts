/**
 * The run journal on disk: a torn last line (a crash mid-write) is ignored with a warning and never appended to;
 * a write that fails (disk full) is cut back off and stops the run; locks name their holder and stale ones are
 * taken over; Secret values are journaled as hashes; write states.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clusterKey,
  Journal,
  type JournalEntry,
  type JournalIO,
  journaledDesired,
  Lock,
  LockHeldError,
  listRuns,
  parseJournal,
  readJournal,
  recordVerifications,
  StateError,
  summarize,
  verificationsOf,
  writeStates,
} from '../../../src/engine/journal.js';
import { InputError } from '../../../src/errors.js';
import type { KubeObject } from '../../../src/k8s/types.js';

const source = { kind: 'cluster' as const, context: 'ctx', server: 'https://example:6443' };

const run: JournalEntry = {
  type: 'run',
  runId: 'r1',
  startedAt: '2026-12-01T00:00:00.000Z',
  context: 'ctx',
  server: 'https://example:6443',
  steps: ['t'],
  planId: 'r1',
  tool: 'kube-harden test',
  format: 2,
};
const target = { apiVersion: 'v1', kind: 'Namespace', name: 'a' };
const intent = (seq: number): JournalEntry => ({
  type: 'intent',
  seq,
  at: '2026-12-01T00:00:01.000Z',
  changeId: `c${seq}`,
  step: 't',
  target,
  operation: 'update',
  baseResourceVersion: '1',
});

function journalFile(lines: JournalEntry[], tail = ''): string {
  const state = mkdtempSync(join(tmpdir(), 'kh-journal-'));
  const dir = join(state, 'kube-harden', clusterKey(source));
  fs.mkdirSync(dir, { recursive: true });
  const path = join(dir, 'r1.jsonl');
  writeFileSync(path, lines.map((l) => `${JSON.stringify(l)}\n`).join('') + tail);
  return path;
}

describe('a torn last journal line', () => {
  const torn = '{"type":"undo-intent","seq":5,"at":"2026-12-0';

  it('is ignored with a warning; the entries before it are read', () => {
    const path = journalFile([run, intent(1), { type: 'sent', seq: 1, at: 'x' }], torn);
    const parsed = parseJournal(path);
    expect(parsed.entries.map((e) => e.type)).toEqual(['run', 'intent', 'sent']);
    expect(parsed.torn).toEqual({ line: 4, unterminated: true });
    expect(parsed.warnings).toEqual([
      `${path}:4: ignoring a torn journal line (a run was killed while writing it)`,
    ]);
  });

  it('is never appended to: re-opening ends it, marks it torn, and later entries go on lines of their own', () => {
    const path = journalFile([run, intent(1), { type: 'sent', seq: 1, at: 'x' }], torn);
    const journal = Journal.open(path);
    expect(journal.nextSeq()).toBe(2);
    journal.append({ type: 'undone', at: 'y', complete: true });
    journal.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[3]).toBe(torn);
    expect(JSON.parse(lines[4] as string)).toMatchObject({ type: 'torn', line: 4 });
    expect(JSON.parse(lines[5] as string)).toMatchObject({ type: 'undone' });
    // Runs and undo keep working on it, again and again.
    expect(readJournal(path).map((e) => e.type)).toEqual(['run', 'intent', 'sent', 'undone']);
    Journal.open(path).close();
    expect(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"torn"')),
    ).toHaveLength(1);
    expect(summarize(path, readJournal(path))?.state).toBe('undone');
    const runs = listRuns(source, { XDG_STATE_HOME: join(path, '..', '..', '..') });
    expect(runs.map((r) => r.runId)).toEqual(['r1']);
  });

  it('anywhere else, an unreadable line is corruption, named by file and line', () => {
    const path = journalFile([run], `${torn}\n${JSON.stringify(intent(1))}\n`);
    expect(() => readJournal(path)).toThrow(InputError);
    expect(() => readJournal(path)).toThrow(/r1\.jsonl:2: journal line is not valid JSON/);
  });
});

describe('writing entries', () => {
  function failingIO(failOn: (text: string) => boolean, partial: number): JournalIO {
    return {
      openSync: (p, f, m) => fs.openSync(p, f, m),
      writeSync: (fd, buf, off, len) => {
        const text = Buffer.from(buf)
          .subarray(off, off + len)
          .toString();
        if (failOn(text)) {
          fs.writeSync(fd, buf, off, Math.min(partial, len));
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        return fs.writeSync(fd, buf, off, len);
      },
      fsyncSync: (fd) => fs.fsyncSync(fd),
      ftruncateSync: (fd, l) => fs.ftruncateSync(fd, l),
      closeSync: (fd) => fs.closeSync(fd),
    };
  }

  it('a full disk: the entry is cut back off, a StateError names the file and says nothing was sent', () => {
    const state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    const env = { XDG_STATE_HOME: state };
    const journal = Journal.create(source, 'r2', { env, io: failingIO((t) => t.includes('"intent"'), 17) });
    journal.append(run);
    let error: unknown;
    try {
      journal.append(intent(1));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toBe(
      `cannot write the run journal ${journal.path} (no space left on device); nothing was sent to the cluster`,
    );
    expect((error as StateError).hint).toContain(`XDG_STATE_HOME (now "${state}")`);
    journal.close();
    expect(readFileSync(journal.path, 'utf8')).toBe(`${JSON.stringify(run)}\n`);
  });

  it('a write that cannot even be cut back leaves the journal closed to further entries', () => {
    const state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    const io = failingIO((t) => t.includes('"intent"'), 9);
    io.ftruncateSync = () => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    };
    const journal = Journal.create(source, 'r3', { env: { XDG_STATE_HOME: state }, io });
    journal.append(run);
    expect(() => journal.append(intent(1))).toThrow(StateError);
    expect(() => journal.append({ type: 'end', at: 'z', state: 'failed' })).toThrow(
      /could not be written earlier/,
    );
    journal.close();
    // The torn tail is what a crash would leave: readers skip it.
    expect(readJournal(journal.path).map((e) => e.type)).toEqual(['run']);
  });

  it('an unwritable state directory: StateError naming the path and XDG_STATE_HOME', () => {
    const parent = mkdtempSync(join(tmpdir(), 'kh-state-'));
    const file = join(parent, 'file');
    writeFileSync(file, 'x');
    expect(() => Journal.create(source, 'r4', { env: { XDG_STATE_HOME: file } })).toThrow(
      new RegExp(`cannot use the journal directory ${file}/kube-harden \\(a file is in the way\\)`),
    );
  });
});

describe('locks', () => {
  it('a held lock names its holder and how to clear it; a stale one (dead pid) is taken over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-lock-'));
    const path = join(dir, 'r.lock');
    // Held by a live process (this test's parent).
    writeFileSync(
      path,
      JSON.stringify({ pid: process.ppid, host: hostname(), since: '2026-12-01T00:00:00Z', what: 'undo' }),
    );
    expect(() => Lock.acquire(path, 'undo of run r')).toThrow(LockHeldError);
    try {
      Lock.acquire(path, 'undo of run r');
    } catch (e) {
      expect((e as LockHeldError).message).toBe(
        `undo of run r: locked by pid ${process.ppid} (undo) since 2026-12-01T00:00:00Z`,
      );
      expect((e as LockHeldError).hint).toBe(
        `wait for it to finish; if that process is gone, remove ${path}`,
      );
      expect((e as LockHeldError).exitCode).toBe(8);
    }
    // Held by a process that is gone.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(
      path,
      JSON.stringify({ pid: dead, host: hostname(), since: '2026-12-01T00:00:00Z', what: 'undo' }),
    );
    const lock = Lock.acquire(path, 'undo of run r');
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    // Re-entrant within one process; released when the last holder releases.
    const again = Lock.acquire(path, 'undo of run r');
    again.release();
    expect(fs.existsSync(path)).toBe(true);
    lock.release();
    expect(fs.existsSync(path)).toBe(false);
  });
});

describe('Secrets in the journal', () => {
  it('an apply configuration of a Secret keeps its keys with hashed values, and no last-applied annotation', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 's',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"a":"canary"}}',
          keep: 'me',
        },
      },
      data: { a: Buffer.from('canary').toString('base64') },
      stringData: { b: 'canary' },
    } as unknown as KubeObject;
    const out = journaledDesired(secret);
    const text = JSON.stringify(out);
    expect(text).not.toContain('canary');
    expect(text).not.toContain(Buffer.from('canary').toString('base64'));
    expect(out.metadata.annotations).toEqual({ keep: 'me' });
    expect(Object.keys((out as unknown as { data: object }).data)).toEqual(['a']);
    expect((out as unknown as { stringData: Record<string, string> }).stringData.b).toMatch(
      /^sha256:[0-9a-f]{64}$/,
    );
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { a: 'x' },
    } as KubeObject;
    expect(journaledDesired(cm)).toBe(cm);
  });
});

describe('write states', () => {
  it('intent → sent → confirmed/failed; journals before format 2 count an intent as sent', () => {
    const entries: JournalEntry[] = [
      run,
      intent(1),
      { type: 'sent', seq: 1, at: 'x' },
      { type: 'result', seq: 1, at: 'x', outcome: 'applied', confirmedBy: 'reread' },
      intent(2),
      intent(3),
      { type: 'sent', seq: 3, at: 'x' },
      intent(4),
      { type: 'sent', seq: 4, at: 'x' },
      { type: 'result', seq: 4, at: 'x', outcome: 'unknown' },
      intent(5),
      { type: 'sent', seq: 5, at: 'x' },
      { type: 'result', seq: 5, at: 'x', outcome: 'stale' },
    ];
    expect(Object.fromEntries(writeStates(entries))).toEqual({
      1: 'confirmed',
      2: 'intent',
      3: 'sent',
      4: 'unknown',
      5: 'refused',
    });
    const legacy = [{ ...run, format: undefined }, intent(1)] as JournalEntry[];
    expect(writeStates(legacy).get(1)).toBe('sent');
    expect(summarize('p', entries)).toMatchObject({ changes: 5, applied: 1, uncertain: 2 });
  });
});

describe('verifications', () => {
  it('are appended to the run’s journal after it, the last one per step counting; summaries carry them', () => {
    const path = journalFile([
      run,
      intent(1),
      { type: 'end', at: '2026-12-01T00:00:02.000Z', state: 'complete' },
    ]);
    const env = { XDG_STATE_HOME: join(path, '..', '..', '..') };
    expect(
      recordVerifications(
        path,
        {
          t: {
            ok: false,
            messages: ['Deployment shop/web: the fix is no longer in its template (reverted?)'],
          },
          u: { ok: false, unknown: true, messages: ['probe could not run'] },
        },
        env,
      ),
    ).toBeUndefined();
    expect(
      recordVerifications(path, { t: { ok: true, messages: ['1 fix(es) in place'] } }, env),
    ).toBeUndefined();
    const entries = readJournal(path);
    expect(verificationsOf(entries)).toEqual({
      t: { result: 'ok', at: expect.any(String), messages: ['1 fix(es) in place'] },
      u: { result: 'unknown', at: expect.any(String), messages: ['probe could not run'] },
    });
    expect(summarize(path, entries)).toMatchObject({
      state: 'complete',
      verified: { t: 'ok', u: 'unknown' },
    });
    // Nothing to record: the journal is not touched.
    const before = readFileSync(path, 'utf8');
    expect(recordVerifications(path, {}, env)).toBeUndefined();
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('a journal held by an undo in another process: not recorded, and the message says where', () => {
    const path = journalFile([run, intent(1)]);
    const env = { XDG_STATE_HOME: join(path, '..', '..', '..') };
    // Held by a live process (this test's parent).
    const lockPath = path.replace(/\.jsonl$/, '.lock');
    writeFileSync(
      lockPath,
      JSON.stringify({ pid: process.ppid, host: hostname(), since: '2026-12-01T00:00:00Z', what: 'undo' }),
    );
    const message = recordVerifications(path, { t: { ok: true, messages: [] } }, env);
    expect(message).toMatch(/^the verification was not recorded in the journal .*r1\.jsonl: .*locked by pid/);
    expect(verificationsOf(readJournal(path))).toEqual({});
    expect(fs.existsSync(lockPath)).toBe(true);
  });
});
