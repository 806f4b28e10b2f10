/**
 * Symbolic links in a manifest tree (issue 10): links inside the tree are followed; a link that leads out of it is
 * refused with an InputError (exit 6) naming the link and its target, before anything is read or written — it
 * used to be read as a manifest and its target copied into the remediated copy.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../../src/cli.js';
import { writeRemediatedCopy } from '../../../src/cluster/manifest-writer.js';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { ExitCode, InputError } from '../../../src/errors.js';
import { Kinds } from '../../../src/k8s/kinds.js';
import { doc, rejection, snapshot, tree } from './helpers.js';

/** A project folder: k8s/ (the manifests) and private/ beside it (what must never be read). */
async function project(): Promise<{ dir: string; k8s: string; outside: string }> {
  const dir = await tree({
    'k8s/apps/web.yaml': doc('ConfigMap', 'web'),
    'k8s/README.md': 'read me\n',
    'private/creds.yaml': doc('ConfigMap', 'stolen'),
    'private/token.txt': 'CANARY-TOKEN-1234\n',
    'private/more/other.yaml': doc('ConfigMap', 'other'),
  });
  return { dir, k8s: path.join(dir, 'k8s'), outside: path.join(dir, 'private') };
}

async function refused(k8s: string): Promise<InputError> {
  const error = await rejection(ManifestSource.load(k8s));
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).exitCode).toBe(ExitCode.input);
  return error as InputError;
}

describe('symbolic links leaving the manifests tree', () => {
  test('a link to a manifest outside is refused, naming the link and its target', async () => {
    const { k8s, outside } = await project();
    const target = path.join(outside, 'creds.yaml');
    await fs.symlink(target, path.join(k8s, 'apps', 'creds.yaml'));
    const error = await refused(k8s);
    expect(error.file).toBe(path.join(k8s, 'apps', 'creds.yaml'));
    expect(error.message).toBe(
      `${path.join(k8s, 'apps', 'creds.yaml')}: is a symbolic link to ${target}${(await fs.realpath(target)) === target ? '' : ` (${await fs.realpath(target)})`}, which is outside the manifests directory`,
    );
    expect(error.hint).toMatch(/inside the --manifests tree/);
  });

  test('a relative link, a link to a folder and a link to a non-manifest file outside are refused too', async () => {
    for (const [name, to] of [
      ['rel.yaml', '../../private/creds.yaml'],
      ['more', '../../private/more'],
      ['notes.txt', '../../private/token.txt'],
    ] as const) {
      const { k8s, outside } = await project();
      await fs.symlink(to, path.join(k8s, 'apps', name));
      const error = await refused(k8s);
      expect(error.file).toBe(path.join(k8s, 'apps', name));
      // The link as written, and where it really leads
      expect(error.message).toContain(`symbolic link to ${to} (`);
      expect(error.message).toContain(path.join(await fs.realpath(outside), path.basename(to)));
    }
  });

  test('a link to the parent of the tree (which holds the tree) is outside too', async () => {
    const { dir, k8s } = await project();
    await fs.symlink(dir, path.join(k8s, 'up'));
    expect((await refused(k8s)).file).toBe(path.join(k8s, 'up'));
  });
});

describe('symbolic links inside the manifests tree', () => {
  test('are followed: files, folders and relative links; the copy holds their content', async () => {
    const { dir, k8s } = await project();
    await fs.mkdir(path.join(k8s, 'shared'));
    await fs.writeFile(path.join(k8s, 'shared', 'db.yaml'), doc('ConfigMap', 'db'));
    await fs.symlink('../shared', path.join(k8s, 'apps', 'shared-link'));
    await fs.symlink(path.join(k8s, 'README.md'), path.join(k8s, 'apps', 'README-link.md'));
    const source = await ManifestSource.load(k8s);
    const names: string[] = [];
    for await (const page of source.list(Kinds.ConfigMap))
      names.push(...Array.from(page.items, (o) => o.metadata.name));
    expect(names.sort()).toEqual(['db', 'web']);
    const out = path.join(dir, 'hardened');
    await writeRemediatedCopy(source, out, []);
    const copy = await snapshot(out);
    // Each file once, under the first way into it in code-unit order; a linked folder's content, not the link
    expect([...copy.keys()].sort()).toEqual(['README.md', 'apps/shared-link/db.yaml', 'apps/web.yaml']);
    expect(copy.get('apps/shared-link/db.yaml')?.toString()).toBe(doc('ConfigMap', 'db'));
    expect((await fs.lstat(path.join(out, 'apps', 'shared-link'))).isSymbolicLink()).toBe(false);
  });

  test('the tree itself may be reached through a link', async () => {
    const { dir, k8s } = await project();
    await fs.symlink(k8s, path.join(dir, 'k8s-link'));
    await fs.symlink('../apps', path.join(k8s, 'apps', 'self'));
    const source = await ManifestSource.load(path.join(dir, 'k8s-link'));
    expect(source.layout().files.map((f) => f.relative)).toEqual(['apps/web.yaml']);
  });
});

describe('through plan --out (offline, in-process)', () => {
  afterEach(() => vi.restoreAllMocks());

  test('exit 6 with the link named; no remediated copy and the target never printed', async () => {
    const { dir, k8s, outside } = await project();
    await fs.symlink(path.join(outside, 'token.txt'), path.join(k8s, 'token.txt'));
    let err = '';
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    const code = await main(['plan', '--manifests', k8s, '--out', path.join(dir, 'plan')]);
    expect(code).toBe(ExitCode.input);
    expect(err).toContain(
      `${path.join(k8s, 'token.txt')}: is a symbolic link to ${path.join(outside, 'token.txt')}`,
    );
    expect(`${out}${err}`).not.toContain('CANARY-TOKEN');
    expect(await fs.readdir(dir).then((d) => d.sort())).toEqual(['k8s', 'private']);
  });
});
