/**
 * Images known to run as a non-root numeric UID, for `runAsNonRoot` fixes: the kubelet refuses a container with
 * `runAsNonRoot: true` whose image runs as root or as a user name it cannot verify.
 */
import { parseImage } from '../../src/policy/images.js';

/**
 * Images known to run as a non-root numeric UID by default (their Dockerfile's `USER`). Only for these is
 * `runAsUser` set; any other image must itself run as a non-root numeric user for `runAsNonRoot: true` to let it
 * start. Keep the list short and sourced: a wrong entry makes a container run as a user its image never expected.
 */
export const KNOWN_NONROOT_IMAGES: ReadonlyArray<{
  registry: string;
  repository: RegExp;
  tag?: RegExp;
  uid: number;
  source: string;
}> = [
  {
    registry: 'docker.io',
    repository: /^nginxinc\/nginx-unprivileged$/,
    uid: 101,
    source: 'nginxinc/docker-nginx-unprivileged: USER 101',
  },
  {
    registry: 'ghcr.io',
    repository: /^nginxinc\/nginx-unprivileged$/,
    uid: 101,
    source: 'nginxinc/docker-nginx-unprivileged: USER 101',
  },
  {
    registry: 'registry.k8s.io',
    repository: /^ingress-nginx\/controller$/,
    uid: 101,
    source: 'ingress-nginx controller image: www-data, UID 101',
  },
  {
    registry: 'gcr.io',
    repository: /^distroless\//,
    tag: /^(.*-)?nonroot$/,
    uid: 65532,
    source: 'distroless :nonroot tags: USER 65532',
  },
  {
    registry: 'docker.io',
    repository: /^bitnami\//,
    uid: 1001,
    source: 'Bitnami non-root images: USER 1001',
  },
  {
    registry: 'quay.io',
    repository: /^prometheus\/(prometheus|alertmanager|node-exporter|blackbox-exporter)$/,
    uid: 65534,
    source: 'Prometheus images: USER nobody (65534), a name the kubelet cannot verify as non-root',
  },
];

/** The UID an image is known to run as, if it is in KNOWN_NONROOT_IMAGES. */
export function knownNonRootUid(image: string | undefined): { uid: number; source: string } | undefined {
  if (!image) return undefined;
  const ref = parseImage(image);
  const hit = KNOWN_NONROOT_IMAGES.find(
    (k) =>
      k.registry === ref.registry &&
      k.repository.test(ref.repository) &&
      (!k.tag || (ref.tag !== undefined && k.tag.test(ref.tag))),
  );
  return hit ? { uid: hit.uid, source: hit.source } : undefined;
}

/**
 * Images known to run as root by default: Docker official images (`docker.io/library/…`) whose Dockerfile sets no
 * `USER` (their entrypoints often start as root and drop to a service user with gosu/su-exec, which needs root).
 * For these, `runAsNonRoot: true` alone is a container the kubelet refuses to start ("image will run as root"):
 * kube-harden does not set it without an explicit choice (`--run-as-user`). Short and conservative: an image not
 * listed is "unknown", not "non-root".
 */
export const KNOWN_ROOT_IMAGES: ReadonlyArray<{ registry: string; repository: RegExp; source: string }> = [
  {
    registry: 'docker.io',
    repository:
      /^library\/(nginx|httpd|redis|postgres|mysql|mariadb|mongo|rabbitmq|busybox|alpine|ubuntu|debian|centos|rockylinux|almalinux|fedora|python|node|golang|php|ruby|wordpress)$/,
    source: 'Docker official image without a USER instruction: runs as root',
  },
];

/** Why an image is known to run as root, if it is in KNOWN_ROOT_IMAGES. */
export function knownRootImage(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const ref = parseImage(image);
  return KNOWN_ROOT_IMAGES.find((k) => k.registry === ref.registry && k.repository.test(ref.repository))
    ?.source;
}
