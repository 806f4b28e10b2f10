/**
 * The seal of a saved plan: one sha256 over what a reviewer approves — plan.json (its header and each change),
 * PLAN.md, and every file under manifests/, optional/, patches/ and artifacts/ — so that `apply --plan` applies
 * exactly what was reviewed. Canonical: JSON with sorted keys and no spaces; files by their bytes, in sorted path
 * order; PLAN.md with its own digest line blanked (it shows the digest it is part of). Per-entry hashes are kept
 * next to the digest in plan.json only to name the first entry that differs; the digest alone decides.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

export const SEALED_DIRS = ['manifests', 'optional', 'patches', 'artifacts'] as const;
const PREFIX = 'kube-harden plan digest v1\n';
/** The line PLAN.md shows the digest on. */
export const DIGEST_LINE = /^Digest: `sha256:[0-9a-f]{64}`$/m;
const MAX_FILE_BYTES = 16 * 1024 * 1024;

export interface DigestEntry {
  name: string;
  sha256: string;
}

export interface Seal {
  /** `sha256:<hex>`. */
  digest: string;
  entries: DigestEntry[];
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** PLAN.md without its own digest: the digest line, and the digest wherever else it is quoted, blanked. */
export function blankDigestLine(markdown: string): string {
  const hex = /^Digest: `sha256:([0-9a-f]{64})`$/m.exec(markdown)?.[1];
  return hex ? markdown.replaceAll(hex, '-'.repeat(64)) : markdown;
}

export function digestLine(digest: string): string {
  return `Digest: \`${digest}\``;
}

/** Files under the sealed folders of `dir`, as sorted relative POSIX paths. Links are refused. */
function sealedFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = join(dir, rel);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(abs);
    } catch {
      return;
    }
    if (st.isSymbolicLink() || !(st.isFile() || st.isDirectory())) {
      throw new InputError(`${rel} is not a regular file or folder (links are refused in a plan)`, {
        file: dir,
        hint: 'write the plan again with `kube-harden plan --out DIR`',
      });
    }
    if (st.isFile()) {
      if (st.size > MAX_FILE_BYTES) {
        throw new InputError(`${rel} is larger than 16 MiB`, { file: dir });
      }
      out.push(rel);
      return;
    }
    for (const name of readdirSync(abs)) walk(`${rel}/${name}`);
  };
  for (const top of SEALED_DIRS) walk(top);
  return out.sort();
}

/**
 * The entries and digest of a plan directory. `planObject`: plan.json as parsed (its `digest` and
 * `digestEntries` are left out); `markdown`: PLAN.md's text, or undefined when it is missing.
 */
export function computeSeal(
  dir: string,
  planObject: Record<string, unknown>,
  markdown: string | undefined,
): Seal {
  const { digest: _d, digestEntries: _e, changes, ...header } = planObject;
  const entries: DigestEntry[] = [{ name: 'plan.json', sha256: sha256(canonicalJson(header)) }];
  (Array.isArray(changes) ? changes : []).forEach((c, i) => {
    const id = c && typeof c === 'object' && typeof c.id === 'string' ? c.id : '?';
    entries.push({ name: `plan.json changes[${i}] ${id}`, sha256: sha256(canonicalJson(c)) });
  });
  entries.push({
    name: 'PLAN.md',
    sha256: markdown === undefined ? 'missing' : sha256(blankDigestLine(markdown)),
  });
  for (const rel of sealedFiles(dir))
    entries.push({ name: rel, sha256: sha256(readFileSync(join(dir, rel))) });
  const text = PREFIX + entries.map((e) => `${JSON.stringify(e.name)} ${e.sha256}\n`).join('');
  return { digest: `sha256:${sha256(text)}`, entries };
}

/** The first entry that differs between what the plan recorded and what is on disk, for people. */
export function firstDifference(recorded: DigestEntry[], actual: DigestEntry[]): string {
  const byName = new Map(recorded.map((e) => [e.name, e.sha256]));
  const names = new Set(actual.map((e) => e.name));
  for (const e of actual) {
    const was = byName.get(e.name);
    if (was === undefined) return `${e.name} was added`;
    if (was !== e.sha256) return e.sha256 === 'missing' ? `${e.name} was removed` : `${e.name} was changed`;
  }
  for (const e of recorded) if (!names.has(e.name)) return `${e.name} was removed`;
  return "plan.json's digest does not match its contents";
}

/** `sha256:<hex>` from a user's `--expect-digest` (with or without the prefix); undefined when malformed. */
export function parseDigest(value: string): string | undefined {
  const m = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(value.trim());
  return m ? `sha256:${(m[1] as string).toLowerCase()}` : undefined;
}
