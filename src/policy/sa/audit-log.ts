/**
 * The API server's audit log (`--audit-log-path`, JSON lines of `audit.k8s.io/v1` Events; plain or gzipped), read
 * as evidence of who used the API: for each user, how many requests it made and which operations (verb × API
 * group × resource/subresource × namespace × name, or a non-resource path). Only the metadata of each event is
 * read (`user`, `impersonatedUser`, `verb`, `objectRef`, `requestURI`, `stage`, timestamps); request and response
 * bodies, which can hold Secret values and tokens, are never kept, and a line is never printed (a bad line is
 * reported by its number only).
 *
 * Following audit2rbac (`liggitt/audit2rbac` pkg/process.go): when `impersonatedUser` is present it is the user the
 * request was authorized as; denied requests count too. A request is logged once per stage: requests are counted
 * at `ResponseComplete`/`Panic`, or at `RequestReceived` for a log whose policy omits the later stages.
 *
 * Memory is bounded: the file is streamed line by line (a line over `MAX_LINE` bytes is skipped and counted as
 * bad), and at most `MAX_USERS` users and `MAX_OPERATIONS` distinct operations are kept (the rest are counted).
 */
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../errors.js';

export const MAX_LINE = 8 * 1024 * 1024;
export const MAX_USERS = 20_000;
export const MAX_OPERATIONS = 200_000;

/** One kind of request a user made. */
export interface AuditOperation {
  verb: string;
  /** `''` = core group. Absent for non-resource requests. */
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests (`/healthz`, `/apis`): the path without its query. */
  path?: string;
  count: number;
}

export interface UserActivity {
  username: string;
  requests: number;
  /** Distinct operations, keyed by `operationKey`. */
  operations: Map<string, AuditOperation>;
  /** Some operations were not kept (MAX_OPERATIONS reached). */
  truncated: boolean;
}

export interface AuditSummary {
  /** The file read (as given). */
  file: string;
  gzipped: boolean;
  lines: number;
  /** Audit events read (every stage). */
  events: number;
  /** Lines that are not an audit event (not JSON, not `kind: Event`, or longer than MAX_LINE). */
  badLines: number;
  /** The first few bad line numbers, for the report (never their content). */
  badLineNumbers: number[];
  /** The window the log covers (requestReceivedTimestamp). */
  from?: string;
  to?: string;
  users: Map<string, UserActivity>;
  /** Users not kept (MAX_USERS reached) — their requests are unknown, not absent. */
  droppedUsers: number;
  operationsKept: number;
}

const SA_PREFIX = 'system:serviceaccount:';

/** `system:serviceaccount:NS:NAME` → `{namespace, name}`; undefined for other users. */
export function serviceAccountOf(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const rest = username.slice(SA_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0 || colon === rest.length - 1) return undefined;
  return { namespace: rest.slice(0, colon), name: rest.slice(colon + 1) };
}

export function serviceAccountUser(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`;
}

export function operationKey(op: Omit<AuditOperation, 'count'>): string {
  return JSON.stringify([
    op.verb,
    op.apiGroup ?? null,
    op.resource ?? null,
    op.subresource ?? null,
    op.namespace ?? null,
    op.name ?? null,
    op.path ?? null,
  ]);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** Accumulates events into a summary; `line` feeds one line of the log. */
export class AuditAccumulator {
  readonly summary: AuditSummary;
  /** Per user: requests counted at completion and at receipt (the larger one is the count). */
  private readonly counts = new Map<string, { complete: number; received: number }>();
  private readonly opCounts = new WeakMap<AuditOperation, { complete: number; received: number }>();

  constructor(file: string, gzipped = false) {
    this.summary = {
      file,
      gzipped,
      lines: 0,
      events: 0,
      badLines: 0,
      badLineNumbers: [],
      users: new Map(),
      droppedUsers: 0,
      operationsKept: 0,
    };
  }

  private bad(): void {
    const s = this.summary;
    s.badLines++;
    if (s.badLineNumbers.length < 5) s.badLineNumbers.push(s.lines);
  }

  /** A line longer than MAX_LINE (skipped unread). */
  tooLong(): void {
    this.summary.lines++;
    this.bad();
  }

  line(text: string): void {
    const s = this.summary;
    s.lines++;
    const trimmed = text.trim();
    if (trimmed === '') return;
    let event: Record<string, unknown> | undefined;
    try {
      event = obj(JSON.parse(trimmed));
    } catch {
      event = undefined;
    }
    const user = obj(event?.impersonatedUser) ?? obj(event?.user);
    const username = str(user?.username);
    const verb = str(event?.verb);
    if (event?.kind !== 'Event' || !username || !verb) {
      this.bad();
      return;
    }
    s.events++;
    const at = str(event.requestReceivedTimestamp);
    if (at) {
      if (!s.from || at < s.from) s.from = at;
      if (!s.to || at > s.to) s.to = at;
    }
    let activity = s.users.get(username);
    if (!activity) {
      if (s.users.size >= MAX_USERS) {
        s.droppedUsers++;
        return;
      }
      activity = { username, requests: 0, operations: new Map(), truncated: false };
      s.users.set(username, activity);
    }
    const counts = this.counts.get(username) ?? { complete: 0, received: 0 };
    this.counts.set(username, counts);
    const stage = str(event.stage);
    const counted = stage === 'ResponseComplete' || stage === 'Panic';
    if (counted) counts.complete++;
    else if (stage === 'RequestReceived') counts.received++;
    activity.requests = Math.max(counts.complete, counts.received);

    const ref = obj(event.objectRef);
    let op: Omit<AuditOperation, 'count'>;
    if (ref) {
      op = { verb, apiGroup: str(ref.apiGroup) ?? '' };
      const resource = str(ref.resource);
      if (resource) op.resource = resource;
      const sub = str(ref.subresource);
      if (sub) op.subresource = sub;
      const ns = str(ref.namespace);
      if (ns) op.namespace = ns;
      const name = str(ref.name);
      if (name) op.name = name;
    } else {
      const uri = str(event.requestURI) ?? '';
      op = { verb, path: uri.split('?')[0] || '/' };
    }
    const key = operationKey(op);
    let known = activity.operations.get(key);
    if (!known) {
      if (s.operationsKept >= MAX_OPERATIONS) {
        activity.truncated = true;
        return;
      }
      known = { ...op, count: 0 };
      activity.operations.set(key, known);
      this.opCounts.set(known, { complete: 0, received: 0 });
      s.operationsKept++;
    }
    // One request appears at several stages: count it at completion, else at receipt (whichever the log keeps).
    const c = this.opCounts.get(known) as { complete: number; received: number };
    if (counted) c.complete++;
    else if (stage === 'RequestReceived') c.received++;
    known.count = Math.max(c.complete, c.received, 1);
  }
}

/** Summarize audit log lines (pure: tests feed arrays). */
export function summarizeAuditLines(lines: Iterable<string>, file = 'audit.log'): AuditSummary {
  const acc = new AuditAccumulator(file);
  for (const l of lines) acc.line(l);
  return acc.summary;
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await handle.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Stream an audit log file (plain or gzipped, detected by its magic bytes) into a summary. A file that cannot be
 * read, is not valid gzip, or holds no audit event at all is an InputError (exit 6); bad lines otherwise are
 * counted, not fatal.
 */
export async function readAuditLog(path: string, signal?: AbortSignal): Promise<AuditSummary> {
  const hint =
    'Pass --audit-log with the API server audit log (--audit-log-path), JSON lines, plain or gzipped.';
  let gzipped: boolean;
  try {
    gzipped = await isGzip(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`, {
      file: path,
      hint,
      cause,
    });
  }
  const acc = new AuditAccumulator(path, gzipped);
  const file = createReadStream(path);
  const stream = gzipped ? file.pipe(createGunzip()) : file;
  file.on('error', (e) => stream.destroy(e));
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  const flush = () => {
    if (skipping) acc.tooLong();
    else if (pendingBytes > 0) acc.line(Buffer.concat(pending, pendingBytes).toString('utf8'));
    pending = [];
    pendingBytes = 0;
    skipping = false;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
        if (!skipping) {
          pending.push(chunk.subarray(start, nl));
          pendingBytes += nl - start;
          if (pendingBytes > MAX_LINE) skipping = true;
        }
        if (!skipping && pendingBytes === 0) acc.line('');
        else flush();
        start = nl + 1;
      }
      if (start < chunk.length && !skipping) {
        pending.push(Buffer.from(chunk.subarray(start)));
        pendingBytes += chunk.length - start;
        if (pendingBytes > MAX_LINE) {
          skipping = true;
          pending = [];
        }
      }
    }
    flush();
  } catch (cause) {
    if (signal?.aborted) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new InputError(
      gzipped ? `is not a valid gzip file (${code ?? 'error'})` : `cannot be read (${code ?? 'error'})`,
      { file: path, hint, cause },
    );
  }
  const s = acc.summary;
  if (s.events === 0 && s.badLines > 0) {
    throw new InputError(`is not an audit log: none of its ${s.lines} line(s) is an audit event`, {
      file: path,
      hint,
    });
  }
  return s;
}

const memo = new Map<string, Promise<AuditSummary>>();

/** `readAuditLog`, once per path per process (sa-tokens and rbac-review both read it in one plan). */
export function auditLogOnce(path: string, signal?: AbortSignal): Promise<AuditSummary> {
  let key: string;
  try {
    const st = statSync(path);
    key = `${path}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    return readAuditLog(path, signal); // its error says what is wrong
  }
  let p = memo.get(key);
  if (!p) {
    p = readAuditLog(path, signal);
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}

/** `1,204 requests`: a count for people. */
export function requestsText(n: number): string {
  return `${n.toLocaleString('en-US')} request${n === 1 ? '' : 's'}`;
}

/** `in the audit log (2026-06-01T10:00:00Z → 2026-06-01T12:00:00Z)`. */
export function windowText(s: Pick<AuditSummary, 'from' | 'to'>): string {
  return s.from && s.to ? `in the audit log (${s.from} → ${s.to})` : 'in the audit log';
}
