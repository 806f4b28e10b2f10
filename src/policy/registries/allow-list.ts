/**
 * Trusted image sources (phase 5): the allow-list entries and the one decision "may this image be admitted".
 * The same rules are written in CEL in templates/registries/policy.yaml (the API server's side); a test runs both
 * on one table of images against the real server and asserts they agree.
 *
 * An image is normalised the way the container runtime does (src/policy/images.ts `parseImage`: no host →
 * `docker.io`, one path element → `docker.io/library/…`, `index.docker.io` = `docker.io`, a port is part of the
 * host, tag and digest stripped) to `HOST/REPOSITORY`. An entry `HOST[/PATH]` allows it when the host is exactly
 * the entry's (port included) and, with a path, the repository is the path or starts with `PATH/`. An image with a
 * character no image reference can hold (anything outside `[A-Za-z0-9._:/@+=[]-]`, or empty) is never allowed.
 */
import { parseImage } from '../images.js';

/** The one ValidatingAdmissionPolicy (and binding) kube-harden writes for phase 5. */
export const POLICY_NAME = 'kube-harden-allowed-registries';

/**
 * The characters an image reference can hold (distribution's reference grammar, IPv6 hosts included). The CEL
 * in templates/registries/policy.yaml carries the same expression (a unit test compares them).
 */
export const IMAGE_CHARSET = '^[A-Za-z0-9._:/@+=\\[\\]-]+$';
const CHARSET = new RegExp(IMAGE_CHARSET);

const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export type EntryParse = { ok: true; value: string } | { ok: false; error: string; hint?: string };

/**
 * One allow-list entry as typed (`ghcr.io`, `registry.example.com:5000/team`, `index.docker.io/library`), checked
 * and normalised (`index.docker.io` → `docker.io`, a trailing `/` dropped). A bare name (`nginx`) is refused: it is
 * not a host, and guessing would widen the list.
 */
export function parseAllowEntry(text: string): EntryParse {
  const raw = text.trim().replace(/\/+$/, '');
  if (raw === '') return { ok: false, error: 'is empty', hint: 'use HOST or HOST/PATH, e.g. ghcr.io/my-org' };
  if (raw.includes('://'))
    return { ok: false, error: 'is a URL', hint: `drop the scheme: ${raw.replace(/^[a-z]+:\/\//i, '')}` };
  if (/[*?]/.test(raw))
    return {
      ok: false,
      error: 'has a wildcard',
      hint: 'entries are prefixes already: HOST allows all of it, HOST/PATH the repositories under PATH',
    };
  if (raw.includes('@'))
    return {
      ok: false,
      error: 'has a digest',
      hint: 'allow a registry or a repository prefix, not one image',
    };
  const slash = raw.indexOf('/');
  let host = slash < 0 ? raw : raw.slice(0, slash);
  const path = slash < 0 ? '' : raw.slice(slash + 1);
  if (!host.includes('.') && !host.includes(':') && host !== 'localhost')
    return {
      ok: false,
      error: 'does not start with a registry host (a host has a dot or a port, or is localhost)',
      hint: `for Docker Hub write docker.io/${slash < 0 ? `library/${raw}` : raw}`,
    };
  if (!HOST.test(host))
    return {
      ok: false,
      error: 'has an invalid registry host',
      hint: 'a host is lower case, e.g. ghcr.io or registry.example.com:5000',
    };
  if (path !== '' && !path.split('/').every((p) => PATH_COMPONENT.test(p)))
    return {
      ok: false,
      error: 'has an invalid repository path (or a tag)',
      hint: 'a path is lower-case repository components, e.g. ghcr.io/my-org/team',
    };
  if (host === 'index.docker.io') host = 'docker.io';
  return { ok: true, value: path === '' ? host : `${host}/${path}` };
}

/** A comma-separated list of entries (what `--allow-registry` takes, repeated flags joined), deduplicated, sorted. */
export function parseAllowList(
  text: string,
): { ok: true; value: string[] } | { ok: false; error: string; hint?: string } {
  const out = new Set<string>();
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const parsed = parseAllowEntry(part);
    if (!parsed.ok)
      return { ok: false, error: `"${part}" ${parsed.error}`, ...(parsed.hint ? { hint: parsed.hint } : {}) };
    out.add(parsed.value);
  }
  if (out.size === 0)
    return { ok: false, error: 'names no registry', hint: 'use HOST or HOST/PATH, e.g. ghcr.io/my-org' };
  return { ok: true, value: [...out].sort() };
}

export interface ImageVerdict {
  allowed: boolean;
  /** `HOST/REPOSITORY` as matched (empty when the image is not a reference at all). */
  normalised: string;
  /** Why: the entry that allows it, or what is wrong. */
  reason: string;
}

/** `HOST/REPOSITORY` of an image, or undefined when it holds characters no image reference can. */
export function normaliseImage(image: string): string | undefined {
  if (!CHARSET.test(image)) return undefined;
  const ref = parseImage(image);
  return `${ref.registry}/${ref.repository}`;
}

/** Whether `image` may be admitted under the allow-list `entries` (normalised entries: `parseAllowEntry`). */
export function imageVerdict(image: string, entries: readonly string[]): ImageVerdict {
  const normalised = normaliseImage(image);
  if (normalised === undefined)
    return {
      allowed: false,
      normalised: '',
      reason: image === '' ? 'no image' : `"${image}" is not a valid image reference`,
    };
  const by = entries.find((e) => normalised === e || normalised.startsWith(`${e}/`));
  if (by !== undefined) return { allowed: true, normalised, reason: `allowed by ${by}` };
  const host = normalised.slice(0, normalised.indexOf('/'));
  const sameHost = entries.filter((e) => e.split('/')[0] === host);
  return {
    allowed: false,
    normalised,
    reason: sameHost.length
      ? `${normalised} is not under an allowed path of ${host} (${sameHost.join(', ')})`
      : `registry ${host} is not allowed`,
  };
}

/** The allow-list as a CEL list literal (entries are checked by `parseAllowEntry`; quotes are escaped anyway). */
export function celStringList(entries: readonly string[]): string {
  return `[${entries.map((e) => `'${e.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]`;
}

/**
 * The allow-list held by a policy's `allowed` variable (a CEL list literal as `celStringList` writes it), or
 * undefined when it is anything else (e.g. edited by hand into an expression): then it is not trusted as a list.
 */
export function allowListOfExpression(expression: string): string[] | undefined {
  const m = /^\[((?:'[^'\\]*'(?:, )?)*)\]$/.exec(expression.trim());
  if (!m) return undefined;
  const items = [...(m[1] as string).matchAll(/'([^'\\]*)'/g)].map((x) => x[1] as string);
  for (const item of items) {
    const parsed = parseAllowEntry(item);
    if (!parsed.ok || parsed.value !== item) return undefined;
  }
  return items.length ? items : undefined;
}

/** The entries that allow images of `registry` (a host): `[host]` (all of it), paths under it, or none. */
export function entriesFor(registry: string, entries: readonly string[]): string[] {
  return entries.filter((e) => e === registry || e.startsWith(`${registry}/`));
}
