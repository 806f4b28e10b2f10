/**
 * Run journals: append-only JSON lines, one file per run. Every entry is written in full and flushed (fsync)
 * before the request it describes is sent, so an interrupted or killed run can always be undone from disk; if an
 * entry cannot be written (disk full, unwritable directory) nothing is sent. A write goes through three states:
 * `intent` (before-image and apply configuration recorded), `sent` (the request is about to leave), and a
 * `result` (confirmed, by the response or by re-reading the object after a transport error; or failed/refused).
 *
 * Location: `$XDG_STATE_HOME/kube-harden/<cluster>/` (default `~/.local/state/kube-harden/`), directories 0700,
 * files 0600. `<cluster>` is the cluster's identity (the UID of its `kube-system` Namespace), so runs made through
 * another server URL or a renamed context are still found; server URLs and context names are kept as labels in
 * `cluster.json`. When the identity cannot be read, journals fall back to a directory per (server, context), the
 * layout of earlier versions, which is migrated once the identity is known. Secrets are journaled as hashes only.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { ExitCode, InputError, KubeHardenError } from '../errors.js';
import type { KubeObject, ObjectRef, SourceInfo } from '../k8s/types.js';
import { isSecret, LAST_APPLIED, secretHash } from './normalize.js';
import type { Operation, Verification } from './types.js';

/** `applied` = confirmed; `unknown` = sent, and neither the response nor a re-read could tell. */
/** `rejected`: an admission webhook refused the write (named in the message); nothing was written. */
export type Outcome =
  | 'applied'
  | 'failed'
  | 'stale'
  | 'conflict'
  | 'forbidden'
  | 'rejected'
  | 'skipped'
  | 'unknown';

/** Journal format: 2 added `sent` entries (an intent without one was never sent). */
export const JOURNAL_FORMAT = 2;

export type JournalEntry =
  | {
      type: 'run';
      runId: string;
      startedAt: string;
      context: string;
      server: string;
      /** UID of the cluster's kube-system Namespace, when it could be read. */
      clusterId?: string;
      steps: string[];
      planId: string;
      tool: string;
      format?: number;
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
      /** The resourceVersion sent as precondition (this run's own previous write, or the preview's). */
      precondition?: string | null;
      /**
       * The live object before the run first touched it; for Secrets only `{ secretHash }`. Absent for creates,
       * and for later changes of an object this run already changed (see `beforeSeq`).
       */
      before?: KubeObject | { secretHash: string };
      /** The intent that holds this object's before-image (one per object per run). */
      beforeSeq?: number;
      /** The apply configuration sent (for deletes: absent). Secret values as hashes. */
      desired?: KubeObject;
    }
  | { type: 'sent'; seq: number; at: string }
  | {
      type: 'result';
      seq: number;
      at: string;
      outcome: Outcome;
      resourceVersion?: string;
      message?: string;
      /** How an `applied` outcome is known: the API server's response, or re-reading after a transport error. */
      confirmedBy?: 'response' | 'reread';
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
  | { type: 'undone'; at: string; complete: boolean }
  /** A step's check after the run (`Step.verify`), appended once the writes are done; the last one per step counts. */
  | { type: 'verified'; at: string; step: string; result: VerifyResult; messages: string[] }
  /** The line before this one was torn (a crash mid-write) and is ignored. */
  | { type: 'torn'; at: string; line: number };

/** A step's verification: passed, found a problem, or could not be made (unknown is not compliant). */
export type VerifyResult = 'ok' | 'problem' | 'unknown';

export const verifyResult = (v: Pick<Verification, 'ok' | 'unknown'>): VerifyResult =>
  v.ok ? 'ok' : v.unknown ? 'unknown' : 'problem';

/** The state directory cannot be used (unwritable, or the disk is full). Nothing was sent. */
export class StateError extends KubeHardenError {
  readonly exitCode = ExitCode.error;
}

/** Another kube-harden process holds the lock (a concurrent apply on this cluster, or undo of this run). */
export class LockHeldError extends KubeHardenError {
  readonly exitCode = ExitCode.refused;
}

export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME.length > 0
      ? env.XDG_STATE_HOME
      : join(env.HOME ?? homedir(), '.local', 'state');
  return join(base, 'kube-harden');
}

function stateHint(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_STATE_HOME;
  return xdg
    ? `make it writable, or set XDG_STATE_HOME (now "${xdg}") to a writable directory`
    : 'make it writable, or set XDG_STATE_HOME to a writable directory (unset: ~/.local/state is used)';
}

function stateError(what: string, path: string, error: unknown, env: NodeJS.ProcessEnv): StateError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  const why =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? 'permission denied'
      : code === 'ENOSPC'
        ? 'no space left on device'
        : code === 'ENOTDIR' || code === 'EEXIST'
          ? 'a file is in the way'
          : code;
  return new StateError(`cannot ${what} ${path} (${why}); nothing was sent to the cluster`, stateHint(env));
}

/** The directory name of earlier versions: one per (server, context), readable, unique by a short hash. */
export function clusterKey(source: SourceInfo): string {
  const id = source.kind === 'cluster' ? `${source.server}\n${source.context}` : `manifests\n${source.path}`;
  const readable = (source.kind === 'cluster' ? source.context : 'manifests')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 40);
  return `${readable}-${createHash('sha256').update(id).digest('hex').slice(0, 10)}`;
}

/** The directory name of a cluster known by identity. */
export function identityKey(clusterId: string): string {
  return `cluster-${clusterId.replace(/[^A-Za-z0-9-]+/g, '_')}`;
}

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

function ensureDir(dir: string, env: NodeJS.ProcessEnv): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw stateError('use the journal directory', dir, error, env);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cluster identity

interface ClusterLabels {
  clusterId: string;
  labels: Array<{ server: string; context: string; firstSeen: string; lastSeen: string }>;
}

/** The cluster's identity: the UID of its kube-system Namespace; undefined when it cannot be read. */
export async function readClusterIdentity(
  reader: ClusterReader,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (reader.source.kind !== 'cluster') return undefined;
  try {
    const ns = (await reader.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' }, signal)).value;
    return ns?.metadata.uid;
  } catch (error) {
    if (isClusterError(error) && ['Forbidden', 'NotFound', 'Unauthorized'].includes(error.reason)) {
      return undefined;
    }
    throw error;
  }
}

function readLabels(dir: string): ClusterLabels | undefined {
  try {
    return JSON.parse(fs.readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterLabels;
  } catch {
    return undefined;
  }
}

/**
 * Record that (server, context) reaches the cluster `clusterId`, and move journals of the earlier layout (one
 * directory per server and context) into the cluster's directory. Returns the cluster's directory.
 */
export function rememberCluster(
  source: SourceInfo,
  clusterId: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const root = stateRoot(env);
  ensureDir(root, env);
  const dir = join(root, identityKey(clusterId));
  ensureDir(dir, env);
  if (source.kind !== 'cluster') return dir;
  const now = new Date().toISOString();
  const known = readLabels(dir) ?? { clusterId, labels: [] };
  const label = known.labels.find((l) => l.server === source.server && l.context === source.context);
  if (label) label.lastSeen = now;
  else known.labels.push({ server: source.server, context: source.context, firstSeen: now, lastSeen: now });
  writeFileAtomic(join(dir, 'cluster.json'), `${JSON.stringify(known, null, 2)}\n`, env);
  // Migrate the earlier layout's journals of every server and context known to reach this cluster.
  for (const l of known.labels) {
    const legacy = join(root, clusterKey({ kind: 'cluster', server: l.server, context: l.context }));
    if (!fs.existsSync(legacy)) continue;
    for (const file of fs.readdirSync(legacy)) {
      if (!file.endsWith('.jsonl')) continue;
      const to = join(dir, file);
      if (!fs.existsSync(to)) fs.renameSync(join(legacy, file), to);
    }
    if (fs.readdirSync(legacy).length === 0) fs.rmSync(legacy, { recursive: true, force: true });
  }
  return dir;
}

function writeFileAtomic(path: string, text: string, env: NodeJS.ProcessEnv): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, path);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw stateError('write', path, error, env);
  }
}

/** The identity recorded for (server, context), without contacting the cluster. */
export function knownClusterId(source: SourceInfo, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (source.kind !== 'cluster') return undefined;
  const root = stateRoot(env);
  if (!fs.existsSync(root)) return undefined;
  let best: { id: string; seen: string } | undefined;
  for (const name of fs.readdirSync(root)) {
    if (!name.startsWith('cluster-')) continue;
    const known = readLabels(join(root, name));
    const label = known?.labels.find((l) => l.server === source.server && l.context === source.context);
    if (known && label && (!best || label.lastSeen > best.seen))
      best = { id: known.clusterId, seen: label.lastSeen };
  }
  return best?.id;
}

/** Directories holding this cluster's journals: its identity's, and the earlier layout's not yet migrated. */
export function journalDirs(
  source: SourceInfo,
  env: NodeJS.ProcessEnv = process.env,
  clusterId = knownClusterId(source, env),
): string[] {
  const root = stateRoot(env);
  const dirs = [join(root, clusterKey(source))];
  if (clusterId) dirs.unshift(join(root, identityKey(clusterId)));
  return dirs.filter((d) => fs.existsSync(d));
}

/** The directory a new run's journal goes to. */
function journalDirFor(source: SourceInfo, clusterId: string | undefined, env: NodeJS.ProcessEnv): string {
  if (clusterId) return rememberCluster(source, clusterId, env);
  const root = stateRoot(env);
  ensureDir(root, env);
  const dir = join(root, clusterKey(source));
  ensureDir(dir, env);
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// Locks

interface LockInfo {
  pid: number;
  host: string;
  since: string;
  what: string;
}

const heldLocks = new Map<string, { count: number }>();
let exitHook = false;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock: a file created with O_EXCL holding pid, host and time. A lock left by a process that no
 * longer exists (on this host) is stale and taken over. Re-entrant within one process.
 */
export class Lock {
  private released = false;
  private constructor(readonly path: string) {}

  static acquire(path: string, what: string, env: NodeJS.ProcessEnv = process.env): Lock {
    const mine = heldLocks.get(path);
    if (mine) {
      mine.count += 1;
      return new Lock(path);
    }
    const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString(), what };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(path, 'wx', 0o600);
        try {
          fs.writeSync(fd, `${JSON.stringify(info)}\n`);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        heldLocks.set(path, { count: 1 });
        if (!exitHook) {
          exitHook = true;
          process.once('exit', () => {
            for (const p of heldLocks.keys()) fs.rmSync(p, { force: true });
          });
        }
        return new Lock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError('create', path, error, env);
      }
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(fs.readFileSync(path, 'utf8')) as LockInfo;
      } catch {
        holder = undefined; // being written right now, or torn: treat as held unless old
      }
      const stale =
        holder !== undefined &&
        holder.host === hostname() &&
        holder.pid !== process.pid &&
        !processAlive(holder.pid);
      if (stale && attempt === 0) {
        fs.rmSync(path, { force: true });
        continue;
      }
      const who = holder
        ? `pid ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''} (${holder.what}) since ${holder.since}`
        : 'another process';
      throw new LockHeldError(
        `${what}: locked by ${who}`,
        `wait for it to finish; if that process is gone, remove ${path}`,
      );
    }
    throw new LockHeldError(`${what}: locked (${path})`, `if no kube-harden process runs, remove ${path}`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const mine = heldLocks.get(this.path);
    if (!mine) return;
    mine.count -= 1;
    if (mine.count > 0) return;
    heldLocks.delete(this.path);
    fs.rmSync(this.path, { force: true });
  }
}

/** The lock of one run journal (undo). */
export function lockRun(journalPath: string, env: NodeJS.ProcessEnv = process.env): Lock {
  return Lock.acquire(journalPath.replace(/\.jsonl$/, '.lock'), `undo of run journal ${journalPath}`, env);
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** The file operations a journal uses; injectable to simulate a full disk. */
export interface JournalIO {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
  closeSync(fd: number): void;
}

const nodeIO: JournalIO = {
  openSync: (p, f, m) => fs.openSync(p, f, m),
  writeSync: (fd, b, o, l) => fs.writeSync(fd, b, o, l),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  ftruncateSync: (fd, l) => fs.ftruncateSync(fd, l),
  closeSync: (fd) => fs.closeSync(fd),
};

export interface JournalOptions {
  env?: NodeJS.ProcessEnv;
  io?: JournalIO;
  /** The cluster's identity (kube-system UID), when known. */
  clusterId?: string;
}

export class Journal {
  private fd: number;
  private seq: number;
  /** Bytes known to be complete on disk: a failed write is cut back to this. */
  private size: number;
  private broken = false;
  private readonly io: JournalIO;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly path: string,
    fd: number,
    init: { seq: number; size: number; io: JournalIO; env: NodeJS.ProcessEnv },
  ) {
    this.fd = fd;
    this.seq = init.seq;
    this.size = init.size;
    this.io = init.io;
    this.env = init.env;
  }

  static create(source: SourceInfo, runId: string, options: JournalOptions = {}): Journal {
    const env = options.env ?? process.env;
    const io = options.io ?? nodeIO;
    const dir = journalDirFor(source, options.clusterId, env);
    const path = join(dir, `${runId}.jsonl`);
    if (fs.existsSync(path))
      throw new InputError(`a journal for run ${runId} already exists`, {
        file: path,
        hint: 'this plan was applied before; plan again',
      });
    let fd: number;
    try {
      fd = io.openSync(path, 'wx', 0o600);
      fs.chmodSync(path, 0o600);
    } catch (error) {
      throw stateError('create the run journal', path, error, env);
    }
    return new Journal(path, fd, { seq: 0, size: 0, io, env });
  }

  /**
   * Re-open an existing journal to append (undo). A torn last line (a crash mid-write) is never appended to:
   * it is closed with a newline and marked torn, so readers skip it.
   */
  static open(path: string, options: JournalOptions = {}): Journal {
    const env = options.env ?? process.env;
    const io = options.io ?? nodeIO;
    const { entries, torn } = parseJournal(path);
    const seq = entries.reduce((m, e) => ('seq' in e ? Math.max(m, e.seq) : m), 0);
    const text = fs.readFileSync(path);
    let fd: number;
    try {
      fd = io.openSync(path, 'a', 0o600);
    } catch (error) {
      throw stateError('open the run journal', path, error, env);
    }
    const journal = new Journal(path, fd, { seq, size: text.length, io, env });
    if (torn?.unterminated) {
      journal.writeRaw('\n');
      journal.append({ type: 'torn', at: new Date().toISOString(), line: torn.line });
    }
    return journal;
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  private writeRaw(text: string): void {
    if (this.broken || this.fd < 0) {
      throw new StateError(
        `the run journal ${this.path} could not be written earlier; nothing more is sent`,
        stateHint(this.env),
      );
    }
    const buffer = Buffer.from(text, 'utf8');
    try {
      let offset = 0;
      while (offset < buffer.length) {
        const n = this.io.writeSync(this.fd, buffer, offset, buffer.length - offset);
        if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
        offset += n;
      }
      this.io.fsyncSync(this.fd);
      this.size += buffer.length;
    } catch (error) {
      // Cut a partial entry back off, so the file never holds a torn line we wrote; if even that fails, the
      // reader ignores a torn last line, and this journal takes no more entries.
      try {
        this.io.ftruncateSync(this.fd, this.size);
        this.io.fsyncSync(this.fd);
      } catch {
        this.broken = true;
      }
      throw stateError('write the run journal', this.path, error, this.env);
    }
  }

  /** Append one entry, written in full and flushed to disk before returning; throws StateError otherwise. */
  append(entry: JournalEntry): void {
    this.writeRaw(`${JSON.stringify(entry)}\n`);
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        this.io.closeSync(this.fd);
      } catch {
        // nothing to do
      }
    }
    this.fd = -1;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What journals may hold about Secrets

function hashValues(map: unknown): Record<string, string> | undefined {
  if (!map || typeof map !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
    out[k] = `sha256:${createHash('sha256').update(String(v)).digest('hex')}`;
  }
  return out;
}

/** The before-image as journaled: Secrets only as a hash. */
export function beforeImage(live: KubeObject | undefined): KubeObject | { secretHash: string } | undefined {
  if (!live) return undefined;
  if (isSecret(live)) return { secretHash: secretHash(live) };
  const { managedFields: _m, ...metadata } = live.metadata;
  return { ...live, metadata };
}

/** An apply configuration as journaled: a Secret's values become hashes, its last-applied annotation goes. */
export function journaledDesired(desired: KubeObject): KubeObject {
  if (!isSecret(desired)) return desired;
  const out: Record<string, unknown> = { ...desired };
  for (const field of ['data', 'stringData'] as const) {
    const hashed = hashValues((desired as Record<string, unknown>)[field]);
    if (hashed) out[field] = hashed;
  }
  const annotations = { ...(desired.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  const { annotations: _a, ...meta } = desired.metadata;
  out.metadata = { ...meta, ...(Object.keys(annotations).length ? { annotations } : {}) };
  return out as KubeObject;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

export interface ParsedJournal {
  entries: JournalEntry[];
  /** A torn line: 1-based; `unterminated` when it is the file's last bytes (no newline yet). */
  torn?: { line: number; unterminated: boolean };
  warnings: string[];
}

export function parseJournal(path: string): ParsedJournal {
  const text = fs.readFileSync(path, 'utf8');
  const entries: JournalEntry[] = [];
  const warnings: string[] = [];
  let torn: ParsedJournal['torn'];
  const lines = text.split('\n');
  const parsed = lines.map((raw) => {
    const line = raw.trim();
    if (!line) return { kind: 'empty' as const };
    try {
      return { kind: 'entry' as const, entry: JSON.parse(line) as JournalEntry };
    } catch {
      return { kind: 'bad' as const };
    }
  });
  for (let i = 0; i < parsed.length; i++) {
    const p = parsed[i];
    if (!p || p.kind === 'empty') continue;
    if (p.kind === 'entry') {
      if (p.entry.type !== 'torn') entries.push(p.entry);
      continue;
    }
    // A torn line (killed mid-write) is tolerated only at the end, or where a `torn` marker follows it.
    const isLast = parsed.slice(i + 1).every((q) => q.kind === 'empty');
    const next = parsed.slice(i + 1).find((q) => q.kind !== 'empty');
    const marked = next?.kind === 'entry' && next.entry.type === 'torn';
    if (!isLast && !marked)
      throw new InputError('journal line is not valid JSON', { file: path, line: i + 1 });
    torn = { line: i + 1, unterminated: isLast && !text.endsWith('\n') };
    warnings.push(`${path}:${i + 1}: ignoring a torn journal line (a run was killed while writing it)`);
  }
  return { entries, ...(torn ? { torn } : {}), warnings };
}

export function readJournal(path: string): JournalEntry[] {
  return parseJournal(path).entries;
}

/** What became of one journaled write. */
export type WriteState = 'intent' | 'sent' | 'confirmed' | 'failed' | 'refused' | 'unknown';

/** The state of every journaled write, by seq. Journals before format 2 had no `sent` entries. */
export function writeStates(entries: JournalEntry[]): Map<number, WriteState> {
  const run = entries.find((e) => e.type === 'run');
  const legacy = !(run?.type === 'run' && (run.format ?? 1) >= 2);
  const states = new Map<number, WriteState>();
  for (const e of entries) {
    if (e.type === 'intent') states.set(e.seq, legacy ? 'sent' : 'intent');
    else if (e.type === 'sent') states.set(e.seq, 'sent');
    else if (e.type === 'result') {
      states.set(
        e.seq,
        e.outcome === 'applied'
          ? 'confirmed'
          : e.outcome === 'unknown'
            ? 'unknown'
            : e.outcome === 'failed'
              ? 'failed'
              : 'refused',
      );
    }
  }
  return states;
}

export interface RunSummary {
  runId: string;
  path: string;
  startedAt: string;
  context: string;
  server: string;
  clusterId?: string;
  steps: string[];
  changes: number;
  applied: number;
  /** Writes whose outcome is not known (sent, then the run or the connection died): undo checks the live object. */
  uncertain: number;
  state: 'complete' | 'interrupted' | 'failed' | 'undone' | 'partially undone';
  /** Each verified step's last verification. */
  verified: Record<string, VerifyResult>;
}

export function summarize(path: string, entries: JournalEntry[]): RunSummary | undefined {
  const run = entries.find((e) => e.type === 'run');
  if (run?.type !== 'run') return undefined;
  const intents = entries.filter((e) => e.type === 'intent').length;
  const states = [...writeStates(entries).values()];
  const applied = states.filter((s) => s === 'confirmed').length;
  const uncertain = states.filter((s) => s === 'sent' || s === 'unknown').length;
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
    ...(run.clusterId ? { clusterId: run.clusterId } : {}),
    steps: run.steps,
    changes: intents,
    applied,
    uncertain,
    state,
    verified: Object.fromEntries(
      Object.entries(verificationsOf(entries)).map(([step, v]) => [step, v.result]),
    ),
  };
}

/** Each step's last verification recorded in a run's journal. */
export function verificationsOf(
  entries: readonly JournalEntry[],
): Record<string, { result: VerifyResult; at: string; messages: string[] }> {
  const out: Record<string, { result: VerifyResult; at: string; messages: string[] }> = {};
  for (const e of entries)
    if (e.type === 'verified') out[e.step] = { result: e.result, at: e.at, messages: e.messages };
  return out;
}

/**
 * Record the steps' verifications in the run's journal (under the run's lock, as undo appends). Best effort: the
 * verification was already shown; a journal that cannot take it (locked by an undo, disk full) leaves a message.
 */
export function recordVerifications(
  journalPath: string,
  verifications: Record<string, Verification>,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const steps = Object.entries(verifications);
  if (steps.length === 0) return undefined;
  let lock: Lock | undefined;
  let journal: Journal | undefined;
  try {
    lock = lockRun(journalPath, env);
    journal = Journal.open(journalPath, { env });
    const at = new Date().toISOString();
    for (const [step, v] of steps)
      journal.append({
        type: 'verified',
        at,
        step,
        result: verifyResult(v),
        messages: v.messages,
      });
    return undefined;
  } catch (error) {
    if (!(error instanceof KubeHardenError)) throw error;
    return `the verification was not recorded in the journal ${journalPath}: ${error.message}`;
  } finally {
    journal?.close();
    lock?.release();
  }
}

/**
 * Runs recorded for one cluster, newest first: by its identity when known (`clusterId`, or recorded earlier for
 * this server and context), plus journals of the earlier per-(server, context) layout not yet migrated.
 */
export function listRuns(
  source: SourceInfo,
  env: NodeJS.ProcessEnv = process.env,
  clusterId?: string,
): RunSummary[] {
  return eachRun(source, env, clusterId, summarize);
}

/**
 * Every run of this cluster, newest first, each journal read once and given to `make` (undefined: left out). A
 * corrupt journal must not hide the others.
 */
function eachRun<T extends RunSummary>(
  source: SourceInfo,
  env: NodeJS.ProcessEnv,
  clusterId: string | undefined,
  make: (path: string, entries: JournalEntry[]) => T | undefined,
): T[] {
  const runs: T[] = [];
  const seen = new Set<string>();
  for (const dir of journalDirs(source, env, clusterId ?? knownClusterId(source, env))) {
    for (const file of fs.readdirSync(dir)) {
      if (!file.endsWith('.jsonl') || seen.has(file)) continue;
      seen.add(file);
      const path = join(dir, file);
      let run: T | undefined;
      try {
        run = make(path, readJournal(path));
      } catch (error) {
        if (error instanceof InputError) continue;
        throw error;
      }
      if (run) runs.push(run);
    }
  }
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId));
}

// ---------------------------------------------------------------------------------------------------------------
// What each run left in place, per step (read-only: the wizard's phase status)

/** What one run's writes of one step left in place: confirmed writes not undone since. */
export interface StepWrites {
  /** Confirmed writes not undone. */
  applied: number;
  /** When the first and the last of them were confirmed (ISO). */
  firstAt: string;
  lastAt: string;
  /** Namespaces written (a Namespace's own name for Namespace objects), sorted; cluster-scoped objects add none. */
  namespaces: string[];
}

/** A run and what it left in place per step id (steps whose writes were all undone, or never confirmed, absent). */
export interface RunRecord extends RunSummary {
  byStep: Record<string, StepWrites>;
}

/**
 * Per step, the writes of a run that are in place: confirmed (`result` applied) and not undone by an undo of the
 * run (an `undo-result` restored, deleted or unchanged for the `undo-intent` that names it).
 */
export function stepWrites(entries: JournalEntry[]): Record<string, StepWrites> {
  const undone = new Set<number>();
  const undoIntents = new Map<number, number[]>();
  const intents = new Map<number, Extract<JournalEntry, { type: 'intent' }>>();
  const confirmedAt = new Map<number, string>();
  for (const e of entries) {
    if (e.type === 'intent') intents.set(e.seq, e);
    else if (e.type === 'result' && e.outcome === 'applied') confirmedAt.set(e.seq, e.at);
    else if (e.type === 'undo-intent') undoIntents.set(e.seq, e.undoes);
    else if (e.type === 'undo-result' && ['restored', 'deleted', 'unchanged'].includes(e.outcome)) {
      for (const seq of undoIntents.get(e.seq) ?? []) undone.add(seq);
    }
  }
  const out: Record<string, StepWrites & { ns: Set<string> }> = {};
  for (const [seq, at] of confirmedAt) {
    const intent = intents.get(seq);
    if (!intent || undone.has(seq)) continue;
    const w = out[intent.step] ?? {
      applied: 0,
      firstAt: at,
      lastAt: at,
      namespaces: [],
      ns: new Set<string>(),
    };
    out[intent.step] = w;
    w.applied += 1;
    if (at < w.firstAt) w.firstAt = at;
    if (at > w.lastAt) w.lastAt = at;
    const ns = intent.target.kind === 'Namespace' ? intent.target.name : intent.target.namespace;
    if (ns) w.ns.add(ns);
  }
  const result: Record<string, StepWrites> = {};
  for (const [step, { ns, ...w }] of Object.entries(out)) result[step] = { ...w, namespaces: [...ns].sort() };
  return result;
}

/** `listRuns`, each run with what it left in place per step (`stepWrites`). */
export function listRunRecords(
  source: SourceInfo,
  env: NodeJS.ProcessEnv = process.env,
  clusterId?: string,
): RunRecord[] {
  return eachRun(source, env, clusterId, (path, entries) => {
    const run = summarize(path, entries);
    return run && { ...run, byStep: stepWrites(entries) };
  });
}
