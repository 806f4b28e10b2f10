/**
 * The one "--out inside --manifests" check: real paths, not string prefixes. Given real directories (and symbolic
 * links) in a temporary folder, when an --out is checked against --manifests, then a sibling is accepted and
 * anything that resolves into the tree is refused — in the engine, and through plan, migrate and the wizard.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli.js';
import { refuseOutInsideManifests } from '../../../src/engine/remediate.js';
import { UsageError } from '../../../src/errors.js';
import { tempDir } from '../manifests/helpers.js';

const NS = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

/** A project folder with k8s/ (one Namespace) in it; returns the project folder. */
async function project(): Promise<string> {
  const dir = await tempDir();
  await fs.mkdir(path.join(dir, 'k8s', 'apps'), { recursive: true });
  await fs.writeFile(path.join(dir, 'k8s', 'apps', 'shop.yaml'), NS('shop'));
  return dir;
}

function refusal(manifests: string, out: string): UsageError | undefined {
  try {
    refuseOutInsideManifests(manifests, out);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
}

describe('refuseOutInsideManifests', () => {
  it('accepts siblings whose names start like the manifests folder, and folders elsewhere', async () => {
    const dir = await project();
    const k8s = path.join(dir, 'k8s');
    expect(refusal(k8s, path.join(dir, 'k8s-fixed'))).toBeUndefined();
    expect(refusal(k8s, path.join(dir, 'k8s-plan'))).toBeUndefined();
    expect(refusal(k8s, path.join(dir, 'k8s-plan', 'remediated'))).toBeUndefined();
    expect(refusal(k8s, path.join(k8s, '..', 'k8s-fixed'))).toBeUndefined();
    expect(refusal(k8s, path.join(dir, 'out', 'deep', 'new'))).toBeUndefined();
  });

  it('refuses the manifests folder itself and anything below it, existing or not', async () => {
    const dir = await project();
    const k8s = path.join(dir, 'k8s');
    expect(refusal(k8s, k8s)?.message).toContain('--out must not be inside the --manifests directory');
    expect(refusal(k8s, path.join(k8s, 'sub'))).toBeDefined();
    expect(refusal(k8s, path.join(k8s, 'apps'))).toBeDefined();
    expect(refusal(k8s, path.join(k8s, 'apps', 'new', 'deeper'))).toBeDefined();
    expect(refusal(k8s, path.join(dir, 'elsewhere', '..', 'k8s', 'x'))).toBeDefined();
  });

  it('follows symbolic links: an --out that leads into the tree is refused, naming where it leads', async () => {
    const dir = await project();
    const k8s = path.join(dir, 'k8s');
    await fs.symlink(path.join(k8s, 'apps'), path.join(dir, 'looks-outside'));
    const error = refusal(k8s, path.join(dir, 'looks-outside'));
    expect(error?.message).toContain(`${path.join(dir, 'looks-outside')} (`);
    expect(error?.message).toContain(path.join(await fs.realpath(k8s), 'apps'));
    // Not existing yet, below a link into the tree: resolved through the nearest existing parent
    expect(refusal(k8s, path.join(dir, 'looks-outside', 'new'))).toBeDefined();
    // The manifests named through a link, --out named by the real path (and the other way round)
    await fs.symlink(k8s, path.join(dir, 'k8s-link'));
    expect(refusal(path.join(dir, 'k8s-link'), path.join(k8s, 'out'))).toBeDefined();
    expect(refusal(k8s, path.join(dir, 'k8s-link', 'out'))).toBeDefined();
    // A link that leads out of the tree is fine
    await fs.mkdir(path.join(dir, 'real-out'));
    await fs.symlink(path.join(dir, 'real-out'), path.join(k8s, 'escape'));
    expect(refusal(k8s, path.join(dir, 'real-out'))).toBeUndefined();
  });

  it('a single manifest file: only its directory matters to the writer, not to this check', async () => {
    const dir = await project();
    const file = path.join(dir, 'k8s', 'apps', 'shop.yaml');
    expect(refusal(file, path.join(dir, 'k8s', 'apps', 'plan'))).toBeUndefined();
  });
});

describe('through the commands (offline, in-process)', () => {
  afterEach(() => vi.restoreAllMocks());

  function capture() {
    let err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    return () => err;
  }

  it('plan --manifests k8s --out k8s-plan writes the plan and the remediated copy beside the manifests', async () => {
    const dir = await project();
    const err = capture();
    const code = await main([
      'plan',
      '--manifests',
      path.join(dir, 'k8s'),
      '--out',
      path.join(dir, 'k8s-plan'),
      '--step',
      'psa-warn-audit',
    ]);
    expect(err()).not.toContain('must not be inside');
    expect(code).toBe(0);
    const copy = await fs.readFile(path.join(dir, 'k8s-plan', 'remediated', 'apps', 'shop.yaml'), 'utf8');
    expect(copy).toContain('pod-security.kubernetes.io/warn');
    expect(await fs.readFile(path.join(dir, 'k8s', 'apps', 'shop.yaml'), 'utf8')).toBe(NS('shop'));
    expect((await fs.readdir(dir)).sort()).toEqual(['k8s', 'k8s-plan']);
  });

  it('plan, migrate and the wizard refuse --out inside the manifests (exit 2) before reading anything', async () => {
    const dir = await project();
    const k8s = path.join(dir, 'k8s');
    await fs.symlink(path.join(k8s, 'apps'), path.join(dir, 'link'));
    const err = capture();
    for (const out of [path.join(k8s, 'sub'), path.join(dir, 'link', 'plan')]) {
      expect(await main(['plan', '--manifests', k8s, '--out', out])).toBe(2);
      expect(await main(['migrate', '-n', 'shop', '--manifests', k8s, '--out', out])).toBe(2);
      expect(await main(['--manifests', k8s, '--out', out])).toBe(2);
    }
    expect(err().match(/--out must not be inside the --manifests directory/g)).toHaveLength(6);
    expect(err()).not.toContain('listed');
    expect((await fs.readdir(dir)).sort()).toEqual(['k8s', 'link']);
    expect(await fs.readdir(k8s)).toEqual(['apps']);
  });
});
