/** Saving a manual change's artifact: a proposed path that stays a path under the current directory, no silent overwrite. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultArtifactPath, saveArtifact } from '../../../src/engine/artifact.js';
import { UsageError } from '../../../src/errors.js';
import { tempDir } from '../manifests/helpers.js';

describe('defaultArtifactPath', () => {
  it('is kube-harden-artifacts/<step>/<file name>, whatever folders or dots the names carry', () => {
    const at = (step: string, file: string | undefined, id = 'a/b') =>
      defaultArtifactPath({
        id,
        step,
        ...(file !== undefined ? { artifact: { path: file, content: '' } } : {}),
      });
    expect(at('audit', 'audit-policy.yaml')).toBe(
      path.join('kube-harden-artifacts', 'audit', 'audit-policy.yaml'),
    );
    expect(at('audit', '../../etc/passwd')).toBe(path.join('kube-harden-artifacts', 'audit', 'passwd'));
    expect(at('audit', '/abs/olute.yaml')).toBe(path.join('kube-harden-artifacts', 'audit', 'olute.yaml'));
    expect(at('../x', '..')).toBe(path.join('kube-harden-artifacts', 'x', 'b.txt'));
    expect(at('s', 'a\u001b[2Jb.yaml')).toBe(path.join('kube-harden-artifacts', 's', 'a[2Jb.yaml'));
    expect(at('s', undefined, 'weird')).toBe(path.join('kube-harden-artifacts', 's', 'weird.txt'));
  });
});

describe('saveArtifact', () => {
  it('writes a new file (creating folders), owner-only', async () => {
    const cwd = await tempDir();
    const r = await saveArtifact('x: 1\n', 'a/b/c.yaml', { cwd });
    expect(r).toEqual({ saved: true, path: path.join(cwd, 'a', 'b', 'c.yaml'), overwritten: false });
    expect(await fs.readFile(path.join(cwd, 'a', 'b', 'c.yaml'), 'utf8')).toBe('x: 1\n');
    expect((await fs.stat(path.join(cwd, 'a', 'b', 'c.yaml'))).mode & 0o777).toBe(0o600);
  });

  it('leaves an existing file alone unless told to overwrite', async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, 'f.yaml'), 'old');
    expect(await saveArtifact('new', 'f.yaml', { cwd })).toEqual({
      saved: false,
      exists: true,
      path: path.join(cwd, 'f.yaml'),
    });
    expect(await fs.readFile(path.join(cwd, 'f.yaml'), 'utf8')).toBe('old');
    expect(await saveArtifact('new', 'f.yaml', { cwd, overwrite: true })).toMatchObject({
      overwritten: true,
    });
    expect(await fs.readFile(path.join(cwd, 'f.yaml'), 'utf8')).toBe('new');
  });

  it('refuses a folder and an empty path with a usage error', async () => {
    const cwd = await tempDir();
    await fs.mkdir(path.join(cwd, 'dir'));
    await expect(saveArtifact('x', 'dir', { cwd, overwrite: true })).rejects.toThrow(UsageError);
    await expect(saveArtifact('x', '  ', { cwd })).rejects.toThrow('no path given');
  });
});
