import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

/** The small committed fixture trees. */
export const FIXTURES = fileURLToPath(new URL('../../fixtures/manifests/', import.meta.url));

const made: string[] = [];

afterEach(async () => {
  for (const dir of made.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kube-harden-manifests-'));
  made.push(dir);
  return dir;
}

/** Writes `files` (relative path → content) under a fresh temporary directory and returns it. */
export async function tree(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await tempDir();
  for (const [rel, content] of Object.entries(files)) {
    const target = path.join(dir, ...rel.split('/'));
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, content);
  }
  return dir;
}

/** Copies a committed fixture tree to a temporary directory (so tests can add to it). */
export async function fixtureCopy(name: string): Promise<string> {
  const dir = await tempDir();
  await fs.cp(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** Every file under `dir` (relative path → bytes), for before/after comparisons. */
export async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const rel of (await fs.readdir(dir, { recursive: true })).sort()) {
    const full = path.join(dir, rel);
    if ((await fs.stat(full)).isFile()) files.set(rel.split(path.sep).join('/'), await fs.readFile(full));
  }
  return files;
}

/** Runs `fn` and returns the error it throws (failing when it does not). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Simple object for tests. */
export function doc(kind: string, name: string, extra = ''): string {
  const apiVersion = kind === 'Deployment' ? 'apps/v1' : 'v1';
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n${extra}`;
}
