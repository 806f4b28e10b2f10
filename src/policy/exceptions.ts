/**
 * The exceptions register (`./kube-harden-exceptions.yaml`, `--exceptions FILE`).
 *
 * ```yaml
 * apiVersion: kube-harden.io/v1alpha1
 * kind: ExceptionList
 * exceptions:
 *   - id: node-exporter-host-access
 *     scope: { namespace: monitoring, kind: DaemonSet, name: node-exporter }  # or {namespace}; optional container
 *     controls: [hostNamespaces, hostPathVolumes, hostPorts]                  # PSS check IDs or KH-… control IDs
 *     reason: node-exporter reads host metrics
 *     owner: team-observability
 *     ticket: OBS-142          # optional
 *     expires: 2027-06-30      # required, YYYY-MM-DD (UTC): expired when today > expires
 * ```
 *
 * Scope rules: `namespace` covers every finding in the namespace (the Namespace itself included); `kind`+`name`
 * one object; `container` one container of it. Cluster-scoped objects (ClusterRole, ClusterRoleBinding) are named
 * by `kind`+`name` without `namespace`. A container-scoped exception covers a Pod Security check only when that
 * container alone causes it (the check passes once the container is left out). Covered findings are reported as
 * excepted, never hidden; an expired exception covers nothing and is itself a finding (KH-EXCEPTION-EXPIRED).
 */
import { readFile } from 'node:fs/promises';
import { InputError, UsageError } from '../errors.js';
import { isWorkloadKind, WORKLOAD_KINDS } from '../inventory/types.js';
import { control, isControlId, isPssCheckId, PSS_CHECKS } from './controls.js';
import { type Finding, type Target, targetNamespace } from './findings.js';
import { describe, isObject, type J, YamlInput } from './yaml-input.js';

export const DEFAULT_EXCEPTIONS_FILE = 'kube-harden-exceptions.yaml';

export interface ExceptionScope {
  namespace?: string;
  kind?: string;
  name?: string;
  container?: string;
}

export interface ExceptionEntry {
  id: string;
  scope: ExceptionScope;
  /** PSS check IDs (`hostPorts`) and control IDs (`KH-POD-ROOT`, `KH-PSS-BASELINE` = every baseline check). */
  controls: string[];
  reason: string;
  owner: string;
  ticket?: string;
  /** `YYYY-MM-DD`, inclusive: the exception is valid through this day (UTC). */
  expires: string;
  /** 1-based line of the entry in the register. */
  line: number;
}

export interface ExceptionRegister {
  file: string;
  exceptions: ExceptionEntry[];
}

const HINT = 'See docs/report-schema.md "Exceptions register" for the format.';
const ENTRY_FIELDS = ['id', 'scope', 'controls', 'reason', 'owner', 'ticket', 'expires'] as const;
const SCOPE_FIELDS = ['namespace', 'kind', 'name', 'container'] as const;
const NAMESPACED_KINDS: readonly string[] = [...WORKLOAD_KINDS, 'Role', 'RoleBinding'];
const CLUSTER_KINDS = ['ClusterRole', 'ClusterRoleBinding'];
const ID = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses the register's text. Throws `InputError` with file and line for anything malformed. */
export function parseExceptions(text: string | Uint8Array, file: string): ExceptionRegister {
  const input = YamlInput.parse(text, file, 'ExceptionList', HINT);
  input.onlyFields(input.root, [], ['apiVersion', 'kind', 'exceptions'], 'ExceptionList');
  const raw = input.root.exceptions ?? [];
  if (!Array.isArray(raw))
    throw input.error(['exceptions'], `exceptions must be a list, not ${describe(raw)}`, HINT);
  const seen = new Map<string, number>();
  const exceptions = raw.map((item, i) => {
    const entry = parseEntry(input, item, ['exceptions', i]);
    const first = seen.get(entry.id);
    if (first !== undefined) {
      throw input.error(
        ['exceptions', i, 'id'],
        `duplicate exception id ${JSON.stringify(entry.id)} (first at line ${first})`,
      );
    }
    seen.set(entry.id, entry.line);
    return entry;
  });
  return { file, exceptions };
}

function parseEntry(input: YamlInput, item: unknown, path: Array<string | number>): ExceptionEntry {
  if (!isObject(item))
    throw input.error(path, `each exception must be a mapping, not ${describe(item)}`, HINT);
  const what = `exception ${path[1] as number}`;
  input.onlyFields(item, path, ENTRY_FIELDS, what);
  const id = input.string(item, path, 'id', what, true) as string;
  if (!ID.test(id)) {
    throw input.error([...path, 'id'], `id ${JSON.stringify(id)} must be letters, digits, '.', '_' or '-'`);
  }
  const named = `exception ${id}`;
  const entry: ExceptionEntry = {
    id,
    scope: parseScope(input, item.scope, [...path, 'scope'], named),
    controls: parseControls(input, item.controls, [...path, 'controls'], named),
    reason: input.string(item, path, 'reason', named, true) as string,
    owner: input.string(item, path, 'owner', named, true) as string,
    expires: parseDate(input, item, path, named),
    line: input.line(path),
  };
  if (item.ticket !== undefined && item.ticket !== null) {
    if (typeof item.ticket !== 'string' || item.ticket.trim() === '') {
      throw input.error(
        [...path, 'ticket'],
        `ticket of ${named} must be a string (quote it), not ${describe(item.ticket)}`,
      );
    }
    entry.ticket = item.ticket;
  }
  return entry;
}

function parseScope(
  input: YamlInput,
  raw: unknown,
  path: Array<string | number>,
  what: string,
): ExceptionScope {
  if (raw === undefined || raw === null) throw input.error(path.slice(0, -1), `${what} needs a scope`, HINT);
  if (!isObject(raw))
    throw input.error(path, `scope of ${what} must be a mapping, not ${describe(raw)}`, HINT);
  input.onlyFields(raw, path, SCOPE_FIELDS, `the scope of ${what}`);
  const scope: ExceptionScope = {};
  for (const f of SCOPE_FIELDS) {
    const v = input.string(raw as J, path, f, `the scope of ${what}`, false);
    if (v !== undefined) scope[f] = v;
  }
  if ((scope.kind === undefined) !== (scope.name === undefined)) {
    throw input.error(path, `the scope of ${what} must name both kind and name (or neither)`);
  }
  if (scope.container !== undefined && scope.kind === undefined) {
    throw input.error(path, `the scope of ${what} names a container but no kind and name`);
  }
  if (scope.kind !== undefined) {
    const clusterScoped = CLUSTER_KINDS.includes(scope.kind);
    if (!clusterScoped && !NAMESPACED_KINDS.includes(scope.kind)) {
      throw input.error(
        [...path, 'kind'],
        `kind ${JSON.stringify(scope.kind)} in ${what} is not one kube-harden reports on`,
        `Kinds: ${[...NAMESPACED_KINDS, ...CLUSTER_KINDS].join(', ')}.`,
      );
    }
    if (clusterScoped && scope.namespace !== undefined) {
      throw input.error(
        [...path, 'namespace'],
        `${scope.kind} is cluster-scoped: drop namespace from the scope of ${what}`,
      );
    }
    if (!clusterScoped && scope.namespace === undefined) {
      throw input.error(path, `the scope of ${what} needs a namespace (${scope.kind} is namespaced)`);
    }
    if (scope.container !== undefined && !isWorkloadKind(scope.kind)) {
      throw input.error(
        [...path, 'container'],
        `the scope of ${what} names a container, but a ${scope.kind} has none`,
      );
    }
  } else if (scope.namespace === undefined) {
    throw input.error(path, `the scope of ${what} needs at least a namespace`);
  }
  return scope;
}

function parseControls(input: YamlInput, raw: unknown, path: Array<string | number>, what: string): string[] {
  if (raw === undefined || raw === null) throw input.error(path.slice(0, -1), `${what} needs controls`, HINT);
  if (!Array.isArray(raw) || raw.length === 0) {
    throw input.error(
      path,
      `controls of ${what} must be a non-empty list of control or Pod Security check IDs`,
    );
  }
  const out: string[] = [];
  raw.forEach((id, i) => {
    if (typeof id !== 'string')
      throw input.error([...path, i], `controls of ${what}: ${describe(id)} is not an ID`);
    if (!isControlId(id) && !isPssCheckId(id)) {
      throw input.error(
        [...path, i],
        `unknown control ${JSON.stringify(id)} in ${what}`,
        'Use a Pod Security check ID (runAsNonRoot, hostPathVolumes, …) or a control ID (KH-POD-ROOT, …); see docs/report-schema.md.',
      );
    }
    if (isControlId(id) && !control(id).exceptable) {
      throw input.error([...path, i], `${id} cannot be excepted (${what})`);
    }
    if (out.includes(id)) throw input.error([...path, i], `${id} is listed twice in ${what}`);
    out.push(id);
  });
  return out;
}

function parseDate(input: YamlInput, item: J, path: Array<string | number>, what: string): string {
  const raw = item.expires;
  if (raw === undefined || raw === null) {
    throw input.error(
      path,
      `${what} needs an expiry date (expires: YYYY-MM-DD)`,
      'Every exception expires; pick a review date.',
    );
  }
  const m = typeof raw === 'string' ? DATE.exec(raw) : null;
  if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw input.error(
      [...path, 'expires'],
      `expires of ${what} must be a date YYYY-MM-DD, not ${describe(raw)}`,
    );
  }
  return raw as string;
}

function validDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Reads the register. With `optional`, a missing file is no register (the default path need not exist). */
export async function loadExceptions(
  path: string,
  options: { optional?: boolean } = {},
): Promise<ExceptionRegister | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.optional) return undefined;
    throw new InputError(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`, {
      file: path,
      cause,
      hint: 'Pass --exceptions with the path of your exceptions register.',
    });
  }
  return parseExceptions(bytes, path);
}

/** `YYYY-MM-DD` of `now` in UTC. */
export function today(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** Whole days from today (UTC) to the expiry date; negative once expired. */
export function daysLeft(entry: Pick<ExceptionEntry, 'expires'>, now: Date): number {
  return Math.round(
    (Date.parse(`${entry.expires}T00:00:00Z`) - Date.parse(`${today(now)}T00:00:00Z`)) / 86_400_000,
  );
}

export function isExpired(entry: Pick<ExceptionEntry, 'expires'>, now: Date): boolean {
  return today(now) > entry.expires;
}

/** Whether the exception's scope contains the target (container scope: only that container's findings). */
export function scopeMatches(scope: ExceptionScope, target: Target): boolean {
  const ns = targetNamespace(target);
  // Without a namespace the scope names a cluster-scoped object (the parser requires kind and name then).
  if (scope.namespace !== ns) return false;
  if (scope.kind !== undefined && (scope.kind !== target.kind || scope.name !== target.name)) return false;
  if (scope.container !== undefined && scope.container !== target.container) return false;
  return true;
}

/** Whether the exception lists this Pod Security check, at this level (KH-PSS-* cover a whole level). */
export function coversCheck(entry: ExceptionEntry, check: string, level: 'baseline' | 'restricted'): boolean {
  return (
    entry.controls.includes(check) ||
    (level === 'restricted' && entry.controls.includes('KH-PSS-RESTRICTED')) ||
    (PSS_CHECKS.get(check) === 'baseline' && entry.controls.includes('KH-PSS-BASELINE'))
  );
}

export type ExceptionState = 'active' | 'expiring' | 'expired';

export interface ExceptionStatus {
  id: string;
  line: number;
  scope: ExceptionScope;
  controls: string[];
  owner: string;
  ticket?: string;
  expires: string;
  /** Negative once expired. */
  daysLeft: number;
  state: ExceptionState;
  /** Findings it covers in this snapshot (0 when expired: it covers nothing). */
  covers: number;
}

export interface ExceptionReview {
  /** The register's path, when one was read. */
  file?: string;
  /** The "expiring" window, in days. */
  within: number;
  entries: ExceptionStatus[];
  /** IDs, sorted. */
  expired: string[];
  expiring: string[];
  /** Valid (not expired) exceptions that cover nothing in this snapshot. */
  unused: string[];
}

/** The "expiring" window by default, in days (`--within`, declared once by steps/exceptions-review.ts). */
export const DEFAULT_WITHIN_DAYS = 30;

/**
 * `kube-harden exceptions review`: expired, expiring within `within` days (default 30), and unused exceptions.
 * Usage comes from the findings' `exceptedBy`.
 */
export function review(
  exceptions: ExceptionRegister | readonly ExceptionEntry[] | undefined,
  findings: readonly Finding[],
  options: { now: Date; within?: number },
): ExceptionReview {
  const within = options.within ?? DEFAULT_WITHIN_DAYS;
  const list =
    exceptions === undefined
      ? []
      : Array.isArray(exceptions)
        ? exceptions
        : (exceptions as ExceptionRegister).exceptions;
  const used = new Map<string, number>();
  for (const f of findings) {
    if (f.exceptedBy) for (const id of f.exceptedBy) used.set(id, (used.get(id) ?? 0) + 1);
  }
  const entries = [...list]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((e): ExceptionStatus => {
      const days = daysLeft(e, options.now);
      const state: ExceptionState = days < 0 ? 'expired' : days <= within ? 'expiring' : 'active';
      const s: ExceptionStatus = {
        id: e.id,
        line: e.line,
        scope: e.scope,
        controls: e.controls,
        owner: e.owner,
        expires: e.expires,
        daysLeft: days,
        state,
        covers: state === 'expired' ? 0 : (used.get(e.id) ?? 0),
      };
      if (e.ticket !== undefined) s.ticket = e.ticket;
      return s;
    });
  const out: ExceptionReview = {
    within,
    entries,
    expired: entries.filter((e) => e.state === 'expired').map((e) => e.id),
    expiring: entries.filter((e) => e.state === 'expiring').map((e) => e.id),
    unused: entries.filter((e) => e.state !== 'expired' && e.covers === 0).map((e) => e.id),
  };
  if (exceptions && !Array.isArray(exceptions)) out.file = (exceptions as ExceptionRegister).file;
  return out;
}

/** `--within`: `14d`, `2w` or a number of days. */
export function parseWithin(text: string, flag = 'within'): number {
  const days = daysOf(text);
  if (days === undefined)
    throw new UsageError(
      `--${flag} ${JSON.stringify(text)} is not a number of days`,
      `Use e.g. --${flag} 14d or --${flag} 2w.`,
    );
  return days;
}

/** `14`, `14d` or `2w` as a number of days; undefined when it is none of these. */
export function daysOf(text: string): number | undefined {
  const m = /^(\d{1,4})([dw]?)$/.exec(text.trim());
  return m ? Number(m[1]) * (m[2] === 'w' ? 7 : 1) : undefined;
}
