import { describe, expect, test } from 'vitest';
import { isMutableTag, parseImage } from '../../../src/policy/images.js';

describe('parseImage (docker/distribution normalization)', () => {
  test.each([
    ['nginx', 'docker.io', 'library/nginx', undefined, 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', 'docker.io/library/nginx:1.27'],
    ['myorg/app:2', 'docker.io', 'myorg/app', '2', 'docker.io/myorg/app:2'],
    [
      'docker.io/library/busybox:1.36',
      'docker.io',
      'library/busybox',
      '1.36',
      'docker.io/library/busybox:1.36',
    ],
    ['index.docker.io/calico/node:v3', 'docker.io', 'calico/node', 'v3', 'docker.io/calico/node:v3'],
    ['index.docker.io/redis', 'docker.io', 'library/redis', undefined, 'docker.io/library/redis'],
    ['localhost/app', 'localhost', 'app', undefined, 'localhost/app'],
    ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev', 'localhost:5000/app:dev'],
    [
      'registry.example.com:5000/payments/api:3.2.1',
      'registry.example.com:5000',
      'payments/api',
      '3.2.1',
      'registry.example.com:5000/payments/api:3.2.1',
    ],
    // A port is part of the host, and without a tag nothing after ':' is a tag.
    [
      'registry.example.com:5000/legacy/job',
      'registry.example.com:5000',
      'legacy/job',
      undefined,
      'registry.example.com:5000/legacy/job',
    ],
    ['ghcr.io/acme-shop/cart:2.4.1', 'ghcr.io', 'acme-shop/cart', '2.4.1', 'ghcr.io/acme-shop/cart:2.4.1'],
    // An upper-case first component is a host too (distribution treats it as a domain).
    ['MyRegistry/app', 'MyRegistry', 'app', undefined, 'MyRegistry/app'],
  ])('%s → %s %s', (raw, registry, repository, tag, normalized) => {
    const ref = parseImage(raw);
    expect(ref.registry).toBe(registry);
    expect(ref.repository).toBe(repository);
    expect(ref.tag).toBe(tag);
    expect(ref.normalized).toBe(normalized);
  });

  test('digests: with and without a tag', () => {
    const digest = `sha256:${'e5c4'.repeat(16)}`;
    const both = parseImage(`registry.k8s.io/ingress-nginx/controller:v1.8.1@${digest}`);
    expect(both).toMatchObject({
      registry: 'registry.k8s.io',
      repository: 'ingress-nginx/controller',
      tag: 'v1.8.1',
      digest,
      valid: true,
    });
    const only = parseImage(`registry.example.com:5000/app@${digest}`);
    expect(only).toMatchObject({ registry: 'registry.example.com:5000', repository: 'app', digest });
    expect(only.tag).toBeUndefined();
  });

  test('invalid references are flagged but still classified', () => {
    // Repository names are lower-case; a single upper-case component is not a host (no '/').
    expect(parseImage('Nginx:1').valid).toBe(false);
    expect(parseImage('Nginx:1').registry).toBe('docker.io');
    expect(parseImage('docker.io/Library/nginx').valid).toBe(false);
    expect(parseImage('app:bad tag').valid).toBe(false);
    expect(parseImage('').valid).toBe(false);
  });
});

describe('isMutableTag', () => {
  test.each([
    ['redis:latest', true],
    ['busybox', true],
    ['registry.example.com:5000/legacy/nightly-report:latest', true],
    ['registry.example.com:5000/legacy/nightly-report', true],
    ['nginx:1.27', false],
    [`app:latest@sha256:${'a'.repeat(64)}`, false],
    [`app@sha256:${'a'.repeat(64)}`, false],
  ])('%s → %s', (raw, mutable) => {
    expect(isMutableTag(parseImage(raw))).toBe(mutable);
  });
});
