/**
 * Image references, parsed the way docker/distribution does (`reference/normalize.go` splitDockerDomain,
 * `reference/regexp.go`): the first path component is a registry host only if it contains `.` or `:`, is
 * `localhost`, or has an upper-case letter; otherwise the image is on Docker Hub (`docker.io`), and a
 * single-component name gets `library/`. `index.docker.io` is Docker Hub's legacy alias. A port is part of the
 * host. A tag is the text after the last `:` of the last path component (never split on the first `:`).
 */

export const DOCKER_HUB = 'docker.io';

export interface ImageRef {
  /** As written in the pod spec. */
  raw: string;
  /** `docker.io`, `registry.example.com:5000`, `localhost`. */
  registry: string;
  /** `library/nginx`, `payments/api`. */
  repository: string;
  tag?: string;
  /** `sha256:<hex>`. */
  digest?: string;
  /** `docker.io/library/nginx:1.27`: the fully qualified reference. */
  normalized: string;
  /** False when the reference does not follow the grammar (it is still classified as well as possible). */
  valid: boolean;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

const cache = new Map<string, ImageRef>();

/** Parses (and caches: images repeat across thousands of pods) one image reference. */
export function parseImage(raw: string): ImageRef {
  const hit = cache.get(raw);
  if (hit) return hit;
  const ref = parse(raw);
  if (cache.size < 50_000) cache.set(raw, ref);
  return ref;
}

function parse(raw: string): ImageRef {
  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && repository !== '' && !repository.includes('/'))
    repository = `library/${repository}`;

  const valid =
    raw.length > 0 &&
    repository.length > 0 &&
    repository.split('/').every((part) => PATH_COMPONENT.test(part)) &&
    (registry === DOCKER_HUB || HOST.test(registry)) &&
    (tag === undefined || TAG.test(tag)) &&
    (digest === undefined || DIGEST.test(digest));
  const out: ImageRef = {
    raw,
    registry,
    repository,
    normalized: `${registry}/${repository}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`,
    valid,
  };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/**
 * Tag names that, by convention, move to a new image again and again: `latest`, and the branch and channel
 * names projects publish under (`main`, `master`, `dev`, `edge`, `nightly`, `stable`).
 */
export const MOVING_TAGS: readonly string[] = [
  'latest',
  'main',
  'master',
  'dev',
  'edge',
  'nightly',
  'stable',
];

/**
 * A reference that can change under the same name: no tag (which pulls `latest`) or a moving tag (`MOVING_TAGS`),
 * unless pinned by digest (`app:latest@sha256:…` is immutable).
 */
export function isMutableTag(ref: ImageRef): boolean {
  return ref.digest === undefined && (ref.tag === undefined || MOVING_TAGS.includes(ref.tag.toLowerCase()));
}

/** Why a mutable reference (see `isMutableTag`) can change, with what to do; undefined for a pinned one. */
export function mutableTagReason(ref: ImageRef): string | undefined {
  if (!isMutableTag(ref)) return undefined;
  const pin = 'pin it by digest (image@sha256:…)';
  if (ref.tag === undefined) return `has no tag (pulls :latest): it can change under the same name; ${pin}`;
  return `uses the moving tag :${ref.tag}: it can change under the same name; ${pin}`;
}
