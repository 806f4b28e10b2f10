/**
 * One table of images for phase 5 (trusted registries): the unit test checks kube-harden's evaluator against it,
 * the integration test checks the API server running the generated policy against it — so both agree.
 */

/** The allow-list the table is written for. */
export const TABLE_ALLOW = [
  'ghcr.io/acme',
  'registry.example.com:5000',
  'docker.io/library',
  'localhost:5000/team',
  'quay.io',
];

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** [image, allowed?, why] */
export const IMAGE_TABLE: ReadonlyArray<readonly [string, boolean, string]> = [
  ['ghcr.io/acme/api:1.2', true, 'allowed path'],
  ['ghcr.io/acme/api', true, 'no tag'],
  ['ghcr.io/acme/team/api:1', true, 'deeper path'],
  [`ghcr.io/acme/api@${D}`, true, 'digest'],
  [`ghcr.io/acme/api:1.2@${D}`, true, 'tag and digest'],
  ['ghcr.io/acme', true, 'the path itself'],
  ['ghcr.io/acme-evil/api', false, 'path prefix without a / boundary'],
  ['ghcr.io/other/api', false, 'other path on the same host'],
  ['ghcr.io.evil.example/acme/api', false, 'look-alike host (suffix)'],
  ['evil.example/ghcr.io/acme/api', false, 'trusted host inside another host path'],
  ['ghcr.io:443/acme/api', false, 'other port'],
  ['GHCR.IO/acme/api', false, 'upper-case host is another string'],
  ['registry.example.com:5000/any/thing:v1', true, 'host with port'],
  ['registry.example.com/any/thing', false, 'same host without the port'],
  ['registry.example.com:50000/any', false, 'port prefix'],
  ['nginx', true, 'Docker Hub short name = docker.io/library/nginx'],
  ['nginx:1.27', true, 'short name with tag'],
  [`nginx@${D}`, true, 'short name with digest'],
  ['library/nginx', true, 'library/ prefix'],
  ['docker.io/nginx', true, 'docker.io one element'],
  ['index.docker.io/nginx:1', true, 'index.docker.io alias'],
  ['index.docker.io/library/nginx', true, 'index.docker.io alias with library'],
  ['bitnami/nginx', false, 'Docker Hub org not allowed'],
  ['docker.io/bitnami/nginx', false, 'Docker Hub org, qualified'],
  ['librarything/x', false, 'library prefix without boundary'],
  ['localhost/x', false, 'localhost is its own host'],
  ['localhost:5000/team/app', true, 'localhost with port and path'],
  ['localhost:5000/other/app', false, 'localhost with port, other path'],
  ['quay.io/anything/at/all:tag', true, 'whole host'],
  ['quay.io:5000/x', false, 'whole host, other port'],
  ['Quay.io/x', false, 'upper case makes it a host: not quay.io'],
  ['quay/x', false, 'no dot: Docker Hub'],
  ['ghcr.io/acme/a b', false, 'never admitted: a space'],
  ['ghcr.io/acme/ä', false, 'not a reference character'],
];
