import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  celStringList,
  IMAGE_CHARSET,
  imageVerdict,
  normaliseImage,
  parseAllowEntry,
  parseAllowList,
} from '../../../src/policy/registries/index.js';
import { registryPolicy } from '../../../steps/kit/registries.js';
import { templatesDir } from '../../../steps/kit/templates.js';
import { IMAGE_TABLE, TABLE_ALLOW } from '../../support/registry-images.js';

describe('registry allow-list entries', () => {
  it.each([
    ['ghcr.io', 'ghcr.io'],
    ['ghcr.io/acme/', 'ghcr.io/acme'],
    ['  registry.example.com:5000/team ', 'registry.example.com:5000/team'],
    ['index.docker.io/library', 'docker.io/library'],
    ['localhost', 'localhost'],
    ['localhost:5000', 'localhost:5000'],
    ['[::1]:5000/x', '[::1]:5000/x'],
  ])('%s → %s', (text, value) => {
    expect(parseAllowEntry(text)).toEqual({ ok: true, value });
  });

  it.each([
    ['', 'is empty'],
    ['nginx', 'registry host'],
    ['library/nginx', 'registry host'],
    ['https://ghcr.io', 'URL'],
    ['ghcr.io/*', 'wildcard'],
    ['ghcr.io/acme/api@sha256:abc', 'digest'],
    ['ghcr.io/acme/api:1.2', 'path'],
    ['GHCR.io', 'host'],
    ['ghcr.io/Acme', 'path'],
  ])('refuses %j (%s)', (text, error) => {
    const parsed = parseAllowEntry(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(error);
  });

  it('a bare name points at Docker Hub', () => {
    const parsed = parseAllowEntry('nginx');
    expect(!parsed.ok && parsed.hint).toBe('for Docker Hub write docker.io/library/nginx');
  });

  it('a list: comma-separated, deduplicated, sorted; one bad entry fails it all', () => {
    expect(parseAllowList('quay.io,ghcr.io, quay.io/')).toEqual({ ok: true, value: ['ghcr.io', 'quay.io'] });
    expect(parseAllowList('quay.io,nginx')).toMatchObject({
      ok: false,
      error: expect.stringContaining('"nginx"'),
    });
    expect(parseAllowList(' , ')).toMatchObject({ ok: false });
  });
});

describe('imageVerdict', () => {
  it.each(IMAGE_TABLE)('%s → allowed %s (%s)', (image, allowed) => {
    expect(imageVerdict(image, TABLE_ALLOW).allowed).toBe(allowed);
  });

  it('says why', () => {
    expect(imageVerdict('nginx', TABLE_ALLOW)).toEqual({
      allowed: true,
      normalised: 'docker.io/library/nginx',
      reason: 'allowed by docker.io/library',
    });
    expect(imageVerdict('ghcr.io.evil.example/acme/api', TABLE_ALLOW).reason).toBe(
      'registry ghcr.io.evil.example is not allowed',
    );
    expect(imageVerdict('ghcr.io/other/api:1', TABLE_ALLOW).reason).toBe(
      'ghcr.io/other/api is not under an allowed path of ghcr.io (ghcr.io/acme)',
    );
    expect(imageVerdict('', TABLE_ALLOW)).toMatchObject({ allowed: false, reason: 'no image' });
  });

  it('normalises like the runtime', () => {
    expect(normaliseImage('busybox')).toBe('docker.io/library/busybox');
    expect(normaliseImage('index.docker.io/busybox:1@sha256:x')).toBe('docker.io/library/busybox');
    expect(normaliseImage('localhost:5000/a/b:c')).toBe('localhost:5000/a/b');
    expect(normaliseImage('a b')).toBeUndefined();
  });

  it('an empty allow-list allows nothing', () => {
    expect(imageVerdict('nginx', []).allowed).toBe(false);
  });
});

describe('the CEL side', () => {
  it('the policy template checks the same reference characters', () => {
    const text = readFileSync(`${templatesDir()}/registries/policy.yaml`, 'utf8');
    // In the folded block scalar, the CEL string literal escapes each backslash.
    expect(text).toContain(`'${IMAGE_CHARSET.replace(/\\/g, '\\\\')}'`);
  });

  it('variables use only earlier ones, and their names sort in that order (later applies rebuild the list by name)', () => {
    const policy = registryPolicy(['ghcr.io']) as unknown as {
      spec: { variables: Array<{ name: string; expression: string }> };
    };
    const names = policy.spec.variables.map((v) => v.name);
    expect([...names].sort()).toEqual(names);
    policy.spec.variables.forEach((v, i) => {
      for (const m of v.expression.matchAll(/variables\.(\w+)/g))
        expect(names.indexOf(m[1] as string), `${v.name} uses ${m[1]}`).toBeLessThan(i);
    });
  });

  it('the allow-list is a CEL list of single-quoted strings', () => {
    expect(celStringList(['ghcr.io', 'docker.io/library'])).toBe("['ghcr.io', 'docker.io/library']");
    expect(celStringList([])).toBe('[]');
    expect(celStringList(["a'b\\"])).toBe("['a\\'b\\\\']");
  });
});
