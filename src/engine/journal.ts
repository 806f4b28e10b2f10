/**
 * Run journals: append-only JSON lines, one file per run, flushed (fsync) before each request is sent, so an
 * interrupted or killed run can always be undone from disk. Location: `$XDG_STATE_HOME/kube-harden/<cluster>/`
 * (default `~/.local/state/kube-harden/`), directories 0700, files 0600. Secrets are journaled as a hash only.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { KubeObject, ObjectRef, SourceInfo } from '../k8s/types.js';
import { isSecret, secretHash } from './normalize.js';
import type { Operation } from './types.js';

export type Outcome = 'applied' | 'failed' | 'stale' | 'conflict' | 'forbidden' | 'skipped';

export type JournalEntry =
  | {
      type: 'run';
      runId: string;
      startedAt: string;
      context: string;
      server: string;
      steps: string[];
      planId: string;
      tool: string;
    }
  | {
      type: 'intent';
      seq: number;
      at: string;
      changeId: string;
      step: string;
      target: ObjectRef;
      operation: Operation;
      baseResourceVersion: string | null;
      /** The live object before the write; for Secrets only `{ secretHash }`. Absent for creates. */
      before?: KubeObject | { secretHash: string };
      /** The apply configuration sent (for deletes: absent). */
      desired?: KubeObject;
    }
  | {
      type: 'result';
      seq: number;
      at: string;
      outcome: Outcome;
      resourceVersion?: string;
      message?: string;
    }
  | { type: 'end'; at: string; state: 'complete' | 'interrupted' | 'failed' }
  | {
      type: 'undo-intent';
      seq: number;
      at: string;
      undoes: number[];
      action: 'restore' | 'delete';
      patch?: unknown;
    }
  | {
      type: 'undo-result';
      seq: number;
      at: string;
      outcome: 'restored' | 'deleted' | 'unchanged' | 'conflict' | 'failed' | 'forbidden';
      message?: string;
    }
  | { type: 'undone'; at: string; complete: boolean };

export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME.length > 0
      ? env.XDG_STATE_HOME
      : join(env.HOME ?? homedir(), '.local', 'state');
  return join(base, 'kube-harden');
}

/** A directory name per (server, context): readable, and unique by a short hash. */
export function clusterKey(source: SourceInfo): string {
  const id = source.kind === 'cluster' ? `${source.server}\n${source.context}` : `manifests\n${source.path}`;
  const readable = (source.kind === 'cluster' ? source.context : 'manifests')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 40);
  return `${readable}-${createHash('sha256').update(id).digest('hex').slice(0, 10)}`;
}

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export class Journal {
  private fd: number;
  private seq = 0;

  private constructor(
    readonly path: string,
    fd: number,
    seq: number,
  ) {
    this.fd = fd;
    this.seq = seq;
  }

  static create(source: SourceInfo, runId: string, env: NodeJS.ProcessEnv = process.env): Journal {
    const root = stateRoot(env);
    ensureDir(root);
    const dir = join(root, clusterKey(source));
    ensureDir(dir);
    const path = join(dir, `${runId}.jsonl`);
    if (existsSync(path))
      throw new InputError(`a journal for run ${runId} already exists`, {
        file: path,
        hint: 'this plan was applied before; plan again',
      });
    const fd = openSync(path, 'a', 0o600);
    chmodSync(path, 0o600);
    return new Journal(path, fd, 0);
  }

  /** Re-open an existing journal to append (undo). */
  static open(path: string): Journal {
    const entries = readJournal(path);
    const seq = entries.reduce((m, e) => ('seq' in e ? Math.max(m, e.seq) : m), 0);
    return new Journal(path, openSync(path, 'a', 0o600), seq);
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  /** Append one entry and flush it to disk before returning. */
  append(entry: JournalEntry): void {
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The before-image as journaled: Secrets only as a hash. */
export function beforeImage(live: KubeObject | undefined): KubeObject | { secretHash: string } | undefined {
  if (!live) return undefined;
  if (isSecret(live)) return { secretHash: secretHash(live) };
  const { managedFields: _m, ...metadata } = live.metadata;
  return { ...live, metadata };
}

export function readJournal(path: string): JournalEntry[] {
  const text = readFileSync(path, 'utf8');
  const entries: JournalEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // A torn last line (killed mid-write) is expected; anything else is corruption.
      if (i < lines.length - 2)
        throw new InputError('journal line is not valid JSON', { file: path, line: i + 1 });
    }
  }
  return entries;
}

export interface RunSummary {
  runId: string;
  path: string;
  startedAt: string;
  context: string;
  server: string;
  steps: string[];
  changes: number;
  applied: number;
  state: 'complete' | 'interrupted' | 'failed' | 'undone' | 'partially undone';
}

export function summarize(path: string, entries: JournalEntry[]): RunSummary | undefined {
  const run = entries.find((e) => e.type === 'run');
  if (run?.type !== 'run') return undefined;
  const intents = entries.filter((e) => e.type === 'intent').length;
  const applied = entries.filter((e) => e.type === 'result' && e.outcome === 'applied').length;
  const end = entries.find((e) => e.type === 'end');
  const undone = [...entries].reverse().find((e) => e.type === 'undone');
  let state: RunSummary['state'] = end && end.type === 'end' ? end.state : 'interrupted';
  if (undone && undone.type === 'undone') state = undone.complete ? 'undone' : 'partially undone';
  return {
    runId: run.runId,
    path,
    startedAt: run.startedAt,
    context: run.context,
    server: run.server,
    steps: run.steps,
    changes: intents,
    applied,
    state,
  };
}

/** Runs recorded for one cluster (server + context), newest first. */
export function listRuns(source: SourceInfo, env: NodeJS.ProcessEnv = process.env): RunSummary[] {
  const dir = join(stateRoot(env), clusterKey(source));
  if (!existsSync(dir)) return [];
  const runs: RunSummary[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.jsonl')) continue;
    const path = join(dir, file);
    const summary = summarize(path, readJournal(path));
    if (summary) runs.push(summary);
  }
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId));
}
