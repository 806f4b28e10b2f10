/**
 * The krew manifest generator (scripts/krew-manifest.mjs) against the rules of krew's validator
 * (kubernetes-sigs/krew internal/index/validation/validate.go), and — when `npm run dist` has run — the generated
 * dist-bin/plugins/harden.yaml against the SHA256SUMS beside the archives.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  KREW_API_VERSION,
  type KrewManifest,
  krewManifest,
  PLUGIN_NAME,
  parseSums,
  validateKrewManifest,
} from '../../../scripts/krew-manifest.mjs';
import { repoRoot } from '../../support/cli.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sums = parseSums(
  [
    `${sha('a')}  kube-harden-linux-x64`,
    `${sha('b')}  kube-harden-linux-x64.tar.gz`,
    `${sha('c')}  kube-harden-linux-arm64.tar.gz`,
    '',
  ].join('\n'),
);
const fresh = (): KrewManifest =>
  krewManifest({ version: 'v0.1.0', sums, baseUrl: 'https://example.test/r' });

describe('krew manifest', () => {
  it('one platform per archive in SHA256SUMS, valid for krew', () => {
    const doc = fresh();
    expect(doc.apiVersion).toBe(KREW_API_VERSION);
    expect(doc.metadata.name).toBe('harden');
    expect(doc.spec.platforms).toEqual([
      {
        selector: { matchLabels: { os: 'linux', arch: 'arm64' } },
        uri: 'https://example.test/r/v0.1.0/kube-harden-linux-arm64.tar.gz',
        sha256: sha('c'),
        bin: 'kube-harden',
      },
      {
        selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
        uri: 'https://example.test/r/v0.1.0/kube-harden-linux-x64.tar.gz',
        sha256: sha('b'),
        bin: 'kube-harden',
      },
    ]);
    expect(validateKrewManifest(doc, PLUGIN_NAME)).toEqual([]);
  });

  it("the validator catches what krew's rejects", () => {
    const broken = (edit: (d: KrewManifest) => void) => {
      const d = fresh();
      edit(d);
      return validateKrewManifest(d, PLUGIN_NAME);
    };
    expect(broken((d) => (d.apiVersion = 'krew.googlecontainertools.github.com/v1alpha1'))).toHaveLength(1);
    expect(broken((d) => (d.kind = 'Plugins'))).toHaveLength(1);
    expect(broken((d) => (d.metadata.name = 'kube-harden'))).toHaveLength(1);
    expect(validateKrewManifest(fresh(), 'CON')).not.toEqual([]);
    expect(broken((d) => (d.spec.shortDescription = 'two\nlines'))).toHaveLength(1);
    expect(broken((d) => (d.spec.version = '0.1.0'))).toHaveLength(1);
    expect(broken((d) => (d.spec.platforms = []))).toHaveLength(1);
    expect(broken((d) => (d.spec.platforms[0]!.sha256 = sha('c').toUpperCase()))).toHaveLength(1);
    expect(broken((d) => delete d.spec.platforms[0]!.bin)).toHaveLength(1);
    expect(broken((d) => (d.spec.platforms[0]!.files = []))).toHaveLength(1);
    expect(
      broken((d) => (d.spec.platforms[0]!.selector = { matchLabels: { os: 'linux', cpu: 'x' } })),
    ).toHaveLength(1);
    expect(broken((d) => (d.spec.platforms[0]!.selector = { matchLabels: {} }))).not.toEqual([]);
  });

  it.skipIf(!existsSync(join(repoRoot, 'dist-bin', 'plugins', 'harden.yaml')))(
    'dist-bin/plugins/harden.yaml (from npm run dist) is valid and matches SHA256SUMS',
    () => {
      const doc = parse(
        readFileSync(join(repoRoot, 'dist-bin', 'plugins', 'harden.yaml'), 'utf8'),
      ) as KrewManifest;
      expect(validateKrewManifest(doc, 'harden')).toEqual([]);
      const real = parseSums(readFileSync(join(repoRoot, 'dist-bin', 'SHA256SUMS'), 'utf8'));
      for (const p of doc.spec.platforms) {
        const file = p.uri!.split('/').pop()!;
        expect(p.sha256).toBe(real.get(file));
        expect(
          createHash('sha256')
            .update(readFileSync(join(repoRoot, 'dist-bin', file)))
            .digest('hex'),
        ).toBe(p.sha256);
      }
    },
  );
});
